/**
 * Chooses the run's prices: the embedded catalog, plus live Price List prices when `pricing.live` is on, for the
 * price lists the run needs: EC2 for the EC2 capabilities, SageMaker hosting (`ml.*`) for the SageMaker guard.
 */
import type { ClientFactory } from '../adapters/clients';
import { type PriceListName, withLivePrices } from '../adapters/pricing-api';
import type { CostGuardConfig } from '../core/config';
import { createPricing, type Pricing } from '../core/savings/pricing';

export type { PriceListName } from '../adapters/pricing-api';

export interface ResolvedPricing {
  readonly pricing: Pricing;
  /** Where the prices come from, for reports (catalog date when not live). */
  readonly note: string;
}

/** The live price lists a capability's run prices from: the SageMaker guard prices `ml.*`, the others EC2 types. */
export function priceListsFor(capability: string): readonly PriceListName[] {
  return capability === 'sagemaker' ? ['sagemaker'] : ['ec2'];
}

/**
 * The run's pricing. With `pricing.live` on, live prices of `lists` (default EC2 only; none: no Price List call) are
 * merged over the catalog; whatever the API cannot price keeps the catalog figure, and the note says which.
 */
export async function resolvePricing(
  config: CostGuardConfig,
  clients: ClientFactory,
  region: string,
  lists: readonly PriceListName[] = ['ec2'],
): Promise<ResolvedPricing> {
  const base = createPricing(config.pricing);
  if (!config.pricing.live || lists.length === 0) {
    return { pricing: base, note: `embedded price catalog of ${base.asOf} (${base.source})` };
  }
  return withLivePrices(clients.pricing(), region, base, lists);
}
