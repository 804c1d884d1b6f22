/**
 * What the guard stopped, by region: the evidence `cost-guard restore` goes by. The savings ledger is keyed by month
 * (`ledger#<YYYY-MM>`), so finding "every instance the guard stopped and nobody restored" there would mean reading
 * every month back to the oldest stop; instead each stop that took effect also writes one index item, and restore
 * reads a region's stops with one Query (a page per 1 MB), whatever their age:
 *
 *   pk `stopped#<region>`, sk `<instanceId>`: capability, stoppedAt, budget, reason, state 'stopped' | 'restored'.
 *
 * A later stop of the same instance overwrites the item; a restore marks it 'restored'. Items expire after ~400 days
 * like the ledger. Only the guard's own runs write here (a tag on an instance is no evidence: anyone can write one).
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  paginateQuery,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { RecordedStop } from '../core/restore';
import type { ActionRecord } from '../core/run';
import { errorCode } from '../shared/errors';

const TTL_DAYS = 400;
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 5;

/** Capabilities whose stops restore may undo. */
export type StoppingCapability = RecordedStop['capability'];

/** A stop as the index holds it. */
export type GuardStop = RecordedStop;

export const stopIndexKey = (region: string, instanceId: string) => ({ pk: `stopped#${region}`, sk: instanceId });

const S = (s: string): AttributeValue => ({ S: s });
const ttlOf = (iso: string) => Math.floor(Date.parse(iso) / 1000) + TTL_DAYS * 86_400;

function isGuardStop(r: ActionRecord): r is ActionRecord & { region: string; capability: StoppingCapability } {
  return (
    r.status === 'done' &&
    r.kind === 'stop' &&
    (r.capability === 'budgets' || r.capability === 'reaper') &&
    typeof r.region === 'string'
  );
}

function toItem(r: ActionRecord & { region: string; capability: StoppingCapability }): WriteRequest {
  const key = stopIndexKey(r.region, r.target);
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
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ written: number; unprocessed: number }> {
  const stops = records.filter(isGuardStop);
  let unprocessed = 0;
  for (let i = 0; i < stops.length; i += BATCH) {
    let pending: WriteRequest[] = stops.slice(i, i + BATCH).map(toItem);
    for (let attempt = 0; pending.length > 0 && attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(100 * 2 ** attempt);
      const res = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName] ?? [];
    }
    unprocessed += pending.length;
  }
  let restored = 0;
  for (const r of records) {
    if (r.status !== 'done' || r.capability !== 'restore' || r.kind !== 'start' || !r.region) continue;
    const key = stopIndexKey(r.region, r.target);
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: S(key.pk), sk: S(key.sk) },
          UpdateExpression: 'SET #state = :restored, restoredAt = :at',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':restored': S('restored'), ':at': S(r.at) },
        }),
      );
      restored += 1;
    } catch (error) {
      if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
    }
  }
  return { written: stops.length - unprocessed + restored, unprocessed };
}

/** The instances the guard stopped in `region` and nobody restored since, as the index says. */
export async function guardStops(client: DynamoDBClient, tableName: string, region: string): Promise<GuardStop[]> {
  const stops: GuardStop[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(`stopped#${region}`) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const capability = item.capability?.S;
      if (item.state?.S !== 'stopped' || (capability !== 'budgets' && capability !== 'reaper')) continue;
      const budget = item.budget?.S;
      stops.push({
        instanceId: item.sk?.S ?? '',
        region,
        capability,
        stoppedAt: item.stoppedAt?.S ?? '',
        reason: item.reason?.S ?? '',
        ...(budget ? { budget } : {}),
      });
    }
  }
  return stops;
}
