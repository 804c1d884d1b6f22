/**
 * Monthly savings summary (first day of the month): reads last month's savings ledger from the state table and
 * posts what each capability did and saved to Slack.
 */
import { readMonth } from '../adapters/ledger';
import { postAll } from '../adapters/slack';
import { METRIC } from '../core/names';
import { monthSummaryMessages, previousMonth, summarizeMonth } from '../core/report/monthly-summary';
import type { RunContext, RunSummary } from '../runtime/context';

export interface MonthlySummaryResult extends RunSummary {
  readonly month: string;
  readonly messagesPosted: number;
}

export async function runMonthlySummary(ctx: RunContext): Promise<MonthlySummaryResult> {
  const month = previousMonth(ctx.now);
  const base = {
    capability: 'summary',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions: [],
    month,
  };
  if (!ctx.stateTableName) {
    return {
      ...base,
      monthlySavingsUsd: 0,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: ['No state table: there is no savings ledger to summarize.'],
      messagesPosted: 0,
    };
  }
  const entries = await readMonth(ctx.clients.dynamodb(), ctx.stateTableName, month);
  const summary = summarizeMonth(month, entries);
  const posted = await postAll(ctx.notifier, monthSummaryMessages(summary));
  ctx.metrics.add(METRIC.SummaryMonthlySavingsUsd, summary.monthlySavingsUsd, 'None');
  return {
    ...base,
    monthlySavingsUsd: summary.monthlySavingsUsd,
    apiCalls: ctx.clients.counter.byOperation(),
    notes: [`${entries.length} ledger entries in ${month}`],
    messagesPosted: posted.length,
  };
}
