/**
 * Proof suite, IAM, for the Slack interactivity function's role (issue 12): it may write only the keep-until tag (and,
 * on restore, remove the guard's stopped-* tags) and the state table; it stops or terminates only through the
 * reaper's own conditions (GPU types, not opted out, not managed), starts only instances carrying the guard's
 * stopped-by tag, and with dryRun holds none of those writes. Every denial has an allowed control beside it.
 * Evaluated offline with @cloud-copilot/iam-simulate on the synthesized policy.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { SlackInteractivity } from '../../lib/constructs/slack-interactivity';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const INSTANCE = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ml-cost-guard-state`;
const KEEP_UNTIL = 'cost-guard:keep-until';
const STOPPED_BY = 'cost-guard:stopped-by';

type Json = unknown;

function resolve(value: Json): Json {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const o = value as Record<string, Json>;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map((p) => String(resolve(p))).join(sep);
    }
    if ('Ref' in o) {
      const ref = String(o.Ref);
      if (ref === 'AWS::Partition') return 'aws';
      if (ref === 'AWS::AccountId') return ACCOUNT;
      if (ref === 'AWS::Region') return REGION;
      return `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${ref}-AbCdEf`;
    }
    if ('Fn::GetAtt' in o) {
      const [id] = o['Fn::GetAtt'] as [string];
      if (id.includes('StateTable')) return TABLE;
      if (id.includes('Logs')) return `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}`;
      if (id.includes('Queue')) return `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`;
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

/** Every identity policy of the interactivity function's role, resolved. */
function slackPolicies(raw: NonNullable<CostGuardConfigInput>): { name: string; policy: Json }[] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SlackProof', { env: { account: ACCOUNT, region: REGION } });
  const config = parseConfig({ dryRun: false, ...raw, slack: { interactivity: true, teamId: 'T0TEST', ...raw.slack } });
  const shared = new SharedResources(stack, 'Shared', { config });
  new SlackInteractivity(stack, 'Slack', { config, shared });
  const policies = Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as [
    string,
    { Properties: { PolicyDocument: Json; Roles: { Ref: string }[] } },
  ][];
  const mine = policies.filter(([, p]) => p.Properties.Roles.some((r) => r.Ref.startsWith('SlackFunctionRole')));
  if (mine.length < 2) throw new Error(`expected the role's policies (default and invoke-self), found ${mine.length}`);
  return mine.map(([name, p]) => ({ name, policy: resolve(p.Properties.PolicyDocument) }));
}

async function decide(
  policies: { name: string; policy: Json }[],
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${ACCOUNT}:role/slack`,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: resource === INSTANCE ? { 'ec2:InstanceType': 'g5.xlarge', ...context } : context,
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

const STOP = slackPolicies({ idleGpu: { action: 'stop' } });
const TERMINATE = slackPolicies({ idleGpu: { action: 'terminate' } });
const DRY_RUN = slackPolicies({ dryRun: true, idleGpu: { action: 'terminate' } });

describe('IAM proof: the Slack interactivity role', () => {
  it.each<[string, string, string, Record<string, string | string[]>, string]>([
    // Tags: only the keep-until key (control first).
    ['writes the keep-until tag', 'ec2:CreateTags', INSTANCE, { 'aws:TagKeys': [KEEP_UNTIL] }, 'Allowed'],
    [
      'never the idle-since tag',
      'ec2:CreateTags',
      INSTANCE,
      { 'aws:TagKeys': ['cost-guard:idle-since'] },
      'ImplicitlyDenied',
    ],
    [
      'never the opt-out tag',
      'ec2:CreateTags',
      INSTANCE,
      { 'aws:TagKeys': ['cost-guard:opt-out'] },
      'ExplicitlyDenied',
    ],
    [
      'never the keep-until tag together with another',
      'ec2:CreateTags',
      INSTANCE,
      { 'aws:TagKeys': [KEEP_UNTIL, 'Owner'] },
      'ImplicitlyDenied',
    ],
    ['never a tag write without keys', 'ec2:CreateTags', INSTANCE, {}, 'ImplicitlyDenied'],
    [
      'removes the guard stopped-by tag (restore)',
      'ec2:DeleteTags',
      INSTANCE,
      { 'aws:TagKeys': [STOPPED_BY] },
      'Allowed',
    ],
    [
      'never removes the keep-until tag',
      'ec2:DeleteTags',
      INSTANCE,
      { 'aws:TagKeys': [KEEP_UNTIL] },
      'ImplicitlyDenied',
    ],
    ['never deletes every tag (no keys)', 'ec2:DeleteTags', INSTANCE, {}, 'ImplicitlyDenied'],
    // Stop: the reaper's conditions.
    ['stops a GPU instance not opted out', 'ec2:StopInstances', INSTANCE, {}, 'Allowed'],
    [
      'never an opted-out one',
      'ec2:StopInstances',
      INSTANCE,
      { 'aws:ResourceTag/cost-guard:opt-out': 'True ' },
      'ExplicitlyDenied',
    ],
    [
      'never an Auto Scaling member',
      'ec2:StopInstances',
      INSTANCE,
      { 'aws:ResourceTag/aws:autoscaling:groupName': 'asg' },
      'ExplicitlyDenied',
    ],
    ['never a CPU type', 'ec2:StopInstances', INSTANCE, { 'ec2:InstanceType': 'm5.large' }, 'ImplicitlyDenied'],
    ['never terminates when the action is stop', 'ec2:TerminateInstances', INSTANCE, {}, 'ImplicitlyDenied'],
    // Start: only what the guard stopped (its tag).
    [
      'starts an instance the guard stopped',
      'ec2:StartInstances',
      INSTANCE,
      { [`aws:ResourceTag/${STOPPED_BY}`]: 'budget-guard' },
      'Allowed',
    ],
    ['never one without the stopped-by tag', 'ec2:StartInstances', INSTANCE, {}, 'ImplicitlyDenied'],
    // The state table: items, never a scan or the table itself.
    ['writes state items', 'dynamodb:PutItem', TABLE, {}, 'Allowed'],
    ['never scans the table', 'dynamodb:Scan', TABLE, {}, 'ImplicitlyDenied'],
    ['never deletes the table', 'dynamodb:DeleteTable', TABLE, {}, 'ImplicitlyDenied'],
  ])('%s (action stop)', async (_what, action, resource, context, expected) => {
    expect(await decide(STOP, action, resource, context)).toBe(expected);
  });

  it('terminates only when terminate is the configured action, with the same Denies', async () => {
    expect(await decide(TERMINATE, 'ec2:TerminateInstances', INSTANCE)).toBe('Allowed');
    expect(await decide(TERMINATE, 'ec2:StopInstances', INSTANCE)).toBe('ImplicitlyDenied');
    expect(
      await decide(TERMINATE, 'ec2:TerminateInstances', INSTANCE, { 'aws:ResourceTag/eks:cluster-name': 'prod' }),
    ).toBe('ExplicitlyDenied');
  });

  it.each<[string, Record<string, string | string[]>]>([
    ['ec2:StopInstances', {}],
    ['ec2:TerminateInstances', {}],
    ['ec2:StartInstances', { [`aws:ResourceTag/${STOPPED_BY}`]: 'budget-guard' }],
    ['ec2:CreateTags', { 'aws:TagKeys': [KEEP_UNTIL] }],
    ['ec2:DeleteTags', { 'aws:TagKeys': [STOPPED_BY] }],
  ])('holds no %s with dryRun', async (action, context) => {
    expect(await decide(DRY_RUN, action, INSTANCE, context)).not.toBe('Allowed');
  });

  it('still records keeps with dryRun (state only), and hands presses over to itself', async () => {
    expect(await decide(DRY_RUN, 'dynamodb:PutItem', TABLE)).toBe('Allowed');
    const fnArn = JSON.stringify(STOP).match(/arn:aws:lambda:[^"]+/)?.[0];
    if (!fnArn) throw new Error('the role names no function');
    expect(await decide(STOP, 'lambda:InvokeFunction', fnArn)).toBe('Allowed');
    expect(await decide(STOP, 'lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:other`)).toBe(
      'ImplicitlyDenied',
    );
  });
});
