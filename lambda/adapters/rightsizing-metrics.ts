/**
 * CloudWatch for the right-sizing advice: every instance's hourly GPU utilization (p95), GPU memory used (Maximum)
 * and CPU utilization (p95) over the lookback, with the GPU series the reaper's discovery finds (ListMetrics on the
 * CloudWatch agent's `nvidia_smi_utilization_gpu` and `nvidia_smi_memory_used`, grouped by InstanceId). Read with
 * batched GetMetricData, 500 queries a call (lambda/adapters/cloudwatch-metrics.ts): 14 days of hourly datapoints is
 * 336 a query, so calls grow with series / 500, never with instances or days.
 *
 * A failed call leaves its instances' series absent: they get a note, never a recommendation made on half the data.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GPU_MEMORY_USED_METRIC_NAME, GPU_METRIC_NAME, GPU_METRIC_NAMESPACE } from '../core/reaper/types';
import type { HourlyMetrics } from '../core/rightsizing/observe';
import { type GpuSeriesIndex, getMetricValues, type MetricQuerySpec, type MetricWindow } from './cloudwatch-metrics';

/** One hour: CloudWatch keeps hourly datapoints for 455 days, so any lookback up to 30 days is there. */
export const HOURLY_PERIOD_SECONDS = 3600;

/** The `lookbackDays` ending at the last whole hour before `now`, in hourly periods. */
export function hourlyWindow(now: Date, lookbackDays: number): MetricWindow {
  const hour = HOURLY_PERIOD_SECONDS * 1000;
  const end = new Date(Math.floor(now.getTime() / hour) * hour);
  return { start: new Date(end.getTime() - lookbackDays * 24 * hour), end, periodSeconds: HOURLY_PERIOD_SECONDS };
}

const key = (instanceId: string, metric: string) => `${instanceId}|${metric}`;

/** One instance's queries: GPU utilization p95 per GPU series, GPU memory Maximum per series, CPU p95. */
export function rightsizingQueries(
  instanceId: string,
  utilization: readonly (readonly MetricQuerySpec['dimensions'][number][])[],
  memory: readonly (readonly MetricQuerySpec['dimensions'][number][])[],
): MetricQuerySpec[] {
  return [
    ...utilization.map((dimensions, i) => ({
      key: key(instanceId, `gpu${i}`),
      namespace: GPU_METRIC_NAMESPACE,
      metricName: GPU_METRIC_NAME,
      dimensions,
      stat: 'p95' as const,
    })),
    ...memory.map((dimensions, i) => ({
      key: key(instanceId, `mem${i}`),
      namespace: GPU_METRIC_NAMESPACE,
      metricName: GPU_MEMORY_USED_METRIC_NAME,
      dimensions,
      stat: 'Maximum' as const,
    })),
    {
      key: key(instanceId, 'cpu'),
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensions: [{ Name: 'InstanceId', Value: instanceId }],
      stat: 'p95' as const,
    },
  ];
}

export interface RightsizingMetricsResult {
  /** Hourly datapoints by instance; an instance whose call failed is absent. */
  readonly metrics: ReadonlyMap<string, HourlyMetrics>;
  readonly errors: readonly string[];
  /** Queries sent (GetMetricData bills per metric requested). */
  readonly queries: number;
}

/** The hourly metrics of `instanceIds` over `window`; `memory` undefined: the region has no GPU memory series. */
export async function fetchRightsizingMetrics(
  client: CloudWatchClient,
  instanceIds: readonly string[],
  utilization: GpuSeriesIndex,
  memory: GpuSeriesIndex | undefined,
  window: MetricWindow,
): Promise<RightsizingMetricsResult> {
  const specs = instanceIds.flatMap((id) =>
    rightsizingQueries(id, utilization.byInstance.get(id) ?? [], memory?.byInstance.get(id) ?? []),
  );
  const { values, failedKeys, errors } = await getMetricValues(client, specs, window);
  const metrics = new Map<string, HourlyMetrics>();
  for (const id of instanceIds) {
    const gpus = utilization.byInstance.get(id)?.length ?? 0;
    const mems = memory?.byInstance.get(id)?.length ?? 0;
    const keys = [
      ...Array.from({ length: gpus }, (_, i) => key(id, `gpu${i}`)),
      ...Array.from({ length: mems }, (_, i) => key(id, `mem${i}`)),
      key(id, 'cpu'),
    ];
    if (keys.some((k) => failedKeys.has(k))) continue;
    const series = (k: string) => values.get(k) ?? [];
    metrics.set(id, {
      gpuUtilization: Array.from({ length: gpus }, (_, i) => series(key(id, `gpu${i}`))),
      ...(mems > 0 ? { gpuMemoryUsed: Array.from({ length: mems }, (_, i) => series(key(id, `mem${i}`))) } : {}),
      cpu: series(key(id, 'cpu')),
    });
  }
  return { metrics, errors, queries: specs.length };
}
