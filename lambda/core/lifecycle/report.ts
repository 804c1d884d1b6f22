/**
 * What one storage-lifecycle run reports, and its Slack digest. Pure: built from the run's plain-data summary.
 */
import { formatUsd } from '../money';
import type { ActionStatus, RunSummary } from '../run';
import { round2 } from '../savings/calculators';
import {
  type Block,
  context,
  divider,
  escapeMrkdwn,
  escapeName,
  header,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitIntoMessages,
} from '../slack-blocks';
import {
  isManagedRule,
  type LifecycleConflict,
  type LifecycleSavingsProjection,
  type RuleDiff,
  rulePrefix,
  type S3LifecycleRule,
  type VersioningState,
} from './merge';
import { type ProtectionReason, protectionWords } from './protection';

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
  | 'unreadable'
  /** Never written: excluded, CDK bootstrap, the guard's own stack, a log bucket, or unknown (see `protection`). */
  | 'protected'
  /** Not written this run: its first rules that delete data could not be announced in Slack. */
  | 'held';

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
  /** Why the bucket is never written (decision 'protected'); the same reasons are in `notices`. */
  readonly protection?: readonly ProtectionReason[];
  /**
   * For a bucket that changes: false when CloudWatch reported no size for it (no `BucketSizeBytes` datapoint, or the
   * sizes of its region could not be read), so its savings are unknown ("no size data"), never $0.00.
   */
  readonly sizeKnown?: boolean;
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

export function changeWords(r: BucketReport): string {
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

/** The one label for a changing bucket whose size CloudWatch did not report: its savings are unknown. */
export const NO_SIZE_DATA = 'no size data';

/** A bucket's savings in words: the projection, "no size data", or why none is projected. */
export function savingsWords(p: LifecycleSavingsProjection | undefined, sizeKnown?: boolean): string {
  if (sizeKnown === false) return `${NO_SIZE_DATA} (no BucketSizeBytes metric yet): savings unknown`;
  if (!p) return 'no savings projected (no rule that moves objects to a cheaper class)';
  const range = p.highUsd > p.lowUsd ? ` (up to ${formatUsd(p.highUsd)})` : '';
  return `~${formatUsd(p.monthlySavingsUsd)}/month${range} on ${round2(p.standardGb)} GB in Standard`;
}

/** The buckets that change (or would) and count in a headline: written, or in dry-run to be written. */
export function changingBuckets(buckets: readonly BucketReport[]): BucketReport[] {
  return buckets.filter((b) => b.decision === 'changed' || b.decision === 'would-change');
}

/** A headline's projected figures: sums of the per-bucket figures as shown (to the cent), and buckets without size. */
export interface ProjectedTotals {
  readonly monthlyUsd: number;
  readonly highUsd: number;
  readonly noSizeData: number;
}

export function projectedTotals(buckets: readonly BucketReport[]): ProjectedTotals {
  const changing = changingBuckets(buckets);
  const cents = (f: (p: LifecycleSavingsProjection) => number) =>
    changing.reduce((n, b) => n + (b.projection ? Math.round(f(b.projection) * 100) : 0), 0) / 100;
  return {
    monthlyUsd: cents((p) => p.monthlySavingsUsd),
    highUsd: cents((p) => (p.highUsd > p.lowUsd ? p.highUsd : p.monthlySavingsUsd)),
    noSizeData: changing.filter((b) => b.sizeKnown === false).length,
  };
}

/** `~$12.50/month (up to $20.00) projected; 1 bucket: no size data` (`when` goes after "projected"). */
export function projectedTotalsText(t: ProjectedTotals, when = ''): string {
  const range = t.highUsd > t.monthlyUsd ? ` (up to ${formatUsd(t.highUsd)})` : '';
  const unknown = t.noSizeData > 0 ? `; ${t.noSizeData} bucket${t.noSizeData === 1 ? '' : 's'}: ${NO_SIZE_DATA}` : '';
  return `~${formatUsd(t.monthlyUsd)}/month${range} projected${when}${unknown}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Rules that delete data
// ---------------------------------------------------------------------------------------------------------------

/** A managed rule that deletes objects or versions (expiration, noncurrent-version expiration). */
export interface DeletingRule {
  readonly ruleId: string;
  /** The key prefix it applies to; '' is the whole bucket. */
  readonly prefix: string;
  /** What it deletes, e.g. `objects expire after 30 days`. */
  readonly deletes: readonly string[];
}

/**
 * The enabled managed rules (ID `cost-guard-…`) that delete data: `Expiration` by days or date, and
 * `NoncurrentVersionExpiration`. Removing expired delete markers and aborting incomplete uploads delete no data.
 */
export function deletingRules(rules: readonly S3LifecycleRule[]): DeletingRule[] {
  const out: DeletingRule[] = [];
  for (const rule of rules) {
    if (!isManagedRule(rule) || rule.Status !== 'Enabled') continue;
    const deletes: string[] = [];
    if (rule.Expiration?.Days !== undefined) deletes.push(`objects expire after ${rule.Expiration.Days} days`);
    if (rule.Expiration?.Date !== undefined) deletes.push(`objects expire on ${dateText(rule.Expiration.Date)}`);
    const noncurrent = rule.NoncurrentVersionExpiration;
    if (noncurrent?.NoncurrentDays !== undefined) {
      const kept = noncurrent.NewerNoncurrentVersions;
      deletes.push(
        `noncurrent versions expire after ${noncurrent.NoncurrentDays} days` +
          (kept !== undefined ? ` (the ${kept} newest kept)` : ''),
      );
    }
    if (deletes.length > 0) out.push({ ruleId: rule.ID as string, prefix: rulePrefix(rule), deletes });
  }
  return out;
}

const dateText = (d: unknown): string => (d instanceof Date ? d.toISOString().slice(0, 10) : String(d));

/**
 * The rules that delete data which a write from `before` to `after` puts on a bucket for the first time: those of
 * `after` when `before` held none of ours (compared by the managed rule-ID prefix), else none. A bucket that already
 * carried one of our deleting rules was announced before.
 */
export function firstDeletingRules(
  before: readonly S3LifecycleRule[],
  after: readonly S3LifecycleRule[],
): DeletingRule[] {
  return deletingRules(before).length > 0 ? [] : deletingRules(after);
}

/** A bucket whose write puts rules that delete data on it for the first time. */
export interface DeletionNotice {
  readonly bucket: string;
  readonly region?: string;
  readonly rules: readonly DeletingRule[];
}

/** The buckets of a run whose write (done or, in dry-run, planned) is their first with rules that delete data. */
export function deletionNotices(buckets: readonly BucketReport[]): DeletionNotice[] {
  return buckets
    .filter((b) => b.decision === 'changed' || b.decision === 'would-change')
    .map((b) => ({
      bucket: b.bucket,
      ...(b.region ? { region: b.region } : {}),
      rules: firstDeletingRules(b.rulesBefore, b.rulesAfter),
    }))
    .filter((n) => n.rules.length > 0);
}

/** An AWS value (bucket name, key prefix, error code) made safe for mrkdwn, on one line. */
function slackValue(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  return escapeMrkdwn(text.replace(/[\u0000-\u001f\u007f]+/g, ' '));
}

/** Plain words for one bucket, e.g. `bucket X: prefix tmp/ objects expire after 30 days` (unescaped: CLI, notes). */
export function deletionWords(n: DeletionNotice, render: (text: string) => string = (t) => t): string {
  const parts = n.rules.map(
    (r) => `${r.prefix === '' ? 'the whole bucket' : `prefix ${render(r.prefix)}`} ${r.deletes.join(', ')}`,
  );
  return `bucket ${render(n.bucket)}: ${parts.join('; ')}`;
}

/**
 * The sections that name every bucket, prefix and number of days of rules that delete data for the first time, each
 * within Slack's section limit (a long list is split, never cut). Empty when there is nothing to announce.
 */
export function deletionBlocks(notices: readonly DeletionNotice[], dryRun: boolean): Block[] {
  if (notices.length === 0) return [];
  const title = dryRun
    ? ':warning: *Rules that would delete data* (first time on these buckets; dry-run, nothing written)'
    : ':warning: *Rules that delete data* (first time on these buckets)';
  return listSections(
    title,
    notices.map((n) => `• ${deletionWords(n, slackValue)}`),
  );
}

/** A title and lines as sections of at most Slack's section length: a long list is split between lines, not cut. */
function listSections(title: string, lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let text = title;
  for (const line of lines) {
    if (text.length + 1 + line.length > MAX_SECTION_TEXT) {
      blocks.push(section(text));
      text = line;
    } else text = `${text}\n${line}`;
  }
  blocks.push(section(text));
  return blocks;
}

/**
 * The message posted before the first write of rules that delete data to some buckets: the write happens only once
 * Slack accepted it, so a person could have read it before any object is scheduled for deletion.
 */
export function deletionAnnouncement(notices: readonly DeletionNotice[]): SlackMessage[] {
  if (notices.length === 0) return [];
  const n = notices.length;
  const title = `S3 lifecycle: rules that delete data go on ${n} bucket${n === 1 ? '' : 's'}`;
  return splitIntoMessages(
    title,
    [header(title)],
    [
      ...deletionBlocks(notices, false),
      context(
        'ml-cost-guard writes these rules now. To keep a bucket out, remove its selection tag or list it in ' +
          'storage.excludeBuckets; to keep a prefix, remove the rule or its expiration from storage.rules.',
      ),
    ],
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Digest
// ---------------------------------------------------------------------------------------------------------------

/** Protected buckets a person should look at: protected for a reason other than storage.excludeBuckets alone. */
function protectedForAttention(buckets: readonly BucketReport[]): BucketReport[] {
  return buckets.filter((b) => b.decision === 'protected' && (b.protection ?? []).some((r) => r.kind !== 'excluded'));
}

/**
 * The Slack digest of a run: rules that delete data for the first time at the top, then each bucket changed (or that
 * would, or failed to), the protected and the held buckets. Empty when no bucket changed, failed, was held, or was
 * selected but protected for a reason other than storage.excludeBuckets.
 */
export function lifecycleDigest(summary: LifecycleRunSummary): SlackMessage[] {
  const changed = summary.buckets.filter((b) => ['changed', 'would-change', 'failed'].includes(b.decision));
  const protectedBuckets = summary.buckets.filter((b) => b.decision === 'protected');
  const held = summary.buckets.filter((b) => b.decision === 'held');
  if (changed.length === 0 && held.length === 0 && protectedForAttention(summary.buckets).length === 0) return [];
  const ok = changed.filter((b) => b.decision !== 'failed').length;
  const verb = summary.dryRun ? 'would change (dry-run)' : 'changed';
  const title = `S3 lifecycle: ${ok} bucket${ok === 1 ? '' : 's'} ${verb}`;
  const head: Block[] = [
    header(title),
    context(
      `Savings ${projectedTotalsText(projectedTotals(summary.buckets))}` +
        ` · ${summary.bucketsScanned} bucket(s) scanned · ${summary.conflicts} conflict(s)`,
    ),
  ];
  const body: Block[] = [...deletionBlocks(deletionNotices(summary.buckets), summary.dryRun)];
  for (const b of changed) {
    const name = `*${escapeName(b.bucket)}* (${escapeName(b.region ?? '?')})`;
    if (b.decision === 'failed') {
      body.push(section(`:x: ${name}: write failed (${escapeName(b.errorCode ?? 'Unknown')})`));
      continue;
    }
    const lines = [`${name}: ${escapeMrkdwn(changeWords(b))}`, savingsWords(b.projection, b.sizeKnown)];
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
            .flatMap((b) => b.conflicts.map((c) => `• ${escapeName(b.bucket)}: ${escapeMrkdwn(c.message)}`))
            .join('\n'),
      ),
    );
  }
  if (protectedBuckets.length > 0) {
    body.push(
      ...listSections(
        ':lock: *Protected, never written*',
        protectedBuckets.map((b) => `• ${slackValue(b.bucket)}: ${slackValue(protectionWords(b.protection ?? []))}`),
      ),
    );
  }
  const problems = summary.buckets.filter((b) =>
    ['missing', 'unreadable', 'too-many-rules', 'invalid', 'legacy-format', 'held'].includes(b.decision),
  );
  if (problems.length > 0) {
    body.push(
      context(
        `Not changed: ${problems.map((b) => `${escapeName(b.bucket)} (${b.decision}${b.errorCode ? `: ${escapeName(b.errorCode)}` : ''})`).join(', ')}`,
      ),
    );
  }
  return splitIntoMessages(title, head, body);
}
