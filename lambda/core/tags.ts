/**
 * Reading EC2 tags, the one way both guards do it. Users type tag keys by hand (`Cost-Guard:Opt-Out`), so a key is
 * matched without regard to case; an exact-case key wins when both spellings are present. Only own keys count: a
 * tag named `__proto__` or `constructor` is an ordinary key, never something inherited from Object.prototype.
 */

export type Tags = Readonly<Record<string, string>>;

/** The value of tag `key`, or undefined when the instance does not carry it (in any case of the key). */
export function tagValue(tags: Tags, key: string): string | undefined {
  if (Object.hasOwn(tags, key)) return tags[key];
  const lower = key.toLowerCase();
  // for…in, not Object.entries: a lookup of an absent key (the usual case for opt-out and keep tags) allocates nothing;
  // it runs for every tag an instance report reads.
  for (const k in tags) if (Object.hasOwn(tags, k) && k.toLowerCase() === lower) return tags[k];
  return undefined;
}

/**
 * True when tag `key` says `true` in any case, surrounding spaces ignored (`TRUE`, ` True `). Anything else (`yes`,
 * `1`, empty) is false. The stack's IAM Deny statements match the same values (lib/constructs/iam-conditions.ts).
 */
export function isTagTrue(tags: Tags, key: string): boolean {
  return tagValue(tags, key)?.trim().toLowerCase() === 'true';
}
