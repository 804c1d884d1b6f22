/** The terminal report of one lifecycle run (`cost-guard run lifecycle`). */

import { type LifecycleRunSummary, savingsWords } from '../../core/lifecycle/report';
import { formatUsd } from '../../core/money';

export function formatLifecycleText(s: LifecycleRunSummary): string {
  const lines = [
    `S3 lifecycle${s.dryRun ? ' (dry-run)' : ''}: ${s.bucketsScanned} bucket(s) scanned, ${s.bucketsChanged} ` +
      `${s.dryRun ? 'would change' : 'changed'}, ${s.conflicts} conflict(s)`,
    `Projected savings: ${formatUsd(s.projectedMonthlySavingsUsd)}/month` +
      (s.projectedMonthlySavingsHighUsd > s.projectedMonthlySavingsUsd
        ? ` (up to ${formatUsd(s.projectedMonthlySavingsHighUsd)})`
        : ''),
  ];
  for (const b of s.buckets) {
    lines.push('', `${b.bucket} (${b.region ?? '?'}): ${b.decision}${b.errorCode ? ` [${b.errorCode}]` : ''}`);
    for (const d of b.diffText) lines.push(`  ${d}`);
    if (b.projection) lines.push(`  savings: ${savingsWords(b.projection)}`);
    for (const c of b.conflicts) lines.push(`  conflict: ${c.message}`);
    for (const e of b.errors) lines.push(`  error: ${e}`);
    for (const n of b.notices) lines.push(`  note: ${n}`);
  }
  if (s.notes.length > 0) lines.push('', 'Notes:', ...s.notes.map((n) => `  - ${n}`));
  const calls = Object.entries(s.apiCalls);
  if (calls.length > 0) lines.push('', `API calls: ${calls.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  return lines.join('\n');
}
