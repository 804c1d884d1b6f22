/**
 * The savings ledger in the state table: one item per action that took effect, so the monthly Slack summary (and
 * anyone with table access) can say what each capability did and saved. Items expire after ~400 days (TTL).
 *
 * Keys: pk = `ledger#<YYYY-MM>`, sk = `<ISO time>#<capability>#<kind>#<target>`.
 */
import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { ActionRecord, LedgerEntry } from '../core/run';

const TTL_DAYS = 400;
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 5;

export type { LedgerEntry } from '../core/run';

export const ledgerMonth = (iso: string): string => iso.slice(0, 7);

function toItem(r: ActionRecord): WriteRequest {
  const ttl = Math.floor(Date.parse(r.at) / 1000) + TTL_DAYS * 86_400;
  return {
    PutRequest: {
      Item: {
        pk: { S: `ledger#${ledgerMonth(r.at)}` },
        sk: { S: `${r.at}#${r.capability}#${r.kind}#${r.target}` },
        capability: { S: r.capability },
        kind: { S: r.kind },
        target: { S: r.target },
        reason: { S: r.reason.slice(0, 500) },
        ...(r.region ? { region: { S: r.region } } : {}),
        ...(r.monthlySavingsUsd !== undefined ? { monthlySavingsUsd: { N: String(r.monthlySavingsUsd) } } : {}),
        ttl: { N: String(ttl) },
      },
    },
  };
}

/**
 * Writes the actions that took effect (status `done`; dry-run and failed actions saved nothing). Retries unprocessed
 * items a few times; returns how many items could not be written.
 */
export async function recordActions(
  client: DynamoDBClient,
  tableName: string,
  records: readonly ActionRecord[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<{ written: number; unprocessed: number }> {
  const done = records.filter((r) => r.status === 'done');
  let unprocessed = 0;
  for (let i = 0; i < done.length; i += BATCH) {
    let pending: WriteRequest[] = done.slice(i, i + BATCH).map(toItem);
    for (let attempt = 0; pending.length > 0 && attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(100 * 2 ** attempt);
      const res = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
      pending = res.UnprocessedItems?.[tableName] ?? [];
    }
    unprocessed += pending.length;
  }
  return { written: done.length - unprocessed, unprocessed };
}

/** Every ledger entry of a month (`YYYY-MM`), oldest first. */
export async function readMonth(client: DynamoDBClient, tableName: string, month: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let start: QueryCommandOutput['LastEvaluatedKey'];
  do {
    const res: QueryCommandOutput = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `ledger#${month}` } },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of res.Items ?? []) {
      const savings = item.monthlySavingsUsd?.N;
      entries.push({
        at: (item.sk?.S ?? '').split('#')[0] ?? '',
        capability: item.capability?.S ?? 'unknown',
        kind: item.kind?.S ?? 'unknown',
        target: item.target?.S ?? '',
        reason: item.reason?.S ?? '',
        ...(item.region?.S ? { region: item.region.S } : {}),
        ...(savings !== undefined ? { monthlySavingsUsd: Number(savings) } : {}),
      });
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return entries;
}
