import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * `StringLike` patterns that match any value containing "true" in any letter case (`*true*`, `*TRUE*`, `*tRuE*`…).
 * The code reads a protection tag as true after trimming spaces and ignoring case; IAM's `StringEqualsIgnoreCase`
 * does not trim, so `"true "` would slip past it. These patterns close that gap (and also deny values such as
 * "untrue", which errs on the safe side).
 */
export const CONTAINS_TRUE_ANY_CASE: readonly string[] = Array.from(
  { length: 16 },
  (_, mask) => `*${[...'true'].map((c, i) => (mask & (1 << i) ? c.toUpperCase() : c)).join('')}*`,
);

/**
 * The explicit Denies that make a protection tag (opt-out, essential) hold in IAM whatever the code does: one with
 * `StringEqualsIgnoreCase` = "true", and one for padded or embedded values.
 */
export function denyWhenTagTrue(
  sid: string,
  actions: readonly string[],
  resources: readonly string[],
  tagKey: string,
): iam.PolicyStatement[] {
  const key = `aws:ResourceTag/${tagKey}`;
  return [
    new iam.PolicyStatement({
      sid,
      effect: iam.Effect.DENY,
      actions: [...actions],
      resources: [...resources],
      conditions: { StringEqualsIgnoreCase: { [key]: 'true' } },
    }),
    new iam.PolicyStatement({
      sid: `${sid}Padded`,
      effect: iam.Effect.DENY,
      actions: [...actions],
      resources: [...resources],
      conditions: { StringLike: { [key]: [...CONTAINS_TRUE_ANY_CASE] } },
    }),
  ];
}
