import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { SageMakerGuard } from '../../lib/constructs/sagemaker-guard';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';
import { oncePerArgs } from '../helpers/once-per-args';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The guard alone in a stack; dry-run is off unless `raw` turns it on. */
const synth = oncePerArgs(function synth(raw: CostGuardConfigInput = {}, env = true) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SageMakerTest', env ? { env: { account: ACCOUNT, region: REGION } } : {});
  const config = parseConfig({ dryRun: false, ...raw });
  const shared = new SharedResources(stack, 'Shared', { config });
  const guard = new SageMakerGuard(stack, 'Guard', { config, shared });
  return { app, stack, guard, template: Template.fromStack(stack) };
});

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every statement of the guard role's identity policy. */
function statements(template: Template): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: Statement[] }; Roles: { Ref: string }[] };
  }[];
  const mine = policies.filter((p) => p.Properties.Roles.some((r) => r.Ref.startsWith('GuardFunctionRole')));
  expect(mine.length).toBeGreaterThan(0);
  return mine.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (s: Statement) => [s.Action].flat();
const allowed = (template: Template) =>
  statements(template)
    .filter((s) => s.Effect === 'Allow')
    .flatMap(actionsOf);

describe('Construct: SageMakerGuard', () => {
  it('schedules the function from config.sagemaker.schedule, one run at a time, never retried', () => {
    // Act
    const { template } = synth({ sagemaker: { schedule: 'rate(2 hours)' } });
    // Assess
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(2 hours)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: 600,
      Description: 'ml-cost-guard: sagemaker',
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('gives the function only the sagemaker section besides the shared keys, and the state table', () => {
    const { template } = synth();
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const vars = fn.Properties.Environment.Variables;
    const config = JSON.parse(String(vars[ENV.config])) as Record<string, unknown>;
    expect(config.sagemaker).toBeDefined();
    expect(config.idleGpu).toBeUndefined();
    expect(config.budgets).toBeUndefined();
    expect(vars[ENV.stateTable]).toBeDefined();
  });

  it('allows DeleteEndpoint only with action delete, on endpoints whose opt-out tag is not true', () => {
    // Act
    const { template } = synth({ sagemaker: { action: 'delete' } });
    // Assess
    const allow = statements(template).find((s) => s.Sid === 'DeleteEndpointsNotOptedOut')!;
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Action: 'sagemaker:DeleteEndpoint',
      Condition: { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/cost-guard:opt-out': 'true' } },
    });
    expect(JSON.stringify(allow.Resource)).toContain(':endpoint/*');
    const deny = statements(template).find((s) => s.Sid === 'NeverActOnOptedOut')!;
    expect(deny.Effect).toBe('Deny');
    expect(actionsOf(deny)).toEqual(
      expect.arrayContaining([
        'sagemaker:DeleteEndpoint',
        'sagemaker:StopNotebookInstance',
        'sagemaker:UpdateDomain',
        'sagemaker:UpdateUserProfile',
        'sagemaker:UpdateSpace',
      ]),
    );
    expect(JSON.stringify(deny.Resource)).toContain(':user-profile/*');
    expect(JSON.stringify(deny.Resource)).toContain(':space/*');
  });

  it('denies DeleteEndpoint and the Studio updates on resources of a CloudFormation stack, in every mode', () => {
    for (const raw of [{ sagemaker: { action: 'delete' as const } }, { dryRun: true }]) {
      const deny = statements(synth(raw).template).find((s) => s.Sid === 'NeverChangeStackResources')!;
      expect(deny).toMatchObject({
        Effect: 'Deny',
        Condition: { Null: { 'aws:ResourceTag/aws:cloudformation:stack-name': 'false' } },
      });
      expect(actionsOf(deny).sort()).toEqual([
        'sagemaker:DeleteEndpoint',
        'sagemaker:UpdateDomain',
        'sagemaker:UpdateSpace',
        'sagemaker:UpdateUserProfile',
      ]);
      expect(JSON.stringify(deny.Resource)).toContain(':user-profile/*');
      expect(JSON.stringify(deny.Resource)).toContain(':space/*');
    }
  });

  it.each<[string, CostGuardConfigInput]>([
    ['action notify', { sagemaker: { action: 'notify', notebookMaxHours: 12 } }],
    ['dryRun', { dryRun: true, sagemaker: { action: 'delete', notebookMaxHours: 12, studioIdleShutdownMinutes: 60 } }],
  ])('holds no DeleteEndpoint or StopNotebookInstance with %s', (_, raw) => {
    const actions = allowed(synth(raw).template);
    expect(actions).not.toContain('sagemaker:DeleteEndpoint');
    expect(actions).not.toContain('sagemaker:StopNotebookInstance');
  });

  it('allows StopNotebookInstance only with notebookMaxHours, UpdateDomain only with studioIdleShutdownMinutes', () => {
    expect(allowed(synth({ sagemaker: { action: 'delete' } }).template)).not.toContain(
      'sagemaker:StopNotebookInstance',
    );
    expect(allowed(synth({ sagemaker: { action: 'delete', notebookMaxHours: 72 } }).template)).toContain(
      'sagemaker:StopNotebookInstance',
    );
    expect(allowed(synth({}).template)).not.toContain('sagemaker:UpdateDomain');
    expect(allowed(synth({ sagemaker: { studioIdleShutdownMinutes: 120 } }).template)).toContain(
      'sagemaker:UpdateDomain',
    );
    expect(allowed(synth({ dryRun: true, sagemaker: { studioIdleShutdownMinutes: 120 } }).template)).not.toContain(
      'sagemaker:UpdateDomain',
    );
  });

  it('allows UpdateUserProfile and UpdateSpace only with studioIdleShutdownMinutes and dryRun off, unless opted out', () => {
    for (const action of ['sagemaker:UpdateUserProfile', 'sagemaker:UpdateSpace']) {
      expect(allowed(synth({}).template)).not.toContain(action);
      expect(allowed(synth({ dryRun: true, sagemaker: { studioIdleShutdownMinutes: 120 } }).template)).not.toContain(
        action,
      );
    }
    const { template } = synth({ sagemaker: { studioIdleShutdownMinutes: 120 } });
    const allow = statements(template).find((s) => s.Sid === 'UpdateProfilesAndSpacesNotOptedOut')!;
    expect(allow).toMatchObject({
      Effect: 'Allow',
      Condition: { StringNotEqualsIgnoreCase: { 'aws:ResourceTag/cost-guard:opt-out': 'true' } },
    });
    expect(actionsOf(allow).sort()).toEqual(['sagemaker:UpdateSpace', 'sagemaker:UpdateUserProfile']);
    expect(JSON.stringify(allow.Resource)).toContain(':user-profile/*');
    expect(JSON.stringify(allow.Resource)).toContain(':space/*');
    expect(JSON.stringify(allow.Resource)).not.toContain(':domain/*');
  });

  it('never holds CreateEndpoint, tag writes or deletions of configs and models', () => {
    const actions = allowed(
      synth({ sagemaker: { action: 'delete', notebookMaxHours: 1, studioIdleShutdownMinutes: 60 } }).template,
    );
    for (const a of [
      'sagemaker:CreateEndpoint',
      'sagemaker:AddTags',
      'sagemaker:DeleteTags',
      'sagemaker:DeleteEndpointConfig',
      'sagemaker:DeleteModel',
      'sagemaker:DeleteApp',
    ]) {
      expect(actions).not.toContain(a);
    }
    expect(actions.filter((a) => /\*/.test(a))).toEqual([]);
  });

  it('scopes endpoint actions to the configured regions', () => {
    const { template } = synth({ regions: ['us-east-1', 'eu-west-1'], sagemaker: { action: 'delete' } });
    const allow = statements(template).find((s) => s.Sid === 'DeleteEndpointsNotOptedOut')!;
    const text = JSON.stringify(allow.Resource);
    expect(text).toContain(':sagemaker:us-east-1:');
    expect(text).toContain(':sagemaker:eu-west-1:');
    expect(text).not.toContain('ap-south-1');
  });

  it.each([
    [{ sagemaker: { action: 'delete', notebookMaxHours: 8, studioIdleShutdownMinutes: 60 } }, true],
    [{ regions: ['us-east-1', 'eu-west-1'] }, true],
    [{}, false],
  ] as [CostGuardConfigInput, boolean][])(
    'leaves no unacknowledged cdk-nag finding under the construct (config %j, env %s)',
    (raw, env) => {
      const { app } = synth(raw, env);
      const report = new AwsSolutionsChecks(app).validateScope(app);
      const mine = report.violations.filter((v) =>
        v.violatingResources.some((r) => r.constructPath?.startsWith('SageMakerTest/Guard/')),
      );
      expect(mine).toEqual([]);
    },
  );
});

describe('Stack: the SageMaker guard in MlCostGuardStack', () => {
  const stackOf = oncePerArgs((raw: CostGuardConfigInput) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    return Template.fromStack(
      new MlCostGuardStack(app, 'MlCostGuard', {
        config: parseConfig(raw),
        env: { account: ACCOUNT, region: REGION },
      }),
    );
  });

  it('is deployed by default and left out with sagemaker.enabled false', () => {
    const on = stackOf({});
    on.hasResourceProperties('AWS::Lambda::Function', { Description: 'ml-cost-guard: sagemaker' });
    const off = stackOf({ sagemaker: { enabled: false } });
    expect(
      Object.values(
        off.findResources('AWS::Lambda::Function', { Properties: { Description: 'ml-cost-guard: sagemaker' } }),
      ),
    ).toHaveLength(0);
  });

  it('raises the missed-run and errors alarms for it like every scheduled capability', () => {
    const t = stackOf({});
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('ml-cost-guard sagemaker: a run failed'),
    });
  });
});
