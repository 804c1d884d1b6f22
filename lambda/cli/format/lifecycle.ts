/** The storage lifecycle in the terminal: its plan section and the report of `cost-guard run lifecycle`. */

import { protectionWords } from '../../core/lifecycle/protection';
import {
  type BucketReport,
  changeWords,
  type LifecycleRunSummary,
  NO_SIZE_DATA,
  projectedTotals,
  projectedTotalsText,
  savingsWords,
} from '../../core/lifecycle/report';
import { formatUsd } from '../../core/money';
import { addTo, groupsOf, type SectionView } from './view';

const ROW_DECISIONS = new Set(['changed', 'would-change', 'failed', 'held']);

const DECISION_WORDS: Readonly<Record<string, string>> = {
  changed: 'changed',
  'would-change': 'would change',
  failed: 'write FAILED',
  held: 'held (announcement not delivered)',
};

/** The bucket's dollars as its row shows them: the projection, "no size data", or a dash. */
function money(b: BucketReport): string {
  if (b.decision !== 'changed' && b.decision !== 'would-change') return '—';
  if (b.sizeKnown === false) return NO_SIZE_DATA;
  return b.projection ? `~${formatUsd(b.projection.monthlySavingsUsd)}` : '—';
}

/** Why a bucket is not changed, as the label of its group. */
function notChangedLabel(b: BucketReport): string {
  switch (b.decision) {
    case 'unchanged':
      return 'already up to date';
    case 'protected':
      return `protected: ${protectionWords(b.protection ?? [])}`;
    case 'unreadable':
      return `unreadable${b.errorCode ? ` (${b.errorCode})` : ''}`;
    default:
      return b.decision;
  }
}

/** The lifecycle's section: one row per bucket that changes (or would), the rest, conflicts and notices counted. */
export function lifecycleView(s: LifecycleRunSummary): SectionView {
  const rows = s.buckets.filter((b) => ROW_DECISIONS.has(b.decision));
  const notChanged = new Map<string, string[]>();
  const conflicts = new Map<string, string[]>();
  const notices = new Map<string, string[]>();
  for (const b of s.buckets) {
    if (!ROW_DECISIONS.has(b.decision)) addTo(notChanged, notChangedLabel(b), b.bucket);
    for (const c of b.conflicts) {
      addTo(conflicts, `${c.ruleId} not added (a bucket rule covers its prefix)`, `${b.bucket} (rule ${c.userRuleId})`);
    }
    // A protected bucket's notices are its protection reasons, counted above.
    if (b.decision !== 'protected') for (const n of b.notices) addTo(notices, n, b.bucket);
  }
  const totals = projectedTotals(s.buckets);
  return {
    lead: [],
    columns: [
      { header: 'BUCKET' },
      { header: 'REGION' },
      { header: 'DECISION' },
      { header: 'RULES' },
      { header: '$/MONTH', align: 'right' },
    ],
    rows: rows.map((b) => ({
      cells: [b.bucket, b.region ?? '?', DECISION_WORDS[b.decision] ?? b.decision, changeWords(b), money(b)],
      detail: [
        ...b.diffText,
        ...(b.decision === 'changed' || b.decision === 'would-change' ? [savingsWords(b.projection, b.sizeKnown)] : []),
        ...b.errors,
        ...(b.errorCode ? [`error ${b.errorCode}`] : []),
      ].join('; '),
    })),
    detailHeader: 'change',
    empty: 'No bucket would change.',
    counted: [
      { title: 'Not changed', groups: groupsOf(notChanged) },
      { title: 'Conflicts', groups: groupsOf(conflicts) },
      { title: 'Bucket notices', groups: groupsOf(notices) },
    ],
    notes: s.notes.filter((n) => !/: protected, never written \(/.test(n)),
    subtotal: { monthlyUsd: totals.monthlyUsd, text: projectedTotalsText(totals, ' once the rules apply') },
  };
}

export function formatLifecycleText(s: LifecycleRunSummary): string {
  const lines = [
    `S3 lifecycle${s.dryRun ? ' (dry-run)' : ''}: ${s.bucketsScanned} bucket(s) scanned, ${s.bucketsChanged} ` +
      `${s.dryRun ? 'would change' : 'changed'}, ${s.conflicts} conflict(s)`,
    `Savings: ${projectedTotalsText(projectedTotals(s.buckets))}`,
  ];
  for (const b of s.buckets) {
    lines.push('', `${b.bucket} (${b.region ?? '?'}): ${b.decision}${b.errorCode ? ` [${b.errorCode}]` : ''}`);
    for (const d of b.diffText) lines.push(`  ${d}`);
    if (b.decision === 'changed' || b.decision === 'would-change') {
      lines.push(`  savings: ${savingsWords(b.projection, b.sizeKnown)}`);
    }
    for (const c of b.conflicts) lines.push(`  conflict: ${c.message}`);
    for (const e of b.errors) lines.push(`  error: ${e}`);
    for (const n of b.notices) lines.push(`  note: ${n}`);
  }
  if (s.notes.length > 0) lines.push('', 'Notes:', ...s.notes.map((n) => `  - ${n}`));
  const calls = Object.entries(s.apiCalls);
  if (calls.length > 0) lines.push('', `API calls: ${calls.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  return lines.join('\n');
}

/** One line per bucket and its decision, for `--verbose`. */
export function lifecycleDecisionLines(s: LifecycleRunSummary): string[] {
  return s.buckets.map(
    (b) =>
      `decision lifecycle ${b.bucket} ${b.region ?? '?'}: ${b.decision}${b.errorCode ? ` (${b.errorCode})` : ''}` +
      `${b.diff.length > 0 ? `: ${changeWords(b)}` : ''}`,
  );
}
