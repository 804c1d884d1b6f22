/**
 * What one storage-lifecycle run reports, and its Slack digest. Pure: built from the run's plain-data summary.
 */
import { formatUsd } from '../money';
import type { ActionStatus, RunSummary } from '../run';
import { round2 } from '../savings/calculators';
import {
  type Block,
  context,
  divider,
  escapeMrkdwn,
  header,
  type SlackMessage,
  section,
  splitIntoMessages,
} from '../slack-blocks';
import type {
  LifecycleConflict,
  LifecycleSavingsProjection,
  RuleDiff,
  S3LifecycleRule,
  VersioningState,
} from './merge';

export type SelectedBy = 'tag' | 'config';

export type BucketDecision =
  /** The merged configuration was written. */
  | 'changed'
  /** Dry-run: it would be written. */
  | 'would-change'
  /** The write failed (see errorCode). */
  | 'failed'
  | 'unchanged'
  | 'too-many-rules'
  | 'invalid'
  | 'legacy-format'
  /** A listed bucket that does not exist. */
  | 'missing'
  /** A bucket whose location or lifecycle configuration could not be read. */
  | 'unreadable';

export interface BucketReport {
  readonly bucket: string;
  readonly region?: string;
  readonly selectedBy: readonly SelectedBy[];
  readonly decision: BucketDecision;
  readonly status?: ActionStatus;
  readonly errorCode?: string;
  readonly rulesBefore: readonly S3LifecycleRule[];
  readonly rulesAfter: readonly S3LifecycleRule[];
  readonly transitionDefaultMinimumObjectSize?: string;
  readonly diff: readonly RuleDiff[];
  /** `+ added`, `~ updated`, `- removed` lines (the dry-run diff). */
  readonly diffText: readonly string[];
  readonly conflicts: readonly LifecycleConflict[];
  readonly errors: readonly string[];
  readonly notices: readonly string[];
  readonly versioning?: VersioningState;
  /** Projected monthly savings of the change (only for buckets that change). */
  readonly projection?: LifecycleSavingsProjection;
}

export interface LifecycleRunSummary extends RunSummary {
  readonly buckets: readonly BucketReport[];
  readonly bucketsScanned: number;
  readonly bucketsChanged: number;
  readonly conflicts: number;
  /** Sum of the reported (low-end) projections of the buckets changed or that would change. */
  readonly projectedMonthlySavingsUsd: number;
  /** Sum of the high ends. */
  readonly projectedMonthlySavingsHighUsd: number;
  /** Buckets whose tags could not be read during tag selection (they are not managed). */
  readonly tagReadFailures: readonly { readonly bucket: string; readonly code: string }[];
  readonly slackMessages: number;
}

export function changeWords(r: BucketReport): string {
  const ids = (change: RuleDiff['change']) => r.diff.filter((d) => d.change === change).map((d) => d.ruleId);
  const parts: string[] = [];
  for (const [word, list] of [
    ['added', ids('added')],
    ['updated', ids('updated')],
    ['removed', ids('removed')],
  ] as const) {
    if (list.length > 0) parts.push(`${word} ${list.join(', ')}`);
  }
  return parts.join('; ') || 'configuration rewritten';
}

export function savingsWords(p: LifecycleSavingsProjection | undefined): string {
  if (!p) return 'no savings projected (no tiering rule applied or no size data)';
  const range = p.highUsd > p.lowUsd ? ` (up to ${formatUsd(p.highUsd)})` : '';
  return `~${formatUsd(p.monthlySavingsUsd)}/month${range} on ${round2(p.standardGb)} GB in Standard`;
}

/** The Slack digest of a run; empty when no bucket changed (or would, or failed to). */
export function lifecycleDigest(summary: LifecycleRunSummary): SlackMessage[] {
  const changed = summary.buckets.filter((b) => ['changed', 'would-change', 'failed'].includes(b.decision));
  if (changed.length === 0) return [];
  const ok = changed.filter((b) => b.decision !== 'failed').length;
  const verb = summary.dryRun ? 'would change (dry-run)' : 'changed';
  const title = `S3 lifecycle: ${ok} bucket${ok === 1 ? '' : 's'} ${verb}`;
  const head: Block[] = [
    header(title),
    context(
      `Projected savings ~${formatUsd(summary.projectedMonthlySavingsUsd)}/month` +
        (summary.projectedMonthlySavingsHighUsd > summary.projectedMonthlySavingsUsd
          ? ` (up to ${formatUsd(summary.projectedMonthlySavingsHighUsd)})`
          : '') +
        ` · ${summary.bucketsScanned} bucket(s) scanned · ${summary.conflicts} conflict(s)`,
    ),
  ];
  const body: Block[] = [];
  for (const b of changed) {
    const name = `*${escapeMrkdwn(b.bucket)}* (${b.region ?? '?'})`;
    if (b.decision === 'failed') {
      body.push(section(`:x: ${name}: write failed (${escapeMrkdwn(b.errorCode ?? 'Unknown')})`));
      continue;
    }
    const lines = [`${name}: ${escapeMrkdwn(changeWords(b))}`, savingsWords(b.projection)];
    for (const c of b.conflicts) lines.push(`:warning: ${escapeMrkdwn(c.message)}`);
    for (const n of b.notices) lines.push(`_${escapeMrkdwn(n)}_`);
    body.push(section(lines.join('\n')));
  }
  const otherConflicts = summary.buckets.filter((b) => !changed.includes(b) && b.conflicts.length > 0);
  if (otherConflicts.length > 0) {
    body.push(divider());
    body.push(
      section(
        `*Conflicts on unchanged buckets*\n` +
          otherConflicts
            .flatMap((b) => b.conflicts.map((c) => `• ${escapeMrkdwn(b.bucket)}: ${escapeMrkdwn(c.message)}`))
            .join('\n'),
      ),
    );
  }
  const problems = summary.buckets.filter((b) =>
    ['missing', 'unreadable', 'too-many-rules', 'invalid', 'legacy-format'].includes(b.decision),
  );
  if (problems.length > 0) {
    body.push(
      context(
        `Not changed: ${problems.map((b) => `${escapeMrkdwn(b.bucket)} (${b.decision}${b.errorCode ? `: ${b.errorCode}` : ''})`).join(', ')}`,
      ),
    );
  }
  return splitIntoMessages(title, head, body);
}
