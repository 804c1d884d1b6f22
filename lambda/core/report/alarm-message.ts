/** Turns a CloudWatch alarm notification (the JSON CloudWatch publishes to SNS) into a Slack message. Pure. */
import { context, fields, header, type SlackMessage, section } from '../slack-blocks';

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

export function alarmMessage(raw: string): SlackMessage {
  const alarm = parseAlarm(raw);
  if (!alarm) {
    return { text: 'ml-cost-guard notification', blocks: [header('ml-cost-guard notification'), section(raw)] };
  }
  const state = alarm.NewStateValue ?? 'UNKNOWN';
  const icon = state === 'ALARM' ? ':rotating_light:' : state === 'OK' ? ':white_check_mark:' : ':grey_question:';
  const title = `${state === 'OK' ? 'Resolved' : 'Alarm'}: ${alarm.AlarmName ?? 'unnamed alarm'}`;
  return {
    text: `${icon} ${title}`,
    blocks: [
      header(title),
      section(`${icon} ${alarm.AlarmDescription ?? 'ml-cost-guard alarm'}`),
      fields([
        ['State', `${alarm.OldStateValue ?? '?'} → ${state}`],
        ['When', alarm.StateChangeTime ?? 'unknown'],
        ['Account / region', `${alarm.AWSAccountId ?? '?'} / ${alarm.Region ?? '?'}`],
      ]),
      ...(alarm.NewStateReason ? [context(alarm.NewStateReason)] : []),
    ],
  };
}
