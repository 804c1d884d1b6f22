import fc from 'fast-check';
import { type BudgetSnapshot, evaluateBudget, limitMismatch, toCents } from '../../../../lambda/core/budgets/policy';
import { formatPercentValue, formatUsd } from '../../../../lambda/core/money';

const NOW = new Date('2026-11-15T12:00:00Z');
const thresholds = { alertPercent: 80, actionPercent: 95 };

function budget(actual: number, overrides: Partial<BudgetSnapshot> = {}): BudgetSnapshot {
  return {
    name: 'ml-platform',
    budgetType: 'COST',
    timeUnit: 'MONTHLY',
    limit: { amount: 1000, unit: 'USD' },
    actual: { amount: actual, unit: 'USD' },
    periodStart: '2024-01-01T00:00:00.000Z',
    periodEnd: '2087-06-15T00:00:00.000Z',
    ...overrides,
  };
}

const crossedKeys = (snapshot: BudgetSnapshot | undefined, config = thresholds) =>
  evaluateBudget('ml-platform', snapshot, config, NOW).crossed.map((t) => t.key);

describe('Function: evaluateBudget', () => {
  it.each([
    [799.99, []],
    [800, ['alert-80']],
    [949.99, ['alert-80']],
    [950, ['alert-80', 'action-95']],
    [1200, ['alert-80', 'action-95']],
  ])('crosses the thresholds at or under the percentage: $%s of $1000', (actual, expected) => {
    expect(crossedKeys(budget(actual))).toEqual(expected);
  });

  it('counts exactly-at-threshold as crossed despite floating-point noise', () => {
    // Prepare: 57/100*100 is 57.00000000000001 and 0.57*100 is 56.99999999999999 in floating point.
    const config = { alertPercent: 57, actionPercent: 95 };
    // Act / Assess
    expect(crossedKeys(budget(0.57, { limit: { amount: 1, unit: 'USD' } }), config)).toEqual(['alert-57']);
    expect(crossedKeys(budget(57, { limit: { amount: 100, unit: 'USD' } }), config)).toEqual(['alert-57']);
    expect(crossedKeys(budget(1172.832, { limit: { amount: 1234.56, unit: 'USD' } }))).toContain('action-95');
  });

  it('warns about the forecast only when it is over 100% of the limit', () => {
    expect(crossedKeys(budget(100, { forecast: { amount: 1000, unit: 'USD' } }))).toEqual([]);
    expect(crossedKeys(budget(100, { forecast: { amount: 1000.01, unit: 'USD' } }))).toEqual(['forecast-100']);
  });

  it('reports the figures, the period and the days left', () => {
    // Act
    const e = evaluateBudget('ml-platform', budget(850, { forecast: { amount: 1300, unit: 'USD' } }), thresholds, NOW);
    // Assess
    expect(e).toMatchObject({
      problems: [],
      limitUsd: 1000,
      actualUsd: 850,
      forecastUsd: 1300,
      period: { key: '2026-11', daysLeft: 16 },
    });
    expect(e.percentUsed).toBeCloseTo(85);
    expect(e.forecastPercent).toBeCloseTo(130);
  });

  it('treats a budget without spend data yet as 0% used', () => {
    const e = evaluateBudget('ml-platform', budget(0, { actual: undefined }), thresholds, NOW);
    expect(e.problems).toEqual([]);
    expect(e.percentUsed).toBe(0);
  });

  it('uses the planned limit of the current period when the budget has one', () => {
    // Prepare: the planned limit for November is $2000, the base limit $1000.
    const snapshot = budget(1700, {
      plannedLimits: { '2026-11-01T00:00:00.000Z': { amount: 2000, unit: 'USD' } },
    });
    // Act / Assess
    expect(crossedKeys(snapshot)).toEqual(['alert-80']);
  });

  it.each<[string, BudgetSnapshot | undefined]>([
    ['missing', undefined],
    ['no-limit', budget(10, { limit: undefined })],
    ['currency', budget(10, { limit: { amount: 1000, unit: 'EUR' } })],
    ['currency', budget(10, { actual: { amount: 10, unit: 'GB' } })],
    ['zero-limit', budget(10, { limit: { amount: 0, unit: 'USD' } })],
    ['zero-limit', budget(10, { limit: { amount: 0.001, unit: 'USD' } })],
    ['invalid-amount', budget(10, { limit: { amount: Number.NaN, unit: 'USD' } })],
    ['invalid-amount', budget(Number.NaN)],
    ['not-started', budget(10, { periodStart: '2027-01-01T00:00:00.000Z' })],
    ['ended', budget(10, { periodEnd: '2026-10-01T00:00:00.000Z' })],
  ])('reports a %s problem and crosses nothing', (kind, snapshot) => {
    // Act
    const e = evaluateBudget('ml-platform', snapshot, thresholds, NOW);
    // Assess
    expect(e.problems.map((p) => p.kind)).toEqual([kind]);
    expect(e.problems[0]!.message).toContain('ml-platform');
    expect(e.crossed).toEqual([]);
    expect(e.percentUsed).toBeUndefined();
  });

  it('never yields a non-finite percentage, whatever the amounts', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        (limit, actual) => {
          const e = evaluateBudget('b', budget(actual, { limit: { amount: limit, unit: 'USD' } }), thresholds, NOW);
          if (e.problems.length > 0) return e.crossed.length === 0 && e.percentUsed === undefined;
          if (limit < 0.005) return false;
          return Number.isFinite(e.percentUsed) && e.crossed.every((t) => e.percentUsed! + 1e-6 >= t.percent);
        },
      ),
    );
  });
});

describe('Function: formatPercentValue and usd', () => {
  it('formats for people', () => {
    expect(formatPercentValue(95)).toBe('95.0%');
    expect(formatPercentValue(80.04999)).toBe('80.0%');
    expect(formatUsd(1234.5)).toBe('$1,234.50');
  });
});

describe('Function: limitMismatch', () => {
  it('finds no mismatch when no limit is configured (the budget is only watched)', () => {
    expect(limitMismatch(undefined, { amount: 5, unit: 'USD' })).toBeUndefined();
    expect(limitMismatch(undefined, undefined)).toBeUndefined();
  });

  it.each([
    [1000, 1000],
    [1000, 1000.004],
    [1234.56, 1234.559],
    [0.1 + 0.2, 0.3],
  ])('agrees when the amounts are the same in cents: %s vs %s', (configured, live) => {
    expect(limitMismatch(configured, { amount: live, unit: 'USD' })).toBeUndefined();
  });

  it.each([
    [1000, 1000.01],
    [1000, 999.99],
    [1000, 1500],
    [1000, 0],
  ])('is a mismatch when the amounts differ by a cent or more: %s vs %s', (configured, live) => {
    expect(limitMismatch(configured, { amount: live, unit: 'USD' })).toEqual({
      reason: 'amount',
      configuredUsd: configured,
      live: { amount: live, unit: 'USD' },
    });
  });

  it('is a mismatch for another unit, a missing limit and an unreadable amount, whatever the amount', () => {
    expect(limitMismatch(1000, { amount: 1000, unit: 'EUR' })?.reason).toBe('unit');
    expect(limitMismatch(1000, { amount: 1000, unit: 'usd' })?.reason).toBe('unit');
    expect(limitMismatch(1000, { amount: 1000, unit: 'GB' })?.reason).toBe('unit');
    expect(limitMismatch(1000, undefined)).toEqual({ reason: 'no-limit', configuredUsd: 1000 });
    expect(limitMismatch(1000, { amount: Number.NaN, unit: 'USD' })?.reason).toBe('unreadable');
  });

  it('agrees exactly when the cents agree (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (a, b) => {
        const mismatch = limitMismatch(a / 100, { amount: b / 100, unit: 'USD' });
        return (mismatch === undefined) === (a === b) && toCents(a / 100) === a;
      }),
    );
  });
});
