/**
 * Which running EC2 instances the budget guard may stop at the action threshold. Pure: instances and instance-type
 * facts come in as plain data.
 *
 * A candidate is running, in the budget's scope (every scope tag matches exactly), not tagged essential and not
 * opted out (the tag value `true` in any case, surrounding spaces ignored; the tag key compared without regard to
 * case, so `Cost-Guard:Essential` protects too), and a GPU instance unless `stopScope` is 'all'. An instance whose
 * type the API did not describe is never stopped under the GPU scope: unknown is not GPU. Instances an Auto Scaling
 * group, a fleet or a Kubernetes cluster manages are never stopped: the manager would replace them. An instance
 * someone kept (a keep record in the state table, unexpired) is not stopped until the keep ends.
 */
import type { TagsConfig } from '../config';
import type { InstanceFacts, InstanceTypeFacts } from '../instances';
import { managedBy } from '../managed';
import type { SkipReason } from '../skip-reasons';
import { isTagTrue, tagValue } from '../tags';

export interface CandidateOptions {
  readonly scopeTags: Readonly<Record<string, string>>;
  readonly tags: Pick<TagsConfig, 'essential' | 'optOut'>;
  readonly stopScope: 'gpu' | 'all';
  /** Facts of an instance type in a region; undefined when the API did not describe it. */
  readonly typeFacts: (region: string, instanceType: string) => InstanceTypeFacts | undefined;
  /**
   * True while a keep on record in the state table protects the instance (a "keep" or "keep this one running"
   * pressed in Slack, or `cost-guard keep`). @default - nothing is kept
   */
  readonly isKept?: (instance: InstanceFacts) => boolean;
}

/** The reasons the budget guard gives (a subset of the vocabulary both guards share). */
export type BudgetSkipReason = Extract<
  SkipReason,
  | 'not-running'
  | 'out-of-scope'
  | 'essential'
  | 'opt-out'
  | 'keep-until'
  | 'not-gpu'
  | 'unknown-type'
  | 'auto-scaling-group'
  | 'fleet-member'
  | 'kubernetes-node'
>;

export interface SkippedInstance {
  readonly instance: InstanceFacts;
  readonly reason: BudgetSkipReason;
}

export interface CandidateSelection {
  readonly candidates: readonly InstanceFacts[];
  readonly skipped: readonly SkippedInstance[];
}

/** True when every scope tag is present with exactly its value (an empty scope matches every instance). */
export function inScope(tags: Readonly<Record<string, string>>, scopeTags: Readonly<Record<string, string>>): boolean {
  return Object.entries(scopeTags).every(([k, v]) => Object.hasOwn(tags, k) && tags[k] === v);
}

/** Why an instance is not a candidate, or undefined when it is one. Protection is checked before scope. */
export function skipReason(instance: InstanceFacts, options: CandidateOptions): BudgetSkipReason | undefined {
  if (instance.state !== 'running') return 'not-running';
  if (isTagTrue(instance.tags, options.tags.essential)) return 'essential';
  if (isTagTrue(instance.tags, options.tags.optOut)) return 'opt-out';
  if (options.isKept?.(instance)) return 'keep-until';
  if (!inScope(instance.tags, options.scopeTags)) return 'out-of-scope';
  // Its manager would launch a replacement (or reschedule pods): stopping it saves nothing and disrupts work.
  const managed = managedBy(instance.tags);
  if (managed) return managed.code;
  if (options.stopScope === 'gpu') {
    const facts = options.typeFacts(instance.region, instance.instanceType);
    if (!facts) return 'unknown-type';
    if (facts.accelerator !== 'gpu') return 'not-gpu';
  }
  return undefined;
}

export function selectStopCandidates(
  instances: readonly InstanceFacts[],
  options: CandidateOptions,
): CandidateSelection {
  const candidates: InstanceFacts[] = [];
  const skipped: SkippedInstance[] = [];
  for (const instance of instances) {
    const reason = skipReason(instance, options);
    if (reason) skipped.push({ instance, reason });
    else candidates.push(instance);
  }
  return { candidates, skipped };
}

/** Counts skipped instances by reason, for the report. */
/** Skipped instances worth naming, by reason: `i-… (Name)` (out-of-scope and not-running ones are not news). */
export type SkippedIds = Partial<Record<BudgetSkipReason, readonly string[]>>;

export function listSkipped(skipped: readonly SkippedInstance[]): SkippedIds {
  const out: Partial<Record<BudgetSkipReason, string[]>> = {};
  for (const s of skipped) {
    if (s.reason === 'out-of-scope' || s.reason === 'not-running') continue;
    const name = tagValue(s.instance.tags, 'Name');
    const list = out[s.reason] ?? [];
    list.push(name ? `${s.instance.instanceId} (${name})` : s.instance.instanceId);
    out[s.reason] = list;
  }
  return out;
}

export function countSkipped(skipped: readonly SkippedInstance[]): Partial<Record<BudgetSkipReason, number>> {
  const counts: Partial<Record<BudgetSkipReason, number>> = {};
  for (const s of skipped) counts[s.reason] = (counts[s.reason] ?? 0) + 1;
  return counts;
}
