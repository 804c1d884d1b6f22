import { STORAGE_CLASSES } from '../../../../lambda/core/lifecycle/rules';
import {
  actionSavings,
  createPricing,
  DEFAULT_HOURS_PER_MONTH,
  idleCost,
  monthlySavingsOfStop,
  PRICE_CATALOG,
  SEED_PRICES,
} from '../../../../lambda/core/savings';

// The catalog's shape and plausibility (sizes, regions, accelerator facts) are checked in catalog.test.ts.
const CATALOG = PRICE_CATALOG.instanceHourlyUsd;
const CATALOG_TYPES = Object.keys(CATALOG);

describe('Constant: PRICE_CATALOG', () => {
  it('is dated with a month and names its source and region, and the pricing built on it says so', () => {
    // Assess
    const [year, month] = PRICE_CATALOG.asOf.split('-').map(Number);
    expect(PRICE_CATALOG.asOf).toMatch(/^\d{4}-\d{2}$/);
    expect(month).toBeGreaterThanOrEqual(1);
    expect(month).toBeLessThanOrEqual(12);
    expect(year).toBeGreaterThanOrEqual(2025); // after the June 2025 P4/P5 price cut it reflects
    expect(PRICE_CATALOG.source).toContain(PRICE_CATALOG.region);
    expect(createPricing().asOf).toBe(PRICE_CATALOG.asOf);
    expect(createPricing().source).toBe(PRICE_CATALOG.source);
  });

  it('prices every type it lists at a positive, finite hourly figure, and createPricing answers it from the catalog', () => {
    expect(CATALOG_TYPES.length).toBeGreaterThan(0);
    for (const type of CATALOG_TYPES) {
      expect(Number.isFinite(CATALOG[type])).toBe(true);
      expect(CATALOG[type]).toBeGreaterThan(0);
      expect(createPricing().instanceHourly(type)).toEqual({ usd: CATALOG[type], source: 'catalog' });
    }
  });

  it('prices every instance type of the seed chapter, below the seed for p4d (the 2025 price cut)', () => {
    for (const type of Object.keys(SEED_PRICES.instanceHourlyUsd)) expect(CATALOG[type]).toBeDefined();
    expect(CATALOG['p4d.24xlarge']).toBeLessThan(SEED_PRICES.instanceHourlyUsd['p4d.24xlarge']!);
  });

  it('prices every storage class, colder classes cheaper, Intelligent-Tiering at its frequent tier', () => {
    // Prepare: the waterfall order of lifecycle transitions, Intelligent-Tiering aside
    const storage = PRICE_CATALOG.storageGbMonthUsd;
    const coldward = STORAGE_CLASSES.filter((c) => c !== 'INTELLIGENT_TIERING');
    // Assess
    for (const c of STORAGE_CLASSES) expect(storage[c]).toBeGreaterThan(0);
    for (let i = 1; i < coldward.length; i++) {
      expect(storage[coldward[i]!]).toBeLessThan(storage[coldward[i - 1]!]);
    }
    expect(storage.INTELLIGENT_TIERING).toBe(storage.STANDARD);
    expect(PRICE_CATALOG.egressPerGbUsd).toBeGreaterThan(0);
  });

  it('is frozen so no caller can change a price for everyone', () => {
    expect(Object.isFrozen(PRICE_CATALOG)).toBe(true);
    expect(Object.isFrozen(PRICE_CATALOG.instanceHourlyUsd)).toBe(true);
  });
});

describe('Constant: SEED_PRICES', () => {
  it("keeps the seed's pre-cut p4d.24xlarge price ($32.77/h, as the chapter prints it) apart from the catalog", () => {
    expect(SEED_PRICES.instanceHourlyUsd['p4d.24xlarge']).toBe(32.77);
    expect(createPricing().instanceHourly('p4d.24xlarge')!.usd).not.toBe(32.77);
    expect(SEED_PRICES.hoursPerMonth).toBe(720);
  });

  it('has a spot column equal to on-demand x 0.3, as the seed prints it', () => {
    for (const [type, spot] of Object.entries(SEED_PRICES.spotHourlyUsd)) {
      expect(SEED_PRICES.instanceHourlyUsd[type]! * 0.3).toBeCloseTo(spot, 2);
    }
  });
});

describe('Function: createPricing', () => {
  it('defaults to 730 hours a month and a 70% spot discount', () => {
    // Act
    const pricing = createPricing();

    // Assess
    expect(pricing.hoursPerMonth).toBe(DEFAULT_HOURS_PER_MONTH);
    expect(pricing.hoursPerMonth).toBe(730);
    expect(pricing.spotDiscount).toBe(0.7);
    expect(pricing.egressPerGbUsd).toBe(0.09);
    expect(pricing.asOf).toBe(PRICE_CATALOG.asOf);
  });

  it('returns undefined for an unknown type instead of guessing', () => {
    const pricing = createPricing();
    expect(pricing.instanceHourly('g99.mega')).toBeUndefined();
    expect(pricing.spotHourly('g99.mega')).toBeUndefined();
  });

  it('does not resolve Object.prototype members as instance types', () => {
    const pricing = createPricing();
    expect(pricing.instanceHourly('constructor')).toBeUndefined();
    expect(pricing.instanceHourly('__proto__')).toBeUndefined();
    expect(pricing.instanceHourly('toString')).toBeUndefined();
  });

  it('lets a config override win over the catalog and price new types', () => {
    // Prepare
    const pricing = createPricing({ instanceHourlyUsd: { 'g5.xlarge': 0.9, 'g7.xlarge': 2.5 } });

    // Act & Assess
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: 0.9, source: 'override' });
    expect(pricing.instanceHourly('g7.xlarge')).toEqual({ usd: 2.5, source: 'override' });
    expect(pricing.instanceHourly('g4dn.xlarge')).toEqual({ usd: CATALOG['g4dn.xlarge'], source: 'catalog' });
    expect(pricing.knownInstanceTypes()).toContain('g7.xlarge');
  });

  it('estimates spot as on-demand x (1 - spotDiscount)', () => {
    expect(createPricing().spotHourly('p3.2xlarge')!.usd).toBeCloseTo(CATALOG['p3.2xlarge']! * 0.3, 10);
    expect(createPricing({ spotDiscount: 0.6 }).spotHourly('p3.2xlarge')!.usd).toBeCloseTo(
      CATALOG['p3.2xlarge']! * 0.4,
      10,
    );
  });

  it('estimates spot below on-demand for every catalog type, and equal to it without a discount', () => {
    const pricing = createPricing();
    const noDiscount = createPricing({ spotDiscount: 0 });
    for (const type of CATALOG_TYPES) {
      const spot = pricing.spotHourly(type)!.usd;
      expect(spot).toBeGreaterThan(0);
      expect(spot).toBeLessThan(pricing.instanceHourly(type)!.usd);
      expect(noDiscount.spotHourly(type)!.usd).toBe(noDiscount.instanceHourly(type)!.usd);
    }
  });

  it("reproduces the seed's spot table from its own prices", () => {
    const seed = createPricing({}, SEED_PRICES);
    expect(seed.spotHourly('g4dn.xlarge')!.usd).toBeCloseTo(0.158, 3);
    expect(seed.spotHourly('g5.2xlarge')!.usd).toBeCloseTo(0.364, 3);
    expect(seed.spotHourly('p3.2xlarge')!.usd).toBeCloseTo(0.918, 3);
    expect(seed.spotHourly('p4d.24xlarge')!.usd).toBeCloseTo(9.83, 2);
  });

  it('turns an hourly rate into a month of hoursPerMonth', () => {
    expect(createPricing().monthly(1)).toBe(730);
    expect(createPricing({ hoursPerMonth: 720 }).monthly(0.526)).toBeCloseTo(378.72, 10);
  });

  it('prices storage from the catalog unless overridden', () => {
    const pricing = createPricing({ storageGbMonthUsd: { STANDARD: 0.021 } });
    expect(pricing.storageGbMonth('STANDARD')).toBe(0.021);
    expect(pricing.storageGbMonth('DEEP_ARCHIVE')).toBe(PRICE_CATALOG.storageGbMonthUsd.DEEP_ARCHIVE);
    expect(pricing.storageGbMonth('INTELLIGENT_TIERING')).toBe(PRICE_CATALOG.storageGbMonthUsd.INTELLIGENT_TIERING);
  });

  it('takes the egress price from the config', () => {
    expect(createPricing({ egressPerGbUsd: 0.05 }).egressPerGbUsd).toBe(0.05);
  });

  it.each([
    [{ hoursPerMonth: 0 }, /hoursPerMonth must be a number in \(0, 744\]; got 0/],
    [{ hoursPerMonth: 800 }, /hoursPerMonth/],
    [{ spotDiscount: 1.5 }, /spotDiscount must be a number in \[0, 1\]; got 1.5/],
    [{ egressPerGbUsd: -1 }, /egressPerGbUsd must be a number >= 0/],
  ])('throws a RangeError naming the field for %j', (config, message) => {
    expect(() => createPricing(config)).toThrow(RangeError);
    expect(() => createPricing(config)).toThrow(message);
  });
});

describe('Method: Pricing.withLivePrices', () => {
  it('prefers live prices over the catalog and reports them as live', () => {
    // Prepare
    const pricing = createPricing().withLivePrices({ 'p4d.24xlarge': 22.5, 'g6.2xlarge': 0.9776 });

    // Act & Assess
    expect(pricing.instanceHourly('p4d.24xlarge')).toEqual({ usd: 22.5, source: 'live' });
    expect(pricing.instanceHourly('g6.2xlarge')).toEqual({ usd: 0.9776, source: 'live' });
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: CATALOG['g5.xlarge'], source: 'catalog' });
  });

  it('keeps config overrides above live prices', () => {
    const pricing = createPricing({ instanceHourlyUsd: { 'p4d.24xlarge': 20 } }).withLivePrices({
      'p4d.24xlarge': 22.5,
    });
    expect(pricing.instanceHourly('p4d.24xlarge')).toEqual({ usd: 20, source: 'override' });
  });

  it('ignores non-positive and non-finite live figures', () => {
    const pricing = createPricing().withLivePrices({ 'g5.xlarge': 0, 'g4dn.xlarge': Number.NaN, 'x.big': -1 });
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: CATALOG['g5.xlarge'], source: 'catalog' });
    expect(pricing.instanceHourly('g4dn.xlarge')).toEqual({ usd: CATALOG['g4dn.xlarge'], source: 'catalog' });
    expect(pricing.instanceHourly('x.big')).toBeUndefined();
  });

  it('returns a new pricing and leaves the original untouched', () => {
    const base = createPricing({ hoursPerMonth: 720 });
    const live = base.withLivePrices({ 'g5.xlarge': 1.1 });
    expect(base.instanceHourly('g5.xlarge')!.source).toBe('catalog');
    expect(live.hoursPerMonth).toBe(720);
  });
});

describe('Method: Pricing.instanceHourly with a region', () => {
  const REGIONAL = PRICE_CATALOG.regionalInstanceHourlyUsd!;

  it("answers with the region's own catalog figure and names the region", () => {
    // Prepare: a type priced differently in eu-west-1 than in us-east-1
    const euWest = REGIONAL['eu-west-1']!['g5.xlarge']!;
    expect(euWest).not.toBe(CATALOG['g5.xlarge']);

    // Act & Assess
    expect(createPricing().instanceHourly('g5.xlarge', 'eu-west-1')).toEqual({
      usd: euWest,
      source: 'catalog',
      region: 'eu-west-1',
    });
    expect(createPricing().instanceHourly('g5.xlarge', 'us-east-1')).toEqual({
      usd: CATALOG['g5.xlarge'],
      source: 'catalog',
      region: 'us-east-1',
    });
  });

  it('falls back to the us-east-1 figure, marked as a fallback, where the region has none', () => {
    // Prepare: g5 is not offered in ap-southeast-1; sa-east-1 is not a catalog region at all
    expect(REGIONAL['ap-southeast-1']!['g5.xlarge']).toBeUndefined();
    expect(REGIONAL['sa-east-1']).toBeUndefined();
    const fallback = { usd: CATALOG['g5.xlarge'], source: 'catalog', region: 'us-east-1', fallback: true };

    // Act & Assess
    expect(createPricing().instanceHourly('g5.xlarge', 'ap-southeast-1')).toEqual(fallback);
    expect(createPricing().instanceHourly('g5.xlarge', 'sa-east-1')).toEqual(fallback);
    expect(createPricing().instanceHourly('z9.huge', 'eu-west-1')).toBeUndefined();
  });

  it('prices spot in the region, keeping the region and the fallback mark', () => {
    const pricing = createPricing({ spotDiscount: 0.6 });
    const spot = pricing.spotHourly('g4dn.xlarge', 'ap-northeast-1')!;
    expect(spot.usd).toBeCloseTo(REGIONAL['ap-northeast-1']!['g4dn.xlarge']! * 0.4, 10);
    expect(spot.region).toBe('ap-northeast-1');
    expect(pricing.spotHourly('g5.xlarge', 'ap-southeast-1')).toMatchObject({ region: 'us-east-1', fallback: true });
  });

  it('uses live prices only for the region they were fetched for', () => {
    // Prepare: live prices of eu-west-1
    const pricing = createPricing().withLivePrices({ 'g5.xlarge': 1.2 }, 'eu-west-1');

    // Act & Assess
    expect(pricing.instanceHourly('g5.xlarge', 'eu-west-1')).toEqual({ usd: 1.2, source: 'live', region: 'eu-west-1' });
    expect(pricing.instanceHourly('g5.xlarge', 'us-east-2')).toEqual({
      usd: REGIONAL['us-east-2']!['g5.xlarge'],
      source: 'catalog',
      region: 'us-east-2',
    });
    // Asked without a region, the live figure answers, as before regions existed.
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: 1.2, source: 'live' });
  });

  it('keeps config overrides above every region', () => {
    const pricing = createPricing({ instanceHourlyUsd: { 'g5.xlarge': 0.9 } });
    expect(pricing.instanceHourly('g5.xlarge', 'ap-northeast-1')).toEqual({ usd: 0.9, source: 'override' });
  });

  it('prices SageMaker ml.* types in us-east-1 and falls back to them elsewhere', () => {
    const usd = CATALOG['ml.g5.xlarge']!;
    expect(usd).toBeGreaterThan(CATALOG['g5.xlarge']!); // SageMaker charges more than EC2 for the same machine
    expect(createPricing().instanceHourly('ml.g5.xlarge', 'eu-central-1')).toEqual({
      usd,
      source: 'catalog',
      region: 'us-east-1',
      fallback: true,
    });
  });

  it('knows the types of every region and says why a known type has no price', () => {
    const pricing = createPricing();
    expect(pricing.knownInstanceTypes()).toEqual(expect.arrayContaining(['g5.48xlarge', 'ml.p5.48xlarge']));
    expect(pricing.instanceHourly('trn2.48xlarge')).toBeUndefined();
    expect(pricing.unpricedReason('trn2.48xlarge')).toMatch(/Capacity Blocks/);
    expect(pricing.unpricedReason('g5.xlarge')).toBeUndefined();
    expect(pricing.unpricedReason('z9.huge')).toBeUndefined();
  });
});

describe('Function: actionSavings and idleCost with a region', () => {
  it("price an instance in its region and say so, falling back to us-east-1's figure where the region has none", () => {
    // Prepare
    const pricing = createPricing();
    const tokyo = PRICE_CATALOG.regionalInstanceHourlyUsd!['ap-northeast-1']!['g6e.xlarge']!;

    // Act
    const inTokyo = actionSavings('stop', 'g6e.xlarge', pricing, { region: 'ap-northeast-1' })!;
    const spotInTokyo = monthlySavingsOfStop('g6e.xlarge', pricing, { region: 'ap-northeast-1', spot: true })!;
    const inIreland = actionSavings('terminate', 'g6e.xlarge', pricing, { region: 'eu-west-1' })!;
    const idle = idleCost({ instanceType: 'g6e.xlarge', idleFraction: 1, region: 'ap-northeast-1' }, pricing);

    // Assess
    expect(inTokyo).toMatchObject({ hourlyUsd: tokyo, monthlyUsd: tokyo * 730, region: 'ap-northeast-1' });
    expect(inTokyo.fallback).toBeUndefined();
    expect(spotInTokyo.hourlyUsd).toBeCloseTo(tokyo * 0.3, 10);
    expect(inIreland).toMatchObject({ hourlyUsd: CATALOG['g6e.xlarge'], region: 'us-east-1', fallback: true });
    expect(idle).toMatchObject({ hourlyUsd: tokyo, priceRegion: 'ap-northeast-1', monthlyIdleCost: tokyo * 730 });
    expect(idleCost({ instanceType: 'g6e.xlarge', idleFraction: 1 }, pricing).priceRegion).toBeUndefined();
  });
});
