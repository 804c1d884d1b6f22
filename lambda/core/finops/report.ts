/**
 * The ML FinOps metrics in the monthly Slack summary: each metric beside the chapter's target, for the fleet and each
 * team, with the change against the month before. Pure; team names come from tags and are escaped.
 */
import { formatPercentValue } from '../money';
import { type Block, context, divider, escapeName, fields, section } from '../slack-blocks';
import {
  FINOPS_TARGETS,
  type GpuHours,
  gpuUtilizationPercent,
  type StorageBytes,
  spotCoveragePercent,
  storageEfficiencyPercent,
} from './metrics';

/** One scope's sums over a month (the fleet, or one team). */
export interface FinOpsFigures {
  readonly gpu?: GpuHours;
  readonly storage?: StorageBytes;
}

export interface FinOpsMonth {
  /** YYYY-MM */
  readonly month: string;
  readonly fleet: FinOpsFigures;
  readonly teams: Readonly<Record<string, FinOpsFigures>>;
}

export type FinOpsMetricName = 'GPU utilization' | 'Spot coverage' | 'Storage efficiency';

export interface MetricReading {
  readonly name: FinOpsMetricName;
  readonly targetPercent: number;
  readonly percent?: number;
  readonly previousPercent?: number;
  /** percent - previousPercent, in percentage points, when both are known. */
  readonly changePoints?: number;
  /** Above the target; undefined without data. */
  readonly meetsTarget?: boolean;
}

const reading = (
  name: FinOpsMetricName,
  targetPercent: number,
  percent: number | undefined,
  previousPercent: number | undefined,
): MetricReading => ({
  name,
  targetPercent,
  ...(percent !== undefined ? { percent, meetsTarget: percent > targetPercent } : {}),
  ...(previousPercent !== undefined ? { previousPercent } : {}),
  ...(percent !== undefined && previousPercent !== undefined ? { changePoints: percent - previousPercent } : {}),
});

/** The three metrics of one scope, this month against the previous one. */
export function readings(current: FinOpsFigures, previous: FinOpsFigures | undefined): MetricReading[] {
  const pct = <T>(f: ((x: T) => number | undefined) | undefined, x: T | undefined) => (x && f ? f(x) : undefined);
  return [
    reading(
      'GPU utilization',
      FINOPS_TARGETS.gpuUtilizationPercent,
      pct(gpuUtilizationPercent, current.gpu),
      pct(gpuUtilizationPercent, previous?.gpu),
    ),
    reading(
      'Spot coverage',
      FINOPS_TARGETS.spotCoveragePercent,
      pct(spotCoveragePercent, current.gpu),
      pct(spotCoveragePercent, previous?.gpu),
    ),
    reading(
      'Storage efficiency',
      FINOPS_TARGETS.storageEfficiencyPercent,
      pct(storageEfficiencyPercent, current.storage),
      pct(storageEfficiencyPercent, previous?.storage),
    ),
  ];
}

/** "+3.2 pts", "-0.5 pts", "±0.0 pts". */
export function changeWords(points: number): string {
  // Half away from zero, so +2.35 and -2.35 read the same size.
  const size = Math.round(Math.abs(points) * 10) / 10;
  const sign = size === 0 ? '±' : points > 0 ? '+' : '-';
  return `${sign}${size.toFixed(1)} pts`;
}

/** "62.5% (target >70%, below) · +3.2 pts vs 2026-09" in words; no data says so. */
export function readingText(r: MetricReading, previousMonth: string): string {
  if (r.percent === undefined) return `no data (target >${r.targetPercent}%)`;
  const status = r.meetsTarget ? 'met' : 'below';
  const trend =
    r.changePoints !== undefined
      ? `${changeWords(r.changePoints)} vs ${previousMonth}`
      : `no figure for ${previousMonth}`;
  return `${formatPercentValue(r.percent)} (target >${r.targetPercent}%, ${status}) · ${trend}`;
}

function hasData(f: FinOpsFigures | undefined): boolean {
  return readings(f ?? {}, undefined).some((r) => r.percent !== undefined);
}

/** At most this many teams are listed (largest GPU hours first); the rest are counted. */
export const MAX_TEAMS_SHOWN = 20;

/**
 * The FinOps section of the monthly summary: the fleet's three metrics, then each team's (teams with data, most GPU
 * hours first). Empty when neither month has any figure.
 */
export function finopsBlocks(current: FinOpsMonth, previous: FinOpsMonth | undefined): Block[] {
  const prevMonth = previous?.month ?? 'the month before';
  if (!hasData(current.fleet) && !hasData(previous?.fleet)) return [];
  const fleet = readings(current.fleet, previous?.fleet);
  const blocks: Block[] = [
    divider(),
    section(`*ML FinOps metrics, ${current.month}* (the fleet)`),
    fields(fleet.map((r) => [r.name, readingText(r, prevMonth)] as const)),
  ];
  const teams = Object.entries(current.teams)
    .filter(([, f]) => hasData(f))
    .sort(([a, fa], [b, fb]) => (fb.gpu?.gpuHours ?? 0) - (fa.gpu?.gpuHours ?? 0) || a.localeCompare(b));
  for (const [team, f] of teams.slice(0, MAX_TEAMS_SHOWN)) {
    const rs = readings(f, previous?.teams[team]);
    blocks.push(
      section(`*Team ${escapeName(team)}*\n${rs.map((r) => `${r.name}: ${readingText(r, prevMonth)}`).join('\n')}`),
    );
  }
  if (teams.length > MAX_TEAMS_SHOWN) {
    blocks.push(context(`${teams.length - MAX_TEAMS_SHOWN} more team(s) on the MlCostGuard dashboard.`));
  }
  blocks.push(
    context(
      'GPU utilization: busy GPU hours / GPU hours the CloudWatch agent measured. Spot coverage: spot GPU hours / ' +
        'all GPU hours. Storage efficiency: bytes in infrequent-access and archive classes / all bytes of the managed buckets.',
    ),
  );
  return blocks;
}
