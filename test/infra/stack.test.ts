import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';
import { oncePerArgs } from '../helpers/once-per-args';

const synth = oncePerArgs(function synth(raw: CostGuardConfigInput = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(raw),
    env: { account: '111122223333', region: 'us-east-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
});

describe('Stack: MlCostGuard', () => {
  it('has zero unacknowledged cdk-nag AwsSolutions and Serverless findings on the default config', () => {
    // Prepare
    const { app } = synth();
    // Act
    const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
    // Assess
    const findings = reports.flatMap((r) =>
      r.violations.flatMap((v) =>
        v.violatingResources.map((res) => `${v.ruleName} ${res.resourceLogicalId}: ${v.description.slice(0, 120)}`),
      ),
    );
    expect(findings).toEqual([]);
  });

  it('has zero unacknowledged findings with every option on', () => {
    const { app } = synth({
      dryRun: false,
      idleGpu: { action: 'terminate', includeNeuron: true },
      observability: { alarmEmail: 'finops@example.com', tracing: true },
      budgets: {
        action: 'stop-non-essential',
        items: [{ name: 'ml-platform', limitUsd: 50000, scopeTags: { team: 'ml' } }, { name: 'existing' }],
      },
      storage: { buckets: ['ml-artifacts-prod'] },
      slack: { tokenSecretName: 'team/slack' },
    });
    const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
    const findings = reports.flatMap((r) =>
      r.violations.flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} ${res.resourceLogicalId}`)),
    );
    expect(findings).toEqual([]);
  });

  it('builds the MlCostGuard dashboard', () => {
    const { template } = synth({ budgets: { items: [{ name: 'ml-platform', limitUsd: 1000 }] } });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'MlCostGuard' });
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const title of [
      'Estimated monthly savings by capability',
      'Cumulative realized savings',
      'GPU instances per run',
      'ML FinOps metrics',
      'Buckets managed, changed and lifecycle conflicts',
      'Budget percent used',
      'Lambda errors',
      'Lambda duration',
      'Lambda throttles',
    ]) {
      expect(body).toContain(title);
    }
    expect(body).toContain('ml-platform');
    expect(body).toContain('RUNNING_SUM');
  });

  it('sends alarms to a KMS-encrypted topic that CloudWatch may use, and e-mails them when configured', () => {
    const { template } = synth({ observability: { alarmEmail: 'finops@example.com' } });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.anyValue(),
      DisplayName: 'ml-cost-guard alarms',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'finops@example.com' });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  it('forwards alarms to Slack only when asked', () => {
    const alarmSubscriptions = (template: Template) =>
      Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'lambda' } })).filter(
        (r) => JSON.stringify(r).includes('MonitoringAlarmTopic'),
      );
    expect(alarmSubscriptions(synth().template)).toHaveLength(1);
    expect(alarmSubscriptions(synth({ observability: { alarmsToSlack: false } }).template)).toHaveLength(0);
  });

  it('schedules the monthly summary on the first day of the month, with no missed-run alarm between its runs', () => {
    // Act
    const { template } = synth();
    // Assess: a monthly run cannot be watched by an alarm (at most seven days); one would fire between runs
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(0 9 1 * ? *)' });
    const missed = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Invocations' } }),
    ).map((r) => String(r.Properties.AlarmDescription));
    expect(missed.filter((d) => d.startsWith('ml-cost-guard summary:'))).toEqual([]);
    expect(missed.filter((d) => d.startsWith('ml-cost-guard reaper:'))).toHaveLength(1);
  });

  it('alarms on a missed hourly run after two hours, and on a missed daily run after two empty days', () => {
    // Act
    const { template } = synth({ storage: { schedule: 'rate(1 day)' } });
    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Period: 7200,
      EvaluationPeriods: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [Match.anyValue()],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Period: 86400,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
    });
  });
});
