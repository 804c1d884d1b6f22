/** The terminal report of one reaper run (`cost-guard run reaper`). */

import { formatUsd } from '../../core/money';
import type { ReaperSummary } from '../../services/reaper';

export function formatReaperText(s: ReaperSummary): string {
  const lines = [
    `Idle GPU reaper${s.dryRun ? ' (dry run: nothing changed)' : ''}: action ${s.action}, regions ${s.regions.join(', ')}`,
    `Scanned ${s.instancesScanned} running instances, ${s.gpuInstances} GPU. ` +
      `Terminated ${s.counts.terminated}, stopped ${s.counts.stopped}, warned ${s.counts.warned}, ` +
      `deferred ${s.counts.deferred}, failed ${s.counts.failed}${s.counts.wouldAct ? `, would act on ${s.counts.wouldAct}` : ''}.`,
  ];
  for (const r of s.instances) {
    const status = r.action
      ? ` [${r.action.kind} ${r.action.status}${r.action.errorCode ? ` ${r.action.errorCode}` : ''}]`
      : '';
    const tag = r.tag ? ` [${r.tag.kind} ${r.tag.status}]` : '';
    const warning = r.warning ? ` [warning ${r.warning.status}]` : r.warningCleared ? ' [warning cancelled]' : '';
    const money = r.monthlySavingsUsd !== undefined ? formatUsd(r.monthlySavingsUsd) + '/month' : 'price unknown';
    lines.push(
      `  ${r.instanceId}  ${r.region}  ${r.instanceType}  ${r.decision}${status}${warning}${tag}  ${money}` +
        `${r.confidence === 'low' ? '  (low confidence)' : ''}\n      ${r.reason}`,
    );
  }
  const skipped = Object.entries(s.skippedByReason).map(([k, n]) => `${k} ${n}`);
  if (skipped.length) lines.push(`Not acted on: ${skipped.join(', ')}`);
  if (s.unknownTypes.length) lines.push(`Unknown instance types: ${s.unknownTypes.join(', ')}`);
  lines.push(`Monthly savings: ${formatUsd(s.monthlySavingsUsd)}${s.dryRun ? ' (would be)' : ''}`);
  lines.push(`GetMetricData queries: ${s.metricQueries}`);
  const calls = Object.entries(s.apiCalls).map(([k, n]) => `${k} ${n}`);
  if (calls.length) lines.push(`API calls: ${calls.join(', ')}`);
  if (s.slack.error) lines.push(`Slack: ${s.slack.error}`);
  for (const n of s.notes) lines.push(`Note: ${n}`);
  return lines.join('\n');
}
