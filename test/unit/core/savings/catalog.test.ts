import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  ACCELERATOR_FACTS,
  type AcceleratorFacts,
  acceleratorFacts,
  createPricing,
  familyOf,
  PRICE_CATALOG,
  totalAcceleratorMemoryGiB,
} from '../../../../lambda/core/savings';
import { CATALOG_DATA } from '../../../../lambda/core/savings/catalog-data';
import {
  CATALOG_DATA_FILE,
  CATALOG_REGIONS,
  catalogTables,
  entriesFromPriceList,
  renderCatalogData,
} from '../../../../scripts/price-catalog';
import { DESCRIBED_INSTANCE_TYPES, EC2_PRODUCTS, SAGEMAKER_PRODUCTS } from './catalog-fixtures';

const REGIONAL = PRICE_CATALOG.regionalInstanceHourlyUsd!;
const HOME = PRICE_CATALOG.instanceHourlyUsd;

/** The NVIDIA, AMD and Neuron EC2 families the catalog must cover. */
const EC2_FAMILIES = [
  'g4dn',
  'g4ad',
  'g5',
  'g5g',
  'g6',
  'g6e',
  'g6f',
  'gr6',
  'p3',
  'p3dn',
  'p4d',
  'p4de',
  'p5',
  'p5e',
  'p5en',
  'p6-b200',
  'inf1',
  'inf2',
  'trn1',
  'trn1n',
  'trn2',
];
/** The SageMaker families the catalog must price in us-east-1. */
const SAGEMAKER_FAMILIES = ['ml.g4dn', 'ml.g5', 'ml.g6', 'ml.g6e', 'ml.p3', 'ml.p4d', 'ml.p5', 'ml.inf2', 'ml.trn1'];

const facts = (type: string): AcceleratorFacts => {
  const f = acceleratorFacts(type);
  if (!f) throw new Error(`no accelerator facts for ${type}`);
  return f;
};

describe('Constant: CATALOG_DATA', () => {
  it('is dated, names its sources, and covers the seven regions ML teams use most', () => {
    expect(CATALOG_DATA.asOf).toMatch(/^20\d{2}-(0[1-9]|1[0-2])$/);
    expect(CATALOG_DATA.sources.length).toBeGreaterThan(0);
    for (const source of CATALOG_DATA.sources) expect(source.length).toBeGreaterThan(20);
    for (const region of CATALOG_REGIONS) expect(Object.keys(CATALOG_DATA.ec2OnDemandLinuxUsd)).toContain(region);
    expect(Object.keys(CATALOG_DATA.sageMakerHostingUsd)).toContain('us-east-1');
    expect(PRICE_CATALOG.asOf).toBe(CATALOG_DATA.asOf);
    expect(PRICE_CATALOG.sources).toEqual(CATALOG_DATA.sources);
  });

  it('prices each type at a positive, finite figure, and knows the accelerators of each', () => {
    for (const [region, table] of Object.entries(REGIONAL)) {
      for (const [type, usd] of Object.entries(table)) {
        expect(Number.isFinite(usd) && usd > 0).toBe(true);
        expect({ region, type, facts: acceleratorFacts(type) !== undefined }).toEqual({ region, type, facts: true });
      }
    }
  });

  it('keeps EC2 types in the EC2 table and SageMaker ml.* types in the SageMaker table', () => {
    for (const table of Object.values(CATALOG_DATA.ec2OnDemandLinuxUsd)) {
      for (const type of Object.keys(table)) expect(type).not.toMatch(/^ml\./);
    }
    for (const table of Object.values(CATALOG_DATA.sageMakerHostingUsd)) {
      for (const type of Object.keys(table)) expect(type).toMatch(/^ml\./);
    }
  });

  it('has every listed NVIDIA and Neuron family, priced in us-east-1 unless it says why not', () => {
    for (const family of EC2_FAMILIES) {
      const sizes = Object.keys(ACCELERATOR_FACTS).filter((t) => familyOf(t) === family);
      expect({ family, sizes: sizes.length > 0 }).toEqual({ family, sizes: true });
      const priced = sizes.filter((t) => HOME[t] !== undefined);
      const unpriced = sizes.filter((t) => HOME[t] === undefined);
      // A family without any us-east-1 price must be one the catalog explains (no published on-demand price).
      if (priced.length === 0) for (const t of unpriced) expect(PRICE_CATALOG.unpriced?.[t]).toMatch(/on-demand/);
    }
    const priced = EC2_FAMILIES.filter((f) => Object.keys(HOME).some((t) => familyOf(t) === f));
    expect(priced).toEqual(EC2_FAMILIES.filter((f) => !['p5e', 'trn2'].includes(f)));
    for (const family of SAGEMAKER_FAMILIES) {
      expect({ family, priced: Object.keys(HOME).some((t) => familyOf(t) === family) }).toEqual({
        family,
        priced: true,
      });
    }
  });

  it('prices every size of the accelerator facts table in us-east-1, but those it explains', () => {
    const missing = Object.keys(ACCELERATOR_FACTS).filter((t) => HOME[t] === undefined);
    expect(missing.sort()).toEqual(Object.keys(PRICE_CATALOG.unpriced ?? {}).sort());
  });

  it('prices g5.4xlarge, g5.12xlarge and g5.48xlarge (they had no price before)', () => {
    for (const type of ['g5.4xlarge', 'g5.12xlarge', 'g5.48xlarge']) {
      expect(createPricing().instanceHourly(type)?.source).toBe('catalog');
    }
  });

  it('keeps the us-east-1 figures the rest of the code and its tests rely on', () => {
    expect(HOME).toMatchObject({
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
});

describe('Plausibility: prices by size', () => {
  /**
   * Sizes of a family are compared on the machine, not the name: g5.16xlarge (1 GPU, 64 vCPUs, $4.10) costs less
   * than g5.12xlarge (4 GPUs, 48 vCPUs, $5.67), and neither has more of both. The rule: a size with at least as many
   * accelerators and at least as many vCPUs as another, and more of one of them, costs more.
   */
  it.each(Object.keys(REGIONAL))('holds in %s, for EC2 and SageMaker types alike', (region) => {
    const table = REGIONAL[region]!;
    const byFamily = new Map<string, string[]>();
    for (const type of Object.keys(table))
      byFamily.set(familyOf(type), [...(byFamily.get(familyOf(type)) ?? []), type]);
    let compared = 0;
    for (const types of byFamily.values()) {
      for (const small of types) {
        for (const big of types) {
          const s = facts(small);
          const b = facts(big);
          const dominates = b.count >= s.count && b.vcpus >= s.vcpus && (b.count > s.count || b.vcpus > s.vcpus);
          if (!dominates) continue;
          compared++;
          expect({ small, big, ok: table[small]! < table[big]! }).toEqual({ small, big, ok: true });
        }
      }
    }
    expect(compared).toBeGreaterThan(0);
  });

  it('charges more for g5.xlarge < 2xlarge < 4xlarge < 8xlarge < 16xlarge, and g5.12xlarge < 24xlarge < 48xlarge', () => {
    const order = (types: string[]) => types.map((t) => HOME[`g5.${t}`]!);
    const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
    expect(ascending(order(['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge']))).toBe(true);
    expect(ascending(order(['12xlarge', '24xlarge', '48xlarge']))).toBe(true);
    expect(HOME['g5.16xlarge']).toBeLessThan(HOME['g5.12xlarge']!); // 1 GPU vs 4: the name misleads
  });
});

describe('Plausibility: prices by region', () => {
  it('prices every type within 0.9x-1.6x of its us-east-1 figure, and only types us-east-1 knows', () => {
    let compared = 0;
    for (const [region, table] of Object.entries(REGIONAL)) {
      for (const [type, usd] of Object.entries(table)) {
        const home = HOME[type];
        expect({ region, type, inHome: home !== undefined }).toEqual({ region, type, inHome: true });
        const ratio = usd / home!;
        expect({ region, type, ratio, ok: ratio >= 0.9 && ratio <= 1.6 }).toMatchObject({ region, type, ok: true });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('prices the same machine higher on SageMaker than on EC2', () => {
    for (const [type, usd] of Object.entries(HOME)) {
      if (!type.startsWith('ml.')) continue;
      const ec2 = HOME[type.slice(3)];
      expect({ type, ok: ec2 !== undefined && usd > ec2 && usd < ec2 * 1.6 }).toEqual({ type, ok: true });
    }
  });
});

describe('Constant: ACCELERATOR_FACTS', () => {
  it.each(DESCRIBED_INSTANCE_TYPES.map((d) => [d.InstanceType, d] as const))(
    'matches DescribeInstanceTypes for %s',
    (type, described) => {
      const device = described.GpuInfo?.Gpus[0] ?? described.NeuronInfo!.NeuronDevices[0]!;
      expect(facts(type)).toMatchObject({
        kind: described.GpuInfo ? 'gpu' : 'neuron',
        model: device.Name,
        count: device.Count,
        memoryMiB: device.MemoryInfo.SizeInMiB,
        vcpus: described.VCpuInfo.DefaultVCpus,
      });
      // The SageMaker type runs on the same machine.
      expect(acceleratorFacts(`ml.${type}`)).toBe(facts(type));
    },
  );

  it('gives the memory an instance has in all, a share of one GPU for the fractional g6f sizes', () => {
    expect(totalAcceleratorMemoryGiB(facts('g5.48xlarge'))).toBe(192);
    expect(totalAcceleratorMemoryGiB(facts('p4d.24xlarge'))).toBe(320);
    expect(totalAcceleratorMemoryGiB(facts('g6f.large'))).toBeCloseTo(22888 / 1024 / 8, 10);
    expect(acceleratorFacts('m5.large')).toBeUndefined();
    expect(acceleratorFacts('constructor')).toBeUndefined();
  });
});

describe('Function: entriesFromPriceList (the generator transform)', () => {
  it('keeps on-demand Linux shared-tenancy EC2 prices of tracked families and skips the rest', () => {
    const entries = entriesFromPriceList('ec2', EC2_PRODUCTS);
    expect(entries).toEqual([
      { service: 'ec2', region: 'us-east-1', instanceType: 'g5.xlarge', usd: 1.006 },
      { service: 'ec2', region: 'eu-west-1', instanceType: 'g5.xlarge', usd: 1.123 },
      { service: 'ec2', region: 'us-east-1', instanceType: 'p5.48xlarge', usd: 55.04 },
      { service: 'ec2', region: 'us-east-1', instanceType: 'inf2.xlarge', usd: 0.7582 },
    ]);
  });

  it('keeps SageMaker real-time inference (Hosting) prices of ml.* types only', () => {
    expect(entriesFromPriceList('sagemaker', SAGEMAKER_PRODUCTS)).toEqual([
      { service: 'sagemaker', region: 'us-east-1', instanceType: 'ml.g5.xlarge', usd: 1.4084 },
    ]);
    // EC2 products are not SageMaker ones, and the other way round.
    expect(entriesFromPriceList('sagemaker', EC2_PRODUCTS)).toEqual([]);
    expect(entriesFromPriceList('ec2', SAGEMAKER_PRODUCTS)).toEqual([]);
  });
});

describe('Function: catalogTables', () => {
  it('folds entries into region tables per service, keeping the lower of two disagreeing prices', () => {
    // Prepare
    const entries = [
      ...entriesFromPriceList('ec2', EC2_PRODUCTS),
      ...entriesFromPriceList('sagemaker', SAGEMAKER_PRODUCTS),
      { service: 'ec2' as const, region: 'us-east-1', instanceType: 'g5.xlarge', usd: 1.1 },
    ];

    // Act
    const { ec2, sagemaker, conflicts } = catalogTables(entries);

    // Assess
    expect(ec2).toEqual({
      'us-east-1': { 'g5.xlarge': 1.006, 'p5.48xlarge': 55.04, 'inf2.xlarge': 0.7582 },
      'eu-west-1': { 'g5.xlarge': 1.123 },
    });
    expect(sagemaker).toEqual({ 'us-east-1': { 'ml.g5.xlarge': 1.4084 } });
    expect(conflicts).toEqual([
      { service: 'ec2', region: 'us-east-1', instanceType: 'g5.xlarge', prices: [1.006, 1.1] },
    ]);
  });
});

describe('Function: renderCatalogData', () => {
  it('renders the committed catalog file exactly, so the generator and the file agree on the format', () => {
    // Prepare: the committed file and its header comment
    const text = readFileSync(path.join(__dirname, '..', '..', '..', '..', CATALOG_DATA_FILE), 'utf8');
    const header = text
      .slice(text.indexOf('/**') + 3, text.indexOf('*/'))
      .split('\n')
      .slice(1, -1)
      .map((line) => line.replace(/^ \* ?/, '').replace(/^ \*$/, ''));

    // Act
    const rendered = renderCatalogData({
      asOf: CATALOG_DATA.asOf,
      sources: CATALOG_DATA.sources,
      header,
      ec2: CATALOG_DATA.ec2OnDemandLinuxUsd as Record<string, Record<string, number>>,
      sagemaker: CATALOG_DATA.sageMakerHostingUsd as Record<string, Record<string, number>>,
    });

    // Assess
    expect(rendered).toBe(text);
  });

  it('orders regions us-east-1 first and sizes smallest first, and rejects a malformed date', () => {
    const text = renderCatalogData({
      asOf: '2026-08',
      sources: ['test'],
      header: ['test'],
      ec2: { 'eu-west-1': { 'g5.xlarge': 1.123 }, 'us-east-1': { 'g5.48xlarge': 16.288, 'g5.xlarge': 1.006 } },
      sagemaker: {},
    });
    expect(text.indexOf("'us-east-1'")).toBeLessThan(text.indexOf("'eu-west-1'"));
    expect(text.indexOf("'g5.xlarge': 1.006")).toBeLessThan(text.indexOf("'g5.48xlarge': 16.288"));
    expect(() => renderCatalogData({ asOf: 'Aug 2026', sources: [], header: [], ec2: {}, sagemaker: {} })).toThrow(
      /YYYY-MM/,
    );
  });
});
