import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { alertKey, DynamoStateStore } from '../../../lambda/adapters/state-store';
import { budgetsCapability } from '../../../lambda/services/budgets';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);
const KEY = alertKey('ml-platform', '2026-11', 'alert-80');
const OTHER = 'lambda:req-other';

let server: SlackTestServer;
let table: FakeStateTable;

beforeEach(async () => {
  budgetsMock.reset();
  ec2Mock.reset();
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  table = fakeStateTable();
  server = await startSlackServer();
  // 85% of the limit: the alert-80 threshold is crossed.
  budgetsMock.on(DescribeBudgetsCommand).resolves({
    Budgets: [
      {
        BudgetName: 'ml-platform',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '1000', Unit: 'USD' },
        CalculatedSpend: { ActualSpend: { Amount: '850', Unit: 'USD' } },
        TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
});
afterEach(async () => {
  table.mock.restore();
  await server.close();
});

function context() {
  const ctx = testContext({
    config: { budgets: { items: [{ name: 'ml-platform' }] } },
    notifier: new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 0 }),
    stateTableName: 'state',
  });
  return Object.assign(ctx, { holder: 'cli:ana@laptop:42' });
}

const otherRun = () =>
  new DynamoStateStore(new DynamoDBClient({ region: 'us-east-1' }), 'state', { now: TEST_NOW, holder: OTHER });

describe('Function: budgetsCapability.run (an alert another run holds)', () => {
  it('names who is sending it and since when, and posts nothing', async () => {
    // Prepare: another run claimed the alert a moment ago and is posting it.
    await otherRun().claim(KEY);
    // Act
    const summary = await budgetsCapability.run(context(), { source: 'ml-cost-guard.schedule' });
    // Assess
    expect(server.posts()).toHaveLength(0);
    expect(summary.notes).toContain(
      `ml-platform: the alert-80 alert is being sent by ${OTHER} since ${TEST_NOW.toISOString()}; if that run stopped, the first run after 2026-11-15T12:10:00.000Z sends it`,
    );
    expect(summary.notes.join('\n')).not.toContain('another run is sending');
  });

  it("writes the run's holder into the claims it makes", async () => {
    // Act
    await budgetsCapability.run(context(), { source: 'ml-cost-guard.schedule' });
    // Assess
    expect(server.posts()).toHaveLength(1);
    expect(table.get(KEY.pk, KEY.sk)).toMatchObject({ status: 'sent', claimedBy: 'cli:ana@laptop:42' });
  });
});
