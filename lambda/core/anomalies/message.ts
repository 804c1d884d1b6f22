/**
 * Turns an AWS Cost Anomaly Detection notification (the JSON an IMMEDIATE subscription publishes to SNS) into a Slack
 * message: the impact, the root causes, the dates and a console link. Pure.
 *
 * Everything in an SNS message is untrusted: Cost Anomaly Detection writes it, but so could anyone allowed to publish
 * to the topic, and the values themselves (linked account names, usage types) are written by people. So:
 * - every field is read defensively (a number may come as a string, an object where text belongs, a field may be
 *   missing); a message that is not an anomaly at all is passed on as escaped text, never dropped, never a crash;
 * - every value is escaped for mrkdwn (headers are plain_text);
 * - the console link is built here from the monitor and anomaly IDs when both have the shape AWS gives them; the
 *   message's own `anomalyDetailsLink` is never made into a link (it could point anywhere).
 */
import { formatPercentValue, formatUsd } from '../money';
import {
  type Block,
  context,
  escapeMrkdwn,
  escapeMrkdwnLines,
  escapeName,
  fallbackText,
  fields,
  header,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  truncate,
} from '../slack-blocks';

/** A root cause as the notification gives it (each dimension may be absent). */
export interface AnomalyRootCause {
  readonly service?: string;
  readonly linkedAccount?: string;
  readonly linkedAccountName?: string;
  readonly region?: string;
  readonly usageType?: string;
  /** Dollars of the total impact this root cause contributed. */
  readonly contributionUsd?: number;
}

/** The fields of a notification the message uses, read defensively (see `parseAnomaly`). */
export interface AnomalyNotification {
  readonly anomalyId?: string;
  readonly accountId?: string;
  readonly monitorArn?: string;
  readonly monitorName?: string;
  readonly subscriptionName?: string;
  /** The monitored dimension value (the service, for a services monitor). */
  readonly dimensionalValue?: string;
  readonly startDate?: string;
  readonly endDate?: string;
  readonly totalImpactUsd?: number;
  readonly maxImpactUsd?: number;
  readonly totalActualSpendUsd?: number;
  readonly totalExpectedSpendUsd?: number;
  readonly totalImpactPercent?: number;
  readonly rootCauses: readonly AnomalyRootCause[];
}

/** Root causes listed in the message; the rest are counted. */
export const MAX_ROOT_CAUSES_SHOWN = 10;

/** The Cost Management console is served from us-east-1 (the same host as the budget links). */
const CONSOLE = 'https://us-east-1.console.aws.amazon.com/cost-management/home';
/** Monitor and anomaly IDs are UUIDs; anything else is not put in a link. */
const ID = /^[A-Za-z0-9-]{1,128}$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A text field: a string as it is, a number as written, anything else (objects, arrays, null, '') absent. */
function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A money or percent field: a finite number, or a string holding one ("1001.5"); anything else absent. */
function amount(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function rootCauseOf(v: unknown): AnomalyRootCause | undefined {
  if (!isObject(v)) return undefined;
  const cause: AnomalyRootCause = defined({
    service: text(v.service),
    linkedAccount: text(v.linkedAccount),
    linkedAccountName: text(v.linkedAccountName),
    region: text(v.region),
    usageType: text(v.usageType),
    contributionUsd: isObject(v.impact) ? amount(v.impact.contribution) : undefined,
  });
  return Object.keys(cause).length > 0 ? cause : undefined;
}

/**
 * Parses an SNS message body as an anomaly notification: undefined when it is not JSON, not an object, or has
 * neither an `anomalyId` nor an `impact` object (then it is not an anomaly and is shown as text).
 */
export function parseAnomaly(message: string): AnomalyNotification | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const impact = isObject(parsed.impact) ? parsed.impact : undefined;
  if (text(parsed.anomalyId) === undefined && !impact) return undefined;
  const causes = Array.isArray(parsed.rootCauses) ? parsed.rootCauses : [];
  return {
    ...defined({
      anomalyId: text(parsed.anomalyId),
      accountId: text(parsed.accountId),
      monitorArn: text(parsed.monitorArn),
      monitorName: text(parsed.monitorName),
      subscriptionName: text(parsed.subscriptionName),
      dimensionalValue: text(parsed.dimensionalValue),
      startDate: text(parsed.anomalyStartDate),
      endDate: text(parsed.anomalyEndDate),
      totalImpactUsd: amount(impact?.totalImpact),
      maxImpactUsd: amount(impact?.maxImpact),
      totalActualSpendUsd: amount(impact?.totalActualSpend),
      totalExpectedSpendUsd: amount(impact?.totalExpectedSpend),
      totalImpactPercent: amount(impact?.totalImpactPercentage),
    }),
    rootCauses: causes.flatMap((c) => rootCauseOf(c) ?? []),
  };
}

/** The monitor's ID: the last segment of `arn:aws:ce::<account>:anomalymonitor/<id>`. */
function monitorIdOf(arn: string | undefined): string | undefined {
  const id = arn?.match(/^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor\/([^/]+)$/)?.[1];
  return id && ID.test(id) ? id : undefined;
}

/**
 * The anomaly's page in the Cost Management console, built from the IDs (both UUID-shaped); the anomaly list of
 * Cost Anomaly Detection when they are missing or malformed.
 */
export function anomalyConsoleUrl(a: Pick<AnomalyNotification, 'monitorArn' | 'anomalyId'>): string {
  const monitor = monitorIdOf(a.monitorArn);
  const anomaly = a.anomalyId && ID.test(a.anomalyId) ? a.anomalyId : undefined;
  return monitor && anomaly
    ? `${CONSOLE}#/anomaly-detection/monitors/${monitor}/anomalies/${anomaly}`
    : `${CONSOLE}#/anomaly-detection/overview`;
}

/** A date of the notification: `2021-05-25T00:00:00Z` reads 2021-05-25; anything else is shown escaped as given. */
function dateText(v: string | undefined): string {
  if (!v) return 'unknown';
  const day = /^(\d{4}-\d{2}-\d{2})(T00:00:00(\.0+)?Z)?$/.exec(v)?.[1];
  return day ?? escapeName(v);
}

function period(a: AnomalyNotification): string {
  const start = dateText(a.startDate);
  const end = dateText(a.endDate);
  return start === end ? start : `${start} to ${end}`;
}

const usd = (v: number | undefined) => (v === undefined ? 'unknown' : formatUsd(v));

/** One root cause on one line: service, account (name and ID), region, usage type, contribution. */
function causeLine(c: AnomalyRootCause, n: number): string {
  const parts: string[] = [];
  if (c.service) parts.push(`*${escapeName(c.service)}*`);
  if (c.linkedAccount || c.linkedAccountName) {
    const name = c.linkedAccountName ? escapeName(c.linkedAccountName) : '';
    const id = c.linkedAccount ? escapeName(c.linkedAccount) : '';
    parts.push(`account ${name && id ? `${name} (${id})` : name || id}`);
  }
  if (c.region) parts.push(`region ${escapeName(c.region)}`);
  if (c.usageType) parts.push(`usage type ${escapeName(c.usageType)}`);
  const contribution = c.contributionUsd !== undefined ? `: ${formatUsd(c.contributionUsd)}` : '';
  return `${n}. ${parts.join(', ') || 'no detail given'}${contribution}`;
}

/** Root-cause lines packed into sections of at most MAX_SECTION_TEXT characters. */
function causeBlocks(causes: readonly AnomalyRootCause[]): Block[] {
  if (causes.length === 0) return [section('*Root causes:* none given in the notification; open the anomaly.')];
  const shown = causes.slice(0, MAX_ROOT_CAUSES_SHOWN).map((c, i) => causeLine(c, i + 1));
  if (causes.length > shown.length) shown.push(`…and ${causes.length - shown.length} more in the console.`);
  const blocks: Block[] = [];
  let current = '*Root causes:*';
  for (const line of shown) {
    if (current.length + 1 + line.length > MAX_SECTION_TEXT) {
      blocks.push(section(current));
      current = line;
    } else current = `${current}\n${line}`;
  }
  blocks.push(section(current));
  return blocks;
}

/** The headline: `+$1,001.00 (333.7%) unusual spend on Amazon SageMaker` (raw name; escape it for mrkdwn). */
function headline(a: AnomalyNotification, where: string): string {
  const impact = a.totalImpactUsd !== undefined ? `+${formatUsd(a.totalImpactUsd)}` : 'Unusual spend';
  const percent = a.totalImpactPercent !== undefined ? ` (${formatPercentValue(a.totalImpactPercent)})` : '';
  const what = a.totalImpactUsd !== undefined ? ' unusual spend' : '';
  return `${impact}${percent}${what}${where ? ` on ${where}` : ''}`;
}

/** The Slack message for an anomaly notification. */
export function anomalyMessage(a: AnomalyNotification): SlackMessage {
  const top = a.rootCauses[0];
  const where = truncate(a.dimensionalValue ?? top?.service ?? '', 80);
  const title = headline(a, where);
  const spend =
    a.totalActualSpendUsd !== undefined || a.totalExpectedSpendUsd !== undefined
      ? `${usd(a.totalActualSpendUsd)} spent, ${usd(a.totalExpectedSpendUsd)} expected`
      : 'unknown';
  const source = a.monitorName
    ? `, monitor ${escapeName(a.monitorName)}`
    : a.subscriptionName
      ? `, subscription ${escapeName(a.subscriptionName)}`
      : '';
  const blocks: Block[] = [
    // plain_text: the service name is shown as written.
    header(`💸 ${title}`),
    fields([
      ['Total impact', usd(a.totalImpactUsd)],
      ['Impact', a.totalImpactPercent !== undefined ? formatPercentValue(a.totalImpactPercent) : 'unknown'],
      ['Actual vs expected', spend],
      ['Largest daily impact', usd(a.maxImpactUsd)],
      ['Dates', period(a)],
      ['Account', a.accountId ? escapeName(a.accountId) : 'unknown'],
    ]),
    ...causeBlocks(a.rootCauses),
    section(`<${anomalyConsoleUrl(a)}|Open the anomaly in the AWS console>`),
    context(
      `AWS Cost Anomaly Detection${source}` +
        `${a.anomalyId ? `, anomaly ${escapeName(a.anomalyId)}` : ''}. ` +
        'Mark it as expected or not in the console to train the detection.',
    ),
  ];
  return { text: fallbackText(`💸 ${escapeMrkdwn(title)}`), blocks };
}

/**
 * The message for one SNS message body: an anomaly's message, or (for anything that is not an anomaly) a plain
 * message with the raw text escaped. Never throws.
 */
export function anomalyNotificationMessage(raw: string): SlackMessage {
  const anomaly = parseAnomaly(raw);
  if (anomaly) return anomalyMessage(anomaly);
  const title = 'ml-cost-guard: a message on the anomaly topic that is not an anomaly';
  return {
    text: fallbackText(title),
    blocks: [
      header(title),
      section(raw.trim() ? escapeMrkdwnLines(raw) : '(empty message)'),
      context('Shown as received. Cost Anomaly Detection notifications are JSON with an anomalyId and an impact.'),
    ],
  };
}
