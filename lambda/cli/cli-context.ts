/**
 * Builds the run context for the CLI: the standard AWS SDK credential and endpoint chain, Slack from
 * SLACK_BOT_TOKEN (else the configured secret; else messages are printed), metrics kept in memory.
 */

import { hostname, userInfo } from 'node:os';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ClientFactory } from '../adapters/clients';
import { ConsoleNotifier, type Notifier, SlackNotifier, tokenFromSecret } from '../adapters/slack';
import type { CostGuardConfig } from '../core/config';
import { STATE_TABLE_NAME } from '../core/names';
import { regionCodeProblem, unknownRegionWarning } from '../core/regions';
import { buildContext, type RunContext } from '../runtime/context';
import { resolvePricing } from '../runtime/pricing-source';
import { AwsAccessError, errorCode, errorMessage, STATE_TABLE_REMEDY, StateTableNotFoundError } from '../shared/errors';
import { lineLogger, MemoryMetrics, silentLog } from '../shared/observability';
import { captureServerDate, runClock } from './aws-clock';
import { type CliIO, UsageError } from './io';

export interface CliContextOptions {
  readonly config: CostGuardConfig;
  readonly io: CliIO;
  readonly dryRun: boolean;
  readonly verbose?: boolean;
  /** Never post to Slack (plan): print messages instead. */
  readonly printOnly?: boolean;
  readonly region?: string;
  /** `--state-table`: wins over state.tableName and the deployed stack's table name. */
  readonly stateTable?: string;
  /**
   * Called instead of throwing when the state table does not exist (plan reports it and goes on without a table);
   * without it a missing table throws StateTableNotFoundError.
   */
  readonly onMissingStateTable?: (error: StateTableNotFoundError) => void;
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
]);

/** Who a CLI run is, in run leases and the messages of a run that waits for it: 'cli:<user@host>:<pid>'. */
export function cliHolder(io: CliIO, pid: number = process.pid): string {
  let user = io.env.USER ?? io.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `cli:${user}@${hostname()}:${pid}`;
}

/**
 * The region the run uses: `--region`, else the first of costGuard.regions (checked by the config schema), else
 * AWS_REGION, else AWS_DEFAULT_REGION; a clear error when there is none. A value not shaped like a region code is a
 * UsageError naming where it came from (and the known region it most likely meant) before any AWS call; a
 * well-formed code this version does not know is used, with a warning.
 */
export function cliRegion(io: CliIO, explicit?: string, configured?: string): string {
  const sources: [string, string | undefined][] = [
    ['--region', explicit],
    ['costGuard.regions[0]', configured],
    ['AWS_REGION', io.env.AWS_REGION],
    ['AWS_DEFAULT_REGION', io.env.AWS_DEFAULT_REGION],
  ];
  const found = sources.find(([, value]) => value !== undefined && value !== '');
  if (!found) {
    throw new AwsAccessError(
      'No AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), pass --region, or list regions in costGuard.regions.',
    );
  }
  const [what, region] = found as [string, string];
  const problem = regionCodeProblem(region, what);
  if (problem) throw new UsageError(problem);
  const warning = unknownRegionWarning(region, what);
  if (warning) io.err(`warning: ${warning}`);
  return region;
}

/** Checks credentials and returns the account ID; throws AwsAccessError with the reason (never the secret). */
export async function callerAccount(clients: ClientFactory): Promise<string> {
  try {
    const id = await clients.sts().send(new GetCallerIdentityCommand({}));
    if (!id.Account) throw new AwsAccessError('STS GetCallerIdentity returned no account');
    return id.Account;
  } catch (error) {
    if (error instanceof AwsAccessError) throw error;
    const code = errorCode(error);
    const hint = CREDENTIAL_ERRORS.has(code)
      ? 'check AWS_PROFILE / AWS_ACCESS_KEY_ID or run `aws sso login`'
      : 'check the network and AWS_ENDPOINT_URL';
    throw new AwsAccessError(`Cannot reach the AWS account (${code}: ${errorMessage(error)}); ${hint}.`, {
      cause: error,
    });
  }
}

/**
 * Checks that the state table the CLI shares with the deployed functions exists (alert records, warnings, limits,
 * leases, the ledger): a missing one throws StateTableNotFoundError naming the table, the region and what to do.
 * When the check itself is refused (no dynamodb:DescribeTable), the table is used as named, with a warning.
 */
async function checkStateTable(clients: ClientFactory, region: string, name: string, io: CliIO): Promise<void> {
  try {
    await clients.dynamodb().send(new DescribeTableCommand({ TableName: name }));
  } catch (error) {
    if (error instanceof StateTableNotFoundError) throw error;
    if (errorCode(error) === 'ResourceNotFoundException') {
      throw new StateTableNotFoundError(name, region, STATE_TABLE_REMEDY.cli, { cause: error });
    }
    io.err(`warning: cannot check the state table ${name} in ${region} (${errorCode(error)}); using it as named`);
  }
}

async function cliNotifier(o: CliContextOptions, region: string): Promise<Notifier> {
  const print = (t: string) => o.io.out(t);
  if (o.printOnly) return new ConsoleNotifier(print, o.config.slack.channel);
  const slack = (token: string) =>
    new SlackNotifier({ token, channel: o.config.slack.channel, apiUrl: o.config.slack.apiUrl });
  const envToken = o.io.env.SLACK_BOT_TOKEN;
  if (envToken) return slack(envToken);
  const secretName = o.config.slack.tokenSecretName;
  if (secretName) {
    const client = new SecretsManagerClient({ region });
    try {
      const res = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
      const token = tokenFromSecret(res.SecretString);
      if (token) return slack(token);
    } catch (error) {
      o.io.err(`warning: could not read Slack token secret '${secretName}' (${errorCode(error)}); printing messages`);
    } finally {
      client.destroy();
    }
  }
  return new ConsoleNotifier(print, o.config.slack.channel);
}

export async function cliContext(o: CliContextOptions): Promise<RunContext> {
  const region = cliRegion(o.io, o.region, o.config.regions[0]);
  const endpoint = o.io.env.AWS_ENDPOINT_URL;
  const clients = new ClientFactory({
    defaultRegion: region,
    stateTableRemedy: STATE_TABLE_REMEDY.cli,
    ...(endpoint ? { endpoint } : {}),
  });
  // The run's clock is AWS's (the Date of the STS answer); a laptop more than 5 minutes off is refused.
  const serverDate = captureServerDate(clients.sts());
  const accountId = await callerAccount(clients);
  const clock = runClock(o.io.now(), serverDate());
  const log = o.verbose ? lineLogger((l) => o.io.err(l), 'debug') : silentLog;
  if (clock.source === 'local') log.debug("no Date header from STS: using this machine's clock");
  const { pricing, note } = await resolvePricing(o.config, clients, region);
  const tableName = o.stateTable ?? o.config.state.tableName ?? STATE_TABLE_NAME;
  let stateTableName: string | undefined = tableName;
  try {
    await checkStateTable(clients, region, tableName, o.io);
  } catch (error) {
    if (!(error instanceof StateTableNotFoundError) || !o.onMissingStateTable) throw error;
    o.onMissingStateTable(error);
    stateTableName = undefined;
  }
  return buildContext({
    pricing,
    pricingNote: note,
    // The table is resolved here: a missing one must not come back through state.tableName.
    config: { ...o.config, state: { ...o.config.state, tableName: stateTableName } },
    now: clock.now,
    defaultRegion: region,
    dryRun: o.dryRun,
    notifier: await cliNotifier(o, region),
    log,
    metrics: new MemoryMetrics(),
    clients,
    accountId,
    ...(stateTableName ? { stateTableName } : {}),
    holder: cliHolder(o.io),
  });
}
