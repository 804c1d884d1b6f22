/**
 * Benchmark of the GPU right-sizing advice: the real capability over 1,000 simulated GPU instances with 14 days of
 * hourly metrics, mocked EC2 and CloudWatch answering after 20 ms per call. Prints the calls by operation, the
 * GetMetricData queries and pages, the wall time and the peak memory (RSS, sampled). No assertion: it prints figures.
 *
 *   npx tsx scripts/bench-rightsizing.ts [instances...]     (default: 1000)
 *
 * The fleet, one region: 10% p4d.24xlarge (8 GPUs), 30% g5.12xlarge (4), 60% g5.xlarge (1), every GPU with the
 * CloudWatch agent's utilization and memory series: 2.6 GPU series an instance, 6.2 queries an instance. CloudWatch
 * returns at most 100,800 datapoints a GetMetricData page, so 500 queries of 336 hourly datapoints take two pages,
 * as they would in AWS.
 */

import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../lambda/adapters/clients';
import type { Notifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import { buildContext } from '../lambda/runtime/context';
import { rightsizingCapability } from '../lambda/services/rightsizing';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { LATENCY_MS, later } from './bench-kit';

const NOW = new Date('2026-11-16T08:00:00.000Z');
const REGION = 'us-east-1';
const HOURS = 14 * 24;
/** GetMetricData returns at most this many datapoints a page. */
const DATAPOINTS_PER_PAGE = 100_800;

const TYPES: Record<string, { name: string; count: number }> = {
  'p4d.24xlarge': { name: 'A100', count: 8 },
  'g5.12xlarge': { name: 'A10G', count: 4 },
  'g5.xlarge': { name: 'A10G', count: 1 },
};

function installFleet(n: number) {
  const ec2 = mockClient(EC2Client);
  const cw = mockClient(CloudWatchClient);
  const fleet = Array.from({ length: n }, (_, i) => ({
    id: `i-${i.toString(16).padStart(17, '0')}`,
    type: i % 10 === 0 ? 'p4d.24xlarge' : i % 10 <= 3 ? 'g5.12xlarge' : 'g5.xlarge',
  }));
  const page = <T>(items: readonly T[], token: string | undefined, size: number) => {
    const start = token ? Number(token) : 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { items: items.slice(start, start + size), next };
  };
  ec2.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string; MaxResults?: number }) =>
    later(() => {
      const { items, next } = page(fleet, input.NextToken, input.MaxResults ?? 1000);
      return {
        Reservations: [
          {
            Instances: items.map((f) => ({
              InstanceId: f.id,
              InstanceType: f.type as never,
              State: { Name: 'running' as const },
              Tags: [{ Key: 'team', Value: `team-${Number.parseInt(f.id.slice(2), 16) % 7}` }],
            })),
          },
        ],
        ...(next ? { NextToken: next } : {}),
      };
    }),
  );
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes?: string[] }) =>
    later(() => ({
      InstanceTypes: (input.InstanceTypes ?? []).map((t) => ({
        InstanceType: t as never,
        GpuInfo: { Gpus: [{ Name: TYPES[t]!.name, Manufacturer: 'NVIDIA', Count: TYPES[t]!.count }] },
      })),
    })),
  );
  const seriesOf = (metricName: string) =>
    fleet.flatMap((f) =>
      Array.from({ length: TYPES[f.type]!.count }, (_, g) => ({
        Namespace: 'CWAgent',
        MetricName: metricName,
        Dimensions: [
          { Name: 'InstanceId', Value: f.id },
          { Name: 'index', Value: String(g) },
          { Name: 'name', Value: `NVIDIA ${TYPES[f.type]!.name}` },
        ],
      })),
    );
  const series: Record<string, ReturnType<typeof seriesOf>> = {
    nvidia_smi_utilization_gpu: seriesOf('nvidia_smi_utilization_gpu'),
    nvidia_smi_memory_used: seriesOf('nvidia_smi_memory_used'),
  };
  cw.on(ListMetricsCommand).callsFake((input: { NextToken?: string; MetricName?: string }) =>
    later(() => {
      const { items, next } = page(series[input.MetricName ?? ''] ?? [], input.NextToken, 500);
      return { Metrics: items, ...(next ? { NextToken: next } : {}) };
    }),
  );
  // Busy but small: GPUs at 35%, GPU 0 of each instance holds 6 GB, the others 100 MiB; CPU 8%.
  const values = (metricName: string, index: string | undefined) =>
    Array.from({ length: HOURS }, () =>
      metricName === 'nvidia_smi_memory_used' ? (index === '0' ? 6000 : 100) : metricName === 'CPUUtilization' ? 8 : 35,
    );
  const perPage = Math.floor(DATAPOINTS_PER_PAGE / HOURS);
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) =>
    later(() => {
      const queries = input.MetricDataQueries ?? [];
      const { items, next } = page(queries, input.NextToken, perPage);
      return {
        MetricDataResults: items.map((q) => {
          const m = q.MetricStat!.Metric!;
          return { Id: q.Id, Values: values(m.MetricName!, m.Dimensions?.find((d) => d.Name === 'index')?.Value) };
        }),
        ...(next ? { NextToken: next } : {}),
      };
    }),
  );
  return { ec2, cw };
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
  const { ec2, cw } = installFleet(n);
  let posted = 0;
  const slack: Notifier = {
    kind: 'slack',
    post: () =>
      later(() => {
        posted += 1;
        return { channel: 'C0BENCH', ts: '1700000000.000200' };
      }),
  };
  const ctx = buildContext({
    config: parseConfig({ regions: [REGION] }),
    now: NOW,
    defaultRegion: REGION,
    notifier: slack,
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
  const summary = await rightsizingCapability.run(ctx);
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  const calls = callsByOperation(ec2, cw);
  const total = Object.values(calls).reduce((s, c) => s + c, 0);
  console.log(`\n== ${n.toLocaleString('en-US')} GPU instances, 14 days hourly, ${LATENCY_MS} ms per call ==`);
  for (const [op, count] of Object.entries(calls)) console.log(`  ${op.padEnd(24)} ${String(count).padStart(5)}`);
  console.log(`  ${'all calls'.padEnd(24)} ${String(total).padStart(5)}`);
  console.log(
    `  GetMetricData queries     ${summary.metricQueries} (${(summary.metricQueries / 500).toFixed(1)} x 500)`,
  );
  console.log(
    `  advice                    ${summary.recommendations.length} recommendation(s), ` +
      `$${summary.potentialMonthlySavingsUsd.toLocaleString('en-US')}/month; ${posted} Slack message(s)`,
  );
  console.log(`  wall time                 ${(wallMs / 1000).toFixed(2)} s`);
  console.log(`  peak RSS                  ${(peak / 1024 / 1024).toFixed(0)} MB`);
  ec2.restore();
  cw.restore();
}

async function main(): Promise<void> {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  for (const n of sizes.length > 0 ? sizes : [1000]) await bench(n);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
