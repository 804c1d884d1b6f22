/** The SageMaker guard in the terminal: its plan section and the report of `cost-guard run sagemaker`. */

import { formatHourlyUsd, formatUsd } from '../../core/money';
import { formatTime } from '../../core/reaper/report';
import {
  instancesText,
  SAGEMAKER_SAVINGS_WORDS,
  type SageMakerResourceReport,
  type SageMakerSavingsKind,
  sageMakerSavingsKind,
  sageMakerSkipText,
} from '../../core/sagemaker';
import type { SageMakerSummary } from '../../services/sagemaker';
import { DEFAULT_WIDTH } from './table';
import { addTo, groupsOf, type RenderOptions, renderSection, type SectionView } from './view';

const KIND: Record<SageMakerResourceReport['kind'], string> = { endpoint: 'endpoint', notebook: 'notebook' };

/** The decision in a few words: what happens (or happened) to the resource. */
export function sageMakerDecisionWords(r: SageMakerResourceReport): string {
  const verb = r.kind === 'endpoint' ? 'delete' : 'stop';
  if (r.action) {
    const done = {
      delete: 'deleted',
      stop: 'stopped',
      'update-domain': 'updated',
      'update-user-profile': 'updated',
      'update-space': 'updated',
    }[r.action.kind];
    if (r.action.status === 'done') return done;
    if (r.action.status === 'dry-run') return `would ${verb}`;
    return `${verb} FAILED${r.action.errorCode ? ` (${r.action.errorCode})` : ''}`;
  }
  if (r.warningCleared) return 'warning cancelled';
  switch (r.decision) {
    case 'warn':
      return `warn, then ${verb}`;
    case 'wait':
      return r.actAt ? `warned, ${verb} at ${formatTime(r.actAt)}` : 'warned';
    case 'notify':
      return r.code === 'report-only'
        ? 'report only'
        : r.code === 'cloudformation-managed'
          ? 'report only (CloudFormation)'
          : 'notify only';
    case 'deferred':
      return 'deferred (action limit)';
    default:
      return r.decision;
  }
}

/** Resources with a row: what the guard does, would do, or waits to do, and every outcome. */
export function sageMakerInTable(r: SageMakerResourceReport): boolean {
  return sageMakerSavingsKind(r) !== undefined || r.action !== undefined || r.warningCleared === true;
}

const hours = (h: number | undefined) => (h === undefined ? '—' : `${Math.floor(h)} h`);

function evidence(r: SageMakerResourceReport): string {
  if (r.kind === 'notebook') return `${hours(r.ageHours)} in service`;
  return r.invocations !== undefined ? `${r.invocations} calls` : '—';
}

function money(r: SageMakerResourceReport): string {
  if (!sageMakerSavingsKind(r)) return '—';
  return r.monthlySavingsUsd === undefined ? 'price unknown' : formatUsd(r.monthlySavingsUsd);
}

/** Why a resource has no row, as the label of its group. */
function notActedLabel(r: SageMakerResourceReport): string {
  if (r.decision === 'busy') return 'invoked in the window';
  if (r.decision === 'report') return r.kind === 'notebook' ? 'GPU notebook instances reported' : 'reported';
  return sageMakerSkipText(r.code);
}

/** The guard's section: one row per endpoint or notebook it acts on (or would); the rest counted; Studio in notes. */
export function sageMakerView(s: SageMakerSummary): SectionView {
  const shown = s.resources.filter(sageMakerInTable);
  const others = new Map<string, string[]>();
  for (const r of s.resources) {
    if (sageMakerInTable(r)) continue;
    const cost = r.monthlySavingsUsd !== undefined ? `, ${formatUsd(r.monthlySavingsUsd)}/month` : '';
    const detail = r.kind === 'notebook' ? ` (${instancesText(r)}, ${hours(r.ageHours)}${cost})` : '';
    addTo(others, notActedLabel(r), `${r.name}${detail}`);
  }
  const kinds: SageMakerSavingsKind[] = ['saved', 'would-save', 'if-acted-on'];
  const totals = kinds.flatMap((kind) => {
    const of = shown.filter((r) => sageMakerSavingsKind(r) === kind);
    if (of.length === 0) return [];
    const cents = of.reduce((n, r) => n + Math.round((r.monthlySavingsUsd ?? 0) * 100), 0);
    const unpriced = of.filter((r) => r.monthlySavingsUsd === undefined).length;
    return [{ kind, cents, unpriced }];
  });
  const monthlyUsd = totals.reduce((n, t) => n + t.cents, 0) / 100;
  const studio: string[] = [];
  for (const d of s.studio.domains) {
    if (d.action) studio.push(`Studio domain ${d.name} (${d.domainId}, ${d.region}): ${d.reason} [${d.action.status}]`);
    else if (d.withoutIdleShutdown) studio.push(`Studio domain ${d.name} (${d.domainId}, ${d.region}): ${d.reason}`);
  }
  for (const a of s.studio.gpuApps) {
    const who = a.userProfileName ?? a.spaceName ?? a.appName;
    studio.push(
      `Studio ${a.appType} app of ${who} (${a.domainId}) on ${a.instanceType}, ${hours(a.ageHours)}` +
        `${a.hourlyUsd !== undefined ? `, ${formatHourlyUsd(a.hourlyUsd)}` : ''}`,
    );
  }
  return {
    lead: [],
    columns: [
      { header: 'RESOURCE' },
      { header: 'INSTANCES / REGION' },
      { header: 'EVIDENCE', align: 'right' },
      { header: 'DECISION' },
      { header: '$/MONTH', align: 'right' },
    ],
    rows: shown.map((r) => ({
      cells: [
        `${KIND[r.kind]} ${r.name}`,
        `${instancesText(r)} ${r.region}`,
        evidence(r),
        sageMakerDecisionWords(r),
        money(r),
      ],
      detail: r.reason,
    })),
    detailHeader: 'reason',
    empty: 'No idle GPU endpoint or long-running GPU notebook to warn about or act on.',
    counted: [{ title: 'Not acted on', groups: groupsOf(others) }],
    notes: [...studio, ...s.notes, `Prices: ${s.pricingNote}.`],
    subtotal: {
      monthlyUsd,
      text:
        totals.length > 0
          ? totals
              .map(
                (t) =>
                  `${formatUsd(t.cents / 100)}/month ${SAGEMAKER_SAVINGS_WORDS[t.kind]}${t.unpriced ? ` (+${t.unpriced} price unknown)` : ''}`,
              )
              .join('; ')
          : `${formatUsd(0)}/month ${SAGEMAKER_SAVINGS_WORDS['if-acted-on']}: nothing idle`,
    },
  };
}

/** The report of `cost-guard run sagemaker`: counts, then the same table as the plan. */
export function formatSageMakerText(s: SageMakerSummary, o?: Partial<RenderOptions>): string {
  const c = s.counts;
  const lines = [
    `SageMaker guard${s.dryRun ? ' (dry run: nothing changed)' : ''}: action ${s.action}, regions ${s.regions.join(', ')}`,
    `Scanned ${s.endpointsScanned} InService endpoint(s); ${s.resources.filter((r) => r.kind === 'endpoint').length} on GPU, ` +
      `${s.resources.filter((r) => r.kind === 'notebook').length} GPU notebook instance(s), ${s.studio.domains.length} Studio domain(s), ` +
      `${s.studio.gpuApps.length} GPU Studio app(s). Deleted ${c.deleted}, stopped ${c.stopped}, warned ${c.warned}, ` +
      `deferred ${c.deferred}, failed ${c.failed}${c.wouldAct ? `, would act on ${c.wouldAct}` : ''}` +
      `${c.domainsUpdated ? `, ${c.domainsUpdated} Studio domain(s), profile(s) or space(s) given idle shutdown` : ''}.`,
    '',
    ...renderSection(sageMakerView(s), {
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

/** One line per resource and its decision, for `--verbose`. */
export function sageMakerDecisionLines(s: SageMakerSummary): string[] {
  return [
    ...s.resources.map(
      (r) =>
        `decision sagemaker ${r.kind} ${r.name} ${instancesText(r)} ${r.region}: ${r.decision} (${r.code}): ${r.reason}`,
    ),
    ...s.studio.domains.map(
      (d) => `decision sagemaker domain ${d.name} (${d.domainId}) ${d.region}: ${d.decision} (${d.code}): ${d.reason}`,
    ),
  ];
}
