/**
 * The right-sizing advice end to end over mocked EC2 and CloudWatch: which instances get advice, which a note, what the
 * weekly message says (escaped), what it reads (hourly p95 / Maximum, batched) and that it never acts.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandInput,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import type { Notifier } from '../../../lambda/adapters/slack';
import type { SlackMessage } from '../../../lambda/core/slack-blocks';
import { RightsizingRunError, rightsizingCapability } from '../../../lambda/services/rightsizing';
import { TEST_NOW, testContext } from '../../helpers/context';

const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);

interface Fake {
  id: string;
  type: string;
  gpus: number;
  /** GPU memory used peak of GPU 0 (the others hold 100 MiB); undefined: no memory series. */
  memoryPeak?: number;
  util: number;
  cpu: number;
  tags?: Record<string, string>;
  lifecycle?: 'spot';
}

const GPU_TYPES: Record<string, { name: string; maker: string; count: number }> = {
  'p4d.24xlarge': { name: 'A100', maker: 'NVIDIA', count: 8 },
  'g5.12xlarge': { name: 'A10G', maker: 'NVIDIA', count: 4 },
  'g4ad.xlarge': { name: 'Radeon Pro V520', maker: 'AMD', count: 1 },
};

class CollectingNotifier implements Notifier {
  readonly kind = 'slack' as const;
  readonly messages: SlackMessage[] = [];
  async post(message: SlackMessage) {
    this.messages.push(message);
    return { channel: 'C1', ts: String(this.messages.length) };
  }
}

function install(fleet: Fake[]) {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: fleet.map((f) => ({
          InstanceId: f.id,
          InstanceType: f.type as never,
          State: { Name: 'running' },
          LaunchTime: new Date(TEST_NOW.getTime() - 30 * 86_400_000),
          Tags: Object.entries(f.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
          ...(f.lifecycle ? { InstanceLifecycle: f.lifecycle } : {}),
        })),
      },
    ],
  });
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: DescribeInstanceTypesCommandInput) => ({
    InstanceTypes: (input.InstanceTypes ?? []).map((t) => {
      const g = GPU_TYPES[t];
      return g
        ? { InstanceType: t, GpuInfo: { Gpus: [{ Name: g.name, Manufacturer: g.maker, Count: g.count }] } }
        : { InstanceType: t };
    }),
  }));
  const series = (f: Fake, i: number) => [
    { Name: 'InstanceId', Value: f.id },
    { Name: 'index', Value: String(i) },
    { Name: 'host', Value: `ip-${f.id}` },
  ];
  cw.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) => ({
    Metrics: fleet
      .filter((f) => GPU_TYPES[f.type]?.maker === 'NVIDIA')
      .filter((f) => input.MetricName !== 'nvidia_smi_memory_used' || f.memoryPeak !== undefined)
      .flatMap((f) =>
        Array.from({ length: f.gpus }, (_, i) => ({
          Namespace: 'CWAgent',
          MetricName: input.MetricName,
          Dimensions: series(f, i),
        })),
      ),
  }));
  const byId = new Map(fleet.map((f) => [f.id, f]));
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const m = q.MetricStat!.Metric!;
      const f = byId.get(m.Dimensions!.find((d) => d.Name === 'InstanceId')!.Value!)!;
      const gpu = Number(m.Dimensions!.find((d) => d.Name === 'index')?.Value ?? 0);
      const hours = 14 * 24;
      const values =
        m.MetricName === 'nvidia_smi_utilization_gpu'
          ? Array(hours).fill(f.util)
          : m.MetricName === 'nvidia_smi_memory_used'
            ? Array.from({ length: hours }, (_, h) => (gpu === 0 ? (h === 100 ? f.memoryPeak! : 1000) : 100))
            : Array(hours).fill(f.cpu);
      return { Id: q.Id, Values: values };
    }),
  }));
}

describe('Capability: rightsizing', () => {
  beforeEach(() => {
    ec2.reset();
    cw.reset();
  });

  const fleet: Fake[] = [
    // 1 of 8 A100 in use at 9,000 MiB, GPUs at 30%, CPU 5%: g4dn.2xlarge, (21.96 - 0.752) x 730 = $15,481.84/month.
    {
      id: 'i-0big',
      type: 'p4d.24xlarge',
      gpus: 8,
      memoryPeak: 9000,
      util: 30,
      cpu: 5,
      tags: { Name: '<!channel> *batch*', team: 'ml-platform' },
    },
    { id: 'i-0nomem', type: 'g5.12xlarge', gpus: 4, util: 40, cpu: 20 },
    { id: 'i-0amd', type: 'g4ad.xlarge', gpus: 1, util: 40, cpu: 20 },
    { id: 'i-0cpu', type: 'm5.large', gpus: 0, util: 0, cpu: 50 },
  ];

  it('recommends the cheapest compatible type with its evidence, notes the rest, and posts one escaped message', async () => {
    // Prepare
    install(fleet);
    const notifier = new CollectingNotifier();
    const ctx = testContext({ notifier });
    // Act
    const summary = await rightsizingCapability.run(ctx);
    // Assess: one recommendation, the others noted; nothing acted on
    expect(summary.instancesChecked).toBe(3);
    expect(summary.recommendations).toHaveLength(1);
    const r = summary.recommendations[0]!;
    expect(r).toMatchObject({ instanceId: 'i-0big', team: 'ml-platform', verdict: { targetType: 'g4dn.2xlarge' } });
    expect(r.verdict.monthlySavingsUsd).toBeCloseTo((21.96 - 0.752) * 730, 6);
    expect(r.observation).toMatchObject({ gpuSeries: 8, gpuMemoryPeakMiB: 9000, gpusInUse: 1, gpuUtilizationP95: 30 });
    expect(summary.noteCounts).toEqual({ 'no-gpu-memory-metric': 1, 'not-nvidia': 1 });
    expect(summary.actions).toEqual([]);
    expect(summary.monthlySavingsUsd).toBe(0);
    expect(summary.potentialMonthlySavingsUsd).toBeCloseTo(15481.84, 2);
    expect(summary.notes.some((n) => n.startsWith('advice: i-0big'))).toBe(true);
    // The message: the instance, the move, the dollars, the evidence; the name tag shown, never parsed
    expect(notifier.messages).toHaveLength(1);
    const text = JSON.stringify(notifier.messages[0]!.blocks);
    expect(text).toContain('p4d.24xlarge');
    expect(text).toContain('g4dn.2xlarge');
    expect(text).toContain('$15,481.84/month');
    expect(text).toContain('GPU memory peak 9,000 MiB (1 of 8 GPUs in use)');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('no GPU memory metric');
    // Metrics
    expect(ctx.metrics.value('RightsizingRecommendations')).toBe(1);
    expect(ctx.metrics.value('RightsizingInstancesChecked')).toBe(3);
    expect(ctx.metrics.value('RightsizingMonthlySavingsUsd')).toBeCloseTo(15481.84, 2);
  });

  it('reads hourly p95 and Maximum over the lookback in one batched call, and calls nothing that changes EC2', async () => {
    install(fleet);
    const ctx = testContext({ notifier: new CollectingNotifier() });
    const summary = await rightsizingCapability.run(ctx);
    // p4d: 8 util + 8 memory + CPU = 17; g5.12xlarge: 4 util + CPU = 5; the AMD instance has no agent series: CPU.
    expect(summary.metricQueries).toBe(23);
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input.EndTime).toEqual(new Date('2026-11-15T12:00:00.000Z'));
    expect(input.StartTime).toEqual(new Date('2026-11-01T12:00:00.000Z'));
    const stats = new Set(
      input.MetricDataQueries!.map(
        (q) => `${q.MetricStat!.Metric!.MetricName}:${q.MetricStat!.Stat}:${q.MetricStat!.Period}`,
      ),
    );
    expect([...stats].sort()).toEqual([
      'CPUUtilization:p95:3600',
      'nvidia_smi_memory_used:Maximum:3600',
      'nvidia_smi_utilization_gpu:p95:3600',
    ]);
    const operations = Object.keys(summary.apiCalls);
    expect(operations.filter((op) => !/Describe|List|GetMetricData/.test(op))).toEqual([]);
  });

  it('gives no advice on half the data: a failed metrics call leaves its instances out and fails the run', async () => {
    install(fleet);
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('slow down'), { name: 'Throttling' }));
    const notifier = new CollectingNotifier();
    // Act
    const error = await rightsizingCapability.run(testContext({ notifier })).catch((e: unknown) => e);
    // Assess: the run fails (the errors alarm sees it) and carries a summary with no advice, saying why
    expect(error).toBeInstanceOf(RightsizingRunError);
    const summary = (error as RightsizingRunError).summary;
    expect(summary.recommendations).toEqual([]);
    expect(summary.instancesChecked).toBe(0);
    expect(summary.notes.some((n) => n.includes('GetMetricData') && n.includes('Throttling'))).toBe(true);
    expect(notifier.messages).toHaveLength(0);
  });

  it('reads nothing when disabled', async () => {
    install(fleet);
    const summary = await rightsizingCapability.run(testContext({ config: { rightsizing: { enabled: false } } }));
    expect(summary.notes).toEqual(['rightsizing.enabled is false: nothing done']);
    expect(ec2.calls()).toHaveLength(0);
  });
});
