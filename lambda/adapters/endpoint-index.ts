/**
 * What the SageMaker guard deleted, by region: the evidence `cost-guard restore --sagemaker` goes by, with what it
 * takes to bring each endpoint back (its endpoint config and its tags). Written by the guard's own runs only:
 *
 *   pk `sagemaker-deleted#<region>`, sk `<endpoint name>`: endpointConfigName, tags (JSON), creationTime, reason,
 *   recordedAt, state 'deleting' | 'deleted' | 'delete-failed' | 'restored', deletedAt, restoredAt.
 *
 * The record is written `deleting` BEFORE DeleteEndpoint is called (no record, no delete: when in doubt, no action),
 * then marked `deleted` (or `delete-failed`). A run that died between the two leaves `deleting`, which restore also
 * trusts: it recreates only an endpoint that no longer exists. The ledger keeps the action and its savings like
 * every other capability's. Items expire after ~400 days.
 *
 * Calls: PutItem, UpdateItem (a function); Query (restore, with the user's credentials), which marks a record
 * restored through state-table.ts.
 */
import { type DynamoDBClient, PutItemCommand, paginateQuery, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { ActionRecord } from '../core/run';
import type { RecordedEndpointDeletion } from '../core/sagemaker/restore';
import { errorCode } from '../shared/errors';
import { markRestored, S, scopedPartition } from './state-table';

const TTL_DAYS = 400;

/** pk `sagemaker-deleted#<region>` (organization mode: `sagemaker-deleted#<account>#<region>`), sk the name. */
export const endpointIndexKey = (region: string, endpointName: string, scope?: string) => ({
  pk: scopedPartition('sagemaker-deleted', region, scope),
  sk: endpointName,
});

export interface EndpointDeletionRecord {
  readonly endpointName: string;
  readonly region: string;
  readonly endpointConfigName: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly creationTime?: string;
  readonly reason: string;
  /** The run's clock. */
  readonly at: string;
}

/** Records an endpoint about to be deleted (state `deleting`), replacing an older record of the same name. */
export async function recordDeleting(
  client: DynamoDBClient,
  tableName: string,
  d: EndpointDeletionRecord,
  /** The account in organization mode (keyScopeOf(ctx)); undefined: single-account keys. */
  scope?: string,
): Promise<void> {
  const key = endpointIndexKey(d.region, d.endpointName, scope);
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        pk: S(key.pk),
        sk: S(key.sk),
        endpointConfigName: S(d.endpointConfigName),
        tags: S(JSON.stringify(d.tags)),
        ...(d.creationTime ? { creationTime: S(d.creationTime) } : {}),
        reason: S(d.reason.slice(0, 500)),
        recordedAt: S(d.at),
        state: S('deleting'),
        ttl: { N: String(Math.floor(Date.parse(d.at) / 1000) + TTL_DAYS * 86_400) },
      },
    }),
  );
}

/** Marks the `deleting` record `deleted` (or `delete-failed`); a record in another state is left alone. */
export async function markDeletion(
  client: DynamoDBClient,
  tableName: string,
  region: string,
  endpointName: string,
  outcome: 'deleted' | 'delete-failed',
  at: string,
  scope?: string,
): Promise<void> {
  const key = endpointIndexKey(region, endpointName, scope);
  try {
    await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { pk: S(key.pk), sk: S(key.sk) },
        UpdateExpression: 'SET #state = :outcome, deletedAt = :at',
        ConditionExpression: '#state = :deleting',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':outcome': S(outcome), ':at': S(at), ':deleting': S('deleting') },
      }),
    );
  } catch (error) {
    if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
  }
}

function parseTags(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch {
    return {};
  }
}

/** The endpoints the guard deleted in `region` (records `deleted` or `deleting`) and nobody restored since. */
export async function guardDeletions(
  client: DynamoDBClient,
  tableName: string,
  region: string,
  scope?: string,
): Promise<RecordedEndpointDeletion[]> {
  const out: RecordedEndpointDeletion[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(endpointIndexKey(region, '', scope).pk) },
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const state = item.state?.S;
      const name = item.sk?.S;
      const config = item.endpointConfigName?.S;
      if ((state !== 'deleted' && state !== 'deleting') || !name || !config) continue;
      const creationTime = item.creationTime?.S;
      out.push({
        endpointName: name,
        region,
        endpointConfigName: config,
        tags: parseTags(item.tags?.S),
        deletedAt: item.deletedAt?.S ?? item.recordedAt?.S ?? '',
        reason: item.reason?.S ?? '',
        ...(creationTime ? { creationTime } : {}),
      });
    }
  }
  return out;
}

/** Marks `restored` every endpoint a restore recreated (records of `create-endpoint` that took effect). */
export async function recordEndpointRestores(
  client: DynamoDBClient,
  tableName: string,
  records: readonly ActionRecord[],
  scope?: string,
): Promise<number> {
  let marked = 0;
  for (const r of records) {
    if (r.status !== 'done' || r.capability !== 'restore' || r.kind !== 'create-endpoint' || !r.region) continue;
    if (await markRestored(client, tableName, endpointIndexKey(r.region, r.target, scope), r.at)) marked += 1;
  }
  return marked;
}
