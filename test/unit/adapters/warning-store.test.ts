import { DeleteItemCommand, DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { WARNING_TTL_DAYS, WarningStore, warningKey } from '../../../lambda/adapters/warning-store';
import { TEST_NOW } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const REGION = 'eu-west-1';
const at = (minutes: number) => new Date(TEST_NOW.getTime() + minutes * 60_000);
const store = (token: string, now = TEST_NOW) =>
  new WarningStore(new DynamoDBClient({ region: REGION }), 'state', token, now);

describe('Class: WarningStore', () => {
  let table: FakeStateTable;
  beforeEach(() => {
    table = fakeStateTable();
  });
  afterEach(() => table.mock.restore());

  it('records a warning as pending, then delivered with the channel, ts and due time', async () => {
    // Prepare
    const run = store('run-1');
    // Act
    await run.putPending({
      instanceId: 'i-1',
      region: REGION,
      idleSince: TEST_NOW.toISOString(),
      action: 'stop',
      launchTime: at(-600).toISOString(),
      confidence: 'high',
    });
    const pending = await run.list(REGION);
    const marked = await run.markDelivered({
      instanceId: 'i-1',
      region: REGION,
      slackChannel: 'C01',
      slackTs: '1700000000.000200',
      warnedAt: TEST_NOW.toISOString(),
      actionDue: at(60).toISOString(),
    });
    // Assess
    expect(pending.get('i-1')).toEqual({
      instanceId: 'i-1',
      region: REGION,
      status: 'pending',
      idleSince: TEST_NOW.toISOString(),
      action: 'stop',
      launchTime: at(-600).toISOString(),
    });
    expect(marked).toBe(true);
    expect((await run.list(REGION)).get('i-1')).toMatchObject({
      status: 'delivered',
      warnedAt: TEST_NOW.toISOString(),
      slackChannel: 'C01',
      slackTs: '1700000000.000200',
      actionDue: at(60).toISOString(),
    });
    const { pk, sk } = warningKey(REGION, 'i-1');
    expect(table.get(pk, sk)?.ttl).toBe(Math.floor(TEST_NOW.getTime() / 1000) + WARNING_TTL_DAYS * 86_400);
  });

  it("never marks another run's warning delivered, nor a removed one", async () => {
    // Prepare: run 2 replaced run 1's pending warning; a third instance's warning was removed
    await store('run-1').putPending({ instanceId: 'i-1', region: REGION, idleSince: 'x', confidence: 'high' });
    await store('run-2').putPending({ instanceId: 'i-1', region: REGION, idleSince: 'y', confidence: 'high' });
    await store('run-1').putPending({ instanceId: 'i-3', region: REGION, idleSince: 'z', confidence: 'high' });
    await store('run-1').remove(REGION, 'i-3');
    const delivered = (id: string) => ({
      instanceId: id,
      region: REGION,
      slackChannel: 'C01',
      slackTs: '1.1',
      warnedAt: TEST_NOW.toISOString(),
    });
    // Act / Assess
    expect(await store('run-1').markDelivered(delivered('i-1'))).toBe(false);
    expect(await store('run-1').markDelivered(delivered('i-3'))).toBe(false);
    expect((await store('run-1').list(REGION)).get('i-1')?.status).toBe('pending');
    expect((await store('run-1').list(REGION)).has('i-3')).toBe(false);
    expect(table.mock).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: { pk: { S: `warning#${REGION}` }, sk: { S: 'i-3' } },
    });
  });

  it("reads one region's warnings with a Query, never a Scan, and ignores expired ones", async () => {
    // Prepare
    await store('run-1', at(-WARNING_TTL_DAYS * 1440 - 1)).putPending({
      instanceId: 'i-old',
      region: REGION,
      idleSince: 'x',
      confidence: 'high',
    });
    await store('run-1').putPending({ instanceId: 'i-new', region: REGION, idleSince: 'y', confidence: 'low' });
    await store('run-1').putPending({ instanceId: 'i-other', region: 'us-east-1', idleSince: 'z', confidence: 'high' });
    // Act
    const found = await store('run-2').list(REGION);
    // Assess
    expect([...found.keys()]).toEqual(['i-new']);
    expect(table.mock).toHaveReceivedCommandWith(QueryCommand, { KeyConditionExpression: 'pk = :pk' });
    expect(table.mock).not.toHaveReceivedCommand(ScanCommand);
  });
});
