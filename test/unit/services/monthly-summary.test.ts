import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { forwardAlarms } from '../../../lambda/services/alarms';
import { runMonthlySummary } from '../../../lambda/services/monthly-summary';
import { testContext } from '../../helpers/context';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const ddb = mockClient(DynamoDBClient);

describe('Handler: monthly summary', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    ddb.reset();
    server = await startSlackServer();
  });
  afterEach(() => server.close());
  const slack = () =>
    new SlackNotifier({ token: 'xoxb-test', channel: '#finops', apiUrl: server.url, retries: 1, minRetryDelayMs: 5 });

  it("posts last month's savings from the ledger to Slack", async () => {
    // Prepare
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          sk: { S: '2026-10-05T00:00:00.000Z#reaper#stop#i-1' },
          capability: { S: 'reaper' },
          kind: { S: 'stop' },
          target: { S: 'i-1' },
          monthlySavingsUsd: { N: '734.38' },
        },
      ],
    });
    const ctx = testContext({ now: new Date('2026-11-01T09:00:00Z'), notifier: slack(), stateTableName: 'state' });
    // Act
    const result = await runMonthlySummary(ctx);
    // Assess
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pk': { S: 'ledger#2026-10' } },
    });
    expect(result).toMatchObject({ month: '2026-10', monthlySavingsUsd: 734.38, messagesPosted: 1 });
    expect(server.posts()[0]!.text).toContain('2026-10 savings summary: $734.38/month');
  });

  it('posts nothing and says why without a state table', async () => {
    const ctx = testContext({ now: new Date('2026-11-01T09:00:00Z'), notifier: slack() });
    const result = await runMonthlySummary(ctx);
    expect(result.notes[0]).toContain('No state table');
    expect(server.posts()).toHaveLength(0);
  });
});

describe('Handler: alarm to Slack', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    server = await startSlackServer();
  });
  afterEach(() => server.close());

  it('posts each alarm of the SNS event and fails when Slack refuses, so Lambda retries', async () => {
    const notifier = new SlackNotifier({ token: 'xoxb-test', channel: '#finops', apiUrl: server.url, retries: 0 });
    const event = {
      Records: [{ Sns: { Message: JSON.stringify({ AlarmName: 'ReaperErrors', NewStateValue: 'ALARM' }) } }],
    } as never;
    await forwardAlarms(testContext({ notifier }), event);
    expect(server.posts()[0]!.text).toContain('Alarm: ReaperErrors');
    server.script.push({ kind: 'slack-error', error: 'not_in_channel' });
    await expect(forwardAlarms(testContext({ notifier }), event)).rejects.toMatchObject({ code: 'not_in_channel' });
  });
});
