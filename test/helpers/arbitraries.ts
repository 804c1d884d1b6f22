/** fast-check generators shared by the proof suite. */
import fc from 'fast-check';

/** Returns `text` with each letter's case flipped where `flips` says so. */
export function recase(text: string, flips: readonly boolean[]): string {
  return [...text].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c.toLowerCase())).join('');
}

/** `key` as written, or in a random mix of letter cases (tag keys and values are compared ignoring case). */
export const randomCase = (key: string): fc.Arbitrary<string> =>
  fc.oneof(
    { arbitrary: fc.constant(key), weight: 2 },
    {
      arbitrary: fc.array(fc.boolean(), { minLength: 1, maxLength: key.length }).map((f) => recase(key, f)),
      weight: 1,
    },
  );

/** Pieces that break Slack messages built carelessly: mentions, links, formatting, entities, lone surrogates. */
export const HOSTILE_PIECES = [
  '<!channel>',
  '<!here|here>',
  '<https://evil.example|click>',
  '<@U123>',
  '*',
  '_',
  '~',
  '`',
  '```',
  '>',
  '&',
  '&amp;',
  '&lt',
  '|',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u001b[31m',
  '\uD83D',
  '\uDE00',
  '\u200D',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  'é',
  'e\u0301',
] as const;

/**
 * Text as AWS may hand it over in a tag value, a name or a message: any code points (multi-code-point graphemes,
 * surrogate pairs, control characters) mixed with hostile pieces, from empty to several thousand UTF-16 units.
 */
export const untrustedText = (): fc.Arbitrary<string> =>
  fc
    .array(
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 30 }),
        fc.string({ unit: 'binary', maxLength: 30 }),
        fc.constantFrom(...HOSTILE_PIECES),
      ),
      { maxLength: 300 },
    )
    .map((pieces) => pieces.join(''));
