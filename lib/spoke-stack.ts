import { CfnParameter, DefaultStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CostGuardConfig } from '../lambda/core/config';
import { DEFAULT_STACK_NAME } from '../lambda/core/names';
import { SpokeRole } from './constructs/spoke-role';

/** The spoke stack's parameters: the StackSet passes them; a standalone deploy takes the defaults from the config. */
export const SPOKE_PARAMETER = {
  hubAccountId: 'HubAccountId',
  hubStackName: 'HubStackName',
  organizationId: 'OrganizationId',
} as const;

export interface MlCostGuardSpokeStackProps extends StackProps {
  /** The validated config of the hub (accounts.mode: organization). */
  readonly config: CostGuardConfig;
  /** The hub stack's name. @default 'MlCostGuard' */
  readonly hubStackName?: string;
}

/**
 * The spoke of organization mode: the role the hub assumes in a member account (lib/constructs/spoke-role.ts), and
 * nothing else. The same stack is the template of the hub's StackSet (lib/constructs/organization-hub.ts), deployed
 * into every account of the configured OUs, and `cdk deploy MlCostGuardSpoke` for an account outside them.
 *
 * Parameters: HubAccountId (default accounts.hubAccountId; without it, pass `--parameters HubAccountId=…`),
 * HubStackName (default the hub stack's name), OrganizationId (default accounts.organizationId). No assets, no
 * bootstrap version check: member accounts of a StackSet are not CDK-bootstrapped.
 */
export class MlCostGuardSpokeStack extends Stack {
  readonly spoke: SpokeRole;

  constructor(scope: Construct, id: string, props: MlCostGuardSpokeStackProps) {
    const hub = props.hubStackName ?? DEFAULT_STACK_NAME;
    super(scope, id, {
      description: `ml-cost-guard spoke: the role the ${hub} hub assumes in this account`,
      // No CDK metadata resource: the template stays the same whether the CLI or the hub's StackSet synthesizes it.
      analyticsReporting: false,
      ...props,
      synthesizer: props.synthesizer ?? new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
    });
    const { config } = props;
    const hubAccountId = new CfnParameter(this, SPOKE_PARAMETER.hubAccountId, {
      type: 'String',
      description: 'The ml-cost-guard hub account (where the MlCostGuard stack runs)',
      allowedPattern: '^\\d{12}$',
      constraintDescription: 'a 12-digit AWS account ID',
      ...(config.accounts.hubAccountId ? { default: config.accounts.hubAccountId } : {}),
    });
    const hubStackName = new CfnParameter(this, SPOKE_PARAMETER.hubStackName, {
      type: 'String',
      description: 'The hub stack name: the hub function roles are <name>-<capability>',
      allowedPattern: '^[A-Za-z][A-Za-z0-9-]{0,127}$',
      default: hub,
    });
    const organizationId = new CfnParameter(this, SPOKE_PARAMETER.organizationId, {
      type: 'String',
      description: 'The AWS Organization ID (o-...): only its principals may assume the spoke role',
      allowedPattern: '^o-[a-z0-9]{10,32}$',
      ...(config.accounts.organizationId ? { default: config.accounts.organizationId } : {}),
    });
    this.spoke = new SpokeRole(this, 'Spoke', {
      config,
      hubAccountId: hubAccountId.valueAsString,
      hubStackName: hubStackName.valueAsString,
      organizationId: organizationId.valueAsString,
    });
  }
}
