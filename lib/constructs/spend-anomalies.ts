import { Duration, Stack } from 'aws-cdk-lib';
import * as ce from 'aws-cdk-lib/aws-ce';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { AnomaliesConfig, CostGuardConfig } from '../../lambda/core/config';
import { CostGuardFunction } from './cost-guard-function';
import type { SharedResources } from './shared-resources';

/** The service principal AWS Cost Anomaly Detection publishes to SNS as. */
export const COST_ALERTS_PRINCIPAL = 'costalerts.amazonaws.com';

export interface SpendAnomaliesProps {
  /** The validated config; `anomalies` and `observability` are read here. */
  readonly config: CostGuardConfig;
  /** The Slack token secret. */
  readonly shared: SharedResources;
}

/**
 * The Cost Anomaly Detection monitor: by cost allocation tag (CUSTOM, `Tags` expression over the configured values)
 * or over every AWS service (DIMENSIONAL by SERVICE). The MonitorSpecification is the JSON text CloudFormation takes.
 */
export function monitorProps(a: AnomaliesConfig): ce.CfnAnomalyMonitorProps {
  if (a.tagKey !== undefined) {
    return {
      monitorName: `ml-cost-guard-tag-${a.tagKey}`.slice(0, 1024),
      monitorType: 'CUSTOM',
      monitorSpecification: JSON.stringify({ Tags: { Key: a.tagKey, Values: a.tagValues } }),
    };
  }
  return { monitorName: 'ml-cost-guard-services', monitorType: 'DIMENSIONAL', monitorDimension: 'SERVICE' };
}

/** Only anomalies whose total impact is at least `usd` are sent. */
export function thresholdExpression(usd: number): string {
  return JSON.stringify({
    Dimensions: {
      Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE',
      MatchOptions: ['GREATER_THAN_OR_EQUAL'],
      Values: [String(usd)],
    },
  });
}

/**
 * Spend anomalies in Slack: a Cost Anomaly Detection monitor (or the existing `anomalies.monitorArn`), an IMMEDIATE
 * subscription with the `minimumImpactUsd` threshold publishing to a KMS-encrypted SNS topic that only Cost Anomaly
 * Detection (for this account) may publish to, and a function that posts each anomaly to Slack. The function reads
 * nothing and acts on nothing: its role may only read the Slack token and write its own logs and failure queue, so
 * Lambda may retry a failed delivery.
 */
export class SpendAnomalies extends Construct {
  readonly key: kms.Key;
  readonly topic: sns.Topic;
  /** Absent when `anomalies.monitorArn` names an existing monitor. */
  readonly monitor?: ce.CfnAnomalyMonitor;
  readonly subscription: ce.CfnAnomalySubscription;
  readonly fn: CostGuardFunction;

  constructor(scope: Construct, id: string, props: SpendAnomaliesProps) {
    super(scope, id);
    const { config } = props;
    const cfg = config.anomalies;
    const stack = Stack.of(this);
    // Cost Anomaly Detection acting for this account only (the confused-deputy guard AWS documents for this topic).
    const sourceAccount = { StringEquals: { 'aws:SourceAccount': stack.account } };

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'ml-cost-guard: encrypts the Cost Anomaly Detection notification topic',
      enableKeyRotation: true,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCostAnomalyDetectionToPublishEncrypted',
        principals: [new iam.ServicePrincipal(COST_ALERTS_PRINCIPAL)],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: sourceAccount,
      }),
    );
    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'ml-cost-guard Cost Anomaly Detection notifications',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCostAnomalyDetectionToPublish',
        principals: [new iam.ServicePrincipal(COST_ALERTS_PRINCIPAL)],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: sourceAccount,
      }),
    );

    let monitorArn: string;
    if (cfg.monitorArn !== undefined) monitorArn = cfg.monitorArn;
    else {
      this.monitor = new ce.CfnAnomalyMonitor(this, 'Monitor', monitorProps(cfg));
      monitorArn = this.monitor.attrMonitorArn;
    }
    this.subscription = new ce.CfnAnomalySubscription(this, 'Subscription', {
      subscriptionName: 'ml-cost-guard-slack',
      // An SNS subscriber takes IMMEDIATE only: one notification per anomaly, as it is detected.
      frequency: 'IMMEDIATE',
      monitorArnList: [monitorArn],
      subscribers: [{ type: 'SNS', address: this.topic.topicArn }],
      thresholdExpression: thresholdExpression(cfg.minimumImpactUsd),
    });
    // Cost Anomaly Detection checks that it may publish when the subscription is created.
    this.subscription.node.addDependency(this.topic);

    this.fn = new CostGuardFunction(this, 'Function', {
      capability: 'anomalies',
      handlerFile: 'anomaly-to-slack.ts',
      config,
      configKeys: [],
      slackSecret: props.shared.slackSecret,
      timeout: Duration.minutes(1),
      memorySize: 256,
      pricesInstances: false,
      logRetentionDays: config.observability.logRetentionDays,
      tracing: config.observability.tracing,
      // Posts to Slack and acts on nothing, so Lambda may retry a failed delivery.
      retryAttempts: 2,
    });
    // A notification the function could not receive waits in its failure queue (and raises its alarm).
    this.topic.addSubscription(
      new subscriptions.LambdaSubscription(this.fn.function, { deadLetterQueue: this.fn.failureQueue }),
    );
  }
}
