/**
 * What one unit of an organization run (a capability in one account and region) leaves in the state table for the
 * digest: small and bounded whatever the unit found (a DynamoDB item holds at most 400 KB; this stays under ~40 KB):
 * counts, the actions with their target, kind, status and savings (the first MAX_REPORT_ACTIONS), failures and notes
 * (at most MAX_REPORT_LINES each, each one line of at most 300 characters). Pure.
 */
import type { ActionRecord, ActionStatus, RunSummary } from '../run';
import { type FanOutUnit, unitReason } from './fan-out';

/** Actions kept in a unit's report (the rest are counted in `actionsOmitted`). */
export const MAX_REPORT_ACTIONS = 100;
/** Failures and notes kept in a unit's report, each. */
export const MAX_REPORT_LINES = 10;

export interface UnitAction {
  readonly target: string;
  readonly kind: string;
  readonly status: ActionStatus;
  readonly monthlySavingsUsd?: number;
}

export interface UnitReport extends FanOutUnit {
  readonly runId: string;
  readonly capability: string;
  /** The unit ran to its end (false: `reason` says why not). */
  readonly ok: boolean;
  readonly reason?: string;
  readonly dryRun: boolean;
  /** When the unit ran (its clock). */
  readonly at: string;
  /** Actions by status (every action, also those past MAX_REPORT_ACTIONS). */
  readonly actionCounts: { readonly done: number; readonly dryRun: number; readonly failed: number };
  /** The capability's own counts (the reaper's warned, stopped…), when its summary has them. */
  readonly counts: Readonly<Record<string, number>>;
  /**
   * Monthly savings of the unit's actions from the savings model: those that took effect, or in dry-run those that
   * would be taken (the summary's own figure).
   */
  readonly monthlySavingsUsd: number;
  readonly actions: readonly UnitAction[];
  readonly actionsOmitted: number;
  readonly failures: readonly string[];
  readonly notes: readonly string[];
}

const lines = (list: readonly string[]): string[] => list.slice(0, MAX_REPORT_LINES).map(unitReason);

/** The capability's numeric counts (`summary.counts`), at most 20 of them. */
function countsOf(summary: RunSummary | undefined): Record<string, number> {
  const counts = (summary as { counts?: unknown } | undefined)?.counts;
  if (!counts || typeof counts !== 'object') return {};
  return Object.fromEntries(
    Object.entries(counts as Record<string, unknown>)
      .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
      .slice(0, 20),
  );
}

function actionOf(r: ActionRecord): UnitAction {
  return {
    target: r.target.slice(0, 256),
    kind: r.kind,
    status: r.status,
    ...(r.monthlySavingsUsd !== undefined ? { monthlySavingsUsd: r.monthlySavingsUsd } : {}),
  };
}

export interface UnitOutcome {
  /** The run's summary (also that of a run that acted and then failed: RunIncompleteError carries it). */
  readonly summary?: RunSummary;
  /** Why the unit failed (describeAccountFailure), undefined when it ran to its end. */
  readonly error?: string;
  readonly dryRun: boolean;
  readonly at: string;
}

/** A unit's report from its run's summary and error. */
export function unitReport(unit: FanOutUnit & { runId: string; capability: string }, o: UnitOutcome): UnitReport {
  const actions = o.summary?.actions ?? [];
  const count = (status: ActionStatus) => actions.filter((a) => a.status === status).length;
  const failedActions = actions
    .filter((a) => a.status === 'failed')
    .map((a) => `${a.kind} ${a.target}: ${a.errorCode ?? 'failed'}${a.errorMessage ? ` (${a.errorMessage})` : ''}`);
  return {
    runId: unit.runId,
    capability: unit.capability,
    accountId: unit.accountId,
    accountName: unit.accountName,
    region: unit.region,
    ok: o.error === undefined,
    ...(o.error !== undefined ? { reason: unitReason(o.error) } : {}),
    dryRun: o.summary?.dryRun ?? o.dryRun,
    at: o.at,
    actionCounts: { done: count('done'), dryRun: count('dry-run'), failed: count('failed') },
    counts: countsOf(o.summary),
    monthlySavingsUsd: o.summary?.monthlySavingsUsd ?? 0,
    actions: actions.slice(0, MAX_REPORT_ACTIONS).map(actionOf),
    actionsOmitted: Math.max(0, actions.length - MAX_REPORT_ACTIONS),
    failures: lines(failedActions),
    notes: lines(o.summary?.notes ?? []),
  };
}
