/**
 * Proof suite, IAM of organization mode (issue 15): the hub stack and the spoke template its StackSet deploys,
 * evaluated offline with @cloud-copilot/iam-simulate, in the style of test/proof/iam.test.ts.
 *
 * Assuming the spoke role is a cross-account request: the caller's identity policy must allow sts:AssumeRole on the
 * spoke role, and the spoke role's trust policy must allow the caller. Both are taken from the synthesized
 * templates (the trust policy from the StackSet's TemplateBody with the StackSet's parameters), resolved into plain
 * JSON. Each request carries the context AWS sets: aws:PrincipalArn, aws:PrincipalOrgID (the caller's organization)
 * and aws:ResourceOrgID (the spoke account's).
 *
 * The rules proved here:
 * - each hub function role that reaches into member accounts may assume the spoke role of any account of the
 *   organization (the budget guard's only in its budget items' linked accounts);
 * - no other principal of the hub account may, whatever its own policies allow: another role (an administrator,
 *   the stack's other roles, a role of the same name under a path), a user, the account root;
 * - no principal outside the organization may, even one with the hub role's exact ARN; nor a role of the same name
 *   in another account of the organization;
 * - the hub roles may not assume the spoke role of an account outside the organization, nor any other role of a
 *   member account, even if that role's trust policy let them;
 * - once assumed, the spoke role holds the function roles' guard rails (GPU types only, opt-out and group tags
 *   deny), and nothing destructive in dry-run.
 *
 * Every "denied" line has an "allowed" control: a caller that allows everything, facing a trust policy that trusts
 * its account, is allowed the same request.
 */
// The simulator's resource-type matching, remembered per test file (a pure function; see the helper).
jest.mock('@cloud-copilot/iam-utils', () => require('../helpers/iam-utils-memo').memoizedIamUtils());

import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';

const HUB = '111122223333';
const SPOKE = '444455556666';
const LINKED = '555566667777';
const OTHER_MEMBER = '777788889999';
const OUTSIDER = '999900001111';
const ORG_ID = 'o-abcdef1234';
const OTHER_ORG_ID = 'o-zyxwvu9876';
const REGION = 'us-east-1';
const SPOKE_ROLE = 'ml-cost-guard-spoke';
const spokeRoleArn = (account: string, name = SPOKE_ROLE) => `arn:aws:iam::${account}:role/${name}`;
const hubRoleArn = (capability: string) => `arn:aws:iam::${HUB}:role/MlCostGuard-${capability}`;

type Json = unknown;
type Resources = Record<string, { Type: string; Properties: Record<string, Json> }>;
interface Policy {
  readonly name: string;
  readonly policy: Json;
}

function config(dryRun: boolean): CostGuardConfigInput {
  return {
    dryRun,
    regions: [REGION],
    accounts: { mode: 'organization', organizationId: ORG_ID, organizationalUnitIds: ['ou-ab12-cdef3456'] },
    idleGpu: { action: 'terminate' },
    sagemaker: { enabled: true, action: 'delete', notebookMaxHours: 12 },
    rightsizing: { enabled: true },
    budgets: { action: 'stop-non-essential', items: [{ name: 'research', limitUsd: 5000, accounts: [LINKED] }] },
    slack: { interactivity: true, teamId: 'T0PROOF', approvers: ['S0ONCALL'] },
  };
}

/** Plain JSON for a template fragment: parameters and pseudo parameters by `values`, other resources by fake ARNs. */
function resolver(account: string, values: Record<string, string>) {
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const o = value as Record<string, Json>;
    if ('Ref' in o) {
      const ref = String(o.Ref);
      return values[ref] ?? `arn:aws:fake:${REGION}:${account}:resource/${ref}`;
    }
    if ('Fn::GetAtt' in o) {
      const [id] = o['Fn::GetAtt'] as string[];
      return `arn:aws:fake:${REGION}:${account}:resource/${id}`;
    }
    if ('Fn::Join' in o) {
      const [separator, parts] = o['Fn::Join'] as [string, Json[]];
      return parts.map((p) => String(resolve(p))).join(separator);
    }
    if ('Fn::Split' in o) {
      const [separator, source] = o['Fn::Split'] as [string, Json];
      return String(resolve(source)).split(separator);
    }
    if ('Fn::Select' in o) {
      const [index, from] = o['Fn::Select'] as [number, Json];
      return (resolve(from) as Json[])[index];
    }
    const intrinsic = Object.keys(o).find((k) => k.startsWith('Fn::'));
    if (intrinsic) throw new Error(`the resolver does not handle ${intrinsic}`);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

const refersTo = (value: Json, id: string) => JSON.stringify(value ?? null).includes(`"${id}"`);

/** The identity policies of the template's role `roleId`: its policies and the managed policies attached to it. */
function identityPolicies(resources: Resources, roleId: string, resolve: (v: Json) => Json): Policy[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .filter(([, r]) => refersTo(r.Properties.Roles, roleId))
    .map(([id, r]) => ({ name: id, policy: resolve(r.Properties.PolicyDocument) }));
}

interface Deployment {
  /** The hub's roles, by ARN (a fixed name, or the logical ID), with their identity policies. */
  readonly hubRoles: Map<string, Policy[]>;
  /** The spoke role's trust policy, as the StackSet deploys it. */
  readonly trust: Json;
  /** The spoke role's identity policies, in the spoke account. */
  readonly spokePolicies: Policy[];
}

function deploy(dryRun: boolean): Deployment {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(config(dryRun)),
    env: { account: HUB, region: REGION },
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const hubResolve = resolver(HUB, { 'AWS::Partition': 'aws', 'AWS::AccountId': HUB, 'AWS::Region': REGION });
  const hubRoles = new Map(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Role')
      .map(([id, r]) => [
        `arn:aws:iam::${HUB}:role/${String(r.Properties.RoleName ?? id)}`,
        identityPolicies(resources, id, hubResolve),
      ]),
  );
  const stackSet = Object.values(resources).find((r) => r.Type === 'AWS::CloudFormation::StackSet')!;
  const parameters = Object.fromEntries(
    (stackSet.Properties.Parameters as { ParameterKey: string; ParameterValue: string }[]).map((p) => [
      p.ParameterKey,
      p.ParameterValue,
    ]),
  );
  const spoke = JSON.parse(String(stackSet.Properties.TemplateBody)) as { Resources: Resources };
  const spokeResolve = resolver(SPOKE, {
    ...parameters,
    'AWS::Partition': 'aws',
    'AWS::AccountId': SPOKE,
    'AWS::Region': REGION,
  });
  const [roleId, role] = Object.entries(spoke.Resources).find(([, r]) => r.Type === 'AWS::IAM::Role')!;
  return {
    hubRoles,
    trust: spokeResolve(role.Properties.AssumeRolePolicyDocument),
    spokePolicies: identityPolicies(spoke.Resources, roleId, spokeResolve),
  };
}

const ACTING = deploy(false);
const DRY_RUN = deploy(true);

const ALLOW_EVERYTHING: Policy[] = [
  {
    name: 'allow-everything',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
  },
];
/** A trust policy that trusts a whole account: the control that the caller's own side allows the request. */
const trustsAccount = (account: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }],
});

interface Caller {
  readonly arn: string;
  readonly policies: readonly Policy[];
  /** The caller's organization; undefined for an account in none. */
  readonly orgId?: string;
}

async function simulate(request: {
  principal: string;
  policies: readonly Policy[];
  action: string;
  resource: string;
  resourceAccount: string;
  context?: Record<string, string | string[]>;
  resourcePolicy?: Json;
}): Promise<EvaluationResult> {
  const result = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount },
        contextVariables: request.context ?? {},
      },
      identityPolicies: [...request.policies],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulation error: ${JSON.stringify(result.errors)}`);
  const ignored =
    result.resultType === 'single'
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length > 0) throw new Error(`the simulator ignored context keys ${ignored.join(', ')}`);
  return result.overallResult;
}

/** `caller` assumes `roleArn` (default: the spoke role of SPOKE, whose organization is `resourceOrgId`). */
function assume(
  caller: Caller,
  {
    account = SPOKE,
    roleArn = spokeRoleArn(account),
    resourceOrgId = ORG_ID,
    trust = ACTING.trust,
  }: { account?: string; roleArn?: string; resourceOrgId?: string; trust?: Json } = {},
): Promise<EvaluationResult> {
  return simulate({
    principal: caller.arn,
    policies: caller.policies,
    action: 'sts:AssumeRole',
    resource: roleArn,
    resourceAccount: account,
    context: {
      'aws:PrincipalArn': caller.arn,
      'aws:PrincipalAccount': caller.arn.split(':')[4]!,
      ...(caller.orgId ? { 'aws:PrincipalOrgID': caller.orgId } : {}),
      'aws:ResourceOrgID': resourceOrgId,
      'aws:ResourceAccount': account,
    },
    resourcePolicy: trust,
  });
}

const hubRole = (capability: string): Caller => {
  const arn = hubRoleArn(capability);
  const policies = ACTING.hubRoles.get(arn);
  if (!policies) throw new Error(`no hub role ${arn}`);
  return { arn, policies, orgId: ORG_ID };
};
const admin = (account: string, orgId: string | undefined, name = 'Admin'): Caller => ({
  arn: `arn:aws:iam::${account}:role/${name}`,
  policies: ALLOW_EVERYTHING,
  ...(orgId ? { orgId } : {}),
});

const FAN_OUT = ['reaper', 'sagemaker', 'rightsizing', 'lifecycle'];

// ---------------------------------------------------------------------------------------------------------------

describe('Proof: IAM of organization mode (the hub and the spoke role its StackSet deploys)', () => {
  describe('Inventory', () => {
    it('resolves the trust policy and every role policy into plain JSON', () => {
      for (const policies of [...ACTING.hubRoles.values(), ACTING.spokePolicies]) {
        expect(JSON.stringify(policies)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
      }
      expect(JSON.stringify(ACTING.trust)).not.toMatch(/"(Ref|Fn::[A-Za-z]+)"/);
      expect(ACTING.spokePolicies.length).toBeGreaterThan(0);
    });
  });

  describe('Only the hub roles can assume the spoke role', () => {
    it.each(FAN_OUT)('the %s function role may, in any member account', async (capability) => {
      expect(await assume(hubRole(capability))).toBe('Allowed');
      expect(await assume(hubRole(capability), { account: OTHER_MEMBER })).toBe('Allowed');
    });

    it("the budget guard's role may in its budget items' linked accounts, and in no other", async () => {
      expect(await assume(hubRole('budgets'), { account: LINKED })).toBe('Allowed');
      expect(await assume(hubRole('budgets'), { account: SPOKE })).not.toBe('Allowed');
    });

    it('no other role of the hub stack may (the Slack buttons, monthly summary, alarms, schedulers...)', async () => {
      const others = [...ACTING.hubRoles.entries()].filter(
        ([arn]) => ![...FAN_OUT, 'budgets'].some((c) => arn === hubRoleArn(c)),
      );
      expect(others.length).toBeGreaterThan(5);
      for (const [arn, policies] of others) {
        expect(await assume({ arn, policies, orgId: ORG_ID })).not.toBe('Allowed');
      }
    });

    it.each([
      ['an administrator role of the hub account', admin(HUB, ORG_ID)],
      ['a role named like a hub role under a path', admin(HUB, ORG_ID, 'team/MlCostGuard-reaper')],
      ['a role whose name starts like a hub role', admin(HUB, ORG_ID, 'MlCostGuard-reaper-copy')],
      [
        'a user of the hub account',
        { arn: `arn:aws:iam::${HUB}:user/alice`, policies: ALLOW_EVERYTHING, orgId: ORG_ID },
      ],
      ['the hub account root', { arn: `arn:aws:iam::${HUB}:root`, policies: ALLOW_EVERYTHING, orgId: ORG_ID }],
    ])('%s may not, whatever its own policies allow', async (_, caller) => {
      expect(await assume(caller)).not.toBe('Allowed');
      // Control: the same caller is allowed by a trust policy that trusts its account.
      expect(await assume(caller, { trust: trustsAccount(HUB) })).toBe('Allowed');
    });

    it('a role of the same name in another member account may not', async () => {
      const lookalike = { ...admin(OTHER_MEMBER, ORG_ID, 'MlCostGuard-reaper') };
      expect(await assume(lookalike)).not.toBe('Allowed');
      expect(await assume(lookalike, { trust: trustsAccount(OTHER_MEMBER) })).toBe('Allowed');
    });
  });

  describe('No principal outside the organization can', () => {
    it("not even with the hub reaper role's exact ARN, when its account is not in the organization", async () => {
      const outside: Caller = { ...hubRole('reaper'), orgId: OTHER_ORG_ID };
      expect(await assume(outside)).not.toBe('Allowed');
      const noOrg: Caller = { arn: hubRoleArn('reaper'), policies: hubRole('reaper').policies };
      expect(await assume(noOrg)).not.toBe('Allowed');
      // Control: inside the organization, the same caller is allowed.
      expect(await assume(hubRole('reaper'))).toBe('Allowed');
    });

    it('an administrator of an account outside the organization may not', async () => {
      const outsider = admin(OUTSIDER, OTHER_ORG_ID);
      expect(await assume(outsider)).not.toBe('Allowed');
      expect(await assume(outsider, { trust: trustsAccount(OUTSIDER) })).toBe('Allowed');
    });
  });

  describe('The hub roles reach no further than the spoke roles of the organization', () => {
    it.each(FAN_OUT)(
      'the %s role may not assume a spoke role in an account outside the organization',
      async (capability) => {
        expect(
          await assume(hubRole(capability), {
            account: OUTSIDER,
            resourceOrgId: OTHER_ORG_ID,
            trust: trustsAccount(HUB),
          }),
        ).not.toBe('Allowed');
      },
    );

    it.each(FAN_OUT)('the %s role may not assume another role of a member account', async (capability) => {
      for (const name of ['OrganizationAccountAccessRole', 'Admin', `${SPOKE_ROLE}-admin`]) {
        expect(
          await assume(hubRole(capability), { roleArn: spokeRoleArn(SPOKE, name), trust: trustsAccount(HUB) }),
        ).not.toBe('Allowed');
      }
      // Control: the spoke role itself, under the same permissive trust policy.
      expect(await assume(hubRole(capability), { trust: trustsAccount(HUB) })).toBe('Allowed');
    });
  });

  describe('Once assumed, the spoke role keeps the guard rails of the function roles', () => {
    const instance = `arn:aws:ec2:${REGION}:${SPOKE}:instance/i-0123456789abcdef0`;
    const act = (policies: readonly Policy[], action: string, context: Record<string, string>) =>
      simulate({
        principal: spokeRoleArn(SPOKE),
        policies,
        action,
        resource: instance,
        resourceAccount: SPOKE,
        context,
      });

    it.each<{ instance: string; context: Record<string, string>; expected: EvaluationResult }>([
      { instance: 'an untagged GPU instance', context: { 'ec2:InstanceType': 'g5.xlarge' }, expected: 'Allowed' },
      { instance: 'a CPU instance', context: { 'ec2:InstanceType': 'm5.xlarge' }, expected: 'ImplicitlyDenied' },
      {
        instance: 'an opted-out GPU instance',
        context: { 'ec2:InstanceType': 'g5.xlarge', 'aws:ResourceTag/cost-guard:opt-out': 'TRUE' },
        expected: 'ExplicitlyDenied',
      },
      {
        instance: 'a GPU instance of an Auto Scaling group',
        context: { 'ec2:InstanceType': 'g5.xlarge', 'aws:ResourceTag/aws:autoscaling:groupName': 'train' },
        expected: 'ExplicitlyDenied',
      },
    ])('terminating $instance is $expected, as for the reaper at home', async ({ context, expected }) => {
      expect(await act(ACTING.spokePolicies, 'ec2:TerminateInstances', context)).toBe(expected);
    });

    it('never stops an essential instance (the budget guard rule)', async () => {
      const essential = { 'ec2:InstanceType': 'g5.xlarge', 'aws:ResourceTag/cost-guard:essential': 'true' };
      expect(await act(ACTING.spokePolicies, 'ec2:StopInstances', essential)).toBe('ExplicitlyDenied');
      expect(await act(ACTING.spokePolicies, 'ec2:StopInstances', { 'ec2:InstanceType': 'g5.xlarge' })).toBe('Allowed');
    });

    it('stops, terminates and tags nothing in dry-run', async () => {
      for (const action of ['ec2:TerminateInstances', 'ec2:StopInstances', 'ec2:CreateTags', 'ec2:DeleteTags']) {
        expect(await act(DRY_RUN.spokePolicies, action, { 'ec2:InstanceType': 'g5.xlarge' })).not.toBe('Allowed');
      }
      // Control: an identity that allows everything may make the same request.
      expect(await act(ALLOW_EVERYTHING, 'ec2:TerminateInstances', { 'ec2:InstanceType': 'g5.xlarge' })).toBe(
        'Allowed',
      );
    });
  });
});
