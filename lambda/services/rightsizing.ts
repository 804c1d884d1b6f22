/**
 * GPU right-sizing advice: for each running GPU instance, its peaks over `rightsizing.lookbackDays` (hourly GPU
 * utilization p95, GPU memory used maximum, CPU p95) and the cheapest compatible GPU type that covers them with
 * `rightsizing.headroomPercent` headroom (lambda/core/rightsizing). Weekly in Slack (top `topN` by dollars, each with
 * its evidence), as a section of `cost-guard plan`, and `cost-guard rightsize`.
 *
 * Advice only: it reads EC2 and CloudWatch, posts one message, publishes metrics, and never acts (its role holds no
 * action that changes anything). Instances without a GPU memory metric get a note, never a recommendation.
 */
import { listGpuSeries } from '../adapters/cloudwatch-metrics';
import { InstanceTypeCatalog, listRunningInstances } from '../adapters/ec2';
import { fetchRightsizingMetrics, hourlyWindow } from '../adapters/rightsizing-metrics';
import { postAll } from '../adapters/slack';
import { teamValue } from '../core/finops/metrics';
import { METRIC } from '../core/names';
import { GPU_MEMORY_USED_METRIC_NAME } from '../core/reaper/types';
import {
  adviceMessages,
  countNotes,
  type Finding,
  type NoteCode,
  noteLines,
  observe,
  type Recommendation,
  type RightsizingPolicy,
  rankRecommendations,
  recommend,
  recommendationLine,
} from '../core/rightsizing';
import { round2 } from '../core/savings/calculators';
import { tagValue } from '../core/tags';
import type { CapabilityModule } from '../runtime/capability';
import { type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';
import { errorCode, errorMessage } from '../shared/errors';

export interface RightsizingSummary extends RunSummary {
  readonly capability: 'rightsizing';
  readonly regions: readonly string[];
  readonly lookbackDays: number;
  readonly headroomPercent: number;
  /** Running instances of GPU types (any maker) looked at. */
  readonly instancesChecked: number;
  /** Most dollars first. */
  readonly recommendations: readonly Recommendation[];
  /** Every instance looked at, with its observation and verdict. */
  readonly findings: readonly Finding[];
  readonly noteCounts: Partial<Record<NoteCode, number>>;
  /** What the recommendations would save a month, from the savings model (advice: not in monthlySavingsUsd). */
  readonly potentialMonthlySavingsUsd: number;
  /** GetMetricData queries sent (CloudWatch bills $0.01 per 1,000). */
  readonly metricQueries: number;
  readonly slack: { readonly messages: number; readonly posted: number; readonly error?: string };
}

/** The advice was worked out but Slack did not take it, or a region could not be read: the errors alarm fires. */
export class RightsizingRunError extends RunIncompleteError<RightsizingSummary> {
  constructor(message: string, summary: RightsizingSummary, options?: { cause?: unknown }) {
    super(message, summary, options);
    this.name = 'RightsizingRunError';
  }
}

interface RegionResult {
  readonly findings: Finding[];
  readonly queries: number;
  /** Metric reads that failed: their instances got no advice this run. */
  readonly errors: readonly string[];
}

async function scanRegion(
  ctx: RunContext,
  region: string,
  policy: RightsizingPolicy,
  catalog: InstanceTypeCatalog,
  notes: string[],
): Promise<RegionResult> {
  const { config } = ctx;
  const ec2 = ctx.clients.ec2(region);
  const running = await listRunningInstances(ec2, region);
  const types = await catalog.resolve(
    ec2,
    region,
    running.map((i) => i.instanceType),
  );
  const gpus = running.filter((i) => types.get(i.instanceType)?.accelerator === 'gpu');
  if (gpus.length === 0) return { findings: [], queries: 0, errors: [] };
  const cw = ctx.clients.cloudwatch(region);
  const utilization = await listGpuSeries(cw);
  let memory: Awaited<ReturnType<typeof listGpuSeries>> | undefined;
  try {
    memory = await listGpuSeries(cw, GPU_MEMORY_USED_METRIC_NAME);
  } catch (error) {
    notes.push(`${region}: GPU memory series could not be listed (${errorCode(error)}): no recommendation there`);
  }
  const window = hourlyWindow(ctx.now, config.rightsizing.lookbackDays);
  const result = await fetchRightsizingMetrics(
    cw,
    gpus.map((i) => i.instanceId),
    utilization,
    memory,
    window,
  );
  const findings = gpus.flatMap((instance): Finding[] => {
    const metrics = result.metrics.get(instance.instanceId);
    if (!metrics) return []; // its GetMetricData call failed: noted above, no advice on half the data
    const observation = observe(metrics);
    const name = tagValue(instance.tags, 'Name');
    const team = teamValue(tagValue(instance.tags, config.tags.team));
    return [
      {
        instanceId: instance.instanceId,
        region,
        instanceType: instance.instanceType,
        lifecycle: instance.lifecycle,
        ...(name ? { name } : {}),
        ...(team ? { team } : {}),
        observation,
        verdict: recommend(instance, observation, policy, ctx.pricing),
      },
    ];
  });
  return { findings, queries: result.queries, errors: result.errors.map((e) => `${region}: ${e}`) };
}

async function run(ctx: RunContext): Promise<RightsizingSummary> {
  const settings = ctx.config.rightsizing;
  const base = {
    capability: 'rightsizing' as const,
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    // Advice: no action, and no savings counted as taken.
    actions: [],
    monthlySavingsUsd: 0,
    regions: ctx.regions,
    lookbackDays: settings.lookbackDays,
    headroomPercent: settings.headroomPercent,
  };
  if (!settings.enabled) {
    return {
      ...base,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: ['rightsizing.enabled is false: nothing done'],
      instancesChecked: 0,
      recommendations: [],
      findings: [],
      noteCounts: {},
      potentialMonthlySavingsUsd: 0,
      metricQueries: 0,
      slack: { messages: 0, posted: 0 },
    };
  }
  const policy: RightsizingPolicy = {
    headroomPercent: settings.headroomPercent,
    idleGpuPercent: ctx.config.idleGpu.gpuUtilizationPercent,
    lookbackHours: settings.lookbackDays * 24,
  };
  const notes: string[] = [];
  const failures: string[] = [];
  const catalog = new InstanceTypeCatalog();
  const findings: Finding[] = [];
  let queries = 0;
  for (const region of ctx.regions) {
    try {
      const r = await scanRegion(ctx, region, policy, catalog, notes);
      findings.push(...r.findings);
      queries += r.queries;
      // No advice on half the data, and the run alarms so the gap is seen; the next run reads again.
      notes.push(...r.errors);
      failures.push(...r.errors);
    } catch (error) {
      const line = `${region}: could not be read (${errorCode(error)}: ${errorMessage(error)}); no advice there`;
      notes.push(line);
      failures.push(line);
    }
  }
  notes.push(...catalog.errors);
  const recommendations = rankRecommendations(findings);
  const noteCounts = countNotes(findings);
  const potential = round2(recommendations.reduce((s, r) => s + r.verdict.monthlySavingsUsd, 0));
  const advice = recommendations.map((r) => `advice: ${recommendationLine(r, settings.lookbackDays)}`);
  const messages = adviceMessages({
    recommendations,
    topN: settings.topN,
    lookbackDays: settings.lookbackDays,
    headroomPercent: settings.headroomPercent,
    noteCounts,
    pricingNote: ctx.pricingNote,
  });
  let posted = 0;
  let slackError: string | undefined;
  try {
    posted = (await postAll(ctx.notifier, messages)).length;
  } catch (error) {
    slackError = `${errorCode(error)}: ${errorMessage(error)}`;
    failures.push(`the advice was not delivered to Slack (${slackError})`);
    ctx.log.error('right-sizing advice not delivered', { error: slackError });
  }

  ctx.metrics.add(METRIC.RightsizingInstancesChecked, findings.length, 'Count');
  ctx.metrics.add(METRIC.RightsizingRecommendations, recommendations.length, 'Count');
  ctx.metrics.add(METRIC.RightsizingMonthlySavingsUsd, potential, 'None');

  const summary: RightsizingSummary = {
    ...base,
    apiCalls: ctx.clients.counter.byOperation(),
    notes: [
      ...advice,
      ...noteLines(noteCounts),
      ...notes,
      'Advice only: nothing is changed. Host memory (RAM), network bandwidth and instance store are not measured.',
    ],
    instancesChecked: findings.length,
    recommendations,
    findings,
    noteCounts,
    potentialMonthlySavingsUsd: potential,
    metricQueries: queries,
    slack: { messages: messages.length, posted, ...(slackError ? { error: slackError } : {}) },
  };
  if (failures.length > 0) {
    throw new RightsizingRunError(`right-sizing advice incomplete: ${failures.join('; ')}`, summary);
  }
  return summary;
}

export const rightsizingCapability: CapabilityModule<RightsizingSummary> = {
  name: 'rightsizing',
  description: 'advise a cheaper GPU type for busy but under-used GPU instances (advice only, never acts)',
  run: (ctx) => run(ctx),
};
