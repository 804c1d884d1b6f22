/** Chooses the run's prices: the embedded catalog, plus live Price List prices when `pricing.live` is on. */
import type { ClientFactory } from '../adapters/clients';
import { withLivePrices } from '../adapters/pricing-api';
import type { CostGuardConfig } from '../core/config';
import { createPricing, type Pricing } from '../core/savings/pricing';

export interface ResolvedPricing {
  readonly pricing: Pricing;
  /** Where the prices come from, for reports (catalog date when not live). */
  readonly note: string;
}

export async function resolvePricing(
  config: CostGuardConfig,
  clients: ClientFactory,
  region: string,
): Promise<ResolvedPricing> {
  const base = createPricing(config.pricing);
  if (!config.pricing.live) return { pricing: base, note: `embedded price catalog of ${base.asOf} (${base.source})` };
  return withLivePrices(clients.pricing(), region, base);
}
