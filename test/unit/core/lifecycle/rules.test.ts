import {
  checkLifecycleRules,
  DEFAULT_LIFECYCLE_RULES,
  describeRuleProblem,
  type LifecycleRuleSpec,
  MAX_LIFECYCLE_RULES,
  managedRuleId,
} from '../../../../lambda/core/lifecycle/rules';

const rule = (over: Partial<LifecycleRuleSpec>): LifecycleRuleSpec => ({
  id: 'r',
  prefix: 'r/',
  transitions: [],
  expirationDays: 10,
  ...over,
});

const messages = (rules: LifecycleRuleSpec[]) =>
  checkLifecycleRules(rules).errors.map((e) => `${e.field}: ${e.message}`);

describe('Function: checkLifecycleRules', () => {
  it('accepts the default rules without errors or warnings', () => {
    expect(checkLifecycleRules(DEFAULT_LIFECYCLE_RULES)).toEqual({ errors: [], warnings: [] });
  });

  it("rejects the seed's 14-day checkpoints rule: STANDARD_IA needs at least 30 days", () => {
    // Prepare: the seed chapter's checkpoints/ rule
    const seed = rule({
      id: 'model-checkpoints',
      prefix: 'checkpoints/',
      transitions: [{ days: 14, storageClass: 'STANDARD_IA' }],
      expirationDays: undefined,
      noncurrentVersionExpirationDays: 30,
    });
    // Act
    const { errors } = checkLifecycleRules([seed]);
    // Assess
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ ruleIndex: 0, field: 'transitions.0.days' });
    expect(errors[0]!.message).toContain('STANDARD_IA needs at least 30 days');
    expect(describeRuleProblem([seed], errors[0]!)).toMatch(/^rule 'model-checkpoints' transitions\.0\.days: /);
  });

  it('rejects ONEZONE_IA before day 30 and accepts it at 30', () => {
    expect(messages([rule({ transitions: [{ days: 29, storageClass: 'ONEZONE_IA' }], expirationDays: 100 })])).toEqual([
      expect.stringContaining('ONEZONE_IA needs at least 30 days'),
    ]);
    expect(messages([rule({ transitions: [{ days: 30, storageClass: 'ONEZONE_IA' }], expirationDays: 100 })])).toEqual(
      [],
    );
  });

  it('rejects transitions out of waterfall order', () => {
    const errors = messages([
      rule({
        transitions: [
          { days: 90, storageClass: 'GLACIER_IR' },
          { days: 200, storageClass: 'STANDARD_IA' },
        ],
        expirationDays: 400,
      }),
    ]);
    expect(errors).toEqual([
      expect.stringMatching(/^transitions\.1\.storageClass: GLACIER_IR -> STANDARD_IA is not in/),
    ]);
  });

  it.each([
    ['STANDARD_IA', 30, 'GLACIER_IR', 59, 30],
    ['GLACIER_IR', 0, 'DEEP_ARCHIVE', 89, 90],
    ['GLACIER', 0, 'DEEP_ARCHIVE', 60, 90],
  ] as const)('rejects %s at %i -> %s at %i (S3 needs a gap of %i)', (from, d1, to, d2, gap) => {
    const errors = messages([
      rule({
        transitions: [
          { days: d1, storageClass: from },
          { days: d2, storageClass: to },
        ],
        expirationDays: 1000,
      }),
    ]);
    expect(errors).toEqual([expect.stringContaining(`S3 needs at least ${gap}`)]);
    const ok = messages([
      rule({
        transitions: [
          { days: d1, storageClass: from },
          { days: d1 + gap, storageClass: to },
        ],
        expirationDays: 1000,
      }),
    ]);
    expect(ok).toEqual([]);
  });

  it('rejects an expiration that is not after the last transition', () => {
    const errors = messages([rule({ transitions: [{ days: 90, storageClass: 'GLACIER_IR' }], expirationDays: 90 })]);
    expect(errors).toEqual([expect.stringMatching(/^expirationDays: expiration at day 90 must come after/)]);
  });

  it('rejects duplicate IDs, including an ID given with and without the cost-guard- prefix', () => {
    expect(messages([rule({ id: 'a', prefix: 'a/' }), rule({ id: 'a', prefix: 'b/' })])).toEqual([
      expect.stringContaining("duplicate rule ID 'a'"),
    ]);
    expect(messages([rule({ id: 'a', prefix: 'a/' }), rule({ id: managedRuleId('a'), prefix: 'b/' })])).toHaveLength(1);
  });

  it.each([
    ['a leading slash', '/data/', "starts with '/'"],
    ['more than 1,024 bytes', 'é'.repeat(513), 'S3 accepts at most 1024'],
  ])('rejects a prefix with %s', (_what, prefix, message) => {
    expect(messages([rule({ prefix })])).toEqual([expect.stringContaining(message)]);
  });

  it('rejects an empty ID, an ID over 255 characters, a duplicate prefix and a rule without action', () => {
    expect(messages([rule({ id: '' })])).toEqual([expect.stringContaining('must not be empty')]);
    expect(messages([rule({ id: 'x'.repeat(250) })])).toEqual([expect.stringContaining('S3 accepts at most 255')]);
    expect(messages([rule({ id: 'a' }), rule({ id: 'b' })])).toEqual([
      expect.stringContaining("prefix 'r/' is already used"),
    ]);
    expect(messages([rule({ expirationDays: undefined })])).toEqual([expect.stringContaining('has no action')]);
  });

  it('rejects more than 1,000 rules', () => {
    const rules = Array.from({ length: MAX_LIFECYCLE_RULES + 1 }, (_, i) => rule({ id: `r${i}`, prefix: `p${i}/` }));
    expect(messages(rules)).toEqual([expect.stringContaining('1001 rules is more than the 1000')]);
    expect(messages(rules.slice(1))).toEqual([]);
  });

  it.each([
    ['GLACIER_IR', 30, 100, 90, 20],
    ['DEEP_ARCHIVE', 0, 120, 180, 60],
  ] as const)('warns that %s expiring too early bills extra days (early deletion)', (cls, at, expire, min, extra) => {
    // Act
    const { errors, warnings } = checkLifecycleRules([
      rule({ transitions: [{ days: at, storageClass: cls }], expirationDays: expire }),
    ]);
    // Assess
    expect(errors).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.field).toBe('expirationDays');
    expect(warnings[0]!.message).toContain(`S3 bills at least ${min}`);
    expect(warnings[0]!.message).toContain(`${extra} extra days of ${cls} storage per object`);
  });

  it('does not warn when each class keeps objects for its minimum duration', () => {
    const { warnings } = checkLifecycleRules([
      rule({ transitions: [{ days: 0, storageClass: 'GLACIER_IR' }], expirationDays: 90 }),
    ]);
    expect(warnings).toEqual([]);
  });
});
