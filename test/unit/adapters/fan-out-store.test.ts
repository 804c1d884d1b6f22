import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FAN_OUT_TTL_DAYS, listUnitReports, putUnitReport } from '../../../lambda/adapters/fan-out-store';
import { unitReport } from '../../../lambda/core/organization/unit-report';
import { TEST_NOW } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const client = () => new DynamoDBClient({ region: 'us-east-1' });
const report = (accountId: string, region: string, error?: string) =>
  unitReport(
    { runId: 'exec-1', capability: 'reaper', accountId, accountName: `name-${accountId}`, region },
    { ...(error ? { error } : {}), dryRun: false, at: TEST_NOW.toISOString() },
  );

describe('Function: putUnitReport / listUnitReports (state table)', () => {
  let table: FakeStateTable;
  beforeEach(() => {
    table = fakeStateTable();
  });
  afterEach(() => table.mock.restore());

  it('stores a report under fanout#<runId>, <account>#<region>, expiring in two weeks, and reads the run back', async () => {
    // Act
    await putUnitReport(client(), 'state', report('111111111111', 'us-east-1'), TEST_NOW);
    await putUnitReport(client(), 'state', report('222222222222', 'eu-west-1', 'AccessDenied'), TEST_NOW);
    const found = await listUnitReports(client(), 'state', 'exec-1');
    // Assess
    const item = table.get('fanout#exec-1', '111111111111#us-east-1');
    expect(item).toMatchObject({ accountId: '111111111111', region: 'us-east-1', capability: 'reaper' });
    expect(item?.ttl).toBe(Math.floor(TEST_NOW.getTime() / 1000) + FAN_OUT_TTL_DAYS * 86_400);
    expect(found.map((r) => [r.accountId, r.region, r.ok, r.reason])).toEqual([
      ['111111111111', 'us-east-1', true, undefined],
      ['222222222222', 'eu-west-1', false, 'AccessDenied'],
    ]);
    expect(await listUnitReports(client(), 'state', 'exec-2')).toEqual([]);
  });

  it('keeps one report per unit when the unit is delivered again (the later replaces the earlier)', async () => {
    await putUnitReport(client(), 'state', report('111111111111', 'us-east-1', 'ThrottlingException'), TEST_NOW);
    await putUnitReport(client(), 'state', report('111111111111', 'us-east-1'), TEST_NOW);
    expect((await listUnitReports(client(), 'state', 'exec-1')).map((r) => r.ok)).toEqual([true]);
  });
});

describe('Function: listUnitReports (pages)', () => {
  let ddb: ReturnType<typeof mockClient>;
  beforeAll(() => {
    ddb = mockClient(DynamoDBClient);
  });
  afterAll(() => ddb.restore());

  it('reads every page with a consistent read, and counts an unreadable item as no report', async () => {
    // Prepare
    const item = (r: ReturnType<typeof report>) => ({ report: { S: JSON.stringify(r) } });
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(report('111111111111', 'us-east-1'))], LastEvaluatedKey: { pk: { S: 'x' } } })
      .resolvesOnce({ Items: [item(report('222222222222', 'us-east-1')), { report: { S: '{broken' } }] });
    // Act
    const found = await listUnitReports(client(), 'state', 'exec-1');
    // Assess
    expect(found.map((r) => r.accountId)).toEqual(['111111111111', '222222222222']);
    const calls = ddb.commandCalls(QueryCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input).toMatchObject({
      ConsistentRead: true,
      ExpressionAttributeValues: { ':pk': { S: 'fanout#exec-1' } },
    });
    expect(calls[1]!.args[0].input.ExclusiveStartKey).toEqual({ pk: { S: 'x' } });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});
