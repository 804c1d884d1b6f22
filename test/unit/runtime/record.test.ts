import { readMonth } from '../../../lambda/adapters/ledger';
import { recordRun } from '../../../lambda/runtime/record';
import { testContext } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const AT = '2026-11-15T12:00:00.000Z';

/** A context whose run stopped one instance (and tagged it), optionally as the unit of an organization run. */
async function ranAStop(target?: { accountId: string }) {
  const ctx = testContext({ stateTableName: 'state' });
  const run = target
    ? Object.assign(ctx, { target: { ...target, accountName: 'research', runId: 'run-1', hub: false } })
    : ctx;
  await run.actions.perform(
    { capability: 'reaper', kind: 'stop', target: 'i-1', region: 'us-east-1', reason: 'idle', monthlySavingsUsd: 9 },
    async () => {},
  );
  return run;
}

describe('Function: recordRun', () => {
  it("puts the unit's account on its ledger entries and scopes its stop index in organization mode", async () => {
    // Act
    const ctx = await ranAStop({ accountId: '111111111111' });
    const problems = await recordRun(ctx);
    // Assess
    expect(problems).toEqual([]);
    const entries = await readMonth(ctx.clients.dynamodb(), 'state', '2026-11');
    expect(entries).toEqual([expect.objectContaining({ target: 'i-1', accountId: '111111111111', at: AT })]);
    expect(table.get('stopped#111111111111#us-east-1', 'i-1')).toMatchObject({ state: 'stopped' });
    expect(table.get('stopped#us-east-1', 'i-1')).toBeUndefined();
  });

  it('writes single-account entries and keys as before', async () => {
    const ctx = await ranAStop();
    await recordRun(ctx);
    expect(table.get('ledger#2026-11', `${AT}#reaper#stop#i-1`)).toMatchObject({ target: 'i-1' });
    expect(table.get('ledger#2026-11', `${AT}#reaper#stop#i-1`)).not.toHaveProperty('account');
    expect(table.get('stopped#us-east-1', 'i-1')).toMatchObject({ state: 'stopped' });
  });
});
