import { ConfigError } from '../../../lambda/core/config';
import { JsonSyntaxError, jsonErrorOffset, lineColumn, parseJsonText } from '../../../lambda/core/json-text';

/** The JsonSyntaxError parseJsonText throws for `text` (fails the test when the text parses). */
function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonText(text, 'Config file cdk.json');
  } catch (error) {
    expect(error).toBeInstanceOf(JsonSyntaxError);
    return error as JsonSyntaxError;
  }
  throw new Error(`parsed: ${text}`);
}

describe('Function: parseJsonText', () => {
  it('returns what JSON.parse returns for valid text', () => {
    const text = '{ "costGuard": { "dryRun": false, "regions": ["us-east-1"] } }';
    expect(parseJsonText(text, 'x')).toEqual(JSON.parse(text));
  });

  it.each([
    // A missing comma between two keys on lines 2 and 3: the error is where "b" starts.
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, "expected ',' or '}' after property value"],
    // A trailing comma.
    ['{\n  "a": 1,\n}', 3, 1, 'expected double-quoted property name'],
    // A key without quotes.
    ['{\n  dryRun: true\n}', 2, 3, "expected property name or '}'"],
    // A misspelt literal: Node 20 gives no position for this one; the scanner finds it.
    ['{\n  "dryRun": tru,\n  "x": 1\n}', 2, 16, "unexpected token ','"],
    // The text stops early.
    ['{\n  "a": [1, 2', 2, 13, "expected ',' or ']' after array element"],
    ['', 1, 1, 'the text ends before the JSON does'],
  ])('names line and column of %j', (text, line, column, what) => {
    // Act
    const error = syntaxError(text);
    // Assess
    expect({ line: error.line, column: error.column }).toEqual({ line, column });
    expect(error.message).toContain(
      `Config file cdk.json is not valid JSON at line ${line}, column ${column}: ${what}`,
    );
    expect(error.message).not.toMatch(/position \d+/);
  });

  it('shows the line with a caret under the column', () => {
    // Act
    const error = syntaxError('{\n  "dryRun": true "regions": []\n}');
    // Assess
    const [, shown, caret] = error.message.split('\n');
    expect(shown).toBe('      "dryRun": true "regions": []');
    expect(caret).toBe(`    ${' '.repeat(17)}^`);
    expect(shown!.charAt(caret!.indexOf('^'))).toBe('"');
  });

  it('is a ConfigError, so synth and the CLI print it without a stack trace', () => {
    expect(syntaxError('{')).toBeInstanceOf(ConfigError);
  });
});

describe('Function: jsonErrorOffset', () => {
  it.each(['{}', '[]', ' 1 ', '"x"', '{"a":[1,-2.5e3,true,false,null,"x\\u00e9\\n"],"b":{}}'])(
    'finds nothing wrong with %j',
    (text) => {
      expect(jsonErrorOffset(text)).toBeUndefined();
    },
  );

  it.each([
    ['{"a":1,}', 7],
    ['{"a":01}', 6],
    ['{"a":"\\q"}', 7],
    ['[1,2,]', 5],
    ['{"a":1}x', 7],
    ['{"a":nul}', 8],
    ['{"a":"x', 7],
  ])('finds where %j stops being JSON (offset %d), where JSON.parse also fails', (text, offset) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it('agrees with the position JSON.parse states, wherever it states one', () => {
    const texts = ['{"a":1 "b":2}', '{a:1}', '[1,2', '{"a":01}', '{"a":"x', '{"a":1}x', '{"a":1,}'];
    for (const text of texts) {
      let stated: number | undefined;
      try {
        JSON.parse(text);
      } catch (error) {
        stated = Number(/at position (\d+)/.exec((error as Error).message)?.[1]);
      }
      expect(jsonErrorOffset(text)).toBe(stated);
    }
  });
});

describe('Function: lineColumn', () => {
  it.each([
    [0, 1, 1],
    [2, 1, 3],
    [3, 2, 1],
    [6, 3, 1],
  ])('places offset %d at line %d, column %d of "ab\\ncd\\r\\nef"', (offset, line, column) => {
    expect(lineColumn('ab\ncd\r\nef', offset)).toEqual({ line, column });
  });
});
