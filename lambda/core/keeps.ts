/**
 * Keeps: "leave this instance alone until then", set by a person from a Slack button or with `cost-guard keep`. The
 * record in the state table (lambda/adapters/keep-store.ts) is what the guards trust; the keep-until tag on the
 * instance only mirrors it for people. Pure: the end of a keep, the checks on a request, and the words for it.
 *
 * A new keep replaces the one on record, whether it ends earlier or later (the latest request wins: someone who
 * pressed "keep 1 week" by mistake fixes it with "keep 4 h"). Every keep is capped by `slack.maxKeepHours`.
 */
import { CostGuardError } from './errors';
import type { Capability } from './run';

/** Who set a keep, and how. `by` is a Slack user ID (`U…`) or the CLI caller's AWS principal ARN. */
export interface KeepRecord {
  readonly instanceId: string;
  readonly region: string;
  /** The end of the keep (ISO, UTC). */
  readonly until: string;
  readonly by: string;
  /** A name to show for `by` (the Slack user name, the principal's session name), when known. */
  readonly byName?: string;
  readonly reason?: string;
  /** When it was set (ISO). */
  readonly setAt: string;
  readonly source: 'slack' | 'cli';
  /** The guard whose warning it answered: the reaper's keep buttons, the budget guard's "keep running". */
  readonly guard: Extract<Capability, 'reaper' | 'budgets'>;
}

/** A keep request out of bounds (hours not a whole number from 1 to the cap, a reason too long). */
export class KeepRequestError extends CostGuardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeepRequestError';
  }
}

/** The longest reason kept on record (it is shown in digests and the ledger). */
export const MAX_KEEP_REASON = 200;

/** The checked hours of a keep request: a whole number from 1 to `maxKeepHours`. */
export function checkKeepHours(hours: number, maxKeepHours: number): number {
  if (!Number.isInteger(hours) || hours < 1 || hours > maxKeepHours)
    throw new KeepRequestError(
      `a keep lasts a whole number of hours from 1 to ${maxKeepHours} (slack.maxKeepHours); got ${hours}`,
    );
  return hours;
}

/** A reason as stored: one line, trimmed, at most MAX_KEEP_REASON characters; undefined when empty. */
export function keepReasonText(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
  const line = reason.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  if (line.length > MAX_KEEP_REASON)
    throw new KeepRequestError(`a keep reason has at most ${MAX_KEEP_REASON} characters (got ${line.length})`);
  return line === '' ? undefined : line;
}

/** The end of a keep of `hours` from `now` (checked against the cap), whole seconds, ISO. */
export function keepEnd(now: Date, hours: number, maxKeepHours: number): string {
  const checked = checkKeepHours(hours, maxKeepHours);
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + checked * 3_600_000).toISOString().replace('.000Z', 'Z');
}

/** A keep still protects at `now` (its end is later; an unreadable end protects: when in doubt, no action). */
export function keepActiveAt(keep: Pick<KeepRecord, 'until'> | undefined, now: Date): boolean {
  if (!keep) return false;
  const until = Date.parse(keep.until);
  return Number.isNaN(until) || until > now.getTime();
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A time as a person reads it in a message: `14:00 UTC` on the day of `now`, `Tue 2 Dec 14:00 UTC` on another day
 * (UTC: Slack readers are in many zones, and the keep-until tag is in UTC too).
 */
export function utcTimeText(iso: string, now: Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const hhmm = `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')} UTC`;
  const sameDay = t.toISOString().slice(0, 10) === now.toISOString().slice(0, 10);
  if (sameDay) return hhmm;
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][t.getUTCDay()];
  return `${day} ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${hhmm}`;
}

/** `kept until 2026-12-01T14:00:00Z by alice (U123): reason`: a keep in words, for notes and refusals. */
export function keptText(keep: Pick<KeepRecord, 'until' | 'by' | 'byName' | 'reason'>): string {
  const who = keep.byName ? `${keep.byName} (${keep.by})` : keep.by;
  return `kept until ${keep.until} by ${who}${keep.reason ? `: ${keep.reason}` : ''}`;
}

/** The ledger's words for a keep: what, until when, who, from where, why. */
export function keepLedgerReason(keep: KeepRecord, hours: number): string {
  const who = keep.byName ? `${keep.byName} (${keep.by})` : keep.by;
  const from = keep.source === 'slack' ? 'from Slack' : 'with cost-guard keep';
  return `kept ${hours} h until ${keep.until} by ${who} ${from}${keep.reason ? `: ${keep.reason}` : ''}`;
}
