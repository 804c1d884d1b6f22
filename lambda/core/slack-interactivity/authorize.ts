/**
 * Who may press what. A keep (and "keep this one running") is open to anyone in the workspace: it costs money and
 * destroys nothing. "Stop now", "terminate now" and "restore" are for the instance's owner (its owner tag, an e-mail
 * address or a Slack user ID) and for `slack.approvers` (user IDs, and the members of the user groups listed there,
 * resolved by the caller). Pure: the facts come in, resolved; the verdict goes out.
 */
import type { ActionKind } from '../slack-actions';

export interface Presser {
  readonly id: string;
  /** The presser's e-mail address from users.info (scope users:read.email), when Slack gave it. */
  readonly email?: string;
}

export interface AuthorizationFacts {
  readonly presser: Presser;
  /** The value of the owner tag (`tags.owner`) on the instance, when it has one. */
  readonly ownerTag?: string;
  /** User IDs of `slack.approvers` plus the members of its user groups. */
  readonly approvers: ReadonlySet<string>;
}

export type Authorization =
  | { readonly allowed: true; readonly as: 'anyone' | 'owner' | 'approver' }
  | { readonly allowed: false; readonly reason: string };

/** Kinds anyone may press. */
const OPEN_TO_ANYONE: ReadonlySet<ActionKind> = new Set<ActionKind>(['keep', 'keep-running']);

/** The Slack user ID an owner tag names (`U…`, `<@U…>`, `@U…`), or the e-mail address, lower-cased. */
export function ownerOf(tag: string): { readonly userId: string } | { readonly email: string } | undefined {
  const v = tag.trim();
  const id = /^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$/.exec(v)?.[1] ?? /^@?([UW][A-Z0-9]{2,20})$/.exec(v)?.[1];
  if (id) return { userId: id };
  if (v.length <= 254 && /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>.]+$/.test(v)) return { email: v.toLowerCase() };
  return undefined;
}

/** Does the owner tag name the presser (by user ID, or by the e-mail address Slack has for them)? */
export function isOwner(ownerTag: string | undefined, presser: Presser): boolean {
  if (ownerTag === undefined) return false;
  const owner = ownerOf(ownerTag);
  if (!owner) return false;
  if ('userId' in owner) return owner.userId === presser.id;
  return presser.email !== undefined && presser.email.trim().toLowerCase() === owner.email;
}

/** Whether `facts.presser` may press a button of `kind`. */
export function authorize(kind: ActionKind, facts: AuthorizationFacts): Authorization {
  if (OPEN_TO_ANYONE.has(kind)) return { allowed: true, as: 'anyone' };
  if (isOwner(facts.ownerTag, facts.presser)) return { allowed: true, as: 'owner' };
  if (facts.approvers.has(facts.presser.id)) return { allowed: true, as: 'approver' };
  return {
    allowed: false,
    reason:
      facts.ownerTag === undefined
        ? 'only the approvers (slack.approvers) may do this: the instance has no owner tag'
        : "only the instance's owner or the approvers (slack.approvers) may do this",
  };
}

/** Does the approvers list need user groups resolved (any `S…` ID)? */
export const approverGroups = (approvers: readonly string[]): string[] => approvers.filter((a) => a.startsWith('S'));
