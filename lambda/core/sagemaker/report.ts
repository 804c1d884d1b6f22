/**
 * The SageMaker guard's per-resource report and its Slack digest. Pure: the service fills the reports from the
 * decisions and the action records; this module renders them. Every value from AWS (names, tags, config names,
 * error messages) is escaped.
 */
import { formatHourlyUsd, formatUsd } from '../money';
import { formatTime } from '../reaper/report';
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
import { sageMakerSkipText } from './decide';
import type { IdleShutdownState } from './studio';
import type { SageMakerAction, SageMakerDecisionKind, SageMakerResourceKind } from './types';

export interface SageMakerOutcome {
  readonly kind: SageMakerAction | 'update-domain' | 'update-user-profile' | 'update-space';
  readonly status: 'done' | 'dry-run' | 'failed';
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

/** One endpoint or notebook instance in the run summary: what was decided, why, what it costs, what happened. */
export interface SageMakerResourceReport {
  readonly kind: SageMakerResourceKind;
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  /** ml.* instance types and how many instances of each run (an endpoint's variants, a notebook's one). */
  readonly instances: readonly { readonly instanceType: string; readonly count: number }[];
  readonly endpointConfigName?: string;
  readonly lifecycleConfigName?: string;
  readonly owner?: string;
  readonly team?: string;
  readonly decision: SageMakerDecisionKind;
  readonly code: string;
  readonly reason: string;
  readonly idleSince?: string;
  readonly actAt?: string;
  readonly warnedAt?: string;
  /** Hours since creation (endpoint) or in service (notebook). */
  readonly ageHours?: number;
  /** Invocations over the window, all variants. */
  readonly invocations?: number;
  /** $/h of every instance it runs, from the savings model; undefined when a type has no price. */
  readonly hourlyUsd?: number;
  /** The same over a month: what deleting (or stopping) it saves. */
  readonly monthlySavingsUsd?: number;
  /** For `warn`: what became of the warning (as the reaper's: delivered only once Slack accepted it). */
  readonly warning?: {
    readonly status: 'delivered' | 'not-delivered' | 'not-shown' | 'not-recorded' | 'dry-run';
    readonly slackChannel?: string;
    readonly slackTs?: string;
  };
  /** The warning on record was removed: busy again, or now protected. */
  readonly warningCleared?: boolean;
  readonly action?: SageMakerOutcome;
}

export interface StudioDomainReport {
  readonly domainId: string;
  readonly name: string;
  /** Set for a user profile or space of the domain whose own settings are looser (`name` is then the domain's). */
  readonly owner?: { readonly kind: 'user-profile' | 'space'; readonly name: string };
  readonly region: string;
  readonly idleShutdown: readonly IdleShutdownState[];
  readonly withoutIdleShutdown: boolean;
  readonly decision: 'update' | 'ok' | 'report' | 'skip';
  readonly code: string;
  readonly reason: string;
  /** Apps running in the domain (any instance type), and of those on GPU instances. */
  readonly runningApps: number;
  readonly gpuApps: number;
  readonly action?: SageMakerOutcome;
}

export interface StudioAppReport {
  readonly domainId: string;
  readonly region: string;
  readonly appType: string;
  readonly appName: string;
  readonly userProfileName?: string;
  readonly spaceName?: string;
  readonly instanceType: string;
  readonly ageHours?: number;
  readonly hourlyUsd?: number;
}

/**
 * What a resource's monthly figure means (the reaper's words): `saved` an action took effect; `would-save` a dry run
 * would have acted; `if-acted-on` the resource is idle and was warned, waits, is reported or was deferred.
 */
export type SageMakerSavingsKind = 'saved' | 'would-save' | 'if-acted-on';

export const SAGEMAKER_SAVINGS_WORDS: Readonly<Record<SageMakerSavingsKind, string>> = {
  saved: 'saved',
  'would-save': 'would be saved (dry run)',
  'if-acted-on': 'would be saved if acted on',
};

/** Owner and team from the usual tag keys (any case). */
export function ownerOf(tags: Readonly<Record<string, string>>): { owner?: string; team?: string } {
  const owner = tagValue(tags, 'owner') ?? tagValue(tags, 'created-by') ?? tagValue(tags, 'creator');
  const team = tagValue(tags, 'team') ?? tagValue(tags, 'project');
  return { ...(owner ? { owner } : {}), ...(team ? { team } : {}) };
}

/** The kind of a resource's monthly figure (the reaper's words); undefined when it saves nothing. */
export function sageMakerSavingsKind(r: SageMakerResourceReport): SageMakerSavingsKind | undefined {
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

export interface SageMakerCounts {
  readonly warned: number;
  readonly deleted: number;
  readonly stopped: number;
  readonly wouldAct: number;
  readonly notified: number;
  readonly deferred: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Domains, user profiles and spaces updated. */
  readonly domainsUpdated: number;
  readonly domainsWithoutIdleShutdown: number;
}

export function countSageMaker(
  resources: readonly SageMakerResourceReport[],
  domains: readonly StudioDomainReport[] = [],
): SageMakerCounts {
  const n = (p: (r: SageMakerResourceReport) => boolean) => resources.filter(p).length;
  return {
    warned: n(
      (r) =>
        r.decision === 'warn' &&
        (r.warning === undefined || r.warning.status === 'delivered' || r.warning.status === 'dry-run'),
    ),
    deleted: n((r) => r.action?.kind === 'delete' && r.action.status === 'done'),
    stopped: n((r) => r.action?.kind === 'stop' && r.action.status === 'done'),
    wouldAct: n((r) => r.action?.status === 'dry-run'),
    notified: n((r) => r.decision === 'notify'),
    deferred: n((r) => r.decision === 'deferred'),
    failed: n((r) => r.action?.status === 'failed') + domains.filter((d) => d.action?.status === 'failed').length,
    cancelled: n((r) => r.warningCleared === true),
    domainsUpdated: domains.filter((d) => d.action?.status === 'done').length,
    domainsWithoutIdleShutdown: domains.filter((d) => d.withoutIdleShutdown).length,
  };
}

const KIND_NAME: Record<SageMakerResourceKind, string> = { endpoint: 'Endpoint', notebook: 'Notebook instance' };
const VERB: Record<SageMakerAction, { past: string; future: string; noun: string }> = {
  delete: { past: 'Deleted', future: 'delete', noun: 'deletion' },
  stop: { past: 'Stopped', future: 'stop', noun: 'stop' },
};
const actionOf = (r: SageMakerResourceReport): SageMakerAction => (r.kind === 'endpoint' ? 'delete' : 'stop');

function failure(o: SageMakerOutcome): string {
  return `${escapeName(o.errorCode ?? 'Unknown')}${o.errorMessage ? `: ${escapeMrkdwn(truncate(o.errorMessage, 500))}` : ''}`;
}

/** The title of a resource's section, or undefined when the digest does not list it. */
function title(r: SageMakerResourceReport, dryRun: boolean): string | undefined {
  const what = KIND_NAME[r.kind];
  if (r.action) {
    const v = VERB[r.action.kind as SageMakerAction];
    if (r.action.status === 'failed') return `:x: *${what}: ${v.noun} failed* (${failure(r.action)})`;
    if (r.action.status === 'dry-run') return `:eyes: *${what}: would ${v.future}* (dry run)`;
    return `:white_check_mark: *${what} ${v.past.toLowerCase()}*`;
  }
  const v = VERB[actionOf(r)];
  if (r.decision === 'warn') {
    const when = r.actAt ? ` at ${escapeMrkdwn(formatTime(r.actAt))}` : '';
    return `:warning: *${what}: will ${v.future}${when}* unless it changes${dryRun ? ' (dry run: nothing recorded)' : ''}`;
  }
  if (r.decision === 'deferred')
    return `:hourglass: *${what}: deferred ${v.noun}*: action limit for this period reached`;
  if (r.decision === 'notify') {
    if (r.code === 'cloudformation-managed') return `:bell: *${what} idle* (managed by CloudFormation: reported only)`;
    if (r.code === 'report-only') return `:bell: *${what} idle* (reported only: this run cannot deliver a warning)`;
    return `:bell: *${what} idle* (action is notify: nothing changed)`;
  }
  if (r.warningCleared) {
    return `:arrows_counterclockwise: *${what}: warning cancelled* (${r.decision === 'busy' ? 'invoked again' : r.decision === 'report' ? 'under its hours again' : 'now protected'})`;
  }
  return undefined;
}

export function instancesText(r: Pick<SageMakerResourceReport, 'instances'>): string {
  return r.instances.map((i) => `${i.instanceType}${i.count !== 1 ? ` x${i.count}` : ''}`).join(', ') || 'no instance';
}

/** The CLI command that opts a resource out (tags it), as a person would copy it. */
export function sageMakerOptOutCommand(arn: string, region: string, optOutKey: string): string {
  return `aws sagemaker add-tags --region ${region} --resource-arn ${arn} --tags Key=${optOutKey},Value=true`;
}

function resourceBlock(r: SageMakerResourceReport, input: SageMakerDigestInput): Block | undefined {
  const head = title(r, input.dryRun);
  if (!head) return undefined;
  const who = [
    `*${escapeName(r.name)}*`,
    `(${escapeName(instancesText(r))}, ${escapeName(r.region)})`,
    r.endpointConfigName ? `config \`${escapeCode(r.endpointConfigName)}\`` : undefined,
    r.owner ? `owner ${escapeName(r.owner)}` : undefined,
    r.team ? `team ${escapeName(r.team)}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const kind = sageMakerSavingsKind(r);
  const cost = [
    r.hourlyUsd !== undefined ? formatHourlyUsd(r.hourlyUsd) : 'price unknown',
    r.idleSince
      ? `${r.kind === 'endpoint' ? 'idle' : 'over its hours'} since ${escapeMrkdwn(formatTime(r.idleSince))}`
      : undefined,
    kind
      ? r.monthlySavingsUsd === undefined
        ? 'price unknown'
        : `${formatUsd(r.monthlySavingsUsd)}/month ${SAGEMAKER_SAVINGS_WORDS[kind]}`
      : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const lines = [head, who, cost, escapeMrkdwn(r.reason)];
  const tail: string[] = [];
  if (r.kind === 'endpoint' && (r.decision === 'warn' || r.action)) {
    tail.push(
      `Deleting keeps the endpoint config and models; \`cost-guard restore --sagemaker\` recreates the endpoint (takes minutes).`,
    );
  }
  if (r.decision === 'warn' || r.decision === 'notify' || r.decision === 'deferred') {
    tail.push(`Opt out: \`${escapeCode(sageMakerOptOutCommand(r.arn, r.region, input.optOutKey))}\``);
  }
  const tailText = tail.join('\n');
  const room = MAX_SECTION_TEXT - (tailText ? tailText.length + 1 : 0);
  return section([truncateMrkdwn(lines.join('\n'), room), ...(tailText ? [tailText] : [])].join('\n'));
}

function domainBlock(d: StudioDomainReport): Block | undefined {
  let head: string | undefined;
  const noun = d.owner ? `Studio ${d.owner.kind === 'space' ? 'space' : 'user profile'}` : 'Studio domain';
  if (d.action?.status === 'failed') head = `:x: *${noun}: idle shutdown update failed* (${failure(d.action)})`;
  else if (d.action?.status === 'dry-run') head = `:eyes: *${noun}: would enable idle shutdown* (dry run)`;
  else if (d.action?.status === 'done') head = `:white_check_mark: *${noun}: idle shutdown enabled*`;
  else if (d.withoutIdleShutdown && d.gpuApps > 0) head = `:bell: *${noun} without idle shutdown, GPU apps running*`;
  if (!head) return undefined;
  const owner = d.owner ? `*${escapeName(d.owner.name)}* in ` : '';
  const who = `${owner}*${escapeName(d.name)}* (\`${escapeCode(d.domainId)}\`, ${escapeName(d.region)}) · ${d.runningApps} app(s) running, ${d.gpuApps} on GPU`;
  return section(truncateMrkdwn([head, who, escapeMrkdwn(d.reason)].join('\n'), MAX_SECTION_TEXT));
}

export interface SageMakerDigestInput {
  readonly resources: readonly SageMakerResourceReport[];
  readonly domains: readonly StudioDomainReport[];
  readonly gpuApps: readonly StudioAppReport[];
  readonly dryRun: boolean;
  readonly action: 'delete' | 'notify';
  readonly optOutKey: string;
  readonly endpointIdleHours: number;
  readonly maxActionsPerRun: number;
  readonly skippedByReason: Readonly<Record<string, number>>;
  readonly notes: readonly string[];
  /** Sections listed at most; the rest are counted in one line. @default 100 */
  readonly maxSections?: number;
}

/** The digest's messages, and which message lists each resource (by `<kind>/<region>/<name>`). */
export interface SageMakerDigestPlan {
  readonly messages: SlackMessage[];
  readonly messageOf: ReadonlyMap<string, number>;
}

export const reportKey = (r: Pick<SageMakerResourceReport, 'kind' | 'region' | 'name'>): string =>
  `${r.kind}/${r.region}/${r.name}`;

/** Did anything happen that a person should hear about? No message otherwise (reports alone post nothing). */
export function sageMakerWorthPosting(input: Pick<SageMakerDigestInput, 'resources' | 'domains'>): boolean {
  return (
    input.resources.some(
      (r) =>
        r.decision === 'warn' ||
        r.decision === 'notify' ||
        r.decision === 'deferred' ||
        r.action !== undefined ||
        r.warningCleared === true,
    ) || input.domains.some((d) => d.action !== undefined)
  );
}

/**
 * One digest per run: a header with the counts and the monthly figures, one section per endpoint or notebook that
 * was warned, acted on, deferred, notified or whose warning was cancelled, one per Studio domain changed, a line on
 * GPU Studio apps, and a footer with what was skipped. Split into messages of at most 50 blocks; empty when nothing
 * happened.
 */
export function buildSageMakerDigest(input: SageMakerDigestInput): SageMakerDigestPlan {
  if (!sageMakerWorthPosting(input)) return { messages: [], messageOf: new Map() };
  const counts = countSageMaker(input.resources, input.domains);
  const shown = input.resources.filter((r) => title(r, input.dryRun) !== undefined);
  const totals = (['saved', 'would-save', 'if-acted-on'] as const).flatMap((kind) => {
    const of = shown.filter((r) => sageMakerSavingsKind(r) === kind);
    if (of.length === 0) return [];
    const cents = of.reduce((s, r) => s + Math.round((r.monthlySavingsUsd ?? 0) * 100), 0);
    const unpriced = of.filter((r) => r.monthlySavingsUsd === undefined).length;
    return [
      `${formatUsd(cents / 100)}/month ${SAGEMAKER_SAVINGS_WORDS[kind]}${unpriced ? ` (+${unpriced} price unknown)` : ''}`,
    ];
  });
  const parts = [
    counts.deleted ? `${counts.deleted} endpoint(s) deleted` : '',
    counts.stopped ? `${counts.stopped} notebook(s) stopped` : '',
    counts.wouldAct ? `${counts.wouldAct} would be acted on` : '',
    counts.warned ? `${counts.warned} warned` : '',
    counts.notified ? `${counts.notified} idle` : '',
    counts.deferred ? `${counts.deferred} deferred` : '',
    counts.cancelled ? `${counts.cancelled} warning(s) cancelled` : '',
    counts.domainsUpdated
      ? `${counts.domainsUpdated} Studio domain(s), user profile(s) or space(s) given idle shutdown`
      : '',
    counts.failed ? `${counts.failed} failed` : '',
  ].filter(Boolean);
  const text = `${input.dryRun ? '[DRY RUN] ' : ''}SageMaker guard: ${parts.join(', ') || 'no change'}${totals.map((t) => ` · ${t}`).join('')}`;
  const head: Block[] = [
    header(text),
    context(
      `Action: *${input.action}* · idle = no invocation in ${input.endpointIdleHours} h · at most ${input.maxActionsPerRun} actions per scheduled period` +
        (input.dryRun ? ' · *dry run: nothing was changed*' : ''),
    ),
  ];
  const body: Block[] = [];
  const max = input.maxSections ?? 100;
  const bodyIndex = new Map<string, number>();
  let unlisted = 0;
  for (const r of input.resources) {
    const b = resourceBlock(r, input);
    if (!b) continue;
    if (body.length < max) {
      bodyIndex.set(reportKey(r), body.length);
      body.push(b);
    } else unlisted += 1;
  }
  for (const d of input.domains) {
    const b = domainBlock(d);
    if (!b) continue;
    if (body.length < max) body.push(b);
    else unlisted += 1;
  }
  if (unlisted > 0) {
    body.push(
      context(
        `…and ${unlisted} more not listed here. \`cost-guard run sagemaker --dry-run --json\` lists every resource.`,
      ),
    );
  }
  const footer: string[] = [];
  if (input.gpuApps.length > 0) {
    const hourly = input.gpuApps.reduce((s, a) => s + (a.hourlyUsd ?? 0), 0);
    const listed = input.gpuApps
      .slice(0, 10)
      .map(
        (a) =>
          `${escapeName(a.userProfileName ?? a.spaceName ?? a.appName)} (${escapeName(a.instanceType)}${a.ageHours !== undefined ? `, ${Math.floor(a.ageHours)} h` : ''})`,
      )
      .join(', ');
    footer.push(
      `${input.gpuApps.length} Studio app(s) running on GPU, ${formatHourlyUsd(hourly)} together: ${listed}${input.gpuApps.length > 10 ? ', …' : ''}.`,
    );
  }
  const skipped = Object.entries(input.skippedByReason)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${escapeName(sageMakerSkipText(reason))}`);
  if (skipped.length) footer.push(`Not acted on: ${skipped.join(', ')}.`);
  for (const n of input.notes) footer.push(escapeMrkdwn(n));
  if (footer.length) body.push(context(footer.join(' ')));
  const messages = splitIntoMessages(text, head, body);
  const room = MAX_BLOCKS_PER_MESSAGE - head.length;
  const messageOf = new Map<string, number>();
  for (const [key, i] of bodyIndex) messageOf.set(key, messages.length === 1 ? 0 : Math.floor(i / room));
  return { messages, messageOf };
}
