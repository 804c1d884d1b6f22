/**
 * The one configuration schema of ml-cost-guard.
 *
 * The `costGuard` object lives in cdk.json context (or a `--config FILE` for the CLI). `cdk synth`, the CLI and every
 * Lambda parse it with this schema, so a value means the same thing everywhere and a bad value fails early with a
 * message that names the field, the value and what is allowed. Every key has a default: `{}` is a valid config.
 *
 * Pure: zod only, no SDK or CDK imports, so the Lambdas can bundle it.
 */
import { z } from 'zod';
import { CostGuardError } from './errors';
import {
  checkLifecycleRules,
  DEFAULT_LIFECYCLE_RULES,
  describeRuleProblem,
  TRANSITION_STORAGE_CLASSES,
} from './lifecycle/rules';
import { AWS_REGION_CODE } from './regions';
import { createPricing } from './savings/pricing';
import { scheduleProblem } from './schedule';
import { closestName } from './suggest';

const percent = (what: string) =>
  z
    .number({ error: `${what} must be a number from 0 to 100` })
    .min(0, { error: `${what} must be from 0 to 100` })
    .max(100, { error: `${what} must be from 0 to 100` });

const wholeDays = (min: number) =>
  z
    .number({ error: 'must be a whole number of days' })
    .int({ error: 'must be a whole number of days' })
    .min(min, { error: `must be at least ${min} day(s)` })
    .max(36500, { error: 'must be at most 36500 days' });

const minutes = (min: number, max: number) =>
  z
    .number({ error: 'must be a whole number of minutes' })
    .int({ error: 'must be a whole number of minutes' })
    .min(min, { error: `must be from ${min} to ${max} minutes` })
    .max(max, { error: `must be from ${min} to ${max} minutes` });

const schedule = (def: string) =>
  z
    .string()
    .default(def)
    .superRefine((value, ctx) => {
      const problem = scheduleProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: `invalid schedule '${value}': ${problem}` });
    });

/** AWS tag keys: 1-128 characters, no `aws:` prefix for tags we write. */
const tagKey = z
  .string()
  .min(1, { error: 'a tag key must not be empty' })
  .max(128, { error: 'a tag key has at most 128 characters' });

const region = z.string().regex(AWS_REGION_CODE, { error: 'must be an AWS region code such as us-east-1' });

/** A loopback host as the URL parser writes it (it turns `127.1` or `0x7f.0.0.1` into `127.0.0.1`). */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** https anywhere; plain http only to this machine (a local test server), never over a network. */
export function isSafeSlackApiUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  } catch {
    return false;
  }
}

/** A Slack workspace ID (`T…`; Enterprise Grid organizations `E…`). */
const SLACK_TEAM_ID = /^[TE][A-Z0-9]{2,20}$/;
/** A Slack user ID (`U…`, `W…` for Enterprise Grid) or user-group ID (`S…`). */
const SLACK_APPROVER_ID = /^[UWS][A-Z0-9]{2,20}$/;

/** A 12-digit AWS account ID. */
export const ACCOUNT_ID = /^\d{12}$/;

/** An organizational unit ID (ou-xxxx-yyyyyyyy) or the organization's root (r-xxxx). */
export const OU_ID = /^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/;

const slackSchema = z
  .strictObject({
    /** Channel ID or name the bot posts to. */
    channel: z
      .string()
      .min(1)
      .default('#ml-finops')
      .describe('Channel name or ID the bot posts to (invite the bot to the channel).'),
    /** Secrets Manager secret holding the bot token (xoxb-…); when absent the stack creates one to fill in. */
    tokenSecretName: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Existing Secrets Manager secret holding the bot token (`xoxb-…`, or JSON `{"token": "xoxb-…"}`). When absent the stack creates a secret to fill in.',
      ),
    /** Slack Web API base URL (GovSlack, or a local server in tests): https, plain http only to a loopback address. */
    apiUrl: z
      .url({ error: 'must be an http(s) URL' })
      .refine(isSafeSlackApiUrl, {
        error: (issue) =>
          `must be an https URL: the bot token goes with every request (plain http only to a loopback address: 127.0.0.0/8, localhost or [::1]) (got ${formatInput(issue.input)})`,
      })
      .default('https://slack.com/api/')
      .describe(
        'Slack Web API base URL (GovSlack, or a local server in tests). https; plain http only to a loopback address (127.0.0.0/8, localhost, [::1]), since the bot token goes with every request.',
      ),
    interactivity: z
      .boolean()
      .default(false)
      .describe(
        'Deploy the interactivity endpoint (a Lambda function URL Slack posts button presses to) and put keep, stop-now and restore buttons on the messages. Needs `teamId`; see docs/slack.md. Off: messages carry no buttons.',
      ),
    teamId: z
      .string()
      .regex(SLACK_TEAM_ID, { error: 'must be a Slack workspace ID such as T0123ABCD' })
      .optional()
      .describe(
        'The Slack workspace (team) ID whose button presses are accepted; a request from any other workspace is refused. Required with `interactivity` and for `cost-guard slack serve`.',
      ),
    signingSecretName: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Existing Secrets Manager secret holding the Slack app\'s signing secret (plain, or JSON `{"signingSecret": "…"}`). When absent and `interactivity` is on, the stack creates a secret to fill in.',
      ),
    keepHours: z
      .array(
        z
          .number({ error: 'a keep length must be a whole number of hours' })
          .int({ error: 'a keep length must be a whole number of hours' })
          .min(1, { error: 'a keep length must be at least 1 hour' }),
      )
      .min(1, { error: 'list at least one keep length' })
      .max(5, { error: 'at most 5 keep lengths (one button each)' })
      .default([4, 24, 168])
      .describe(
        'The keep buttons on a reaper warning, in hours (each at most `maxKeepHours`): the default offers 4 hours, 1 day and 1 week.',
      ),
    maxKeepHours: z
      .number({ error: 'maxKeepHours must be a whole number of hours from 1 to 720' })
      .int({ error: 'maxKeepHours must be a whole number of hours from 1 to 720' })
      .min(1, { error: 'maxKeepHours must be from 1 to 720 hours' })
      .max(720, { error: 'maxKeepHours must be from 1 to 720 hours' })
      .default(168)
      .describe(
        'The longest keep anyone can set, from Slack or with `cost-guard keep`; a longer request is refused. A keep runs out by itself and the instance returns to the normal flow.',
      ),
    approvers: z
      .array(z.string().regex(SLACK_APPROVER_ID, { error: 'must be a Slack user ID (U…/W…) or user-group ID (S…)' }))
      .max(100, { error: 'at most 100 approvers' })
      .default([])
      .describe(
        'Slack user IDs (U…, W…) and user-group IDs (S…) allowed to press "stop now", "terminate now" and "restore" on any instance; besides them only the instance\'s owner (`tags.owner`) may. Anyone may press keep.',
      ),
    teamChannels: z
      .record(
        z.string().min(1).max(256),
        z
          .string()
          .min(1, { error: 'a channel name or ID must not be empty' })
          .max(80, { error: 'at most 80 characters' }),
      )
      .default({})
      .describe(
        "Team tag value (`tags.team`) to Slack channel: the reaper lists that team's instances in a digest of their own in that channel (invite the bot), and the main digest keeps one line for the team; when the team's channel refuses the message, its instances are listed in the main digest.",
      ),
    accountChannels: z
      .record(
        z.string().regex(ACCOUNT_ID, { error: 'must be a 12-digit AWS account ID' }),
        z
          .string()
          .min(1, { error: 'a channel name or ID must not be empty' })
          .max(80, { error: 'at most 80 characters' }),
      )
      .default({})
      .describe(
        "AWS account ID to Slack channel (with `accounts.mode: organization`): that account's warnings and digests go to its own channel (invite the bot); the run's organization digest still goes to `channel`.",
      ),
  })
  .prefault({})
  .superRefine((slack, ctx) => {
    slack.keepHours.forEach((hours, i) => {
      if (hours > slack.maxKeepHours)
        ctx.addIssue({
          code: 'custom',
          path: ['keepHours', i],
          message: `keep length ${hours} is over maxKeepHours (${slack.maxKeepHours})`,
        });
    });
    if (slack.interactivity && !slack.teamId)
      ctx.addIssue({
        code: 'custom',
        path: ['teamId'],
        message:
          'interactivity is on but teamId is not set: give the Slack workspace ID (T…) whose button presses to accept',
      });
  })
  .describe('Where the Slack messages go, and the buttons on them.');

const tagsSchema = z
  .strictObject({
    optOut: tagKey
      .default('cost-guard:opt-out')
      .describe(
        'Tag key: value `true` (any case) on an instance means the reaper and the budget guard never touch it.',
      ),
    keepUntil: tagKey
      .default('cost-guard:keep-until')
      .describe(
        'Tag key: an ISO 8601 date or time on an instance; the reaper leaves it alone until then (a value that does not parse counts as keep).',
      ),
    essential: tagKey
      .default('cost-guard:essential')
      .describe('Tag key: value `true` (any case) on an instance means the budget guard never stops it.'),
    owner: tagKey
      .default('Owner')
      .describe(
        "Tag key naming an instance's owner: an e-mail address or a Slack user ID. The owner gets the instance's warning as a direct message and may press stop-now and restore on it.",
      ),
    team: tagKey
      .default('team')
      .describe(
        'Tag key naming the team of an instance or bucket: the FinOps metrics (GPU utilization, spot coverage, storage efficiency) are also given per team, and right-sizing advice names it.',
      ),
  })
  .prefault({})
  .describe('Tag keys that protect instances, and the team tag.');

const idleGpuSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Deploy and run the idle GPU reaper.'),
    schedule: schedule('rate(1 hour)').describe(
      'EventBridge Scheduler expression of the reaper run: `rate(N unit)` or a 6-field `cron(...)`.',
    ),
    action: z
      .enum(['terminate', 'stop', 'notify'])
      .default('stop')
      .describe('What happens to an idle GPU instance once the warning period has passed; `notify` only reports.'),
    lookbackMinutes: minutes(15, 1440).default(60).describe('Window the metrics are judged over, in minutes.'),
    gpuUtilizationPercent: percent('gpuUtilizationPercent')
      .default(5)
      .describe(
        'Idle when the highest GPU utilization (any GPU, any 5-minute period of the window) is at or under this.',
      ),
    cpuUtilizationPercent: percent('cpuUtilizationPercent')
      .default(10)
      .describe('Idle when the highest CPU utilization of the window is at or under this.'),
    /** Network in + out over the lookback, per hour, at or under which the instance counts as quiet. */
    networkMegabytesPerHour: z
      .number()
      .min(0)
      .max(1_000_000)
      .default(100)
      .describe('Idle when network in + out, in MB (10^6 bytes) per hour over the window, is at or under this.'),
    /** Share of expected datapoints that must be present; fewer means "unknown", never idle. */
    minimumDatapointsPercent: percent('minimumDatapointsPercent')
      .default(80)
      .describe('Share of the expected 5-minute datapoints each series needs; fewer means "unknown", never idle.'),
    /**
     * Act on instances whose idleness rests on CPU and network alone (no per-instance GPU series). Off: they are
     * reported and warned about, never stopped or terminated. On: they may be stopped; never terminated.
     */
    actOnCpuOnlyEvidence: z
      .boolean()
      .default(false)
      .describe(
        'Stop instances that look idle on CPU and network alone (no per-instance GPU series from the CloudWatch agent; low confidence). Off: they are only warned about. Such instances are never terminated.',
      ),
    minimumAgeMinutes: minutes(0, 525600)
      .default(120)
      .describe('Instances running for less than this (since the last launch or start) are never acted on.'),
    warnMinutesBeforeAction: minutes(0, 525600)
      .default(60)
      .describe(
        'Grace between the moment Slack accepted the warning and the action; with 0 the run after the accepted warning acts.',
      ),
    /** Include AWS Inferentia/Trainium (Neuron) instance types. */
    includeNeuron: z.boolean().default(false).describe('Also reap AWS Inferentia/Trainium (Neuron) instance types.'),
    /** Blast-radius limit: at most this many terminations/stops per scheduled period; the rest are reported. */
    maxActionsPerRun: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(25)
      .describe(
        'Blast-radius limit: at most this many terminations/stops per scheduled period (retries and overlapping runs share it; counted in the state table); the rest are deferred and reported.',
      ),
  })
  .prefault({})
  .describe('The idle GPU reaper: finds idle GPU instances, warns in Slack, then stops or terminates them.');

const sagemakerSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Deploy and run the SageMaker guard.'),
    schedule: schedule('rate(1 hour)').describe(
      'EventBridge Scheduler expression of the SageMaker guard run: `rate(N unit)` or a 6-field `cron(...)`.',
    ),
    endpointIdleHours: z
      .number({ error: 'endpointIdleHours must be a whole number of hours from 1 to 168' })
      .int({ error: 'endpointIdleHours must be a whole number of hours from 1 to 168' })
      .min(1, { error: 'endpointIdleHours must be from 1 to 168 hours' })
      .max(168, { error: 'endpointIdleHours must be from 1 to 168 hours' })
      .default(24)
      .describe(
        'A real-time endpoint on GPU or accelerator instances is idle when its `Invocations` (every variant) sum to zero over this many hours. An endpoint in its current form for less than this is never idle.',
      ),
    action: z
      .enum(['delete', 'notify'])
      .default('notify')
      .describe(
        '`delete`: after the warning period, delete idle endpoints (their endpoint config and models stay; `cost-guard restore --sagemaker` recreates them) and stop GPU notebook instances over `notebookMaxHours`. `notify`: only report.',
      ),
    warnMinutesBeforeAction: minutes(0, 525600)
      .default(60)
      .describe(
        'Grace between the moment Slack accepted the warning and the delete or stop; with 0 the run after the accepted warning acts.',
      ),
    maxActionsPerRun: z
      .number({ error: 'maxActionsPerRun must be a whole number from 1 to 1000' })
      .int({ error: 'maxActionsPerRun must be a whole number from 1 to 1000' })
      .min(1, { error: 'maxActionsPerRun must be from 1 to 1000' })
      .max(1000, { error: 'maxActionsPerRun must be from 1 to 1000' })
      .default(10)
      .describe(
        'Blast-radius limit: at most this many endpoint deletions and notebook stops per scheduled period (retries and overlapping runs share it; counted in the state table); the rest are deferred and reported.',
      ),
    studioIdleShutdownMinutes: minutes(60, 525600)
      .optional()
      .describe(
        'When set, Studio domains get JupyterLab and Code Editor idle shutdown enabled with this timeout (a stricter setting is left alone), whatever `action` says; not in dry run, nor without a Slack token. Absent: domains without idle shutdown are only reported.',
      ),
    notebookMaxHours: z
      .number({ error: 'notebookMaxHours must be a whole number of hours from 1 to 8760' })
      .int({ error: 'notebookMaxHours must be a whole number of hours from 1 to 8760' })
      .min(1, { error: 'notebookMaxHours must be from 1 to 8760 hours' })
      .max(8760, { error: 'notebookMaxHours must be from 1 to 8760 hours' })
      .optional()
      .describe(
        'When set, GPU notebook instances in service longer than this are warned about and then stopped (the ML storage volume stays). Absent: they are only reported.',
      ),
  })
  .prefault({})
  .describe(
    'The SageMaker guard: idle real-time endpoints on GPU, Studio domains without idle shutdown, long-running GPU notebook instances.',
  );

const transitionSchema = z.strictObject({
  days: wholeDays(0).describe('Days after object creation. STANDARD_IA and ONEZONE_IA need at least 30.'),
  storageClass: z
    .enum(TRANSITION_STORAGE_CLASSES, {
      error: (issue) =>
        `unknown storage class ${JSON.stringify(issue.input)}; allowed: ${TRANSITION_STORAGE_CLASSES.join(', ')}`,
    })
    .describe("Target storage class; transitions of a rule follow the order listed, with S3's minimum gaps."),
});

const ruleSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(240)
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'rule id may use letters, digits, dot, dash and underscore' })
    .describe('Rule name, unique; the rule ID written to S3 is `cost-guard-<id>`.'),
  prefix: z
    .string()
    .default('')
    .describe('Object key prefix the rule applies to (at most 1,024 bytes, no leading `/`); empty: the whole bucket.'),
  transitions: z.array(transitionSchema).default([]).describe("Storage class transitions, in S3's waterfall order."),
  expirationDays: wholeDays(1)
    .optional()
    .describe('Delete current objects this many days after creation; must come after the last transition.'),
  noncurrentVersionExpirationDays: wholeDays(1)
    .optional()
    .describe('Delete noncurrent versions this many days after they become noncurrent (versioned buckets only).'),
  abortIncompleteMultipartUploadDays: wholeDays(1)
    .optional()
    .describe('Abort multipart uploads still incomplete after this many days.'),
});

const storageSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Deploy and run the storage lifecycle function.'),
    schedule: schedule('rate(1 day)').describe(
      'EventBridge Scheduler expression of the lifecycle run: `rate(N unit)` or a 6-field `cron(...)`.',
    ),
    bucketTag: z
      .strictObject({
        key: tagKey.default('cost-guard:lifecycle').describe('Key of the tag that opts a bucket in.'),
        value: z.string().default('managed').describe('Value of that tag (exact, case-sensitive match).'),
      })
      .prefault({})
      .describe('Buckets carrying this tag are managed.'),
    /** Select buckets by bucketTag; false = only `buckets` (IAM is then scoped to their ARNs). */
    selectByTag: z
      .boolean()
      .default(true)
      .describe('Select buckets by `bucketTag`; false: manage only `buckets` (IAM then names only their ARNs).'),
    buckets: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'is not a valid S3 bucket name' }))
      .default([])
      .describe('Bucket names managed whether tagged or not; at least one when `selectByTag` is false.'),
    excludeBuckets: z
      .array(z.string().min(1).max(255))
      .default([])
      .describe(
        'Bucket names never written, even when tagged: each is reported as protected. A name may not also be in `buckets`.',
      ),
    rules: z
      .array(ruleSchema)
      .default(() => DEFAULT_LIFECYCLE_RULES.map((r) => ({ ...r, transitions: r.transitions.map((t) => ({ ...t })) })))
      .describe("Lifecycle rules applied to every managed bucket, checked against S3's own constraints at synth."),
  })
  .prefault({})
  .superRefine((storage, ctx) => {
    if (!storage.selectByTag && storage.buckets.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['buckets'],
        message: 'list at least one bucket when selectByTag is false',
      });
    }
    const managed = new Set(storage.buckets);
    storage.excludeBuckets.forEach((name, i) => {
      if (managed.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['excludeBuckets', i],
          message: `bucket '${name}' is in both storage.buckets and storage.excludeBuckets; remove it from one of them`,
        });
      }
    });
    const { errors } = checkLifecycleRules(storage.rules);
    for (const p of errors) {
      const field = p.field ? p.field.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : [];
      ctx.addIssue({
        code: 'custom',
        path: ['rules', p.ruleIndex, ...field],
        message: `rule '${storage.rules[p.ruleIndex]?.id ?? p.ruleIndex}': ${p.message}`,
      });
    }
  })
  .describe('The storage lifecycle: S3 lifecycle tiering of ML artifact buckets, merged with their own rules.');

/** An IAM role name as AttachRolePolicy takes it: 1-64 of letters, digits and `+=,.@_-` (no path). */
const iamRoleName = z
  .string()
  .regex(/^[\w+=,.@-]{1,64}$/, { error: 'an IAM role name has 1-64 letters, digits or +=,.@_- (no path, no ARN)' });

const budgetItemSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^:\\]+$/, { error: "a budget name may not contain ':' or '\\'" })
    .describe('AWS Budgets budget name (unique, no `:` or `\\`).'),
  /** When given the stack creates this monthly COST budget; when absent an existing budget of this name is watched. */
  limitUsd: z
    .number()
    .positive({ error: 'limitUsd must be greater than 0' })
    .optional()
    .describe(
      'Monthly limit in USD: the stack creates a monthly COST budget with it. Absent: an existing budget of this name is watched.',
    ),
  /** Cost allocation tags the budget is filtered by, and the tags that select instances to stop. */
  scopeTags: z
    .record(z.string().min(1), z.string())
    .default({})
    .describe(
      'Cost allocation tags the budget is filtered by, and the tags (all of them) an instance must carry to be stopped.',
    ),
  /** IAM roles whose GPU launches the launch cap denies while this budget is past actionPercent (budgets.launchCap). */
  launchCapRoles: z
    .array(iamRoleName)
    .max(20, { error: 'at most 20 roles per budget' })
    .default([])
    .describe(
      'Names of IAM roles (no path) that may not launch or start GPU instances while this budget is past `actionPercent` (with `budgets.launchCap`), until the next budget period or `cost-guard restore`.',
    ),
  accounts: z
    .array(z.string().regex(ACCOUNT_ID, { error: 'must be a 12-digit AWS account ID' }))
    .max(100, { error: 'at most 100 accounts per budget' })
    .default([])
    .describe(
      "Linked accounts this budget covers (a budget of the payer account, with `accounts.mode: organization`): at `actionPercent` the guard stops non-essential instances in these accounts through their spoke role. Empty: the hub's own account.",
    ),
});

const budgetsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Deploy and run the budget guard.'),
    schedule: schedule('rate(1 hour)').describe(
      'EventBridge Scheduler expression of the periodic run (`rate(N unit)` or a 6-field `cron(...)`); AWS Budgets notifications also trigger a run.',
    ),
    alertPercent: percent('alertPercent')
      .default(80)
      .describe('Slack alert when actual spend reaches this percentage of the limit; must be below `actionPercent`.'),
    actionPercent: percent('actionPercent')
      .default(95)
      .describe('Alert and act (see `action`) when actual spend reaches this percentage of the limit.'),
    action: z
      .enum(['stop-non-essential', 'notify'])
      .default('notify')
      .describe(
        '`stop-non-essential` stops the non-essential instances in scope at `actionPercent`; `notify` only says what it would stop.',
      ),
    /** Which running instances in scope the 95% action may stop: GPU instances only, or all instances. */
    stopScope: z
      .enum(['gpu', 'all'])
      .default('gpu')
      .describe('Which running instances in scope the action may stop: GPU instances only, or all.'),
    maxStopsPerRun: z
      .number()
      .int({ error: 'maxStopsPerRun must be a whole number from 1 to 1000' })
      .min(1, { error: 'maxStopsPerRun must be from 1 to 1000' })
      .max(1000, { error: 'maxStopsPerRun must be from 1 to 1000' })
      .default(50)
      .describe(
        'At most this many instances stopped per run (and per scheduled period, across retries); the rest are stopped by the next runs, and each alert says how many are left.',
      ),
    items: z.array(budgetItemSchema).default([]).describe('The budgets to watch.'),
    /** At actionPercent, also deny GPU launches to the budget's `launchCapRoles` until the next period. */
    launchCap: z
      .boolean()
      .default(false)
      .describe(
        "At `actionPercent`, also stop new GPU launches for the budget's scope: a managed policy denying `ec2:RunInstances` and `ec2:StartInstances` of GPU instance types is attached to the item's `launchCapRoles` until the next budget period or `cost-guard restore`. Said in the same Slack alert; applied only after Slack accepted it, never in dry run.",
      ),
  })
  .prefault({})
  .superRefine((b, ctx) => {
    if (b.alertPercent >= b.actionPercent) {
      ctx.addIssue({
        code: 'custom',
        path: ['alertPercent'],
        message: `alertPercent (${b.alertPercent}) must be below actionPercent (${b.actionPercent})`,
      });
    }
    const names = new Set<string>();
    b.items.forEach((item, i) => {
      if (names.has(item.name)) {
        ctx.addIssue({ code: 'custom', path: ['items', i, 'name'], message: `duplicate budget name '${item.name}'` });
      }
      names.add(item.name);
      const roles = new Set<string>();
      item.launchCapRoles.forEach((role, j) => {
        if (roles.has(role)) {
          ctx.addIssue({
            code: 'custom',
            path: ['items', i, 'launchCapRoles', j],
            message: `role '${role}' is listed twice`,
          });
        }
        roles.add(role);
      });
    });
    if (b.launchCap && !b.items.some((item) => item.launchCapRoles.length > 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['launchCap'],
        message:
          'launchCap is on but no budgets.items entry lists launchCapRoles: name the roles whose GPU launches to cap',
      });
    }
  })
  .describe('The budget guard: Slack alerts at `alertPercent`, alert and action at `actionPercent`.');

/** An existing Cost Anomaly Detection monitor: `arn:aws:ce::<account>:anomalymonitor/<id>`. */
const anomalyMonitorArn = z.string().regex(/^arn:aws[a-z-]*:ce::\d{12}:anomalymonitor\/[A-Za-z0-9-]+$/, {
  error: 'must be an anomaly monitor ARN such as arn:aws:ce::111122223333:anomalymonitor/<id>',
});

const anomaliesSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        'Create a Cost Anomaly Detection monitor and an immediate subscription, and post each anomaly to Slack (impact, root causes, console link).',
      ),
    minimumImpactUsd: z
      .number({ error: 'minimumImpactUsd must be a number of USD' })
      .min(0, { error: 'minimumImpactUsd must be from 0 to 1000000' })
      .max(1_000_000, { error: 'minimumImpactUsd must be from 0 to 1000000' })
      .default(100)
      .describe("Notify only anomalies whose total impact is at least this many USD (the subscription's threshold)."),
    tagKey: tagKey
      .optional()
      .describe(
        'Monitor the spend of a cost allocation tag (a CUSTOM monitor over `tagValues`) instead of every AWS service (a DIMENSIONAL monitor by SERVICE). The tag must be activated for cost allocation in Billing.',
      ),
    tagValues: z
      .array(z.string().min(1).max(256))
      .max(10, { error: 'a tag monitor takes at most 10 values' })
      .default([])
      .describe('The values of `tagKey` whose spend is monitored together (1-10; required with `tagKey`).'),
    monitorArn: anomalyMonitorArn
      .optional()
      .describe(
        'Subscribe to this existing monitor instead of creating one (an account has at most one services monitor, often created already).',
      ),
  })
  .prefault({})
  .superRefine((a, ctx) => {
    if (a.tagKey !== undefined && a.tagValues.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['tagValues'], message: 'list 1 to 10 values of tagKey to monitor' });
    }
    if (a.tagKey === undefined && a.tagValues.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['tagKey'], message: 'tagValues needs the tagKey they are values of' });
    }
    if (a.monitorArn !== undefined && a.tagKey !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitorArn'],
        message: 'set monitorArn (use an existing monitor) or tagKey (create a tag monitor), not both',
      });
    }
  })
  .describe('Spend anomalies in Slack: AWS Cost Anomaly Detection notifications, posted as they arrive.');

const pricingSchema = z
  .strictObject({
    /** Hours in a billing month (AWS convention 730; the source chapter's tables use 720). */
    hoursPerMonth: z
      .number()
      .min(672)
      .max(744)
      .default(730)
      .describe(
        "Hours in a billing month (AWS convention 730; the 'Infrastructure Cost Optimization' chapter's tables use 720).",
      ),
    /** Spot discount off on-demand, as a fraction. */
    spotDiscount: z.number().min(0).max(0.95).default(0.7).describe('Spot discount off on-demand, as a fraction.'),
    /** On-demand $/h overrides by instance type, on top of the embedded catalog. */
    instanceHourlyUsd: z
      .record(z.string().regex(/^[a-z0-9-]+\.[a-z0-9-]+$/), z.number().positive())
      .default({})
      .describe('On-demand $/h by instance type (e.g. negotiated rates), on top of the embedded catalog.'),
    /** $/GB-month overrides by S3 storage class. */
    storageGbMonthUsd: z
      .partialRecord(z.enum(['STANDARD', ...TRANSITION_STORAGE_CLASSES]), z.number().nonnegative())
      .default({})
      .describe('$/GB-month by S3 storage class, on top of the embedded us-east-1 prices.'),
    /** Internet egress $/GB. */
    egressPerGbUsd: z.number().nonnegative().default(0.09).describe('Internet egress $/GB.'),
    /** Look up on-demand prices in the AWS Price List API, falling back to the embedded catalog. */
    live: z
      .boolean()
      .default(false)
      .describe(
        'Look up on-demand prices in the AWS Price List API, falling back to the embedded catalog (whose date is reported).',
      ),
  })
  .prefault({})
  .describe('Prices the savings model uses.');

const rightsizingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Deploy and run the weekly GPU right-sizing advice (it never acts).'),
    schedule: schedule('cron(0 8 ? * MON *)').describe(
      'EventBridge Scheduler expression of the advice run: `rate(N unit)` or a 6-field `cron(...)` (default Mondays 08:00 UTC).',
    ),
    lookbackDays: z
      .number({ error: 'lookbackDays must be a whole number of days from 1 to 30' })
      .int({ error: 'lookbackDays must be a whole number of days from 1 to 30' })
      .min(1, { error: 'lookbackDays must be from 1 to 30' })
      .max(30, { error: 'lookbackDays must be from 1 to 30' })
      .default(14)
      .describe('Days of hourly metrics the peaks are taken over.'),
    headroomPercent: z
      .number({ error: 'headroomPercent must be a number from 0 to 200' })
      .min(0, { error: 'headroomPercent must be from 0 to 200' })
      .max(200, { error: 'headroomPercent must be from 0 to 200' })
      .default(30)
      .describe('Headroom over the observed peaks (GPU memory, CPU) a recommended type must offer, percent.'),
    topN: z
      .number({ error: 'topN must be a whole number from 1 to 40' })
      .int({ error: 'topN must be a whole number from 1 to 40' })
      .min(1, { error: 'topN must be from 1 to 40' })
      .max(40, { error: 'topN must be from 1 to 40' })
      .default(10)
      .describe('Recommendations shown in the weekly Slack message, most dollars first.'),
  })
  .prefault({})
  .describe(
    'GPU right-sizing advice: busy but under-used GPU instances and the cheapest compatible type that covers their peaks. Advice only.',
  );

const stateSchema = z
  .strictObject({
    /** DynamoDB table for de-duplication and the savings ledger; the stack fills it in for the Lambdas. */
    tableName: z
      .string()
      .min(3)
      .max(255)
      .optional()
      .describe(
        "DynamoDB table the CLI shares with the deployed functions (alert records, warnings, limits, leases, the savings ledger). Absent: `ml-cost-guard-state`. When the table does not exist in the region the CLI exits 1 naming it (`--state-table` overrides this key). The Lambdas always use the stack's table.",
      ),
  })
  .prefault({})
  .describe('Shared state of the deployed guard and the CLI.');

const accountsSchema = z
  .strictObject({
    mode: z
      .enum(['single', 'organization'])
      .default('single')
      .describe(
        '`single`: the guard works in the account it is deployed to (as before). `organization`: this stack is the hub: it deploys the spoke role to the accounts of `organizationalUnitIds` through a StackSet and runs every capability in each account and region, fanned out on Step Functions.',
      ),
    organizationId: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, { error: 'must be an organization ID such as o-a1b2c3d4e5' })
      .optional()
      .describe(
        'The AWS Organization ID (o-…). Required with `mode: organization`: the spoke role trusts the hub only from inside this organization (`aws:PrincipalOrgID`).',
      ),
    hubAccountId: z
      .string()
      .regex(ACCOUNT_ID, { error: 'must be a 12-digit AWS account ID' })
      .optional()
      .describe(
        'The hub account (where `MlCostGuard` runs in organization mode). Required to deploy `MlCostGuardSpoke` on its own into an account outside the OUs; the hub stack knows its own account.',
      ),
    organizationalUnitIds: z
      .array(z.string().regex(OU_ID, { error: 'must be an OU ID (ou-…) or the root ID (r-…)' }))
      .max(100, { error: 'at most 100 organizational units' })
      .default([])
      .describe(
        'OUs (ou-…) or the root (r-…) whose active accounts, in nested OUs too, get the spoke role and are guarded. Required with `mode: organization` unless `accountIds` lists the accounts.',
      ),
    accountIds: z
      .array(z.string().regex(ACCOUNT_ID, { error: 'must be a 12-digit AWS account ID' }))
      .max(1000, { error: 'at most 1000 accounts' })
      .default([])
      .describe(
        'Further accounts to guard, outside those OUs (deploy the spoke there yourself: `cdk deploy MlCostGuardSpoke`). Each must be an active member of the organization.',
      ),
    exclude: z
      .array(z.string().regex(ACCOUNT_ID, { error: 'must be a 12-digit AWS account ID' }))
      .max(1000, { error: 'at most 1000 accounts' })
      .default([])
      .describe('Accounts never guarded, nor given the spoke role, even when in one of the OUs.'),
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, { error: 'an IAM role name has 1-64 letters, digits or +=,.@_- (no path, no ARN)' })
      .default('ml-cost-guard-spoke')
      .describe(
        'Name of the role each spoke account holds for the hub (the StackSet and `MlCostGuardSpoke` create it).',
      ),
    hubAccountRole: z
      .enum(['management', 'delegated-admin'])
      .default('delegated-admin')
      .describe(
        'Where the hub is deployed: the management account, or a member account registered as delegated administrator for CloudFormation StackSets (and Organizations reads). Sets how the StackSet is created (`CallAs`).',
      ),
    concurrency: z
      .number()
      .int({ error: 'must be a whole number' })
      .min(1, { error: 'must be from 1 to 100' })
      .max(100, { error: 'must be from 1 to 100' })
      .default(20)
      .describe("How many (account, region) units run at once in the fan-out (the Map state's MaxConcurrency)."),
    maxActionsPerOrganization: z
      .number()
      .int({ error: 'must be a whole number' })
      .min(0, { error: 'must be 0 or more' })
      .default(100)
      .describe(
        "Organization-wide ceiling of stops, terminations and deletions per scheduled period of a capability, over all accounts; each account also keeps the capability's own per-run limit.",
      ),
  })
  .prefault({})
  .superRefine((accounts, ctx) => {
    if (
      accounts.mode === 'organization' &&
      accounts.organizationalUnitIds.length === 0 &&
      accounts.accountIds.length === 0
    )
      ctx.addIssue({
        code: 'custom',
        path: ['organizationalUnitIds'],
        message: 'mode is organization but neither organizationalUnitIds nor accountIds names an account to guard',
      });
    if (accounts.mode === 'organization' && !accounts.organizationId)
      ctx.addIssue({
        code: 'custom',
        path: ['organizationId'],
        message:
          'mode is organization but organizationId is not set: give the organization ID (o-…, from `aws organizations describe-organization`)',
      });
  })
  .describe('One account, or a hub guarding the accounts of an AWS Organization.');

const observabilitySchema = z
  .strictObject({
    logRetentionDays: z
      .union(
        [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map(
          (d) => z.literal(d),
        ) as unknown as [z.ZodLiteral<number>, z.ZodLiteral<number>],
      )
      .default(30)
      .describe("CloudWatch Logs retention of each function's log group, in days (a value CloudWatch accepts)."),
    tracing: z.boolean().default(false).describe('X-Ray tracing on the functions.'),
    /** E-mail address subscribed to the alarm topic (optional). */
    alarmEmail: z.email().optional().describe('E-mail address subscribed to the alarm topic.'),
    /** Post alarms to the Slack channel as well. */
    alarmsToSlack: z.boolean().default(true).describe('Post alarms to the Slack channel as well.'),
  })
  .prefault({})
  .describe('Logs, tracing and where alarms go.');

export const costGuardConfigSchema = z
  .strictObject({
    /** Report what would happen, change nothing. On by default: turn it off once the plan looks right. */
    dryRun: z
      .boolean()
      .default(true)
      .describe(
        'Report what would happen and change nothing (no terminations, stops, tags or lifecycle writes); Slack messages say what would happen. Turn it off once the plan looks right.',
      ),
    /** Regions scanned; empty = the stack's (or the CLI's) region. */
    regions: z
      .array(region)
      .default([])
      .describe(
        "Regions the reaper, the budget guard and the SageMaker guard scan; empty: the stack's (or the CLI's) region.",
      ),
    accounts: accountsSchema,
    slack: slackSchema,
    tags: tagsSchema,
    idleGpu: idleGpuSchema,
    storage: storageSchema,
    budgets: budgetsSchema,
    sagemaker: sagemakerSchema,
    anomalies: anomaliesSchema,
    pricing: pricingSchema,
    rightsizing: rightsizingSchema,
    state: stateSchema,
    observability: observabilitySchema,
  })
  .prefault({})
  .superRefine((config, ctx) => {
    // Linked accounts are reached through their spoke role, which only an organization hub deploys and may assume.
    if (config.accounts.mode === 'organization') return;
    config.budgets.items.forEach((item, i) => {
      if (item.accounts.length > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['budgets', 'items', i, 'accounts'],
          message:
            "linked accounts need accounts.mode 'organization': the budget guard reaches them through their spoke role, which only an organization hub deploys and may assume",
        });
    });
  });

export type CostGuardConfig = z.output<typeof costGuardConfigSchema>;
export type CostGuardConfigInput = z.input<typeof costGuardConfigSchema>;
export type IdleGpuConfig = CostGuardConfig['idleGpu'];
export type StorageConfig = CostGuardConfig['storage'];
export type BudgetsConfig = CostGuardConfig['budgets'];
export type BudgetItemConfig = BudgetsConfig['items'][number];
export type AnomaliesConfig = CostGuardConfig['anomalies'];
export type PricingConfig = CostGuardConfig['pricing'];
export type TagsConfig = CostGuardConfig['tags'];
export type SlackConfig = CostGuardConfig['slack'];
export type RightsizingConfig = CostGuardConfig['rightsizing'];
export type SageMakerConfig = CostGuardConfig['sagemaker'];
export type AccountsConfig = CostGuardConfig['accounts'];

/** A config value that fails the schema; `issues` lists each field at fault. */
export class ConfigError extends CostGuardError {
  constructor(
    message: string,
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

function formatPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : `${acc}.${String(seg)}`),
    root,
  );
}

function formatInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A zod schema as its definition: the wrappers and containers walked to find an object's keys. */
interface SchemaDef {
  readonly type: string;
  readonly innerType?: Walkable;
  readonly in?: Walkable;
  readonly shape?: Readonly<Record<string, Walkable>>;
  readonly element?: Walkable;
  readonly valueType?: Walkable;
}
type Walkable = { readonly _zod: { readonly def: SchemaDef } };

/** The keys the schema accepts in the object at `path` (undefined when that is not an object). */
export function configKeysAt(path: readonly PropertyKey[]): string[] | undefined {
  const unwrap = (s: Walkable | undefined): Walkable | undefined => {
    let current = s;
    for (;;) {
      const def = current?._zod.def;
      if (def?.innerType) current = def.innerType;
      else if (def?.type === 'pipe' && def.in) current = def.in;
      else return current;
    }
  };
  let schema = unwrap(costGuardConfigSchema as unknown as Walkable);
  for (const seg of path) {
    const def = schema?._zod.def;
    if (def?.type === 'object') schema = unwrap(def.shape?.[String(seg)]);
    else if (def?.type === 'array') schema = unwrap(def.element);
    else if (def?.type === 'record') schema = unwrap(def.valueType);
    else return undefined;
  }
  const shape = schema?._zod.def.type === 'object' ? schema._zod.def.shape : undefined;
  return shape ? Object.keys(shape) : undefined;
}

/** "must be one of a, b, c" for a value that matches none of a set of literals (z.enum, a union of literals). */
function oneOf(values: readonly unknown[]): string {
  return `must be one of ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
}

/** The literal values of a union whose every option is one literal (e.g. logRetentionDays), else undefined. */
function unionLiterals(issue: z.core.$ZodIssue): unknown[] | undefined {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return undefined;
  const values: unknown[] = [];
  for (const branch of issue.errors) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (only?.code !== 'invalid_value' || only.path.length > 0) return undefined;
    values.push(...only.values);
  }
  return values;
}

/** One line per problem: the field, what is wrong and what is allowed; an unknown key names the closest known one. */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  const where = formatPath('costGuard', issue.path);
  if (issue.code === 'unrecognized_keys') {
    const valid = configKeysAt(issue.path) ?? [];
    return issue.keys.map((key) => {
      const near = closestName(key, valid);
      const hint = near ? `did you mean ${near}?` : `known keys here: ${valid.join(', ')}`;
      return `${formatPath(where, [key])}: unknown key; ${hint}`;
    });
  }
  const got = issue.code === 'custom' ? '' : ` (got ${formatInput(issue.input)})`;
  // A record key that fails its own schema: say what the key must be, not just "invalid key".
  if (issue.code === 'invalid_key' && issue.issues[0]) return [`${where}: key ${issue.issues[0].message}${got}`];
  const literals = unionLiterals(issue);
  if (literals) return [`${where}: ${oneOf(literals)}${got}`];
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')) {
    return [`${where}: ${oneOf(issue.values)}${got}`];
  }
  return [`${where}: ${issue.message}${got}`];
}

/**
 * Parses and validates a `costGuard` object. Throws ConfigError naming every offending field, its value and
 * what is allowed. `source` names where the object came from (e.g. `cdk.json context costGuard`).
 */
export function parseConfig(raw: unknown, source = 'costGuard'): CostGuardConfig {
  const result = costGuardConfigSchema.safeParse(raw ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues.flatMap(describeIssue);
  throw new ConfigError(`Invalid ml-cost-guard configuration in ${source}:\n  - ${issues.join('\n  - ')}`, issues);
}

/**
 * Lifecycle warnings (early-deletion charges) of a valid config, for synth and the CLI to print; each names the
 * extra cost per GB from the savings model's storage prices.
 */
export function configWarnings(config: CostGuardConfig): string[] {
  const pricing = createPricing(config.pricing);
  const daysPerMonth = pricing.hoursPerMonth / 24;
  return checkLifecycleRules(config.storage.rules).warnings.map((w) => {
    const extra = w.earlyDeletion
      ? `, about $${((pricing.storageGbMonth(w.earlyDeletion.storageClass) * w.earlyDeletion.extraDays) / daysPerMonth).toFixed(4)} per GB`
      : '';
    return `costGuard.storage.rules[${w.ruleIndex}]: ${describeRuleProblem(config.storage.rules, w)}${extra}`;
  });
}
