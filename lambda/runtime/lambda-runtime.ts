/**
 * The Lambda shell shared by every handler: parse the environment once per cold start (failing with a named error
 * when a variable is missing), build the run context, run the capability, publish metrics.
 */
import type { Context } from 'aws-lambda';
import { ClientFactory } from '../adapters/clients';
import { ConsoleNotifier, type Notifier, SlackNotifier, tokenFromSecret } from '../adapters/slack';
import { type CostGuardConfig, parseConfig } from '../core/config';
import { ENV, METRIC } from '../core/names';
import {
  type DigestResult,
  type FanOutEvent,
  FanOutEventError,
  fanOutEventOf,
  isFanOutCapability,
  isOrganizationMode,
  type TargetsResult,
  type UnitStatus,
} from '../core/organization/fan-out';
import { errorMessage, InvalidEnvironmentError, MissingEnvironmentError } from '../shared/errors';
import { PowertoolsMetrics, powertoolsLogger } from '../shared/observability';
import { buildContext, type ContextOptions, type RunContext, type RunSummary } from './context';
import { type LeaseHeldSummary, lambdaHolder, runUnderLambdaLease } from './lambda-lease';
import { runDigest, runTargets, runUnit } from './organization';
import { priceListsFor, resolvePricing } from './pricing-source';
import { SpokeClients } from './spoke';

/** What a function answers a step of the organization fan-out (the state machine reads it). */
export type FanOutAnswer = TargetsResult | UnitStatus | DigestResult;

/**
 * A capability's Lambda handler: a fan-out step's event (organization mode, from the state machine) gets that step's
 * answer; any other event (a schedule, an SNS notification) runs the capability and gets its summary.
 */
export interface CapabilityHandler<E, R extends RunSummary> {
  (event: FanOutEvent, lambdaContext?: Context): Promise<FanOutAnswer>;
  (event: E, lambdaContext?: Context): Promise<R | LeaseHeldSummary>;
}

export interface LambdaEnvironment {
  readonly config: CostGuardConfig;
  readonly region: string;
  readonly stateTableName?: string;
  readonly slackSecret?: string;
  readonly accountId?: string;
}

/**
 * Reads and validates the function's environment. Throws MissingEnvironmentError (not set) or InvalidEnvironmentError
 * (not JSON) naming the variable, and ConfigError naming each bad field.
 */
export function readLambdaEnvironment(env: Readonly<Record<string, string | undefined>>): LambdaEnvironment {
  const rawConfig = env[ENV.config];
  if (!rawConfig) throw new MissingEnvironmentError(ENV.config);
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawConfig);
  } catch (cause) {
    throw new InvalidEnvironmentError(ENV.config, `is not valid JSON (${errorMessage(cause)})`, { cause });
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new MissingEnvironmentError('AWS_REGION');
  return {
    config: parseConfig(parsed, `environment variable ${ENV.config}`),
    region,
    ...(env[ENV.stateTable] ? { stateTableName: env[ENV.stateTable] } : {}),
    ...(env[ENV.slackSecret] ? { slackSecret: env[ENV.slackSecret] } : {}),
    ...(env[ENV.accountId] ? { accountId: env[ENV.accountId] } : {}),
  };
}

/** Builds the notifier from the Slack token secret (cached 5 minutes by Powertools Parameters). */
async function notifierFor(env: LambdaEnvironment, log: (m: string) => void): Promise<Notifier> {
  if (env.slackSecret) {
    // Required here, not at import: the Secrets Manager client costs ~50 ms of cold start when unused.
    const { getSecret } =
      require('@aws-lambda-powertools/parameters/secrets') as typeof import('@aws-lambda-powertools/parameters/secrets');
    const secret = await getSecret<string>(env.slackSecret, { maxAge: 300 });
    const token = tokenFromSecret(typeof secret === 'string' ? secret : undefined);
    if (token) return new SlackNotifier({ token, channel: env.config.slack.channel, apiUrl: env.config.slack.apiUrl });
  }
  log('No Slack bot token in the secret yet: messages are written to the log instead of Slack.');
  return new ConsoleNotifier(log, env.config.slack.channel);
}

/**
 * Wraps a capability's `run` as a Lambda handler. The environment is parsed at cold start: a bad config or a
 * missing variable fails every invocation with the same named error (and the errors alarm).
 */
export function lambdaHandler<E, R extends RunSummary>(
  capability: string,
  run: (ctx: RunContext, event: E) => Promise<R>,
  options: { readonly pricesInstances?: boolean } = {},
): CapabilityHandler<E, R> {
  // One logger and one metrics object per function (Powertools' shape); metrics are flushed after every invocation.
  const logger = powertoolsLogger(capability);
  const metrics = new PowertoolsMetrics(capability);
  let environment: LambdaEnvironment | undefined;
  const handler = async (
    event: E | FanOutEvent,
    lambdaContext?: Context,
  ): Promise<R | LeaseHeldSummary | FanOutAnswer> => {
    // Request id, cold start, function name and memory on every log line of this invocation. The Lambda runtime
    // always passes the context; a test or a local call may not.
    if (lambdaContext) logger.addContext(lambdaContext);
    environment ??= readLambdaEnvironment(process.env);
    const notifier = await notifierFor(environment, (m) => logger.info(m));
    const clients = new ClientFactory({ defaultRegion: environment.region });
    // Functions that price nothing (alarms, summary) never call the Price List API, whatever pricing.live says; the
    // others fetch only the price list their capability prices from (EC2, or SageMaker hosting for ml.*).
    const { pricing, note } = await resolvePricing(
      environment.config,
      clients,
      environment.region,
      options.pricesInstances === false ? [] : priceListsFor(capability),
    );
    const base = {
      clients,
      pricing,
      pricingNote: note,
      config: environment.config,
      now: new Date(),
      defaultRegion: environment.region,
      notifier,
      log: logger,
      metrics,
      ...(environment.accountId ? { accountId: environment.accountId } : {}),
      ...(environment.stateTableName ? { stateTableName: environment.stateTableName } : {}),
      ...(lambdaContext ? { remainingTimeMs: () => lambdaContext.getRemainingTimeInMillis() } : {}),
      holder: lambdaHolder(lambdaContext?.awsRequestId),
    } satisfies ContextOptions;
    const ctx = buildContext(base);
    const fanOut = fanOutEventOf(event);
    if (fanOut) {
      if (!isOrganizationMode(environment.config.accounts) || !isFanOutCapability(capability)) {
        throw new FanOutEventError(
          `${capability} got a fan-out ${fanOut.costGuardFanOut} event, but ${isFanOutCapability(capability) ? 'accounts.mode is not organization' : 'it does not fan out (it runs in the hub only)'}`,
        );
      }
      try {
        if (fanOut.costGuardFanOut === 'targets') return await runTargets(ctx, capability, fanOut);
        if (fanOut.costGuardFanOut === 'digest') return await runDigest(ctx, capability, fanOut);
        const { runId, accountId, accountName, region } = fanOut;
        const unit = await runUnit({
          capability: { name: capability, run: (unitCtx, unitEvent) => run(unitCtx, unitEvent as E) },
          base,
          unit: { runId, accountId, accountName, region },
          spoke: new SpokeClients(ctx, { capability, runId }),
          event,
        });
        // The unit's own actions: RealizedMonthlySavingsUsd also by account (its metrics add the Account dimension).
        const unitCtx = unit.context;
        if (unitCtx) {
          unitCtx.metrics.add(
            METRIC.RealizedMonthlySavingsUsd,
            unitCtx.actions.totals((r) => r.status === 'done').monthlySavingsUsd,
            'None',
          );
        }
        logger.info('unit finished', { ...unit.status, actions: unit.report.actions.length });
        return unit.status;
      } finally {
        for (const [operation, count] of Object.entries(ctx.clients.counter.byOperation())) {
          metrics.add(METRIC.ApiCalls, count, 'Count', { Operation: operation });
        }
        metrics.flush();
      }
    }
    try {
      // A function that stops or terminates holds its run lease while it runs (never beside a CLI run); the run's
      // actions reach the ledger before the lease is given back, even when the run failed afterwards.
      const summary = await runUnderLambdaLease(ctx, capability, lambdaContext?.awsRequestId, () =>
        run(ctx, event as E),
      );
      logger.info('run finished', {
        dryRun: summary.dryRun,
        actions: summary.actions.length,
        monthlySavingsUsd: summary.monthlySavingsUsd,
        apiCalls: summary.apiCalls,
      });
      return summary;
    } finally {
      // Savings of the actions that took effect this run (dry-run and failed actions saved nothing).
      ctx.metrics.add(
        METRIC.RealizedMonthlySavingsUsd,
        ctx.actions.totals((r) => r.status === 'done').monthlySavingsUsd,
        'None',
      );
      for (const [operation, count] of Object.entries(ctx.clients.counter.byOperation())) {
        metrics.add(METRIC.ApiCalls, count, 'Count', { Operation: operation });
      }
      metrics.flush();
    }
  };
  return handler as CapabilityHandler<E, R>;
}
