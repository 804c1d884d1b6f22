/**
 * Is an instance idle? A pure function of its datapoints and the idle policy.
 *
 * - GPU: the maximum over every GPU series and every 5-minute period of the window (CloudWatch agent
 *   `nvidia_smi_utilization_gpu`, Maximum) must be at or under `gpuUtilizationPercent`.
 * - CPU: the maximum of `CPUUtilization` (Maximum per period) over the window must be at or under
 *   `cpuUtilizationPercent`. The maximum, not the average: one busy period in the window means "not idle", so a job
 *   that wakes up every 20 minutes is never reaped.
 * - Network: NetworkIn + NetworkOut (Sum per period), as MB (10^6 bytes) per hour, must be at or under
 *   `networkMegabytesPerHour`. Each series' rate is its mean per 5-minute period times 12, so a missing period does
 *   not make the rate look lower.
 * - Datapoints: the window holds floor(lookbackMinutes / 5) periods; each series needs at least
 *   `minimumDatapointsPercent` of them (and at least one). With fewer the answer is `unknown`, never idle. Every GPU
 *   series must meet the bar (the minimum across GPUs counts).
 * - Any reading above its threshold proves activity: the instance is `busy` even when another metric is incomplete.
 * - No per-instance GPU series (no CloudWatch agent, or its series lack `InstanceId`): judged on CPU and network
 *   alone, with `low` confidence. Whether such a verdict may lead to an action is the decision's business
 *   (lambda/core/reaper/decide.ts): by default it never does.
 * - GPU memory (nvidia_smi_memory_used, or nvidia_smi_utilization_memory) is reported beside utilization in every
 *   verdict; it never decides one (a loaded model with no work is still idle).
 */
import type { IdleGpuConfig } from '../config';
import type { IdlenessAssessment, InstanceMetrics } from './types';

const BYTES_PER_MEGABYTE = 1_000_000;
const PERIOD_MINUTES = 5;

export function expectedDatapoints(lookbackMinutes: number): number {
  return Math.max(1, Math.floor(lookbackMinutes / PERIOD_MINUTES));
}

export function requiredDatapoints(lookbackMinutes: number, minimumDatapointsPercent: number): number {
  return Math.max(1, Math.ceil((expectedDatapoints(lookbackMinutes) * minimumDatapointsPercent) / 100 - 1e-9));
}

const maxOf = (values: readonly number[]): number | undefined =>
  values.length === 0 ? undefined : values.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY);

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** MB per hour of one Sum-per-5-minutes byte series (mean per period x 12), or undefined without data. */
function megabytesPerHour(values: readonly number[] | undefined): number | undefined {
  if (!values || values.length === 0) return undefined;
  const sum = values.reduce((s, v) => s + v, 0);
  return ((sum / values.length) * (60 / PERIOD_MINUTES)) / BYTES_PER_MEGABYTE;
}

/** GPU utilization and memory in words, for every verdict: "GPU max 3%, GPU memory 1,536 MB used". */
function gpuText(
  hasGpu: boolean,
  gpuMax: number | undefined,
  memory: { gpuMemoryUsedMaxMb?: number; gpuMemoryMaxPercent?: number },
): string {
  if (!hasGpu) return 'no per-instance GPU metrics, GPU memory unknown';
  const util = gpuMax === undefined ? 'GPU utilization unknown' : `GPU max ${fmt(gpuMax)}%`;
  const mem =
    memory.gpuMemoryUsedMaxMb !== undefined
      ? `GPU memory ${Math.round(memory.gpuMemoryUsedMaxMb).toLocaleString('en-US')} MB used`
      : memory.gpuMemoryMaxPercent !== undefined
        ? `GPU memory activity ${fmt(memory.gpuMemoryMaxPercent)}%`
        : 'GPU memory not reported';
  return `${util}, ${mem}`;
}

export function assessIdleness(
  metrics: InstanceMetrics | undefined,
  policy: Pick<
    IdleGpuConfig,
    | 'lookbackMinutes'
    | 'gpuUtilizationPercent'
    | 'cpuUtilizationPercent'
    | 'networkMegabytesPerHour'
    | 'minimumDatapointsPercent'
  >,
): IdlenessAssessment {
  const expected = expectedDatapoints(policy.lookbackMinutes);
  const required = requiredDatapoints(policy.lookbackMinutes, policy.minimumDatapointsPercent);
  const gpuSeries = metrics?.gpu ?? [];
  const hasGpu = gpuSeries.length > 0;
  const confidence = hasGpu ? 'high' : 'low';
  const base = { confidence, expectedDatapoints: expected, requiredDatapoints: required } as const;

  const gpuValues = gpuSeries.flat();
  const gpuMax = maxOf(gpuValues);
  const gpuPoints = hasGpu ? Math.min(...gpuSeries.map((s) => s.length)) : 0;
  const cpu = metrics?.cpu ?? [];
  const cpuMax = maxOf(cpu);
  const netIn = megabytesPerHour(metrics?.networkIn);
  const netOut = megabytesPerHour(metrics?.networkOut);
  const network = netIn === undefined && netOut === undefined ? undefined : (netIn ?? 0) + (netOut ?? 0);
  const memoryMax = maxOf(metrics?.gpuMemory?.series.flat() ?? []);
  const memory =
    memoryMax === undefined
      ? {}
      : metrics?.gpuMemory?.unit === 'percent'
        ? { gpuMemoryMaxPercent: memoryMax }
        : { gpuMemoryUsedMaxMb: memoryMax };
  const gpuFigures = gpuText(hasGpu, gpuMax, memory);
  const figures = {
    ...(gpuMax !== undefined ? { gpuMaxPercent: gpuMax } : {}),
    ...memory,
    ...(cpuMax !== undefined ? { cpuMaxPercent: cpuMax } : {}),
    ...(network !== undefined ? { networkMegabytesPerHour: network } : {}),
  };

  // Any reading above its threshold proves activity, whatever else is missing.
  if (gpuMax !== undefined && gpuMax > policy.gpuUtilizationPercent) {
    return {
      ...base,
      ...figures,
      state: 'busy',
      code: 'gpu-busy',
      reason: `GPU utilization reached ${fmt(gpuMax)}% (threshold ${fmt(policy.gpuUtilizationPercent)}%); ${gpuFigures}`,
    };
  }
  if (cpuMax !== undefined && cpuMax > policy.cpuUtilizationPercent) {
    return {
      ...base,
      ...figures,
      state: 'busy',
      code: 'cpu-busy',
      reason: `CPU utilization reached ${fmt(cpuMax)}% (threshold ${fmt(policy.cpuUtilizationPercent)}%); ${gpuFigures}`,
    };
  }
  if (network !== undefined && network > policy.networkMegabytesPerHour) {
    return {
      ...base,
      ...figures,
      state: 'busy',
      code: 'network-busy',
      reason: `network in+out ${fmt(network)} MB/h (threshold ${fmt(policy.networkMegabytesPerHour)} MB/h); ${gpuFigures}`,
    };
  }

  const unknown = (code: IdlenessAssessment['code'], reason: string): IdlenessAssessment => ({
    ...base,
    ...figures,
    state: 'unknown',
    code,
    reason: `${reason}; ${gpuFigures}`,
  });
  if (hasGpu && gpuPoints < required) {
    return unknown(
      'too-few-gpu-datapoints',
      `too few GPU datapoints (${gpuPoints} of ${expected} expected, ${required} needed)`,
    );
  }
  if (cpu.length < required) {
    return unknown(
      'too-few-cpu-datapoints',
      `too few CPU datapoints (${cpu.length} of ${expected} expected, ${required} needed)`,
    );
  }
  const netPoints = Math.min(metrics?.networkIn?.length ?? 0, metrics?.networkOut?.length ?? 0);
  if (netPoints < required) {
    return unknown(
      'too-few-network-datapoints',
      `too few network datapoints (${netPoints} of ${expected} expected, ${required} needed)`,
    );
  }
  const parts = [
    hasGpu ? gpuFigures : `judged on CPU and network only (${gpuFigures})`,
    `CPU max ${fmt(cpuMax ?? 0)}%`,
    `network ${fmt(network ?? 0)} MB/h`,
  ];
  return {
    ...base,
    ...figures,
    state: 'idle',
    code: 'idle',
    reason: `idle for ${policy.lookbackMinutes} min: ${parts.join(', ')}`,
  };
}
