import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import { fetchLivePrices, hourlyFromProduct, withLivePrices } from '../../../lambda/adapters/pricing-api';
import { createPricing } from '../../../lambda/core/savings/pricing';

const pricing = mockClient(PricingClient);

/** A Price List product as GetProducts returns it (a JSON string). */
const product = (instanceType: string, usd: string, unit = 'Hrs') =>
  JSON.stringify({
    product: { attributes: { instanceType, regionCode: 'us-east-1', operatingSystem: 'Linux' } },
    terms: {
      OnDemand: {
        'SKU.JRTCKXETXF': { priceDimensions: { 'SKU.JRTCKXETXF.6YS6EN2CT7': { unit, pricePerUnit: { USD: usd } } } },
      },
    },
  });

describe('Function: hourlyFromProduct', () => {
  it('reads the hourly USD price and the instance type', () => {
    expect(hourlyFromProduct(product('g5.xlarge', '1.0060000000'))).toEqual({ instanceType: 'g5.xlarge', usd: 1.006 });
  });

  it.each([
    ['not json', '{'],
    ['no instance type', JSON.stringify({ product: { attributes: {} } })],
    ['a zero price', product('g5.xlarge', '0.0000000000')],
    ['a non-hourly unit', product('g5.xlarge', '1.0', 'Quantity')],
  ])('returns undefined for %s', (_label, raw) => {
    expect(hourlyFromProduct(raw)).toBeUndefined();
  });
});

describe('Function: fetchLivePrices', () => {
  beforeEach(() => pricing.reset());

  it('pages through both accelerated families with the Linux, shared, no-software, Used filters', async () => {
    // Prepare
    pricing
      .on(GetProductsCommand)
      .resolvesOnce({ PriceList: [product('g5.xlarge', '1.006')], NextToken: 'page2' })
      .resolvesOnce({ PriceList: [product('p5.48xlarge', '55.04')] })
      .resolvesOnce({ PriceList: [product('inf2.xlarge', '0.7582')] });
    // Act
    const prices = await fetchLivePrices(new PricingClient({ region: 'us-east-1' }), 'eu-west-1');
    // Assess
    expect(prices).toEqual({ 'g5.xlarge': 1.006, 'p5.48xlarge': 55.04, 'inf2.xlarge': 0.7582 });
    expect(pricing).toHaveReceivedCommandTimes(GetProductsCommand, 3);
    expect(pricing).toHaveReceivedNthCommandWith(2, GetProductsCommand, { NextToken: 'page2' });
    const filters = pricing.commandCalls(GetProductsCommand)[0]!.args[0].input.Filters!;
    expect(Object.fromEntries(filters.map((f) => [f.Field, f.Value]))).toEqual({
      regionCode: 'eu-west-1',
      instanceFamily: 'GPU instance',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      capacitystatus: 'Used',
      licenseModel: 'No License required',
    });
  });
});

describe('Function: withLivePrices', () => {
  beforeEach(() => pricing.reset());

  it('prefers live prices over the catalog', async () => {
    pricing.on(GetProductsCommand).resolves({ PriceList: [product('g5.xlarge', '1.1')] });
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'us-east-1', createPricing());
    expect(p.instanceHourly('g5.xlarge')).toEqual({ usd: 1.1, source: 'live' });
    expect(p.instanceHourly('g4dn.xlarge')?.source).toBe('catalog');
    expect(note).toContain('live on-demand prices for 1 instance types');
  });

  it('falls back to the catalog and names its date when the API fails', async () => {
    pricing.on(GetProductsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const base = createPricing();
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'us-east-1', base);
    expect(p).toBe(base);
    expect(note).toContain('Price List API unavailable (AccessDeniedException)');
    expect(note).toContain(base.asOf);
  });
});
