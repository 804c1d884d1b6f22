import { createPricing, DEFAULT_HOURS_PER_MONTH, PRICE_CATALOG, SEED_PRICES } from '../../../../lambda/core/savings';

describe('Constant: PRICE_CATALOG', () => {
  it('holds the dated us-east-1 on-demand prices of the guide', () => {
    // Assess
    expect(PRICE_CATALOG.asOf).toBe('2026-01');
    expect(PRICE_CATALOG.source).toBe('AWS EC2 on-demand pricing, us-east-1, Linux');
    expect(PRICE_CATALOG.instanceHourlyUsd).toEqual({
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
    });
  });

  it('prices S3 storage classes per GB-month, Intelligent-Tiering at its frequent-access tier', () => {
    expect(PRICE_CATALOG.storageGbMonthUsd).toEqual({
      STANDARD: 0.023,
      STANDARD_IA: 0.0125,
      ONEZONE_IA: 0.01,
      GLACIER_IR: 0.004,
      GLACIER: 0.0036,
      DEEP_ARCHIVE: 0.00099,
      INTELLIGENT_TIERING: 0.023,
    });
    expect(PRICE_CATALOG.egressPerGbUsd).toBe(0.09);
  });

  it('is frozen so no caller can change a price for everyone', () => {
    expect(Object.isFrozen(PRICE_CATALOG)).toBe(true);
    expect(Object.isFrozen(PRICE_CATALOG.instanceHourlyUsd)).toBe(true);
  });
});

describe('Constant: SEED_PRICES', () => {
  it("keeps the seed's pre-cut p4d.24xlarge price apart from the catalog", () => {
    expect(SEED_PRICES.instanceHourlyUsd['p4d.24xlarge']).toBe(32.77);
    expect(PRICE_CATALOG.instanceHourlyUsd['p4d.24xlarge']).toBe(21.96);
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
    expect(pricing.asOf).toBe('2026-01');
  });

  it('returns the catalog price with its source for a known type', () => {
    expect(createPricing().instanceHourly('g5.xlarge')).toEqual({ usd: 1.006, source: 'catalog' });
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
    expect(pricing.instanceHourly('g4dn.xlarge')).toEqual({ usd: 0.526, source: 'catalog' });
    expect(pricing.knownInstanceTypes()).toContain('g7.xlarge');
  });

  it('estimates spot as on-demand x (1 - spotDiscount)', () => {
    expect(createPricing().spotHourly('p3.2xlarge')!.usd).toBeCloseTo(0.918, 10);
    expect(createPricing({ spotDiscount: 0.6 }).spotHourly('p3.2xlarge')!.usd).toBeCloseTo(1.224, 10);
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
    expect(pricing.storageGbMonth('DEEP_ARCHIVE')).toBe(0.00099);
    expect(pricing.storageGbMonth('INTELLIGENT_TIERING')).toBe(0.023);
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
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: 1.006, source: 'catalog' });
  });

  it('keeps config overrides above live prices', () => {
    const pricing = createPricing({ instanceHourlyUsd: { 'p4d.24xlarge': 20 } }).withLivePrices({
      'p4d.24xlarge': 22.5,
    });
    expect(pricing.instanceHourly('p4d.24xlarge')).toEqual({ usd: 20, source: 'override' });
  });

  it('ignores non-positive and non-finite live figures', () => {
    const pricing = createPricing().withLivePrices({ 'g5.xlarge': 0, 'g4dn.xlarge': Number.NaN, 'x.big': -1 });
    expect(pricing.instanceHourly('g5.xlarge')).toEqual({ usd: 1.006, source: 'catalog' });
    expect(pricing.instanceHourly('g4dn.xlarge')).toEqual({ usd: 0.526, source: 'catalog' });
    expect(pricing.instanceHourly('x.big')).toBeUndefined();
  });

  it('returns a new pricing and leaves the original untouched', () => {
    const base = createPricing({ hoursPerMonth: 720 });
    const live = base.withLivePrices({ 'g5.xlarge': 1.1 });
    expect(base.instanceHourly('g5.xlarge')!.source).toBe('catalog');
    expect(live.hoursPerMonth).toBe(720);
  });
});
