/**
 * The launch cap: while a budget is past `actionPercent`, a customer managed policy that denies launching or
 * starting GPU instances is attached to the IAM roles the budget item lists (`launchCapRoles`), until the budget's
 * period ends or `cost-guard restore` lifts it. Pure: the policy's name and document (the stack creates it, the
 * functions and the CLI find it by name), and the decision of each run from the cap's record and the budget.
 *
 * The record (lambda/adapters/launch-cap-store.ts) is the only state the decision reads, never tags: it says which
 * roles may carry the policy, for which period, and whether a person was told. Attach and detach are idempotent in
 * IAM (attaching twice is one attachment; detaching what is not attached answers NoSuchEntity, taken as done), so
 * a run that died halfway is finished by the next.
 */
import { formatPercentValue } from '../money';
import { GPU_INSTANCE_TYPE_PATTERNS } from '../reaper/instance-families';
import {
  escapeCode,
  escapeMrkdwn,
  fallbackText,
  header,
  type SectionBlock,
  type SlackMessage,
  section,
} from '../slack-blocks';

/** The actions the cap denies: launching a new instance and starting a stopped one. */
export const LAUNCH_CAP_ACTIONS = ['ec2:RunInstances', 'ec2:StartInstances'] as const;

/** The instance types the cap denies, as `ec2:InstanceType` StringLike patterns: the GPU families the guard knows. */
export const LAUNCH_CAP_INSTANCE_TYPES: readonly string[] = GPU_INSTANCE_TYPE_PATTERNS;

const POLICY_PREFIX = 'ml-cost-guard-launch-cap-';

/** FNV-1a, 32 bits, as 8 hex digits: tells apart budget names that read the same once sanitized. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (const unit of new TextEncoder().encode(text)) {
    hash ^= unit;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The name of a budget's cap policy: `ml-cost-guard-launch-cap-<budget, sanitized>-<hash>` (IAM allows
 * `[\w+=,.@-]`, at most 128 characters; the hash keeps two budgets that sanitize alike apart). The stack creates
 * the policy under this name and the functions and the CLI find it by it.
 */
export function launchCapPolicyName(budget: string): string {
  const readable = budget.replace(/[^\w+=,.@-]/g, '-').slice(0, 80);
  return `${POLICY_PREFIX}${readable}-${fnv1a(budget)}`;
}

export { partitionOf } from '../regions';

/** The ARN of a budget's cap policy in an account (customer managed policies live at path `/`). */
export function launchCapPolicyArn(partition: string, account: string, budget: string): string {
  return `arn:${partition}:iam::${account}:policy/${launchCapPolicyName(budget)}`;
}

/** The ARN of a role listed by name (no path) in `launchCapRoles`. */
export function roleArn(partition: string, account: string, role: string): string {
  return `arn:${partition}:iam::${account}:role/${role}`;
}

/** The cap policy's one statement (the stack writes it; the IAM proof evaluates it). */
export function launchCapStatement(partition: string) {
  return {
    Sid: 'DenyGpuLaunchesWhileOverBudget',
    Effect: 'Deny' as const,
    Action: [...LAUNCH_CAP_ACTIONS],
    Resource: `arn:${partition}:ec2:*:*:instance/*`,
    Condition: { StringLike: { 'ec2:InstanceType': [...LAUNCH_CAP_INSTANCE_TYPES] } },
  };
}

/** What the state table remembers of one budget's cap (pk `launchcap#<budget>`). */
export interface LaunchCapRecord {
  readonly budget: string;
  /** attached: the policy is (or may be) on `roles`; lifted: restore took it off this period; detached: taken off. */
  readonly status: 'attached' | 'lifted' | 'detached';
  /** The budget period the cap belongs to (BudgetPeriod.key). */
  readonly period: string;
  /** ISO end of that period: the cap comes off then, even when the budget can no longer be read. */
  readonly periodEnd: string;
  readonly policyArn: string;
  /** Roles the policy may be attached to (attach attempted); the roles it was taken off, once lifted or detached. */
  readonly roles: readonly string[];
  /** Roles whose attach failed: the next run tries again. */
  readonly failed?: readonly string[];
  /** Roles a Slack message people could read named (a retry of these is not announced again). */
  readonly announced?: readonly string[];
  readonly attachedAt?: string;
  /** When it was lifted or detached, and why. */
  readonly endedAt?: string;
  readonly endedBy?: LaunchCapLift;
}

/** Why a cap comes off. */
export type LaunchCapLift = 'period-ended' | 'cap-off' | 'roles-changed' | 'restore';

export interface LaunchCapInput {
  readonly record: LaunchCapRecord | undefined;
  readonly now: Date;
  /** The roles to cap: the item's `launchCapRoles`, or none when `budgets.launchCap` is off. */
  readonly roles: readonly string[];
  /** The budget's current period, when the budget could be read. */
  readonly period?: { readonly key: string; readonly end: string };
  /** The action threshold is crossed in `period` (and not held by a limit mismatch). */
  readonly actionCrossed: boolean;
}

/** What one run does with a budget's cap. */
export interface LaunchCapDecision {
  /** Roles to attach the policy to. */
  readonly attach: readonly string[];
  /** Of `attach`, the roles no accepted Slack message named yet: announce before attaching. */
  readonly announce: readonly string[];
  /** Roles to detach it from. */
  readonly detach: readonly string[];
  readonly why:
    | 'action-threshold'
    | 'retry'
    | 'roles-changed'
    | LaunchCapLift
    | 'in-force'
    | 'lifted-this-period'
    | 'not-crossed';
  /** The period the cap belongs to after the run (set when attaching or keeping it). */
  readonly period?: { readonly key: string; readonly end: string };
}

const minus = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x));
const nothing = (why: LaunchCapDecision['why']): LaunchCapDecision => ({ attach: [], announce: [], detach: [], why });

/**
 * The run's decision, from the record and the budget:
 * - a cap in force whose period ended (a new period key, or past the recorded end) comes off every role it may be on;
 *   so does one whose cap was turned off (no roles configured);
 * - a cap in force follows the configured roles: removed roles come off, added ones go on (announced), failed
 *   attaches are tried again (not announced again);
 * - a cap `cost-guard restore` lifted stays off for the rest of its period;
 * - otherwise, with the action threshold crossed and roles configured, the cap goes on (announced first).
 */
export function decideLaunchCap(input: LaunchCapInput): LaunchCapDecision {
  const { record: r, now, roles, period, actionCrossed } = input;
  const ended = (rec: LaunchCapRecord) =>
    (period !== undefined && rec.period !== period.key) || now.getTime() >= Date.parse(rec.periodEnd);
  if (r?.status === 'attached') {
    if (ended(r)) return { ...nothing('period-ended'), detach: [...r.roles] };
    if (roles.length === 0) return { ...nothing('cap-off'), detach: [...r.roles] };
    const keep = { key: r.period, end: r.periodEnd };
    const removed = minus(r.roles, roles);
    const added = minus(roles, r.roles);
    const retry = (r.failed ?? []).filter((role) => roles.includes(role));
    const attach = [...added, ...retry];
    const announce = minus(attach, r.announced ?? []);
    if (removed.length === 0 && attach.length === 0) return { ...nothing('in-force'), period: keep };
    const why = removed.length > 0 || added.length > 0 ? 'roles-changed' : 'retry';
    return { attach, announce, detach: removed, why, period: keep };
  }
  if (r?.status === 'lifted' && !ended(r)) return nothing('lifted-this-period');
  if (roles.length > 0 && actionCrossed && period) {
    return { attach: [...roles], announce: [...roles], detach: [], why: 'action-threshold', period };
  }
  return nothing('not-crossed');
}

/** How the cap is (or would be) applied in this run. */
export type LaunchCapMode = 'apply' | 'dry-run' | 'unheard';

/** What a Slack message says about a cap going on. */
export interface LaunchCapNotice {
  readonly budget: string;
  readonly roles: readonly string[];
  /** ISO end of the budget period: the cap comes off then. */
  readonly until: string;
  readonly mode: LaunchCapMode;
}

/** A word for a shell command: as it is when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w.:@%+=,/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

const roleList = (roles: readonly string[]) => roles.map((r) => `\`${escapeCode(r)}\``).join(', ');
const day = (iso: string) => /^\d{4}-\d{2}-\d{2}/.exec(iso)?.[0] ?? escapeMrkdwn(iso);

/** The section the action alert carries about the cap (and the standalone announcement reuses). */
export function launchCapSection(n: LaunchCapNotice): SectionBlock {
  const types = LAUNCH_CAP_INSTANCE_TYPES.map((t) => `\`${t}\``).join(', ');
  const lift = `\`npx cost-guard restore --budget ${escapeCode(shellWord(n.budget))}\``;
  const what = `launching or starting GPU instances (${types}) by ${roleList(n.roles)}`;
  const until = `until the budget period ends (${day(n.until)}) or ${lift}`;
  switch (n.mode) {
    case 'apply':
      return section(`*Launch cap:* denying ${what}, ${until}. Running instances are not touched.`);
    case 'dry-run':
      return section(`*Launch cap (dry run):* would deny ${what}, ${until}. Nothing was attached.`);
    case 'unheard':
      return section(
        `*Launch cap:* would deny ${what}, ${until}; not applied, since no Slack token is configured and a cap ` +
          'needs an alert a person could read.',
      );
  }
}

/**
 * The announcement of a cap that goes on outside the action alert (the cap was turned on, or roles were added,
 * after the alert of the period went out).
 */
export function launchCapMessage(n: LaunchCapNotice, percentUsed?: number): SlackMessage {
  const used = percentUsed !== undefined ? ` at ${formatPercentValue(percentUsed)}` : '';
  const title = `Budget ${n.budget}${used}: GPU launch cap${n.mode === 'apply' ? '' : ' (not applied)'}`;
  return {
    text: fallbackText(escapeMrkdwn(`${n.mode === 'dry-run' ? '[dry run] ' : ''}${title}`)),
    // plain_text header: the budget name as written.
    blocks: [header(`🚫 ${title}`), launchCapSection(n)],
  };
}

export interface LaunchCapChange {
  readonly budget: string;
  /** Roles the cap came off. */
  readonly detached: readonly string[];
  readonly why: LaunchCapLift;
  /** Roles an attach or detach failed for, with the AWS error code. */
  readonly failed: readonly { readonly role: string; readonly code: string; readonly attach: boolean }[];
}

const LIFT_WHY: Readonly<Record<LaunchCapLift, string>> = {
  'period-ended': 'the budget period ended',
  'cap-off': 'the launch cap was turned off (budgets.launchCap, or no launchCapRoles)',
  'roles-changed': 'these roles are no longer listed in launchCapRoles',
  restore: '`cost-guard restore` lifted it',
};

/** What became of a cap after the run: lifted from roles, or an attach or detach that failed. */
export function launchCapChangeMessage(c: LaunchCapChange): SlackMessage {
  const lines: string[] = [];
  if (c.detached.length > 0) {
    lines.push(`GPU launches are allowed again for ${roleList(c.detached)}: ${LIFT_WHY[c.why]}.`);
  }
  for (const f of c.failed) {
    lines.push(
      `:warning: could not ${f.attach ? 'attach the cap to' : 'take the cap off'} \`${escapeCode(f.role)}\` ` +
        `(${escapeMrkdwn(f.code)}); the next run tries again.`,
    );
  }
  const title =
    c.failed.length > 0
      ? `Budget ${c.budget}: GPU launch cap not fully applied`
      : `Budget ${c.budget}: GPU launch cap lifted`;
  return {
    text: fallbackText(escapeMrkdwn(title)),
    blocks: [header(title), section(lines.join('\n') || 'No change.')],
  };
}
