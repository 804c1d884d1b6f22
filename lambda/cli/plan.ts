/**
 * `cost-guard plan`: every capability in dry-run against the account the AWS SDK chain points at, in one report —
 * what would be terminated, stopped, warned, changed or alerted, each with its reason and dollars, and the totals.
 * Nothing is changed and nothing is posted to Slack (messages the runs would send are counted, not printed).
 */
import type { Notifier } from '../adapters/slack';
import { formatUsd } from '../core/money';
import type { SlackMessage } from '../core/slack-blocks';
import type { CapabilityName } from '../runtime/capability';
import { type RunContext, type RunSummary, summaryOfFailedRun } from '../runtime/context';
import type { ActionRecord } from '../shared/actions';
import { ActionRunner } from '../shared/actions';
import { errorMessage } from '../shared/errors';
import { parseCliArgs } from './args';
import type { CliCapability } from './capabilities';
import { cliContext } from './cli-context';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';
import { Progress } from './progress';

export const PLAN_USAGE = `Usage: cost-guard plan [--config FILE] [--format table|json|markdown] [--only NAMES] [--region R]

Runs the idle GPU reaper, the storage lifecycle and the budget guard in dry-run against the account the AWS SDK
chain points at (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL…) and prints one report. Changes nothing, posts
nothing. Markdown suits a pull-request comment. A missing state table is reported at the top and the plan exits
1 (the sections then show what would happen without one).

Options:
  --config FILE     costGuard config (default: ./cdk.json context)
  --format F        table (default), json or markdown
  --only NAMES      comma-separated subset: reaper,lifecycle,budgets
  --region R        default region (else AWS_REGION)
  --state-table T   the deployed state table (else state.tableName, else ml-cost-guard-state)
  --verbose         log to stderr
  --help            this help`;

export interface PlanSection {
  readonly capability: CapabilityName;
  readonly summary?: RunSummary;
  readonly error?: string;
  readonly slackMessages: number;
}

export interface PlanReport {
  readonly account?: string;
  readonly generatedAt: string;
  /** What the shared checks found wrong before any section ran (a missing state table); the plan then exits 1. */
  readonly problems?: readonly string[];
  readonly sections: readonly PlanSection[];
  readonly totals: { readonly actions: number; readonly monthlySavingsUsd: number; readonly failed: number };
}

/** Counts the messages a dry-run would post, without printing or posting them. */
class CountingNotifier implements Notifier {
  readonly kind = 'console' as const;
  count = 0;
  async post(_message: SlackMessage) {
    this.count += 1;
    return { channel: '(plan)' };
  }
}

/** Actions that save money by themselves; a tag (the reaper's warning) or an alert saves nothing yet. */
const SAVING_KINDS = new Set(['terminate', 'stop', 'lifecycle-put']);

function actionLine(a: ActionRecord): [string, string, string, string, string] {
  return [
    a.kind,
    a.region ? `${a.target} (${a.region})` : a.target,
    a.reason,
    a.monthlySavingsUsd !== undefined
      ? `${formatUsd(a.monthlySavingsUsd)}/mo`
      : SAVING_KINDS.has(a.kind)
        ? 'price unknown'
        : '—',
    a.status,
  ];
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length))));
  return rows
    .map((r) =>
      r
        .map((c, i) => (c.length > 60 ? `${c.slice(0, 59)}…` : c).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderPlan(report: PlanReport, format: 'table' | 'json' | 'markdown'): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'markdown';
  const out: string[] = [];
  out.push(md ? '## ml-cost-guard plan (dry-run)' : 'ml-cost-guard plan (dry-run: nothing was changed)');
  out.push(`${md ? '' : ''}Account ${report.account ?? 'unknown'} · ${report.generatedAt}`);
  for (const p of report.problems ?? []) out.push(`${md ? '**error**: ' : 'ERROR: '}${p}`);
  for (const s of report.sections) {
    out.push('');
    out.push(md ? `### ${s.capability}` : `== ${s.capability} ==`);
    if (s.error) out.push(`${md ? '**error**: ' : 'ERROR: '}${s.error}`);
    const summary = s.summary;
    if (!summary) continue;
    const rows = summary.actions.map(actionLine);
    if (rows.length === 0) out.push('No action would be taken.');
    else if (md) {
      out.push('| action | target | reason | savings | status |', '| --- | --- | --- | --- | --- |');
      for (const r of rows) out.push(`| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
    } else out.push(table([['ACTION', 'TARGET', 'REASON', 'SAVINGS', 'STATUS'], ...rows]));
    for (const note of summary.notes) out.push(`${md ? '- ' : '  note: '}${note}`);
    out.push(
      `${md ? '_' : ''}Subtotal: ${formatUsd(summary.monthlySavingsUsd)}/month; ${s.slackMessages} Slack message(s) would be sent${md ? '_' : ''}`,
    );
  }
  out.push('');
  out.push(
    `${md ? '**' : ''}Total: ${report.totals.actions} action(s), ${formatUsd(report.totals.monthlySavingsUsd)}/month (${formatUsd(report.totals.monthlySavingsUsd * 12)}/year) estimated savings${md ? '**' : ''}`,
  );
  return out.join('\n');
}

export function planCommandFor(modules: ReadonlyMap<CapabilityName, CliCapability>) {
  return async function planCommand(argv: string[], io: CliIO): Promise<number> {
    let values: {
      config?: string;
      format?: string;
      only?: string;
      region?: string;
      'state-table'?: string;
      verbose?: boolean;
      help?: boolean;
    };
    ({ values } = parseCliArgs(
      {
        args: argv,
        options: {
          config: { type: 'string' },
          format: { type: 'string' },
          only: { type: 'string' },
          region: { type: 'string' },
          'state-table': { type: 'string' },
          verbose: { type: 'boolean' },
          help: { type: 'boolean' },
        },
      },
      PLAN_USAGE,
    ));
    if (values.help) {
      io.out(PLAN_USAGE);
      return EXIT.ok;
    }
    const format = values.format ?? 'table';
    if (format !== 'table' && format !== 'json' && format !== 'markdown') {
      throw new UsageError(`--format must be table, json or markdown; got '${format}'`, PLAN_USAGE);
    }
    const names = values.only ? values.only.split(',').map((s) => s.trim()) : [...modules.keys()];
    for (const n of names) {
      if (!modules.has(n as CapabilityName)) {
        throw new UsageError(
          `--only: unknown capability '${n}'; choose from ${[...modules.keys()].join(', ')}`,
          PLAN_USAGE,
        );
      }
    }
    const { config } = resolveConfig(values.config, io);
    const progress = new Progress(io);
    const sections: PlanSection[] = [];
    // One look-up of the account, state table and prices for the whole plan; each section gets its own action
    // log and call counter. A missing state table does not pass: it heads the report and the plan exits 1.
    progress.update('checking AWS access…');
    const problems: string[] = [];
    let base: RunContext;
    try {
      base = await cliContext({
        config,
        io,
        dryRun: true,
        printOnly: true,
        verbose: values.verbose === true,
        ...(values.region ? { region: values.region } : {}),
        ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
        onMissingStateTable: (error) => problems.push(error.message),
      });
    } finally {
      progress.done();
    }
    for (const name of names as CapabilityName[]) {
      const module = modules.get(name)!;
      progress.update(`planning ${name}…`);
      const notifier = new CountingNotifier();
      const ctx: RunContext = {
        ...base,
        clients: base.clients.fresh(),
        actions: new ActionRunner(true, base.now),
        notifier,
      };
      try {
        const summary = await module.run(ctx, { source: 'cost-guard.plan' });
        sections.push({ capability: name, summary, slackMessages: notifier.count });
      } catch (error) {
        const partial = summaryOfFailedRun(error);
        sections.push({
          capability: name,
          ...(partial ? { summary: partial } : {}),
          error: errorMessage(error),
          slackMessages: notifier.count,
        });
      }
    }
    progress.done();
    const effective = sections.flatMap((s) => s.summary?.actions ?? []);
    const report: PlanReport = {
      ...(base.accountId ? { account: base.accountId } : {}),
      generatedAt: io.now().toISOString(),
      ...(problems.length > 0 ? { problems } : {}),
      sections,
      totals: {
        actions: effective.length,
        monthlySavingsUsd: sections.reduce((n, s) => n + (s.summary?.monthlySavingsUsd ?? 0), 0),
        failed: sections.filter((s) => s.error).length,
      },
    };
    io.out(renderPlan(report, format));
    return report.totals.failed > 0 || problems.length > 0 ? EXIT.failure : EXIT.ok;
  };
}
