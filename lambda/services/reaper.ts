/**
 * The idle GPU reaper: find idle GPU instances from CloudWatch metrics, warn in Slack, then terminate or stop them.
 *
 * One run: for each region list running instances, learn which types have GPUs, fetch the candidates' metrics in
 * batches, decide (lambda/core/reaper), act through `ctx.actions` (dry-run honoured there), post one digest, emit
 * metrics. Every money figure comes from the savings model.
 *
 * Idempotent across retries: the idle-since tag carries the state. A retried run (after a Slack failure, say) sees
 * terminated/stopped instances gone from the running list and warned instances already tagged, so no action repeats.
 * When the digest cannot be delivered, the idle-since tags written by this run are removed again so that no instance
 * is acted on without a warning a person could read; the run then throws so the errors alarm fires.
 */

import { fetchInstanceMetrics, type GpuSeriesIndex, listGpuSeries, metricWindow } from '../adapters/cloudwatch-metrics';
import {
  Ec2Writer,
  InstanceTypeCatalog,
  isTerminationProtected,
  listRunningInstances,
  spotRequestTypes,
} from '../adapters/ec2';
import type { InstanceFacts, InstanceTypeFacts } from '../core/instances';
import { METRIC } from '../core/names';
import {
  buildDigest,
  checkBeforeAct,
  countReports,
  type Decision,
  decideInstance,
  deferDecision,
  guardDecision,
  IDLE_SINCE_TAG,
  type InstanceReport,
  type OutcomeReport,
  orderForAction,
  ownerTags,
  type ReaperAction,
  type ReaperConfig,
  type ReaperCounts,
  typeSkip,
} from '../core/reaper';
import { type FleetStats, fleetStats } from '../core/reaper/fleet';
import { actionSavings, wasteSoFar } from '../core/savings';
import type { CapabilityModule } from '../runtime/capability';
import { type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';
import type { ActionRecord, PlannedAction } from '../shared/actions';
import { errorCode, errorMessage } from '../shared/errors';

export interface ReaperSummary extends RunSummary {
  readonly capability: 'reaper';
  readonly action: ReaperAction;
  readonly regions: readonly string[];
  /** Running instances seen, GPU or not. */
  readonly instancesScanned: number;
  /** Instances of GPU (or, with includeNeuron, Neuron) types, plus those of unknown types. */
  readonly gpuInstances: number;
  /** One entry per GPU / unknown-type instance: decision, reason, confidence, region, type, savings, outcome. */
  readonly instances: readonly InstanceReport[];
  /** GPU instances not acted on, by reason code (skip reasons, unknown-metrics codes, max-actions-per-run). */
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly unknownTypes: readonly string[];
  readonly counts: ReaperCounts;
  /** GetMetricData queries sent (CloudWatch bills $0.01 per 1,000). */
  readonly metricQueries: number;
  readonly slack: { readonly messages: number; readonly posted: number; readonly error?: string };
}

/** The run finished but something must alarm (Slack did not take the digest, a region could not be read). */
export class ReaperRunError extends RunIncompleteError<ReaperSummary> {
  constructor(message: string, summary: ReaperSummary, options?: { cause?: unknown }) {
    super(message, summary, options);
    this.name = 'ReaperRunError';
  }
}

interface Entry {
  readonly instance: InstanceFacts;
  readonly type: InstanceTypeFacts | undefined;
  decision: Decision;
  action?: OutcomeReport;
  tag?: OutcomeReport;
}

const outcome = (record: ActionRecord, kind: OutcomeReport['kind']): OutcomeReport => ({
  kind,
  status: record.status,
  ...(record.errorCode ? { errorCode: record.errorCode } : {}),
  ...(record.errorMessage ? { errorMessage: record.errorMessage } : {}),
});

function unknownDecision(instanceId: string, code: string, reason: string): Decision {
  return { instanceId, kind: 'unknown', code, reason, untagIdleSince: false };
}

const RANK: Record<Decision['kind'], number> = {
  act: 0,
  warn: 1,
  deferred: 2,
  notify: 3,
  wait: 4,
  busy: 5,
  unknown: 6,
  skip: 7,
};

async function scanRegion(
  ctx: RunContext,
  region: string,
  config: ReaperConfig,
  catalog: InstanceTypeCatalog,
  notes: string[],
): Promise<{ entries: Entry[]; scanned: number; queries: number }> {
  const { now } = ctx;
  const ec2 = ctx.clients.ec2(region);
  let instances = await listRunningInstances(ec2, region);
  const types = await catalog.resolve(
    ec2,
    region,
    instances.map((i) => i.instanceType),
  );
  const interesting = (i: InstanceFacts) => typeSkip(types.get(i.instanceType), config)?.code !== 'not-gpu';

  // Only persistent Spot instances can be stopped: learn the request types, once per region, when stopping.
  if (config.idleGpu.action === 'stop') {
    const spotIds = instances
      .filter((i) => i.lifecycle === 'spot' && i.spotInstanceRequestId && interesting(i))
      .map((i) => i.spotInstanceRequestId!);
    if (spotIds.length > 0) {
      const kinds = await spotRequestTypes(ec2, spotIds);
      instances = instances.map((i) => {
        const kind = i.spotInstanceRequestId ? kinds.get(i.spotInstanceRequestId) : undefined;
        return kind ? { ...i, spotRequestType: kind } : i;
      });
    }
  }

  const entries: Entry[] = [];
  const candidates: InstanceFacts[] = [];
  for (const instance of instances) {
    const type = types.get(instance.instanceType);
    const guard = guardDecision(instance, type, now, config);
    if (guard?.code === 'not-gpu') continue;
    if (guard) entries.push({ instance, type, decision: decideInstance(instance, type, undefined, now, config) });
    else candidates.push(instance);
  }
  if (candidates.length === 0) return { entries, scanned: instances.length, queries: 0 };

  const cw = ctx.clients.cloudwatch(region);
  let gpu: GpuSeriesIndex;
  try {
    gpu = await listGpuSeries(cw);
  } catch (error) {
    notes.push(`${region}: ListMetrics failed (${errorCode(error)}): GPU idleness unknown, no instance acted on`);
    for (const instance of candidates) {
      entries.push({
        instance,
        type: types.get(instance.instanceType),
        decision: unknownDecision(instance.instanceId, 'gpu-metrics-unavailable', 'GPU metrics could not be listed'),
      });
    }
    return { entries, scanned: instances.length, queries: 0 };
  }
  if (gpu.unattributed > 0) {
    notes.push(
      `${region}: ${gpu.unattributed} GPU metric series have no InstanceId dimension; add ` +
        `"append_dimensions": {"InstanceId": "$\{aws:InstanceId}"} to the CloudWatch agent config`,
    );
  }
  const result = await fetchInstanceMetrics(
    cw,
    candidates.map((c) => c.instanceId),
    gpu,
    metricWindow(now, config.idleGpu.lookbackMinutes),
  );
  notes.push(...result.errors.map((e) => `${region}: ${e}`));
  for (const instance of candidates) {
    const type = types.get(instance.instanceType);
    entries.push({
      instance,
      type,
      decision: decideInstance(instance, type, result.metrics.get(instance.instanceId), now, config),
    });
  }
  return { entries, scanned: instances.length, queries: result.queries };
}

async function run(ctx: RunContext): Promise<ReaperSummary> {
  const config: ReaperConfig = { idleGpu: ctx.config.idleGpu, tags: ctx.config.tags };
  const { action, maxActionsPerRun, lookbackMinutes } = config.idleGpu;
  const { now } = ctx;
  if (!config.idleGpu.enabled) {
    // The Lambda is not deployed then; `cost-guard run reaper` and `plan` read nothing and act on nothing either.
    return {
      capability: 'reaper',
      dryRun: ctx.dryRun,
      startedAt: now.toISOString(),
      actions: [],
      monthlySavingsUsd: 0,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: ['idleGpu.enabled is false: nothing done'],
      action,
      regions: ctx.regions,
      instancesScanned: 0,
      gpuInstances: 0,
      instances: [],
      skippedByReason: {},
      unknownTypes: [],
      counts: countReports([]),
      metricQueries: 0,
      slack: { messages: 0, posted: 0 },
    };
  }
  const notes: string[] = [];
  const failures: string[] = [];
  const catalog = new InstanceTypeCatalog();
  const entries: Entry[] = [];
  let scanned = 0;
  let metricQueries = 0;

  for (const region of ctx.regions) {
    try {
      const r = await scanRegion(ctx, region, config, catalog, notes);
      entries.push(...r.entries);
      scanned += r.scanned;
      metricQueries += r.queries;
    } catch (error) {
      const line = `${region}: could not be scanned (${errorCode(error)}: ${errorMessage(error)})`;
      notes.push(line);
      failures.push(line);
      ctx.log.error('reaper region scan failed', { region, error: errorMessage(error) });
    }
  }
  notes.push(...catalog.errors);
  // Types that could not be described (throttling, 5xx) leave their instances unjudged: the run must alarm.
  failures.push(...catalog.errors);

  // Prices from the savings model: Spot instances at the Spot estimate, unknown types without a figure.
  const priceOf = (e: Entry) => {
    const spot = e.instance.lifecycle === 'spot';
    const quote = spot
      ? ctx.pricing.spotHourly(e.instance.instanceType, e.instance.region)
      : ctx.pricing.instanceHourly(e.instance.instanceType, e.instance.region);
    const savings = actionSavings(action === 'notify' ? 'stop' : action, e.instance.instanceType, ctx.pricing, {
      spot,
      region: e.instance.region,
    });
    return { hourlyUsd: quote?.usd, monthlySavingsUsd: savings?.monthlyUsd };
  };
  const byId = new Map(entries.map((e) => [e.instance.instanceId, e]));
  const writers = new Map<string, Ec2Writer>();
  const writer = (region: string) => {
    let w = writers.get(region);
    if (!w) {
      w = new Ec2Writer(ctx.clients.ec2(region));
      writers.set(region, w);
    }
    return w;
  };

  // Act: oldest warnings first, at most maxActionsPerRun; termination protection read just before terminating.
  const selected: Entry[] = [];
  if (action !== 'notify') {
    const ordered = orderForAction(
      entries.filter((e) => e.decision.kind === 'act').map((e) => e.decision),
      (id) => priceOf(byId.get(id)!).hourlyUsd,
    );
    for (const decision of ordered) {
      const entry = byId.get(decision.instanceId)!;
      if (selected.length >= maxActionsPerRun) {
        entry.decision = deferDecision(decision, maxActionsPerRun);
        continue;
      }
      if (action === 'terminate') {
        let terminationProtected: boolean | undefined;
        try {
          terminationProtected = await isTerminationProtected(
            ctx.clients.ec2(entry.instance.region),
            decision.instanceId,
          );
        } catch (error) {
          notes.push(`${decision.instanceId}: DescribeInstanceAttribute failed (${errorCode(error)})`);
        }
        entry.decision = checkBeforeAct(decision, 'terminate', { terminationProtected });
        if (entry.decision.kind !== 'act') continue;
      }
      selected.push(entry);
    }
    await Promise.all(
      selected.map(async (e) => {
        const { instanceId, region } = e.instance;
        const planned: PlannedAction = {
          capability: 'reaper',
          kind: action,
          target: instanceId,
          region,
          reason: e.decision.reason,
          ...(priceOf(e).monthlySavingsUsd !== undefined ? { monthlySavingsUsd: priceOf(e).monthlySavingsUsd } : {}),
          details: {
            instanceType: e.instance.instanceType,
            idleSince: e.decision.idleSince,
            confidence: e.decision.confidence,
          },
        };
        const record = await ctx.actions.perform(planned, () =>
          action === 'terminate' ? writer(region).terminate(instanceId) : writer(region).stop(instanceId),
        );
        e.action = outcome(record, action);
      }),
    );

    // Tag first detections; untag instances busy again (or now protected). Batched: started together.
    await Promise.all(
      entries.map(async (e) => {
        const { instanceId, region } = e.instance;
        if (e.decision.tagIdleSince) {
          const value = e.decision.tagIdleSince;
          const record = await ctx.actions.perform(
            {
              capability: 'reaper',
              kind: 'tag',
              target: instanceId,
              region,
              reason: `idle: tagged ${IDLE_SINCE_TAG}=${value}, ${action} after ${config.idleGpu.warnMinutesBeforeAction} min`,
              details: { key: IDLE_SINCE_TAG, value },
            },
            () => writer(region).tag(instanceId, { [IDLE_SINCE_TAG]: value }),
          );
          e.tag = outcome(record, 'tag');
        } else if (e.decision.untagIdleSince) {
          const record = await ctx.actions.perform(
            {
              capability: 'reaper',
              kind: 'untag',
              target: instanceId,
              region,
              reason: `${e.decision.reason}: removed ${IDLE_SINCE_TAG}`,
              details: { key: IDLE_SINCE_TAG },
            },
            () => writer(region).untag(instanceId, [IDLE_SINCE_TAG]),
          );
          e.tag = outcome(record, 'untag');
        }
      }),
    );
  }

  const reports = entries
    .map((e) => toReport(e, priceOf(e), now, lookbackMinutes))
    .sort((a, b) => RANK[a.decision] - RANK[b.decision] || a.instanceId.localeCompare(b.instanceId));
  const skippedByReason: Record<string, number> = {};
  for (const r of reports) {
    if (r.decision === 'skip' || r.decision === 'unknown' || r.decision === 'deferred') {
      skippedByReason[r.code] = (skippedByReason[r.code] ?? 0) + 1;
    }
  }
  const unknownTypes = catalog.unknownTypes();

  // One digest per run; nothing to say, no message.
  const messages = buildDigest({
    reports,
    action,
    dryRun: ctx.dryRun,
    optOutKey: config.tags.optOut,
    lookbackMinutes,
    maxActionsPerRun,
    skippedByReason,
    unknownTypes,
    notes,
  });
  let posted = 0;
  let slackError: string | undefined;
  try {
    for (const message of messages) {
      await ctx.notifier.post(message);
      posted += 1;
    }
  } catch (error) {
    slackError = `${errorCode(error)}: ${errorMessage(error)}`;
    failures.push(`Slack digest not delivered (${slackError})`);
    ctx.log.error('reaper digest not delivered', { error: slackError, posted, messages: messages.length });
    await withdrawUndeliveredWarnings(ctx, entries, writer, notes);
  }

  const counts = countReports(reports);
  const effective = ctx.actions.records().filter((r) => r.capability === 'reaper');
  const doneSavings = effective
    .filter((r) => r.status === 'done' && (r.kind === 'terminate' || r.kind === 'stop'))
    .reduce((s, r) => s + (r.monthlySavingsUsd ?? 0), 0);
  emitMetrics(ctx, {
    scanned,
    idle: entries.filter((e) => e.decision.idleness?.state === 'idle').length,
    counts,
    skippedByReason,
    doneSavings,
    fleet: fleetStats(
      entries.map((e) => ({
        lifecycle: e.instance.lifecycle,
        ...(e.decision.idleness?.gpuMaxPercent !== undefined
          ? { gpuMaxPercent: e.decision.idleness.gpuMaxPercent }
          : {}),
      })),
    ),
  });

  const summary: ReaperSummary = {
    capability: 'reaper',
    dryRun: ctx.dryRun,
    startedAt: now.toISOString(),
    actions: effective,
    monthlySavingsUsd: ctx.actions.totals((r) => r.capability === 'reaper').monthlySavingsUsd,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    action,
    regions: ctx.regions,
    instancesScanned: scanned,
    gpuInstances: entries.length,
    instances: reports,
    skippedByReason,
    unknownTypes,
    counts,
    metricQueries,
    slack: { messages: messages.length, posted, ...(slackError ? { error: slackError } : {}) },
  };
  if (failures.length > 0) {
    throw new ReaperRunError(`idle GPU reaper run incomplete: ${failures.join('; ')}`, summary);
  }
  return summary;
}

/**
 * The digest did not reach Slack: the warnings of this run were not read, so their idle-since tags are removed and
 * the next run warns again instead of acting after a warning nobody saw.
 */
async function withdrawUndeliveredWarnings(
  ctx: RunContext,
  entries: readonly Entry[],
  writer: (region: string) => Ec2Writer,
  notes: string[],
): Promise<void> {
  const tagged = entries.filter((e) => e.tag?.kind === 'tag' && e.tag.status === 'done');
  if (tagged.length === 0) return;
  await Promise.all(
    tagged.map((e) =>
      ctx.actions.perform(
        {
          capability: 'reaper',
          kind: 'untag',
          target: e.instance.instanceId,
          region: e.instance.region,
          reason: `Slack warning not delivered: removed ${IDLE_SINCE_TAG} so the next run warns again`,
          details: { key: IDLE_SINCE_TAG },
        },
        () => writer(e.instance.region).untag(e.instance.instanceId, [IDLE_SINCE_TAG]),
      ),
    ),
  );
  notes.push(`${tagged.length} warning(s) not delivered: their ${IDLE_SINCE_TAG} tags were removed`);
}

function toReport(
  e: Entry,
  price: { hourlyUsd: number | undefined; monthlySavingsUsd: number | undefined },
  now: Date,
  lookbackMinutes: number,
): InstanceReport {
  const d = e.decision;
  const idleish = d.idleness?.state === 'idle';
  let wasteSoFarUsd: number | undefined;
  if (idleish && price.hourlyUsd !== undefined && d.idleSince) {
    // Idle at least since the start of the lookback window of the first detection.
    const start = new Date(Date.parse(d.idleSince) - lookbackMinutes * 60_000).toISOString();
    wasteSoFarUsd = wasteSoFar(price.hourlyUsd, start, now.toISOString()).usd;
  } else if (idleish && price.hourlyUsd !== undefined && d.kind === 'notify') {
    wasteSoFarUsd = wasteSoFar(
      price.hourlyUsd,
      new Date(now.getTime() - lookbackMinutes * 60_000).toISOString(),
      now.toISOString(),
    ).usd;
  }
  const typeKnown = e.type !== undefined;
  return {
    instanceId: e.instance.instanceId,
    region: e.instance.region,
    instanceType: e.instance.instanceType,
    ...ownerTags(e.instance.tags),
    decision: d.kind,
    code: d.code,
    reason: d.reason,
    ...(d.confidence ? { confidence: d.confidence } : {}),
    ...(d.idleSince ? { idleSince: d.idleSince } : {}),
    ...(d.actAt ? { actAt: d.actAt } : {}),
    ...(price.hourlyUsd !== undefined ? { hourlyUsd: price.hourlyUsd } : {}),
    ...(wasteSoFarUsd !== undefined ? { wasteSoFarUsd } : {}),
    ...(typeKnown && price.monthlySavingsUsd !== undefined ? { monthlySavingsUsd: price.monthlySavingsUsd } : {}),
    ...(e.action ? { action: e.action } : {}),
    ...(e.tag ? { tag: e.tag } : {}),
  };
}

function emitMetrics(
  ctx: RunContext,
  m: {
    scanned: number;
    idle: number;
    counts: ReaperCounts;
    skippedByReason: Readonly<Record<string, number>>;
    doneSavings: number;
    fleet: FleetStats;
  },
): void {
  ctx.metrics.add(METRIC.InstancesScanned, m.scanned);
  ctx.metrics.add(METRIC.IdleFound, m.idle);
  ctx.metrics.add(METRIC.Warned, m.counts.warned);
  ctx.metrics.add(METRIC.Terminated, m.counts.terminated);
  ctx.metrics.add(METRIC.Stopped, m.counts.stopped);
  for (const [reason, n] of Object.entries(m.skippedByReason))
    ctx.metrics.add(METRIC.Skipped, n, 'Count', { Reason: reason });
  ctx.metrics.add(METRIC.EstimatedMonthlySavingsUsd, m.doneSavings, 'None');
  if (m.fleet.spotCoveragePercent !== undefined)
    ctx.metrics.add(METRIC.SpotCoveragePercent, m.fleet.spotCoveragePercent, 'Percent');
  if (m.fleet.gpuUtilizationPercent !== undefined) {
    ctx.metrics.add(METRIC.FleetGpuUtilizationPercent, m.fleet.gpuUtilizationPercent, 'Percent');
  }
}

export const reaperCapability: CapabilityModule<ReaperSummary> = {
  name: 'reaper',
  description: 'find idle GPU instances, warn in Slack, then terminate or stop them',
  run: (ctx) => run(ctx),
};
