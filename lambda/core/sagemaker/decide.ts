/**
 * The SageMaker guard's decisions: pure functions of (endpoint or notebook facts, Invocations, the warning on record,
 * now, config). When in doubt they do not act.
 *
 * Endpoints, in order: status (InService only), GPU or accelerator variants (`ml.g*`, `ml.p*`, `ml.inf*`,
 * `ml.trn*`), serverless, asynchronous, inference components (their invocations are metered per component) and
 * variants scaled to zero, opt-out and keep-until tags, tags unreadable, age (an endpoint in its current form for
 * less than `endpointIdleHours` is never idle), metrics unreadable; then Invocations summed over every variant: any
 * request makes the endpoint busy. An idle endpoint managed by CloudFormation is only reported (deleting it drifts
 * the stack). Then the warn-then-act flow of the idle GPU reaper over the warning record in the state table.
 *
 * Notebook instances: GPU types, opt-out and keep-until, then hours in service against `notebookMaxHours`.
 */
import { parseTagTime } from '../reaper/decide';
import { isTagTrue, type Tags, tagValue } from '../tags';
import {
  CLOUDFORMATION_STACK_TAG,
  type EndpointFacts,
  type EndpointInvocations,
  type NotebookFacts,
  type SageMakerAction,
  type SageMakerDecision,
  type SageMakerGuardConfig,
  type SageMakerWarning,
} from './types';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/**
 * SageMaker instance types on a GPU or an ML accelerator: NVIDIA (`ml.g4dn`, `ml.g5`, `ml.g6`, `ml.g6e`, `ml.p3`…
 * `ml.p5`), AWS Inferentia (`ml.inf1`, `ml.inf2`) and Trainium (`ml.trn1`, `ml.trn2`). A digit must follow the family
 * letters, so `ml.geospatial.interactive` is not one.
 */
const ACCELERATED = /^ml\.(g|gr|p|inf|trn)\d/;

export function isAcceleratedType(instanceType: string | undefined): boolean {
  return instanceType !== undefined && ACCELERATED.test(instanceType);
}

/** Codes of the guard rules, in a few words for a digest footer. */
export const SAGEMAKER_SKIP_TEXT: Readonly<Record<string, string>> = {
  'not-in-service': 'not InService',
  serverless: 'serverless (billed per request)',
  'async-endpoint': 'asynchronous (not judged on Invocations)',
  'inference-components': 'hosting inference components',
  'scaled-to-zero': 'already scaled to zero instances',
  'opt-out': 'opted out',
  'keep-until': 'kept by the keep-until tag',
  'keep-until-invalid': 'keep-until tag not a date (kept)',
  'tags-unknown': 'tags could not be read',
  'too-young': 'younger than the idle window',
  'age-unknown': 'creation time unknown',
  'metrics-unavailable': 'Invocations could not be read',
  'cloudformation-managed': 'managed by CloudFormation (reported only)',
  'max-actions-per-run': 'action limit of the period reached',
};

export function sageMakerSkipText(code: string): string {
  return Object.hasOwn(SAGEMAKER_SKIP_TEXT, code) ? SAGEMAKER_SKIP_TEXT[code]! : code;
}

const skip = (code: string, reason: string, clearWarning: boolean): SageMakerDecision => ({
  kind: 'skip',
  code,
  reason,
  clearWarning,
});

const parseIso = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
};

/** The protection tags (opt-out, keep-until) shared by endpoints and notebooks; undefined when none applies. */
function protection(
  tags: Tags,
  tagsUnknown: boolean | undefined,
  now: Date,
  config: SageMakerGuardConfig,
  hasWarning: boolean,
): SageMakerDecision | undefined {
  if (tagsUnknown) {
    return skip('tags-unknown', 'tags could not be read, so an opt-out is unknown: not acted on', false);
  }
  if (isTagTrue(tags, config.tags.optOut)) {
    return skip('opt-out', `opted out (${config.tags.optOut}=true)`, hasWarning);
  }
  const keepUntil = tagValue(tags, config.tags.keepUntil);
  if (keepUntil !== undefined) {
    const until = parseTagTime(keepUntil, true);
    if (until === undefined) {
      return skip(
        'keep-until-invalid',
        `${config.tags.keepUntil}='${keepUntil}' is not an ISO 8601 date or time: kept (when in doubt, no action)`,
        hasWarning,
      );
    }
    if (until > now.getTime()) {
      return skip('keep-until', `kept until ${new Date(until).toISOString()} (${config.tags.keepUntil})`, hasWarning);
    }
  }
  return undefined;
}

/** What the run knows beyond the resource: its warning on record, and whether warnings can reach anybody. */
export interface SageMakerDecideOptions {
  readonly warning?: SageMakerWarning;
  /** Why this run cannot deliver a warning a person could read; undefined when it can. */
  readonly reportOnly?: string;
}

/** The variants that cost money while idle: instance-based, on a GPU or accelerator type. */
export function acceleratedVariants(endpoint: EndpointFacts) {
  return endpoint.variants.filter((v) => !v.serverless && isAcceleratedType(v.instanceType));
}

/**
 * Is this endpoint one the guard looks at: a GPU or accelerator variant, or a serverless one (reported as skipped)?
 * Endpoints on CPU instances only are left out of the report altogether, as the reaper leaves out non-GPU instances.
 */
export function isEndpointOfInterest(endpoint: EndpointFacts): boolean {
  return endpoint.variants.some((v) => v.serverless || isAcceleratedType(v.instanceType));
}

/**
 * The guard rules that need no metrics: undefined when the endpoint is a candidate (its Invocations are worth
 * reading), else the decision. `hasWarning`: a warning is on record (a protected endpoint loses it).
 */
export function endpointGuard(
  endpoint: EndpointFacts,
  now: Date,
  config: SageMakerGuardConfig,
  hasWarning = false,
): SageMakerDecision | undefined {
  if (endpoint.status !== 'InService') {
    return skip('not-in-service', `endpoint is ${endpoint.status}, not InService`, false);
  }
  if (endpoint.variants.some((v) => v.serverless)) {
    return skip('serverless', 'serverless variant: billed per request, nothing runs while idle', hasWarning);
  }
  if (endpoint.async) {
    return skip(
      'async-endpoint',
      'asynchronous endpoint: requests queue, so Invocations alone proves nothing; not judged (scale it to zero with an ApproximateBacklogSize scaling policy)',
      hasWarning,
    );
  }
  if (endpoint.inferenceComponents && endpoint.inferenceComponents.count > 0) {
    const atZero = acceleratedVariants(endpoint).every((v) => v.currentInstanceCount === 0);
    return atZero
      ? skip('scaled-to-zero', 'hosts inference components scaled to zero instances: costs nothing now', hasWarning)
      : skip(
          'inference-components',
          `hosts ${endpoint.inferenceComponents.count} inference component(s), whose invocations are metered per component: not judged on the endpoint's`,
          hasWarning,
        );
  }
  const accelerated = acceleratedVariants(endpoint);
  if (accelerated.length > 0 && accelerated.every((v) => v.currentInstanceCount === 0)) {
    return skip('scaled-to-zero', 'every GPU variant runs zero instances: costs nothing now', hasWarning);
  }
  const protectedBy = protection(endpoint.tags, endpoint.tagsUnknown, now, config, hasWarning);
  if (protectedBy) return protectedBy;
  const since = endpointSince(endpoint);
  if (since === undefined) return skip('age-unknown', 'creation time unknown', hasWarning);
  const windowHours = config.sagemaker.endpointIdleHours;
  const ageHours = (now.getTime() - since) / HOUR_MS;
  if (ageHours < windowHours) {
    return skip(
      'too-young',
      `in its current form for ${Math.max(0, Math.floor(ageHours))} h, under endpointIdleHours (${windowHours}): a missing datapoint proves nothing yet`,
      hasWarning,
    );
  }
  return undefined;
}

/** Since when the endpoint has been in its current form: the later of its creation and its last change. */
export function endpointSince(endpoint: Pick<EndpointFacts, 'creationTime' | 'lastModifiedTime'>): number | undefined {
  const created = parseIso(endpoint.creationTime);
  if (created === undefined) return undefined;
  const modified = parseIso(endpoint.lastModifiedTime);
  return modified !== undefined && modified > created ? modified : created;
}

/** Requests over the window, all variants; undefined when a variant's series is missing from a read that worked. */
export function totalInvocations(endpoint: EndpointFacts, invocations: EndpointInvocations): number | undefined {
  if (!invocations) return undefined;
  let total = 0;
  for (const v of endpoint.variants) {
    const values = invocations[v.variantName];
    if (values === undefined) return undefined;
    for (const n of values) if (Number.isFinite(n)) total += n;
  }
  return total;
}

/**
 * The decision for one endpoint: guard rules, Invocations, CloudFormation, then warn-then-act on the warning record.
 * The warning's identity is the endpoint's creation time: an endpoint deleted and recreated under the same name is
 * warned again.
 */
export function decideEndpoint(
  endpoint: EndpointFacts,
  invocations: EndpointInvocations,
  now: Date,
  config: SageMakerGuardConfig,
  options: SageMakerDecideOptions = {},
): SageMakerDecision {
  const { warning, reportOnly } = options;
  const notify = config.sagemaker.action === 'notify';
  const guarded = endpointGuard(endpoint, now, config, warning !== undefined);
  if (guarded) return notify ? { ...guarded, clearWarning: false } : guarded;

  const total = totalInvocations(endpoint, invocations);
  const hours = config.sagemaker.endpointIdleHours;
  if (total === undefined) {
    return {
      kind: 'unknown',
      code: 'metrics-unavailable',
      reason: 'Invocations could not be read: not judged (when in doubt, no action)',
      clearWarning: false,
    };
  }
  if (total > 0) {
    const busiest = endpoint.variants
      .map((v) => ({ v: v.variantName, n: (invocations![v.variantName] ?? []).reduce((s, x) => s + x, 0) }))
      .filter((x) => x.n > 0)
      .map((x) => `${x.v} ${x.n}`)
      .join(', ');
    return {
      kind: 'busy',
      code: 'invoked',
      reason: `${total} invocation(s) in the last ${hours} h (${busiest})`,
      clearWarning: warning !== undefined && !notify,
      invocations: total,
    };
  }
  const idleReason = `no invocation in the last ${hours} h`;
  const stack = tagValue(endpoint.tags, CLOUDFORMATION_STACK_TAG);
  if (stack !== undefined) {
    return {
      kind: 'notify',
      code: 'cloudformation-managed',
      reason: `${idleReason}; managed by CloudFormation stack '${stack}': deleting it would drift the stack, so it is only reported (remove it from the stack instead)`,
      clearWarning: false,
      invocations: 0,
    };
  }
  return warnThenAct(
    {
      reason: idleReason,
      action: 'delete',
      notify,
      ...(endpoint.creationTime !== undefined ? { identity: endpoint.creationTime } : {}),
      ...(warning ? { warning } : {}),
      ...(reportOnly !== undefined ? { reportOnly } : {}),
    },
    now,
    config,
    0,
  );
}

/** Since when a notebook instance has been in service: its last change (a start is one), else its creation. */
export function notebookInServiceSince(notebook: Pick<NotebookFacts, 'creationTime' | 'lastModifiedTime'>) {
  return endpointSince(notebook);
}

/**
 * The decision for one GPU notebook instance in service: protection tags, then hours in service. Without
 * `notebookMaxHours` it is reported with its cost; over the limit it is warned about, then stopped (the ML storage
 * volume stays). The warning's identity is the in-service time: a notebook stopped and started since is warned again.
 */
export function decideNotebook(
  notebook: NotebookFacts,
  now: Date,
  config: SageMakerGuardConfig,
  options: SageMakerDecideOptions = {},
): SageMakerDecision {
  const { warning, reportOnly } = options;
  const notify = config.sagemaker.action === 'notify';
  if (notebook.status !== 'InService') {
    return skip('not-in-service', `notebook instance is ${notebook.status}, not InService`, false);
  }
  const guarded = protection(notebook.tags, notebook.tagsUnknown, now, config, warning !== undefined);
  if (guarded) return notify ? { ...guarded, clearWarning: false } : guarded;
  const since = notebookInServiceSince(notebook);
  if (since === undefined) return skip('age-unknown', 'in-service time unknown', warning !== undefined && !notify);
  const hours = Math.max(0, Math.floor((now.getTime() - since) / HOUR_MS));
  const lifecycle = notebook.lifecycleConfigName
    ? `lifecycle configuration '${notebook.lifecycleConfigName}' attached`
    : 'no lifecycle configuration (no auto-stop script)';
  const max = config.sagemaker.notebookMaxHours;
  if (max === undefined) {
    return {
      kind: 'report',
      code: 'gpu-notebook',
      reason: `in service for ${hours} h; ${lifecycle}; notebookMaxHours is not set, so it is only reported`,
      clearWarning: false,
    };
  }
  if (hours < max) {
    return {
      kind: 'report',
      code: 'under-max-hours',
      reason: `in service for ${hours} h, under notebookMaxHours (${max}); ${lifecycle}`,
      clearWarning: warning !== undefined && !notify,
    };
  }
  return warnThenAct(
    {
      reason: `in service for ${hours} h, over notebookMaxHours (${max}); ${lifecycle}`,
      action: 'stop',
      notify,
      identity: new Date(since).toISOString(),
      ...(warning ? { warning } : {}),
      ...(reportOnly !== undefined ? { reportOnly } : {}),
    },
    now,
    config,
    undefined,
    new Date(since + max * HOUR_MS).toISOString(),
  );
}

interface WarnThenActInput {
  readonly reason: string;
  readonly action: SageMakerAction;
  /** Action `notify`: report only. */
  readonly notify: boolean;
  readonly identity?: string;
  readonly warning?: SageMakerWarning;
  readonly reportOnly?: string;
}

/**
 * Warn then act, as the idle GPU reaper does: a resource without a delivered warning of this action is warned (the
 * run records the warning as pending, posts it, and marks it delivered once Slack accepted the message); a later run
 * acts once `warnMinutesBeforeAction` has passed since Slack accepted it, and not before the time the message
 * announced. A warning that never reached Slack, one recorded for another resource of the same name (identity), or
 * one that announced another action is given again, never acted on.
 */
function warnThenAct(
  input: WarnThenActInput,
  now: Date,
  config: SageMakerGuardConfig,
  invocations: number | undefined,
  firstIdle?: string,
): SageMakerDecision {
  const { reason, action, warning, identity } = input;
  const extra = invocations !== undefined ? { invocations } : {};
  if (input.notify) {
    return {
      kind: 'notify',
      code: 'idle',
      reason: `${reason}; action is notify: nothing changed`,
      clearWarning: false,
      ...extra,
    };
  }
  if (input.reportOnly !== undefined) {
    return {
      kind: 'notify',
      code: 'report-only',
      reason: `${reason}; reported only: ${input.reportOnly}`,
      clearWarning: false,
      ...extra,
    };
  }
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const sameResource = warning !== undefined && (warning.identity === undefined || warning.identity === identity);
  const warnedAt = sameResource && warning.status === 'delivered' ? parseIso(warning.warnedAt) : undefined;
  const recordedSince = sameResource ? parseIso(warning.idleSince) : undefined;
  const idleSince =
    recordedSince !== undefined && recordedSince <= nowMs
      ? new Date(recordedSince).toISOString()
      : firstIdle !== undefined && Date.parse(firstIdle) <= nowMs
        ? firstIdle
        : nowIso;
  const delivered = warnedAt !== undefined && warnedAt <= nowMs ? warnedAt : undefined;
  const warnMs = config.sagemaker.warnMinutesBeforeAction * MINUTE_MS;
  const warn = (code: string, note: string): SageMakerDecision => ({
    kind: 'warn',
    code,
    reason: `${reason}${note}`,
    idleSince,
    actAt: new Date(nowMs + warnMs).toISOString(),
    warning: { idleSince, action, ...(identity !== undefined ? { identity } : {}) },
    clearWarning: false,
    ...extra,
  });
  if (warning === undefined) return warn('first-detection', '');
  if (!sameResource)
    return warn('recreated', '; the warning on record was for an earlier resource of this name: warned again');
  if (delivered === undefined)
    return warn('warning-undelivered', '; the last warning never reached Slack: warned again');
  if (warning.action !== action) {
    return warn(
      'action-changed',
      `; the warning on record announced ${warning.action}, the action is now ${action}: warned again`,
    );
  }
  const due = Math.max(delivered + warnMs, parseIso(warning.actionDue) ?? 0);
  const warnedText = `warned in Slack at ${new Date(delivered).toISOString()}`;
  if (nowMs >= due) {
    return {
      kind: 'act',
      code: 'idle',
      reason: `${reason}; ${warnedText}`,
      idleSince,
      warnedAt: new Date(delivered).toISOString(),
      clearWarning: false,
      ...extra,
    };
  }
  return {
    kind: 'wait',
    code: 'warned',
    reason: `${reason}; ${warnedText}, acts at ${new Date(due).toISOString()} unless it changes`,
    idleSince,
    actAt: new Date(due).toISOString(),
    clearWarning: false,
    ...extra,
  };
}

/** The `deferred` decision of an `act` over the action limit of this scheduled period. */
export function deferSageMakerDecision(decision: SageMakerDecision, maxActionsPerRun: number): SageMakerDecision {
  return {
    ...decision,
    kind: 'deferred',
    code: 'max-actions-per-run',
    reason: `${decision.reason}; deferred: action limit for this period reached (sagemaker.maxActionsPerRun ${maxActionsPerRun}), a later run acts`,
  };
}

/**
 * The last look before deleting: DescribeEndpoint just before the delete. An endpoint no longer InService (already
 * Deleting, Updating, gone) or one changed since the run read it is not deleted now: the decision becomes a skip.
 */
export function checkBeforeDelete(
  decision: SageMakerDecision,
  seen: { readonly status?: string; readonly endpointConfigName?: string } | undefined,
  expectedConfig: string,
): SageMakerDecision {
  if (!seen || seen.status === undefined) {
    return {
      ...decision,
      kind: 'skip',
      code: 'not-in-service',
      reason: 'could not be described just before deleting: not deleted (when in doubt, no action)',
      clearWarning: false,
    };
  }
  if (seen.status !== 'InService') {
    return {
      ...decision,
      kind: 'skip',
      code: 'not-in-service',
      reason: `endpoint is ${seen.status} now, not InService: not deleted`,
      clearWarning: false,
    };
  }
  if (seen.endpointConfigName !== expectedConfig) {
    return {
      ...decision,
      kind: 'skip',
      code: 'not-in-service',
      reason: `endpoint config changed since it was read (now '${seen.endpointConfigName}'): not deleted this run`,
      clearWarning: false,
    };
  }
  return decision;
}
