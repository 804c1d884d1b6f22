/** The reaper's FinOps GPU hours: busy / measured from the agent's datapoints, spot / all from the instance list. */
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
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { reaperCapability } from '../../../lambda/services/reaper';
import { TEST_NOW, testContext } from '../../helpers/context';

const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);

beforeEach(() => {
  ec2.reset();
  cw.reset();
  const launched = new Date(TEST_NOW.getTime() - 2 * 86_400_000);
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0spot',
            InstanceType: 'g5.12xlarge',
            State: { Name: 'running' },
            LaunchTime: launched,
            InstanceLifecycle: 'spot',
            Tags: [{ Key: 'team', Value: 'ml' }],
          },
          { InstanceId: 'i-0od', InstanceType: 'g5.xlarge', State: { Name: 'running' }, LaunchTime: launched },
        ],
      },
    ],
  });
  ec2.on(DescribeSpotInstanceRequestsCommand).resolves({ SpotInstanceRequests: [] });
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: DescribeInstanceTypesCommandInput) => ({
    InstanceTypes: (input.InstanceTypes ?? []).map((t) => ({
      InstanceType: t,
      GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: t === 'g5.12xlarge' ? 4 : 1 }] },
    })),
  }));
  // Only the spot instance has the agent: 4 GPU series.
  cw.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) => ({
    Metrics:
      input.MetricName === 'nvidia_smi_utilization_gpu'
        ? Array.from({ length: 4 }, (_, i) => ({
            Namespace: 'CWAgent',
            MetricName: input.MetricName,
            Dimensions: [
              { Name: 'InstanceId', Value: 'i-0spot' },
              { Name: 'index', Value: String(i) },
            ],
          }))
        : [],
  }));
  // GPU 0 busy (80%) in all 12 five-minute periods, GPUs 1-3 at 0%; CPU and network busy.
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const m = q.MetricStat!.Metric!;
      const index = m.Dimensions!.find((d) => d.Name === 'index')?.Value;
      const value = m.MetricName === 'nvidia_smi_utilization_gpu' ? (index === '0' ? 80 : 0) : 1e9;
      return { Id: q.Id, Values: Array(12).fill(value) };
    }),
  }));
});

describe('Capability: reaper (FinOps GPU hours)', () => {
  it('publishes the run GPU hours and ratios for the fleet and each team', async () => {
    // Prepare: one-hour lookback; both instances ran the whole hour. With action notify the one-time spot instance is
    // not kept out by the stop guard, so its GPU metrics are read.
    const ctx = testContext({ config: { idleGpu: { lookbackMinutes: 60, action: 'notify' } } });
    // Act
    await reaperCapability.run(ctx).catch(() => undefined);
    // Assess. Fleet: GPU hours 4 (spot) + 1 = 5, spot 4 -> 80%; measured 4 x 12 / 12 = 4, busy 12 / 12 = 1 -> 25%.
    // Team ml: the spot instance alone -> spot 100%, utilization 25%.
    const point = (name: string, team?: string) =>
      ctx.metrics.points.find((p) => p.name === name && p.dimensions?.Team === team)?.value;
    expect(point('GpuHours')).toBe(5);
    expect(point('SpotGpuHours')).toBe(4);
    expect(point('GpuMeasuredHours')).toBe(4);
    expect(point('GpuBusyHours')).toBe(1);
    expect(point('SpotCoveragePercent')).toBe(80);
    expect(point('FleetGpuUtilizationPercent')).toBe(25);
    expect(point('GpuHours', 'ml')).toBe(4);
    expect(point('SpotCoveragePercent', 'ml')).toBe(100);
    expect(point('FleetGpuUtilizationPercent', 'ml')).toBe(25);
  });
});
