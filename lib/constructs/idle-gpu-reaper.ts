import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { IDLE_SINCE_TAG } from '../../lambda/core/reaper/types';
import { CostGuardFunction } from './cost-guard-function';
import { denyWhenTagTrue } from './iam-conditions';
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
 * The idle GPU reaper: a scheduled CostGuardFunction that finds idle GPU instances, warns in Slack, then terminates
 * or stops them.
 *
 * IAM guard rails (enforced by IAM, not only by the code):
 * - TerminateInstances / StopInstances (only the configured action) are allowed on instances whose opt-out tag is not
 *   `true` in any case (`StringNotEqualsIgnoreCase`, which also matches an absent tag), and explicitly denied when it
 *   is (`StringEqualsIgnoreCase`), so no later Allow can undo it.
 * - CreateTags / DeleteTags on instances only for the `cost-guard:idle-since` key (`ForAllValues:StringEquals` on
 *   `aws:TagKeys`, with the key required to be present so DeleteTags cannot strip every tag), and an explicit Deny on
 *   the opt-out and keep-until keys: the reaper can never opt an instance back in.
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
      slackSecret: props.shared.slackSecret,
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
    });

    const regions = config.regions.length > 0 ? config.regions : [stack.region];
    const instanceArns = regions.map((region) =>
      stack.formatArn({ service: 'ec2', region, resource: 'instance', resourceName: '*' }),
    );
    const optOutCondition = { [`aws:ResourceTag/${config.tags.optOut}`]: 'true' };
    const destructive = ['ec2:TerminateInstances', 'ec2:StopInstances'];
    const role = this.fn.role;
    const action = config.idleGpu.action;

    if (action !== 'notify') {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'ActOnInstancesNotOptedOut',
          actions: [action === 'terminate' ? 'ec2:TerminateInstances' : 'ec2:StopInstances'],
          resources: instanceArns,
          conditions: { StringNotEqualsIgnoreCase: optOutCondition },
        }),
      );
      role.addToPolicy(
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
    for (const deny of denyWhenTagTrue('NeverActOnOptedOut', destructive, instanceArns, config.tags.optOut)) {
      role.addToPolicy(deny);
    }
    role.addToPolicy(
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
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadTerminationProtection',
        actions: ['ec2:DescribeInstanceAttribute'],
        resources: instanceArns,
      }),
    );
    role.addToPolicy(
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
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeInstances, DescribeInstanceTypes, DescribeSpotInstanceRequests and cloudwatch:ListMetrics, ' +
          'GetMetricData do not support resource-level permissions; they only read.',
      },
      ...regions.map((region) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${shown(region, 'Region')}:${shown(stack.account, 'AccountId')}:instance/*]`,
        reason:
          'The reaper acts on any instance it finds idle; what it may do is limited by conditions: terminate/stop only ' +
          'when the opt-out tag is not true (with an explicit Deny), tags only on the cost-guard:idle-since key.',
      })),
    );
  }
}
