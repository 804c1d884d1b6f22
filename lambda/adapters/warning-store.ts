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
 * The SageMaker guard keeps its warnings the same way under its own partition (sagemaker-warnings.ts): both go
 * through {@link WarningRecords}, which holds what the two share; each guard says only its key and its own fields.
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
import { scopedPartition } from './state-table';

/** A warning not acted on for this long is dropped (and, if the resource is still idle, given again). */
export const WARNING_TTL_DAYS = 30;

/** pk `warning#<region>` (organization mode: `warning#<account>#<region>`), sk the instance ID. */
export const warningKey = (region: string, instanceId: string, scope?: string) => ({
  pk: scopedPartition('warning', region, scope),
  sk: instanceId,
});

type Item = Record<string, AttributeValue>;

const S = (s: string): AttributeValue => ({ S: s });
const N = (n: number): AttributeValue => ({ N: String(n) });
const str = (item: Item, name: string): string | undefined => item[name]?.S;

/** What every stored warning has, whichever guard wrote it. */
export interface StoredWarning {
  readonly region: string;
  readonly status: 'pending' | 'delivered';
  readonly idleSince: string;
  readonly warnedAt?: string;
  readonly slackChannel?: string;
  readonly slackTs?: string;
  readonly actionDue?: string;
}

/** The shared part of a stored item, or undefined when it is not a usable warning. */
export function storedWarning(item: Item): StoredWarning | undefined {
  const region = str(item, 'region');
  const status = str(item, 'status');
  const idleSince = str(item, 'idleSince');
  if (!region || !idleSince || (status !== 'pending' && status !== 'delivered')) return undefined;
  const optional = (name: 'warnedAt' | 'slackChannel' | 'slackTs' | 'actionDue') => {
    const v = str(item, name);
    return v !== undefined ? { [name]: v } : {};
  };
  return {
    region,
    status,
    idleSince,
    ...optional('warnedAt'),
    ...optional('slackChannel'),
    ...optional('slackTs'),
    ...optional('actionDue'),
  };
}

/** One guard's warnings: the partition of a region's warnings, and how a stored item reads back. */
export interface WarningShape<W> {
  /** `warning#<region>`, `sagemaker-warning#<region>` (with the account before the region when scoped). */
  readonly partition: (region: string, scope?: string) => string;
  /** A stored item as the guard's warning, and its sort key; undefined when it is not a usable warning. */
  readonly parse: (item: Item) => { readonly id: string; readonly warning: W } | undefined;
}

/** Slack accepted the message that carried a warning. */
export interface Delivery {
  readonly slackChannel: string;
  readonly slackTs: string;
  /** When Slack accepted the message (the run's clock). */
  readonly warnedAt: string;
  /** warnedAt + grace; absent for a warning that announced no action. */
  readonly actionDue?: string;
}

/**
 * The warn-then-act records of one guard, one item per warned resource (pk from the shape, sk the resource's ID).
 * Only the run that wrote a pending warning (its token) marks it delivered.
 */
export class WarningRecords<W> {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly runToken: string,
    private readonly now: Date,
    private readonly shape: WarningShape<W>,
    /** The account the records belong to in organization mode (keyScopeOf); undefined: single-account keys. */
    private readonly scope?: string,
  ) {}

  private key(region: string, id: string) {
    return { pk: S(this.shape.partition(region, this.scope)), sk: S(id) };
  }

  /** The region's warnings by sort key (expired items ignored). */
  async list(region: string): Promise<Map<string, W>> {
    const found = new Map<string, W>();
    const nowSeconds = Math.floor(this.now.getTime() / 1000);
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': S(this.shape.partition(region, this.scope)) },
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const ttl = item.ttl?.N !== undefined ? Number(item.ttl.N) : undefined;
        if (ttl !== undefined && ttl < nowSeconds) continue;
        const parsed = this.shape.parse(item);
        if (parsed) found.set(parsed.id, parsed.warning);
      }
    }
    return found;
  }

  /** Records a warning about to be posted, with the guard's own `fields`; replaces any earlier one of the resource. */
  async putPending(region: string, id: string, idleSince: string, fields: Item): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(region, id),
          ...fields,
          region: S(region),
          status: S('pending'),
          idleSince: S(idleSince),
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
  async markDelivered(region: string, id: string, d: Delivery): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(region, id),
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

  /** Removes the resource's warning (busy again, protected, acted on, or gone). */
  async remove(region: string, id: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: this.key(region, id) }));
  }
}

/** The reaper's shape: items also carry instanceId, confidence, and the announced action and launch time. */
const REAPER_WARNINGS: WarningShape<WarningState> = {
  partition: (region, scope) => warningKey(region, '', scope).pk,
  parse(item) {
    const common = storedWarning(item);
    const instanceId = str(item, 'instanceId') ?? str(item, 'sk');
    if (!common || !instanceId) return undefined;
    const action = str(item, 'action');
    const launchTime = str(item, 'launchTime');
    const warning: WarningState = {
      instanceId,
      ...common,
      ...(action === 'stop' || action === 'terminate' ? { action } : {}),
      ...(launchTime !== undefined ? { launchTime } : {}),
    };
    return { id: instanceId, warning };
  },
};

export interface PendingWarning extends NewWarning {
  readonly instanceId: string;
  readonly region: string;
  readonly launchTime?: string;
  readonly confidence: 'high' | 'low';
}

export interface DeliveredWarning extends Delivery {
  readonly instanceId: string;
  readonly region: string;
}

/** The idle GPU reaper's warnings (see the top of this file). */
export class WarningStore {
  private readonly records: WarningRecords<WarningState>;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    /** This run's token: only the run that wrote a pending warning marks it delivered. */
    runToken: string,
    now: Date,
    /** The account in organization mode (keyScopeOf(ctx)); undefined keeps the single-account keys. */
    scope?: string,
  ) {
    this.records = new WarningRecords(client, tableName, runToken, now, REAPER_WARNINGS, scope);
  }

  /** The region's warnings by instance ID (expired items ignored). */
  list(region: string): Promise<Map<string, WarningState>> {
    return this.records.list(region);
  }

  /** Records a warning about to be posted; replaces any earlier warning of the instance. */
  putPending(w: PendingWarning): Promise<void> {
    return this.records.putPending(w.region, w.instanceId, w.idleSince, {
      instanceId: S(w.instanceId),
      confidence: S(w.confidence),
      ...(w.action ? { action: S(w.action) } : {}),
      ...(w.launchTime ? { launchTime: S(w.launchTime) } : {}),
    });
  }

  /** Marks this run's pending warning delivered; false when the record is no longer this run's pending one. */
  markDelivered(d: DeliveredWarning): Promise<boolean> {
    return this.records.markDelivered(d.region, d.instanceId, d);
  }

  /** Removes the instance's warning (busy again, protected, acted on, or gone). */
  remove(region: string, instanceId: string): Promise<void> {
    return this.records.remove(region, instanceId);
  }
}
