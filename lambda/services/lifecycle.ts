/**
 * Storage lifecycle: applies the configured S3 lifecycle rules to the ML artifact buckets, merged with each bucket's
 * own rules, and reports what it changed and what it projects to save.
 *
 * Each run: select the buckets (tag `storage.bucketTag`, plus the names in `storage.buckets`), set aside the
 * protected ones (lambda/core/lifecycle/protection.ts: storage.excludeBuckets, CDK bootstrap buckets, the guard's own
 * stack's buckets, log buckets, and buckets whose tags or policy cannot be read; they are reported, never written),
 * read each other bucket's lifecycle configuration (and versioning), plan the merge (lambda/core/lifecycle/merge.ts),
 * price the change with the savings model from CloudWatch bucket sizes, write through `ctx.actions` only where the
 * merged configuration differs, then post one Slack digest (none when nothing needs a reader) and emit metrics.
 *
 * A write that puts rules deleting data (expiration, noncurrent-version expiration) on a bucket for the first time is
 * announced in Slack before it is made; when the announcement is not delivered, those buckets are held (not written,
 * the run fails) and the next run announces them again. Buckets are processed 8 at a time; a bucket that fails is
 * reported and never stops the others.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { type ListedBucket, S3LifecycleAdapter, type S3Outcome } from '../adapters/s3-lifecycle';

import { bucketSizesByClass } from '../adapters/s3-metrics';

import { postAll } from '../adapters/slack';

import type { StorageConfig } from '../core/config';
import {
  addStorageBytes,
  type ByTeam,
  type StorageBytes,
  storageBytes,
  storageEfficiencyPercent,
  sumByTeam,
  teamValue,
  ZERO_STORAGE_BYTES,
} from '../core/finops/metrics';
import {
  type BucketPlan,
  formatRuleDiff,
  isManagedRule,
  planBucketLifecycle,
  projectLifecycleSavings,
  selectsByTag,
  type VersioningState,
} from '../core/lifecycle/merge';
import {
  guardStackName,
  type ProtectionReason,
  policyUnreadable,
  protectionByName,
  protectionByPolicy,
  protectionByTags,
  protectionWords,
  tagsUnreadable,
} from '../core/lifecycle/protection';
import {
  type BucketDecision,
  type BucketReport,
  changeWords,
  type DeletionNotice,
  deletionAnnouncement,
  deletionNotices,
  deletionWords,
  firstDeletingRules,
  type LifecycleRunSummary,
  lifecycleDigest,
  type SelectedBy,
} from '../core/lifecycle/report';
import type { StorageClass } from '../core/lifecycle/rules';
import { ENV, METRIC } from '../core/names';
import { round2 } from '../core/savings/calculators';
import { tagValue } from '../core/tags';

import type { CapabilityModule } from '../runtime/capability';
import { type RunContext, RunIncompleteError } from '../runtime/context';

export type { BucketDecision, BucketReport, LifecycleRunSummary, SelectedBy } from '../core/lifecycle/report';
export { lifecycleDigest } from '../core/lifecycle/report';

import { mapWithConcurrency } from '../shared/concurrency';
import { errorCode, errorMessage } from '../shared/errors';

/** Buckets read or written at the same time. */
export const BUCKET_CONCURRENCY = 8;

interface Target {
  readonly name: string;
  region?: string;
  readonly selectedBy: SelectedBy[];
  /** The tags read during tag selection (undefined for buckets selected only by name). */
  readonly tags?: Readonly<Record<string, string>>;
}

interface Planned {
  readonly target: Target & { region: string };
  readonly plan: BucketPlan<LifecycleRule>;
  readonly versioning?: VersioningState;
  readonly versioningError?: string;
}

const failedRead = (o: S3Outcome<unknown>): o is Extract<S3Outcome<unknown>, { ok: false }> => !o.ok;

function emptyReport(target: Target, decision: BucketDecision, extra: Partial<BucketReport> = {}): BucketReport {
  return {
    bucket: target.name,
    ...(target.region ? { region: target.region } : {}),
    selectedBy: target.selectedBy,
    decision,
    rulesBefore: [],
    rulesAfter: [],
    diff: [],
    diffText: [],
    conflicts: [],
    errors: [],
    notices: [],
    ...extra,
  };
}

async function selectBuckets(
  ctx: RunContext,
  s3: S3LifecycleAdapter,
  notes: string[],
  incomplete: string[],
): Promise<{ targets: Target[]; unreadable: BucketReport[]; tagReadFailures: { bucket: string; code: string }[] }> {
  const storage = ctx.config.storage;
  const targets = new Map<string, Target>();
  const listed = new Map<string, ListedBucket>();
  const tagReadFailures: { bucket: string; code: string }[] = [];
  if (selectsByTag(storage)) {
    const { key, value } = storage.bucketTag;
    let buckets: ListedBucket[] = [];
    try {
      buckets = await s3.listBuckets();
    } catch (error) {
      notes.push(`ListBuckets failed (${errorCode(error)}): no bucket selected by the tag ${key}=${value}`);
      incomplete.push(`ListBuckets failed (${errorCode(error)}: ${errorMessage(error)})`);
      ctx.log.error('ListBuckets failed', { code: errorCode(error), message: errorMessage(error) });
    }
    for (const b of buckets) listed.set(b.name, b);
    await mapWithConcurrency(buckets, BUCKET_CONCURRENCY, async (b) => {
      let region = b.region;
      if (!region) {
        const loc = await s3.locate(b.name);
        if (failedRead(loc)) {
          tagReadFailures.push({ bucket: b.name, code: loc.code });
          return;
        }
        region = loc.value;
      }
      const tags = await s3.tags(b.name, region);
      if (failedRead(tags)) {
        tagReadFailures.push({ bucket: b.name, code: tags.code });
        return;
      }
      if (tags.value[key] === value) {
        targets.set(b.name, { name: b.name, region: tags.region, selectedBy: ['tag'], tags: tags.value });
      }
    });
    if (tagReadFailures.length > 0) {
      tagReadFailures.sort((a, b) => a.bucket.localeCompare(b.bucket));
      notes.push(
        `tags of ${tagReadFailures.length} bucket(s) could not be read, so they are not managed: ` +
          tagReadFailures
            .slice(0, 10)
            .map((f) => `${f.bucket} (${f.code})`)
            .join(', ') +
          (tagReadFailures.length > 10 ? ', …' : ''),
      );
    }
  }
  const unreadable: BucketReport[] = [];
  const explicit = [...new Set(storage.buckets)].filter((name) => {
    const t = targets.get(name);
    if (t) t.selectedBy.push('config');
    return !t;
  });
  await mapWithConcurrency(explicit, BUCKET_CONCURRENCY, async (name) => {
    const known = listed.get(name)?.region;
    const target: Target = { name, selectedBy: ['config'], ...(known ? { region: known } : {}) };
    if (!target.region) {
      const loc = await s3.locate(name);
      if (failedRead(loc)) {
        const decision = loc.kind === 'missing' ? 'missing' : 'unreadable';
        unreadable.push(
          emptyReport(target, decision, {
            errorCode: loc.code,
            errors: [
              decision === 'missing'
                ? `listed in storage.buckets but does not exist (${loc.code})`
                : `listed in storage.buckets but cannot be read: ${loc.code}: ${loc.message}`,
            ],
          }),
        );
        return;
      }
      target.region = loc.value;
    }
    targets.set(name, target);
  });
  const sorted = [...targets.values()].sort((a, b) => a.name.localeCompare(b.name));
  return { targets: sorted, unreadable, tagReadFailures };
}

/**
 * Why a selected bucket must never be written; empty when nothing says so. Checks that need no call come first; the
 * tags (already read when selected by tag) and then the bucket policy are read only while no reason is known. A read
 * that fails counts as a reason: when in doubt, the bucket is not written.
 */
async function protectionOf(
  s3: S3LifecycleAdapter,
  storage: StorageConfig,
  stackName: string,
  target: Target & { region: string },
  tagsRead: Map<string, Readonly<Record<string, string>>>,
): Promise<ProtectionReason[]> {
  const byName = protectionByName(target.name, storage.excludeBuckets);
  if (byName.length > 0) return byName;
  let tags = target.tags;
  if (!tags) {
    const read = await s3.tags(target.name, target.region);
    if (failedRead(read)) return [tagsUnreadable(read.code)];
    tags = read.value;
  }
  tagsRead.set(target.name, tags);
  const byTags = protectionByTags(tags, stackName);
  if (byTags.length > 0) return byTags;
  const policy = await s3.policy(target.name, target.region);
  if (failedRead(policy)) return [policyUnreadable(policy.code)];
  return protectionByPolicy(policy.value);
}

/** The report of a protected bucket; says so when an earlier run left cost-guard rules on it (never removed here). */
async function protectedReport(
  s3: S3LifecycleAdapter,
  target: Target & { region: string },
  reasons: readonly ProtectionReason[],
): Promise<BucketReport> {
  const notices = reasons.map((r) => `protected, never written: ${r.message}`);
  const current = await s3.lifecycle(target.name, target.region);
  const ours = current.ok ? current.value.rules.filter(isManagedRule) : [];
  if (ours.length > 0) {
    notices.push(
      `it still carries ${ours.length} cost-guard rule(s) from an earlier run (${ours.map((r) => r.ID).join(', ')}); ` +
        'the guard does not write this bucket, so remove them by hand if they should go',
    );
  }
  return emptyReport(target, 'protected', {
    protection: reasons,
    notices,
    ...(current.ok ? { rulesBefore: current.value.rules, rulesAfter: current.value.rules } : {}),
  });
}

async function planBucket(
  s3: S3LifecycleAdapter,
  storage: StorageConfig,
  target: Target & { region: string },
): Promise<Planned | BucketReport> {
  const needsVersioning = storage.rules.some((r) => r.noncurrentVersionExpirationDays !== undefined);
  const [current, v] = await Promise.all([
    s3.lifecycle(target.name, target.region),
    needsVersioning ? s3.versioning(target.name, target.region) : Promise.resolve(undefined),
  ]);
  if (failedRead(current)) {
    return emptyReport(target, current.kind === 'missing' ? 'missing' : 'unreadable', {
      errorCode: current.code,
      errors: [`lifecycle configuration cannot be read: ${current.code}: ${current.message}`],
    });
  }
  const located = { ...target, region: current.region };
  let versioning: VersioningState | undefined;
  let versioningError: string | undefined;
  if (v?.ok) versioning = v.value;
  else if (v) versioningError = `versioning cannot be read (${v.code}): noncurrent-version rules not checked`;
  const plan = planBucketLifecycle({
    current: current.value,
    configured: storage.rules,
    ...(versioning ? { versioning } : {}),
  });
  return {
    target: located,
    plan,
    ...(versioning ? { versioning } : {}),
    ...(versioningError ? { versioningError } : {}),
  };
}

function reportOf(p: Planned, decision: BucketDecision, extra: Partial<BucketReport> = {}): BucketReport {
  const { plan } = p;
  return {
    bucket: p.target.name,
    region: p.target.region,
    selectedBy: p.target.selectedBy,
    decision,
    rulesBefore: plan.before.rules,
    rulesAfter: plan.after.rules,
    ...(plan.after.transitionDefaultMinimumObjectSize
      ? { transitionDefaultMinimumObjectSize: plan.after.transitionDefaultMinimumObjectSize }
      : {}),
    diff: plan.diff,
    diffText: formatRuleDiff(plan.diff),
    conflicts: plan.conflicts,
    errors: plan.errors,
    notices: p.versioningError ? [...plan.notices, p.versioningError] : plan.notices,
    ...(p.versioning ? { versioning: p.versioning } : {}),
    ...extra,
  };
}

/** Bytes by storage class of the managed buckets, read per region in batches. Failures become notes. */
async function sizesOf(
  ctx: RunContext,
  changing: readonly Planned[],
  notes: string[],
): Promise<Map<string, Partial<Record<StorageClass, number>>>> {
  const byRegion = new Map<string, string[]>();
  for (const p of changing) byRegion.set(p.target.region, [...(byRegion.get(p.target.region) ?? []), p.target.name]);
  const sizes = new Map<string, Partial<Record<StorageClass, number>>>();
  for (const [region, names] of byRegion) {
    try {
      const res = await bucketSizesByClass(ctx.clients.cloudwatch(region), names, ctx.now);
      for (const [name, s] of res.sizes) sizes.set(name, s);
    } catch (error) {
      notes.push(`bucket sizes in ${region} could not be read (${errorCode(error)}): no savings projected there`);
    }
  }
  return sizes;
}

async function run(ctx: RunContext): Promise<LifecycleRunSummary> {
  const startedAt = ctx.now.toISOString();
  const storage = ctx.config.storage;
  const notes: string[] = [];
  // What makes the run fail at the end (after reporting every bucket): the errors alarm must see it.
  const incomplete: string[] = [];
  const base = { capability: 'lifecycle', dryRun: ctx.dryRun, startedAt };
  if (!storage.enabled) {
    return {
      ...base,
      actions: [],
      monthlySavingsUsd: 0,
      apiCalls: ctx.clients.counter.byOperation(),
      notes: ['storage.enabled is false: nothing done'],
      buckets: [],
      bucketsScanned: 0,
      bucketsChanged: 0,
      conflicts: 0,
      projectedMonthlySavingsUsd: 0,
      projectedMonthlySavingsHighUsd: 0,
      tagReadFailures: [],
      slackMessages: 0,
    };
  }
  const s3 = new S3LifecycleAdapter((region) => ctx.clients.s3(region), ctx.clients.defaultRegion);

  const { targets: selected, unreadable, tagReadFailures } = await selectBuckets(ctx, s3, notes, incomplete);
  ctx.progress?.({ kind: 'read', what: 'buckets selected', count: selected.length });
  const stackName = guardStackName(process.env[ENV.stackName]);
  // The tags read on the way (tag selection, protection): the team tag of the FinOps storage figures.
  const tagsRead = new Map<string, Readonly<Record<string, string>>>();
  const protection = await mapWithConcurrency(selected, BUCKET_CONCURRENCY, (t) =>
    protectionOf(s3, storage, stackName, t as Target & { region: string }, tagsRead),
  );
  const targets = selected.filter((_, i) => protection[i]!.length === 0);
  const protectedReports = await mapWithConcurrency(
    selected.flatMap((t, i) => (protection[i]!.length > 0 ? [{ t, reasons: protection[i]! }] : [])),
    BUCKET_CONCURRENCY,
    ({ t, reasons }) => protectedReport(s3, t as Target & { region: string }, reasons),
  );
  const planned = await mapWithConcurrency(targets, BUCKET_CONCURRENCY, (t) =>
    planBucket(s3, storage, t as Target & { region: string }),
  );
  const plans = planned.filter((p): p is Planned => 'plan' in p);
  const changing = plans.filter((p) => p.plan.decision === 'change');
  // Every managed bucket's size: the savings of those that change, and the storage efficiency of all (FinOps).
  const sizes: Map<string, Partial<Record<StorageClass, number>>> = plans.length > 0
    ? await sizesOf(ctx, plans, notes)
    : new Map();

  const reports = new Map<string, BucketReport>();
  for (const r of [...unreadable, ...protectedReports, ...planned.filter((p): p is BucketReport => !('plan' in p))])
    reports.set(r.bucket, r);
  for (const p of plans) {
    if (p.plan.decision !== 'change') reports.set(p.target.name, reportOf(p, p.plan.decision));
  }

  // Rules that delete data go on a bucket for the first time only after Slack accepted the announcement.
  const firstDeleting = new Map<string, DeletionNotice>();
  for (const p of changing) {
    const rules = firstDeletingRules(p.plan.before.rules, p.plan.after.rules);
    if (rules.length > 0) firstDeleting.set(p.target.name, { bucket: p.target.name, region: p.target.region, rules });
  }
  let announcementMessages = 0;
  const held = new Set<string>();
  if (!ctx.dryRun && firstDeleting.size > 0) {
    try {
      announcementMessages = (await postAll(ctx.notifier, deletionAnnouncement([...firstDeleting.values()]))).length;
    } catch (error) {
      const why = `the announcement of rules that delete data was not delivered to Slack (${errorCode(error)})`;
      notes.push(`${why}: ${[...firstDeleting.keys()].join(', ')} not written; the next run announces them again`);
      incomplete.push(`${why}: ${errorMessage(error)}`);
      ctx.log.error('Deletion announcement not delivered', { code: errorCode(error) });
      for (const p of changing) {
        if (!firstDeleting.has(p.target.name)) continue;
        held.add(p.target.name);
        reports.set(
          p.target.name,
          reportOf(p, 'held', {
            errors: [`not written: ${why}`],
          }),
        );
      }
    }
  }

  await mapWithConcurrency(
    changing.filter((p) => !held.has(p.target.name)),
    BUCKET_CONCURRENCY,
    async (p) => {
      const size = sizes.get(p.target.name);
      const projection = projectLifecycleSavings(size, p.plan.applied, ctx.pricing);
      const report = reportOf(p, 'changed', { ...(projection ? { projection } : {}), sizeKnown: size !== undefined });
      const deletes = firstDeleting.get(p.target.name);
      const record = await ctx.actions.perform(
        {
          capability: 'lifecycle',
          kind: 'lifecycle-put',
          target: p.target.name,
          region: p.target.region,
          reason: `apply ${p.plan.applied.length} cost-guard lifecycle rule(s): ${changeWords(report)}`,
          ...(projection ? { monthlySavingsUsd: projection.monthlySavingsUsd } : {}),
          details: {
            diff: report.diffText,
            ...(deletes ? { firstRulesThatDeleteData: deletionWords(deletes) } : {}),
            conflicts: p.plan.conflicts.map((c) => c.message),
            ...(projection ? { savingsMethod: projection.method, highUsd: projection.highUsd } : {}),
          },
        },
        () => s3.writeLifecycle(p.target.name, p.target.region, p.plan.after),
      );
      const decision: BucketDecision =
        record.status === 'done' ? 'changed' : record.status === 'dry-run' ? 'would-change' : 'failed';
      reports.set(p.target.name, {
        ...report,
        decision,
        status: record.status,
        ...(record.errorCode ? { errorCode: record.errorCode } : {}),
      });
    },
  );

  const buckets = [...reports.values()].sort((a, b) => a.bucket.localeCompare(b.bucket));
  const effective = buckets.filter((b) => b.decision === 'changed' || b.decision === 'would-change');
  const projectedMonthlySavingsUsd = effective.reduce((s, b) => s + (b.projection?.monthlySavingsUsd ?? 0), 0);
  const projectedMonthlySavingsHighUsd = effective.reduce((s, b) => s + (b.projection?.highUsd ?? 0), 0);
  const conflicts = buckets.reduce((n, b) => n + b.conflicts.length, 0);
  for (const b of buckets) {
    if (['missing', 'unreadable', 'too-many-rules', 'invalid', 'legacy-format', 'held'].includes(b.decision)) {
      notes.push(`${b.bucket}: ${b.decision}${b.errors.length > 0 ? ` (${b.errors.join('; ')})` : ''}`);
    }
    if (b.decision === 'protected')
      notes.push(`${b.bucket}: protected, never written (${protectionWords(b.protection ?? [])})`);
  }
  for (const n of deletionNotices(buckets)) {
    notes.push(
      `rules that delete data${ctx.dryRun ? ' (would be written)' : ''}, first time on the bucket: ${deletionWords(n)}`,
    );
  }

  ctx.metrics.add(METRIC.BucketsScanned, buckets.length, 'Count');
  ctx.metrics.add(METRIC.BucketsChanged, effective.length, 'Count');
  ctx.metrics.add(METRIC.LifecycleConflicts, conflicts, 'Count');
  ctx.metrics.add(METRIC.ProjectedMonthlySavingsUsd, round2(projectedMonthlySavingsUsd), 'None');
  emitStorageMetrics(
    ctx,
    sumByTeam(
      plans.filter((p) => sizes.has(p.target.name)),
      (p) => teamValue(tagValue(p.target.tags ?? tagsRead.get(p.target.name) ?? {}, ctx.config.tags.team)),
      (p) => storageBytes(sizes.get(p.target.name)!),
      addStorageBytes,
      ZERO_STORAGE_BYTES,
    ),
  );

  const partial: LifecycleRunSummary = {
    ...base,
    actions: ctx.actions.records().filter((r) => r.capability === 'lifecycle'),
    monthlySavingsUsd: ctx.actions.totals((r) => r.capability === 'lifecycle').monthlySavingsUsd,
    apiCalls: {},
    notes,
    buckets,
    bucketsScanned: buckets.length,
    bucketsChanged: effective.length,
    conflicts,
    projectedMonthlySavingsUsd,
    projectedMonthlySavingsHighUsd,
    tagReadFailures,
    slackMessages: 0,
  };
  const messages = lifecycleDigest(partial);
  let slackMessages = announcementMessages;
  try {
    slackMessages += (await postAll(ctx.notifier, messages)).length;
  } catch (error) {
    notes.push(`the Slack digest was not delivered (${errorCode(error)}): ${errorMessage(error)}`);
    incomplete.push(`the Slack digest was not delivered (${errorCode(error)}: ${errorMessage(error)})`);
    ctx.log.error('Slack digest not delivered', { code: errorCode(error) });
  }
  const summary = { ...partial, slackMessages, apiCalls: ctx.clients.counter.byOperation() };
  // Bucket writes are idempotent, so failing the run (alarm, retry) repeats nothing that took effect.
  if (incomplete.length > 0) {
    throw new RunIncompleteError(`storage lifecycle run incomplete: ${incomplete.join('; ')}`, summary);
  }
  return summary;
}

/**
 * Storage efficiency (FinOps): bytes of the managed buckets in infrequent-access and archive classes, and in all,
 * fleet-wide and per team tag. Published daily; the monthly summary reads the month's daily figures.
 */
function emitStorageMetrics(ctx: RunContext, figures: ByTeam<StorageBytes>): void {
  const emit = (b: StorageBytes, dimensions?: Record<string, string>) => {
    if (b.totalBytes <= 0) return;
    ctx.metrics.add(METRIC.StorageInfrequentBytes, b.infrequentBytes, 'Bytes', dimensions);
    ctx.metrics.add(METRIC.StorageTotalBytes, b.totalBytes, 'Bytes', dimensions);
    ctx.metrics.add(METRIC.StorageEfficiencyPercent, storageEfficiencyPercent(b) ?? 0, 'Percent', dimensions);
  };
  emit(figures.total);
  for (const [team, b] of Object.entries(figures.teams)) emit(b, { Team: team });
}

export const lifecycleCapability: CapabilityModule<LifecycleRunSummary> = {
  name: 'lifecycle',
  description: 'Apply S3 lifecycle tiering to ML artifact buckets, merged with their own rules',
  run: (ctx) => run(ctx),
};
