import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lambda/core/config';
import { MANAGED_TAG_KEYS } from '../../lambda/core/managed';
import { BudgetGuard, tagKeyValueFilter } from '../../lib/constructs/budget-guard';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { oncePerArgs } from '../helpers/once-per-args';

const fastApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

const guardStack = oncePerArgs(function guardStack(raw: unknown = {}) {
  const app = fastApp();
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const config = parseConfig(raw);
  const shared = new SharedResources(stack, 'Shared', { config });
  const guard = new BudgetGuard(stack, 'BudgetGuard', { config, shared });
  return { app, stack, config, guard, template: Template.fromStack(stack) };
});

/** A guard configured to act: dry-run off, action stop-non-essential. */
const BUDGETS = {
  dryRun: false,
  budgets: {
    action: 'stop-non-essential',
    alertPercent: 70,
    actionPercent: 90,
    items: [{ name: 'ml-platform', limitUsd: 5000, scopeTags: { team: 'ml' } }, { name: 'existing-budget' }],
  },
};

const statements = (template: Template) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties.PolicyDocument
        .Statement,
  );

describe('Construct: BudgetGuard', () => {
  it('creates a monthly COST budget per item with a limit, notifying at the configured percentages', () => {
    // Act
    const { template } = guardStack(BUDGETS);
    // Assess: only the item with limitUsd; the other one is an existing budget that is watched.
    template.resourceCountIs('AWS::Budgets::Budget', 1);
    const topic = { Ref: Match.stringLikeRegexp('BudgetGuardNotifications') };
    const notification = (type: string, threshold: number) => ({
      Notification: {
        NotificationType: type,
        ComparisonOperator: 'GREATER_THAN',
        Threshold: threshold,
        ThresholdType: 'PERCENTAGE',
      },
      Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
    });
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'ml-platform',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 5000, Unit: 'USD' },
        CostFilters: { TagKeyValue: ['user:team$ml'] },
      },
      NotificationsWithSubscribers: [
        notification('ACTUAL', 70),
        notification('ACTUAL', 90),
        notification('FORECASTED', 100),
      ],
    });
  });

  it('names cost allocation tags the way AWS Budgets filters them', () => {
    expect(tagKeyValueFilter('team', 'ml')).toBe('user:team$ml');
  });

  it('warns at synth that several scope tags are ORed by AWS Budgets', () => {
    const { stack } = guardStack({
      budgets: { items: [{ name: 'b', limitUsd: 10, scopeTags: { team: 'ml', env: 'dev' } }] },
    });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('ANY of its 2 scope tags'));
  });

  it('encrypts the topic with a rotating KMS key that AWS Budgets may use, and enforces SSL', () => {
    // Act
    const { template } = guardStack(BUDGETS);
    // Assess
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '111122223333' } }),
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('BudgetGuardTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': '111122223333' } }),
          }),
        ]),
      },
    });
  });

  it('subscribes the Lambda to the topic and schedules it, one run at a time', () => {
    const { template } = guardStack(BUDGETS);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: Match.stringLikeRegexp('BudgetGuardNotifications') },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'sns.amazonaws.com' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({ COST_GUARD_STATE_TABLE: { Ref: Match.stringLikeRegexp('StateTable') } }),
      },
    });
  });

  it('sends failed events, without automatic retries (a retry could stop instances twice), to an encrypted SSL-only queue with an alarm', () => {
    // Act
    const { template } = guardStack(BUDGETS);
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] } },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(statements(template)).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Action: expect.arrayContaining(['sqs:SendMessage']) }),
    );
  });

  it('lets the function stop (never start) only instances not tagged essential or opted out', () => {
    // Act
    const all = statements(guardStack(BUDGETS).template);
    // Assess
    expect(JSON.stringify(all)).not.toContain('ec2:StartInstances');
    const stopStart = all.filter((s) => JSON.stringify(s.Action).includes('ec2:StopInstances'));
    expect(stopStart).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Condition: {
          StringNotEqualsIgnoreCase: {
            'aws:ResourceTag/cost-guard:essential': 'true',
            'aws:ResourceTag/cost-guard:opt-out': 'true',
          },
        },
      }),
    );
    for (const key of ['cost-guard:essential', 'cost-guard:opt-out']) {
      expect(stopStart).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { StringEqualsIgnoreCase: { [`aws:ResourceTag/${key}`]: 'true' } },
        }),
      );
    }
    expect(all).toContainEqual(
      expect.objectContaining({
        Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
        Condition: {
          'ForAllValues:StringEquals': {
            'aws:TagKeys': ['cost-guard:stopped-by', 'cost-guard:stopped-at', 'cost-guard:stopped-budget'],
          },
          Null: { 'aws:TagKeys': 'false' },
        },
      }),
    );
    expect(all).toContainEqual(expect.objectContaining({ Action: 'budgets:ViewBudget' }));
  });

  it('uses the configured protection tag keys', () => {
    const all = statements(guardStack({ ...BUDGETS, tags: { essential: 'keep', optOut: 'skip' } }).template);
    expect(all).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Condition: { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/keep': 'true', 'aws:ResourceTag/skip': 'true' } },
      }),
    );
  });

  it.each([
    ['dry-run', { dryRun: true, budgets: { action: 'stop-non-essential' } }],
    ['notify', { dryRun: false, budgets: { action: 'notify' } }],
  ])('grants no stop and no tag write in %s mode, and keeps the protection Denies', (_, raw) => {
    // Act
    const all = statements(guardStack(raw).template);
    // Assess
    const allowed = all.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    for (const action of ['ec2:StopInstances', 'ec2:StartInstances', 'ec2:CreateTags', 'ec2:DeleteTags']) {
      expect(allowed).not.toContain(action);
    }
    // Two Denies per protection tag (essential, opt-out) plus one per managed-instance tag key.
    expect(
      all.filter((s) => s.Effect === 'Deny' && JSON.stringify(s.Action).includes('ec2:StopInstances')).length,
    ).toBe(4 + MANAGED_TAG_KEYS.length);
    expect(allowed).toContain('budgets:ViewBudget');
  });

  it('may call only the state table actions of state records and the ledger', () => {
    const all = statements(guardStack(BUDGETS).template);
    const table = all.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(table).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: [
          'dynamodb:BatchWriteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/StateTable/), 'Arn'] },
      }),
    ]);
  });

  it.each([
    ['an account-specific stack', { account: '111122223333', region: 'us-east-1' }],
    ['an environment-agnostic stack', undefined],
  ])('passes cdk-nag AwsSolutions without unacknowledged findings in %s', (_, env) => {
    // Prepare
    const app = fastApp();
    const stack = new Stack(app, 'Test', env ? { env } : {});
    const config = parseConfig(BUDGETS);
    new BudgetGuard(stack, 'BudgetGuard', { config, shared: new SharedResources(stack, 'Shared', { config }) });
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);
    // Assess
    const mine = report.violations
      .filter((v) => v.violatingResources.some((r) => r.constructPath?.includes('/BudgetGuard/')))
      .map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(mine).toEqual([]);
  });
});

const ACCOUNT = '111122223333';

/** Resolves the intrinsics of the guard's synthesized policy into plain strings, for the simulator. */
function resolveIntrinsics(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveIntrinsics);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(resolveIntrinsics(p))).join(sep);
    }
    if ('Ref' in o) return o.Ref === 'AWS::Partition' ? 'aws' : `arn:aws:resource:::${String(o.Ref)}`;
    if ('Fn::GetAtt' in o) return `arn:aws:resource:::${(o['Fn::GetAtt'] as string[])[0]}`;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveIntrinsics(v)]));
  }
  return value;
}

describe('IAM policy of the budget guard (simulated with @cloud-copilot/iam-simulate)', () => {
  let policy: unknown;
  beforeAll(() => {
    const { template } = guardStack(BUDGETS);
    const found = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: unknown; Roles: { Ref: string }[] };
    }[];
    const mine = found.find((p) => p.Properties.Roles.some((r) => r.Ref.startsWith('BudgetGuardFunctionRole')));
    policy = resolveIntrinsics(mine!.Properties.PolicyDocument);
  });

  async function simulate(action: string, contextVariables: Record<string, string | string[]>, resource?: string) {
    const result = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/budget-guard`,
          action,
          resource: {
            resource: resource ?? `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-0123456789abcdef0`,
            accountId: ACCOUNT,
          },
          contextVariables,
        },
        identityPolicies: [{ name: 'budget-guard', policy: policy as never }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  it.each([
    ['ec2:StopInstances', 'cost-guard:essential', 'true', 'ExplicitlyDenied'],
    ['ec2:StopInstances', 'cost-guard:essential', 'TRUE', 'ExplicitlyDenied'],
    ['ec2:StopInstances', 'cost-guard:opt-out', 'True', 'ExplicitlyDenied'],
    ['ec2:StartInstances', 'cost-guard:essential', 'false', 'ImplicitlyDenied'],
    ['ec2:StopInstances', 'cost-guard:essential', 'false', 'Allowed'],
  ])('%s on an instance tagged %s=%s is %s', async (action, key, value, expected) => {
    await expect(simulate(action, { [`aws:ResourceTag/${key}`]: value })).resolves.toBe(expected);
  });

  it('allows stopping an untagged instance', async () => {
    await expect(simulate('ec2:StopInstances', {})).resolves.toBe('Allowed');
  });

  it('does not allow terminating anything', async () => {
    await expect(simulate('ec2:TerminateInstances', {})).resolves.toBe('ImplicitlyDenied');
  });

  it('allows tagging only with the stopped-* keys, and never a keyless DeleteTags', async () => {
    await expect(
      simulate('ec2:CreateTags', { 'aws:TagKeys': ['cost-guard:stopped-by', 'cost-guard:stopped-at'] }),
    ).resolves.toBe('Allowed');
    await expect(simulate('ec2:CreateTags', { 'aws:TagKeys': ['cost-guard:essential'] })).resolves.toBe(
      'ImplicitlyDenied',
    );
    await expect(simulate('ec2:DeleteTags', {})).resolves.toBe('ImplicitlyDenied');
  });

  it('reads budgets of its own account only', async () => {
    await expect(simulate('budgets:ViewBudget', {}, `arn:aws:budgets::${ACCOUNT}:budget/ml-platform`)).resolves.toBe(
      'Allowed',
    );
    await expect(simulate('budgets:ViewBudget', {}, 'arn:aws:budgets::999999999999:budget/ml-platform')).resolves.toBe(
      'ImplicitlyDenied',
    );
  });
});
