/**
 * Slack messages of the budget guard (Block Kit, within Slack's limits). Pure: everything shown comes in as data.
 */

import { formatPercentValue, formatUsd } from '../money';
import { round2 } from '../savings/calculators';
import { ActionValueError, actionButtons } from '../slack-actions';
import {
  type Block,
  type BlockGroup,
  context,
  divider,
  escapeCode,
  escapeMrkdwn,
  escapeName,
  fallbackText,
  fields,
  header,
  lineSections,
  type SlackMessage,
  section,
  splitGroups,
  splitIntoMessages,
  truncate,
  wellFormed,
} from '../slack-blocks';
import { type LaunchCapNotice, launchCapSection } from './launch-cap';
import type { BudgetEvaluation, BudgetProblem, CrossedThreshold, LimitMismatch } from './policy';
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
  /** The linked account the instance runs in (a payer budget's `accounts`); absent: the guard's own account. */
  readonly accountId?: string;
  /** The instance's Name tag, shown next to its ID. */
  readonly name?: string;
  /** Compute $/h no longer paid, from the savings model; undefined when the price is unknown. */
  readonly hourlyUsd?: number;
  /** The same a month (the savings model's hours per month); undefined when the price is unknown. */
  readonly monthlyUsd?: number;
  /**
   * 'stopping' announced in Slack and stopped right after the alert was accepted; 'done' stopped; 'dry-run' /
   * 'would-stop' not stopped (dry run / action notify); 'failed' the stop failed.
   */
  readonly status: 'stopping' | 'done' | 'dry-run' | 'would-stop' | 'failed';
  readonly errorCode?: string;
  /** A note for people, e.g. why a stop failed. */
  readonly note?: string;
}

/**
 * The buttons of a budget action message (slack.interactivity on, stopping for real): "Restore" under each instance
 * stopped (or being stopped) for the budget, "Keep this one running" under each instance listed to be stopped next.
 */
export interface BudgetButtons {
  /** slack.maxKeepHours: every keep is checked against it. */
  readonly maxKeepHours: number;
  /** How long "Keep this one running" keeps an instance out of the budget guard's stops. */
  readonly keepRunningHours: number;
}

/** How many of the instances left for later runs a message lists, each with its "Keep this one running". */
export const MAX_NEXT_LISTED = 10;

/** How the action threshold was handled. */
export type ActionMode = 'stop' | 'notify' | 'dry-run';

/** A linked account of the budget the guard could not scan or act in this run (its spoke role, or EC2 there). */
export interface UnreachableAccount {
  readonly accountId: string;
  /** Why, in words: the AssumeRole or EC2 error. */
  readonly reason: string;
}

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
  /** Instances in scope left for the next run (`budgets.maxStopsPerRun`, or the run's time ran short). */
  readonly deferred?: number;
  readonly skipped?: CountedSkips;
  readonly instanceStore?: InstanceStoreWarning;
  readonly essentialTag: string;
  /** The GPU launch cap this alert announces (budgets.launchCap), with the action threshold. */
  readonly launchCap?: LaunchCapNotice;
  /** Buttons (only when the guard stops for real); absent: the message has none. */
  readonly buttons?: BudgetButtons;
  /** Instances in scope left for a later run, in the order they would be stopped (listed only with buttons). */
  readonly next?: readonly StopOutcome[];
  /** Linked accounts not reached in this run: nothing of theirs is stopped until they are. */
  readonly unreachable?: readonly UnreachableAccount[];
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

/** Where an instance runs: its region, and its account when it is a linked account's. */
function placeOf(s: StopOutcome): string {
  return `(${escapeName(s.region)}${s.accountId ? `, account ${escapeName(s.accountId)}` : ''})`;
}

function stopLine(s: StopOutcome): string {
  const saved = s.hourlyUsd !== undefined ? `${formatUsd(s.hourlyUsd)}/h` : 'price unknown';
  const where = `${s.name ? `*${escapeName(s.name)}* ` : ''}\`${escapeCode(s.instanceId)}\` ${escapeName(s.instanceType)} ${placeOf(s)}`;
  switch (s.status) {
    case 'stopping':
      return `• ${where}: stopping now, saves ${saved}`;
    case 'done':
      return `• ${where}: stopped, saves ${saved}`;
    case 'dry-run':
    case 'would-stop':
      return `• ${where}: would stop, would save ${saved}`;
    case 'failed':
      return `• ${where}: *not stopped* (${escapeName(s.errorCode ?? 'error')}${s.note ? `: ${escapeMrkdwn(truncate(s.note, 500))}` : ''})`;
  }
}

function deferredText(n: number, mode: ActionMode): string {
  return mode === 'stop'
    ? `${n} more to stop next run.`
    : `${n} more would be stopped in later runs (at most \`budgets.maxStopsPerRun\` a run).`;
}

/** Sum of the $/h of the outcomes that stopped (or would stop), from the savings model's per-instance figures. */
export function hourlySaved(stops: readonly StopOutcome[]): number {
  return round2(stops.filter((s) => s.status !== 'failed').reduce((sum, s) => sum + (s.hourlyUsd ?? 0), 0));
}

/** The buttons under one instance's line, or none (no buttons asked, nothing to press, or values the endpoint refuses). */
function stopButtons(
  s: StopOutcome,
  budget: string,
  buttons: BudgetButtons | undefined,
  kind: 'restore' | 'keep-running',
): Block[] {
  // Buttons act in the guard's own account only: an instance of a linked account gets none.
  if (!buttons || s.accountId !== undefined) return [];
  try {
    return actionButtons(
      { instanceId: s.instanceId, region: s.region },
      [kind === 'restore' ? { kind, budget } : { kind, budget, hours: buttons.keepRunningHours }],
      { maxKeepHours: buttons.maxKeepHours },
    );
  } catch (error) {
    // A name the endpoint would refuse (a budget name with `:`), an id EC2 would never give: no button.
    if (error instanceof ActionValueError) return [];
    throw error;
  }
}

/** An instance left for a later run. */
function nextLine(s: StopOutcome): string {
  const saves = s.hourlyUsd !== undefined ? `${formatUsd(s.hourlyUsd)}/h` : 'price unknown';
  return `• ${s.name ? `*${escapeName(s.name)}* ` : ''}\`${escapeCode(s.instanceId)}\` ${escapeName(s.instanceType)} ${placeOf(s)}: next to stop, saves ${saves}`;
}

/**
 * The lines of some instances: packed into sections, except that a line with buttons is a section of its own with
 * its actions block right under it (one group, never split across messages).
 */
function lineGroups(lines: readonly { readonly text: string; readonly buttons: readonly Block[] }[]): BlockGroup[] {
  const groups: BlockGroup[] = [];
  let plain: string[] = [];
  const flush = () => {
    groups.push(...lineSections(plain).map((b) => [b]));
    plain = [];
  };
  for (const line of lines) {
    if (line.buttons.length === 0) plain.push(line.text);
    else {
      flush();
      groups.push([section(line.text), ...line.buttons]);
    }
  }
  flush();
  return groups;
}

function actionBlocks(input: BudgetAlertInput): BlockGroup[] {
  const stops = input.stops ?? [];
  const name = input.evaluation.name;
  const blocks: Block[] = [divider()];
  const groups: BlockGroup[] = [];
  // Buttons only when the guard stops for real: a dry run or `notify` changes nothing, so nothing to restore or keep.
  const buttons = input.mode === 'stop' ? input.buttons : undefined;
  const acted = stops.filter((s) => s.status === 'done' || s.status === 'stopping');
  const stopping = stops.filter((s) => s.status === 'stopping');
  const failed = stops.filter((s) => s.status === 'failed');
  const would = stops.filter((s) => s.status === 'dry-run' || s.status === 'would-stop');
  const deferred = input.deferred ?? 0;
  const later = deferred > 0 ? ` ${deferredText(deferred, input.mode)}` : '';
  if (input.mode === 'stop') {
    const verb = stopping.length === acted.length ? 'stopping' : 'stopped';
    blocks.push(
      section(
        stops.length === 0
          ? deferred > 0
            ? `*Action:* nothing stopped in this run; ${deferred} in scope to stop next run.`
            : '*Action:* no running non-essential instance in scope to stop.'
          : `*Action:* ${verb} ${acted.length} non-essential instance(s)${verb === 'stopping' ? ' now' : ''}, ` +
              `saving ${formatUsd(hourlySaved(stops))}/h` +
              (failed.length > 0 ? `; ${failed.length} could not be stopped.` : '.') +
              later,
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
          : `${why} With \`stop-non-essential\` it would stop ${would.length} instance(s), saving ${formatUsd(hourlySaved(stops))}/h.${later}`,
      ),
    );
  }
  groups.push(
    ...blocks.map((b) => [b]),
    ...lineGroups(
      stops.map((s) => ({
        text: stopLine(s),
        buttons: s.status === 'stopping' || s.status === 'done' ? stopButtons(s, name, buttons, 'restore') : [],
      })),
    ),
  );
  blocks.length = 0;
  const next = buttons ? (input.next ?? []) : [];
  if (next.length > 0) {
    const shown = next.slice(0, MAX_NEXT_LISTED);
    blocks.push(
      section(
        `*Next to stop* (a later run, unless kept):${deferred > shown.length ? ` the first ${shown.length} of ${deferred}.` : ''}`,
      ),
    );
    groups.push(
      ...blocks.map((b) => [b]),
      ...lineGroups(shown.map((s) => ({ text: nextLine(s), buttons: stopButtons(s, name, buttons, 'keep-running') }))),
    );
    blocks.length = 0;
  }
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
  const unreachable = input.unreachable ?? [];
  if (unreachable.length > 0) {
    blocks.push(
      ...lineSections([
        `:warning: *${unreachable.length} linked account(s) not reached:* nothing there is stopped until the guard can reach them.`,
        ...unreachable.map((u) => `• account ${escapeName(u.accountId)}: ${escapeMrkdwn(truncate(u.reason, 400))}`),
      ]),
    );
  }
  if (input.launchCap) blocks.push(launchCapSection(input.launchCap));
  const skipped = input.skipped ? skipSummary(input.skipped) : '';
  const linked = [...stops, ...(input.next ?? [])].some((s) => s.accountId !== undefined);
  blocks.push(
    context(
      `${skipped ? `Not stopped: ${skipped}. ` : ''}Keep an instance running: tag it \`${escapeMrkdwn(input.essentialTag)}=true\`. ` +
        `Restart what the guard stopped: \`npx cost-guard restore --budget ${escapeCode(shellWord(name))}\`` +
        (linked
          ? ' (this account only: start the instances of linked accounts in their own account, and remove their `cost-guard:stopped-*` tags).'
          : '.'),
    ),
  );
  return [...groups, ...blocks.map((b) => [b])];
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
  const groups: BlockGroup[] = body.map((b) => [b]);
  if (input.thresholds.some((t) => t.kind === 'action')) groups.push(...actionBlocks(input));
  return splitGroups(input.mode === 'dry-run' ? `[dry run] ${text}` : text, head, groups).messages;
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

export interface StopContinuationInput {
  readonly evaluation: BudgetEvaluation;
  /** The instances about to be stopped ('stopping'). */
  readonly stops: readonly StopOutcome[];
  /** Instances the guard stopped for this budget earlier in the period. */
  readonly stoppedBefore: number;
  readonly deferred: number;
  readonly skipped?: CountedSkips;
  readonly instanceStore?: InstanceStoreWarning;
  readonly essentialTag: string;
  /** As in BudgetAlertInput: "Restore" under each instance stopped, "Keep this one running" under each next one. */
  readonly buttons?: BudgetButtons;
  readonly next?: readonly StopOutcome[];
  /** As in BudgetAlertInput: linked accounts not reached in this run. */
  readonly unreachable?: readonly UnreachableAccount[];
}

/**
 * The warning before a later run goes on stopping what an earlier run of the period left over (at most
 * `budgets.maxStopsPerRun` a run): the action threshold was announced already, this says what is stopped now.
 */
export function budgetStopContinuationMessages(input: StopContinuationInput): SlackMessage[] {
  const e = input.evaluation;
  const used = e.percentUsed !== undefined ? formatPercentValue(e.percentUsed) : '?';
  const text = `Budget ${e.name} still at ${used}: stopping ${input.stops.length} more instance(s)`;
  const body: BlockGroup[] = [
    [
      section(
        `The action threshold was announced earlier this period; ${input.stoppedBefore} instance(s) were stopped ` +
          'since. The rest in scope is stopped a batch a run.',
      ),
    ],
    ...actionBlocks({
      evaluation: e,
      thresholds: [],
      mode: 'stop',
      stops: input.stops,
      deferred: input.deferred,
      ...(input.skipped ? { skipped: input.skipped } : {}),
      ...(input.instanceStore ? { instanceStore: input.instanceStore } : {}),
      essentialTag: input.essentialTag,
      ...(input.buttons ? { buttons: input.buttons } : {}),
      ...(input.next ? { next: input.next } : {}),
      ...(input.unreachable ? { unreachable: input.unreachable } : {}),
    }),
  ];
  return splitGroups(escapeMrkdwn(text), [header(`🚨 ${text}`)], body).messages;
}

export interface StopResultInput {
  readonly name: string;
  /** The final outcome of every instance announced as 'stopping'. */
  readonly stops: readonly StopOutcome[];
  /** Announced instances not stopped because the run's time ran short (left for the next run). */
  readonly cutShort: number;
}

/**
 * What became of the stops an alert announced, posted only when it differs from the announcement: some stops
 * failed, or the run's time ran short and the rest waits for the next run.
 */
export function budgetStopResultMessages(input: StopResultInput): SlackMessage[] {
  const done = input.stops.filter((s) => s.status === 'done').length;
  const failed = input.stops.filter((s) => s.status === 'failed');
  const announced = input.stops.length + input.cutShort;
  const text = `Budget ${input.name}: ${done} of ${announced} announced instance(s) stopped`;
  const body: Block[] = [];
  if (failed.length > 0) {
    body.push(section(`*${failed.length} could not be stopped* (they keep running):`));
    body.push(...lineSections(failed.map(stopLine)));
  }
  if (input.cutShort > 0) {
    body.push(section(`The run's time ran short: ${input.cutShort} left for the next run.`));
  }
  return splitIntoMessages(escapeMrkdwn(text), [header(`⚠️ ${text}`)], body);
}

function liveLimitText(m: LimitMismatch): string {
  if (!m.live) return 'none (the budget has no BudgetLimit)';
  if (m.live.unit === 'USD' && Number.isFinite(m.live.amount)) return formatUsd(m.live.amount);
  const amount = Number.isFinite(m.live.amount) ? String(m.live.amount) : 'unreadable amount';
  return `${escapeMrkdwn(amount)} ${escapeMrkdwn(m.live.unit)}`;
}

const MISMATCH_WHY: Readonly<Record<LimitMismatch['reason'], string>> = {
  amount: 'The budget was edited or replaced since it was deployed.',
  unit: 'The budget is not in USD; the guard only compares USD limits.',
  'no-limit': 'The budget has no fixed limit (BudgetLimit), e.g. it uses planned or auto-adjusting limits.',
  unreadable: 'AWS Budgets returned a limit amount that is not a number.',
};

/**
 * The guard holds its action on a budget whose live limit is not the configured `limitUsd`: it names both limits,
 * says that nothing is stopped for the budget until they agree, and how to make them agree.
 */
export function budgetLimitMismatchMessage(name: string, mismatch: LimitMismatch, periodKey?: string): SlackMessage {
  const text = `Budget guard stops nothing for budget ${name}: its limit is not the configured one`;
  return {
    text: fallbackText(escapeMrkdwn(text)),
    blocks: [
      header(`⚠️ ${text}`),
      fields([
        ['Budget', escapeMrkdwn(name)],
        ['Configured (limitUsd)', formatUsd(mismatch.configuredUsd)],
        ['Live (AWS Budgets)', liveLimitText(mismatch)],
        ...(periodKey ? ([['Period', escapeMrkdwn(periodKey)]] as const) : []),
      ]),
      section(
        `${MISMATCH_WHY[mismatch.reason]} Until the two limits agree the guard alerts but stops nothing for this ` +
          'budget. If the new limit is intended, set `limitUsd` in `budgets.items` to it and deploy; if not, ' +
          '`cdk deploy` sets the budget back to the configured limit.',
      ),
      context(`<${budgetConsoleUrl(name)}|Open the budget in the AWS console>`),
    ],
  };
}
