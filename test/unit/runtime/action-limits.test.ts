import { MemoryStateStore } from '../../../lambda/adapters/state-store';
import { ActionLimits, hubKeyScopeOf } from '../../../lambda/runtime/action-limits';
import { TEST_NOW, testContext } from '../../helpers/context';

const ORG = {
  accounts: { mode: 'organization' as const, organizationId: 'o-abc123def4', accountIds: ['111111111111'] },
};
const request = { capability: 'reaper', period: '2026-11-15T12:00:00.000Z', now: TEST_NOW };

describe('Class: ActionLimits', () => {
  it('counts a single-account run under the key it always had, with no organization counter', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const limits = ActionLimits.of(testContext(), store);
    // Act
    const granted = await limits.reserveMany({ ...request, limit: 2, targets: ['i-1', 'i-2', 'i-3'] });
    // Assess
    expect(granted).toEqual(['i-1', 'i-2']);
    expect([...store.limits.keys()]).toEqual([`limit#reaper#all-regions|${request.period}`]);
    expect(limits.organizationWide).toBe(false);
  });

  it('counts a unit per account, then within the organization-wide ceiling over every account', async () => {
    // Prepare: ceiling 3 across the organization, 2 per account
    const store = new MemoryStateStore();
    const unit = (accountId: string) =>
      ActionLimits.of(
        Object.assign(
          testContext({ config: { ...ORG, accounts: { ...ORG.accounts, maxActionsPerOrganization: 3 } } }),
          {
            target: { accountId, accountName: accountId, runId: 'run-1', hub: false },
          },
        ),
        store,
      );
    const a = unit('111111111111');
    const b = unit('222222222222');
    // Act
    const first = await a.reserveMany({ ...request, limit: 2, targets: ['i-1', 'i-2', 'i-3'] });
    const second = [
      await b.reserveOne({ ...request, limit: 2, target: 'i-1' }),
      await b.reserveOne({ ...request, limit: 2, target: 'i-2' }),
    ];
    // Assess: account A got its 2, account B only 1 (the organization's third), and says why
    expect(first).toEqual(['i-1', 'i-2']);
    expect(second).toEqual([true, false]);
    expect(a.organizationNote()).toBeUndefined();
    expect(b.organizationNote()).toContain('accounts.maxActionsPerOrganization (3)');
    expect(store.limits.get(`limit#reaper#organization|${request.period}`)?.targets).toEqual(
      new Set(['111111111111/i-1', '111111111111/i-2', '222222222222/i-1']),
    );
    expect(store.limits.get(`limit#reaper#111111111111#all-regions|${request.period}`)?.count).toBe(2);
    expect(store.limits.get(`limit#reaper#222222222222#all-regions|${request.period}`)?.count).toBe(2);
  });

  it('grants a retried target again without counting it twice in either counter', async () => {
    // Prepare
    const store = new MemoryStateStore();
    const ctx = Object.assign(testContext({ config: ORG }), {
      target: { accountId: '111111111111', accountName: 'a', runId: 'r', hub: false },
    });
    // Act
    const once = await ActionLimits.of(ctx, store).reserveOne({ ...request, limit: 1, target: 'i-1' });
    const again = await ActionLimits.of(ctx, store).reserveOne({ ...request, limit: 1, target: 'i-1' });
    // Assess
    expect([once, again]).toEqual([true, true]);
    expect(store.limits.get(`limit#reaper#organization|${request.period}`)?.count).toBe(1);
  });
});

describe('Function: hubKeyScopeOf', () => {
  it("is the unit's account, else the hub's account in organization mode, else nothing", () => {
    expect(hubKeyScopeOf(testContext({ accountId: '999999999999' }))).toBeUndefined();
    expect(hubKeyScopeOf(testContext({ config: ORG, accountId: '999999999999' }))).toBe('999999999999');
    expect(
      hubKeyScopeOf(
        Object.assign(testContext({ config: ORG }), {
          target: { accountId: '111111111111', accountName: 'a', runId: 'r', hub: false },
        }),
      ),
    ).toBe('111111111111');
  });
});
