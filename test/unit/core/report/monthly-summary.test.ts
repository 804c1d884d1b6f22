import { monthSummaryMessages, previousMonth, summarizeMonth } from '../../../../lambda/core/report/monthly-summary';
import type { LedgerEntry } from '../../../../lambda/core/run';
import { messageToText } from '../../../../lambda/core/slack-blocks';

const entry = (capability: string, kind: string, usd?: number): LedgerEntry => ({
  at: '2026-10-03T10:00:00.000Z',
  capability,
  kind,
  target: 'x',
  reason: 'r',
  ...(usd !== undefined ? { monthlySavingsUsd: usd } : {}),
});

describe('Function: previousMonth', () => {
  it.each([
    ['2026-11-01T09:00:00Z', '2026-10'],
    ['2026-01-01T09:00:00Z', '2025-12'],
    ['2026-03-31T23:59:59Z', '2026-02'],
  ])('gives the month before %s as %s', (now, month) => {
    expect(previousMonth(new Date(now))).toBe(month);
  });
});

describe('Function: summarizeMonth', () => {
  it('adds savings and counts actions by capability and kind; unpriced actions are counted apart', () => {
    // Act
    const s = summarizeMonth('2026-10', [
      entry('reaper', 'stop', 734.38),
      entry('reaper', 'stop', 383.98),
      entry('reaper', 'terminate'),
      entry('lifecycle', 'lifecycle-put', 951.28),
    ]);
    // Assess
    expect(s.capabilities).toEqual([
      { capability: 'lifecycle', actions: { 'lifecycle-put': 1 }, monthlySavingsUsd: 951.28, unpriced: 0 },
      { capability: 'reaper', actions: { stop: 2, terminate: 1 }, monthlySavingsUsd: 734.38 + 383.98, unpriced: 1 },
    ]);
    expect(s.monthlySavingsUsd).toBeCloseTo(2069.64, 2);
  });

  it('never counts tags, untags or alerts as unpriced: they save nothing by themselves', () => {
    // Act
    const s = summarizeMonth('2026-10', [
      entry('reaper', 'tag'),
      entry('reaper', 'untag'),
      entry('budgets', 'alert'),
      entry('budgets', 'stop'),
    ]);
    // Assess
    expect(s.capabilities).toEqual([
      { capability: 'budgets', actions: { alert: 1, stop: 1 }, monthlySavingsUsd: 0, unpriced: 1 },
      { capability: 'reaper', actions: { tag: 1, untag: 1 }, monthlySavingsUsd: 0, unpriced: 0 },
    ]);
  });

  it('says so when nothing took effect', () => {
    const [m] = monthSummaryMessages(summarizeMonth('2026-10', []));
    expect(messageToText(m!)).toContain('No action took effect in 2026-10.');
  });

  it('renders the total and each capability', () => {
    const text = monthSummaryMessages(summarizeMonth('2026-10', [entry('reaper', 'stop', 1000)]))
      .map(messageToText)
      .join('\n');
    expect(text).toContain('$1,000.00/month');
    expect(text).toContain('Idle GPU reaper');
    expect(text).toContain('1 stop');
  });
});
