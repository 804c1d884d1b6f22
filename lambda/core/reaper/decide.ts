/**
 * The reaper's decision for one instance, and the run-wide plan: pure functions of (instance, instance type,
 * metrics, tags, now, config). When in doubt they do not act.
 *
 * Order of the rules: type (GPU? Neuron allowed? known?), opt-out tag, keep-until tag, Auto Scaling / fleet
 * membership, Kubernetes node, age, Spot-cannot-stop; then idleness; then the warn-then-act state machine.
 * Termination protection is checked by the caller just before acting ({@link checkBeforeAct}) because it costs an
 * API call per instance.
 */
import type { InstanceFacts, InstanceTypeFacts } from '../instances';
import type { SkipReason } from '../skip-reasons';
import { isTagTrue, tagValue } from '../tags';
import { assessIdleness } from './idleness';
import { type Decision, IDLE_SINCE_TAG, type InstanceMetrics, type ReaperConfig } from './types';

const MINUTE_MS = 60_000;

/** Tag keys that mark a Kubernetes (EKS, Karpenter) node; `kubernetes.io/cluster/<name>` is matched by prefix. */
export const KUBERNETES_TAG_KEYS = [
  'eks:cluster-name',
  'eks:eks-cluster-name',
  'eks:nodegroup-name',
  'karpenter.sh/nodepool',
  'karpenter.sh/provisioner-name',
  'karpenter.k8s.aws/ec2nodeclass',
] as const;
export const KUBERNETES_TAG_PREFIX = 'kubernetes.io/cluster/';
export const AUTO_SCALING_TAG = 'aws:autoscaling:groupName';
/** Spot Fleet and EC2 Fleet members: a fleet replaces what we terminate. */
export const FLEET_TAG_KEYS = ['aws:ec2spot:fleet-request-id', 'aws:ec2:fleet-id'] as const;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses an ISO 8601 date or date-time tag value to epoch ms. A date alone means the end of that day (UTC): keep
 * until 2026-12-01 keeps the instance through December 1. A date-time without a zone is UTC. Anything else
 * (including impossible dates) is undefined.
 */
export function parseTagTime(value: string, dateMeansEndOfDay = false): number | undefined {
  const v = value.trim();
  const dateOnly = ISO_DATE.exec(v);
  if (dateOnly) {
    const [, y, m, d] = dateOnly;
    const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
    const back = new Date(ms);
    if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(m) - 1 || back.getUTCDate() !== Number(d))
      return undefined;
    return dateMeansEndOfDay ? ms + 24 * 60 * MINUTE_MS : ms;
  }
  if (!ISO_DATE_TIME.test(v)) return undefined;
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(v) ? v : `${v}Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March: reject dates that do not round-trip.
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return undefined;
  return ms;
}

const skip = (instance: InstanceFacts, code: SkipReason, reason: string, hasIdleSince: boolean): Decision => ({
  instanceId: instance.instanceId,
  kind: 'skip',
  code,
  reason,
  // A protected instance loses a stale idle-since tag, so that when the protection ends the reaper warns again
  // before acting. Type-based skips never carried our tag.
  untagIdleSince: hasIdleSince,
});

/** Is this type one the reaper looks at? GPU types always; Neuron types only with `includeNeuron`. */
export function typeSkip(
  type: InstanceTypeFacts | undefined,
  config: ReaperConfig,
): { code: SkipReason; reason: string } | undefined {
  if (!type) return { code: 'unknown-type', reason: 'DescribeInstanceTypes does not know this type' };
  if (type.accelerator === 'gpu') return undefined;
  if (type.accelerator === 'neuron') {
    return config.idleGpu.includeNeuron
      ? undefined
      : { code: 'neuron-excluded', reason: 'Neuron (Inferentia/Trainium) type and idleGpu.includeNeuron is off' };
  }
  return { code: 'not-gpu', reason: 'no GPU' };
}

/**
 * The guard rules that need no metrics: undefined when the instance is a candidate (its metrics are worth fetching),
 * else the `skip` decision. The caller fetches metrics only for candidates.
 */
export function guardDecision(
  instance: InstanceFacts,
  type: InstanceTypeFacts | undefined,
  now: Date,
  config: ReaperConfig,
): Decision | undefined {
  const { tags } = instance;
  const hasIdleSince = tagValue(tags, IDLE_SINCE_TAG) !== undefined;
  const typeProblem = typeSkip(type, config);
  if (typeProblem) return skip(instance, typeProblem.code, typeProblem.reason, false);

  if (isTagTrue(tags, config.tags.optOut)) {
    return skip(instance, 'opt-out', `opted out (${config.tags.optOut}=true)`, hasIdleSince);
  }
  const keepUntil = tagValue(tags, config.tags.keepUntil);
  if (keepUntil !== undefined) {
    const until = parseTagTime(keepUntil, true);
    if (until === undefined) {
      return skip(
        instance,
        'keep-until-invalid',
        `${config.tags.keepUntil}='${keepUntil}' is not an ISO 8601 date or time: kept (when in doubt, no action)`,
        hasIdleSince,
      );
    }
    if (until > now.getTime()) {
      return skip(
        instance,
        'keep-until',
        `kept until ${new Date(until).toISOString()} (${config.tags.keepUntil})`,
        hasIdleSince,
      );
    }
  }
  const asg = tagValue(tags, AUTO_SCALING_TAG);
  if (asg !== undefined) {
    return skip(
      instance,
      'auto-scaling-group',
      `member of Auto Scaling group '${asg}': the group would launch a replacement; scale the group instead`,
      hasIdleSince,
    );
  }
  const fleetKey = FLEET_TAG_KEYS.find((k) => tagValue(tags, k) !== undefined);
  if (fleetKey) {
    return skip(
      instance,
      'fleet-member',
      `member of a Spot Fleet / EC2 Fleet (${fleetKey}): change the fleet's target capacity instead`,
      hasIdleSince,
    );
  }
  const k8sKey =
    KUBERNETES_TAG_KEYS.find((k) => tagValue(tags, k) !== undefined) ??
    Object.keys(tags).find((k) => k.toLowerCase().startsWith(KUBERNETES_TAG_PREFIX));
  if (k8sKey) {
    return skip(
      instance,
      'kubernetes-node',
      `Kubernetes node (${k8sKey}): let the cluster autoscaler or Karpenter scale it in`,
      hasIdleSince,
    );
  }
  if (instance.launchTime === undefined || Number.isNaN(Date.parse(instance.launchTime))) {
    return skip(instance, 'age-unknown', 'launch time unknown', hasIdleSince);
  }
  const ageMinutes = (now.getTime() - Date.parse(instance.launchTime)) / MINUTE_MS;
  if (ageMinutes < config.idleGpu.minimumAgeMinutes) {
    return skip(
      instance,
      'too-young',
      `running for ${Math.max(0, Math.floor(ageMinutes))} min, under minimumAgeMinutes (${config.idleGpu.minimumAgeMinutes})`,
      hasIdleSince,
    );
  }
  if (config.idleGpu.action === 'stop' && instance.lifecycle === 'spot' && instance.spotRequestType !== 'persistent') {
    return skip(
      instance,
      'spot-cannot-stop',
      instance.spotRequestType === 'one-time'
        ? 'one-time Spot instance: it cannot be stopped (terminate it, or use action terminate)'
        : 'Spot instance whose request type is unknown: only persistent Spot instances can be stopped',
      hasIdleSince,
    );
  }
  return undefined;
}

/**
 * The full decision for one instance: guard rules, idleness, then warn-then-act.
 *
 * Warn then act: on first detection the instance is tagged `cost-guard:idle-since` = now and a warning posted; a
 * later run acts once `warnMinutesBeforeAction` has passed since that time and the instance is still idle. An
 * idle-since value that is unparseable, in the future, or older than the instance's last launch (it was stopped
 * and started since) is replaced and the warning repeated, without acting. Busy again: the tag is removed.
 * `warnMinutesBeforeAction: 0` acts on first detection. Action `notify` never tags or acts.
 */
export function decideInstance(
  instance: InstanceFacts,
  type: InstanceTypeFacts | undefined,
  metrics: InstanceMetrics | undefined,
  now: Date,
  config: ReaperConfig,
): Decision {
  const guarded = guardDecision(instance, type, now, config);
  if (guarded) return config.idleGpu.action === 'notify' ? { ...guarded, untagIdleSince: false } : guarded;

  const { instanceId } = instance;
  const idleSinceTag = tagValue(instance.tags, IDLE_SINCE_TAG);
  const hasIdleSince = idleSinceTag !== undefined;
  const notify = config.idleGpu.action === 'notify';
  const idleness = assessIdleness(metrics, config.idleGpu);
  const common = { instanceId, confidence: idleness.confidence, idleness } as const;

  if (idleness.state === 'busy') {
    return {
      ...common,
      kind: 'busy',
      code: idleness.code,
      reason: idleness.reason,
      untagIdleSince: hasIdleSince && !notify,
    };
  }
  if (idleness.state === 'unknown') {
    // Keep an existing idle-since tag: not knowing is not evidence of work, and not of idleness either.
    return { ...common, kind: 'unknown', code: idleness.code, reason: idleness.reason, untagIdleSince: false };
  }

  const lowConfidence = idleness.confidence === 'low' ? ' (low confidence: no GPU metrics)' : '';
  if (notify) {
    return {
      ...common,
      kind: 'notify',
      code: 'idle',
      reason: `${idleness.reason}${lowConfidence}; action is notify: nothing changed`,
      untagIdleSince: false,
    };
  }
  const warnMs = config.idleGpu.warnMinutesBeforeAction * MINUTE_MS;
  const nowIso = now.toISOString();
  if (warnMs === 0) {
    // Only a well-formed past idle-since tag is carried over; anything else (garbage, future) counts from now.
    const tagged = idleSinceTag !== undefined ? parseTagTime(idleSinceTag) : undefined;
    return {
      ...common,
      kind: 'act',
      code: 'idle',
      reason: `${idleness.reason}${lowConfidence}; warnMinutesBeforeAction is 0`,
      idleSince: tagged !== undefined && tagged <= now.getTime() ? new Date(tagged).toISOString() : nowIso,
      untagIdleSince: false,
    };
  }
  const warn = (code: string, note: string): Decision => ({
    ...common,
    kind: 'warn',
    code,
    reason: `${idleness.reason}${lowConfidence}${note}`,
    idleSince: nowIso,
    actAt: new Date(now.getTime() + warnMs).toISOString(),
    tagIdleSince: nowIso,
    untagIdleSince: false,
  });
  if (idleSinceTag === undefined) return warn('first-detection', '');
  const since = parseTagTime(idleSinceTag);
  if (since === undefined) {
    return warn('idle-since-invalid', `; the ${IDLE_SINCE_TAG} tag '${idleSinceTag}' is not a time: re-tagged`);
  }
  if (since > now.getTime()) {
    return warn('idle-since-in-future', `; the ${IDLE_SINCE_TAG} tag '${idleSinceTag}' is in the future: re-tagged`);
  }
  const launched = instance.launchTime ? Date.parse(instance.launchTime) : Number.NaN;
  if (!Number.isNaN(launched) && since < launched) {
    return warn(
      'idle-since-stale',
      `; the ${IDLE_SINCE_TAG} tag predates the last start (${instance.launchTime}): warned again`,
    );
  }
  const actAt = since + warnMs;
  const sinceIso = new Date(since).toISOString();
  if (now.getTime() >= actAt) {
    return {
      ...common,
      kind: 'act',
      code: 'idle',
      reason: `${idleness.reason}${lowConfidence}; idle since ${sinceIso}, warned ${config.idleGpu.warnMinutesBeforeAction} min or more ago`,
      idleSince: sinceIso,
      untagIdleSince: false,
    };
  }
  return {
    ...common,
    kind: 'wait',
    code: 'warned',
    reason: `${idleness.reason}${lowConfidence}; warned, acts at ${new Date(actAt).toISOString()} if still idle`,
    idleSince: sinceIso,
    actAt: new Date(actAt).toISOString(),
    untagIdleSince: false,
  };
}

/**
 * Orders the run's `act` decisions (longest idle first, then the most expensive, then by ID) so that the cap takes
 * the oldest warnings first. `hourlyUsd` gives each instance's price (undefined when unknown).
 */
export function orderForAction<T extends Pick<Decision, 'instanceId' | 'idleSince'>>(
  decisions: readonly T[],
  hourlyUsd: (instanceId: string) => number | undefined,
): T[] {
  const since = (d: T) => (d.idleSince ? Date.parse(d.idleSince) : Number.POSITIVE_INFINITY);
  return [...decisions].sort(
    (a, b) =>
      since(a) - since(b) ||
      (hourlyUsd(b.instanceId) ?? 0) - (hourlyUsd(a.instanceId) ?? 0) ||
      a.instanceId.localeCompare(b.instanceId),
  );
}

/** The `deferred` decision of an `act` over maxActionsPerRun. */
export function deferDecision(decision: Decision, maxActionsPerRun: number): Decision {
  return {
    ...decision,
    kind: 'deferred',
    code: 'max-actions-per-run',
    reason: `${decision.reason}; deferred: maxActionsPerRun (${maxActionsPerRun}) reached, the next run acts`,
  };
}

/** Facts looked up just before acting. */
export interface ActTimeFacts {
  /** DescribeInstanceAttribute disableApiTermination; undefined when the lookup failed. */
  readonly terminationProtected?: boolean;
}

/**
 * The last check before terminating: a termination-protected instance (or one whose protection could not be read)
 * is skipped and reported, never stopped instead. Stop is not affected by termination protection.
 */
export function checkBeforeAct(decision: Decision, action: 'terminate' | 'stop', facts: ActTimeFacts): Decision {
  if (action !== 'terminate') return decision;
  if (facts.terminationProtected === true) {
    return {
      ...decision,
      kind: 'skip',
      code: 'termination-protected' satisfies SkipReason,
      reason: 'termination protection (DisableApiTermination) is on: not terminated, and not stopped instead',
      untagIdleSince: false,
    };
  }
  if (facts.terminationProtected === undefined) {
    return {
      ...decision,
      kind: 'skip',
      code: 'termination-protection-unknown' satisfies SkipReason,
      reason: 'could not read termination protection: not terminated (when in doubt, no action)',
      untagIdleSince: false,
    };
  }
  return decision;
}
