/**
 * What a SageMaker resource costs, from the savings model's prices (lambda/core/savings: the embedded catalog's
 * `ml.*` SageMaker hosting figures, dated, and the config's `pricing.instanceHourlyUsd` overrides). Pure.
 *
 * The catalog holds SageMaker real-time inference prices for us-east-1; elsewhere the us-east-1 figure is used and
 * marked `fallback`. Notebook instances and Studio apps are priced at the same `ml.*` figures (SageMaker's on-demand
 * price of a GPU type is the same across hosting, notebooks and Studio for the types in the catalog). The Price List
 * API path (`pricing.live`) fetches EC2 prices only, so `ml.*` figures always come from the catalog or an override.
 */
import type { PriceSource, Pricing } from '../savings/pricing';

export interface ResourceCost {
  /** $/h of every instance it runs. */
  readonly hourlyUsd: number;
  /** The same over `pricing.hoursPerMonth`: what deleting or stopping it saves a month. */
  readonly monthlyUsd: number;
  /** Some figure is the catalog's us-east-1 one, for a region the catalog has no SageMaker prices for. */
  readonly fallback: boolean;
  readonly sources: readonly PriceSource[];
}

/**
 * The cost of `instances` (ml.* type and count) in `region`; undefined when any type has no price (never a partial
 * figure that would read as the whole).
 */
export function sageMakerCost(
  instances: readonly { readonly instanceType: string; readonly count: number }[],
  pricing: Pricing,
  region: string,
): ResourceCost | undefined {
  let hourly = 0;
  let fallback = false;
  const sources = new Set<PriceSource>();
  for (const i of instances) {
    if (i.count <= 0) continue;
    const quote = pricing.instanceHourly(i.instanceType, region);
    if (!quote) return undefined;
    hourly += quote.usd * i.count;
    if (quote.fallback) fallback = true;
    sources.add(quote.source);
  }
  return { hourlyUsd: hourly, monthlyUsd: pricing.monthly(hourly), fallback, sources: [...sources] };
}
