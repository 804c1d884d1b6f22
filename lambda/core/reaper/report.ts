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
  MAX_SECTION_TEXT,
  type SlackMessage,
  section,
  splitIntoMessages,
  truncate,
  truncateMrkdwn,
} from '../slack-blocks';
import { tagValue } from '../tags';

import type { Confidence, DecisionKind, ReaperAction } from './types';

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
  /** The terminate/stop outcome, when the instance was acted on. */
  readonly action?: OutcomeReport;
  /** The idle-since tag write/removal outcome. */
  readonly tag?: OutcomeReport;
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
    if (r.action?.status === 'failed' || r.tag?.status === 'failed') failed += 1;
    if (r.decision === 'warn' && r.tag && r.tag.status !== 'failed') warned += 1;
    if (r.decision === 'deferred') deferred += 1;
    if (r.decision === 'notify') notified += 1;
    if (r.tag?.kind === 'untag' && r.tag.status !== 'failed') untagged += 1;
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
      r.tag !== undefined,
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
    if (r.tag?.status === 'failed') {
      return `:x: *Idle, but tagging failed* (${failure(r.tag)}): no ${verb.noun} until a run tags it`;
    }
    const when = r.actAt ? ` at ${escapeMrkdwn(formatTime(r.actAt))}` : '';
    return `:warning: *Idle: will ${verb.future}${when}* unless it gets busy${dryRun ? ' (dry run: not tagged)' : ''}`;
  }
  if (r.decision === 'deferred') return `:hourglass: *Deferred ${verb.noun}*: maxActionsPerRun reached, next run`;
  if (r.decision === 'notify') return ':bell: *Idle* (action is notify: nothing changed)';
  if (r.code === 'termination-protected') return ':lock: *Not terminated*: termination protection is on';
  if (r.code === 'termination-protection-unknown') return ':lock: *Not terminated*: protection could not be read';
  if (r.tag?.kind === 'untag') {
    if (r.tag.status === 'failed') return `:x: *Could not remove the idle-since tag* (${failure(r.tag)})`;
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
    r.decision !== 'busy' ? `saves ${money(r.monthlySavingsUsd, '/month')}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [head, who, cost, escapeMrkdwn(r.reason)];
  // What a person needs to act on the warning comes last and is never cut: only the lines above are.
  const tail: string[] = [];
  if (r.confidence === 'low') tail.push('_Low confidence: no GPU metrics, judged on CPU and network only._');
  if (r.decision === 'warn' || r.decision === 'notify' || r.decision === 'deferred') {
    tail.push(`Opt out: \`${escapeCode(optOutCommand(r.instanceId, r.region, input.optOutKey))}\``);
  }
  const tailText = tail.join('\n');
  const room = MAX_SECTION_TEXT - (tailText ? tailText.length + 1 : 0);
  return section([truncateMrkdwn(lines.join('\n'), room), ...(tailText ? [tailText] : [])].join('\n'));
}

/**
 * One digest per run: a header with the counts and the total monthly savings, one section per instance that was
 * warned, acted on, deferred, notified, untagged or failed, and a footer with what was skipped. Split into messages
 * of at most 50 blocks. Empty when nothing happened.
 */
export function buildDigest(input: DigestInput): SlackMessage[] {
  if (!worthPosting(input.reports)) return [];
  const counts = countReports(input.reports);
  const acted = input.reports.filter((r) => r.action && r.action.status !== 'failed');
  const savings = acted.reduce((s, r) => s + (r.monthlySavingsUsd ?? 0), 0);
  const unpriced = acted.filter((r) => r.monthlySavingsUsd === undefined).length;
  const potential = input.reports
    .filter((r) => r.decision === 'notify')
    .reduce((s, r) => s + (r.monthlySavingsUsd ?? 0), 0);

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
  const savingsText =
    input.action === 'notify'
      ? `${formatUsd(potential)}/month could be saved`
      : `${formatUsd(savings)}/month ${input.dryRun ? 'would be ' : ''}saved${unpriced ? ` (+${unpriced} price unknown)` : ''}`;
  const text = `${input.dryRun ? '[DRY RUN] ' : ''}Idle GPU reaper: ${parts.join(', ') || 'no change'} · ${savingsText}`;
  const head: Block[] = [
    header(text),
    context(
      `Action: *${input.action}* · lookback ${input.lookbackMinutes} min · at most ${input.maxActionsPerRun} actions a run` +
        (input.dryRun ? ' · *dry run: nothing was changed*' : ''),
    ),
  ];
  const body: Block[] = [];
  const max = input.maxInstanceSections ?? DEFAULT_MAX_INSTANCE_SECTIONS;
  const unlisted: Record<string, number> = {};
  for (const r of input.reports) {
    const b = instanceBlock(r, input);
    if (!b) continue;
    if (body.length < max) body.push(b);
    else unlisted[r.decision] = (unlisted[r.decision] ?? 0) + 1;
  }
  const more = Object.entries(unlisted).map(([decision, n]) => `${n} ${decision}`);
  if (more.length > 0) {
    body.push(
      context(
        `…and ${more.join(', ')} not listed here. \`cost-guard run reaper --dry-run --json\` lists every instance; ` +
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
  if (footer.length) body.push(context(footer.join(' ')));
  return splitIntoMessages(text, head, body);
}
