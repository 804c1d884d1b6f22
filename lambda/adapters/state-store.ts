/**
 * The DynamoDB state table (pk, sk, ttl): alert records that make each (budget, period, threshold) alert go out
 * exactly once.
 *
 * Exactly once, in three steps:
 * 1. `claim` writes the alert record with a conditional PutItem that succeeds only when no record exists, when the
 *    last attempt failed, or when a pending claim is older than the lease (a run that died mid-send). Two runs at
 *    once (the schedule and an SNS notification) cannot both win: the loser reads the record (from the refused
 *    write, else with a consistent GetItem) and says which it is: `sent` (when, which Slack message), `in-flight`
 *    and being sent (by whom, since when, until when the claim holds), or `in-flight` after a failed attempt
 *    (the error) whose claim is still held; `describeClaimConflict` puts it in words.
 * 2. `markSent` sets status 'sent' (with Slack's message ts) only after Slack accepted the message.
 * 3. `release` marks a failed send 'failed', so the Lambda retry (or the next run) claims it again and sends it.
 * Records expire after about 400 days (TTL).
 */

import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { errorCode } from '../shared/errors';

/** Records live ~400 days: long enough for a year-over-year look, short enough to clean themselves up. */
export const STATE_TTL_DAYS = 400;
/** A pending claim older than this is taken over (longer than the function's 5-minute timeout). */
export const DEFAULT_LEASE_MS = 10 * 60_000;

export interface StateKey {
  readonly pk: string;
  readonly sk: string;
}

/** The alert record of a (budget, period, threshold): pk 'budget#<name>', sk '<period>#<threshold>'. */
export function alertKey(budget: string, period: string, threshold: string): StateKey {
  return { pk: `budget#${budget}`, sk: `${period}#${threshold}` };
}

export type ClaimResult =
  | {
      readonly outcome: 'claimed';
      readonly token: string;
      /** What an earlier, failed attempt stored (e.g. the instances it stopped), to report them now. */
      readonly previousDetail?: string;
    }
  | { readonly outcome: 'sent'; readonly sentAt?: string; readonly slackTs?: string }
  | InFlightClaim;

/**
 * A claim another run holds. `state`: `sending` (a pending claim within its lease: that run is sending, or stopped
 * before it could say; the claim lapses at `leaseEndsAt`); `failed` (the record says the last attempt failed, yet
 * the retry's write was refused: the claim is held, so the next run retries); `unknown` (the record could not be
 * read back).
 */
export interface InFlightClaim {
  readonly outcome: 'in-flight';
  readonly state: 'sending' | 'failed' | 'unknown';
  /** Who holds the claim: 'lambda:<request id>' or 'cli:<user@host>:<pid>', when the claimant said. */
  readonly holder?: string;
  readonly claimedAt?: string;
  /** When the claim may be taken over (claimedAt + the lease). */
  readonly leaseEndsAt?: string;
  /** The error of the failed attempt (`failed`). */
  readonly lastError?: string;
}

/** A claim result that is not a claim: what the record says, in words, for the run's notes. */
export function describeClaimConflict(result: Exclude<ClaimResult, { outcome: 'claimed' }>): string {
  if (result.outcome === 'sent') {
    const at = result.sentAt ? ` at ${result.sentAt}` : '';
    return `was already sent${at}${result.slackTs ? ` (Slack message ${result.slackTs})` : ''}`;
  }
  const who = result.holder ?? 'another run';
  const since = result.claimedAt ? ` since ${result.claimedAt}` : '';
  const until = result.leaseEndsAt ? `after ${result.leaseEndsAt}` : 'after its lease';
  switch (result.state) {
    case 'sending':
      return `is being sent by ${who}${since}; if that run stopped, the first run ${until} sends it`;
    case 'failed':
      return `was not sent: the last attempt${result.holder ? ` by ${result.holder}` : ''} failed (${result.lastError ?? 'no error recorded'}) and its claim is still held; the first run ${until} retries it`;
    default:
      return 'is claimed by another run (its record could not be read); the next run checks again';
  }
}

/** Where alert records live (the savings ledger is lambda/adapters/ledger.ts). */
export interface StateStore {
  /** False when there is no table: records last for one run, alerts are not de-duplicated across runs. */
  readonly deduplicated: boolean;
  claim(key: StateKey, attributes?: Readonly<Record<string, string>>): Promise<ClaimResult>;
  /** Marks the alert sent; false when the claim was lost (another run took it over after the lease). */
  markSent(key: StateKey, token: string, slackTs?: string, detail?: string): Promise<boolean>;
  /** Marks a failed send so the next attempt claims it again; `detail` is handed to that attempt. */
  release(key: StateKey, token: string, error: string, detail?: string): Promise<void>;
  /**
   * Reserves one action against a per-period limit (see `reserveAction` below `limitKey`). True when the target
   * was reserved now or already in this period (a retried action); false when the period's limit is used up.
   */
  reserveAction(o: ReserveActionOptions): Promise<boolean>;
  /**
   * Reserves several targets at once against the same per-period limit (same item as `reserveAction`): the targets
   * granted, in the order asked. Targets reserved earlier in the period are granted again without being counted
   * twice; of the others, as many as the limit has room for, first ones first.
   */
  reserveActions(o: ReserveActionsOptions): Promise<string[]>;
  /** Takes (or renews) the named lease for `ttlMs`; when another holder has it, says who and until when. */
  acquireLease(o: AcquireLeaseOptions): Promise<LeaseResult>;
  /** Gives the lease back early; a lease held by someone else (or expired and taken over) is left alone. */
  releaseLease(name: string, holder: string): Promise<void>;
}

/**
 * A per-period action counter: pk 'limit#<capability>#<scope>' (organization mode, one account's counter:
 * 'limit#<capability>#<account>#<scope>'), sk '<period>' (the start of the scheduled period,
 * lambda/core/schedule.ts `periodOf`). The item holds `count` and the set of `targets` reserved in the period, so
 * a retried invocation re-reserving the same instance is not counted twice, and three deliveries of one scheduled
 * event together act on at most `limit` targets.
 */
export function limitKey(capability: string, scope: string, period: string, account?: string): StateKey {
  return { pk: account ? `limit#${capability}#${account}#${scope}` : `limit#${capability}#${scope}`, sk: period };
}

export interface ReserveActionOptions {
  readonly capability: string;
  /** What the limit is counted over, e.g. the region, or 'organization' (every account's actions together). */
  readonly scope: string;
  /** The account whose counter it is (organization mode, keyScopeOf); undefined: the single-account key. */
  readonly account?: string;
  readonly period: string;
  readonly limit: number;
  /** The instance (or other resource) about to be acted on. */
  readonly target: string;
  readonly now: Date;
}

export interface ReserveActionsOptions extends Omit<ReserveActionOptions, 'target'> {
  readonly targets: readonly string[];
}

/** Attempts of `reserveActions` when other runs keep changing the counter between its read and its write. */
const RESERVE_ATTEMPTS = 5;

/** The targets of `wanted` granted: the ones already reserved, and new ones while `count` stays within `limit`. */
function grantTargets(
  wanted: readonly string[],
  reserved: ReadonlySet<string>,
  count: number,
  limit: number,
): { granted: string[]; fresh: string[] } {
  let room = Math.max(0, limit - count);
  const granted: string[] = [];
  const fresh: string[] = [];
  for (const t of new Set(wanted)) {
    if (reserved.has(t)) granted.push(t);
    else if (room > 0) {
      room -= 1;
      granted.push(t);
      fresh.push(t);
    }
  }
  return { granted, fresh };
}

/** A lease item: pk 'lease#<name>', sk 'lease'. Name it with `leaseName`. */
export function leaseKey(name: string): StateKey {
  return { pk: `lease#${name}`, sk: 'lease' };
}

/**
 * The lease a run holds while it acts on a capability in a region (CLI and Lambda take the same one); in
 * organization mode one per account too: `<capability>#<account>#<region>`.
 */
export const leaseName = (capability: string, region: string, account?: string): string =>
  account ? `${capability}#${account}#${region}` : `${capability}#${region}`;

export interface AcquireLeaseOptions {
  /** From `leaseName(capability, region)`. */
  readonly name: string;
  /** Who takes it: 'lambda:<requestId>' or 'cli:<user@host>:<pid>'. */
  readonly holder: string;
  readonly now: Date;
  readonly ttlMs: number;
}

export type LeaseResult =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly holder: string; readonly expiresAt: string };

/** Plain values to DynamoDB attribute values (util-dynamodb: strings to S, numbers to N, Sets of strings to SS). */
const dynamo = (values: Record<string, NativeAttributeValue>): Record<string, AttributeValue> => marshall(values);

/** An item DynamoDB returned (Attributes, or the old item of a failed condition) as plain values. */
const plain = (item: Record<string, AttributeValue> | undefined): Record<string, unknown> =>
  item ? unmarshall(item) : {};

/** The old item a ConditionalCheckFailedException carries when ALL_OLD was asked for (not unmarshalled by the SDK). */
const oldItem = (error: unknown): Record<string, unknown> =>
  plain((error as { Item?: Record<string, AttributeValue> }).Item);

function ttlOf(now: Date): number {
  return Math.floor(now.getTime() / 1000) + STATE_TTL_DAYS * 86_400;
}

function str(item: Record<string, unknown>, name: string): string | undefined {
  const value = item[name];
  return typeof value === 'string' ? value : undefined;
}

export interface DynamoStateStoreOptions {
  readonly now: Date;
  /** Who claims (stored as `claimedBy`, shown to a run that finds the claim held). */
  readonly holder?: string;
  /** Makes claim tokens; tests pass a deterministic one. @default crypto.randomUUID */
  readonly newToken?: () => string;
  /** @default DEFAULT_LEASE_MS */
  readonly leaseMs?: number;
}

export class DynamoStateStore implements StateStore {
  readonly deduplicated = true;
  private readonly newToken: () => string;
  private readonly leaseMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly options: DynamoStateStoreOptions,
  ) {
    this.newToken = options.newToken ?? randomUUID;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  async claim(key: StateKey, attributes: Readonly<Record<string, string>> = {}): Promise<ClaimResult> {
    const first = await this.tryClaim(key, attributes);
    // The record changed between the refused write and the read (released as failed, expired, deleted): it is
    // claimable now, so try once more; a second refusal is reported as it reads.
    if (first.outcome === 'retry') {
      const second = await this.tryClaim(key, attributes);
      return second.outcome === 'retry' ? second.asRead : second;
    }
    return first;
  }

  /** One conditional claim; a refusal is classified from the record (the old item, else a consistent read). */
  private async tryClaim(
    key: StateKey,
    attributes: Readonly<Record<string, string>>,
  ): Promise<ClaimResult | { outcome: 'retry'; asRead: ClaimResult }> {
    const token = this.newToken();
    const now = this.options.now;
    try {
      const res = await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: dynamo({
            ...attributes,
            pk: key.pk,
            sk: key.sk,
            status: 'pending',
            claimToken: token,
            claimedAt: now.getTime(),
            claimedAtIso: now.toISOString(),
            ...(this.options.holder ? { claimedBy: this.options.holder } : {}),
            ttl: ttlOf(now),
          }),
          ConditionExpression:
            'attribute_not_exists(pk) OR #status = :failed OR (#status = :pending AND claimedAt < :leaseCutoff)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: dynamo({
            ':failed': 'failed',
            ':pending': 'pending',
            ':leaseCutoff': now.getTime() - this.leaseMs,
          }),
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const previousDetail = str(plain(res.Attributes), 'detail');
      return { outcome: 'claimed', token, ...(previousDetail ? { previousDetail } : {}) };
    } catch (error) {
      if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
      const returned = oldItem(error);
      if (Object.keys(returned).length > 0) return this.conflictOf(returned, false);
      // No old item with the refusal (some DynamoDB-compatible stores omit it): read the record itself.
      return this.conflictOf(await this.readRecord(key), true);
    }
  }

  /** The record as a consistent read sees it ({} when absent or unreadable). */
  private async readRecord(key: StateKey): Promise<Record<string, unknown>> {
    try {
      const res = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          ConsistentRead: true,
        }),
      );
      return plain(res.Item);
    } catch {
      return {};
    }
  }

  /**
   * What a refused claim found. A record read after the refusal that is claimable now (failed, lapsed, gone) asks
   * for one more attempt; `asRead` is what to report if that attempt is refused too.
   */
  private conflictOf(
    record: Record<string, unknown>,
    readAfter: boolean,
  ): ClaimResult | { outcome: 'retry'; asRead: ClaimResult } {
    const status = str(record, 'status');
    if (status === 'sent') {
      const sentAt = str(record, 'sentAt');
      const slackTs = str(record, 'slackTs');
      return { outcome: 'sent', ...(sentAt ? { sentAt } : {}), ...(slackTs ? { slackTs } : {}) };
    }
    const holder = str(record, 'claimedBy');
    const claimedAt = str(record, 'claimedAtIso');
    const claimedMs = typeof record['claimedAt'] === 'number' ? record['claimedAt'] : undefined;
    const leaseEndsAt = claimedMs !== undefined ? new Date(claimedMs + this.leaseMs).toISOString() : undefined;
    const who = {
      ...(holder ? { holder } : {}),
      ...(claimedAt ? { claimedAt } : {}),
      ...(leaseEndsAt ? { leaseEndsAt } : {}),
    };
    const lapsed = claimedMs !== undefined && claimedMs < this.options.now.getTime() - this.leaseMs;
    if (status === 'pending' && !(readAfter && lapsed)) return { outcome: 'in-flight', state: 'sending', ...who };
    if (status === 'failed' || status === 'pending') {
      const lastError = str(record, 'lastError');
      const asRead: ClaimResult =
        status === 'failed'
          ? { outcome: 'in-flight', state: 'failed', ...who, ...(lastError ? { lastError } : {}) }
          : { outcome: 'in-flight', state: 'sending', ...who };
      return readAfter ? { outcome: 'retry', asRead } : asRead;
    }
    if (status === undefined && readAfter)
      return { outcome: 'retry', asRead: { outcome: 'in-flight', state: 'unknown' } };
    return { outcome: 'in-flight', state: 'unknown', ...who };
  }

  async markSent(key: StateKey, token: string, slackTs?: string, detail?: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          UpdateExpression: `SET #status = :sent, sentAt = :now${slackTs ? ', slackTs = :ts' : ''}${detail ? ', detail = :detail' : ''}`,
          ConditionExpression: 'claimToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: dynamo({
            ':sent': 'sent',
            ':now': this.options.now.toISOString(),
            ':token': token,
            ...(slackTs ? { ':ts': slackTs } : {}),
            ...(detail ? { ':detail': detail } : {}),
          }),
        }),
      );
      return true;
    } catch (error) {
      if (errorCode(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async release(key: StateKey, token: string, error: string, detail?: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          UpdateExpression: `SET #status = :failed, lastError = :error${detail ? ', detail = :detail' : ''}`,
          ConditionExpression: 'claimToken = :token',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: dynamo({
            ':failed': 'failed',
            ':error': error.slice(0, 1000),
            ':token': token,
            ...(detail ? { ':detail': detail } : {}),
          }),
        }),
      );
    } catch (e) {
      // Another run took the claim over: it will send (or fail and release) itself.
      if (errorCode(e) !== 'ConditionalCheckFailedException') throw e;
    }
  }

  async reserveAction(o: ReserveActionOptions): Promise<boolean> {
    const key = limitKey(o.capability, o.scope, o.period, o.account);
    try {
      // One conditional write: count the target unless it is already counted or the limit is used up.
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          UpdateExpression: 'SET #ttl = :ttl ADD #count :one, #targets :target',
          ConditionExpression: '(attribute_not_exists(#count) OR #count < :limit) AND NOT contains(#targets, :t)',
          ExpressionAttributeNames: { '#count': 'count', '#targets': 'targets', '#ttl': 'ttl' },
          ExpressionAttributeValues: dynamo({
            ':one': 1,
            ':target': new Set([o.target]),
            ':t': o.target,
            ':limit': o.limit,
            ':ttl': ttlOf(o.now),
          }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
      // Failed because the target was already reserved (a retry: fine) or because the limit is reached.
      const targets = oldItem(error).targets;
      return targets instanceof Set && targets.has(o.target);
    }
  }

  async reserveActions(o: ReserveActionsOptions): Promise<string[]> {
    const key = limitKey(o.capability, o.scope, o.period, o.account);
    let granted: string[] = [];
    // Read the counter, then write it back only if nobody changed it since (optimistic): two calls for any number
    // of targets, where `reserveAction` takes one call per target.
    for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
      const res = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          ConsistentRead: true,
        }),
      );
      const old = plain(res.Item);
      const count = typeof old.count === 'number' ? old.count : 0;
      const reserved = old.targets instanceof Set ? (old.targets as Set<string>) : new Set<string>();
      const grant = grantTargets(o.targets, reserved, count, o.limit);
      granted = grant.granted.filter((t) => reserved.has(t));
      if (grant.fresh.length === 0) return grant.granted;
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: dynamo({ pk: key.pk, sk: key.sk }),
            UpdateExpression: 'SET #ttl = :ttl ADD #count :n, #targets :fresh',
            ConditionExpression: res.Item ? '#count = :old' : 'attribute_not_exists(#count)',
            ExpressionAttributeNames: { '#count': 'count', '#targets': 'targets', '#ttl': 'ttl' },
            ExpressionAttributeValues: dynamo({
              ':n': grant.fresh.length,
              ':fresh': new Set(grant.fresh),
              ':ttl': ttlOf(o.now),
              ...(res.Item ? { ':old': count } : {}),
            }),
          }),
        );
        return grant.granted;
      } catch (error) {
        if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
        // Another run reserved in between: read again.
      }
    }
    // Still contended: only what was reserved before (never more than the limit).
    return granted;
  }

  async acquireLease(o: AcquireLeaseOptions): Promise<LeaseResult> {
    const key = leaseKey(o.name);
    const expires = o.now.getTime() + o.ttlMs;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: dynamo({
            pk: key.pk,
            sk: key.sk,
            holder: o.holder,
            expiresAt: expires,
            expiresAtIso: new Date(expires).toISOString(),
            acquiredAt: o.now.toISOString(),
            // A lease item cleans itself up a day after it expires.
            ttl: Math.floor(expires / 1000) + 86_400,
          }),
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR holder = :me',
          ExpressionAttributeValues: dynamo({ ':now': o.now.getTime(), ':me': o.holder }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true };
    } catch (error) {
      if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
      const old = oldItem(error);
      const at = old.expiresAt;
      return {
        acquired: false,
        holder: str(old, 'holder') ?? 'unknown',
        expiresAt: str(old, 'expiresAtIso') ?? (typeof at === 'number' ? new Date(at).toISOString() : 'unknown'),
      };
    }
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    const key = leaseKey(name);
    try {
      // Expire it rather than delete it: the roles need no DeleteItem.
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: dynamo({ pk: key.pk, sk: key.sk }),
          UpdateExpression: 'SET expiresAt = :zero, expiresAtIso = :epoch',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: dynamo({ ':zero': 0, ':epoch': new Date(0).toISOString(), ':me': holder }),
        }),
      );
    } catch (error) {
      // Someone else holds it now (ours expired and was taken over), or it never existed: nothing to give back.
      if (errorCode(error) !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

/**
 * No state table: records live for one run only. Every run alerts again while a budget stays over a threshold;
 * the run says so in its notes.
 */
export class MemoryStateStore implements StateStore {
  readonly deduplicated = false;
  readonly records = new Map<string, { status: string; token: string; detail?: string; slackTs?: string }>();
  private counter = 0;

  async claim(key: StateKey): Promise<ClaimResult> {
    const id = `${key.pk}|${key.sk}`;
    const old = this.records.get(id);
    if (old?.status === 'sent') return { outcome: 'sent', ...(old.slackTs ? { slackTs: old.slackTs } : {}) };
    if (old?.status === 'pending') return { outcome: 'in-flight', state: 'sending' };
    this.counter += 1;
    const token = `memory-${this.counter}`;
    this.records.set(id, { status: 'pending', token });
    return { outcome: 'claimed', token, ...(old?.detail ? { previousDetail: old.detail } : {}) };
  }

  async markSent(key: StateKey, token: string, slackTs?: string): Promise<boolean> {
    const rec = this.records.get(`${key.pk}|${key.sk}`);
    if (rec?.token !== token) return false;
    rec.status = 'sent';
    if (slackTs) rec.slackTs = slackTs;
    return true;
  }

  async release(key: StateKey, token: string, _error: string, detail?: string): Promise<void> {
    const rec = this.records.get(`${key.pk}|${key.sk}`);
    if (rec?.token !== token) return;
    rec.status = 'failed';
    if (detail) rec.detail = detail;
  }

  /** Per-period counters of this process only (tests and plan); with no table, acting capabilities do not act. */
  readonly limits = new Map<string, { count: number; targets: Set<string> }>();
  readonly leases = new Map<string, { holder: string; expiresAt: number }>();

  async reserveAction(o: ReserveActionOptions): Promise<boolean> {
    const key = limitKey(o.capability, o.scope, o.period, o.account);
    const id = `${key.pk}|${key.sk}`;
    const rec = this.limits.get(id) ?? { count: 0, targets: new Set<string>() };
    this.limits.set(id, rec);
    if (rec.targets.has(o.target)) return true;
    if (rec.count >= o.limit) return false;
    rec.count += 1;
    rec.targets.add(o.target);
    return true;
  }

  async reserveActions(o: ReserveActionsOptions): Promise<string[]> {
    const key = limitKey(o.capability, o.scope, o.period, o.account);
    const id = `${key.pk}|${key.sk}`;
    const rec = this.limits.get(id) ?? { count: 0, targets: new Set<string>() };
    this.limits.set(id, rec);
    const { granted, fresh } = grantTargets(o.targets, rec.targets, rec.count, o.limit);
    rec.count += fresh.length;
    for (const t of fresh) rec.targets.add(t);
    return granted;
  }

  async acquireLease(o: AcquireLeaseOptions): Promise<LeaseResult> {
    const old = this.leases.get(o.name);
    if (old && old.expiresAt >= o.now.getTime() && old.holder !== o.holder) {
      return { acquired: false, holder: old.holder, expiresAt: new Date(old.expiresAt).toISOString() };
    }
    this.leases.set(o.name, { holder: o.holder, expiresAt: o.now.getTime() + o.ttlMs });
    return { acquired: true };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }
}
