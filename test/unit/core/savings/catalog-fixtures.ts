/**
 * Fixtures of the price catalog tests: DescribeInstanceTypes facts of a sample of GPU and Neuron types, and AWS Price
 * List products in the GetProducts format.
 */

/** The part of a DescribeInstanceTypes `InstanceTypeInfo` the accelerator facts describe. */
export interface DescribedInstanceType {
  readonly InstanceType: string;
  readonly VCpuInfo: { readonly DefaultVCpus: number };
  readonly GpuInfo?: {
    readonly Gpus: readonly {
      readonly Name: string;
      readonly Manufacturer: string;
      readonly Count: number;
      readonly MemoryInfo: { readonly SizeInMiB: number };
    }[];
  };
  readonly NeuronInfo?: {
    readonly NeuronDevices: readonly {
      readonly Name: string;
      readonly Count: number;
      readonly MemoryInfo: { readonly SizeInMiB: number };
    }[];
  };
}

const gpu = (
  InstanceType: string,
  DefaultVCpus: number,
  Manufacturer: string,
  Name: string,
  Count: number,
  SizeInMiB: number,
): DescribedInstanceType => ({
  InstanceType,
  VCpuInfo: { DefaultVCpus },
  GpuInfo: { Gpus: [{ Name, Manufacturer, Count, MemoryInfo: { SizeInMiB } }] },
});

const neuron = (
  InstanceType: string,
  DefaultVCpus: number,
  Name: string,
  Count: number,
  SizeInMiB: number,
): DescribedInstanceType => ({
  InstanceType,
  VCpuInfo: { DefaultVCpus },
  NeuronInfo: { NeuronDevices: [{ Name, Count, MemoryInfo: { SizeInMiB } }] },
});

/**
 * DescribeInstanceTypes facts. The first eight are as recorded from the API (Karpenter's generated test data,
 * aws/karpenter-provider-aws pkg/fake/zz_generated.describe_instance_types.go, and recorded p5/g6 output); the last
 * three are from the EC2 accelerated-computing specifications (GPUs and GPU memory per instance type).
 */
export const DESCRIBED_INSTANCE_TYPES: readonly DescribedInstanceType[] = [
  gpu('g4ad.16xlarge', 64, 'AMD', 'Radeon Pro V520', 4, 8192),
  gpu('g4dn.8xlarge', 32, 'NVIDIA', 'T4', 1, 16384),
  gpu('g6.12xlarge', 48, 'NVIDIA', 'L4', 4, 22888),
  gpu('p3.8xlarge', 32, 'NVIDIA', 'V100', 4, 16384),
  gpu('p5.48xlarge', 192, 'NVIDIA', 'H100', 8, 81920),
  neuron('inf2.xlarge', 4, 'Inferentia2', 1, 32768),
  neuron('inf2.24xlarge', 96, 'Inferentia2', 6, 32768),
  neuron('trn1.2xlarge', 8, 'Trainium', 1, 32768),
  // EC2 docs: g5.12xlarge 4 x A10G, 96 GiB GPU memory; g5.48xlarge 8 x A10G, 192 GiB; p4d.24xlarge 8 x A100, 320 GiB.
  gpu('g5.12xlarge', 48, 'NVIDIA', 'A10G', 4, 24576),
  gpu('g5.48xlarge', 192, 'NVIDIA', 'A10G', 8, 24576),
  gpu('p4d.24xlarge', 96, 'NVIDIA', 'A100', 8, 40960),
];

interface ProductSpec {
  readonly attributes: Readonly<Record<string, string>>;
  readonly productFamily: string;
  readonly serviceCode: string;
  /** On-demand hourly USD figures, one price dimension each; none: the product has only reserved terms. */
  readonly hourly: readonly string[];
}

/** A product as GetProducts returns it (a JSON string per product, format aws_v1). */
function product(spec: ProductSpec): string {
  const sku = `SKU${Math.abs(hash(JSON.stringify(spec.attributes)))}`;
  const dimensions = Object.fromEntries(
    spec.hourly.map((usd, i) => [
      `${sku}.JRTCKXETXF.6YS6EN2CT${i}`,
      {
        unit: 'Hrs',
        endRange: 'Inf',
        description: `$${usd} per On Demand hour`,
        appliesTo: [],
        rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT${i}`,
        beginRange: '0',
        pricePerUnit: { USD: usd },
      },
    ]),
  );
  return JSON.stringify({
    product: {
      productFamily: spec.productFamily,
      attributes: { servicecode: spec.serviceCode, ...spec.attributes },
      sku,
    },
    serviceCode: spec.serviceCode,
    terms: {
      ...(spec.hourly.length > 0
        ? {
            OnDemand: {
              [`${sku}.JRTCKXETXF`]: {
                priceDimensions: dimensions,
                sku,
                effectiveDate: '2026-08-01T00:00:00Z',
                offerTermCode: 'JRTCKXETXF',
                termAttributes: {},
              },
            },
          }
        : {}),
      Reserved: {
        [`${sku}.4NA7Y494T4`]: {
          priceDimensions: {
            [`${sku}.4NA7Y494T4.6YS6EN2CT7`]: { unit: 'Hrs', pricePerUnit: { USD: '0.1' } },
          },
          termAttributes: { LeaseContractLength: '1yr', PurchaseOption: 'No Upfront' },
        },
      },
    },
    version: '20260801000000',
    publicationDate: '2026-08-01T00:00:00Z',
  });
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}

const ec2 = (
  instanceType: string,
  regionCode: string,
  hourly: readonly string[],
  overrides: Readonly<Record<string, string>> = {},
): string =>
  product({
    serviceCode: 'AmazonEC2',
    productFamily: 'Compute Instance',
    hourly,
    attributes: {
      instanceType,
      regionCode,
      instanceFamily: 'GPU instance',
      operatingSystem: 'Linux',
      tenancy: 'Shared',
      preInstalledSw: 'NA',
      capacitystatus: 'Used',
      licenseModel: 'No License required',
      ...overrides,
    },
  });

const sagemaker = (instanceName: string, regionCode: string, component: string, usd: string): string =>
  product({
    serviceCode: 'AmazonSageMaker',
    productFamily: 'ML Instance',
    hourly: [usd],
    attributes: {
      instanceName,
      regionCode,
      component,
      usagetype: `USE1-Host:${instanceName}`,
      operation: 'RunInstance',
    },
  });

/** EC2 products: the priced ones, and ones the transform must skip. */
export const EC2_PRODUCTS: readonly string[] = [
  ec2('g5.xlarge', 'us-east-1', ['1.0060000000']),
  ec2('g5.xlarge', 'eu-west-1', ['1.1230000000']),
  ec2('p5.48xlarge', 'us-east-1', ['55.0400000000', '55.0400000000']), // two dimensions, same price
  ec2('inf2.xlarge', 'us-east-1', ['0.7582000000']),
  // Skipped: Windows, dedicated tenancy, an unused capacity reservation, a family the catalog does not track,
  // reserved terms only, disagreeing dimensions, not JSON.
  ec2('g5.2xlarge', 'us-east-1', ['1.6720000000'], { operatingSystem: 'Windows' }),
  ec2('g5.2xlarge', 'us-east-1', ['1.3330000000'], { tenancy: 'Dedicated' }),
  ec2('g5.2xlarge', 'us-east-1', ['1.2120000000'], { capacitystatus: 'UnusedCapacityReservation' }),
  ec2('m5.large', 'us-east-1', ['0.0960000000'], { instanceFamily: 'General purpose' }),
  ec2('g6.xlarge', 'us-east-1', []),
  ec2('g6.2xlarge', 'us-east-1', ['0.9776000000', '1.0000000000']),
  '{ not json',
];

/** SageMaker products: a Hosting price, and a Training one the transform must skip. */
export const SAGEMAKER_PRODUCTS: readonly string[] = [
  sagemaker('ml.g5.xlarge', 'us-east-1', 'Hosting', '1.4084000000'),
  sagemaker('ml.g5.xlarge', 'us-east-1', 'Training', '1.4080000000'),
  sagemaker('ml.m5.xlarge', 'us-east-1', 'Hosting', '0.2300000000'),
];
