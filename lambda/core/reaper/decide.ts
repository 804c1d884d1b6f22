/**
 * The reaper's decision for one instance, and the run-wide plan: pure functions of (instance, instance type,
 * metrics, tags, the warning on record, now, config). When in doubt they do not act.
 *
 * Order of the rules: type (GPU? Neuron allowed? known?), opt-out tag, keep-until tag, keep record (a keep set from
 * Slack or the CLI, in the state table), Auto Scaling / fleet
 * membership, Kubernetes node, age, Spot-cannot-stop; then idleness; then the evidence (per-instance GPU series);
 * then the warn-then-act state machine over the warning record in the state table.
 * Termination protection is checked by the caller just before acting ({@link checkBeforeAct}) because it costs an
 * API call per instance.
 */
import type { InstanceFacts, InstanceTypeFacts } from '../instances';
import { keepActiveAt, keptText } from '../keeps';
import { managedBy } from '../managed';
import type { SkipReason } from '../skip-reasons';
import { isTagTrue, tagValue } from '../tags';
import { assessIdleness } from './idleness';
import {
  type Decision,
  IDLE_SINCE_TAG,
  type InstanceMetrics,
  type KeepState,
  type ReaperConfig,
  type WarningState,
} from './types';

const MINUTE_MS = 60_000;
/**
 * A warning whose due time passed more than this long ago is stale: no run acted on it since (the schedule was
 * off, the function failed, the instance was unknown or busy in between), so the person who read "stops at 14:00"
 * may rightly think it was called off. It is warned again instead of acted on.
 */
export const WARNING_STALE_AFTER_MS = 24 * 60 * MINUTE_MS;

export { AUTO_SCALING_TAG, FLEET_TAG_KEYS, KUBERNETES_TAG_KEYS, KUBERNETES_TAG_PREFIX } from '../managed';

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

const skip = (instance: InstanceFacts, code: SkipReason, reason: string, hasWarning: boolean): Decision => ({
  instanceId: instance.instanceId,
  kind: 'skip',
  code,
  reason,
  // A protected instance loses a stale idle-since tag, so that when the protection ends the reaper warns again
  // before acting. Type-based skips never carried our tag.
  clearWarning: hasWarning,
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
 * else the `skip` decision. The caller fetches metrics only for candidates. `keep` is the instance's keep record in
 * the state table, if any: while it lasts it protects exactly as the keep-until tag does.
 */
export function guardDecision(
  instance: InstanceFacts,
  type: InstanceTypeFacts | undefined,
  now: Date,
  config: ReaperConfig,
  warning?: WarningState,
  keep?: KeepState,
): Decision | undefined {
  const { tags } = instance;
  const hasWarning = warning !== undefined || tagValue(tags, IDLE_SINCE_TAG) !== undefined;
  const typeProblem = typeSkip(type, config);
  if (typeProblem) return skip(instance, typeProblem.code, typeProblem.reason, false);

  if (isTagTrue(tags, config.tags.optOut)) {
    return skip(instance, 'opt-out', `opted out (${config.tags.optOut}=true)`, hasWarning);
  }
  const keepUntil = tagValue(tags, config.tags.keepUntil);
  if (keepUntil !== undefined) {
    const until = parseTagTime(keepUntil, true);
    if (until === undefined) {
      return skip(
        instance,
        'keep-until-invalid',
        `${config.tags.keepUntil}='${keepUntil}' is not an ISO 8601 date or time: kept (when in doubt, no action)`,
        hasWarning,
      );
    }
    if (until > now.getTime()) {
      return skip(
        instance,
        'keep-until',
        `kept until ${new Date(until).toISOString()} (${config.tags.keepUntil})`,
        hasWarning,
      );
    }
  }
  if (keep && keepActiveAt(keep, now)) return skip(instance, 'keep-until', keptText(keep), hasWarning);
  const managed = managedBy(tags);
  if (managed) return skip(instance, managed.code, managed.reason, hasWarning);
  if (instance.launchTime === undefined || Number.isNaN(Date.parse(instance.launchTime))) {
    return skip(instance, 'age-unknown', 'launch time unknown', hasWarning);
  }
  const ageMinutes = (now.getTime() - Date.parse(instance.launchTime)) / MINUTE_MS;
  if (ageMinutes < config.idleGpu.minimumAgeMinutes) {
    return skip(
      instance,
      'too-young',
      `running for ${Math.max(0, Math.floor(ageMinutes))} min, under minimumAgeMinutes (${config.idleGpu.minimumAgeMinutes})`,
      hasWarning,
    );
  }
  if (config.idleGpu.action === 'stop' && instance.lifecycle === 'spot' && instance.spotRequestType !== 'persistent') {
    return skip(
      instance,
      'spot-cannot-stop',
      instance.spotRequestType === 'one-time'
        ? 'one-time Spot instance: it cannot be stopped (terminate it, or use action terminate)'
        : 'Spot instance whose request type is unknown: only persistent Spot instances can be stopped',
      hasWarning,
    );
  }
  return undefined;
}

/** What the run knows beyond the instance: its warning on record, and whether warnings can reach anybody. */
export interface DecideOptions {
  /** The instance's warning in the state table; undefined when there is none. */
  readonly warning?: WarningState;
  /**
   * The instance's keep record in the state table, active or expired; undefined when there is none. Active: a skip.
   * Expired: a warning given before the keep ended does not count, the instance is warned again first.
   */
  readonly keep?: KeepState;
  /**
   * Why this run cannot deliver a warning a person could read (no Slack token, no state table, the records could
   * not be read): idle instances are then only reported. Undefined when the run can warn.
   */
  readonly reportOnly?: string;
}

/**
 * Why the idleness evidence does not allow the configured action, or undefined when it does. Per-instance GPU
 * series are the evidence; CPU and network alone (a GPU-bound job can look exactly like an idle box) allow a stop
 * only when the team chose so with `actOnCpuOnlyEvidence`, and never a termination.
 */
export function evidenceProblem(
  confidence: 'high' | 'low',
  action: 'stop' | 'terminate',
  actOnCpuOnlyEvidence: boolean,
): string | undefined {
  if (confidence === 'high') return undefined;
  if (action === 'terminate') return 'never terminated on CPU and network alone';
  if (!actOnCpuOnlyEvidence) return 'not stopped on CPU and network alone (idleGpu.actOnCpuOnlyEvidence is off)';
  return undefined;
}

const parseIso = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * The full decision for one instance: guard rules, idleness, evidence, then warn-then-act on the warning record.
 *
 * Warn then act: an idle instance without a delivered warning of this action is warned: the run records the warning
 * as pending in the state table, posts it, and marks it delivered (with Slack's channel and ts) once Slack accepted
 * the message that carried it. A later run acts once `warnMinutesBeforeAction` has passed since Slack accepted it
 * (and not before the due time the message announced) and the instance is still idle. A warning that never reached
 * Slack, one written before the instance's last start, or one that announced another action is repeated, never acted
 * on. Busy again or now protected: the warning is cleared. The idle-since tag is never read: it only mirrors the
 * record for people. Action `notify`, and a run that cannot deliver warnings (`reportOnly`), change nothing.
 *
 * Evidence: without per-instance GPU series the instance is warned about once (a report-only warning that announces
 * no action) and then waits, unless {@link evidenceProblem} allows a stop.
 */
export function decideInstance(
  instance: InstanceFacts,
  type: InstanceTypeFacts | undefined,
  metrics: InstanceMetrics | undefined,
  now: Date,
  config: ReaperConfig,
  options: DecideOptions = {},
): Decision {
  const { warning, reportOnly, keep } = options;
  const action = config.idleGpu.action;
  const guarded = guardDecision(instance, type, now, config, warning, keep);
  if (guarded) return action === 'notify' ? { ...guarded, clearWarning: false } : guarded;

  const { instanceId } = instance;
  const hasWarning = warning !== undefined || tagValue(instance.tags, IDLE_SINCE_TAG) !== undefined;
  const idleness = assessIdleness(metrics, config.idleGpu);
  const common = { instanceId, confidence: idleness.confidence, idleness } as const;

  if (idleness.state === 'busy') {
    return {
      ...common,
      kind: 'busy',
      code: idleness.code,
      reason: idleness.reason,
      clearWarning: hasWarning && action !== 'notify',
    };
  }
  if (idleness.state === 'unknown') {
    // Keep the warning: not knowing is not evidence of work, and not of idleness either.
    return { ...common, kind: 'unknown', code: idleness.code, reason: idleness.reason, clearWarning: false };
  }

  const lowConfidence = idleness.confidence === 'low' ? ' (low confidence: no per-instance GPU metrics)' : '';
  if (action === 'notify') {
    return {
      ...common,
      kind: 'notify',
      code: 'idle',
      reason: `${idleness.reason}${lowConfidence}; action is notify: nothing changed`,
      clearWarning: false,
    };
  }
  if (reportOnly !== undefined) {
    return {
      ...common,
      kind: 'notify',
      code: 'report-only',
      reason: `${idleness.reason}${lowConfidence}; reported only: ${reportOnly}`,
      clearWarning: false,
    };
  }

  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const launched = Date.parse(instance.launchTime!); // guardDecision skips instances without a launch time
  const warnedAt = warning?.status === 'delivered' ? parseIso(warning.warnedAt) : undefined;
  const recordedAt = warnedAt ?? parseIso(warning?.idleSince);
  const recordLaunch = parseIso(warning?.launchTime);
  const sameLaunch =
    warning !== undefined &&
    recordedAt !== undefined &&
    recordedAt >= launched &&
    (recordLaunch === undefined || recordLaunch === launched);
  const recordedIdleSince = sameLaunch ? parseIso(warning!.idleSince) : undefined;
  const idleSince =
    recordedIdleSince !== undefined && recordedIdleSince <= nowMs ? new Date(recordedIdleSince).toISOString() : nowIso;
  const delivered = sameLaunch && warnedAt !== undefined && warnedAt <= nowMs ? warnedAt : undefined;
  const warnedText = delivered !== undefined ? `warned in Slack at ${new Date(delivered).toISOString()}` : '';

  const evidence = evidenceProblem(idleness.confidence, action, config.idleGpu.actOnCpuOnlyEvidence);
  if (evidence) {
    // Warned about once (a warning that announces no action), then it waits: nothing here is ever acted on.
    const reason = `${idleness.reason}${lowConfidence}; ${evidence}`;
    if (delivered !== undefined) {
      return { ...common, kind: 'wait', code: 'low-confidence', reason, idleSince, clearWarning: false };
    }
    return {
      ...common,
      kind: 'warn',
      code: 'low-confidence',
      reason,
      idleSince,
      warning: { idleSince },
      clearWarning: false,
    };
  }

  const warnMs = config.idleGpu.warnMinutesBeforeAction * MINUTE_MS;
  const warn = (code: string, note: string): Decision => ({
    ...common,
    kind: 'warn',
    code,
    reason: `${idleness.reason}${lowConfidence}${note}`,
    idleSince,
    actAt: new Date(nowMs + warnMs).toISOString(),
    warning: { idleSince, action },
    clearWarning: false,
  });
  if (warning === undefined) return warn('first-detection', '');
  if (!sameLaunch) {
    return warn('restarted', `; the warning on record predates the last start (${instance.launchTime}): warned again`);
  }
  if (delivered === undefined)
    return warn('warning-undelivered', '; the last warning never reached Slack: warned again');
  // A keep ended since the warning was given: whoever read "stops at 14:00" then chose to keep it, so the old
  // warning is spent. (guardDecision has skipped every active keep; this one is expired.)
  const keptUntil = keep ? parseIso(keep.until) : undefined;
  if (keep && (keptUntil === undefined || delivered < keptUntil)) {
    return warn('keep-expired', `; ${keptText(keep).replace(/^kept/, 'was kept')}: the keep ended, so warned again`);
  }
  if (warning.action !== action) {
    return warn(
      'action-changed',
      warning.action
        ? `; the warning on record announced ${warning.action}, the action is now ${action}: warned again`
        : '; the warning on record announced no action: warned again',
    );
  }
  // Never before the time the message announced, nor before the grace period now configured.
  const due = Math.max(delivered + warnMs, parseIso(warning.actionDue) ?? 0);
  if (nowMs > due + WARNING_STALE_AFTER_MS) {
    return warn(
      'warning-stale',
      `; the warning on record was due at ${new Date(due).toISOString()}, more than a day ago, and nothing acted on it: warned again`,
    );
  }
  if (nowMs >= due) {
    return {
      ...common,
      kind: 'act',
      code: 'idle',
      reason: `${idleness.reason}${lowConfidence}; idle since ${idleSince}, ${warnedText}`,
      idleSince,
      warnedAt: new Date(delivered).toISOString(),
      clearWarning: false,
    };
  }
  return {
    ...common,
    kind: 'wait',
    code: 'warned',
    reason: `${idleness.reason}${lowConfidence}; ${warnedText}, acts at ${new Date(due).toISOString()} if still idle`,
    idleSince,
    actAt: new Date(due).toISOString(),
    clearWarning: false,
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

/** The `deferred` decision of an `act` over the action limit of this scheduled period (maxActionsPerRun). */
export function deferDecision(decision: Decision, maxActionsPerRun: number): Decision {
  return {
    ...decision,
    kind: 'deferred',
    code: 'max-actions-per-run',
    reason: `${decision.reason}; deferred: action limit for this period reached (maxActionsPerRun ${maxActionsPerRun}), a later run acts`,
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
      clearWarning: false,
    };
  }
  if (facts.terminationProtected === undefined) {
    return {
      ...decision,
      kind: 'skip',
      code: 'termination-protection-unknown' satisfies SkipReason,
      reason: 'could not read termination protection: not terminated (when in doubt, no action)',
      clearWarning: false,
    };
  }
  return decision;
}
