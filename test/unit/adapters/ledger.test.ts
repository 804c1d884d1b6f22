import { BatchWriteItemCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { readMonth, recordActions } from '../../../lambda/adapters/ledger';
import type { ActionRecord } from '../../../lambda/shared/actions';
import { fakeStateTable } from '../../helpers/fake-state-table';

const ddb = mockClient(DynamoDBClient);
const record = (target: string, status: ActionRecord['status'], usd?: number): ActionRecord => ({
  capability: 'reaper',
  kind: 'stop',
  target,
  region: 'us-east-1',
  reason: 'idle',
  status,
  at: '2026-11-15T12:00:00.000Z',
  ...(usd !== undefined ? { monthlySavingsUsd: usd } : {}),
});

describe('Function: recordActions', () => {
  beforeEach(() => ddb.reset());

  it('writes only actions that took effect, keyed by month, with a TTL', async () => {
    // Prepare
    ddb.on(BatchWriteItemCommand).resolves({});
    // Act
    const result = await recordActions(new DynamoDBClient({}), 'state', [
      record('i-1', 'done', 100),
      record('i-2', 'dry-run', 50),
      record('i-3', 'failed', 20),
    ]);
    // Assess
    expect(result).toEqual({ written: 1, unprocessed: 0 });
    const items = ddb.commandCalls(BatchWriteItemCommand)[0]!.args[0].input.RequestItems!.state!;
    expect(items).toHaveLength(1);
    expect(items[0]!.PutRequest!.Item).toMatchObject({
      pk: { S: 'ledger#2026-11' },
      sk: { S: '2026-11-15T12:00:00.000Z#reaper#stop#i-1' },
      monthlySavingsUsd: { N: '100' },
      ttl: { N: String(Date.parse('2026-11-15T12:00:00.000Z') / 1000 + 400 * 86400) },
    });
  });

  it('writes in batches of 25 and retries unprocessed items', async () => {
    // Prepare: the first batch comes back with one unprocessed item once
    ddb
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { state: [{ PutRequest: { Item: { pk: { S: 'x' } } } }] } })
      .resolves({});
    const records = Array.from({ length: 30 }, (_, i) => record(`i-${i}`, 'done', 1));
    // Act
    const result = await recordActions(new DynamoDBClient({}), 'state', records, async () => {});
    // Assess
    expect(result).toEqual({ written: 30, unprocessed: 0 });
    const calls = ddb.commandCalls(BatchWriteItemCommand).map((c) => c.args[0].input.RequestItems!.state!.length);
    expect(calls).toEqual([25, 1, 5]);
  });

  it('reports items still unprocessed after the retries', async () => {
    ddb.on(BatchWriteItemCommand).resolves({ UnprocessedItems: { state: [{ PutRequest: { Item: {} } }] } });
    const result = await recordActions(new DynamoDBClient({}), 'state', [record('i-1', 'done', 1)], async () => {});
    expect(result).toEqual({ written: 0, unprocessed: 1 });
  });
});

describe('Function: recordActions by account', () => {
  it("keys and marks each entry with its account (the record's own, else the run's), and single-account entries as before", async () => {
    // Prepare: a real-ish table, so same-instant entries of two accounts must not overwrite each other.
    const table = fakeStateTable();
    try {
      const client = new DynamoDBClient({});
      const at = '2026-11-15T12:00:00.000Z';
      const bucketPut = (accountId?: string): ActionRecord => ({
        capability: 'lifecycle',
        kind: 'lifecycle-put',
        target: 'ml-artifacts',
        reason: 'tiering',
        status: 'done',
        at,
        monthlySavingsUsd: 10,
        ...(accountId ? { accountId } : {}),
      });
      // Act: two units of one run act on a same-named target at the same instant; a budget's linked stop; one single.
      await recordActions(client, 'state', [bucketPut()], async () => {}, '111111111111');
      await recordActions(client, 'state', [bucketPut()], async () => {}, '222222222222');
      await recordActions(client, 'state', [{ ...record('i-9', 'done', 5), accountId: '333333333333' }]);
      await recordActions(client, 'state', [record('i-1', 'done', 7)]);
      const entries = await readMonth(client, 'state', '2026-11');
      // Assess
      expect(table.get('ledger#2026-11', `${at}#lifecycle#lifecycle-put#ml-artifacts#111111111111`)).toMatchObject({
        account: '111111111111',
      });
      expect(table.get('ledger#2026-11', `${at}#reaper#stop#i-1`)).toBeDefined();
      expect(table.get('ledger#2026-11', `${at}#reaper#stop#i-1`)).not.toHaveProperty('account');
      expect(entries.map((e) => [e.target, e.accountId, e.at]).sort()).toEqual([
        ['i-1', undefined, at],
        ['i-9', '333333333333', at],
        ['ml-artifacts', '111111111111', at],
        ['ml-artifacts', '222222222222', at],
      ]);
    } finally {
      table.mock.restore();
    }
  });
});

describe('Function: readMonth', () => {
  beforeEach(() => ddb.reset());

  it('pages through the month and maps items back to entries', async () => {
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          {
            pk: { S: 'ledger#2026-10' },
            sk: { S: '2026-10-02T00:00:00.000Z#reaper#stop#i-1' },
            capability: { S: 'reaper' },
            kind: { S: 'stop' },
            target: { S: 'i-1' },
            reason: { S: 'idle' },
            monthlySavingsUsd: { N: '734.38' },
          },
        ],
        LastEvaluatedKey: { pk: { S: 'ledger#2026-10' }, sk: { S: 'a' } },
      })
      .resolvesOnce({
        Items: [
          {
            sk: { S: '2026-10-03T00:00:00.000Z#lifecycle#lifecycle-put#b' },
            capability: { S: 'lifecycle' },
            kind: { S: 'lifecycle-put' },
            target: { S: 'b' },
          },
        ],
      });
    const entries = await readMonth(new DynamoDBClient({}), 'state', '2026-10');
    expect(entries).toEqual([
      {
        at: '2026-10-02T00:00:00.000Z',
        capability: 'reaper',
        kind: 'stop',
        target: 'i-1',
        reason: 'idle',
        monthlySavingsUsd: 734.38,
      },
      { at: '2026-10-03T00:00:00.000Z', capability: 'lifecycle', kind: 'lifecycle-put', target: 'b', reason: '' },
    ]);
    expect(ddb).toHaveReceivedNthCommandWith(2, QueryCommand, {
      ExclusiveStartKey: { pk: { S: 'ledger#2026-10' }, sk: { S: 'a' } },
    });
  });
});
