import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  alertKey,
  DEFAULT_LEASE_MS,
  DynamoStateStore,
  MemoryStateStore,
  STATE_TTL_DAYS,
} from '../../../lambda/adapters/state-store';
import { evaluateCondition, type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const KEY = alertKey('ml-platform', '2026-11', 'alert-80');

let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => {
  table.mock.restore();
});

let tokens = 0;
const store = (now = NOW) =>
  new DynamoStateStore(new DynamoDBClient({ region: 'us-east-1' }), 'state', {
    now,
    newToken: () => `token-${++tokens}`,
  });

describe('Function: evaluateCondition (the fake table)', () => {
  it('evaluates the claim condition like DynamoDB', () => {
    const cond = 'attribute_not_exists(pk) OR #status = :failed OR (#status = :pending AND claimedAt < :cutoff)';
    const names = { '#status': 'status' };
    const values = { ':failed': { S: 'failed' }, ':pending': { S: 'pending' }, ':cutoff': { N: '100' } };
    expect(evaluateCondition(cond, undefined, names, values)).toBe(true);
    expect(evaluateCondition(cond, { pk: { S: 'x' }, status: { S: 'sent' } }, names, values)).toBe(false);
    expect(evaluateCondition(cond, { pk: { S: 'x' }, status: { S: 'failed' } }, names, values)).toBe(true);
    const pending = (at: number) => ({ pk: { S: 'x' }, status: { S: 'pending' }, claimedAt: { N: String(at) } });
    expect(evaluateCondition(cond, pending(99), names, values)).toBe(true);
    expect(evaluateCondition(cond, pending(100), names, values)).toBe(false);
  });
});

describe('Class: DynamoStateStore', () => {
  it('keys alert records by budget, period and threshold, with a TTL of about 400 days', async () => {
    // Act
    const result = await store().claim(KEY, { budget: 'ml-platform' });
    // Assess
    expect(result.outcome).toBe('claimed');
    const item = table.get('budget#ml-platform', '2026-11#alert-80');
    expect(item).toMatchObject({ status: 'pending', budget: 'ml-platform', claimedAt: NOW.getTime() });
    expect(item!.ttl).toBe(NOW.getTime() / 1000 + STATE_TTL_DAYS * 86_400);
    expect(table.mock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'state',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('refuses a second claim once the alert is sent, and says so', async () => {
    // Prepare
    const s = store();
    const first = await s.claim(KEY);
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    await s.markSent(KEY, first.token, '1700000000.1');
    // Act
    const second = await store().claim(KEY);
    // Assess
    expect(second).toEqual({ outcome: 'sent', sentAt: NOW.toISOString(), slackTs: '1700000000.1' });
    expect(table.get(KEY.pk, KEY.sk)).toMatchObject({ status: 'sent', slackTs: '1700000000.1' });
  });

  it('lets exactly one of two concurrent runs send', async () => {
    // Prepare: two runs (the schedule and an SNS notification) claim, post and mark at the same moment.
    const posts: string[] = [];
    const runOnce = async (run: string) => {
      const s = store();
      const claim = await s.claim(KEY);
      if (claim.outcome !== 'claimed') return claim.outcome;
      posts.push(run);
      await s.markSent(KEY, claim.token, `ts-${run}`);
      return 'sent-now';
    };
    // Act
    const outcomes = await Promise.all([runOnce('schedule'), runOnce('sns')]);
    // Assess
    expect(posts).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'sent-now')).toHaveLength(1);
    expect(outcomes).toContain('in-flight');
  });

  it('leaves a failed send claimable by the retry, and hands it the stored detail', async () => {
    // Prepare
    const s = store();
    const claim = await s.claim(KEY);
    if (claim.outcome !== 'claimed') throw new Error('expected a claim');
    await s.release(KEY, claim.token, 'Slack answered 500', '{"stops":[]}');
    expect(table.get(KEY.pk, KEY.sk)).toMatchObject({ status: 'failed', lastError: 'Slack answered 500' });
    // Act
    const retry = await store().claim(KEY);
    // Assess
    expect(retry).toMatchObject({ outcome: 'claimed', previousDetail: '{"stops":[]}' });
  });

  it('takes over a pending claim only after the lease expired (a run that died mid-send)', async () => {
    // Prepare
    await store().claim(KEY);
    // Act
    const tooEarly = await store(new Date(NOW.getTime() + DEFAULT_LEASE_MS - 1)).claim(KEY);
    const afterLease = await store(new Date(NOW.getTime() + DEFAULT_LEASE_MS + 1)).claim(KEY);
    // Assess
    expect(tooEarly.outcome).toBe('in-flight');
    expect(afterLease.outcome).toBe('claimed');
  });

  it('does not mark sent with a claim that was taken over', async () => {
    // Prepare
    const stale = await store().claim(KEY);
    if (stale.outcome !== 'claimed') throw new Error('expected a claim');
    await store(new Date(NOW.getTime() + DEFAULT_LEASE_MS + 1)).claim(KEY);
    // Act
    const kept = await store().markSent(KEY, stale.token, 'ts');
    // Assess
    expect(kept).toBe(false);
    expect(table.get(KEY.pk, KEY.sk)!.status).toBe('pending');
  });

  it('starts fresh in a new period', async () => {
    const s = store();
    const nov = await s.claim(KEY);
    if (nov.outcome !== 'claimed') throw new Error('expected a claim');
    await s.markSent(KEY, nov.token);
    expect((await s.claim(alertKey('ml-platform', '2026-12', 'alert-80'))).outcome).toBe('claimed');
  });

  it('passes errors other than a failed condition on', async () => {
    table.mock.on(PutItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(store().claim(KEY)).rejects.toThrow('throttled');
  });
});

describe('Class: MemoryStateStore', () => {
  it('de-duplicates within one run only and says it does not de-duplicate', async () => {
    const s = new MemoryStateStore();
    const claim = await s.claim(KEY);
    if (claim.outcome !== 'claimed') throw new Error('expected a claim');
    await s.markSent(KEY, claim.token);
    expect(s.deduplicated).toBe(false);
    expect((await s.claim(KEY)).outcome).toBe('sent');
    expect((await new MemoryStateStore().claim(KEY)).outcome).toBe('claimed');
  });
});
