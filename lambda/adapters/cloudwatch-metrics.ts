/**
 * CloudWatch for the idle GPU reaper: discover the GPU series of the CloudWatch agent once per region (ListMetrics,
 * paginated; utilization, then memory) and read every instance's GPU utilization and memory, CPU and network
 * datapoints with GetMetricData, 500 queries a call and
 * every page read. Calls grow with series / 500, not with instances (Cloud Custodian makes one
 * GetMetricStatistics call per instance per metric).
 *
 * A failed GetMetricData call never blocks the others: its instances come back without data, which the idle
 * policy reads as "unknown" (never idle).
 */
import {
  type CloudWatchClient,
  type Dimension,
  type MetricDataQuery,
  paginateGetMetricData,
  paginateListMetrics,
} from '@aws-sdk/client-cloudwatch';
import {
  GPU_MEMORY_USED_METRIC_NAME,
  GPU_MEMORY_UTILIZATION_METRIC_NAME,
  GPU_METRIC_NAME,
  GPU_METRIC_NAMESPACE,
  type InstanceMetrics,
  METRIC_PERIOD_SECONDS,
} from '../core/reaper/types';
import { errorCode } from '../shared/errors';

/** GetMetricData accepts at most 500 queries a call. */
export const MAX_QUERIES_PER_CALL = 500;

export interface GpuSeriesIndex {
  /** The dimension sets of each instance's GPU series (one per GPU), by InstanceId. */
  readonly byInstance: ReadonlyMap<string, readonly (readonly Dimension[])[]>;
  /** Series without an InstanceId dimension (agent config lacks `append_dimensions`). */
  readonly unattributed: number;
}

/**
 * Every `CWAgent` / `nvidia_smi_utilization_gpu` (or `metricName`) series with data in the last 3 hours, grouped by
 * the value of its `InstanceId` dimension. Exact dimension sets are kept: GetMetricData needs all of them (`index`,
 * `name`, `host`…).
 */
export async function listGpuSeries(client: CloudWatchClient, metricName = GPU_METRIC_NAME): Promise<GpuSeriesIndex> {
  const byInstance = new Map<string, Dimension[][]>();
  let unattributed = 0;
  const pages = paginateListMetrics(
    { client },
    { Namespace: GPU_METRIC_NAMESPACE, MetricName: metricName, RecentlyActive: 'PT3H' },
  );
  for await (const page of pages) {
    for (const metric of page.Metrics ?? []) {
      const dims = metric.Dimensions ?? [];
      const id = dims.find((d) => d.Name === 'InstanceId')?.Value;
      if (!id) {
        unattributed += 1;
        continue;
      }
      let list = byInstance.get(id);
      if (!list) {
        list = [];
        byInstance.set(id, list);
      }
      list.push(dims.map((d) => ({ Name: d.Name, Value: d.Value })));
    }
  }
  return { byInstance, unattributed };
}

/** The GPU memory series of a region: MB used, or (when an agent publishes only that) percent activity. */
export interface GpuMemorySeries {
  readonly metricName: string;
  readonly unit: 'MB' | 'percent';
  readonly index: GpuSeriesIndex;
}

/**
 * The region's GPU memory series: `nvidia_smi_memory_used` (one ListMetrics scan), or `nvidia_smi_utilization_memory`
 * when the region has none of the former; undefined when neither exists.
 */
export async function listGpuMemorySeries(client: CloudWatchClient): Promise<GpuMemorySeries | undefined> {
  const used = await listGpuSeries(client, GPU_MEMORY_USED_METRIC_NAME);
  if (used.byInstance.size > 0) return { metricName: GPU_MEMORY_USED_METRIC_NAME, unit: 'MB', index: used };
  const activity = await listGpuSeries(client, GPU_MEMORY_UTILIZATION_METRIC_NAME);
  if (activity.byInstance.size > 0) {
    return { metricName: GPU_MEMORY_UTILIZATION_METRIC_NAME, unit: 'percent', index: activity };
  }
  return undefined;
}

/** A statistic GetMetricData computes per period; `p95` is the 95th percentile (the right-sizing advice reads it). */
export type MetricStat = 'Maximum' | 'Sum' | 'Average' | 'p95';

export interface MetricQuerySpec {
  /** Caller's key for the result. */
  readonly key: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
  readonly stat: MetricStat;
}

export interface MetricWindow {
  readonly start: Date;
  readonly end: Date;
  /** @default 300 */
  readonly periodSeconds?: number;
}

export interface MetricValues {
  /** Datapoint values by query key (every page merged). */
  readonly values: ReadonlyMap<string, number[]>;
  /** Keys whose call failed: no data is known for them. */
  readonly failedKeys: ReadonlySet<string>;
  /** One line per failed call. */
  readonly errors: readonly string[];
}

/** The window the reaper reads: `lookbackMinutes` ending at `now` rounded down to a 5-minute boundary. */
export function metricWindow(now: Date, lookbackMinutes: number): MetricWindow {
  const periodMs = METRIC_PERIOD_SECONDS * 1000;
  const end = new Date(Math.floor(now.getTime() / periodMs) * periodMs);
  return { start: new Date(end.getTime() - lookbackMinutes * 60_000), end, periodSeconds: METRIC_PERIOD_SECONDS };
}

/**
 * Runs the queries with GetMetricData, at most 500 a call, reading every page and merging each query's values
 * across pages. Calls run one after another (CloudWatch's GetMetricData limit is 50 TPS by default).
 */
export async function getMetricValues(
  client: CloudWatchClient,
  specs: readonly MetricQuerySpec[],
  window: MetricWindow,
): Promise<MetricValues> {
  const values = new Map<string, number[]>();
  const failedKeys = new Set<string>();
  const errors: string[] = [];
  const period = window.periodSeconds ?? METRIC_PERIOD_SECONDS;
  for (let offset = 0; offset < specs.length; offset += MAX_QUERIES_PER_CALL) {
    const batch = specs.slice(offset, offset + MAX_QUERIES_PER_CALL);
    const queries: MetricDataQuery[] = batch.map((s, i) => ({
      Id: `q${i}`,
      MetricStat: {
        Metric: { Namespace: s.namespace, MetricName: s.metricName, Dimensions: [...s.dimensions] },
        Period: period,
        Stat: s.stat,
      },
      ReturnData: true,
    }));
    const collected = new Map<string, number[]>();
    try {
      const pages = paginateGetMetricData(
        { client },
        { MetricDataQueries: queries, StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending' },
      );
      for await (const page of pages) {
        for (const result of page.MetricDataResults ?? []) {
          if (!result.Id) continue;
          let list = collected.get(result.Id);
          if (!list) {
            list = [];
            collected.set(result.Id, list);
          }
          for (const v of result.Values ?? []) list.push(v);
        }
      }
    } catch (error) {
      for (const s of batch) failedKeys.add(s.key);
      errors.push(
        `GetMetricData (${batch.length} queries from ${batch[0]!.key}) failed: ${errorCode(error)}; those instances are unknown`,
      );
      continue;
    }
    batch.forEach((s, i) => {
      values.set(s.key, collected.get(`q${i}`) ?? []);
    });
  }
  return { values, failedKeys, errors };
}

const key = (instanceId: string, metric: string) => `${instanceId}|${metric}`;

/**
 * The queries of one instance: one per GPU series (Maximum), CPUUtilization (Maximum), NetworkIn/Out (Sum), then
 * one per GPU memory series (Maximum).
 */
export function instanceQueries(
  instanceId: string,
  gpuSeries: readonly (readonly Dimension[])[],
  memory?: { readonly metricName: string; readonly series: readonly (readonly Dimension[])[] },
): MetricQuerySpec[] {
  const ec2 = (metricName: string, stat: MetricStat, k: string): MetricQuerySpec => ({
    key: key(instanceId, k),
    namespace: 'AWS/EC2',
    metricName,
    dimensions: [{ Name: 'InstanceId', Value: instanceId }],
    stat,
  });
  return [
    ...gpuSeries.map((dimensions, i) => ({
      key: key(instanceId, `gpu${i}`),
      namespace: GPU_METRIC_NAMESPACE,
      metricName: GPU_METRIC_NAME,
      dimensions,
      stat: 'Maximum' as const,
    })),
    ec2('CPUUtilization', 'Maximum', 'cpu'),
    ec2('NetworkIn', 'Sum', 'in'),
    ec2('NetworkOut', 'Sum', 'out'),
    ...(memory?.series ?? []).map((dimensions, i) => ({
      key: key(instanceId, `mem${i}`),
      namespace: GPU_METRIC_NAMESPACE,
      metricName: memory!.metricName,
      dimensions,
      stat: 'Maximum' as const,
    })),
  ];
}

export interface InstanceMetricsResult {
  readonly metrics: ReadonlyMap<string, InstanceMetrics>;
  readonly errors: readonly string[];
  /** Queries sent (GetMetricData bills per metric requested). */
  readonly queries: number;
}

/**
 * GPU, CPU, network and GPU memory datapoints of each instance over the window, in the same batched GetMetricData
 * calls. A GPU series whose call failed comes back as an empty series (so the instance is "unknown", not judged on
 * CPU alone); a failed CPU or network query is absent; failed memory queries leave the memory unknown.
 */
export async function fetchInstanceMetrics(
  client: CloudWatchClient,
  instanceIds: readonly string[],
  gpu: GpuSeriesIndex,
  window: MetricWindow,
  memory?: GpuMemorySeries,
): Promise<InstanceMetricsResult> {
  const memoryOf = (id: string) => (gpu.byInstance.has(id) ? memory?.index.byInstance.get(id) : undefined);
  const specs = instanceIds.flatMap((id) => {
    const mem = memoryOf(id);
    return instanceQueries(
      id,
      gpu.byInstance.get(id) ?? [],
      mem && memory ? { metricName: memory.metricName, series: mem } : undefined,
    );
  });
  const { values, failedKeys, errors } = await getMetricValues(client, specs, window);
  const metrics = new Map<string, InstanceMetrics>();
  for (const id of instanceIds) {
    const gpuCount = gpu.byInstance.get(id)?.length ?? 0;
    const series = (k: string) => (failedKeys.has(key(id, k)) ? undefined : (values.get(key(id, k)) ?? []));
    const cpu = series('cpu');
    const networkIn = series('in');
    const networkOut = series('out');
    const memorySeries = Array.from({ length: memoryOf(id)?.length ?? 0 }, (_, i) => series(`mem${i}`)).filter(
      (v): v is number[] => v !== undefined,
    );
    metrics.set(id, {
      gpu: Array.from({ length: gpuCount }, (_, i) => series(`gpu${i}`) ?? []),
      ...(memory && memorySeries.length > 0 ? { gpuMemory: { unit: memory.unit, series: memorySeries } } : {}),
      ...(cpu ? { cpu } : {}),
      ...(networkIn ? { networkIn } : {}),
      ...(networkOut ? { networkOut } : {}),
    });
  }
  return { metrics, errors, queries: specs.length };
}
