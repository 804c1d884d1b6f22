/** The right-sizing advice construct: a weekly schedule, a read-only role, no state table, and cdk-nag clean. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { parseConfig } from '../../lambda/core/config';
import { RightsizingAdvice } from '../../lib/constructs/rightsizing';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';

const fastApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

function adviceStack(raw: unknown = {}) {
  const app = fastApp();
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const config = parseConfig(raw);
  const shared = new SharedResources(stack, 'Shared', { config });
  const advice = new RightsizingAdvice(stack, 'RightsizingAdvice', { config, shared });
  return { app, stack, advice, template: Template.fromStack(stack) };
}

/** The actions the advice function's role is allowed, in every policy attached to it. */
function allowedActions(template: Template, roleLogicalId: string): string[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((p) => (p as { Properties: Record<string, unknown> }).Properties)
    .filter((p) => JSON.stringify(p.Roles).includes(roleLogicalId))
    .flatMap((p) => (p.PolicyDocument as { Statement: { Effect: string; Action: string | string[] }[] }).Statement)
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}

describe('Construct: RightsizingAdvice', () => {
  it('runs weekly on the configured schedule, with its config slice and no state table', () => {
    const { template } = adviceStack({ rightsizing: { schedule: 'cron(30 7 ? * TUE *)', lookbackDays: 7 } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'cron(30 7 ? * TUE *)' });
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => (f as { Properties: { Environment?: { Variables: Record<string, string> } } }).Properties,
    );
    const advice = fns.find((f) => f.Environment?.Variables.COST_GUARD_CONFIG?.includes('"rightsizing"'));
    expect(advice).toBeDefined();
    const vars = advice!.Environment!.Variables;
    expect(JSON.parse(vars.COST_GUARD_CONFIG!).rightsizing.lookbackDays).toBe(7);
    expect(vars.COST_GUARD_STATE_TABLE).toBeUndefined();
  });

  it('may only read: EC2 describe, CloudWatch metrics, its Slack secret, its own logs and failure queue', () => {
    const { template, stack, advice } = adviceStack({ dryRun: false });
    const roleId = stack.getLogicalId(advice.fn.role.node.defaultChild as never);
    const actions = new Set(allowedActions(template, roleId));
    expect([...actions].sort()).toEqual([
      'cloudwatch:GetMetricData',
      'cloudwatch:ListMetrics',
      'ec2:DescribeInstanceTypes',
      'ec2:DescribeInstances',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      // Its own failure-destination queue (a failed run's event waits there for a person).
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
  });

  it('is cdk-nag clean in the whole stack (AwsSolutions and Serverless packs)', () => {
    const app = fastApp();
    new MlCostGuardStack(app, 'MlCostGuard', {
      config: parseConfig({ dryRun: false }),
      env: { account: '111122223333', region: 'us-east-1' },
    });
    const reports = [new AwsSolutionsChecks(app).validateScope(app), new ServerlessChecks(app).validateScope(app)];
    const findings = reports.flatMap((r) =>
      r.violations.flatMap((v) => v.violatingResources.map((res) => `${v.ruleName} ${res.resourceLogicalId}`)),
    );
    expect(findings.filter((f) => /Rightsizing|Summary/.test(f))).toEqual([]);
  });

  it('is left out when rightsizing.enabled is false', () => {
    const app = fastApp();
    const stack = new MlCostGuardStack(app, 'MlCostGuard', {
      config: parseConfig({ rightsizing: { enabled: false } }),
      env: { account: '111122223333', region: 'us-east-1' },
    });
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(text).not.toContain('RightsizingAdvice');
  });
});
