import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import {
  fetchLivePrices,
  fetchLiveSageMakerPrices,
  hostingHourlyFromProduct,
  hourlyFromProduct,
  withLivePrices,
} from '../../../lambda/adapters/pricing-api';
import { createPricing } from '../../../lambda/core/savings/pricing';
import { SAGEMAKER_PRICE_LIST_EU_WEST_1 } from '../../fixtures/sagemaker-price-list';

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
    expect(note).toContain('live on-demand prices for 1 EC2 instance types in us-east-1');
    expect(note).toContain(`other types from the embedded catalog of ${p.asOf}`);
  });

  it('falls back to the catalog and names its date when the API fails', async () => {
    pricing.on(GetProductsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const base = createPricing();
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'us-east-1', base);
    expect(p).toBe(base);
    expect(note).toContain('Price List API unavailable for EC2 prices (AccessDeniedException)');
    expect(note).toContain(base.asOf);
  });
});

describe('Function: hostingHourlyFromProduct', () => {
  const [g5Hosting, inf2Hosting, g5Training, g5Notebook, m5Hosting] = SAGEMAKER_PRICE_LIST_EU_WEST_1;

  it('reads the real-time inference price of an ml.* GPU or Neuron type by its instanceName', () => {
    expect(hostingHourlyFromProduct(g5Hosting!)).toEqual({ instanceType: 'ml.g5.xlarge', usd: 1.577 });
    expect(hostingHourlyFromProduct(inf2Hosting!)).toEqual({ instanceType: 'ml.inf2.xlarge', usd: 0.85 });
  });

  it.each([
    ['a training price', g5Training!],
    ['a notebook price', g5Notebook!],
    ['a CPU type', m5Hosting!],
    ['an EC2 product', product('g5.xlarge', '1.006')],
    ['not json', '{'],
  ])('returns undefined for %s', (_label, raw) => {
    expect(hostingHourlyFromProduct(raw)).toBeUndefined();
  });
});

describe('Function: fetchLiveSageMakerPrices', () => {
  beforeEach(() => pricing.reset());

  it("asks AmazonSageMaker for the region's ML Instance Hosting products and keeps the ml.* GPU and Neuron prices", async () => {
    // Prepare
    pricing
      .on(GetProductsCommand)
      .resolvesOnce({ PriceList: SAGEMAKER_PRICE_LIST_EU_WEST_1.slice(0, 3), NextToken: 'page2' })
      .resolvesOnce({ PriceList: SAGEMAKER_PRICE_LIST_EU_WEST_1.slice(3) });
    // Act
    const prices = await fetchLiveSageMakerPrices(new PricingClient({ region: 'us-east-1' }), 'eu-west-1');
    // Assess
    expect(prices).toEqual({ 'ml.g5.xlarge': 1.577, 'ml.inf2.xlarge': 0.85 });
    expect(pricing).toHaveReceivedCommandTimes(GetProductsCommand, 2);
    const input = pricing.commandCalls(GetProductsCommand)[0]!.args[0].input;
    expect(input.ServiceCode).toBe('AmazonSageMaker');
    expect(Object.fromEntries(input.Filters!.map((f) => [f.Field, `${f.Type}:${f.Value}`]))).toEqual({
      regionCode: 'TERM_MATCH:eu-west-1',
      productFamily: 'TERM_MATCH:ML Instance',
      component: 'TERM_MATCH:Hosting',
    });
  });
});

describe('Function: withLivePrices (SageMaker hosting)', () => {
  beforeEach(() => pricing.reset());

  it('quotes ml.* types live in the fetched region and from the catalog where the API has no figure', async () => {
    // Prepare
    pricing.on(GetProductsCommand).resolves({ PriceList: [...SAGEMAKER_PRICE_LIST_EU_WEST_1] });
    const base = createPricing();
    // Act
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'eu-west-1', base, ['sagemaker']);
    // Assess
    expect(pricing).toHaveReceivedCommandTimes(GetProductsCommand, 1);
    expect(pricing).toHaveReceivedCommandWith(GetProductsCommand, { ServiceCode: 'AmazonSageMaker' });
    expect(p.instanceHourly('ml.g5.xlarge', 'eu-west-1')).toEqual({ usd: 1.577, source: 'live', region: 'eu-west-1' });
    expect(p.instanceHourly('ml.p4d.24xlarge', 'eu-west-1')).toEqual(
      base.instanceHourly('ml.p4d.24xlarge', 'eu-west-1'),
    );
    expect(p.instanceHourly('ml.p4d.24xlarge', 'eu-west-1')?.source).toBe('catalog');
    expect(p.instanceHourly('ml.g5.xlarge', 'us-east-1')?.source).toBe('catalog');
    expect(note).toBe(
      `live SageMaker hosting prices for 2 ml.* instance types in eu-west-1; other types from the embedded catalog of ${base.asOf} (${base.source})`,
    );
  });

  it('keeps live EC2 prices and the catalog for ml.* when only the SageMaker price list fails, and says so', async () => {
    // Prepare
    pricing
      .on(GetProductsCommand, { ServiceCode: 'AmazonEC2' })
      .resolves({ PriceList: [product('g5.xlarge', '1.1')] })
      .on(GetProductsCommand, { ServiceCode: 'AmazonSageMaker' })
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    const base = createPricing();
    // Act
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'us-east-1', base, ['ec2', 'sagemaker']);
    // Assess
    expect(p.instanceHourly('g5.xlarge', 'us-east-1')).toEqual({ usd: 1.1, source: 'live', region: 'us-east-1' });
    expect(p.instanceHourly('ml.g5.xlarge', 'us-east-1')).toEqual(base.instanceHourly('ml.g5.xlarge', 'us-east-1'));
    expect(p.instanceHourly('ml.g5.xlarge', 'us-east-1')?.source).toBe('catalog');
    expect(note).toContain('live on-demand prices for 1 EC2 instance types in us-east-1');
    expect(note).toContain('Price List API unavailable for SageMaker ml.* prices (ThrottlingException)');
    expect(note).toContain(base.asOf);
  });

  it('keeps the catalog and names its date when the SageMaker price list has no ml.* price for the region', async () => {
    pricing.on(GetProductsCommand).resolves({ PriceList: SAGEMAKER_PRICE_LIST_EU_WEST_1.slice(2) });
    const base = createPricing();
    const { pricing: p, note } = await withLivePrices(new PricingClient({}), 'eu-west-1', base, ['sagemaker']);
    expect(p).toBe(base);
    expect(note).toBe(
      `Price List API returned no SageMaker ml.* prices for eu-west-1; using the embedded catalog of ${base.asOf} (${base.source})`,
    );
  });
});
