/**
 * The deployed functions' side of the run lease (lambda/runtime/lease.ts): a function that stops or terminates takes
 * `lease#<capability>#<region>` as 'lambda:<request id>' for the whole run, records the run's actions in the ledger
 * before giving it back, and does not act while a CLI run (or another invocation) holds it. A held lease is not a
 * failure: the run reports it, acts on nothing, and the next scheduled run acts.
 */
import type { RunContext, RunSummary } from './context';
import { RunLeaseHeldError, withRunLeases } from './lease';
import { recordRunLogged } from './record';

/**
 * Capabilities whose function takes the lease: the ones that change resources (stop, terminate, lifecycle writes,
 * endpoint deletes), so that the deployed function and a `cost-guard run` never act on the same capability and
 * region at once.
 */
export const LEASED_IN_LAMBDA: ReadonlySet<string> = new Set(['reaper', 'budgets', 'lifecycle', 'sagemaker']);

/** The summary of a run that found the lease held and did nothing. */
export interface LeaseHeldSummary extends RunSummary {
  readonly leaseHeld: { readonly holder: string; readonly region: string; readonly until: string };
}

/** The lease holder of one invocation: 'lambda:<request id>' (retries of one async event keep the request id). */
export const lambdaHolder = (requestId: string | undefined): string => `lambda:${requestId ?? 'unknown-request'}`;

/**
 * Runs `run` under the capability's lease when the capability acts (held as ctx.holder, else as the request's
 * holder), and records its actions (ledger, stop and endpoint indexes) before the lease is given back, even when the
 * run failed afterwards; a recording problem is logged and counted, never thrown. When another run holds the lease,
 * logs why and returns a summary that says so, having read and changed nothing. A unit of an organization run takes
 * its account's lease the same way (lease keys follow ctx.target).
 */
export async function runUnderLambdaLease<R extends RunSummary>(
  ctx: RunContext,
  capability: string,
  requestId: string | undefined,
  run: () => Promise<R>,
): Promise<R | LeaseHeldSummary> {
  const recorded = async () => {
    try {
      return await run();
    } finally {
      await recordRunLogged(ctx);
    }
  };
  if (!LEASED_IN_LAMBDA.has(capability)) return recorded();
  try {
    return await withRunLeases(
      ctx,
      { capabilities: [capability], holder: ctx.holder ?? lambdaHolder(requestId) },
      recorded,
    );
  } catch (error) {
    if (!(error instanceof RunLeaseHeldError)) throw error;
    ctx.log.warn(error.message, { holder: error.holder, region: error.region, until: error.expiresAt });
    return {
      capability,
      dryRun: ctx.dryRun,
      startedAt: ctx.now.toISOString(),
      actions: [],
      monthlySavingsUsd: 0,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: [`${error.message}. This run did nothing; the next scheduled run acts.`],
      leaseHeld: { holder: error.holder, region: error.region, until: error.expiresAt },
    };
  }
}
