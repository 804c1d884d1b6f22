/**
 * Proof suite, IAM: the WHOLE synthesized stack, every IAM role in it, evaluated offline with
 * @cloud-copilot/iam-simulate.
 *
 * Each role's identity policies (the AWS::IAM::Policy resources attached to it, inline `Policies`, customer managed
 * policies) are resolved into plain JSON: Ref / Fn::GetAtt / Fn::Join become concrete fake ARNs in the shape
 * CloudFormation gives them. An intrinsic or a resource type the resolver does not know fails the suite instead of
 * being guessed. AWS managed policies cannot be simulated offline: the inventory asserts there are none.
 *
 * Every "denied" line has an "allowed" control that would catch a simulation that denies everything: each role can
 * do its own job, and a policy that allows everything can do each forbidden request (so the request itself is
 * valid and simulable). The simulator rejects unknown actions and resource types, and a context key it would drop
 * for the request fails the case (a dropped tag would silently turn "tagged" into "untagged").
 *
 * The rules proved here (issue 9, "IAM says what the code says"):
 * - the reaper stops/terminates only GPU instance types (Neuron only with includeNeuron), never an instance carrying
 *   an Auto Scaling, fleet, EKS or Karpenter tag, never an opted-out one;
 * - with dryRun: true no role holds a destructive action (stop, start, terminate, tag writes, lifecycle writes);
 * - no unused grant: the budget guard cannot start instances, and each function gets exactly the state table
 *   actions its code sends;
 * - the SageMaker guard (issue 13) deletes only endpoints, stops only notebook instances and updates only Studio
 *   domains of the configured regions whose opt-out tag is not true, never an endpoint or domain a CloudFormation
 *   stack owns, never recreates, tags or deletes anything else, and holds none of it with dryRun;
 * - the Slack buttons endpoint (issue 12, slack.interactivity on here) stops/terminates only as the reaper may, starts
 *   no untagged instance, and holds none of it with dryRun (its own cases: test/proof/iam-slack-interactivity.test.ts).
 */
// The simulator's resource-type matching, remembered per test file (a pure function; see the helper).
jest.mock('@cloud-copilot/iam-utils', () => require('../helpers/iam-utils-memo').memoizedIamUtils());

import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { launchCapPolicyArn, launchCapPolicyName } from '../../lambda/core/budgets/launch-cap';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { AUTO_SCALING_TAG, FLEET_TAG_KEYS, KUBERNETES_TAG_KEYS, MANAGED_TAG_KEYS } from '../../lambda/core/managed';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
/** The configured regions; the reaper's instance actions are scoped to them. */
const REGIONS = ['us-east-1', 'eu-west-1'];
const UNCONFIGURED_REGION = 'ap-south-1';

const OPT_OUT = 'cost-guard:opt-out';
const KEEP_UNTIL = 'cost-guard:keep-until';
const ESSENTIAL = 'cost-guard:essential';
const IDLE_SINCE = 'cost-guard:idle-since';
const STOPPED = ['cost-guard:stopped-by', 'cost-guard:stopped-at', 'cost-guard:stopped-budget'];

const instanceArn = (region = REGION) => `arn:aws:ec2:${region}:${ACCOUNT}:instance/i-0123456789abcdef0`;
const INSTANCE = instanceArn();
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
/** The default key policy of a key in the account: IAM policies decide who may use it. */
const DEFAULT_KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
};
const BUCKET = 'arn:aws:s3:::ml-artifacts';
const sageMakerArn = (resource: string, name: string, region = REGION) =>
  `arn:aws:sagemaker:${region}:${ACCOUNT}:${resource}/${name}`;
const ENDPOINT = sageMakerArn('endpoint', 'llm-demo');
const NOTEBOOK = sageMakerArn('notebook-instance', 'alice-nb');
const DOMAIN = sageMakerArn('domain', 'd-abc123');
const USER_PROFILE = sageMakerArn('user-profile', 'd-abc123/alice');
const SPACE = sageMakerArn('space', 'd-abc123/team-space');
const OBJECT = `${BUCKET}/models/llama/model.safetensors`;

type ReaperAction = 'terminate' | 'stop';
type Json = unknown;
type Context = Record<string, string | string[]>;

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
}

/** A GPU type the reaper handles (the default instance type of every request below). */
const GPU_TYPE = 'g5.xlarge';

/** Every capability on, with the most powerful actions. */
function fullConfig(
  action: ReaperAction,
  { dryRun = false, includeNeuron = false }: { dryRun?: boolean; includeNeuron?: boolean } = {},
): CostGuardConfigInput {
  return {
    dryRun,
    regions: REGIONS,
    idleGpu: { enabled: true, action, includeNeuron },
    storage: { enabled: true },
    budgets: {
      enabled: true,
      action: 'stop-non-essential',
      stopScope: 'all',
      items: [{ name: 'ml-platform', limitUsd: 5000, scopeTags: { team: 'ml' } }, { name: 'existing-budget' }],
    },
    sagemaker: { enabled: true, action: 'delete', notebookMaxHours: 12, studioIdleShutdownMinutes: 60 },
    // The Slack buttons endpoint (issue 12): its role is proved with the others.
    slack: { interactivity: true, teamId: 'T0PROOF', approvers: ['S0ONCALL'] },
    pricing: { live: true },
    observability: { tracing: true, alarmsToSlack: true, alarmEmail: 'finops@example.com' },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fake physical values, in the shape CloudFormation returns them.

const FAKE: Record<string, { Ref?: (id: string) => string; Arn?: (id: string) => string }> = {
  'AWS::IAM::Role': { Ref: (id) => id, Arn: (id) => `arn:aws:iam::${ACCOUNT}:role/${id}` },
  'AWS::IAM::ManagedPolicy': { Ref: (id) => `arn:aws:iam::${ACCOUNT}:policy/${id}` },
  'AWS::Lambda::Function': { Ref: (id) => id, Arn: (id) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}` },
  // A log group's Arn attribute ends with `:*`.
  'AWS::Logs::LogGroup': { Ref: (id) => id, Arn: (id) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*` },
  'AWS::SQS::Queue': {
    Ref: (id) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`,
    Arn: (id) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`,
  },
  'AWS::DynamoDB::Table': { Ref: (id) => id, Arn: (id) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}` },
  'AWS::SecretsManager::Secret': { Ref: (id) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf` },
  'AWS::KMS::Key': { Ref: (id) => id, Arn: (id) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}` },
  'AWS::SNS::Topic': { Ref: (id) => `arn:aws:sns:${REGION}:${ACCOUNT}:${id}` },
};

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'MlCostGuard',
};

/** Resolves the intrinsics of a template fragment into plain strings; throws on anything it does not know. */
function resolver(resources: Record<string, CfnResource>) {
  const fake = (id: string, attribute: 'Ref' | 'Arn'): string => {
    const type = resources[id]?.Type;
    const make = type ? FAKE[type]?.[attribute] : undefined;
    if (!make) throw new Error(`no fake ${attribute} for ${type ?? 'unknown resource'} ${id}: add one to FAKE`);
    return make(id);
  };
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, Json>;
    if ('Ref' in o) {
      const ref = String(o.Ref);
      return PSEUDO[ref] ?? fake(ref, 'Ref');
    }
    if ('Fn::GetAtt' in o) {
      const att = o['Fn::GetAtt'];
      const [id, name] = Array.isArray(att) ? (att as string[]) : String(att).split('.');
      if (name !== 'Arn') throw new Error(`no fake for Fn::GetAtt ${id}.${name}`);
      return fake(id!, 'Arn');
    }
    if ('Fn::Join' in o) {
      const [separator, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map((p) => String(resolve(p))).join(separator);
    }
    const intrinsic = Object.keys(o).find((k) => k.startsWith('Fn::'));
    if (intrinsic) throw new Error(`the resolver does not handle ${intrinsic}: ${JSON.stringify(o)}`);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

// ---------------------------------------------------------------------------------------------------------------
// The stack and its roles.

interface RoleUnderTest {
  /** `reaper`, `budgets`, `lifecycle`, `alarms`, `summary` (from the role's description), `scheduler(<capability>)`, or the logical ID. */
  readonly name: string;
  readonly logicalId: string;
  readonly arn: string;
  readonly kind: 'lambda' | 'scheduler' | 'other';
  readonly policies: { name: string; policy: Json }[];
  readonly awsManagedPolicyArns: string[];
  /** The function the role runs (lambda) or invokes (scheduler). */
  readonly functionArn?: string;
  readonly logGroupArn?: string;
  readonly failureQueueArn?: string;
}

interface Synth {
  readonly resources: Record<string, CfnResource>;
  readonly roles: RoleUnderTest[];
  readonly role: (name: string) => RoleUnderTest;
  /** The ARNs of the stack's KMS keys, with their resolved key policies. */
  readonly keys: { arn: string; policy: Json }[];
  readonly secretArn: string;
  readonly tableArn: string;
}

const refersTo = (value: Json, logicalId: string): boolean => JSON.stringify(value ?? null).includes(`"${logicalId}"`);

function synth(config: CostGuardConfigInput): Synth {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(config),
    env: { account: ACCOUNT, region: REGION },
  });
  const raw = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties?: object }>;
  const resources: Record<string, CfnResource> = Object.fromEntries(
    Object.entries(raw).map(([id, r]) => [id, { Type: r.Type, Properties: { ...r.Properties } }]),
  );
  const resolve = resolver(resources);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const only = (type: string) => {
    const found = ofType(type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0]![0];
  };

  const functions = ofType('AWS::Lambda::Function');
  const functionOf = (roleId: string) => functions.find(([, f]) => refersTo(f.Properties.Role, roleId));
  const capabilityOf = (roleId: string) =>
    /^ml-cost-guard (\S+) function$/.exec(String(resources[roleId]?.Properties.Description ?? ''))?.[1];

  const roles = ofType('AWS::IAM::Role').map(([logicalId, role]): RoleUnderTest => {
    const props = role.Properties;
    const attached = [...ofType('AWS::IAM::Policy'), ...ofType('AWS::IAM::ManagedPolicy')].filter(([, p]) =>
      refersTo(p.Properties.Roles, logicalId),
    );
    const managedArns = ((props.ManagedPolicyArns as Json[] | undefined) ?? []).map((m) => {
      const inTemplate = ofType('AWS::IAM::ManagedPolicy').find(([id]) => refersTo(m, id));
      return inTemplate ? { template: inTemplate } : { arn: String(resolve(m)) };
    });
    const policies = [
      ...attached.map(([id, p]) => ({ name: id, policy: resolve(p.Properties.PolicyDocument) })),
      ...((props.Policies as { PolicyName: string; PolicyDocument: Json }[] | undefined) ?? []).map((p) => ({
        name: p.PolicyName,
        policy: resolve(p.PolicyDocument),
      })),
      ...managedArns.flatMap((m) =>
        m.template && !attached.includes(m.template)
          ? [{ name: m.template[0], policy: resolve(m.template[1].Properties.PolicyDocument) }]
          : [],
      ),
    ];
    const awsManagedPolicyArns = managedArns.flatMap((m) => (m.arn ? [m.arn] : []));
    const arn = String(resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }));

    const fn = functionOf(logicalId);
    if (fn) {
      const [fnId, f] = fn;
      const invokeConfig = ofType('AWS::Lambda::EventInvokeConfig').find(([, c]) =>
        refersTo(c.Properties.FunctionName, fnId),
      );
      const logGroup = (f.Properties.LoggingConfig as { LogGroup?: Json } | undefined)?.LogGroup as
        | { Ref: string }
        | undefined;
      return {
        name: capabilityOf(logicalId) ?? logicalId,
        logicalId,
        arn,
        kind: 'lambda',
        policies,
        awsManagedPolicyArns,
        functionArn: String(resolve({ 'Fn::GetAtt': [fnId, 'Arn'] })),
        ...(logGroup ? { logGroupArn: String(resolve({ 'Fn::GetAtt': [logGroup.Ref, 'Arn'] })) } : {}),
        ...(invokeConfig
          ? {
              failureQueueArn: String(
                resolve(
                  (invokeConfig[1].Properties.DestinationConfig as { OnFailure: { Destination: Json } }).OnFailure
                    .Destination,
                ),
              ),
            }
          : {}),
      };
    }
    const schedule = ofType('AWS::Scheduler::Schedule').find(([, s]) =>
      refersTo((s.Properties.Target as { RoleArn: Json }).RoleArn, logicalId),
    );
    if (schedule) {
      const target = (schedule[1].Properties.Target as { Arn: { 'Fn::GetAtt': [string, string] } }).Arn;
      const targetRole = functions.find(([id]) => id === target['Fn::GetAtt'][0])?.[1].Properties.Role as
        | { 'Fn::GetAtt': [string, string] }
        | undefined;
      const capability = targetRole ? capabilityOf(targetRole['Fn::GetAtt'][0]) : undefined;
      return {
        name: `scheduler(${capability ?? target['Fn::GetAtt'][0]})`,
        logicalId,
        arn,
        kind: 'scheduler',
        policies,
        awsManagedPolicyArns,
        functionArn: String(resolve(target)),
      };
    }
    return { name: logicalId, logicalId, arn, kind: 'other', policies, awsManagedPolicyArns };
  });

  return {
    resources,
    roles,
    role: (name) => {
      const found = roles.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one role named ${name}, found ${found.length}`);
      return found[0]!;
    },
    keys: ofType('AWS::KMS::Key').map(([id, key]) => ({
      arn: String(resolve({ 'Fn::GetAtt': [id, 'Arn'] })),
      policy: resolve(key.Properties.KeyPolicy),
    })),
    // The bot token's secret (the Slack endpoint's signing secret is the other one).
    secretArn: String(
      resolve({
        Ref: ofType('AWS::SecretsManager::Secret').find(([id]) => id.startsWith('SharedSlackToken'))?.[0] ?? 'none',
      }),
    ),
    tableArn: String(resolve({ 'Fn::GetAtt': [only('AWS::DynamoDB::Table'), 'Arn'] })),
  };
}

// Synthesized at load time so that the `it.each` tables can list every role the stack has.
const STACKS: Record<ReaperAction, Synth> = {
  terminate: synth(fullConfig('terminate')),
  stop: synth(fullConfig('stop')),
};
const MAIN = STACKS.terminate;
/** The same stack with idleGpu.includeNeuron on. */
const NEURON = synth(fullConfig('stop', { includeNeuron: true }));
/** The same stacks in dry-run (the default config): no role may change anything. */
const DRY_RUN: Record<ReaperAction, Synth> = {
  terminate: synth(fullConfig('terminate', { dryRun: true })),
  stop: synth(fullConfig('stop', { dryRun: true })),
};

// ---------------------------------------------------------------------------------------------------------------
// The simulation.

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Context;
  /** The resource's own policy (a KMS key policy), if any. */
  readonly resourcePolicy?: Json;
}

/**
 * Simulations already run, by policy set and then principal and request: the tables ask some questions more than once
 * (about a sixth of them), and the simulator's answer depends on nothing else.
 */
const simulations = new WeakMap<object, Map<string, Promise<EvaluationResult>>>();

function simulateAs(
  principal: string,
  identityPolicies: { name: string; policy: Json }[],
  request: Request,
): Promise<EvaluationResult> {
  let answers = simulations.get(identityPolicies);
  if (!answers) {
    answers = new Map();
    simulations.set(identityPolicies, answers);
  }
  const key = JSON.stringify([principal, request]);
  let answer = answers.get(key);
  if (!answer) {
    answer = simulateOnce(principal, identityPolicies, request);
    answers.set(key, answer);
  }
  return answer;
}

async function simulateOnce(
  principal: string,
  identityPolicies: { name: string; policy: Json }[],
  { action, resource, context = {}, resourcePolicy }: Request,
): Promise<EvaluationResult> {
  const result = await runSimulation(
    {
      request: { principal, action, resource: { resource, accountId: ACCOUNT }, contextVariables: context },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  const ignored =
    result.resultType === 'single'
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length > 0) throw new Error(`the simulator ignored context keys ${ignored.join(', ')} for ${action}`);
  return result.overallResult;
}

const simulate = (role: RoleUnderTest, request: Request) => simulateAs(role.arn, role.policies, request);

/**
 * `denied` accepts either denial: for requests nothing allows, where adding an explicit Deny later would only
 * harden the policy. `ExplicitlyDenied` is asserted where the explicit Deny is the guarantee.
 */
function expectDecision(result: EvaluationResult, expected: EvaluationResult | 'denied' | string | undefined): void {
  if (expected === 'denied') expect(result).not.toBe('Allowed');
  else expect(result).toBe(expected);
}

const ALLOW_EVERYTHING = [
  {
    name: 'allow-everything',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
];

/** An instance action on an instance carrying `tags`, and the expected decision. */
interface TagCase {
  readonly action: string;
  readonly tags: Readonly<Record<string, string | undefined>>;
  /** An EvaluationResult, or `denied` (see expectDecision). */
  readonly expected?: string;
}

const tagKeys = (...keys: string[]): Context => ({ 'aws:TagKeys': keys });
const resourceTags = (tags: Readonly<Record<string, string | undefined>>): Context =>
  Object.fromEntries(Object.entries(tags).flatMap(([k, v]) => (v === undefined ? [] : [[`aws:ResourceTag/${k}`, v]])));
/** An instance of `type` carrying `tags`, as EC2 describes it to IAM. */
const instanceOf = (tags: Readonly<Record<string, string | undefined>> = {}, type: string = GPU_TYPE): Context => ({
  ...resourceTags(tags),
  'ec2:InstanceType': type,
});

// ---------------------------------------------------------------------------------------------------------------
// What no role may do. `<self>` is the acting role's own ARN (self-escalation); ARNs ending in a logical ID are the
// stack's own resources (its KMS keys, Slack token secret and state table).

interface Forbidden {
  readonly action: string;
  readonly resource: string;
}

const FORBIDDEN: Forbidden[] = [
  ...[
    'iam:PutRolePolicy',
    'iam:AttachRolePolicy',
    'iam:UpdateAssumeRolePolicy',
    'iam:DeleteRolePermissionsBoundary',
  ].map((action) => ({ action, resource: '<self>' })),
  { action: 'iam:PassRole', resource: '<self>' },
  { action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/Admin` },
  { action: 'iam:CreateRole', resource: `arn:aws:iam::${ACCOUNT}:role/attacker` },
  { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/attacker` },
  { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:user/admin` },
  { action: 'iam:CreatePolicyVersion', resource: `arn:aws:iam::${ACCOUNT}:policy/platform` },
  ...['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:PutKeyPolicy', 'kms:CreateGrant', 'kms:Decrypt'].flatMap(
    (action) => [OTHER_KEY, ...MAIN.keys.map((k) => k.arn)].map((resource) => ({ action, resource })),
  ),
  ...['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'].map((action) => ({
    action,
    resource: OBJECT,
  })),
  ...['s3:DeleteBucket', 's3:PutBucketPolicy', 's3:PutBucketAcl', 's3:PutBucketPublicAccessBlock'].map((action) => ({
    action,
    resource: BUCKET,
  })),
  { action: 'ec2:ModifyInstanceAttribute', resource: INSTANCE },
  { action: 'secretsmanager:PutSecretValue', resource: MAIN.secretArn },
  { action: 'secretsmanager:PutSecretValue', resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:db-AbCdEf` },
  { action: 'secretsmanager:DeleteSecret', resource: MAIN.secretArn },
  { action: 'dynamodb:DeleteTable', resource: MAIN.tableArn },
  { action: 'dynamodb:DeleteTable', resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/features` },
];

/**
 * The concrete request for a row, as `role` would make it: `<self>` is the role's own ARN; a KMS key comes with its
 * key policy (the stack's own, or the default one of an account key).
 */
function forbiddenRequest(stack: Synth, role: RoleUnderTest | undefined, row: Forbidden): Request {
  if (row.resource === '<self>')
    return { action: row.action, resource: role?.arn ?? `arn:aws:iam::${ACCOUNT}:role/any` };
  const key = stack.keys.find((k) => k.arn === row.resource);
  if (key) return { ...row, resourcePolicy: key.policy };
  if (row.resource === OTHER_KEY) return { ...row, resourcePolicy: DEFAULT_KEY_POLICY };
  return { ...row };
}

/** Every way to change or remove the opt-out tag; no role may use any of them. */
const OPT_OUT_TAMPERING: { how: string; request: Request }[] = [
  {
    how: 'CreateTags overwriting it',
    request: { action: 'ec2:CreateTags', resource: INSTANCE, context: tagKeys(OPT_OUT) },
  },
  {
    how: 'CreateTags setting it to false on an opted-out instance',
    request: {
      action: 'ec2:CreateTags',
      resource: INSTANCE,
      context: { ...tagKeys(OPT_OUT), ...resourceTags({ [OPT_OUT]: 'true' }) },
    },
  },
  {
    how: 'CreateTags with it beside an allowed key',
    request: { action: 'ec2:CreateTags', resource: INSTANCE, context: tagKeys(IDLE_SINCE, ...STOPPED, OPT_OUT) },
  },
  { how: 'DeleteTags naming it', request: { action: 'ec2:DeleteTags', resource: INSTANCE, context: tagKeys(OPT_OUT) } },
  {
    how: 'DeleteTags naming it in another case',
    request: { action: 'ec2:DeleteTags', resource: INSTANCE, context: tagKeys('COST-GUARD:OPT-OUT') },
  },
  {
    how: 'DeleteTags naming it beside an allowed key',
    request: { action: 'ec2:DeleteTags', resource: INSTANCE, context: tagKeys(IDLE_SINCE, STOPPED[0]!, OPT_OUT) },
  },
  {
    how: 'DeleteTags without keys (deletes every tag)',
    request: { action: 'ec2:DeleteTags', resource: INSTANCE, context: resourceTags({ [OPT_OUT]: 'true' }) },
  },
  { how: 'tag:TagResources', request: { action: 'tag:TagResources', resource: '*' } },
  { how: 'tag:UntagResources', request: { action: 'tag:UntagResources', resource: '*' } },
];

// ---------------------------------------------------------------------------------------------------------------

describe('Proof: IAM of the whole MlCostGuard stack (every capability on)', () => {
  describe('Inventory: the roles under test', () => {
    it('finds every Lambda and scheduler role, each with its identity policies resolved into plain JSON', () => {
      // Assess
      const names = MAIN.roles.map((r) => r.name).sort();
      expect(names).toEqual(
        expect.arrayContaining([
          'alarms',
          'budgets',
          'lifecycle',
          'reaper',
          'summary',
          'scheduler(budgets)',
          'scheduler(lifecycle)',
          'scheduler(reaper)',
          'scheduler(summary)',
        ]),
      );
      for (const role of MAIN.roles) {
        expect(role.policies.length).toBeGreaterThan(0);
        const json = JSON.stringify(role.policies);
        expect(json).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
      }
    });

    it('attaches no AWS managed policy to any role (they cannot be simulated offline)', () => {
      for (const stack of Object.values(STACKS)) {
        const managed = Object.fromEntries(
          stack.roles.filter((r) => r.awsManagedPolicyArns.length > 0).map((r) => [r.name, r.awsManagedPolicyArns]),
        );
        expect(managed).toEqual({});
      }
    });

    it('creates no IAM user, group, access key or instance profile', () => {
      const types = new Set(Object.values(MAIN.resources).map((r) => r.Type));
      for (const type of ['AWS::IAM::User', 'AWS::IAM::Group', 'AWS::IAM::AccessKey', 'AWS::IAM::InstanceProfile']) {
        expect(types).not.toContain(type);
      }
    });

    it('names none of our roles in a KMS key policy (the keys are for AWS services to publish)', () => {
      expect(MAIN.keys.length).toBeGreaterThan(0);
      for (const key of MAIN.keys) {
        const json = JSON.stringify(key.policy);
        for (const role of MAIN.roles) expect(json).not.toContain(role.arn);
      }
    });
  });

  describe('Controls: the simulation can say Allowed', () => {
    it.each(FORBIDDEN)('a policy allowing everything could $action on $resource', async (row) => {
      // Prepare
      const request = forbiddenRequest(MAIN, undefined, row);
      // Act
      const result = await simulateAs(`arn:aws:iam::${ACCOUNT}:role/any`, ALLOW_EVERYTHING, request);
      // Assess
      expect(result).toBe('Allowed');
    });

    it.each(OPT_OUT_TAMPERING)(
      'a policy allowing everything could change the opt-out tag by $how',
      async ({ request }) => {
        await expect(simulateAs(`arn:aws:iam::${ACCOUNT}:role/any`, ALLOW_EVERYTHING, request)).resolves.toBe(
          'Allowed',
        );
      },
    );

    const ownJob = MAIN.roles.flatMap((role) =>
      role.kind === 'lambda'
        ? [
            {
              role: role.name,
              job: 'write its own log stream',
              request: {
                action: 'logs:PutLogEvents',
                resource: `${role.logGroupArn!.replace(/:\*$/, '')}:log-stream:2026/01/01/[$LATEST]0123`,
              },
            },
            {
              role: role.name,
              job: 'send to its own failure queue',
              request: { action: 'sqs:SendMessage', resource: role.failureQueueArn! },
            },
          ]
        : role.kind === 'scheduler'
          ? [
              {
                role: role.name,
                job: 'invoke its target',
                request: { action: 'lambda:InvokeFunction', resource: role.functionArn! },
              },
            ]
          : [],
    );
    it.each(ownJob)('$role can $job', async ({ role, request }) => {
      await expect(simulate(MAIN.role(role), request)).resolves.toBe('Allowed');
    });

    it('gives every role an allowed control above', () => {
      const covered = new Set(ownJob.map((j) => j.role));
      expect(MAIN.roles.map((r) => r.name).filter((n) => !covered.has(n))).toEqual([]);
    });

    it.each([
      { role: 'reaper', action: 'ec2:DescribeInstances', resource: '*' },
      { role: 'reaper', action: 'cloudwatch:GetMetricData', resource: '*' },
      { role: 'reaper', action: 'ec2:DescribeInstanceAttribute', resource: instanceArn('eu-west-1') },
      { role: 'budgets', action: 'budgets:ViewBudget', resource: `arn:aws:budgets::${ACCOUNT}:budget/ml-platform` },
      { role: 'budgets', action: 'ec2:DescribeInstances', resource: '*' },
      { role: 'budgets', action: 'dynamodb:PutItem', resource: MAIN.tableArn },
      { role: 'reaper', action: 'dynamodb:UpdateItem', resource: MAIN.tableArn },
      { role: 'reaper', action: 'dynamodb:BatchWriteItem', resource: MAIN.tableArn },
      { role: 'budgets', action: 'secretsmanager:GetSecretValue', resource: MAIN.secretArn },
      // storage.selectByTag (the default) needs every bucket: see the report's note on lifecycle expiration.
      { role: 'lifecycle', action: 's3:PutLifecycleConfiguration', resource: 'arn:aws:s3:::any-bucket-of-the-account' },
      { role: 'lifecycle', action: 's3:GetLifecycleConfiguration', resource: BUCKET },
      { role: 'lifecycle', action: 's3:ListAllMyBuckets', resource: '*' },
      { role: 'alarms', action: 'secretsmanager:GetSecretValue', resource: MAIN.secretArn },
      { role: 'summary', action: 'dynamodb:Query', resource: MAIN.tableArn },
    ])('$role can $action on $resource', async ({ role, action, resource }) => {
      await expect(simulate(MAIN.role(role), { action, resource })).resolves.toBe('Allowed');
    });

    it.each(MAIN.roles.filter((r) => r.kind !== 'other'))(
      '$name cannot write another function’s logs nor invoke another function',
      async (role) => {
        // Prepare: some other function of the stack, and its log group.
        const other = MAIN.roles.find((r) => r.kind === 'lambda' && r.functionArn !== role.functionArn)!;
        // Act + Assess
        await expect(
          simulate(role, {
            action: 'logs:PutLogEvents',
            resource: `${other.logGroupArn!.replace(/:\*$/, '')}:log-stream:s`,
          }),
        ).resolves.not.toBe('Allowed');
        await expect(
          simulate(role, { action: 'lambda:InvokeFunction', resource: other.functionArn! }),
        ).resolves.not.toBe('Allowed');
      },
    );
  });

  describe.each<ReaperAction>(['terminate', 'stop'])('Reaper role, idleGpu.action %s', (mode) => {
    const reaper = () => STACKS[mode].role('reaper');
    const other: ReaperAction = mode === 'terminate' ? 'stop' : 'terminate';
    const allowed = mode === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances';
    const notGranted = other === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances';

    it.each<TagCase>([
      ...['true', 'TRUE', 'True', 'tRuE'].flatMap((value) =>
        ['ec2:TerminateInstances', 'ec2:StopInstances'].map((action) => ({
          action,
          tags: { [OPT_OUT]: value },
          expected: 'ExplicitlyDenied',
        })),
      ),
      // IAM condition key names are case-insensitive; the code reads the tag key in any case too.
      { action: allowed, tags: { 'Cost-Guard:Opt-Out': 'true' }, expected: 'ExplicitlyDenied' },
      { action: allowed, tags: { [OPT_OUT]: 'true', [ESSENTIAL]: 'false' }, expected: 'ExplicitlyDenied' },
      { action: allowed, tags: {}, expected: 'Allowed' },
      { action: allowed, tags: { [OPT_OUT]: 'false' }, expected: 'Allowed' },
      { action: allowed, tags: { [OPT_OUT]: 'no', Name: 'train-7' }, expected: 'Allowed' },
      { action: notGranted, tags: {}, expected: 'denied' },
    ])('$action on a g5 instance tagged $tags is $expected', async ({ action, tags, expected }) => {
      expectDecision(await simulate(reaper(), { action, resource: INSTANCE, context: instanceOf(tags) }), expected);
    });

    it.each([
      { region: 'us-east-1', expected: 'Allowed' },
      { region: 'eu-west-1', expected: 'Allowed' },
      { region: UNCONFIGURED_REGION, expected: 'denied' },
    ])(
      `${allowed} on an untagged instance in $region is $expected (regions ${REGIONS.join(', ')})`,
      async ({ region, expected }) => {
        expectDecision(
          await simulate(reaper(), { action: allowed, resource: instanceArn(region), context: instanceOf() }),
          expected,
        );
      },
    );

    it.each([
      { action: 'ec2:CreateTags', keys: [IDLE_SINCE], tags: {}, expected: 'Allowed' },
      { action: 'ec2:DeleteTags', keys: [IDLE_SINCE], tags: {}, expected: 'Allowed' },
      // Clearing its own idle mark from an instance that was opted out meanwhile.
      { action: 'ec2:DeleteTags', keys: [IDLE_SINCE], tags: { [OPT_OUT]: 'true' }, expected: 'Allowed' },
      ...['ec2:CreateTags', 'ec2:DeleteTags'].flatMap((action) => [
        { action, keys: [OPT_OUT], tags: {}, expected: 'ExplicitlyDenied' },
        { action, keys: ['COST-GUARD:OPT-OUT'], tags: {}, expected: 'ExplicitlyDenied' },
        { action, keys: [KEEP_UNTIL], tags: {}, expected: 'ExplicitlyDenied' },
        { action, keys: [IDLE_SINCE, OPT_OUT], tags: {}, expected: 'ExplicitlyDenied' },
        { action, keys: [IDLE_SINCE, KEEP_UNTIL], tags: {}, expected: 'ExplicitlyDenied' },
        // Outside the only allowed key (explicitly denied for none of these today).
        { action, keys: [ESSENTIAL], tags: {}, expected: 'denied' },
        { action, keys: [IDLE_SINCE, ESSENTIAL], tags: {}, expected: 'denied' },
        { action, keys: [STOPPED[0]!], tags: {}, expected: 'denied' },
        { action, keys: ['Name'], tags: {}, expected: 'denied' },
        { action, keys: ['COST-GUARD:IDLE-SINCE'], tags: {}, expected: 'denied' },
      ]),
    ])(
      '$action with tag keys $keys on an instance tagged $tags is $expected',
      async ({ action, keys, tags, expected }) => {
        const context = { ...tagKeys(...keys), ...resourceTags(tags) };
        expectDecision(await simulate(reaper(), { action, resource: INSTANCE, context }), expected);
      },
    );

    it('cannot tag anything but instances, even with its own key', async () => {
      const volume = `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0123456789abcdef0`;
      await expect(
        simulate(reaper(), { action: 'ec2:CreateTags', resource: volume, context: tagKeys(IDLE_SINCE) }),
      ).resolves.not.toBe('Allowed');
    });
  });

  describe('Budget guard role (budgets.action stop-non-essential)', () => {
    const guard = () => MAIN.role('budgets');

    it.each<TagCase>([
      ...['true', 'TRUE', 'True'].flatMap((value) => [
        { action: 'ec2:StopInstances', tags: { [ESSENTIAL]: value }, expected: 'ExplicitlyDenied' },
        { action: 'ec2:StopInstances', tags: { [OPT_OUT]: value }, expected: 'ExplicitlyDenied' },
      ]),
      { action: 'ec2:StopInstances', tags: { 'COST-GUARD:ESSENTIAL': 'true' }, expected: 'ExplicitlyDenied' },
      { action: 'ec2:StopInstances', tags: { [ESSENTIAL]: 'true', [OPT_OUT]: 'false' }, expected: 'ExplicitlyDenied' },
      { action: 'ec2:StopInstances', tags: { [ESSENTIAL]: 'false', [OPT_OUT]: 'true' }, expected: 'ExplicitlyDenied' },
      { action: 'ec2:StartInstances', tags: {}, expected: 'denied' },
      { action: 'ec2:StartInstances', tags: { [ESSENTIAL]: 'true' }, expected: 'denied' },
      { action: 'ec2:StopInstances', tags: {}, expected: 'Allowed' },
      { action: 'ec2:StopInstances', tags: { team: 'ml' }, expected: 'Allowed' },
      { action: 'ec2:StopInstances', tags: { [ESSENTIAL]: 'false' }, expected: 'Allowed' },
      { action: 'ec2:StopInstances', tags: { [ESSENTIAL]: 'false', [OPT_OUT]: 'false' }, expected: 'Allowed' },
      { action: 'ec2:TerminateInstances', tags: {}, expected: 'denied' },
      // Managed instances (the manager would replace them): never, beside an allowed control above.
      ...MANAGED_TAG_KEYS.map((key) => ({
        action: 'ec2:StopInstances',
        tags: { [key]: 'x' },
        expected: 'ExplicitlyDenied' as const,
      })),
    ])('$action on an instance tagged $tags is $expected', async ({ action, tags, expected }) => {
      expectDecision(await simulate(guard(), { action, resource: INSTANCE, context: instanceOf(tags) }), expected);
    });

    it.each([
      ...['ec2:CreateTags', 'ec2:DeleteTags'].flatMap((action) => [
        ...STOPPED.map((key) => ({ action, keys: [key], expected: 'Allowed' })),
        { action, keys: STOPPED, expected: 'Allowed' },
        { action, keys: [ESSENTIAL], expected: 'denied' },
        { action, keys: ['Cost-Guard:Essential'], expected: 'denied' },
        { action, keys: [OPT_OUT], expected: 'denied' },
        { action, keys: [KEEP_UNTIL], expected: 'denied' },
        { action, keys: [IDLE_SINCE], expected: 'denied' },
        { action, keys: [STOPPED[0]!, ESSENTIAL], expected: 'denied' },
        { action, keys: ['team'], expected: 'denied' },
      ]),
      { action: 'ec2:DeleteTags', keys: [], expected: 'denied' },
    ])('$action with tag keys $keys is $expected', async ({ action, keys, expected }) => {
      const context = keys.length > 0 ? tagKeys(...keys) : {};
      expectDecision(await simulate(guard(), { action, resource: INSTANCE, context }), expected);
    });
  });

  describe.each<ReaperAction>(['terminate', 'stop'])('Reaper role: instance types and group members (%s)', (mode) => {
    const reaper = () => STACKS[mode].role('reaper');
    const action = mode === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances';

    it.each([
      // GPU families (GpuInfo in DescribeInstanceTypes): allowed.
      ...['g5.xlarge', 'g4dn.xlarge', 'g4ad.xlarge', 'g6e.xlarge', 'gr6.4xlarge', 'g5g.xlarge', 'p3.2xlarge'].map(
        (type) => ({ type, expected: 'Allowed' }),
      ),
      ...['p4d.24xlarge', 'p5.48xlarge', 'p6-b200.48xlarge', 'dl1.24xlarge'].map((type) => ({
        type,
        expected: 'Allowed',
      })),
      // Everything else: not allowed, whatever the code decides.
      ...['m5.large', 'c7g.xlarge', 't3.micro', 'r6i.2xlarge', 'x2idn.16xlarge', 'hpc7g.16xlarge'].map((type) => ({
        type,
        expected: 'denied',
      })),
      // Neuron, media and FPGA types: not without includeNeuron (Neuron) or ever (vt1, f1).
      ...['inf2.xlarge', 'inf1.xlarge', 'trn1.32xlarge', 'vt1.3xlarge', 'f1.2xlarge'].map((type) => ({
        type,
        expected: 'denied',
      })),
    ])(`${action} on an untagged $type instance is $expected`, async ({ type, expected }) => {
      expectDecision(await simulate(reaper(), { action, resource: INSTANCE, context: instanceOf({}, type) }), expected);
    });

    it(`cannot ${action} an instance whose type IAM is not told`, async () => {
      await expect(simulate(reaper(), { action, resource: INSTANCE, context: resourceTags({}) })).resolves.not.toBe(
        'Allowed',
      );
    });

    const groupTags = [AUTO_SCALING_TAG, ...FLEET_TAG_KEYS, ...KUBERNETES_TAG_KEYS];
    it('denies every group tag the code skips: Auto Scaling, EKS and Karpenter among them', () => {
      expect(groupTags).toEqual(
        expect.arrayContaining([
          'aws:autoscaling:groupName',
          'eks:cluster-name',
          'eks:eks-cluster-name',
          'karpenter.sh/nodepool',
        ]),
      );
    });

    it.each([
      ...groupTags.flatMap((key) => [
        { tags: { [key]: 'ml-training' }, expected: 'ExplicitlyDenied' },
        // Present with an empty value is still present.
        { tags: { [key]: '' }, expected: 'ExplicitlyDenied' },
      ]),
      { tags: { [AUTO_SCALING_TAG]: 'asg-1', [KUBERNETES_TAG_KEYS[0]]: 'prod' }, expected: 'ExplicitlyDenied' },
      // Controls: the same g5 with unrelated tags, or tags that only look alike.
      { tags: {}, expected: 'Allowed' },
      { tags: { team: 'ml', Name: 'train-7' }, expected: 'Allowed' },
      { tags: { 'autoscaling-group': 'none', 'eks-cluster': 'none', 'karpenter.sh': 'x' }, expected: 'Allowed' },
    ])(`${action} on a g5 instance tagged $tags is $expected`, async ({ tags, expected }) => {
      expectDecision(await simulate(reaper(), { action, resource: INSTANCE, context: instanceOf(tags) }), expected);
    });

    it.each(groupTags)('a policy allowing everything could act on an instance tagged %s', async (key) => {
      const request = { action, resource: INSTANCE, context: instanceOf({ [key]: 'x' }) };
      await expect(simulateAs(`arn:aws:iam::${ACCOUNT}:role/any`, ALLOW_EVERYTHING, request)).resolves.toBe('Allowed');
    });
  });

  describe('Reaper role with idleGpu.includeNeuron', () => {
    it.each([
      { type: 'inf2.xlarge', expected: 'Allowed' },
      { type: 'inf1.xlarge', expected: 'Allowed' },
      { type: 'trn1.32xlarge', expected: 'Allowed' },
      { type: 'trn2.48xlarge', expected: 'Allowed' },
      { type: 'g5.xlarge', expected: 'Allowed' },
      { type: 'm5.large', expected: 'denied' },
      { type: 'vt1.3xlarge', expected: 'denied' },
    ])('ec2:StopInstances on an untagged $type instance is $expected', async ({ type, expected }) => {
      expectDecision(
        await simulate(NEURON.role('reaper'), {
          action: 'ec2:StopInstances',
          resource: INSTANCE,
          context: instanceOf({}, type),
        }),
        expected,
      );
    });

    it('still denies an opted-out or Auto Scaling Neuron instance', async () => {
      for (const tags of [{ [OPT_OUT]: 'true' }, { [AUTO_SCALING_TAG]: 'asg-1' }]) {
        await expect(
          simulate(NEURON.role('reaper'), {
            action: 'ec2:StopInstances',
            resource: INSTANCE,
            context: instanceOf(tags, 'inf2.xlarge'),
          }),
        ).resolves.toBe('ExplicitlyDenied');
      }
    });
  });

  describe('dryRun: true holds no destructive action', () => {
    /** Every action that changes an instance or a bucket, as the code would send it. */
    const DESTRUCTIVE: Request[] = [
      { action: 'ec2:TerminateInstances', resource: INSTANCE, context: instanceOf() },
      { action: 'ec2:StopInstances', resource: INSTANCE, context: instanceOf() },
      { action: 'ec2:StartInstances', resource: INSTANCE, context: instanceOf() },
      { action: 'ec2:CreateTags', resource: INSTANCE, context: { ...instanceOf(), ...tagKeys(IDLE_SINCE) } },
      { action: 'ec2:DeleteTags', resource: INSTANCE, context: { ...instanceOf(), ...tagKeys(IDLE_SINCE) } },
      { action: 'ec2:CreateTags', resource: INSTANCE, context: { ...instanceOf(), ...tagKeys(...STOPPED) } },
      { action: 'ec2:DeleteTags', resource: INSTANCE, context: { ...instanceOf(), ...tagKeys(...STOPPED) } },
      { action: 's3:PutLifecycleConfiguration', resource: BUCKET },
      { action: 'sagemaker:DeleteEndpoint', resource: ENDPOINT },
      { action: 'sagemaker:StopNotebookInstance', resource: NOTEBOOK },
      { action: 'sagemaker:UpdateDomain', resource: DOMAIN },
      { action: 'sagemaker:UpdateUserProfile', resource: USER_PROFILE },
      { action: 'sagemaker:UpdateSpace', resource: SPACE },
    ];
    const cases = (Object.keys(DRY_RUN) as ReaperAction[]).flatMap((mode) =>
      DRY_RUN[mode].roles.flatMap((role) =>
        DESTRUCTIVE.map((request) => ({ mode, role: role.name, request, action: request.action })),
      ),
    );

    it.each(cases)('(idleGpu.action $mode) $role cannot $action', async ({ mode, role, request }) => {
      await expect(simulate(DRY_RUN[mode].role(role), request)).resolves.not.toBe('Allowed');
    });

    it.each(DESTRUCTIVE.map((request) => ({ action: request.action, request })))(
      'the same $action is allowed to its role when dryRun is false (control)',
      async ({ request }) => {
        const owner = request.action.startsWith('sagemaker:')
          ? 'sagemaker'
          : request.action === 's3:PutLifecycleConfiguration'
            ? 'lifecycle'
            : request.action === 'ec2:TerminateInstances' || JSON.stringify(request.context).includes(IDLE_SINCE)
              ? 'reaper'
              : 'budgets';
        const stack = request.action === 'ec2:StopInstances' ? STACKS.stop : MAIN;
        const result = await simulate(stack.role(owner), request);
        // StartInstances is no role's, in any mode.
        if (request.action === 'ec2:StartInstances') expect(result).not.toBe('Allowed');
        else expect(result).toBe('Allowed');
      },
    );

    it('names no destructive action in any Allow statement (and no service wildcard)', () => {
      const destructive =
        /^(ec2:(Terminate|Stop|Start|Reboot|Hibernate)Instances|ec2:(Create|Delete)Tags|s3:Put|s3:Delete|sagemaker:(Delete|Stop|Update|Create|AddTags))/;
      for (const stack of Object.values(DRY_RUN)) {
        for (const role of stack.roles) {
          const allowed = role.policies.flatMap(({ policy }) =>
            (policy as { Statement: { Effect: string; Action: string | string[] }[] }).Statement.filter(
              (st) => st.Effect === 'Allow',
            ).flatMap((st) => [st.Action].flat()),
          );
          expect({
            role: role.name,
            found: allowed.filter((a) => destructive.test(a) || /^(ec2|s3):\*$|^\*$/.test(a)),
          }).toEqual({
            role: role.name,
            found: [],
          });
        }
      }
    });

    it.each([
      { role: 'reaper', action: 'ec2:DescribeInstances', resource: '*' },
      { role: 'reaper', action: 'cloudwatch:GetMetricData', resource: '*' },
      { role: 'reaper', action: 'dynamodb:UpdateItem', resource: DRY_RUN.stop.tableArn },
      { role: 'reaper', action: 'dynamodb:BatchWriteItem', resource: DRY_RUN.stop.tableArn },
      { role: 'budgets', action: 'budgets:ViewBudget', resource: `arn:aws:budgets::${ACCOUNT}:budget/ml-platform` },
      { role: 'budgets', action: 'dynamodb:PutItem', resource: DRY_RUN.stop.tableArn },
      { role: 'lifecycle', action: 's3:GetLifecycleConfiguration', resource: BUCKET },
      { role: 'lifecycle', action: 'dynamodb:BatchWriteItem', resource: DRY_RUN.stop.tableArn },
    ])('in dry-run $role can still $action (reads and the state table stay)', async ({ role, action, resource }) => {
      await expect(simulate(DRY_RUN.stop.role(role), { action, resource })).resolves.toBe('Allowed');
    });
  });

  describe('No unused grant: state table actions', () => {
    /** Every DynamoDB action that could touch an item or the table (transactions are authorized per item action). */
    const TABLE_ACTIONS = [
      'GetItem',
      'BatchGetItem',
      'Query',
      'Scan',
      'PutItem',
      'UpdateItem',
      'DeleteItem',
      'BatchWriteItem',
      'ConditionCheckItem',
      'PartiQLSelect',
      'PartiQLInsert',
      'PartiQLUpdate',
      'PartiQLDelete',
      'DescribeTable',
      'UpdateTable',
      'DeleteTable',
      'UpdateTimeToLive',
      'CreateBackup',
      'RestoreTableToPointInTime',
      'ExportTableToPointInTime',
    ].map((a) => `dynamodb:${a}`);
    /**
     * What each function's code sends: state-store.ts (state records), warning-store.ts (the reaper's warnings, the
     * only DeleteItem), ledger.ts and stop-index.ts after a run (BatchWriteItem), readMonth (Query).
     */
    const STATE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];
    const WARNINGS = ['dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
    const LEDGER_WRITE = ['dynamodb:BatchWriteItem'];
    const EXPECTED: Record<string, string[]> = {
      reaper: [...STATE, ...WARNINGS, ...LEDGER_WRITE],
      // Its warnings (sagemaker-warnings.ts), limits and endpoint index (state), the ledger.
      sagemaker: [...STATE, ...WARNINGS, ...LEDGER_WRITE],
      budgets: [...STATE, ...LEDGER_WRITE],
      // The lifecycle run takes the run lease (state-store.ts acquireLease / releaseLease).
      lifecycle: [...STATE, ...LEDGER_WRITE],
      summary: ['dynamodb:Query'],
      alarms: [],
      // The Slack endpoint: keeps, once-only marks, leases and limits (state), the warning it clears after a stop
      // (warnings), the ledger and stop index (ledgerWrite).
      slack: [...STATE, ...WARNINGS, ...LEDGER_WRITE],
    };

    it.each(MAIN.roles.map((role) => ({ role: role.name, expected: EXPECTED[role.name] ?? [] })))(
      '$role may call exactly $expected on the state table',
      async ({ role, expected }) => {
        // Act
        const allowed: string[] = [];
        for (const action of TABLE_ACTIONS) {
          if ((await simulate(MAIN.role(role), { action, resource: MAIN.tableArn })) === 'Allowed')
            allowed.push(action);
        }
        // Assess
        expect(allowed.sort()).toEqual([...new Set(expected)].sort());
      },
    );

    it('every table action in the list is one the simulator can allow (control)', async () => {
      for (const action of TABLE_ACTIONS) {
        await expect(
          simulateAs(`arn:aws:iam::${ACCOUNT}:role/any`, ALLOW_EVERYTHING, { action, resource: MAIN.tableArn }),
        ).resolves.toBe('Allowed');
      }
    });

    it('gives no role any action on another table', async () => {
      const other = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/features`;
      for (const role of MAIN.roles) {
        for (const action of [...STATE, ...LEDGER_WRITE]) {
          await expect(simulate(role, { action, resource: other })).resolves.not.toBe('Allowed');
        }
      }
    });
  });

  describe('Every role', () => {
    const instanceStateCases = (Object.keys(STACKS) as ReaperAction[]).flatMap((mode) =>
      STACKS[mode].roles.flatMap((role) =>
        // StartInstances: no role on an untagged instance (restore runs with the user's own credentials; the Slack
        // role starts only instances carrying the guard's stopped-by tag). "Stop now" in Slack: the reaper's grant.
        ['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:StartInstances'].map((action) => {
          const may =
            ((role.name === 'reaper' || role.name === 'slack') &&
              action === (mode === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances')) ||
            (role.name === 'budgets' && action === 'ec2:StopInstances');
          return { mode, role: role.name, action, verdict: may ? 'can' : 'cannot' };
        }),
      ),
    );
    it.each(instanceStateCases)(
      '(idleGpu.action $mode) $role $verdict $action an untagged g5 instance',
      async ({ mode, role, action, verdict }) => {
        const result = await simulate(STACKS[mode].role(role), { action, resource: INSTANCE, context: instanceOf() });
        if (verdict === 'can') expect(result).toBe('Allowed');
        else expect(result).not.toBe('Allowed');
      },
    );

    it.each(
      MAIN.roles.flatMap((role) => OPT_OUT_TAMPERING.map(({ how, request }) => ({ role: role.name, how, request }))),
    )('$role cannot change or remove the opt-out tag by $how', async ({ role, request }) => {
      await expect(simulate(MAIN.role(role), request)).resolves.not.toBe('Allowed');
    });

    it.each(MAIN.roles.flatMap((role) => FORBIDDEN.map((row) => ({ role: role.name, ...row }))))(
      '$role cannot $action on $resource',
      async ({ role, action, resource }) => {
        // Prepare
        const who = MAIN.role(role);
        // Act
        const result = await simulate(who, forbiddenRequest(MAIN, who, { action, resource }));
        // Assess
        expect(result).not.toBe('Allowed');
      },
    );
  });

  describe('SageMaker guard role (sagemaker.action delete, notebookMaxHours and studioIdleShutdownMinutes set)', () => {
    const guard = () => MAIN.role('sagemaker');
    const CFN = 'aws:cloudformation:stack-name';

    it.each([
      // Allowed controls: untagged, opted in, other tags.
      { action: 'sagemaker:DeleteEndpoint', resource: ENDPOINT, tags: {}, expected: 'Allowed' },
      {
        action: 'sagemaker:DeleteEndpoint',
        resource: ENDPOINT,
        tags: { [OPT_OUT]: 'false', team: 'ml' },
        expected: 'Allowed',
      },
      { action: 'sagemaker:StopNotebookInstance', resource: NOTEBOOK, tags: {}, expected: 'Allowed' },
      { action: 'sagemaker:UpdateDomain', resource: DOMAIN, tags: {}, expected: 'Allowed' },
      { action: 'sagemaker:UpdateUserProfile', resource: USER_PROFILE, tags: {}, expected: 'Allowed' },
      { action: 'sagemaker:UpdateSpace', resource: SPACE, tags: { [OPT_OUT]: 'false' }, expected: 'Allowed' },
      // The opt-out tag, in any case and padded: explicitly denied.
      ...['true', 'TRUE', ' True ', 'tRuE '].flatMap((value) =>
        (
          [
            ['sagemaker:DeleteEndpoint', ENDPOINT],
            ['sagemaker:StopNotebookInstance', NOTEBOOK],
            ['sagemaker:UpdateDomain', DOMAIN],
            ['sagemaker:UpdateUserProfile', USER_PROFILE],
            ['sagemaker:UpdateSpace', SPACE],
          ] as [string, string][]
        ).map(([action, resource]) => ({ action, resource, tags: { [OPT_OUT]: value }, expected: 'ExplicitlyDenied' })),
      ),
      {
        action: 'sagemaker:DeleteEndpoint',
        resource: ENDPOINT,
        tags: { 'Cost-Guard:Opt-Out': 'true' },
        expected: 'ExplicitlyDenied',
      },
      // Resources a CloudFormation stack owns: deleting or changing them drifts the stack.
      {
        action: 'sagemaker:DeleteEndpoint',
        resource: ENDPOINT,
        tags: { [CFN]: 'serving' },
        expected: 'ExplicitlyDenied',
      },
      { action: 'sagemaker:UpdateDomain', resource: DOMAIN, tags: { [CFN]: 'studio' }, expected: 'ExplicitlyDenied' },
      {
        action: 'sagemaker:UpdateUserProfile',
        resource: USER_PROFILE,
        tags: { [CFN]: 'studio' },
        expected: 'ExplicitlyDenied',
      },
      { action: 'sagemaker:UpdateSpace', resource: SPACE, tags: { [CFN]: 'studio' }, expected: 'ExplicitlyDenied' },
    ])('$action on a resource tagged $tags is $expected', async ({ action, resource, tags, expected }) => {
      expectDecision(await simulate(guard(), { action, resource, context: resourceTags(tags) }), expected);
    });

    it.each([
      { region: 'us-east-1', expected: 'Allowed' },
      { region: 'eu-west-1', expected: 'Allowed' },
      { region: UNCONFIGURED_REGION, expected: 'denied' },
    ])('DeleteEndpoint on an untagged endpoint in $region is $expected', async ({ region, expected }) => {
      expectDecision(
        await simulate(guard(), {
          action: 'sagemaker:DeleteEndpoint',
          resource: sageMakerArn('endpoint', 'x', region),
        }),
        expected,
      );
    });

    it.each([
      // Restore runs with the user's own credentials; configs and models always stay.
      { action: 'sagemaker:CreateEndpoint', resource: ENDPOINT },
      { action: 'sagemaker:DeleteEndpointConfig', resource: sageMakerArn('endpoint-config', 'llm-demo-config') },
      { action: 'sagemaker:DeleteModel', resource: sageMakerArn('model', 'llm') },
      { action: 'sagemaker:DeleteNotebookInstance', resource: NOTEBOOK },
      { action: 'sagemaker:DeleteDomain', resource: DOMAIN },
      { action: 'sagemaker:DeleteApp', resource: sageMakerArn('app', 'd-abc123/alice/JupyterLab/default') },
      // No tag writes: it can never opt a resource back in.
      { action: 'sagemaker:AddTags', resource: ENDPOINT },
      { action: 'sagemaker:DeleteTags', resource: ENDPOINT },
      { action: 'sagemaker:UpdateEndpoint', resource: ENDPOINT },
    ])('cannot $action', async ({ action, resource }) => {
      // A policy allowing everything could (the request is valid and simulable).
      await expect(
        simulateAs(`arn:aws:iam::${ACCOUNT}:role/any`, ALLOW_EVERYTHING, { action, resource }),
      ).resolves.toBe('Allowed');
      await expect(simulate(guard(), { action, resource })).resolves.not.toBe('Allowed');
    });

    it.each(['terminate', 'stop'] as ReaperAction[])(
      'with dryRun (idleGpu.action %s) may delete, stop and update nothing, and can still read',
      async (mode) => {
        const dry = DRY_RUN[mode].role('sagemaker');
        for (const [action, resource] of [
          ['sagemaker:DeleteEndpoint', ENDPOINT],
          ['sagemaker:StopNotebookInstance', NOTEBOOK],
          ['sagemaker:UpdateDomain', DOMAIN],
          ['sagemaker:UpdateUserProfile', USER_PROFILE],
          ['sagemaker:UpdateSpace', SPACE],
        ] as const) {
          await expect(simulate(dry, { action, resource })).resolves.not.toBe('Allowed');
        }
        await expect(simulate(dry, { action: 'sagemaker:DescribeEndpoint', resource: ENDPOINT })).resolves.toBe(
          'Allowed',
        );
        await expect(simulate(dry, { action: 'cloudwatch:GetMetricData', resource: '*' })).resolves.toBe('Allowed');
      },
    );

    it('no other role may delete an endpoint, stop a notebook instance or update a domain', async () => {
      for (const role of MAIN.roles.filter((r) => r.name !== 'sagemaker')) {
        for (const [action, resource] of [
          ['sagemaker:DeleteEndpoint', ENDPOINT],
          ['sagemaker:StopNotebookInstance', NOTEBOOK],
          ['sagemaker:UpdateDomain', DOMAIN],
          ['sagemaker:UpdateUserProfile', USER_PROFILE],
          ['sagemaker:UpdateSpace', SPACE],
        ] as const) {
          await expect(simulate(role, { action, resource })).resolves.not.toBe('Allowed');
        }
      }
    });
  });

  /**
   * The code treats a protection tag as set when its value is `true` after trimming spaces
   * (lambda/core/tags.ts isTagTrue, used by both guards). StringEqualsIgnoreCase
   * does not trim, so the constructs add a StringLike Deny on values containing "true" (lib/constructs/iam-conditions.ts).
   */
  describe('Protection tag values with surrounding spaces', () => {
    it.each<TagCase & { role: string }>([
      { role: 'reaper', action: 'ec2:TerminateInstances', tags: { [OPT_OUT]: 'true ' } },
      { role: 'reaper', action: 'ec2:TerminateInstances', tags: { [OPT_OUT]: ' TRUE' } },
      { role: 'budgets', action: 'ec2:StopInstances', tags: { [ESSENTIAL]: 'true ' } },
      { role: 'budgets', action: 'ec2:StopInstances', tags: { [OPT_OUT]: ' true' } },
    ])('$role $action on an instance tagged $tags is explicitly denied', async ({ role, action, tags }) => {
      await expect(simulate(MAIN.role(role), { action, resource: INSTANCE, context: instanceOf(tags) })).resolves.toBe(
        'ExplicitlyDenied',
      );
    });
  });
});

/**
 * The launch cap (issue 14): with `budgets.launchCap`, the stack creates one customer managed policy per budget item
 * with `launchCapRoles`, and the budget guard attaches it to those roles at the action threshold. Proved here with
 * the policy and the grant as synthesized:
 * - with the cap policy attached, a listed role cannot launch (RunInstances) or start a GPU instance (g5, p4d, dl1)
 *   but can still launch or start a t3, whatever its own policies allow;
 * - the budget guard role can attach (and detach) only that budget's cap policy (condition iam:PolicyARN), only to
 *   the listed roles, and not at all with dryRun: true.
 */
describe('Proof: IAM of the launch cap (budgets.launchCap)', () => {
  const CAPPED_ROLES = ['ml-training', 'ml-research'];
  const capConfig = (dryRun: boolean): CostGuardConfigInput => ({
    dryRun,
    regions: REGIONS,
    budgets: {
      enabled: true,
      action: 'notify',
      launchCap: true,
      items: [
        { name: 'ml-platform', limitUsd: 5000, scopeTags: { team: 'ml' }, launchCapRoles: CAPPED_ROLES },
        { name: 'search', limitUsd: 1000, launchCapRoles: ['search-batch'] },
      ],
    },
  });
  const CAP = synth(capConfig(false));
  const CAP_DRY_RUN = synth(capConfig(true));
  const roleArnOf = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
  const capArn = (budget: string) => launchCapPolicyArn('aws', ACCOUNT, budget);

  /** The cap policy of `budget` as the template has it, resolved into plain JSON. */
  function capPolicy(stack: Synth, budget: string): { name: string; policy: Json } {
    const found = Object.entries(stack.resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && r.Properties.ManagedPolicyName === launchCapPolicyName(budget),
    );
    if (found.length !== 1) throw new Error(`expected one cap policy for ${budget}, found ${found.length}`);
    return { name: found[0]![0], policy: resolver(stack.resources)(found[0]![1].Properties.PolicyDocument) };
  }

  /** What a listed role may do on its own: launch and start anything (the cap must hold whatever it has). */
  const OWN_EC2 = {
    name: 'own-ec2',
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ec2:RunInstances', 'ec2:StartInstances'], Resource: '*' }],
    },
  };

  const launch = (action: string, type: string): Request => ({
    action,
    resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0123456789abcdef0`,
    context: { 'ec2:InstanceType': type },
  });

  describe('a listed role with the cap policy attached', () => {
    const capped = [OWN_EC2, capPolicy(CAP, 'ml-platform')];

    it.each([
      ...['g5.xlarge', 'g4dn.xlarge', 'g6e.xlarge', 'p4d.24xlarge', 'p5.48xlarge', 'dl1.24xlarge'].flatMap((type) =>
        ['ec2:RunInstances', 'ec2:StartInstances'].map((action) => ({ action, type, expected: 'ExplicitlyDenied' })),
      ),
      ...['t3.micro', 'm5.large', 'c7g.xlarge', 'r6i.2xlarge'].flatMap((type) =>
        ['ec2:RunInstances', 'ec2:StartInstances'].map((action) => ({ action, type, expected: 'Allowed' })),
      ),
    ])('$action of a $type is $expected', async ({ action, type, expected }) => {
      await expect(simulateAs(roleArnOf('ml-training'), capped, launch(action, type))).resolves.toBe(expected);
    });

    it.each(['g5.xlarge', 'p4d.24xlarge'])('could launch a %s without the cap policy (control)', async (type) => {
      await expect(simulateAs(roleArnOf('ml-training'), [OWN_EC2], launch('ec2:RunInstances', type))).resolves.toBe(
        'Allowed',
      );
    });
  });

  describe('the budget guard role', () => {
    const guard = () => CAP.role('budgets');
    const attach = (action: string, role: string, policyArn: string): Request => ({
      action,
      resource: roleArnOf(role),
      context: { 'iam:PolicyARN': policyArn },
    });

    it.each([
      // Its own job: the budget's cap policy on the budget's roles.
      ...['iam:AttachRolePolicy', 'iam:DetachRolePolicy'].flatMap((action) => [
        { action, role: 'ml-training', policy: capArn('ml-platform'), expected: 'Allowed' },
        { action, role: 'ml-research', policy: capArn('ml-platform'), expected: 'Allowed' },
        { action, role: 'search-batch', policy: capArn('search'), expected: 'Allowed' },
        // Another budget's cap on these roles, or this budget's cap on another budget's role.
        { action, role: 'ml-training', policy: capArn('search'), expected: 'denied' },
        { action, role: 'search-batch', policy: capArn('ml-platform'), expected: 'denied' },
        // Any other policy on a listed role: no escalation through the grant.
        { action, role: 'ml-training', policy: 'arn:aws:iam::aws:policy/AdministratorAccess', expected: 'denied' },
        { action, role: 'ml-training', policy: `arn:aws:iam::${ACCOUNT}:policy/platform`, expected: 'denied' },
        // The cap policy on a role not listed.
        { action, role: 'Admin', policy: capArn('ml-platform'), expected: 'denied' },
        { action, role: 'ml-training-prod', policy: capArn('ml-platform'), expected: 'denied' },
      ]),
    ])('$action of $policy on role $role is $expected', async ({ action, role, policy, expected }) => {
      expectDecision(await simulate(guard(), attach(action, role, policy)), expected);
    });

    it('cannot attach the cap policy to itself', async () => {
      const self = guard();
      await expect(
        simulate(self, {
          action: 'iam:AttachRolePolicy',
          resource: self.arn,
          context: { 'iam:PolicyARN': capArn('ml-platform') },
        }),
      ).resolves.not.toBe('Allowed');
    });

    it('a policy allowing everything could make each denied request (control)', async () => {
      for (const [role, policy] of [
        ['Admin', capArn('ml-platform')],
        ['ml-training', 'arn:aws:iam::aws:policy/AdministratorAccess'],
      ] as const) {
        await expect(
          simulateAs(
            `arn:aws:iam::${ACCOUNT}:role/any`,
            ALLOW_EVERYTHING,
            attach('iam:AttachRolePolicy', role, policy),
          ),
        ).resolves.toBe('Allowed');
      }
    });

    it.each(['iam:AttachRolePolicy', 'iam:DetachRolePolicy'])('holds no %s with dryRun: true', async (action) => {
      await expect(
        simulate(CAP_DRY_RUN.role('budgets'), attach(action, 'ml-training', capArn('ml-platform'))),
      ).resolves.not.toBe('Allowed');
    });
  });
});
