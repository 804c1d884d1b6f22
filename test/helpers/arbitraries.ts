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
