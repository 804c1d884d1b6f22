/**
 * The idle GPU reaper's warnings in the state table: the only state the reaper acts on. One item per warned
 * instance, pk `warning#<region>`, sk `<instanceId>`; a run reads its region's warnings with one paginated Query.
 *
 * A warning is written `pending` before the digest is posted and marked `delivered` (with Slack's channel and ts,
 * and the time the action is due) only after Slack accepted the message that carried it; the mark is conditional on
 * this run's token, so a run never marks another run's warning. An undelivered warning never starts the grace
 * clock. The item is deleted when the instance is busy again, protected, acted on, or gone. Items expire after
 * {@link WARNING_TTL_DAYS} (TTL), so a warning nobody acted on is repeated about once a month; an expired item the
 * TTL sweeper has not removed yet is ignored.
 *
 * Calls: Query, PutItem, UpdateItem, DeleteItem (no Scan, no GetItem).
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  paginateQuery,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { NewWarning, WarningState } from '../core/reaper/types';
import { errorCode } from '../shared/errors';

/** A warning not acted on for this long is dropped (and, if the instance is still idle, given again). */
export const WARNING_TTL_DAYS = 30;

export const warningKey = (region: string, instanceId: string) => ({ pk: `warning#${region}`, sk: instanceId });

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const str = (item: Record<string, AttributeValue>, name: string): string | undefined => item[name]?.S;

function toState(item: Record<string, AttributeValue>): WarningState | undefined {
  const instanceId = str(item, 'instanceId') ?? str(item, 'sk');
  const region = str(item, 'region');
  const status = str(item, 'status');
  const idleSince = str(item, 'idleSince');
  if (!instanceId || !region || !idleSince || (status !== 'pending' && status !== 'delivered')) return undefined;
  const action = str(item, 'action');
  const optional = (name: keyof WarningState) => {
    const v = str(item, name);
    return v !== undefined ? { [name]: v } : {};
  };
  return {
    instanceId,
    region,
    status,
    idleSince,
    ...(action === 'stop' || action === 'terminate' ? { action } : {}),
    ...optional('launchTime'),
    ...optional('warnedAt'),
    ...optional('slackChannel'),
    ...optional('slackTs'),
    ...optional('actionDue'),
  };
}

export interface PendingWarning extends NewWarning {
  readonly instanceId: string;
  readonly region: string;
  readonly launchTime?: string;
  readonly confidence: 'high' | 'low';
}

export interface DeliveredWarning {
  readonly instanceId: string;
  readonly region: string;
  readonly slackChannel: string;
  readonly slackTs: string;
  /** When Slack accepted the message (the run's clock). */
  readonly warnedAt: string;
  /** warnedAt + grace; absent for a warning that announced no action. */
  readonly actionDue?: string;
}

export class WarningStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    /** This run's token: only the run that wrote a pending warning marks it delivered. */
    private readonly runToken: string,
    private readonly now: Date,
  ) {}

  /** The region's warnings by instance ID (expired items ignored). */
  async list(region: string): Promise<Map<string, WarningState>> {
    const found = new Map<string, WarningState>();
    const nowSeconds = Math.floor(this.now.getTime() / 1000);
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(warningKey(region, '').pk) },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const ttl = item.ttl?.N !== undefined ? Number(item.ttl.N) : undefined;
        if (ttl !== undefined && ttl < nowSeconds) continue;
        const state = toState(item);
        if (state) found.set(state.instanceId, state);
      }
    }
    return found;
  }

  /** Records a warning about to be posted; replaces any earlier warning of the instance. */
  async putPending(w: PendingWarning): Promise<void> {
    const key = warningKey(w.region, w.instanceId);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          pk: S(key.pk),
          sk: S(key.sk),
          instanceId: S(w.instanceId),
          region: S(w.region),
          status: S('pending'),
          idleSince: S(w.idleSince),
          confidence: S(w.confidence),
          ...(w.action ? { action: S(w.action) } : {}),
          ...(w.launchTime ? { launchTime: S(w.launchTime) } : {}),
          recordedAt: S(this.now.toISOString()),
          runToken: S(this.runToken),
          ttl: N(Math.floor(this.now.getTime() / 1000) + WARNING_TTL_DAYS * 86_400),
        },
      }),
    );
  }

  /**
   * Marks this run's pending warning delivered. False when the record is no longer this run's pending one (deleted,
   * or replaced by another run): then nothing is marked.
   */
  async markDelivered(d: DeliveredWarning): Promise<boolean> {
    const key = warningKey(d.region, d.instanceId);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: S(key.pk), sk: S(key.sk) },
          UpdateExpression: `SET #status = :delivered, warnedAt = :at, slackChannel = :channel, slackTs = :ts${d.actionDue ? ', actionDue = :due' : ''}`,
          ConditionExpression: '#status = :pending AND runToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':delivered': S('delivered'),
            ':pending': S('pending'),
            ':token': S(this.runToken),
            ':at': S(d.warnedAt),
            ':channel': S(d.slackChannel),
            ':ts': S(d.slackTs),
            ...(d.actionDue ? { ':due': S(d.actionDue) } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (errorCode(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Removes the instance's warning (busy again, protected, acted on, or gone). */
  async remove(region: string, instanceId: string): Promise<void> {
    const key = warningKey(region, instanceId);
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: S(key.pk), sk: S(key.sk) } }));
  }
}
