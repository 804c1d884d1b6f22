/**
 * The report of `cost-guard plan --organization`: one row per account (name, ID, regions, GPU instances and
 * endpoints found, the actions the guard would take, the dollars a month from the savings model, and its status with
 * the reason when it failed), the accounts not planned, and, with `--details`, every unit's plan section as the
 * single-account plan prints it. Names and reasons come from AWS: every cell goes through terminalText or
 * markdownText.
 */
import { formatUsd } from '../../core/money';
import type { AccountPlan, OrganizationPlanReport } from '../plan-organization';
import { type PlanRenderOptions, planSectionLines } from '../plan-section';
import {
  type Column,
  DEFAULT_WIDTH,
  markdownText,
  paragraph,
  renderMarkdownTable,
  renderTable,
  terminalText,
} from './table';

const COLUMNS: readonly Column[] = [
  { header: 'Account' },
  { header: 'ID' },
  { header: 'Regions' },
  { header: 'GPU instances', align: 'right' },
  { header: 'Endpoints', align: 'right' },
  { header: 'Would act', align: 'right' },
  { header: '$/month', align: 'right' },
  { header: 'Status' },
];

const count = (n: number | undefined): string => (n === undefined ? '-' : n.toLocaleString('en-US'));

/** The status cell: `planned`, `failed`, or `partly failed (1 of 4 units)`. */
function statusCell(a: AccountPlan): string {
  return a.status === 'partly failed' ? `partly failed (${a.failedUnits} of ${a.units} units)` : a.status;
}

/** The account table's cells and, for a failed account, its reasons as the row's detail. */
export function accountRows(accounts: readonly AccountPlan[]) {
  return accounts.map((a) => ({
    cells: [
      a.name,
      a.accountId,
      a.regions.join(', '),
      count(a.gpuInstances),
      count(a.endpoints),
      count(a.actions),
      formatUsd(a.monthlySavingsUsd),
      statusCell(a),
    ],
    ...(a.reasons ? { detail: a.reasons.join('; ') } : {}),
  }));
}

export function renderOrganizationPlan(
  report: OrganizationPlanReport,
  format: 'table' | 'json' | 'markdown',
  options: PlanRenderOptions = {},
): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'markdown';
  const width = options.width ?? DEFAULT_WIDTH;
  const text = md ? markdownText : terminalText;
  const out: string[] = [];
  const push = (line: string) => out.push(md ? `${line}\n` : paragraph(line, width));
  const t = report.totals;
  push(
    md
      ? '## ml-cost-guard plan --organization (dry-run)'
      : 'ml-cost-guard plan --organization (dry-run: nothing was changed)',
  );
  push(
    `Hub account ${report.hubAccount ?? 'unknown'} · ${report.generatedAt} · ${t.accounts} account(s), ${t.units} unit(s) of ${report.capabilities.join(', ')}, ${report.concurrency} at a time`,
  );
  for (const p of report.problems ?? []) out.push(md ? `**error**: ${text(p)}\n` : `ERROR: ${terminalText(p)}`);
  if (!md) out.push('');
  const rows = accountRows(report.accounts);
  if (rows.length > 0) {
    out.push(md ? renderMarkdownTable(COLUMNS, rows, 'Reason') : renderTable(COLUMNS, rows, width));
  }
  if (report.skippedAccounts.length > 0) {
    if (!md) out.push('');
    push(md ? '**Not planned**' : 'Not planned:');
    for (const s of report.skippedAccounts) {
      const line = `${s.accountId}: ${text(s.reason)}`;
      out.push(md ? `- ${line}` : paragraph(line, width, '  - ', '    '));
    }
    if (md) out.push('');
  }
  if (options.details) {
    for (const u of report.units) {
      const title = `${u.capability} · ${u.accountName} (${u.accountId}) · ${u.region}`;
      if (u.section) out.push(...planSectionLines(u.section, title, md ? 'markdown' : 'table', options));
      else {
        if (!md) out.push('');
        push(md ? `### ${markdownText(title)}` : `== ${terminalText(title)} ==`);
        out.push(md ? `**error**: ${text(u.reason ?? 'failed')}\n` : `ERROR: ${terminalText(u.reason ?? 'failed')}`);
      }
    }
  }
  if (!md) out.push('');
  const failed =
    t.failedUnits > 0 ? `; ${t.failedUnits} of ${t.units} unit(s) failed in ${t.failedAccounts} account(s)` : '';
  push(
    `${md ? '**' : ''}Total: ${formatUsd(t.monthlySavingsUsd)}/month (${formatUsd(t.monthlySavingsUsd * 12)}/year) over ${t.accounts} account(s), the sum of the rows above; ${t.actions} action(s) this run would take${failed}${md ? '**' : ''}`,
  );
  return out.join('\n').trimEnd();
}
