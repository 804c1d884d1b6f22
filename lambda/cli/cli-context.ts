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
import { type PriceListName, resolvePricing } from '../runtime/pricing-source';
import { type ApiCall, ApiCallCounter } from '../shared/api-calls';
import { AwsAccessError, errorCode, errorMessage, STATE_TABLE_REMEDY, StateTableNotFoundError } from '../shared/errors';
import { lineLogger, MemoryMetrics, silentLog } from '../shared/observability';
import { captureServerDate, runClock } from './aws-clock';
import { type CliIO, UsageError } from './io';
import type { Progress } from './progress';

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
  /** The progress line: services report to it, and it counts AWS calls and Slack posts. */
  readonly progress?: Progress;
  /** The live price lists the run prices from when `pricing.live` is on (default EC2); see priceListsFor. */
  readonly priceLists?: readonly PriceListName[];
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

/** Where a Slack bot token was found (`token` set), or why none was. Never holds the token in `source`. */
export interface SlackTokenLookup {
  readonly token?: string;
  /** `SLACK_BOT_TOKEN`, `secret 'name'`, or why there is no token, in words. */
  readonly source: string;
}

/**
 * The Slack bot token the CLI (and, for `plan`, the deployed guard) would use: SLACK_BOT_TOKEN, else the value of
 * the secret slack.tokenSecretName names (a placeholder is no token). A secret that cannot be read is no token.
 */
export async function findSlackToken(
  o: Pick<CliContextOptions, 'config' | 'io'>,
  region: string,
): Promise<SlackTokenLookup> {
  const envToken = o.io.env.SLACK_BOT_TOKEN;
  if (envToken) return { token: envToken, source: 'SLACK_BOT_TOKEN' };
  const secretName = o.config.slack.tokenSecretName;
  if (!secretName) {
    return {
      source:
        "SLACK_BOT_TOKEN is not set and slack.tokenSecretName names no secret (the stack's own secret is not looked up)",
    };
  }
  const client = new SecretsManagerClient({ region });
  try {
    const res = await client.send(new GetSecretValueCommand({ SecretId: secretName }));
    const token = tokenFromSecret(res.SecretString);
    return token
      ? { token, source: `secret '${secretName}'` }
      : { source: `secret '${secretName}' holds no token yet (empty or the placeholder)` };
  } catch (error) {
    return { source: `secret '${secretName}' could not be read (${errorCode(error)})` };
  } finally {
    client.destroy();
  }
}

/** Printed Slack messages are not the command's result: they go to stderr, so stdout holds only the report. */
async function cliNotifier(o: CliContextOptions, region: string): Promise<Notifier> {
  const print = (t: string) => o.io.err(t);
  if (o.printOnly) return new ConsoleNotifier(print, o.config.slack.channel);
  const found = await findSlackToken(o, region);
  if (found.token) {
    return new SlackNotifier({ token: found.token, channel: o.config.slack.channel, apiUrl: o.config.slack.apiUrl });
  }
  if (o.config.slack.tokenSecretName && !found.source.includes('holds no token')) {
    o.io.err(`warning: ${found.source}; printing messages`);
  }
  return new ConsoleNotifier(print, o.config.slack.channel);
}

/** The notifier, reporting each post to the progress line (Slack retries can take a while). */
function withProgress(notifier: Notifier, progress: Progress | undefined): Notifier {
  if (!progress?.enabled) return notifier;
  let posts = 0;
  // Everything else (kind, and whatever else the notifier offers) is the notifier's own.
  const wrapped = Object.create(notifier) as Notifier;
  Object.defineProperty(wrapped, 'post', {
    value: (...args: Parameters<Notifier['post']>) => {
      posts += 1;
      progress.update(`${notifier.kind === 'slack' ? 'posting' : 'printing'} Slack message ${posts}`);
      progress.call('Slack chat.postMessage');
      return notifier.post(...args);
    },
  });
  return wrapped;
}

export async function cliContext(o: CliContextOptions): Promise<RunContext> {
  const region = cliRegion(o.io, o.region, o.config.regions[0]);
  const endpoint = o.io.env.AWS_ENDPOINT_URL;
  const log = o.verbose ? lineLogger((l) => o.io.err(l), 'debug') : silentLog;
  // --verbose: one line per AWS call (operation, region, time); progress counts them.
  const counter = new ApiCallCounter({
    ...(o.progress?.enabled ? { onStart: o.progress.call } : {}),
    ...(o.verbose ? { onEnd: (c: ApiCall) => o.io.err(apiCallLine(c)) } : {}),
  });
  const clients = new ClientFactory({
    defaultRegion: region,
    stateTableRemedy: STATE_TABLE_REMEDY.cli,
    counter,
    ...(endpoint ? { endpoint } : {}),
  });
  // The run's clock is AWS's (the Date of the STS answer); a laptop more than 5 minutes off is refused.
  const serverDate = captureServerDate(clients.sts());
  const accountId = await callerAccount(clients);
  const clock = runClock(o.io.now(), serverDate());
  if (clock.source === 'local') log.debug("no Date header from STS: using this machine's clock");
  const { pricing, note } = await resolvePricing(o.config, clients, region, o.priceLists);
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
    notifier: withProgress(await cliNotifier(o, region), o.progress),
    log,
    metrics: new MemoryMetrics(),
    clients,
    accountId,
    ...(stateTableName ? { stateTableName } : {}),
    holder: cliHolder(o.io),
    ...(o.progress?.enabled ? { progress: o.progress.event } : {}),
  });
}

/** `aws EC2.DescribeInstances us-east-1 182 ms` (with the error code when the call failed). */
export function apiCallLine(c: ApiCall): string {
  return `aws ${c.operation}${c.region ? ` ${c.region}` : ''} ${c.durationMs} ms${c.error ? ` failed: ${c.error}` : ''}`;
}
