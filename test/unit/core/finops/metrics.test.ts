/** The FinOps formulas on fixtures worked out by hand (each comment shows the arithmetic). */
import {
  addGpuHours,
  FINOPS_TARGETS,
  gpuUtilizationPercent,
  ratioPercent,
  spotCoveragePercent,
  storageBytes,
  storageEfficiencyPercent,
  sumByTeam,
  teamValue,
  ZERO_GPU_HOURS,
} from '../../../../lambda/core/finops/metrics';
import { changeWords, finopsBlocks, readings, readingText } from '../../../../lambda/core/finops/report';
import { fleetStats, instanceGpuHours, runningHours } from '../../../../lambda/core/reaper/fleet';
import { messageToText } from '../../../../lambda/core/slack-blocks';

const GiB = 1024 ** 3;

describe('Function: ratioPercent and the three metrics', () => {
  it('gives the chapter targets', () => {
    expect(FINOPS_TARGETS).toEqual({
      gpuUtilizationPercent: 70,
      spotCoveragePercent: 60,
      storageEfficiencyPercent: 50,
    });
  });

  it('computes GPU utilization as busy / measured GPU hours', () => {
    // 42 busy of 60 measured GPU hours = 70%.
    expect(
      gpuUtilizationPercent({ busyGpuHours: 42, measuredGpuHours: 60, spotGpuHours: 0, gpuHours: 80 }),
    ).toBeCloseTo(70, 10);
  });

  it('computes spot coverage as spot / all GPU hours', () => {
    // 8 GPUs x 24 h on spot = 192 of 192 + 4 x 24 = 288 GPU hours: 66.67%.
    expect(spotCoveragePercent({ busyGpuHours: 0, measuredGpuHours: 0, spotGpuHours: 192, gpuHours: 288 })).toBeCloseTo(
      (192 / 288) * 100,
      10,
    );
  });

  it('has no figure without data (never 0%)', () => {
    expect(ratioPercent(0, 0)).toBeUndefined();
    expect(gpuUtilizationPercent(ZERO_GPU_HOURS)).toBeUndefined();
    expect(storageEfficiencyPercent({ infrequentBytes: 0, totalBytes: 0 })).toBeUndefined();
  });
});

describe('Function: storageBytes', () => {
  it('counts Standard-IA, One Zone-IA and the Glacier classes as tiered, Standard and Intelligent-Tiering not', () => {
    // Tiered: 100 + 50 + 25 + 10 + 5 = 190 GiB; all: 190 + 300 + 10 = 500 GiB: 38%.
    const b = storageBytes({
      STANDARD: 300 * GiB,
      INTELLIGENT_TIERING: 10 * GiB,
      STANDARD_IA: 100 * GiB,
      ONEZONE_IA: 50 * GiB,
      GLACIER_IR: 25 * GiB,
      GLACIER: 10 * GiB,
      DEEP_ARCHIVE: 5 * GiB,
    });
    expect(b).toEqual({ infrequentBytes: 190 * GiB, totalBytes: 500 * GiB });
    expect(storageEfficiencyPercent(b)).toBeCloseTo(38, 10);
  });

  it('ignores values that are not sizes', () => {
    expect(storageBytes({ STANDARD: Number.NaN, STANDARD_IA: -1, GLACIER: 2 })).toEqual({
      infrequentBytes: 2,
      totalBytes: 2,
    });
  });
});

describe('Function: fleetStats', () => {
  const options = { busyAbovePercent: 5 };

  it('counts GPU hours per instance from 5-minute datapoints and the hours it ran', () => {
    // 2 GPUs x 12 datapoints: GPU 0 busy in 6 (values > 5), GPU 1 in 0 (5 is not above 5). Busy 6/12 h = 0.5 h,
    // measured 24/12 = 2 h; the type has 4 GPUs and ran the whole hour: 4 GPU hours, none on spot.
    const h = instanceGpuHours(
      {
        lifecycle: 'on-demand',
        gpuCount: 4,
        runningHours: 1,
        gpuSeries: [
          [0, 0, 0, 0, 0, 0, 50, 60, 70, 80, 90, 100],
          [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5],
        ],
      },
      options,
    );
    expect(h).toEqual({ busyGpuHours: 0.5, measuredGpuHours: 2, spotGpuHours: 0, gpuHours: 4 });
  });

  it('adds up the fleet and each team, and leaves out instances without a known GPU count', () => {
    // ml: spot g5.12xlarge (4 GPUs) 1 h, every datapoint of 4 GPUs busy (48 of 48): busy 4, measured 4, spot 4, all 4.
    // ml: on-demand 1 GPU, 0.5 h (launched 30 minutes ago), 6 datapoints all idle: busy 0, measured 0.5, all 0.5.
    // (no team): on-demand 8 GPUs, no agent: all 8. Unknown type: nowhere.
    // Fleet: busy 4 / measured 4.5 = 88.89%; spot 4 / 12.5 = 32%. Team ml: spot 4 / 4.5 = 88.89%.
    const busy = Array.from({ length: 12 }, () => 80);
    const stats = fleetStats(
      [
        { lifecycle: 'spot', gpuCount: 4, runningHours: 1, gpuSeries: [busy, busy, busy, busy], team: 'ml' },
        { lifecycle: 'on-demand', gpuCount: 1, runningHours: 0.5, gpuSeries: [[0, 0, 0, 0, 0, 0]], team: 'ml' },
        { lifecycle: 'on-demand', gpuCount: 8, runningHours: 1 },
        { lifecycle: 'on-demand', runningHours: 1, team: 'ml' },
      ],
      options,
    );
    expect(stats.hours.total).toEqual({ busyGpuHours: 4, measuredGpuHours: 4.5, spotGpuHours: 4, gpuHours: 12.5 });
    expect(stats.gpuUtilizationPercent).toBeCloseTo((4 / 4.5) * 100, 10);
    expect(stats.spotCoveragePercent).toBeCloseTo(32, 10);
    expect(stats.hours.teams).toEqual({
      ml: { busyGpuHours: 4, measuredGpuHours: 4.5, spotGpuHours: 4, gpuHours: 4.5 },
    });
  });

  it('is empty of figures for an empty fleet', () => {
    expect(fleetStats([], options)).toEqual({ hours: { total: ZERO_GPU_HOURS, teams: {} } });
  });
});

describe('Function: runningHours', () => {
  const now = new Date('2026-11-15T12:00:00Z');
  it('is the window, or the time since launch when shorter', () => {
    expect(runningHours(undefined, now, 60)).toBe(1);
    expect(runningHours('2026-11-15T11:45:00Z', now, 60)).toBe(0.25);
    expect(runningHours('2026-11-01T00:00:00Z', now, 60)).toBe(1);
    expect(runningHours('not a date', now, 90)).toBe(1.5);
  });
});

describe('Function: sumByTeam and teamValue', () => {
  it('sums into the total and the trimmed team', () => {
    const items = [
      { team: teamValue(' ml '), h: 1 },
      { team: teamValue(''), h: 2 },
      { team: teamValue('ml'), h: 3 },
    ];
    const sums = sumByTeam(
      items,
      (i) => i.team,
      (i) => ({ ...ZERO_GPU_HOURS, gpuHours: i.h }),
      addGpuHours,
      ZERO_GPU_HOURS,
    );
    expect(sums.total.gpuHours).toBe(6);
    expect(sums.teams).toEqual({ ml: { ...ZERO_GPU_HOURS, gpuHours: 4 } });
  });
});

describe('Function: readings and finopsBlocks', () => {
  const october = {
    month: '2026-10',
    fleet: {
      gpu: { busyGpuHours: 300, measuredGpuHours: 600, spotGpuHours: 100, gpuHours: 1000 },
      storage: { infrequentBytes: 40, totalBytes: 100 },
    },
    teams: { ml: { gpu: { busyGpuHours: 50, measuredGpuHours: 100, spotGpuHours: 0, gpuHours: 100 } } },
  };
  const november = {
    month: '2026-11',
    fleet: {
      gpu: { busyGpuHours: 450, measuredGpuHours: 600, spotGpuHours: 700, gpuHours: 1000 },
      storage: { infrequentBytes: 55, totalBytes: 100 },
    },
    teams: {
      ml: { gpu: { busyGpuHours: 80, measuredGpuHours: 100, spotGpuHours: 10, gpuHours: 100 } },
      '<!channel>': { gpu: { busyGpuHours: 1, measuredGpuHours: 2, spotGpuHours: 0, gpuHours: 2 } },
    },
  };

  it('reads each metric against its target with the change in points', () => {
    // GPU 450/600 = 75% (was 50%: +25 pts, met); spot 70% (was 10%: +60, met); storage 55% (was 40%: +15, met).
    const rs = readings(november.fleet, october.fleet);
    const round = (n: number | undefined) => (n === undefined ? n : Math.round(n * 1e6) / 1e6);
    expect(rs.map((r) => [r.name, round(r.percent), round(r.changePoints), r.meetsTarget])).toEqual([
      ['GPU utilization', 75, 25, true],
      ['Spot coverage', 70, 60, true],
      ['Storage efficiency', 55, 15, true],
    ]);
    expect(readingText(rs[0]!, '2026-10')).toBe('75.0% (target >70%, met) · +25.0 pts vs 2026-10');
  });

  it('says below target, and when there is no figure for either month', () => {
    const [gpu, , storage] = readings(
      { gpu: { busyGpuHours: 1, measuredGpuHours: 2, spotGpuHours: 0, gpuHours: 2 } },
      undefined,
    );
    expect(readingText(gpu!, '2026-10')).toBe('50.0% (target >70%, below) · no figure for 2026-10');
    expect(readingText(storage!, '2026-10')).toBe('no data (target >50%)');
    expect(changeWords(-0.04)).toBe('±0.0 pts');
    expect(changeWords(-2.35)).toBe('-2.4 pts');
    expect(changeWords(2.35)).toBe('+2.4 pts');
  });

  it('lists the fleet, then teams by GPU hours, with team names escaped', () => {
    const text = JSON.stringify(finopsBlocks(november, october));
    expect(text).toContain('Team ml');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).not.toContain('<!channel>');
    const plain = messageToText({ text: '', blocks: finopsBlocks(november, october) });
    expect(plain.indexOf('Team ml')).toBeLessThan(plain.indexOf('Team <!channel>'));
    expect(plain).toContain('Spot coverage: 10.0% (target >60%, below) · +10.0 pts vs 2026-10');
  });

  it('is empty when neither month has data', () => {
    expect(
      finopsBlocks({ month: '2026-11', fleet: {}, teams: {} }, { month: '2026-10', fleet: {}, teams: {} }),
    ).toEqual([]);
  });
});
