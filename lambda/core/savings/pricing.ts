/**
 * The pricing catalog of the savings model: what an instance hour, a GB-month of S3 storage and a GB of egress cost.
 *
 * Pure: no SDK imports and no network. Live prices (the AWS Price List API) are fetched by an adapter and handed in
 * with {@link Pricing.withLivePrices}; the embedded catalog is the fallback and is dated so a reader can tell how old
 * a figure is. An instance type the catalog does not know has no price: callers get `undefined`, never a guess.
 *
 * The catalog (figures in ./catalog-data.ts) prices every GPU and Neuron size in several regions. Asked for a region
 * it has no figure for, it answers with its us-east-1 figure and marks the quote `fallback`, so a report can say the
 * price is the us-east-1 one.
 */
import type { StorageClass } from '../lifecycle/rules';
import { CATALOG_DATA } from './catalog-data';

/** Where an hourly price came from: the user's config, the embedded catalog, or the Price List API. */
export type PriceSource = 'override' | 'catalog' | 'live';

/** An hourly price and where it came from. */
export interface PriceQuote {
  readonly usd: number;
  readonly source: PriceSource;
  /**
   * The region the figure is for. Set when the caller asked for a region (and on live prices fetched for one); a
   * quote asked without a region is for the catalog's own region (us-east-1) or a region-less override.
   */
  readonly region?: string;
  /** The catalog has no figure for the region asked: `usd` is its figure for `region` (us-east-1) instead. */
  readonly fallback?: true;
}

/** A dated price table. */
export interface PriceCatalog {
  /** Month the figures were read (YYYY-MM). */
  readonly asOf: string;
  /** Where the figures come from. */
  readonly source: string;
  /** The catalog's own region, whose figures are `instanceHourlyUsd` and the fallback for any other region. */
  readonly region: string;
  /** On-demand $/hour by instance type in `region` (EC2 types, and SageMaker `ml.*` types). */
  readonly instanceHourlyUsd: Readonly<Record<string, number>>;
  /** On-demand $/hour by region, then instance type. A type absent from a region falls back to `instanceHourlyUsd`. */
  readonly regionalInstanceHourlyUsd?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Every source of the figures, in full (`source` is the one-line summary). */
  readonly sources?: readonly string[];
  /** Instance types the catalog knowingly leaves without a price, and why. */
  readonly unpriced?: Readonly<Record<string, string>>;
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

/** The region every catalog figure falls back to. */
export const CATALOG_FALLBACK_REGION = 'us-east-1';

/** One region's prices: its EC2 figures and its SageMaker `ml.*` figures (the names never collide). */
function regionPrices(region: string): Readonly<Record<string, number>> {
  return Object.freeze({
    ...CATALOG_DATA.ec2OnDemandLinuxUsd[region],
    ...CATALOG_DATA.sageMakerHostingUsd[region],
  });
}

const CATALOG_REGIONS = [
  ...new Set([...Object.keys(CATALOG_DATA.ec2OnDemandLinuxUsd), ...Object.keys(CATALOG_DATA.sageMakerHostingUsd)]),
];

/**
 * The embedded catalog (./catalog-data.ts): on-demand Linux prices of every current GPU and Neuron EC2 size in
 * us-east-1, us-east-2, us-west-2, eu-west-1, eu-central-1, ap-northeast-1 and ap-southeast-1, and SageMaker real-time
 * inference prices of `ml.*` GPU and Neuron instances in us-east-1; after the June 2025 P4/P5 price cut.
 */
export const PRICE_CATALOG: PriceCatalog = Object.freeze({
  asOf: CATALOG_DATA.asOf,
  source: `AWS on-demand Linux prices, ${CATALOG_FALLBACK_REGION} and ${CATALOG_REGIONS.length - 1} more regions (SageMaker hosting for ml.*), from published price lists`,
  sources: Object.freeze([...CATALOG_DATA.sources]),
  region: CATALOG_FALLBACK_REGION,
  instanceHourlyUsd: regionPrices(CATALOG_FALLBACK_REGION),
  regionalInstanceHourlyUsd: Object.freeze(Object.fromEntries(CATALOG_REGIONS.map((r) => [r, regionPrices(r)]))),
  unpriced: Object.freeze({
    'p5e.48xlarge': 'no published on-demand price: p5e is sold through EC2 Capacity Blocks for ML',
    'trn2.48xlarge': 'no published on-demand price: trn2 is sold through EC2 Capacity Blocks for ML',
  }),
  storageGbMonthUsd: Object.freeze({ ...S3_US_EAST_1 }),
  storageSource: 'Amazon S3 pricing, us-east-1, first 50 TB tier (INTELLIGENT_TIERING = Frequent Access tier)',
  egressPerGbUsd: 0.09,
  crossRegionPerGbUsd: 0.02,
});

/**
 * How text a user reads names the source document of the calculators and of {@link SEED_PRICES} (the user's own
 * chapter, not an internal name for it).
 */
export const SOURCE_CHAPTER = "the 'Infrastructure Cost Optimization' chapter (4.2)";

/**
 * The source chapter's own price table (chapter 4.2, "The Cost of Idle GPUs" and "Spot Savings by Instance Type"),
 * kept apart so its tables can be reproduced. Its p4d.24xlarge figure ($32.77/h) predates the 2025 price cut; use
 * {@link PRICE_CATALOG} for current estimates. The seed's monthly figures use 720 hours and a 70% spot discount.
 */
export const SEED_PRICES: PriceCatalog & {
  readonly hoursPerMonth: number;
  readonly spotDiscount: number;
  readonly spotHourlyUsd: Readonly<Record<string, number>>;
} = Object.freeze({
  asOf: 'before 2025-06',
  source: `the price table of ${SOURCE_CHAPTER}, on-demand us-east-1, before the 2025 price cut`,
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
  storageSource: `the "Storage Tiering Strategy" table of ${SOURCE_CHAPTER}`,
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
  /**
   * On-demand $/h of an instance type (EC2, or SageMaker `ml.*`): override, then live, then catalog; undefined when
   * none knows it. With a region, live prices count only if they were fetched for that region, and the catalog
   * answers with that region's figure, or with its us-east-1 figure marked `fallback: true` (and `region:
   * 'us-east-1'`) when it has none for that region.
   */
  instanceHourly(instanceType: string, region?: string): PriceQuote | undefined;
  /** Spot $/h estimated as on-demand x (1 - spotDiscount); undefined when the on-demand price is unknown. */
  spotHourly(instanceType: string, region?: string): PriceQuote | undefined;
  /** A month of an hourly rate: hourly x hoursPerMonth. */
  monthly(hourlyUsd: number): number;
  /** $/GB-month of an S3 storage class (override, else catalog). */
  storageGbMonth(storageClass: StorageClass): number;
  /** Instance types with a known price (in any region). */
  knownInstanceTypes(): string[];
  /** Why the catalog has no price for a type it knows of (e.g. sold only through Capacity Blocks); else undefined. */
  unpricedReason(instanceType: string): string | undefined;
  /**
   * A copy of this pricing that also knows live on-demand prices (e.g. from the Price List API) of `region` (when
   * given; otherwise they count for every region). Overrides from the config still win; live prices win over the
   * catalog. Non-positive or non-finite figures are ignored.
   */
  withLivePrices(livePrices: Readonly<Record<string, number>>, region?: string): Pricing;
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
    /** The region the live prices are for; undefined: they count for every region. */
    private readonly liveRegion: string | undefined,
  ) {
    this.asOf = catalog.asOf;
    this.source = catalog.source;
  }

  instanceHourly(instanceType: string, region?: string): PriceQuote | undefined {
    const override = own(this.overrides, instanceType);
    if (validHourly(override)) return { usd: override, source: 'override' };
    if (region === undefined || this.liveRegion === undefined || region === this.liveRegion) {
      const live = own(this.live, instanceType);
      if (validHourly(live))
        return region === undefined ? { usd: live, source: 'live' } : { usd: live, source: 'live', region };
    }
    return this.catalogHourly(instanceType, region);
  }

  /** The catalog's figure for `region`, else its own region's figure marked as a fallback. */
  private catalogHourly(instanceType: string, region: string | undefined): PriceQuote | undefined {
    const home = this.catalog.region;
    if (region !== undefined && region !== home) {
      const table = own(this.catalog.regionalInstanceHourlyUsd ?? {}, region);
      const regional = table && own(table, instanceType);
      if (validHourly(regional)) return { usd: regional, source: 'catalog', region };
      const usd = own(this.catalog.instanceHourlyUsd, instanceType);
      return validHourly(usd) ? { usd, source: 'catalog', region: home, fallback: true } : undefined;
    }
    const usd = own(this.catalog.instanceHourlyUsd, instanceType);
    if (!validHourly(usd)) return undefined;
    return region === undefined ? { usd, source: 'catalog' } : { usd, source: 'catalog', region };
  }

  spotHourly(instanceType: string, region?: string): PriceQuote | undefined {
    const onDemand = this.instanceHourly(instanceType, region);
    return onDemand && { ...onDemand, usd: onDemand.usd * (1 - this.spotDiscount) };
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
      ...Object.values(this.catalog.regionalInstanceHourlyUsd ?? {}).flatMap((table) => Object.keys(table)),
      ...Object.keys(this.live).filter((t) => validHourly(this.live[t])),
      ...Object.keys(this.overrides).filter((t) => validHourly(this.overrides[t])),
    ]);
    return [...types].sort();
  }

  unpricedReason(instanceType: string): string | undefined {
    return this.instanceHourly(instanceType) ? undefined : own(this.catalog.unpriced ?? {}, instanceType);
  }

  withLivePrices(livePrices: Readonly<Record<string, number>>, region?: string): Pricing {
    // Live prices of another region than the ones held replace them rather than mix with them.
    const keep = region === undefined || region === this.liveRegion;
    const live: Record<string, number> = keep ? { ...this.live } : {};
    for (const [type, usd] of Object.entries(livePrices)) if (validHourly(usd)) live[type] = usd;
    return new CatalogPricing(
      this.catalog,
      this.hoursPerMonth,
      this.spotDiscount,
      this.egressPerGbUsd,
      this.overrides,
      this.storageOverrides,
      Object.freeze(live),
      region ?? this.liveRegion,
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
    undefined,
  );
}
