import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { AUTO_SCALING_TAG, FLEET_TAG_KEYS, KUBERNETES_TAG_KEYS } from '../../lambda/core/reaper/decide';
import {
  GPU_INSTANCE_TYPE_PATTERNS,
  matchesInstanceTypePattern,
  NEURON_INSTANCE_TYPE_PATTERNS,
} from '../../lambda/core/reaper/instance-families';
import { IdleGpuReaper } from '../../lib/constructs/idle-gpu-reaper';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { oncePerArgs } from '../helpers/once-per-args';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The reaper stack; dry-run is off unless `raw` turns it on (the construct's destructive grants need it off). */
const synth = oncePerArgs(function synth(raw: CostGuardConfigInput = {}, env: boolean = true) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ReaperTest', env ? { env: { account: ACCOUNT, region: REGION } } : {});
  const config = parseConfig({ dryRun: false, ...raw });
  const shared = new SharedResources(stack, 'Shared', { config });
  const reaper = new IdleGpuReaper(stack, 'Reaper', { config, shared });
  return { app, stack, reaper, template: Template.fromStack(stack) };
});

type Json = unknown;

/** Resolves the intrinsics a synthesized policy uses into plain strings, for the simulator. */
function resolve(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const o = value as Record<string, Json>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map((p) => String(resolve(p))).join(sep);
    }
    if ('Ref' in o) {
      const ref = o.Ref as string;
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::AccountId') return ACCOUNT;
      if (ref === 'AWS::Region') return REGION;
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${ref}`;
    }
    if ('Fn::GetAtt' in o) {
      const [id] = o['Fn::GetAtt'] as [string];
      return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}`;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

/** The reaper role's synthesized identity policy, resolved. */
function reaperPolicy(template: Template): Json {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: Json; Roles: { Ref: string }[] };
  }[];
  const policy = policies.find((p) => p.Properties.Roles.some((r) => r.Ref.startsWith('ReaperFunctionRole')));
  if (!policy) throw new Error('reaper policy not found');
  return resolve(policy.Properties.PolicyDocument);
}

/** A request on a g5.xlarge instance (EC2 gives IAM the instance's type) unless the context names another. */
async function simulate(policy: Json, action: string, context: Record<string, string | string[]>) {
  const contextVariables = { 'ec2:InstanceType': 'g5.xlarge', ...context };
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:role/reaper`,
        action,
        resource: { resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`, accountId: ACCOUNT },
        contextVariables,
      },
      identityPolicies: [{ name: 'reaper', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

describe('Construct: IdleGpuReaper', () => {
  it('schedules the function from config.idleGpu.schedule with reserved concurrency 1 and a 10-minute timeout', () => {
    // Act
    const { template } = synth({ idleGpu: { schedule: 'rate(2 hours)' } });
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(2 hours)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: 600,
      Environment: { Variables: Match.objectLike({ COST_GUARD_CONFIG: Match.stringLikeRegexp('"idleGpu"') }) },
    });
  });

  it('gives the function only the idleGpu section besides the shared keys', () => {
    const { template } = synth();
    const fns = template.findResources('AWS::Lambda::Function');
    const env = (Object.values(fns)[0] as { Properties: { Environment: { Variables: Record<string, string> } } })
      .Properties.Environment.Variables;
    const config = JSON.parse(env.COST_GUARD_CONFIG!) as Record<string, unknown>;
    expect(Object.keys(config).sort()).toEqual(['dryRun', 'idleGpu', 'pricing', 'regions', 'slack', 'tags']);
  });

  it('allows terminate only when the opt-out tag is not true and denies it explicitly when it is', () => {
    const { template } = synth({ idleGpu: { action: 'terminate' } });
    const statements = [
      {
        Effect: 'Allow',
        Action: 'ec2:TerminateInstances',
        Condition: {
          StringNotEqualsIgnoreCase: { 'aws:ResourceTag/cost-guard:opt-out': 'true' },
          StringLike: { 'ec2:InstanceType': ['g*', 'p*', 'dl*'] },
        },
      },
      {
        Effect: 'Deny',
        Action: ['ec2:TerminateInstances', 'ec2:StopInstances'],
        Condition: { StringEqualsIgnoreCase: { 'aws:ResourceTag/cost-guard:opt-out': 'true' } },
      },
      {
        Effect: 'Allow',
        Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
        Condition: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['cost-guard:idle-since'] },
          Null: { 'aws:TagKeys': 'false' },
        },
      },
    ];
    for (const statement of statements) {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(statement)]) },
      });
    }
  });

  it('grants no terminate, stop or tagging when the action is notify', () => {
    const { template } = synth({ idleGpu: { action: 'notify' } });
    const json = JSON.stringify(reaperPolicy(template));
    const policy = reaperPolicy(template) as { Statement: { Effect: string; Action: string | string[] }[] };
    const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    expect(allowed).not.toContain('ec2:TerminateInstances');
    expect(allowed).not.toContain('ec2:StopInstances');
    expect(allowed).not.toContain('ec2:CreateTags');
    expect(json).toContain('ec2:DescribeInstances');
  });

  it.each([
    ['dryRun: true', { dryRun: true, idleGpu: { action: 'terminate' } }],
    ['action notify', { idleGpu: { action: 'notify' } }],
  ] as [string, CostGuardConfigInput][])('holds no stop, terminate or tag write with %s', (_, raw) => {
    // Act
    const policy = reaperPolicy(synth(raw).template) as { Statement: { Effect: string; Action: string | string[] }[] };
    // Assess
    const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    for (const action of [
      'ec2:TerminateInstances',
      'ec2:StopInstances',
      'ec2:StartInstances',
      'ec2:CreateTags',
      'ec2:DeleteTags',
    ]) {
      expect(allowed).not.toContain(action);
    }
    // Reads and the state table stay; the Denies stay as a backstop.
    expect(allowed).toEqual(
      expect.arrayContaining(['ec2:DescribeInstances', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem']),
    );
    expect(policy.Statement.filter((s) => s.Effect === 'Deny').length).toBeGreaterThan(0);
  });

  it('limits stop/terminate to Neuron types too only with idleGpu.includeNeuron', () => {
    const condition = (includeNeuron: boolean) => {
      const policy = reaperPolicy(synth({ idleGpu: { action: 'stop', includeNeuron } }).template) as {
        Statement: { Sid?: string; Condition?: { StringLike?: Record<string, string[]> } }[];
      };
      return policy.Statement.find((s) => s.Sid === 'ActOnReapableTypesNotOptedOut')?.Condition?.StringLike;
    };
    expect(condition(false)).toEqual({ 'ec2:InstanceType': [...GPU_INSTANCE_TYPE_PATTERNS] });
    expect(condition(true)).toEqual({
      'ec2:InstanceType': [...GPU_INSTANCE_TYPE_PATTERNS, ...NEURON_INSTANCE_TYPE_PATTERNS],
    });
  });

  it('denies stop/terminate on Auto Scaling, fleet, EKS and Karpenter members, one Null condition per tag key', () => {
    const policy = reaperPolicy(synth({ idleGpu: { action: 'stop' } }).template) as {
      Statement: { Effect: string; Action: string[]; Condition?: { Null?: Record<string, string> } }[];
    };
    const denied = policy.Statement.filter((s) => s.Effect === 'Deny' && s.Condition?.Null).map((s) => {
      expect(s.Action).toEqual(['ec2:TerminateInstances', 'ec2:StopInstances']);
      expect(Object.keys(s.Condition!.Null!)).toHaveLength(1);
      return s.Condition!.Null!;
    });
    expect(denied).toEqual(
      [AUTO_SCALING_TAG, ...FLEET_TAG_KEYS, ...KUBERNETES_TAG_KEYS].map((k) => ({ [`aws:ResourceTag/${k}`]: 'false' })),
    );
  });

  it('reads and writes its warnings, state records and the savings ledger, with the table name in its environment', () => {
    const { template } = synth({ idleGpu: { action: 'stop' } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.stateTable]: { Ref: Match.stringLikeRegexp('StateTable') } }) },
    });
    const policy = reaperPolicy(template) as { Statement: { Action: string | string[]; Resource: unknown }[] };
    const table = policy.Statement.filter((s) => JSON.stringify(s.Action).includes('dynamodb:'));
    expect(table).toHaveLength(1);
    expect(table[0]!.Action).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('is never retried automatically by Lambda: a retried run would act again in the same period', () => {
    const { template } = synth({ idleGpu: { action: 'terminate' } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 0 }) }),
    });
  });

  it('scopes instance actions to the configured regions', () => {
    const { template } = synth({ regions: ['us-west-2', 'eu-west-1'], idleGpu: { action: 'stop' } });
    const json = JSON.stringify(reaperPolicy(template));
    expect(json).toContain(`arn:aws:ec2:us-west-2:${ACCOUNT}:instance/*`);
    expect(json).toContain(`arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/*`);
    expect(json).not.toContain(`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`);
  });

  it.each<[CostGuardConfigInput, boolean]>([
    [{}, true],
    [{ regions: ['us-west-2', 'eu-west-1'] }, true],
    [{}, false],
  ])('leaves no unacknowledged cdk-nag finding under the construct (config %j, env %s)', (raw, env) => {
    // Prepare
    const { app } = synth({ ...raw, idleGpu: { action: 'terminate' } }, env);
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);
    // Assess
    const mine = report.violations.filter((v) =>
      v.violatingResources.some((r) => r.constructPath?.startsWith('ReaperTest/Reaper/')),
    );
    expect(mine).toEqual([]);
  });
});

describe('Instance type patterns (lambda/core/reaper/instance-families.ts)', () => {
  it.each([
    'g4dn.xlarge',
    'g5.xlarge',
    'g6e.xlarge',
    'gr6.4xlarge',
    'p3.2xlarge',
    'p4d.24xlarge',
    'p5.48xlarge',
    'dl1.24xlarge',
  ])('matches the GPU type %s', (type) => {
    expect(matchesInstanceTypePattern(type, GPU_INSTANCE_TYPE_PATTERNS)).toBe(true);
  });

  it.each([
    'm5.large',
    'c7g.xlarge',
    't3.micro',
    'r6i.large',
    'inf2.xlarge',
    'trn1.32xlarge',
    'vt1.3xlarge',
    'f1.2xlarge',
  ])('does not match %s as a GPU type', (type) => {
    expect(matchesInstanceTypePattern(type, GPU_INSTANCE_TYPE_PATTERNS)).toBe(false);
  });

  it('matches Neuron types with the Neuron patterns only', () => {
    expect(matchesInstanceTypePattern('inf2.xlarge', NEURON_INSTANCE_TYPE_PATTERNS)).toBe(true);
    expect(matchesInstanceTypePattern('trn1n.32xlarge', NEURON_INSTANCE_TYPE_PATTERNS)).toBe(true);
    expect(matchesInstanceTypePattern('g5.xlarge', NEURON_INSTANCE_TYPE_PATTERNS)).toBe(false);
  });

  it('reads ? as one character and escapes the rest, as IAM StringLike does', () => {
    expect(matchesInstanceTypePattern('g5.xlarge', ['g?.xlarge'])).toBe(true);
    expect(matchesInstanceTypePattern('g5x.xlarge', ['g?.xlarge'])).toBe(false);
    expect(matchesInstanceTypePattern('g5Xxlarge', ['g5.xlarge'])).toBe(false);
  });
});

describe('IAM policy (simulated with @cloud-copilot/iam-simulate)', () => {
  let policy: Json;
  beforeAll(() => {
    policy = reaperPolicy(synth({ idleGpu: { action: 'terminate' } }).template);
  });

  it.each([
    ['true', 'ExplicitlyDenied'],
    ['TRUE', 'ExplicitlyDenied'],
    ['True', 'ExplicitlyDenied'],
    ['false', 'Allowed'],
  ])('TerminateInstances on an instance tagged opt-out=%s is %s', async (value, expected) => {
    const result = await simulate(policy, 'ec2:TerminateInstances', {
      'aws:ResourceTag/cost-guard:opt-out': value,
    });
    expect(result).toBe(expected);
  });

  it('allows TerminateInstances on an untagged instance', async () => {
    await expect(simulate(policy, 'ec2:TerminateInstances', {})).resolves.toBe('Allowed');
  });

  it.each(['m5.large', 'inf2.xlarge'])('does not allow TerminateInstances on an untagged %s', async (type) => {
    await expect(simulate(policy, 'ec2:TerminateInstances', { 'ec2:InstanceType': type })).resolves.toBe(
      'ImplicitlyDenied',
    );
  });

  it.each(['aws:autoscaling:groupName', 'eks:cluster-name', 'eks:eks-cluster-name', 'karpenter.sh/nodepool'])(
    'explicitly denies TerminateInstances on a g5 tagged %s',
    async (key) => {
      await expect(simulate(policy, 'ec2:TerminateInstances', { [`aws:ResourceTag/${key}`]: 'x' })).resolves.toBe(
        'ExplicitlyDenied',
      );
    },
  );

  it('does not allow StopInstances when the action is terminate', async () => {
    await expect(simulate(policy, 'ec2:StopInstances', {})).resolves.toBe('ImplicitlyDenied');
  });

  it('allows CreateTags for the idle-since key only', async () => {
    await expect(simulate(policy, 'ec2:CreateTags', { 'aws:TagKeys': ['cost-guard:idle-since'] })).resolves.toBe(
      'Allowed',
    );
    await expect(simulate(policy, 'ec2:CreateTags', { 'aws:TagKeys': ['Name'] })).resolves.toBe('ImplicitlyDenied');
  });

  it.each([['cost-guard:opt-out'], ['COST-GUARD:OPT-OUT'], ['cost-guard:keep-until']])(
    'denies CreateTags and DeleteTags with the protection key %s',
    async (key) => {
      await expect(simulate(policy, 'ec2:CreateTags', { 'aws:TagKeys': [key] })).resolves.toBe('ExplicitlyDenied');
      await expect(simulate(policy, 'ec2:DeleteTags', { 'aws:TagKeys': ['cost-guard:idle-since', key] })).resolves.toBe(
        'ExplicitlyDenied',
      );
    },
  );

  it('does not allow DeleteTags without tag keys (which would delete every tag)', async () => {
    await expect(simulate(policy, 'ec2:DeleteTags', {})).resolves.toBe('ImplicitlyDenied');
  });
});
