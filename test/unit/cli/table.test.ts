import { Lexer, type Tokens } from 'marked';
import {
  columnWidths,
  markdownText,
  renderMarkdownTable,
  renderTable,
  terminalText,
  wrap,
} from '../../../lambda/cli/format/table';

const LONG_REASON =
  'idle for 60 min: GPU max 0.4%, GPU memory 312 MB used, CPU max 1.2%, network 0.3 MB/h; warned in Slack at ' +
  '2026-11-15T11:00:00.000Z, acts at 2026-11-15T12:00:00.000Z if still idle';

describe('Function: terminalText', () => {
  it('removes control characters and bidirectional overrides from AWS values', () => {
    expect(terminalText('notebook\u001b[31m-alice\u0007\nrm -rf\u202e')).toBe('notebook [31m-alice rm -rf');
  });
});

describe('Function: markdownText', () => {
  it('escapes pipes and markup so a cell stays one cell and reads as written', () => {
    expect(markdownText('a|b *bold* <img> [x](y) `c`')).toBe('a\\|b \\*bold\\* \\<img\\> \\[x\\](y) \\`c\\`');
  });
});

describe('Function: wrap', () => {
  it('breaks between words, and splits only a word longer than the width', () => {
    expect(wrap('one two three', 7)).toEqual(['one two', 'three']);
    expect(wrap('i-0123456789abcdef0', 8)).toEqual(['i-012345', '6789abcd', 'ef0']);
    expect(wrap('', 5)).toEqual(['']);
  });
});

describe('Function: columnWidths', () => {
  it('keeps natural widths that fit, and shrinks the widest column first when they do not', () => {
    expect(columnWidths([['id', 'name']], 80)).toEqual([2, 4]);
    const widths = columnWidths([['i-0123456789abcdef0', 'a very long name of a notebook instance']], 40);
    expect(widths[0]).toBe(19);
    expect(widths[0]! + 2 + widths[1]!).toBeLessThanOrEqual(40);
  });
});

describe('Function: renderTable', () => {
  it.each([60, 80, 100, 140])('fits a %i-column terminal and keeps every word of every cell', (width) => {
    // Prepare
    const rows = [
      { cells: ['i-0123456789abcdef0', 'notebook-alice-experiment-7', '$16,030.80'], detail: LONG_REASON },
      { cells: ['i-1', '', '—'] },
    ];
    // Act
    const text = renderTable(
      [{ header: 'INSTANCE' }, { header: 'NAME' }, { header: '$/MONTH', align: 'right' }],
      rows,
      width,
    );
    // Assess: no line is wider than the terminal, and nothing was cut
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
    const words = text.split(/\s+/).join(' ');
    for (const word of LONG_REASON.split(' ')) expect(words).toContain(word);
    expect(text.replace(/\s+/g, '')).toContain('notebook-alice-experiment-7');
    expect(text).toContain('$16,030.80');
  });

  it('right-aligns money', () => {
    const text = renderTable(
      [{ header: 'X' }, { header: '$/MONTH', align: 'right' }],
      [{ cells: ['a', '$1.00'] }, { cells: ['b', '$100.00'] }],
    );
    const lines = text.split('\n');
    expect(lines[2]!.endsWith('  $1.00')).toBe(true);
    expect(lines[3]!.endsWith('$100.00')).toBe(true);
  });
});

describe('Function: renderMarkdownTable', () => {
  it('renders as one GitHub table of its rows, with pipes kept inside their cells, and ends before the next paragraph', () => {
    // Prepare
    const md = `${renderMarkdownTable(
      [{ header: 'INSTANCE' }, { header: 'NAME' }],
      [
        { cells: ['i-1', 'a|b'], detail: 'reason | with a pipe' },
        { cells: ['i-2', ''], detail: '' },
      ],
      'reason',
    )}\nThe paragraph after the table.\n`;
    // Act
    const tokens = Lexer.lex(md);
    // Assess
    const tables = tokens.filter((t): t is Tokens.Table => t.type === 'table');
    expect(tables).toHaveLength(1);
    expect(tables[0]!.header.map((h) => h.text)).toEqual(['INSTANCE', 'NAME', 'reason']);
    expect(tables[0]!.rows).toHaveLength(2);
    expect(tables[0]!.rows[0]!.map((c) => c.text)).toEqual(['i-1', 'a|b', 'reason | with a pipe']);
    const paragraph = tokens.find((t) => t.type === 'paragraph') as Tokens.Paragraph;
    expect(paragraph.text).toBe('The paragraph after the table.');
  });
});
