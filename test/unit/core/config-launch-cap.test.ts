import { ConfigError, parseConfig } from '../../../lambda/core/config';

/** The ConfigError's issues (fails the test when the config is accepted). */
function issues(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe('Function: parseConfig (budgets.launchCap)', () => {
  it('is off by default; items list no roles', () => {
    const config = parseConfig({ budgets: { items: [{ name: 'ml' }] } });
    expect(config.budgets.launchCap).toBe(false);
    expect(config.budgets.items[0]!.launchCapRoles).toEqual([]);
  });

  it('takes role names per budget item', () => {
    const config = parseConfig({
      budgets: { launchCap: true, items: [{ name: 'ml', launchCapRoles: ['ml-training', 'SageMaker.Exec@team'] }] },
    });
    expect(config.budgets.items[0]!.launchCapRoles).toEqual(['ml-training', 'SageMaker.Exec@team']);
  });

  it.each<[string, unknown, string]>([
    [
      'launchCap without any role to cap',
      { launchCap: true, items: [{ name: 'ml' }] },
      'costGuard.budgets.launchCap: launchCap is on but no budgets.items entry lists launchCapRoles',
    ],
    [
      'a role ARN instead of a name',
      { items: [{ name: 'ml', launchCapRoles: ['arn:aws:iam::111122223333:role/ml'] }] },
      'costGuard.budgets.items[0].launchCapRoles[0]: an IAM role name has 1-64 letters, digits or +=,.@_- (no path, no ARN)',
    ],
    [
      'a role with a path',
      { items: [{ name: 'ml', launchCapRoles: ['team/ml'] }] },
      'costGuard.budgets.items[0].launchCapRoles[0]: an IAM role name',
    ],
    [
      'a role listed twice',
      { items: [{ name: 'ml', launchCapRoles: ['ml', 'ml'] }] },
      "costGuard.budgets.items[0].launchCapRoles[1]: role 'ml' is listed twice",
    ],
  ])('rejects %s, naming the field', (_label, budgets, expected) => {
    expect(issues({ budgets }).join('\n')).toContain(expected);
  });
});
