import {
  MAX_ACCOUNTS_LISTED,
  monthSummaryMessages,
  summarizeMonth,
} from '../../../../lambda/core/report/monthly-summary';
import type { LedgerEntry } from '../../../../lambda/core/run';
import { type Block, messageToText } from '../../../../lambda/core/slack-blocks';

const HUB = '123456789012';
const entry = (
  accountId: string | undefined,
  usd: number | undefined,
  over: Partial<LedgerEntry> = {},
): LedgerEntry => ({
  at: '2026-10-05T00:00:00.000Z',
  capability: 'reaper',
  kind: 'stop',
  target: 'i-1',
  reason: 'idle',
  ...(accountId ? { accountId } : {}),
  ...(usd !== undefined ? { monthlySavingsUsd: usd } : {}),
  ...over,
});
const text = (blocks: readonly { text: string; blocks: readonly Block[] }[]) =>
  blocks.map((m) => messageToText(m as never)).join('\n');

describe('Function: summarizeMonth by account', () => {
  it('sums savings and actions per account, dearest first, entries without an account counted as its own', () => {
    // Act
    const summary = summarizeMonth(
      '2026-10',
      [
        entry('111111111111', 100),
        entry('111111111111', 50, { kind: 'tag' }),
        entry('222222222222', 400, { capability: 'budgets' }),
        entry(undefined, 30, { capability: 'budgets' }),
        entry(HUB, 20),
        entry('333333333333', undefined, { kind: 'tag' }),
      ],
      { ownAccountId: HUB },
    );
    // Assess
    expect(summary.accounts).toEqual([
      { accountId: '222222222222', own: false, actions: 1, monthlySavingsUsd: 400 },
      { accountId: '111111111111', own: false, actions: 2, monthlySavingsUsd: 150 },
      { accountId: HUB, own: true, actions: 2, monthlySavingsUsd: 50 },
      { accountId: '333333333333', own: false, actions: 1, monthlySavingsUsd: 0 },
    ]);
    const byAccount = summary.accounts!.reduce((n, a) => n + a.monthlySavingsUsd, 0);
    expect(byAccount).toBe(summary.monthlySavingsUsd);
  });

  it('has no breakdown when every entry is the single account’s own (the summary stays as it was)', () => {
    expect(summarizeMonth('2026-10', [entry(undefined, 10), entry(HUB, 5)], { ownAccountId: HUB }).accounts).toBe(
      undefined,
    );
    expect(summarizeMonth('2026-10', [entry(undefined, 10)]).accounts).toBeUndefined();
  });
});

describe('Function: monthSummaryMessages by account', () => {
  it('lists each account with its savings, marks its own, and escapes what the ledger holds', () => {
    // Prepare: an account "ID" from a hand-edited item must not format the message.
    const summary = summarizeMonth(
      '2026-10',
      [entry('111111111111', 100), entry(undefined, 30), entry('<!here>*x*', 5)],
      { ownAccountId: HUB },
    );
    // Act
    const messages = monthSummaryMessages(summary);
    // Assess
    const all = text(messages);
    expect(all).toContain('*Savings by account* (3):');
    expect(all).toContain('• `111111111111`: $100.00/month, 1 action(s)');
    expect(all).toContain(`• \`${HUB}\` (this account): $30.00/month, 1 action(s)`);
    expect(JSON.stringify(messages)).not.toContain('<!here>');
  });

  it(`names at most ${MAX_ACCOUNTS_LISTED} accounts and sums the rest on one line, within Slack's limits`, () => {
    // Prepare: 250 accounts.
    const entries = Array.from({ length: 250 }, (_, i) => entry(String(100000000000 + i), i + 1));
    const summary = summarizeMonth('2026-10', entries, { ownAccountId: HUB });
    // Act
    const messages = monthSummaryMessages(summary);
    // Assess
    const all = text(messages);
    const restUsd = Array.from({ length: 150 }, (_, i) => i + 1).reduce((n, x) => n + x, 0);
    expect(all).toContain(`• 150 more account(s): $${restUsd.toLocaleString('en-US')}.00/month`);
    expect(all.match(/^• `\d{12}`/gm)).toHaveLength(MAX_ACCOUNTS_LISTED);
    for (const m of messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      for (const b of m.blocks) {
        const t = (b as { text?: { text?: string } }).text?.text;
        if (t) expect(t.length).toBeLessThanOrEqual(3000);
      }
    }
  });
});
