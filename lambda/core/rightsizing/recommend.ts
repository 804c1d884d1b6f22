/**
 * The right-sizing rule: for one busy GPU instance, the cheapest GPU type of the price catalog that covers what it
 * was seen to use, with headroom, and runs the same software. Pure: prices, facts and observations come in.
 *
 * A type is a candidate when all of these hold:
 * - same accelerator software: an NVIDIA GPU type for an NVIDIA GPU instance (never AMD, Neuron or Habana), whole
 *   GPUs only (the g6f/gr6f fractional-L4 types need NVIDIA's GRID driver);
 * - same CPU architecture (g5g runs on Graviton, arm64; every other GPU family is x86_64);
 * - GPU memory: each GPU has at least the observed peak of one GPU x (1 + headroom);
 * - GPU count: at least as many GPUs as were in use (a GPU counts when its memory peak reached 256 MiB), and at
 *   least one;
 * - vCPUs: at least CPU p95 x the instance's vCPUs x (1 + headroom), rounded up;
 * - while the GPUs are busy (GPU utilization p95 at or over {@link SAME_GPU_MODEL_ABOVE_PERCENT}), only the same GPU
 *   model: a slower GPU would stretch the work, which memory alone cannot tell;
 * - priced in the instance's region (a type a region's price list lacks may not be offered there), and cheaper.
 * The cheapest candidate wins (ties: family, then size order). Without a GPU memory metric there is no
 * recommendation, only a note; an idle instance (GPU p95 at or under the reaper's idle threshold) is the reaper's.
 *
 * Host memory (RAM), network bandwidth and instance store are not measured: the advice says so.
 */
import type { InstanceLifecycle } from '../instances';
import {
  ACCELERATOR_FACTS,
  type AcceleratorFacts,
  acceleratorFacts,
  compareInstanceTypes,
  familyOf,
} from '../savings/gpu-facts';
import type { Pricing } from '../savings/pricing';
import { regionalHourly, resizeSavings } from '../savings/resize';
import type { Observation } from './observe';

/** GPU utilization p95 from which only the same GPU model is recommended. */
export const SAME_GPU_MODEL_ABOVE_PERCENT = 50;
/** Share of the lookback's hours that must have GPU memory datapoints. */
export const MIN_COVERAGE = 0.5;

/** GPU families on Graviton (arm64); software built for x86_64 does not run there, nor the reverse. */
const ARM64_FAMILIES: ReadonlySet<string> = new Set(['g5g']);

export type Architecture = 'arm64' | 'x86_64';

export function architectureOf(instanceType: string): Architecture {
  return ARM64_FAMILIES.has(familyOf(instanceType)) ? 'arm64' : 'x86_64';
}

export interface RightsizingPolicy {
  /** Headroom over the observed peaks, percent (30: 1.3 x the peak). */
  readonly headroomPercent: number;
  /** The reaper's idle threshold: GPU p95 at or under it is idle, not under-used. */
  readonly idleGpuPercent: number;
  /** Hours in the lookback (lookbackDays x 24). */
  readonly lookbackHours: number;
}

export interface RightsizingInstance {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  readonly lifecycle: InstanceLifecycle;
}

/** Why an instance gets no recommendation. */
export type NoteCode =
  | 'type-not-in-catalog'
  | 'not-nvidia'
  | 'fractional-gpu'
  | 'no-gpu-metrics'
  | 'no-gpu-memory-metric'
  | 'too-little-data'
  | 'idle'
  | 'no-regional-price'
  | 'right-sized';

/** What the instance needs of a type: the peaks with headroom. */
export interface Requirement {
  readonly gpuMemoryMiB: number;
  readonly gpus: number;
  readonly vcpus: number;
  readonly sameModel?: string;
  readonly architecture: Architecture;
}

export type Verdict =
  | {
      readonly kind: 'recommend';
      readonly targetType: string;
      readonly fromHourlyUsd: number;
      readonly toHourlyUsd: number;
      readonly monthlySavingsUsd: number;
      readonly requirement: Requirement;
      readonly reason: string;
    }
  | { readonly kind: 'note'; readonly code: NoteCode; readonly reason: string; readonly requirement?: Requirement };

const fmt = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const mib = (n: number): string => `${Math.round(n).toLocaleString('en-US')} MiB`;

const note = (code: NoteCode, reason: string, requirement?: Requirement): Verdict => ({
  kind: 'note',
  code,
  reason,
  ...(requirement ? { requirement } : {}),
});

function isWholeNvidiaGpu(f: AcceleratorFacts): boolean {
  return f.kind === 'gpu' && f.manufacturer === 'NVIDIA' && Number.isInteger(f.count) && f.count >= 1;
}

/** What `facts` must offer to run what was observed, with headroom. */
export function requirementOf(
  instanceType: string,
  facts: AcceleratorFacts,
  seen: Observation & { gpuMemoryPeakMiB: number },
  policy: RightsizingPolicy,
): Requirement {
  const factor = 1 + policy.headroomPercent / 100;
  const cpuShare = seen.cpuP95 !== undefined ? seen.cpuP95 / 100 : 1;
  const busy = (seen.gpuUtilizationP95 ?? 100) >= SAME_GPU_MODEL_ABOVE_PERCENT;
  return {
    gpuMemoryMiB: seen.gpuMemoryPeakMiB * factor,
    gpus: Math.max(1, seen.gpusInUse ?? facts.count),
    vcpus: Math.max(1, Math.ceil(cpuShare * facts.vcpus * factor - 1e-9)),
    ...(busy ? { sameModel: facts.model } : {}),
    architecture: architectureOf(instanceType),
  };
}

/** Whether type `t` with facts `f` meets `need`. */
export function covers(t: string, f: AcceleratorFacts, need: Requirement): boolean {
  return (
    isWholeNvidiaGpu(f) &&
    architectureOf(t) === need.architecture &&
    f.memoryMiB >= need.gpuMemoryMiB &&
    f.count >= need.gpus &&
    f.vcpus >= need.vcpus &&
    (need.sameModel === undefined || f.model === need.sameModel)
  );
}

/**
 * The recommendation for one instance: the cheapest compatible type that covers its peaks, or a note saying why
 * there is none. `candidates` defaults to every EC2 type of the accelerator table.
 */
export function recommend(
  instance: RightsizingInstance,
  seen: Observation,
  policy: RightsizingPolicy,
  pricing: Pricing,
  candidates: readonly string[] = Object.keys(ACCELERATOR_FACTS),
): Verdict {
  const type = instance.instanceType;
  const facts = acceleratorFacts(type);
  if (!facts || type.startsWith('ml.')) {
    return note('type-not-in-catalog', `${type} is not in the accelerator table: its GPUs cannot be compared`);
  }
  if (facts.kind !== 'gpu' || facts.manufacturer !== 'NVIDIA') {
    return note(
      'not-nvidia',
      `${type} carries ${facts.manufacturer} ${facts.model}: only NVIDIA GPU instances are right-sized`,
    );
  }
  if (!isWholeNvidiaGpu(facts)) {
    return note('fractional-gpu', `${type} has a share of one GPU (GRID driver): not compared with whole-GPU types`);
  }
  if (seen.gpuSeries === 0) {
    return note('no-gpu-metrics', 'no per-instance GPU metrics (CloudWatch agent with InstanceId): nothing to judge');
  }
  if (seen.gpuMemoryPeakMiB === undefined) {
    return note(
      'no-gpu-memory-metric',
      'no GPU memory used metric (nvidia_smi_memory_used): the memory a smaller type needs is unknown',
    );
  }
  const neededHours = Math.ceil(policy.lookbackHours * MIN_COVERAGE);
  if (seen.memoryHours < neededHours) {
    return note(
      'too-little-data',
      `GPU memory data for ${seen.memoryHours} of ${policy.lookbackHours} hours (needs ${neededHours}): peaks not known well enough`,
    );
  }
  if (seen.gpuUtilizationP95 !== undefined && seen.gpuUtilizationP95 <= policy.idleGpuPercent) {
    return note(
      'idle',
      `GPU utilization p95 ${fmt(seen.gpuUtilizationP95)}% is at or under the idle threshold (${fmt(policy.idleGpuPercent)}%): idle, not under-used (the reaper's business)`,
    );
  }
  const spot = instance.lifecycle === 'spot';
  const current = regionalHourly(pricing, type, instance.region, spot);
  if (current === undefined) {
    return note('no-regional-price', `no ${instance.region} price for ${type}: savings cannot be computed`);
  }
  const need = requirementOf(type, facts, { ...seen, gpuMemoryPeakMiB: seen.gpuMemoryPeakMiB }, policy);
  let best: { type: string; hourly: number } | undefined;
  for (const t of candidates) {
    if (t === type || !Object.hasOwn(ACCELERATOR_FACTS, t)) continue;
    if (!covers(t, ACCELERATOR_FACTS[t]!, need)) continue;
    const hourly = regionalHourly(pricing, t, instance.region, spot);
    if (hourly === undefined || hourly >= current) continue;
    if (!best || hourly < best.hourly || (hourly === best.hourly && compareInstanceTypes(t, best.type) < 0)) {
      best = { type: t, hourly };
    }
  }
  const wants =
    `${mib(need.gpuMemoryMiB)} per GPU, ${need.gpus} GPU(s), ${need.vcpus} vCPU(s)` +
    `${need.sameModel ? `, ${need.sameModel} (GPUs busy)` : ''}, ${need.architecture}`;
  if (!best) return note('right-sized', `no cheaper type offers ${wants}`, need);
  const savings = resizeSavings({ fromType: type, toType: best.type, region: instance.region, spot }, pricing)!;
  const target = ACCELERATOR_FACTS[best.type]!;
  return {
    kind: 'recommend',
    targetType: best.type,
    fromHourlyUsd: savings.fromHourlyUsd,
    toHourlyUsd: savings.toHourlyUsd,
    monthlySavingsUsd: savings.monthlySavingsUsd,
    requirement: need,
    reason:
      `needs ${wants} (peaks + ${fmt(policy.headroomPercent)}% headroom); ` +
      `${best.type} has ${target.count} x ${target.model} ${mib(target.memoryMiB)}, ${target.vcpus} vCPUs`,
  };
}
