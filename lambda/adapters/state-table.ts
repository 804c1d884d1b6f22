/**
 * The two writes the state table's record adapters share, in one place: writing many items with BatchWriteItem
 * (the savings ledger and the stop index, after a run) and marking a record of what the guard did `restored` (the
 * stop index and the SageMaker endpoint index, after `cost-guard restore`).
 *
 * Calls: BatchWriteItem (a function, after a run); UpdateItem (restore, with the user's credentials).
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { errorCode } from '../shared/errors';

/** DynamoDB's limit of items per BatchWriteItem. */
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 5;

export const S = (s: string): AttributeValue => ({ S: s });

/**
 * The partition key of a per-region record kind (`warning`, `keep`, `stopped`…): `<kind>#<region>`, or in
 * organization mode `<kind>#<account>#<region>` (the unit's account, keyScopeOf(ctx)), so every account keeps its own
 * records. Without a scope the key is what it always was: a single-account deployment's items stay where they are.
 */
export const scopedPartition = (kind: string, region: string, scope?: string): string =>
  scope ? `${kind}#${scope}#${region}` : `${kind}#${region}`;

export type Sleep = (ms: number) => Promise<void>;
export const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes `requests` in batches of 25, retrying the items DynamoDB left unprocessed a few times with backoff. Returns
 * how many items could not be written.
 */
export async function batchWriteWithRetry(
  client: DynamoDBClient,
  tableName: string,
  requests: readonly WriteRequest[],
  sleep: Sleep = realSleep,
): Promise<number> {
  let unprocessed = 0;
  for (let i = 0; i < requests.length; i += BATCH) {
    let pending: WriteRequest[] = requests.slice(i, i + BATCH);
    for (let attempt = 0; pending.length > 0 && attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(100 * 2 ** attempt);
      const res = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName] ?? [];
    }
    unprocessed += pending.length;
  }
  return unprocessed;
}

/**
 * Marks an existing record `restored` (state attribute `state`, with `restoredAt`). False when there is no such
 * record: nothing is written then.
 */
export async function markRestored(
  client: DynamoDBClient,
  tableName: string,
  key: { readonly pk: string; readonly sk: string },
  at: string,
): Promise<boolean> {
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: S(key.pk), sk: S(key.sk) },
        UpdateExpression: 'SET #state = :restored, restoredAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':restored': S('restored'), ':at': S(at) },
      }),
    );
    return true;
  } catch (error) {
    if (errorCode(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
