/**
 * Lambda entry of the Slack interactivity endpoint (function URL). A request from Slack is checked and answered at
 * once (services/slack-interactivity receiveSlackRequest); a verified press is handed to an asynchronous invocation
 * of this function, which checks the signed request again and does the work (handleInteraction).
 */
import type { Context } from 'aws-lambda';
import { ClientFactory } from '../adapters/clients';
import { ConsoleNotifier } from '../adapters/slack';
import { ENV } from '../core/names';
import { buildContext } from '../runtime/context';
import { type LambdaEnvironment, readLambdaEnvironment } from '../runtime/lambda-runtime';
import * as endpoint from '../runtime/slack-endpoint';
import { dynamoMarks, handleInteraction, receiveSlackRequest, verifyHandedOver } from '../services/slack-interactivity';
import { MemoryMetrics, powertoolsLogger } from '../shared/observability';

const log = powertoolsLogger('slack');
let env: LambdaEnvironment | undefined;

export const handler = async (event: endpoint.FunctionUrlEvent | endpoint.HandOverEvent, context?: Context) => {
  if (context) log.addContext(context);
  env ??= readLambdaEnvironment(process.env);
  const clients = new ClientFactory({ defaultRegion: env.region });
  const marks = env.stateTableName ? dynamoMarks(clients.dynamodb(), env.stateTableName) : undefined;
  const signingSecret = await endpoint.signingSecretAt(process.env[ENV.slackSigningSecret]);
  const now = new Date();
  if (endpoint.isHandOver(event)) {
    const interaction = verifyHandedOver(event, signingSecret, env.config.slack.teamId, now);
    if (!interaction || !marks) return log.warn('hand-over refused: not a verified press of this workspace');
    const ctx = buildContext({
      clients,
      config: env.config,
      now,
      defaultRegion: env.region,
      notifier: new ConsoleNotifier((m) => log.info(m), env.config.slack.channel),
      log,
      metrics: new MemoryMetrics(),
      ...(env.stateTableName ? { stateTableName: env.stateTableName } : {}),
      // Organization mode: the hub's records are keyed by its account (buttons act only there).
      ...(env.accountId ? { accountId: env.accountId } : {}),
      holder: `lambda:${context?.awsRequestId ?? 'unknown-request'}`,
    });
    const slack = await endpoint.slackApiAt(env.slackSecret, env.config, (m) => log.info(m));
    const summary = await handleInteraction(ctx, interaction, { slack, marks });
    log.info('presses handled', { presses: summary.presses.length, actions: summary.actions.length });
    return;
  }
  if (!marks) {
    log.error('no state table: replays cannot be refused, so every request is');
    return endpoint.httpAnswer(401);
  }
  const request = endpoint.signedRequestOf(event);
  const receipt = await receiveSlackRequest(request, { signingSecret, teamId: env.config.slack.teamId, marks, now });
  if (receipt.status !== 200) {
    log.warn('Slack request refused', { status: receipt.status, reason: receipt.reason });
    return endpoint.httpAnswer(receipt.status);
  }
  if (receipt.interaction) {
    const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME;
    if (!functionName) throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: not running in Lambda');
    await endpoint.invokeSelf(clients, functionName, endpoint.handOverOf(request));
  }
  return endpoint.httpAnswer(200);
};
