/**
 * What the guard answers to a pressed button: the line that replaces the instance's buttons in the original message
 * ("kept until 14:00 UTC by @alice"), and the ephemeral answers only the presser sees ("not allowed", "already
 * stopped"). Pure. Text from AWS (a keep reason, an error message) is escaped; user IDs are checked IDs, shown as
 * mentions.
 */
import { utcTimeText } from '../keeps';
import { keepLengthText } from '../slack-actions';
import { context, escapeMrkdwn, escapeName, type TextContextBlock, truncate } from '../slack-blocks';

/** What one press came to. */
export type PressOutcome =
  | {
      readonly kind: 'kept';
      /** `keep` (reaper warning) or `keep-running` (budget guard). */
      readonly button: 'keep' | 'keep-running';
      readonly until: string;
      readonly hours: number;
      readonly by: string;
      /** The mirror tag was not written (dry run, or the write failed: the record stands either way). */
      readonly tag: 'written' | 'dry-run' | 'failed';
    }
  | { readonly kind: 'keep-superseded'; readonly until: string; readonly by: string }
  | {
      readonly kind: 'acted';
      readonly action: 'stop' | 'terminate' | 'start';
      readonly status: 'done' | 'dry-run';
      readonly by: string;
      readonly at: string;
    }
  /** The action was tried and failed: the buttons stay, the presser is told why. */
  | { readonly kind: 'failed'; readonly action: string; readonly error: string }
  /** Nothing done, for a reason the presser is told (already stopped, kept, opted out, limit reached…). */
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'not-allowed'; readonly reason: string };

/** A Slack user ID as a mention; anything else (an AWS principal from `cost-guard keep`) as escaped text. */
const mention = (userId: string) => (/^[UW][A-Z0-9]{2,20}$/.test(userId) ? `<@${userId}>` : escapeName(userId));

/** The context line that replaces the instance's buttons; undefined when the message stays as it is. */
export function outcomeLine(outcome: PressOutcome, now: Date): TextContextBlock | undefined {
  switch (outcome.kind) {
    case 'kept': {
      const what = outcome.button === 'keep-running' ? 'kept running' : 'kept';
      const tag = outcome.tag === 'dry-run' ? ' (dry run: the keep counts, the keep-until tag is not written)' : '';
      return context(
        `:hourglass: ${what} until ${utcTimeText(outcome.until, now)} (${keepLengthText(outcome.hours)}) by ${mention(outcome.by)}${tag}`,
      );
    }
    case 'acted': {
      const verb = { stop: 'stopped', terminate: 'terminated', start: 'restarted' }[outcome.action];
      if (outcome.status === 'dry-run')
        return context(
          `:test_tube: dry run: would have ${verb} it at ${utcTimeText(outcome.at, now)} (pressed by ${mention(outcome.by)}); nothing changed`,
        );
      return context(`:white_check_mark: ${verb} at ${utcTimeText(outcome.at, now)} by ${mention(outcome.by)}`);
    }
    default:
      return undefined;
  }
}

/** The ephemeral answer to the presser (plain mrkdwn, at most 3,000 characters). */
export function ephemeralText(outcome: PressOutcome, now: Date): string {
  switch (outcome.kind) {
    case 'kept':
      return `Kept until ${utcTimeText(outcome.until, now)}${outcome.tag === 'failed' ? ' (the keep-until tag could not be written; the keep on record counts)' : ''}.`;
    case 'keep-superseded':
      return `Not changed: a newer keep (until ${utcTimeText(outcome.until, now)} by ${mention(outcome.by)}) was set while yours was on its way.`;
    case 'acted':
      return (
        outcomeLine(outcome, now)
          ?.elements.map((e) => e.text)
          .join(' ') ?? ''
      );
    case 'failed':
      return truncate(`Could not ${outcome.action}: ${escapeMrkdwn(outcome.error)}. Nothing else changed.`, 3000);
    case 'refused':
      return truncate(`Nothing done: ${escapeMrkdwn(outcome.reason)}.`, 3000);
    case 'not-allowed':
      return truncate(`:no_entry: Not allowed: ${escapeMrkdwn(outcome.reason)}. Nothing changed.`, 3000);
  }
}
