/**
 * The reaper's per-instance report and its Slack digest. Pure: the handler fills the reports from the decisions
 * and the action records; this module renders them.
 */

import { formatUsd } from '../money';
import { skipReasonText } from '../skip-reasons';
import { ActionValueError, reaperWarningButtons } from '../slack-actions';
import {
  type Block,
  type BlockGroup,
  context,
  escapeCode,
  escapeMrkdwn,
  escapeName,
  fallbackText,
  header,
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitGroups,
  truncate,
  truncateMrkdwn,
} from '../slack-blocks';
import { MAX_DIRECT_MESSAGES_PER_OWNER } from '../slack-routing';
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
  /** The keep record (set from Slack or `cost-guard keep`) that protected the instance in this run. */
  readonly keep?: { readonly until: string; readonly by?: string; readonly reason?: string };
  /** What became of the warning's direct message to the instance's owner (the `tags.owner` tag). */
  readonly ownerMessage?: OwnerMessageReport;
}

/**
 * The direct message of a warning to the instance's owner. `sent`: Slack accepted it in the owner's DM; `not-found`:
 * no Slack user has that e-mail address (or ID); `invalid`: the tag is neither an e-mail address nor a Slack user
 * ID; `failed`: the lookup, the DM channel or the post failed (`errorCode` says how); `over-limit`: the owner already
 * got MAX_DIRECT_MESSAGES_PER_OWNER direct messages from this run. Whatever the status, the
 * channel digest lists the warning too; when the DM was not sent it says so there.
 */
export interface OwnerMessageReport {
  /** The owner tag's value, as written. */
  readonly owner: string;
  readonly status: 'sent' | 'not-found' | 'invalid' | 'failed' | 'over-limit';
  readonly errorCode?: string;
  readonly slackChannel?: string;
  readonly slackTs?: string;
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

/** The buttons under each warning (slack.interactivity on, and not a dry run: a dry run changes nothing). */
export interface DigestButtons {
  /** slack.keepHours: one keep button each (those over maxKeepHours are left out). */
  readonly keepHours: readonly number[];
  readonly maxKeepHours: number;
}

/** A team whose instances have their own digest in the team's channel (slack.teamChannels). */
export interface TeamDigestRef {
  /** The team tag's value. */
  readonly team: string;
  /** The channel from slack.teamChannels (the operator's config). */
  readonly channel: string;
  /** The instances listed in the team's digest. */
  readonly instanceIds: ReadonlySet<string>;
  /** Undefined: Slack accepted the team's digest. Else why not: its instances are then listed in this digest. */
  readonly errorCode?: string;
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
  /** Buttons under each warning and deferred action; absent: no buttons (the message reads as without interactivity). */
  readonly buttons?: DigestButtons;
  /**
   * Teams with their own digest: their instances are counted in this digest's headline and summarized in one line a
   * team; listed here only when the team's digest did not reach its channel.
   */
  readonly teamDigests?: readonly TeamDigestRef[];
  /** This digest is the team's own (in its channel): the header names the team. */
  readonly team?: string;
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

/**
 * Owner and team from the configured tag keys (tags.owner, tags.team), else the usual ones (any case): `owner`,
 * `created-by`, `creator`; `team`, `project`.
 */
export function ownerTags(
  tags: Readonly<Record<string, string>>,
  keys: { readonly owner?: string; readonly team?: string } = {},
): { name?: string; owner?: string; team?: string } {
  const name = tagValue(tags, 'Name');
  const owner =
    (keys.owner ? tagValue(tags, keys.owner) : undefined) ??
    tagValue(tags, 'owner') ??
    tagValue(tags, 'created-by') ??
    tagValue(tags, 'creator');
  const team =
    (keys.team ? tagValue(tags, keys.team) : undefined) ?? tagValue(tags, 'team') ?? tagValue(tags, 'project');
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

/** The line that says where the warning went besides this digest, or why it was not sent to the owner. */
function ownerLine(r: InstanceReport): string | undefined {
  const m = r.ownerMessage;
  if (!m) return undefined;
  const owner = escapeName(m.owner);
  switch (m.status) {
    case 'sent':
      return `_Sent to its owner ${owner} as a direct message too._`;
    case 'not-found':
      return `_Owner ${owner} not found in Slack: warned here._`;
    case 'invalid':
      return `_Owner tag ${owner} is neither an e-mail address nor a Slack user ID: warned here._`;
    case 'failed':
      return `_Owner ${owner} could not be sent a direct message (${escapeName(m.errorCode ?? 'error')}): warned here._`;
    case 'over-limit':
      return `_Owner ${owner} already has ${MAX_DIRECT_MESSAGES_PER_OWNER} direct messages from this run: warned here._`;
  }
}

/** Does this report get buttons: a warning that announces an action, or an action the limit deferred. */
export function hasButtons(r: InstanceReport): boolean {
  if (r.action) return false;
  return (r.decision === 'warn' && r.actAt !== undefined) || r.decision === 'deferred';
}

/** The instance's buttons (keep for each length, act now), or none when it gets none or its ids cannot be encoded. */
function buttonsOf(r: InstanceReport, input: Pick<DigestInput, 'buttons' | 'action'>): Block[] {
  if (!input.buttons || !hasButtons(r)) return [];
  try {
    return reaperWarningButtons(
      { instanceId: r.instanceId, region: r.region },
      { action: input.action, keepHours: input.buttons.keepHours, maxKeepHours: input.buttons.maxKeepHours },
    );
  } catch (error) {
    // An id or region EC2 would never give: no button that the endpoint would refuse.
    if (error instanceof ActionValueError) return [];
    throw error;
  }
}

/** An instance's section and, under it, its buttons (one group: split messages keep them together). */
function instanceGroup(r: InstanceReport, input: DigestInput): BlockGroup | undefined {
  const b = instanceBlock(r, input);
  return b ? [b, ...buttonsOf(r, input)] : undefined;
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
  const owner = ownerLine(r);
  if (owner) tail.push(owner);
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

/** `3 terminated, 2 warned` for some reports (empty when none counts). */
function countParts(reports: readonly InstanceReport[], action: ReaperAction): string[] {
  const counts = countReports(reports);
  return [
    counts.terminated ? `${counts.terminated} terminated` : '',
    counts.stopped ? `${counts.stopped} stopped` : '',
    counts.wouldAct ? `${counts.wouldAct} would be ${action === 'terminate' ? 'terminated' : 'stopped'}` : '',
    counts.warned ? `${counts.warned} warned` : '',
    counts.notified ? `${counts.notified} idle` : '',
    counts.deferred ? `${counts.deferred} deferred` : '',
    counts.untagged ? `${counts.untagged} busy again` : '',
    counts.failed ? `${counts.failed} failed` : '',
  ].filter(Boolean);
}

/** A channel from the config as mrkdwn: an ID as a channel link, a name as written (escaped). */
function channelText(channel: string): string {
  return /^[CG][A-Z0-9]{6,}$/.test(channel) ? `<#${channel}>` : escapeName(channel);
}

/** The main digest's line for a team with its own digest. */
function teamLine(t: TeamDigestRef, reports: readonly InstanceReport[], input: DigestInput): string {
  const theirs = reports.filter((r) => t.instanceIds.has(r.instanceId));
  const parts = countParts(theirs, input.action);
  const figures = savingsTotals(theirs.filter((r) => title(r, input.action, input.dryRun) !== undefined));
  const what = `${parts.join(', ') || 'no change'}${figures.map((f) => ` · ${savingsTotalText(f)}`).join('')}`;
  return t.errorCode === undefined
    ? `Team *${escapeName(t.team)}*: ${what}, in ${channelText(t.channel)}'s digest.`
    : `Team *${escapeName(t.team)}*: ${what}. Its channel ${channelText(t.channel)} did not take its digest ` +
        `(${escapeName(t.errorCode)}): its instances are listed here.`;
}

/** The keeps that protected instances in this run: who, until when, why (at most 20 named). */
function keepLine(reports: readonly InstanceReport[]): string | undefined {
  const kept = reports.filter((r) => r.keep);
  if (kept.length === 0) return undefined;
  const shown = kept.slice(0, 20).map((r) => {
    const k = r.keep!;
    const who = r.name ? `*${escapeName(r.name)}* ` : '';
    return (
      `${who}\`${escapeCode(r.instanceId)}\` until ${escapeMrkdwn(formatTime(k.until))}` +
      `${k.by ? ` by ${escapeName(k.by)}` : ''}${k.reason ? ` (${escapeName(truncate(k.reason, 200))})` : ''}`
    );
  });
  const more = kept.length > shown.length ? `; and ${kept.length - shown.length} more` : '';
  return `Kept on request, not acted on: ${shown.join('; ')}${more}.`;
}

/**
 * The digest and where each instance's section landed: a warning counts only once Slack accepted the message that
 * shows it, and an instance beyond `maxInstanceSections` is shown in none. With buttons, each instance's section
 * and its actions block stay in one message (so a message holds up to 24 instances with buttons, 48 without).
 * Instances of a team whose digest reached its channel are counted in the headline and summarized one line a team,
 * not listed. Keeps that protected instances are named in the footer; they alone post no digest.
 */
export function buildDigestPlan(input: DigestInput): DigestPlan {
  if (!worthPosting(input.reports) && !(input.teamDigests ?? []).some((t) => t.instanceIds.size > 0)) {
    return { messages: [], messageOf: new Map() };
  }
  // The instances the digest has a section for (listed, or counted in the "not listed" line): the headline adds up
  // exactly their figures, with the same words as their lines.
  const shown = input.reports.filter((r) => title(r, input.action, input.dryRun) !== undefined);
  const totals = savingsTotals(shown);
  const parts = countParts(input.reports, input.action);
  const savingsText = totals.map((t) => ` · ${savingsTotalText(t)}`).join('');
  const team = input.team !== undefined ? truncate(input.team, 60) : undefined;
  const titled = (name: string | undefined) =>
    `${input.dryRun ? '[DRY RUN] ' : ''}Idle GPU reaper${name !== undefined ? ` (team ${name})` : ''}: ` +
    `${parts.join(', ') || 'no change'}${savingsText}`;
  // The header is plain_text (the team name as written); the fallback text is mrkdwn (escaped).
  const text = titled(team);
  const fallback = titled(team !== undefined ? escapeName(team) : undefined);
  const head: Block[] = [
    header(text),
    context(
      `Action: *${input.action}* · lookback ${input.lookbackMinutes} min · at most ${input.maxActionsPerRun} actions per scheduled period` +
        (input.dryRun ? ' · *dry run: nothing was changed*' : ''),
    ),
  ];
  // Instances of a team whose digest its channel took are not listed here.
  const elsewhere = new Set<string>();
  for (const t of input.teamDigests ?? [])
    if (t.errorCode === undefined) for (const id of t.instanceIds) elsewhere.add(id);
  const groups: BlockGroup[] = [];
  const max = input.maxInstanceSections ?? DEFAULT_MAX_INSTANCE_SECTIONS;
  const unlisted: Record<string, number> = {};
  const unlistedReports: InstanceReport[] = [];
  const groupOf = new Map<string, number>();
  let listed = 0;
  for (const r of input.reports) {
    if (elsewhere.has(r.instanceId)) continue;
    const g = instanceGroup(r, input);
    if (!g) continue;
    if (listed < max) {
      groupOf.set(r.instanceId, groups.length);
      groups.push(g);
      listed += 1;
    } else {
      unlisted[r.decision] = (unlisted[r.decision] ?? 0) + 1;
      unlistedReports.push(r);
    }
  }
  const more = Object.entries(unlisted).map(([decision, n]) => `${n} ${decision}`);
  if (more.length > 0) {
    // Their figures too, so that the headline still adds up to what the digest shows.
    const theirs = savingsTotals(unlistedReports).map(savingsTotalText);
    groups.push([
      context(
        `…and ${more.join(', ')} not listed here${theirs.length > 0 ? ` (${theirs.join(', ')})` : ''}. ` +
          `\`cost-guard run reaper --dry-run --json\` lists every instance; ` +
          `opt any of them out with \`${escapeCode(optOutCommand('<instance-id>', '<region>', input.optOutKey))}\`.`,
      ),
    ]);
  }
  const teams = (input.teamDigests ?? []).filter((t) => t.instanceIds.size > 0);
  if (teams.length > 0) {
    const lines = teams.map((t) => teamLine(t, input.reports, input));
    // A context block shows at most 10 elements: lines packed into texts of at most 3,000 characters each.
    let current = '';
    for (const line of lines) {
      if (current && current.length + 1 + line.length > MAX_SECTION_TEXT) {
        groups.push([context(current)]);
        current = '';
      }
      current = current ? `${current}\n${line}` : line;
    }
    if (current) groups.push([context(current)]);
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
  const noGpuSeries = input.reports.filter((r) => r.confidence === 'low' && groupOf.has(r.instanceId)).length;
  if (noGpuSeries > 0) {
    footer.push(
      `${noGpuSeries} instance(s) above have no per-instance GPU metrics and are never acted on by their looks alone: ${AGENT_CONFIG_FIX}.`,
    );
  }
  for (const u of input.unattributedGpuSeries ?? []) footer.push(unattributedLine(u));
  if (footer.length) groups.push([context(footer.join(' '))]);
  const kept = keepLine(input.reports.filter((r) => !elsewhere.has(r.instanceId)));
  if (kept) groups.push([context(kept)]);
  const plan = splitGroups(fallback, head, groups);
  const messageOf = new Map<string, number>();
  for (const [id, g] of groupOf) messageOf.set(id, plan.groupMessage[g]!);
  return { messages: plan.messages, messageOf };
}

/**
 * The warning of one instance as a direct message to its owner: what happens when, why, the opt-out command and the
 * buttons. Undefined when the report is not a warning. The channel digest lists the same warning.
 */
export function ownerWarningMessage(
  r: InstanceReport,
  input: Pick<DigestInput, 'action' | 'dryRun' | 'optOutKey' | 'buttons' | 'lookbackMinutes' | 'maxActionsPerRun'>,
): SlackMessage | undefined {
  if (r.decision !== 'warn') return undefined;
  const { ownerMessage: _sentHere, ...report } = r;
  const full: DigestInput = { ...input, reports: [report], skippedByReason: {}, unknownTypes: [], notes: [] };
  const body = instanceGroup(report, full);
  if (!body) return undefined;
  const verb = input.action === 'terminate' ? 'terminated' : 'stopped';
  const what = (time: string) => (report.actAt ? `will be ${verb} at ${time} unless it gets busy` : 'looks idle');
  const named = (name: string | undefined, id: string) => (name !== undefined ? `${name} (${id})` : id);
  const name = report.name !== undefined ? truncate(report.name, 60) : undefined;
  // The header is plain_text (values as written); the fallback text is mrkdwn (values escaped).
  const text = `Your GPU instance ${named(name, report.instanceId)} ${what(formatTime(report.actAt ?? ''))}`;
  const escaped =
    `Your GPU instance ${named(name !== undefined ? escapeName(name) : undefined, escapeName(report.instanceId))} ` +
    what(escapeMrkdwn(formatTime(report.actAt ?? '')));
  return {
    text: fallbackText(escaped),
    blocks: [
      header(text),
      ...body,
      context(
        "You get this because the instance's owner tag names you. The guard's channel digest lists this warning too; " +
          'a keep or a stop pressed here or there counts the same.',
      ),
    ],
  };
}
