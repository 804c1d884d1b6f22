/**
 * The pricing catalog of the savings model: what an instance hour, a GB-month of S3 storage and a GB of egress cost.
 *
 * Pure: no SDK imports and no network. Live prices (the AWS Price List API) are fetched by an adapter and handed in
 * with {@link Pricing.withLivePrices}; the embedded catalog is the fallback and is dated so a reader can tell how old
 * a figure is. An instance type the catalog does not know has no price: callers get `undefined`, never a guess.
 */
import type { StorageClass } from '../lifecycle/rules';

/** Where an hourly price came from: the user's config, the embedded catalog, or the Price List API. */
export type PriceSource = 'override' | 'catalog' | 'live';

/** An hourly price and where it came from. */
export interface PriceQuote {
  readonly usd: number;
  readonly source: PriceSource;
}

/** A dated price table. */
export interface PriceCatalog {
  /** Month the figures were read (YYYY-MM). */
  readonly asOf: string;
  /** Where the figures come from. */
  readonly source: string;
  readonly region: string;
  /** On-demand $/hour by instance type. */
  readonly instanceHourlyUsd: Readonly<Record<string, number>>;
  /** $/GB-month by S3 storage class. */
  readonly storageGbMonthUsd: Readonly<Record<StorageClass, number>>;
  readonly storageSource: string;
  /** Data transfer out to the internet, $/GB (first 10 TB tier). */
  readonly egressPerGbUsd: number;
  /** Data transfer between AWS regions, $/GB. */
  readonly crossRegionPerGbUsd: number;
}

/**
 * S3 us-east-1 $/GB-month. INTELLIGENT_TIERING is priced as its Frequent Access tier (the same as STANDARD): what
 * an object costs there depends on its access pattern, which the model does not know, so it assumes the worst case
 * and leaves out the monitoring fee ($0.0025 per 1,000 objects a month). Requests and retrieval fees are not modelled.
 */
const S3_US_EAST_1: Readonly<Record<StorageClass, number>> = {
  STANDARD: 0.023,
  STANDARD_IA: 0.0125,
  ONEZONE_IA: 0.01,
  GLACIER_IR: 0.004,
  GLACIER: 0.0036,
  DEEP_ARCHIVE: 0.00099,
  INTELLIGENT_TIERING: 0.023,
};

/** The embedded catalog: us-east-1 on-demand Linux prices, as of 2026-01 (after the June 2025 P4/P5 price cut). */
export const PRICE_CATALOG: PriceCatalog = Object.freeze({
  asOf: '2026-01',
  source: 'AWS EC2 on-demand pricing, us-east-1, Linux',
  region: 'us-east-1',
  instanceHourlyUsd: Object.freeze({
    'g4dn.xlarge': 0.526,
    'g4dn.2xlarge': 0.752,
    'g5.xlarge': 1.006,
    'g5.2xlarge': 1.212,
    'g6.xlarge': 0.8048,
    'g6e.xlarge': 1.861,
    'p3.2xlarge': 3.06,
    'p3.8xlarge': 12.24,
    'p4d.24xlarge': 21.96,
    'p4de.24xlarge': 27.45,
    'p5.48xlarge': 55.04,
  }),
  storageGbMonthUsd: Object.freeze({ ...S3_US_EAST_1 }),
  storageSource: 'Amazon S3 pricing, us-east-1, first 50 TB tier (INTELLIGENT_TIERING = Frequent Access tier)',
  egressPerGbUsd: 0.09,
  crossRegionPerGbUsd: 0.02,
});

/**
 * The seed chapter's own price table (chapter 4.2, "The Cost of Idle GPUs" and "Spot Savings by Instance Type"),
 * kept apart so its tables can be reproduced. Its p4d.24xlarge figure ($32.77/h) predates the 2025 price cut; use
 * {@link PRICE_CATALOG} for current estimates. The seed's monthly figures use 720 hours and a 70% spot discount.
 */
export const SEED_PRICES: PriceCatalog & {
  readonly hoursPerMonth: number;
  readonly spotDiscount: number;
  readonly spotHourlyUsd: Readonly<Record<string, number>>;
} = Object.freeze({
  asOf: 'before 2025-06',
  source: 'seed chapter 4.2 (Infrastructure Cost Optimization), on-demand us-east-1, before the 2025 price cut',
  region: 'us-east-1',
  instanceHourlyUsd: Object.freeze({
    'g4dn.xlarge': 0.526,
    'g5.2xlarge': 1.212,
    'p3.2xlarge': 3.06,
    'p4d.24xlarge': 32.77,
  }),
  /** The seed's spot column, as printed (on-demand x 0.3, rounded to the cent). */
  spotHourlyUsd: Object.freeze({
    'g4dn.xlarge': 0.158,
    'g5.2xlarge': 0.364,
    'p3.2xlarge': 0.918,
    'p4d.24xlarge': 9.83,
  }),
  storageGbMonthUsd: Object.freeze({ ...S3_US_EAST_1 }),
  storageSource: 'seed chapter 4.2, "Storage Tiering Strategy" table',
  egressPerGbUsd: 0.09,
  crossRegionPerGbUsd: 0.02,
  hoursPerMonth: 720,
  spotDiscount: 0.7,
});

/** Hours in a billing month by AWS convention (365 x 24 / 12). */
export const DEFAULT_HOURS_PER_MONTH = 730;
/** Spot discount off on-demand the model assumes unless told otherwise. */
export const DEFAULT_SPOT_DISCOUNT = 0.7;

/** Prices as the savings model sees them: the catalog with the user's overrides and, optionally, live prices. */
export interface Pricing {
  /** Hours in a billing month used by {@link Pricing.monthly}. */
  readonly hoursPerMonth: number;
  /** Spot discount off on-demand, as a fraction. */
  readonly spotDiscount: number;
  /** Internet egress $/GB. */
  readonly egressPerGbUsd: number;
  /** Date and source of the catalog underneath. */
  readonly asOf: string;
  readonly source: string;
  /** On-demand $/h of an instance type: override, then live, then catalog; undefined when none knows it. */
  instanceHourly(instanceType: string): PriceQuote | undefined;
  /** Spot $/h estimated as on-demand x (1 - spotDiscount); undefined when the on-demand price is unknown. */
  spotHourly(instanceType: string): PriceQuote | undefined;
  /** A month of an hourly rate: hourly x hoursPerMonth. */
  monthly(hourlyUsd: number): number;
  /** $/GB-month of an S3 storage class (override, else catalog). */
  storageGbMonth(storageClass: StorageClass): number;
  /** Instance types with a known price. */
  knownInstanceTypes(): string[];
  /**
   * A copy of this pricing that also knows live on-demand prices (e.g. from the Price List API). Overrides from the
   * config still win; live prices win over the catalog. Non-positive or non-finite figures are ignored.
   */
  withLivePrices(livePrices: Readonly<Record<string, number>>): Pricing;
}

const validHourly = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

class CatalogPricing implements Pricing {
  readonly asOf: string;
  readonly source: string;

  constructor(
    private readonly catalog: PriceCatalog,
    readonly hoursPerMonth: number,
    readonly spotDiscount: number,
    readonly egressPerGbUsd: number,
    private readonly overrides: Readonly<Record<string, number>>,
    private readonly storageOverrides: Readonly<Partial<Record<StorageClass, number>>>,
    private readonly live: Readonly<Record<string, number>>,
  ) {
    this.asOf = catalog.asOf;
    this.source = catalog.source;
  }

  instanceHourly(instanceType: string): PriceQuote | undefined {
    const override = own(this.overrides, instanceType);
    if (validHourly(override)) return { usd: override, source: 'override' };
    const live = own(this.live, instanceType);
    if (validHourly(live)) return { usd: live, source: 'live' };
    const catalog = own(this.catalog.instanceHourlyUsd, instanceType);
    if (validHourly(catalog)) return { usd: catalog, source: 'catalog' };
    return undefined;
  }

  spotHourly(instanceType: string): PriceQuote | undefined {
    const onDemand = this.instanceHourly(instanceType);
    return onDemand && { usd: onDemand.usd * (1 - this.spotDiscount), source: onDemand.source };
  }

  monthly(hourlyUsd: number): number {
    return hourlyUsd * this.hoursPerMonth;
  }

  storageGbMonth(storageClass: StorageClass): number {
    const override = own(this.storageOverrides, storageClass);
    if (typeof override === 'number' && Number.isFinite(override) && override >= 0) return override;
    const price = own(this.catalog.storageGbMonthUsd, storageClass);
    if (price === undefined) throw new RangeError(`unknown S3 storage class '${storageClass}'`);
    return price;
  }

  knownInstanceTypes(): string[] {
    const types = new Set([
      ...Object.keys(this.catalog.instanceHourlyUsd),
      ...Object.keys(this.live).filter((t) => validHourly(this.live[t])),
      ...Object.keys(this.overrides).filter((t) => validHourly(this.overrides[t])),
    ]);
    return [...types].sort();
  }

  withLivePrices(livePrices: Readonly<Record<string, number>>): Pricing {
    const live: Record<string, number> = { ...this.live };
    for (const [type, usd] of Object.entries(livePrices)) if (validHourly(usd)) live[type] = usd;
    return new CatalogPricing(
      this.catalog,
      this.hoursPerMonth,
      this.spotDiscount,
      this.egressPerGbUsd,
      this.overrides,
      this.storageOverrides,
      Object.freeze(live),
    );
  }
}

/** Own-property lookup, so a type named `constructor` or `__proto__` never resolves to Object.prototype. */
function own<T>(record: Readonly<Partial<Record<string, T>>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Builds the pricing the savings model uses: `catalog` (default {@link PRICE_CATALOG}) merged with the `pricing`
 * section of the config. Missing config values take the schema's defaults (730 hours, 70% spot discount, $0.09/GB
 * egress). Throws RangeError for values the config schema would reject, so a hand-built config fails the same way.
 */
/** The `pricing` section of the config as the savings model reads it (structurally the config schema's output). */
export interface PricingOptions {
  readonly hoursPerMonth?: number;
  readonly spotDiscount?: number;
  readonly egressPerGbUsd?: number;
  readonly instanceHourlyUsd?: Readonly<Record<string, number>>;
  readonly storageGbMonthUsd?: Readonly<Partial<Record<string, number>>>;
}

export function createPricing(config: PricingOptions = {}, catalog: PriceCatalog = PRICE_CATALOG): Pricing {
  const hoursPerMonth = config.hoursPerMonth ?? DEFAULT_HOURS_PER_MONTH;
  if (!Number.isFinite(hoursPerMonth) || hoursPerMonth <= 0 || hoursPerMonth > 744) {
    throw new RangeError(`hoursPerMonth must be a number in (0, 744]; got ${hoursPerMonth}`);
  }
  const spotDiscount = config.spotDiscount ?? DEFAULT_SPOT_DISCOUNT;
  if (!Number.isFinite(spotDiscount) || spotDiscount < 0 || spotDiscount > 1) {
    throw new RangeError(`spotDiscount must be a number in [0, 1]; got ${spotDiscount}`);
  }
  const egressPerGbUsd = config.egressPerGbUsd ?? catalog.egressPerGbUsd;
  if (!Number.isFinite(egressPerGbUsd) || egressPerGbUsd < 0) {
    throw new RangeError(`egressPerGbUsd must be a number >= 0; got ${egressPerGbUsd}`);
  }
  return new CatalogPricing(
    catalog,
    hoursPerMonth,
    spotDiscount,
    egressPerGbUsd,
    Object.freeze({ ...(config.instanceHourlyUsd ?? {}) }),
    Object.freeze({ ...(config.storageGbMonthUsd ?? {}) }),
    Object.freeze({}),
  );
}
