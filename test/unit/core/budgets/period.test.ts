import { currentPeriod, daysUntil } from '../../../../lambda/core/budgets/period';

const period = (...args: Parameters<typeof currentPeriod>) => {
  const result = currentPeriod(...args);
  if (!('period' in result)) throw new Error(`expected a period, got ${result.problem}`);
  return result.period;
};

describe('Function: currentPeriod', () => {
  it('returns the calendar month holding now for a MONTHLY budget that started years ago', () => {
    // Prepare: AWS reports a recurring budget's first day and its default end (2087), not the running month.
    const now = new Date('2026-11-15T12:00:00Z');
    // Act
    const p = period('MONTHLY', now, '2018-01-01T00:00:00.000Z', '2087-06-15T00:00:00.000Z');
    // Assess
    expect(p).toEqual({
      key: '2026-11',
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      daysLeft: 16,
    });
  });

  it('starts a new period at midnight UTC on the first of the month', () => {
    // Act
    const lastMoment = period('MONTHLY', new Date('2026-11-30T23:59:59.999Z'));
    const firstMoment = period('MONTHLY', new Date('2026-12-01T00:00:00.000Z'));
    // Assess
    expect(lastMoment.key).toBe('2026-11');
    expect(lastMoment.daysLeft).toBe(1);
    expect(firstMoment.key).toBe('2026-12');
    expect(firstMoment.daysLeft).toBe(31);
  });

  it('rolls over the year in December', () => {
    const p = period('MONTHLY', new Date('2026-12-31T10:00:00Z'));
    expect(p.key).toBe('2026-12');
    expect(p.end).toBe('2027-01-01T00:00:00.000Z');
  });

  it('names quarters, years and days', () => {
    const now = new Date('2026-11-15T12:00:00Z');
    expect(period('QUARTERLY', now).key).toBe('2026-Q4');
    expect(period('QUARTERLY', now).start).toBe('2026-10-01T00:00:00.000Z');
    expect(period('ANNUALLY', now).key).toBe('2026');
    expect(period('DAILY', now).key).toBe('2026-11-15');
    expect(period('DAILY', now).daysLeft).toBe(1);
  });

  it('clips the period to a budget that ends mid-month', () => {
    const p = period('MONTHLY', new Date('2026-11-15T12:00:00Z'), '2026-01-01T00:00:00Z', '2026-11-20T00:00:00Z');
    expect(p.end).toBe('2026-11-20T00:00:00.000Z');
    expect(p.daysLeft).toBe(5);
  });

  it('uses the whole TimePeriod of a CUSTOM budget', () => {
    const p = period('CUSTOM', new Date('2026-11-15T12:00:00Z'), '2026-06-01T00:00:00Z', '2027-06-01T00:00:00Z');
    expect(p.key).toBe('custom-2026-06-01');
    expect(p.daysLeft).toBe(198);
  });

  it.each([
    ['not-started', 'MONTHLY', '2027-01-01T00:00:00Z', undefined],
    ['ended', 'MONTHLY', '2025-01-01T00:00:00Z', '2026-11-01T00:00:00Z'],
    ['unknown-time-unit', 'WEEKLY', undefined, undefined],
    ['unknown-time-unit', 'CUSTOM', undefined, undefined],
  ])('reports %s for unit %s', (problem, unit, start, end) => {
    expect(currentPeriod(unit, new Date('2026-11-15T12:00:00Z'), start, end)).toEqual({ problem });
  });
});

describe('Function: daysUntil', () => {
  it('rounds part days up and never goes below zero', () => {
    const now = new Date('2026-11-15T12:00:00Z');
    expect(daysUntil(now, new Date('2026-11-15T13:00:00Z'))).toBe(1);
    expect(daysUntil(now, new Date('2026-11-17T12:00:00Z'))).toBe(2);
    expect(daysUntil(now, new Date('2026-11-01T00:00:00Z'))).toBe(0);
  });
});
