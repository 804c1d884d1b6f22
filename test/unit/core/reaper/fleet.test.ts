import { fleetStats } from '../../../../lambda/core/reaper/fleet';

describe('Function: fleetStats', () => {
  it('gives spot coverage over all GPU instances and GPU utilization over those with GPU metrics', () => {
    const stats = fleetStats([
      { lifecycle: 'spot', gpuMaxPercent: 90 },
      { lifecycle: 'on-demand', gpuMaxPercent: 30 },
      { lifecycle: 'on-demand' },
      { lifecycle: 'spot' },
    ]);
    expect(stats.spotCoveragePercent).toBe(50);
    expect(stats.gpuUtilizationPercent).toBe(60);
  });

  it('leaves utilization out when no instance reports GPU metrics', () => {
    expect(fleetStats([{ lifecycle: 'on-demand' }])).toEqual({ spotCoveragePercent: 0 });
  });

  it('is empty for an empty fleet', () => {
    expect(fleetStats([])).toEqual({});
  });
});
