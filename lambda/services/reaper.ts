/**
 * The idle GPU reaper: find idle GPU instances from CloudWatch metrics, warn in Slack, then terminate or stop them.
 *
 * One run: for each region list running instances, learn which types have GPUs, read the region's warnings from the
 * state table (lambda/adapters/warning-store.ts), fetch the candidates' metrics in batches, decide
 * (lambda/core/reaper), act through `ctx.actions` (dry-run honoured there), post one digest, emit metrics. Every
 * money figure comes from the savings model.
 *
 * Acting rests on evidence a person could check:
 * - idleness proven by per-instance GPU series (CPU and network alone never terminate, and stop only with
 *   `idleGpu.actOnCpuOnlyEvidence`);
 * - a warning Slack accepted: recorded `pending` before the digest is posted, `delivered` (channel, ts) only for the
 *   messages Slack accepted; the grace period counts from then. The idle-since tag only mirrors it for people;
 * - at most `maxActionsPerRun` per scheduled period, reserved in the state table before each stop/terminate, so a
 *   retried or overlapping invocation shares the limit.
 * Without a Slack token or a state table the run reports and never tags for action or acts; its notes say why.
 *
 * Idempotent across retries: a retry sees acted-on instances gone from the running list, warnings on record, and the
 * period's reservations; an undelivered warning is simply given again. When the digest cannot be delivered the run
 * throws after reporting so the errors alarm fires.
 */

import { randomUUID } from 'node:crypto';
import {
  fetchInstanceMetrics,
  type GpuMemorySeries,
  type GpuSeriesIndex,
  listGpuMemorySeries,
  listGpuSeries,
  metricWindow,
} from '../adapters/cloudwatch-metrics';
import {
  Ec2Writer,
  InstanceTypeCatalog,
  isTerminationProtected,
  listRunningInstances,
  spotRequestTypes,
} from '../adapters/ec2';
import { keepsOnRecord } from '../adapters/keep-store';
import { OwnerDirectory, type PostResult } from '../adapters/slack';
import { DynamoStateStore } from '../adapters/state-store';
import { WarningStore } from '../adapters/warning-store';
import { type GpuHours, gpuUtilizationPercent, spotCoveragePercent, teamValue } from '../core/finops/metrics';
import type { InstanceFacts, InstanceTypeFacts } from '../core/instances';
import { keepActiveAt, keptText } from '../core/keeps';
import { METRIC } from '../core/names';
import {
  buildDigestPlan,
  checkBeforeAct,
  countReports,
  type DecideOptions,
  type Decision,
  type DigestInput,
  decideInstance,
  deferDecision,
  guardDecision,
  IDLE_SINCE_TAG,
  type InstanceReport,
  type KeepState,
  type OutcomeReport,
  type OwnerMessageReport,
  orderForAction,
  ownerTags,
  ownerWarningMessage,
  type ReaperAction,
  type ReaperConfig,
  type ReaperCounts,
  type TeamDigestRef,
  typeSkip,
  type UnattributedGpuSeries,
  unattributedLine,
  type WarningState,
} from '../core/reaper';
import { type FleetStats, fleetStats, runningHours } from '../core/reaper/fleet';
import type { InstanceMetrics } from '../core/reaper/types';
import { actionSavings, wasteSoFar } from '../core/savings';
import { actionPeriod } from '../core/schedule';
import type { SkipReason } from '../core/skip-reasons';
import type { SlackMessage } from '../core/slack-blocks';
import { MAX_DIRECT_MESSAGES_PER_OWNER, teamChannelOf } from '../core/slack-routing';
import { tagValue } from '../core/tags';
import { ActionLimits } from '../runtime/action-limits';
import type { CapabilityModule } from '../runtime/capability';
import { keyScopeOf, type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';
import { reportOnlyBecause } from '../runtime/report-only';
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
  /** The instance's warning in the state table at the start of the run. */
  readonly warning?: WarningState;
  /** The instance's keep record (active or expired) at the start of the run, or read again just before acting. */
  keep?: KeepState;
  decision: Decision;
  action?: OutcomeReport;
  /** The idle-since mirror tag write/removal outcome. */
  tag?: OutcomeReport;
  /** What became of this run's warning (for `warn` decisions). */
  warningOutcome?: NonNullable<InstanceReport['warning']>;
  /** The warning on record was removed (busy again, now protected). */
  cleared?: boolean;
  /** What became of the warning's direct message to the owner (owner tag). */
  ownerMessage?: OwnerMessageReport;
  /** The GPU datapoints read for the instance (the FinOps GPU hours count them). */
  gpuSeries?: InstanceMetrics['gpu'];
}

const outcome = (record: ActionRecord, kind: OutcomeReport['kind']): OutcomeReport => ({
  kind,
  status: record.status,
  ...(record.errorCode ? { errorCode: record.errorCode } : {}),
  ...(record.errorMessage ? { errorMessage: record.errorMessage } : {}),
});

function unknownDecision(instanceId: string, code: string, reason: string): Decision {
  return { instanceId, kind: 'unknown', code, reason, clearWarning: false };
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

/**
 * Why this run cannot deliver a warning a person could read, as one sentence for the summary and `plan`; undefined
 * when it can. Without a state table no warning can be recorded; without a Slack token (messages printed to the log)
 * none can be read. Either way the reaper reports and never tags for action, and never acts.
 */
export function reportOnlyReason(ctx: Pick<RunContext, 'stateTableName' | 'notifier'>): string | undefined {
  return reportOnlyBecause(ctx, 'the reaper reports and never tags for action or acts');
}

/** The keeps on record in the state table, by instance ID: active and (until their items expire) expired ones. */
export interface KeepReader {
  keeps(region: string): Promise<ReadonlyMap<string, KeepState>>;
}

/**
 * The keeps on record in the state table (lambda/adapters/keep-store.ts), ended ones included: an ended keep still in
 * the table (a day after its end) voids a warning given before it ended. The decisions compare each end with the
 * run's clock themselves.
 */
function keepReaderOf(ctx: RunContext, tableName: string): KeepReader {
  const client = ctx.clients.dynamodb();
  const scope = keyScopeOf(ctx);
  return { keeps: (region) => keepsOnRecord(client, tableName, region, scope) };
}

/**
 * Reads the keeps again for the regions about to be acted on, one Query a region, and says for each entry whether
 * it may still be acted on: a keep set since the scan turns it into a `keep-until` skip; a region whose keeps
 * cannot be read acts on nothing (when in doubt, no action).
 */
async function lastKeepCheck(
  reader: KeepReader | undefined,
  entries: readonly Entry[],
  now: Date,
  notes: string[],
  failures: string[],
): Promise<(e: Entry) => Decision | undefined> {
  if (!reader || entries.length === 0) return () => undefined;
  const byRegion = new Map<string, ReadonlyMap<string, KeepState> | undefined>();
  for (const region of new Set(entries.map((e) => e.instance.region))) {
    try {
      byRegion.set(region, await reader.keeps(region));
    } catch (error) {
      const line = `${region}: keep records could not be read before acting (${errorCode(error)}): nothing acted on there`;
      notes.push(line);
      failures.push(line);
      byRegion.set(region, undefined);
    }
  }
  return (e) => {
    const keeps = byRegion.get(e.instance.region);
    if (keeps === undefined) {
      return {
        ...e.decision,
        kind: 'unknown',
        code: 'keep-records-unreadable',
        reason: `${e.decision.reason}; not acted on: the keep records could not be read just before acting`,
        clearWarning: false,
      };
    }
    const keep = keeps.get(e.instance.instanceId);
    if (!keep || !keepActiveAt(keep, now)) return undefined;
    e.keep = keep;
    return {
      instanceId: e.decision.instanceId,
      kind: 'skip',
      code: 'keep-until' satisfies SkipReason,
      reason: `${keptText(keep)} (set while this run read the metrics)`,
      ...(e.decision.confidence ? { confidence: e.decision.confidence } : {}),
      clearWarning: true,
    };
  };
}

interface RegionScan {
  readonly entries: Entry[];
  readonly scanned: number;
  readonly queries: number;
  /** GPU series in the region that cannot be tied to an instance. */
  readonly unattributed: number;
  /** Warnings on record for instances no longer running (stopped, terminated): removed after the run. */
  readonly stale: readonly WarningState[];
}

async function scanRegion(
  ctx: RunContext,
  region: string,
  config: ReaperConfig,
  catalog: InstanceTypeCatalog,
  warnings: WarningStore | undefined,
  keepReader: KeepReader | undefined,
  reportOnly: string | undefined,
  notes: string[],
  failures: string[],
): Promise<RegionScan> {
  const { now } = ctx;
  const ec2 = ctx.clients.ec2(region);
  let instances = await listRunningInstances(ec2, region);
  ctx.progress?.({ kind: 'read', what: 'running instances', count: instances.length, region });
  const types = await catalog.resolve(
    ec2,
    region,
    instances.map((i) => i.instanceType),
  );
  const interesting = (i: InstanceFacts) => typeSkip(types.get(i.instanceType), config)?.code !== 'not-gpu';

  // The warnings on record: the only state the reaper acts on. Unreadable: report only in this region.
  let records = new Map<string, WarningState>();
  let regionReportOnly = reportOnly;
  if (warnings) {
    try {
      records = await warnings.list(region);
    } catch (error) {
      const line = `${region}: warning records could not be read (${errorCode(error)}): nothing warned or acted on there`;
      notes.push(line);
      failures.push(line);
      regionReportOnly ??= `the warning records of ${region} could not be read`;
    }
  }
  // The keeps on record (set from Slack or `cost-guard keep`): unreadable, nobody can tell what is kept, so nothing
  // in the region is warned or acted on.
  let keeps: ReadonlyMap<string, KeepState> = new Map();
  if (keepReader) {
    try {
      keeps = await keepReader.keeps(region);
    } catch (error) {
      const line = `${region}: keep records could not be read (${errorCode(error)}): nothing warned or acted on there`;
      notes.push(line);
      failures.push(line);
      regionReportOnly ??= `the keep records of ${region} could not be read`;
    }
  }

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

  const running = new Set(instances.map((i) => i.instanceId));
  const stale = [...records.values()].filter((w) => !running.has(w.instanceId));
  const options = (instanceId: string): DecideOptions => {
    const warning = records.get(instanceId);
    const keep = keeps.get(instanceId);
    return {
      ...(warning ? { warning } : {}),
      ...(keep ? { keep } : {}),
      ...(regionReportOnly ? { reportOnly: regionReportOnly } : {}),
    };
  };
  const entry = (
    instance: InstanceFacts,
    type: InstanceTypeFacts | undefined,
    decision: Decision,
    gpuSeries?: InstanceMetrics['gpu'],
  ): Entry => {
    const warning = records.get(instance.instanceId);
    const keep = keeps.get(instance.instanceId);
    return {
      instance,
      type,
      decision,
      ...(warning ? { warning } : {}),
      ...(keep ? { keep } : {}),
      ...(gpuSeries ? { gpuSeries } : {}),
    };
  };
  const entries: Entry[] = [];
  const candidates: InstanceFacts[] = [];
  for (const instance of instances) {
    const type = types.get(instance.instanceType);
    const guard = guardDecision(instance, type, now, config, undefined, keeps.get(instance.instanceId));
    if (guard?.code === 'not-gpu') continue;
    if (guard) {
      const o = options(instance.instanceId);
      entries.push(entry(instance, type, decideInstance(instance, type, undefined, now, config, o)));
    } else candidates.push(instance);
  }
  const done = (queries: number, unattributed: number): RegionScan => ({
    entries,
    scanned: instances.length,
    queries,
    unattributed,
    stale,
  });
  if (candidates.length === 0) return done(0, 0);

  const cw = ctx.clients.cloudwatch(region);
  let gpu: GpuSeriesIndex;
  try {
    gpu = await listGpuSeries(cw);
  } catch (error) {
    notes.push(`${region}: ListMetrics failed (${errorCode(error)}): GPU idleness unknown, no instance acted on`);
    for (const instance of candidates) {
      const decision = unknownDecision(
        instance.instanceId,
        'gpu-metrics-unavailable',
        'GPU metrics could not be listed',
      );
      entries.push(entry(instance, types.get(instance.instanceType), decision));
    }
    return done(0, 0);
  }
  // GPU memory is reported, never judged on: without it the run goes on.
  let memory: GpuMemorySeries | undefined;
  if (gpu.byInstance.size > 0) {
    try {
      memory = await listGpuMemorySeries(cw);
    } catch (error) {
      notes.push(`${region}: GPU memory series could not be listed (${errorCode(error)}): GPU memory not reported`);
    }
  }
  const result = await fetchInstanceMetrics(
    cw,
    candidates.map((c) => c.instanceId),
    gpu,
    metricWindow(now, config.idleGpu.lookbackMinutes),
    memory,
  );
  notes.push(...result.errors.map((e) => `${region}: ${e}`));
  for (const instance of candidates) {
    const type = types.get(instance.instanceType);
    const metrics = result.metrics.get(instance.instanceId);
    entries.push(
      entry(
        instance,
        type,
        decideInstance(instance, type, metrics, now, config, options(instance.instanceId)),
        metrics?.gpu,
      ),
    );
  }
  return done(result.queries, gpu.unattributed);
}

async function run(ctx: RunContext, event?: unknown): Promise<ReaperSummary> {
  const config: ReaperConfig = { idleGpu: ctx.config.idleGpu, tags: ctx.config.tags };
  const { action, maxActionsPerRun, lookbackMinutes, warnMinutesBeforeAction } = config.idleGpu;
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
  const reportOnly = reportOnlyReason(ctx);
  if (reportOnly) {
    notes.push(`Reporting only: ${reportOnly}.`);
    ctx.log.warn(`idle GPU reaper reporting only: ${reportOnly}`);
  }
  // Warning records are read (and cleared) whenever there is a table; written only by a run that can deliver them.
  const warnings = ctx.stateTableName
    ? new WarningStore(ctx.clients.dynamodb(), ctx.stateTableName, randomUUID(), now, keyScopeOf(ctx))
    : undefined;
  const keepReader = ctx.stateTableName ? keepReaderOf(ctx, ctx.stateTableName) : undefined;
  const mutating = !ctx.dryRun && action !== 'notify';
  const catalog = new InstanceTypeCatalog();
  const entries: Entry[] = [];
  const stale: WarningState[] = [];
  const unattributed: UnattributedGpuSeries[] = [];
  let scanned = 0;
  let metricQueries = 0;

  for (const [index, region] of ctx.regions.entries()) {
    ctx.progress?.({ kind: 'region', region, index: index + 1, total: ctx.regions.length });
    try {
      const r = await scanRegion(ctx, region, config, catalog, warnings, keepReader, reportOnly, notes, failures);
      entries.push(...r.entries);
      stale.push(...r.stale);
      if (r.unattributed > 0) unattributed.push({ region, series: r.unattributed });
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
  /** A failed state-table write never blocks the run: it is noted, alarms, and errs on the side of not acting. */
  const tableWrite = async (what: string, write: () => Promise<unknown>): Promise<boolean> => {
    try {
      await write();
      return true;
    } catch (error) {
      const line = `${what}: state table write failed (${errorCode(error)})`;
      notes.push(line);
      failures.push(line);
      return false;
    }
  };

  // Act: oldest warnings first; termination protection read just before terminating; at most maxActionsPerRun per
  // scheduled period, counted in the state table so that retries and overlapping runs share the limit.
  const selected: Entry[] = [];
  if (action !== 'notify') {
    const ordered = orderForAction(
      entries.filter((e) => e.decision.kind === 'act').map((e) => e.decision),
      (id) => priceOf(byId.get(id)!).hourlyUsd,
    );
    // Per account in organization mode, and then also within the organization-wide ceiling.
    const limits = ctx.stateTableName
      ? ActionLimits.of(ctx, new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName, { now }))
      : undefined;
    // The schedule's period of the event (its scheduledTime), so an event and its retries share one limit.
    const period = actionPeriod(config.idleGpu.schedule, event, now);
    // The last look at the keeps: a keep pressed in Slack while this run read metrics still wins.
    const keptNow = await lastKeepCheck(
      keepReader,
      ordered.map((d) => byId.get(d.instanceId)!),
      now,
      notes,
      failures,
    );
    let full = false;
    for (const decision of ordered) {
      const entry = byId.get(decision.instanceId)!;
      const lastCheck = keptNow(entry);
      if (lastCheck) {
        entry.decision = lastCheck;
        continue;
      }
      if (full) {
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
      let reserved = selected.length < maxActionsPerRun;
      if (reserved && mutating && limits) {
        try {
          reserved = await limits.reserveOne({
            capability: 'reaper',
            period,
            limit: maxActionsPerRun,
            target: decision.instanceId,
            now,
          });
        } catch (error) {
          // When in doubt, no action: the run alarms and a later one acts.
          reserved = false;
          const line = `action limit could not be checked (${errorCode(error)}): no instance acted on past this point`;
          notes.push(line);
          failures.push(line);
        }
      }
      if (!reserved) {
        full = true;
        entry.decision = deferDecision(decision, maxActionsPerRun);
        continue;
      }
      selected.push(entry);
    }
    const ceiling = limits?.organizationNote();
    if (ceiling) notes.push(ceiling);
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
            warnedAt: e.decision.warnedAt,
            slackTs: e.warning?.slackTs,
            confidence: e.decision.confidence,
          },
        };
        const record = await ctx.actions.perform(planned, () =>
          action === 'terminate' ? writer(region).terminate(instanceId) : writer(region).stop(instanceId),
        );
        e.action = outcome(record, action);
        // Done: the warning served its purpose (the ledger keeps the action).
        if (record.status === 'done' && warnings) {
          await tableWrite(`${instanceId}: warning removal`, () => warnings.remove(region, instanceId));
        }
      }),
    );
  }

  // Busy again or now protected: the warning is cleared, record and mirror tag. Safe in any run that may write,
  // a Slack token or not: removing a warning only ever delays an action.
  if (mutating || ctx.dryRun) {
    const clearing = entries.filter((e) => e.decision.clearWarning);
    await Promise.all(
      clearing
        .filter((e) => e.warning && warnings)
        .map(async (e) => {
          const { instanceId, region } = e.instance;
          e.cleared =
            ctx.dryRun ||
            (await tableWrite(`${instanceId}: warning removal`, () => warnings!.remove(region, instanceId)));
        }),
    );
    // Mirror tags removed together, so the writer batches them.
    await Promise.all(
      clearing
        .filter((e) => tagValue(e.instance.tags, IDLE_SINCE_TAG) !== undefined)
        .map(async (e) => {
          const { instanceId, region } = e.instance;
          const record = await ctx.actions.perform(
            {
              capability: 'reaper',
              kind: 'untag',
              target: instanceId,
              region,
              reason: `${e.decision.reason}: warning cancelled, removed ${IDLE_SINCE_TAG}`,
              details: { key: IDLE_SINCE_TAG },
            },
            () => writer(region).untag(instanceId, [IDLE_SINCE_TAG]),
          );
          e.tag = outcome(record, 'untag');
        }),
    );
    if (warnings && !ctx.dryRun) {
      await Promise.all(
        stale.map((w) => tableWrite(`${w.instanceId}: warning removal`, () => warnings.remove(w.region, w.instanceId))),
      );
    }
  }

  const reportsOf = () =>
    entries
      .map((e) => toReport(e, priceOf(e), now, lookbackMinutes, config.tags))
      .sort((a, b) => RANK[a.decision] - RANK[b.decision] || a.instanceId.localeCompare(b.instanceId));
  const before = reportsOf();
  const skippedByReason: Record<string, number> = {};
  for (const r of before) {
    if (r.decision === 'skip' || r.decision === 'unknown' || r.decision === 'deferred') {
      skippedByReason[r.code] = (skippedByReason[r.code] ?? 0) + 1;
    }
  }
  const unknownTypes = catalog.unknownTypes();

  // Where the warnings go: the main channel's digest always; a team's own channel (slack.teamChannels) for its
  // instances; a direct message to the owner the owner tag names (live runs that can warn, with a Slack token).
  // Buttons act only in the hub's account: in organization mode another account's warnings carry none.
  const buttons =
    ctx.config.slack.interactivity && !ctx.dryRun && action !== 'notify' && (ctx.target?.hub ?? true)
      ? { keepHours: ctx.config.slack.keepHours, maxKeepHours: ctx.config.slack.maxKeepHours }
      : undefined;
  const base = {
    action,
    dryRun: ctx.dryRun,
    optOutKey: config.tags.optOut,
    lookbackMinutes,
    maxActionsPerRun,
    ...(buttons ? { buttons } : {}),
  };
  const mainInput = (reports: readonly InstanceReport[], teamDigests: readonly TeamDigestRef[]): DigestInput => ({
    ...base,
    reports,
    skippedByReason,
    unknownTypes,
    notes: [...notes],
    unattributedGpuSeries: unattributed,
    ...(teamDigests.length > 0 ? { teamDigests } : {}),
  });
  const teamInput = (team: string, reports: readonly InstanceReport[]): DigestInput => ({
    ...base,
    reports,
    team,
    skippedByReason: {},
    unknownTypes: [],
    notes: [],
  });
  const teams = new Map<string, { channel: string; ids: Set<string> }>();
  for (const e of entries) {
    const t = teamChannelOf(tagValue(e.instance.tags, config.tags.team), ctx.config.slack.teamChannels);
    if (!t) continue;
    const team = teams.get(t.team) ?? { channel: t.channel, ids: new Set<string>() };
    team.ids.add(e.instance.instanceId);
    teams.set(t.team, team);
  }
  const teamReports = (reports: readonly InstanceReport[], ids: ReadonlySet<string>) =>
    reports.filter((r) => ids.has(r.instanceId));

  // Owners: looked up before anything is recorded or posted (each address once a run), so that every place a
  // warning is shown is known before it is recorded as pending.
  const warned = entries.filter((e) => e.decision.kind === 'warn' && e.decision.warning);
  const directory =
    !ctx.dryRun && !reportOnly && action !== 'notify' && ctx.notifier.kind === 'slack' && ctx.notifier.directory
      ? new OwnerDirectory(ctx.notifier.directory)
      : undefined;
  const dmChannel = new Map<string, string>();
  if (directory) {
    const perOwner = new Map<string, number>();
    for (const e of warned) {
      const owner = tagValue(e.instance.tags, config.tags.owner)?.trim();
      if (!owner) continue;
      const route = await directory.route(owner);
      if (route.status === 'found') {
        const sent = perOwner.get(route.userId) ?? 0;
        if (sent >= MAX_DIRECT_MESSAGES_PER_OWNER) e.ownerMessage = { owner, status: 'over-limit' };
        else {
          perOwner.set(route.userId, sent + 1);
          dmChannel.set(e.instance.instanceId, route.channel);
        }
      } else {
        e.ownerMessage = {
          owner,
          status: route.status,
          ...(route.status === 'failed' ? { errorCode: route.errorCode } : {}),
        };
      }
    }
  }
  // What each place would list if every post went through (a team whose channel refuses its digest has its
  // instances listed in the main digest instead, which may then have no room for some: those are not delivered).
  const draftTeamPlans = [...teams].map(([team, t]) => buildDigestPlan(teamInput(team, teamReports(before, t.ids))));
  const draftMain = buildDigestPlan(
    mainInput(
      before,
      [...teams].map(([team, t]) => ({ team, channel: t.channel, instanceIds: t.ids })),
    ),
  );
  const shownSomewhere = (id: string) =>
    dmChannel.has(id) || draftMain.messageOf.has(id) || draftTeamPlans.some((p) => p.messageOf.has(id));

  // Warn: each warning shown somewhere is recorded as pending before anything goes out; it counts once Slack
  // accepted a message that shows it (a direct message, a team digest or the main digest). A warning no message can
  // list (over maxInstanceSections) is not recorded: nobody could read it, and the next run gives it again.
  const recorded = new Set<string>();
  if (!reportOnly && action !== 'notify') {
    await Promise.all(
      warned.map(async (e) => {
        if (!shownSomewhere(e.instance.instanceId)) {
          e.warningOutcome = { status: 'not-shown' };
          return;
        }
        const { instanceId, region, launchTime } = e.instance;
        if (ctx.dryRun) {
          e.warningOutcome = { status: 'dry-run' };
          return;
        }
        const ok = await tableWrite(`${instanceId}: warning record`, () =>
          warnings!.putPending({
            instanceId,
            region,
            ...e.decision.warning!,
            ...(launchTime ? { launchTime } : {}),
            confidence: e.decision.confidence ?? 'low',
          }),
        );
        if (ok) recorded.add(instanceId);
        else e.warningOutcome = { status: 'not-recorded' };
      }),
    );
  }

  // The first message Slack accepted for each instance, in the order they count: its DM, its team's digest, the
  // main digest. One message at a time (Slack takes about one a second a channel; the client waits out a 429).
  const first = new Map<string, PostResult>();
  let messages = 0;
  let posted = 0;
  const post = async (message: SlackMessage, channel?: string): Promise<PostResult> => {
    messages += 1;
    const result = await ctx.notifier.post(message, channel);
    posted += 1;
    return result;
  };
  const reached = (id: string, result: PostResult | undefined) => {
    if (result?.ts && !first.has(id)) first.set(id, result);
  };
  for (const e of warned) {
    const { instanceId } = e.instance;
    const channel = dmChannel.get(instanceId);
    if (channel === undefined || !recorded.has(instanceId)) continue;
    const owner = tagValue(e.instance.tags, config.tags.owner)!.trim();
    const message = ownerWarningMessage(toReport(e, priceOf(e), now, lookbackMinutes, config.tags), base);
    if (!message) continue;
    try {
      const result = await post(message, channel);
      reached(instanceId, result);
      e.ownerMessage = {
        owner,
        status: 'sent',
        slackChannel: result.channel,
        ...(result.ts ? { slackTs: result.ts } : {}),
      };
    } catch (error) {
      e.ownerMessage = { owner, status: 'failed', errorCode: errorCode(error) };
      ctx.log.warn('owner direct message not delivered: the channel digest carries the warning', {
        instanceId,
        error: errorMessage(error),
      });
    }
  }
  // The reports again: they now say where each owner's warning went.
  const routed = reportsOf();
  const teamRefs: TeamDigestRef[] = [];
  const teamNotes: string[] = [];
  for (const [team, t] of teams) {
    const plan = buildDigestPlan(teamInput(team, teamReports(routed, t.ids)));
    if (plan.messages.length === 0) continue;
    const results: PostResult[] = [];
    let refused: string | undefined;
    for (const message of plan.messages) {
      try {
        results.push(await post(message, t.channel));
      } catch (error) {
        refused = errorCode(error);
        teamNotes.push(
          `team ${team}: channel ${t.channel} did not take the team's digest (${refused}: ${errorMessage(error)}); its instances are listed in the main digest`,
        );
        break;
      }
    }
    for (const [id, index] of plan.messageOf) reached(id, results[index]);
    teamRefs.push({ team, channel: t.channel, instanceIds: t.ids, ...(refused ? { errorCode: refused } : {}) });
  }

  // One main digest per run; nothing to say, no message.
  const digest = buildDigestPlan(mainInput(routed, teamRefs));
  notes.push(...teamNotes);
  const accepted: PostResult[] = [];
  let slackError: string | undefined;
  try {
    for (const message of digest.messages) accepted.push(await post(message));
  } catch (error) {
    slackError = `${errorCode(error)}: ${errorMessage(error)}`;
    failures.push(`Slack digest not delivered (${slackError})`);
    ctx.log.error('reaper digest not delivered', {
      error: slackError,
      posted: accepted.length,
      messages: digest.messages.length,
    });
  }
  for (const [id, index] of digest.messageOf) reached(id, accepted[index]);

  // Delivered: the grace clock starts now, from the first message Slack accepted, wherever it was.
  await Promise.all(
    warned
      .filter((e) => recorded.has(e.instance.instanceId))
      .map(async (e) => {
        const { instanceId, region } = e.instance;
        const delivered = first.get(instanceId);
        if (!delivered?.ts) {
          e.warningOutcome = { status: 'not-delivered' };
          return;
        }
        const warning = e.decision.warning!;
        let marked = false;
        await tableWrite(`${instanceId}: warning delivery`, async () => {
          marked = await warnings!.markDelivered({
            instanceId,
            region,
            slackChannel: delivered.channel,
            slackTs: delivered.ts!,
            warnedAt: now.toISOString(),
            ...(warning.action
              ? { actionDue: new Date(now.getTime() + warnMinutesBeforeAction * 60_000).toISOString() }
              : {}),
          });
        });
        e.warningOutcome = marked
          ? { status: 'delivered', slackChannel: delivered.channel, slackTs: delivered.ts }
          : { status: 'not-recorded' };
      }),
  );
  // The idle-since tag then mirrors the record for people (in dry-run: what a live run would write). Started
  // together, so the writer batches them.
  await Promise.all(
    warned
      .filter((e) => e.warningOutcome?.status === 'delivered' || e.warningOutcome?.status === 'dry-run')
      .filter((e) => e.decision.warning?.action && tagValue(e.instance.tags, IDLE_SINCE_TAG) !== e.decision.idleSince)
      .map(async (e) => {
        const { instanceId, region } = e.instance;
        const value = e.decision.warning!.idleSince;
        const record = await ctx.actions.perform(
          {
            capability: 'reaper',
            kind: 'tag',
            target: instanceId,
            region,
            reason: `idle: warned in Slack, ${action} after ${warnMinutesBeforeAction} min; tagged ${IDLE_SINCE_TAG}=${value}`,
            details: { key: IDLE_SINCE_TAG, value },
          },
          () => writer(region).tag(instanceId, { [IDLE_SINCE_TAG]: value }),
        );
        e.tag = outcome(record, 'tag');
      }),
  );
  const undelivered = warned.filter(
    (e) => e.warningOutcome?.status === 'not-delivered' || e.warningOutcome?.status === 'not-recorded',
  ).length;
  if (undelivered > 0) {
    notes.push(`${undelivered} warning(s) not delivered: they do not count, and the next run warns again`);
  }
  const unshown = warned.filter((e) => e.warningOutcome?.status === 'not-shown').length;
  if (unshown > 0) {
    notes.push(`${unshown} idle instance(s) not listed in the digest: not warned yet, later runs warn them`);
  }
  const mirrorFailures = entries.filter((e) => e.tag?.status === 'failed').length;
  if (mirrorFailures > 0) {
    notes.push(`${mirrorFailures} ${IDLE_SINCE_TAG} mirror tag write(s) failed (the warnings on record stand)`);
  }
  for (const u of unattributed) notes.push(unattributedLine(u));

  const reports = reportsOf();
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
      entries.map((e) => {
        const team = teamValue(tagValue(e.instance.tags, config.tags.team));
        return {
          lifecycle: e.instance.lifecycle,
          ...(e.type?.accelerator === 'gpu' ? { gpuCount: e.type.acceleratorCount } : {}),
          runningHours: runningHours(e.instance.launchTime, now, lookbackMinutes),
          ...(e.gpuSeries ? { gpuSeries: e.gpuSeries } : {}),
          ...(team ? { team } : {}),
        };
      }),
      { busyAbovePercent: config.idleGpu.gpuUtilizationPercent },
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
    slack: {
      messages,
      posted,
      ...(slackError ? { error: slackError } : {}),
    },
  };
  if (failures.length > 0) {
    throw new ReaperRunError(`idle GPU reaper run incomplete: ${failures.join('; ')}`, summary);
  }
  return summary;
}

function toReport(
  e: Entry,
  price: { hourlyUsd: number | undefined; monthlySavingsUsd: number | undefined },
  now: Date,
  lookbackMinutes: number,
  tagKeys: Pick<ReaperConfig['tags'], 'owner' | 'team'>,
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
  const i = d.idleness;
  return {
    instanceId: e.instance.instanceId,
    region: e.instance.region,
    instanceType: e.instance.instanceType,
    ...ownerTags(e.instance.tags, tagKeys),
    decision: d.kind,
    code: d.code,
    reason: d.reason,
    ...(d.confidence ? { confidence: d.confidence } : {}),
    ...(d.idleSince ? { idleSince: d.idleSince } : {}),
    ...(d.actAt ? { actAt: d.actAt } : {}),
    ...(d.warnedAt ? { warnedAt: d.warnedAt } : {}),
    ...(i?.gpuMaxPercent !== undefined ? { gpuUtilizationMaxPercent: i.gpuMaxPercent } : {}),
    ...(i?.gpuMemoryUsedMaxMb !== undefined ? { gpuMemoryUsedMaxMb: i.gpuMemoryUsedMaxMb } : {}),
    ...(i?.gpuMemoryMaxPercent !== undefined ? { gpuMemoryMaxPercent: i.gpuMemoryMaxPercent } : {}),
    ...(i?.cpuMaxPercent !== undefined ? { cpuMaxPercent: i.cpuMaxPercent } : {}),
    ...(i?.networkMegabytesPerHour !== undefined ? { networkMegabytesPerHour: i.networkMegabytesPerHour } : {}),
    ...(price.hourlyUsd !== undefined ? { hourlyUsd: price.hourlyUsd } : {}),
    ...(wasteSoFarUsd !== undefined ? { wasteSoFarUsd } : {}),
    ...(typeKnown && price.monthlySavingsUsd !== undefined ? { monthlySavingsUsd: price.monthlySavingsUsd } : {}),
    ...(e.warningOutcome ? { warning: e.warningOutcome } : {}),
    ...(e.cleared ? { warningCleared: true } : {}),
    ...(e.action ? { action: e.action } : {}),
    ...(e.tag ? { tag: e.tag } : {}),
    ...(d.code === 'keep-until' && e.keep && keepActiveAt(e.keep, now)
      ? {
          keep: {
            until: e.keep.until,
            by: e.keep.byName ?? e.keep.by,
            ...(e.keep.reason ? { reason: e.keep.reason } : {}),
          },
        }
      : {}),
    ...(e.ownerMessage ? { ownerMessage: e.ownerMessage } : {}),
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
  // GPU hours of the run, fleet-wide and per team: the monthly summary sums them into the month's FinOps ratios.
  const hours = (h: GpuHours, dimensions?: Record<string, string>) => {
    ctx.metrics.add(METRIC.GpuBusyHours, h.busyGpuHours, 'None', dimensions);
    ctx.metrics.add(METRIC.GpuMeasuredHours, h.measuredGpuHours, 'None', dimensions);
    ctx.metrics.add(METRIC.SpotGpuHours, h.spotGpuHours, 'None', dimensions);
    ctx.metrics.add(METRIC.GpuHours, h.gpuHours, 'None', dimensions);
  };
  hours(m.fleet.hours.total);
  for (const [team, h] of Object.entries(m.fleet.hours.teams)) {
    hours(h, { Team: team });
    const spot = spotCoveragePercent(h);
    const utilization = gpuUtilizationPercent(h);
    if (spot !== undefined) ctx.metrics.add(METRIC.SpotCoveragePercent, spot, 'Percent', { Team: team });
    if (utilization !== undefined) {
      ctx.metrics.add(METRIC.FleetGpuUtilizationPercent, utilization, 'Percent', { Team: team });
    }
  }
}

export const reaperCapability: CapabilityModule<ReaperSummary> = {
  name: 'reaper',
  description: 'find idle GPU instances, warn in Slack, then terminate or stop them',
  run: (ctx, event) => run(ctx, event),
};
