import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { CostGuardConfig } from '../../lambda/core/config';
import { FINOPS_TARGETS } from '../../lambda/core/finops/metrics';
import { DIMENSION, METRIC, METRICS_NAMESPACE, type MetricName } from '../../lambda/core/names';
import { isOrganizationMode } from '../../lambda/core/organization/fan-out';
import { maxRunGapMinutes } from '../../lambda/core/schedule';
import { CostGuardFunction } from './cost-guard-function';
import type { SharedResources } from './shared-resources';

/** 09:00 UTC on the first day of every month. */
const SUMMARY_SCHEDULE = 'cron(0 9 1 * ? *)';

/** A scheduled capability the monitoring watches. */
export interface MonitoredFunction {
  /** Capability name: the `Capability` dimension of its metrics. */
  readonly capability: string;
  /** Title on the dashboard. */
  readonly title: string;
  readonly fn: CostGuardFunction;
  /** Its schedule expression; a run that did not happen within it raises the missed-run alarm. @default - no alarm */
  readonly schedule?: string;
}

export interface MonitoringProps {
  readonly config: CostGuardConfig;
  readonly shared: SharedResources;
  /** The capabilities' functions. */
  readonly functions: readonly MonitoredFunction[];
}

const metric = (
  capability: string,
  name: MetricName,
  label: string,
  statistic = 'Maximum',
  period = Duration.hours(1),
) =>
  new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { Capability: capability, service: 'ml-cost-guard' },
    statistic,
    period,
    label,
  });

/**
 * The window of the missed-run alarm: twice the longest gap between runs, so one late run does not alarm. Up to a
 * day it is one period; beyond, whole days that must all be empty (CloudWatch allows periods of at most a day and
 * windows of at most seven). Undefined when the schedule's gaps are unknown or too long to watch (weekly, monthly):
 * such a function gets no missed-run alarm rather than one that fires between its runs.
 */
export function missedRunWindow(schedule: string): { period: Duration; evaluationPeriods: number } | undefined {
  const gap = maxRunGapMinutes(schedule);
  if (gap === undefined) return undefined;
  const window = gap * 2;
  if (window <= 1440) return { period: Duration.minutes(Math.max(5, Math.ceil(window / 5) * 5)), evaluationPeriods: 1 };
  const days = Math.ceil(window / 1440);
  return days <= 7 ? { period: Duration.days(1), evaluationPeriods: days } : undefined;
}

/**
 * What users look at to trust ml-cost-guard: the `MlCostGuard` dashboard, alarms on failed runs, missed schedules
 * and dead-letter queues (to an encrypted SNS topic, optionally e-mailed and posted to Slack), and the monthly
 * savings summary in Slack.
 */
export class Monitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly summaryFunction: CostGuardFunction;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, shared } = props;

    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'ml-cost-guard alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to an encrypted topic only when they may use its key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ml-cost-guard alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (config.observability.alarmEmail) {
      const email = this.alarmTopic.addSubscription(
        new subscriptions.EmailSubscription(config.observability.alarmEmail),
      );
      Validations.of(email).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An undeliverable alarm e-mail is also posted to Slack and visible on the dashboard; no redrive queue needed.',
      });
    }
    if (config.observability.alarmsToSlack) {
      const forwarder = new CostGuardFunction(this, 'AlarmsToSlack', {
        capability: 'alarms',
        handlerFile: 'alarm-to-slack.ts',
        config,
        configKeys: [],
        slackSecret: shared.slackSecret,
        timeout: Duration.minutes(1),
        memorySize: 256,
        pricesInstances: false,
        // Forwards alarms; acts on nothing, so Lambda may retry a failed delivery.
        retryAttempts: 2,
      });
      forwarder.function.addEventSource(
        new lambdaEventSources.SnsEventSource(this.alarmTopic, { deadLetterQueue: forwarder.failureQueue }),
      );
    }

    this.summaryFunction = new CostGuardFunction(this, 'MonthlySummary', {
      capability: 'summary',
      handlerFile: 'monthly-summary.ts',
      config,
      configKeys: ['state'],
      stateTable: shared.stateTable,
      stateTableUses: ['ledgerRead'],
      slackSecret: shared.slackSecret,
      timeout: Duration.minutes(2),
      memorySize: 256,
      pricesInstances: false,
      schedule: SUMMARY_SCHEDULE,
      // Reads and posts; acts on nothing, so Lambda may retry a failed run.
      retryAttempts: 2,
    });
    // The FinOps section reads the guard's own metrics back (GPU hours, bucket bytes) for this month and the last.
    this.summaryFunction.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFinOpsMetrics',
        actions: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
        resources: ['*'],
      }),
    );
    Validations.of(this.summaryFunction.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData and ListMetrics do not support resource-level permissions; they only read.',
    });

    const action = new cwActions.SnsAction(this.alarmTopic);
    const all: MonitoredFunction[] = [
      ...props.functions,
      { capability: 'summary', title: 'Monthly summary', fn: this.summaryFunction, schedule: SUMMARY_SCHEDULE },
    ];
    for (const f of all) {
      f.fn.errorsAlarm.addAlarmAction(action);
      f.fn.failureQueueAlarm.addAlarmAction(action);
      this.alarms.push(f.fn.errorsAlarm, f.fn.failureQueueAlarm);
      const window = f.schedule ? missedRunWindow(f.schedule) : undefined;
      if (f.schedule && window) {
        const missed = new cloudwatch.Alarm(f.fn, 'MissedRunAlarm', {
          alarmDescription: `ml-cost-guard ${f.capability}: no run within ${f.schedule} (schedule disabled or failing to invoke)`,
          metric: f.fn.function.metricInvocations({ period: window.period, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: window.evaluationPeriods,
          datapointsToAlarm: window.evaluationPeriods,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        });
        missed.addAlarmAction(action);
        this.alarms.push(missed);
      }
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: 'MlCostGuard',
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      ...this.savingsRow(),
      ...(isOrganizationMode(config.accounts) ? this.accountsRow() : []),
      ...this.gpuRow(),
      ...this.storageBudgetRow(config),
      ...(config.rightsizing.enabled ? this.rightsizingRow() : []),
      ...this.healthRow(all),
    );
  }

  private savingsRow(): cloudwatch.IWidget[] {
    const realized = ['reaper', 'lifecycle', 'budgets', 'sagemaker'].map((c, i) => [
      `r${i}`,
      metric(c, METRIC.RealizedMonthlySavingsUsd, c, 'Sum', Duration.days(1)),
    ]);
    return [
      new cloudwatch.GraphWidget({
        title: 'Estimated monthly savings by capability (USD/month)',
        width: 12,
        left: [
          metric('reaper', METRIC.EstimatedMonthlySavingsUsd, 'Idle GPU reaper'),
          metric('lifecycle', METRIC.ProjectedMonthlySavingsUsd, 'Storage lifecycle'),
          metric('budgets', METRIC.EstimatedMonthlySavingsUsd, 'Budget guard'),
          metric('sagemaker', METRIC.EstimatedMonthlySavingsUsd, 'SageMaker guard'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Cumulative realized savings (USD/month run-rate added)',
        width: 12,
        left: [
          new cloudwatch.MathExpression({
            expression: `RUNNING_SUM(${realized.map(([id]) => `FILL(${id}, 0)`).join(' + ')})`,
            usingMetrics: Object.fromEntries(realized) as Record<string, cloudwatch.IMetric>,
            label: 'Cumulative',
            period: Duration.days(1),
          }),
        ],
      }),
    ];
  }

  /**
   * Organization mode only: the realized savings of each account, from the RealizedMonthlySavingsUsd series the
   * fan-out's units (and the budget guard, for a payer budget's linked accounts) publish with an Account dimension.
   * A SEARCH finds every account's series, so accounts that join the organization show up without a deploy.
   */
  private accountsRow(): cloudwatch.IWidget[] {
    const schema = `{${METRICS_NAMESPACE},${DIMENSION.Account},Capability,service}`;
    return [
      new cloudwatch.GraphWidget({
        title: 'Realized savings by account (USD/month run-rate added, daily)',
        width: 24,
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('${schema} MetricName="${METRIC.RealizedMonthlySavingsUsd}"', 'Sum', 86400)`,
            usingMetrics: {},
            // A dynamic label: each series is named by its account and capability.
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudWatch's dynamic label syntax, not a template
            label: "${PROP('Dim.Account')} ${PROP('Dim.Capability')}",
            period: Duration.days(1),
          }),
        ],
      }),
    ];
  }

  private gpuRow(): cloudwatch.IWidget[] {
    const sum = (name: MetricName, label: string) => metric('reaper', name, label, 'Sum');
    return [
      new cloudwatch.GraphWidget({
        title: 'GPU instances per run',
        width: 12,
        left: [
          metric('reaper', METRIC.InstancesScanned, 'Scanned'),
          sum(METRIC.IdleFound, 'Idle'),
          sum(METRIC.Warned, 'Warned'),
          sum(METRIC.Terminated, 'Terminated'),
          sum(METRIC.Stopped, 'Stopped'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'ML FinOps metrics, daily (%; targets: GPU utilization >70, spot coverage >60, storage efficiency >50)',
        width: 12,
        left: this.finopsMetrics(),
        leftYAxis: { min: 0, max: 100 },
        leftAnnotations: [
          { value: FINOPS_TARGETS.gpuUtilizationPercent, label: 'GPU utilization target', color: '#1f77b4' },
          { value: FINOPS_TARGETS.spotCoveragePercent, label: 'spot coverage target', color: '#ff7f0e' },
          { value: FINOPS_TARGETS.storageEfficiencyPercent, label: 'storage efficiency target', color: '#2ca02c' },
        ],
      }),
    ];
  }

  /**
   * The chapter's FinOps metrics as each day's ratio of sums: busy / measured GPU hours, spot / all GPU hours (the
   * reaper publishes the hours every run), and tiered / all bytes of the managed buckets (the lifecycle, daily).
   */
  private finopsMetrics(): cloudwatch.IMetric[] {
    const day = Duration.days(1);
    const hours = (name: MetricName) => metric('reaper', name, name, 'Sum', day);
    const bytes = (name: MetricName) => metric('lifecycle', name, name, 'Maximum', day);
    return [
      new cloudwatch.MathExpression({
        expression: '100 * busy / measured',
        usingMetrics: { busy: hours(METRIC.GpuBusyHours), measured: hours(METRIC.GpuMeasuredHours) },
        label: 'GPU utilization (busy / measured GPU hours)',
        period: day,
      }),
      new cloudwatch.MathExpression({
        expression: '100 * spot / gpu',
        usingMetrics: { spot: hours(METRIC.SpotGpuHours), gpu: hours(METRIC.GpuHours) },
        label: 'Spot coverage (spot / all GPU hours)',
        period: day,
      }),
      new cloudwatch.MathExpression({
        expression: '100 * tiered / total',
        usingMetrics: { tiered: bytes(METRIC.StorageInfrequentBytes), total: bytes(METRIC.StorageTotalBytes) },
        label: 'Storage efficiency (infrequent/archive / all bytes, managed buckets)',
        period: day,
      }),
    ];
  }

  private rightsizingRow(): cloudwatch.IWidget[] {
    const weekly = (name: MetricName, label: string) => metric('rightsizing', name, label, 'Maximum', Duration.days(1));
    return [
      new cloudwatch.GraphWidget({
        title: 'GPU right-sizing advice (weekly; advice only)',
        width: 24,
        left: [weekly(METRIC.RightsizingMonthlySavingsUsd, 'Would save (USD/month) if followed')],
        right: [
          weekly(METRIC.RightsizingRecommendations, 'Recommendations'),
          weekly(METRIC.RightsizingInstancesChecked, 'GPU instances checked'),
        ],
      }),
    ];
  }

  private storageBudgetRow(config: CostGuardConfig): cloudwatch.IWidget[] {
    const budgets = config.budgets.items.map(
      (b) =>
        new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.PercentUsed,
          dimensionsMap: { Capability: 'budgets', service: 'ml-cost-guard', Budget: b.name },
          statistic: 'Maximum',
          period: Duration.hours(1),
          label: b.name,
        }),
    );
    return [
      new cloudwatch.GraphWidget({
        title: 'Buckets managed, changed and lifecycle conflicts',
        width: 12,
        left: [
          metric('lifecycle', METRIC.BucketsScanned, 'Buckets managed'),
          metric('lifecycle', METRIC.BucketsChanged, 'Changed', 'Sum'),
          metric('lifecycle', METRIC.LifecycleConflicts, 'Conflicts', 'Sum'),
        ],
      }),
      budgets.length > 0
        ? new cloudwatch.GraphWidget({
            title: 'Budget percent used',
            width: 12,
            left: budgets,
            leftAnnotations: [
              { value: config.budgets.alertPercent, label: 'alert', color: '#ff7f0e' },
              { value: config.budgets.actionPercent, label: 'action', color: '#d62728' },
            ],
          })
        : new cloudwatch.TextWidget({
            width: 12,
            height: 6,
            markdown: '### Budget percent used\nNo budgets configured (`costGuard.budgets.items`).',
          }),
    ];
  }

  private healthRow(functions: readonly MonitoredFunction[]): cloudwatch.IWidget[] {
    const per = (f: (fn: CostGuardFunction) => cloudwatch.Metric) =>
      functions.map((m) => f(m.fn).with({ label: m.title }));
    return [
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        width: 8,
        left: per((fn) => fn.function.metricErrors({ statistic: 'Sum', period: Duration.hours(1) })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration (max)',
        width: 8,
        left: per((fn) => fn.function.metricDuration({ statistic: 'Maximum', period: Duration.hours(1) })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles',
        width: 8,
        left: per((fn) => fn.function.metricThrottles({ statistic: 'Sum', period: Duration.hours(1) })),
      }),
    ];
  }
}
