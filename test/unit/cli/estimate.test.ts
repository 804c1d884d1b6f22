import { ESTIMATE_USAGE, estimateCommand, formatPercent } from '../../../lambda/cli/estimate';
import { type CliIO, UsageError } from '../../../lambda/cli/io';
import { formatUsd } from '../../../lambda/core/money';
import { PRICE_CATALOG } from '../../../lambda/core/savings';

/** A CliIO that records what the command writes. */
function fakeIO(): CliIO & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    env: {},
    isTTY: false,
    cwd: '/nowhere',
    now: () => {
      throw new Error('estimate must not read the clock');
    },
    stdout: () => out.join('\n'),
    stderr: () => err.join('\n'),
  };
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = fakeIO();
  const code = await estimateCommand(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function runJson(argv: string[]): Promise<Record<string, unknown>> {
  const { code, out } = await run([...argv, '--json']);
  expect(code).toBe(0);
  return JSON.parse(out) as Record<string, unknown>;
}

async function usageError(argv: string[]): Promise<UsageError> {
  const error = await estimateCommand(argv, fakeIO()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return error as UsageError;
}

const GPU = ['gpu', '--monthly-spend', '200000', '--current-utilization', '0.3', '--target-utilization', '0.7'];

describe('Function: estimateCommand', () => {
  describe('gpu', () => {
    it('prints a JSON object with the savings figures when --json is given', async () => {
      // Act
      const json = await runJson(GPU);

      // Assess
      expect(json['calculator']).toBe('gpu');
      expect(json['totalMonthlySavings']).toBeCloseTo(150_285.71, 2);
      expect(json['annualSavings']).toBeCloseTo(1_803_428.57, 2);
      expect(json['savingsRate']).toBeCloseTo(0.7514, 4);
      expect(json['savingsRatePercent']).toBeCloseTo(75.1, 1);
      expect(json['utilizationSavings']).toBeCloseTo(114_285.71, 2);
      expect(json['spotSavings']).toBeCloseTo(36_000, 6);
    });

    it('passes the optional spot flags to the calculator', async () => {
      const json = await runJson([...GPU, '--spot-eligible', '0', '--spot-discount', '0.5']);
      expect(json['spotSavings']).toBe(0);
      expect(json['spotDiscount']).toBe(0.5);
    });

    it('prints a readable table with dollar formatting by default', async () => {
      // Act
      const { code, out } = await run(GPU);

      // Assess
      expect(code).toBe(0);
      expect(out).toMatch(/^GPU savings/);
      expect(out).toMatch(/Right-sizing savings\s+\$114,285\.71/);
      expect(out).toMatch(/Spot savings .*\s+\$36,000\.00/);
      expect(out).toMatch(/Total monthly savings\s+\$150,285\.71/);
      expect(out).toMatch(/Annual savings\s+\$1,803,428\.57/);
      expect(out).toMatch(/Savings rate\s+75\.1%/);
      expect(() => JSON.parse(out)).toThrow();
    });

    it('right-aligns the values in one column', async () => {
      const { out } = await run(GPU);
      const rows = out.split('\n').filter((line) => line.includes('$'));
      const ends = new Set(rows.map((line) => line.length));
      expect(rows.length).toBeGreaterThan(4);
      expect(ends.size).toBe(1);
    });

    it('accepts --flag=value and underscores in numbers', async () => {
      const json = await runJson([
        'gpu',
        '--monthly-spend=200_000',
        '--current-utilization=0.3',
        '--target-utilization=0.7',
      ]);
      expect(json['totalMonthlySavings']).toBeCloseTo(150_285.71, 2);
    });
  });

  describe('other calculators', () => {
    it('returns $650 a month for the network example', async () => {
      const json = await runJson([
        'network',
        '--monthly-egress-gb',
        '10000',
        '--cost-per-gb',
        '0.10',
        '--strategies',
        'data_locality,compression',
      ]);
      expect(json['monthlySavings']).toBeCloseTo(650, 8);
      expect(json['annualSavings']).toBeCloseTo(7800, 8);
      expect(json['strategies']).toEqual(['data_locality', 'compression']);
    });

    it('accepts kebab-case strategy names and lists each strategy in the table', async () => {
      const { out } = await run([
        'network',
        '--monthly-egress-gb',
        '10000',
        '--cost-per-gb',
        '0.1',
        '--strategies',
        'data-locality, caching',
      ]);
      expect(out).toMatch(/data_locality\s+30\.0%\s+3,000\s+7,000\s+\$300\.00/);
      expect(out).toMatch(/caching\s+40\.0%\s+2,800\s+4,200\s+\$280\.00/);
      expect(out).toMatch(/Monthly savings\s+\$580\.00/);
    });

    it('defaults the network cost per GB to the catalog egress price', async () => {
      const json = await runJson(['network', '--monthly-egress-gb', '1000', '--strategies', 'compression']);
      expect(json['costPerGb']).toBe(0.09);
      expect(json['monthlySavings']).toBeCloseTo(45, 8);
    });

    it('recommends RESERVE and $16,320 a year for the reservation example', async () => {
      const json = await runJson(['reservation', '--monthly-on-demand-cost', '10000', '--monthly-hours-used', '500']);
      expect(json['recommendation']).toBe('RESERVE');
      expect(json['monthlyReservedCost']).toBeCloseTo(8640, 8);
      expect(json['annualSavings']).toBeCloseTo(16_320, 8);
      const { out } = await run(['reservation', '--monthly-on-demand-cost', '10000', '--monthly-hours-used', '500']);
      expect(out).toMatch(/On-demand rate\s+\$20\.00\/h/);
      expect(out).toMatch(/Recommendation\s+RESERVE/);
    });

    it('returns 82.7% for the default experiments rule, and a bucket projection with --gb', async () => {
      const json = await runJson(['storage', '--gb', '50000']);
      expect(json['ruleId']).toBe('experiment-artifacts');
      expect(json['savingsRate']).toBeCloseTo(0.827, 3);
      const bucket = json['bucket'] as Record<string, number>;
      expect(bucket['monthlyBeforeUsd']).toBeCloseTo(1150, 8);
      expect(bucket['monthlyAfterUsd']).toBeCloseTo(198.72, 2);
      expect(bucket).not.toHaveProperty('tiering');
    });

    it('prints the storage class segments and the horizon note for a rule without expiration', async () => {
      const { out } = await run(['storage', '--rule', 'model-checkpoints']);
      expect(out).toMatch(/STANDARD_IA\s+365\s+30\s+395\s+365\s+\$0\.0125/);
      expect(out).toMatch(/no expiration/);
    });

    it("reproduces the chapter's idle table row with its prices at 720 h", async () => {
      const json = await runJson(['idle', '--instance-type', 'p4d.24xlarge', '--chapter-prices']);
      expect(json['hourlyUsd']).toBe(32.77);
      expect(json['hoursPerMonth']).toBe(720);
      expect(json['monthlyCost']).toBeCloseTo(23_594.4, 6);
      expect(json['monthlyIdleCost']).toBeCloseTo(11_797.2, 6);
    });

    it('prices idle time from the catalog at the given hours', async () => {
      const { out } = await run(['idle', '--instance-type', 'g4dn.xlarge', '--hours-per-month', '720']);
      expect(out).toMatch(/On-demand rate\s+\$0\.526\/h/);
      expect(out).toMatch(/Monthly cost \(24\/7\)\s+\$378\.72/);
      expect(out).toMatch(/Idle cost a month \(50\.0% idle\)\s+\$189\.36/);
      expect(out).toContain(`, ${PRICE_CATALOG.asOf}.`);
    });

    it('prices every size of a family, g5.48xlarge and g5.12xlarge included', async () => {
      const big = await runJson(['idle', '--instance-type', 'g5.48xlarge']);
      expect(big['hourlyUsd']).toBe(PRICE_CATALOG.instanceHourlyUsd['g5.48xlarge']);
      expect(big['priceSource']).toBe('catalog');
      const sageMaker = await runJson(['idle', '--instance-type', 'ml.g5.12xlarge']);
      expect(sageMaker['hourlyUsd']).toBe(PRICE_CATALOG.instanceHourlyUsd['ml.g5.12xlarge']);
    });

    it("prices idle time in the region asked, and says when it falls back to us-east-1's figure", async () => {
      // Act: eu-west-1 has a g5.12xlarge figure; ap-southeast-1 does not offer g5
      const euWest = await runJson(['idle', '--instance-type', 'g5.12xlarge', '--region', 'eu-west-1']);
      const singapore = await runJson(['idle', '--instance-type', 'g5.12xlarge', '--region', 'ap-southeast-1']);
      const { out } = await run(['idle', '--instance-type', 'g5.12xlarge', '--region', 'ap-southeast-1']);

      // Assess
      expect(euWest).toMatchObject({
        hourlyUsd: PRICE_CATALOG.regionalInstanceHourlyUsd!['eu-west-1']!['g5.12xlarge'],
        priceRegion: 'eu-west-1',
      });
      expect(euWest['priceFallback']).toBeUndefined();
      expect(singapore).toMatchObject({
        hourlyUsd: PRICE_CATALOG.instanceHourlyUsd['g5.12xlarge'],
        priceRegion: 'us-east-1',
        priceFallback: true,
      });
      expect(out).toContain('us-east-1 (the catalog has no g5.12xlarge figure for ap-southeast-1)');
    });

    it('returns 60% for auto-scaling 10 -> 4 instances', async () => {
      const json = await runJson([
        'autoscaling',
        '--provisioned-instances',
        '10',
        '--average-instances',
        '4',
        '--monthly-cost',
        '7500',
      ]);
      expect(json['savingsRate']).toBeCloseTo(0.6, 10);
      expect(json['monthlyCostAfter']).toBeCloseTo(3000, 8);
    });

    it('reports ROI as net gain over cost and the payback in days', async () => {
      const json = await runJson(['roi', '--investment', '110000', '--annual-savings', '3780000']);
      expect(json['roiPercent']).toBeCloseTo(3336.36, 2);
      expect(json['grossReturnPercent']).toBeCloseTo(3436.36, 2);
      expect(json['paybackDays']).toBeCloseTo(10.62, 2);
      const { out } = await run(['roi', '--investment', '110000', '--annual-savings', '3780000']);
      expect(out).toMatch(/ROI \(net gain \/ cost\)\s+3,336\.4%/);
      expect(out).toMatch(/Payback\s+10\.6 days/);
    });
  });

  describe('help', () => {
    it('prints the estimate usage and returns 0 for --help', async () => {
      const { code, out } = await run(['--help']);
      expect(code).toBe(0);
      expect(out).toBe(ESTIMATE_USAGE);
      for (const name of ['gpu', 'network', 'reservation', 'storage', 'idle', 'autoscaling', 'roi']) {
        expect(out).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
      }
    });

    it.each([
      ['gpu', '--current-utilization N'],
      ['network', '--strategies VALUE'],
      ['reservation', '--monthly-hours-used N'],
      ['storage', '--rule VALUE'],
      ['idle', '--instance-type VALUE'],
      ['autoscaling', '--average-instances N'],
      ['roi', '--annual-savings N'],
    ])('prints the flags of %s and returns 0 for --help', async (name, flag) => {
      const { code, out } = await run([name, '--help']);
      expect(code).toBe(0);
      expect(out).toContain(`Usage: cost-guard estimate ${name}`);
      expect(out).toContain(flag);
    });

    it('prints help even when required flags are missing', async () => {
      const { code, out } = await run(['gpu', '-h']);
      expect(code).toBe(0);
      expect(out).toMatch(/\[required\]/);
      expect(out).toMatch(/\[default: 0\.6\]/);
    });
  });

  describe('bad input', () => {
    it('throws a UsageError naming the flag for a non-numeric value', async () => {
      const error = await usageError(['gpu', '--monthly-spend', '200000', '--current-utilization', 'abc']);
      expect(error.message).toBe("--current-utilization must be a number in (0, 1]; got 'abc'");
      expect(error.usage).toContain('Usage: cost-guard estimate gpu');
    });

    it('hints at fractions when a utilization is given in percent', async () => {
      const error = await usageError([
        'gpu',
        '--monthly-spend',
        '1',
        '--current-utilization',
        '30',
        '--target-utilization',
        '0.7',
      ]);
      expect(error.message).toMatch(/^--current-utilization must be a number in \(0, 1\]; got '30' \(a fraction/);
    });

    it('throws a UsageError naming a missing required flag', async () => {
      const error = await usageError(['gpu', '--monthly-spend', '1', '--current-utilization', '0.3']);
      expect(error.message).toBe('--target-utilization is required (a number in (0, 1])');
    });

    it('throws a UsageError for an unknown flag', async () => {
      const error = await usageError([...GPU, '--colour', 'red']);
      expect(error.message).toBe('unknown option --colour');
    });

    it('suggests the closest flag for a mistyped one', async () => {
      const error = await usageError([...GPU, '--monthly-spnd', '5']);
      expect(error.message).toBe('unknown option --monthly-spnd; did you mean --monthly-spend?');
    });

    it('names --chapter-prices when given the old --seed-prices', async () => {
      const error = await usageError(['idle', '--instance-type', 'p4d.24xlarge', '--seed-prices']);
      expect(error.message).toBe('unknown option --seed-prices; it is now --chapter-prices');
    });

    it('names the source chapter, not an internal name, in notes, help and price sources', async () => {
      const texts = [
        (await run([...GPU])).out,
        (await run(['idle', '--instance-type', 'p4d.24xlarge', '--chapter-prices'])).out,
        (await run(['idle', '--help'])).out,
      ];
      for (const text of texts) expect(text).not.toMatch(/\bseed\b/i);
      expect(texts[0]).toContain("the 'Infrastructure Cost Optimization' chapter (4.2) adds both levers");
      expect(texts[1]).toContain("the price table of the 'Infrastructure Cost Optimization' chapter (4.2)");
      expect(texts[2]).toContain('--chapter-prices');
    });

    it('throws a UsageError for a stray positional argument', async () => {
      const error = await usageError([...GPU, 'extra']);
      expect(error.message).toBe("unexpected argument 'extra'");
    });

    it('throws a UsageError for a negative spend, and explains how to write negatives', async () => {
      expect((await usageError(['gpu', '--monthly-spend=-5'])).message).toBe(
        "--monthly-spend must be a number >= 0; got '-5'",
      );
      expect((await usageError(['gpu', '--monthly-spend', '-5'])).message).toMatch(/--monthly-spend needs a value/);
    });

    it('names the flag when the calculator rejects a combination of values', async () => {
      const error = await usageError([
        'reservation',
        '--monthly-on-demand-cost',
        '10000',
        '--monthly-hours-used',
        '800',
      ]);
      expect(error.message).toMatch(/^--monthly-hours-used must be a number in \(0, 720\].*; got '800'$/);
    });

    it('rejects an unknown network strategy', async () => {
      const error = await usageError(['network', '--monthly-egress-gb', '1', '--strategies', 'teleport']);
      expect(error.message).toMatch(/unknown strategy 'teleport'/);
    });

    it('rejects an unknown storage rule, listing the default ones', async () => {
      const error = await usageError(['storage', '--rule', 'nope']);
      expect(error.message).toMatch(/--rule 'nope'.*experiment-artifacts, model-checkpoints/);
    });

    it('rejects an instance type without a known price instead of guessing', async () => {
      const error = await usageError(['idle', '--instance-type', 'z9.huge']);
      expect(error.message).toMatch(/--instance-type 'z9.huge' has no known price; give --hourly-usd/);
    });

    it("names the family's known sizes for an unknown size, and says why a known type has no price", async () => {
      expect((await usageError(['idle', '--instance-type', 'g5.99xlarge'])).message).toMatch(
        /has no known price; give --hourly-usd, or a known g5 size: g5\.xlarge, g5\.2xlarge, .*g5\.48xlarge$/,
      );
      expect((await usageError(['idle', '--instance-type', 'trn2.48xlarge'])).message).toMatch(
        /has no known price; give --hourly-usd \(.*Capacity Blocks/,
      );
      expect((await usageError(['idle', '--instance-type', 'g5.xlarge', '--region', 'mars'])).message).toBe(
        "--region 'mars' is not an AWS region code (like us-east-1)",
      );
    });

    it('rejects idle without a price and with two prices', async () => {
      expect((await usageError(['idle'])).message).toBe('give --instance-type or --hourly-usd');
      expect((await usageError(['idle', '--instance-type', 'g5.xlarge', '--hourly-usd', '1'])).message).toMatch(
        /not both/,
      );
    });

    it('throws a UsageError with the estimate usage for a missing or unknown calculator', async () => {
      const missing = await usageError([]);
      expect(missing.message).toMatch(/^name a calculator: gpu, network/);
      expect(missing.usage).toBe(ESTIMATE_USAGE);
      expect((await usageError(['gpus'])).message).toMatch(
        /^unknown calculator 'gpus'; did you mean gpu\? choose one of/,
      );
      expect((await usageError(['xyz'])).message).toMatch(/^unknown calculator 'xyz'; choose one of/);
      expect((await usageError(['--json'])).message).toMatch(/name a calculator before the flags/);
    });
  });
});

describe('Function: formatUsd', () => {
  it.each([
    [1_803_428.5714, '$1,803,428.57'],
    [1.005, '$1.01'],
    [0, '$0.00'],
    [-2640, '-$2,640.00'],
  ])('formats %p as %p', (value, expected) => {
    expect(formatUsd(value)).toBe(expected);
  });
});

describe('Function: formatPercent', () => {
  it.each([
    [0.7514285, '75.1%'],
    [33.363636, '3,336.4%'],
    [0, '0.0%'],
  ])('formats %p as %p', (value, expected) => {
    expect(formatPercent(value)).toBe(expected);
  });
});
