/**
 * Bucket size by storage class from CloudWatch (`AWS/S3` `BucketSizeBytes`, published once a day, dimensions
 * `BucketName` + `StorageType`), read with batched GetMetricData in the buckets' region: up to 500 metric queries a
 * call (about 70 buckets at 7 storage types), instead of one GetMetricStatistics per bucket and class.
 */
import { type CloudWatchClient, type MetricDataQuery, paginateGetMetricData } from '@aws-sdk/client-cloudwatch';
import type { StorageClass } from '../core/lifecycle/rules';

/** CloudWatch `StorageType` dimension values read, and the storage class each is priced as. */
export const STORAGE_TYPES: Readonly<Record<string, StorageClass>> = {
  StandardStorage: 'STANDARD',
  StandardIAStorage: 'STANDARD_IA',
  OneZoneIAStorage: 'ONEZONE_IA',
  GlacierInstantRetrievalStorage: 'GLACIER_IR',
  GlacierStorage: 'GLACIER',
  DeepArchiveStorage: 'DEEP_ARCHIVE',
  IntelligentTieringFAStorage: 'INTELLIGENT_TIERING',
};

/** GetMetricData accepts at most 500 queries per call. */
export const MAX_QUERIES_PER_CALL = 500;
/** BucketSizeBytes is daily and may lag: look back this many days and keep the latest datapoint. */
export const LOOKBACK_DAYS = 3;

export type BytesByClass = Partial<Record<StorageClass, number>>;

export interface BucketSizes {
  /** Bytes by storage class of each bucket that has any datapoint; a bucket without data is absent. */
  readonly sizes: Map<string, BytesByClass>;
  /** GetMetricData calls made. */
  readonly calls: number;
}

/**
 * Latest daily `BucketSizeBytes` of each bucket by storage class. All `buckets` must be in the client's region
 * (S3 publishes the metric in the bucket's region). `now` is the run's clock.
 */
export async function bucketSizesByClass(
  client: CloudWatchClient,
  buckets: readonly string[],
  now: Date,
): Promise<BucketSizes> {
  const types = Object.keys(STORAGE_TYPES);
  const queries: { query: MetricDataQuery; bucket: string; storageClass: StorageClass }[] = [];
  buckets.forEach((bucket, b) => {
    types.forEach((type, t) => {
      queries.push({
        bucket,
        storageClass: STORAGE_TYPES[type]!,
        query: {
          Id: `b${b}_${t}`,
          MetricStat: {
            Metric: {
              Namespace: 'AWS/S3',
              MetricName: 'BucketSizeBytes',
              Dimensions: [
                { Name: 'BucketName', Value: bucket },
                { Name: 'StorageType', Value: type },
              ],
            },
            Period: 86_400,
            Stat: 'Average',
          },
          ReturnData: true,
        },
      });
    });
  });
  const byId = new Map(queries.map((q) => [q.query.Id!, q]));
  const sizes = new Map<string, BytesByClass>();
  const start = new Date(now.getTime() - LOOKBACK_DAYS * 86_400_000);
  let calls = 0;
  for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
    const batch = queries.slice(i, i + MAX_QUERIES_PER_CALL).map((q) => q.query);
    const pages = paginateGetMetricData(
      { client },
      { MetricDataQueries: batch, StartTime: start, EndTime: now, ScanBy: 'TimestampDescending' },
    );
    for await (const res of pages) {
      calls += 1;
      for (const r of res.MetricDataResults ?? []) {
        const q = r.Id ? byId.get(r.Id) : undefined;
        const latest = r.Values?.[0];
        if (!q || latest === undefined || !Number.isFinite(latest)) continue;
        const entry = sizes.get(q.bucket) ?? {};
        // With TimestampDescending the first value of the first page is the newest: keep it.
        if (entry[q.storageClass] === undefined) entry[q.storageClass] = latest;
        sizes.set(q.bucket, entry);
      }
    }
  }
  return { sizes, calls };
}
