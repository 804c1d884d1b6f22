/**
 * JSON text a person wrote (cdk.json, a `--config` file, `-c costGuard='{…}'`), parsed with a message that says
 * where it breaks: line, column, the line itself and a caret. Node 20's JSON.parse gives a character position for
 * most mistakes but not all ("Unexpected token '}', … is not valid JSON"), so the position is found by a small
 * scanner of the JSON grammar when the message has none. Pure.
 */
import { ConfigError } from './config';

/** JSON text that does not parse; `line` and `column` count from 1. */
export class JsonSyntaxError extends ConfigError {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
    options?: { cause?: unknown },
  ) {
    super(message, [], options);
    this.name = 'JsonSyntaxError';
  }
}

/** Line and column (from 1) of a character offset; a tab counts as one column. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * The offset of the first character at which `text` stops being JSON (text.length when it ends too early), or
 * undefined when it is valid JSON. Follows RFC 8259, as JSON.parse does.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  class Stop {
    constructor(readonly at: number) {}
  }
  const fail = (at = i): never => {
    throw new Stop(at);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i++] !== ch) fail(i - 1);
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const ch = text[i]!;
      if (ch === '"') return void i++;
      if (ch < ' ') fail();
      if (ch === '\\') {
        i++;
        const e = text[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else fail();
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === undefined) fail();
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    }
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch !== undefined && (ch === '-' || (ch >= '0' && ch <= '9'))) number();
    else fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return Math.min(error.at, text.length);
    throw error;
  }
}

/** V8's description of the mistake, without the position or the quoted text it appends. */
function describe(message: string): string {
  const text = message
    .replace(/ (?:in JSON )?at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '')
    .replace(/^Unexpected token '(\r?\n|\r)'$/, 'unexpected line break')
    .replace(/^Unexpected end of JSON input$/, 'the text ends before the JSON does');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The line at `line` with a caret under `column` (long lines cut around the caret). */
function excerpt(text: string, line: number, column: number): string {
  const source = text.split(/\r\n|\r|\n/)[line - 1] ?? '';
  const start = Math.max(0, column - 60);
  const shown = `${start > 0 ? '…' : ''}${source.slice(start, start + 100)}`;
  const caret = column - start - 1 + (start > 0 ? 1 : 0);
  return `    ${shown}\n    ${' '.repeat(caret)}^`;
}

/**
 * JSON.parse, with a JsonSyntaxError that names `what` (e.g. "Config file ./cdk.json"), the line and column, and
 * shows the line: "Config file cdk.json is not valid JSON at line 4, column 7: expected ',' or '}' after property value".
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const message = (cause as Error).message;
    const stated = /at position (\d+)/.exec(message);
    const offset = stated ? Number(stated[1]) : (jsonErrorOffset(text) ?? text.length);
    const { line, column } = lineColumn(text, offset);
    throw new JsonSyntaxError(
      `${what} is not valid JSON at line ${line}, column ${column}: ${describe(message)}\n${excerpt(text, line, column)}`,
      line,
      column,
      { cause },
    );
  }
}
