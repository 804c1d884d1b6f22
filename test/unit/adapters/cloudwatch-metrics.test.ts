import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import {
  fetchInstanceMetrics,
  getMetricValues,
  instanceQueries,
  listGpuSeries,
  type MetricQuerySpec,
  metricWindow,
} from '../../../lambda/adapters/cloudwatch-metrics';

const cwMock = mockClient(CloudWatchClient);
const client = () => new CloudWatchClient({ region: 'us-east-1' });
const NOW = new Date('2026-11-15T12:03:20.000Z');
const window = metricWindow(NOW, 60);
const awsError = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => cwMock.reset());

const gpuMetric = (instanceId: string | undefined, index: number) => ({
  Namespace: 'CWAgent',
  MetricName: 'nvidia_smi_utilization_gpu',
  Dimensions: [
    ...(instanceId ? [{ Name: 'InstanceId', Value: instanceId }] : []),
    { Name: 'index', Value: String(index) },
    { Name: 'name', Value: 'NVIDIA A100-SXM4-40GB' },
    { Name: 'host', Value: 'ip-10-0-0-1' },
  ],
});

describe('Function: metricWindow', () => {
  it('ends on a 5-minute boundary and spans the lookback', () => {
    expect(window.end.toISOString()).toBe('2026-11-15T12:00:00.000Z');
    expect(window.start.toISOString()).toBe('2026-11-15T11:00:00.000Z');
    expect(window.periodSeconds).toBe(300);
  });
});

describe('Function: listGpuSeries', () => {
  it('pages through ListMetrics and groups each GPU series by its InstanceId with all its dimensions', async () => {
    // Prepare
    cwMock
      .on(ListMetricsCommand)
      .resolvesOnce({ Metrics: [gpuMetric('i-1', 0), gpuMetric('i-1', 1)], NextToken: 'n' })
      .resolvesOnce({ Metrics: [gpuMetric('i-2', 0), gpuMetric(undefined, 0)] });
    // Act
    const index = await listGpuSeries(client());
    // Assess
    expect(index.byInstance.get('i-1')).toHaveLength(2);
    expect(index.byInstance.get('i-1')![1]).toEqual(gpuMetric('i-1', 1).Dimensions);
    expect(index.byInstance.get('i-2')).toHaveLength(1);
    expect(index.unattributed).toBe(1);
    expect(cwMock).toHaveReceivedCommandTimes(ListMetricsCommand, 2);
    expect(cwMock).toHaveReceivedCommandWith(ListMetricsCommand, {
      Namespace: 'CWAgent',
      MetricName: 'nvidia_smi_utilization_gpu',
      RecentlyActive: 'PT3H',
    });
  });
});

describe('Function: instanceQueries', () => {
  it('makes one Maximum query per GPU series plus CPU (Maximum) and network in/out (Sum)', () => {
    const queries = instanceQueries('i-1', [gpuMetric('i-1', 0).Dimensions, gpuMetric('i-1', 1).Dimensions]);
    expect(queries.map((q) => [q.namespace, q.metricName, q.stat])).toEqual([
      ['CWAgent', 'nvidia_smi_utilization_gpu', 'Maximum'],
      ['CWAgent', 'nvidia_smi_utilization_gpu', 'Maximum'],
      ['AWS/EC2', 'CPUUtilization', 'Maximum'],
      ['AWS/EC2', 'NetworkIn', 'Sum'],
      ['AWS/EC2', 'NetworkOut', 'Sum'],
    ]);
    expect(queries[1]!.dimensions).toEqual(gpuMetric('i-1', 1).Dimensions);
  });
});

describe('Function: getMetricValues', () => {
  const specs = (n: number): MetricQuerySpec[] =>
    Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: [{ Name: 'InstanceId', Value: `i-${i}` }],
      stat: 'Maximum',
    }));

  it('sends at most 500 queries a call', async () => {
    // Prepare
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: [1] })),
    }));
    // Act
    const result = await getMetricValues(client(), specs(1201), window);
    // Assess
    const sizes = cwMock.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.MetricDataQueries!.length);
    expect(sizes).toEqual([500, 500, 201]);
    expect(result.values.size).toBe(1201);
    expect(result.values.get('k1200')).toEqual([1]);
    const first = cwMock.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(first).toMatchObject({ StartTime: window.start, EndTime: window.end });
    expect(first.MetricDataQueries![0]!.MetricStat).toMatchObject({ Period: 300, Stat: 'Maximum' });
  });

  it('follows NextToken and merges a query split across pages', async () => {
    cwMock
      .on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'q0', Values: [1, 2] }], NextToken: 'more' })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'q0', Values: [3] },
          { Id: 'q1', Values: [9] },
        ],
      });
    const result = await getMetricValues(client(), specs(2), window);
    expect(result.values.get('k0')).toEqual([1, 2, 3]);
    expect(result.values.get('k1')).toEqual([9]);
    expect(cwMock.commandCalls(GetMetricDataCommand)[1]!.args[0].input.NextToken).toBe('more');
  });

  it('marks the keys of a failed call and still reads the other calls', async () => {
    // Prepare: the second of three calls is throttled (after the SDK's own retries).
    cwMock
      .on(GetMetricDataCommand)
      .callsFakeOnce((input: GetMetricDataCommandInput) => ({
        MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: [1] })),
      }))
      .rejectsOnce(awsError('Throttling'))
      .callsFake((input: GetMetricDataCommandInput) => ({
        MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: [2] })),
      }));
    // Act
    const result = await getMetricValues(client(), specs(1100), window);
    // Assess
    expect(result.failedKeys.size).toBe(500);
    expect(result.failedKeys.has('k500')).toBe(true);
    expect(result.values.get('k0')).toEqual([1]);
    expect(result.values.get('k1099')).toEqual([2]);
    expect(result.errors[0]).toContain('Throttling');
  });
});

describe('Function: fetchInstanceMetrics', () => {
  it('returns per-GPU series, CPU and network for each instance, and empty series where no data came back', async () => {
    // Prepare
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => {
        const dims = q.MetricStat!.Metric!.Dimensions!;
        const gpuIndex = dims.find((d) => d.Name === 'index')?.Value;
        const id = dims.find((d) => d.Name === 'InstanceId')?.Value;
        if (id === 'i-silent') return { Id: q.Id, Values: [] };
        return { Id: q.Id, Values: gpuIndex === '1' ? [50] : [0, 0] };
      }),
    }));
    const gpu = {
      byInstance: new Map([['i-1', [gpuMetric('i-1', 0).Dimensions, gpuMetric('i-1', 1).Dimensions]]]),
      unattributed: 0,
    };
    // Act
    const result = await fetchInstanceMetrics(client(), ['i-1', 'i-silent'], gpu, window);
    // Assess
    expect(result.metrics.get('i-1')).toEqual({
      gpu: [[0, 0], [50]],
      cpu: [0, 0],
      networkIn: [0, 0],
      networkOut: [0, 0],
    });
    expect(result.metrics.get('i-silent')).toEqual({ gpu: [], cpu: [], networkIn: [], networkOut: [] });
    expect(result.queries).toBe(2 + 3 + 3);
  });

  it('turns a failed GPU query into an empty GPU series, never into "no GPU metrics"', async () => {
    cwMock.on(GetMetricDataCommand).rejects(awsError('InternalServiceError'));
    const gpu = { byInstance: new Map([['i-1', [gpuMetric('i-1', 0).Dimensions]]]), unattributed: 0 };
    const result = await fetchInstanceMetrics(client(), ['i-1'], gpu, window);
    expect(result.metrics.get('i-1')).toEqual({ gpu: [[]] });
    expect(result.errors).toHaveLength(1);
  });

  it('needs 40 calls for 5,000 single-GPU instances (4 queries each)', async () => {
    cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
      MetricDataResults: input.MetricDataQueries!.map((q) => ({ Id: q.Id, Values: [0] })),
    }));
    const ids = Array.from({ length: 5000 }, (_, i) => `i-${i}`);
    const gpu = { byInstance: new Map(ids.map((id) => [id, [gpuMetric(id, 0).Dimensions]])), unattributed: 0 };
    const result = await fetchInstanceMetrics(client(), ids, gpu, window);
    expect(cwMock).toHaveReceivedCommandTimes(GetMetricDataCommand, 40);
    expect(result.metrics.size).toBe(5000);
  });
});
