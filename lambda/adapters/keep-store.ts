/**
 * Keeps in the state table: the record the reaper and the budget guard trust (a keep-until tag is only a mirror for
 * people). One item per kept instance, pk `keep#<region>`, sk `<instanceId>`: keepUntil, by, byName, reason, at,
 * source, guard. A run reads its region's keeps with one paginated Query ({@link activeKeeps}; the reaper reads the
 * ended ones too, {@link keepsOnRecord}).
 *
 * {@link setKeep} writes with a condition: a keep replaces the one on record (longer or shorter) unless the one on
 * record was set later (two presses crossing on the way: the later one stands). Items expire a day after the keep
 * ends (TTL); an expired keep still in the table is ignored.
 *
 * Calls: Query, PutItem.
 */
import { type AttributeValue, type DynamoDBClient, PutItemCommand, paginateQuery } from '@aws-sdk/client-dynamodb';
import { type KeepRecord, keepActiveAt } from '../core/keeps';
import { errorCode } from '../shared/errors';
import { scopedPartition } from './state-table';

/** An item stays this long after its keep ended (so a digest can still say "kept until … by …" that day). */
const KEEP_TTL_AFTER_END_S = 86_400;

/** pk `keep#<region>` (organization mode: `keep#<account>#<region>`), sk the instance ID. */
export const keepKey = (region: string, instanceId: string, scope?: string) => ({
  pk: scopedPartition('keep', region, scope),
  sk: instanceId,
});

const S = (s: string): AttributeValue => ({ S: s });
const str = (item: Record<string, AttributeValue>, name: string): string | undefined => item[name]?.S;

/** A stored item as a keep; undefined for an item missing what a keep needs (a hand-edited item protects nothing). */
function toKeep(item: Record<string, AttributeValue> | undefined, region: string): KeepRecord | undefined {
  if (!item) return undefined;
  const instanceId = str(item, 'sk');
  const until = str(item, 'keepUntil');
  const by = str(item, 'by');
  const setAt = str(item, 'at');
  if (!instanceId || !until || !by || !setAt) return undefined;
  const source = str(item, 'source') === 'cli' ? 'cli' : 'slack';
  const guard = str(item, 'guard') === 'budgets' ? 'budgets' : 'reaper';
  const byName = str(item, 'byName');
  const reason = str(item, 'reason');
  return {
    instanceId,
    region,
    until,
    by,
    ...(byName ? { byName } : {}),
    ...(reason ? { reason } : {}),
    setAt,
    source,
    guard,
  };
}

/** The region's keeps that still protect at `now`, by instance ID: one Query (a page per 1 MB). */
export async function activeKeeps(
  client: DynamoDBClient,
  tableName: string,
  region: string,
  now: Date,
  /** The account in organization mode (keyScopeOf(ctx)); undefined: single-account keys. */
  scope?: string,
): Promise<Map<string, KeepRecord>> {
  const found = new Map<string, KeepRecord>();
  for (const [id, keep] of await keepsOnRecord(client, tableName, region, scope)) {
    if (keepActiveAt(keep, now)) found.set(id, keep);
  }
  return found;
}

/**
 * Every keep of the region still in the table, ended ones included (an item stays a day after its keep ended): the
 * reaper reads them so that a warning given before a keep ended does not count after it. One Query.
 */
export async function keepsOnRecord(
  client: DynamoDBClient,
  tableName: string,
  region: string,
  scope?: string,
): Promise<Map<string, KeepRecord>> {
  const found = new Map<string, KeepRecord>();
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(keepKey(region, '', scope).pk) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const keep = toKeep(item, region);
      if (keep) found.set(keep.instanceId, keep);
    }
  }
  return found;
}

export type SetKeepResult =
  /** Written; `replaced` is the keep it replaced, when there was one. */
  | { readonly written: true; readonly keep: KeepRecord; readonly replaced?: KeepRecord }
  /** Not written: a keep set later than this one is on record (it stands). */
  | { readonly written: false; readonly keep: KeepRecord; readonly newer?: KeepRecord };

/**
 * Writes `keep` (checked by the caller: core/keeps.ts keepEnd caps it), replacing the instance's keep on record
 * unless that one was set later.
 */
export async function setKeep(
  client: DynamoDBClient,
  tableName: string,
  keep: KeepRecord,
  /** The account in organization mode (keyScopeOf(ctx)); undefined: single-account keys. */
  scope?: string,
): Promise<SetKeepResult> {
  const key = keepKey(keep.region, keep.instanceId, scope);
  const until = Date.parse(keep.until);
  try {
    const res = await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: S(key.pk),
          sk: S(key.sk),
          keepUntil: S(keep.until),
          by: S(keep.by),
          ...(keep.byName ? { byName: S(keep.byName) } : {}),
          ...(keep.reason ? { reason: S(keep.reason) } : {}),
          at: S(keep.setAt),
          source: S(keep.source),
          guard: S(keep.guard),
          ttl: { N: String(Math.floor(until / 1000) + KEEP_TTL_AFTER_END_S) },
        },
        ConditionExpression: 'attribute_not_exists(pk) OR #at <= :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': S(keep.setAt) },
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    const replaced = toKeep(res.Attributes, keep.region);
    return { written: true, keep, ...(replaced ? { replaced } : {}) };
  } catch (error) {
    if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
    const newer = toKeep((error as { Item?: Record<string, AttributeValue> }).Item, keep.region);
    return { written: false, keep, ...(newer ? { newer } : {}) };
  }
}
