/** The terminal report of the right-sizing advice (`cost-guard rightsize`, `cost-guard run rightsizing`). */

import { formatUsd } from '../../core/money';
import { evidenceText } from '../../core/rightsizing/report';
import type { RightsizingSummary } from '../../services/rightsizing';

export function formatRightsizingText(s: RightsizingSummary): string {
  const lines = [
    `GPU right-sizing advice (advice only: nothing is changed): regions ${s.regions.join(', ')}, ` +
      `${s.lookbackDays} days of hourly metrics, ${s.headroomPercent}% headroom`,
    `Checked ${s.instancesChecked} running GPU instance(s): ${s.recommendations.length} recommendation(s), ` +
      `${formatUsd(s.potentialMonthlySavingsUsd)}/month (${formatUsd(s.potentialMonthlySavingsUsd * 12)}/year) if all were followed.`,
  ];
  for (const r of s.recommendations) {
    const v = r.verdict;
    const who = [r.name, r.team ? `team ${r.team}` : undefined].filter(Boolean).join(', ');
    lines.push(
      '',
      `  ${r.instanceId}  ${r.region}${who ? `  (${who})` : ''}`,
      `    ${r.instanceType} -> ${v.targetType}: saves ${formatUsd(v.monthlySavingsUsd)}/month` +
        `${r.lifecycle === 'spot' ? ' (spot estimate)' : ''}`,
      `    evidence: ${evidenceText(r.observation)}`,
      `    ${v.reason}`,
    );
  }
  const others = s.notes.filter((n) => !n.startsWith('advice: '));
  if (others.length > 0) lines.push('', ...others.map((n) => `Note: ${n}`));
  lines.push('', `GetMetricData queries: ${s.metricQueries}`);
  const calls = Object.entries(s.apiCalls).map(([k, n]) => `${k} ${n}`);
  if (calls.length) lines.push(`API calls: ${calls.join(', ')}`);
  if (s.slack.error) lines.push(`Slack: ${s.slack.error}`);
  return lines.join('\n');
}
