/**
 * The trust rule every warn-then-act capability shares: a warning counts only when a person could have read it, so a
 * run that cannot record one (no state table) or deliver one (no Slack token: messages only go to the log) reports and
 * never acts. One sentence says why, for the run's notes, its log and `plan`.
 */
import type { RunContext } from './context';

/**
 * Why this run cannot warn anybody, ending in what the capability then never does (`consequence`); undefined when it
 * can warn.
 */
export function reportOnlyBecause(
  ctx: Pick<RunContext, 'stateTableName' | 'notifier'>,
  consequence: string,
): string | undefined {
  if (!ctx.stateTableName) return `no state table, so no warning can be recorded: ${consequence}`;
  if (ctx.notifier.kind === 'console') {
    return `no Slack token (messages only go to the log), so no warning can be read: ${consequence}`;
  }
  return undefined;
}
