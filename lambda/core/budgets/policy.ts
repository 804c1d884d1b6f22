/**
 * The budget guard's threshold policy: from a budget's limit, actual and forecast spend, its time period and the
 * config, which thresholds are crossed, in which period, with how many days left, or what is wrong with the budget.
 * Pure: `now` and the budget's figures are arguments.
 */
import { round2 } from '../savings/calculators';
import { type BudgetPeriod, currentPeriod } from './period';

/** An amount of money (or usage) as AWS Budgets reports it; `amount` is NaN when AWS sent something unparsable. */
export interface Spend {
  readonly amount: number;
  readonly unit: string;
}

/** A budget as DescribeBudgets reports it, as plain data (see lambda/adapters/budgets.ts). */
export interface BudgetSnapshot {
  readonly name: string;
  readonly budgetType?: string;
  readonly timeUnit?: string;
  readonly limit?: Spend;
  /** Planned limits of a budget with per-period amounts, keyed by the period start (ISO). */
  readonly plannedLimits?: Readonly<Record<string, Spend>>;
  readonly actual?: Spend;
  readonly forecast?: Spend;
  /** The budget's TimePeriod (ISO). */
  readonly periodStart?: string;
  readonly periodEnd?: string;
}

export type ThresholdKind = 'alert' | 'action' | 'forecast';

/** A threshold the budget is at or over; `key` names it in state records (e.g. 'alert-80'). */
export interface CrossedThreshold {
  readonly kind: ThresholdKind;
  readonly percent: number;
  readonly key: string;
}

export type BudgetProblemKind =
  | 'missing'
  | 'no-limit'
  | 'currency'
  | 'zero-limit'
  | 'invalid-amount'
  | 'not-started'
  | 'ended'
  | 'unknown-time-unit';

export interface BudgetProblem {
  readonly kind: BudgetProblemKind;
  readonly message: string;
}

export interface ThresholdConfig {
  readonly alertPercent: number;
  readonly actionPercent: number;
}

export interface BudgetEvaluation {
  readonly name: string;
  /** Empty when the budget can be judged. */
  readonly problems: readonly BudgetProblem[];
  readonly period?: BudgetPeriod;
  readonly limitUsd?: number;
  readonly actualUsd?: number;
  readonly forecastUsd?: number;
  /** Actual spend as a percentage of the limit (unrounded). */
  readonly percentUsed?: number;
  readonly forecastPercent?: number;
  /** Thresholds at or over which the budget is, lowest first. */
  readonly crossed: readonly CrossedThreshold[];
}

/** The forecast warning fires when the forecast is over this percentage of the limit. */
export const FORECAST_PERCENT = 100;

/** Percent comparisons tolerate floating-point noise far below a cent (80.00000000000001 vs 80). */
const EPSILON = 1e-9;

export const thresholdKey = (kind: ThresholdKind, percent: number): string => `${kind}-${percent}`;

/** True when `percent` is at or over `threshold` (exactly at the threshold counts as crossed). */
export function atOrOver(percent: number, threshold: number): boolean {
  return percent + EPSILON >= threshold;
}

function limitFor(snapshot: BudgetSnapshot, period: BudgetPeriod): Spend | undefined {
  const planned = snapshot.plannedLimits?.[period.start];
  return planned ?? snapshot.limit;
}

/**
 * Judges one watched budget. `snapshot` is undefined when DescribeBudgets did not return a budget of that name.
 * Problems (missing budget, no limit, non-USD unit, a limit of 0, an unparsable amount, a period that has not
 * started or has ended) are reported and nothing is crossed; the percentage is never computed from a zero limit.
 */
export function evaluateBudget(
  name: string,
  snapshot: BudgetSnapshot | undefined,
  config: ThresholdConfig,
  now: Date,
): BudgetEvaluation {
  const fail = (kind: BudgetProblemKind, message: string, period?: BudgetPeriod): BudgetEvaluation => ({
    name,
    problems: [{ kind, message }],
    ...(period ? { period } : {}),
    crossed: [],
  });
  if (!snapshot) return fail('missing', `budget '${name}' was not found in this account (DescribeBudgets)`);

  const found = currentPeriod(snapshot.timeUnit, now, snapshot.periodStart, snapshot.periodEnd);
  if ('problem' in found) {
    const what = {
      'not-started': `budget '${name}' starts ${snapshot.periodStart ?? 'later'}; nothing to check yet`,
      ended: `budget '${name}' ended ${snapshot.periodEnd ?? ''}`.trim(),
      'unknown-time-unit': `budget '${name}' has time unit '${snapshot.timeUnit ?? 'none'}', which the guard cannot place in a period`,
    }[found.problem];
    return fail(found.problem, what);
  }
  const { period } = found;

  const limit = limitFor(snapshot, period);
  if (!limit) return fail('no-limit', `budget '${name}' has no limit (BudgetLimit)`, period);
  if (limit.unit !== 'USD') {
    return fail(
      'currency',
      `budget '${name}' is in '${limit.unit}', not USD; the guard only judges USD cost budgets`,
      period,
    );
  }
  if (!Number.isFinite(limit.amount) || limit.amount < 0) {
    return fail('invalid-amount', `budget '${name}' has an unreadable limit amount`, period);
  }
  if (round2(limit.amount) === 0) {
    // A limit under half a cent is $0 to a person, and dividing by it gives no meaningful percentage.
    return fail('zero-limit', `budget '${name}' has a limit of $0: no percentage can be computed`, period);
  }
  const actual = snapshot.actual ?? { amount: 0, unit: 'USD' };
  if (actual.unit !== 'USD' || (snapshot.forecast && snapshot.forecast.unit !== 'USD')) {
    return fail('currency', `budget '${name}' reports spend in '${actual.unit}', not USD`, period);
  }
  if (!Number.isFinite(actual.amount) || (snapshot.forecast && !Number.isFinite(snapshot.forecast.amount))) {
    return fail('invalid-amount', `budget '${name}' reports an unreadable spend amount`, period);
  }

  const percentUsed = (actual.amount / limit.amount) * 100;
  const forecastPercent = snapshot.forecast ? (snapshot.forecast.amount / limit.amount) * 100 : undefined;
  if (!Number.isFinite(percentUsed) || (forecastPercent !== undefined && !Number.isFinite(forecastPercent))) {
    return fail('invalid-amount', `budget '${name}' has amounts too far apart to compare`, period);
  }
  const crossed: CrossedThreshold[] = [];
  if (atOrOver(percentUsed, config.alertPercent)) {
    crossed.push({ kind: 'alert', percent: config.alertPercent, key: thresholdKey('alert', config.alertPercent) });
  }
  if (atOrOver(percentUsed, config.actionPercent)) {
    crossed.push({ kind: 'action', percent: config.actionPercent, key: thresholdKey('action', config.actionPercent) });
  }
  if (forecastPercent !== undefined && forecastPercent > FORECAST_PERCENT + EPSILON) {
    crossed.push({ kind: 'forecast', percent: FORECAST_PERCENT, key: thresholdKey('forecast', FORECAST_PERCENT) });
  }
  return {
    name,
    problems: [],
    period,
    limitUsd: limit.amount,
    actualUsd: actual.amount,
    ...(snapshot.forecast ? { forecastUsd: snapshot.forecast.amount } : {}),
    percentUsed,
    ...(forecastPercent !== undefined ? { forecastPercent } : {}),
    crossed,
  };
}

/**
 * Why the live budget's limit is not the one configured (`budgets.items[].limitUsd`): someone edited the budget in
 * the console, replaced it, or it holds a limit the guard cannot read. While they differ the guard alerts and stops
 * nothing for the budget: it acts only on the budget the user configured.
 */
export type LimitMismatchReason = 'amount' | 'unit' | 'no-limit' | 'unreadable';

export interface LimitMismatch {
  readonly reason: LimitMismatchReason;
  readonly configuredUsd: number;
  /** The live BudgetLimit; undefined when the budget has none. */
  readonly live?: Spend;
}

/** Whole cents, so that $1000, "1000.0" and "1000.001" compare equal and $1000 and $1000.01 do not. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}

/**
 * Compares the configured limit with the live BudgetLimit, in cents and units (USD only: any other unit is a
 * mismatch). Undefined when no limit is configured (the budget is only watched) or when the two agree.
 */
export function limitMismatch(configuredUsd: number | undefined, live: Spend | undefined): LimitMismatch | undefined {
  if (configuredUsd === undefined) return undefined;
  const base = { configuredUsd, ...(live ? { live } : {}) };
  if (!live) return { ...base, reason: 'no-limit' };
  if (live.unit !== 'USD') return { ...base, reason: 'unit' };
  if (!Number.isFinite(live.amount)) return { ...base, reason: 'unreadable' };
  return toCents(live.amount) === toCents(configuredUsd) ? undefined : { ...base, reason: 'amount' };
}
