/**
 * The launch cap's record in the state table: one item per budget, pk `launchcap#<budget>`, sk `cap`, holding the
 * LaunchCapRecord (lambda/core/budgets/launch-cap.ts) the budget guard decides from, and `cost-guard restore`
 * writes when it lifts a cap. GetItem (consistent) and PutItem only: the budget guard runs one at a time (reserved
 * concurrency 1) and the CLI takes the same run lease, so the writes never race. Items expire after
 * STATE_TTL_DAYS without a write (longer than any budget period).
 */
import { type AttributeValue, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { LaunchCapRecord } from '../core/budgets/launch-cap';
import { STATE_TTL_DAYS } from './state-store';

export const launchCapKey = (budget: string) => ({ pk: `launchcap#${budget}`, sk: 'cap' });

export interface LaunchCapStore {
  get(budget: string): Promise<LaunchCapRecord | undefined>;
  put(record: LaunchCapRecord, now: Date): Promise<void>;
}

const S = (s: string): AttributeValue => ({ S: s });
const list = (values: readonly string[] | undefined): AttributeValue => ({ L: (values ?? []).map(S) });

function strings(v: AttributeValue | undefined): string[] {
  return (v?.L ?? []).flatMap((x) => (x.S !== undefined ? [x.S] : []));
}

/** A stored item as a record; undefined for an item that is not one (missing fields, unknown status). */
function toRecord(item: Record<string, AttributeValue>): LaunchCapRecord | undefined {
  const status = item.status?.S;
  const budget = item.budget?.S;
  const period = item.period?.S;
  const periodEnd = item.periodEnd?.S;
  const policyArn = item.policyArn?.S;
  if (!budget || !period || !periodEnd || !policyArn) return undefined;
  if (status !== 'attached' && status !== 'lifted' && status !== 'detached') return undefined;
  const endedBy = item.endedBy?.S;
  return {
    budget,
    status,
    period,
    periodEnd,
    policyArn,
    roles: strings(item.roles),
    failed: strings(item.failed),
    announced: strings(item.announced),
    ...(item.attachedAt?.S ? { attachedAt: item.attachedAt.S } : {}),
    ...(item.endedAt?.S ? { endedAt: item.endedAt.S } : {}),
    ...(endedBy === 'period-ended' || endedBy === 'cap-off' || endedBy === 'roles-changed' || endedBy === 'restore'
      ? { endedBy }
      : {}),
  };
}

export class DynamoLaunchCapStore implements LaunchCapStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(budget: string): Promise<LaunchCapRecord | undefined> {
    const key = launchCapKey(budget);
    const res = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: S(key.pk), sk: S(key.sk) }, ConsistentRead: true }),
    );
    return res.Item ? toRecord(res.Item) : undefined;
  }

  async put(r: LaunchCapRecord, now: Date): Promise<void> {
    const key = launchCapKey(r.budget);
    const item: Record<string, AttributeValue> = {
      pk: S(key.pk),
      sk: S(key.sk),
      budget: S(r.budget),
      status: S(r.status),
      period: S(r.period),
      periodEnd: S(r.periodEnd),
      policyArn: S(r.policyArn),
      roles: list(r.roles),
      failed: list(r.failed),
      announced: list(r.announced),
      updatedAt: S(now.toISOString()),
      ttl: { N: String(Math.floor(now.getTime() / 1000) + STATE_TTL_DAYS * 86_400) },
      ...(r.attachedAt ? { attachedAt: S(r.attachedAt) } : {}),
      ...(r.endedAt ? { endedAt: S(r.endedAt) } : {}),
      ...(r.endedBy ? { endedBy: S(r.endedBy) } : {}),
    };
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}

/** No state table (tests, a dry run that only prints): records last for this process. */
export class MemoryLaunchCapStore implements LaunchCapStore {
  readonly records = new Map<string, LaunchCapRecord>();

  async get(budget: string): Promise<LaunchCapRecord | undefined> {
    return this.records.get(budget);
  }

  async put(record: LaunchCapRecord): Promise<void> {
    this.records.set(record.budget, record);
  }
}
