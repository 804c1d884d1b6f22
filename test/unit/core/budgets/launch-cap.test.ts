import {
  decideLaunchCap,
  type LaunchCapInput,
  type LaunchCapRecord,
  launchCapChangeMessage,
  launchCapMessage,
  launchCapPolicyArn,
  launchCapPolicyName,
  launchCapStatement,
  partitionOf,
} from '../../../../lambda/core/budgets/launch-cap';
import { matchesInstanceTypePattern } from '../../../../lambda/core/reaper/instance-families';
import { messageToText } from '../../../../lambda/core/slack-blocks';

const NOV = { key: '2026-11', end: '2026-12-01T00:00:00.000Z' };
const DEC = { key: '2026-12', end: '2027-01-01T00:00:00.000Z' };
const IN_NOV = new Date('2026-11-20T10:00:00Z');
const IN_DEC = new Date('2026-12-01T01:00:00Z');
const ROLES = ['ml-training', 'ml-research'];
const ARN = 'arn:aws:iam::111122223333:policy/ml-cost-guard-launch-cap-ml-platform-0';

const record = (over: Partial<LaunchCapRecord> = {}): LaunchCapRecord => ({
  budget: 'ml-platform',
  status: 'attached',
  period: NOV.key,
  periodEnd: NOV.end,
  policyArn: ARN,
  roles: ROLES,
  failed: [],
  announced: ROLES,
  attachedAt: '2026-11-18T09:00:00.000Z',
  ...over,
});

const input = (over: Partial<LaunchCapInput> = {}): LaunchCapInput => ({
  record: undefined,
  now: IN_NOV,
  roles: ROLES,
  period: NOV,
  actionCrossed: true,
  ...over,
});

describe('Function: decideLaunchCap', () => {
  it.each<[string, Partial<LaunchCapInput>, Partial<ReturnType<typeof decideLaunchCap>>]>([
    // Putting it on.
    [
      'no record, action crossed: attach every role, announced first',
      {},
      { attach: ROLES, announce: ROLES, detach: [], why: 'action-threshold', period: NOV },
    ],
    [
      'no record, action not crossed: nothing',
      { actionCrossed: false },
      { attach: [], detach: [], why: 'not-crossed' },
    ],
    ['no record, cap off (no roles): nothing', { roles: [] }, { attach: [], detach: [], why: 'not-crossed' }],
    [
      'no record, budget unreadable (no period): nothing, even if crossed',
      { period: undefined },
      { attach: [], detach: [], why: 'not-crossed' },
    ],
    // Idempotence: a cap in force is left alone.
    [
      'attached this period, same roles: in force, no call',
      { record: record() },
      { attach: [], detach: [], why: 'in-force', period: NOV },
    ],
    [
      'attached this period, action no longer crossed (spend corrected): stays until the period ends',
      { record: record(), actionCrossed: false },
      { attach: [], detach: [], why: 'in-force' },
    ],
    [
      'attached, budget unreadable this run, period not over: in force',
      { record: record(), period: undefined },
      { attach: [], detach: [], why: 'in-force' },
    ],
    // Period rollover.
    [
      'attached last period, new period key: detach every role',
      { record: record(), now: IN_DEC, period: DEC, actionCrossed: false },
      { attach: [], detach: ROLES, why: 'period-ended' },
    ],
    [
      'attached last period and already over again: detach first (the next run attaches for the new period)',
      { record: record(), now: IN_DEC, period: DEC, actionCrossed: true },
      { attach: [], detach: ROLES, why: 'period-ended' },
    ],
    [
      'attached, budget unreadable, past the recorded period end: detach',
      { record: record(), now: IN_DEC, period: undefined },
      { attach: [], detach: ROLES, why: 'period-ended' },
    ],
    [
      'detached last period, over in the new period: attach again, announced',
      { record: record({ status: 'detached' }), now: IN_DEC, period: DEC },
      { attach: ROLES, announce: ROLES, why: 'action-threshold', period: DEC },
    ],
    // Restore and config changes.
    [
      'lifted by restore this period: stays off',
      { record: record({ status: 'lifted' }) },
      { attach: [], detach: [], why: 'lifted-this-period' },
    ],
    [
      'lifted by restore last period, over again in the new one: attach',
      { record: record({ status: 'lifted' }), now: IN_DEC, period: DEC },
      { attach: ROLES, why: 'action-threshold' },
    ],
    [
      'attached, launchCap turned off: detach every role',
      { record: record(), roles: [] },
      { attach: [], detach: ROLES, why: 'cap-off' },
    ],
    [
      'attached, a role removed and one added: detach the one, attach (and announce) the other',
      { record: record(), roles: ['ml-training', 'vision'] },
      { attach: ['vision'], announce: ['vision'], detach: ['ml-research'], why: 'roles-changed' },
    ],
    [
      'attached with a failed attach: retry it without announcing again',
      { record: record({ failed: ['ml-research'] }) },
      { attach: ['ml-research'], announce: [], detach: [], why: 'retry' },
    ],
  ])('%s', (_label, over, expected) => {
    expect(decideLaunchCap(input(over))).toMatchObject(expected);
  });

  it('is idempotent: applying a decision and deciding again from its result changes nothing', () => {
    // Prepare: the first run of the period attaches.
    const first = decideLaunchCap(input());
    const after = record({ roles: first.attach, announced: first.announce });
    // Act
    const second = decideLaunchCap(input({ record: after }));
    const third = decideLaunchCap(input({ record: after, actionCrossed: false }));
    // Assess
    expect(second).toMatchObject({ attach: [], detach: [], why: 'in-force' });
    expect(third).toMatchObject({ attach: [], detach: [], why: 'in-force' });
  });

  it('rolls over once: after the detach of the old period, the next run of the new period does nothing', () => {
    // Prepare
    const rollover = decideLaunchCap(input({ record: record(), now: IN_DEC, period: DEC, actionCrossed: false }));
    const detached = record({ status: 'detached', roles: rollover.detach, endedBy: 'period-ended' });
    // Act
    const next = decideLaunchCap(input({ record: detached, now: IN_DEC, period: DEC, actionCrossed: false }));
    // Assess
    expect(rollover.detach).toEqual(ROLES);
    expect(next).toMatchObject({ attach: [], detach: [], why: 'not-crossed' });
  });
});

describe('Function: launchCapPolicyName', () => {
  it('is a valid IAM policy name of at most 128 characters, whatever the budget name', () => {
    for (const name of ['ml-platform', 'team ml (prod) €', 'x'.repeat(100), 'a/b*c']) {
      expect(launchCapPolicyName(name)).toMatch(/^ml-cost-guard-launch-cap-[\w+=,.@-]+-[0-9a-f]{8}$/);
      expect(launchCapPolicyName(name).length).toBeLessThanOrEqual(128);
    }
  });

  it('keeps budgets apart that read the same once sanitized, and is stable', () => {
    expect(launchCapPolicyName('team a')).not.toBe(launchCapPolicyName('team/a'));
    expect(launchCapPolicyName('ml-platform')).toBe(launchCapPolicyName('ml-platform'));
  });

  it('makes the ARN in the partition of the region', () => {
    expect(partitionOf('us-east-1')).toBe('aws');
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(launchCapPolicyArn('aws', '111122223333', 'ml')).toBe(
      `arn:aws:iam::111122223333:policy/${launchCapPolicyName('ml')}`,
    );
  });
});

describe('Function: launchCapStatement', () => {
  it('denies RunInstances and StartInstances of GPU types only', () => {
    // Act
    const st = launchCapStatement('aws');
    const patterns = st.Condition.StringLike['ec2:InstanceType'];
    // Assess
    expect(st).toMatchObject({ Effect: 'Deny', Action: ['ec2:RunInstances', 'ec2:StartInstances'] });
    for (const t of ['g5.xlarge', 'p4d.24xlarge', 'p5.48xlarge', 'dl1.24xlarge', 'g6e.xlarge']) {
      expect(matchesInstanceTypePattern(t, patterns)).toBe(true);
    }
    for (const t of ['t3.micro', 'm5.large', 'c7g.xlarge', 'inf2.xlarge', 'r6i.2xlarge']) {
      expect(matchesInstanceTypePattern(t, patterns)).toBe(false);
    }
  });
});

describe('Launch cap messages', () => {
  const notice = { budget: 'ml-platform', roles: ROLES, until: NOV.end, mode: 'apply' as const };

  it('names the roles, the GPU types, when it ends and how to lift it', () => {
    const text = messageToText(launchCapMessage(notice, 96.2));
    expect(text).toContain('Budget ml-platform at 96.2%: GPU launch cap');
    expect(text).toContain(
      'denying launching or starting GPU instances (`g*`, `p*`, `dl*`) by `ml-training`, `ml-research`',
    );
    expect(text).toContain(
      'until the budget period ends (2026-12-01) or `npx cost-guard restore --budget ml-platform`',
    );
  });

  it('says a dry run or a missing Slack token applied nothing', () => {
    expect(messageToText(launchCapMessage({ ...notice, mode: 'dry-run' }))).toContain('Nothing was attached');
    expect(messageToText(launchCapMessage({ ...notice, mode: 'unheard' }))).toContain('not applied');
  });

  it('says what came off and what failed', () => {
    const text = messageToText(
      launchCapChangeMessage({
        budget: 'ml-platform',
        detached: ['ml-training'],
        why: 'period-ended',
        failed: [{ role: 'ml-research', code: 'AccessDenied', attach: false }],
      }),
    );
    expect(text).toContain('GPU launches are allowed again for `ml-training`: the budget period ended.');
    expect(text).toContain('could not take the cap off `ml-research` (AccessDenied)');
  });
});
