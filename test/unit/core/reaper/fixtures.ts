/** Builders shared by the reaper core tests. */
import { type CostGuardConfigInput, parseConfig } from '../../../../lambda/core/config';
import type { InstanceFacts, InstanceTypeFacts } from '../../../../lambda/core/instances';
import type { InstanceMetrics, ReaperConfig } from '../../../../lambda/core/reaper/types';

export const NOW = new Date('2026-11-15T12:00:00.000Z');
export const HOUR_MS = 3_600_000;

export const GPU_TYPE: InstanceTypeFacts = {
  instanceType: 'g5.xlarge',
  accelerator: 'gpu',
  acceleratorCount: 1,
  acceleratorName: 'NVIDIA A10G',
  instanceStorage: true,
};
export const NEURON_TYPE: InstanceTypeFacts = {
  instanceType: 'inf2.xlarge',
  accelerator: 'neuron',
  acceleratorCount: 1,
  acceleratorName: 'Inferentia2',
  instanceStorage: false,
};
export const CPU_TYPE: InstanceTypeFacts = {
  instanceType: 'm5.large',
  accelerator: 'none',
  acceleratorCount: 0,
  instanceStorage: false,
};

type ConfigInput = NonNullable<CostGuardConfigInput>;

export function reaperConfig(idleGpu: ConfigInput['idleGpu'] = {}, tags: ConfigInput['tags'] = {}) {
  const c = parseConfig({ idleGpu, tags });
  return { idleGpu: c.idleGpu, tags: c.tags } satisfies ReaperConfig;
}

export function instance(over: Partial<InstanceFacts> = {}): InstanceFacts {
  return {
    instanceId: 'i-0123456789abcdef0',
    region: 'us-east-1',
    instanceType: 'g5.xlarge',
    state: 'running',
    launchTime: new Date(NOW.getTime() - 24 * HOUR_MS).toISOString(),
    tags: { Name: 'train-box' },
    lifecycle: 'on-demand',
    ...over,
  };
}

const points = (n: number, v: number) => Array.from({ length: n }, () => v);

/** 12 five-minute points (60 min) of each metric. */
export function metrics(
  o: { gpu?: number | number[] | null; cpu?: number; net?: number; points?: number; gpus?: number } = {},
): InstanceMetrics {
  const n = o.points ?? 12;
  const gpuValues = o.gpu === null ? [] : Array.isArray(o.gpu) ? [o.gpu] : [points(n, o.gpu ?? 0)];
  const gpu = o.gpu === null ? [] : Array.from({ length: o.gpus ?? 1 }, () => gpuValues[0]!);
  return {
    gpu,
    cpu: points(n, o.cpu ?? 1),
    networkIn: points(n, o.net ?? 1000),
    networkOut: points(n, o.net ?? 1000),
  };
}
