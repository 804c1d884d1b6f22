/**
 * The monthly savings summary: what each capability did and saved last month, from the savings ledger. Pure.
 */

import { formatUsd } from '../money';
import { type LedgerEntry, SAVING_ACTION_KINDS } from '../run';
import {
  type Block,
  context,
  divider,
  escapeName,
  fields,
  header,
  type SlackMessage,
  section,
  splitIntoMessages,
} from '../slack-blocks';

export interface CapabilityMonth {
  readonly capability: string;
  /** Count of actions by kind (stop, terminate, lifecycle-put…). */
  readonly actions: Readonly<Record<string, number>>;
  /** Sum of the monthly savings of the actions that took effect: the run-rate saved from then on. */
  readonly monthlySavingsUsd: number;
  /** Money-saving actions (stop, terminate, lifecycle-put) whose price was unknown (not in the total). */
  readonly unpriced: number;
}

export interface MonthSummary {
  readonly month: string;
  readonly capabilities: readonly CapabilityMonth[];
  readonly monthlySavingsUsd: number;
}

/** The calendar month before `now`, as `YYYY-MM` (UTC). */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function summarizeMonth(month: string, entries: readonly LedgerEntry[]): MonthSummary {
  const by = new Map<string, { actions: Record<string, number>; usd: number; unpriced: number }>();
  for (const e of entries) {
    const c = by.get(e.capability) ?? { actions: {}, usd: 0, unpriced: 0 };
    c.actions[e.kind] = (c.actions[e.kind] ?? 0) + 1;
    if (e.monthlySavingsUsd !== undefined) c.usd += e.monthlySavingsUsd;
    else if (SAVING_ACTION_KINDS.has(e.kind)) c.unpriced += 1;
    by.set(e.capability, c);
  }
  const capabilities = [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([capability, c]) => ({ capability, actions: c.actions, monthlySavingsUsd: c.usd, unpriced: c.unpriced }));
  return { month, capabilities, monthlySavingsUsd: capabilities.reduce((n, c) => n + c.monthlySavingsUsd, 0) };
}

const NAMES: Record<string, string> = {
  reaper: 'Idle GPU reaper',
  lifecycle: 'Storage lifecycle',
  budgets: 'Budget guard',
  sagemaker: 'SageMaker guard',
  restore: 'Restore',
};

/**
 * The month's messages; `finops` (lambda/core/finops/report.ts: the FinOps metrics beside their targets, with the
 * trend) follows the savings.
 */
export function monthSummaryMessages(summary: MonthSummary, finops: readonly Block[] = []): SlackMessage[] {
  const title = `ml-cost-guard: ${summary.month} savings summary`;
  const head = [header(title)];
  if (summary.capabilities.length === 0) {
    return splitIntoMessages(title, head, [section(`No action took effect in ${summary.month}.`), ...finops]);
  }
  const body = [
    section(`*${formatUsd(summary.monthlySavingsUsd)}/month* in savings from actions taken in ${summary.month}.`),
    divider(),
    ...summary.capabilities.map((c) =>
      fields([
        // Capability and kind come from ledger items: shown as text, never as markup.
        ['Capability', Object.hasOwn(NAMES, c.capability) ? NAMES[c.capability]! : escapeName(c.capability)],
        ['Saved', `${formatUsd(c.monthlySavingsUsd)}/month`],
        [
          'Actions',
          Object.entries(c.actions)
            .map(([k, n]) => `${n} ${escapeName(k)}`)
            .join(', '),
        ],
        ...(c.unpriced > 0 ? ([['Unpriced', `${c.unpriced} action(s) with no known price`]] as const) : []),
      ]),
    ),
    context('Savings are monthly run-rates from the savings model at the time of each action.'),
    ...finops,
  ];
  return splitIntoMessages(`${title}: ${formatUsd(summary.monthlySavingsUsd)}/month`, head, body);
}
