/**
 * Organization mode (accounts.mode: organization): which hub functions reach into member accounts, the fixed names
 * of their roles, and what those roles may do to get there. The spoke role (spoke-role.ts) trusts exactly these roles
 * by ARN; the hub's functions (cost-guard-function.ts) take these names and grants.
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConfigError, type CostGuardConfig } from '../../lambda/core/config';
import { isFanOutCapability, isOrganizationMode } from '../../lambda/core/organization/fan-out';
import type { Acknowledgement, PolicySet } from './policy-set';

/** Capabilities whose hub function may assume the spoke role: the four fan-out capabilities and the budget guard. */
export const SPOKE_CAPABILITIES = ['reaper', 'sagemaker', 'rightsizing', 'lifecycle', 'budgets'] as const;
export type SpokeCapability = (typeof SPOKE_CAPABILITIES)[number];

/** Organizations reads of the fan-out's targets step (lambda/adapters/organizations.ts listTargetAccounts). */
export const ORGANIZATIONS_READ_ACTIONS = [
  'organizations:DescribeAccount',
  'organizations:ListAccounts',
  'organizations:ListAccountsForParent',
  'organizations:ListOrganizationalUnitsForParent',
] as const;

/** The fixed name of a hub function's role: `<hub stack name>-<capability>` (e.g. MlCostGuard-reaper). */
export function hubRoleName(hubStackName: string, capability: SpokeCapability): string {
  return `${hubStackName}-${capability}`;
}

/** Linked accounts of the budget items: where the budget guard stops instances through the spoke role. */
export function budgetLinkedAccounts(config: CostGuardConfig): string[] {
  return [...new Set(config.budgets.items.flatMap((item) => item.accounts))].sort();
}

/**
 * The enabled capabilities that work in member accounts, in SPOKE_CAPABILITIES order: the enabled fan-out
 * capabilities, and the budget guard when a budget item names linked accounts. Empty in single-account mode.
 */
export function spokeCapabilities(config: CostGuardConfig): SpokeCapability[] {
  if (!isOrganizationMode(config.accounts)) return [];
  const enabled: Record<SpokeCapability, boolean> = {
    reaper: config.idleGpu.enabled,
    sagemaker: config.sagemaker.enabled,
    rightsizing: config.rightsizing.enabled,
    lifecycle: config.storage.enabled,
    budgets: config.budgets.enabled && budgetLinkedAccounts(config).length > 0,
  };
  return SPOKE_CAPABILITIES.filter((c) => enabled[c]);
}

/** Whether `capability`'s hub function reaches into member accounts with this config. */
export function reachesIntoSpokes(config: CostGuardConfig, capability: string): capability is SpokeCapability {
  return (spokeCapabilities(config) as string[]).includes(capability);
}

/** The organization ID of a hub config; a ConfigError when missing (the schema requires it in organization mode). */
export function organizationIdOf(config: CostGuardConfig): string {
  const id = config.accounts.organizationId;
  if (!id) {
    throw new ConfigError('ml-cost-guard: accounts.organizationId is required with accounts.mode organization', [
      'accounts.organizationId: missing',
    ]);
  }
  return id;
}

/**
 * What a hub function role needs to reach into member accounts: sts:AssumeRole on the spoke role (accounts.roleName)
 * of accounts of the organization only (`aws:ResourceOrgID`); the fan-out capabilities in any account (the targets
 * are listed at run time), the budget guard only in its items' linked accounts; and, for a fan-out capability, the
 * Organizations reads of its targets step.
 */
export function hubRolePolicySet(stack: Stack, config: CostGuardConfig, capability: SpokeCapability): PolicySet {
  const roleName = config.accounts.roleName;
  const accounts = capability === 'budgets' ? budgetLinkedAccounts(config) : ['*'];
  const statements = [
    new iam.PolicyStatement({
      sid: 'AssumeSpokeRole',
      actions: ['sts:AssumeRole'],
      resources: accounts.map((account) => `arn:${stack.partition}:iam::${account}:role/${roleName}`),
      conditions: { StringEquals: { 'aws:ResourceOrgID': organizationIdOf(config) } },
    }),
  ];
  const acknowledgements: Acknowledgement[] = [];
  if (capability !== 'budgets') {
    acknowledgements.push({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/${roleName}]`,
      reason:
        'The fan-out assumes the spoke role in each target account, listed from Organizations at run time; only a ' +
        'role of this exact name, and only in an account of the organization (aws:ResourceOrgID).',
    });
  }
  if (isFanOutCapability(capability)) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ListTargetAccounts',
        actions: [...ORGANIZATIONS_READ_ACTIONS],
        resources: ['*'],
      }),
    );
    acknowledgements.push({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The targets step lists the accounts of the configured OUs (ListAccounts, ListAccountsForParent, ' +
        'ListOrganizationalUnitsForParent, DescribeAccount): read-only, and ListAccounts supports no resource scope.',
    });
  }
  return { statements, acknowledgements };
}

/** The hub function role's fixed name, or undefined when the function stays in its own account (single mode). */
export function hubRoleNameOf(scope: Stack, config: CostGuardConfig, capability: string): string | undefined {
  return reachesIntoSpokes(config, capability) ? hubRoleName(scope.stackName, capability) : undefined;
}
