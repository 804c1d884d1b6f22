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
 * The records themselves (Query, PutItem, UpdateItem, DeleteItem) are the reaper's {@link WarningRecords}; this
 * file says only the partition and the guard's own fields (the action, and the resource's identity when warned).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { NewSageMakerWarning, SageMakerWarning } from '../core/sagemaker/types';
import { scopedPartition } from './state-table';
import { type Delivery, storedWarning, WARNING_TTL_DAYS, WarningRecords, type WarningShape } from './warning-store';

export const SAGEMAKER_WARNING_TTL_DAYS = WARNING_TTL_DAYS;

export const sageMakerWarningKey = (region: string, key: string, scope?: string) => ({
  pk: scopedPartition('sagemaker-warning', region, scope),
  sk: key,
});

const SAGEMAKER_WARNINGS: WarningShape<SageMakerWarning> = {
  partition: (region, scope) => sageMakerWarningKey(region, '', scope).pk,
  parse(item) {
    const common = storedWarning(item);
    const key = item.sk?.S;
    const action = item.action?.S;
    if (!common || !key || (action !== 'delete' && action !== 'stop')) return undefined;
    const identity = item.identity?.S;
    return { id: key, warning: { key, ...common, action, ...(identity !== undefined ? { identity } : {}) } };
  },
};

export interface DeliveredSageMakerWarning extends Delivery {
  readonly key: string;
  readonly region: string;
  readonly actionDue: string;
}

export class SageMakerWarningStore {
  private readonly records: WarningRecords<SageMakerWarning>;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    /** This run's token: only the run that wrote a pending warning marks it delivered. */
    runToken: string,
    now: Date,
    /** The account in organization mode (keyScopeOf(ctx)); undefined keeps the single-account keys. */
    scope?: string,
  ) {
    this.records = new WarningRecords(client, tableName, runToken, now, SAGEMAKER_WARNINGS, scope);
  }

  /** The region's warnings by resource key (expired items ignored). */
  list(region: string): Promise<Map<string, SageMakerWarning>> {
    return this.records.list(region);
  }

  /** Records a warning about to be posted; replaces any earlier warning of the resource. */
  putPending(region: string, key: string, w: NewSageMakerWarning): Promise<void> {
    return this.records.putPending(region, key, w.idleSince, {
      action: { S: w.action },
      ...(w.identity ? { identity: { S: w.identity } } : {}),
    });
  }

  /** Marks this run's pending warning delivered; false when the record is no longer this run's pending one. */
  markDelivered(d: DeliveredSageMakerWarning): Promise<boolean> {
    return this.records.markDelivered(d.region, d.key, d);
  }

  remove(region: string, key: string): Promise<void> {
    return this.records.remove(region, key);
  }
}
