/**
 * `cost-guard plan`: every capability in dry-run against the account the AWS SDK chain points at, in one report —
 * what would be terminated, stopped, warned, changed or alerted, each with its evidence, reason and dollars, what
 * was left alone counted by reason, and subtotals that add up to the total. Nothing is changed and nothing is posted
 * to Slack (the messages the runs would send are counted). With a Slack token the deployed guard could use, the
 * sections show what it would do, assuming Slack accepts its messages; without one, the report-only outcome.
 */
import { formatUsd } from '../core/money';
import type { CapabilityName } from '../runtime/capability';
import type { RunContext } from '../runtime/context';
import { priceListsFor } from '../runtime/pricing-source';
import { parseCliArgs } from './args';
import type { CliCapability } from './capabilities';
import { cliContext, findSlackToken } from './cli-context';
import { renderOrganizationPlan } from './format/organization';
import { DEFAULT_WIDTH, markdownText, paragraph, terminalText } from './format/table';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';
import {
  accountPlans,
  concurrencyOf,
  listPlanAccounts,
  type OrganizationPlanReport,
  organizationCapabilities,
  organizationUnits,
  planRunId,
  runOrganizationPlan,
  targetSelection,
  type UnitPlan,
} from './plan-organization';
import {
  type PlanRenderOptions,
  type PlanSection,
  planSection,
  planSectionLines,
  type SlackLookup,
} from './plan-section';
import { Progress } from './progress';

export { type PlanRenderOptions, type PlanSection, planSection, sectionView } from './plan-section';

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
  --help            this help

Organization (from the management account, or a delegated administrator):
  --organization    plan every account the config's accounts selection names (accounts.organizationalUnitIds,
                    accountIds, minus exclude; any accounts.mode), assuming accounts.roleName in each, one unit per
                    capability, account and region (reaper, sagemaker, rightsizing, lifecycle); prints a table by
                    account; exits 1 when a unit failed
  --ou IDS          comma-separated OU IDs (ou-…, or the root r-…) to plan instead of the config's selection
  --accounts IDS    comma-separated account IDs to plan instead of the config's selection (with --ou: both)
  --concurrency N   units at once, 1-100 (default: accounts.concurrency, 20)`;

export interface PlanReport {
  readonly account?: string;
  readonly generatedAt: string;
  /** What the shared checks found wrong before any section ran (a missing state table); the plan then exits 1. */
  readonly problems?: readonly string[];
  /** Whether a Slack token the deployed guard could use was found, and where (or why not). Never the token. */
  readonly slack?: SlackLookup;
  readonly sections: readonly PlanSection[];
  /** `monthlySavingsUsd` is the sum of the sections' subtotals. */
  readonly totals: { readonly actions: number; readonly monthlySavingsUsd: number; readonly failed: number };
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
          organization: { type: 'boolean' },
          ou: { type: 'string' },
          accounts: { type: 'string' },
          concurrency: { type: 'string' },
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
    const organization = values.organization === true;
    for (const flag of ['ou', 'accounts', 'concurrency'] as const) {
      if (values[flag] !== undefined && !organization) {
        throw new UsageError(`--${flag} plans an organization: pass it with --organization`, PLAN_USAGE);
      }
    }
    const only = values.only?.split(',').map((s) => s.trim());
    const names = organization ? organizationCapabilities(only, modules, PLAN_USAGE) : (only ?? [...modules.keys()]);
    for (const n of names) {
      if (!modules.has(n as CapabilityName)) {
        throw new UsageError(
          `--only: unknown capability '${n}'; choose from ${[...modules.keys()].join(', ')}`,
          PLAN_USAGE,
        );
      }
    }
    const { config } = resolveConfig(values.config, io);
    // Organization flags are checked before any AWS call.
    const org = organization
      ? {
          selection: targetSelection(config.accounts, values, PLAN_USAGE),
          concurrency: concurrencyOf(values.concurrency, config.accounts.concurrency, PLAN_USAGE),
        }
      : undefined;
    const verbose = values.verbose === true;
    const progress = new Progress(io);
    const sections: PlanSection[] = [];
    // One look-up of the account, state table, prices and Slack token for the whole plan; each section gets its
    // own action log and call counter. A missing state table does not pass: it heads the report and the plan exits 1.
    progress.section('plan');
    progress.update('checking AWS access…');
    const problems: string[] = [];
    let base: RunContext;
    let slack: SlackLookup;
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
    const render = { modules, width: io.columns ?? DEFAULT_WIDTH, details: values.details === true };
    if (org) {
      const report = await planOrganization({
        ...org,
        base,
        slack,
        problems,
        modules,
        capabilities: names as CapabilityName[],
        io,
        progress,
        verbose,
      });
      io.out(renderOrganizationPlan(report, format, render));
      return report.totals.failedUnits > 0 || problems.length > 0 ? EXIT.failure : EXIT.ok;
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
    io.out(renderPlan(report, format, render));
    return report.totals.failed > 0 || problems.length > 0 ? EXIT.failure : EXIT.ok;
  };
}

/** One line per unit done, for the terminal or --verbose: `✓ reaper · research (111122223333) · us-east-1 · …`. */
function unitLine(u: UnitPlan, done: number, total: number): string {
  const where = `${u.capability} · ${terminalText(u.accountName)} (${u.accountId}) · ${u.region}`;
  const n = `[${done}/${total}]`;
  if (!u.ok) return `✗ ${n} ${where}: ${terminalText(u.reason ?? 'failed')}`;
  const s = u.section!;
  return `✓ ${n} ${where}: ${s.summary?.actions.length ?? 0} action(s), ${formatUsd(s.subtotal.monthlyUsd)}/month`;
}

/**
 * The organization plan after the shared look-ups: lists the accounts, runs every unit (progress on stderr: the
 * units done on the line, one line per unit on a terminal or with --verbose) and builds the report.
 */
async function planOrganization(o: {
  readonly base: RunContext;
  readonly slack: SlackLookup;
  readonly problems: string[];
  readonly modules: ReadonlyMap<CapabilityName, CliCapability>;
  readonly capabilities: readonly CapabilityName[];
  readonly selection: Parameters<typeof listPlanAccounts>[1];
  readonly concurrency: number;
  readonly io: CliIO;
  readonly progress: Progress;
  readonly verbose: boolean;
}): Promise<OrganizationPlanReport> {
  const { base, io, progress } = o;
  const runId = planRunId(base.now);
  progress.section('plan --organization');
  progress.update('listing the accounts…');
  let listing: Awaited<ReturnType<typeof listPlanAccounts>>;
  try {
    listing = await listPlanAccounts(base.clients, o.selection);
  } finally {
    progress.done();
  }
  if (listing.accounts.length === 0) o.problems.push('no active account to plan: the selection names none');
  const units = organizationUnits(o.capabilities, listing.accounts, base.regions, base.clients.defaultRegion);
  progress.section('plan --organization');
  progress.update(`0 of ${units.length} units`);
  let outcomes: UnitPlan[];
  try {
    outcomes = await runOrganizationPlan({
      base,
      modules: o.modules,
      units,
      slack: o.slack,
      concurrency: o.concurrency,
      runId,
      onUnitDone: (u, done, total) => {
        progress.update(`${done} of ${total} units`);
        if (progress.enabled || o.verbose) progress.keep(unitLine(u, done, total), io.err);
      },
    });
  } finally {
    progress.done();
  }
  const accounts = accountPlans(listing.accounts, outcomes, o.modules);
  return {
    mode: 'organization',
    ...(base.accountId ? { hubAccount: base.accountId } : {}),
    generatedAt: io.now().toISOString(),
    runId,
    ...(o.problems.length > 0 ? { problems: o.problems } : {}),
    slack: o.slack,
    capabilities: o.capabilities,
    concurrency: o.concurrency,
    accounts,
    skippedAccounts: listing.skipped,
    units: outcomes,
    totals: {
      accounts: accounts.length,
      failedAccounts: accounts.filter((a) => a.failedUnits > 0).length,
      units: outcomes.length,
      failedUnits: outcomes.filter((u) => !u.ok).length,
      actions: accounts.reduce((n, a) => n + a.actions, 0),
      monthlySavingsUsd: accounts.reduce((n, a) => n + Math.round(a.monthlySavingsUsd * 100), 0) / 100,
    },
  };
}
