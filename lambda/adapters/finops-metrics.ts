/**
 * The ML FinOps figures of a month, read back from the guard's own CloudWatch metrics (namespace MlCostGuard): the
 * GPU hours the reaper publishes every run and the bytes the lifecycle publishes every day, fleet-wide and per
 * `Team`. Hours are summed over the month; bytes are summed over its days (byte-days), so each month's ratio is
 * weighted by time. Batched GetMetricData: one call a month for up to 80 teams.
 *
 * Teams are found with ListMetrics on the `Team` dimension, which only lists series with data in the last two weeks:
 * a team whose instances and buckets all went away earlier than that is left out of the per-team lines (it still
 * counts in the fleet's figures).
 */
import { type CloudWatchClient, type Dimension, paginateListMetrics } from '@aws-sdk/client-cloudwatch';
import type { FinOpsFigures, FinOpsMonth } from '../core/finops/report';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../core/names';
import { getMetricValues, type MetricQuerySpec } from './cloudwatch-metrics';

/** The Powertools `service` dimension every metric of the functions carries. */
const SERVICE = 'ml-cost-guard';

const GPU: readonly MetricName[] = [METRIC.GpuBusyHours, METRIC.GpuMeasuredHours, METRIC.SpotGpuHours, METRIC.GpuHours];
const STORAGE: readonly MetricName[] = [METRIC.StorageInfrequentBytes, METRIC.StorageTotalBytes];

/** The first instant of a `YYYY-MM` month, UTC. */
export function monthStart(month: string): Date {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1, 1));
}

/** The month before a `YYYY-MM` month. */
export function monthBefore(month: string): string {
  const start = monthStart(month);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** Team values that have a GpuHours or StorageTotalBytes series (data in the last two weeks). */
export async function listTeams(client: CloudWatchClient): Promise<string[]> {
  const teams = new Set<string>();
  for (const metricName of [METRIC.GpuHours, METRIC.StorageTotalBytes]) {
    const pages = paginateListMetrics(
      { client },
      { Namespace: METRICS_NAMESPACE, MetricName: metricName, Dimensions: [{ Name: 'Team' }] },
    );
    for await (const page of pages) {
      for (const m of page.Metrics ?? []) {
        const team = m.Dimensions?.find((d) => d.Name === 'Team')?.Value;
        if (team) teams.add(team);
      }
    }
  }
  return [...teams].sort();
}

function specs(teams: readonly string[]): MetricQuerySpec[] {
  const scopes: (string | undefined)[] = [undefined, ...teams];
  return scopes.flatMap((team, s) => {
    const dims = (capability: string): Dimension[] => [
      { Name: 'Capability', Value: capability },
      { Name: 'service', Value: SERVICE },
      ...(team !== undefined ? [{ Name: 'Team', Value: team }] : []),
    ];
    return [
      ...GPU.map((name) => ({
        key: `${s}|${name}`,
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensions: dims('reaper'),
        stat: 'Sum' as const,
      })),
      ...STORAGE.map((name) => ({
        key: `${s}|${name}`,
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensions: dims('lifecycle'),
        stat: 'Maximum' as const,
      })),
    ];
  });
}

export interface FinOpsRead {
  readonly months: readonly FinOpsMonth[];
  readonly errors: readonly string[];
}

/** The FinOps sums of each month (YYYY-MM) for the fleet and `teams`. A failed call leaves that month without data. */
export async function readFinOpsMonths(
  client: CloudWatchClient,
  months: readonly string[],
  teams: readonly string[],
): Promise<FinOpsRead> {
  const queries = specs(teams);
  const errors: string[] = [];
  const out: FinOpsMonth[] = [];
  for (const month of months) {
    const start = monthStart(month);
    const end = monthStart(
      new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1)).toISOString().slice(0, 7),
    );
    const { values, errors: e } = await getMetricValues(client, queries, { start, end, periodSeconds: 86_400 });
    errors.push(...e.map((x) => `${month}: ${x}`));
    const sum = (s: number, name: MetricName): number | undefined => {
      const v = values.get(`${s}|${name}`);
      return v && v.length > 0 ? v.reduce((a, b) => a + b, 0) : undefined;
    };
    const figures = (s: number): FinOpsFigures => {
      const gpuHours = sum(s, METRIC.GpuHours);
      const total = sum(s, METRIC.StorageTotalBytes);
      return {
        ...(gpuHours !== undefined
          ? {
              gpu: {
                busyGpuHours: sum(s, METRIC.GpuBusyHours) ?? 0,
                measuredGpuHours: sum(s, METRIC.GpuMeasuredHours) ?? 0,
                spotGpuHours: sum(s, METRIC.SpotGpuHours) ?? 0,
                gpuHours,
              },
            }
          : {}),
        ...(total !== undefined
          ? { storage: { infrequentBytes: sum(s, METRIC.StorageInfrequentBytes) ?? 0, totalBytes: total } }
          : {}),
      };
    };
    out.push({
      month,
      fleet: figures(0),
      teams: Object.fromEntries(teams.map((t, i) => [t, figures(i + 1)])),
    });
  }
  return { months: out, errors };
}
