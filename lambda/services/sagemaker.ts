/**
 * The SageMaker guard: idle real-time endpoints on GPU (warn, then delete; the endpoint config and models stay),
 * GPU notebook instances in service longer than `notebookMaxHours` (warn, then stop; the ML storage volume stays),
 * and Studio domains whose JupyterLab / Code Editor apps run without idle shutdown (reported; enforced with
 * `studioIdleShutdownMinutes`), with every running GPU Studio app and its $/hour.
 *
 * One run, per region: read the warnings on record (lambda/adapters/sagemaker-warnings.ts), list endpoints with
 * their variants and tags, read `Invocations` of the candidates in batched GetMetricData calls, list GPU notebook
 * instances and Studio domains and apps, decide (lambda/core/sagemaker), act through `ctx.actions` (dry-run honoured
 * there), post one digest, emit metrics. Every money figure comes from the savings model's prices.
 *
 * Acting rests on the evidence the idle GPU reaper acts on (issue 9):
 * - idleness: no invocation of any variant over `endpointIdleHours`, for an endpoint in its current form for longer
 *   than that; metrics that cannot be read, serverless, asynchronous and inference-component endpoints are never
 *   idle; CloudFormation-managed endpoints are only reported;
 * - a warning Slack accepted (channel and ts recorded in the state table) at least `warnMinutesBeforeAction` ago;
 * - at most `maxActionsPerRun` deletions and stops per scheduled period, reserved in the state table before each;
 * - a deletion is recorded (endpoint config and tags) in the endpoint index before DeleteEndpoint is called, so
 *   `cost-guard restore --sagemaker` can recreate it; no record, no delete.
 * Without a Slack token or a state table the run reports and changes nothing; its notes say why.
 */
import { randomUUID } from 'node:crypto';
import { markDeletion, recordDeleting } from '../adapters/endpoint-index';
import {
  DEFAULT_CONCURRENCY,
  deleteEndpoint,
  endpointNow,
  listEndpoints,
  listGpuNotebooks,
  listStudio,
  listStudioOwners,
  mapLimit,
  stopNotebook,
  updateDomainAppSettings,
  updateStudioOwnerAppSettings,
} from '../adapters/sagemaker';
import { fetchEndpointInvocations, invocationsWindow } from '../adapters/sagemaker-metrics';
import { SageMakerWarningStore } from '../adapters/sagemaker-warnings';
import type { PostResult } from '../adapters/slack';
import { DynamoStateStore } from '../adapters/state-store';
import { METRIC } from '../core/names';
import {
  appAgeHours,
  buildSageMakerDigest,
  checkBeforeDelete,
  countSageMaker,
  decideEndpoint,
  decideNotebook,
  decideStudioDomain,
  decideStudioOwner,
  deferSageMakerDecision,
  type EndpointFacts,
  type EndpointInvocations,
  endpointGuard,
  endpointSince,
  isEndpointOfInterest,
  isGpuApp,
  type NotebookFacts,
  notebookInServiceSince,
  ownerOf,
  reportKey,
  resourceKey,
  type SageMakerCounts,
  type SageMakerDecision,
  type SageMakerGuardConfig,
  type SageMakerOutcome,
  type SageMakerResourceReport,
  type SageMakerWarning,
  type StudioAppReport,
  type StudioDomainDecision,
  type StudioDomainReport,
  type StudioOwnerDecision,
  sageMakerCost,
} from '../core/sagemaker';
import { actionPeriod } from '../core/schedule';
import { ActionLimits } from '../runtime/action-limits';
import type { CapabilityModule } from '../runtime/capability';
import { keyScopeOf, type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';
import { reportOnlyBecause } from '../runtime/report-only';
import type { ActionRecord } from '../shared/actions';
import { errorCode, errorMessage } from '../shared/errors';

export interface SageMakerSummary extends RunSummary {
  readonly capability: 'sagemaker';
  readonly action: 'delete' | 'notify';
  readonly regions: readonly string[];
  /** InService endpoints seen, GPU or not. */
  readonly endpointsScanned: number;
  /** GPU endpoints and GPU notebook instances: decision, reason, cost, outcome. */
  readonly resources: readonly SageMakerResourceReport[];
  readonly studio: { readonly domains: readonly StudioDomainReport[]; readonly gpuApps: readonly StudioAppReport[] };
  /** Resources not acted on, by reason code. */
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly counts: SageMakerCounts;
  /** GetMetricData queries sent (one per endpoint variant). */
  readonly metricQueries: number;
  /** Where the ml.* prices come from. */
  readonly pricingNote: string;
  readonly slack: { readonly messages: number; readonly posted: number; readonly error?: string };
}

/** The run finished but something must alarm (Slack did not take the digest, a region could not be read). */
export class SageMakerRunError extends RunIncompleteError<SageMakerSummary> {
  constructor(message: string, summary: SageMakerSummary, options?: { cause?: unknown }) {
    super(message, summary, options);
    this.name = 'SageMakerRunError';
  }
}

/**
 * Why this run cannot deliver a warning a person could read, as one sentence; undefined when it can. Either way
 * (no state table, no Slack token) the guard reports and never deletes, stops or updates anything.
 */
export function sageMakerReportOnlyReason(ctx: Pick<RunContext, 'stateTableName' | 'notifier'>): string | undefined {
  return reportOnlyBecause(ctx, 'the SageMaker guard reports and never deletes, stops or updates anything');
}

type Resource =
  | { readonly kind: 'endpoint'; readonly facts: EndpointFacts }
  | { readonly kind: 'notebook'; readonly facts: NotebookFacts };

interface Entry {
  readonly resource: Resource;
  readonly key: string;
  readonly region: string;
  readonly warning?: SageMakerWarning;
  decision: SageMakerDecision;
  action?: SageMakerOutcome;
  warningOutcome?: NonNullable<SageMakerResourceReport['warning']>;
  cleared?: boolean;
}

/** A domain, or one of its user profiles or spaces whose own idle settings are looser than the configured ones. */
interface DomainEntry {
  readonly decision: StudioDomainDecision | StudioOwnerDecision;
  /** For a user profile or space: its domain's name. */
  readonly domainName?: string;
  readonly runningApps: number;
  readonly gpuApps: number;
  action?: SageMakerOutcome;
}

const RANK: Record<SageMakerDecision['kind'], number> = {
  act: 0,
  warn: 1,
  deferred: 2,
  notify: 3,
  wait: 4,
  report: 5,
  busy: 6,
  unknown: 7,
  skip: 8,
};

const outcome = (record: ActionRecord, kind: SageMakerOutcome['kind']): SageMakerOutcome => ({
  kind,
  status: record.status,
  ...(record.errorCode ? { errorCode: record.errorCode } : {}),
  ...(record.errorMessage ? { errorMessage: record.errorMessage } : {}),
});

/** The instances a resource runs: an endpoint's variants (current counts), a notebook's one. */
function instancesOf(r: Resource): { instanceType: string; count: number }[] {
  if (r.kind === 'notebook') return [{ instanceType: r.facts.instanceType, count: 1 }];
  return r.facts.variants
    .filter((v) => !v.serverless && v.instanceType !== undefined)
    .map((v) => ({ instanceType: v.instanceType!, count: v.currentInstanceCount ?? 1 }));
}

interface RegionScan {
  readonly entries: Entry[];
  readonly domains: DomainEntry[];
  readonly apps: StudioAppReport[];
  readonly endpointsScanned: number;
  readonly queries: number;
  /** Warnings on record for resources no longer in service: removed after the run. */
  readonly stale: readonly SageMakerWarning[];
}

async function scanRegion(
  ctx: RunContext,
  region: string,
  config: SageMakerGuardConfig,
  warnings: SageMakerWarningStore | undefined,
  reportOnly: string | undefined,
  notes: string[],
  failures: string[],
): Promise<RegionScan> {
  const { now } = ctx;
  const sm = ctx.clients.sagemaker(region);
  let records = new Map<string, SageMakerWarning>();
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
  const options = (key: string) => {
    const warning = records.get(key);
    return { ...(warning ? { warning } : {}), ...(regionReportOnly ? { reportOnly: regionReportOnly } : {}) };
  };
  const entries: Entry[] = [];
  const entry = (resource: Resource, decision: SageMakerDecision): Entry => {
    const key = resourceKey(resource.kind, resource.facts.name);
    const warning = records.get(key);
    return { resource, key, region, decision, ...(warning ? { warning } : {}) };
  };
  const seen = new Set<string>();

  // Endpoints.
  const scan = await listEndpoints(sm, region);
  for (const line of scan.errors) {
    notes.push(line);
    failures.push(line);
  }
  for (const e of scan.endpoints) seen.add(resourceKey('endpoint', e.name));
  const ofInterest = scan.endpoints.filter(isEndpointOfInterest);
  const candidates: EndpointFacts[] = [];
  for (const e of ofInterest) {
    const key = resourceKey('endpoint', e.name);
    const guarded = endpointGuard(e, now, config, records.has(key));
    if (guarded) {
      entries.push(entry({ kind: 'endpoint', facts: e }, decideEndpoint(e, undefined, now, config, options(key))));
    } else if (scan.inferenceComponentsUnknown) {
      entries.push(
        entry(
          { kind: 'endpoint', facts: e },
          {
            kind: 'unknown',
            code: 'inference-components-unknown',
            reason: 'inference components could not be listed, so whether it hosts any is unknown: not judged',
            clearWarning: false,
          },
        ),
      );
    } else candidates.push(e);
  }
  let queries = 0;
  if (candidates.length > 0) {
    let invocations: ReadonlyMap<string, EndpointInvocations> = new Map();
    try {
      const result = await fetchEndpointInvocations(
        ctx.clients.cloudwatch(region),
        candidates,
        invocationsWindow(now, config.sagemaker.endpointIdleHours),
      );
      invocations = result.invocations;
      queries = result.queries;
      notes.push(...result.errors.map((e) => `${region}: ${e}`));
    } catch (error) {
      notes.push(`${region}: Invocations could not be read (${errorCode(error)}): no endpoint judged idle`);
    }
    for (const e of candidates) {
      const key = resourceKey('endpoint', e.name);
      entries.push(
        entry({ kind: 'endpoint', facts: e }, decideEndpoint(e, invocations.get(e.name), now, config, options(key))),
      );
    }
  }

  // Notebook instances.
  try {
    const { notebooks } = await listGpuNotebooks(sm, region);
    for (const n of notebooks) {
      const key = resourceKey('notebook', n.name);
      seen.add(key);
      entries.push(entry({ kind: 'notebook', facts: n }, decideNotebook(n, now, config, options(key))));
    }
  } catch (error) {
    const line = `${region}: notebook instances could not be listed (${errorCode(error)})`;
    notes.push(line);
    failures.push(line);
    // Their warnings stay: not knowing is not "gone".
    for (const k of records.keys()) if (k.startsWith('notebook/')) seen.add(k);
  }

  // Studio: domains and running apps.
  const domains: DomainEntry[] = [];
  const apps: StudioAppReport[] = [];
  try {
    const studio = await listStudio(sm, region);
    for (const line of studio.errors) {
      notes.push(line);
      failures.push(line);
    }
    for (const a of studio.apps.filter(isGpuApp)) {
      const age = appAgeHours(a, now);
      const cost = sageMakerCost([{ instanceType: a.instanceType!, count: 1 }], ctx.pricing, region);
      apps.push({
        domainId: a.domainId,
        region,
        appType: a.appType,
        appName: a.appName,
        ...(a.userProfileName ? { userProfileName: a.userProfileName } : {}),
        ...(a.spaceName ? { spaceName: a.spaceName } : {}),
        instanceType: a.instanceType!,
        ...(age !== undefined ? { ageHours: age } : {}),
        ...(cost ? { hourlyUsd: cost.hourlyUsd } : {}),
      });
    }
    for (const d of studio.domains) {
      const decision = decideStudioDomain(
        d,
        config.sagemaker.studioIdleShutdownMinutes,
        now,
        config.tags,
        regionReportOnly,
      );
      domains.push({
        decision,
        runningApps: studio.apps.filter((a) => a.domainId === d.domainId).length,
        gpuApps: apps.filter((a) => a.domainId === d.domainId).length,
      });
    }
    // User profiles and spaces overriding the domain's idle shutdown with a looser setting of their own.
    const owners = await listStudioOwners(
      sm,
      region,
      studio.domains.map((d) => d.domainId),
    );
    for (const line of owners.errors) {
      notes.push(line);
      failures.push(line);
    }
    for (const o of owners.owners) {
      const decision = decideStudioOwner(
        o,
        config.sagemaker.studioIdleShutdownMinutes,
        now,
        config.tags,
        regionReportOnly,
      );
      if (decision.kind === 'ok') continue;
      const mine = studio.apps.filter(
        (a) => a.domainId === o.domainId && (o.kind === 'space' ? a.spaceName : a.userProfileName) === o.name,
      );
      domains.push({
        decision,
        domainName: studio.domains.find((d) => d.domainId === o.domainId)?.name ?? o.domainId,
        runningApps: mine.length,
        gpuApps: mine.filter(isGpuApp).length,
      });
    }
  } catch (error) {
    const line = `${region}: Studio domains and apps could not be listed (${errorCode(error)})`;
    notes.push(line);
    failures.push(line);
  }

  const stale = [...records.values()].filter((w) => !seen.has(w.key));
  return { entries, domains, apps, endpointsScanned: scan.endpoints.length, queries, stale };
}

async function run(ctx: RunContext, event?: unknown): Promise<SageMakerSummary> {
  const config: SageMakerGuardConfig = { sagemaker: ctx.config.sagemaker, tags: ctx.config.tags };
  const { action, maxActionsPerRun, warnMinutesBeforeAction, endpointIdleHours } = config.sagemaker;
  const { now } = ctx;
  const pricingNote = `ml.* prices: ${ctx.pricingNote}; pricing.instanceHourlyUsd overrides win, and a region the catalog has no ml.* figure for uses its us-east-1 one`;
  const empty = (notes: string[]): SageMakerSummary => ({
    capability: 'sagemaker',
    dryRun: ctx.dryRun,
    startedAt: now.toISOString(),
    actions: [],
    monthlySavingsUsd: 0,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    action,
    regions: ctx.regions,
    endpointsScanned: 0,
    resources: [],
    studio: { domains: [], gpuApps: [] },
    skippedByReason: {},
    counts: countSageMaker([]),
    metricQueries: 0,
    pricingNote,
    slack: { messages: 0, posted: 0 },
  });
  if (!config.sagemaker.enabled) return empty(['sagemaker.enabled is false: nothing done']);

  const notes: string[] = [];
  const failures: string[] = [];
  const reportOnly = sageMakerReportOnlyReason(ctx);
  if (reportOnly) {
    notes.push(`Reporting only: ${reportOnly}.`);
    ctx.log.warn(`SageMaker guard reporting only: ${reportOnly}`);
  }
  const warnings = ctx.stateTableName
    ? new SageMakerWarningStore(ctx.clients.dynamodb(), ctx.stateTableName, randomUUID(), now, keyScopeOf(ctx))
    : undefined;
  const mutating = !ctx.dryRun && action !== 'notify';
  const entries: Entry[] = [];
  const domains: DomainEntry[] = [];
  const gpuApps: StudioAppReport[] = [];
  const stale: SageMakerWarning[] = [];
  let endpointsScanned = 0;
  let metricQueries = 0;
  for (const region of ctx.regions) {
    try {
      const r = await scanRegion(ctx, region, config, warnings, reportOnly, notes, failures);
      entries.push(...r.entries);
      domains.push(...r.domains);
      gpuApps.push(...r.apps);
      stale.push(...r.stale);
      endpointsScanned += r.endpointsScanned;
      metricQueries += r.queries;
    } catch (error) {
      const line = `${region}: could not be scanned (${errorCode(error)}: ${errorMessage(error)})`;
      notes.push(line);
      failures.push(line);
      ctx.log.error('SageMaker region scan failed', { region, error: errorMessage(error) });
    }
  }

  const costOf = (e: Entry) => sageMakerCost(instancesOf(e.resource), ctx.pricing, e.region);
  if (entries.some((e) => costOf(e)?.fallback)) {
    notes.push('Some ml.* prices are the catalog’s us-east-1 figures: it holds no SageMaker prices for the region.');
  }
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

  // Act: oldest first, then the most expensive; at most maxActionsPerRun per scheduled period, counted in the state
  // table so that retries and overlapping runs share it.
  if (action !== 'notify') {
    const acting = entries
      .filter((e) => e.decision.kind === 'act')
      .sort(
        (a, b) =>
          Date.parse(a.decision.idleSince ?? '') - Date.parse(b.decision.idleSince ?? '') ||
          (costOf(b)?.hourlyUsd ?? 0) - (costOf(a)?.hourlyUsd ?? 0) ||
          a.key.localeCompare(b.key),
      );
    // Per account in organization mode, and then also within the organization-wide ceiling.
    const limits = ctx.stateTableName
      ? ActionLimits.of(ctx, new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName, { now }))
      : undefined;
    const period = actionPeriod(config.sagemaker.schedule, event, now);
    const target = (e: Entry) => `${e.region}/${e.key}`;
    const selected: Entry[] = [];
    let remaining = acting;
    let full = false;
    // A chunk at a time, as many as the limit still has room for: each endpoint described again just before
    // deleting (a few at a time), then the chunk reserved in two table calls (reserveActions: retries and overlapping
    // runs share the period's count), then everything selected acted on together.
    while (!full && remaining.length > 0) {
      const room = maxActionsPerRun - selected.length;
      if (room <= 0) break;
      const chunk = remaining.slice(0, room);
      remaining = remaining.slice(room);
      await mapLimit(chunk, DEFAULT_CONCURRENCY, async (e) => {
        if (e.resource.kind !== 'endpoint') return;
        let seen: Awaited<ReturnType<typeof endpointNow>>;
        try {
          seen = await endpointNow(ctx.clients.sagemaker(e.region), e.resource.facts.name);
        } catch (error) {
          notes.push(`${e.resource.facts.name}: DescribeEndpoint failed just before deleting (${errorCode(error)})`);
          seen = {};
        }
        e.decision = checkBeforeDelete(e.decision, seen, e.resource.facts.endpointConfigName);
      });
      const ready = chunk.filter((e) => e.decision.kind === 'act');
      let granted = new Set(ready.map(target));
      if (mutating && limits && ready.length > 0) {
        try {
          granted = new Set(
            await limits.reserveMany({
              capability: 'sagemaker',
              period,
              limit: maxActionsPerRun,
              targets: ready.map(target),
              now,
            }),
          );
        } catch (error) {
          granted = new Set();
          const line = `action limit could not be checked (${errorCode(error)}): nothing acted on past this point`;
          notes.push(line);
          failures.push(line);
        }
      }
      for (const e of ready) {
        if (granted.has(target(e))) selected.push(e);
        else {
          full = true;
          e.decision = deferSageMakerDecision(e.decision, maxActionsPerRun);
        }
      }
    }
    for (const e of remaining) {
      if (e.decision.kind === 'act') e.decision = deferSageMakerDecision(e.decision, maxActionsPerRun);
    }
    const ceiling = limits?.organizationNote();
    if (ceiling) notes.push(ceiling);
    await Promise.all(selected.map((e) => act(ctx, e, costOf(e)?.monthlyUsd, tableWrite, warnings)));
  }

  // Studio: domains given idle shutdown (no warning first: nothing stops until an app has been idle that long).
  await Promise.all(
    domains
      .filter((d) => d.decision.kind === 'update' && d.decision.update)
      .map(async (d) => {
        if ('owner' in d.decision) {
          const { owner, update, reason } = d.decision;
          const kind = owner.kind === 'space' ? 'update-space' : 'update-user-profile';
          const noun = owner.kind === 'space' ? 'space' : 'user profile';
          const ownerRecord = await ctx.actions.perform(
            {
              capability: 'sagemaker',
              kind,
              target: owner.arn || `${owner.domainId}/${owner.name}`,
              region: owner.region,
              reason: `Studio ${noun} ${owner.name} (domain ${owner.domainId}): ${reason}`,
              details: { domainId: owner.domainId, update },
            },
            () => updateStudioOwnerAppSettings(ctx.clients.sagemaker(owner.region), owner, update!),
          );
          d.action = outcome(ownerRecord, kind);
          return;
        }
        const { domain, update, reason } = d.decision;
        const record = await ctx.actions.perform(
          {
            capability: 'sagemaker',
            kind: 'update-domain',
            target: domain.domainId,
            region: domain.region,
            reason: `Studio domain ${domain.name}: ${reason}`,
            details: { update },
          },
          () => updateDomainAppSettings(ctx.clients.sagemaker(domain.region), domain.domainId, update!),
        );
        d.action = outcome(record, 'update-domain');
      }),
  );

  // Busy again or now protected: the warning is cleared (only ever delays an action). Gone: removed.
  await Promise.all(
    entries
      .filter((e) => e.decision.clearWarning && e.warning && warnings)
      .map(async (e) => {
        e.cleared =
          ctx.dryRun || (await tableWrite(`${e.key}: warning removal`, () => warnings!.remove(e.region, e.key)));
      }),
  );
  if (warnings && !ctx.dryRun) {
    await Promise.all(
      stale.map((w) => tableWrite(`${w.key}: warning removal`, () => warnings.remove(w.region, w.key))),
    );
  }

  const reportsOf = () =>
    entries
      .map((e) => toReport(e, costOf(e), now))
      .sort((a, b) => RANK[a.decision] - RANK[b.decision] || reportKey(a).localeCompare(reportKey(b)));
  const before = reportsOf();
  const skippedByReason: Record<string, number> = {};
  for (const r of before) {
    if (
      r.decision === 'skip' ||
      r.decision === 'unknown' ||
      r.decision === 'deferred' ||
      r.code === 'cloudformation-managed'
    ) {
      skippedByReason[r.code] = (skippedByReason[r.code] ?? 0) + 1;
    }
  }
  const domainReports = () => domains.map(toDomainReport);
  const digestInput = {
    resources: before,
    domains: domainReports(),
    gpuApps,
    dryRun: ctx.dryRun,
    action,
    optOutKey: config.tags.optOut,
    endpointIdleHours,
    maxActionsPerRun,
    skippedByReason,
    notes,
  };
  const digest = buildSageMakerDigest(digestInput);

  // Warn: recorded pending before the digest goes out; counts once Slack accepted the message that shows it.
  const warned = entries.filter((e) => e.decision.kind === 'warn' && e.decision.warning);
  const recorded = new Set<string>();
  if (!reportOnly && action !== 'notify') {
    await Promise.all(
      warned.map(async (e) => {
        const id = reportKey({ kind: e.resource.kind, region: e.region, name: e.resource.facts.name });
        if (!digest.messageOf.has(id)) {
          e.warningOutcome = { status: 'not-shown' };
          return;
        }
        if (ctx.dryRun) {
          e.warningOutcome = { status: 'dry-run' };
          return;
        }
        const ok = await tableWrite(`${e.key}: warning record`, () =>
          warnings!.putPending(e.region, e.key, e.decision.warning!),
        );
        if (ok) recorded.add(id);
        else e.warningOutcome = { status: 'not-recorded' };
      }),
    );
  }
  const accepted: PostResult[] = [];
  let slackError: string | undefined;
  try {
    for (const message of digest.messages) accepted.push(await ctx.notifier.post(message));
  } catch (error) {
    slackError = `${errorCode(error)}: ${errorMessage(error)}`;
    failures.push(`Slack digest not delivered (${slackError})`);
    ctx.log.error('SageMaker digest not delivered', { error: slackError, posted: accepted.length });
  }
  await Promise.all(
    warned.map(async (e) => {
      const id = reportKey({ kind: e.resource.kind, region: e.region, name: e.resource.facts.name });
      if (!recorded.has(id)) return;
      const index = digest.messageOf.get(id);
      const post = index !== undefined ? accepted[index] : undefined;
      if (!post?.ts) {
        e.warningOutcome = { status: 'not-delivered' };
        return;
      }
      let marked = false;
      await tableWrite(`${e.key}: warning delivery`, async () => {
        marked = await warnings!.markDelivered({
          key: e.key,
          region: e.region,
          slackChannel: post.channel,
          slackTs: post.ts!,
          warnedAt: now.toISOString(),
          actionDue: new Date(now.getTime() + warnMinutesBeforeAction * 60_000).toISOString(),
        });
      });
      e.warningOutcome = marked
        ? { status: 'delivered', slackChannel: post.channel, slackTs: post.ts }
        : { status: 'not-recorded' };
    }),
  );
  const undelivered = warned.filter(
    (e) => e.warningOutcome?.status === 'not-delivered' || e.warningOutcome?.status === 'not-recorded',
  ).length;
  if (undelivered > 0) {
    notes.push(`${undelivered} warning(s) not delivered: they do not count, and the next run warns again`);
  }

  const reports = reportsOf();
  const finalDomains = domainReports();
  const counts = countSageMaker(reports, finalDomains);
  const effective = ctx.actions.records().filter((r) => r.capability === 'sagemaker');
  const doneSavings = effective
    .filter((r) => r.status === 'done' && (r.kind === 'delete-endpoint' || r.kind === 'stop-notebook'))
    .reduce((s, r) => s + (r.monthlySavingsUsd ?? 0), 0);
  ctx.metrics.add(METRIC.SageMakerEndpointsScanned, endpointsScanned);
  ctx.metrics.add(
    METRIC.SageMakerIdleEndpoints,
    reports.filter((r) => r.kind === 'endpoint' && r.invocations === 0).length,
  );
  ctx.metrics.add(METRIC.SageMakerWarned, counts.warned);
  ctx.metrics.add(METRIC.SageMakerEndpointsDeleted, counts.deleted);
  ctx.metrics.add(METRIC.SageMakerNotebooksStopped, counts.stopped);
  ctx.metrics.add(METRIC.SageMakerDomainsUpdated, counts.domainsUpdated);
  ctx.metrics.add(METRIC.SageMakerGpuNotebooks, reports.filter((r) => r.kind === 'notebook').length);
  ctx.metrics.add(METRIC.SageMakerGpuStudioApps, gpuApps.length);
  for (const [reason, n] of Object.entries(skippedByReason)) {
    ctx.metrics.add(METRIC.Skipped, n, 'Count', { Reason: reason });
  }
  ctx.metrics.add(METRIC.EstimatedMonthlySavingsUsd, doneSavings, 'None');

  const summary: SageMakerSummary = {
    capability: 'sagemaker',
    dryRun: ctx.dryRun,
    startedAt: now.toISOString(),
    actions: effective,
    monthlySavingsUsd: ctx.actions.totals((r) => r.capability === 'sagemaker').monthlySavingsUsd,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    action,
    regions: ctx.regions,
    endpointsScanned,
    resources: reports,
    studio: { domains: finalDomains, gpuApps },
    skippedByReason,
    counts,
    metricQueries,
    pricingNote,
    slack: { messages: digest.messages.length, posted: accepted.length, ...(slackError ? { error: slackError } : {}) },
  };
  if (failures.length > 0) {
    throw new SageMakerRunError(`SageMaker guard run incomplete: ${failures.join('; ')}`, summary);
  }
  return summary;
}

/**
 * Deletes an endpoint (recorded in the endpoint index first: no record, no delete) or stops a notebook instance,
 * through the action runner; removes the warning once done.
 */
async function act(
  ctx: RunContext,
  e: Entry,
  monthlySavingsUsd: number | undefined,
  tableWrite: (what: string, write: () => Promise<unknown>) => Promise<boolean>,
  warnings: SageMakerWarningStore | undefined,
): Promise<void> {
  const sm = ctx.clients.sagemaker(e.region);
  const at = ctx.now.toISOString();
  const money = monthlySavingsUsd !== undefined ? { monthlySavingsUsd } : {};
  if (e.resource.kind === 'endpoint') {
    const f = e.resource.facts;
    if (!ctx.dryRun) {
      const ok = await tableWrite(`${f.name}: endpoint index record`, () =>
        recordDeleting(
          ctx.clients.dynamodb(),
          ctx.stateTableName!,
          {
            endpointName: f.name,
            region: e.region,
            endpointConfigName: f.endpointConfigName,
            tags: f.tags,
            ...(f.creationTime ? { creationTime: f.creationTime } : {}),
            reason: e.decision.reason,
            at,
          },
          keyScopeOf(ctx),
        ),
      );
      if (!ok) {
        e.decision = {
          ...e.decision,
          kind: 'skip',
          code: 'not-recorded',
          reason: `${e.decision.reason}; not deleted: what restore needs could not be recorded first`,
        };
        return;
      }
    }
    const record = await ctx.actions.perform(
      {
        capability: 'sagemaker',
        kind: 'delete-endpoint',
        target: f.name,
        region: e.region,
        reason: `${e.decision.reason}; endpoint config ${f.endpointConfigName} kept (cost-guard restore --sagemaker recreates it)`,
        ...money,
        details: {
          endpointConfigName: f.endpointConfigName,
          tags: f.tags,
          instances: instancesOf(e.resource),
          warnedAt: e.decision.warnedAt,
          slackTs: e.warning?.slackTs,
        },
      },
      () => deleteEndpoint(sm, f.name),
    );
    e.action = outcome(record, 'delete');
    if (!ctx.dryRun) {
      await tableWrite(`${f.name}: endpoint index update`, () =>
        markDeletion(
          ctx.clients.dynamodb(),
          ctx.stateTableName!,
          e.region,
          f.name,
          record.status === 'done' ? 'deleted' : 'delete-failed',
          at,
          keyScopeOf(ctx),
        ),
      );
    }
  } else {
    const f = e.resource.facts;
    const record = await ctx.actions.perform(
      {
        capability: 'sagemaker',
        kind: 'stop-notebook',
        target: f.name,
        region: e.region,
        reason: `${e.decision.reason}; the ML storage volume is kept`,
        ...money,
        details: { instanceType: f.instanceType, warnedAt: e.decision.warnedAt, slackTs: e.warning?.slackTs },
      },
      () => stopNotebook(sm, f.name),
    );
    e.action = outcome(record, 'stop');
  }
  if (e.action.status === 'done' && warnings) {
    await tableWrite(`${e.key}: warning removal`, () => warnings.remove(e.region, e.key));
  }
}

function toReport(e: Entry, cost: ReturnType<typeof sageMakerCost>, now: Date): SageMakerResourceReport {
  const d = e.decision;
  const r = e.resource;
  const since = r.kind === 'endpoint' ? endpointSince(r.facts) : notebookInServiceSince(r.facts);
  return {
    kind: r.kind,
    name: r.facts.name,
    arn: r.facts.arn,
    region: e.region,
    instances: instancesOf(r),
    ...(r.kind === 'endpoint' ? { endpointConfigName: r.facts.endpointConfigName } : {}),
    ...(r.kind === 'notebook' && r.facts.lifecycleConfigName
      ? { lifecycleConfigName: r.facts.lifecycleConfigName }
      : {}),
    ...ownerOf(r.facts.tags),
    decision: d.kind,
    code: d.code,
    reason: d.reason,
    ...(d.idleSince ? { idleSince: d.idleSince } : {}),
    ...(d.actAt ? { actAt: d.actAt } : {}),
    ...(d.warnedAt ? { warnedAt: d.warnedAt } : {}),
    ...(since !== undefined ? { ageHours: Math.max(0, (now.getTime() - since) / 3_600_000) } : {}),
    ...(d.invocations !== undefined ? { invocations: d.invocations } : {}),
    ...(cost ? { hourlyUsd: cost.hourlyUsd, monthlySavingsUsd: cost.monthlyUsd } : {}),
    ...(e.warningOutcome ? { warning: e.warningOutcome } : {}),
    ...(e.cleared ? { warningCleared: true } : {}),
    ...(e.action ? { action: e.action } : {}),
  };
}

function toDomainReport(d: DomainEntry): StudioDomainReport {
  if ('owner' in d.decision) {
    const { owner, looser } = d.decision;
    return {
      domainId: owner.domainId,
      name: d.domainName ?? owner.domainId,
      owner: { kind: owner.kind, name: owner.name },
      region: owner.region,
      idleShutdown: looser.map((app) => {
        const idle = owner.appSettings[app]?.AppLifecycleManagement?.IdleSettings;
        return {
          app,
          enabled: owner.kind === 'space' || idle?.LifecycleManagement === 'ENABLED',
          ...(idle?.IdleTimeoutInMinutes !== undefined ? { timeoutMinutes: idle.IdleTimeoutInMinutes } : {}),
        };
      }),
      withoutIdleShutdown: looser.some(
        (app) => owner.appSettings[app]?.AppLifecycleManagement?.IdleSettings?.LifecycleManagement === 'DISABLED',
      ),
      decision: d.decision.kind,
      code: d.decision.code,
      reason: d.decision.reason,
      runningApps: d.runningApps,
      gpuApps: d.gpuApps,
      ...(d.action ? { action: d.action } : {}),
    };
  }
  const { domain } = d.decision;
  return {
    domainId: domain.domainId,
    name: domain.name,
    region: domain.region,
    idleShutdown: d.decision.states,
    withoutIdleShutdown: d.decision.withoutIdleShutdown,
    decision: d.decision.kind,
    code: d.decision.code,
    reason: d.decision.reason,
    runningApps: d.runningApps,
    gpuApps: d.gpuApps,
    ...(d.action ? { action: d.action } : {}),
  };
}

export const sageMakerCapability: CapabilityModule<SageMakerSummary> = {
  name: 'sagemaker',
  description: 'delete idle GPU endpoints, stop long-running GPU notebooks, give Studio idle shutdown',
  run: (ctx, event) => run(ctx, event),
};
