/**
 * Benchmark of the organization fan-out: 200 accounts × 4 regions, 50 GPU instances in each, every AWS call (and
 * Slack post) answered after 20 ms, at most 20 units at once (accounts.concurrency, the Map state's MaxConcurrency).
 * Each unit goes through the Lambda's unit step (runtime/organization.ts runUnit), as one invocation of the reaper
 * function would: its own clients and SpokeClients (one AssumeRole of the spoke role), the reaper run in one account
 * and region with the account's keys, leases and limits, its actions recorded and its report stored. Prints the wall
 * time, the AWS calls per account (min / median / max) and the slowest unit against the function timeout. No
 * assertion: it prints figures.
 *
 *   npx tsx scripts/bench-organization.ts [accounts] [regions] [instances] [concurrency]   (default: 200 4 50 20)
 *
 * The fleet: in every account and region, 50 g5.xlarge instances with the CloudWatch agent (GPU utilization and
 * memory series): four in five busy (85% GPU), one in ten idle and warned three hours ago (due for a stop), one in ten
 * idle and new (it gets a warning). The state table's answers are canned (every reservation granted, no lease held).
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../lambda/adapters/clients';
import type { Notifier } from '../lambda/adapters/slack';
import { parseConfig } from '../lambda/core/config';
import { type FanOutUnit, unitsFor } from '../lambda/core/organization/fan-out';
import { runUnit } from '../lambda/runtime/organization';
import { SpokeClients } from '../lambda/runtime/spoke';
import { reaperCapability } from '../lambda/services/reaper';
import { ApiCallCounter } from '../lambda/shared/api-calls';
import { mapWithConcurrency } from '../lambda/shared/concurrency';
import { MemoryMetrics, silentLog } from '../lambda/shared/observability';
import { LATENCY_MS, later } from './bench-kit';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const HUB = '900000000000';
const ALL_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1', 'eu-central-1', 'ap-southeast-2'];
/** The capability functions' timeout (lib: 5 minutes). */
const FUNCTION_TIMEOUT_MS = 300_000;

function installFleet(perRegion: number) {
  const ec2 = mockClient(EC2Client);
  const cw = mockClient(CloudWatchClient);
  const ddb = mockClient(DynamoDBClient);
  const sts = mockClient(STSClient);
  const ids = Array.from({ length: perRegion }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
  const warnedAt = new Date(NOW.getTime() - 3 * 3_600_000).toISOString();
  const launched = new Date(NOW.getTime() - 86_400_000);
  const instances = ids.map((id, i) => ({
    InstanceId: id,
    InstanceType: 'g5.xlarge' as const,
    LaunchTime: launched,
    Tags: [
      { Key: 'Name', Value: `trainer-${i}` },
      { Key: 'team', Value: 'ml' },
      ...(i % 10 === 0 ? [{ Key: 'cost-guard:idle-since', Value: warnedAt }] : []),
    ],
  }));
  // Tags and the rest: accepted.
  ec2.onAnyCommand().callsFake(() => later(() => ({})));
  ec2
    .on(DescribeInstancesCommand)
    .callsFake(() => later(() => ({ Reservations: [{ Instances: instances.map((i) => ({ ...i })) }] })));
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes?: string[] }) =>
    later(() => ({
      InstanceTypes: (input.InstanceTypes ?? []).map((t) => ({
        InstanceType: t,
        GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 1 }] },
      })),
    })),
  );
  ec2
    .on(StopInstancesCommand)
    .callsFake((input: { InstanceIds?: string[] }) =>
      later(() => ({ StoppingInstances: (input.InstanceIds ?? []).map((InstanceId) => ({ InstanceId })) })),
    );

  const S = (v: string) => ({ S: v });
  // The warnings the state table holds in every account and region: the half warned three hours ago (the region is
  // the last part of the queried partition, `warning#<account>#<region>`).
  const warningsIn = (region: string) =>
    ids
      .filter((_, i) => i % 10 === 0)
      .map((id) => ({
        pk: S(`warning#${region}`),
        sk: S(id),
        instanceId: S(id),
        region: S(region),
        status: S('delivered'),
        idleSince: S(warnedAt),
        action: S('stop'),
        warnedAt: S(warnedAt),
        actionDue: S(new Date(NOW.getTime() - 2 * 3_600_000).toISOString()),
        slackChannel: S('C0BENCH'),
        slackTs: S('1700000000.000100'),
      }));
  ddb
    .onAnyCommand()
    .callsFake((input: { ExpressionAttributeValues?: Record<string, { S?: string }>; RequestItems?: unknown }) =>
      later(() => {
        const pk = input.ExpressionAttributeValues?.[':pk']?.S;
        if (pk !== undefined) return { Items: pk.startsWith('warning#') ? warningsIn(pk.split('#').pop()!) : [] };
        if (input.RequestItems) return { UnprocessedItems: {} };
        return {};
      }),
    );

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
  cw.on(ListMetricsCommand).callsFake((input: { MetricName?: string }) =>
    later(() => ({ Metrics: series[input.MetricName ?? ''] ?? [] })),
  );
  // A GPU-utilisation series of an instance: idle (0.5%) for the first fifth of the fleet, busy (85%) for the rest.
  const idle = new Set(ids.filter((_, i) => i % 10 < 2));
  const points = (id: string | undefined) => Array(12).fill(id !== undefined && !idle.has(id) ? 85 : 0.5);
  cw.on(GetMetricDataCommand).callsFake(
    (input: {
      MetricDataQueries?: {
        Id?: string;
        MetricStat?: { Metric?: { Dimensions?: { Name?: string; Value?: string }[] } };
      }[];
    }) =>
      later(() => ({
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
          Id: q.Id,
          Values: points(q.MetricStat?.Metric?.Dimensions?.find((d) => d.Name === 'InstanceId')?.Value),
        })),
      })),
  );
  sts.on(AssumeRoleCommand).callsFake(() =>
    later(() => ({
      Credentials: { AccessKeyId: 'ASIABENCH', SecretAccessKey: 'bench', SessionToken: 'bench' },
    })),
  );
  return [ec2, cw, ddb, sts];
}

interface UnitFigures {
  readonly unit: FanOutUnit;
  readonly ms: number;
  readonly calls: number;
  readonly byOperation: Record<string, number>;
  readonly ok: boolean;
  readonly reason?: string;
  readonly stopped: number;
}

const median = (sorted: readonly number[]): number =>
  sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;

async function bench(accountCount: number, regionCount: number, perRegion: number, concurrency: number) {
  const mocks = installFleet(perRegion);
  const regions = ALL_REGIONS.slice(0, regionCount);
  const accountIds = Array.from({ length: accountCount }, (_, i) => String(100_000_000_000 + i));
  const config = parseConfig({
    dryRun: false,
    regions,
    idleGpu: { action: 'stop' },
    accounts: { mode: 'organization', organizationId: 'o-bench00001', accountIds, concurrency },
  });
  const accounts = accountIds.map((id, i) => ({ id, name: `account-${i}` }));
  const units = unitsFor('reaper', accounts, regions, regions[0]!);
  const slack: Notifier = {
    kind: 'slack',
    post: () => later(() => ({ channel: 'C0BENCH', ts: '1700000000.000200' })),
  };
  const runId = 'bench-organization';
  const started = performance.now();
  // One unit = one invocation of the function: its own clients, its own SpokeClients (so its own AssumeRole).
  const figures = await mapWithConcurrency(units, concurrency, async (unit): Promise<UnitFigures> => {
    const unitStarted = performance.now();
    const clients = new ClientFactory({ defaultRegion: regions[0]!, counter: new ApiCallCounter() });
    const base = {
      config,
      now: NOW,
      defaultRegion: regions[0]!,
      notifier: slack,
      log: silentLog,
      metrics: new MemoryMetrics(),
      clients,
      accountId: HUB,
      stateTableName: 'ml-cost-guard-state',
      holder: `lambda:bench-${unit.accountId}-${unit.region}`,
    };
    const run = await runUnit({
      capability: reaperCapability,
      base,
      unit: { ...unit, runId },
      spoke: new SpokeClients({ clients, config, accountId: HUB }, { capability: 'reaper', runId }),
    });
    return {
      unit,
      ms: performance.now() - unitStarted,
      calls: clients.counter.total(),
      byOperation: clients.counter.byOperation(),
      ok: run.status.ok,
      ...(run.status.reason ? { reason: run.status.reason } : {}),
      stopped: run.report.actions.filter((a) => a.kind === 'stop' && a.status === 'done').length,
    };
  });
  const wallMs = performance.now() - started;
  for (const m of mocks) m.restore();

  const perAccount = new Map<string, number>();
  for (const f of figures) perAccount.set(f.unit.accountId, (perAccount.get(f.unit.accountId) ?? 0) + f.calls);
  const calls = [...perAccount.values()].sort((a, b) => a - b);
  const slowest = figures.reduce((a, b) => (b.ms > a.ms ? b : a));
  const failed = figures.filter((f) => !f.ok);
  const unitTimes = figures.map((f) => f.ms).sort((a, b) => a - b);
  console.log(
    `\n== ${accountCount} accounts × ${regionCount} regions × ${perRegion} GPU instances, ${LATENCY_MS} ms per call, concurrency ${concurrency} ==`,
  );
  console.log(`  units                     ${figures.length} (${failed.length} failed)`);
  if (failed[0]) console.log(`  first failure             ${failed[0].reason}`);
  console.log(`  instances stopped         ${figures.reduce((n, f) => n + f.stopped, 0)}`);
  console.log(`  wall time                 ${(wallMs / 1000).toFixed(2)} s`);
  console.log(
    `  AWS calls per account     min ${calls[0]}, median ${median(calls)}, max ${calls[calls.length - 1]} ` +
      `(${regionCount} units each; includes AssumeRole and the state table)`,
  );
  console.log(`  AWS calls, all units      ${calls.reduce((a, b) => a + b, 0)}`);
  console.log("  one unit's calls:");
  for (const [op, n] of Object.entries(figures[0]!.byOperation))
    console.log(`    ${op.padEnd(28)} ${String(n).padStart(4)}`);
  console.log(`  unit time                 median ${(median(unitTimes) / 1000).toFixed(2)} s`);
  console.log(
    `  slowest unit              ${(slowest.ms / 1000).toFixed(2)} s (${slowest.unit.accountId} ${slowest.unit.region}), ` +
      `${((slowest.ms / FUNCTION_TIMEOUT_MS) * 100).toFixed(2)}% of the ${FUNCTION_TIMEOUT_MS / 1000} s function timeout`,
  );
}

async function main(): Promise<void> {
  const [accounts = 200, regions = 4, instances = 50, concurrency = 20] = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  await bench(accounts, Math.min(regions, ALL_REGIONS.length), instances, concurrency);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
