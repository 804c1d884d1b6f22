import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ConfigError, parseConfig } from '../../lambda/core/config';
import { ENV } from '../../lambda/core/names';
import { defineApp } from '../../lib/app';
import { CostGuardFunction, LambdaEnvironmentTooLargeError } from '../../lib/constructs/cost-guard-function';
import { SharedResources } from '../../lib/constructs/shared-resources';

const ROOT = path.join(__dirname, '..', '..');
const fastApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

function sharedStack(raw: unknown = {}) {
  const app = fastApp();
  const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'us-east-1' } });
  const config = parseConfig(raw);
  const shared = new SharedResources(stack, 'Shared', { config });
  return { app, stack, config, shared };
}

describe('Construct: SharedResources', () => {
  it('creates the state table on demand with PITR, pk/sk and the ttl attribute', () => {
    const { stack } = sharedStack();
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('creates a Slack token secret with a placeholder when no secret name is configured', () => {
    const { stack } = sharedStack();
    Template.fromStack(stack).hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: 'REPLACE_WITH_SLACK_BOT_TOKEN',
    });
  });

  it('references the configured secret instead of creating one', () => {
    const { stack, shared } = sharedStack({ slack: { tokenSecretName: 'team/slack-bot' } });
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(stack.resolve(shared.slackSecret.secretName)).toBe('team/slack-bot');
  });
});

describe('Construct: CostGuardFunction', () => {
  function fnStack(bundle: boolean) {
    const app = bundle ? new App() : fastApp();
    const stack = new Stack(app, 'Fn', { env: { account: '111122223333', region: 'us-east-1' } });
    const config = parseConfig({ dryRun: false, observability: { logRetentionDays: 14 } });
    const shared = new SharedResources(stack, 'Shared', { config });
    const fn = new CostGuardFunction(stack, 'Reaper', {
      capability: 'reaper',
      handlerFile: path.join(__dirname, '..', 'fixtures', 'noop-handler.ts'),
      config,
      configKeys: ['idleGpu'],
      stateTable: shared.stateTable,
      slackSecret: shared.slackSecret,
      schedule: 'rate(1 hour)',
      logRetentionDays: 14,
    });
    return { stack, fn, config };
  }

  it('runs Node.js 24 on arm64 with JSON logs, reserved concurrency 1 and X-Ray off', () => {
    const { stack } = fnStack(false);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      ReservedConcurrentExecutions: 1,
      TracingConfig: Match.absent(),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('passes only the shared keys and its own section of the config', () => {
    const { stack } = fnStack(false);
    const fnRes = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const passed = JSON.parse(fnRes.Properties.Environment.Variables[ENV.config] as string) as Record<string, unknown>;
    expect(Object.keys(passed).sort()).toEqual(['dryRun', 'idleGpu', 'pricing', 'regions', 'slack', 'tags']);
    expect(parseConfig(passed).idleGpu).toEqual(parseConfig({}).idleGpu);
  });

  it('gives the role its own log group only, not the AWS managed basic execution policy', () => {
    const { stack } = fnStack(false);
    const template = Template.fromStack(stack);
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
        }),
      },
    });
    for (const role of Object.values(roles))
      expect((role as { Properties: object }).Properties).not.toHaveProperty('ManagedPolicyArns');
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow' }),
        ]),
      },
    });
  });

  it('schedules the function with EventBridge Scheduler and alarms on errors', () => {
    const { stack } = fnStack(false);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 1 });
  });

  it('is not retried automatically by default (acting functions must not act twice in a period), unless asked', () => {
    // Act
    const byDefault = Template.fromStack(fnStack(false).stack);
    const app = fastApp();
    const stack = new Stack(app, 'Retried');
    new CostGuardFunction(stack, 'Summary', {
      capability: 'summary',
      handlerFile: path.join(__dirname, '..', 'fixtures', 'noop-handler.ts'),
      config: parseConfig({}),
      configKeys: [],
      retryAttempts: 2,
    });
    // Assess
    byDefault.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });

  it('grants only the ledger write on the state table by default', () => {
    const statements = Object.values(
      Template.fromStack(fnStack(false).stack).findResources('AWS::IAM::Policy'),
    ).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Action: unknown }[] } } }).Properties.PolicyDocument
          .Statement,
    );
    const table = statements.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
    expect(table.map((st) => st.Action)).toEqual(['dynamodb:BatchWriteItem']);
  });

  it('fails with a named config error when the configuration does not fit in the Lambda environment', () => {
    // Prepare: 60 watched budgets with long names make the budgets section about 5 KB.
    const stack = new Stack(fastApp(), 'Big');
    const config = parseConfig({ budgets: { items: manyBudgets(60) } });
    // Act
    let thrown: unknown;
    try {
      new CostGuardFunction(stack, 'Budgets', {
        capability: 'budgets',
        handlerFile: path.join(__dirname, '..', 'fixtures', 'noop-handler.ts'),
        config,
        configKeys: ['budgets'],
      });
    } catch (error) {
      thrown = error;
    }
    // Assess
    expect(thrown).toBeInstanceOf(LambdaEnvironmentTooLargeError);
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as LambdaEnvironmentTooLargeError;
    expect(error.name).toBe('LambdaEnvironmentTooLargeError');
    expect(error.capability).toBe('budgets');
    expect(error.bytes).toBeGreaterThan(error.limitBytes);
    expect(error.message).toContain('costGuard.budgets.items');
  });

  it('bundles the handler with the local esbuild (no Docker)', () => {
    // Act
    const { stack } = fnStack(true);
    const assembly = (stack.node.root as App).synth();
    // Assess: the staged asset holds the esbuild output, a CommonJS bundle exporting the handler.
    const assetDirs = readdirSync(assembly.directory).filter((d) => d.startsWith('asset.'));
    const bundles = assetDirs.map((d) => path.join(assembly.directory, d, 'index.js')).filter((f) => existsSync(f));
    expect(bundles).toHaveLength(1);
    const code = readFileSync(bundles[0]!, 'utf8');
    expect(code).toContain('ok:!0');
    expect(code).toMatch(/module\.exports/);
  });
});

/** `n` watched budgets (no limitUsd: no AWS::Budgets::Budget) with 60-character names. */
function manyBudgets(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `team-${String(i).padStart(3, '0')}-${'x'.repeat(51)}` }));
}

describe('App: lib/app.ts (what bin/ml-cost-guard.ts synthesizes)', () => {
  /**
   * The app as `cdk synth -c costGuard=...` defines it, in-process: its exit code, what it wrote to stderr and the
   * stacks it defined. A config problem fails while the stacks are defined, before any synthesis; the bin's own
   * synthesis is the end-to-end case below.
   */
  function synth(context: Record<string, unknown>): { status: number; stderr: string; stacks: string[] } {
    let stderr = '';
    const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    const status = defineApp(app, {
      env: {},
      stderr: (text) => {
        stderr += text;
      },
    });
    return { status, stderr, stacks: app.node.children.map((c) => c.node.id) };
  }

  it("fails synth on the seed's 14-day checkpoints rule, saying STANDARD_IA needs at least 30 days", () => {
    // Act
    const result = synth({
      costGuard: {
        storage: {
          rules: [
            {
              id: 'model-checkpoints',
              prefix: 'checkpoints/',
              transitions: [{ days: 14, storageClass: 'STANDARD_IA' }],
            },
          ],
        },
      },
    });
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('costGuard.storage.rules[0].transitions[0].days');
    expect(result.stderr).toContain('STANDARD_IA needs at least 30 days');
  });

  it('reads the config given as JSON text with -c costGuard=...', () => {
    const result = synth({ costGuard: JSON.stringify({ budgets: { alertPercent: 99 } }) });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'costGuard.budgets.alertPercent: alertPercent (99) must be below actionPercent (95)',
    );
  });

  it('fails synth naming line and column when the JSON text of -c costGuard=... is malformed', () => {
    const result = synth({ costGuard: '{"dryRun": false,\n "idleGpu": {"action": "stop",}}' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Context 'costGuard' is not valid JSON at line 2, column 31");
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('fails synth on an hour EventBridge would refuse at deploy, naming the field and its range', () => {
    const result = synth({ costGuard: { idleGpu: { schedule: 'cron(0 25 * * ? *)' } } });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "costGuard.idleGpu.schedule: invalid schedule 'cron(0 25 * * ? *)': hours field '25' must be 0-23",
    );
  });

  it('fails synth with the message and no stack trace when the config does not fit in a Lambda environment', () => {
    // Act
    const result = synth({ costGuard: { budgets: { items: manyBudgets(60) } } });
    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("the budgets function's configuration is");
    expect(result.stderr).toContain('Shorten costGuard.storage.rules or costGuard.budgets.items');
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('accepts the default config and defines the MlCostGuard stack', () => {
    const result = synth({ costGuard: {} });
    expect(result.stderr).not.toContain('Invalid ml-cost-guard configuration');
    expect(result.status).toBe(0);
    expect(result.stacks).toContain('MlCostGuard');
  });
});

describe('App: bin/ml-cost-guard.ts', () => {
  /** The real entry as `cdk synth` runs it (tsx, the context in CDK_CONTEXT_JSON, CDK_OUTDIR): one spawn. */
  function synthBin(context: Record<string, unknown>) {
    const out = mkdtempSync(path.join(tmpdir(), 'cdk-out-'));
    try {
      const result = spawnSync(
        process.execPath,
        [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/ml-cost-guard.ts'],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            CDK_OUTDIR: out,
            CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }),
          },
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      return { ...result, templates: readdirSync(out).filter((f) => f.endsWith('.template.json')) };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }

  it('synthesizes the MlCostGuard template, and exits 1 with only the message on a config problem', () => {
    // Act
    const ok = synthBin({ costGuard: {} });
    const bad = synthBin({ costGuard: '{"dryRun": false,\n "idleGpu": {"action": "stop",}}' });
    // Assess
    expect(ok.stderr).not.toContain('Invalid ml-cost-guard configuration');
    expect(ok.status).toBe(0);
    expect(ok.templates).toEqual(['MlCostGuard.template.json']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^Context 'costGuard' is not valid JSON at line 2, column 31/);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
