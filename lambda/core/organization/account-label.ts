/**
 * Messages of a unit of an organization run name their account: "Account *research* (111122223333)" in the
 * notification text and in a context line under the title. A message already at Slack's 50 blocks gets no block
 * more: the label goes into its first block instead (a header's plain text, or a section's or context's mrkdwn).
 * Pure; the account name comes from Organizations and is escaped (raw in a plain_text header, where Slack parses
 * nothing).
 */
import {
  type Block,
  context,
  escapeName,
  fallbackText,
  header,
  MAX_BLOCKS_PER_MESSAGE,
  MAX_SECTION_TEXT,
  type SlackMessage,
  truncateMrkdwn,
} from '../slack-blocks';

export interface AccountLabel {
  readonly accountId: string;
  readonly accountName: string;
}

/** The label in mrkdwn (name escaped). */
export const accountLabelText = (a: AccountLabel): string =>
  `Account *${escapeName(a.accountName)}* (${escapeName(a.accountId)})`;

/** The label as plain text (for a header: Slack parses nothing there). */
const plainLabel = (a: AccountLabel): string => `${a.accountName} (${a.accountId})`;

/** The label in the message's first block, for a message with no room for one more. */
function labelFirst(first: Block, a: AccountLabel): Block {
  if (first.type === 'header') return header(`${plainLabel(a)} · ${first.text.text}`);
  if (first.type === 'section' && first.text?.type === 'mrkdwn') {
    return {
      ...first,
      text: { ...first.text, text: truncateMrkdwn(`${accountLabelText(a)} · ${first.text.text}`, MAX_SECTION_TEXT) },
    };
  }
  if (first.type === 'context' && first.elements[0]?.type === 'mrkdwn') {
    const [head, ...rest] = first.elements;
    return {
      ...first,
      elements: [{ ...head, text: truncateMrkdwn(`${accountLabelText(a)} · ${head.text}`, MAX_SECTION_TEXT) }, ...rest],
    };
  }
  return first;
}

/** `message` naming the account: in its text, and in a context line after its header (or in its first block). */
export function labelForAccount(message: SlackMessage, a: AccountLabel): SlackMessage {
  const text = fallbackText(`${accountLabelText(a)}: ${message.text}`);
  const blocks = [...message.blocks];
  if (blocks.length === 0) return { text, blocks };
  if (blocks.length < MAX_BLOCKS_PER_MESSAGE) {
    const at = blocks[0]!.type === 'header' ? 1 : 0;
    blocks.splice(at, 0, context(accountLabelText(a)));
    return { text, blocks };
  }
  return { text, blocks: [labelFirst(blocks[0]!, a), ...blocks.slice(1)] };
}
