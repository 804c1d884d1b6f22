/**
 * Slack messages of the budget guard (Block Kit, within Slack's limits). Pure: everything shown comes in as data.
 */

import { formatPercentValue, formatUsd } from '../money';
import { round2 } from '../savings/calculators';
import {
  type Block,
  context,
  divider,
  escapeCode,
  escapeMrkdwn,
  escapeName,
  fallbackText,
  fields,
  header,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitIntoMessages,
  truncate,
  wellFormed,
} from '../slack-blocks';
import type { BudgetEvaluation, BudgetProblem, CrossedThreshold } from './policy';
import { type CountedSkips, skipSummary } from './report';

/** Link to a budget in the AWS Billing console (Budgets is a global service served from us-east-1). */
export function budgetConsoleUrl(name: string): string {
  // Beyond encodeURIComponent: the characters mrkdwn could read as formatting inside the link.
  const query = encodeURIComponent(wellFormed(name)).replace(
    /[!'()*~_]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `https://us-east-1.console.aws.amazon.com/billing/home#/budgets/details?name=${query}`;
}

/** A budget name in a title: AWS allows 100 characters; a longer one is cut so the figures still fit a header. */
const TITLE_NAME_TEXT = 80;

/** A word for a shell command: as it is when safe, else single-quoted. */
function shellWord(text: string): string {
  return /^[\w.:@%+=,/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What happened (or would happen) to one instance at the action threshold. */
export interface StopOutcome {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  /** Compute $/h no longer paid, from the savings model; undefined when the price is unknown. */
  readonly hourlyUsd?: number;
  /** 'done' stopped; 'dry-run' / 'would-stop' not stopped (dry run / action notify); 'failed' the stop failed. */
  readonly status: 'done' | 'dry-run' | 'would-stop' | 'failed';
  readonly errorCode?: string;
  /** A note for people, e.g. why a stop failed. */
  readonly note?: string;
}

/** How the action threshold was handled. */
export type ActionMode = 'stop' | 'notify' | 'dry-run';

export interface InstanceStoreWarning {
  /** False when instance-type facts were not available: the warning is then general. */
  readonly known: boolean;
  /** Types among the stopped instances that have instance store. */
  readonly types: readonly string[];
}

export interface BudgetAlertInput {
  readonly evaluation: BudgetEvaluation;
  /** Thresholds this message announces (newly crossed in this period). */
  readonly thresholds: readonly CrossedThreshold[];
  readonly mode: ActionMode;
  /** Present when the action threshold is announced. */
  readonly stops?: readonly StopOutcome[];
  readonly skipped?: CountedSkips;
  readonly instanceStore?: InstanceStoreWarning;
  readonly essentialTag: string;
}

const KIND_TITLE: Readonly<Record<CrossedThreshold['kind'], string>> = {
  alert: 'alert threshold',
  action: 'action threshold',
  forecast: 'forecast over',
};

/** The title, with the budget's name as given: raw for a plain_text header, escaped for mrkdwn. */
function title(input: BudgetAlertInput, name: string): string {
  const e = input.evaluation;
  const top = [...input.thresholds].sort((a, b) => rank(b) - rank(a))[0];
  const used = e.percentUsed !== undefined ? formatPercentValue(e.percentUsed) : '?';
  if (!top) return `Budget ${name} at ${used}`;
  if (top.kind === 'forecast') {
    return `Budget ${name} is forecast to reach ${formatPercentValue(e.forecastPercent ?? 0)} of its limit`;
  }
  return `Budget ${name} at ${used} (${KIND_TITLE[top.kind]} ${top.percent}%)`;
}

function rank(t: CrossedThreshold): number {
  return t.kind === 'action' ? 3 : t.kind === 'alert' ? 2 : 1;
}

function stopLine(s: StopOutcome): string {
  const saved = s.hourlyUsd !== undefined ? `${formatUsd(s.hourlyUsd)}/h` : 'price unknown';
  const where = `\`${s.instanceId}\` ${escapeName(s.instanceType)} (${escapeName(s.region)})`;
  switch (s.status) {
    case 'done':
      return `• ${where}: stopped, saves ${saved}`;
    case 'dry-run':
    case 'would-stop':
      return `• ${where}: would stop, would save ${saved}`;
    case 'failed':
      return `• ${where}: *not stopped* (${escapeName(s.errorCode ?? 'error')}${s.note ? `: ${escapeMrkdwn(truncate(s.note, 500))}` : ''})`;
  }
}

/** Sum of the $/h of the outcomes that stopped (or would stop), from the savings model's per-instance figures. */
export function hourlySaved(stops: readonly StopOutcome[]): number {
  return round2(stops.filter((s) => s.status !== 'failed').reduce((sum, s) => sum + (s.hourlyUsd ?? 0), 0));
}

/** Packs lines into sections of at most MAX_SECTION_TEXT characters. */
function lineSections(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > MAX_SECTION_TEXT) {
      blocks.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) blocks.push(section(current));
  return blocks;
}

function actionBlocks(input: BudgetAlertInput): Block[] {
  const stops = input.stops ?? [];
  const name = input.evaluation.name;
  const blocks: Block[] = [divider()];
  const acted = stops.filter((s) => s.status === 'done');
  const failed = stops.filter((s) => s.status === 'failed');
  const would = stops.filter((s) => s.status === 'dry-run' || s.status === 'would-stop');
  if (input.mode === 'stop') {
    blocks.push(
      section(
        stops.length === 0
          ? '*Action:* no running non-essential instance in scope to stop.'
          : `*Action:* stopped ${acted.length} non-essential instance(s), saving ${formatUsd(hourlySaved(stops))}/h` +
              (failed.length > 0 ? `; ${failed.length} could not be stopped.` : '.'),
      ),
    );
  } else {
    const why =
      input.mode === 'dry-run'
        ? '*Dry run:* nothing was changed.'
        : "*budgets.action is 'notify':* nothing was stopped.";
    blocks.push(
      section(
        would.length === 0
          ? `${why} No running non-essential instance in scope would be stopped.`
          : `${why} With \`stop-non-essential\` it would stop ${would.length} instance(s), saving ${formatUsd(hourlySaved(stops))}/h.`,
      ),
    );
  }
  blocks.push(...lineSections(stops.map(stopLine)));
  if (acted.length + would.length > 0) {
    const store = input.instanceStore;
    const warning =
      store?.known === true
        ? store.types.length > 0
          ? `:warning: Instance-store (local NVMe) data is lost on stop: ${store.types.map((t) => escapeName(t)).join(', ')} ${store.types.length === 1 ? 'has' : 'have'} instance store. EBS volumes are kept.`
          : 'EBS volumes are kept; none of these instance types has instance store.'
        : ':warning: Any instance-store (local NVMe) data is lost on stop (instance-type details were not available). EBS volumes are kept.';
    blocks.push(section(warning));
  }
  const skipped = input.skipped ? skipSummary(input.skipped) : '';
  blocks.push(
    context(
      `${skipped ? `Not stopped: ${skipped}. ` : ''}Keep an instance running: tag it \`${escapeMrkdwn(input.essentialTag)}=true\`. ` +
        `Restart what the guard stopped: \`npx cost-guard restore --budget ${escapeCode(shellWord(name))}\`.`,
    ),
  );
  return blocks;
}

/** The alert of one budget: the figures, the link, and at the action threshold what was (or would be) stopped. */
export function budgetAlertMessages(input: BudgetAlertInput): SlackMessage[] {
  const e = input.evaluation;
  const name = truncate(e.name, TITLE_NAME_TEXT);
  const text = title(input, escapeName(name));
  // plain_text: the name is shown as written.
  const head: Block[] = [
    header(`${input.thresholds.some((t) => t.kind === 'action') ? '🚨' : '⚠️'} ${title(input, name)}`),
  ];
  const body: Block[] = [
    fields([
      ['Budget', escapeName(e.name)],
      ['Spend', e.actualUsd !== undefined ? formatUsd(e.actualUsd) : 'unknown'],
      ['Limit', e.limitUsd !== undefined ? formatUsd(e.limitUsd) : 'unknown'],
      ['Used', e.percentUsed !== undefined ? formatPercentValue(e.percentUsed) : 'unknown'],
      [
        'Forecast',
        e.forecastUsd !== undefined && e.forecastPercent !== undefined
          ? `${formatUsd(e.forecastUsd)} (${formatPercentValue(e.forecastPercent)})`
          : 'not available yet',
      ],
      ['Days left in period', e.period ? `${e.period.daysLeft} (period ${e.period.key})` : 'unknown'],
    ]),
    section(`<${budgetConsoleUrl(e.name)}|Open the budget in the AWS console>`),
  ];
  if (input.thresholds.some((t) => t.kind === 'action')) body.push(...actionBlocks(input));
  return splitIntoMessages(input.mode === 'dry-run' ? `[dry run] ${text}` : text, head, body);
}

/** A notice that a watched budget cannot be judged (missing, no limit, not USD, limit 0…). */
export function budgetProblemMessage(name: string, problem: BudgetProblem): SlackMessage {
  const text = `Budget guard cannot check budget ${truncate(name, TITLE_NAME_TEXT)}`;
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks: [
      header(`⚠️ ${text}`),
      section(escapeMrkdwn(problem.message)),
      context(
        problem.kind === 'missing'
          ? 'Create the budget, give budgets.items an entry with limitUsd so the stack creates it, or remove it from budgets.items.'
          : `<${budgetConsoleUrl(name)}|Open the budget in the AWS console>`,
      ),
    ],
  };
}
