import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  alertKey,
  DEFAULT_LEASE_MS,
  DynamoStateStore,
  describeClaimConflict,
  leaseName,
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

describe('Function: evaluateCondition (the fake table, reservation condition)', () => {
  it('evaluates NOT contains on a string set', () => {
    const cond = '(attribute_not_exists(#count) OR #count < :limit) AND NOT contains(#targets, :t)';
    const names = { '#count': 'count', '#targets': 'targets' };
    const values = { ':limit': { N: '2' }, ':t': { S: 'i-1' } };
    const item = (count: number, targets: string[]) => ({
      pk: { S: 'x' },
      count: { N: String(count) },
      targets: { SS: targets },
    });
    expect(evaluateCondition(cond, undefined, names, values)).toBe(true);
    expect(evaluateCondition(cond, item(1, ['i-2']), names, values)).toBe(true);
    expect(evaluateCondition(cond, item(1, ['i-1']), names, values)).toBe(false);
    expect(evaluateCondition(cond, item(2, ['i-2', 'i-3']), names, values)).toBe(false);
  });
});

describe('Method: DynamoStateStore.reserveAction', () => {
  const reserve = (target: string, limit = 2, period = '2026-11-15T12:00:00.000Z') =>
    store().reserveAction({ capability: 'reaper', scope: 'us-east-1', period, limit, target, now: NOW });

  it('reserves up to the limit in a period, then refuses', async () => {
    // Act
    const results = [await reserve('i-1'), await reserve('i-2'), await reserve('i-3')];
    // Assess
    expect(results).toEqual([true, true, false]);
    const item = table.items.get('limit#reaper#us-east-1\u00002026-11-15T12:00:00.000Z');
    expect(item?.count).toEqual({ N: '2' });
    expect(item?.targets?.SS?.sort()).toEqual(['i-1', 'i-2']);
    expect(Number(item?.ttl?.N)).toBe(Math.floor(NOW.getTime() / 1000) + STATE_TTL_DAYS * 86_400);
  });

  it('says yes again to a target already reserved in the period (a retry), without counting it twice', async () => {
    // Prepare
    await reserve('i-1');
    await reserve('i-2');
    // Act
    const again = await reserve('i-1');
    // Assess
    expect(again).toBe(true);
    expect(table.get('limit#reaper#us-east-1', '2026-11-15T12:00:00.000Z')?.count).toBe(2);
  });

  it('starts a fresh count in the next period', async () => {
    // Prepare
    await reserve('i-1', 1);
    // Act
    const next = await reserve('i-2', 1, '2026-11-15T13:00:00.000Z');
    // Assess
    expect(await reserve('i-2', 1)).toBe(false);
    expect(next).toBe(true);
  });

  it('lets at most the limit through when many runs race for the same period', async () => {
    // Act
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reserve(`i-${i}`, 3)));
    // Assess
    expect(results.filter(Boolean)).toHaveLength(3);
  });

  it('sends one conditional UpdateItem with reserved words named', async () => {
    // Act
    await reserve('i-1');
    // Assess
    expect(table.mock).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    const input = table.mock.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toContain('#count < :limit');
    expect(input.ExpressionAttributeNames).toMatchObject({ '#count': 'count', '#ttl': 'ttl' });
  });

  it('passes other DynamoDB errors on', async () => {
    // Prepare
    table.mock.on(UpdateItemCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    // Act / Assess
    await expect(reserve('i-1')).rejects.toThrow('throttled');
  });
});

describe('Method: DynamoStateStore.reserveActions', () => {
  const PERIOD = '2026-11-15T12:00:00.000Z';
  const reserveMany = (targets: string[], limit = 3) =>
    store().reserveActions({ capability: 'budgets', scope: 'stops', period: PERIOD, limit, targets, now: NOW });
  const counter = () => table.get('limit#budgets#stops', PERIOD);

  it('grants the first targets up to the limit, in the order asked, with one read and one conditional write', async () => {
    // Act
    const granted = await reserveMany(['i-5', 'i-1', 'i-3', 'i-2', 'i-4']);
    // Assess
    expect(granted).toEqual(['i-5', 'i-1', 'i-3']);
    expect(counter()?.count).toBe(3);
    expect(table.mock).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expect(table.mock).toHaveReceivedCommandTimes(UpdateItemCommand, 1);
    expect(table.mock).toHaveReceivedCommandWith(GetItemCommand, { ConsistentRead: true });
  });

  it('grants targets reserved earlier in the period again without counting them twice, and no new ones past the limit', async () => {
    // Prepare
    await reserveMany(['i-1', 'i-2']);
    // Act
    const retry = await reserveMany(['i-1', 'i-2', 'i-3', 'i-4']);
    const full = await reserveMany(['i-5']);
    // Assess
    expect(retry).toEqual(['i-1', 'i-2', 'i-3']);
    expect(full).toEqual([]);
    expect(counter()?.count).toBe(3);
  });

  it('shares the counter of reserveAction', async () => {
    // Prepare
    await store().reserveAction({
      capability: 'budgets',
      scope: 'stops',
      period: PERIOD,
      limit: 3,
      target: 'i-1',
      now: NOW,
    });
    // Act
    const granted = await reserveMany(['i-1', 'i-2', 'i-3', 'i-4']);
    // Assess
    expect(granted).toEqual(['i-1', 'i-2', 'i-3']);
    expect(counter()?.count).toBe(3);
  });

  it('lets at most the limit through when runs race for the same period', async () => {
    // Act
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, r) => reserveMany([`a-${r}`, `b-${r}`, `c-${r}`], 5)),
    );
    // Assess
    const granted = results.flat();
    expect(granted.length).toBeLessThanOrEqual(5);
    expect(granted.length).toBe(counter()?.count);
    expect(new Set(granted).size).toBe(granted.length);
  });

  it('writes nothing when nothing new is granted', async () => {
    // Act
    const granted = await reserveMany([], 3);
    // Assess
    expect(granted).toEqual([]);
    expect(table.mock).toHaveReceivedCommandTimes(UpdateItemCommand, 0);
  });
});

describe('Method: DynamoStateStore.acquireLease / releaseLease', () => {
  const name = leaseName('reaper', 'us-east-1');
  const at = (iso: string) => new Date(iso);

  it('gives the lease to one holder and tells the other who has it and until when', async () => {
    // Act
    const cli = await store().acquireLease({ name, holder: 'cli:ana@laptop:42', now: NOW, ttlMs: 15 * 60_000 });
    const lambda = await store().acquireLease({
      name,
      holder: 'lambda:req-1',
      now: at('2026-11-15T12:05:00Z'),
      ttlMs: 60_000,
    });
    // Assess
    expect(cli).toEqual({ acquired: true });
    expect(lambda).toEqual({ acquired: false, holder: 'cli:ana@laptop:42', expiresAt: '2026-11-15T12:15:00.000Z' });
    expect(table.get('lease#reaper#us-east-1', 'lease')?.holder).toBe('cli:ana@laptop:42');
  });

  it('lets the same holder renew, and anyone take an expired lease', async () => {
    // Prepare
    await store().acquireLease({ name, holder: 'lambda:req-1', now: NOW, ttlMs: 60_000 });
    // Act
    const renewed = await store().acquireLease({ name, holder: 'lambda:req-1', now: NOW, ttlMs: 60_000 });
    const takeover = await store().acquireLease({
      name,
      holder: 'cli:bo@host:7',
      now: at('2026-11-15T12:01:00.001Z'),
      ttlMs: 60_000,
    });
    // Assess
    expect(renewed.acquired).toBe(true);
    expect(takeover.acquired).toBe(true);
    expect(table.get('lease#reaper#us-east-1', 'lease')?.holder).toBe('cli:bo@host:7');
  });

  it('frees the lease on release, but not a lease someone else holds', async () => {
    // Prepare
    await store().acquireLease({ name, holder: 'lambda:req-1', now: NOW, ttlMs: 60_000 });
    // Act
    await store().releaseLease(name, 'cli:someone-else:1');
    const stillHeld = await store().acquireLease({ name, holder: 'cli:bo@host:7', now: NOW, ttlMs: 60_000 });
    await store().releaseLease(name, 'lambda:req-1');
    const afterRelease = await store().acquireLease({ name, holder: 'cli:bo@host:7', now: NOW, ttlMs: 60_000 });
    // Assess
    expect(stillHeld.acquired).toBe(false);
    expect(afterRelease.acquired).toBe(true);
  });

  it('gives exactly one of two racing holders the lease', async () => {
    // Act
    const [a, b] = await Promise.all([
      store().acquireLease({ name, holder: 'lambda:req-1', now: NOW, ttlMs: 60_000 }),
      store().acquireLease({ name, holder: 'cli:bo@host:7', now: NOW, ttlMs: 60_000 }),
    ]);
    // Assess
    expect([a.acquired, b.acquired].filter(Boolean)).toHaveLength(1);
  });
});

describe('Class: MemoryStateStore (limits and leases)', () => {
  it('counts reservations per period and treats a repeated target as already reserved', async () => {
    // Prepare
    const s = new MemoryStateStore();
    const r = (target: string) =>
      s.reserveAction({ capability: 'budgets', scope: 'us-east-1', period: 'p', limit: 1, target, now: NOW });
    // Act / Assess
    expect([await r('i-1'), await r('i-1'), await r('i-2')]).toEqual([true, true, false]);
  });

  it('grants several targets against the same per-period limit, the ones reserved before again', async () => {
    // Prepare
    const s = new MemoryStateStore();
    const r = (targets: string[]) =>
      s.reserveActions({ capability: 'budgets', scope: 'stops', period: 'p', limit: 3, targets, now: NOW });
    // Act / Assess
    expect(await r(['i-1', 'i-2'])).toEqual(['i-1', 'i-2']);
    expect(await r(['i-2', 'i-3', 'i-4'])).toEqual(['i-2', 'i-3']);
    expect(await r(['i-4'])).toEqual([]);
  });

  it('holds a lease for one holder until it expires or is released', async () => {
    // Prepare
    const s = new MemoryStateStore();
    await s.acquireLease({ name: 'reaper#us-east-1', holder: 'a', now: NOW, ttlMs: 1000 });
    // Act
    const other = await s.acquireLease({ name: 'reaper#us-east-1', holder: 'b', now: NOW, ttlMs: 1000 });
    await s.releaseLease('reaper#us-east-1', 'a');
    const afterRelease = await s.acquireLease({ name: 'reaper#us-east-1', holder: 'b', now: NOW, ttlMs: 1000 });
    // Assess
    expect(other).toEqual({ acquired: false, holder: 'a', expiresAt: '2026-11-15T12:00:01.000Z' });
    expect(afterRelease.acquired).toBe(true);
  });
});

describe('Class: DynamoStateStore (a refused claim says what the record says)', () => {
  const HOLDER = 'lambda:req-1';
  const LEASE_END = new Date(NOW.getTime() + DEFAULT_LEASE_MS).toISOString();
  const holderStore = (holder: string, now = NOW) =>
    new DynamoStateStore(new DynamoDBClient({ region: 'us-east-1' }), 'state', {
      now,
      holder,
      newToken: () => `token-${++tokens}`,
    });

  /** A DynamoDB-compatible store that refuses a claim without the old item (so the store must read it). */
  function refuseWithoutOldItem(): void {
    table.mock.on(PutItemCommand).callsFake(async (input: PutItemCommand['input']) => {
      const item = input.Item!;
      const key = `${item.pk!.S!}\u0000${item.sk!.S!}`;
      const old = table.items.get(key);
      if (
        !evaluateCondition(
          input.ConditionExpression!,
          old,
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        )
      ) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      table.items.set(key, { ...item });
      return input.ReturnValues === 'ALL_OLD' && old ? { Attributes: old } : {};
    });
  }

  it('records who claims, and tells a second run who is sending, since when and until when the claim holds', async () => {
    // Prepare
    await holderStore(HOLDER).claim(KEY);
    // Act
    const second = await holderStore('cli:ana@laptop:42', new Date(NOW.getTime() + 60_000)).claim(KEY);
    // Assess
    expect(table.get(KEY.pk, KEY.sk)).toMatchObject({ status: 'pending', claimedBy: HOLDER });
    expect(second).toEqual({
      outcome: 'in-flight',
      state: 'sending',
      holder: HOLDER,
      claimedAt: NOW.toISOString(),
      leaseEndsAt: LEASE_END,
    });
    if (second.outcome !== 'in-flight') throw new Error('expected in-flight');
    expect(describeClaimConflict(second)).toBe(
      `is being sent by ${HOLDER} since ${NOW.toISOString()}; if that run stopped, the first run after ${LEASE_END} sends it`,
    );
  });

  it('says a sent alert was sent, when and as which Slack message', async () => {
    // Prepare
    const first = await holderStore(HOLDER).claim(KEY);
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    await holderStore(HOLDER).markSent(KEY, first.token, '1700000000.1');
    // Act
    const second = await holderStore('cli:ana@laptop:42').claim(KEY);
    // Assess
    if (second.outcome !== 'sent') throw new Error(`expected sent, got ${second.outcome}`);
    expect(describeClaimConflict(second)).toBe(`was already sent at ${NOW.toISOString()} (Slack message 1700000000.1)`);
  });

  it('reads the record when the refusal carries no old item, so a sent alert is not reported as being sent', async () => {
    // Prepare
    const first = await holderStore(HOLDER).claim(KEY);
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    await holderStore(HOLDER).markSent(KEY, first.token, 'ts-1');
    refuseWithoutOldItem();
    // Act
    const second = await holderStore('cli:ana@laptop:42').claim(KEY);
    // Assess
    expect(second).toEqual({ outcome: 'sent', sentAt: NOW.toISOString(), slackTs: 'ts-1' });
    expect(table.mock).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: 'state',
      Key: { pk: { S: KEY.pk }, sk: { S: KEY.sk } },
      ConsistentRead: true,
    });
  });

  it('claims again when the record read after a refusal was released as failed in between', async () => {
    // Prepare: the holder's send fails and is released between the refused write and the read.
    const first = await holderStore(HOLDER).claim(KEY);
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    refuseWithoutOldItem();
    table.mock.on(GetItemCommand).callsFake(async () => {
      await holderStore(HOLDER).release(KEY, first.token, 'Slack answered 500');
      return { Item: { ...table.items.get(`${KEY.pk}\u0000${KEY.sk}`)! } };
    });
    // Act
    const second = await holderStore('cli:ana@laptop:42').claim(KEY);
    // Assess
    expect(second.outcome).toBe('claimed');
    expect(table.get(KEY.pk, KEY.sk)).toMatchObject({ status: 'pending', claimedBy: 'cli:ana@laptop:42' });
  });

  it('says a failed attempt whose claim is still held is failed, with its error, not "being sent"', async () => {
    // Prepare: a store that also refuses the retry of a failed record (the claim is held).
    const first = await holderStore(HOLDER).claim(KEY);
    if (first.outcome !== 'claimed') throw new Error('expected a claim');
    await holderStore(HOLDER).release(KEY, first.token, 'Slack answered 500');
    table.mock.on(PutItemCommand).callsFake(async () => {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: { ...table.items.get(`${KEY.pk}\u0000${KEY.sk}`)! },
      });
    });
    // Act
    const second = await holderStore('cli:ana@laptop:42').claim(KEY);
    // Assess
    expect(second).toEqual({
      outcome: 'in-flight',
      state: 'failed',
      holder: HOLDER,
      claimedAt: NOW.toISOString(),
      leaseEndsAt: LEASE_END,
      lastError: 'Slack answered 500',
    });
    if (second.outcome !== 'in-flight') throw new Error('expected in-flight');
    expect(describeClaimConflict(second)).toBe(
      `was not sent: the last attempt by ${HOLDER} failed (Slack answered 500) and its claim is still held; the first run after ${LEASE_END} retries it`,
    );
  });

  it('says it could not tell when the record cannot be read after two refusals', async () => {
    // Prepare
    await holderStore(HOLDER).claim(KEY);
    refuseWithoutOldItem();
    table.mock.on(GetItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    // Act
    const second = await holderStore('cli:ana@laptop:42').claim(KEY);
    // Assess
    expect(second).toEqual({ outcome: 'in-flight', state: 'unknown' });
    expect(table.mock).toHaveReceivedCommandTimes(PutItemCommand, 3);
    if (second.outcome !== 'in-flight') throw new Error('expected in-flight');
    expect(describeClaimConflict(second)).toContain('could not be read');
  });
});
