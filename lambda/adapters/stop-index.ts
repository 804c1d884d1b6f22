/**
 * What the guard stopped, by region: the evidence `cost-guard restore` goes by. The savings ledger is keyed by month
 * (`ledger#<YYYY-MM>`), so finding "every instance the guard stopped and nobody restored" there would mean reading
 * every month back to the oldest stop; instead each stop that took effect also writes one index item, and restore
 * reads a region's stops with one Query (a page per 1 MB), whatever their age:
 *
 *   pk `stopped#<region>`, sk `<instanceId>`: capability, stoppedAt, budget, reason, state 'stopped' | 'restored',
 *   and `account` when the stop was made in a budget's linked account (restore never starts those itself).
 *
 * A later stop of the same instance overwrites the item; a restore marks it 'restored'. Items expire after ~400 days
 * like the ledger. Only the guard's own runs write here (a tag on an instance is no evidence: anyone can write one).
 */
import { type DynamoDBClient, paginateQuery, type WriteRequest } from '@aws-sdk/client-dynamodb';
import type { RecordedStop } from '../core/restore';
import type { ActionRecord } from '../core/run';
import { batchWriteWithRetry, markRestored, realSleep, S, type Sleep, scopedPartition } from './state-table';

const TTL_DAYS = 400;

/** Capabilities whose stops restore may undo. */
export type StoppingCapability = RecordedStop['capability'];

/** A stop as the index holds it. */
export type GuardStop = RecordedStop;

/** pk `stopped#<region>` (organization mode: `stopped#<account>#<region>`), sk the instance ID. */
export const stopIndexKey = (region: string, instanceId: string, scope?: string) => ({
  pk: scopedPartition('stopped', region, scope),
  sk: instanceId,
});

const ttlOf = (iso: string) => Math.floor(Date.parse(iso) / 1000) + TTL_DAYS * 86_400;

function isGuardStop(r: ActionRecord): r is ActionRecord & { region: string; capability: StoppingCapability } {
  return (
    r.status === 'done' &&
    r.kind === 'stop' &&
    (r.capability === 'budgets' || r.capability === 'reaper') &&
    typeof r.region === 'string'
  );
}

function toItem(r: ActionRecord & { region: string; capability: StoppingCapability }, scope?: string): WriteRequest {
  const key = stopIndexKey(r.region, r.target, scope);
  const budget = r.details?.budget;
  return {
    PutRequest: {
      Item: {
        pk: S(key.pk),
        sk: S(key.sk),
        capability: S(r.capability),
        stoppedAt: S(r.at),
        reason: S(r.reason.slice(0, 500)),
        state: S('stopped'),
        ...(typeof budget === 'string' ? { budget: S(budget) } : {}),
        ...(r.accountId ? { account: S(r.accountId) } : {}),
        ttl: { N: String(ttlOf(r.at)) },
      },
    },
  };
}

/**
 * Writes an index item for every stop that took effect, and marks 'restored' every instance a restore started.
 * Returns how many writes could not be made (the caller logs them; a stop missing here is never restarted by
 * restore, which reports it as "tagged but not in the ledger").
 */
export async function recordStops(
  client: DynamoDBClient,
  tableName: string,
  records: readonly ActionRecord[],
  sleep: Sleep = realSleep,
  /** The account in organization mode (keyScopeOf(ctx)); undefined: single-account keys. */
  scope?: string,
): Promise<{ written: number; unprocessed: number }> {
  const stops = records.filter(isGuardStop);
  const unprocessed = await batchWriteWithRetry(
    client,
    tableName,
    stops.map((r) => toItem(r, scope)),
    sleep,
  );
  let restored = 0;
  for (const r of records) {
    if (r.status !== 'done' || r.capability !== 'restore' || r.kind !== 'start' || !r.region) continue;
    if (await markRestored(client, tableName, stopIndexKey(r.region, r.target, scope), r.at)) restored += 1;
  }
  return { written: stops.length - unprocessed + restored, unprocessed };
}

/** The instances the guard stopped in `region` and nobody restored since, as the index says. */
export async function guardStops(
  client: DynamoDBClient,
  tableName: string,
  region: string,
  /** The account in organization mode (keyScopeOf(ctx)); undefined: single-account keys. */
  scope?: string,
): Promise<GuardStop[]> {
  const stops: GuardStop[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(stopIndexKey(region, '', scope).pk) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const capability = item.capability?.S;
      if (item.state?.S !== 'stopped' || (capability !== 'budgets' && capability !== 'reaper')) continue;
      const budget = item.budget?.S;
      const account = item.account?.S;
      stops.push({
        instanceId: item.sk?.S ?? '',
        region,
        capability,
        stoppedAt: item.stoppedAt?.S ?? '',
        reason: item.reason?.S ?? '',
        ...(budget ? { budget } : {}),
        ...(account ? { account } : {}),
      });
    }
  }
  return stops;
}
