/**
 * "Did you mean …?" for a mistyped name (a config key, a CLI flag, a command, a region): the closest valid name by
 * edit distance (fastest-levenshtein), when it is close enough to be the likely intent. Pure.
 */
import { distance } from 'fastest-levenshtein';

/**
 * The valid name closest to `input` (case-insensitive), or undefined when none is near: at most 2 edits for short
 * names, a third of the name's length for long ones; else the one name that starts with `input` (3 characters or
 * more: `--dry` for `--dry-run`). Ties go to the name listed first.
 */
export function closestName(input: string, valid: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  const near = nearest(needle, valid);
  if (near) return near;
  const prefixed = needle.length >= 3 ? valid.filter((n) => n.toLowerCase().startsWith(needle)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function nearest(needle: string, valid: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of valid) {
    const d = distance(needle, name.toLowerCase());
    if (!best || d < best.d) best = { name, d };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.floor(Math.max(needle.length, best.name.length) / 3));
  return best.d <= allowed ? best.name : undefined;
}

/** `; did you mean X?` when a valid name is near `input`, else '' (to end a message with). */
export function didYouMean(input: string, valid: readonly string[], quote: (name: string) => string = (n) => n) {
  const near = closestName(input, valid);
  return near === undefined ? '' : `; did you mean ${quote(near)}?`;
}
