import { ConfigError, parseConfig } from '../../../lambda/core/config';

function rejection(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

const ORG = { mode: 'organization', organizationId: 'o-a1b2c3d4e5', organizationalUnitIds: ['ou-ab12-cd34ef56'] };

describe('Function: parseConfig (accounts: single account or organization hub)', () => {
  it('stays a single-account guard by default, so an existing deployment is unchanged', () => {
    const { accounts, slack, budgets } = parseConfig({});
    expect(accounts.mode).toBe('single');
    expect(accounts.roleName).toBe('ml-cost-guard-spoke');
    expect(accounts.concurrency).toBe(20);
    expect(slack.accountChannels).toEqual({});
    expect(budgets.items.every((b) => b.accounts.length === 0)).toBe(true);
  });

  it('accepts an organization hub with OUs, extra accounts, exclusions and account channels', () => {
    const config = parseConfig({
      accounts: { ...ORG, accountIds: ['111122223333'], exclude: ['444455556666'], concurrency: 5 },
      slack: { accountChannels: { '111122223333': '#research-finops' } },
      budgets: { items: [{ name: 'training', limitUsd: 1000, accounts: ['111122223333'] }] },
    });
    expect(config.accounts).toMatchObject({ ...ORG, accountIds: ['111122223333'], concurrency: 5 });
    expect(config.slack.accountChannels['111122223333']).toBe('#research-finops');
    expect(config.budgets.items[0]?.accounts).toEqual(['111122223333']);
  });

  it('accepts the organization root as a target', () => {
    expect(
      parseConfig({ accounts: { ...ORG, organizationalUnitIds: ['r-ab12'] } }).accounts.organizationalUnitIds,
    ).toEqual(['r-ab12']);
  });

  it('refuses an organization hub that names no account to guard', () => {
    expect(rejection({ accounts: { mode: 'organization', organizationId: 'o-a1b2c3d4e5' } })).toContain(
      'costGuard.accounts.organizationalUnitIds: mode is organization but neither organizationalUnitIds nor accountIds names an account to guard',
    );
  });

  it('refuses an organization hub without the organization ID the spoke trust needs', () => {
    const { organizationId: _, ...withoutId } = ORG;
    expect(rejection({ accounts: withoutId })).toContain(
      'costGuard.accounts.organizationId: mode is organization but organizationId is not set',
    );
  });

  it.each([
    [
      { accounts: { ...ORG, organizationalUnitIds: ['ou-12'] } },
      'costGuard.accounts.organizationalUnitIds[0]: must be an OU ID',
    ],
    [
      { accounts: { ...ORG, accountIds: ['12345'] } },
      'costGuard.accounts.accountIds[0]: must be a 12-digit AWS account ID',
    ],
    [
      { accounts: { ...ORG, organizationId: 'org-1' } },
      'costGuard.accounts.organizationId: must be an organization ID',
    ],
    [{ accounts: { ...ORG, roleName: 'path/role' } }, 'costGuard.accounts.roleName: an IAM role name has 1-64'],
    [{ accounts: { ...ORG, concurrency: 0 } }, 'costGuard.accounts.concurrency: must be from 1 to 100'],
    [{ accounts: { ...ORG, mode: 'multi' } }, 'costGuard.accounts.mode: must be one of single, organization'],
    [
      { slack: { accountChannels: { '1234': '#x' } } },
      'costGuard.slack.accountChannels.1234: key must be a 12-digit AWS account ID',
    ],
    [
      { accounts: ORG, budgets: { items: [{ name: 'b', accounts: ['x'] }] } },
      'costGuard.budgets.items[0].accounts[0]: must be a 12-digit AWS account ID',
    ],
  ])('says which field is wrong and what it must be: %j', (raw, expected) => {
    expect(rejection(raw)).toContain(expected);
  });

  it('refuses linked budget accounts outside organization mode, where no spoke role exists to reach them', () => {
    expect(rejection({ budgets: { items: [{ name: 'training', accounts: ['111122223333'] }] } })).toContain(
      "costGuard.budgets.items[0].accounts: linked accounts need accounts.mode 'organization'",
    );
  });

  it('suggests the key a typo was meant to be', () => {
    expect(rejection({ accounts: { organisationalUnitIds: [] } })).toContain('did you mean organizationalUnitIds?');
  });
});
