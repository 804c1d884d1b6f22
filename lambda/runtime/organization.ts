/**
 * The three steps of an organization run (accounts.mode: organization), as the capability functions run them for
 * the state machine and `cost-guard plan --organization` runs them from a laptop (the contract:
 * core/organization/fan-out.ts):
 * - {@link runTargets}: the organization's active target accounts × the capability's regions, as units;
 * - {@link runUnit}: one unit: the account's spoke role (none for the hub's own account), the capability run there
 *   for one region with the account's keys, leases and limits, its report stored in the state table; whatever goes
 *   wrong is caught and reported, never thrown, so one account never stops the others;
 * - {@link runDigest}: the units' reports into one organization digest in `slack.channel`.
 *
 * A unit's clients reach the account with the spoke role's credentials, except DynamoDB: the state table is the
 * hub's (keys scoped by the account). Its Slack messages go to the account's channel (slack.accountChannels, else
 * slack.channel) and name the account.
 */
import type { ClientFactory } from '../adapters/clients';
import { listUnitReports, putUnitReport } from '../adapters/fan-out-store';
import { describeAccountFailure, listTargetAccounts } from '../adapters/organizations';
import { type Notifier, type PostResult, postAll } from '../adapters/slack';
import { DIMENSION, METRIC } from '../core/names';
import { labelForAccount } from '../core/organization/account-label';
import { organizationDigest } from '../core/organization/digest';
import {
  type DigestEvent,
  type DigestResult,
  type FanOutCapability,
  type FanOutUnit,
  MAX_UNITS,
  type TargetsEvent,
  type TargetsResult,
  type UnitStatus,
  unitReason,
  unitsFor,
} from '../core/organization/fan-out';
import { type UnitReport, unitReport } from '../core/organization/unit-report';
import type { RunSummary } from '../core/run';
import type { SlackMessage } from '../core/slack-blocks';
import { CostGuardError, errorCode, errorMessage } from '../shared/errors';
import type { MetricsSink } from '../shared/observability';
import type { CapabilityModule } from './capability';
import { buildContext, type ContextOptions, type RunContext, summaryOfFailedRun } from './context';
import { runUnderLambdaLease } from './lambda-lease';
import type { SpokeClients } from './spoke';

/** The targets step found more units than one state machine execution can carry. */
export class TooManyUnitsError extends CostGuardError {
  constructor(
    readonly units: number,
    readonly accounts: number,
    readonly regions: number,
    options?: { cause?: unknown },
  ) {
    super(
      `${units} units (${accounts} accounts × ${regions} regions) is more than the ${MAX_UNITS} one run can carry: split the organization into several hubs (accounts.organizationalUnitIds per stack) or guard fewer regions`,
      options,
    );
    this.name = 'TooManyUnitsError';
  }
}

/** Organizations refused to list the accounts: the hub is neither the management account nor a delegated admin. */
export class OrganizationAccessError extends CostGuardError {
  constructor(
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(
      `AWS Organizations refused to list the accounts (${code}): the hub must run in the organization's management account or in an account registered as a delegated administrator (aws organizations register-delegated-administrator; accounts.hubAccountRole), and its targets step needs organizations:ListAccounts, ListAccountsForParent, ListOrganizationalUnitsForParent and DescribeAccount`,
      options,
    );
    this.name = 'OrganizationAccessError';
  }
}

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'AWSOrganizationsNotInUseException']);

/** The targets step: every active target account × region of the capability, as units. */
export async function runTargets(
  ctx: Pick<RunContext, 'clients' | 'config' | 'regions'>,
  capability: FanOutCapability,
  event: Pick<TargetsEvent, 'runId'>,
): Promise<TargetsResult> {
  const { accounts: selection } = ctx.config;
  let listing: Awaited<ReturnType<typeof listTargetAccounts>>;
  try {
    listing = await listTargetAccounts(ctx.clients.organizations(), selection);
  } catch (error) {
    if (ACCESS_DENIED.has(errorCode(error))) throw new OrganizationAccessError(errorCode(error), { cause: error });
    throw error;
  }
  const units = unitsFor(capability, listing.accounts, ctx.regions, ctx.clients.defaultRegion);
  if (units.length > MAX_UNITS) {
    throw new TooManyUnitsError(units.length, listing.accounts.length, units.length / listing.accounts.length);
  }
  return { runId: event.runId, units, skippedAccounts: listing.skipped };
}

/**
 * The unit's notifier: every message names the account (core/organization/account-label.ts) and goes to the
 * account's channel (slack.accountChannels), else `slack.channel`; a message addressed elsewhere (a team's channel,
 * an owner's direct message) keeps its address.
 */
export function accountNotifier(
  notifier: Notifier,
  unit: Pick<FanOutUnit, 'accountId' | 'accountName'>,
  accountChannels: Readonly<Record<string, string>>,
): Notifier {
  const channel = accountChannels[unit.accountId];
  return {
    kind: notifier.kind,
    ...(notifier.directory ? { directory: notifier.directory } : {}),
    post: (message: SlackMessage, to?: string): Promise<PostResult> =>
      notifier.post(labelForAccount(message, unit), to ?? channel),
  };
}

/** Metrics of a unit: the savings metrics also by account (DIMENSION.Account), for the dashboard. */
export function accountMetrics(metrics: MetricsSink, accountId: string): MetricsSink {
  const byAccount = new Set<string>([METRIC.RealizedMonthlySavingsUsd, METRIC.EstimatedMonthlySavingsUsd]);
  return {
    add(name, value, unit, dimensions) {
      metrics.add(name, value, unit, dimensions);
      if (!dimensions && byAccount.has(name)) metrics.add(name, value, unit, { [DIMENSION.Account]: accountId });
    },
  };
}

export interface UnitRunOptions<R extends RunSummary = RunSummary> {
  /** The capability to run (its module, or its name and run function). */
  readonly capability: Pick<CapabilityModule<R>, 'name' | 'run'>;
  /**
   * The hub's context options (the Lambda's, or the CLI's): config, clock, Slack, log, metrics, state table, the
   * hub's account ID (whose units need no spoke role) and the hub's clients.
   */
  readonly base: ContextOptions & { readonly clients: ClientFactory };
  readonly unit: FanOutUnit & { readonly runId: string };
  /** Clients per account for this run (one AssumeRole an account). */
  readonly spoke: Pick<SpokeClients, 'forAccount'>;
  /** The event handed to the capability's run (its scheduled time sets the action period). */
  readonly event?: unknown;
}

export interface UnitRun<R extends RunSummary = RunSummary> {
  /** What the Map state gets back. */
  readonly status: UnitStatus;
  /** What was (or, without a state table, would be) stored for the digest. */
  readonly report: UnitReport;
  /** The capability's summary, when it got far enough to have one. */
  readonly summary?: R;
  /** The unit's context, when the account could be reached (its actions, its API calls). */
  readonly context?: RunContext;
}

/**
 * Runs one unit: the capability in one account and region, exactly as a single-account run, with the account's
 * clients, keys (ctx.target), leases, limits and Slack channel. Never throws: a role that cannot be assumed, an
 * access denial, throttling past the SDK's retries, an incomplete run are stored as a failed report with the reason
 * and answered ok: false. Without a state table (a laptop's plan) nothing is stored.
 */
export async function runUnit<R extends RunSummary>(o: UnitRunOptions<R>): Promise<UnitRun<R>> {
  const { base, unit } = o;
  const hub = base.accountId === unit.accountId;
  let summary: R | undefined;
  let context: RunContext | undefined;
  let error: string | undefined;
  try {
    const account = await o.spoke.forAccount(unit.accountId);
    const built = buildContext({
      ...base,
      // The account's clients (spoke role); their DynamoDB is the hub's state table (ClientFactory.forAccount).
      clients: account,
      accountId: unit.accountId,
      notifier: accountNotifier(base.notifier, unit, base.config.slack.accountChannels),
      metrics: accountMetrics(base.metrics, unit.accountId),
      target: { accountId: unit.accountId, accountName: unit.accountName, runId: unit.runId, hub },
    });
    const ctx: RunContext = { ...built, regions: [unit.region] };
    context = ctx;
    summary = await runLeased(ctx, o.capability, o.event);
  } catch (e) {
    summary = summaryOfFailedRun(e) as R | undefined;
    error = describeAccountFailure(e);
    base.log.error('organization unit failed', {
      accountId: unit.accountId,
      region: unit.region,
      error: errorMessage(e),
    });
  }
  const report = unitReport(
    { ...unit, capability: o.capability.name },
    {
      ...(summary ? { summary } : {}),
      ...(error !== undefined ? { error } : {}),
      dryRun: context?.dryRun ?? base.dryRun ?? base.config.dryRun,
      at: base.now.toISOString(),
    },
  );
  let status: UnitStatus = {
    accountId: unit.accountId,
    region: unit.region,
    ok: report.ok,
    ...(report.reason ? { reason: report.reason } : {}),
  };
  const table = base.stateTableName ?? base.config.state.tableName;
  if (table) {
    try {
      await putUnitReport(base.clients.dynamodb(), table, report, base.now);
    } catch (e) {
      // The digest finds no report and counts the unit missing; the status says why.
      status = {
        ...status,
        ok: false,
        reason: unitReason(
          `${status.reason ? `${status.reason}; ` : ''}report not stored (${errorCode(e)}: ${errorMessage(e)})`,
        ),
      };
    }
  }
  return { status, report, ...(summary ? { summary } : {}), ...(context ? { context } : {}) };
}

/**
 * The capability's run under the account's run lease, exactly as the scheduled function runs it (lambda-lease.ts):
 * its actions recorded before the lease is given back; a lease held by another run is no failure, the unit reports
 * it in its notes.
 */
async function runLeased<R extends RunSummary>(
  ctx: RunContext,
  capability: Pick<CapabilityModule<R>, 'name' | 'run'>,
  event: unknown,
): Promise<R> {
  const summary = await runUnderLambdaLease(ctx, capability.name, undefined, () => capability.run(ctx, event));
  return summary as R;
}

/** The digest step could not post the organization digest (the execution then fails and alarms). */
export class OrganizationDigestError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OrganizationDigestError';
  }
}

/**
 * The digest step: reads the run's reports, posts one organization digest to `slack.channel`, and counts the units
 * that failed or left no report. Throws OrganizationDigestError when Slack refuses the digest.
 */
export async function runDigest(
  ctx: Pick<RunContext, 'clients' | 'config' | 'notifier' | 'stateTableName' | 'dryRun' | 'log'>,
  capability: FanOutCapability,
  event: Pick<DigestEvent, 'runId' | 'units' | 'skippedAccounts'>,
): Promise<DigestResult> {
  const reports = ctx.stateTableName
    ? await listUnitReports(ctx.clients.dynamodb(), ctx.stateTableName, event.runId)
    : [];
  const digest = organizationDigest({
    capability,
    runId: event.runId,
    units: event.units,
    reports,
    ...(event.skippedAccounts ? { skippedAccounts: event.skippedAccounts } : {}),
    dryRun: reports.length > 0 ? reports.every((r) => r.dryRun) : ctx.dryRun,
  });
  try {
    await postAll(ctx.notifier, digest.messages);
  } catch (error) {
    throw new OrganizationDigestError(
      `the organization digest of run ${event.runId} was not delivered: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  ctx.log.info('organization digest posted', { ...digest.result, messages: digest.messages.length });
  return digest.result;
}
