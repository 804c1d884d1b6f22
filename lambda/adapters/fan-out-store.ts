/**
 * The units' reports of an organization run, in the state table: one item per unit, pk `fanout#<runId>`, sk
 * `<accountId>#<region>`, the report as JSON in `report` (bounded: core/organization/unit-report.ts), expiring after
 * {@link FAN_OUT_TTL_DAYS}. A unit delivered twice (a retried invocation) overwrites its own item; the digest step
 * reads the run's reports with one paginated Query.
 *
 * Calls: PutItem (each unit), Query (the digest).
 */
import { type AttributeValue, type DynamoDBClient, PutItemCommand, paginateQuery } from '@aws-sdk/client-dynamodb';
import type { UnitReport } from '../core/organization/unit-report';
import { S } from './state-table';

/** Reports are kept two weeks: the digest reads them minutes later; a person may look a few days after. */
export const FAN_OUT_TTL_DAYS = 14;

export const fanOutKey = (runId: string, accountId: string, region: string) => ({
  pk: `fanout#${runId}`,
  sk: `${accountId}#${region}`,
});

/** Stores (or replaces) a unit's report. */
export async function putUnitReport(
  client: DynamoDBClient,
  tableName: string,
  report: UnitReport,
  now: Date,
): Promise<void> {
  const key = fanOutKey(report.runId, report.accountId, report.region);
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        pk: S(key.pk),
        sk: S(key.sk),
        accountId: S(report.accountId),
        region: S(report.region),
        capability: S(report.capability),
        ok: { BOOL: report.ok },
        report: S(JSON.stringify(report)),
        ttl: { N: String(Math.floor(now.getTime() / 1000) + FAN_OUT_TTL_DAYS * 86_400) },
      },
    }),
  );
}

function parseReport(item: Record<string, AttributeValue>): UnitReport | undefined {
  const raw = item.report?.S;
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as UnitReport;
    return typeof parsed?.accountId === 'string' && typeof parsed.region === 'string' && typeof parsed.ok === 'boolean'
      ? parsed
      : undefined;
  } catch {
    return undefined;
  }
}

/** Every report of the run (a page per 1 MB); an item that is not a readable report counts as no report. */
export async function listUnitReports(client: DynamoDBClient, tableName: string, runId: string): Promise<UnitReport[]> {
  const reports: UnitReport[] = [];
  const pages = paginateQuery(
    { client },
    {
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': S(`fanout#${runId}`) },
      // The units wrote moments ago: a consistent read sees every report they stored.
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const report = parseReport(item);
      if (report) reports.push(report);
    }
  }
  return reports;
}
