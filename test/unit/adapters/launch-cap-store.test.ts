import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoLaunchCapStore, launchCapKey } from '../../../lambda/adapters/launch-cap-store';
import type { LaunchCapRecord } from '../../../lambda/core/budgets/launch-cap';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const NOW = new Date('2026-11-20T10:00:00Z');
const RECORD: LaunchCapRecord = {
  budget: 'ml-platform',
  status: 'attached',
  period: '2026-11',
  periodEnd: '2026-12-01T00:00:00.000Z',
  policyArn: 'arn:aws:iam::111122223333:policy/ml-cost-guard-launch-cap-ml-platform-0a1b2c3d',
  roles: ['ml-training', 'ml-research'],
  failed: ['ml-research'],
  announced: ['ml-training', 'ml-research'],
  attachedAt: '2026-11-20T10:00:00.000Z',
};

describe('Class: DynamoLaunchCapStore', () => {
  it('writes a record and reads it back as written (consistent read)', async () => {
    // Prepare
    const store = new DynamoLaunchCapStore(new DynamoDBClient({}), 'state');
    // Act
    await store.put(RECORD, NOW);
    const read = await store.get('ml-platform');
    // Assess
    expect(read).toEqual(RECORD);
    expect(table.get(launchCapKey('ml-platform').pk, 'cap')).toMatchObject({ status: 'attached', period: '2026-11' });
    expect(table.mock).toHaveReceivedCommandWith(GetItemCommand, { TableName: 'state', ConsistentRead: true });
  });

  it('reads nothing for a budget without a record, and ignores an item that is not a record', async () => {
    // Prepare
    const store = new DynamoLaunchCapStore(new DynamoDBClient({}), 'state');
    table.items.set(`launchcap#broken\u0000cap`, {
      pk: { S: 'launchcap#broken' },
      sk: { S: 'cap' },
      status: { S: 'odd' },
    });
    // Act + Assess
    await expect(store.get('ml-platform')).resolves.toBeUndefined();
    await expect(store.get('broken')).resolves.toBeUndefined();
  });

  it('replaces the record on each write (one item per budget)', async () => {
    // Prepare
    const store = new DynamoLaunchCapStore(new DynamoDBClient({}), 'state');
    // Act
    await store.put(RECORD, NOW);
    await store.put({ ...RECORD, status: 'lifted', endedBy: 'restore', endedAt: NOW.toISOString() }, NOW);
    // Assess
    expect(await store.get('ml-platform')).toMatchObject({ status: 'lifted', endedBy: 'restore' });
    expect([...table.items.keys()].filter((k) => k.startsWith('launchcap#'))).toHaveLength(1);
  });
});
