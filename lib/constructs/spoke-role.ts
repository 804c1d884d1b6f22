import { Annotations, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ConfigError, type CostGuardConfig } from '../../lambda/core/config';
import { budgetStopPolicySet } from './budget-guard';
import { reaperPolicySet } from './idle-gpu-reaper';
import { hubRoleName, type SpokeCapability, spokeCapabilities } from './organization-roles';
import type { PolicySet } from './policy-set';
import { pricingPolicySet } from './pricing-policy';
import { rightsizingPolicySet } from './rightsizing';
import { sageMakerPolicySet } from './sagemaker-guard';
import { lifecyclePolicySet } from './storage-lifecycle';

/**
 * IAM's limit on a customer managed policy document (characters, whitespace excluded). Statements are packed below
 * it, measured on the template's JSON (intrinsics included), which is longer than the policy IAM stores.
 */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** The managed policies IAM attaches to one role by default (the quota can be raised to 20). */
export const MANAGED_POLICIES_PER_ROLE = 10;

export interface SpokeRoleProps {
  /** The validated config (a hub's): which capabilities reach in, with which dryRun, actions, tags and regions. */
  readonly config: CostGuardConfig;
  /** The hub's account ID (a literal or a parameter). */
  readonly hubAccountId: string;
  /** The hub stack's name: its function roles are `<name>-<capability>`. */
  readonly hubStackName: string;
  /** The organization ID (o-…): only principals of this organization may assume the role. */
  readonly organizationId: string;
}

/** A capability's permissions in the account this role lives in: the very set its hub function role has at home. */
function policySetOf(stack: Stack, config: CostGuardConfig, capability: SpokeCapability): PolicySet {
  switch (capability) {
    case 'reaper':
      return reaperPolicySet(stack, config);
    case 'sagemaker':
      return sageMakerPolicySet(stack, config);
    case 'rightsizing':
      return rightsizingPolicySet();
    case 'lifecycle':
      return lifecyclePolicySet(config);
    case 'budgets':
      return budgetStopPolicySet(stack, config);
  }
}

/** Statements in order, split so that each chunk's JSON stays under `maxChars`. */
function pack(stack: Stack, statements: readonly iam.PolicyStatement[], maxChars: number): iam.PolicyStatement[][] {
  const chunks: iam.PolicyStatement[][] = [];
  let size = 0;
  for (const statement of statements) {
    const length = JSON.stringify(stack.resolve(statement.toStatementJson())).length + 1;
    const last = chunks.at(-1);
    if (!last || size + length > maxChars) {
      chunks.push([statement]);
      size = length;
    } else {
      last.push(statement);
      size += length;
    }
  }
  return chunks;
}

/**
 * The role the hub assumes in a member account (accounts.mode: organization), named `accounts.roleName`.
 *
 * Trust: the hub account as principal, and only when the caller is one of the hub's function roles that reach into
 * member accounts (`ArnEquals aws:PrincipalArn arn:<partition>:iam::<hub>:role/<hub stack>-<capability>`) and belongs
 * to the organization (`StringEquals aws:PrincipalOrgID`): no other role or user of the hub account, and no principal
 * outside the organization.
 *
 * Permissions: for each capability that reaches in, exactly the PolicySet its function role has in the hub (one
 * home per policy: the capability's construct file), formatted for this account, in customer managed policies
 * (statement IDs stay unique per policy, each under IAM's 6,144-character limit): the same tag and type conditions,
 * the same explicit Denies, nothing destructive with dryRun on. The state table, the Slack secret, logs and the
 * Organizations reads stay in the hub. With pricing.live, the Price List reads as well (read-only).
 */
export class SpokeRole extends Construct {
  readonly role: iam.Role;
  /** The capabilities whose hub roles the spoke trusts, in order. */
  readonly capabilities: readonly SpokeCapability[];
  /** The hub function roles trusted, by ARN. */
  readonly trustedRoleArns: readonly string[];
  readonly policies: readonly iam.ManagedPolicy[];

  constructor(scope: Construct, id: string, props: SpokeRoleProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    this.capabilities = spokeCapabilities(config);
    if (this.capabilities.length === 0) {
      throw new ConfigError(
        'ml-cost-guard: accounts.mode is organization but no enabled capability works in member accounts ' +
          '(idleGpu, sagemaker, rightsizing, storage, or budget items with accounts): the spoke role would trust no one',
        ['accounts.mode: organization with no capability reaching into member accounts'],
      );
    }
    this.trustedRoleArns = this.capabilities.map(
      (c) => `arn:${stack.partition}:iam::${props.hubAccountId}:role/${hubRoleName(props.hubStackName, c)}`,
    );
    this.role = new iam.Role(this, 'Role', {
      roleName: config.accounts.roleName,
      description: 'ml-cost-guard spoke: the hub functions act here as their own roles do in the hub',
      assumedBy: new iam.AccountPrincipal(props.hubAccountId).withConditions({
        ArnEquals: { 'aws:PrincipalArn': [...this.trustedRoleArns] },
        StringEquals: { 'aws:PrincipalOrgID': props.organizationId },
      }),
    });

    const sets: [string, PolicySet][] = this.capabilities.map((c) => [c, policySetOf(stack, config, c)]);
    const pricing = pricingPolicySet(config);
    if (pricing) sets.push(['pricing', pricing]);
    const policies: iam.ManagedPolicy[] = [];
    for (const [name, set] of sets) {
      pack(stack, set.statements, MANAGED_POLICY_MAX_CHARS).forEach((statements, i) => {
        const part = i === 0 ? '' : ` (part ${i + 1})`;
        policies.push(
          new iam.ManagedPolicy(this, `${name[0]!.toUpperCase()}${name.slice(1)}${i === 0 ? '' : i + 1}`, {
            description: `ml-cost-guard spoke: what the hub's ${name} function may do in this account${part}`,
            statements,
            roles: [this.role],
          }),
        );
      });
      if (set.acknowledgements.length > 0) Validations.of(this).acknowledge(...set.acknowledgements);
    }
    this.policies = policies;
    if (policies.length > MANAGED_POLICIES_PER_ROLE) {
      Annotations.of(this).addWarningV2(
        'ml-cost-guard:spoke-policies',
        `the spoke role needs ${policies.length} managed policies; IAM attaches ${MANAGED_POLICIES_PER_ROLE} to a role ` +
          'unless the quota is raised (up to 20) in every member account: configure fewer regions or capabilities',
      );
    }
  }
}
