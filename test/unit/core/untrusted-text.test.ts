/**
 * Every Slack message builder, fed hostile text in every field whose value comes from AWS (tags, instance types,
 * bucket, budget and alarm names, alarm descriptions, SNS text, AWS error codes and messages, ledger items).
 *
 * What must hold in every message, whatever the input:
 * - mrkdwn text (sections, fields, context, and the `text` fallback, which Slack renders as mrkdwn in
 *   notifications) has no `<!…>` mention and no `<` except the console links the builders make themselves, and
 *   every `&` opens a whole entity (`&amp;`, `&lt;`, `&gt;`): nothing is half-escaped, nothing is cut mid-entity;
 * - a value cannot format the message (`*bold*`, `_it_`, `~gone~`, backticks) and, unless the field is prose
 *   (an alarm description, SNS text), cannot start a line of its own;
 * - headers are plain_text, one line, at most 150 characters; sections at most 3,000, fields 2,000, a message at
 *   most 50 blocks and 10 fields a section;
 * - no text holds an unpaired UTF-16 surrogate and no cut falls inside a grapheme (checked at the `…` we append);
 * - the value is still shown (decoded, it reads as the tag said, newlines as spaces) when it is short.
 */
import fc from 'fast-check';
import { anomalyNotificationMessage } from '../../../lambda/core/anomalies/message';
import { launchCapChangeMessage, launchCapMessage } from '../../../lambda/core/budgets/launch-cap';
import {
  budgetAlertMessages,
  budgetLimitMismatchMessage,
  budgetProblemMessage,
  budgetStopContinuationMessages,
  budgetStopResultMessages,
  type StopOutcome,
} from '../../../lambda/core/budgets/messages';
import { evaluateBudget } from '../../../lambda/core/budgets/policy';
import { finopsBlocks } from '../../../lambda/core/finops/report';
import type { S3LifecycleRule } from '../../../lambda/core/lifecycle/merge';
import type { BucketReport, LifecycleRunSummary } from '../../../lambda/core/lifecycle/report';
import { deletionAnnouncement, lifecycleDigest } from '../../../lambda/core/lifecycle/report';
import { buildDigest, type InstanceReport, ownerWarningMessage } from '../../../lambda/core/reaper/report';
import { alarmMessage } from '../../../lambda/core/report/alarm-message';
import { monthSummaryMessages, summarizeMonth } from '../../../lambda/core/report/monthly-summary';
import { adviceMessages, type Recommendation } from '../../../lambda/core/rightsizing/report';
import type { LedgerEntry } from '../../../lambda/core/run';
import { escapeMrkdwn, type SlackMessage } from '../../../lambda/core/slack-blocks';
import { untrustedText } from '../../helpers/arbitraries';

const NOW = new Date('2026-11-15T12:00:00Z');
const FAMILY = '👩‍👩‍👧‍👦'; // 4 code points joined by ZWJ: 11 UTF-16 units, one grapheme

/** [label, value, substrings that must not appear in any mrkdwn text] */
const HOSTILE: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['a channel mention', '<!channel> look', ['<!channel>']],
  ['a disguised link', '<https://evil.example|click>', ['<https://evil', '|click>']],
  ['bold', '*bold*', ['*bold*']],
  ['italic and strike-through', '_it_ ~gone~', ['_it_', '~gone~']],
  ['backticks', '```x``` `y`', ['```', '`y`']],
  ['newlines', 'two\nFAKE *line*\r\n> quote', ['*line*']],
  ['an entity', '&amp; &lt;!here&gt;', []],
  ['4,000 emoji of one code point (surrogate pairs)', '😀'.repeat(2000), []],
  ['4,000 characters of ZWJ family emoji', FAMILY.repeat(364), []],
  ['4,000 ampersands', '&'.repeat(4000), []],
];

/** One builder with the hostile value in every AWS-sourced field it has. */
interface Row {
  readonly name: string;
  /** True when the fields are prose that may keep its line breaks (alarm description, SNS text). */
  readonly multiline?: boolean;
  readonly build: (v: string) => SlackMessage[];
}

const instance = (v: string, over: Partial<InstanceReport> = {}): InstanceReport => ({
  instanceId: 'i-0abc',
  region: 'us-east-1',
  instanceType: v,
  name: v,
  owner: v,
  team: v,
  decision: 'warn',
  code: 'first-detection',
  reason: `idle: ${v}`,
  confidence: 'low',
  idleSince: v,
  actAt: v,
  hourlyUsd: 1.006,
  wasteSoFarUsd: 1.006,
  monthlySavingsUsd: 734.38,
  tag: { kind: 'tag', status: 'done' },
  ...over,
});

const reaperInput = (v: string, reports: InstanceReport[]) => ({
  reports,
  action: 'stop' as const,
  dryRun: false,
  optOutKey: 'cost-guard:opt-out',
  lookbackMinutes: 60,
  maxActionsPerRun: 25,
  skippedByReason: { [v]: 2, 'opt-out': 1 },
  unknownTypes: [v],
  notes: [v],
});

/** Valid EC2 ids (buttons are only made for ids EC2 could give), every other field hostile. */
const reaperWithButtons = (v: string, team?: string) => ({
  ...reaperInput(v, [
    instance(v, {
      instanceId: 'i-0123456789abcdef0',
      confidence: 'high',
      actAt: '2026-11-15T13:00:00.000Z',
      ownerMessage: { owner: v, status: 'failed', errorCode: v },
    }),
    instance(v, { instanceId: 'i-0123456789abcdef1', decision: 'deferred', tag: undefined }),
    instance(v, { instanceId: 'i-0123456789abcdef2', ownerMessage: { owner: v, status: 'not-found' } }),
    instance(v, {
      instanceId: 'i-0123456789abcdef3',
      decision: 'skip',
      code: 'keep-until',
      tag: undefined,
      keep: { until: v, by: v, reason: v },
    }),
  ]),
  buttons: { keepHours: [4, 24, 168], maxKeepHours: 168 },
  ...(team !== undefined ? { team } : {}),
});

const failedOutcome = (v: string, kind: 'stop' | 'untag') =>
  ({ kind, status: 'failed', errorCode: v, errorMessage: v }) as const;

function budgetEvaluation(v: string) {
  return evaluateBudget(
    v,
    {
      name: v,
      timeUnit: 'MONTHLY',
      limit: { amount: 1000, unit: 'USD' },
      actual: { amount: 990, unit: 'USD' },
      forecast: { amount: 1250, unit: 'USD' },
    },
    { alertPercent: 80, actionPercent: 95 },
    NOW,
  );
}

const stops = (v: string): StopOutcome[] => [
  { instanceId: 'i-1', region: 'us-east-1', instanceType: v, hourlyUsd: 1.006, status: 'done' },
  { instanceId: 'i-2', region: 'us-east-1', instanceType: v, status: 'failed', errorCode: v, note: v },
  { instanceId: 'i-3', region: 'us-east-1', instanceType: v, status: 'dry-run' },
  { instanceId: 'i-4', region: 'us-east-1', instanceType: v, status: 'stopping' },
];

const budgetAlert = (v: string, mode: 'stop' | 'dry-run') => {
  const evaluation = budgetEvaluation(v);
  return budgetAlertMessages({
    evaluation,
    thresholds: evaluation.crossed,
    mode,
    stops: stops(v),
    skipped: { essential: 1 },
    instanceStore: { known: true, types: [v, v] },
    essentialTag: 'cost-guard:essential',
  });
};

const bucket = (v: string, over: Partial<BucketReport>): BucketReport => ({
  bucket: v,
  region: v,
  selectedBy: ['tag'],
  decision: 'changed',
  status: 'done',
  rulesBefore: [],
  rulesAfter: [],
  diff: [
    { ruleId: v, change: 'added' },
    { ruleId: v, change: 'removed' },
  ],
  diffText: [],
  conflicts: [{ ruleId: 'cost-guard-x', prefix: v, userRuleId: v, userPrefix: v, message: v }],
  errors: [v],
  notices: [v],
  ...over,
});

function lifecycleSummary(v: string): LifecycleRunSummary {
  return {
    capability: 'lifecycle',
    dryRun: false,
    startedAt: NOW.toISOString(),
    actions: [],
    monthlySavingsUsd: 0,
    apiCalls: {},
    notes: [v],
    buckets: [
      bucket(v, {}),
      bucket(v, { decision: 'failed', status: 'failed', errorCode: v }),
      bucket(v, { decision: 'unchanged' }),
      bucket(v, { decision: 'missing', errorCode: v }),
      bucket(v, { decision: 'unreadable', errorCode: v }),
      bucket(v, { decision: 'held' }),
      bucket(v, {
        decision: 'protected',
        protection: [
          { kind: 'own-stack', message: v },
          { kind: 'log-destination', message: v },
        ],
      }),
      bucket(v, { decision: 'would-change', rulesAfter: deleting(v) }),
    ],
    bucketsScanned: 5,
    bucketsChanged: 1,
    conflicts: 3,
    projectedMonthlySavingsUsd: 12.5,
    projectedMonthlySavingsHighUsd: 20,
    tagReadFailures: [{ bucket: v, code: v }],
    slackMessages: 0,
  };
}

/** A managed rule (ours) with a user-chosen prefix that expires objects and old versions. */
const deleting = (v: string): S3LifecycleRule[] => [
  {
    ID: 'cost-guard-tmp',
    Status: 'Enabled',
    Filter: { Prefix: v },
    Expiration: { Days: 30 },
    NoncurrentVersionExpiration: { NoncurrentDays: 7 },
  },
];

const ledger = (capability: string, kind: string, usd?: number): LedgerEntry => ({
  at: '2026-10-03T10:00:00.000Z',
  capability,
  kind,
  target: capability,
  reason: kind,
  ...(usd !== undefined ? { monthlySavingsUsd: usd } : {}),
});

const alarmJson = (fields: Record<string, string>) =>
  JSON.stringify({
    AlarmName: 'MlCostGuard-ReaperErrors',
    AlarmDescription: 'a run failed',
    NewStateValue: 'ALARM',
    OldStateValue: 'OK',
    NewStateReason: 'Threshold Crossed',
    StateChangeTime: '2026-11-15T12:00:00.000+0000',
    Region: 'US East (N. Virginia)',
    AWSAccountId: '111122223333',
    ...fields,
  });

/** A right-sizing recommendation whose every AWS-sourced field (ID, region, type, Name and team tags) is `v`. */
const advice = (v: string): Recommendation => ({
  instanceId: v,
  region: v,
  instanceType: v,
  lifecycle: 'on-demand',
  name: v,
  team: v,
  observation: {
    gpuSeries: 8,
    gpuUtilizationP95: 30,
    gpuMemoryPeakMiB: 9000,
    gpusInUse: 1,
    cpuP95: 5,
    memoryHours: 336,
  },
  verdict: {
    kind: 'recommend',
    targetType: 'g4dn.2xlarge',
    fromHourlyUsd: 21.96,
    toHourlyUsd: 0.752,
    monthlySavingsUsd: 15481.84,
    requirement: { gpuMemoryMiB: 11700, gpus: 1, vcpus: 7, architecture: 'x86_64' },
    reason: 'needs 11,700 MiB per GPU',
  },
});
const GPU_HOURS = { busyGpuHours: 3, measuredGpuHours: 4, spotGpuHours: 1, gpuHours: 4 };

const ROWS: readonly Row[] = [
  {
    name: 'right-sizing advice (instance ID, region, type, Name and team tags)',
    build: (v) =>
      adviceMessages({
        recommendations: [advice(v)],
        topN: 10,
        lookbackDays: 14,
        headroomPercent: 30,
        noteCounts: { 'no-gpu-memory-metric': 2 },
        pricingNote: 'embedded price catalog of 2026-08',
      }),
  },
  {
    name: 'monthly summary with the FinOps metrics of a team',
    build: (v) =>
      monthSummaryMessages(
        summarizeMonth('2026-10', []),
        finopsBlocks({ month: '2026-10', fleet: { gpu: GPU_HOURS }, teams: { [v]: { gpu: GPU_HOURS } } }, undefined),
      ),
  },
  {
    name: 'reaper digest (warned, failed stop, failed untag)',
    build: (v) =>
      buildDigest(
        reaperInput(v, [
          instance(v),
          instance(v, { decision: 'act', action: failedOutcome(v, 'stop'), tag: undefined }),
          instance(v, { decision: 'busy', code: 'gpu-busy', tag: failedOutcome(v, 'untag') }),
          instance(v, { decision: 'deferred', tag: undefined }),
        ]),
      ),
  },
  {
    name: 'reaper digest (120 instances: split and summarized)',
    build: (v) =>
      buildDigest(
        reaperInput(
          v,
          Array.from({ length: 120 }, (_, i) => instance(v, { instanceId: `i-${i}` })),
        ),
      ),
  },
  {
    name: 'reaper digest with buttons, owner notes and keeps',
    build: (v) => buildDigest(reaperWithButtons(v)),
  },
  {
    name: "a team's own reaper digest (team name, buttons)",
    build: (v) => buildDigest(reaperWithButtons(v, v)),
  },
  {
    name: 'reaper digest with team lines (team names, a refused channel)',
    build: (v) =>
      buildDigest({
        ...reaperWithButtons(v),
        teamDigests: [
          { team: v, channel: v, instanceIds: new Set(['i-0123456789abcdef0']) },
          { team: v, channel: v, instanceIds: new Set(['i-0123456789abcdef1']), errorCode: v },
        ],
      }),
  },
  {
    name: "an owner's direct message (warning and buttons)",
    build: (v) => [
      ownerWarningMessage(
        instance(v, { instanceId: 'i-0123456789abcdef0', confidence: 'high', actAt: '2026-11-15T13:00:00.000Z' }),
        reaperWithButtons(v),
      )!,
      ownerWarningMessage(instance(v), reaperWithButtons(v))!,
    ],
  },
  { name: 'budget alert at the action threshold', build: (v) => budgetAlert(v, 'stop') },
  {
    name: 'budget alert with restore and keep-running buttons (instance names, types, budget name)',
    build: (v) => {
      const evaluation = budgetEvaluation(v);
      const valid = (n: number, status: StopOutcome['status']): StopOutcome => ({
        instanceId: `i-0123456789abcdef${n}`,
        region: 'us-east-1',
        instanceType: v,
        name: v,
        hourlyUsd: 1.006,
        status,
      });
      return budgetAlertMessages({
        evaluation,
        thresholds: evaluation.crossed,
        mode: 'stop',
        stops: [valid(1, 'stopping'), valid(2, 'done'), ...stops(v)],
        deferred: 4,
        next: [valid(3, 'would-stop'), valid(4, 'would-stop')],
        buttons: { maxKeepHours: 168, keepRunningHours: 24 },
        essentialTag: 'cost-guard:essential',
      });
    },
  },
  { name: 'budget alert in dry run', build: (v) => budgetAlert(v, 'dry-run') },
  {
    name: 'budget stop continuation',
    build: (v) =>
      budgetStopContinuationMessages({
        evaluation: budgetEvaluation(v),
        stops: stops(v),
        stoppedBefore: 3,
        deferred: 2,
        skipped: { essential: 1 },
        instanceStore: { known: true, types: [v] },
        essentialTag: 'cost-guard:essential',
      }),
  },
  { name: 'budget stop result', build: (v) => budgetStopResultMessages({ name: v, stops: stops(v), cutShort: 1 }) },
  {
    name: 'budget limit mismatch',
    build: (v) => [
      budgetLimitMismatchMessage(v, { reason: 'unit', configuredUsd: 1000, live: { amount: 1000, unit: v } }, v),
    ],
  },
  {
    name: 'budget problem (missing)',
    build: (v) => [budgetProblemMessage(v, { kind: 'missing', message: `budget '${v}' was not found` })],
  },
  {
    name: 'budget problem (no limit)',
    build: (v) => [budgetProblemMessage(v, { kind: 'no-limit', message: v })],
  },
  { name: 'lifecycle digest', build: (v) => lifecycleDigest(lifecycleSummary(v)) },
  {
    name: 'lifecycle announcement of rules that delete data',
    build: (v) =>
      deletionAnnouncement([
        {
          bucket: v,
          region: v,
          rules: [{ ruleId: v, prefix: v, deletes: ['noncurrent versions expire after 7 days'] }],
        },
        { bucket: v, rules: [{ ruleId: 'cost-guard-tmp', prefix: '', deletes: ['objects expire after 30 days'] }] },
      ]),
  },
  {
    name: 'monthly summary',
    build: (v) => monthSummaryMessages(summarizeMonth('2026-10', [ledger(v, v, 10), ledger('reaper', v)])),
  },
  {
    name: 'alarm (name, states, time, region, account)',
    build: (v) => [
      alarmMessage(
        alarmJson({ AlarmName: v, NewStateValue: v, OldStateValue: v, StateChangeTime: v, Region: v, AWSAccountId: v }),
      ),
    ],
  },
  {
    name: 'alarm (description and reason)',
    multiline: true,
    build: (v) => [alarmMessage(alarmJson({ AlarmDescription: v, NewStateReason: v }))],
  },
  { name: 'SNS text that is not an alarm', multiline: true, build: (v) => [alarmMessage(v)] },
  {
    name: 'spend anomaly (every text field of the notification)',
    build: (v) => [
      anomalyNotificationMessage(
        JSON.stringify({
          accountId: v,
          anomalyId: v,
          anomalyStartDate: v,
          anomalyEndDate: v,
          dimensionalValue: v,
          monitorArn: v,
          monitorName: v,
          anomalyDetailsLink: v,
          impact: { totalImpact: 1001, totalImpactPercentage: 333.67 },
          rootCauses: [
            { linkedAccount: v, linkedAccountName: v, region: v, service: v, usageType: v },
            { service: v, impact: { contribution: 10 } },
          ],
        }),
      ),
    ],
  },
  {
    name: 'budget alert with the launch cap',
    build: (v) => {
      const evaluation = budgetEvaluation(v);
      return budgetAlertMessages({
        evaluation,
        thresholds: evaluation.crossed,
        mode: 'stop',
        stops: stops(v),
        essentialTag: 'cost-guard:essential',
        launchCap: { budget: v, roles: [v, v], until: v, mode: 'apply' },
      });
    },
  },
  {
    name: 'launch cap announcement (budget, roles, period end)',
    build: (v) => [launchCapMessage({ budget: v, roles: [v], until: v, mode: 'unheard' }, 96.5)],
  },
  {
    name: 'launch cap lifted or failed (budget, roles, AWS error code)',
    build: (v) => [
      launchCapChangeMessage({
        budget: v,
        detached: [v],
        why: 'period-ended',
        failed: [
          { role: v, code: v, attach: true },
          { role: v, code: v, attach: false },
        ],
      }),
    ],
  },
  {
    name: 'SNS text on the anomaly topic that is not an anomaly',
    multiline: true,
    build: (v) => [anomalyNotificationMessage(v)],
  },
];

interface Shown {
  readonly where: string;
  readonly type: 'mrkdwn' | 'plain_text';
  readonly text: string;
}

/** Every text of a message, with what Slack does with it. */
function shownTexts(m: SlackMessage): Shown[] {
  const out: Shown[] = [{ where: 'fallback text', type: 'mrkdwn', text: m.text }];
  for (const [i, b] of m.blocks.entries()) {
    if (b.type === 'header') out.push({ where: `header ${i}`, ...b.text });
    if (b.type === 'section' && b.text) out.push({ where: `section ${i}`, ...b.text });
    if (b.type === 'section')
      for (const [j, f] of (b.fields ?? []).entries()) out.push({ where: `field ${i}.${j}`, ...f });
    if (b.type === 'context') for (const [j, e] of b.elements.entries()) out.push({ where: `context ${i}.${j}`, ...e });
    if (b.type === 'actions')
      for (const [j, e] of b.elements.entries())
        if (e.type === 'button') out.push({ where: `button ${i}.${j}`, ...e.text });
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** The only `<` a builder may write itself: a link to the AWS console. */
const OWN_LINK = '<https://us-east-1.console.aws.amazon.com/';

/** Everything wrong with a builder's messages; empty when all holds. */
function problemsOf(
  messages: readonly SlackMessage[],
  multiline: boolean,
  forbidden: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  if (messages.length === 0) problems.push('no message');
  messages.forEach((m, n) => {
    const at = (s: Shown) => `message ${n} ${s.where}`;
    if (m.blocks.length > 50) problems.push(`message ${n}: ${m.blocks.length} blocks`);
    for (const b of m.blocks) {
      if (b.type === 'section' && (b.fields?.length ?? 0) > 10)
        problems.push(`message ${n}: ${b.fields?.length} fields`);
      if (b.type === 'context' && b.elements.length > 10) problems.push(`message ${n}: ${b.elements.length} elements`);
      if (b.type === 'actions') {
        if (b.elements.length > 25) problems.push(`message ${n}: ${b.elements.length} buttons in one actions block`);
        for (const e of b.elements) {
          if (e.type !== 'button') continue;
          if ((e.value ?? '').length > 2000) problems.push(`message ${n}: a button value of ${e.value!.length}`);
          if ((e.action_id ?? '').length > 255) problems.push(`message ${n}: an action_id of ${e.action_id!.length}`);
        }
      }
    }
    for (const s of shownTexts(m)) {
      const limit = s.where.startsWith('header')
        ? 150
        : s.where.startsWith('button')
          ? 75
          : s.where.startsWith('field')
            ? 2000
            : 3000;
      if (s.text.length > limit) problems.push(`${at(s)}: ${s.text.length} > ${limit} characters`);
      if (s.text.trim().length === 0) problems.push(`${at(s)}: empty (Slack rejects it)`);
      if (LONE_SURROGATE.test(s.text)) problems.push(`${at(s)}: unpaired surrogate`);
      if (/\u200D…/.test(s.text)) problems.push(`${at(s)}: cut inside a grapheme`);
      if (s.where.startsWith('header') || s.where.startsWith('button')) {
        if (s.type !== 'plain_text') problems.push(`${at(s)}: ${s.where} is ${s.type}`);
        if (/[\r\n]/.test(s.text)) problems.push(`${at(s)}: header has a line break`);
        continue;
      }
      if (s.type !== 'mrkdwn') continue;
      if (s.text.includes('<!')) problems.push(`${at(s)}: raw mention <!`);
      for (const match of s.text.matchAll(/</g)) {
        if (!s.text.startsWith(OWN_LINK, match.index)) {
          problems.push(
            `${at(s)}: raw < at ${match.index}: ${JSON.stringify(s.text.slice(match.index, match.index + 30))}`,
          );
          break;
        }
      }
      const amp = /&(?!(?:amp|lt|gt);)/.exec(s.text);
      if (amp)
        problems.push(`${at(s)}: raw & or half entity ${JSON.stringify(s.text.slice(amp.index, amp.index + 6))}`);
      // Formatting characters do nothing inside a code span (a command to copy keeps them as written): look outside.
      const outsideCode = s.text.replace(/\u200B`\u200B/g, '').replace(/`[^`\n]*`/g, '');
      for (const f of forbidden) if (outsideCode.includes(f)) problems.push(`${at(s)}: contains ${JSON.stringify(f)}`);
      if (!multiline && s.text.includes('\nFAKE')) problems.push(`${at(s)}: a value started a line`);
    }
  });
  return problems;
}

/** What a reader sees in mrkdwn: guards dropped, entities decoded (the test's own inverse, not the code's). */
const decode = (mrkdwn: string): string =>
  mrkdwn
    .replace(/\u200B([*_~`])\u200B/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

function visibleText(messages: readonly SlackMessage[]): string {
  return messages
    .flatMap(shownTexts)
    .map((s) => (s.type === 'mrkdwn' ? decode(s.text) : s.text))
    .join('\n');
}

describe('Untrusted text in every Slack message', () => {
  describe.each(ROWS)('$name', (row) => {
    it.each(HOSTILE)('holds with %s in every AWS-sourced field', (_label, value, forbidden) => {
      // Act
      const messages = row.build(value);
      // Assess
      expect(problemsOf(messages, row.multiline === true, forbidden)).toEqual([]);
    });

    it.each(HOSTILE.filter(([, v]) => v.length < 100))('still shows %s as written', (_label, value) => {
      // Act
      const shown = visibleText(row.build(value));
      // Assess: the characters AWS gave, on one line (prose keeps its line breaks, as \n).
      const oneLine = value.replace(/\r\n|[\r\n]/g, ' ');
      const lines = value.replace(/\r\n?/g, '\n');
      expect(shown.includes(oneLine) || (row.multiline === true && shown.includes(lines))).toBe(true);
    });
  });

  it('keeps the opt-out command of an instance whose tags are 4,000 characters long', () => {
    // Act
    const text = visibleText(buildDigest(reaperInput('😀'.repeat(2000), [instance('😀'.repeat(2000))])));
    // Assess
    expect(text).toContain('--resources i-0abc --tags Key=cost-guard:opt-out,Value=true');
  });
});

describe('Property: untrusted text cannot break out of a Slack message', () => {
  it.each(ROWS)('$name, for any tag value', (row) => {
    fc.assert(
      fc.property(untrustedText(), (value) => {
        expect(problemsOf(row.build(value), row.multiline === true)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('escapeMrkdwn shows any value as written (one line) and leaves nothing Slack would interpret', () => {
    fc.assert(
      fc.property(untrustedText(), (value) => {
        // Act
        const escaped = escapeMrkdwn(value);
        // Assess: nothing to interpret…
        expect(escaped).not.toMatch(/[<>\r\n]/);
        expect(escaped).not.toMatch(/&(?!(?:amp|lt|gt);)/);
        expect(escaped).not.toMatch(LONE_SURROGATE);
        expect(escaped.replace(/\u200B[*_~`]\u200B/g, '')).not.toMatch(/[*_~`]/);
        // …and nothing lost but line breaks, control characters and broken surrogates.
        const expected = value
          .replace(/\r\n/g, ' ')
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced
          .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
          .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
        expect(decode(escaped)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
