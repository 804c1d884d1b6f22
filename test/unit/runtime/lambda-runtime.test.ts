import { ConfigError } from '../../../lambda/core/config';
import { ENV } from '../../../lambda/core/names';
import { readLambdaEnvironment } from '../../../lambda/runtime/lambda-runtime';
import { MissingEnvironmentError } from '../../../lambda/shared/errors';

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

  it('fails naming the variable when the config is not JSON', () => {
    expect(() => readLambdaEnvironment({ ...base, [ENV.config]: '{' })).toThrow('COST_GUARD_CONFIG is not valid JSON');
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
