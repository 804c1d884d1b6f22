/**
 * Block Kit helpers that keep every message inside Slack's limits (50 blocks a message, 3,000 characters a section
 * text, 10 fields a section, 150 a header) and keep text from AWS from being read as markup. Pure.
 *
 * Text from AWS (tags, names, error messages, alarm and SNS text) is untrusted: a tag value `<!channel>` would page
 * a whole channel, `<https://evil.example|click>` would be a disguised link, `*x*` would format. Two rules hold it:
 * - in mrkdwn (sections, fields, context, and a message's `text`, which notifications render as mrkdwn) every such
 *   value goes through `escapeMrkdwn` / `escapeName` (one line) or `escapeMrkdwnLines` (prose);
 * - headers are plain_text, where Slack parses nothing: the builders pass the raw value and `header` makes it one
 *   line.
 * Mrkdwn text objects are `verbatim`, so Slack does not turn a bare URL or `@channel` in a value into a link or a
 * mention either. Every cut falls between graphemes and never inside an entity.
 */
import type {
  ActionsBlock,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  MrkdwnElement,
  SectionBlock,
  TextObject,
} from '@slack/types';

export const MAX_BLOCKS_PER_MESSAGE = 50;
export const MAX_SECTION_TEXT = 3000;
export const MAX_SECTION_FIELDS = 10;
export const MAX_HEADER_TEXT = 150;
/** Slack's limit on one field of a section. */
export const MAX_FIELD_TEXT = 2000;
/** A message's `text` (the notification); Slack takes more, a notification shows far less. */
export const MAX_FALLBACK_TEXT = 3000;
/** The longest a name or tag value is shown (AWS allows 256 characters in a tag value). */
export const MAX_NAME_TEXT = 256;

export type {
  ActionsBlock,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  MrkdwnElement,
  SectionBlock,
  TextObject,
} from '@slack/types';

/** A context block of text elements only (Slack's also takes images; the guard shows none). */
export type TextContextBlock = Omit<ContextBlock, 'elements'> & { elements: TextObject[] };

/**
 * The Block Kit blocks the guard's messages are built from: Slack's own types, a subset of its `KnownBlock`. Actions
 * blocks (buttons) come only from lambda/core/slack-actions.ts.
 */
export type Block = SectionBlock | HeaderBlock | TextContextBlock | DividerBlock | ActionsBlock;

/** One Slack message: `text` is the notification fallback, `blocks` the rich body. */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly Block[];
}

const graphemes: Intl.Segmenter | undefined =
  typeof Intl.Segmenter === 'function' ? new Intl.Segmenter('en', { granularity: 'grapheme' }) : undefined;

function* graphemesOf(text: string): Generator<string> {
  if (graphemes) for (const s of graphemes.segment(text)) yield s.segment;
  else yield* text;
}

/** ASCII from space to tilde: no rule of Unicode's grapheme segmentation (UAX #29) joins two such characters. */
const PLAIN = /^[\x20-\x7e]{2}$/;

/** The longest prefix of whole graphemes (code points without Intl.Segmenter) of at most `max` UTF-16 units. */
function graphemePrefix(text: string, max: number): string {
  // The usual case, and no segmenting: the characters on both sides of the cut are plain ASCII, so a grapheme boundary
  // falls exactly there. Only the rules for emoji ZWJ sequences and flags look past the two neighbours, and both need a
  // non-ASCII character on each side of the boundary they remove.
  if (max > 0 && max < text.length && PLAIN.test(text.slice(max - 1, max + 1))) return text.slice(0, max);
  let out = '';
  // Segment only what can be kept (plus the units that decide whether a boundary falls at `max`): segmenting a long
  // text whole for every cut made long digests quadratic. Boundaries before the slice's end do not depend on what
  // follows it, and the piece that crosses `max` is dropped either way.
  for (const piece of graphemesOf(text.slice(0, max + 2))) {
    if (out.length + piece.length > max) break;
    out += piece;
  }
  return out;
}

/**
 * `text` in at most `max` UTF-16 units (what Slack counts), cut between graphemes and ended with `…` when cut: never
 * half an emoji, never an unpaired surrogate.
 */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${cutBeforeEllipsis(graphemePrefix(text, max - 1))}…`;
}

/**
 * A cut's kept part without trailing zero-width joiners: Unicode lets a joiner end a grapheme (after a character that
 * is not an emoji), but a joiner before `…` would try to join it (and reads as a cut sequence).
 */
function cutBeforeEllipsis(kept: string): string {
  return kept.replace(/\u200D+$/, '');
}

/**
 * Like `truncate`, for mrkdwn: a cut never leaves half an entity (`&am`) or a guarded formatting character without
 * its closing guard.
 */
export function truncateMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${cutBeforeEllipsis(graphemePrefix(text, max - 1).replace(/&[a-z]{0,3}$|\u200B[*_~`]$/, ''))}…`;
}

/** Unpaired UTF-16 surrogates (text from JSON such as an SNS message can hold them). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const LINE_BREAK_OR_CONTROL = /\r\n|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/** Text whose every UTF-16 surrogate is paired (broken ones become U+FFFD): safe for encodeURIComponent. */
export function wellFormed(text: string): string {
  return String(text).replace(LONE_SURROGATE, '\uFFFD');
}

/** Untrusted text on one line: line breaks and control characters become spaces, broken surrogates U+FFFD. */
export function oneLine(text: string): string {
  return String(text).replace(LONE_SURROGATE, '\uFFFD').replace(LINE_BREAK_OR_CONTROL, ' ');
}

/** Untrusted prose: line breaks kept (as `\n`), other control characters become spaces, broken surrogates U+FFFD. */
function prose(text: string): string {
  return String(text)
    .replace(LONE_SURROGATE, '\uFFFD')
    .replace(/\r\n|[\r\u2028\u2029]/g, '\n')
    .replace(CONTROL_BUT_NEWLINE, ' ');
}

/**
 * Zero-width space on both sides of a formatting character: whether Slack counts it as a word character or as a
 * space, a `*`, `_`, `~` or backtick so guarded can neither open nor close bold, italics, strike-through or code
 * (mrkdwn has no escape for them). The reader sees the character as written.
 */
const GUARD = '\u200B';

function escapeMarkup(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[*_~`]/g, (c) => `${GUARD}${c}${GUARD}`);
}

/**
 * Untrusted text (from AWS: a tag, a name, an error message) for mrkdwn, on one line: `& < >` become entities (so
 * `<!channel>` and `<https://evil|click>` are shown, not parsed), formatting characters cannot format, and line
 * breaks and control characters become spaces.
 */
export function escapeMrkdwn(text: string): string {
  return escapeMarkup(oneLine(text));
}

/** Like `escapeMrkdwn`, for prose that may keep its line breaks (an alarm description, an SNS message). */
export function escapeMrkdwnLines(text: string): string {
  return escapeMarkup(prose(text));
}

/**
 * Untrusted text inside an inline code span (a command to copy): one line, `& < >` escaped, backticks guarded. The
 * other formatting characters do nothing inside code and stay as written, so the copied command still works.
 */
export function escapeCode(text: string): string {
  return oneLine(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/`/g, `${GUARD}\`${GUARD}`);
}

/** A name or tag value from AWS for mrkdwn: one line, at most MAX_NAME_TEXT characters, escaped. */
export function escapeName(text: string): string {
  return escapeMrkdwn(truncate(oneLine(text), MAX_NAME_TEXT));
}

/** Mrkdwn as a reader sees it: guards dropped and entities decoded (for the console, never for Slack). */
export function unescapeMrkdwn(text: string): string {
  return text
    .replace(/\u200B([*_~`])\u200B/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A message's `text` (mrkdwn, shown in notifications): within MAX_FALLBACK_TEXT. Escape AWS values in it first. */
export const fallbackText = (text: string): string => truncateMrkdwn(text, MAX_FALLBACK_TEXT);

/** Slack rejects a message with an empty text object: an empty value must not lose the whole message. */
const nonEmpty = (text: string): string => (text.trim() === '' ? '(empty)' : text);

const mrkdwn = (text: string, max: number): MrkdwnElement => ({
  type: 'mrkdwn',
  text: truncateMrkdwn(nonEmpty(text), max),
  verbatim: true,
});

/** A header: plain_text (Slack parses nothing in it), one line, at most 150 characters. Pass AWS values raw. */
export const header = (text: string): HeaderBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: truncate(nonEmpty(oneLine(text)), MAX_HEADER_TEXT) },
});

/** A mrkdwn section of at most 3,000 characters; AWS values in `text` must be escaped already. */
export const section = (text: string): SectionBlock => ({
  type: 'section',
  text: mrkdwn(text, MAX_SECTION_TEXT),
});

/** Up to 10 `*key*` / value fields; AWS values must be escaped already. */
export const fields = (pairs: ReadonlyArray<readonly [string, string]>): SectionBlock => ({
  type: 'section',
  fields: pairs.slice(0, MAX_SECTION_FIELDS).map(([k, v]) => mrkdwn(`*${k}*\n${v}`, MAX_FIELD_TEXT)),
});

export const context = (text: string): TextContextBlock => ({
  type: 'context',
  elements: [mrkdwn(text, MAX_SECTION_TEXT)],
});

export const divider = (): DividerBlock => ({ type: 'divider' });

/**
 * A run of body blocks that must stay in one message: an instance's section and the actions block of its buttons (a
 * button far from the text it acts on would be pressed for the wrong instance).
 */
export type BlockGroup = readonly Block[];

/** Messages of a split digest, and the message each body group landed in. */
export interface SplitPlan {
  readonly messages: SlackMessage[];
  /** `groupMessage[i]` is the index in `messages` of body group i. */
  readonly groupMessage: readonly number[];
}

/**
 * Splits a long digest into messages of at most 50 blocks, keeping each group of body blocks whole. The head blocks
 * (title) open every message and the fallback text says which part it is, so a reader of any one message knows there
 * are others. A group larger than a message's room is cut into pieces of that size (never the case for the
 * builders' groups of one or two blocks).
 */
export function splitGroups(
  text: string,
  head: readonly Block[],
  groups: readonly BlockGroup[],
  maxBlocks = MAX_BLOCKS_PER_MESSAGE,
): SplitPlan {
  const room = maxBlocks - head.length;
  if (room < 1) throw new RangeError(`head has ${head.length} blocks; a message holds at most ${maxBlocks}`);
  const bodies: Block[][] = [[]];
  const groupMessage: number[] = [];
  for (const group of groups) {
    for (let start = 0; start < Math.max(group.length, 1); start += room) {
      const piece = group.slice(start, start + room);
      if (bodies.at(-1)!.length + piece.length > room) bodies.push([]);
      if (start === 0) groupMessage.push(bodies.length - 1);
      bodies.at(-1)!.push(...piece);
    }
  }
  if (bodies.length === 1)
    return { messages: [{ text: fallbackText(text), blocks: [...head, ...bodies[0]!] }], groupMessage };
  const shortText = truncateMrkdwn(text, MAX_FALLBACK_TEXT - 30);
  const messages = bodies.map((body, i) => ({
    text: `${shortText} (part ${i + 1} of ${bodies.length})`,
    blocks: [...head, ...body],
  }));
  return { messages, groupMessage };
}

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
  return splitGroups(
    text,
    head,
    body.map((b) => [b]),
    maxBlocks,
  ).messages;
}

/** Renders a message as plain text, for the CLI and logs when no Slack token is configured. */
export function messageToText(message: SlackMessage): string {
  const read = (t: TextObject) => (t.type === 'mrkdwn' ? unescapeMrkdwn(t.text) : t.text);
  const lines: string[] = [];
  for (const b of message.blocks) {
    if (b.type === 'header') lines.push(`== ${read(b.text)} ==`);
    else if (b.type === 'section') {
      if (b.text) lines.push(read(b.text));
      if (b.fields) lines.push(b.fields.map((f) => read(f).replace('\n', ': ')).join(' | '));
    } else if (b.type === 'context') lines.push(b.elements.map(read).join(' '));
    else if (b.type === 'actions')
      continue; // buttons do nothing outside Slack
    else lines.push('---');
  }
  return lines.join('\n');
}

/** Packs lines into sections of at most MAX_SECTION_TEXT characters. */
export function lineSections(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > MAX_SECTION_TEXT) {
      blocks.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) blocks.push(section(current));
  return blocks;
}
