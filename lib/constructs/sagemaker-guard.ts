import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { CLOUDFORMATION_STACK_TAG } from '../../lambda/core/sagemaker/types';
import { CostGuardFunction } from './cost-guard-function';
import { denyWhenTagTrue } from './iam-conditions';
import { grantPolicySet, type PolicySet } from './policy-set';
import type { SharedResources } from './shared-resources';

export interface SageMakerGuardProps {
  /** The validated config; the function reads `sagemaker` (and the shared keys). */
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /** EventBridge Scheduler expression. @default config.sagemaker.schedule (rate(1 hour)) */
  readonly schedule?: string;
  /**
   * Function timeout. 500 endpoints in a region take about 1,500 describe and tag calls (8 at a time) and one or two
   * GetMetricData calls; 10 minutes leaves room for throttling retries and several regions. @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
}

/**
 * What the SageMaker guard may do in one account (see the guard rails on {@link SageMakerGuard}): endpoint deletion,
 * notebook stops and Studio updates only with dryRun off and as configured, never on opted-out or
 * CloudFormation-owned resources (explicit Denies), and the describe, list and metric reads. Its function role gets
 * it; in organization mode, each member account's spoke role too.
 */
export function sageMakerPolicySet(stack: Stack, config: CostGuardConfig): PolicySet {
  const sm = config.sagemaker;
  const regions = config.regions.length > 0 ? config.regions : [stack.region];
  const arns = (resource: string) =>
    regions.map((region) => stack.formatArn({ service: 'sagemaker', region, resource, resourceName: '*' }));
  const endpoints = arns('endpoint');
  const endpointConfigs = arns('endpoint-config');
  const notebooks = arns('notebook-instance');
  const domains = arns('domain');
  const studioOwners = [...arns('user-profile'), ...arns('space')];
  const statements: iam.PolicyStatement[] = [];
  const optOut = { [`aws:ResourceTag/${config.tags.optOut}`]: 'true' };
  const acts = !config.dryRun && sm.action === 'delete';

  if (acts) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'DeleteEndpointsNotOptedOut',
        actions: ['sagemaker:DeleteEndpoint'],
        resources: endpoints,
        conditions: { StringNotEqualsIgnoreCase: optOut },
      }),
    );
    if (sm.notebookMaxHours !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'StopNotebooksNotOptedOut',
          actions: ['sagemaker:StopNotebookInstance'],
          resources: notebooks,
          conditions: { StringNotEqualsIgnoreCase: optOut },
        }),
      );
    }
  }
  if (!config.dryRun && sm.studioIdleShutdownMinutes !== undefined) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'UpdateDomainsNotOptedOut',
        actions: ['sagemaker:UpdateDomain'],
        resources: domains,
        conditions: { StringNotEqualsIgnoreCase: optOut },
      }),
    );
    statements.push(
      new iam.PolicyStatement({
        sid: 'UpdateProfilesAndSpacesNotOptedOut',
        actions: ['sagemaker:UpdateUserProfile', 'sagemaker:UpdateSpace'],
        resources: studioOwners,
        conditions: { StringNotEqualsIgnoreCase: optOut },
      }),
    );
  }
  // In every mode: what the code never does, IAM refuses too.
  const destructive = [
    'sagemaker:DeleteEndpoint',
    'sagemaker:StopNotebookInstance',
    'sagemaker:UpdateDomain',
    'sagemaker:UpdateUserProfile',
    'sagemaker:UpdateSpace',
  ];
  for (const deny of denyWhenTagTrue(
    'NeverActOnOptedOut',
    destructive,
    [...endpoints, ...notebooks, ...domains, ...studioOwners],
    config.tags.optOut,
  )) {
    statements.push(deny);
  }
  statements.push(
    new iam.PolicyStatement({
      sid: 'NeverChangeStackResources',
      effect: iam.Effect.DENY,
      actions: [
        'sagemaker:DeleteEndpoint',
        'sagemaker:UpdateDomain',
        'sagemaker:UpdateUserProfile',
        'sagemaker:UpdateSpace',
      ],
      resources: [...endpoints, ...domains, ...studioOwners],
      conditions: { Null: { [`aws:ResourceTag/${CLOUDFORMATION_STACK_TAG}`]: 'false' } },
    }),
  );
  statements.push(
    new iam.PolicyStatement({
      sid: 'DescribeEndpointsAndDomains',
      actions: [
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeDomain',
        'sagemaker:DescribeUserProfile',
        'sagemaker:DescribeSpace',
        'sagemaker:ListTags',
      ],
      resources: [...endpoints, ...endpointConfigs, ...domains, ...notebooks, ...studioOwners],
    }),
  );
  statements.push(
    new iam.PolicyStatement({
      sid: 'ListAndMetrics',
      actions: [
        'sagemaker:ListEndpoints',
        'sagemaker:ListInferenceComponents',
        'sagemaker:ListNotebookInstances',
        'sagemaker:ListDomains',
        'sagemaker:ListApps',
        'sagemaker:ListUserProfiles',
        'sagemaker:ListSpaces',
        'cloudwatch:GetMetricData',
      ],
      resources: ['*'],
    }),
  );

  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const wildcard = (resource: string, region: string) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:${shown(region, 'Region')}:${shown(stack.account, 'AccountId')}:${resource}/*]`;
  const acknowledgements = [
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sagemaker:ListEndpoints, ListInferenceComponents, ListNotebookInstances, ListDomains, ListApps, ' +
        'ListUserProfiles, ListSpaces and ' +
        'cloudwatch:GetMetricData do not support resource-level permissions; they only read.',
    },
    ...regions.flatMap((region) => [
      {
        id: wildcard('endpoint', region),
        reason:
          'The guard describes any endpoint and deletes idle GPU ones; DeleteEndpoint only with dryRun off and action ' +
          'delete, never when the opt-out tag is true or the endpoint belongs to a CloudFormation stack (explicit Denies).',
      },
      {
        id: wildcard('endpoint-config', region),
        reason: 'DescribeEndpointConfig only: instance types of the variants.',
      },
      {
        id: wildcard('notebook-instance', region),
        reason:
          'ListTags on any notebook instance; StopNotebookInstance only with notebookMaxHours set and dryRun off, ' +
          'never when the opt-out tag is true (explicit Deny).',
      },
      {
        id: wildcard('domain', region),
        reason:
          'DescribeDomain and ListTags on any Studio domain; UpdateDomain only with studioIdleShutdownMinutes set and ' +
          'dryRun off, never when the opt-out tag is true or the domain belongs to a CloudFormation stack.',
      },
      ...(['user-profile', 'space'] as const).map((kind) => ({
        id: wildcard(kind, region),
        reason:
          `Describe${kind === 'space' ? 'Space' : 'UserProfile'} and ListTags on any Studio ${kind.replace('-', ' ')}; ` +
          `Update${kind === 'space' ? 'Space' : 'UserProfile'} only with studioIdleShutdownMinutes set and dryRun ` +
          'off, never when the opt-out tag is true or it belongs to a CloudFormation stack (explicit Denies).',
      })),
    ]),
  ];
  return { statements, acknowledgements };
}

/**
 * The SageMaker guard: a scheduled CostGuardFunction that warns about idle GPU endpoints and then deletes them,
 * warns about GPU notebook instances in service longer than `notebookMaxHours` and then stops them, and reports (or,
 * with `studioIdleShutdownMinutes`, enables) Studio idle shutdown.
 *
 * IAM guard rails (enforced by IAM, not only by the code):
 * - With `dryRun: true` or `sagemaker.action: notify` the role holds no DeleteEndpoint and no StopNotebookInstance;
 *   StopNotebookInstance only with `notebookMaxHours` set, UpdateDomain, UpdateUserProfile and UpdateSpace only with
 *   `studioIdleShutdownMinutes` set and `dryRun: false`.
 * - Those actions are allowed on resources of the configured regions whose opt-out tag is not `true`
 *   (`StringNotEqualsIgnoreCase`, which also matches an absent tag), with explicit Denies, in every mode, when it is
 *   (any case, padded values too), and on endpoints, domains, user profiles and spaces that carry
 *   `aws:cloudformation:stack-name` (the stack owns them; deleting or changing them drifts it).
 * - No CreateEndpoint (restore runs with the user's own credentials), no tag writes (the guard can never opt a
 *   resource back in), no model or endpoint config deletion.
 * - The state table: its warnings, state records (per-period counters, leases, the endpoint index), the savings
 *   ledger; no Scan and no table action.
 * - List* calls and GetMetricData do not support resource-level permissions: `*`, acknowledged for cdk-nag.
 */
export class SageMakerGuard extends Construct {
  readonly fn: CostGuardFunction;

  constructor(scope: Construct, id: string, props: SageMakerGuardProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const sm = config.sagemaker;
    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'sagemaker',
      handlerFile: 'sagemaker-guard.ts',
      config,
      configKeys: ['sagemaker'],
      schedule: props.schedule ?? sm.schedule,
      timeout: props.timeout ?? Duration.minutes(10),
      memorySize: props.memorySize ?? 1024,
      reservedConcurrency: 1,
      // A retried run would act again in the same period; the next scheduled run is the retry.
      retryAttempts: 0,
      stateTable: props.shared.stateTable,
      stateTableUses: ['ledgerWrite', 'state', 'warnings'],
      slackSecret: props.shared.slackSecret,
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
    });

    grantPolicySet(this.fn.role, sageMakerPolicySet(stack, config));
  }
}
