import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';
import { oncePerArgs } from '../helpers/once-per-args';

const ACCOUNT = '111122223333';

const synth = oncePerArgs(function synth(raw: CostGuardConfigInput = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new MlCostGuardStack(app, 'MlCostGuard', {
    config: parseConfig(raw),
    env: { account: ACCOUNT, region: 'us-east-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
});

const ON: CostGuardConfigInput = { anomalies: { enabled: true } };
const ANOMALY_TOPIC = { DisplayName: 'ml-cost-guard Cost Anomaly Detection notifications' };

type Resource = { Type: string; Properties: Record<string, unknown> };
const only = (template: Template, type: string, props?: Record<string, unknown>): [string, Resource] => {
  const found = Object.entries(template.findResources(type, props ? { Properties: props } : undefined)) as [
    string,
    Resource,
  ][];
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('Construct: SpendAnomalies', () => {
  it('creates nothing of Cost Anomaly Detection unless anomalies.enabled', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    template.resourceCountIs('AWS::CE::AnomalySubscription', 0);
  });

  it('monitors every AWS service (DIMENSIONAL by SERVICE) by default', () => {
    // Act
    const { template } = synth(ON);
    // Assess
    const [, monitor] = only(template, 'AWS::CE::AnomalyMonitor');
    expect(monitor.Properties).toEqual({
      MonitorName: 'ml-cost-guard-services',
      MonitorType: 'DIMENSIONAL',
      MonitorDimension: 'SERVICE',
    });
  });

  it('subscribes IMMEDIATE to the encrypted topic, above minimumImpactUsd of total impact', () => {
    // Act
    const { template } = synth({ anomalies: { enabled: true, minimumImpactUsd: 250 } });
    // Assess
    const [monitorId] = only(template, 'AWS::CE::AnomalyMonitor');
    const [topicId, topic] = only(template, 'AWS::SNS::Topic', ANOMALY_TOPIC);
    const [, sub] = only(template, 'AWS::CE::AnomalySubscription');
    expect(sub.Properties).toMatchObject({
      Frequency: 'IMMEDIATE',
      MonitorArnList: [{ 'Fn::GetAtt': [monitorId, 'MonitorArn'] }],
      Subscribers: [{ Type: 'SNS', Address: { Ref: topicId } }],
    });
    expect(JSON.parse(String(sub.Properties.ThresholdExpression))).toEqual({
      Dimensions: { Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE', MatchOptions: ['GREATER_THAN_OR_EQUAL'], Values: ['250'] },
    });
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SpendAnomalies/), 'Arn'] });
  });

  it('monitors a cost allocation tag with a CUSTOM monitor over its values when anomalies.tagKey is set', () => {
    // Act
    const { template } = synth({ anomalies: { enabled: true, tagKey: 'team', tagValues: ['ml', 'research'] } });
    // Assess
    const [, monitor] = only(template, 'AWS::CE::AnomalyMonitor');
    expect(monitor.Properties.MonitorType).toBe('CUSTOM');
    expect(monitor.Properties.MonitorDimension).toBeUndefined();
    expect(JSON.parse(String(monitor.Properties.MonitorSpecification))).toEqual({
      Tags: { Key: 'team', Values: ['ml', 'research'] },
    });
  });

  it('subscribes to an existing monitor (anomalies.monitorArn) without creating one', () => {
    // Prepare
    const arn = `arn:aws:ce::${ACCOUNT}:anomalymonitor/abcdef12-1234-4ea0-84cc-918a97d736ef`;
    // Act
    const { template } = synth({ anomalies: { enabled: true, monitorArn: arn } });
    // Assess
    template.resourceCountIs('AWS::CE::AnomalyMonitor', 0);
    template.hasResourceProperties('AWS::CE::AnomalySubscription', { MonitorArnList: [arn] });
  });

  it('lets only Cost Anomaly Detection, acting for this account, publish to the topic and use its key', () => {
    // Act
    const { template } = synth(ON);
    // Assess
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'costalerts.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          }),
        ]),
      },
    });
    const keys = Object.values(template.findResources('AWS::KMS::Key')) as Resource[];
    const statements = keys.flatMap(
      (k) => (k.Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'costalerts.amazonaws.com' },
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      }),
    );
  });

  it('delivers the topic to a function that may read nothing but the Slack token (and write its logs)', () => {
    // Act
    const { template } = synth(ON);
    // Assess
    const [topicId] = only(template, 'AWS::SNS::Topic', ANOMALY_TOPIC);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'ml-cost-guard: anomalies' },
    });
    const [fnId] = Object.keys(functions);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: topicId },
      Endpoint: { 'Fn::GetAtt': [fnId, 'Arn'] },
      RedrivePolicy: Match.anyValue(),
    });
    const role = (functions[fnId!] as Resource).Properties.Role as { 'Fn::GetAtt': [string, string] };
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
    const actions = policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(role['Fn::GetAtt'][0]))
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement)
      .flatMap((s) => [s.Action].flat());
    expect([...new Set(actions)].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      // Its own failure queue (the on-failure destination grant).
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    // Posting acts on nothing: a failed delivery may be retried by Lambda.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 2,
    });
  });

  it('has an errors alarm on the dashboard like every function', () => {
    const { template } = synth(ON);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: 'ml-cost-guard anomalies: a run failed',
    });
  });

  it.each<[string, CostGuardConfigInput]>([
    ['by service', ON],
    ['by tag', { anomalies: { enabled: true, tagKey: 'team', tagValues: ['ml'] } }],
  ])('passes cdk-nag (AwsSolutions and Serverless) with anomalies on, %s', (_label, raw) => {
    // Prepare
    const { app } = synth(raw);
    // Act
    const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
    // Assess
    const findings = reports.flatMap((r) =>
      r.violations.flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} ${res.constructPath}`)),
    );
    expect(findings).toEqual([]);
  });
});
