/**
 * The run context: everything a capability's run needs, built the same way for the Lambda and for the CLI.
 * A capability exports `run(ctx)`; the Lambda handler and `cost-guard run` only differ in how they build `ctx`.
 */
import { ClientFactory } from '../adapters/clients';
import type { Notifier } from '../adapters/slack';
import type { CostGuardConfig } from '../core/config';
import type { ProgressEvent, RunSummary } from '../core/run';
import { createPricing, type Pricing } from '../core/savings/pricing';
import { ActionRunner } from '../shared/actions';
import { CostGuardError } from '../shared/errors';
import type { Log, MetricsSink } from '../shared/observability';

export interface RunContext {
  readonly config: CostGuardConfig;
  /** The run's clock reading: decisions take it as an argument and never read the clock themselves. */
  readonly now: Date;
  /** config.dryRun, or the CLI's --dry-run. Actions record what they would do and change nothing. */
  readonly dryRun: boolean;
  /** Regions to scan: config.regions, or the default region when the list is empty. */
  readonly regions: readonly string[];
  readonly clients: ClientFactory;
  readonly notifier: Notifier;
  readonly actions: ActionRunner;
  readonly pricing: Pricing;
  /** Where the prices come from (catalog and its date, or live), for reports. */
  readonly pricingNote: string;
  readonly log: Log;
  readonly metrics: MetricsSink;
  /** AWS account ID (AWS Budgets needs it; console links use it), when known. */
  readonly accountId?: string;
  /** DynamoDB state table (de-duplication, savings ledger); undefined = no de-duplication. */
  readonly stateTableName?: string;
  /**
   * Milliseconds left before the Lambda times out (the Lambda context's getRemainingTimeInMillis), so a long run
   * stops acting in time; undefined for the CLI, which has no deadline.
   */
  readonly remainingTimeMs?: () => number;
  /** Who runs: 'lambda:<request id>' or 'cli:<user@host>:<pid>' (run leases, alert claims). */
  readonly holder?: string;
  /** Where a long run reports what it is doing (the CLI draws it on a terminal); undefined in the Lambda. */
  readonly progress?: (event: ProgressEvent) => void;
  /**
   * Organization mode (accounts.mode: organization): the account this run is a unit of the fan-out for. Its
   * clients hold the account's spoke-role credentials (or the hub's own, for the hub account), `accountId` is this
   * account, and every state-table key the run writes (warnings, keeps, stop and endpoint indexes, limits, leases,
   * ledger) includes `accountId`. Undefined in single-account mode: keys are as they always were.
   */
  readonly target?: RunTarget;
}

/** The account and run of one unit of an organization run. */
export interface RunTarget {
  readonly accountId: string;
  readonly accountName: string;
  /** The fan-out run (state machine execution name, or the CLI's run id). */
  readonly runId: string;
  /** Whether this is the hub's own account (the functions' own role, no spoke role). */
  readonly hub: boolean;
}

/**
 * What a run's state-table keys are scoped by: the target account in organization mode, nothing otherwise (so a
 * single-account deployment keeps its keys). Stores take it and put it in their partition keys.
 */
export function keyScopeOf(ctx: Pick<RunContext, 'target'>): string | undefined {
  return ctx.target?.accountId;
}

export interface ContextOptions {
  readonly config: CostGuardConfig;
  readonly now: Date;
  readonly defaultRegion: string;
  readonly notifier: Notifier;
  readonly log: Log;
  readonly metrics: MetricsSink;
  readonly dryRun?: boolean;
  readonly accountId?: string;
  readonly stateTableName?: string;
  readonly clients?: ClientFactory;
  readonly endpoint?: string;
  readonly pricing?: Pricing;
  readonly pricingNote?: string;
  readonly remainingTimeMs?: () => number;
  readonly holder?: string;
  readonly progress?: (event: ProgressEvent) => void;
  readonly target?: RunTarget;
}

export function buildContext(o: ContextOptions): RunContext {
  const clients =
    o.clients ?? new ClientFactory({ defaultRegion: o.defaultRegion, ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const dryRun = o.dryRun === true || o.config.dryRun;
  const pricing = o.pricing ?? createPricing(o.config.pricing);
  return {
    config: o.config,
    now: o.now,
    dryRun,
    regions: o.config.regions.length > 0 ? o.config.regions : [o.defaultRegion],
    clients,
    notifier: o.notifier,
    actions: new ActionRunner(dryRun, o.now),
    pricing,
    pricingNote: o.pricingNote ?? `embedded price catalog of ${pricing.asOf}`,
    log: o.log,
    metrics: o.metrics,
    ...(o.accountId ? { accountId: o.accountId } : {}),
    ...(o.remainingTimeMs ? { remainingTimeMs: o.remainingTimeMs } : {}),
    ...(o.holder ? { holder: o.holder } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
    ...(o.target ? { target: o.target } : {}),
    ...((o.stateTableName ?? o.config.state.tableName)
      ? { stateTableName: o.stateTableName ?? o.config.state.tableName }
      : {}),
  };
}

/**
 * A run that acted, then failed (e.g. Slack refused the digest): it carries the summary of what was done, so the
 * Lambda fails (and alarms, and is retried) while the CLI can still print every outcome.
 */
export class RunIncompleteError<S extends RunSummary = RunSummary> extends CostGuardError {
  constructor(
    message: string,
    readonly summary: S,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RunIncompleteError';
  }
}

/** The summary a failed run carried, if it got far enough to have one. */
export function summaryOfFailedRun(error: unknown): RunSummary | undefined {
  return error instanceof RunIncompleteError ? error.summary : undefined;
}

export type { RunSummary } from '../core/run';
