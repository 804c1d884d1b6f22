import fc from 'fast-check';
import {
  DEFAULT_LIFECYCLE_RULES,
  type LifecycleRuleSpec,
  MIN_DAYS_BEFORE_NEXT_TRANSITION,
  MIN_STORAGE_DAYS,
  type TransitionSpec,
  type TransitionStorageClass,
} from '../../../../lambda/core/lifecycle/rules';
import {
  actionSavings,
  autoscalingSavings,
  BYTES_PER_GB,
  createPricing,
  gpuSavings,
  idleCost,
  monthlySavingsOfStop,
  monthlySavingsOfTerminate,
  NETWORK_STRATEGIES,
  networkSavings,
  projectBucketSavings,
  reservationBreakEven,
  roi,
  round2,
  SavingsInputError,
  SEED_PRICES,
  storageTieringSavings,
  UnknownPriceError,
  wasteSoFar,
} from '../../../../lambda/core/savings';

const experiments = DEFAULT_LIFECYCLE_RULES.find((r) => r.id === 'experiment-artifacts')!;
const catalog = createPricing();

/** Finite doubles in [min, max], no NaN. */
const num = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

describe('Function: round2', () => {
  it.each([
    [1.005, 1.01],
    [-1.005, -1.01],
    [114285.71428571428, 114285.71],
    [1803428.5714285711, 1803428.57],
    [0.125, 0.13],
    [1e-7, 0],
    [0, 0],
    [378.72, 378.72],
  ])('rounds %p to %p cents, half away from zero', (value, expected) => {
    expect(round2(value)).toBe(expected);
  });

  it('passes non-finite values through', () => {
    expect(round2(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(round2(Number.NaN)).toBeNaN();
  });
});

describe('Function: gpuSavings', () => {
  it("returns $150,285.71 a month for the seed's example when right-sizing comes before spot", () => {
    // Act
    const result = gpuSavings({ monthlySpend: 200_000, currentUtilization: 0.3, targetUtilization: 0.7 });

    // Assess
    expect(result.utilizationSavings).toBeCloseTo(114_285.71, 2);
    expect(result.spendAfterRightSizing).toBeCloseTo(85_714.29, 2);
    expect(result.spotSavings).toBeCloseTo(36_000, 6);
    expect(result.totalMonthlySavings).toBeCloseTo(150_285.71, 2);
    expect(result.annualSavings).toBeCloseTo(1_803_428.57, 2);
    expect(result.savingsRate).toBeCloseTo(0.7514, 4);
    expect(result.savingsRatePercent).toBeCloseTo(75.1, 1);
    expect(result.monthlySpendAfter).toBeCloseTo(49_714.29, 2);
    expect(result.spotEligibleShare).toBe(0.6);
    expect(result.spotDiscount).toBe(0.7);
  });

  it("returns less than the seed's additive formula, which counts spot on hours right-sizing removed", () => {
    // Prepare: the seed's own arithmetic
    const seedTotal = 200_000 * (1 - 0.3 / 0.7) + 200_000 * 0.6 * 0.7;

    // Act
    const result = gpuSavings({ monthlySpend: 200_000, currentUtilization: 0.3, targetUtilization: 0.7 });

    // Assess
    expect(seedTotal / 200_000).toBeCloseTo(0.9914, 4);
    expect(result.totalMonthlySavings).toBeLessThan(seedTotal);
  });

  it('never exceeds the spend where the seed would (10% -> 70%)', () => {
    const result = gpuSavings({ monthlySpend: 200_000, currentUtilization: 0.1, targetUtilization: 0.7 });
    expect(result.totalMonthlySavings).toBeCloseTo(200_000 * (6 / 7) + 200_000 * (1 / 7) * 0.42, 6);
    expect(result.totalMonthlySavings).toBeLessThanOrEqual(200_000);
  });

  it('returns no right-sizing savings when utilization already meets the target', () => {
    const result = gpuSavings({ monthlySpend: 1000, currentUtilization: 0.8, targetUtilization: 0.7 });
    expect(result.utilizationSavings).toBe(0);
    expect(result.spotSavings).toBeCloseTo(420, 10);
  });

  it('uses the given spot share and discount', () => {
    const result = gpuSavings({
      monthlySpend: 1000,
      currentUtilization: 0.5,
      targetUtilization: 0.5,
      spotEligibleShare: 1,
      spotDiscount: 0.5,
    });
    expect(result.totalMonthlySavings).toBeCloseTo(500, 10);
  });

  it('returns a zero rate, not NaN, for zero spend', () => {
    const result = gpuSavings({ monthlySpend: 0, currentUtilization: 0.3, targetUtilization: 0.7 });
    expect(result.savingsRate).toBe(0);
    expect(result.totalMonthlySavings).toBe(0);
  });

  it.each([
    [{ currentUtilization: 0 }, 'currentUtilization must be a number in (0, 1]; got 0'],
    [{ targetUtilization: 1.2 }, 'targetUtilization must be a number in (0, 1]; got 1.2'],
    [{ monthlySpend: -1 }, 'monthlySpend must be a number >= 0; got -1'],
    [{ spotEligibleShare: 2 }, 'spotEligibleShare must be a number in [0, 1]; got 2'],
    [{ spotDiscount: -0.1 }, 'spotDiscount must be a number in [0, 1]; got -0.1'],
    [{ monthlySpend: Number.NaN }, 'monthlySpend must be a number >= 0; got NaN'],
  ])('throws a SavingsInputError naming the parameter for %j', (override, message) => {
    const input = { monthlySpend: 100, currentUtilization: 0.3, targetUtilization: 0.7, ...override };
    expect(() => gpuSavings(input)).toThrow(SavingsInputError);
    expect(() => gpuSavings(input)).toThrow(message);
    try {
      gpuSavings(input);
    } catch (error) {
      expect(error).toBeInstanceOf(SavingsInputError);
      expect((error as SavingsInputError).parameter).toBe(Object.keys(override)[0]);
    }
  });

  it('keeps savings between 0 and the spend for any valid input (property)', () => {
    fc.assert(
      fc.property(
        num(0, 1e9),
        num(0.001, 1),
        num(0.001, 1),
        num(0, 1),
        num(0, 1),
        (monthlySpend, currentUtilization, targetUtilization, spotEligibleShare, spotDiscount) => {
          const r = gpuSavings({
            monthlySpend,
            currentUtilization,
            targetUtilization,
            spotEligibleShare,
            spotDiscount,
          });
          expect(r.totalMonthlySavings).toBeGreaterThanOrEqual(0);
          expect(r.totalMonthlySavings).toBeLessThanOrEqual(monthlySpend * (1 + 1e-12));
          expect(r.savingsRate).toBeGreaterThanOrEqual(0);
          expect(r.savingsRate).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
    );
  });

  it('never saves less when the utilization gap grows (property)', () => {
    fc.assert(
      fc.property(
        num(0, 1e7),
        num(0.001, 1),
        num(0.001, 1),
        num(0.001, 1),
        num(0, 1),
        num(0, 1),
        (monthlySpend, current, t1, t2, spotEligibleShare, spotDiscount) => {
          const [near, far] = t1 <= t2 ? [t1, t2] : [t2, t1];
          const base = { monthlySpend, currentUtilization: current, spotEligibleShare, spotDiscount };
          const small = gpuSavings({ ...base, targetUtilization: near }).totalMonthlySavings;
          const large = gpuSavings({ ...base, targetUtilization: far }).totalMonthlySavings;
          expect(large).toBeGreaterThanOrEqual(small - 1e-9 * Math.max(1, monthlySpend));
        },
      ),
    );
  });
});

describe('Function: networkSavings', () => {
  it("returns $650 a month for the seed's example when strategies compose on remaining bytes", () => {
    // Act
    const result = networkSavings({
      monthlyEgressGb: 10_000,
      costPerGb: 0.1,
      strategies: ['data_locality', 'compression'],
    });

    // Assess
    expect(result.monthlyCost).toBeCloseTo(1000, 10);
    expect(result.monthlySavings).toBeCloseTo(650, 10);
    expect(result.annualSavings).toBeCloseTo(7800, 10);
    expect(result.monthlyCostAfter).toBeCloseTo(350, 10);
    expect(result.remainingGb).toBeCloseTo(3500, 10);
    expect(result.details.map((d) => d.strategy)).toEqual(['data_locality', 'compression']);
    expect(result.details[0]!.monthlySavings).toBeCloseTo(300, 10);
    expect(result.details[1]!.monthlySavings).toBeCloseTo(350, 10);
    expect(result.details[1]!.gbBefore).toBeCloseTo(7000, 10);
  });

  it("returns 79% with all three strategies, not the seed's capped 100%", () => {
    const result = networkSavings({ monthlyEgressGb: 10_000, costPerGb: 0.1, strategies: [...NETWORK_STRATEGIES] });
    // 1 - 0.7 x 0.5 x 0.6 = 0.79
    expect(result.savingsRate).toBeCloseTo(0.79, 10);
    expect(result.details[2]!.monthlySavings).toBeCloseTo(140, 10);
  });

  it('gives the same total whatever order the strategies are listed in, and counts duplicates once', () => {
    const a = networkSavings({ monthlyEgressGb: 500, costPerGb: 0.09, strategies: ['caching', 'data_locality'] });
    const b = networkSavings({
      monthlyEgressGb: 500,
      costPerGb: 0.09,
      strategies: ['data_locality', 'caching', 'caching'],
    });
    expect(a.monthlySavings).toBeCloseTo(b.monthlySavings, 10);
    expect(b.strategies).toEqual(['data_locality', 'caching']);
  });

  it('saves nothing without strategies', () => {
    expect(networkSavings({ monthlyEgressGb: 500, costPerGb: 0.09, strategies: [] }).monthlySavings).toBe(0);
  });

  it('throws naming the parameter for an unknown strategy', () => {
    expect(() => networkSavings({ monthlyEgressGb: 1, costPerGb: 1, strategies: ['teleport' as 'caching'] })).toThrow(
      /strategies must be a list of data_locality, compression, caching; got teleport/,
    );
  });

  it('never saves more than the cost, nor less than 0 (property)', () => {
    fc.assert(
      fc.property(
        num(0, 1e9),
        num(0, 10),
        fc.array(fc.constantFrom(...NETWORK_STRATEGIES), { maxLength: 5 }),
        (monthlyEgressGb, costPerGb, strategies) => {
          const r = networkSavings({ monthlyEgressGb, costPerGb, strategies });
          expect(r.monthlySavings).toBeGreaterThanOrEqual(0);
          expect(r.monthlySavings).toBeLessThanOrEqual(r.monthlyCost * (1 + 1e-12));
          expect(r.monthlyCostAfter).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});

describe('Function: reservationBreakEven', () => {
  it("returns RESERVE and $16,320 a year for the seed's call, from a $20/h rate", () => {
    // Act
    const result = reservationBreakEven({ monthlyOnDemandCost: 10_000, monthlyHoursUsed: 500 });

    // Assess
    expect(result.hourlyOnDemandRate).toBeCloseTo(20, 10);
    expect(result.hourlyReservedRate).toBeCloseTo(12, 10);
    expect(result.monthlyReservedCost).toBeCloseTo(8640, 10);
    expect(result.utilization).toBeCloseTo(500 / 720, 10);
    expect(result.breakEvenUtilization).toBeCloseTo(0.6, 10);
    expect(result.recommendation).toBe('RESERVE');
    expect(result.monthlySavings).toBeCloseTo(1360, 10);
    expect(result.annualSavings).toBeCloseTo(16_320, 10);
    expect(result.termSavings).toBeCloseTo(16_320, 10);
  });

  it("is not the seed's $48,000, which discounts only the hours used", () => {
    const seedAnnual = 10_000 * 12 - 10_000 * (1 - 0.4) * 12;
    expect(seedAnnual).toBeCloseTo(48_000, 10);
    expect(reservationBreakEven({ monthlyOnDemandCost: 10_000, monthlyHoursUsed: 500 }).annualSavings).not.toBeCloseTo(
      seedAnnual,
      0,
    );
  });

  it('returns ON_DEMAND_OR_SPOT and no savings below the break-even', () => {
    // 300 h at $20/h = $6,000 on demand; a reservation bills 720 h x $12 = $8,640.
    const result = reservationBreakEven({ monthlyOnDemandCost: 6000, monthlyHoursUsed: 300 });
    expect(result.recommendation).toBe('ON_DEMAND_OR_SPOT');
    expect(result.monthlyDifference).toBeCloseTo(-2640, 10);
    expect(result.annualSavings).toBe(0);
  });

  it('returns ON_DEMAND_OR_SPOT at exactly the break-even, where reserving gains nothing', () => {
    // 432 of 720 hours = 60% = 1 - 40%
    const result = reservationBreakEven({ monthlyOnDemandCost: 8640, monthlyHoursUsed: 432 });
    expect(result.monthlyReservedCost).toBeCloseTo(8640, 8);
    expect(result.recommendation).toBe('ON_DEMAND_OR_SPOT');
  });

  it('uses the hours per month and term given', () => {
    const result = reservationBreakEven({
      monthlyOnDemandCost: 10_000,
      monthlyHoursUsed: 500,
      hoursPerMonth: 730,
      termMonths: 36,
    });
    expect(result.monthlyReservedCost).toBeCloseTo(8760, 10);
    expect(result.annualSavings).toBeCloseTo(14_880, 10);
    expect(result.termSavings).toBeCloseTo(44_640, 10);
  });

  it('agrees with the break-even utilization for any input (property)', () => {
    fc.assert(
      fc.property(num(1, 1e6), num(1, 720), num(0, 0.9), (cost, hours, discount) => {
        const r = reservationBreakEven({
          monthlyOnDemandCost: cost,
          monthlyHoursUsed: hours,
          reservationDiscount: discount,
        });
        if (r.utilization > r.breakEvenUtilization + 1e-6) expect(r.recommendation).toBe('RESERVE');
        if (r.utilization < r.breakEvenUtilization - 1e-6) expect(r.recommendation).toBe('ON_DEMAND_OR_SPOT');
        expect(r.annualSavings).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it.each([
    [{ monthlyHoursUsed: 800 }, 'monthlyHoursUsed must be a number in (0, 720]'],
    [{ monthlyHoursUsed: 0 }, 'monthlyHoursUsed must be a number in (0, 720]'],
    [{ reservationDiscount: 1.5 }, 'reservationDiscount must be a number in [0, 1]; got 1.5'],
    [{ termMonths: 1.5 }, 'termMonths must be a whole number >= 1; got 1.5'],
    [{ hoursPerMonth: 1000 }, 'hoursPerMonth must be a number in (0, 744]; got 1000'],
  ])('throws naming the parameter for %j', (override, message) => {
    expect(() => reservationBreakEven({ monthlyOnDemandCost: 10_000, monthlyHoursUsed: 500, ...override })).toThrow(
      message,
    );
  });
});

describe('Function: storageTieringSavings', () => {
  it("returns about 82.7% for the seed's experiments rule", () => {
    // Act
    const result = storageTieringSavings(experiments, catalog);

    // Assess
    const expected = (30 * 0.023 + 60 * 0.0125 + 275 * 0.004 + 365 * 0.00099) / 730;
    expect(result.blendedGbMonthUsd).toBeCloseTo(expected, 12);
    expect(result.blendedGbMonthUsd).toBeCloseTo(0.0039745, 7);
    expect(result.savingsRate).toBeCloseTo(0.827, 3);
    expect(result.savingsRatePercent).toBeCloseTo(82.7, 1);
    expect(result.lifetimeDays).toBe(730);
    expect(result.horizon).toBe('expiration');
    expect(result.horizonNote).toBeUndefined();
    expect(result.earlyDeletionDays).toBe(0);
    expect(result.segments.map((s) => [s.storageClass, s.days])).toEqual([
      ['STANDARD', 30],
      ['STANDARD_IA', 60],
      ['GLACIER_IR', 275],
      ['DEEP_ARCHIVE', 365],
    ]);
  });

  it('assumes the last transition + 365 days without expiration, and says so', () => {
    const checkpoints = DEFAULT_LIFECYCLE_RULES.find((r) => r.id === 'model-checkpoints')!;
    const result = storageTieringSavings(checkpoints, catalog);
    expect(result.horizon).toBe('assumed');
    expect(result.lifetimeDays).toBe(395);
    expect(result.horizonNote).toMatch(/no expiration.*365 days after the last transition/);
    expect(result.blendedGbMonthUsd).toBeCloseTo((30 * 0.023 + 365 * 0.0125) / 395, 12);
  });

  it('follows a longer horizon when told, which lowers the blend', () => {
    const checkpoints = DEFAULT_LIFECYCLE_RULES.find((r) => r.id === 'model-checkpoints')!;
    const short = storageTieringSavings(checkpoints, catalog);
    const long = storageTieringSavings(checkpoints, catalog, { horizonDaysAfterLastTransition: 3650 });
    expect(long.lifetimeDays).toBe(3680);
    expect(long.blendedGbMonthUsd).toBeLessThan(short.blendedGbMonthUsd);
  });

  it('bills the minimum storage duration when objects leave a class early, even above Standard', () => {
    // Prepare: Deep Archive at day 0, deleted at day 30: S3 bills 180 days of Deep Archive.
    const rule: LifecycleRuleSpec = {
      id: 'early',
      prefix: 'tmp/',
      transitions: [{ days: 0, storageClass: 'DEEP_ARCHIVE' }],
      expirationDays: 30,
    };

    // Act
    const result = storageTieringSavings(rule, catalog);

    // Assess
    expect(result.segments).toEqual([
      expect.objectContaining({ storageClass: 'DEEP_ARCHIVE', days: 30, billedDays: 180 }),
    ]);
    expect(result.earlyDeletionDays).toBe(150);
    expect(result.blendedGbMonthUsd).toBeCloseTo((0.00099 * 180) / 30, 12);
    // 6 x 0.00099 is still below Standard; a short stay in Glacier IR is not.
    const glacier = storageTieringSavings(
      { id: 'worse', prefix: '', transitions: [{ days: 0, storageClass: 'GLACIER_IR' }], expirationDays: 10 },
      catalog,
    );
    expect(glacier.blendedGbMonthUsd).toBeCloseTo((0.004 * 90) / 10, 12);
    expect(glacier.savingsRate).toBeLessThan(0);
  });

  it('uses storage price overrides', () => {
    const pricing = createPricing({ storageGbMonthUsd: { DEEP_ARCHIVE: 0.002 } });
    const result = storageTieringSavings(experiments, pricing);
    expect(result.blendedGbMonthUsd).toBeCloseTo((30 * 0.023 + 60 * 0.0125 + 275 * 0.004 + 365 * 0.002) / 730, 12);
  });

  it('saves nothing for a rule that only expires', () => {
    const result = storageTieringSavings({ id: 'x', prefix: '', transitions: [], expirationDays: 90 }, catalog);
    expect(result.savingsRate).toBe(0);
    expect(result.blendedGbMonthUsd).toBe(0.023);
  });

  it('throws naming the rule for an expiration not after the last transition', () => {
    expect(() =>
      storageTieringSavings(
        { id: 'bad', prefix: '', transitions: [{ days: 90, storageClass: 'GLACIER' }], expirationDays: 60 },
        catalog,
      ),
    ).toThrow(/rule 'bad' expirationDays must be a number of days after the last transition \(90\); got 60/);
  });

  it('throws naming the rule for transitions out of day order', () => {
    expect(() =>
      storageTieringSavings(
        {
          id: 'bad',
          prefix: '',
          transitions: [
            { days: 90, storageClass: 'STANDARD_IA' },
            { days: 60, storageClass: 'GLACIER' },
          ],
        },
        catalog,
      ),
    ).toThrow(/rule 'bad' transitions\[1\]\.days/);
  });

  /** Rules S3 accepts in which every class holds an object at least its minimum storage duration. */
  const coldRule = fc
    .record({
      classes: fc.subarray(['STANDARD_IA', 'ONEZONE_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const, {
        minLength: 1,
      }),
      firstDay: fc.integer({ min: 30, max: 400 }),
      gaps: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 6, maxLength: 6 }),
      expirationExtra: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
    })
    .map(({ classes, firstDay, gaps, expirationExtra }): LifecycleRuleSpec => {
      const transitions: TransitionSpec[] = [];
      let day = firstDay;
      classes.forEach((storageClass: TransitionStorageClass, i) => {
        if (i > 0) {
          const prev = classes[i - 1]!;
          day += Math.max(MIN_STORAGE_DAYS[prev], MIN_DAYS_BEFORE_NEXT_TRANSITION[prev], 1) + gaps[i]!;
        }
        transitions.push({ days: day, storageClass });
      });
      const last = classes.at(-1)!;
      const expirationDays =
        expirationExtra === undefined ? undefined : day + Math.max(MIN_STORAGE_DAYS[last], 1) + expirationExtra;
      return { id: 'generated', prefix: '', transitions, expirationDays };
    });

  it('never blends above Standard for rules that move data to colder classes (property)', () => {
    fc.assert(
      fc.property(coldRule, (rule) => {
        const r = storageTieringSavings(rule, catalog);
        expect(r.earlyDeletionDays).toBe(0);
        expect(r.blendedGbMonthUsd).toBeLessThanOrEqual(r.standardGbMonthUsd);
        expect(r.savingsRate).toBeGreaterThanOrEqual(0);
        expect(r.segments.reduce((sum, s) => sum + s.days, 0)).toBe(r.lifetimeDays);
      }),
    );
  });
});

describe('Function: projectBucketSavings', () => {
  it("returns monthly dollars before and after for a bucket's Standard GB", () => {
    // Act
    const result = projectBucketSavings({ standardGb: 50_000 }, experiments, catalog);

    // Assess
    const blended = storageTieringSavings(experiments, catalog).blendedGbMonthUsd;
    expect(result.monthlyBeforeUsd).toBeCloseTo(1150, 10);
    expect(result.monthlyAfterUsd).toBeCloseTo(50_000 * blended, 10);
    expect(result.monthlyAfterUsd).toBeCloseTo(198.72, 2);
    expect(result.monthlySavingsUsd).toBeCloseTo(951.28, 2);
    expect(result.annualSavingsUsd).toBeCloseTo(result.monthlySavingsUsd * 12, 10);
    expect(result.savingsRate).toBeCloseTo(0.827, 3);
  });

  it('tiers only Standard bytes and prices other classes as they are', () => {
    // Prepare: 1,000 GiB in Standard, 2,000 GiB already in Glacier
    const size = { bytesByClass: { STANDARD: 1000 * BYTES_PER_GB, GLACIER: 2000 * BYTES_PER_GB } };

    // Act
    const result = projectBucketSavings(size, experiments, catalog);

    // Assess
    expect(result.standardGb).toBeCloseTo(1000, 10);
    expect(result.otherClassesMonthlyUsd).toBeCloseTo(7.2, 10);
    expect(result.monthlyBeforeUsd).toBeCloseTo(23 + 7.2, 10);
    expect(result.monthlySavingsUsd).toBeCloseTo(1000 * (0.023 - result.tiering.blendedGbMonthUsd), 10);
  });

  it('throws naming the class for negative bytes', () => {
    expect(() => projectBucketSavings({ bytesByClass: { STANDARD: -1 } }, experiments, catalog)).toThrow(
      /bytesByClass.STANDARD must be a number >= 0/,
    );
  });
});

describe('Function: idleCost', () => {
  const seedPricing = createPricing({ hoursPerMonth: 720 }, SEED_PRICES);

  it.each([
    ['g4dn.xlarge', 378.72, 189.36],
    ['g5.2xlarge', 872.64, 436.32],
    ['p3.2xlarge', 2203.2, 1101.6],
    ['p4d.24xlarge', 23_594.4, 11_797.2],
  ])("reproduces the seed's table at 720 h for %s: $%p a month 24/7, $%p at 50% idle", (type, monthly, idle) => {
    // Act
    const result = idleCost({ instanceType: type, idleFraction: 0.5 }, seedPricing);

    // Assess
    expect(result.hoursPerMonth).toBe(720);
    expect(result.monthlyCost).toBeCloseTo(monthly, 8);
    expect(result.monthlyIdleCost).toBeCloseTo(idle, 8);
    expect(result.priceSource).toBe('catalog');
  });

  it("prices the p4d.24xlarge at today's $21.96/h from the catalog: $16,030.80 a month at 730 h", () => {
    const result = idleCost({ instanceType: 'p4d.24xlarge', idleFraction: 1 }, catalog);
    expect(result.hoursPerMonth).toBe(730);
    expect(result.monthlyIdleCost).toBeCloseTo(16_030.8, 8);
    expect(result.annualIdleCost).toBeCloseTo(192_369.6, 6);
  });

  it('takes an explicit hours per month and a given hourly price', () => {
    const result = idleCost({ hourlyUsd: 0.526, idleFraction: 0.5, hoursPerMonth: 720, instances: 3 });
    expect(result.priceSource).toBe('input');
    expect(result.monthlyIdleCost).toBeCloseTo(3 * 189.36, 8);
  });

  it('throws UnknownPriceError for a type no price is known for', () => {
    expect(() => idleCost({ instanceType: 'z9.huge', idleFraction: 0.5 }, catalog)).toThrow(UnknownPriceError);
  });

  it('throws when neither a type nor a price is given', () => {
    expect(() => idleCost({ idleFraction: 0.5 })).toThrow(SavingsInputError);
  });
});

describe('Function: autoscalingSavings', () => {
  it("returns 60% for the seed's 10 -> 4 average instances", () => {
    const result = autoscalingSavings({ provisionedInstances: 10, averageInstances: 4 });
    expect(result.savingsRate).toBeCloseTo(0.6, 12);
    expect(result.savingsRatePercent).toBeCloseTo(60, 10);
    expect(result.monthlySavings).toBeUndefined();
  });

  it("reproduces the seed's $7,500 -> $3,000 from a monthly cost", () => {
    const result = autoscalingSavings({ provisionedInstances: 10, averageInstances: 4, monthlyCost: 7500 });
    expect(result.monthlyCostAfter).toBeCloseTo(3000, 10);
    expect(result.monthlySavings).toBeCloseTo(4500, 10);
    expect(result.annualSavings).toBeCloseTo(54_000, 10);
  });

  it('prices the fleet from an hourly rate: 10 x g5.xlarge = $7,343.80 a month at 730 h', () => {
    const result = autoscalingSavings({ provisionedInstances: 10, averageInstances: 4, hourlyUsd: 1.006 });
    expect(result.monthlyCostBefore).toBeCloseTo(7343.8, 8);
    expect(result.monthlyCostAfter).toBeCloseTo(2937.52, 8);
  });

  it('throws for zero provisioned instances', () => {
    expect(() => autoscalingSavings({ provisionedInstances: 0, averageInstances: 0 })).toThrow(
      'provisionedInstances must be a number > 0; got 0',
    );
  });
});

describe('Function: roi', () => {
  it("returns ROI 3,336% (net gain over cost) for the case study's $3.78M a year on $110K", () => {
    // Act
    const result = roi({ investment: 110_000, annualSavings: 3_780_000 });

    // Assess
    expect(result.netGain).toBeCloseTo(3_670_000, 6);
    expect(result.roi).toBeCloseTo(33.3636, 4);
    expect(result.roiPercent).toBeCloseTo(3336.36, 2);
    expect(result.grossReturnPercent).toBeCloseTo(3436.36, 2);
    expect(result.paybackDays).toBeCloseTo(10.62, 2);
    expect(result.paybackMonths).toBeCloseTo(0.3492, 4);
  });

  it('returns a payback of about 10.5 days on a 360-day year', () => {
    expect(roi({ investment: 110_000, annualSavings: 3_780_000, daysPerYear: 360 }).paybackDays).toBeCloseTo(10.48, 2);
  });

  it("shows the seed's 3,454% is savings over cost of its rounded $3.8M, not ROI", () => {
    const result = roi({ investment: 110_000, annualSavings: 3_800_000 });
    expect(result.grossReturnPercent).toBeCloseTo(3454.55, 2);
    expect(result.roiPercent).toBeCloseTo(3354.55, 2);
    expect(result.paybackDays).toBeCloseTo(10.57, 2);
  });

  it('throws for a zero investment', () => {
    expect(() => roi({ investment: 0, annualSavings: 1 })).toThrow('investment must be a number > 0; got 0');
  });
});

describe('Function: actionSavings', () => {
  it('returns the monthly compute saving of stopping a known type', () => {
    // Act
    const result = monthlySavingsOfStop('g5.xlarge', catalog);

    // Assess
    expect(result).toEqual(
      expect.objectContaining({ action: 'stop', instanceType: 'g5.xlarge', hourlyUsd: 1.006, source: 'catalog' }),
    );
    expect(result!.monthlyUsd).toBeCloseTo(734.38, 8);
    expect(result!.note).toMatch(/EBS/);
  });

  it('returns the saving of terminating at the configured hours and source', () => {
    const pricing = createPricing({ hoursPerMonth: 720, instanceHourlyUsd: { 'p5.48xlarge': 50 } });
    const result = monthlySavingsOfTerminate('p5.48xlarge', pricing);
    expect(result).toEqual(expect.objectContaining({ action: 'terminate', hourlyUsd: 50, source: 'override' }));
    expect(result!.monthlyUsd).toBe(36_000);
  });

  it('returns undefined when the price is unknown', () => {
    expect(monthlySavingsOfStop('z9.huge', catalog)).toBeUndefined();
    expect(monthlySavingsOfTerminate('z9.huge', catalog)).toBeUndefined();
  });

  it('prices a spot instance at the spot estimate', () => {
    const result = actionSavings('terminate', 'p3.2xlarge', catalog, { spot: true });
    expect(result!.hourlyUsd).toBeCloseTo(0.918, 10);
  });
});

describe('Function: wasteSoFar', () => {
  it('returns hourly x hours since the instance went idle', () => {
    const result = wasteSoFar(0.526, '2026-01-10T00:00:00Z', '2026-01-11T12:00:00Z');
    expect(result.idleHours).toBe(36);
    expect(result.usd).toBeCloseTo(18.936, 10);
  });

  it('returns zero when the idle start is after now', () => {
    expect(wasteSoFar(3.06, '2026-01-11T00:00:00Z', '2026-01-10T00:00:00Z')).toEqual({ idleHours: 0, usd: 0 });
  });

  it('throws naming the parameter for an unparsable timestamp', () => {
    expect(() => wasteSoFar(1, 'yesterday', '2026-01-10T00:00:00Z')).toThrow(
      'idleSinceIso must be an ISO 8601 timestamp; got yesterday',
    );
    expect(() => wasteSoFar(1, '2026-01-10T00:00:00Z', '')).toThrow(/nowIso/);
  });
});
