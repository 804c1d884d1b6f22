/**
 * Fleet-level FinOps figures from one reaper run: the source chapter's "GPU Utilization" and "Spot Coverage", as GPU
 * hours (lambda/core/finops/metrics.ts has the formulas), for the whole fleet and per team tag. Pure.
 *
 * One run covers its lookback window: an instance ran for the window, or since its launch when that is later. Its
 * GPU hours are its GPU count (from DescribeInstanceTypes) x those hours. From the CloudWatch agent's 5-minute
 * Maximum datapoints of each GPU, each datapoint is 1/12 of a measured GPU hour, and a busy one when its value is
 * above the idle threshold. The hours are published per run; their sums over a month give the month's ratios.
 */
import {
  addGpuHours,
  type ByTeam,
  type GpuHours,
  gpuUtilizationPercent,
  spotCoveragePercent,
  sumByTeam,
  ZERO_GPU_HOURS,
} from '../finops/metrics';
import type { InstanceLifecycle } from '../instances';

export interface FleetInstance {
  readonly lifecycle: InstanceLifecycle;
  /** GPUs of the instance's type; undefined when the type is unknown or has none (the instance then counts nowhere). */
  readonly gpuCount?: number;
  /** Hours of the window the instance ran. */
  readonly runningHours: number;
  /** The GPU series the agent reported: one array of datapoints (percent) per GPU. */
  readonly gpuSeries?: readonly (readonly number[])[];
  /** The team tag's value, when the instance carries it. */
  readonly team?: string;
}

export interface FleetOptions {
  /** A datapoint above this GPU utilization is busy (the reaper's idle threshold). */
  readonly busyAbovePercent: number;
  /** Minutes one datapoint covers. @default 5 */
  readonly periodMinutes?: number;
}

export interface FleetStats {
  readonly hours: ByTeam<GpuHours>;
  /** Spot GPU hours / all GPU hours, percent; undefined without GPU hours. */
  readonly spotCoveragePercent?: number;
  /** Busy GPU hours / measured GPU hours, percent; undefined when no GPU was measured. */
  readonly gpuUtilizationPercent?: number;
}

/** Hours of the window ending at `now` that an instance launched (or started) at `launchTime` ran. */
export function runningHours(launchTime: string | undefined, now: Date, windowMinutes: number): number {
  const windowHours = windowMinutes / 60;
  const since = launchTime ? Date.parse(launchTime) : Number.NaN;
  if (!Number.isFinite(since)) return windowHours;
  return Math.min(windowHours, Math.max(0, (now.getTime() - since) / 3_600_000));
}

/** The GPU hours of one instance. */
export function instanceGpuHours(i: FleetInstance, options: FleetOptions): GpuHours {
  const gpus = i.gpuCount ?? 0;
  if (gpus <= 0) return ZERO_GPU_HOURS;
  const perPoint = (options.periodMinutes ?? 5) / 60;
  let measured = 0;
  let busy = 0;
  for (const series of i.gpuSeries ?? []) {
    for (const v of series) {
      if (!Number.isFinite(v)) continue;
      measured += 1;
      if (v > options.busyAbovePercent) busy += 1;
    }
  }
  const gpuHours = gpus * i.runningHours;
  return {
    busyGpuHours: busy * perPoint,
    measuredGpuHours: measured * perPoint,
    spotGpuHours: i.lifecycle === 'spot' ? gpuHours : 0,
    gpuHours,
  };
}

export function fleetStats(instances: readonly FleetInstance[], options: FleetOptions): FleetStats {
  const hours = sumByTeam(
    instances,
    (i) => i.team,
    (i) => instanceGpuHours(i, options),
    addGpuHours,
    ZERO_GPU_HOURS,
  );
  const spot = spotCoveragePercent(hours.total);
  const utilization = gpuUtilizationPercent(hours.total);
  return {
    hours,
    ...(spot !== undefined ? { spotCoveragePercent: spot } : {}),
    ...(utilization !== undefined ? { gpuUtilizationPercent: utilization } : {}),
  };
}
