/**
 * One section of `cost-guard plan`: a capability's run in dry-run with a notifier that only counts, and its
 * rendering. The single-account plan has one per capability; `plan --organization` one per (capability, account,
 * region) unit, run and printed by the same functions.
 */
import type { Notifier } from '../adapters/slack';
import type { SlackMessage } from '../core/slack-blocks';
import type { CapabilityName } from '../runtime/capability';
import { type RunContext, type RunSummary, summaryOfFailedRun } from '../runtime/context';
import { ActionRunner } from '../shared/actions';
import { errorMessage } from '../shared/errors';
import type { CliCapability } from './capabilities';
import { DEFAULT_WIDTH, markdownText, paragraph, terminalText } from './format/table';
import { actionsView, renderSection, type SectionView } from './format/view';

/** Whether a Slack token the deployed guard could use was found, and where (or why not). Never the token. */
export interface SlackLookup {
  readonly tokenFound: boolean;
  readonly source: string;
}

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
function assumptionFor(name: CapabilityName, slack: SlackLookup): string | undefined {
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
export async function planSection(module: CliCapability, base: RunContext, slack: SlackLookup): Promise<PlanSection> {
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
