import { STORAGE_CLASSES } from '../../../../lambda/core/lifecycle/rules';
import { createPricing, DEFAULT_HOURS_PER_MONTH, PRICE_CATALOG, SEED_PRICES } from '../../../../lambda/core/savings';

const CATALOG = PRICE_CATALOG.instanceHourlyUsd;
const CATALOG_TYPES = Object.keys(CATALOG);

/** How many xlarge units a size is: xlarge 1, 2xlarge 2, 24xlarge 24 (metal and smaller sizes are not in the catalog). */
function sizeUnits(instanceType: string): number {
  const size = instanceType.split('.')[1]!;
  const match = /^(\d*)xlarge$/.exec(size);
  if (!match) throw new Error(`unexpected size in ${instanceType}`);
  return match[1] ? Number(match[1]) : 1;
}

/** Catalog types grouped by family (the part before the dot), each family smallest size first. */
function families(): Map<string, string[]> {
  const byFamily = new Map<string, string[]>();
  for (const type of CATALOG_TYPES) {
    const family = type.split('.')[0]!;
    byFamily.set(family, [...(byFamily.get(family) ?? []), type]);
  }
  for (const types of byFamily.values()) types.sort((a, b) => sizeUnits(a) - sizeUnits(b));
  return byFamily;
}

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

  it('prices every GPU family it lists, each type at a positive, finite hourly figure', () => {
    // Assess: every family has a priced size, and createPricing answers every listed type from the catalog.
    expect(families().size).toBeGreaterThan(0);
    for (const [family, types] of families()) {
      expect(family).toMatch(/^[gp]\d/); // GPU families only: g* and p*
      expect(types.length).toBeGreaterThan(0);
    }
    for (const type of CATALOG_TYPES) {
      expect(Number.isFinite(CATALOG[type])).toBe(true);
      expect(CATALOG[type]).toBeGreaterThan(0);
      expect(createPricing().instanceHourly(type)).toEqual({ usd: CATALOG[type], source: 'catalog' });
    }
  });

  it('charges more for a larger size within a family', () => {
    // Prepare: the families with more than one size
    const multiSize = [...families().values()].filter((types) => types.length > 1);
    expect(multiSize.length).toBeGreaterThan(0);
    // Assess
    for (const types of multiSize) {
      for (let i = 1; i < types.length; i++) expect(CATALOG[types[i]!]).toBeGreaterThan(CATALOG[types[i - 1]!]!);
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
