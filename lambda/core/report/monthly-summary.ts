/**
 * The monthly savings summary: what each capability did and saved last month, from the savings ledger, and, when
 * the ledger names accounts (organization mode, or a payer budget's linked accounts), what was saved in each account.
 * Pure.
 */

import { formatUsd } from '../money';
import { type LedgerEntry, SAVING_ACTION_KINDS } from '../run';
import {
  type Block,
  context,
  divider,
  escapeCode,
  escapeName,
  fields,
  header,
  lineSections,
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

/** What the guard did and saved in one account (the breakdown by account). */
export interface AccountMonth {
  /** The AWS account ID; undefined for entries without one when the summary's own account is not known. */
  readonly accountId?: string;
  /** True for the account the summary runs in (the hub, or the single account). */
  readonly own: boolean;
  /** Actions that took effect there. */
  readonly actions: number;
  readonly monthlySavingsUsd: number;
}

export interface MonthSummary {
  readonly month: string;
  readonly capabilities: readonly CapabilityMonth[];
  readonly monthlySavingsUsd: number;
  /**
   * Savings by account, dearest first: present only when some entry names an account other than the summary's own
   * (a single-account ledger has no breakdown, and its summary is as it always was).
   */
  readonly accounts?: readonly AccountMonth[];
}

export interface SummarizeOptions {
  /** The account the summary runs in: entries without an account were made there. */
  readonly ownAccountId?: string;
}

/** The calendar month before `now`, as `YYYY-MM` (UTC). */
export function previousMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
}

export function summarizeMonth(
  month: string,
  entries: readonly LedgerEntry[],
  options: SummarizeOptions = {},
): MonthSummary {
  const by = new Map<string, { actions: Record<string, number>; usd: number; unpriced: number }>();
  const byAccount = new Map<string | undefined, { actions: number; usd: number }>();
  for (const e of entries) {
    const account = e.accountId ?? options.ownAccountId;
    const a = byAccount.get(account) ?? { actions: 0, usd: 0 };
    a.actions += 1;
    a.usd += e.monthlySavingsUsd ?? 0;
    byAccount.set(account, a);
    const c = by.get(e.capability) ?? { actions: {}, usd: 0, unpriced: 0 };
    c.actions[e.kind] = (c.actions[e.kind] ?? 0) + 1;
    if (e.monthlySavingsUsd !== undefined) c.usd += e.monthlySavingsUsd;
    else if (SAVING_ACTION_KINDS.has(e.kind)) c.unpriced += 1;
    by.set(e.capability, c);
  }
  const capabilities = [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([capability, c]) => ({ capability, actions: c.actions, monthlySavingsUsd: c.usd, unpriced: c.unpriced }));
  const monthlySavingsUsd = capabilities.reduce((n, c) => n + c.monthlySavingsUsd, 0);
  const others = [...byAccount.keys()].some((id) => id !== undefined && id !== options.ownAccountId);
  if (!others) return { month, capabilities, monthlySavingsUsd };
  const accounts = [...byAccount.entries()]
    .map(([accountId, a]) => ({
      ...(accountId !== undefined ? { accountId } : {}),
      own: accountId === options.ownAccountId,
      actions: a.actions,
      monthlySavingsUsd: a.usd,
    }))
    .sort((x, y) => y.monthlySavingsUsd - x.monthlySavingsUsd || (x.accountId ?? '').localeCompare(y.accountId ?? ''));
  return { month, capabilities, monthlySavingsUsd, accounts };
}

/** Accounts named one by one in the by-account section; the rest are summed on one line. */
export const MAX_ACCOUNTS_LISTED = 100;

function accountLine(a: AccountMonth): string {
  // IDs come from ledger items: shown as text, never as markup.
  const who = a.accountId ? `\`${escapeCode(a.accountId)}\`` : 'this account';
  const own = a.accountId && a.own ? ' (this account)' : '';
  return `• ${who}${own}: ${formatUsd(a.monthlySavingsUsd)}/month, ${a.actions} action(s)`;
}

/** The savings-by-account section: one line per account, dearest first, packed into sections. */
function accountBlocks(accounts: readonly AccountMonth[]): Block[] {
  const shown = accounts.slice(0, MAX_ACCOUNTS_LISTED);
  const rest = accounts.slice(MAX_ACCOUNTS_LISTED);
  const lines = [`*Savings by account* (${accounts.length}):`, ...shown.map(accountLine)];
  if (rest.length > 0) {
    const usd = rest.reduce((n, a) => n + a.monthlySavingsUsd, 0);
    lines.push(`• ${rest.length} more account(s): ${formatUsd(usd)}/month`);
  }
  return [divider(), ...lineSections(lines)];
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
    ...(summary.accounts ? accountBlocks(summary.accounts) : []),
    context('Savings are monthly run-rates from the savings model at the time of each action.'),
    ...finops,
  ];
  return splitIntoMessages(`${title}: ${formatUsd(summary.monthlySavingsUsd)}/month`, head, body);
}
