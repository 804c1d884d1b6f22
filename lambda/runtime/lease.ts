/**
 * Run leases: the CLI (`cost-guard run`, `cost-guard restore`) and the deployed functions never act on the same
 * capability and region at the same time. A run that may act takes `lease#<capability>#<region>` in the state table
 * (a conditional PutItem: free, expired, or already ours) for every region it covers, and gives the leases back when
 * it ends, failed or not. A held lease stops the run before it reads or changes anything. In organization mode every
 * account has its own leases (`lease#<capability>#<account>#<region>`): units of different accounts never wait on
 * each other.
 *
 * No lease is taken when nothing can change (dry run, plan) or when there is no state table (nothing to share one
 * with: the deployed functions always have the table, and the CLI finds it by its fixed name).
 */
import { DynamoStateStore, leaseName, type StateStore } from '../adapters/state-store';
import { CostGuardError, errorMessage } from '../shared/errors';
import { keyScopeOf, type RunContext } from './context';

/**
 * How long a lease lasts unless given back: three times the functions' 5-minute timeout, so a run never outlives
 * its lease, and a crashed CLI blocks the schedule for at most this long.
 */
export const RUN_LEASE_MS = 15 * 60_000;

/** Another run holds the lease of this capability and region: this run does not act. */
export class RunLeaseHeldError extends CostGuardError {
  constructor(
    readonly capability: string,
    readonly region: string,
    readonly holder: string,
    readonly expiresAt: string,
    options?: { cause?: unknown },
  ) {
    super(
      `another run (${holder}, until ${expiresAt}) is acting on ${capability} in ${region}; try again after ${expiresAt}`,
      options,
    );
    this.name = 'RunLeaseHeldError';
  }
}

export interface RunLeaseOptions {
  /** The capabilities whose leases the run needs (restore needs the budget guard's, and the reaper's with it). */
  readonly capabilities: readonly string[];
  /** 'lambda:<requestId>' or 'cli:<user@host>:<pid>'. */
  readonly holder: string;
  /** @default RUN_LEASE_MS */
  readonly ttlMs?: number;
  /** @default the state table of `ctx` */
  readonly store?: StateStore;
  /**
   * The account whose leases these are (organization mode: leases are per account, `<capability>#<account>#<region>`).
   * @default keyScopeOf(ctx): the unit's account, none in single-account mode
   */
  readonly account?: string;
}

/** Whether a run with this context takes leases (it may act, and there is a table to hold them). */
export function needsLease(ctx: RunContext): boolean {
  return !ctx.dryRun && ctx.stateTableName !== undefined;
}

/**
 * Runs `fn` holding the leases of `capabilities` in every region of the run. Throws RunLeaseHeldError (and runs
 * nothing) when another holder has one of them; the leases taken so far are given back.
 */
export async function withRunLeases<T>(ctx: RunContext, o: RunLeaseOptions, fn: () => Promise<T>): Promise<T> {
  if (!needsLease(ctx)) return fn();
  const store = o.store ?? new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName!, { now: ctx.now });
  const taken: string[] = [];
  const account = o.account ?? keyScopeOf(ctx);
  try {
    for (const capability of o.capabilities) {
      for (const region of [...ctx.regions].sort()) {
        const name = leaseName(capability, region, account);
        const lease = await store.acquireLease({
          name,
          holder: o.holder,
          now: ctx.now,
          ttlMs: o.ttlMs ?? RUN_LEASE_MS,
        });
        if (!lease.acquired) throw new RunLeaseHeldError(capability, region, lease.holder, lease.expiresAt);
        taken.push(name);
      }
    }
    return await fn();
  } finally {
    for (const name of taken.reverse()) {
      try {
        await store.releaseLease(name, o.holder);
      } catch (error) {
        // The lease expires by itself; the next run waits at most RUN_LEASE_MS.
        ctx.log.warn('run lease not given back', { lease: name, error: errorMessage(error) });
      }
    }
  }
}
