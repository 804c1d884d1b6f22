/**
 * The savings ledger in the state table: one item per action that took effect, so the monthly Slack summary (and
 * anyone with table access) can say what each capability did and saved. Items expire after ~400 days (TTL).
 *
 * Keys: pk = `ledger#<YYYY-MM>`, sk = `<ISO time>#<capability>#<kind>#<target>`, and `#<account>` after it when the
 * action names an account (organization mode: the unit's account; a budget's linked account), so two accounts acting
 * on the same target name at the same time keep one entry each. Single-account entries carry no account and keep
 * their keys. The monthly summary reads the month's one partition, whatever the accounts.
 */
import { type DynamoDBClient, paginateQuery, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { ActionRecord, LedgerEntry } from '../core/run';
import { batchWriteWithRetry, realSleep, type Sleep } from './state-table';

const TTL_DAYS = 400;

export type { LedgerEntry } from '../core/run';

export const ledgerMonth = (iso: string): string => iso.slice(0, 7);

/** A ledger item as stored (marshalled by util-dynamodb). */
interface LedgerItem {
  readonly pk: string;
  readonly sk: string;
  readonly capability: string;
  readonly kind: string;
  readonly target: string;
  readonly reason: string;
  readonly region?: string;
  /** The AWS account the action was taken in, when not the single account's own. */
  readonly account?: string;
  readonly monthlySavingsUsd?: number;
  readonly ttl: number;
}

function toItem(r: ActionRecord, scope: string | undefined): WriteRequest {
  // The record's own account (a budget's linked account) wins over the run's (the unit's, in organization mode).
  const account = r.accountId ?? scope;
  const item: LedgerItem = {
    pk: `ledger#${ledgerMonth(r.at)}`,
    sk: `${r.at}#${r.capability}#${r.kind}#${r.target}${account ? `#${account}` : ''}`,
    capability: r.capability,
    kind: r.kind,
    target: r.target,
    reason: r.reason.slice(0, 500),
    ...(r.region ? { region: r.region } : {}),
    ...(account ? { account } : {}),
    ...(r.monthlySavingsUsd !== undefined ? { monthlySavingsUsd: r.monthlySavingsUsd } : {}),
    ttl: Math.floor(Date.parse(r.at) / 1000) + TTL_DAYS * 86_400,
  };
  return { PutRequest: { Item: marshall(item) } };
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A stored item back as an entry; attributes of the wrong type (a hand-edited item) read as absent. */
function toEntry(raw: Parameters<typeof unmarshall>[0]): LedgerEntry {
  const item = unmarshall(raw) as Partial<Record<keyof LedgerItem, unknown>>;
  const region = text(item.region);
  const account = text(item.account);
  const savings = item.monthlySavingsUsd;
  return {
    at: (text(item.sk) ?? '').split('#')[0] ?? '',
    capability: text(item.capability) ?? 'unknown',
    kind: text(item.kind) ?? 'unknown',
    target: text(item.target) ?? '',
    reason: text(item.reason) ?? '',
    ...(region ? { region } : {}),
    ...(account ? { accountId: account } : {}),
    ...(typeof savings === 'number' ? { monthlySavingsUsd: savings } : {}),
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
  sleep: Sleep = realSleep,
  /** The run's account in organization mode (ctx.target?.accountId); undefined: single-account entries. */
  scope?: string,
): Promise<{ written: number; unprocessed: number }> {
  const done = records.filter((r) => r.status === 'done');
  const unprocessed = await batchWriteWithRetry(
    client,
    tableName,
    done.map((r) => toItem(r, scope)),
    sleep,
  );
  return { written: done.length - unprocessed, unprocessed };
}

/** Every ledger entry of a month (`YYYY-MM`), oldest first. */
export async function readMonth(client: DynamoDBClient, tableName: string, month: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: marshall({ ':pk': `ledger#${month}` }),
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) entries.push(toEntry(item));
  }
  return entries;
}
