/**
 * Fleet-level FinOps figures from one reaper run (the seed's "GPU Utilization" and "Spot Coverage" metrics). Pure.
 */
import type { InstanceLifecycle } from '../instances';

export interface FleetInstance {
  readonly lifecycle: InstanceLifecycle;
  /** Peak GPU utilization over the lookback (max across GPUs), when the instance reports GPU metrics. */
  readonly gpuMaxPercent?: number;
}

export interface FleetStats {
  /** Share of running GPU instances that run on spot, percent; undefined for an empty fleet. */
  readonly spotCoveragePercent?: number;
  /** Mean over instances with GPU metrics of their peak GPU utilization; undefined when none has GPU metrics. */
  readonly gpuUtilizationPercent?: number;
}

export function fleetStats(instances: readonly FleetInstance[]): FleetStats {
  if (instances.length === 0) return {};
  const spot = instances.filter((i) => i.lifecycle === 'spot').length;
  const gpu = instances.map((i) => i.gpuMaxPercent).filter((v): v is number => v !== undefined);
  return {
    spotCoveragePercent: (spot / instances.length) * 100,
    ...(gpu.length > 0 ? { gpuUtilizationPercent: gpu.reduce((a, b) => a + b, 0) / gpu.length } : {}),
  };
}
