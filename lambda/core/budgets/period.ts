/**
 * The current period of a budget. Pure: `now` is an argument.
 *
 * For a recurring budget AWS Budgets reports `TimePeriod.Start` as the budget's first day (e.g. 2018-01-01) and
 * `TimePeriod.End` as its last (06/15/87 by default), not the bounds of the running month. The current period is
 * therefore the calendar unit (day, month, quarter, year, in UTC) that holds `now`, clipped to the budget's own
 * `TimePeriod`; a CUSTOM budget's period is its `TimePeriod`. The key names the period, so a new month starts fresh.
 */

export type BudgetTimeUnit = 'DAILY' | 'MONTHLY' | 'QUARTERLY' | 'ANNUALLY' | 'CUSTOM';

export interface BudgetPeriod {
  /** Names the period in state records: '2026-11' (MONTHLY), '2026-Q4', '2026', '2026-11-15', 'custom-2026-01-01'. */
  readonly key: string;
  /** ISO start (inclusive). */
  readonly start: string;
  /** ISO end (exclusive). */
  readonly end: string;
  /** Whole or part days from `now` to the end, rounded up; 0 at or after the end. */
  readonly daysLeft: number;
}

export type PeriodProblem = 'not-started' | 'ended' | 'unknown-time-unit';

const DAY_MS = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');

function utc(year: number, month: number, day = 1): Date {
  return new Date(Date.UTC(year, month, day));
}

function calendarUnit(unit: Exclude<BudgetTimeUnit, 'CUSTOM'>, now: Date): { key: string; start: Date; end: Date } {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  switch (unit) {
    case 'DAILY': {
      const d = now.getUTCDate();
      return { key: `${y}-${pad(m + 1)}-${pad(d)}`, start: utc(y, m, d), end: utc(y, m, d + 1) };
    }
    case 'MONTHLY':
      return { key: `${y}-${pad(m + 1)}`, start: utc(y, m), end: utc(y, m + 1) };
    case 'QUARTERLY': {
      const q = Math.floor(m / 3);
      return { key: `${y}-Q${q + 1}`, start: utc(y, q * 3), end: utc(y, q * 3 + 3) };
    }
    case 'ANNUALLY':
      return { key: `${y}`, start: utc(y, 0), end: utc(y + 1, 0) };
  }
}

export function isBudgetTimeUnit(value: unknown): value is BudgetTimeUnit {
  return (
    value === 'DAILY' || value === 'MONTHLY' || value === 'QUARTERLY' || value === 'ANNUALLY' || value === 'CUSTOM'
  );
}

/** Days from `now` to `end`, rounded up (a period ending in 10 hours has 1 day left). */
export function daysUntil(now: Date, end: Date): number {
  return Math.max(0, Math.ceil((end.getTime() - now.getTime()) / DAY_MS));
}

/**
 * The period of a budget that holds `now`, or the reason there is none. `start`/`end` are the budget's
 * `TimePeriod` (ISO strings), when AWS gave them.
 */
export function currentPeriod(
  timeUnit: string | undefined,
  now: Date,
  budgetStart?: string,
  budgetEnd?: string,
): { period: BudgetPeriod } | { problem: PeriodProblem } {
  const start = budgetStart ? new Date(budgetStart) : undefined;
  const end = budgetEnd ? new Date(budgetEnd) : undefined;
  if (start && now < start) return { problem: 'not-started' };
  if (end && now >= end) return { problem: 'ended' };
  const unit = timeUnit ?? 'MONTHLY';
  if (!isBudgetTimeUnit(unit)) return { problem: 'unknown-time-unit' };
  if (unit === 'CUSTOM') {
    if (!start || !end) return { problem: 'unknown-time-unit' };
    return {
      period: {
        key: `custom-${start.toISOString().slice(0, 10)}`,
        start: start.toISOString(),
        end: end.toISOString(),
        daysLeft: daysUntil(now, end),
      },
    };
  }
  const cal = calendarUnit(unit, now);
  const periodStart = start && start > cal.start ? start : cal.start;
  const periodEnd = end && end < cal.end ? end : cal.end;
  return {
    period: {
      key: cal.key,
      start: periodStart.toISOString(),
      end: periodEnd.toISOString(),
      daysLeft: daysUntil(now, periodEnd),
    },
  };
}
