/**
 * Turns a CloudWatch alarm notification (the JSON CloudWatch publishes to SNS) into a Slack message. Pure.
 * Everything in an SNS message is untrusted (anyone allowed to publish to the topic writes it): every value is
 * shown as text, never as markup, whatever its type.
 */
import {
  context,
  escapeMrkdwnLines,
  escapeName,
  fallbackText,
  fields,
  header,
  type SlackMessage,
  section,
} from '../slack-blocks';

export interface AlarmNotification {
  readonly AlarmName?: string;
  readonly AlarmDescription?: string | null;
  readonly NewStateValue?: string;
  readonly OldStateValue?: string;
  readonly NewStateReason?: string;
  readonly StateChangeTime?: string;
  readonly Region?: string;
  readonly AWSAccountId?: string;
}

/** Parses an SNS message body; text that is not an alarm's JSON is passed on as it is. */
export function parseAlarm(message: string): AlarmNotification | undefined {
  try {
    const parsed = JSON.parse(message) as unknown;
    return parsed && typeof parsed === 'object' && 'AlarmName' in parsed ? (parsed as AlarmNotification) : undefined;
  } catch {
    return undefined;
  }
}

/** A field of the notification as text: JSON may hold a number, an object or null where a string belongs. */
function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function alarmMessage(raw: string): SlackMessage {
  const alarm = parseAlarm(raw);
  if (!alarm) {
    return {
      text: 'ml-cost-guard notification',
      blocks: [header('ml-cost-guard notification'), section(raw.trim() ? escapeMrkdwnLines(raw) : '(empty message)')],
    };
  }
  const state = textOf(alarm.NewStateValue) ?? 'UNKNOWN';
  const name = textOf(alarm.AlarmName) ?? 'unnamed alarm';
  const description = textOf(alarm.AlarmDescription);
  const reason = textOf(alarm.NewStateReason);
  const icon = state === 'ALARM' ? ':rotating_light:' : state === 'OK' ? ':white_check_mark:' : ':grey_question:';
  const verb = state === 'OK' ? 'Resolved' : 'Alarm';
  const value = (v: unknown, otherwise: string) => escapeName(textOf(v) ?? otherwise);
  return {
    text: fallbackText(`${icon} ${verb}: ${escapeName(name)}`),
    blocks: [
      // plain_text: the name is shown as written.
      header(`${verb}: ${name}`),
      section(`${icon} ${description ? escapeMrkdwnLines(description) : 'ml-cost-guard alarm'}`),
      fields([
        ['State', `${value(alarm.OldStateValue, '?')} → ${escapeName(state)}`],
        ['When', value(alarm.StateChangeTime, 'unknown')],
        ['Account / region', `${value(alarm.AWSAccountId, '?')} / ${value(alarm.Region, '?')}`],
      ]),
      ...(reason ? [context(escapeMrkdwnLines(reason))] : []),
    ],
  };
}
