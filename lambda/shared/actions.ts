/**
 * The one place every action goes through: terminate, stop, start, tag, untag, lifecycle put, alert.
 *
 * It honours dry-run (the effect is not called; the action is recorded as `dry-run`), catches and records each
 * failure so that one failed action never blocks the others, and records the dollars the savings model attached
 * to the action. The run's report, Slack digest and metrics are built from these records.
 */

import type { ActionRecord, PlannedAction } from '../core/run';
import { errorCode, errorMessage } from './errors';

export type { ActionKind, ActionRecord, ActionStatus, Capability, PlannedAction } from '../core/run';

export interface ActionTotals {
  readonly done: number;
  readonly dryRun: number;
  readonly failed: number;
  /** Savings of the actions that took effect (or would, in dry-run). */
  readonly monthlySavingsUsd: number;
}

export class ActionRunner {
  private readonly log: ActionRecord[] = [];

  constructor(
    readonly dryRun: boolean,
    private readonly now: Date,
  ) {}

  /**
   * Performs `effect` unless in dry-run, and records the outcome. Never throws for a failed effect: the failure is
   * recorded and returned, so the caller moves on to the next target.
   */
  async perform(action: PlannedAction, effect: () => Promise<unknown>): Promise<ActionRecord> {
    const at = this.now.toISOString();
    let record: ActionRecord;
    if (this.dryRun) {
      record = { ...action, status: 'dry-run', at };
    } else {
      try {
        await effect();
        record = { ...action, status: 'done', at };
      } catch (error) {
        record = { ...action, status: 'failed', errorCode: errorCode(error), errorMessage: errorMessage(error), at };
      }
    }
    this.log.push(record);
    return record;
  }

  records(): readonly ActionRecord[] {
    return this.log;
  }

  totals(filter: (r: ActionRecord) => boolean = () => true): ActionTotals {
    const rs = this.log.filter(filter);
    const effective = rs.filter((r) => r.status !== 'failed');
    return {
      done: rs.filter((r) => r.status === 'done').length,
      dryRun: rs.filter((r) => r.status === 'dry-run').length,
      failed: rs.filter((r) => r.status === 'failed').length,
      monthlySavingsUsd: effective.reduce((sum, r) => sum + (r.monthlySavingsUsd ?? 0), 0),
    };
  }
}
