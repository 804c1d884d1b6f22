import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { isOrganizationMode } from '../../lambda/core/organization/fan-out';
import { CostGuardFunction } from './cost-guard-function';
import { grantPolicySet, type PolicySet } from './policy-set';
import type { SharedResources } from './shared-resources';

export interface RightsizingAdviceProps {
  /** The validated config; the function reads `rightsizing` and `idleGpu` (its idle threshold), and the shared keys. */
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /** EventBridge Scheduler expression. @default config.rightsizing.schedule (cron(0 8 ? * MON *)) */
  readonly schedule?: string;
  /**
   * Function timeout. 1,000 GPU instances over 14 days take about 10 GetMetricData calls (two pages each); 5 minutes
   * leaves room for throttling retries and several regions. @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
  /** @default 1024 (14 days of hourly datapoints of every GPU series are held at once) */
  readonly memorySize?: number;
}

/**
 * What the right-sizing advice may do in one account: read instances, their types and metrics (none of these
 * supports resource-level permissions: `*`). Its function role gets it; in organization mode, each member account's
 * spoke role too.
 */
export function rightsizingPolicySet(): PolicySet {
  return {
    statements: [
      new iam.PolicyStatement({
        sid: 'ReadInstancesAndMetrics',
        actions: [
          'ec2:DescribeInstances',
          'ec2:DescribeInstanceTypes',
          'cloudwatch:ListMetrics',
          'cloudwatch:GetMetricData',
        ],
        resources: ['*'],
      }),
    ],
    acknowledgements: [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeInstances, DescribeInstanceTypes and cloudwatch:ListMetrics, GetMetricData do not support ' +
          'resource-level permissions; they only read.',
      },
    ],
  };
}

/**
 * The weekly GPU right-sizing advice: a scheduled CostGuardFunction that reads running instances, their types and
 * two weeks of hourly CloudWatch metrics, and posts the top recommendations to Slack.
 *
 * Read-only by IAM: ec2:DescribeInstances, ec2:DescribeInstanceTypes, cloudwatch:ListMetrics and
 * cloudwatch:GetMetricData (none supports resource-level permissions: `*`), the Slack secret, its own log group. No
 * state table (in organization mode, only what the fan-out's unit reports need), nothing that stops, terminates, tags
 * or writes. Lambda may retry a failed run (it acts on nothing).
 */
export class RightsizingAdvice extends Construct {
  readonly fn: CostGuardFunction;

  constructor(scope: Construct, id: string, props: RightsizingAdviceProps) {
    super(scope, id);
    const { config } = props;
    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'rightsizing',
      handlerFile: 'rightsizing.ts',
      config,
      configKeys: ['rightsizing', 'idleGpu'],
      schedule: props.schedule ?? config.rightsizing.schedule,
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: props.memorySize ?? 1024,
      slackSecret: props.shared.slackSecret,
      // Organization mode: each unit stores its report (PutItem) and the digest step reads them (Query). A
      // single-account deployment keeps no state at all.
      ...(isOrganizationMode(config.accounts)
        ? { stateTable: props.shared.stateTable, stateTableUses: ['state'] as const }
        : {}),
      // Reads and posts advice; acts on nothing, so a failed run may be retried.
      retryAttempts: 2,
    });
    grantPolicySet(this.fn.role, rightsizingPolicySet());
  }
}
