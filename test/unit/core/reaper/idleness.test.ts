import { assessIdleness, expectedDatapoints, requiredDatapoints } from '../../../../lambda/core/reaper/idleness';
import { metrics, reaperConfig } from './fixtures';

const policy = reaperConfig().idleGpu;

describe('Function: requiredDatapoints', () => {
  it.each([
    [60, 80, 12, 10],
    [60, 100, 12, 12],
    [60, 0, 12, 1],
    [15, 80, 3, 3],
    [1440, 50, 288, 144],
  ])('expects floor(%i/5) points and needs %i%% of them', (lookback, pct, expected, required) => {
    expect(expectedDatapoints(lookback)).toBe(expected);
    expect(requiredDatapoints(lookback, pct)).toBe(required);
  });
});

describe('Function: assessIdleness', () => {
  it.each([
    ['idle on every metric', metrics(), 'idle', 'idle'],
    ['GPU exactly at the threshold', metrics({ gpu: 5 }), 'idle', 'idle'],
    ['GPU above the threshold', metrics({ gpu: 5.1 }), 'busy', 'gpu-busy'],
    ['one busy GPU period in the window', metrics({ gpu: [0, 0, 0, 0, 0, 80, 0, 0, 0, 0, 0, 0] }), 'busy', 'gpu-busy'],
    ['CPU exactly at the threshold', metrics({ cpu: 10 }), 'idle', 'idle'],
    ['CPU above the threshold', metrics({ cpu: 10.5 }), 'busy', 'cpu-busy'],
    // 4.2 MB per 5 minutes each way = 50.4 MB/h in + 50.4 MB/h out = 100.8 MB/h
    ['network over 100 MB/h', metrics({ net: 4.2e6 }), 'busy', 'network-busy'],
    ['network under 100 MB/h', metrics({ net: 4.1e6 }), 'idle', 'idle'],
    ['too few GPU datapoints', metrics({ gpu: [0, 0, 0, 0, 0, 0, 0, 0, 0] }), 'unknown', 'too-few-gpu-datapoints'],
    ['too few CPU datapoints', { ...metrics(), cpu: [1, 1, 1] }, 'unknown', 'too-few-cpu-datapoints'],
    ['no CPU metric at all', { ...metrics(), cpu: undefined }, 'unknown', 'too-few-cpu-datapoints'],
    ['too few network datapoints', { ...metrics(), networkOut: [1] }, 'unknown', 'too-few-network-datapoints'],
    ['no metrics at all', undefined, 'unknown', 'too-few-cpu-datapoints'],
    ['busy GPU even with CPU missing', { ...metrics({ gpu: 90 }), cpu: undefined }, 'busy', 'gpu-busy'],
  ])('classifies an instance with %s', (_, m, state, code) => {
    // Act
    const result = assessIdleness(m, policy);
    // Assess
    expect(result.state).toBe(state);
    expect(result.code).toBe(code);
  });

  it('takes the max across GPUs: one busy GPU of eight makes the instance busy', () => {
    // Prepare
    const m = metrics({ gpus: 8 });
    const gpus = m.gpu.map((s, i) => (i === 5 ? s.map(() => 60) : s));
    // Act
    const result = assessIdleness({ ...m, gpu: gpus }, policy);
    // Assess
    expect(result).toMatchObject({ state: 'busy', gpuMaxPercent: 60 });
  });

  it('needs every GPU series to have enough datapoints', () => {
    const m = metrics({ gpus: 4 });
    const gpus = m.gpu.map((s, i) => (i === 2 ? s.slice(0, 4) : s));
    expect(assessIdleness({ ...m, gpu: gpus }, policy).code).toBe('too-few-gpu-datapoints');
  });

  it('judges on CPU and network with low confidence when there are no GPU metrics', () => {
    const result = assessIdleness(metrics({ gpu: null }), policy);
    expect(result).toMatchObject({ state: 'idle', confidence: 'low' });
    expect(result.reason).toContain('judged on CPU and network only (no per-instance GPU metrics');
  });

  it('reports GPU memory used beside utilization, and never judges on it', () => {
    // Prepare: a model loaded (20 GB on each GPU) and no work
    const m = {
      ...metrics({ gpu: 2, gpus: 2 }),
      gpuMemory: { unit: 'MB' as const, series: [[512, 20_000], [20_000]] },
    };
    // Act
    const result = assessIdleness(m, policy);
    // Assess
    expect(result).toMatchObject({ state: 'idle', gpuMaxPercent: 2, gpuMemoryUsedMaxMb: 20_000 });
    expect(result.reason).toContain('GPU max 2%, GPU memory 20,000 MB used');
    const busy = assessIdleness({ ...m, gpu: [[90]] }, policy);
    expect(busy.reason).toContain('GPU memory 20,000 MB used');
  });

  it('reports memory activity when the agent publishes only nvidia_smi_utilization_memory', () => {
    const m = { ...metrics(), gpuMemory: { unit: 'percent' as const, series: [[0, 7.5]] } };
    const result = assessIdleness(m, policy);
    expect(result).toMatchObject({ gpuMemoryMaxPercent: 7.5 });
    expect(result.gpuMemoryUsedMaxMb).toBeUndefined();
    expect(result.reason).toContain('GPU memory activity 7.5%');
  });

  it('says when GPU memory is not reported', () => {
    expect(assessIdleness(metrics(), policy).reason).toContain('GPU memory not reported');
  });

  it('reports high confidence with GPU metrics and the figures it used', () => {
    const result = assessIdleness(metrics({ gpu: 3, cpu: 4 }), policy);
    expect(result).toMatchObject({ confidence: 'high', gpuMaxPercent: 3, cpuMaxPercent: 4, expectedDatapoints: 12 });
    expect(result.networkMegabytesPerHour).toBeCloseTo(((1000 * 12) / 1e6) * 2, 6);
  });

  it('does not let missing network periods lower the rate', () => {
    // Prepare: 10 periods of 4.2 MB each way is still 100.8 MB/h.
    const m = { ...metrics(), networkIn: Array(10).fill(4.2e6), networkOut: Array(10).fill(4.2e6) };
    // Act / Assess
    expect(assessIdleness(m, policy).state).toBe('busy');
  });
});
