/** The budget guard in the terminal: its plan section and the report of `cost-guard run budgets`. */

import type { SkippedIds } from '../../core/budgets/candidates';
import { hourlySaved, type StopOutcome } from '../../core/budgets/messages';
import type { CountedSkips } from '../../core/budgets/report';
import { formatPercentValue, formatUsd } from '../../core/money';
import { SAVINGS_WORDS, type SavingsKind } from '../../core/reaper/report';
import { SKIP_REASON_TEXT } from '../../core/skip-reasons';
import type { BudgetReport, BudgetsSummary } from '../../services/budgets';
import { instanceLabel, type SectionView } from './view';

const STOP_WORDS: Readonly<Record<StopOutcome['status'], string>> = {
  stopping: 'stopping',
  done: 'stopped',
  'dry-run': 'would stop',
  'would-stop': 'would stop',
  failed: 'FAILED',
};

/** What a stop's monthly figure means, in the words the reaper uses for the same kind of figure. */
function stopKind(st: StopOutcome): SavingsKind | undefined {
  if (st.status === 'done' || st.status === 'stopping') return 'saved';
  if (st.status === 'dry-run') return 'would-save';
  if (st.status === 'would-stop') return 'if-acted-on';
  return undefined;
}

/** One budget's figures in one line. */
function budgetLine(b: BudgetReport): string {
  if (b.problems.length > 0) return `${b.name}: cannot check: ${b.problems.map((p) => p.message).join('; ')}`;
  const forecast = b.forecastPercent !== undefined ? `, forecast ${formatPercentValue(b.forecastPercent)}` : '';
  return (
    `${b.name}: ${formatUsd(b.actualUsd ?? 0)} of ${formatUsd(b.limitUsd ?? 0)} (${formatPercentValue(b.percentUsed ?? 0)}${forecast}), ` +
    `period ${b.period}, ${b.daysLeft} day(s) left`
  );
}

function skippedGroups(
  skipped: CountedSkips | undefined,
  ids: SkippedIds | undefined,
): { label: string; count: number; items: readonly string[] }[] {
  return Object.entries(skipped ?? {})
    .filter(([reason, n]) => (n ?? 0) > 0 && reason !== 'out-of-scope' && reason !== 'not-running')
    .map(([reason, n]) => ({
      label: SKIP_REASON_TEXT[reason as keyof typeof SKIP_REASON_TEXT] ?? reason,
      count: n ?? 0,
      items: ids?.[reason as keyof SkippedIds] ?? [],
    }));
}

/** The budget guard's section: each budget's figures, one row per instance it would stop, the skipped counted. */
export function budgetsView(s: BudgetsSummary): SectionView {
  const stops = s.budgets.flatMap((b) => b.stops.map((st) => ({ budget: b.name, st })));
  const counted = new Map<string, { count: number; items: string[] }>();
  for (const b of s.budgets) {
    for (const g of skippedGroups(b.skipped, b.skippedIds)) {
      const c = counted.get(g.label) ?? { count: 0, items: [] };
      c.count += g.count;
      c.items.push(...g.items);
      counted.set(g.label, c);
    }
  }
  const byKind = new Map<SavingsKind, { cents: number; unpriced: number }>();
  for (const { st } of stops) {
    const kind = stopKind(st);
    if (!kind) continue;
    const t = byKind.get(kind) ?? { cents: 0, unpriced: 0 };
    if (st.monthlyUsd === undefined) t.unpriced += 1;
    else t.cents += Math.round(st.monthlyUsd * 100);
    byKind.set(kind, t);
  }
  const parts = [...byKind.entries()].map(
    ([kind, t]) =>
      `${formatUsd(t.cents / 100)}/month ${SAVINGS_WORDS[kind]}${t.unpriced ? ` (+${t.unpriced} price unknown)` : ''}`,
  );
  const monthlyUsd = [...byKind.values()].reduce((n, t) => n + t.cents, 0) / 100;
  const deferred = s.budgets.reduce((n, b) => n + (b.deferred ?? 0), 0);
  return {
    lead: s.budgets.map(budgetLine),
    columns: [
      { header: 'INSTANCE' },
      { header: 'NAME' },
      { header: 'TYPE / REGION' },
      { header: 'BUDGET' },
      { header: 'DECISION' },
      { header: '$/H', align: 'right' },
      { header: '$/MONTH', align: 'right' },
    ],
    rows: stops.map(({ budget, st }) => ({
      cells: [
        st.instanceId,
        st.name ?? '',
        `${st.instanceType} ${st.region}`,
        budget,
        STOP_WORDS[st.status],
        st.hourlyUsd !== undefined ? formatUsd(st.hourlyUsd) : 'price unknown',
        stopKind(st) === undefined ? '—' : st.monthlyUsd !== undefined ? formatUsd(st.monthlyUsd) : 'price unknown',
      ],
      detail: [st.errorCode, st.note].filter(Boolean).join(': '),
    })),
    detailHeader: 'note',
    empty: 'No instance would be stopped.',
    counted: [
      {
        title: 'Not stopped',
        groups: [...counted.entries()].map(([label, c]) => ({ label, count: c.count, items: c.items })),
      },
      ...(deferred > 0 ? [{ title: 'Left for later runs', groups: [{ label: 'in scope', count: deferred }] }] : []),
    ],
    notes: s.notes,
    subtotal: {
      monthlyUsd,
      text: parts.length > 0 ? parts.join('; ') : `${formatUsd(0)}/month: no instance to stop`,
    },
  };
}

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
    lines.push(`  ${budgetLine(b)}`);
    if (b.problems.length > 0) continue;
    if (b.alerted.length > 0) lines.push(`    alerted: ${b.alerted.join(', ')}`);
    if (b.alreadySent.length > 0) lines.push(`    already alerted this period: ${b.alreadySent.join(', ')}`);
    if (b.deliveryFailed.length > 0) lines.push(`    NOT delivered (will retry): ${b.deliveryFailed.join(', ')}`);
    for (const st of b.stops) {
      const price = st.hourlyUsd !== undefined ? `${formatUsd(st.hourlyUsd)}/h` : 'price unknown';
      lines.push(
        `    ${STOP_WORDS[st.status]} ${instanceLabel(st.instanceId, st.name)} ${st.instanceType} ${st.region} (${price})` +
          `${st.errorCode ? ` ${st.errorCode}` : ''}${st.note ? `: ${st.note}` : ''}`,
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

/** One line per budget and per stop, for `--verbose`. */
export function budgetsDecisionLines(s: BudgetsSummary): string[] {
  return s.budgets.flatMap((b) => [
    `decision budgets ${budgetLine(b)}; crossed ${b.crossed.join(', ') || 'none'}; alerted ${b.alerted.join(', ') || 'none'}`,
    ...b.stops.map(
      (st) =>
        `decision budgets ${b.name}: ${STOP_WORDS[st.status]} ${instanceLabel(st.instanceId, st.name)} ${st.region}`,
    ),
  ]);
}
