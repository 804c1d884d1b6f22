/**
 * Live on-demand prices from the AWS Price List API (GetProducts) for one region: EC2 prices of the GPU and
 * ML-accelerator instance families (Linux, shared tenancy, no pre-installed software, capacity status Used) and
 * SageMaker real-time inference (Hosting) prices of the `ml.*` GPU and Neuron types. A run asks only for the price
 * lists it needs (see lambda/runtime/pricing-source.ts); each is a couple of paginated calls, whatever the fleet
 * size. When the API cannot be reached, or has no figure for a type, the embedded catalog is used and the report
 * says so, with the catalog's date.
 */
import { type Filter, type PricingClient, paginateGetProducts } from '@aws-sdk/client-pricing';
import { ACCELERATOR_FACTS, familyOf, SAGEMAKER_PREFIX } from '../core/savings/gpu-facts';
import type { Pricing } from '../core/savings/pricing';
import { errorCode } from '../shared/errors';

/** Price List instance families that hold GPU and ML-accelerator types. */
export const ACCELERATED_FAMILIES = ['GPU instance', 'Machine Learning ASIC Instances'] as const;

/** The Price List a run can ask for: EC2 on-demand, or SageMaker real-time inference (hosting, `ml.*`). */
export type PriceListName = 'ec2' | 'sagemaker';

interface PriceListProduct {
  product?: { attributes?: Record<string, string> };
  terms?: {
    OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }>;
  };
}

/** The hourly USD price of one Price List product, or undefined when it has none (or several disagreeing ones). */
export function hourlyFromProduct(raw: string): { instanceType: string; usd: number } | undefined {
  const product = parseProduct(raw);
  const instanceType = product?.product?.attributes?.instanceType;
  return product && instanceType ? hourlyOf(product, instanceType) : undefined;
}

/** Families of the accelerator facts table, SageMaker-prefixed: `ml.g5`, `ml.inf2`, … */
const TRACKED_ML_FAMILIES: ReadonlySet<string> = new Set(
  Object.keys(ACCELERATOR_FACTS).map((type) => `${SAGEMAKER_PREFIX}${familyOf(type)}`),
);

/**
 * The hourly USD price of one SageMaker Price List product when it is the real-time inference (`component: Hosting`)
 * price of an `ml.*` GPU or Neuron instance (`instanceName`); undefined for anything else (training, notebooks,
 * CPU types, no hourly price).
 */
export function hostingHourlyFromProduct(raw: string): { instanceType: string; usd: number } | undefined {
  const product = parseProduct(raw);
  const attributes = product?.product?.attributes ?? {};
  const instanceType = attributes['instanceName'];
  if (!product || !instanceType || attributes['component'] !== 'Hosting') return undefined;
  if (!instanceType.startsWith(SAGEMAKER_PREFIX) || !TRACKED_ML_FAMILIES.has(familyOf(instanceType))) return undefined;
  return hourlyOf(product, instanceType);
}

function parseProduct(raw: string): PriceListProduct | undefined {
  try {
    return JSON.parse(raw) as PriceListProduct;
  } catch {
    return undefined;
  }
}

function hourlyOf(product: PriceListProduct, instanceType: string): { instanceType: string; usd: number } | undefined {
  const prices = Object.values(product.terms?.OnDemand ?? {})
    .flatMap((term) => Object.values(term.priceDimensions ?? {}))
    .filter((d) => d.unit === 'Hrs')
    .map((d) => Number(d.pricePerUnit?.USD))
    .filter((n) => Number.isFinite(n) && n > 0);
  if (prices.length === 0) return undefined;
  return { instanceType, usd: Math.max(...prices) };
}

/**
 * GetProducts filters (service AmazonEC2) for the on-demand price of one region's instances of a Price List instance
 * family: Linux, shared tenancy, no pre-installed software, capacity status Used. Shared with
 * scripts/gen-price-catalog.ts, which builds the embedded catalog from the same prices.
 */
export function onDemandLinuxFilters(region: string, instanceFamily: string): Filter[] {
  return [
    { Type: 'TERM_MATCH', Field: 'regionCode', Value: region },
    { Type: 'TERM_MATCH', Field: 'instanceFamily', Value: instanceFamily },
    { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
    { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
    { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
    { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
    { Type: 'TERM_MATCH', Field: 'licenseModel', Value: 'No License required' },
  ];
}

/**
 * GetProducts filters (service AmazonSageMaker) for the real-time inference (hosting) prices of one region's ML
 * instances. Shared with scripts/gen-price-catalog.ts, which builds the catalog's `ml.*` figures from the same prices.
 */
export function sageMakerHostingFilters(region: string): Filter[] {
  return [
    { Type: 'TERM_MATCH', Field: 'regionCode', Value: region },
    { Type: 'TERM_MATCH', Field: 'productFamily', Value: 'ML Instance' },
    { Type: 'TERM_MATCH', Field: 'component', Value: 'Hosting' },
  ];
}

async function collect(
  client: PricingClient,
  serviceCode: string,
  filters: Filter[],
  read: (raw: string) => { instanceType: string; usd: number } | undefined,
  into: Record<string, number>,
): Promise<void> {
  const pages = paginateGetProducts(
    { client, pageSize: 100 },
    { ServiceCode: serviceCode, FormatVersion: 'aws_v1', Filters: filters },
  );
  for await (const page of pages) {
    for (const item of page.PriceList ?? []) {
      const price = read(typeof item === 'string' ? item : JSON.stringify(item));
      if (price) into[price.instanceType] = price.usd;
    }
  }
}

/** On-demand $/h by instance type for a region's accelerated instance families. */
export async function fetchLivePrices(client: PricingClient, region: string): Promise<Record<string, number>> {
  const prices: Record<string, number> = {};
  for (const family of ACCELERATED_FAMILIES) {
    await collect(client, 'AmazonEC2', onDemandLinuxFilters(region, family), hourlyFromProduct, prices);
  }
  return prices;
}

/** SageMaker real-time inference $/h by `ml.*` GPU and Neuron instance type in a region. */
export async function fetchLiveSageMakerPrices(client: PricingClient, region: string): Promise<Record<string, number>> {
  const prices: Record<string, number> = {};
  await collect(client, 'AmazonSageMaker', sageMakerHostingFilters(region), hostingHourlyFromProduct, prices);
  return prices;
}

export interface LivePricingResult {
  readonly pricing: Pricing;
  /** What the report should say about where prices came from. */
  readonly note: string;
}

const FETCH: Readonly<
  Record<PriceListName, (client: PricingClient, region: string) => Promise<Record<string, number>>>
> = { ec2: fetchLivePrices, sagemaker: fetchLiveSageMakerPrices };

const LABEL: Readonly<Record<PriceListName, string>> = {
  ec2: 'on-demand prices for {n} EC2 instance types',
  sagemaker: 'SageMaker hosting prices for {n} ml.* instance types',
};

const CATALOG_LABEL: Readonly<Record<PriceListName, string>> = { ec2: 'EC2', sagemaker: 'SageMaker ml.*' };

/**
 * Adds live prices of the price lists `lists` (default EC2 only) to `base`. Each list stands alone: one that fails or
 * returns nothing keeps the catalog for its types, and the note says which catalog date is in use; a type a list has
 * no figure for is priced from the catalog too.
 */
export async function withLivePrices(
  client: PricingClient,
  region: string,
  base: Pricing,
  lists: readonly PriceListName[] = ['ec2'],
): Promise<LivePricingResult> {
  const live: Record<string, number> = {};
  const liveParts: string[] = [];
  const catalogParts: string[] = [];
  for (const list of lists) {
    try {
      const prices = await FETCH[list](client, region);
      const count = Object.keys(prices).length;
      if (count === 0) {
        catalogParts.push(`Price List API returned no ${CATALOG_LABEL[list]} prices for ${region}`);
        continue;
      }
      Object.assign(live, prices);
      liveParts.push(LABEL[list].replace('{n}', String(count)));
    } catch (error) {
      catalogParts.push(`Price List API unavailable for ${CATALOG_LABEL[list]} prices (${errorCode(error)})`);
    }
  }
  const catalog = `the embedded catalog of ${base.asOf} (${base.source})`;
  if (liveParts.length === 0) {
    return {
      pricing: base,
      note: catalogParts.length > 0 ? `${catalogParts.join('; ')}; using ${catalog}` : `using ${catalog}`,
    };
  }
  const note = `live ${liveParts.join(' and live ')} in ${region}; other types from ${catalog}`;
  return {
    pricing: base.withLivePrices(live, region),
    note: catalogParts.length > 0 ? `${note}; ${catalogParts.join('; ')}` : note,
  };
}
