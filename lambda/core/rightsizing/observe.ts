/**
 * What right-sizing observed of one instance over the lookback, from hourly CloudWatch datapoints. Pure.
 *
 * - GPU utilization: each GPU series is read as hourly p95 (`nvidia_smi_utilization_gpu`, stat p95, period 1 h);
 *   the figure is the p95 (nearest rank) of those hourly values, the highest across GPUs.
 * - GPU memory: each GPU series is read as hourly Maximum (`nvidia_smi_memory_used`, MB as nvidia-smi reports them,
 *   which are MiB); the figure is the peak of one GPU: the highest value of any GPU in any hour.
 * - GPUs in use: GPUs whose memory peak reached {@link GPU_IN_USE_MIB} (a GPU no process ever used holds a few MiB).
 * - CPU: `CPUUtilization` read as hourly p95, then the p95 of those hours.
 * - Coverage: the hours that have a GPU memory datapoint (the best-covered GPU), against the lookback.
 */

/** A GPU whose memory peak stayed under this ran no CUDA process (the driver alone holds a few MiB). */
export const GPU_IN_USE_MIB = 256;

/** Hourly datapoints of one instance over the lookback; a missing array: the metric was not found. */
export interface HourlyMetrics {
  /** One array per GPU series: hourly p95 of GPU utilization, percent. */
  readonly gpuUtilization: readonly (readonly number[])[];
  /** One array per GPU series: hourly Maximum of GPU memory used, MiB; undefined when no series exists. */
  readonly gpuMemoryUsed?: readonly (readonly number[])[];
  /** Hourly p95 of CPUUtilization, percent. */
  readonly cpu?: readonly number[];
}

export interface Observation {
  /** GPU series found (the CloudWatch agent publishes one per GPU). */
  readonly gpuSeries: number;
  /** p95 of the hourly p95 GPU utilization, highest across GPUs; undefined without datapoints. */
  readonly gpuUtilizationP95?: number;
  /** Peak GPU memory used by one GPU, MiB; undefined without a GPU memory series or datapoints. */
  readonly gpuMemoryPeakMiB?: number;
  /** GPUs whose memory peak reached GPU_IN_USE_MIB; undefined without GPU memory data. */
  readonly gpusInUse?: number;
  /** p95 of the hourly p95 CPU utilization; undefined without datapoints. */
  readonly cpuP95?: number;
  /** Hours with a GPU memory datapoint (the best-covered GPU). */
  readonly memoryHours: number;
}

/** The p-th percentile by nearest rank (p95 of 20 values is the 19th smallest); undefined for no values. */
export function percentile(values: readonly number[], p: number): number | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  const sorted = [...finite].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

const maxOf = (values: readonly number[]): number | undefined => {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? undefined : Math.max(...finite);
};

const defined = (values: readonly (number | undefined)[]): number[] =>
  values.filter((v): v is number => v !== undefined);

export function observe(metrics: HourlyMetrics): Observation {
  const utilization = maxOf(defined(metrics.gpuUtilization.map((s) => percentile(s, 95))));
  const memory = metrics.gpuMemoryUsed;
  const peaks = memory ? defined(memory.map((s) => maxOf(s))) : [];
  const peak = maxOf(peaks);
  const cpu = metrics.cpu ? percentile(metrics.cpu, 95) : undefined;
  return {
    gpuSeries: metrics.gpuUtilization.length,
    ...(utilization !== undefined ? { gpuUtilizationP95: utilization } : {}),
    ...(peak !== undefined
      ? { gpuMemoryPeakMiB: peak, gpusInUse: peaks.filter((p) => p >= GPU_IN_USE_MIB).length }
      : {}),
    ...(cpu !== undefined ? { cpuP95: cpu } : {}),
    memoryHours: memory ? Math.max(0, ...memory.map((s) => s.filter(Number.isFinite).length)) : 0,
  };
}
