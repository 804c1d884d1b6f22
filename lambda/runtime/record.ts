/**
 * After a run that may have acted (Lambda or CLI): its effective actions go to the savings ledger, and its stops
 * (and restores) to the stop index that `cost-guard restore` reads; endpoints recreated by `restore --sagemaker` are
 * marked restored in the endpoint index (the SageMaker guard writes its deletions there itself, before deleting).
 * Recording never fails the run: the problems are returned for the caller to log or print. It runs while the run
 * still holds its lease, so the next run sees it.
 */
import { recordEndpointRestores } from '../adapters/endpoint-index';
import { recordActions } from '../adapters/ledger';
import { recordStops } from '../adapters/stop-index';
import { METRIC } from '../core/names';
import { errorMessage } from '../shared/errors';
import { keyScopeOf, type RunContext } from './context';

/**
 * Writes the run's ledger entries and stop-index items; returns what could not be written, in words. In organization
 * mode the unit's account goes on each ledger entry and scopes the index keys (single-account keys never change).
 */
export async function recordRun(ctx: RunContext): Promise<string[]> {
  if (!ctx.stateTableName) return [];
  const problems: string[] = [];
  const records = ctx.actions.records();
  if (!records.some((r) => r.status === 'done')) return [];
  const client = ctx.clients.dynamodb();
  try {
    const { unprocessed } = await recordActions(client, ctx.stateTableName, records, undefined, ctx.target?.accountId);
    if (unprocessed > 0) problems.push(`savings ledger: ${unprocessed} entries were not written`);
  } catch (error) {
    problems.push(`savings ledger: write failed (${errorMessage(error)})`);
  }
  try {
    const { unprocessed } = await recordStops(client, ctx.stateTableName, records, undefined, keyScopeOf(ctx));
    if (unprocessed > 0) {
      problems.push(`stop index: ${unprocessed} stops were not recorded; restore will not start those instances`);
    }
  } catch (error) {
    problems.push(`stop index: write failed (${errorMessage(error)}); restore will not start what this run stopped`);
  }
  if (records.some((r) => r.status === 'done' && r.kind === 'create-endpoint')) {
    try {
      await recordEndpointRestores(client, ctx.stateTableName, records, keyScopeOf(ctx));
    } catch (error) {
      problems.push(
        `endpoint index: restores not recorded (${errorMessage(error)}); a later restore reports those endpoints as existing`,
      );
    }
  }
  return problems;
}

/**
 * {@link recordRun} for a deployed function (a scheduled run or one unit of an organization run): each problem is
 * logged and counted (LedgerWriteFailures), never thrown.
 */
export async function recordRunLogged(ctx: RunContext): Promise<void> {
  const problems = await recordRun(ctx);
  for (const problem of problems) ctx.log.error(problem);
  if (problems.length > 0) ctx.metrics.add(METRIC.LedgerWriteFailures, 1);
}
