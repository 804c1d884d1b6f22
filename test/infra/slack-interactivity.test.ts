import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { SharedResources } from '../../lib/constructs/shared-resources';
import { SLACK_SIGNING_SECRET_PLACEHOLDER, SlackInteractivity } from '../../lib/constructs/slack-interactivity';
import { MlCostGuardStack } from '../../lib/ml-cost-guard-stack';
import { oncePerArgs } from '../helpers/once-per-args';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

const synth = oncePerArgs(function synth(raw: NonNullable<CostGuardConfigInput> = {}, env = true) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'SlackTest', env ? { env: { account: ACCOUNT, region: REGION } } : {});
  const config = parseConfig({
    dryRun: false,
    ...raw,
    slack: { interactivity: true, teamId: 'T0TEST', ...raw.slack },
  });
  const shared = new SharedResources(stack, 'Shared', { config });
  const slack = new SlackInteractivity(stack, 'Slack', { config, shared });
  return { app, stack, slack, template: Template.fromStack(stack) };
});

describe('Construct: SlackInteractivity', () => {
  it('serves a function URL without IAM auth (Slack signs), throttled, its URL a stack output', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasOutput('SlackInteractivityUrl', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 5,
      Description: 'ml-cost-guard: slack',
    });
  });

  it('keeps the signing secret in Secrets Manager: the environment holds its ARN only', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: SLACK_SIGNING_SECRET_PLACEHOLDER,
    });
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }[];
    const vars = fns[0]!.Properties.Environment.Variables;
    expect(vars[ENV.slackSigningSecret]).toEqual({ Ref: expect.stringMatching(/^SlackSigningSecret/) });
    expect(JSON.stringify(vars)).not.toContain(SLACK_SIGNING_SECRET_PLACEHOLDER);
  });

  it('uses an existing signing secret by name instead of creating one', () => {
    const { template } = synth({ slack: { signingSecretName: 'slack/signing' } });
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret'))).toHaveLength(1); // the bot token only
  });

  it.each<[NonNullable<CostGuardConfigInput>, boolean]>([
    [{}, true],
    [{ regions: ['us-west-2', 'eu-west-1'], idleGpu: { action: 'terminate' } }, true],
    [{ dryRun: true }, true],
    [{ slack: { signingSecretName: 'slack/signing' } }, true],
    [{}, false],
  ])('leaves no unacknowledged cdk-nag finding under the construct (config %j, env %s)', (raw, env) => {
    const { app } = synth(raw, env);
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const mine = report.violations.filter((v) =>
      v.violatingResources.some((r) => r.constructPath?.startsWith('SlackTest/Slack/')),
    );
    expect(mine).toEqual([]);
  });
});

describe('Stack: MlCostGuardStack (slack.interactivity)', () => {
  const stack = (slack: NonNullable<CostGuardConfigInput>['slack']) =>
    Template.fromStack(
      new MlCostGuardStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'MlCostGuard', {
        config: parseConfig({ slack }),
        env: { account: ACCOUNT, region: REGION },
      }),
    );

  it('deploys no endpoint unless interactivity is on (existing deployments stay as they are)', () => {
    expect(Object.keys(stack({}).findResources('AWS::Lambda::Url'))).toEqual([]);
    expect(
      Object.keys(stack({ interactivity: true, teamId: 'T0TEST' }).findResources('AWS::Lambda::Url')),
    ).toHaveLength(1);
  });
});
