/** Small text helpers shared by the budget guard's Slack messages and CLI report. Pure. */
import { SKIP_REASON_TEXT } from '../skip-reasons';
import type { BudgetSkipReason } from './candidates';

export type CountedSkips = Partial<Record<BudgetSkipReason, number>>;

/** '2 tagged essential, 1 opted out' (out-of-scope and not-running instances are left out: they are not news). */
export function skipSummary(counts: CountedSkips): string {
  const shown: BudgetSkipReason[] = [
    'essential',
    'opt-out',
    'not-gpu',
    'unknown-type',
    'auto-scaling-group',
    'fleet-member',
    'kubernetes-node',
  ];
  return shown
    .filter((r) => (counts[r] ?? 0) > 0)
    .map((r) => `${counts[r]} ${SKIP_REASON_TEXT[r]}`)
    .join(', ');
}
