/**
 * Block Kit helpers that keep every message inside Slack's limits (50 blocks a message, 3,000 characters a section
 * text, 10 fields a section). Pure.
 */

export const MAX_BLOCKS_PER_MESSAGE = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_SECTION_FIELDS = 10;
export const MAX_HEADER_TEXT = 150;

export interface TextObject {
  readonly type: 'mrkdwn' | 'plain_text';
  readonly text: string;
}
export interface SectionBlock {
  readonly type: 'section';
  readonly text?: TextObject;
  readonly fields?: readonly TextObject[];
}
export interface HeaderBlock {
  readonly type: 'header';
  readonly text: TextObject;
}
export interface ContextBlock {
  readonly type: 'context';
  readonly elements: readonly TextObject[];
}
export interface DividerBlock {
  readonly type: 'divider';
}
export type Block = SectionBlock | HeaderBlock | ContextBlock | DividerBlock;

/** One Slack message: `text` is the notification fallback, `blocks` the rich body. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(text, MAX_HEADER_TEXT) },
});

export const section = (text: string): SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: truncate(text, MAX_SECTION_TEXT) },
});

export const fields = (pairs: ReadonlyArray<readonly [string, string]>): SectionBlock => ({
  type: 'section',
  fields: pairs.slice(0, MAX_SECTION_FIELDS).map(([k, v]) => ({
    type: 'mrkdwn' as const,
    text: truncate(`*${k}*\n${v}`, 2000),
  })),
});

export const context = (text: string): ContextBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: truncate(text, MAX_SECTION_TEXT) }],
});

export const divider = (): DividerBlock => ({ type: 'divider' });

/**
 * Splits a long digest into messages of at most 50 blocks. The head blocks (title) open every message and the
 * fallback text says which part it is, so a reader of any one message knows there are others.
 */
export function splitIntoMessages(
  text: string,
  head: readonly Block[],
  body: readonly Block[],
  maxBlocks = MAX_BLOCKS_PER_MESSAGE,
): SlackMessage[] {
  const room = maxBlocks - head.length;
  if (room < 1) throw new RangeError(`head has ${head.length} blocks; a message holds at most ${maxBlocks}`);
  if (body.length <= room) return [{ text, blocks: [...head, ...body] }];
  const parts: SlackMessage[] = [];
  const total = Math.ceil(body.length / room);
  for (let i = 0; i < body.length; i += room) {
    const n = parts.length + 1;
    parts.push({ text: `${text} (part ${n} of ${total})`, blocks: [...head, ...body.slice(i, i + room)] });
  }
  return parts;
}

/** Renders a message as plain text, for the CLI and logs when no Slack token is configured. */
export function messageToText(message: SlackMessage): string {
  const lines: string[] = [];
  for (const b of message.blocks) {
    if (b.type === 'header') lines.push(`== ${b.text.text} ==`);
    else if (b.type === 'section') {
      if (b.text) lines.push(b.text.text);
      if (b.fields) lines.push(b.fields.map((f) => f.text.replace('\n', ': ')).join(' | '));
    } else if (b.type === 'context') lines.push(b.elements.map((e) => e.text).join(' '));
    else lines.push('---');
  }
  return lines.join('\n');
}
