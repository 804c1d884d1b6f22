/** The terminal report of one budgets run (`cost-guard run budgets`). */

import { hourlySaved } from '../../core/budgets/messages';
import { formatPercentValue, formatUsd } from '../../core/money';
import type { BudgetsSummary } from '../../services/budgets';

export function formatBudgetsText(s: BudgetsSummary): string {
  const lines: string[] = [
    `Budget guard (${s.mode === 'stop' ? 'stop non-essential' : s.mode}${s.deduplicated ? '' : ', not de-duplicated'}), trigger ${s.trigger}`,
  ];
  for (const b of s.budgets) {
    if (b.limitMismatch) {
      const live = b.limitMismatch.live;
      lines.push(
        `  ${b.name}: live limit ${live ? `${live.amount} ${live.unit}` : 'none'} is not the configured ` +
          `${formatUsd(b.limitMismatch.configuredUsd)}: nothing is stopped for it until they agree`,
      );
    }
    if (b.problems.length > 0) {
      lines.push(`  ${b.name}: cannot check: ${b.problems.map((p) => p.message).join('; ')}`);
      continue;
    }
    const forecast = b.forecastPercent !== undefined ? `, forecast ${formatPercentValue(b.forecastPercent)}` : '';
    lines.push(
      `  ${b.name}: ${formatUsd(b.actualUsd ?? 0)} of ${formatUsd(b.limitUsd ?? 0)} (${formatPercentValue(b.percentUsed ?? 0)}${forecast}), ` +
        `period ${b.period}, ${b.daysLeft} day(s) left`,
    );
    if (b.alerted.length > 0) lines.push(`    alerted: ${b.alerted.join(', ')}`);
    if (b.alreadySent.length > 0) lines.push(`    already alerted this period: ${b.alreadySent.join(', ')}`);
    if (b.deliveryFailed.length > 0) lines.push(`    NOT delivered (will retry): ${b.deliveryFailed.join(', ')}`);
    for (const st of b.stops) {
      const price = st.hourlyUsd !== undefined ? `${formatUsd(st.hourlyUsd)}/h` : 'price unknown';
      const what = {
        stopping: 'stopping',
        done: 'stopped',
        'dry-run': 'would stop',
        'would-stop': 'would stop',
        failed: 'FAILED',
      }[st.status];
      lines.push(
        `    ${what} ${st.instanceId} ${st.instanceType} ${st.region} (${price})${st.errorCode ? ` ${st.errorCode}` : ''}${st.note ? `: ${st.note}` : ''}`,
      );
    }
    if (b.stops.length > 0) lines.push(`    total ${formatUsd(hourlySaved(b.stops))}/h`);
    if ((b.deferred ?? 0) > 0) lines.push(`    ${b.deferred} more to stop next run`);
  }
  lines.push(
    `Alerts sent: ${s.alertsSent}; instances stopped: ${s.instancesStopped}; estimated monthly savings: ${formatUsd(s.monthlySavingsUsd)}`,
  );
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
