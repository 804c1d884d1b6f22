import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { AUTO_SCALING_TAG, FLEET_TAG_KEYS, KUBERNETES_TAG_KEYS } from '../../lambda/core/reaper/decide';
import { reapableInstanceTypePatterns } from '../../lambda/core/reaper/instance-families';
import { IDLE_SINCE_TAG } from '../../lambda/core/reaper/types';
import { CostGuardFunction } from './cost-guard-function';
import { denyWhenTagTrue } from './iam-conditions';
import { grantPolicySet, type PolicySet } from './policy-set';
import type { SharedResources } from './shared-resources';

export interface IdleGpuReaperProps {
  /** The validated config; the function reads `idleGpu` (and the shared keys). */
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /** EventBridge Scheduler expression. @default config.idleGpu.schedule (rate(1 hour)) */
  readonly schedule?: string;
  /**
   * Function timeout. A run over 5,000 GPU instances makes about 60 API calls besides its actions; 10 minutes leaves
   * room for SDK retries under throttling and for many regions. @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
}

/**
 * What may stop or terminate an instance on the reaper's behalf, as IAM statements: the configured action (only with
 * `dryRun` off and an action other than `notify`) on the GPU types the reaper handles whose opt-out tag is not true,
 * and the explicit Denies that hold in every mode (opt-out tag true, padded or any case; Auto Scaling, fleet, EKS or
 * Karpenter tags). The reaper's function and the Slack "stop now" button (lib/constructs/slack-interactivity.ts) get
 * exactly these, so a press can do no more than a scheduled run.
 */
export function reaperActionStatements(
  config: CostGuardConfig,
  instanceArns: readonly string[],
): iam.PolicyStatement[] {
  const resources = [...instanceArns];
  const optOutCondition = { [`aws:ResourceTag/${config.tags.optOut}`]: 'true' };
  const destructive = ['ec2:TerminateInstances', 'ec2:StopInstances'];
  const action = config.idleGpu.action;
  const statements: iam.PolicyStatement[] = [];
  if (!config.dryRun && action !== 'notify') {
    statements.push(
      new iam.PolicyStatement({
        sid: 'ActOnReapableTypesNotOptedOut',
        actions: [action === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances'],
        resources,
        conditions: {
          StringNotEqualsIgnoreCase: optOutCondition,
          StringLike: { 'ec2:InstanceType': [...reapableInstanceTypePatterns(config.idleGpu.includeNeuron)] },
        },
      }),
    );
  }
  statements.push(...denyWhenTagTrue('NeverActOnOptedOut', destructive, resources, config.tags.optOut));
  // One statement per key: the keys of one Null block are ANDed, and any one of these tags must deny.
  [AUTO_SCALING_TAG, ...FLEET_TAG_KEYS, ...KUBERNETES_TAG_KEYS].forEach((key, i) => {
    statements.push(
      new iam.PolicyStatement({
        sid: `NeverActOnGroupMembers${i}`,
        effect: iam.Effect.DENY,
        actions: destructive,
        resources,
        conditions: { Null: { [`aws:ResourceTag/${key}`]: 'false' } },
      }),
    );
  });
  return statements;
}

/**
 * Everything the reaper may do in one account, as IAM statements (see the guard rails on {@link IdleGpuReaper}):
 * the reaper's action statements and Denies, the idle-since tag writes, the protection-tag Deny, termination
 * protection reads, and the fleet and metric reads. Its function role gets it in the stack's account; in
 * organization mode, each member account's spoke role gets it too.
 */
export function reaperPolicySet(stack: Stack, config: CostGuardConfig): PolicySet {
  const regions = config.regions.length > 0 ? config.regions : [stack.region];
  const instanceArns = regions.map((region) =>
    stack.formatArn({ service: 'ec2', region, resource: 'instance', resourceName: '*' }),
  );
  const statements = reaperActionStatements(config, instanceArns);
  if (!config.dryRun && config.idleGpu.action !== 'notify') {
    statements.push(
      new iam.PolicyStatement({
        sid: 'TagIdleSinceOnly',
        actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
        resources: instanceArns,
        conditions: {
          'ForAllValues:StringEquals': { 'aws:TagKeys': [IDLE_SINCE_TAG] },
          Null: { 'aws:TagKeys': 'false' },
        },
      }),
    );
  }
  statements.push(
    new iam.PolicyStatement({
      sid: 'NeverTouchProtectionTags',
      effect: iam.Effect.DENY,
      actions: ['ec2:CreateTags', 'ec2:DeleteTags'],
      resources: instanceArns,
      conditions: {
        'ForAnyValue:StringEqualsIgnoreCase': {
          'aws:TagKeys': [config.tags.optOut, config.tags.keepUntil, config.tags.essential],
        },
      },
    }),
  );
  statements.push(
    new iam.PolicyStatement({
      sid: 'ReadTerminationProtection',
      actions: ['ec2:DescribeInstanceAttribute'],
      resources: instanceArns,
    }),
  );
  statements.push(
    new iam.PolicyStatement({
      sid: 'ReadFleetAndMetrics',
      actions: [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeSpotInstanceRequests',
        'cloudwatch:ListMetrics',
        'cloudwatch:GetMetricData',
      ],
      resources: ['*'],
    }),
  );

  // cdk-nag names each wildcard resource, with unresolved pseudo parameters as <AWS::…>.
  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const acknowledgements = [
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ec2:DescribeInstances, DescribeInstanceTypes, DescribeSpotInstanceRequests and cloudwatch:ListMetrics, ' +
        'GetMetricData do not support resource-level permissions; they only read.',
    },
    ...regions.map((region) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${shown(region, 'Region')}:${shown(stack.account, 'AccountId')}:instance/*]`,
      reason:
        'The reaper acts on any idle instance of a GPU type; what it may do is limited by conditions: terminate/stop ' +
        'only with dryRun off, on GPU instance types, when the opt-out tag is not true and no Auto Scaling, fleet or ' +
        'Kubernetes tag is present (explicit Denies); tags only on the cost-guard:idle-since key.',
    })),
  ];
  return { statements, acknowledgements };
}

/**
 * The idle GPU reaper: a scheduled CostGuardFunction that finds idle GPU instances, warns in Slack, then terminates
 * or stops them.
 *
 * IAM guard rails (enforced by IAM, not only by the code):
 * - With `dryRun: true` or `idleGpu.action: notify` the role holds no stop, terminate or tag action at all.
 * - Otherwise TerminateInstances / StopInstances (only the configured action) are allowed on instances of the types
 *   the reaper handles (`ec2:InstanceType` StringLike the GPU families of lambda/core/reaper/instance-families.ts,
 *   Neuron families only with `idleGpu.includeNeuron`) whose opt-out tag is not `true` in any case
 *   (`StringNotEqualsIgnoreCase`, which also matches an absent tag).
 * - Explicit Denies, in every mode: stop/terminate when the opt-out tag is true (`StringEqualsIgnoreCase`, and padded
 *   values), and on instances that carry an Auto Scaling, Spot/EC2 Fleet, EKS or Karpenter tag (`Null` = false on
 *   `aws:ResourceTag/<key>`): a group would only replace what the reaper stops.
 * - CreateTags / DeleteTags on instances only for the `cost-guard:idle-since` key (`ForAllValues:StringEquals` on
 *   `aws:TagKeys`, with the key required to be present so DeleteTags cannot strip every tag), and an explicit Deny on
 *   the opt-out and keep-until keys: the reaper can never opt an instance back in.
 * - The state table: its warnings, state records (per-period counters, leases), the savings ledger and stop index;
 *   no Scan and no table action.
 * - Describe*, ListMetrics and GetMetricData do not support resource-level permissions: `*`, acknowledged for cdk-nag.
 */
export class IdleGpuReaper extends Construct {
  readonly fn: CostGuardFunction;

  constructor(scope: Construct, id: string, props: IdleGpuReaperProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'reaper',
      handlerFile: 'idle-gpu-reaper.ts',
      config,
      configKeys: ['idleGpu'],
      schedule: props.schedule ?? config.idleGpu.schedule,
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

    grantPolicySet(this.fn.role, reaperPolicySet(stack, config));
  }
}
