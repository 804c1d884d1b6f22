import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../../lambda/adapters/clients';
import { parseConfig } from '../../../lambda/core/config';
import { priceListsFor, resolvePricing } from '../../../lambda/runtime/pricing-source';
import { SAGEMAKER_PRICE_LIST_EU_WEST_1 } from '../../fixtures/sagemaker-price-list';

const pricing = mockClient(PricingClient);
const clients = () => new ClientFactory({ defaultRegion: 'eu-west-1' });

describe('Function: priceListsFor', () => {
  it('gives the SageMaker guard the SageMaker hosting price list and the EC2 capabilities the EC2 one', () => {
    expect(priceListsFor('sagemaker')).toEqual(['sagemaker']);
    for (const name of ['reaper', 'budgets', 'rightsizing', 'lifecycle']) expect(priceListsFor(name)).toEqual(['ec2']);
  });
});

describe('Function: resolvePricing', () => {
  beforeEach(() => pricing.reset());

  it('fetches only the SageMaker hosting price list for a SageMaker run with pricing.live on', async () => {
    // Prepare
    pricing.on(GetProductsCommand).resolves({ PriceList: [...SAGEMAKER_PRICE_LIST_EU_WEST_1] });
    const config = parseConfig({ pricing: { live: true } });
    // Act
    const { pricing: p, note } = await resolvePricing(config, clients(), 'eu-west-1', priceListsFor('sagemaker'));
    // Assess
    expect(pricing).toHaveReceivedCommandTimes(GetProductsCommand, 1);
    expect(pricing).toHaveReceivedCommandWith(GetProductsCommand, { ServiceCode: 'AmazonSageMaker' });
    expect(p.instanceHourly('ml.g5.xlarge', 'eu-west-1')?.source).toBe('live');
    expect(note).toContain('live SageMaker hosting prices for 2 ml.* instance types in eu-west-1');
  });

  it.each([
    ['pricing.live off', { live: false }, ['sagemaker'] as const],
    ['no price list asked for', { live: true }, [] as const],
  ])('calls no Price List API with %s and names the catalog date', async (_label, live, lists) => {
    const config = parseConfig({ pricing: live });
    const { pricing: p, note } = await resolvePricing(config, clients(), 'eu-west-1', lists);
    expect(pricing).not.toHaveReceivedCommand(GetProductsCommand);
    expect(p.instanceHourly('ml.g5.xlarge', 'eu-west-1')?.source).toBe('catalog');
    expect(note).toBe(`embedded price catalog of ${p.asOf} (${p.source})`);
  });
});
