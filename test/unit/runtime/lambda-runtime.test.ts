import { ConfigError } from '../../../lambda/core/config';
import { ENV } from '../../../lambda/core/names';
import type { RunContext } from '../../../lambda/runtime/context';
import { lambdaHandler, readLambdaEnvironment } from '../../../lambda/runtime/lambda-runtime';
import { CostGuardError, InvalidEnvironmentError, MissingEnvironmentError } from '../../../lambda/shared/errors';
import { lambdaContext } from '../../helpers/lambda-context';

describe('Function: readLambdaEnvironment', () => {
  const base = {
    [ENV.config]: JSON.stringify({ dryRun: false, idleGpu: { action: 'terminate' } }),
    AWS_REGION: 'eu-west-1',
  };

  it('parses the config with the one schema and reads the optional variables', () => {
    const env = readLambdaEnvironment({
      ...base,
      [ENV.stateTable]: 'state',
      [ENV.slackSecret]: 'arn:secret',
      [ENV.accountId]: '111122223333',
    });
    expect(env.config.dryRun).toBe(false);
    expect(env.config.idleGpu.action).toBe('terminate');
    expect(env.config.idleGpu.lookbackMinutes).toBe(60);
    expect(env).toMatchObject({
      region: 'eu-west-1',
      stateTableName: 'state',
      slackSecret: 'arn:secret',
      accountId: '111122223333',
    });
  });

  it('fails with MissingEnvironmentError naming the variable when the config is missing', () => {
    expect(() => readLambdaEnvironment({ AWS_REGION: 'eu-west-1' })).toThrow(new MissingEnvironmentError(ENV.config));
    expect(() => readLambdaEnvironment({ AWS_REGION: 'eu-west-1' })).toThrow('COST_GUARD_CONFIG is not set');
  });

  it('fails with InvalidEnvironmentError naming the variable, with the parse error as cause, for bad JSON', () => {
    // Act
    const error = (() => {
      try {
        readLambdaEnvironment({ ...base, [ENV.config]: '{' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // Assess
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    expect(error).toBeInstanceOf(CostGuardError);
    expect(error).not.toBeInstanceOf(MissingEnvironmentError);
    expect(error).toMatchObject({ name: 'InvalidEnvironmentError', variable: ENV.config });
    expect((error as Error).message).toContain('COST_GUARD_CONFIG is not valid JSON');
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('fails naming AWS_REGION when no region is set', () => {
    expect(() => readLambdaEnvironment({ [ENV.config]: '{}' })).toThrow('AWS_REGION is not set');
  });

  it('fails with ConfigError naming the field when the config is invalid', () => {
    const bad = { ...base, [ENV.config]: JSON.stringify({ budgets: { alertPercent: 99 } }) };
    expect(() => readLambdaEnvironment(bad)).toThrow(ConfigError);
    expect(() => readLambdaEnvironment(bad)).toThrow('costGuard.budgets.alertPercent');
  });
});

describe('Function: lambdaHandler', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env[ENV.config] = JSON.stringify({ dryRun: true, pricing: { live: false } });
    process.env.AWS_REGION = 'eu-west-1';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    delete process.env[ENV.slackSecret];
    delete process.env[ENV.stateTable];
  });
  afterEach(() => {
    process.env = { ...saved };
  });
  const summary = (ctx: RunContext) => ({
    capability: 'budgets',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions: [],
    monthlySavingsUsd: 0,
    apiCalls: {},
    notes: [],
    remaining: ctx.remainingTimeMs?.(),
  });

  it("gives the run the Lambda's remaining time, read when the run asks", async () => {
    // Prepare
    let left = 90_000;
    const handler = lambdaHandler('budgets', async (ctx: RunContext) => summary(ctx));
    // Act
    const result = await handler({}, lambdaContext({ remainingMs: () => (left -= 1000) }));
    // Assess
    expect('remaining' in result && result.remaining).toBe(89_000);
  });

  it('logs each invocation with its request id, and cold start only on the first', async () => {
    // Prepare: an on-demand execution environment, as Lambda says in the environment; Powertools writes one JSON
    // object a line to stdout.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const handler = lambdaHandler('budgets', async (ctx: RunContext) => summary(ctx));
    // Act
    try {
      await handler({}, lambdaContext({ awsRequestId: 'req-1' }));
      await handler({}, lambdaContext({ awsRequestId: 'req-2' }));
    } finally {
      write.mockRestore();
    }
    // Assess
    const finished = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === 'run finished');
    expect(finished).toEqual([
      expect.objectContaining({ capability: 'budgets', function_request_id: 'req-1', cold_start: true }),
      expect.objectContaining({ capability: 'budgets', function_request_id: 'req-2', cold_start: false }),
    ]);
    expect(finished[0]).toMatchObject({ function_name: 'ml-cost-guard-test', service: 'ml-cost-guard' });
  });

  it("names the run by its request id, as its run lease does ('lambda:<request id>')", async () => {
    // Act
    const result = await lambdaHandler('budgets', async (ctx: RunContext) => ({ ...summary(ctx), holder: ctx.holder }))(
      {},
      lambdaContext({ awsRequestId: 'req-7' }),
    );
    // Assess
    expect('holder' in result && result.holder).toBe('lambda:req-7');
  });

  it('gives no deadline when invoked without a Lambda context', async () => {
    // Act
    const result = await lambdaHandler('budgets', async (ctx: RunContext) => summary(ctx))({});
    // Assess
    expect('remaining' in result ? result.remaining : 'no summary').toBeUndefined();
  });
});
