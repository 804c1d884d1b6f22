/**
 * Monthly savings summary (first day of the month): reads last month's savings ledger from the state table and
 * posts what each capability did and saved to Slack.
 */
import { listTeams, monthBefore, readFinOpsMonths } from '../adapters/finops-metrics';
import { readMonth } from '../adapters/ledger';
import { postAll } from '../adapters/slack';
import { type FinOpsMonth, finopsBlocks } from '../core/finops/report';
import { METRIC } from '../core/names';
import { monthSummaryMessages, previousMonth, summarizeMonth } from '../core/report/monthly-summary';
import type { RunContext, RunSummary } from '../runtime/context';
import { errorCode } from '../shared/errors';

export interface MonthlySummaryResult extends RunSummary {
  readonly month: string;
  readonly messagesPosted: number;
  /** The ML FinOps figures of the month and the month before, when they could be read. */
  readonly finops?: { readonly current: FinOpsMonth; readonly previous: FinOpsMonth };
}

/**
 * The month's and the previous month's FinOps figures from the guard's own CloudWatch metrics (the reaper's GPU hours,
 * the lifecycle's bytes): no state of its own to keep, and last month is one more query. A read that fails leaves
 * the section out and says so; the savings summary is posted all the same.
 */
async function finopsOf(
  ctx: RunContext,
  month: string,
  notes: string[],
): Promise<{ current: FinOpsMonth; previous: FinOpsMonth } | undefined> {
  try {
    const cw = ctx.clients.cloudwatch();
    const teams = await listTeams(cw);
    const previousMonth = monthBefore(month);
    const read = await readFinOpsMonths(cw, [month, previousMonth], teams);
    notes.push(...read.errors);
    const [current, previous] = read.months as [FinOpsMonth, FinOpsMonth];
    return { current, previous };
  } catch (error) {
    notes.push(`FinOps metrics could not be read from CloudWatch (${errorCode(error)}): left out of the summary`);
    return undefined;
  }
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
  // Entries that name accounts (organization mode, a payer budget's linked accounts) are also summed by account;
  // accounts are shown by ID (no Organizations call: the summary reads only the ledger and its own metrics).
  const summary = summarizeMonth(month, entries, ctx.accountId ? { ownAccountId: ctx.accountId } : {});
  const notes: string[] = [];
  const finops = await finopsOf(ctx, month, notes);
  const blocks = finops ? finopsBlocks(finops.current, finops.previous) : [];
  const posted = await postAll(ctx.notifier, monthSummaryMessages(summary, blocks));
  ctx.metrics.add(METRIC.SummaryMonthlySavingsUsd, summary.monthlySavingsUsd, 'None');
  return {
    ...base,
    monthlySavingsUsd: summary.monthlySavingsUsd,
    apiCalls: ctx.clients.counter.byOperation(),
    notes: [`${entries.length} ledger entries in ${month}`, ...notes],
    messagesPosted: posted.length,
    ...(finops ? { finops } : {}),
  };
}
