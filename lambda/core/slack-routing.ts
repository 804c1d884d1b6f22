/**
 * Where a warning goes besides the guard's channel: the owner an instance's owner tag names (a direct message), and
 * the channel of its team (slack.teamChannels). Pure: tag values in, addresses out; the Slack adapter looks people up.
 *
 * An owner tag holds an e-mail address (looked up with users.lookupByEmail) or a Slack user ID (`U…`/`W…`, also as
 * `<@U…>` or `@U…`). Anything else is `invalid`: the warning then stays in the channel, which says so.
 */

/**
 * Direct messages one owner gets from one run at most: the first run over an idle fleet of one person's instances
 * must not bury them; the rest of their warnings are in the channel digest, which says so.
 */
export const MAX_DIRECT_MESSAGES_PER_OWNER = 10;

/** What an owner tag's value addresses. */
export type OwnerAddress =
  | { readonly kind: 'email'; readonly email: string }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'invalid' };

/** Slack user IDs: `U` (or `W` on Enterprise Grid) and upper-case letters and digits. */
const USER_ID = /^[UW][A-Z0-9]{2,20}$/;
/** Enough of an address to ask Slack about: one `@`, a dot in the domain, no space or markup. */
const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\.]+$/;

/** The address in an owner tag's value (surrounding spaces ignored). */
export function ownerAddress(value: string): OwnerAddress {
  const v = value.trim();
  const user = /^<@([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(v)?.[1] ?? (v.startsWith('@') ? v.slice(1) : v);
  if (USER_ID.test(user)) return { kind: 'user', userId: user };
  if (v.length <= 254 && EMAIL.test(v)) return { kind: 'email', email: v.toLowerCase() };
  return { kind: 'invalid' };
}

/** The cache key of an owner value: the same person however the tag spells the address. */
export function ownerKey(address: OwnerAddress): string | undefined {
  if (address.kind === 'email') return `email:${address.email}`;
  if (address.kind === 'user') return `user:${address.userId}`;
  return undefined;
}

/**
 * The team channel of a team tag's value from `slack.teamChannels`: the exact value first, then the same value in
 * any case with surrounding spaces ignored (`ML-Research ` finds `ml-research`). Undefined when the team has none.
 */
export function teamChannelOf(
  team: string | undefined,
  teamChannels: Readonly<Record<string, string>>,
): { readonly team: string; readonly channel: string } | undefined {
  if (team === undefined) return undefined;
  if (Object.hasOwn(teamChannels, team)) return { team, channel: teamChannels[team]! };
  const wanted = team.trim().toLowerCase();
  for (const [key, channel] of Object.entries(teamChannels)) {
    if (key.trim().toLowerCase() === wanted) return { team: key, channel };
  }
  return undefined;
}
