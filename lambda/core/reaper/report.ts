/**
 * The reaper's per-instance report and its Slack digest. Pure: the handler fills the reports from the decisions
 * and the action records; this module renders them.
 */

import { formatUsd } from '../money';
import { skipReasonText } from '../skip-reasons';
import {
  type Block,
  context,
  escapeCode,
  escapeMrkdwn,
  escapeName,
  header,
  MAX_BLOCKS_PER_MESSAGE,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitIntoMessages,
  truncate,
  truncateMrkdwn,
} from '../slack-blocks';
import { tagValue } from '../tags';

import { AGENT_CONFIG_FIX, type Confidence, type DecisionKind, type ReaperAction } from './types';

export type OutcomeStatus = 'done' | 'dry-run' | 'failed';

export interface OutcomeReport {
  readonly kind: 'terminate' | 'stop' | 'tag' | 'untag';
  readonly status: OutcomeStatus;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** One instance in the run summary: what was decided, why, and what happened. */
export interface InstanceReport {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  readonly name?: string;
  readonly owner?: string;
  readonly team?: string;
  readonly decision: DecisionKind;
  /** Reason code: a skip reason, an idleness code or a state-machine code. */
  readonly code: string;
  readonly reason: string;
  readonly confidence?: Confidence;
  readonly idleSince?: string;
  readonly actAt?: string;
  /** On-demand (or Spot estimate) $/h from the savings model; undefined when the price is unknown. */
  readonly hourlyUsd?: number;
  /** Money spent since the instance went idle (at least the lookback window on first detection). */
  readonly wasteSoFarUsd?: number;
  /** Monthly compute savings of the action, from the savings model; undefined when the price is unknown. */
  readonly monthlySavingsUsd?: number;
  /** Peak GPU utilization over the window (max across GPUs), percent; absent without per-instance GPU series. */
  readonly gpuUtilizationMaxPercent?: number;
  /** Peak GPU memory used over the window (max across GPUs), MB (nvidia_smi_memory_used). */
  readonly gpuMemoryUsedMaxMb?: number;
  /** Peak GPU memory activity, percent (nvidia_smi_utilization_memory), when the agent publishes no memory_used. */
  readonly gpuMemoryMaxPercent?: number;
  /** Peak CPU utilization over the window, percent. */
  readonly cpuMaxPercent?: number;
  /** Network in + out over the window, MB (10^6 bytes) per hour. */
  readonly networkMegabytesPerHour?: number;
  /** For `act`: when Slack accepted the warning. */
  readonly warnedAt?: string;
  /**
   * For `warn`: what became of the warning. `delivered`: Slack accepted the message that carried it (channel and ts
   * recorded); `not-delivered`: it was not posted or Slack refused it, so it does not count; `not-shown`: the digest
   * had no room for it (over maxInstanceSections), so nobody could read it; `not-recorded`: the state table refused
   * the record; `dry-run`: nothing was recorded.
   */
  readonly warning?: {
    readonly status: 'delivered' | 'not-delivered' | 'not-shown' | 'not-recorded' | 'dry-run';
    readonly slackChannel?: string;
    readonly slackTs?: string;
  };
  /** The warning on record (and its mirror tag) was removed: the instance is busy again, or now protected. */
  readonly warningCleared?: boolean;
  /** The terminate/stop outcome, when the instance was acted on. */
  readonly action?: OutcomeReport;
  /** The idle-since mirror tag write/removal outcome. */
  readonly tag?: OutcomeReport;
}

/** GPU series that cannot be tied to an instance (no `InstanceId` dimension) in one region. */
export interface UnattributedGpuSeries {
  readonly region: string;
  readonly series: number;
}

/** The digest line about a region's GPU series that cannot be tied to instances, with the agent config fix. */
export function unattributedLine(u: UnattributedGpuSeries): string {
  return (
    `${u.region}: ${u.series} GPU metric series cannot be tied to an instance (no InstanceId dimension), so GPU ` +
    `instances there are judged on CPU and network alone; ${AGENT_CONFIG_FIX}.`
  );
}

export interface DigestInput {
  readonly reports: readonly InstanceReport[];
  readonly action: ReaperAction;
  readonly dryRun: boolean;
  readonly optOutKey: string;
  readonly lookbackMinutes: number;
  readonly maxActionsPerRun: number;
  /** Skipped instances by reason code (GPU instances only), for the footer. */
  readonly skippedByReason: Readonly<Record<string, number>>;
  /** Instance types DescribeInstanceTypes did not know, by region. */
  readonly unknownTypes: readonly string[];
  readonly notes: readonly string[];
  /** Regions whose GPU series cannot be tied to instances. */
  readonly unattributedGpuSeries?: readonly UnattributedGpuSeries[];
  /**
   * Instance sections listed at most; the rest are counted in one line (a first run over a large idle fleet would
   * otherwise post dozens of messages at Slack's one message a second). @default 100
   */
  readonly maxInstanceSections?: number;
}

/** Instance sections a digest lists before summarizing the rest. */
export const DEFAULT_MAX_INSTANCE_SECTIONS = 100;

const money = (v: number | undefined, suffix = ''): string =>
  v === undefined ? 'price unknown' : `${formatUsd(v)}${suffix}`;

/**
 * What an instance's monthly figure means, so that a headline and the lines under it say the same thing: `saved` an
 * action took effect; `would-save` a dry run would have acted; `if-acted-on` the instance is idle and the guard warned
 * (or waits, reports, or was held back by the action limit): the figure is what acting on it would save.
 */
export type SavingsKind = 'saved' | 'would-save' | 'if-acted-on';

/** The words after a monthly figure, the same in a headline and in the per-instance line. */
export const SAVINGS_WORDS: Readonly<Record<SavingsKind, string>> = {
  saved: 'saved',
  'would-save': 'would be saved (dry run)',
  'if-acted-on': 'would be saved if acted on',
};

/** The kind of an instance's figure; undefined when it saves nothing (busy, skipped, failed action). */
export function savingsKind(r: InstanceReport): SavingsKind | undefined {
  if (r.action) {
    if (r.action.status === 'done') return 'saved';
    if (r.action.status === 'dry-run') return 'would-save';
    return undefined;
  }
  if (r.decision === 'warn' || r.decision === 'wait' || r.decision === 'notify' || r.decision === 'deferred') {
    return 'if-acted-on';
  }
  return undefined;
}

/** An instance's figure with its words (`$734.38/month would be saved if acted on`), or undefined (no kind). */
export function instanceSavingsText(r: InstanceReport): string | undefined {
  const kind = savingsKind(r);
  if (!kind) return undefined;
  return r.monthlySavingsUsd === undefined
    ? 'price unknown'
    : `${formatUsd(r.monthlySavingsUsd)}/month ${SAVINGS_WORDS[kind]}`;
}

/** One headline figure: the sum of the instances of one kind, each rounded to the cent as it is shown. */
export interface SavingsTotal {
  readonly kind: SavingsKind;
  readonly monthlyUsd: number;
  /** Instances of this kind. */
  readonly instances: number;
  /** Of those, instances without a price (shown as "price unknown", not in the figure). */
  readonly unpriced: number;
}

const cents = (v: number): number => Math.round(v * 100);

/** The headline figures of some reports, in the order saved, would-save, if-acted-on; kinds without instances left out. */
export function savingsTotals(reports: readonly InstanceReport[]): SavingsTotal[] {
  const order: SavingsKind[] = ['saved', 'would-save', 'if-acted-on'];
  return order.flatMap((kind) => {
    const of = reports.filter((r) => savingsKind(r) === kind);
    if (of.length === 0) return [];
    const sum = of.reduce((n, r) => n + (r.monthlySavingsUsd === undefined ? 0 : cents(r.monthlySavingsUsd)), 0);
    const unpriced = of.filter((r) => r.monthlySavingsUsd === undefined).length;
    return [{ kind, monthlyUsd: sum / 100, instances: of.length, unpriced }];
  });
}

/** `$16,030.80/month would be saved if acted on (+1 price unknown)` */
export function savingsTotalText(t: SavingsTotal): string {
  return `${formatUsd(t.monthlyUsd)}/month ${SAVINGS_WORDS[t.kind]}${t.unpriced ? ` (+${t.unpriced} price unknown)` : ''}`;
}

/** `2026-11-15 13:00 UTC` */
export function formatTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function optOutCommand(instanceId: string, region: string, optOutKey: string): string {
  return `aws ec2 create-tags --region ${region} --resources ${instanceId} --tags Key=${optOutKey},Value=true`;
}

/** Owner and team from the usual tag keys (any case). */
export function ownerTags(tags: Readonly<Record<string, string>>): { name?: string; owner?: string; team?: string } {
  const name = tagValue(tags, 'Name');
  const owner = tagValue(tags, 'owner') ?? tagValue(tags, 'created-by') ?? tagValue(tags, 'creator');
  const team = tagValue(tags, 'team') ?? tagValue(tags, 'project');
  return { ...(name ? { name } : {}), ...(owner ? { owner } : {}), ...(team ? { team } : {}) };
}

/** The counts the digest header, the metrics and the CLI share. */
export interface ReaperCounts {
  readonly warned: number;
  readonly terminated: number;
  readonly stopped: number;
  readonly failed: number;
  readonly deferred: number;
  readonly notified: number;
  /** Warnings cancelled: busy again or now protected. */
  readonly untagged: number;
  /** Counted with their would-be status in dry-run. */
  readonly wouldAct: number;
}

export function countReports(reports: readonly InstanceReport[]): ReaperCounts {
  let warned = 0;
  let terminated = 0;
  let stopped = 0;
  let failed = 0;
  let deferred = 0;
  let notified = 0;
  let untagged = 0;
  let wouldAct = 0;
  for (const r of reports) {
    if (r.action?.status === 'failed') failed += 1;
    // A warning counts once a person could read it (or, before posting and in dry-run, would).
    if (
      r.decision === 'warn' &&
      (r.warning === undefined || r.warning.status === 'delivered' || r.warning.status === 'dry-run')
    )
      warned += 1;
    if (r.decision === 'deferred') deferred += 1;
    if (r.decision === 'notify') notified += 1;
    if (r.warningCleared) untagged += 1;
    if (r.action?.status === 'done') {
      if (r.action.kind === 'terminate') terminated += 1;
      if (r.action.kind === 'stop') stopped += 1;
    }
    if (r.action?.status === 'dry-run') wouldAct += 1;
  }
  return { warned, terminated, stopped, failed, deferred, notified, untagged, wouldAct };
}

/** Did anything happen that a person should hear about? No message otherwise. */
export function worthPosting(reports: readonly InstanceReport[]): boolean {
  return reports.some(
    (r) =>
      r.decision === 'warn' ||
      r.decision === 'notify' ||
      r.decision === 'deferred' ||
      r.action !== undefined ||
      r.warningCleared === true,
  );
}

const VERB: Record<'terminate' | 'stop', { past: string; future: string; noun: string }> = {
  terminate: { past: 'Terminated', future: 'terminate', noun: 'termination' },
  stop: { past: 'Stopped', future: 'stop', noun: 'stop' },
};

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function failure(o: OutcomeReport): string {
  return `${escapeName(o.errorCode ?? 'Unknown')}${o.errorMessage ? `: ${escapeMrkdwn(truncate(o.errorMessage, 500))}` : ''}`;
}

function title(r: InstanceReport, action: ReaperAction, dryRun: boolean): string | undefined {
  const verb = action === 'notify' ? VERB.stop : VERB[action];
  if (r.action) {
    const v = VERB[r.action.kind as 'terminate' | 'stop'];
    if (r.action.status === 'failed') return `:x: *${capitalize(v.noun)} failed* (${failure(r.action)})`;
    if (r.action.status === 'dry-run') return `:eyes: *Would ${v.future}* (dry run)`;
    return `:white_check_mark: *${v.past}*`;
  }
  if (r.decision === 'warn') {
    // A warning that announces no action (low confidence): a person can read that nothing will happen.
    if (!r.actAt) return `:information_source: *Idle, judged on CPU and network alone: not ${verb.past.toLowerCase()}*`;
    const when = ` at ${escapeMrkdwn(formatTime(r.actAt))}`;
    return `:warning: *Idle: will ${verb.future}${when}* unless it gets busy${dryRun ? ' (dry run: nothing recorded)' : ''}`;
  }
  if (r.decision === 'deferred') {
    return `:hourglass: *Deferred ${verb.noun}*: action limit for this period reached, a later run acts`;
  }
  if (r.decision === 'notify') {
    return r.code === 'report-only'
      ? ':bell: *Idle* (reported only: this run cannot deliver a warning, so nothing changes)'
      : ':bell: *Idle* (action is notify: nothing changed)';
  }
  if (r.code === 'termination-protected') return ':lock: *Not terminated*: termination protection is on';
  if (r.code === 'termination-protection-unknown') return ':lock: *Not terminated*: protection could not be read';
  if (r.warningCleared) {
    return `:arrows_counterclockwise: *Warning cancelled* (${r.decision === 'busy' ? 'busy again' : 'now protected'})`;
  }
  return undefined;
}

function instanceBlock(r: InstanceReport, input: DigestInput): Block | undefined {
  const head = title(r, input.action, input.dryRun);
  if (!head) return undefined;
  const who = [
    r.name ? `*${escapeName(r.name)}*` : undefined,
    `\`${escapeCode(r.instanceId)}\` (${escapeName(r.instanceType)}, ${escapeName(r.region)})`,
    r.owner ? `owner ${escapeName(r.owner)}` : undefined,
    r.team ? `team ${escapeName(r.team)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const cost = [
    money(r.hourlyUsd, '/h'),
    r.idleSince ? `idle since ${escapeMrkdwn(formatTime(r.idleSince))}` : undefined,
    r.wasteSoFarUsd !== undefined ? `wasted so far ${formatUsd(r.wasteSoFarUsd)}` : undefined,
    instanceSavingsText(r),
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [head, who, cost, escapeMrkdwn(r.reason)];
  // What a person needs to act on the warning comes last and is never cut: only the lines above are.
  const tail: string[] = [];
  if (r.confidence === 'low' && r.decision !== 'busy') {
    tail.push(
      '_Low confidence: no per-instance GPU metrics, judged on CPU and network only (see the agent note below)._',
    );
  }
  if (r.decision === 'warn' || r.decision === 'notify' || r.decision === 'deferred') {
    tail.push(`Opt out: \`${escapeCode(optOutCommand(r.instanceId, r.region, input.optOutKey))}\``);
  }
  const tailText = tail.join('\n');
  const room = MAX_SECTION_TEXT - (tailText ? tailText.length + 1 : 0);
  return section([truncateMrkdwn(lines.join('\n'), room), ...(tailText ? [tailText] : [])].join('\n'));
}

/** The digest's messages, and which message lists each instance (an instance not listed has no entry). */
export interface DigestPlan {
  readonly messages: SlackMessage[];
  /** Index in `messages` of the message holding the instance's section, by instance ID. */
  readonly messageOf: ReadonlyMap<string, number>;
}

/**
 * One digest per run: a header with the counts and the total monthly savings, one section per instance that was
 * warned, acted on, deferred, notified, untagged or failed, and a footer with what was skipped. Split into messages
 * of at most 50 blocks. Empty when nothing happened.
 */
export function buildDigest(input: DigestInput): SlackMessage[] {
  return buildDigestPlan(input).messages;
}

/**
 * The digest and where each instance's section landed: a warning counts only once Slack accepted the message that
 * shows it, and an instance beyond `maxInstanceSections` is shown in none.
 */
export function buildDigestPlan(input: DigestInput): DigestPlan {
  if (!worthPosting(input.reports)) return { messages: [], messageOf: new Map() };
  const counts = countReports(input.reports);
  // The instances the digest has a section for (listed, or counted in the "not listed" line): the headline adds up
  // exactly their figures, with the same words as their lines.
  const shown = input.reports.filter((r) => title(r, input.action, input.dryRun) !== undefined);
  const totals = savingsTotals(shown);

  const parts = [
    counts.terminated ? `${counts.terminated} terminated` : '',
    counts.stopped ? `${counts.stopped} stopped` : '',
    counts.wouldAct ? `${counts.wouldAct} would be ${input.action === 'terminate' ? 'terminated' : 'stopped'}` : '',
    counts.warned ? `${counts.warned} warned` : '',
    counts.notified ? `${counts.notified} idle` : '',
    counts.deferred ? `${counts.deferred} deferred` : '',
    counts.untagged ? `${counts.untagged} busy again` : '',
    counts.failed ? `${counts.failed} failed` : '',
  ].filter(Boolean);
  const savingsText = totals.map((t) => ` · ${savingsTotalText(t)}`).join('');
  const text = `${input.dryRun ? '[DRY RUN] ' : ''}Idle GPU reaper: ${parts.join(', ') || 'no change'}${savingsText}`;
  const head: Block[] = [
    header(text),
    context(
      `Action: *${input.action}* · lookback ${input.lookbackMinutes} min · at most ${input.maxActionsPerRun} actions per scheduled period` +
        (input.dryRun ? ' · *dry run: nothing was changed*' : ''),
    ),
  ];
  const body: Block[] = [];
  const max = input.maxInstanceSections ?? DEFAULT_MAX_INSTANCE_SECTIONS;
  const unlisted: Record<string, number> = {};
  const unlistedReports: InstanceReport[] = [];
  const bodyIndex = new Map<string, number>();
  for (const r of input.reports) {
    const b = instanceBlock(r, input);
    if (!b) continue;
    if (body.length < max) {
      bodyIndex.set(r.instanceId, body.length);
      body.push(b);
    } else {
      unlisted[r.decision] = (unlisted[r.decision] ?? 0) + 1;
      unlistedReports.push(r);
    }
  }
  const more = Object.entries(unlisted).map(([decision, n]) => `${n} ${decision}`);
  if (more.length > 0) {
    // Their figures too, so that the headline still adds up to what the digest shows.
    const theirs = savingsTotals(unlistedReports).map(savingsTotalText);
    body.push(
      context(
        `…and ${more.join(', ')} not listed here${theirs.length > 0 ? ` (${theirs.join(', ')})` : ''}. ` +
          `\`cost-guard run reaper --dry-run --json\` lists every instance; ` +
          `opt any of them out with \`${escapeCode(optOutCommand('<instance-id>', '<region>', input.optOutKey))}\`.`,
      ),
    );
  }
  const skipped = Object.entries(input.skippedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${escapeName(skipReasonText(reason))}`);
  const footer = [
    skipped.length ? `Skipped: ${skipped.join(', ')}.` : '',
    input.unknownTypes.length
      ? `Unknown instance types (treated as non-GPU): ${input.unknownTypes.map((t) => escapeName(t)).join(', ')}.`
      : '',
    ...input.notes.map((n) => escapeMrkdwn(n)),
  ].filter(Boolean);
  // Our own text, not escaped: the agent config must reach the reader exactly as written.
  const noGpuSeries = input.reports.filter((r) => r.confidence === 'low' && bodyIndex.has(r.instanceId)).length;
  if (noGpuSeries > 0) {
    footer.push(
      `${noGpuSeries} instance(s) above have no per-instance GPU metrics and are never acted on by their looks alone: ${AGENT_CONFIG_FIX}.`,
    );
  }
  for (const u of input.unattributedGpuSeries ?? []) footer.push(unattributedLine(u));
  if (footer.length) body.push(context(footer.join(' ')));
  const messages = splitIntoMessages(text, head, body);
  // splitIntoMessages fills each message with up to `room` body blocks, in order.
  const room = MAX_BLOCKS_PER_MESSAGE - head.length;
  const messageOf = new Map<string, number>();
  for (const [id, i] of bodyIndex) messageOf.set(id, messages.length === 1 ? 0 : Math.floor(i / room));
  return { messages, messageOf };
}
