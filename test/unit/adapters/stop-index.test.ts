import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { guardStops, recordStops } from '../../../lambda/adapters/stop-index';
import type { ActionRecord } from '../../../lambda/core/run';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const AT = '2026-11-15T12:00:00.000Z';
let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const client = () => new DynamoDBClient({ region: 'us-east-1' });
const rec = (over: Partial<ActionRecord>): ActionRecord => ({
  capability: 'budgets',
  kind: 'stop',
  target: 'i-1',
  region: 'us-east-1',
  reason: 'budget ml at 97%',
  status: 'done',
  at: AT,
  ...over,
});

describe('Function: recordStops', () => {
  it('indexes the stops that took effect, by region, with the budget and the capability', async () => {
    // Act
    await recordStops(client(), 'state', [
      rec({ target: 'i-1', details: { budget: 'ml' } }),
      rec({ target: 'i-2', capability: 'reaper', region: 'eu-west-1' }),
      rec({ target: 'i-3', status: 'failed' }),
      rec({ target: 'i-4', status: 'dry-run' }),
      rec({ target: 'i-5', kind: 'terminate', capability: 'reaper' }),
      rec({ target: 'i-6', kind: 'tag' }),
    ]);
    // Assess
    expect(table.get('stopped#us-east-1', 'i-1')).toMatchObject({
      capability: 'budgets',
      budget: 'ml',
      stoppedAt: AT,
      state: 'stopped',
    });
    expect(table.get('stopped#eu-west-1', 'i-2')).toMatchObject({ capability: 'reaper', state: 'stopped' });
    expect([...table.items.keys()].filter((k) => k.startsWith('stopped#'))).toHaveLength(2);
  });

  it('marks an instance restored when a restore started it, and leaves unknown instances alone', async () => {
    // Prepare
    await recordStops(client(), 'state', [rec({ target: 'i-1' }), rec({ target: 'i-2' })]);
    // Act
    await recordStops(client(), 'state', [
      rec({ capability: 'restore', kind: 'start', target: 'i-1', at: '2026-11-16T09:00:00.000Z' }),
      rec({ capability: 'restore', kind: 'start', target: 'i-9' }),
    ]);
    // Assess
    expect(table.get('stopped#us-east-1', 'i-1')).toMatchObject({
      state: 'restored',
      restoredAt: '2026-11-16T09:00:00.000Z',
    });
    expect(table.get('stopped#us-east-1', 'i-9')).toBeUndefined();
    expect((await guardStops(client(), 'state', 'us-east-1')).map((s) => s.instanceId)).toEqual(['i-2']);
  });

  it('writes 25 items a batch', async () => {
    // Act
    await recordStops(
      client(),
      'state',
      Array.from({ length: 60 }, (_, i) => rec({ target: `i-${i}` })),
    );
    // Assess
    expect(table.mock).toHaveReceivedCommandTimes(BatchWriteItemCommand, 3);
  });
});

describe('Function: guardStops', () => {
  it("keeps the account of a stop made in a budget's linked account, and none for the guard's own", async () => {
    // Prepare
    await recordStops(client(), 'state', [
      rec({ target: 'i-1', accountId: '111111111111', details: { budget: 'org' } }),
      rec({ target: 'i-2' }),
    ]);
    // Act
    const stops = await guardStops(client(), 'state', 'us-east-1');
    // Assess
    expect(table.get('stopped#us-east-1', 'i-1')).toMatchObject({ account: '111111111111', budget: 'org' });
    expect(stops.map((s) => [s.instanceId, s.account])).toEqual([
      ['i-1', '111111111111'],
      ['i-2', undefined],
    ]);
    expect(Object.hasOwn(stops[1]!, 'account')).toBe(false);
  });

  it('lists what the guard stopped in a region and nobody restored', async () => {
    // Prepare
    await recordStops(client(), 'state', [
      rec({ target: 'i-1', details: { budget: 'ml' } }),
      rec({ target: 'i-2', capability: 'reaper' }),
      rec({ target: 'i-3', region: 'eu-west-1' }),
    ]);
    // Act
    const stops = await guardStops(client(), 'state', 'us-east-1');
    // Assess
    expect(stops).toEqual([
      {
        instanceId: 'i-1',
        region: 'us-east-1',
        capability: 'budgets',
        stoppedAt: AT,
        reason: 'budget ml at 97%',
        budget: 'ml',
      },
      { instanceId: 'i-2', region: 'us-east-1', capability: 'reaper', stoppedAt: AT, reason: 'budget ml at 97%' },
    ]);
  });
});
