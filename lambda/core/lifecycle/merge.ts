/**
 * Merging ml-cost-guard's lifecycle rules into a bucket's own lifecycle configuration, and deciding whether the
 * bucket needs a write at all.
 *
 * Pure: no SDK imports, no clock. The S3 shapes below mirror `@aws-sdk/client-s3`'s `LifecycleRule` structurally so
 * the adapter can hand SDK objects in and out unchanged.
 *
 * What the merge guarantees:
 * - Rules whose ID starts with `cost-guard-` are ours: they are dropped and replaced by the configured ones.
 * - Every other rule is kept byte for byte: the very same object, in the same order, ahead of ours.
 * - `TransitionDefaultMinimumObjectSize` is kept as the bucket had it. When the bucket had none, none is sent, and
 *   S3 then applies its default `all_storage_classes_128K` (objects under 128 KB are not transitioned): the plan
 *   says so in a notice.
 * - A configured rule is not added when a user rule already covers its prefix ({@link userRuleCovers}); the conflict
 *   is reported.
 * - Nothing S3 would reject is written: the managed rules pass {@link checkLifecycleRules} and the total stays within
 *   1,000 rules, else the bucket is reported and left alone.
 * - A write is planned only when the merged configuration differs from the current one ({@link lifecycleEquals}), so
 *   a second run over the same buckets writes nothing.
 */
import { projectBucketSavings } from '../savings/calculators';
import type { Pricing } from '../savings/pricing';
import {
  checkLifecycleRules,
  describeRuleProblem,
  type LifecycleRuleSpec,
  MANAGED_RULE_ID_PREFIX,
  MAX_LIFECYCLE_RULES,
  managedRuleId,
  type StorageClass,
} from './rules';

// ---------------------------------------------------------------------------------------------------------------
// S3 shapes (structurally compatible with @aws-sdk/client-s3)
// ---------------------------------------------------------------------------------------------------------------

export interface S3Tag {
  readonly Key?: string;
  readonly Value?: string;
}

export interface S3LifecycleFilter {
  readonly Prefix?: string;
  readonly Tag?: S3Tag;
  readonly ObjectSizeGreaterThan?: number;
  readonly ObjectSizeLessThan?: number;
  readonly And?: {
    readonly Prefix?: string;
    readonly Tags?: readonly S3Tag[];
    readonly ObjectSizeGreaterThan?: number;
    readonly ObjectSizeLessThan?: number;
  };
}

export interface S3LifecycleRule {
  readonly ID?: string;
  /** Legacy (V1) top-level prefix; current rules use `Filter`. */
  readonly Prefix?: string;
  readonly Filter?: S3LifecycleFilter;
  readonly Status?: string;
  readonly Transitions?: readonly { readonly Days?: number; readonly Date?: unknown; readonly StorageClass?: string }[];
  readonly Expiration?: {
    readonly Days?: number;
    readonly Date?: unknown;
    readonly ExpiredObjectDeleteMarker?: boolean;
  };
  readonly NoncurrentVersionTransitions?: readonly unknown[];
  readonly NoncurrentVersionExpiration?: {
    readonly NoncurrentDays?: number;
    readonly NewerNoncurrentVersions?: number;
  };
  readonly AbortIncompleteMultipartUpload?: { readonly DaysAfterInitiation?: number };
}

/** A rule exactly as ml-cost-guard writes it. */
export interface ManagedS3Rule extends S3LifecycleRule {
  readonly ID: string;
  readonly Filter: { readonly Prefix: string };
  readonly Status: 'Enabled';
}

/** A bucket's lifecycle configuration: its rules and its minimum-object-size behaviour (undefined = not set). */
export interface LifecycleState<R extends S3LifecycleRule = S3LifecycleRule> {
  readonly rules: readonly R[];
  readonly transitionDefaultMinimumObjectSize?: string;
}

/** Bucket versioning as S3 reports it; 'Unversioned' when versioning was never enabled. */
export type VersioningState = 'Enabled' | 'Suspended' | 'Unversioned';

/** The value S3 applies when a configuration is written without `TransitionDefaultMinimumObjectSize`. */
export const S3_DEFAULT_MINIMUM_OBJECT_SIZE = 'all_storage_classes_128K';

/**
 * Whether buckets are selected by tag: `storage.selectByTag` (default true). Tag selection needs ListAllMyBuckets and
 * bucket actions on every bucket; with it off only `storage.buckets` are managed and IAM names them.
 */
export function selectsByTag(storage: object): boolean {
  return (storage as { selectByTag?: unknown }).selectByTag !== false;
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion
// ---------------------------------------------------------------------------------------------------------------

/** The S3 rule ml-cost-guard writes for a configured rule. Keys are always in the same order. */
export function toS3Rule(spec: LifecycleRuleSpec): ManagedS3Rule {
  return {
    ID: managedRuleId(spec.id),
    Filter: { Prefix: spec.prefix },
    Status: 'Enabled',
    ...(spec.transitions.length > 0
      ? { Transitions: spec.transitions.map((t) => ({ Days: t.days, StorageClass: t.storageClass })) }
      : {}),
    ...(spec.expirationDays !== undefined ? { Expiration: { Days: spec.expirationDays } } : {}),
    ...(spec.noncurrentVersionExpirationDays !== undefined
      ? { NoncurrentVersionExpiration: { NoncurrentDays: spec.noncurrentVersionExpirationDays } }
      : {}),
    ...(spec.abortIncompleteMultipartUploadDays !== undefined
      ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: spec.abortIncompleteMultipartUploadDays } }
      : {}),
  };
}

/** True for rules ml-cost-guard owns (ID starts with `cost-guard-`). */
export function isManagedRule(rule: S3LifecycleRule): boolean {
  return typeof rule.ID === 'string' && rule.ID.startsWith(MANAGED_RULE_ID_PREFIX);
}

/**
 * The key prefix a rule applies to: `Filter.Prefix`, else `Filter.And.Prefix`, else the legacy top-level `Prefix`,
 * else '' (the whole bucket: no filter, an empty filter, or a filter on tags or object size only).
 */
export function rulePrefix(rule: S3LifecycleRule): string {
  return rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix ?? '';
}

/** Whether one of two key prefixes contains the other (so some keys match both); '' contains every prefix. */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * When a user rule "covers" a managed rule's prefix, so that ml-cost-guard leaves that prefix to the bucket's owners:
 *
 * 1. the user rule is `Enabled` (a disabled rule acts on nothing), and
 * 2. its prefix ({@link rulePrefix}) and ours overlap: the same prefix, the user's prefix starts ours
 *    (`data/` covers `data/experiments/`), or ours starts the user's (`experiments/` vs `experiments/keep/`), and
 * 3. either the user rule has a non-empty prefix (any action counts: the team manages that part of the bucket), or
 *    it is a whole-bucket rule (prefix '') with at least one current-version transition (it tiers every object,
 *    ours included). A whole-bucket rule with only housekeeping actions (abort incomplete uploads, noncurrent
 *    versions, delete markers, expiration) does not block our tiering.
 *
 * Tag and object-size conditions in the user's filter are ignored: a rule limited to some tags under our prefix still
 * counts (conservative: when in doubt, leave the team's prefix alone).
 */
export function userRuleCovers(user: S3LifecycleRule, managedPrefix: string): boolean {
  if (user.Status !== 'Enabled') return false;
  const prefix = rulePrefix(user);
  if (!prefixesOverlap(prefix, managedPrefix)) return false;
  if (prefix !== '') return true;
  return (user.Transitions?.length ?? 0) > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Stable equality
// ---------------------------------------------------------------------------------------------------------------

/** Plain data for comparison: sorted keys, no undefined/null, no empty arrays, dates as ISO strings. */
function normalize(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
      out[key] = normalize(v);
    }
    return out;
  }
  return value;
}

/**
 * A canonical text of one rule: equal texts mean S3 treats the rules the same. `Filter: {Prefix: ''}` and an empty
 * filter both mean the whole bucket.
 */
export function canonicalRule(rule: S3LifecycleRule): string {
  const n = normalize(rule) as Record<string, unknown>;
  const filter = n.Filter as Record<string, unknown> | undefined;
  if (filter && filter.Prefix === '') {
    const { Prefix: _, ...rest } = filter;
    n.Filter = rest;
  }
  return JSON.stringify(n);
}

/**
 * Deep equality of two lifecycle configurations, independent of rule order (S3 gives rule order no meaning) and of
 * how the SDK spelled absent values. The minimum-object-size setting is part of the configuration.
 */
export function lifecycleEquals(a: LifecycleState, b: LifecycleState): boolean {
  if (a.rules.length !== b.rules.length) return false;
  if ((a.transitionDefaultMinimumObjectSize ?? '') !== (b.transitionDefaultMinimumObjectSize ?? '')) return false;
  const left = a.rules.map(canonicalRule).sort();
  const right = b.rules.map(canonicalRule).sort();
  return left.every((text, i) => text === right[i]);
}

// ---------------------------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------------------------

export interface LifecycleConflict {
  /** The managed rule ID that was not added (`cost-guard-…`). */
  readonly ruleId: string;
  readonly prefix: string;
  /** The user rule that covers it (its ID, or `(rule N)` when it has none). */
  readonly userRuleId: string;
  readonly userPrefix: string;
  readonly message: string;
}

export interface MergeResult<R extends S3LifecycleRule> {
  /** User rules (same objects, same order) followed by the managed rules that apply. */
  readonly rules: readonly (R | ManagedS3Rule)[];
  readonly transitionDefaultMinimumObjectSize?: string;
  /** The configured rules that were written (conflicts removed), in config order. */
  readonly applied: readonly LifecycleRuleSpec[];
  readonly conflicts: readonly LifecycleConflict[];
}

/**
 * Merges the configured rules into a bucket's current configuration (see the module comment for the guarantees).
 * User rules come first, in their order; managed rules follow in config order.
 */
export function mergeLifecycle<R extends S3LifecycleRule>(
  current: LifecycleState<R>,
  configured: readonly LifecycleRuleSpec[],
): MergeResult<R> {
  const userRules = current.rules.filter((r) => !isManagedRule(r));
  const conflicts: LifecycleConflict[] = [];
  const applied: LifecycleRuleSpec[] = [];
  for (const spec of configured) {
    const index = current.rules.findIndex((u) => !isManagedRule(u) && userRuleCovers(u, spec.prefix));
    const user = index >= 0 ? current.rules[index] : undefined;
    if (user) {
      const userRuleId = user.ID ?? `(rule ${index})`;
      const userPrefix = rulePrefix(user);
      const ruleId = managedRuleId(spec.id);
      conflicts.push({
        ruleId,
        prefix: spec.prefix,
        userRuleId,
        userPrefix,
        message:
          `'${ruleId}' (prefix '${spec.prefix}') not added: the bucket's own rule '${userRuleId}' ` +
          `(prefix '${userPrefix}'${userPrefix === '' ? ', whole bucket' : ''}) already covers it`,
      });
    } else {
      applied.push(spec);
    }
  }
  return {
    rules: [...userRules, ...applied.map(toS3Rule)],
    ...(current.transitionDefaultMinimumObjectSize !== undefined
      ? { transitionDefaultMinimumObjectSize: current.transitionDefaultMinimumObjectSize }
      : {}),
    applied,
    conflicts,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------------------------------

export type RuleChange = 'added' | 'updated' | 'removed' | 'unchanged';

export interface RuleDiff {
  readonly ruleId: string;
  readonly change: RuleChange;
  /** One-line summaries of the rule before and after (absent when it did not exist). */
  readonly before?: string;
  readonly after?: string;
}

const days = (n: number | undefined): string => (n === undefined ? '?' : `day ${n}`);

/** One line describing what a rule does, e.g. `experiments/: STANDARD_IA day 30 -> GLACIER_IR day 90, expire day 730`. */
export function describeS3Rule(rule: S3LifecycleRule): string {
  const parts: string[] = [];
  const transitions = rule.Transitions ?? [];
  if (transitions.length > 0) {
    parts.push(
      transitions.map((t) => `${t.StorageClass ?? '?'} ${t.Date ? String(t.Date) : days(t.Days)}`).join(' -> '),
    );
  }
  if (rule.Expiration?.Days !== undefined) parts.push(`expire ${days(rule.Expiration.Days)}`);
  if (rule.Expiration?.Date !== undefined) parts.push(`expire on ${String(rule.Expiration.Date)}`);
  if (rule.Expiration?.ExpiredObjectDeleteMarker) parts.push('remove expired delete markers');
  if (rule.NoncurrentVersionTransitions?.length) parts.push('noncurrent-version transitions');
  if (rule.NoncurrentVersionExpiration?.NoncurrentDays !== undefined) {
    parts.push(`noncurrent versions expire after ${rule.NoncurrentVersionExpiration.NoncurrentDays} days`);
  }
  if (rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation !== undefined) {
    parts.push(`abort incomplete uploads after ${rule.AbortIncompleteMultipartUpload.DaysAfterInitiation} days`);
  }
  const prefix = rulePrefix(rule);
  const status = rule.Status === 'Enabled' ? '' : ` [${rule.Status ?? 'no status'}]`;
  return `${prefix === '' ? '(whole bucket)' : prefix}: ${parts.join(', ') || 'no action'}${status}`;
}

/** The managed rules that change between two configurations. User rules never change, so they are not listed. */
export function diffManagedRules(before: readonly S3LifecycleRule[], after: readonly S3LifecycleRule[]): RuleDiff[] {
  const byId = (rules: readonly S3LifecycleRule[]) =>
    new Map(rules.filter(isManagedRule).map((r) => [r.ID as string, r] as const));
  const old = byId(before);
  const next = byId(after);
  const diffs: RuleDiff[] = [];
  for (const [ruleId, rule] of next) {
    const prev = old.get(ruleId);
    if (!prev) diffs.push({ ruleId, change: 'added', after: describeS3Rule(rule) });
    else
      diffs.push({
        ruleId,
        change: canonicalRule(prev) === canonicalRule(rule) ? 'unchanged' : 'updated',
        before: describeS3Rule(prev),
        after: describeS3Rule(rule),
      });
  }
  for (const [ruleId, rule] of old) {
    if (!next.has(ruleId)) diffs.push({ ruleId, change: 'removed', before: describeS3Rule(rule) });
  }
  return diffs;
}

/** Diff lines for dry-run output: `+ added`, `~ updated (before => after)`, `- removed`; unchanged rules omitted. */
export function formatRuleDiff(diff: readonly RuleDiff[]): string[] {
  return diff.flatMap((d) => {
    switch (d.change) {
      case 'added':
        return [`+ ${d.ruleId} ${d.after}`];
      case 'removed':
        return [`- ${d.ruleId} ${d.before}`];
      case 'updated':
        return [`~ ${d.ruleId} ${d.before}`, `  => ${d.after}`];
      default:
        return [];
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The plan for one bucket
// ---------------------------------------------------------------------------------------------------------------

export type BucketPlanDecision =
  /** The merged configuration differs: write it (or delete the configuration when no rule is left). */
  | 'change'
  /** The bucket already has exactly the merged configuration: no call. */
  | 'unchanged'
  /** More than 1,000 rules after the merge: S3 would reject it; nothing is written. */
  | 'too-many-rules'
  /** A managed rule fails S3's constraints; nothing is written. */
  | 'invalid'
  /** The bucket holds legacy (V1, top-level `Prefix`) rules that S3 does not accept beside `Filter` rules. */
  | 'legacy-format';

export interface BucketPlanInput<R extends S3LifecycleRule> {
  readonly current: LifecycleState<R>;
  readonly configured: readonly LifecycleRuleSpec[];
  /** The bucket's versioning; undefined when unknown (no notice about noncurrent-version rules then). */
  readonly versioning?: VersioningState;
}

export interface BucketPlan<R extends S3LifecycleRule> {
  readonly decision: BucketPlanDecision;
  readonly before: LifecycleState<R>;
  /** The merged configuration (what would be written). */
  readonly after: LifecycleState<R | ManagedS3Rule>;
  readonly applied: readonly LifecycleRuleSpec[];
  readonly conflicts: readonly LifecycleConflict[];
  readonly diff: readonly RuleDiff[];
  /** Why nothing is written (decision too-many-rules, invalid or legacy-format). */
  readonly errors: readonly string[];
  /** Things the owner should know: early-deletion charges, rules with no effect, the 128 KB default. */
  readonly notices: readonly string[];
}

/**
 * Plans one bucket: merge, validate, compare. Never plans a write S3 would reject, and plans none when nothing
 * changes.
 */
export function planBucketLifecycle<R extends S3LifecycleRule>(input: BucketPlanInput<R>): BucketPlan<R> {
  const merged = mergeLifecycle(input.current, input.configured);
  const after: LifecycleState<R | ManagedS3Rule> = {
    rules: merged.rules,
    ...(merged.transitionDefaultMinimumObjectSize !== undefined
      ? { transitionDefaultMinimumObjectSize: merged.transitionDefaultMinimumObjectSize }
      : {}),
  };
  const diff = diffManagedRules(input.current.rules, merged.rules);
  const errors: string[] = [];
  const notices: string[] = [];

  const check = checkLifecycleRules(merged.applied);
  for (const e of check.errors) errors.push(describeRuleProblem(merged.applied, e));
  for (const w of check.warnings) notices.push(describeRuleProblem(merged.applied, w));
  if (merged.rules.length > MAX_LIFECYCLE_RULES) {
    errors.push(
      `${merged.rules.length} rules after the merge (${merged.rules.length - merged.applied.length} of the bucket's ` +
        `own + ${merged.applied.length} managed) is more than the ${MAX_LIFECYCLE_RULES} S3 accepts`,
    );
  }
  const legacy = input.current.rules.filter(
    (r) => !isManagedRule(r) && r.Filter === undefined && r.Prefix !== undefined,
  );
  if (input.versioning === 'Unversioned') {
    for (const spec of merged.applied) {
      if (spec.noncurrentVersionExpirationDays !== undefined) {
        notices.push(
          `rule '${managedRuleId(spec.id)}': noncurrentVersionExpirationDays has no effect: versioning is not enabled on this bucket`,
        );
      }
    }
  }

  const equal = lifecycleEquals(input.current, after);
  let decision: BucketPlanDecision = equal ? 'unchanged' : 'change';
  if (!equal) {
    if (merged.rules.length > MAX_LIFECYCLE_RULES) decision = 'too-many-rules';
    else if (check.errors.length > 0) decision = 'invalid';
    else if (legacy.length > 0 && merged.applied.length > 0) {
      decision = 'legacy-format';
      errors.push(
        `the bucket's rule${legacy.length > 1 ? 's' : ''} ${legacy.map((r) => `'${r.ID ?? '(no ID)'}'`).join(', ')} ` +
          'use the legacy top-level Prefix; S3 does not accept them beside Filter rules. Move them to a Filter first',
      );
    } else if (after.transitionDefaultMinimumObjectSize === undefined && after.rules.length > 0) {
      notices.push(
        `no TransitionDefaultMinimumObjectSize on the bucket: S3 applies ${S3_DEFAULT_MINIMUM_OBJECT_SIZE} ` +
          '(objects under 128 KB are not transitioned)',
      );
    }
  }
  return {
    decision,
    before: input.current,
    after,
    applied: merged.applied,
    conflicts: merged.conflicts,
    diff,
    errors,
    notices,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Projected savings
// ---------------------------------------------------------------------------------------------------------------

export interface LifecycleSavingsProjection {
  /** The bucket's Standard bytes, in binary GB (what the managed rules would tier). */
  readonly standardGb: number;
  /** The figure reported and recorded on the action: the low end of the range. */
  readonly monthlySavingsUsd: number;
  /** Savings if all Standard bytes settled into the least-saving managed rule's steady state… */
  readonly lowUsd: number;
  /** …and into the most-saving one's. */
  readonly highUsd: number;
  /** The managed rule behind the low (reported) figure. */
  readonly basisRuleId: string;
  /** How the figure was computed, in one sentence. */
  readonly method: string;
}

/**
 * Projected monthly savings of the managed rules applied to a bucket, from its bytes by storage class.
 *
 * CloudWatch reports a bucket's size by storage class, not by key prefix, so the share of the Standard bytes under
 * each rule's prefix is unknown. The projection therefore prices the bucket's Standard bytes as if all of them were
 * under one rule and settled into that rule's steady state (the savings model's `projectBucketSavings`), once per
 * applied rule that transitions objects: the lowest result is the reported figure, the range goes up to the highest.
 * Both ends assume every Standard byte is under a managed prefix; data outside those prefixes (or under a user rule)
 * makes the real saving smaller. Returns undefined when no applied rule transitions anything or no size is known.
 */
export function projectLifecycleSavings(
  bytesByClass: Readonly<Partial<Record<StorageClass, number>>> | undefined,
  applied: readonly LifecycleRuleSpec[],
  pricing: Pricing,
): LifecycleSavingsProjection | undefined {
  if (!bytesByClass) return undefined;
  const tiering = applied.filter((r) => r.transitions.length > 0);
  if (tiering.length === 0) return undefined;
  const results = tiering.map((rule) => ({ rule, p: projectBucketSavings({ bytesByClass }, rule, pricing) }));
  let low = results[0]!;
  let high = results[0]!;
  for (const r of results) {
    if (r.p.monthlySavingsUsd < low.p.monthlySavingsUsd) low = r;
    if (r.p.monthlySavingsUsd > high.p.monthlySavingsUsd) high = r;
  }
  return {
    standardGb: low.p.standardGb,
    monthlySavingsUsd: low.p.monthlySavingsUsd,
    lowUsd: low.p.monthlySavingsUsd,
    highUsd: high.p.monthlySavingsUsd,
    basisRuleId: managedRuleId(low.rule.id),
    method:
      `the bucket's Standard bytes priced at the steady state of '${managedRuleId(low.rule.id)}' (lowest of ` +
      `${results.length} tiering rule${results.length > 1 ? 's' : ''}); assumes all Standard bytes are under managed prefixes`,
  };
}
