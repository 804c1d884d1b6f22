import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import { runMonthlySummary } from '../../../lambda/services/monthly-summary';
import { testContext } from '../../helpers/context';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const ddb = mockClient(DynamoDBClient);
const item = (sk: string, account: string | undefined, usd: number) => ({
  sk: { S: sk },
  capability: { S: 'reaper' },
  kind: { S: 'stop' },
  target: { S: 'i-1' },
  ...(account ? { account: { S: account } } : {}),
  monthlySavingsUsd: { N: String(usd) },
});

describe('Handler: monthly summary by account', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    ddb.reset();
    server = await startSlackServer();
  });
  afterEach(() => server.close());

  it('breaks the savings down by the accounts the ledger names, its own account marked', async () => {
    // Prepare: two units' entries at the same instant on one instance name, and one of the hub's own budget stops.
    ddb.on(QueryCommand).resolves({
      Items: [
        item('2026-10-05T00:00:00.000Z#reaper#stop#i-1#111111111111', '111111111111', 300),
        item('2026-10-05T00:00:00.000Z#reaper#stop#i-1#222222222222', '222222222222', 200),
        item('2026-10-06T00:00:00.000Z#budgets#stop#i-2', undefined, 50),
      ],
    });
    const notifier = new SlackNotifier({ token: 'xoxb-test', channel: '#finops', apiUrl: server.url, retries: 0 });
    const ctx = testContext({
      now: new Date('2026-11-01T09:00:00Z'),
      notifier,
      stateTableName: 'state',
      accountId: '999988887777',
    });
    // Act
    const result = await runMonthlySummary(ctx);
    // Assess
    expect(result.monthlySavingsUsd).toBe(550);
    const text = server
      .posts()
      .map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }))
      .join('\n');
    expect(text).toContain('*Savings by account* (3):');
    const lines = text.split('\n').filter((l) => l.startsWith('• `'));
    expect(lines).toEqual([
      '• `111111111111`: $300.00/month, 1 action(s)',
      '• `222222222222`: $200.00/month, 1 action(s)',
      '• `999988887777` (this account): $50.00/month, 1 action(s)',
    ]);
  });

  it('shows no by-account section for a single-account ledger', async () => {
    ddb.on(QueryCommand).resolves({ Items: [item('2026-10-06T00:00:00.000Z#reaper#stop#i-2', undefined, 50)] });
    const notifier = new SlackNotifier({ token: 'xoxb-test', channel: '#finops', apiUrl: server.url, retries: 0 });
    await runMonthlySummary(testContext({ now: new Date('2026-11-01T09:00:00Z'), notifier, stateTableName: 'state' }));
    expect(JSON.stringify(server.posts())).not.toContain('Savings by account');
  });
});
