/**
 * `cost-guard plan`: every capability in dry-run against the account the AWS SDK chain points at, in one report —
 * what would be terminated, stopped, warned, changed or alerted, each with its evidence, reason and dollars, what
 * was left alone counted by reason, and subtotals that add up to the total. Nothing is changed and nothing is posted
 * to Slack (the messages the runs would send are counted). With a Slack token the deployed guard could use, the
 * sections show what it would do, assuming Slack accepts its messages; without one, the report-only outcome.
 */
import type { Notifier } from '../adapters/slack';
import { formatUsd } from '../core/money';
import type { SlackMessage } from '../core/slack-blocks';
import type { CapabilityName } from '../runtime/capability';
import { type RunContext, type RunSummary, summaryOfFailedRun } from '../runtime/context';
import { priceListsFor } from '../runtime/pricing-source';
import { ActionRunner } from '../shared/actions';
import { errorMessage } from '../shared/errors';
import { parseCliArgs } from './args';
import type { CliCapability } from './capabilities';
import { cliContext, findSlackToken } from './cli-context';
import { DEFAULT_WIDTH, markdownText, paragraph, terminalText } from './format/table';
import { actionsView, renderSection, type SectionView } from './format/view';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';
import { Progress } from './progress';

export const PLAN_USAGE = `Usage: cost-guard plan [--config FILE] [--format table|json|markdown] [--json] [--details] [--only NAMES] [--region R]

Runs the idle GPU reaper, the storage lifecycle, the budget guard and the SageMaker guard in dry-run against the
account the AWS SDK chain points at (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL…) and prints one report. Changes nothing, posts
nothing. With a Slack token the deployed guard could use (SLACK_BOT_TOKEN, or a value in the slack.tokenSecretName
secret) it shows what the guard would do, assuming Slack accepts its messages; without one, the report-only
outcome. Markdown suits a pull-request comment. A missing state table is reported at the top and the plan exits
1 (the sections then show what would happen without one).

Options:
  --config FILE     costGuard config (default: ./cdk.json context)
  --format F        table (default), json or markdown
  --json            the same as --format json
  --details         list the instances and buckets counted as left alone, conflicts and notices
  --only NAMES      comma-separated subset: reaper,lifecycle,budgets,sagemaker
  --region R        default region (else AWS_REGION)
  --state-table T   the deployed state table (else state.tableName, else ml-cost-guard-state)
  --verbose         log each AWS call and each decision to stderr
  --help            this help`;

export interface PlanSection {
  readonly capability: CapabilityName;
  readonly summary?: RunSummary;
  readonly error?: string;
  readonly slackMessages: number;
  /** How the section was evaluated, when it depends on Slack delivery (reaper, budgets). */
  readonly assumption?: string;
  /** The sum of the dollars the section's rows show, and what the figure means. */
  readonly subtotal: { readonly monthlyUsd: number; readonly text: string };
}

export interface PlanReport {
  readonly account?: string;
  readonly generatedAt: string;
  /** What the shared checks found wrong before any section ran (a missing state table); the plan then exits 1. */
  readonly problems?: readonly string[];
  /** Whether a Slack token the deployed guard could use was found, and where (or why not). Never the token. */
  readonly slack?: { readonly tokenFound: boolean; readonly source: string };
  readonly sections: readonly PlanSection[];
  /** `monthlySavingsUsd` is the sum of the sections' subtotals. */
  readonly totals: { readonly actions: number; readonly monthlySavingsUsd: number; readonly failed: number };
}

/**
 * Counts the messages a dry run would post, and posts or prints none. `preview`: as if Slack accepted each one (a
 * token was found); `console`: as a run without a token (nobody could read them).
 */
class CountingNotifier implements Notifier {
  count = 0;
  constructor(readonly kind: 'preview' | 'console') {}
  async post(_message: SlackMessage) {
    this.count += 1;
    return { channel: '(plan)' };
  }
}

/** The lines of how a section was evaluated, for the capabilities whose outcome depends on Slack delivery. */
function assumptionFor(name: CapabilityName, slack: { tokenFound: boolean; source: string }): string | undefined {
  const what = name === 'reaper' ? 'a warning' : name === 'budgets' ? 'an alert' : undefined;
  if (!what) return undefined;
  return slack.tokenFound
    ? `Slack token found (${slack.source}): shown as the deployed guard would run, assuming Slack accepts ${what.replace(/^an? /, 'the ')}. Nothing is posted.`
    : `No Slack token (${slack.source}): the deployed guard could not deliver ${what} a person could read, so this is the report-only outcome.`;
}

/**
 * One capability's section of a plan: its run in dry-run on `base` (its clients, regions and account) with a fresh
 * action log and a notifier that only counts. A failed run is a section with its error (and what it did, if it
 * carried a summary). The single-account plan runs it once per capability; `plan --organization` once per unit.
 */
export async function planSection(
  module: CliCapability,
  base: RunContext,
  slack: { readonly tokenFound: boolean; readonly source: string },
): Promise<PlanSection> {
  const name = module.name;
  // Never posts: with a token the messages are taken as accepted, without one as unread.
  const notifier = new CountingNotifier(slack.tokenFound ? 'preview' : 'console');
  const ctx: RunContext = { ...base, actions: new ActionRunner(true, base.now), notifier };
  const assumption = assumptionFor(name, slack);
  const common = { capability: name, ...(assumption ? { assumption } : {}) };
  try {
    const summary = await module.run(ctx, { source: 'cost-guard.plan' });
    return { ...common, summary, slackMessages: notifier.count, subtotal: sectionView(summary, module).subtotal };
  } catch (error) {
    const summary = summaryOfFailedRun(error);
    return {
      ...common,
      ...(summary ? { summary } : {}),
      error: errorMessage(error),
      slackMessages: notifier.count,
      subtotal: summary
        ? sectionView(summary, module).subtotal
        : { monthlyUsd: 0, text: 'not computed: the section failed' },
    };
  }
}

export interface PlanRenderOptions {
  /** The capabilities' own sections (else their action records are listed). */
  readonly modules?: ReadonlyMap<CapabilityName, CliCapability>;
  /** Terminal width. @default 100 */
  readonly width?: number;
  /** List what was counted (`--details`). @default false */
  readonly details?: boolean;
}

/** A section's view: the capability's own, else its action records. */
export function sectionView(summary: RunSummary, module: CliCapability | undefined): SectionView {
  return module?.planView?.(summary) ?? actionsView(summary);
}

/**
 * A section of a plan as lines: its title, error, assumption, the capability's view and the subtotal with the Slack
 * messages it would send (`plan --organization` titles each unit's section with its account and region).
 */
export function planSectionLines(
  s: PlanSection,
  title: string,
  format: 'table' | 'markdown',
  options: PlanRenderOptions = {},
): string[] {
  const md = format === 'markdown';
  const width = options.width ?? DEFAULT_WIDTH;
  const text = md ? markdownText : (t: string) => t;
  const out: string[] = [];
  const push = (line: string) => out.push(md ? `${line}\n` : paragraph(line, width));
  if (!md) out.push('');
  push(md ? `### ${text(title)}` : `== ${terminalText(title)} ==`);
  if (s.error) out.push(md ? `**error**: ${text(s.error)}\n` : `ERROR: ${terminalText(s.error)}`);
  if (s.assumption) push(text(s.assumption));
  if (!s.summary) return out;
  const view = sectionView(s.summary, options.modules?.get(s.capability));
  const lines = renderSection(view, { format, width, details: options.details ?? false });
  // The subtotal line says how many messages the run would post.
  const last = lines.pop() ?? '';
  out.push(...lines);
  const messages = `; ${s.slackMessages} Slack message(s) would be sent`;
  out.push(md ? `${last.replace(/_$/, '')}${messages}_\n` : paragraph(`${last}${messages}`, width, '', '  '));
  return out;
}

export function renderPlan(
  report: PlanReport,
  format: 'table' | 'json' | 'markdown',
  options: PlanRenderOptions = {},
): string {
  if (format === 'json') return JSON.stringify(report, null, 2);
  const md = format === 'markdown';
  const width = options.width ?? DEFAULT_WIDTH;
  const text = md ? markdownText : (t: string) => t;
  // Markdown: every block is its own paragraph (a blank line between), so no table swallows what follows. Terminal:
  // prose wrapped to the width.
  const out: string[] = [];
  const push = (line: string) => out.push(md ? `${line}\n` : paragraph(line, width));
  push(md ? '## ml-cost-guard plan (dry-run)' : 'ml-cost-guard plan (dry-run: nothing was changed)');
  push(`Account ${report.account ?? 'unknown'} · ${report.generatedAt}`);
  // Errors stay on one line each, whole (a reader may search for them).
  const error = (e: string) => out.push(md ? `**error**: ${text(e)}\n` : `ERROR: ${terminalText(e)}`);
  for (const p of report.problems ?? []) error(p);
  for (const s of report.sections) out.push(...planSectionLines(s, s.capability, md ? 'markdown' : 'table', options));
  if (!md) out.push('');
  const t = report.totals;
  push(
    `${md ? '**' : ''}Total: ${formatUsd(t.monthlySavingsUsd)}/month (${formatUsd(t.monthlySavingsUsd * 12)}/year), the sum of the subtotals above; ${t.actions} action(s) this run would take${md ? '**' : ''}`,
  );
  return out.join('\n').trimEnd();
}

export function planCommandFor(modules: ReadonlyMap<CapabilityName, CliCapability>) {
  return async function planCommand(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCliArgs(
      {
        args: argv,
        options: {
          config: { type: 'string' },
          format: { type: 'string' },
          json: { type: 'boolean' },
          details: { type: 'boolean' },
          only: { type: 'string' },
          region: { type: 'string' },
          'state-table': { type: 'string' },
          verbose: { type: 'boolean' },
          help: { type: 'boolean' },
        },
      },
      PLAN_USAGE,
    );
    if (values.help) {
      io.out(PLAN_USAGE);
      return EXIT.ok;
    }
    if (values.json && values.format !== undefined && values.format !== 'json') {
      throw new UsageError(`--json and --format ${values.format} ask for two formats; pass one`, PLAN_USAGE);
    }
    const format = values.json ? 'json' : (values.format ?? 'table');
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
    const verbose = values.verbose === true;
    const progress = new Progress(io);
    const sections: PlanSection[] = [];
    // One look-up of the account, state table, prices and Slack token for the whole plan; each section gets its
    // own action log and call counter. A missing state table does not pass: it heads the report and the plan exits 1.
    progress.section('plan');
    progress.update('checking AWS access…');
    const problems: string[] = [];
    let base: RunContext;
    let slack: { tokenFound: boolean; source: string };
    try {
      base = await cliContext({
        config,
        io,
        dryRun: true,
        printOnly: true,
        verbose,
        progress,
        priceLists: [...new Set(names.flatMap((n) => priceListsFor(n)))],
        ...(values.region ? { region: values.region } : {}),
        ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
        onMissingStateTable: (error) => problems.push(error.message),
      });
      progress.update('looking for a Slack token…');
      const found = await findSlackToken({ config, io }, base.clients.defaultRegion);
      slack = { tokenFound: found.token !== undefined, source: found.source };
    } finally {
      progress.done();
    }
    for (const name of names as CapabilityName[]) {
      const module = modules.get(name)!;
      progress.section(name);
      let section: PlanSection;
      try {
        section = await planSection(module, { ...base, clients: base.clients.fresh() }, slack);
      } finally {
        progress.done();
      }
      sections.push(section);
      if (verbose && section.summary) for (const line of module.decisionLines?.(section.summary) ?? []) io.err(line);
    }
    const effective = sections.flatMap((s) => s.summary?.actions ?? []);
    const report: PlanReport = {
      ...(base.accountId ? { account: base.accountId } : {}),
      generatedAt: io.now().toISOString(),
      ...(problems.length > 0 ? { problems } : {}),
      slack,
      sections,
      totals: {
        actions: effective.length,
        monthlySavingsUsd: sections.reduce((n, s) => n + Math.round(s.subtotal.monthlyUsd * 100), 0) / 100,
        failed: sections.filter((s) => s.error).length,
      },
    };
    io.out(
      renderPlan(report, format, { modules, width: io.columns ?? DEFAULT_WIDTH, details: values.details === true }),
    );
    return report.totals.failed > 0 || problems.length > 0 ? EXIT.failure : EXIT.ok;
  };
}
