/**
 * The lifecycle's FinOps storage figures: bytes in infrequent/archive classes and in all, over every managed bucket
 * (changed or not), fleet-wide and per team tag.
 */
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { lifecycleCapability } from '../../../lambda/services/lifecycle';
import { testContext } from '../../helpers/context';

const s3 = mockClient(S3Client);
const cw = mockClient(CloudWatchClient);
const GiB = 1024 ** 3;
const missing = (name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 404 }, message: name });

/** Bytes by CloudWatch StorageType: ml-vision 100 Standard + 300 IA (75%); ml-shared 100 Standard (0%). */
const SIZES: Record<string, Record<string, number>> = {
  'ml-vision': { StandardStorage: 100 * GiB, StandardIAStorage: 300 * GiB },
  'ml-shared': { StandardStorage: 100 * GiB },
};

beforeEach(() => {
  s3.reset();
  cw.reset();
  s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'ml-vision' }, { Name: 'ml-shared' }] });
  s3.on(GetBucketLocationCommand).resolves({});
  s3.on(GetBucketTaggingCommand).callsFake((input: { Bucket: string }) => ({
    TagSet: [
      { Key: 'cost-guard:lifecycle', Value: 'managed' },
      ...(input.Bucket === 'ml-vision' ? [{ Key: 'Team', Value: 'vision' }] : []),
    ],
  }));
  s3.on(GetBucketPolicyCommand).rejects(missing('NoSuchBucketPolicy'));
  s3.on(GetBucketLifecycleConfigurationCommand).rejects(missing('NoSuchLifecycleConfiguration'));
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => {
      const dims = q.MetricStat?.Metric?.Dimensions ?? [];
      const bucket = dims.find((d) => d.Name === 'BucketName')?.Value ?? '';
      const type = dims.find((d) => d.Name === 'StorageType')?.Value ?? '';
      const bytes = SIZES[bucket]?.[type];
      return { Id: q.Id, Values: bytes !== undefined ? [bytes] : [] };
    }),
  }));
});

describe('Capability: lifecycle (FinOps storage efficiency)', () => {
  it('publishes tiered and total bytes of the managed buckets, and per team tag (matched in any case)', async () => {
    // Prepare
    const ctx = testContext({ dryRun: true });
    // Act
    await lifecycleCapability.run(ctx);
    // Assess: fleet 300 of 500 GiB = 60%; team vision 300 of 400 GiB = 75%.
    const point = (name: string, team?: string) =>
      ctx.metrics.points.find((p) => p.name === name && p.dimensions?.Team === team)?.value;
    expect(point('StorageInfrequentBytes')).toBe(300 * GiB);
    expect(point('StorageTotalBytes')).toBe(500 * GiB);
    expect(point('StorageEfficiencyPercent')).toBeCloseTo(60, 10);
    expect(point('StorageTotalBytes', 'vision')).toBe(400 * GiB);
    expect(point('StorageEfficiencyPercent', 'vision')).toBeCloseTo(75, 10);
    expect(
      ctx.metrics.points.filter((p) => p.dimensions?.Team !== undefined && p.dimensions.Team !== 'vision'),
    ).toEqual([]);
  });
});
