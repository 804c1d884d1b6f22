import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct } from 'constructs';
import { ConfigError, type CostGuardConfig } from '../../lambda/core/config';
import { MlCostGuardSpokeStack, SPOKE_PARAMETER } from '../spoke-stack';
import { organizationIdOf } from './organization-roles';

/** CloudFormation's limit on an inline template (TemplateBody). */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

/** The context keys the spoke template is synthesized with, taken from the hub's app (feature flags that shape IAM). */
const INHERITED_CONTEXT = ['@aws-cdk/aws-iam:minimizePolicies'];

/**
 * The spoke stack's CloudFormation template for `config`, synthesized in-process in an app of its own (no assets, no
 * Docker), in a temporary directory removed afterwards: the StackSet's template is exactly the template of
 * `cdk deploy MlCostGuardSpoke` for the same config.
 */
export function spokeTemplate(
  config: CostGuardConfig,
  hubStackName: string,
  context: Record<string, unknown> = {},
): Record<string, unknown> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'ml-cost-guard-spoke-'));
  try {
    const app = new App({ outdir, autoSynth: false, analyticsReporting: false, context });
    const stack = new MlCostGuardSpokeStack(app, 'MlCostGuardSpoke', { config, hubStackName });
    return app.synth().getStackByName(stack.stackName).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export interface OrganizationHubProps {
  /** The validated config with accounts.mode organization. */
  readonly config: CostGuardConfig;
}

/**
 * The hub's StackSet (accounts.mode: organization): the spoke stack's template (lib/spoke-stack.ts) deployed with
 * service-managed permissions to every account of `accounts.organizationalUnitIds` (nested OUs included) but
 * `accounts.exclude`, and automatically to accounts that join them later (and removed from accounts that leave).
 * One stack instance per account, in the hub's region (the role is global). Created as the management account
 * (`CallAs: SELF`) or as a delegated administrator (`CallAs: DELEGATED_ADMIN`) after accounts.hubAccountRole.
 *
 * Accounts outside the OUs (accounts.accountIds) deploy `MlCostGuardSpoke` themselves; without OUs there is no
 * StackSet. A service-managed StackSet never deploys to the management account: a hub there reaches its own
 * account with its own roles.
 */
export class OrganizationHub extends Construct {
  readonly stackSet?: cloudformation.CfnStackSet;
  /** The spoke template the StackSet deploys. */
  readonly template: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: OrganizationHubProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const accounts = config.accounts;
    const context = Object.fromEntries(
      INHERITED_CONTEXT.flatMap((key) => {
        const value = this.node.tryGetContext(key);
        return value === undefined ? [] : [[key, value]];
      }),
    );
    this.template = spokeTemplate(config, stack.stackName, context);
    const body = JSON.stringify(this.template);
    if (Buffer.byteLength(body) > TEMPLATE_BODY_MAX_BYTES) {
      const bytes = Buffer.byteLength(body);
      throw new ConfigError(
        `ml-cost-guard: the spoke role's template is ${bytes} bytes; a StackSet takes ${TEMPLATE_BODY_MAX_BYTES} ` +
          'inline. Configure fewer regions (each adds its resource ARNs to the spoke policies).',
        [`accounts: spoke template of ${bytes} bytes (limit ${TEMPLATE_BODY_MAX_BYTES})`],
      );
    }
    if (accounts.organizationalUnitIds.length === 0) return;

    this.stackSet = new cloudformation.CfnStackSet(this, 'SpokeStackSet', {
      stackSetName: `${stack.stackName}-spoke`,
      description: `ml-cost-guard spoke role (${accounts.roleName}) for the hub ${stack.stackName}`,
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: accounts.hubAccountRole === 'delegated-admin' ? 'DELEGATED_ADMIN' : 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      parameters: [
        { parameterKey: SPOKE_PARAMETER.hubAccountId, parameterValue: stack.account },
        { parameterKey: SPOKE_PARAMETER.hubStackName, parameterValue: stack.stackName },
        { parameterKey: SPOKE_PARAMETER.organizationId, parameterValue: organizationIdOf(config) },
      ],
      stackInstancesGroup: [
        {
          regions: [stack.region],
          deploymentTargets: {
            organizationalUnitIds: [...accounts.organizationalUnitIds],
            ...(accounts.exclude.length > 0
              ? { accountFilterType: 'DIFFERENCE', accounts: [...accounts.exclude] }
              : {}),
          },
        },
      ],
      templateBody: body,
    });
  }
}
