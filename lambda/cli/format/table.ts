/**
 * Tables for the terminal and for markdown. Terminal tables fit the terminal's width: a long cell wraps onto more
 * lines of its column (between words; a word longer than the column is split), never cut, and a row may carry a
 * detail line (its reason) wrapped across the whole width under it. Markdown tables escape what GitHub would read
 * as markup, and always end with a blank line so the next paragraph is not swallowed into the table.
 *
 * Every cell goes through `terminalText` (or `markdownText`): AWS values such as Name tags may hold control
 * characters that would move the cursor or recolour a terminal.
 */

/** Width of a terminal that does not say (output piped to a file or another program). */
export const DEFAULT_WIDTH = 100;
/** Space between two columns. */
const GAP = '  ';

export interface Column {
  readonly header: string;
  /** Numbers read best right-aligned. @default 'left' */
  readonly align?: 'left' | 'right';
}

export interface TableRow {
  readonly cells: readonly string[];
  /** A line under the row, across the whole width (the reason of a decision): wrapped, never cut. */
  readonly detail?: string;
}

// C0 and C1 control characters, DEL, and the bidirectional overrides and isolates that reorder what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** A value as one line of plain text for a terminal: control characters become a space. */
export function terminalText(text: string): string {
  return text.replace(CONTROL, ' ').replace(/ {2,}/g, ' ').trim();
}

/** A value as markdown text: one line, with the characters GitHub reads as markup (and table pipes) escaped. */
export function markdownText(text: string): string {
  return terminalText(text).replace(/[\\`*_[\]<>|~#]/g, (c) => `\\${c}`);
}

const length = (s: string): number => [...s].length;

/** Splits text into lines of at most `width` characters, between words when it can. */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ').filter((s) => s.length > 0)) {
    let rest = word;
    // A word longer than the column is split.
    while (length(rest) > w) {
      if (line) {
        lines.push(line);
        line = '';
      }
      const chars = [...rest];
      lines.push(chars.slice(0, w).join(''));
      rest = chars.slice(w).join('');
    }
    if (!rest) continue;
    if (!line) line = rest;
    else if (length(line) + 1 + length(rest) <= w) line = `${line} ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * Prose for a terminal of `width` columns: wrapped between words, the first line after `indent`, the next ones after
 * `hanging` (so a list item or a note reads as one block). Joined with newlines.
 */
export function paragraph(text: string, width = DEFAULT_WIDTH, indent = '', hanging = indent): string {
  const lines = wrap(terminalText(text), Math.max(20, width - Math.max(indent.length, hanging.length)));
  return lines.map((l, i) => `${i === 0 ? indent : hanging}${l}`).join('\n');
}

const longestWord = (s: string): number => Math.max(0, ...s.split(' ').map(length));

/**
 * Column widths that fit `width`: each column as wide as its longest cell when all fit; else the widest columns
 * give way first, down to their longest word (so words are not split while anything else can give), then further.
 */
export function columnWidths(cells: readonly (readonly string[])[], width: number): number[] {
  const n = cells[0]?.length ?? 0;
  const natural = Array.from({ length: n }, (_, i) => Math.max(1, ...cells.map((r) => length(r[i] ?? ''))));
  const room = width - GAP.length * (n - 1);
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0);
  for (const floor of [
    Array.from({ length: n }, (_, i) =>
      Math.min(natural[i]!, Math.max(1, ...cells.map((r) => longestWord(r[i] ?? '')))),
    ),
    Array.from({ length: n }, () => 4),
  ]) {
    while (total() > room) {
      let widest = -1;
      for (let i = 0; i < n; i++) {
        if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
      }
      if (widest < 0) break;
      widths[widest]! -= 1;
    }
  }
  return widths;
}

/** A table for a terminal of `width` columns (the header underlined with dashes). */
export function renderTable(columns: readonly Column[], rows: readonly TableRow[], width = DEFAULT_WIDTH): string {
  const header = columns.map((c) => terminalText(c.header));
  const body = rows.map((r) => columns.map((_, i) => terminalText(r.cells[i] ?? '')));
  const widths = columnWidths([header, ...body], width);
  const line = (cells: readonly string[]): string[] => {
    const wrapped = cells.map((c, i) => wrap(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) =>
      wrapped
        .map((w, i) => {
          const text = w[k] ?? '';
          const pad = widths[i]! - length(text);
          return columns[i]!.align === 'right' ? ' '.repeat(pad) + text : text + ' '.repeat(pad);
        })
        .join(GAP)
        .trimEnd(),
    );
  };
  const out = [...line(header), widths.map((w) => '-'.repeat(w)).join(GAP)];
  rows.forEach((r, n) => {
    out.push(...line(body[n]!));
    if (r.detail) out.push(...wrap(terminalText(r.detail), width - 4).map((l) => `    ${l}`));
  });
  return out.join('\n');
}

/**
 * A GitHub-flavoured markdown table: a row's detail becomes its last column (`detailHeader`). Ends with an empty
 * line, so that text after it starts a new paragraph.
 */
export function renderMarkdownTable(
  columns: readonly Column[],
  rows: readonly TableRow[],
  detailHeader?: string,
): string {
  const withDetail = detailHeader !== undefined;
  const heads = [...columns.map((c) => c.header), ...(withDetail ? [detailHeader] : [])];
  const rule = [...columns.map((c) => (c.align === 'right' ? '---:' : '---')), ...(withDetail ? ['---'] : [])];
  const cell = (s: string) => markdownText(s) || ' ';
  const lines = [
    `| ${heads.map(cell).join(' | ')} |`,
    `| ${rule.join(' | ')} |`,
    ...rows.map(
      (r) =>
        `| ${[...columns.map((_, i) => r.cells[i] ?? ''), ...(withDetail ? [r.detail ?? ''] : [])].map(cell).join(' | ')} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
