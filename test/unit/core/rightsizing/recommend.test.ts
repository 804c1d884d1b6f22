/**
 * The right-sizing rule as a table: each row an instance, what was observed, and the type (or note) it gets. Prices
 * are the embedded catalog's (us-east-1 unless the row says), so the dollars are worked out by hand from
 * catalog-data.ts: (from $/h - to $/h) x 730 h.
 */

import type { InstanceLifecycle } from '../../../../lambda/core/instances';
import type { Observation } from '../../../../lambda/core/rightsizing/observe';
import { observe } from '../../../../lambda/core/rightsizing/observe';
import {
  architectureOf,
  type RightsizingPolicy,
  recommend,
  SAME_GPU_MODEL_ABOVE_PERCENT,
  type Verdict,
} from '../../../../lambda/core/rightsizing/recommend';
import { createPricing } from '../../../../lambda/core/savings/pricing';

const pricing = createPricing();
const policy: RightsizingPolicy = { headroomPercent: 30, idleGpuPercent: 5, lookbackHours: 336 };

const seen = (o: Partial<Observation>): Observation => ({
  gpuSeries: 1,
  gpuUtilizationP95: 30,
  gpuMemoryPeakMiB: 4000,
  gpusInUse: 1,
  cpuP95: 10,
  memoryHours: 336,
  ...o,
});

function verdict(
  instanceType: string,
  o: Partial<Observation>,
  extra: { region?: string; lifecycle?: InstanceLifecycle; policy?: Partial<RightsizingPolicy> } = {},
): Verdict {
  return recommend(
    { instanceId: 'i-1', region: extra.region ?? 'us-east-1', instanceType, lifecycle: extra.lifecycle ?? 'on-demand' },
    seen(o),
    { ...policy, ...extra.policy },
    pricing,
  );
}

describe('Function: recommend', () => {
  it.each([
    // [case, type, observation, expected target, expected $/month]
    [
      // 8 x A100 40 GB; one GPU in use at 9,000 MiB: 11,700 MiB with headroom fits a T4 (16,384). CPU 5% of 96 vCPUs
      // x 1.3 = 6.24 -> 7 vCPUs: g4dn.2xlarge (8 vCPUs, $0.752). g5g.2xlarge ($0.556) is arm64.
      'batch inference on a p4d (the chapter example)',
      'p4d.24xlarge',
      { gpuSeries: 8, gpuMemoryPeakMiB: 9000, gpusInUse: 1, cpuP95: 5 },
      'g4dn.2xlarge',
      (21.96 - 0.752) * 730,
    ],
    [
      // 14,000 MiB x 1.3 = 18,200 MiB: a T4 (16,384) is too small, an L4 (22,888) fits: g6.2xlarge ($0.9776)
      // before g5.2xlarge ($1.212).
      'memory-bound: the peak rules out the 16 GB GPUs',
      'p4d.24xlarge',
      { gpuSeries: 8, gpuMemoryPeakMiB: 14000, gpusInUse: 1, cpuP95: 5 },
      'g6.2xlarge',
      (21.96 - 0.9776) * 730,
    ],
    [
      // 3 of 8 A10G in use and busy (p95 60% >= 50%: same GPU model only); CPU 10% of 192 x 1.3 = 24.96 -> 25
      // vCPUs: g5.12xlarge (4 x A10G, 48 vCPUs, $5.672).
      'multi-GPU: keeps enough GPUs of the same model',
      'g5.48xlarge',
      { gpuSeries: 8, gpuUtilizationP95: 60, gpuMemoryPeakMiB: 15000, gpusInUse: 3, cpuP95: 10 },
      'g5.12xlarge',
      (16.288 - 5.672) * 730,
    ],
    [
      // Graviton: 1 of 2 T4g in use, 5,200 MiB and ceil(0.05 x 64 x 1.3) = 5 vCPUs: g5g.2xlarge (8 vCPUs, $0.556);
      // g5g.xlarge has 4 vCPUs; no x86_64 type is considered.
      'arm64 stays on arm64',
      'g5g.16xlarge',
      { gpuSeries: 2, gpuMemoryPeakMiB: 4000, gpusInUse: 1, cpuP95: 5 },
      'g5g.2xlarge',
      (2.744 - 0.556) * 730,
    ],
  ])('%s: %s -> %s', (_case, type, o, target, monthly) => {
    const v = verdict(type, o);
    expect(v.kind).toBe('recommend');
    if (v.kind !== 'recommend') return;
    expect(v.targetType).toBe(target);
    expect(v.monthlySavingsUsd).toBeCloseTo(monthly as number, 6);
  });

  it.each([
    [
      'no GPU memory metric',
      'p4d.24xlarge',
      { gpuMemoryPeakMiB: undefined, gpusInUse: undefined },
      'no-gpu-memory-metric',
    ],
    ['no GPU series at all', 'g5.2xlarge', { gpuSeries: 0 }, 'no-gpu-metrics'],
    ['idle (the reaper decides)', 'g5.12xlarge', { gpuUtilizationP95: 5 }, 'idle'],
    ['too few hours of memory data (167 < 168)', 'p4d.24xlarge', { memoryHours: 167 }, 'too-little-data'],
    ['AMD GPUs', 'g4ad.4xlarge', {}, 'not-nvidia'],
    ['Neuron devices', 'inf2.24xlarge', {}, 'not-nvidia'],
    ['a share of one L4', 'g6f.2xlarge', {}, 'fractional-gpu'],
    ['a type the table does not know', 'x9.large', {}, 'type-not-in-catalog'],
  ])('%s: %s gets a note (%s)', (_case, type, o, code) => {
    const v = verdict(type, o as Partial<Observation>);
    expect(v).toMatchObject({ kind: 'note', code });
  });

  it('never recommends a cheaper family that runs other software (AMD g4ad, arm64 g5g, fractional g6f)', () => {
    // g4dn.xlarge ($0.526) using 2,000 MiB of its T4 on 1 of 4 vCPUs: g4ad.xlarge ($0.37853, AMD), g5g.xlarge
    // ($0.42, arm64) and g6f.large ($0.202, an eighth of an L4) are cheaper and large enough, yet incompatible.
    const v = verdict('g4dn.xlarge', { gpuMemoryPeakMiB: 2000, cpuP95: 10 });
    expect(v).toMatchObject({ kind: 'note', code: 'right-sized' });
    // The same need on x86_64 NVIDIA with those types offered as the only candidates: still nothing.
    const only = recommend(
      { instanceId: 'i-1', region: 'us-east-1', instanceType: 'g4dn.xlarge', lifecycle: 'on-demand' },
      seen({ gpuMemoryPeakMiB: 2000 }),
      policy,
      pricing,
      ['g4ad.xlarge', 'g5g.xlarge', 'g6f.large', 'inf2.xlarge'],
    );
    expect(only).toMatchObject({ kind: 'note', code: 'right-sized' });
  });

  it('keeps the GPU model while the GPUs are busy', () => {
    // A busy p4d (p95 70%) using 9,000 MiB of one A100: no cheaper A100 type exists, so no advice.
    const v = verdict('p4d.24xlarge', { gpuSeries: 8, gpuUtilizationP95: SAME_GPU_MODEL_ABOVE_PERCENT + 20 });
    expect(v).toMatchObject({ kind: 'note', code: 'right-sized', requirement: { sameModel: 'A100' } });
  });

  it('recommends only types priced in the region (g6 is not offered in eu-west-1)', () => {
    // The memory-bound row in eu-west-1: g6.2xlarge has no eu-west-1 price, so g5.2xlarge ($1.35296) wins.
    const v = verdict('p4d.24xlarge', { gpuSeries: 8, gpuMemoryPeakMiB: 14000, cpuP95: 5 }, { region: 'eu-west-1' });
    expect(v).toMatchObject({ kind: 'recommend', targetType: 'g5.2xlarge' });
    if (v.kind === 'recommend') expect(v.monthlySavingsUsd).toBeCloseTo((23.71569 - 1.35296) * 730, 6);
  });

  it('prices a spot instance at spot estimates of both types', () => {
    const v = verdict('p4d.24xlarge', { gpuSeries: 8, gpuMemoryPeakMiB: 9000, cpuP95: 5 }, { lifecycle: 'spot' });
    expect(v).toMatchObject({ kind: 'recommend', targetType: 'g4dn.2xlarge' });
    if (v.kind === 'recommend') expect(v.monthlySavingsUsd).toBeCloseTo((21.96 - 0.752) * 0.3 * 730, 6);
  });

  it('asks for more with more headroom', () => {
    // 13,000 MiB: with 20% headroom 15,600 fits a T4; with 30% (16,900) it does not.
    const type = (headroomPercent: number) => {
      const v = verdict(
        'p4d.24xlarge',
        { gpuSeries: 8, gpuMemoryPeakMiB: 13000, cpuP95: 5 },
        { policy: { headroomPercent } },
      );
      return v.kind === 'recommend' ? v.targetType : v.code;
    };
    expect(type(20)).toBe('g4dn.2xlarge');
    expect(type(30)).toBe('g6.2xlarge');
  });

  it('has no price for an unpriced region and says so', () => {
    expect(verdict('g5.12xlarge', {}, { region: 'sa-east-1' })).toMatchObject({
      kind: 'note',
      code: 'no-regional-price',
    });
  });
});

describe('Function: architectureOf', () => {
  it('knows g5g is arm64 and the other GPU families x86_64', () => {
    expect(architectureOf('g5g.xlarge')).toBe('arm64');
    expect(architectureOf('g5.xlarge')).toBe('x86_64');
    expect(architectureOf('p5.48xlarge')).toBe('x86_64');
  });
});

describe('Function: observe', () => {
  it('takes the p95 of hourly p95s (highest GPU), the one-GPU memory peak and the GPUs in use', () => {
    // GPU 0: 20 hourly p95s 1..20 -> nearest rank 19 -> 19. GPU 1: all 40 -> 40. Memory: GPU 0 peaks at 100 MiB
    // (not in use), GPU 1 at 9,000. CPU 1..20 -> 19.
    const hours = Array.from({ length: 20 }, (_, i) => i + 1);
    const o = observe({
      gpuUtilization: [hours, hours.map(() => 40)],
      gpuMemoryUsed: [hours.map(() => 100), [...hours.slice(0, 19).map(() => 500), 9000]],
      cpu: hours,
    });
    expect(o).toEqual({
      gpuSeries: 2,
      gpuUtilizationP95: 40,
      gpuMemoryPeakMiB: 9000,
      gpusInUse: 1,
      cpuP95: 19,
      memoryHours: 20,
    });
  });

  it('has no memory figures without a memory series', () => {
    const o = observe({ gpuUtilization: [[10, 20]] });
    expect(o.gpuMemoryPeakMiB).toBeUndefined();
    expect(o.memoryHours).toBe(0);
    expect(o.cpuP95).toBeUndefined();
  });
});
