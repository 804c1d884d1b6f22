/**
 * Benchmark of the storage-lifecycle capability over 500 simulated buckets: mocked S3 and CloudWatch clients that
 * answer after 20 ms each, as a rough stand-in for real API latency. Prints calls by operation, wall time and peak
 * memory for a first run (every bucket changes) and a second run (nothing changes). No assertions.
 *
 *   npx tsx scripts/bench-lifecycle.ts [buckets=500] [latencyMs=20]
 */

import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  type LifecycleRule,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../lambda/adapters/clients';
import { ConsoleNotifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import { buildContext } from '../lambda/runtime/context';
import { lifecycleCapability } from '../lambda/services/lifecycle';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { sleep } from './bench-kit';

const BUCKETS = Number(process.argv[2] ?? 500);
const LATENCY_MS = Number(process.argv[3] ?? 20);
const REGIONS = ['us-east-1', 'eu-west-1', 'us-west-2'];

const calls = new Map<string, number>();
const count = (op: string) => calls.set(op, (calls.get(op) ?? 0) + 1);
const slow =
  <I, O>(op: string, fn: (input: I) => O) =>
  async (input: I): Promise<O> => {
    count(op);
    await sleep(LATENCY_MS);
    return fn(input);
  };
const notFound = (name: string) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 404 }, message: name });

const names = Array.from({ length: BUCKETS }, (_, i) => `ml-bucket-${String(i).padStart(4, '0')}`);
const lifecycle = new Map<string, LifecycleRule[]>();
names.forEach((name, i) => {
  // A third of the buckets have a team rule of their own; one in ten covers checkpoints/ (a conflict).
  if (i % 3 === 0)
    lifecycle.set(name, [
      { ID: 'team-logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 30 } },
    ]);
  if (i % 10 === 0) {
    lifecycle.set(name, [
      ...(lifecycle.get(name) ?? []),
      { ID: 'team-ckpt', Filter: { Prefix: 'checkpoints/' }, Status: 'Enabled', Expiration: { Days: 60 } },
    ]);
  }
});

const s3 = mockClient(S3Client);
const cw = mockClient(CloudWatchClient);
s3.on(ListBucketsCommand).callsFake(
  slow('S3.ListBuckets', () => ({
    Buckets: names.map((Name, i) => ({ Name, BucketRegion: REGIONS[i % REGIONS.length] })),
  })),
);
s3.on(GetBucketLocationCommand).callsFake(slow('S3.GetBucketLocation', () => ({})));
s3.on(GetBucketTaggingCommand).callsFake(
  slow('S3.GetBucketTagging', (input: { Bucket: string }) => {
    // Four in five buckets are opted in.
    if (Number(input.Bucket.slice(-4)) % 5 === 4) throw notFound('NoSuchTagSet');
    return { TagSet: [{ Key: 'cost-guard:lifecycle', Value: 'managed' }] };
  }),
);
// One in fifty buckets receives CloudTrail logs (protected, never written); the others have no policy.
s3.on(GetBucketPolicyCommand).callsFake(
  slow('S3.GetBucketPolicy', (input: { Bucket: string }) => {
    if (Number(input.Bucket.slice(-4)) % 50 !== 7) throw notFound('NoSuchBucketPolicy');
    return {
      Policy: JSON.stringify({
        Statement: [{ Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 's3:PutObject' }],
      }),
    };
  }),
);
s3.on(GetBucketVersioningCommand).callsFake(slow('S3.GetBucketVersioning', () => ({ Status: 'Enabled' })));
s3.on(GetBucketLifecycleConfigurationCommand).callsFake(
  slow('S3.GetBucketLifecycleConfiguration', (input: { Bucket: string }) => {
    const rules = lifecycle.get(input.Bucket);
    if (!rules) throw notFound('NoSuchLifecycleConfiguration');
    return { Rules: structuredClone(rules) };
  }),
);
s3.on(PutBucketLifecycleConfigurationCommand).callsFake(
  slow(
    'S3.PutBucketLifecycleConfiguration',
    (input: { Bucket: string; LifecycleConfiguration: { Rules: LifecycleRule[] } }) => {
      lifecycle.set(input.Bucket, structuredClone(input.LifecycleConfiguration.Rules));
      return {};
    },
  ),
);
cw.on(GetMetricDataCommand).callsFake(
  slow('CloudWatch.GetMetricData', (input: { MetricDataQueries: MetricDataQuery[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => ({ Id: q.Id, Values: [5 * 1024 ** 4] })),
  })),
);

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

async function once(label: string): Promise<void> {
  calls.clear();
  const config = parseConfig({ dryRun: false });
  const ctx = buildContext({
    config,
    now: new Date('2026-11-15T12:00:00Z'),
    defaultRegion: 'us-east-1',
    notifier: new ConsoleNotifier(() => {}),
    log: silentLog,
    metrics: new MemoryMetrics(),
    clients: new ClientFactory({ defaultRegion: 'us-east-1', maxAttempts: 1 }),
  });
  const started = performance.now();
  const summary = await lifecycleCapability.run(ctx);
  const wallMs = performance.now() - started;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const decisions: Record<string, number> = {};
  for (const b of summary.buckets) decisions[b.decision] = (decisions[b.decision] ?? 0) + 1;
  console.log(`\n${label}: ${BUCKETS} buckets, ${LATENCY_MS} ms per call`);
  console.log(`  wall time      ${(wallMs / 1000).toFixed(2)} s`);
  console.log(`  decisions      ${JSON.stringify(decisions)}`);
  console.log(`  conflicts      ${summary.conflicts}`);
  console.log(`  projected      $${summary.projectedMonthlySavingsUsd.toFixed(2)}/month`);
  console.log('  calls by operation:');
  for (const [op, n] of [...calls.entries()].sort()) console.log(`    ${op.padEnd(40)} ${n}`);
  console.log(`  total calls    ${[...calls.values()].reduce((a, b) => a + b, 0)}`);
}

async function main(): Promise<void> {
  await once('first run');
  await once('second run');
  clearInterval(sampler);
  console.log(
    `\npeak RSS ${(peakRss / 1024 ** 2).toFixed(1)} MB; heap used ${(process.memoryUsage().heapUsed / 1024 ** 2).toFixed(1)} MB`,
  );
}

void main();
