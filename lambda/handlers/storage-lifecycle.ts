/**
 * Storage lifecycle: applies the configured S3 lifecycle rules to the ML artifact buckets, merged with each bucket's
 * own rules, and reports what it changed and what it projects to save.
 *
 * Each run: select the buckets (tag `storage.bucketTag`, plus the names in `storage.buckets`), read each bucket's
 * lifecycle configuration (and versioning), plan the merge (lambda/core/lifecycle/merge.ts), price the change with
 * the savings model from CloudWatch bucket sizes, write through `ctx.actions` only where the merged configuration
 * differs, then post one Slack digest (none when nothing changed) and emit metrics. Buckets are processed 8 at a
 * time; a bucket that fails is reported and never stops the others.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { type ListedBucket, S3LifecycleAdapter, type S3Outcome } from '../adapters/s3-lifecycle';
import { bucketSizesByClass } from '../adapters/s3-metrics';
import { postAll } from '../adapters/slack';
import type { StorageConfig } from '../core/config';
import {
  type BucketPlan,
  formatRuleDiff,
  type LifecycleConflict,
  type LifecycleSavingsProjection,
  planBucketLifecycle,
  projectLifecycleSavings,
  type RuleDiff,
  type S3LifecycleRule,
  selectsByTag,
  type VersioningState,
} from '../core/lifecycle/merge';
import type { StorageClass } from '../core/lifecycle/rules';
import { round2 } from '../core/savings/calculators';
import {
  type Block,
  context,
  divider,
  escapeMrkdwn,
  header,
  type SlackMessage,
  section,
  splitIntoMessages,
} from '../core/slack-blocks';
import type { ActionStatus } from '../shared/actions';
import type { CapabilityModule } from '../shared/capability';
import { type RunContext, RunIncompleteError, type RunSummary } from '../shared/context';
import { errorCode, errorMessage } from '../shared/errors';
import { lambdaHandler } from '../shared/lambda-runtime';

/** Buckets read or written at the same time. */
export const BUCKET_CONCURRENCY = 8;

export type SelectedBy = 'tag' | 'config';

export type BucketDecision =
  /** The merged configuration was written. */
  | 'changed'
  /** Dry-run: it would be written. */
  | 'would-change'
  /** The write failed (see errorCode). */
  | 'failed'
  | 'unchanged'
  | 'too-many-rules'
  | 'invalid'
  | 'legacy-format'
  /** A listed bucket that does not exist. */
  | 'missing'
  /** A bucket whose location or lifecycle configuration could not be read. */
  | 'unreadable';

export interface BucketReport {
  readonly bucket: string;
  readonly region?: string;
  readonly selectedBy: readonly SelectedBy[];
  readonly decision: BucketDecision;
  readonly status?: ActionStatus;
  readonly errorCode?: string;
  readonly rulesBefore: readonly S3LifecycleRule[];
  readonly rulesAfter: readonly S3LifecycleRule[];
  readonly transitionDefaultMinimumObjectSize?: string;
  readonly diff: readonly RuleDiff[];
  /** `+ added`, `~ updated`, `- removed` lines (the dry-run diff). */
  readonly diffText: readonly string[];
  readonly conflicts: readonly LifecycleConflict[];
  readonly errors: readonly string[];
  readonly notices: readonly string[];
  readonly versioning?: VersioningState;
  /** Projected monthly savings of the change (only for buckets that change). */
  readonly projection?: LifecycleSavingsProjection;
}

export interface LifecycleRunSummary extends RunSummary {
  readonly buckets: readonly BucketReport[];
  readonly bucketsScanned: number;
  readonly bucketsChanged: number;
  readonly conflicts: number;
  /** Sum of the reported (low-end) projections of the buckets changed or that would change. */
  readonly projectedMonthlySavingsUsd: number;
  /** Sum of the high ends. */
  readonly projectedMonthlySavingsHighUsd: number;
  /** Buckets whose tags could not be read during tag selection (they are not managed). */
  readonly tagReadFailures: readonly { readonly bucket: string; readonly code: string }[];
  readonly slackMessages: number;
}

interface Target {
  readonly name: string;
  region?: string;
  readonly selectedBy: SelectedBy[];
}

interface Planned {
  readonly target: Target & { region: string };
  readonly plan: BucketPlan<LifecycleRule>;
  readonly versioning?: VersioningState;
  readonly versioningError?: string;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the input order in the result. */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
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
      if (tags.value[key] === value) targets.set(b.name, { name: b.name, region: tags.region, selectedBy: ['tag'] });
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

/** Bytes by storage class of the buckets that change, read per region in batches. Failures become notes. */
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

const usd = (n: number): string =>
  `$${round2(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

function changeWords(r: BucketReport): string {
  const ids = (change: RuleDiff['change']) => r.diff.filter((d) => d.change === change).map((d) => d.ruleId);
  const parts: string[] = [];
  for (const [word, list] of [
    ['added', ids('added')],
    ['updated', ids('updated')],
    ['removed', ids('removed')],
  ] as const) {
    if (list.length > 0) parts.push(`${word} ${list.join(', ')}`);
  }
  return parts.join('; ') || 'configuration rewritten';
}

function savingsWords(p: LifecycleSavingsProjection | undefined): string {
  if (!p) return 'no savings projected (no tiering rule applied or no size data)';
  const range = p.highUsd > p.lowUsd ? ` (up to ${usd(p.highUsd)})` : '';
  return `~${usd(p.monthlySavingsUsd)}/month${range} on ${round2(p.standardGb)} GB in Standard`;
}

/** The Slack digest of a run; empty when no bucket changed (or would, or failed to). */
export function lifecycleDigest(summary: LifecycleRunSummary): SlackMessage[] {
  const changed = summary.buckets.filter((b) => ['changed', 'would-change', 'failed'].includes(b.decision));
  if (changed.length === 0) return [];
  const ok = changed.filter((b) => b.decision !== 'failed').length;
  const verb = summary.dryRun ? 'would change (dry-run)' : 'changed';
  const title = `S3 lifecycle: ${ok} bucket${ok === 1 ? '' : 's'} ${verb}`;
  const head: Block[] = [
    header(title),
    context(
      `Projected savings ~${usd(summary.projectedMonthlySavingsUsd)}/month` +
        (summary.projectedMonthlySavingsHighUsd > summary.projectedMonthlySavingsUsd
          ? ` (up to ${usd(summary.projectedMonthlySavingsHighUsd)})`
          : '') +
        ` · ${summary.bucketsScanned} bucket(s) scanned · ${summary.conflicts} conflict(s)`,
    ),
  ];
  const body: Block[] = [];
  for (const b of changed) {
    const name = `*${escapeMrkdwn(b.bucket)}* (${b.region ?? '?'})`;
    if (b.decision === 'failed') {
      body.push(section(`:x: ${name}: write failed (${escapeMrkdwn(b.errorCode ?? 'Unknown')})`));
      continue;
    }
    const lines = [`${name}: ${escapeMrkdwn(changeWords(b))}`, savingsWords(b.projection)];
    for (const c of b.conflicts) lines.push(`:warning: ${escapeMrkdwn(c.message)}`);
    for (const n of b.notices) lines.push(`_${escapeMrkdwn(n)}_`);
    body.push(section(lines.join('\n')));
  }
  const otherConflicts = summary.buckets.filter((b) => !changed.includes(b) && b.conflicts.length > 0);
  if (otherConflicts.length > 0) {
    body.push(divider());
    body.push(
      section(
        `*Conflicts on unchanged buckets*\n` +
          otherConflicts
            .flatMap((b) => b.conflicts.map((c) => `• ${escapeMrkdwn(b.bucket)}: ${escapeMrkdwn(c.message)}`))
            .join('\n'),
      ),
    );
  }
  const problems = summary.buckets.filter((b) =>
    ['missing', 'unreadable', 'too-many-rules', 'invalid', 'legacy-format'].includes(b.decision),
  );
  if (problems.length > 0) {
    body.push(
      context(
        `Not changed: ${problems.map((b) => `${escapeMrkdwn(b.bucket)} (${b.decision}${b.errorCode ? `: ${b.errorCode}` : ''})`).join(', ')}`,
      ),
    );
  }
  return splitIntoMessages(title, head, body);
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

  const { targets, unreadable, tagReadFailures } = await selectBuckets(ctx, s3, notes, incomplete);
  const planned = await mapWithConcurrency(targets, BUCKET_CONCURRENCY, (t) =>
    planBucket(s3, storage, t as Target & { region: string }),
  );
  const plans = planned.filter((p): p is Planned => 'plan' in p);
  const changing = plans.filter((p) => p.plan.decision === 'change');
  const sizes = changing.length > 0 ? await sizesOf(ctx, changing, notes) : new Map();

  const reports = new Map<string, BucketReport>();
  for (const r of [...unreadable, ...planned.filter((p): p is BucketReport => !('plan' in p))])
    reports.set(r.bucket, r);
  for (const p of plans) {
    if (p.plan.decision !== 'change') reports.set(p.target.name, reportOf(p, p.plan.decision));
  }
  await mapWithConcurrency(changing, BUCKET_CONCURRENCY, async (p) => {
    const projection = projectLifecycleSavings(sizes.get(p.target.name), p.plan.applied, ctx.pricing);
    const report = reportOf(p, 'changed', projection ? { projection } : {});
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
  });

  const buckets = [...reports.values()].sort((a, b) => a.bucket.localeCompare(b.bucket));
  const effective = buckets.filter((b) => b.decision === 'changed' || b.decision === 'would-change');
  const projectedMonthlySavingsUsd = effective.reduce((s, b) => s + (b.projection?.monthlySavingsUsd ?? 0), 0);
  const projectedMonthlySavingsHighUsd = effective.reduce((s, b) => s + (b.projection?.highUsd ?? 0), 0);
  const conflicts = buckets.reduce((n, b) => n + b.conflicts.length, 0);
  for (const b of buckets) {
    if (['missing', 'unreadable', 'too-many-rules', 'invalid', 'legacy-format'].includes(b.decision)) {
      notes.push(`${b.bucket}: ${b.decision}${b.errors.length > 0 ? ` (${b.errors.join('; ')})` : ''}`);
    }
  }

  ctx.metrics.add('BucketsScanned', buckets.length, 'Count');
  ctx.metrics.add('BucketsChanged', effective.length, 'Count');
  ctx.metrics.add('LifecycleConflicts', conflicts, 'Count');
  ctx.metrics.add('ProjectedMonthlySavingsUsd', round2(projectedMonthlySavingsUsd), 'None');

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
  let slackMessages = 0;
  try {
    slackMessages = (await postAll(ctx.notifier, messages)).length;
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

function formatText(s: LifecycleRunSummary): string {
  const lines = [
    `S3 lifecycle${s.dryRun ? ' (dry-run)' : ''}: ${s.bucketsScanned} bucket(s) scanned, ${s.bucketsChanged} ` +
      `${s.dryRun ? 'would change' : 'changed'}, ${s.conflicts} conflict(s)`,
    `Projected savings: ${usd(s.projectedMonthlySavingsUsd)}/month` +
      (s.projectedMonthlySavingsHighUsd > s.projectedMonthlySavingsUsd
        ? ` (up to ${usd(s.projectedMonthlySavingsHighUsd)})`
        : ''),
  ];
  for (const b of s.buckets) {
    lines.push('', `${b.bucket} (${b.region ?? '?'}): ${b.decision}${b.errorCode ? ` [${b.errorCode}]` : ''}`);
    for (const d of b.diffText) lines.push(`  ${d}`);
    if (b.projection) lines.push(`  savings: ${savingsWords(b.projection)}`);
    for (const c of b.conflicts) lines.push(`  conflict: ${c.message}`);
    for (const e of b.errors) lines.push(`  error: ${e}`);
    for (const n of b.notices) lines.push(`  note: ${n}`);
  }
  if (s.notes.length > 0) lines.push('', 'Notes:', ...s.notes.map((n) => `  - ${n}`));
  const calls = Object.entries(s.apiCalls);
  if (calls.length > 0) lines.push('', `API calls: ${calls.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  return lines.join('\n');
}

export const lifecycleCapability: CapabilityModule<LifecycleRunSummary> = {
  name: 'lifecycle',
  description: 'Apply S3 lifecycle tiering to ML artifact buckets, merged with their own rules',
  run: (ctx) => run(ctx),
  formatText,
};

export const handler = lambdaHandler('lifecycle', (ctx, event: unknown) => lifecycleCapability.run(ctx, event));
