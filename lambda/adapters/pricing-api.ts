/**
 * Live on-demand prices from the AWS Price List API (GetProducts), for the GPU and ML-accelerator instance families
 * of one region: Linux, shared tenancy, no pre-installed software, capacity status Used. A couple of paginated
 * calls per run, whatever the fleet size. When the API cannot be reached the embedded catalog is used and the
 * report says so, with the catalog's date.
 */
import { type Filter, type PricingClient, paginateGetProducts } from '@aws-sdk/client-pricing';
import type { Pricing } from '../core/savings/pricing';
import { errorCode } from '../shared/errors';

/** Price List instance families that hold GPU and ML-accelerator types. */
export const ACCELERATED_FAMILIES = ['GPU instance', 'Machine Learning ASIC Instances'] as const;

interface PriceListProduct {
  product?: { attributes?: Record<string, string> };
  terms?: {
    OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }>;
  };
}

/** The hourly USD price of one Price List product, or undefined when it has none (or several disagreeing ones). */
export function hourlyFromProduct(raw: string): { instanceType: string; usd: number } | undefined {
  let product: PriceListProduct;
  try {
    product = JSON.parse(raw) as PriceListProduct;
  } catch {
    return undefined;
  }
  const instanceType = product.product?.attributes?.instanceType;
  if (!instanceType) return undefined;
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

/** On-demand $/h by instance type for a region's accelerated instance families. */
export async function fetchLivePrices(client: PricingClient, region: string): Promise<Record<string, number>> {
  const prices: Record<string, number> = {};
  for (const family of ACCELERATED_FAMILIES) {
    const pages = paginateGetProducts(
      { client, pageSize: 100 },
      {
        ServiceCode: 'AmazonEC2',
        FormatVersion: 'aws_v1',
        Filters: onDemandLinuxFilters(region, family),
      },
    );
    for await (const page of pages) {
      for (const item of page.PriceList ?? []) {
        const price = hourlyFromProduct(typeof item === 'string' ? item : JSON.stringify(item));
        if (price) prices[price.instanceType] = price.usd;
      }
    }
  }
  return prices;
}

export interface LivePricingResult {
  readonly pricing: Pricing;
  /** What the report should say about where prices came from. */
  readonly note: string;
}

/** Adds live prices to `base`; on any failure keeps the catalog and says which catalog date is in use. */
export async function withLivePrices(client: PricingClient, region: string, base: Pricing): Promise<LivePricingResult> {
  try {
    const live = await fetchLivePrices(client, region);
    const count = Object.keys(live).length;
    if (count === 0) {
      return {
        pricing: base,
        note: `Price List API returned no prices for ${region}; using the catalog of ${base.asOf}`,
      };
    }
    return {
      pricing: base.withLivePrices(live, region),
      note: `live on-demand prices for ${count} instance types in ${region}`,
    };
  } catch (error) {
    return {
      pricing: base,
      note: `Price List API unavailable (${errorCode(error)}); using the embedded catalog of ${base.asOf} (${base.source})`,
    };
  }
}
