/**
 * The savings calculators of the seed chapter (4.2, Infrastructure Cost Optimization), done correctly.
 *
 * Pure functions over plain numbers: no clock, no network, no SDK. Results carry raw (unrounded) numbers; round only
 * to present them ({@link round2}). Each calculator's TSDoc says where the seed's version goes wrong. Inputs are
 * validated: a value out of range throws {@link SavingsInputError} naming the parameter and the
 * allowed range.
 */
import { CostGuardError } from '../errors';
import { type LifecycleRuleSpec, MIN_STORAGE_DAYS, type StorageClass } from '../lifecycle/rules';
import { createPricing, type PriceSource, type Pricing } from './pricing';

// ---------------------------------------------------------------------------------------------------------------
// Validation and rounding
// ---------------------------------------------------------------------------------------------------------------

/** An allowed range of a numeric input, with the words used in error messages. */
export interface NumberRange {
  readonly text: string;
  readonly test: (value: number) => boolean;
}

/** The ranges the calculators accept; the CLI checks its flags against the same ones. */
export const RANGES = {
  /** Utilization: more than 0 (a dividend) and at most 1. */
  utilization: { text: 'a number in (0, 1]', test: (v) => v > 0 && v <= 1 },
  /** Shares, discounts and fractions. */
  fraction: { text: 'a number in [0, 1]', test: (v) => v >= 0 && v <= 1 },
  nonNegative: { text: 'a number >= 0', test: (v) => v >= 0 },
  positive: { text: 'a number > 0', test: (v) => v > 0 },
  /** Hours in a billing month: at most 31 x 24. */
  hoursPerMonth: { text: 'a number in (0, 744]', test: (v) => v > 0 && v <= 744 },
  wholeMonths: { text: 'a whole number >= 1', test: (v) => Number.isInteger(v) && v >= 1 },
  daysPerYear: { text: 'a number in [360, 366]', test: (v) => v >= 360 && v <= 366 },
} as const satisfies Record<string, NumberRange>;

/** An input out of its allowed range. `parameter` names the input (camelCase, as in the calculator's input type). */
export class SavingsInputError extends CostGuardError {
  constructor(
    readonly parameter: string,
    readonly allowed: string,
    readonly value: unknown,
  ) {
    super(`${parameter} must be ${allowed}; got ${String(value)}`);
    this.name = 'SavingsInputError';
  }
}

/** No price is known for an instance type: the model never guesses one. */
export class UnknownPriceError extends CostGuardError {
  constructor(readonly instanceType: string) {
    super(`no on-demand price is known for instance type '${instanceType}'; give an hourly price instead`);
    this.name = 'UnknownPriceError';
  }
}

function check(parameter: string, value: number, range: NumberRange): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !range.test(value)) {
    throw new SavingsInputError(parameter, range.text, value);
  }
  return value;
}

/**
 * Rounds to cents for display, half away from zero, without the binary-float surprise of `Math.round(x * 100)`
 * (`round2(1.005)` is 1.01). Calculators never call it: results keep raw numbers.
 */
export function round2(value: number): number {
  if (!Number.isFinite(value)) return value;
  const [mantissa, exponent = '0'] = Math.abs(value).toPrecision(15).split('e');
  const cents = Math.round(Number(`${mantissa}e${Number(exponent) + 2}`));
  const rounded = cents / 100;
  return value < 0 ? -rounded : rounded;
}

const rate = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);

// ---------------------------------------------------------------------------------------------------------------
// GPU: right-sizing, then spot
// ---------------------------------------------------------------------------------------------------------------

export interface GpuSavingsInput {
  /** Monthly GPU spend, $. */
  readonly monthlySpend: number;
  /** Current average GPU utilization, in (0, 1]. */
  readonly currentUtilization: number;
  /** Utilization reached after right-sizing and consolidation, in (0, 1]. */
  readonly targetUtilization: number;
  /** Share of the (right-sized) spend that can run on spot, in [0, 1]. @default 0.6 */
  readonly spotEligibleShare?: number;
  /** Spot discount off on-demand, in [0, 1]. @default 0.7 */
  readonly spotDiscount?: number;
}

export interface GpuSavingsResult {
  readonly monthlySpend: number;
  readonly currentUtilization: number;
  readonly targetUtilization: number;
  readonly spotEligibleShare: number;
  readonly spotDiscount: number;
  /** Savings from doing the same work on fewer GPU hours: spend x (1 - current / target). */
  readonly utilizationSavings: number;
  /** What is left to spend after right-sizing. */
  readonly spendAfterRightSizing: number;
  /** The spot-eligible part of what is left. */
  readonly spotEligibleSpend: number;
  readonly spotSavings: number;
  readonly totalMonthlySavings: number;
  readonly monthlySpendAfter: number;
  readonly annualSavings: number;
  /** Savings over spend, as a fraction (0.7514 for the seed's example). */
  readonly savingsRate: number;
  /** The same, in percent (75.14...). */
  readonly savingsRatePercent: number;
}

/**
 * GPU savings from right-sizing to a target utilization, then moving the spot-eligible share of what remains to spot.
 *
 * Where the seed goes wrong: `calculate_gpu_savings` applies both levers to the full spend and adds them, counting
 * the spot discount on GPU hours that right-sizing has already removed. For its own example ($200,000/month,
 * 30% -> 70%) that gives $114,286 + $84,000 = $198,286 a month (99%), while its printed output says $2,057,143 a year
 * and 86%, which its code does not produce. With lower utilization the sum exceeds the spend (10% -> 70% "saves"
 * $255,429 of $200,000), and a target below the current utilization gives negative savings.
 *
 * Here: right-sizing saves spend x (1 - current / target) (zero when current >= target); spot then saves
 * remaining x spotEligibleShare x spotDiscount. For the seed's example: $114,285.71 + $36,000 = $150,285.71 a month,
 * $1,803,428.57 a year, 75.1%. Savings always lie in [0, spend] and never decrease as the utilization gap grows.
 */
export function gpuSavings(input: GpuSavingsInput): GpuSavingsResult {
  const monthlySpend = check('monthlySpend', input.monthlySpend, RANGES.nonNegative);
  const currentUtilization = check('currentUtilization', input.currentUtilization, RANGES.utilization);
  const targetUtilization = check('targetUtilization', input.targetUtilization, RANGES.utilization);
  const spotEligibleShare = check('spotEligibleShare', input.spotEligibleShare ?? 0.6, RANGES.fraction);
  const spotDiscount = check('spotDiscount', input.spotDiscount ?? 0.7, RANGES.fraction);

  const keptShare = Math.min(1, currentUtilization / targetUtilization);
  const spendAfterRightSizing = monthlySpend * keptShare;
  const utilizationSavings = monthlySpend - spendAfterRightSizing;
  const spotEligibleSpend = spendAfterRightSizing * spotEligibleShare;
  const spotSavings = spotEligibleSpend * spotDiscount;
  const totalMonthlySavings = utilizationSavings + spotSavings;
  const savingsRate = rate(totalMonthlySavings, monthlySpend);
  return {
    monthlySpend,
    currentUtilization,
    targetUtilization,
    spotEligibleShare,
    spotDiscount,
    utilizationSavings,
    spendAfterRightSizing,
    spotEligibleSpend,
    spotSavings,
    totalMonthlySavings,
    monthlySpendAfter: monthlySpend - totalMonthlySavings,
    annualSavings: totalMonthlySavings * 12,
    savingsRate,
    savingsRatePercent: savingsRate * 100,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------------------------------

/** Network strategies, in the order they are applied. */
export const NETWORK_STRATEGIES = ['data_locality', 'compression', 'caching'] as const;
export type NetworkStrategy = (typeof NETWORK_STRATEGIES)[number];

/** Share of the remaining bytes each strategy removes (the seed's assumptions). */
export const NETWORK_STRATEGY_REDUCTION: Readonly<Record<NetworkStrategy, number>> = {
  /** Train where the data lives: 30% of the transfers disappear. */
  data_locality: 0.3,
  /** A 2:1 compression ratio halves what is still sent. */
  compression: 0.5,
  /** 40% of what is still sent is served from a cache at the compute layer. */
  caching: 0.4,
};

export interface NetworkSavingsInput {
  readonly monthlyEgressGb: number;
  /** $/GB of the transfers (the catalog's internet egress is 0.09). */
  readonly costPerGb: number;
  readonly strategies: readonly NetworkStrategy[];
}

export interface NetworkStrategyDetail {
  readonly strategy: NetworkStrategy;
  /** Share of the bytes still sent that this strategy removes. */
  readonly reduction: number;
  readonly gbBefore: number;
  readonly gbRemoved: number;
  readonly gbAfter: number;
  readonly monthlySavings: number;
}

export interface NetworkSavingsResult {
  readonly monthlyEgressGb: number;
  readonly costPerGb: number;
  /** Strategies applied, de-duplicated, in application order. */
  readonly strategies: readonly NetworkStrategy[];
  readonly monthlyCost: number;
  readonly details: readonly NetworkStrategyDetail[];
  readonly remainingGb: number;
  readonly monthlyCostAfter: number;
  readonly monthlySavings: number;
  readonly annualSavings: number;
  readonly savingsRate: number;
  readonly savingsRatePercent: number;
}

/**
 * Network egress savings of data locality, compression and caching.
 *
 * Where the seed goes wrong: `calculate_network_savings` takes each strategy's share of the full volume and adds
 * them (30% + 50% + 40% = 120%, capped at 100%: all three together would make egress free), so a strategy is
 * credited with bytes another one already removed. Its example (10 TB at $0.10, locality + compression) claims
 * $800/month, $9,600/year; its per-strategy details are not capped at all.
 *
 * Here the strategies compose on the bytes that remain: locality removes 30%, compression halves what is left,
 * caching removes 40% of the rest. The seed's example saves $300 + $350 = $650/month, $7,800/year. Savings are
 * always between 0 and the cost; unknown strategy names throw, duplicates count once.
 */
export function networkSavings(input: NetworkSavingsInput): NetworkSavingsResult {
  const monthlyEgressGb = check('monthlyEgressGb', input.monthlyEgressGb, RANGES.nonNegative);
  const costPerGb = check('costPerGb', input.costPerGb, RANGES.nonNegative);
  if (!Array.isArray(input.strategies)) {
    throw new SavingsInputError('strategies', `a list of ${NETWORK_STRATEGIES.join(', ')}`, input.strategies);
  }
  for (const s of input.strategies) {
    if (!(NETWORK_STRATEGIES as readonly string[]).includes(s)) {
      throw new SavingsInputError('strategies', `a list of ${NETWORK_STRATEGIES.join(', ')}`, s);
    }
  }
  const strategies = NETWORK_STRATEGIES.filter((s) => input.strategies.includes(s));
  const monthlyCost = monthlyEgressGb * costPerGb;
  let gb = monthlyEgressGb;
  const details = strategies.map((strategy): NetworkStrategyDetail => {
    const reduction = NETWORK_STRATEGY_REDUCTION[strategy];
    const gbRemoved = gb * reduction;
    const detail = {
      strategy,
      reduction,
      gbBefore: gb,
      gbRemoved,
      gbAfter: gb - gbRemoved,
      monthlySavings: gbRemoved * costPerGb,
    };
    gb -= gbRemoved;
    return detail;
  });
  const monthlyCostAfter = gb * costPerGb;
  const monthlySavings = monthlyCost - monthlyCostAfter;
  const savingsRate = rate(monthlySavings, monthlyCost);
  return {
    monthlyEgressGb,
    costPerGb,
    strategies,
    monthlyCost,
    details,
    remainingGb: gb,
    monthlyCostAfter,
    monthlySavings,
    annualSavings: monthlySavings * 12,
    savingsRate,
    savingsRatePercent: savingsRate * 100,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reservations
// ---------------------------------------------------------------------------------------------------------------

export type ReservationRecommendation = 'RESERVE' | 'ON_DEMAND_OR_SPOT';

export interface ReservationInput {
  /** What the workload costs on demand in a month, $ (for the hours it actually runs). */
  readonly monthlyOnDemandCost: number;
  /** Hours it runs in a month, in (0, hoursPerMonth]. */
  readonly monthlyHoursUsed: number;
  /** Reservation (or Savings Plan) discount off on-demand, in [0, 1]. @default 0.4 */
  readonly reservationDiscount?: number;
  /** Hours in a month the reservation is billed for. @default 720 (the seed's 24 x 30) */
  readonly hoursPerMonth?: number;
  /** Commitment term. @default 12 */
  readonly termMonths?: number;
}

export interface ReservationResult {
  readonly monthlyOnDemandCost: number;
  readonly monthlyHoursUsed: number;
  readonly hoursPerMonth: number;
  readonly reservationDiscount: number;
  readonly termMonths: number;
  /** On-demand $/h derived from cost / hours used. */
  readonly hourlyOnDemandRate: number;
  readonly hourlyReservedRate: number;
  /** Hours used / hours in the month. */
  readonly utilization: number;
  /** Utilization above which reserving is cheaper: 1 - discount. */
  readonly breakEvenUtilization: number;
  /** A reservation bills every hour of the month: reserved rate x hoursPerMonth. */
  readonly monthlyReservedCost: number;
  /** On-demand minus reserved; negative when reserving costs more. */
  readonly monthlyDifference: number;
  readonly recommendation: ReservationRecommendation;
  /** Savings of the recommendation (0 unless RESERVE). */
  readonly monthlySavings: number;
  readonly annualSavings: number;
  /** Savings over the commitment term. */
  readonly termSavings: number;
}

/**
 * Whether to reserve capacity for a workload, from the hourly rate it really pays.
 *
 * Where the seed goes wrong: `should_reserve` discounts the monthly on-demand cost as if that cost covered every hour
 * of the month. A reservation is billed for every hour whether used or not, while on-demand bills only the hours
 * used. Its example ($10,000 for 500 of 720 hours, 40% off) says RESERVE and $48,000 a year; in fact the workload
 * pays $20/h, reserving costs $20 x 0.6 x 720 = $8,640 a month, and the saving is 12 x ($10,000 - $8,640) = $16,320 a
 * year. Its break-even (1 - discount) is right but its savings figure does not use it, and it hard-codes 24 x 30 hours.
 *
 * Here: hourly = cost / hours used; reserved = hourly x (1 - discount) x hoursPerMonth; RESERVE only when that is
 * strictly cheaper (at exactly the break-even there is nothing to gain for the lost flexibility).
 */
export function reservationBreakEven(input: ReservationInput): ReservationResult {
  const monthlyOnDemandCost = check('monthlyOnDemandCost', input.monthlyOnDemandCost, RANGES.nonNegative);
  const hoursPerMonth = check('hoursPerMonth', input.hoursPerMonth ?? 720, RANGES.hoursPerMonth);
  const monthlyHoursUsed = check('monthlyHoursUsed', input.monthlyHoursUsed, {
    text: `a number in (0, ${hoursPerMonth}] (no more than the hours in the month)`,
    test: (v) => v > 0 && v <= hoursPerMonth,
  });
  const reservationDiscount = check('reservationDiscount', input.reservationDiscount ?? 0.4, RANGES.fraction);
  const termMonths = check('termMonths', input.termMonths ?? 12, RANGES.wholeMonths);

  const hourlyOnDemandRate = monthlyOnDemandCost / monthlyHoursUsed;
  const hourlyReservedRate = hourlyOnDemandRate * (1 - reservationDiscount);
  const monthlyReservedCost = hourlyReservedRate * hoursPerMonth;
  const monthlyDifference = monthlyOnDemandCost - monthlyReservedCost;
  // A relative tolerance keeps float noise at exactly the break-even from tipping the recommendation.
  const reserve = monthlyDifference > 1e-9 * Math.max(1, monthlyOnDemandCost);
  const monthlySavings = reserve ? monthlyDifference : 0;
  return {
    monthlyOnDemandCost,
    monthlyHoursUsed,
    hoursPerMonth,
    reservationDiscount,
    termMonths,
    hourlyOnDemandRate,
    hourlyReservedRate,
    utilization: monthlyHoursUsed / hoursPerMonth,
    breakEvenUtilization: 1 - reservationDiscount,
    monthlyReservedCost,
    monthlyDifference,
    recommendation: reserve ? 'RESERVE' : 'ON_DEMAND_OR_SPOT',
    monthlySavings,
    annualSavings: monthlySavings * 12,
    termSavings: monthlySavings * termMonths,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Storage tiering
// ---------------------------------------------------------------------------------------------------------------

/** S3 bills storage in binary gigabytes (2^30 bytes). */
export const BYTES_PER_GB = 1024 ** 3;
/** Without an expiration, objects are followed until this many days after the last transition. */
export const DEFAULT_TIERING_HORIZON_DAYS = 365;

export interface StorageSegment {
  readonly storageClass: StorageClass;
  /** Object age (days since creation) when it enters and leaves the class. */
  readonly fromDay: number;
  readonly toDay: number;
  readonly days: number;
  /** Days billed: at least the class's minimum storage duration when the object leaves it (early deletion). */
  readonly billedDays: number;
  readonly gbMonthUsd: number;
}

export interface StorageTieringOptions {
  /** Days followed after the last transition when the rule has no expiration. @default 365 */
  readonly horizonDaysAfterLastTransition?: number;
}

export interface StorageTieringResult {
  readonly ruleId: string;
  /** Days an object is followed: the expiration, or the last transition + the horizon. */
  readonly lifetimeDays: number;
  /** `expiration` when the rule expires objects; `assumed` when the horizon was assumed (see `horizonNote`). */
  readonly horizon: 'expiration' | 'assumed';
  readonly horizonNote?: string;
  readonly segments: readonly StorageSegment[];
  /** Extra days billed because objects left a class before its minimum storage duration. */
  readonly earlyDeletionDays: number;
  readonly standardGbMonthUsd: number;
  /** Steady-state $/GB-month of data under the rule. */
  readonly blendedGbMonthUsd: number;
  readonly savingsRate: number;
  readonly savingsRatePercent: number;
}

/**
 * Steady-state blended $/GB-month of a lifecycle rule against keeping the same data in S3 Standard.
 *
 * With a steady stream of new objects, the data under a rule is spread evenly over object ages, so each storage
 * class holds a share of it proportional to the days an object spends there. The blended price weights each class's
 * $/GB-month by those days over the object's life (until expiration). When an object leaves a class (transition or
 * expiration) before the class's minimum storage duration, S3 bills the remaining days; they are added here. A rule
 * without an expiration is followed until the last transition + 365 days (`horizonDaysAfterLastTransition`), and the
 * result says so: the longer the horizon, the closer the blend gets to the coldest class.
 *
 * Where the seed goes wrong: it asserts "70-80% on storage costs with proper tiering" without computing anything, and
 * its `checkpoints/` rule (Standard-IA at 14 days) is rejected by S3 (Standard-IA needs 30 days). Its experiments rule
 * (Standard-IA at 30, Glacier IR at 90, Deep Archive at 365, expire at 730) actually blends to about $0.00397 per
 * GB-month against $0.023: 82.7% saved. Not modelled: transition requests (per object), retrieval fees, the 128 KB
 * minimum billable size of IA classes, and the saving from expiration itself (both sides hold the data equally long).
 */
export function storageTieringSavings(
  rule: LifecycleRuleSpec,
  pricing: Pricing = createPricing(),
  options: StorageTieringOptions = {},
): StorageTieringResult {
  const horizonAfter = check(
    'horizonDaysAfterLastTransition',
    options.horizonDaysAfterLastTransition ?? DEFAULT_TIERING_HORIZON_DAYS,
    RANGES.positive,
  );
  let previous = 0;
  rule.transitions.forEach((t, i) => {
    if (!Number.isFinite(t.days) || t.days < previous || (i > 0 && t.days === previous)) {
      throw new SavingsInputError(
        `rule '${rule.id}' transitions[${i}].days`,
        `a number of days after the previous transition (${previous})`,
        t.days,
      );
    }
    previous = t.days;
  });
  const lastTransitionDay = rule.transitions.at(-1)?.days ?? 0;
  const expires = rule.expirationDays !== undefined;
  if (expires && !(rule.expirationDays! > lastTransitionDay)) {
    throw new SavingsInputError(
      `rule '${rule.id}' expirationDays`,
      `a number of days after the last transition (${lastTransitionDay})`,
      rule.expirationDays,
    );
  }
  const lifetimeDays = expires ? rule.expirationDays! : lastTransitionDay + horizonAfter;

  const stops: { storageClass: StorageClass; fromDay: number }[] = [
    { storageClass: 'STANDARD', fromDay: 0 },
    ...rule.transitions.map((t) => ({ storageClass: t.storageClass as StorageClass, fromDay: t.days })),
  ];
  const segments: StorageSegment[] = [];
  stops.forEach((stop, i) => {
    const last = i === stops.length - 1;
    const toDay = last ? lifetimeDays : stops[i + 1]!.fromDay;
    const days = toDay - stop.fromDay;
    if (days <= 0) return;
    // The object leaves every class but the last; it leaves the last only when the rule expires it.
    const leaves = !last || expires;
    const billedDays = leaves ? Math.max(days, MIN_STORAGE_DAYS[stop.storageClass]) : days;
    segments.push({
      storageClass: stop.storageClass,
      fromDay: stop.fromDay,
      toDay,
      days,
      billedDays,
      gbMonthUsd: pricing.storageGbMonth(stop.storageClass),
    });
  });
  const cost = segments.reduce((sum, s) => sum + s.gbMonthUsd * s.billedDays, 0);
  const blendedGbMonthUsd = cost / lifetimeDays;
  const standardGbMonthUsd = pricing.storageGbMonth('STANDARD');
  const savingsRate = rate(standardGbMonthUsd - blendedGbMonthUsd, standardGbMonthUsd);
  return {
    ruleId: rule.id,
    lifetimeDays,
    horizon: expires ? 'expiration' : 'assumed',
    ...(expires
      ? {}
      : {
          horizonNote:
            `rule '${rule.id}' has no expiration: objects are followed for ${horizonAfter} days after the last ` +
            `transition (day ${lifetimeDays}); a longer life makes the blend cheaper`,
        }),
    segments,
    earlyDeletionDays: segments.reduce((sum, s) => sum + (s.billedDays - s.days), 0),
    standardGbMonthUsd,
    blendedGbMonthUsd,
    savingsRate,
    savingsRatePercent: savingsRate * 100,
  };
}

/** A bucket's size: its Standard gigabytes, or bytes by storage class (e.g. CloudWatch `BucketSizeBytes`). */
export type BucketSize =
  | { readonly standardGb: number }
  | { readonly bytesByClass: Readonly<Partial<Record<StorageClass, number>>> };

export interface BucketProjection {
  readonly ruleId: string;
  /** Standard GB the rule tiers. */
  readonly standardGb: number;
  /** Monthly cost of what is already in other classes (unchanged by the rule). */
  readonly otherClassesMonthlyUsd: number;
  readonly monthlyBeforeUsd: number;
  readonly monthlyAfterUsd: number;
  readonly monthlySavingsUsd: number;
  readonly annualSavingsUsd: number;
  readonly savingsRate: number;
  readonly tiering: StorageTieringResult;
}

/**
 * Monthly cost of a bucket before and after a lifecycle rule, assuming its Standard data settles into the rule's
 * steady state (the same volume, spread over the classes as {@link storageTieringSavings} describes). Data already in
 * colder classes is priced as it is, before and after. GB are binary (2^30 bytes), as S3 bills them.
 */
export function projectBucketSavings(
  size: BucketSize,
  rule: LifecycleRuleSpec,
  pricing: Pricing = createPricing(),
  options: StorageTieringOptions = {},
): BucketProjection {
  let standardGb: number;
  let otherClassesMonthlyUsd = 0;
  if ('standardGb' in size) {
    standardGb = check('standardGb', size.standardGb, RANGES.nonNegative);
  } else {
    standardGb = 0;
    for (const [storageClass, bytes] of Object.entries(size.bytesByClass) as [StorageClass, number][]) {
      const gb = check(`bytesByClass.${storageClass}`, bytes, RANGES.nonNegative) / BYTES_PER_GB;
      if (storageClass === 'STANDARD') standardGb += gb;
      else otherClassesMonthlyUsd += gb * pricing.storageGbMonth(storageClass);
    }
  }
  const tiering = storageTieringSavings(rule, pricing, options);
  const monthlyBeforeUsd = otherClassesMonthlyUsd + standardGb * tiering.standardGbMonthUsd;
  const monthlyAfterUsd = otherClassesMonthlyUsd + standardGb * tiering.blendedGbMonthUsd;
  const monthlySavingsUsd = monthlyBeforeUsd - monthlyAfterUsd;
  return {
    ruleId: rule.id,
    standardGb,
    otherClassesMonthlyUsd,
    monthlyBeforeUsd,
    monthlyAfterUsd,
    monthlySavingsUsd,
    annualSavingsUsd: monthlySavingsUsd * 12,
    savingsRate: rate(monthlySavingsUsd, monthlyBeforeUsd),
    tiering,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Idle cost, auto-scaling, ROI
// ---------------------------------------------------------------------------------------------------------------

export interface IdleCostInput {
  /** Instance type priced from `pricing` (ignored for the price when `hourlyUsd` is given). */
  readonly instanceType?: string;
  /** On-demand $/h; wins over the catalog price of `instanceType`. */
  readonly hourlyUsd?: number;
  /** Share of the month the instance sits idle, in [0, 1]. */
  readonly idleFraction: number;
  /** @default pricing.hoursPerMonth (730; the seed's table uses 720) */
  readonly hoursPerMonth?: number;
  /** Number of such instances. @default 1 */
  readonly instances?: number;
  /** Region to price `instanceType` in. @default the catalog's region (us-east-1) */
  readonly region?: string;
}

export interface IdleCostResult {
  readonly instanceType?: string;
  readonly hourlyUsd: number;
  readonly priceSource: PriceSource | 'input';
  /** The region of the price, when one was asked; with `priceFallback` the catalog had none there (us-east-1's). */
  readonly priceRegion?: string;
  readonly priceFallback?: true;
  readonly hoursPerMonth: number;
  readonly idleFraction: number;
  readonly instances: number;
  /** Running 24/7 for a month. */
  readonly monthlyCost: number;
  /** The idle part of it: money spent on nothing. */
  readonly monthlyIdleCost: number;
  readonly annualIdleCost: number;
}

/**
 * What idle GPU time costs.
 *
 * The seed's "Cost of Idle GPUs" table is consistent at 720 hours (g4dn.xlarge $0.526/h: $378.72 a month 24/7,
 * $189.36 of it wasted at 50% idle), but its p4d.24xlarge row uses $32.77/h, the price before the 2025 cut (today
 * $21.96/h: $16,030.80 a month at 730 h), and its "one idle p4d for a month = $12,000 wasted" is the 50%-idle figure:
 * a p4d idle for a whole month wasted $23,594 at its price. Here the price comes from the pricing catalog (or is
 * given) and an unknown type throws {@link UnknownPriceError} instead of being guessed.
 */
export function idleCost(input: IdleCostInput, pricing: Pricing = createPricing()): IdleCostResult {
  const idleFraction = check('idleFraction', input.idleFraction, RANGES.fraction);
  const hoursPerMonth = check('hoursPerMonth', input.hoursPerMonth ?? pricing.hoursPerMonth, RANGES.hoursPerMonth);
  const instances = check('instances', input.instances ?? 1, RANGES.nonNegative);
  let hourlyUsd: number;
  let priceSource: PriceSource | 'input';
  let priceWhere: { priceRegion?: string; priceFallback?: true } = {};
  if (input.hourlyUsd !== undefined) {
    hourlyUsd = check('hourlyUsd', input.hourlyUsd, RANGES.nonNegative);
    priceSource = 'input';
  } else if (input.instanceType !== undefined) {
    const quote = pricing.instanceHourly(input.instanceType, input.region);
    if (!quote) throw new UnknownPriceError(input.instanceType);
    hourlyUsd = quote.usd;
    priceSource = quote.source;
    priceWhere = {
      ...(quote.region ? { priceRegion: quote.region } : {}),
      ...(quote.fallback ? { priceFallback: true } : {}),
    };
  } else {
    throw new SavingsInputError('instanceType or hourlyUsd', 'given', 'neither');
  }
  const monthlyCost = hourlyUsd * hoursPerMonth * instances;
  const monthlyIdleCost = monthlyCost * idleFraction;
  return {
    ...(input.instanceType !== undefined ? { instanceType: input.instanceType } : {}),
    hourlyUsd,
    priceSource,
    ...priceWhere,
    hoursPerMonth,
    idleFraction,
    instances,
    monthlyCost,
    monthlyIdleCost,
    annualIdleCost: monthlyIdleCost * 12,
  };
}

export interface AutoscalingInput {
  /** Instances provisioned for peak (static fleet). */
  readonly provisionedInstances: number;
  /** Average instances running with auto-scaling. */
  readonly averageInstances: number;
  /** Monthly cost of the static fleet, $ (alternative to hourlyUsd). */
  readonly monthlyCost?: number;
  /** On-demand $/h of one instance (alternative to monthlyCost). */
  readonly hourlyUsd?: number;
  /** Used with hourlyUsd. @default 730 */
  readonly hoursPerMonth?: number;
}

export interface AutoscalingResult {
  readonly provisionedInstances: number;
  readonly averageInstances: number;
  /** 1 - average / provisioned; negative when the average exceeds the static fleet. */
  readonly savingsRate: number;
  readonly savingsRatePercent: number;
  readonly monthlyCostBefore?: number;
  readonly monthlyCostAfter?: number;
  readonly monthlySavings?: number;
  readonly annualSavings?: number;
}

/**
 * Savings of auto-scaling a fleet provisioned for peak: cost scales with the average instance count.
 *
 * The seed's example is consistent: 10 instances for peak, 4 on average, saves 1 - 4/10 = 60% ($7,500 -> $3,000).
 * Its $7,500 for 10 g5.xlarge is rounded: at $1.006/h that fleet costs $7,343.80 a month at 730 h ($7,243.20 at 720).
 * Scale-out lag and minimum capacity are in the average the caller gives; the model does not add them.
 */
export function autoscalingSavings(input: AutoscalingInput): AutoscalingResult {
  const provisionedInstances = check('provisionedInstances', input.provisionedInstances, RANGES.positive);
  const averageInstances = check('averageInstances', input.averageInstances, RANGES.nonNegative);
  const savingsRate = 1 - averageInstances / provisionedInstances;
  let monthlyCostBefore: number | undefined;
  if (input.monthlyCost !== undefined) {
    monthlyCostBefore = check('monthlyCost', input.monthlyCost, RANGES.nonNegative);
  } else if (input.hourlyUsd !== undefined) {
    const hourly = check('hourlyUsd', input.hourlyUsd, RANGES.nonNegative);
    const hours = check('hoursPerMonth', input.hoursPerMonth ?? 730, RANGES.hoursPerMonth);
    monthlyCostBefore = hourly * hours * provisionedInstances;
  }
  const base = { provisionedInstances, averageInstances, savingsRate, savingsRatePercent: savingsRate * 100 };
  if (monthlyCostBefore === undefined) return base;
  const monthlySavings = monthlyCostBefore * savingsRate;
  return {
    ...base,
    monthlyCostBefore,
    monthlyCostAfter: monthlyCostBefore - monthlySavings,
    monthlySavings,
    annualSavings: monthlySavings * 12,
  };
}

export interface RoiInput {
  /** One-off investment (engineering time, tooling), $. */
  readonly investment: number;
  /** Savings a year, $. */
  readonly annualSavings: number;
  /** Days in the year used to express the payback in days. @default 365 */
  readonly daysPerYear?: number;
}

export interface RoiResult {
  readonly investment: number;
  readonly annualSavings: number;
  /** First-year savings minus the investment. */
  readonly netGain: number;
  /** Net gain over cost, as a fraction: (savings - investment) / investment. */
  readonly roi: number;
  readonly roiPercent: number;
  /** Savings over cost (gross, the seed's way): savings / investment. */
  readonly grossReturn: number;
  readonly grossReturnPercent: number;
  readonly paybackDays: number;
  readonly paybackMonths: number;
}

/**
 * First-year return on a cost-optimization investment, and its payback period.
 *
 * Where the seed goes wrong: its case study invests $110K and reports "ROI: 3,454%", which is the gross return
 * $3.8M / $110K = 34.545 (gain over cost), not ROI. ROI is net gain over cost: ($3.8M - $110K) / $110K = 3,354.5%.
 * Its $3.8M is also rounded: its own monthly figures ($665K -> $350K) save $315K a month, $3.78M a year, for which
 * ROI is ($3.78M - $110K) / $110K = 3,336.4% (gross 3,436.4%). Payback: $110K / ($3.78M / 365) = 10.62 days
 * (10.48 on a 360-day year, the "about 10.5 days" of a 30-day-month reading); with $3.8M it is 10.57 days. The seed's
 * "10 days" rounds down.
 */
export function roi(input: RoiInput): RoiResult {
  const investment = check('investment', input.investment, RANGES.positive);
  const annualSavings = check('annualSavings', input.annualSavings, RANGES.positive);
  const daysPerYear = check('daysPerYear', input.daysPerYear ?? 365, RANGES.daysPerYear);
  const netGain = annualSavings - investment;
  const roiFraction = netGain / investment;
  const grossReturn = annualSavings / investment;
  return {
    investment,
    annualSavings,
    netGain,
    roi: roiFraction,
    roiPercent: roiFraction * 100,
    grossReturn,
    grossReturnPercent: grossReturn * 100,
    paybackDays: (investment / annualSavings) * daysPerYear,
    paybackMonths: (investment / annualSavings) * 12,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// What an action saves (used by the Lambdas)
// ---------------------------------------------------------------------------------------------------------------

export type SavingAction = 'stop' | 'terminate';

export interface ActionSavings {
  readonly action: SavingAction;
  readonly instanceType: string;
  /** Compute $/h no longer paid. */
  readonly hourlyUsd: number;
  /** The same over a month of `pricing.hoursPerMonth`. */
  readonly monthlyUsd: number;
  readonly source: PriceSource;
  /** The region of the price, when one was asked; with `fallback` the catalog had none there (us-east-1's). */
  readonly region?: string;
  readonly fallback?: true;
  /** What the figure leaves out. */
  readonly note: string;
}

export interface ActionSavingsOptions {
  /** The instance runs on spot: price it at the spot estimate. @default false */
  readonly spot?: boolean;
  /** The instance's region, to price it there. @default the catalog's region (us-east-1) */
  readonly region?: string;
}

const ACTION_NOTES: Readonly<Record<SavingAction, string>> = {
  stop: 'compute only: EBS volumes and Elastic IPs of a stopped instance keep billing',
  terminate: 'compute only: EBS volumes with DeleteOnTermination=false and snapshots keep billing',
};

/**
 * Compute dollars a month that stopping or terminating an instance saves, or undefined when its price is unknown
 * (the action is still reported, without a dollar figure, rather than with a guessed one).
 */
export function actionSavings(
  action: SavingAction,
  instanceType: string,
  pricing: Pricing,
  options: ActionSavingsOptions = {},
): ActionSavings | undefined {
  const quote = options.spot
    ? pricing.spotHourly(instanceType, options.region)
    : pricing.instanceHourly(instanceType, options.region);
  if (!quote) return undefined;
  return {
    action,
    instanceType,
    hourlyUsd: quote.usd,
    monthlyUsd: pricing.monthly(quote.usd),
    source: quote.source,
    ...(quote.region ? { region: quote.region } : {}),
    ...(quote.fallback ? { fallback: quote.fallback } : {}),
    note: ACTION_NOTES[action],
  };
}

/** Monthly compute savings of stopping an instance (EBS keeps billing); undefined when the price is unknown. */
export function monthlySavingsOfStop(
  instanceType: string,
  pricing: Pricing,
  options?: ActionSavingsOptions,
): ActionSavings | undefined {
  return actionSavings('stop', instanceType, pricing, options);
}

/** Monthly compute savings of terminating an instance; undefined when the price is unknown. */
export function monthlySavingsOfTerminate(
  instanceType: string,
  pricing: Pricing,
  options?: ActionSavingsOptions,
): ActionSavings | undefined {
  return actionSavings('terminate', instanceType, pricing, options);
}

export interface WasteSoFar {
  readonly idleHours: number;
  readonly usd: number;
}

/**
 * Money spent on an instance since it went idle: hourly x hours between `idleSinceIso` and `nowIso`. The clock is
 * an argument; an idle start after `now` counts as zero. Throws SavingsInputError for unparsable timestamps.
 */
export function wasteSoFar(hourlyUsd: number, idleSinceIso: string, nowIso: string): WasteSoFar {
  check('hourlyUsd', hourlyUsd, RANGES.nonNegative);
  const since = Date.parse(idleSinceIso);
  if (Number.isNaN(since)) throw new SavingsInputError('idleSinceIso', 'an ISO 8601 timestamp', idleSinceIso);
  const now = Date.parse(nowIso);
  if (Number.isNaN(now)) throw new SavingsInputError('nowIso', 'an ISO 8601 timestamp', nowIso);
  const idleHours = Math.max(0, (now - since) / 3_600_000);
  return { idleHours, usd: idleHours * hourlyUsd };
}
