/**
 * The pure half of the price catalog generator: AWS Price List products (the JSON strings GetProducts returns) in,
 * catalog tables and the source of lambda/core/savings/catalog-data.ts out. Writes nothing and calls nothing;
 * scripts/gen-price-catalog.ts fetches the products and writes the file, and a unit test runs this on a fixture.
 */
import {
  ACCELERATOR_FACTS,
  compareInstanceTypes,
  ec2TypeOf,
  familyOf,
  SAGEMAKER_PREFIX,
} from '../lambda/core/savings/gpu-facts';

/** Where the generated catalog lives, relative to the repository root. */
export const CATALOG_DATA_FILE = 'lambda/core/savings/catalog-data.ts';

/** The regions the catalog covers: those ML teams use most. us-east-1 first: it is the fallback. */
export const CATALOG_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-northeast-1',
  'ap-southeast-1',
] as const;

/** Which price list a product comes from: EC2 on-demand, or SageMaker real-time inference (hosting). */
export type PriceListService = 'ec2' | 'sagemaker';

/** One hourly price: an instance type in a region. */
export interface CatalogEntry {
  readonly service: PriceListService;
  readonly region: string;
  readonly instanceType: string;
  readonly usd: number;
}

/** Region -> instance type -> $/h. */
export type CatalogTable = Record<string, Record<string, number>>;

interface PriceDimension {
  readonly unit?: string;
  readonly pricePerUnit?: { readonly USD?: string };
}

interface PriceListProduct {
  readonly product?: { readonly productFamily?: string; readonly attributes?: Readonly<Record<string, string>> };
  readonly terms?: {
    readonly OnDemand?: Readonly<
      Record<string, { readonly priceDimensions?: Readonly<Record<string, PriceDimension>> }>
    >;
  };
}

/**
 * The attributes an EC2 product must have to be the plain on-demand Linux price of an instance (GetProducts is asked
 * for the same, but the check is repeated here so a loose filter or a hand-written fixture cannot slip a Windows,
 * dedicated or reserved-capacity price in).
 */
const EC2_LINUX_ON_DEMAND: Readonly<Record<string, string>> = {
  operatingSystem: 'Linux',
  tenancy: 'Shared',
  preInstalledSw: 'NA',
  capacitystatus: 'Used',
  licenseModel: 'No License required',
};

/** Is this an instance type the catalog tracks (a family of the accelerator facts table)? */
export function isTrackedType(instanceType: string): boolean {
  const ec2Type = ec2TypeOf(instanceType);
  const family = familyOf(ec2Type);
  return Object.keys(ACCELERATOR_FACTS).some((known) => familyOf(known) === family);
}

/** The hourly USD price of a product's on-demand terms; undefined when it has none or the dimensions disagree. */
function onDemandHourly(product: PriceListProduct): number | undefined {
  const prices = Object.values(product.terms?.OnDemand ?? {})
    .flatMap((term) => Object.values(term.priceDimensions ?? {}))
    .filter((d) => d.unit === 'Hrs')
    .map((d) => Number(d.pricePerUnit?.USD))
    .filter((n) => Number.isFinite(n) && n > 0);
  if (prices.length === 0 || prices.some((p) => p !== prices[0])) return undefined;
  return prices[0];
}

/**
 * Catalog entries from Price List products. EC2: the on-demand Linux, shared-tenancy price of each instance type.
 * SageMaker: the real-time inference (`component: Hosting`) price of each `ml.*` instance. Products of other kinds,
 * without an hourly price, or of families the accelerator facts do not track are skipped; a product that is not JSON
 * is skipped too (GetProducts returns strings).
 */
export function entriesFromPriceList(service: PriceListService, products: readonly string[]): CatalogEntry[] {
  const entries: CatalogEntry[] = [];
  for (const raw of products) {
    let product: PriceListProduct;
    try {
      product = JSON.parse(raw) as PriceListProduct;
    } catch {
      continue;
    }
    const attributes = product.product?.attributes ?? {};
    const region = attributes['regionCode'];
    const instanceType = service === 'ec2' ? attributes['instanceType'] : attributes['instanceName'];
    if (!region || !instanceType || !isTrackedType(instanceType)) continue;
    if (service === 'ec2') {
      if (instanceType.startsWith(SAGEMAKER_PREFIX)) continue;
      if (Object.entries(EC2_LINUX_ON_DEMAND).some(([key, value]) => attributes[key] !== value)) continue;
    } else if (!instanceType.startsWith(SAGEMAKER_PREFIX) || attributes['component'] !== 'Hosting') {
      continue;
    }
    const usd = onDemandHourly(product);
    if (usd !== undefined) entries.push({ service, region, instanceType, usd });
  }
  return entries;
}

/** Two products that price the same type in the same region differently. */
export interface PriceConflict {
  readonly service: PriceListService;
  readonly region: string;
  readonly instanceType: string;
  readonly prices: readonly number[];
}

/**
 * Folds entries into one table per service: region -> type -> $/h. Where products disagree the lower price is kept
 * (a savings figure had better understate than overstate) and the disagreement is returned for the maintainer.
 */
export function catalogTables(entries: readonly CatalogEntry[]): {
  readonly ec2: CatalogTable;
  readonly sagemaker: CatalogTable;
  readonly conflicts: PriceConflict[];
} {
  const seen = new Map<string, { entry: CatalogEntry; prices: Set<number> }>();
  for (const entry of entries) {
    const key = `${entry.service} ${entry.region} ${entry.instanceType}`;
    const known = seen.get(key);
    if (!known) seen.set(key, { entry, prices: new Set([entry.usd]) });
    else known.prices.add(entry.usd);
  }
  const ec2: CatalogTable = {};
  const sagemaker: CatalogTable = {};
  const conflicts: PriceConflict[] = [];
  for (const { entry, prices } of seen.values()) {
    const table = entry.service === 'ec2' ? ec2 : sagemaker;
    const all = [...prices].sort((a, b) => a - b);
    if (all.length > 1) {
      conflicts.push({ service: entry.service, region: entry.region, instanceType: entry.instanceType, prices: all });
    }
    table[entry.region] ??= {};
    table[entry.region]![entry.instanceType] = all[0]!;
  }
  return { ec2, sagemaker, conflicts };
}

/** What the rendered file says about itself. */
export interface CatalogDataInput {
  /** Month the prices were read, YYYY-MM. */
  readonly asOf: string;
  /** Where the figures come from, one line each. */
  readonly sources: readonly string[];
  /** Comment lines for the file header: how it was made, what it leaves out and why. */
  readonly header: readonly string[];
  readonly ec2: CatalogTable;
  readonly sagemaker: CatalogTable;
}

function renderTable(name: string, doc: string, table: CatalogTable): string[] {
  const regions = Object.keys(table).sort((a, b) => regionRank(a) - regionRank(b) || (a < b ? -1 : 1));
  const lines = [`  /** ${doc} */`, `  ${name}: {`];
  for (const region of regions) {
    lines.push(`    '${region}': {`);
    const types = Object.keys(table[region]!).sort(compareInstanceTypes);
    for (const type of types) lines.push(`      '${type}': ${table[region]![type]},`);
    lines.push('    },');
  }
  lines.push('  },');
  return lines;
}

function regionRank(region: string): number {
  const i = (CATALOG_REGIONS as readonly string[]).indexOf(region);
  return i < 0 ? CATALOG_REGIONS.length : i;
}

const quote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The TypeScript source of lambda/core/savings/catalog-data.ts. */
export function renderCatalogData(input: CatalogDataInput): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(input.asOf)) throw new RangeError(`asOf must be YYYY-MM; got ${input.asOf}`);
  return [
    '/**',
    ...input.header.map((line) => (line ? ` * ${line}` : ' *')),
    ' */',
    '',
    '/** Region -> instance type -> on-demand $/h. */',
    'export type RegionalPrices = Readonly<Record<string, Readonly<Record<string, number>>>>;',
    '',
    'export interface CatalogData {',
    '  /** Month the figures were read (YYYY-MM). */',
    '  readonly asOf: string;',
    '  /** Where the figures come from. */',
    '  readonly sources: readonly string[];',
    '  /** EC2 on-demand, Linux, shared tenancy. A type a region does not offer is absent there. */',
    '  readonly ec2OnDemandLinuxUsd: RegionalPrices;',
    '  /** SageMaker real-time inference (hosting) instances, `ml.*`. */',
    '  readonly sageMakerHostingUsd: RegionalPrices;',
    '}',
    '',
    'export const CATALOG_DATA: CatalogData = {',
    `  asOf: ${quote(input.asOf)},`,
    '  sources: [',
    ...input.sources.map((s) => `    ${quote(s)},`),
    '  ],',
    ...renderTable('ec2OnDemandLinuxUsd', 'EC2 on-demand Linux $/h.', input.ec2),
    ...renderTable('sageMakerHostingUsd', 'SageMaker real-time inference $/h.', input.sagemaker),
    '};',
    '',
  ].join('\n');
}
