/**
 * The SageMaker guard's warnings in the state table: the only state it acts on, kept like the reaper's
 * (warning-store.ts) under their own partition so neither guard ever reads or clears the other's. One item per
 * warned resource, pk `sagemaker-warning#<region>`, sk `endpoint/<name>` or `notebook/<name>`; one paginated Query
 * per region reads them.
 *
 * A warning is written `pending` before the digest is posted and marked `delivered` (with Slack's channel and ts,
 * and when the action is due) only after Slack accepted the message that carried it; the mark is conditional on this
 * run's token. The item is deleted when the resource is busy again, protected, acted on, or gone. Items expire after
 * {@link SAGEMAKER_WARNING_TTL_DAYS}; an expired item the TTL sweeper has not removed yet is ignored.
 *
 * Calls: Query, PutItem, UpdateItem, DeleteItem.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { NewSageMakerWarning, SageMakerWarning } from '../core/sagemaker/types';
import { errorCode } from '../shared/errors';

export const SAGEMAKER_WARNING_TTL_DAYS = 30;

export const sageMakerWarningKey = (region: string, key: string) => ({ pk: `sagemaker-warning#${region}`, sk: key });

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const str = (item: Record<string, AttributeValue>, name: string): string | undefined => item[name]?.S;

function toWarning(item: Record<string, AttributeValue>): SageMakerWarning | undefined {
  const key = str(item, 'sk');
  const region = str(item, 'region');
  const status = str(item, 'status');
  const idleSince = str(item, 'idleSince');
  const action = str(item, 'action');
  if (!key || !region || !idleSince || (status !== 'pending' && status !== 'delivered')) return undefined;
  if (action !== 'delete' && action !== 'stop') return undefined;
  const optional = (name: keyof SageMakerWarning) => {
    const v = str(item, name);
    return v !== undefined ? { [name]: v } : {};
  };
  return {
    key,
    region,
    status,
    idleSince,
    action,
    ...optional('identity'),
    ...optional('warnedAt'),
    ...optional('slackChannel'),
    ...optional('slackTs'),
    ...optional('actionDue'),
  };
}

export interface DeliveredSageMakerWarning {
  readonly key: string;
  readonly region: string;
  readonly slackChannel: string;
  readonly slackTs: string;
  readonly warnedAt: string;
  readonly actionDue: string;
}

export class SageMakerWarningStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** This run's token: only the run that wrote a pending warning marks it delivered. */
    private readonly runToken: string,
    private readonly now: Date,
  ) {}

  /** The region's warnings by resource key (expired items ignored). */
  async list(region: string): Promise<Map<string, SageMakerWarning>> {
    const found = new Map<string, SageMakerWarning>();
    const nowSeconds = Math.floor(this.now.getTime() / 1000);
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(sageMakerWarningKey(region, '').pk) },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const ttl = item.ttl?.N !== undefined ? Number(item.ttl.N) : undefined;
        if (ttl !== undefined && ttl < nowSeconds) continue;
        const w = toWarning(item);
        if (w) found.set(w.key, w);
      }
    }
    return found;
  }

  /** Records a warning about to be posted; replaces any earlier warning of the resource. */
  async putPending(region: string, key: string, w: NewSageMakerWarning): Promise<void> {
    const k = sageMakerWarningKey(region, key);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: S(k.pk),
          sk: S(k.sk),
          region: S(region),
          status: S('pending'),
          idleSince: S(w.idleSince),
          action: S(w.action),
          ...(w.identity ? { identity: S(w.identity) } : {}),
          recordedAt: S(this.now.toISOString()),
          runToken: S(this.runToken),
          ttl: N(Math.floor(this.now.getTime() / 1000) + SAGEMAKER_WARNING_TTL_DAYS * 86_400),
        },
      }),
    );
  }

  /** Marks this run's pending warning delivered; false when the record is no longer this run's pending one. */
  async markDelivered(d: DeliveredSageMakerWarning): Promise<boolean> {
    const k = sageMakerWarningKey(d.region, d.key);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: S(k.pk), sk: S(k.sk) },
          UpdateExpression:
            'SET #status = :delivered, warnedAt = :at, slackChannel = :channel, slackTs = :ts, actionDue = :due',
          ConditionExpression: '#status = :pending AND runToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':delivered': S('delivered'),
            ':pending': S('pending'),
            ':token': S(this.runToken),
            ':at': S(d.warnedAt),
            ':channel': S(d.slackChannel),
            ':ts': S(d.slackTs),
            ':due': S(d.actionDue),
          },
        }),
      );
      return true;
    } catch (error) {
      if (errorCode(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async remove(region: string, key: string): Promise<void> {
    const k = sageMakerWarningKey(region, key);
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: S(k.pk), sk: S(k.sk) } }));
  }
}
