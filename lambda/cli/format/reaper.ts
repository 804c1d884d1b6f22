/** The idle GPU reaper in the terminal: its plan section and the report of `cost-guard run reaper`. */

import { formatUsd } from '../../core/money';
import {
  formatTime,
  type InstanceReport,
  SAVINGS_WORDS,
  savingsKind,
  savingsTotals,
  savingsTotalText,
} from '../../core/reaper/report';
import type { ReaperAction } from '../../core/reaper/types';
import { skipReasonText } from '../../core/skip-reasons';
import type { ReaperSummary } from '../../services/reaper';
import { DEFAULT_WIDTH } from './table';
import { addTo, groupsOf, instanceLabel, type RenderOptions, renderSection, type SectionView } from './view';

const pct = (v: number | undefined): string => (v === undefined ? '—' : `${Math.round(v * 10) / 10}%`);
const mb = (v: number | undefined): string =>
  v === undefined ? '—' : (Math.round(v * 10) / 10).toLocaleString('en-US', { maximumFractionDigits: 1 });

function gpuMemory(r: InstanceReport): string {
  if (r.gpuMemoryUsedMaxMb !== undefined) return `${Math.round(r.gpuMemoryUsedMaxMb).toLocaleString('en-US')} MB`;
  if (r.gpuMemoryMaxPercent !== undefined) return `${pct(r.gpuMemoryMaxPercent)} busy`;
  return '—';
}

/** The decision in a few words: what happens (or happened) to the instance. */
export function decisionWords(r: InstanceReport, action: ReaperAction): string {
  const verb = action === 'terminate' ? 'terminate' : 'stop';
  if (r.action) {
    const done = { terminate: 'terminated', stop: 'stopped', tag: 'tagged', untag: 'untagged' }[r.action.kind];
    if (r.action.status === 'done') return done;
    if (r.action.status === 'dry-run') return `would ${r.action.kind}`;
    return `${r.action.kind} FAILED${r.action.errorCode ? ` (${r.action.errorCode})` : ''}`;
  }
  if (r.warningCleared) return r.decision === 'busy' ? 'warning cancelled (busy)' : 'warning cancelled';
  switch (r.decision) {
    case 'warn':
      return r.actAt ? `warn, then ${verb}` : 'warn only (low confidence)';
    case 'wait':
      return r.actAt ? `warned, ${verb} at ${formatTime(r.actAt)}` : 'warned (not acted on)';
    case 'notify':
      return r.code === 'report-only' ? 'report only' : 'notify only';
    case 'deferred':
      return `deferred (action limit)`;
    default:
      return r.decision;
  }
}

/** Why an instance is not in the table, as the label of its group. */
function notActedLabel(r: InstanceReport): string {
  if (r.decision === 'skip') return skipReasonText(r.code);
  if (r.decision === 'busy') {
    const what = { 'gpu-busy': 'GPU', 'cpu-busy': 'CPU', 'network-busy': 'network' }[r.code];
    return what ? `busy (${what} above the threshold)` : `busy (${r.code})`;
  }
  if (r.decision === 'unknown') return r.code.replace(/-/g, ' ');
  return r.decision;
}

/** Instances with a row: what the reaper does, would do, or waits to do, and every outcome. */
export function inTable(r: InstanceReport): boolean {
  return savingsKind(r) !== undefined || r.action !== undefined || r.warningCleared === true || r.decision === 'act';
}

function money(r: InstanceReport): string {
  if (!savingsKind(r)) return '—';
  return r.monthlySavingsUsd === undefined ? 'price unknown' : formatUsd(r.monthlySavingsUsd);
}

/** The reaper's section: one row per instance with its evidence, decision and dollars; the rest counted. */
export function reaperView(s: ReaperSummary): SectionView {
  const shown = s.instances.filter(inTable);
  const others = new Map<string, string[]>();
  for (const r of s.instances) if (!inTable(r)) addTo(others, notActedLabel(r), instanceLabel(r.instanceId, r.name));
  const totals = savingsTotals(shown);
  const monthlyUsd = totals.reduce((n, t) => n + Math.round(t.monthlyUsd * 100), 0) / 100;
  const kinds = [...new Set(shown.map(savingsKind).filter((k) => k !== undefined))];
  return {
    lead: [],
    columns: [
      { header: 'INSTANCE' },
      { header: 'NAME' },
      { header: 'TYPE / REGION' },
      { header: 'GPU', align: 'right' },
      { header: 'GPU MEM', align: 'right' },
      { header: 'CPU', align: 'right' },
      { header: 'NET MB/h', align: 'right' },
      { header: 'DECISION' },
      { header: '$/MONTH', align: 'right' },
    ],
    rows: shown.map((r) => ({
      cells: [
        r.instanceId,
        r.name ?? '',
        `${r.instanceType} ${r.region}`,
        pct(r.gpuUtilizationMaxPercent),
        gpuMemory(r),
        pct(r.cpuMaxPercent),
        mb(r.networkMegabytesPerHour),
        decisionWords(r, s.action),
        money(r),
      ],
      detail: r.reason,
    })),
    detailHeader: 'reason',
    empty: 'No idle GPU instance to warn about or act on.',
    counted: [{ title: 'Not acted on', groups: groupsOf(others) }],
    notes: [
      ...(s.unknownTypes.length > 0
        ? [`Unknown instance types (treated as not GPU): ${s.unknownTypes.join(', ')}`]
        : []),
      ...s.notes,
    ],
    subtotal: {
      monthlyUsd,
      text:
        totals.length > 0
          ? `${totals.map(savingsTotalText).join('; ')}${kinds.length === 1 ? '' : ` (together ${formatUsd(monthlyUsd)}/month)`}`
          : `${formatUsd(0)}/month ${SAVINGS_WORDS['if-acted-on']}: no idle GPU instance`,
    },
  };
}

/** The report of `cost-guard run reaper`: counts, then the same table as the plan. */
export function formatReaperText(s: ReaperSummary, o?: Partial<RenderOptions>): string {
  const lines = [
    `Idle GPU reaper${s.dryRun ? ' (dry run: nothing changed)' : ''}: action ${s.action}, regions ${s.regions.join(', ')}`,
    `Scanned ${s.instancesScanned} running instances, ${s.gpuInstances} GPU. ` +
      `Terminated ${s.counts.terminated}, stopped ${s.counts.stopped}, warned ${s.counts.warned}, ` +
      `deferred ${s.counts.deferred}, failed ${s.counts.failed}${s.counts.wouldAct ? `, would act on ${s.counts.wouldAct}` : ''}.`,
    '',
    ...renderSection(reaperView(s), {
      format: 'table',
      width: o?.width ?? DEFAULT_WIDTH,
      details: o?.details ?? false,
    }),
  ];
  lines.push(`GetMetricData queries: ${s.metricQueries}`);
  const calls = Object.entries(s.apiCalls).map(([k, n]) => `${k} ${n}`);
  if (calls.length) lines.push(`API calls: ${calls.join(', ')}`);
  if (s.slack.error) lines.push(`Slack: ${s.slack.error}`);
  return lines.join('\n');
}

/** One line per instance and its decision, for `--verbose`. */
export function reaperDecisionLines(s: ReaperSummary): string[] {
  return s.instances.map(
    (r) =>
      `decision reaper ${instanceLabel(r.instanceId, r.name)} ${r.instanceType} ${r.region}: ${r.decision} (${r.code}): ${r.reason}`,
  );
}
