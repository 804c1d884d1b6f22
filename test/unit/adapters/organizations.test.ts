import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  assumeSpokeRole,
  describeAccountFailure,
  listTargetAccounts,
  SpokeRoleAccessError,
} from '../../../lambda/adapters/organizations';
import { CostGuardError } from '../../../lambda/shared/errors';

const orgMock = mockClient(OrganizationsClient);
const stsMock = mockClient(STSClient);
const org = () => new OrganizationsClient({ region: 'us-east-1' });
const account = (id: string, name: string, state = 'ACTIVE') => ({ Id: id, Name: name, State: state });
const awsError = (name: string, message = `${name} (simulated)`) => Object.assign(new Error(message), { name });

/** An organization: OU tree (parent -> child OUs) and accounts per parent, two to a page. */
function organization(tree: Record<string, string[]>, accounts: Record<string, ReturnType<typeof account>[]>) {
  const page = <T>(items: T[], token: string | undefined) => {
    const start = token ? Number(token) : 0;
    const next = start + 2 < items.length ? String(start + 2) : undefined;
    return { items: items.slice(start, start + 2), ...(next ? { next } : {}) };
  };
  orgMock.on(ListAccountsForParentCommand).callsFake((input) => {
    const p = page(accounts[input.ParentId!] ?? [], input.NextToken);
    return { Accounts: p.items, ...(p.next ? { NextToken: p.next } : {}) };
  });
  orgMock.on(ListOrganizationalUnitsForParentCommand).callsFake((input) => {
    const p = page(tree[input.ParentId!] ?? [], input.NextToken);
    return { OrganizationalUnits: p.items.map((Id) => ({ Id })), ...(p.next ? { NextToken: p.next } : {}) };
  });
  const all = Object.values(accounts).flat();
  orgMock.on(ListAccountsCommand).callsFake((input) => {
    const p = page(all, input.NextToken);
    return { Accounts: p.items, ...(p.next ? { NextToken: p.next } : {}) };
  });
}

beforeEach(() => {
  orgMock.reset();
  stsMock.reset();
});

describe('Function: listTargetAccounts', () => {
  it('walks nested OUs across pages, keeps active accounts and says why the others are skipped', async () => {
    // Prepare: ou-root holds 3 child OUs (two pages); ou-b nests ou-b1; accounts spread over pages
    organization(
      { 'ou-root': ['ou-a', 'ou-b', 'ou-c'], 'ou-b': ['ou-b1'] },
      {
        'ou-root': [account('100000000001', 'root-1')],
        'ou-a': [account('100000000002', 'a-1'), account('100000000003', 'a-2'), account('100000000004', 'a-3')],
        'ou-b1': [account('100000000005', 'deep'), account('100000000006', 'gone', 'SUSPENDED')],
        'ou-c': [account('100000000007', 'excluded')],
      },
    );
    // Act
    const listing = await listTargetAccounts(org(), {
      organizationalUnitIds: ['ou-root'],
      accountIds: [],
      exclude: ['100000000007'],
    });
    // Assess
    expect(listing.accounts).toEqual([
      { id: '100000000001', name: 'root-1' },
      { id: '100000000002', name: 'a-1' },
      { id: '100000000003', name: 'a-2' },
      { id: '100000000004', name: 'a-3' },
      { id: '100000000005', name: 'deep' },
    ]);
    expect(listing.skipped).toEqual([{ accountId: '100000000006', reason: 'account is suspended, not active' }]);
    expect(orgMock.commandCalls(ListAccountsCommand)).toHaveLength(0);
  });

  it('looks listed accounts up with the paginated ListAccounts, and names the unknown ones', async () => {
    organization({}, { r: [account('200000000001', 'x'), account('200000000002', 'y'), account('200000000003', 'z')] });
    const listing = await listTargetAccounts(org(), {
      organizationalUnitIds: [],
      accountIds: ['200000000003', '999999999999', '888888888888'],
      exclude: ['888888888888'],
    });
    expect(listing.accounts).toEqual([{ id: '200000000003', name: 'z' }]);
    expect(listing.skipped).toEqual([{ accountId: '999999999999', reason: 'not a member of this organization' }]);
    expect(orgMock.commandCalls(ListAccountsCommand)).toHaveLength(2);
  });

  it('passes an Organizations AccessDenied through to the caller', async () => {
    orgMock.on(ListAccountsForParentCommand).rejects(awsError('AccessDeniedException'));
    await expect(
      listTargetAccounts(org(), { organizationalUnitIds: ['ou-x'], accountIds: [], exclude: [] }),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});

describe('Function: assumeSpokeRole', () => {
  const o = {
    accountId: '300000000001',
    roleArn: 'arn:aws:iam::300000000001:role/ml-cost-guard-spoke',
    sessionName: 's',
  };

  it('returns the temporary credentials', async () => {
    const expiration = new Date('2026-11-15T13:00:00Z');
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'AK', SecretAccessKey: 'SK', SessionToken: 'TK', Expiration: expiration },
    });
    await expect(assumeSpokeRole(new STSClient({ region: 'us-east-1' }), o)).resolves.toEqual({
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      sessionToken: 'TK',
      expiration,
    });
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: o.roleArn,
      RoleSessionName: 's',
    });
  });

  it('turns AccessDenied into SpokeRoleAccessError naming the account, the role and the fix', async () => {
    stsMock.on(AssumeRoleCommand).rejects(awsError('AccessDenied'));
    const error = await assumeSpokeRole(new STSClient({ region: 'us-east-1' }), o).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpokeRoleAccessError);
    expect(error).toBeInstanceOf(CostGuardError);
    expect(error).toMatchObject({ name: 'SpokeRoleAccessError', accountId: o.accountId, roleArn: o.roleArn });
    expect((error as Error).cause).toMatchObject({ name: 'AccessDenied' });
    expect(describeAccountFailure(error)).toContain('cannot assume arn:aws:iam::300000000001:role/ml-cost-guard-spoke');
  });

  it('passes throttling through as it is, described with its code', async () => {
    stsMock.on(AssumeRoleCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    const error = await assumeSpokeRole(new STSClient({ region: 'us-east-1', maxAttempts: 1 }), o).catch(
      (e: unknown) => e,
    );
    expect(error).not.toBeInstanceOf(SpokeRoleAccessError);
    expect(describeAccountFailure(error)).toBe('Throttling: Rate exceeded');
  });
});
