import fc from 'fast-check';
import {
  canonicalRule,
  diffManagedRules,
  formatRuleDiff,
  type LifecycleState,
  lifecycleEquals,
  mergeLifecycle,
  planBucketLifecycle,
  projectLifecycleSavings,
  type S3LifecycleRule,
  selectsByTag,
  toS3Rule,
  userRuleCovers,
} from '../../../../lambda/core/lifecycle/merge';
import {
  DEFAULT_LIFECYCLE_RULES,
  type LifecycleRuleSpec,
  MAX_LIFECYCLE_RULES,
} from '../../../../lambda/core/lifecycle/rules';
import { BYTES_PER_GB, projectBucketSavings } from '../../../../lambda/core/savings/calculators';
import { createPricing } from '../../../../lambda/core/savings/pricing';

const [EXPERIMENTS, CHECKPOINTS] = DEFAULT_LIFECYCLE_RULES as [LifecycleRuleSpec, LifecycleRuleSpec];

const userRule = (id: string, prefix: string, extra: Partial<S3LifecycleRule> = {}): S3LifecycleRule => ({
  ID: id,
  Filter: { Prefix: prefix },
  Status: 'Enabled',
  Expiration: { Days: 400 },
  ...extra,
});

describe('Function: toS3Rule', () => {
  it('writes the S3 shape with the cost-guard- ID, the prefix filter and every action', () => {
    // Act
    const rule = toS3Rule(EXPERIMENTS);
    // Assess
    expect(rule).toEqual({
      ID: 'cost-guard-experiment-artifacts',
      Filter: { Prefix: 'experiments/' },
      Status: 'Enabled',
      Transitions: [
        { Days: 30, StorageClass: 'STANDARD_IA' },
        { Days: 90, StorageClass: 'GLACIER_IR' },
        { Days: 365, StorageClass: 'DEEP_ARCHIVE' },
      ],
      Expiration: { Days: 730 },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
  });

  it('writes NoncurrentVersionExpiration and leaves out absent actions', () => {
    const rule = toS3Rule(CHECKPOINTS);
    expect(rule.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 30 });
    expect(rule).not.toHaveProperty('Expiration');
    expect(toS3Rule({ id: 'x', prefix: 'x/', transitions: [], expirationDays: 3 })).not.toHaveProperty('Transitions');
  });
});

describe('Function: userRuleCovers', () => {
  it.each([
    ['the same prefix', userRule('u', 'experiments/'), true],
    ['a parent prefix', userRule('u', 'exp'), true],
    ['a child prefix', userRule('u', 'experiments/keep/'), true],
    ['an unrelated prefix', userRule('u', 'datasets/'), false],
    ['a disabled rule on the same prefix', userRule('u', 'experiments/', { Status: 'Disabled' }), false],
    [
      'a whole-bucket rule with transitions',
      userRule('u', '', { Transitions: [{ Days: 0, StorageClass: 'INTELLIGENT_TIERING' }] }),
      true,
    ],
    [
      'a whole-bucket housekeeping rule',
      { ID: 'u', Filter: {}, Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 3 } },
      false,
    ],
    ['a legacy top-level prefix', { ID: 'u', Prefix: 'experiments/', Status: 'Enabled' }, true],
    [
      'an And filter with tags on the prefix',
      { ID: 'u', Filter: { And: { Prefix: 'experiments/', Tags: [{ Key: 'k', Value: 'v' }] } }, Status: 'Enabled' },
      true,
    ],
  ] as const)('returns %s -> %s', (_what, rule, expected) => {
    expect(userRuleCovers(rule, 'experiments/')).toBe(expected);
  });
});

describe('Function: mergeLifecycle', () => {
  const cases: {
    name: string;
    current: S3LifecycleRule[];
    configured: LifecycleRuleSpec[];
    ids: string[];
    conflicts: string[];
  }[] = [
    { name: 'empty bucket, empty config', current: [], configured: [], ids: [], conflicts: [] },
    {
      name: 'empty bucket, default config',
      current: [],
      configured: [...DEFAULT_LIFECYCLE_RULES],
      ids: ['cost-guard-experiment-artifacts', 'cost-guard-model-checkpoints'],
      conflicts: [],
    },
    {
      name: 'only user rules, empty config',
      current: [userRule('logs', 'logs/'), userRule('tmp', 'tmp/')],
      configured: [],
      ids: ['logs', 'tmp'],
      conflicts: [],
    },
    {
      name: 'our old rules are replaced',
      current: [
        userRule('logs', 'logs/'),
        toS3Rule({ id: 'old-rule', prefix: 'old/', transitions: [], expirationDays: 5 }),
        toS3Rule({ ...EXPERIMENTS, expirationDays: 800 }),
      ],
      configured: [EXPERIMENTS],
      ids: ['logs', 'cost-guard-experiment-artifacts'],
      conflicts: [],
    },
    {
      name: 'user rule on our prefix',
      current: [userRule('team-checkpoints', 'checkpoints/')],
      configured: [...DEFAULT_LIFECYCLE_RULES],
      ids: ['team-checkpoints', 'cost-guard-experiment-artifacts'],
      conflicts: ['cost-guard-model-checkpoints'],
    },
  ];
  it.each(cases)('merges: $name', ({ current, configured, ids, conflicts }) => {
    // Act
    const merged = mergeLifecycle({ rules: current }, configured);
    // Assess
    expect(merged.rules.map((r) => r.ID)).toEqual(ids);
    expect(merged.conflicts.map((c) => c.ruleId)).toEqual(conflicts);
  });

  it('keeps user rules as the same objects, in the same order, ahead of ours', () => {
    // Prepare
    const a = userRule('b-rule', 'b/');
    const b = userRule('a-rule', 'a/');
    // Act
    const merged = mergeLifecycle({ rules: [toS3Rule(EXPERIMENTS), a, b] }, [EXPERIMENTS]);
    // Assess
    expect(merged.rules[0]).toBe(a);
    expect(merged.rules[1]).toBe(b);
  });

  it('keeps the bucket TransitionDefaultMinimumObjectSize and sets none when the bucket had none', () => {
    expect(
      mergeLifecycle({ rules: [], transitionDefaultMinimumObjectSize: 'varies_by_storage_class' }, [EXPERIMENTS])
        .transitionDefaultMinimumObjectSize,
    ).toBe('varies_by_storage_class');
    expect(mergeLifecycle({ rules: [] }, [EXPERIMENTS])).not.toHaveProperty('transitionDefaultMinimumObjectSize');
  });

  it('names the user rule and both prefixes in a conflict', () => {
    const merged = mergeLifecycle({ rules: [userRule('archive-all', 'exp')] }, [EXPERIMENTS]);
    expect(merged.conflicts[0]).toMatchObject({ userRuleId: 'archive-all', userPrefix: 'exp', prefix: 'experiments/' });
    expect(merged.conflicts[0]!.message).toContain("'archive-all'");
  });

  it('never removes or changes a non-cost-guard- rule (property)', () => {
    const arbRule = fc.record({
      ID: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('cost-guard-x', 'cost-guard-experiment-artifacts')),
      Filter: fc.record({ Prefix: fc.constantFrom('', 'experiments/', 'exp', 'checkpoints/', 'data/') }),
      Status: fc.constantFrom('Enabled', 'Disabled'),
      Expiration: fc.record({ Days: fc.integer({ min: 1, max: 1000 }) }),
    });
    fc.assert(
      fc.property(fc.array(arbRule, { maxLength: 20 }), fc.subarray([...DEFAULT_LIFECYCLE_RULES]), (rules, config) => {
        const snapshot = JSON.stringify(rules);
        const merged = mergeLifecycle({ rules }, config);
        const users = rules.filter((r) => !r.ID.startsWith('cost-guard-'));
        const kept = merged.rules.filter((r) => !(r.ID ?? '').startsWith('cost-guard-'));
        expect(kept).toHaveLength(users.length);
        for (const [i, r] of kept.entries()) expect(r).toBe(users[i]);
        expect(JSON.stringify(rules)).toBe(snapshot);
      }),
    );
  });
});

describe('Function: lifecycleEquals', () => {
  it('is independent of rule order, undefined fields and Date vs ISO text', () => {
    const a: LifecycleState = {
      rules: [userRule('x', 'x/', { Expiration: { Date: new Date('2027-01-01T00:00:00Z') } }), toS3Rule(EXPERIMENTS)],
    };
    const b: LifecycleState = {
      rules: [
        { ...toS3Rule(EXPERIMENTS), NoncurrentVersionTransitions: [] },
        { ...userRule('x', 'x/', { Expiration: { Date: '2027-01-01T00:00:00.000Z' } }), Prefix: undefined },
      ],
    };
    expect(lifecycleEquals(a, b)).toBe(true);
  });

  it('sees a changed day, a changed minimum-object-size setting and a missing rule', () => {
    const base: LifecycleState = { rules: [toS3Rule(EXPERIMENTS)] };
    expect(lifecycleEquals(base, { rules: [toS3Rule({ ...EXPERIMENTS, expirationDays: 731 })] })).toBe(false);
    expect(lifecycleEquals(base, { ...base, transitionDefaultMinimumObjectSize: 'varies_by_storage_class' })).toBe(
      false,
    );
    expect(lifecycleEquals(base, { rules: [] })).toBe(false);
  });

  it('treats Filter {Prefix: ""} as the empty whole-bucket filter', () => {
    expect(canonicalRule({ ID: 'a', Filter: { Prefix: '' } })).toBe(canonicalRule({ ID: 'a', Filter: {} }));
  });
});

describe('Function: planBucketLifecycle', () => {
  it('plans a change with an added-rules diff for a bucket without lifecycle', () => {
    // Act
    const plan = planBucketLifecycle({ current: { rules: [] }, configured: [...DEFAULT_LIFECYCLE_RULES] });
    // Assess
    expect(plan.decision).toBe('change');
    expect(plan.diff.map((d) => [d.ruleId, d.change])).toEqual([
      ['cost-guard-experiment-artifacts', 'added'],
      ['cost-guard-model-checkpoints', 'added'],
    ]);
    expect(formatRuleDiff(plan.diff)[0]).toMatch(
      /^\+ cost-guard-experiment-artifacts experiments\/: STANDARD_IA day 30/,
    );
    expect(plan.notices.join('\n')).toContain('all_storage_classes_128K');
  });

  it('is idempotent: planning over the merged result plans no change', () => {
    // Prepare
    const user = userRule('logs', 'logs/');
    const first = planBucketLifecycle({
      current: { rules: [user], transitionDefaultMinimumObjectSize: 'varies_by_storage_class' },
      configured: [...DEFAULT_LIFECYCLE_RULES],
    });
    // Act
    const second = planBucketLifecycle({ current: first.after, configured: [...DEFAULT_LIFECYCLE_RULES] });
    // Assess
    expect(first.decision).toBe('change');
    expect(second.decision).toBe('unchanged');
    expect(second.diff.every((d) => d.change === 'unchanged')).toBe(true);
  });

  it('reports an updated rule with before and after, and a removed old rule', () => {
    const plan = planBucketLifecycle({
      current: { rules: [toS3Rule({ ...EXPERIMENTS, expirationDays: 800 }), toS3Rule({ ...CHECKPOINTS, id: 'gone' })] },
      configured: [EXPERIMENTS],
    });
    expect(plan.diff.map((d) => [d.ruleId, d.change])).toEqual([
      ['cost-guard-experiment-artifacts', 'updated'],
      ['cost-guard-gone', 'removed'],
    ]);
    const text = formatRuleDiff(plan.diff).join('\n');
    expect(text).toContain('expire day 800');
    expect(text).toContain('=> experiments/');
    expect(text).toContain('- cost-guard-gone');
  });

  it('reports more than 1,000 rules and plans no write', () => {
    // Prepare
    const rules = Array.from({ length: MAX_LIFECYCLE_RULES }, (_, i) => userRule(`u${i}`, `u${i}/`));
    // Act
    const plan = planBucketLifecycle({ current: { rules }, configured: [EXPERIMENTS] });
    // Assess
    expect(plan.decision).toBe('too-many-rules');
    expect(plan.errors.join()).toContain('1001 rules');
  });

  it('accepts exactly 1,000 rules', () => {
    const rules = Array.from({ length: MAX_LIFECYCLE_RULES - 1 }, (_, i) => userRule(`u${i}`, `u${i}/`));
    expect(planBucketLifecycle({ current: { rules }, configured: [EXPERIMENTS] }).decision).toBe('change');
  });

  it.each([
    ['STANDARD_IA before day 30', { id: 'c', prefix: 'c/', transitions: [{ days: 14, storageClass: 'STANDARD_IA' }] }],
    [
      'a too small gap',
      {
        id: 'c',
        prefix: 'c/',
        transitions: [
          { days: 0, storageClass: 'GLACIER_IR' },
          { days: 30, storageClass: 'DEEP_ARCHIVE' },
        ],
      },
    ],
    [
      'out of waterfall order',
      {
        id: 'c',
        prefix: 'c/',
        transitions: [
          { days: 90, storageClass: 'GLACIER' },
          { days: 200, storageClass: 'GLACIER_IR' },
        ],
      },
    ],
    [
      'expiration not after the last transition',
      { id: 'c', prefix: 'c/', transitions: [{ days: 30, storageClass: 'STANDARD_IA' }], expirationDays: 30 },
    ],
    ['a leading slash', { id: 'c', prefix: '/c', transitions: [], expirationDays: 3 }],
    ['no action', { id: 'c', prefix: 'c/', transitions: [] }],
  ] as [string, LifecycleRuleSpec][])('plans no write for a rule with %s (invalid)', (_what, rule) => {
    const plan = planBucketLifecycle({ current: { rules: [] }, configured: [rule] });
    expect(plan.decision).toBe('invalid');
    expect(plan.errors[0]).toContain("rule 'c'");
  });

  it('plans no write when two configured rules share an ID', () => {
    const plan = planBucketLifecycle({
      current: { rules: [] },
      configured: [EXPERIMENTS, { ...CHECKPOINTS, id: EXPERIMENTS.id }],
    });
    expect(plan.decision).toBe('invalid');
    expect(plan.errors.join()).toContain('duplicate rule ID');
  });

  it('reports noncurrent-version rules on an unversioned bucket as having no effect', () => {
    const unversioned = planBucketLifecycle({
      current: { rules: [] },
      configured: [CHECKPOINTS],
      versioning: 'Unversioned',
    });
    const versioned = planBucketLifecycle({ current: { rules: [] }, configured: [CHECKPOINTS], versioning: 'Enabled' });
    expect(unversioned.notices.join()).toContain('noncurrentVersionExpirationDays has no effect');
    expect(versioned.notices.join()).not.toContain('no effect');
  });

  it('does not add our rule beside a legacy top-level Prefix rule, and says why', () => {
    const plan = planBucketLifecycle({
      current: { rules: [{ ID: 'v1', Prefix: 'logs/', Status: 'Enabled', Expiration: { Days: 9 } }] },
      configured: [EXPERIMENTS],
    });
    expect(plan.decision).toBe('legacy-format');
    expect(plan.errors[0]).toContain("'v1'");
  });

  it('plans removing our rules when the config has none, keeping the user rules', () => {
    const user = userRule('logs', 'logs/');
    const plan = planBucketLifecycle({ current: { rules: [user, toS3Rule(EXPERIMENTS)] }, configured: [] });
    expect(plan.decision).toBe('change');
    expect(plan.after.rules).toEqual([user]);
  });
});

describe('Function: diffManagedRules', () => {
  it('ignores user rules', () => {
    expect(diffManagedRules([userRule('a', 'a/')], [])).toEqual([]);
  });
});

describe('Function: projectLifecycleSavings', () => {
  const pricing = createPricing();
  const bytes = { STANDARD: 1000 * BYTES_PER_GB, GLACIER: 10 * BYTES_PER_GB };

  it('reports the least-saving tiering rule and a range up to the most-saving one', () => {
    // Act
    const p = projectLifecycleSavings(bytes, [...DEFAULT_LIFECYCLE_RULES], pricing)!;
    // Assess: both ends are the savings model's own projections of the whole Standard volume
    const experiments = projectBucketSavings({ bytesByClass: bytes }, EXPERIMENTS, pricing).monthlySavingsUsd;
    const checkpoints = projectBucketSavings({ bytesByClass: bytes }, CHECKPOINTS, pricing).monthlySavingsUsd;
    expect(p.lowUsd).toBe(Math.min(experiments, checkpoints));
    expect(p.highUsd).toBe(Math.max(experiments, checkpoints));
    expect(p.monthlySavingsUsd).toBe(p.lowUsd);
    expect(p.basisRuleId).toBe('cost-guard-model-checkpoints');
    expect(p.standardGb).toBe(1000);
    expect(p.method).toContain('assumes all Standard bytes are under managed prefixes');
  });

  it('projects nothing without size data or without a tiering rule', () => {
    expect(projectLifecycleSavings(undefined, [EXPERIMENTS], pricing)).toBeUndefined();
    expect(
      projectLifecycleSavings(bytes, [{ id: 'x', prefix: 'x/', transitions: [], expirationDays: 3 }], pricing),
    ).toBeUndefined();
  });
});

describe('Function: selectsByTag', () => {
  it('is on unless storage.selectByTag is false', () => {
    expect(selectsByTag({})).toBe(true);
    expect(selectsByTag({ selectByTag: false })).toBe(false);
  });
});
