/**
 * Benchmark of the idle GPU reaper: runs the real capability over 1,000 and 5,000 simulated GPU instances in one
 * region, with mocked EC2 and CloudWatch clients that answer after 20 ms per call, and prints the calls by
 * operation, the wall time and the peak memory (RSS, sampled). No assertion: it prints figures.
 *
 *   npx tsx scripts/bench-reaper.ts [instances...]     (default: 1000 5000)
 *
 * The fleet: every instance is an idle g5.xlarge with the CloudWatch agent (GPU utilization and memory series); half
 * were warned three hours ago (a delivered warning in the state table: they are due for a stop, capped by
 * maxActionsPerRun), half are new (they get a pending warning, the digest, then a delivered mark and the mirror tag).
 * The state table and Slack answer after the same 20 ms.
 */

import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../lambda/adapters/clients';
import type { Notifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import { buildContext } from '../lambda/runtime/context';
import { reaperCapability } from '../lambda/services/reaper';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { LATENCY_MS, later } from './bench-kit';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const REGION = 'us-east-1';

function installFleet(n: number) {
  const ec2 = mockClient(EC2Client);
  const cw = mockClient(CloudWatchClient);
  const ddb = mockClient(DynamoDBClient);
  const ids = Array.from({ length: n }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
  const warnedAt = new Date(NOW.getTime() - 3 * 3_600_000).toISOString();
  const launched = new Date(NOW.getTime() - 86_400_000);
  const instances = ids.map((id, i) => ({
    InstanceId: id,
    InstanceType: 'g5.xlarge' as const,
    LaunchTime: launched,
    Tags: [
      { Key: 'Name', Value: `trainer-${i}` },
      { Key: 'team', Value: 'ml' },
      ...(i % 2 === 0 ? [{ Key: 'cost-guard:idle-since', Value: warnedAt }] : []),
    ],
  }));
  const page = <T>(items: readonly T[], token: string | undefined, size: number) => {
    const start = token ? Number(token) : 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { items: items.slice(start, start + size), next };
  };

  ec2.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) =>
    later(() => {
      const { items, next } = page(instances, input.NextToken, input.MaxResults ?? 1000);
      return { Reservations: [{ Instances: items }], ...(next ? { NextToken: next } : {}) };
    }),
  );
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes?: string[] }) =>
    later(() => ({
      InstanceTypes: (input.InstanceTypes ?? []).map((t) => ({
        InstanceType: t,
        GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 1 }] },
      })),
    })),
  );
  ec2.on(CreateTagsCommand).callsFake(() => later(() => ({})));
  ec2
    .on(StopInstancesCommand)
    .callsFake((input: { InstanceIds?: string[] }) =>
      later(() => ({ StoppingInstances: (input.InstanceIds ?? []).map((InstanceId) => ({ InstanceId })) })),
    );

  const S = (v: string) => ({ S: v });
  const warnings = ids
    .filter((_, i) => i % 2 === 0)
    .map((id) => ({
      pk: S(`warning#${REGION}`),
      sk: S(id),
      instanceId: S(id),
      region: S(REGION),
      status: S('delivered'),
      idleSince: S(warnedAt),
      action: S('stop'),
      warnedAt: S(warnedAt),
      actionDue: S(new Date(NOW.getTime() - 2 * 3_600_000).toISOString()),
      slackChannel: S('C0BENCH'),
      slackTs: S('1700000000.000100'),
    }));
  ddb.on(QueryCommand).callsFake(() => later(() => ({ Items: warnings })));
  ddb.on(PutItemCommand).callsFake(() => later(() => ({})));
  ddb.on(UpdateItemCommand).callsFake(() => later(() => ({})));
  ddb.on(DeleteItemCommand).callsFake(() => later(() => ({})));
  ddb.on(BatchWriteItemCommand).callsFake(() => later(() => ({ UnprocessedItems: {} })));

  const seriesOf = (metricName: string) => (id: string) => ({
    Namespace: 'CWAgent',
    MetricName: metricName,
    Dimensions: [
      { Name: 'InstanceId', Value: id },
      { Name: 'index', Value: '0' },
      { Name: 'name', Value: 'NVIDIA A10G' },
    ],
  });
  const series: Record<string, ReturnType<ReturnType<typeof seriesOf>>[]> = {
    nvidia_smi_utilization_gpu: ids.map(seriesOf('nvidia_smi_utilization_gpu')),
    nvidia_smi_memory_used: ids.map(seriesOf('nvidia_smi_memory_used')),
  };
  cw.on(ListMetricsCommand).callsFake((input: { NextToken?: string; MetricName?: string }) =>
    later(() => {
      const { items, next } = page(series[input.MetricName ?? ''] ?? [], input.NextToken, 500);
      return { Metrics: items, ...(next ? { NextToken: next } : {}) };
    }),
  );
  const idlePoints = Array(12).fill(0.5);
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries?: { Id?: string }[] }) =>
    later(() => ({
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({ Id: q.Id, Values: idlePoints })),
    })),
  );
  return { ec2, cw, ddb };
}

function callsByOperation(...mocks: { calls(): { args: unknown[] }[] }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const mock of mocks) {
    for (const call of mock.calls()) {
      const name = (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '');
      counts[name] = (counts[name] ?? 0) + 1;
    }
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

async function bench(n: number): Promise<void> {
  const { ec2, cw, ddb } = installFleet(n);
  const slack: Notifier = {
    kind: 'slack',
    post: () => later(() => ({ channel: 'C0BENCH', ts: '1700000000.000200' })),
  };
  const config = parseConfig({ dryRun: false, regions: [REGION], idleGpu: { action: 'stop' } });
  const ctx = buildContext({
    config,
    now: NOW,
    defaultRegion: REGION,
    notifier: slack,
    stateTableName: 'ml-cost-guard-state',
    log: silentLog,
    metrics: new MemoryMetrics(),
    clients: new ClientFactory({ defaultRegion: REGION }),
  });
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const started = performance.now();
  const summary = await reaperCapability.run(ctx);
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  const calls = callsByOperation(ec2, cw, ddb);
  // Acting and its bookkeeping: the writes, the per-period reservations and the warning records.
  const actionOps = new Set([
    'CreateTags',
    'DeleteTags',
    'StopInstances',
    'TerminateInstances',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'BatchWriteItem',
  ]);
  const reads = Object.entries(calls)
    .filter(([op]) => !actionOps.has(op))
    .reduce((s, [, c]) => s + c, 0);
  const total = Object.values(calls).reduce((s, c) => s + c, 0);
  console.log(`\n== ${n.toLocaleString('en-US')} GPU instances, ${LATENCY_MS} ms per call ==`);
  for (const [op, count] of Object.entries(calls)) console.log(`  ${op.padEnd(24)} ${String(count).padStart(5)}`);
  console.log(`  ${'calls besides actions'.padEnd(24)} ${String(reads).padStart(5)}`);
  console.log(`  ${'all calls'.padEnd(24)} ${String(total).padStart(5)}`);
  console.log(`  GetMetricData queries     ${summary.metricQueries}`);
  console.log(
    `  decisions                 warned ${summary.counts.warned}, stopped ${summary.counts.stopped}, ` +
      `deferred ${summary.counts.deferred}`,
  );
  console.log(`  wall time                 ${(wallMs / 1000).toFixed(2)} s`);
  console.log(`  peak RSS                  ${(peak / 1024 / 1024).toFixed(0)} MB`);
  ec2.restore();
  cw.restore();
  ddb.restore();
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const n of sizes.length > 0 ? sizes : [1000, 5000]) await bench(n);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
