/**
 * Proof suite, safety of the idle GPU reaper: fast-check properties over random fleets (1-12 instances, and 100-200
 * for the end-to-end property) with random tags (opt-out in any case, keep-until past/future/garbage, Auto Scaling /
 * EKS / Karpenter / fleet membership, forged or back-dated idle-since tags), ages, instance types (GPU, Neuron,
 * non-GPU, unknown), lifecycles (on-demand, one-time and persistent Spot), termination protection, GPU evidence
 * (per-instance agent series, agent series without `InstanceId`, no agent), metric gaps, warning records in the state
 * table (pending, delivered long ago or lately, for another action, from before the last start), keep records in the
 * state table (set from Slack or the CLI: lasting, ending between the runs, ended before them, an end that does not
 * parse), configs (terminate / stop / notify, warn period, limit, dry-run, CPU-only evidence, Slack token or not,
 * state table or not, a team channel or not) and injected faults (throttling, 5xx, timeouts, partial failures of
 * Stop / Terminate / CreateTags / DescribeInstanceAttribute per instance, Slack refusing the digest or the team's).
 *
 * The oracle (`forbiddenReason`) states the rules from ground truth, independently of the reaper's code: an instance
 * may be stopped or terminated only if no guard rail applies, its idleness is proven by per-instance GPU series (or,
 * when the team chose it, CPU and network alone, and then only by stopping), and a Slack message that was accepted
 * (the fake Slack's record of what a person could read, not the reaper's own records) warned of this very action a
 * grace period ago, after the instance's last start and after the end of any keep on record, and no keep on record
 * lasts at the run's time. Tags other than the protection tags are noise to it. The
 * end-to-end property runs the whole capability three times over a stateful fake EC2 (the shared FakeEc2 of
 * test/helpers) + CloudWatch + state table (the second run is a retry of the first scheduled event) and checks every
 * Stop/Terminate call the mock recorded, and the number acted on in each scheduled period.
 *
 * The examples after the properties each prove one rule of issue 9 with a case the reaper got wrong before.
 */

import assert from 'node:assert/strict';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  EC2Client,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Notifier } from '../../lambda/adapters/slack';
import { parseConfig } from '../../lambda/core/config';
import type { InstanceFacts, InstanceTypeFacts } from '../../lambda/core/instances';
import { ENV } from '../../lambda/core/names';
import { checkBeforeAct, decideInstance } from '../../lambda/core/reaper/decide';
import type { InstanceMetrics, WarningState } from '../../lambda/core/reaper/types';
import { periodOf } from '../../lambda/core/schedule';
import type { SlackMessage } from '../../lambda/core/slack-blocks';
import { lambdaHandler } from '../../lambda/runtime/lambda-runtime';
import { type ReaperSummary, reaperCapability } from '../../lambda/services/reaper';
import { SlackDeliveryError } from '../../lambda/shared/errors';
import { randomCase } from '../helpers/arbitraries';
import { clockAt } from '../helpers/clock';
import { TEST_NOW, testContext } from '../helpers/context';
import {
  awsError,
  type Ec2Fault,
  type Ec2Operation,
  FakeEc2,
  type FakeInstance as FakeEc2Instance,
  type FakeType,
} from '../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { RoutedFakes } from '../helpers/routed-fakes';
import { type SlackTestServer, startSlackServer } from '../helpers/slack-server';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);

const NOW_MS = TEST_NOW.getTime();
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const REGION = 'us-east-1';
const TABLE = 'state';
const IDLE_SINCE = 'cost-guard:idle-since';
const OPT_OUT = 'cost-guard:opt-out';
const KEEP_UNTIL = 'cost-guard:keep-until';
const SCHEDULE = 'rate(1 hour)';
const RUNS = 1000;
const FLEET_RUNS = 200;

// ---------------------------------------------------------------------------------------------------------------
// The world: instance types, instance specs, warning records, faults
// ---------------------------------------------------------------------------------------------------------------

type TypeKind = 'gpu' | 'neuron' | 'none' | 'unknown';
const TYPES: Readonly<Record<string, { kind: TypeKind; gpus: number }>> = {
  'g5.xlarge': { kind: 'gpu', gpus: 1 },
  'g5.12xlarge': { kind: 'gpu', gpus: 4 },
  'p3.2xlarge': { kind: 'gpu', gpus: 1 },
  'p4d.24xlarge': { kind: 'gpu', gpus: 8 },
  'inf2.xlarge': { kind: 'neuron', gpus: 0 },
  'm5.large': { kind: 'none', gpus: 0 },
  'zz9.large': { kind: 'unknown', gpus: 0 },
};
/** What the fake EC2's DescribeInstanceTypes says of TYPES (an unknown type is absent: InvalidInstanceType). */
const EC2_TYPES: Readonly<Record<string, FakeType>> = Object.fromEntries(
  Object.entries(TYPES).flatMap(([name, t]) =>
    t.kind === 'unknown' ? [] : [[name, { kind: t.kind, count: Math.max(t.gpus, 1), instanceStorage: false }]],
  ),
);

/** How a keep-until tag relates to the runs' clocks (all runs fall within 10 hours of TEST_NOW). */
type KeepKind = 'past' | 'past-date' | 'future' | 'today-date' | 'future-date' | 'garbage';
const KEEP_VALUES: Readonly<Record<KeepKind, readonly string[]>> = {
  past: [new Date(NOW_MS - 5 * DAY).toISOString(), '2026-11-01T00:00:00Z'],
  'past-date': ['2026-11-10', '2025-01-01'],
  future: [new Date(NOW_MS + 5 * DAY).toISOString(), '2027-01-01T00:00:00+02:00'],
  // A date alone keeps the instance to the end of that day (UTC): TEST_NOW is noon that day.
  'today-date': ['2026-11-15'],
  'future-date': ['2026-12-01'],
  garbage: ['forever', 'next week', '2026-13-45', 'n/a'],
};
const KEPT: ReadonlySet<KeepKind> = new Set(['future', 'today-date', 'future-date', 'garbage']);

/**
 * A keep record in the state table (lambda/adapters/keep-store.ts), as a Slack button or `cost-guard keep` sets it,
 * relative to the runs (at TEST_NOW, a minute later, and 30 to 600 minutes later): lasting past every run, ending
 * between the second and the third run, ended before the first, or an end that does not parse (it protects).
 */
type KeepRecordKind = 'lasting' | 'ends-between' | 'ended' | 'garbage';
const KEEP_RECORD_END: Readonly<Record<KeepRecordKind, string>> = {
  lasting: new Date(NOW_MS + 2 * DAY).toISOString(),
  'ends-between': new Date(NOW_MS + 20 * 60_000).toISOString(),
  ended: new Date(NOW_MS - 45 * 60_000).toISOString(),
  garbage: 'soon',
};

const MEMBERSHIP: readonly (readonly [string, string])[] = [
  ['aws:autoscaling:groupName', 'trainers'],
  ['eks:cluster-name', 'ml'],
  ['eks:eks-cluster-name', 'ml'],
  ['eks:nodegroup-name', 'gpu-ng'],
  ['karpenter.sh/nodepool', 'gpu'],
  ['karpenter.sh/provisioner-name', 'default'],
  ['karpenter.k8s.aws/ec2nodeclass', 'default'],
  ['kubernetes.io/cluster/ml', 'owned'],
  ['aws:ec2spot:fleet-request-id', 'sfr-1'],
  ['aws:ec2:fleet-id', 'fleet-1'],
];
const MEMBER_KEYS = MEMBERSHIP.map(([k]) => k.toLowerCase());

/** A fault answered by the fake: `times` failures left (Infinity = every call). */
interface Fault {
  readonly code: string;
  times: number;
}

/** The HTTP status EC2 and CloudWatch answer a fault's code with. */
const statusOf = (code: string) => (code === 'InternalError' ? 500 : code === 'RequestTimeout' ? 408 : 400);

interface SeriesSpec {
  readonly points: number;
  readonly busy: boolean;
}

/** How the CloudWatch agent publishes GPU series: tied to the instance, without `InstanceId`, or not at all. */
type Agent = 'per-instance' | 'no-instance-id' | 'none';

/** A warning record already in the state table when the sample starts. */
interface RecordSpec {
  readonly status: 'pending' | 'delivered';
  /** Minutes before TEST_NOW Slack accepted it (or it was written, when pending). */
  readonly warnedAgo: number;
  /** The action it announced; null: a report-only warning (no action announced). */
  readonly action: 'stop' | 'terminate' | null;
  /** Written before the instance's last start (it was stopped and started since). */
  readonly beforeLaunch: boolean;
  /** It announced the configured action, whatever `action` says (most warnings on record do). */
  readonly sameAsConfigured: boolean;
}

/** The record as seeded for a config: `sameAsConfigured` makes it announce the configured action. */
const seededRecord = (r: RecordSpec, c: Pick<ConfigSpec, 'action'>): RecordSpec =>
  r.sameAsConfigured && c.action !== 'notify' ? { ...r, action: c.action } : r;

interface InstanceSpec {
  readonly type: string;
  /** Minutes between launch and TEST_NOW; null = EC2 gives no launch time. */
  readonly launchAgo: number | null;
  readonly lifecycle: 'on-demand' | 'one-time' | 'persistent';
  readonly protected: boolean;
  readonly optOut: { readonly key: string; readonly value: string } | null;
  readonly keepUntil: { readonly key: string; readonly kind: KeepKind; readonly pick: number } | null;
  /** A keep record in the state table. */
  readonly keepRecord: KeepRecordKind | null;
  readonly member: number | null;
  /** An idle-since tag anyone could have written: minutes before TEST_NOW (negative: future), or garbage. */
  readonly idleSinceTag:
    | { readonly kind: 'ago'; readonly minutes: number }
    | { readonly kind: 'garbage'; readonly value: string }
    | null;
  readonly record: RecordSpec | null;
  readonly agent: Agent;
  /** The agent also publishes nvidia_smi_memory_used. */
  readonly memory: boolean;
  readonly gpu: readonly SeriesSpec[];
  readonly cpu: SeriesSpec;
  readonly net: SeriesSpec;
  readonly actFault: { readonly code: string; readonly times: number } | null;
  readonly tagFault: { readonly code: string; readonly times: number } | null;
  readonly attrFault: { readonly code: string; readonly times: number } | null;
}

interface ConfigSpec {
  readonly action: 'terminate' | 'stop' | 'notify';
  readonly dryRun: boolean;
  readonly warnMinutesBeforeAction: number;
  readonly minimumAgeMinutes: number;
  readonly maxActionsPerRun: number;
  readonly actOnCpuOnlyEvidence: boolean;
  readonly includeNeuron: boolean;
  readonly minimumDatapointsPercent: number;
  /** 'console': no Slack token, messages only printed. */
  readonly notifier: 'slack' | 'console';
  readonly table: boolean;
  /** The team `ml` (every instance's team tag) has its own channel (slack.teamChannels); absent: not drawn. */
  readonly teamChannel?: boolean;
}

const GPU_IDLE = 3;
const GPU_BUSY = 60;
const GPU_MEM_USED_MB = 1536;
const CPU_IDLE = 4;
const CPU_BUSY = 50;
/** Bytes per 5 minutes each way: 48 MB/h in + out, under the 100 MB/h threshold. */
const NET_QUIET = 2_000_000;
const NET_BUSY = 1_000_000_000;
const EXPECTED_POINTS = 12; // lookbackMinutes 60 at 5-minute periods
const GPU_METRIC = 'nvidia_smi_utilization_gpu';
const GPU_MEMORY_METRIC = 'nvidia_smi_memory_used';
/** The queries whose failure leaves an instance's idleness unknown (memory is reported, not judged). */
const JUDGED_METRICS = [GPU_METRIC, 'CPUUtilization', 'NetworkIn', 'NetworkOut'];

const requiredPoints = (percent: number) => Math.max(1, Math.ceil((EXPECTED_POINTS * percent) / 100 - 1e-9));

const TRANSIENT_CODES = ['ThrottlingException', 'InternalError', 'RequestTimeout'] as const;
const faultArb = (codes: readonly string[], weightNone: number) =>
  fc.oneof(
    { arbitrary: fc.constant(null), weight: weightNone },
    {
      arbitrary: fc.record({
        code: fc.constantFrom(...codes),
        times: fc.constantFrom(1, Number.POSITIVE_INFINITY),
      }),
      weight: 1,
    },
  );

/** `arb` with weight `present`, else null with weight `absent`. */
const sometimes = <T>(arb: fc.Arbitrary<T>, present: number, absent: number): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: arb, weight: present }, { arbitrary: fc.constant(null), weight: absent });

const seriesArb = fc.record({
  points: fc.oneof(
    { arbitrary: fc.constant(EXPECTED_POINTS), weight: 14 },
    { arbitrary: fc.integer({ min: 0, max: EXPECTED_POINTS - 1 }), weight: 1 },
  ),
  busy: fc.oneof({ arbitrary: fc.constant(false), weight: 14 }, { arbitrary: fc.constant(true), weight: 1 }),
});

const recordArb: fc.Arbitrary<RecordSpec> = fc.record({
  status: fc.oneof(
    { arbitrary: fc.constant('delivered' as const), weight: 4 },
    { arbitrary: fc.constant('pending' as const), weight: 1 },
  ),
  warnedAgo: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 600 }), weight: 3 },
    { arbitrary: fc.constantFrom(29, 30, 31, 59, 60, 61, 239, 240, 241), weight: 1 },
  ),
  action: fc.oneof(
    { arbitrary: fc.constantFrom('stop' as const, 'terminate' as const), weight: 4 },
    { arbitrary: fc.constant(null), weight: 1 },
  ),
  beforeLaunch: fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
  sameAsConfigured: fc.boolean(),
});

const instanceSpecArb: fc.Arbitrary<InstanceSpec> = fc.record({
  type: fc.oneof(
    { arbitrary: fc.constantFrom('g5.xlarge', 'g5.12xlarge', 'p3.2xlarge', 'p4d.24xlarge'), weight: 8 },
    { arbitrary: fc.constantFrom('inf2.xlarge', 'm5.large', 'zz9.large'), weight: 2 },
  ),
  launchAgo: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 3000 }), weight: 12 },
    { arbitrary: fc.constantFrom(59, 60, 61, 119, 120, 121), weight: 2 },
    { arbitrary: fc.constant(null), weight: 1 },
  ),
  lifecycle: fc.oneof(
    { arbitrary: fc.constant('on-demand' as const), weight: 4 },
    { arbitrary: fc.constantFrom('one-time' as const, 'persistent' as const), weight: 2 },
  ),
  protected: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  optOut: sometimes(
    fc.record({ key: randomCase(OPT_OUT), value: fc.constantFrom('true', 'TRUE', ' True ', 'false', 'yes', '') }),
    1,
    4,
  ),
  keepUntil: sometimes(
    fc.record({
      key: randomCase(KEEP_UNTIL),
      kind: fc.constantFrom<KeepKind>('past', 'past-date', 'future', 'today-date', 'future-date', 'garbage'),
      pick: fc.nat(3),
    }),
    1,
    4,
  ),
  keepRecord: sometimes(fc.constantFrom<KeepRecordKind>('lasting', 'ends-between', 'ended', 'garbage'), 1, 4),
  member: sometimes(fc.nat(MEMBERSHIP.length - 1), 1, 6),
  idleSinceTag: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    {
      arbitrary: fc.record({ kind: fc.constant('ago' as const), minutes: fc.integer({ min: -180, max: 6000 }) }),
      weight: 5,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('garbage' as const),
        value: fc.constantFrom('yesterday', 'soon', 'n/a', ''),
      }),
      weight: 1,
    },
  ),
  record: sometimes(recordArb, 3, 2),
  agent: fc.oneof(
    { arbitrary: fc.constant('per-instance' as const), weight: 6 },
    { arbitrary: fc.constant('no-instance-id' as const), weight: 1 },
    { arbitrary: fc.constant('none' as const), weight: 2 },
  ),
  memory: fc.boolean(),
  gpu: fc.array(seriesArb, { minLength: 8, maxLength: 8 }),
  cpu: seriesArb,
  net: seriesArb,
  actFault: faultArb([...TRANSIENT_CODES, 'IncorrectInstanceState', 'InvalidInstanceID.NotFound'], 6),
  tagFault: faultArb(TRANSIENT_CODES, 8),
  attrFault: faultArb(TRANSIENT_CODES, 8),
});

const configSpecArb: fc.Arbitrary<ConfigSpec> = fc.record({
  action: fc.oneof(
    { arbitrary: fc.constantFrom('terminate' as const, 'stop' as const), weight: 6 },
    { arbitrary: fc.constant('notify' as const), weight: 1 },
  ),
  dryRun: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
  warnMinutesBeforeAction: fc.constantFrom(0, 30, 60, 240),
  minimumAgeMinutes: fc.constantFrom(0, 60, 120),
  maxActionsPerRun: fc.integer({ min: 1, max: 6 }),
  actOnCpuOnlyEvidence: fc.boolean(),
  includeNeuron: fc.boolean(),
  minimumDatapointsPercent: fc.constantFrom(50, 80, 100),
  notifier: fc.oneof(
    { arbitrary: fc.constant('slack' as const), weight: 8 },
    { arbitrary: fc.constant('console' as const), weight: 1 },
  ),
  table: fc.oneof({ arbitrary: fc.constant(true), weight: 8 }, { arbitrary: fc.constant(false), weight: 1 }),
  teamChannel: fc.boolean(),
});

const TEAM_CHANNEL = 'C0TEAMML1';
const toConfig = (c: ConfigSpec) => ({
  ...(c.teamChannel ? { slack: { teamChannels: { ml: TEAM_CHANNEL } } } : {}),
  idleGpu: {
    action: c.action,
    schedule: SCHEDULE,
    lookbackMinutes: 60,
    warnMinutesBeforeAction: c.warnMinutesBeforeAction,
    minimumAgeMinutes: c.minimumAgeMinutes,
    maxActionsPerRun: c.maxActionsPerRun,
    actOnCpuOnlyEvidence: c.actOnCpuOnlyEvidence,
    includeNeuron: c.includeNeuron,
    minimumDatapointsPercent: c.minimumDatapointsPercent,
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Materialized instances (the fake's state), their warning records, and the oracle
// ---------------------------------------------------------------------------------------------------------------

/**
 * An instance of the sample: the shared fake EC2's instance (id, type, state, tags, launch time, lifecycle, Spot
 * request, termination protection) with what CloudWatch and the state table hold for it, and the faults its EC2
 * calls meet (made into the fake EC2's per-instance faults by `newWorld`).
 */
interface FakeInstance extends FakeEc2Instance {
  readonly keepKind?: KeepKind;
  readonly keepRecord?: KeepRecordKind;
  readonly agent: Agent;
  readonly memory: boolean;
  readonly gpu: readonly SeriesSpec[];
  readonly cpu: SeriesSpec;
  readonly net: SeriesSpec;
  readonly record: RecordSpec | null;
  readonly actFault?: Fault;
  readonly tagFault?: Fault;
  readonly attrFault?: Fault;
}

const BASE_SPEC: InstanceSpec = {
  type: 'g5.xlarge',
  launchAgo: 3000,
  lifecycle: 'on-demand',
  protected: false,
  optOut: null,
  keepUntil: null,
  keepRecord: null,
  member: null,
  idleSinceTag: null,
  record: null,
  agent: 'per-instance',
  memory: true,
  gpu: Array.from({ length: 8 }, () => ({ points: EXPECTED_POINTS, busy: false })),
  cpu: { points: EXPECTED_POINTS, busy: false },
  net: { points: EXPECTED_POINTS, busy: false },
  actFault: null,
  tagFault: null,
  attrFault: null,
};

/** When EC2 says the instance was last started (undefined: EC2 gave no launch time). */
const launchMsOf = (i: FakeInstance) => i.launchTime?.getTime();

function materialize(spec: InstanceSpec, index: number): FakeInstance {
  const id = `i-${(0x1000 + index).toString(16).padStart(17, '0')}`;
  const tags: Record<string, string> = { Name: `box-${index}`, team: 'ml' };
  if (spec.optOut) tags[spec.optOut.key] = spec.optOut.value;
  if (spec.keepUntil) {
    const values = KEEP_VALUES[spec.keepUntil.kind];
    tags[spec.keepUntil.key] = values[spec.keepUntil.pick % values.length]!;
  }
  if (spec.member !== null) {
    const [k, v] = MEMBERSHIP[spec.member]!;
    tags[k] = v;
  }
  if (spec.idleSinceTag?.kind === 'ago')
    tags[IDLE_SINCE] = new Date(NOW_MS - spec.idleSinceTag.minutes * MINUTE).toISOString();
  else if (spec.idleSinceTag?.kind === 'garbage') tags[IDLE_SINCE] = spec.idleSinceTag.value;
  const spot = spec.lifecycle !== 'on-demand';
  return {
    id,
    type: spec.type,
    state: 'running',
    tags,
    ...(spec.launchAgo === null ? {} : { launchTime: new Date(NOW_MS - spec.launchAgo * MINUTE) }),
    ...(spot
      ? { lifecycle: 'spot', spotRequestId: `sir-${index}`, spotType: spec.lifecycle as 'one-time' | 'persistent' }
      : {}),
    terminationProtected: spec.protected,
    ...(spec.keepUntil ? { keepKind: spec.keepUntil.kind } : {}),
    ...(spec.keepRecord ? { keepRecord: spec.keepRecord } : {}),
    agent: spec.agent,
    memory: spec.memory,
    gpu: spec.gpu.slice(0, TYPES[spec.type]!.gpus),
    cpu: spec.cpu,
    net: spec.net,
    record: spec.record,
    ...(spec.actFault ? { actFault: { ...spec.actFault } } : {}),
    ...(spec.tagFault ? { tagFault: { ...spec.tagFault } } : {}),
    ...(spec.attrFault ? { attrFault: { ...spec.attrFault } } : {}),
  };
}

/** When a seeded record says Slack accepted (or the reaper wrote) the warning. */
function recordTimeMs(i: FakeInstance, r: RecordSpec): number {
  if (r.beforeLaunch) return (launchMsOf(i) ?? NOW_MS) - 10 * MINUTE;
  return NOW_MS - r.warnedAgo * MINUTE;
}

/** A seeded record as the reaper's warning store keeps it (pk `warning#<region>`, sk the instance ID). */
function warningState(i: FakeInstance, r: RecordSpec, graceMinutes: number): WarningState {
  const at = recordTimeMs(i, r);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    instanceId: i.id,
    region: REGION,
    status: r.status,
    idleSince: iso(at - 5 * MINUTE),
    ...(i.launchTime ? { launchTime: i.launchTime.toISOString() } : {}),
    ...(r.action ? { action: r.action } : {}),
    ...(r.status === 'delivered'
      ? {
          warnedAt: iso(at),
          slackChannel: 'C0SEED',
          slackTs: `${Math.floor(at / 1000)}.000100`,
          ...(r.action ? { actionDue: iso(at + graceMinutes * MINUTE) } : {}),
        }
      : {}),
  };
}

/** The DynamoDB item of a warning state (the schema lambda/adapters/warning-store.ts reads and writes). */
function warningItem(w: WarningState): Record<string, { S: string } | { N: string }> {
  const S = (s: string) => ({ S: s });
  const optional = (k: keyof WarningState) => (w[k] !== undefined ? { [k]: S(String(w[k])) } : {});
  return {
    pk: S(`warning#${w.region}`),
    sk: S(w.instanceId),
    instanceId: S(w.instanceId),
    region: S(w.region),
    status: S(w.status),
    idleSince: S(w.idleSince),
    ...optional('launchTime'),
    ...optional('action'),
    ...optional('warnedAt'),
    ...optional('slackChannel'),
    ...optional('slackTs'),
    ...optional('actionDue'),
    runToken: S('seed'),
    ttl: { N: String(Math.floor(NOW_MS / 1000) + 30 * 86_400) },
  };
}

/** The keep record of an instance as the keep store keeps it (pk `keep#<region>`, sk the instance ID). */
function keepItem(i: FakeInstance, kind: KeepRecordKind): Record<string, { S: string } | { N: string }> {
  const S = (s: string) => ({ S: s });
  return {
    pk: S(`keep#${REGION}`),
    sk: S(i.id),
    keepUntil: S(KEEP_RECORD_END[kind]),
    by: S('U0KEEPER1'),
    byName: S('keeper'),
    reason: S('still needed'),
    at: S(new Date(NOW_MS - 6 * 60 * MINUTE).toISOString()),
    source: S('slack'),
    guard: S('reaper'),
    ttl: { N: String(Math.floor(NOW_MS / 1000) + 3 * 86_400) },
  };
}

/** When a keep record ends (NaN for an end that does not parse: it protects). */
const keepRecordEndMs = (kind: KeepRecordKind) => Date.parse(KEEP_RECORD_END[kind]);

const lowerKeyValue = (tags: Readonly<Record<string, string>>, key: string) =>
  Object.entries(tags).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];

/** Per-instance GPU series: the only evidence that a GPU is idle. */
const hasGpuSeries = (i: FakeInstance) => i.agent === 'per-instance' && i.gpu.length > 0;

/** The injected faults that fired during one run (what the reaper could not know). */
interface Fired {
  readonly ops: Set<string>;
  readonly attr: Set<string>;
  /** `<instanceId>|<metric name>` of every GetMetricData query in a failed call. */
  readonly failedQueries: Set<string>;
}
const noFaults = (): Fired => ({ ops: new Set(), attr: new Set(), failedQueries: new Set() });

/** A warning a person could have read: Slack accepted a message announcing `action` for the instance at `atMs`. */
interface Accepted {
  readonly atMs: number;
  readonly action: 'stop' | 'terminate';
}

/**
 * Why the rules forbid stopping or terminating `i` at `nowMs`, from ground truth (tags, age, type, metrics served,
 * protection, the warnings Slack accepted) and the faults that fired in the run; undefined when acting is allowed.
 */
function forbiddenReason(
  i: FakeInstance,
  c: ConfigSpec,
  nowMs: number,
  fired: Fired,
  accepted: readonly Accepted[],
): string | undefined {
  if (i.state !== 'running') return 'not running';
  if (c.dryRun) return 'dry run';
  if (c.action === 'notify') return 'action notify';
  if (c.notifier === 'console') return 'no Slack token: no warning can be read';
  if (!c.table) return 'no state table: no warning can be recorded';
  if (fired.ops.has('DescribeInstances')) return 'instances could not be listed';
  const kind = TYPES[i.type]!.kind;
  if (kind === 'unknown') return 'unknown type';
  if (kind === 'none') return 'not a GPU type';
  if (kind === 'neuron' && !c.includeNeuron) return 'Neuron type excluded';
  if (lowerKeyValue(i.tags, OPT_OUT)?.trim().toLowerCase() === 'true') return 'opted out';
  if (i.keepKind && KEPT.has(i.keepKind)) return `keep-until ${i.keepKind}`;
  const keptUntil = i.keepRecord ? keepRecordEndMs(i.keepRecord) : Number.NEGATIVE_INFINITY;
  if (Number.isNaN(keptUntil) || keptUntil > nowMs) return `kept by a keep record (${i.keepRecord})`;
  const member = Object.keys(i.tags).find(
    (k) => MEMBER_KEYS.includes(k.toLowerCase()) || k.toLowerCase().startsWith('kubernetes.io/cluster/'),
  );
  if (member) return `member (${member})`;
  const launchMs = launchMsOf(i);
  if (launchMs === undefined) return 'launch time unknown';
  if (nowMs - launchMs < c.minimumAgeMinutes * MINUTE) return 'too young';
  if (c.action === 'stop' && i.lifecycle === 'spot' && i.spotType !== 'persistent') return 'one-time Spot';
  if (fired.ops.has(`ListMetrics:${GPU_METRIC}`)) return 'GPU series could not be listed';
  if (JUDGED_METRICS.some((m) => fired.failedQueries.has(`${i.id}|${m}`))) return 'metrics could not be read';
  const required = requiredPoints(c.minimumDatapointsPercent);
  const complete = (s: SeriesSpec) => s.points >= required && !s.busy;
  if (hasGpuSeries(i)) {
    if (!i.gpu.every(complete)) return 'GPU busy or GPU datapoints missing';
  } else {
    if (c.action === 'terminate') return 'no per-instance GPU series: never terminated on CPU-only evidence';
    if (!c.actOnCpuOnlyEvidence) return 'no per-instance GPU series';
  }
  if (!complete(i.cpu)) return 'CPU busy or CPU datapoints missing';
  if (!complete(i.net)) return 'network busy or network datapoints missing';
  const grace = c.warnMinutesBeforeAction * MINUTE;
  // A warning counts from the last start, and from the end of a keep: the person who kept it read the one before.
  const since = Math.max(launchMs, keptUntil);
  const read = accepted.some((w) => w.action === c.action && w.atMs >= since && w.atMs + grace <= nowMs);
  if (!read) return `no accepted warning of ${c.action} a grace period ago, since the last start and any keep`;
  if (c.action === 'terminate' && i.terminationProtected) return 'termination protection';
  if (c.action === 'terminate' && fired.attr.has(i.id)) return 'termination protection unknown';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The fake AWS and Slack (stateful across the runs of one sample)
// ---------------------------------------------------------------------------------------------------------------

interface GlobalFaults {
  describeInstances?: Fault;
  describeTypes?: Fault;
  spot?: Fault;
  listMetrics?: Fault;
  getMetricData?: Fault;
}

/** The EC2 calls whose injected failure leaves the run without facts it needs (the oracle's `fired.ops`). */
const LISTING_OPERATIONS: ReadonlySet<Ec2Operation> = new Set([
  'DescribeInstances',
  'DescribeInstanceTypes',
  'DescribeSpotInstanceRequests',
]);

interface World {
  readonly fleet: FakeInstance[];
  readonly byId: Map<string, FakeInstance>;
  /**
   * The fleet's EC2 (the shared fake): its `effects` count successful stops and terminations over the whole sample,
   * `changes` log them, `calls` log every call with the fault that failed it.
   */
  readonly ec2: FakeEc2;
  /** CloudWatch's faults (EC2's are the fake EC2's). */
  readonly cwFaults: Pick<GlobalFaults, 'listMetrics' | 'getMetricData'>;
  slackFailures: number;
  /** Messages Slack accepted (a person could read them), with the run's clock. */
  readonly posts: { readonly atMs: number; readonly message: SlackMessage }[];
  /** Messages printed by a notifier without a token (nobody reads them). */
  readonly printed: SlackMessage[];
  /** The team's channel refuses every message (the bot was not invited). */
  refuseTeamChannel: boolean;
  /** Stop/Terminate calls that named an instance this sample had already stopped or terminated. */
  readonly repeated: string[];
  /** Instances Stop/Terminate was called for, by scheduled period. */
  readonly actedByPeriod: Map<string, Set<string>>;
  /** What Slack accepted for each instance: the warnings a person could have read. */
  readonly accepted: Map<string, Accepted[]>;
  // Per run:
  fired: Fired;
  clockMs: number;
}

let world: World;
let table: FakeStateTable;

/** Fails a CloudWatch call while `fault` has failures left, noting it among the run's fired faults as `op`. */
function trip(fault: Fault | undefined, op: string): void {
  if (fault && fault.times > 0) {
    fault.times -= 1;
    world.fired.ops.add(op);
    throw awsError(fault.code, statusOf(fault.code));
  }
}

const fakes = new RoutedFakes();
const route: RoutedFakes['route'] = (command, fake) => fakes.route(command, fake);
const dispatch = fakes.dispatch;

function gpuSeriesOf(i: FakeInstance, metricName: string) {
  return i.gpu.map((_, g) => ({
    Namespace: 'CWAgent',
    MetricName: metricName,
    Dimensions: [
      ...(i.agent === 'per-instance' ? [{ Name: 'InstanceId', Value: i.id }] : []),
      { Name: 'index', Value: String(g) },
      { Name: 'name', Value: 'NVIDIA A10G' },
      { Name: 'host', Value: `ip-10-0-${g}-${i.id.slice(-3)}.ec2.internal` },
    ],
  }));
}

/** Routes EC2 (each sample's FakeEc2, routed by `newWorld`) and CloudWatch, which answers from the fleet. */
function installFakeAws(): void {
  ec2Mock.send.callsFake(dispatch as never);
  cwMock.send.callsFake(dispatch as never);
  route(ListMetricsCommand, (input: ListMetricsCommandInput) => {
    trip(world.cwFaults.listMetrics, `ListMetrics:${input.MetricName}`);
    const running = world.fleet.filter((i) => i.state === 'running' && i.agent !== 'none');
    if (input.MetricName === GPU_METRIC) return { Metrics: running.flatMap((i) => gpuSeriesOf(i, GPU_METRIC)) };
    if (input.MetricName === GPU_MEMORY_METRIC) {
      return { Metrics: running.filter((i) => i.memory).flatMap((i) => gpuSeriesOf(i, GPU_MEMORY_METRIC)) };
    }
    return { Metrics: [] };
  });
  route(GetMetricDataCommand, (input: GetMetricDataCommandInput) => {
    const queries = input.MetricDataQueries ?? [];
    const idOf = (q: (typeof queries)[number]) =>
      q.MetricStat!.Metric!.Dimensions!.find((d) => d.Name === 'InstanceId')!.Value!;
    try {
      trip(world.cwFaults.getMetricData, 'GetMetricData');
    } catch (error) {
      for (const q of queries) world.fired.failedQueries.add(`${idOf(q)}|${q.MetricStat!.Metric!.MetricName}`);
      throw error;
    }
    return {
      MetricDataResults: queries.map((q) => {
        const metric = q.MetricStat!.Metric!;
        const dims = metric.Dimensions ?? [];
        const inst = world.byId.get(idOf(q))!;
        let spec: SeriesSpec;
        let value: number;
        if (metric.MetricName === GPU_METRIC || metric.MetricName === GPU_MEMORY_METRIC) {
          spec = inst.gpu[Number(dims.find((d) => d.Name === 'index')!.Value)]!;
          value =
            metric.MetricName === GPU_MEMORY_METRIC
              ? spec.busy
                ? 20_000
                : GPU_MEM_USED_MB
              : spec.busy
                ? GPU_BUSY
                : GPU_IDLE;
        } else if (metric.MetricName === 'CPUUtilization') {
          spec = inst.cpu;
          value = spec.busy ? CPU_BUSY : CPU_IDLE;
        } else {
          spec = inst.net;
          value = spec.busy ? NET_BUSY : NET_QUIET;
        }
        return { Id: q.Id, Values: Array.from({ length: spec.points }, () => value) };
      }),
    };
  });
}

const slackNotifier: Notifier = {
  kind: 'slack',
  async post(message: SlackMessage, channel?: string) {
    if (channel === TEAM_CHANNEL && world.refuseTeamChannel) {
      throw new SlackDeliveryError('Slack did not accept the message: not_in_channel', 'not_in_channel');
    }
    if (world.slackFailures > 0) {
      world.slackFailures -= 1;
      throw new SlackDeliveryError('Slack did not accept the message: internal_error', 'internal_error');
    }
    world.posts.push({ atMs: world.clockMs, message });
    return { channel: 'C0TEST', ts: `1700000000.${String(world.posts.length).padStart(6, '0')}` };
  },
};

const consoleNotifier: Notifier = {
  kind: 'console',
  async post(message: SlackMessage) {
    world.printed.push(message);
    return { channel: '(console)' };
  },
};

const textOf = (m: SlackMessage) =>
  m.blocks
    .map((b) =>
      b.type === 'section'
        ? (b.text?.text ?? '')
        : b.type === 'context'
          ? b.elements.map((e) => e.text).join(' ')
          : b.type === 'header'
            ? b.text.text
            : '',
    )
    .join('\n');

/** The instance IDs Slack accepted a warning of `action` for, from the message text alone. */
function warningsIn(message: SlackMessage): { id: string; action: 'stop' | 'terminate' }[] {
  if (message.text.startsWith('[DRY RUN]')) return [];
  const found: { id: string; action: 'stop' | 'terminate' }[] = [];
  for (const b of message.blocks) {
    if (b.type !== 'section' || !b.text) continue;
    const verb = /:warning: \*Idle: will (stop|terminate) at /.exec(b.text.text)?.[1] as
      | 'stop'
      | 'terminate'
      | undefined;
    if (!verb) continue;
    for (const m of b.text.text.matchAll(/`(i-[0-9a-f]{17})`/g)) found.push({ id: m[1]!, action: verb });
  }
  return found;
}

function newWorld(
  fleet: FakeInstance[],
  c?: ConfigSpec,
  faults: GlobalFaults = {},
  slackFailures = 0,
  refuseTeamChannel = false,
): World {
  table.items.clear();
  const accepted = new Map<string, Accepted[]>();
  for (const i of fleet) {
    if (i.keepRecord) table.items.set(`keep#${REGION}\u0000${i.id}`, keepItem(i, i.keepRecord) as never);
    if (!i.record) continue;
    const record = c ? seededRecord(i.record, c) : i.record;
    const w = warningState(i, record, c?.warnMinutesBeforeAction ?? 60);
    const item = warningItem(w);
    table.items.set(`warning#${w.region}\u0000${w.instanceId}`, item as never);
    if (record.status === 'delivered' && record.action) {
      accepted.set(i.id, [{ atMs: recordTimeMs(i, record), action: record.action }]);
    }
  }
  const ec2 = new FakeEc2({ instances: fleet, types: EC2_TYPES, faults: ec2Faults(fleet, faults) });
  const fresh: World = {
    fleet,
    byId: new Map(fleet.map((i) => [i.id, i])),
    ec2,
    cwFaults: { listMetrics: faults.listMetrics, getMetricData: faults.getMetricData },
    slackFailures,
    posts: [],
    printed: [],
    refuseTeamChannel,
    repeated: [],
    actedByPeriod: new Map(),
    accepted,
    fired: noFaults(),
    clockMs: NOW_MS,
  };
  // Each Stop/Terminate call, as it arrives: the instances it names count against the period of the run's clock,
  // and naming one this sample already stopped or terminated is a repeat.
  ec2.onCall = (call) => {
    if (call.operation !== 'StopInstances' && call.operation !== 'TerminateInstances') return;
    const period = periodOf(SCHEDULE, new Date(fresh.clockMs));
    const inPeriod = fresh.actedByPeriod.get(period) ?? new Set<string>();
    fresh.actedByPeriod.set(period, inPeriod);
    for (const id of call.instanceIds) {
      inPeriod.add(id);
      if ((ec2.effects.get(id) ?? 0) > 0) fresh.repeated.push(id);
    }
  };
  ec2.routeOn(fakes);
  return fresh;
}

/**
 * The fake EC2's faults of a sample: the listing faults (DescribeInstances, DescribeInstanceTypes,
 * DescribeSpotInstanceRequests) and each instance's Stop/Terminate, CreateTags and DescribeInstanceAttribute faults,
 * each a fresh copy that the sample's runs use up.
 */
function ec2Faults(fleet: readonly FakeInstance[], faults: GlobalFaults): Ec2Fault[] {
  const fault = (operation: Ec2Operation, f: Fault | undefined, instanceId?: string): Ec2Fault[] =>
    f
      ? [{ operation, code: f.code, times: f.times, status: statusOf(f.code), ...(instanceId ? { instanceId } : {}) }]
      : [];
  return [
    ...fault('DescribeInstances', faults.describeInstances),
    ...fault('DescribeInstanceTypes', faults.describeTypes),
    ...fault('DescribeSpotInstanceRequests', faults.spot),
    ...fleet.flatMap((i) => [
      // One fault on both: a sample stops or terminates, never both.
      ...fault('StopInstances', i.actFault, i.id),
      ...fault('TerminateInstances', i.actFault, i.id),
      ...fault('CreateTags', i.tagFault, i.id),
      ...fault('DescribeInstanceAttribute', i.attrFault, i.id),
    ]),
  ];
}

/** The scheduled event every delivery (and retry) of one schedule firing carries. */
const scheduledEvent = (atMs: number) => ({
  source: 'ml-cost-guard.schedule',
  scheduledTime: new Date(atMs).toISOString(),
});

function contextFor(c: ConfigSpec, nowMs: number) {
  return testContext({
    config: toConfig(c),
    now: new Date(nowMs),
    dryRun: c.dryRun,
    notifier: c.notifier === 'slack' ? slackNotifier : consoleNotifier,
    ...(c.table ? { stateTableName: TABLE } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// One run, checked
// ---------------------------------------------------------------------------------------------------------------

const DECISIONS = new Set(['skip', 'unknown', 'busy', 'warn', 'wait', 'act', 'notify', 'deferred']);

interface RunStats {
  acted: number;
  failedActions: number;
  threw: number;
  /** Instances a keep record alone held back (the rules would have allowed acting on them without it). */
  keptBack?: number;
}

async function runAndCheck(
  c: ConfigSpec,
  nowMs: number,
  stats: RunStats,
  o: { readonly event?: unknown; readonly checkLiveness?: boolean } = {},
): Promise<ReaperSummary> {
  // Prepare: the state the run starts from, for the oracle
  world.fired = noFaults();
  world.clockMs = nowMs;
  const callsBefore = world.ec2.calls.length;
  const changesBefore = world.ec2.changes.length;
  ec2Mock.resetHistory();
  cwMock.resetHistory();
  const before = world.fleet.map((i) => ({ ...i, tags: { ...i.tags } }));
  const acceptedBefore = new Map([...world.accepted].map(([id, list]) => [id, [...list]]));
  const tableBefore = JSON.stringify([...table.items.entries()].sort());
  const postsBefore = world.posts.length;
  const period = periodOf(SCHEDULE, new Date(nowMs));
  const periodBefore = world.actedByPeriod.get(period)?.size ?? 0;
  const ctx = contextFor(c, nowMs);

  // Act
  let summary: ReaperSummary;
  try {
    summary = await reaperCapability.run(ctx, o.event ?? scheduledEvent(nowMs));
  } catch (error) {
    // A failed run must still say what it did.
    assert.ok(error instanceof Error && error.message.length > 0, `run threw a non-error: ${String(error)}`);
    const carried = (error as { summary?: ReaperSummary }).summary;
    if (!carried) assert.fail(`run threw without a summary: ${(error as Error).stack}`);
    summary = carried!;
    stats.threw += 1;
  }

  // The EC2 faults that fired in this run, as the oracle reads them: listing calls and termination-protection reads.
  const calls = world.ec2.calls.slice(callsBefore);
  for (const call of calls) {
    if (!call.fault) continue;
    if (LISTING_OPERATIONS.has(call.operation)) world.fired.ops.add(call.operation);
    if (call.operation === 'DescribeInstanceAttribute') world.fired.attr.add(call.instanceIds[0]!);
  }
  // Instances this run stopped or terminated, and what EC2 answered the last Stop/Terminate call naming each.
  const runEffects = new Set(world.ec2.changes.slice(changesBefore).map((change) => change.id));
  const actCalls = calls.filter(
    (call) => call.operation === 'StopInstances' || call.operation === 'TerminateInstances',
  );
  const lastActError = (id: string) => actCalls.findLast((call) => call.instanceIds.includes(id))?.errorCode;

  // What Slack accepted in this run becomes something a person could have read.
  for (const { message } of world.posts.slice(postsBefore)) {
    for (const w of warningsIn(message)) {
      const list = world.accepted.get(w.id) ?? [];
      list.push({ atMs: nowMs, action: w.action });
      world.accepted.set(w.id, list);
    }
  }

  // Assess: what was asked of EC2
  const terminateCalls = ec2Mock.commandCalls(TerminateInstancesCommand);
  const stopCalls = ec2Mock.commandCalls(StopInstancesCommand);
  const ids = (calls: typeof terminateCalls | typeof stopCalls) =>
    calls.flatMap((call) => call.args[0].input.InstanceIds ?? []);
  const attempted = new Set([...ids(terminateCalls), ...ids(stopCalls)]);
  const mutating = !c.dryRun && c.action !== 'notify';
  if (!mutating) {
    assert.equal(ec2Mock.commandCalls(CreateTagsCommand).length, 0, 'CreateTags called in dry-run / notify');
    assert.equal(ec2Mock.commandCalls(DeleteTagsCommand).length, 0, 'DeleteTags called in dry-run / notify');
    assert.equal(attempted.size, 0, 'Stop/Terminate called in dry-run / notify');
    assert.equal(JSON.stringify([...table.items.entries()].sort()), tableBefore, 'state table written in dry-run');
  }
  if (c.notifier === 'console' || !c.table) {
    assert.equal(ec2Mock.commandCalls(CreateTagsCommand).length, 0, 'tagged for action without Slack or table');
    assert.equal(attempted.size, 0, 'acted without Slack or table');
    assert.match(summary.notes.join('\n'), c.table ? /no Slack token/i : /no state table/i, 'no reason given');
  }
  // The reaper never starts an instance (the fake EC2 would: a start would go unnoticed by the checks below).
  assert.ok(!calls.some((call) => call.operation === 'StartInstances'), 'StartInstances called by the reaper');
  if (c.action !== 'terminate') assert.equal(terminateCalls.length, 0, `TerminateInstances with action ${c.action}`);
  if (c.action !== 'stop') assert.equal(stopCalls.length, 0, `StopInstances with action ${c.action}`);

  // Assess: every instance asked to stop or terminate was allowed to be
  const reasonOf = (i: FakeInstance) => forbiddenReason(i, c, nowMs, world.fired, acceptedBefore.get(i.id) ?? []);
  const allowed = before.filter((i) => reasonOf(i) === undefined).map((i) => i.id);
  if (stats.keptBack !== undefined) {
    stats.keptBack += before.filter(
      (i) => i.keepRecord && reasonOf(i) !== undefined && reasonOf({ ...i, keepRecord: undefined }) === undefined,
    ).length;
  }
  for (const id of attempted) {
    const reason = reasonOf(before.find((i) => i.id === id)!);
    assert.equal(reason, undefined, `${id} was acted on although: ${reason}`);
  }
  // The limit holds per scheduled period, over every invocation in it.
  const inPeriod = world.actedByPeriod.get(period)?.size ?? 0;
  assert.ok(
    inPeriod <= c.maxActionsPerRun,
    `${inPeriod} instances acted on in period ${period}, limit ${c.maxActionsPerRun}`,
  );
  // ...and when nothing failed in a fresh period, the limit is filled from the allowed ones.
  const quiet = world.fired.ops.size === 0 && world.fired.attr.size === 0 && world.fired.failedQueries.size === 0;
  if (o.checkLiveness && quiet && periodBefore === 0) {
    assert.equal(attempted.size, Math.min(c.maxActionsPerRun, allowed.length), 'limit not filled from allowed ones');
  }
  assert.deepEqual(world.repeated, [], 'Stop/Terminate repeated on an instance already acted on');

  // Assess: the summary lists every GPU (or unknown-type) instance once, with a decision and a reason
  if (!world.fired.ops.has('DescribeInstances')) {
    const running = before.filter((i) => i.state === 'running');
    const cpuUnknown = summary.unknownTypes.includes('us-east-1: m5.large');
    if (cpuUnknown) assert.ok(world.fired.ops.has('DescribeInstanceTypes'), 'm5.large unknown without a fault');
    const expected = running.filter((i) => i.type !== 'm5.large' || cpuUnknown).map((i) => i.id);
    assert.deepEqual(summary.instances.map((r) => r.instanceId).sort(), expected.sort(), 'instances in summary');
    assert.equal(summary.instancesScanned, running.length, 'instancesScanned');
  } else {
    assert.match(summary.notes.join('\n'), /could not be scanned/);
  }
  for (const r of summary.instances) {
    assert.ok(DECISIONS.has(r.decision) && r.reason.length > 0, `${r.instanceId}: decision ${r.decision}`);
    if (r.decision === 'act' || r.decision === 'deferred') assert.notEqual(r.confidence, undefined);
  }

  // Assess: each Stop/Terminate outcome is reported, failures as failed with the EC2 error code
  const actionRecords = summary.actions.filter((a) => a.kind === 'stop' || a.kind === 'terminate');
  assert.equal(new Set(actionRecords.map((a) => a.target)).size, actionRecords.length, 'two actions on one instance');
  assert.ok(actionRecords.length <= c.maxActionsPerRun, `${actionRecords.length} actions recorded`);
  for (const id of attempted) {
    const report = summary.instances.find((r) => r.instanceId === id)!;
    const record = actionRecords.find((a) => a.target === id)!;
    if (runEffects.has(id)) {
      assert.deepEqual(report.action, { kind: c.action, status: 'done' }, `${id}: reported ${report.action?.status}`);
      assert.equal(record.status, 'done', `${id}: recorded ${record.status}`);
      stats.acted += 1;
    } else {
      const code = lastActError(id);
      assert.ok(code, `${id}: no effect and no error`);
      assert.equal(report.action?.kind, c.action, `${id}: reported action ${report.action?.kind}`);
      assert.equal(report.action?.status, 'failed', `${id}: reported ${report.action?.status} but EC2 said ${code}`);
      assert.equal(report.action?.errorCode, code, `${id}: reported error code`);
      assert.equal(record.status, 'failed', `${id}: recorded ${record.status}`);
      assert.equal(record.errorCode, code, `${id}: recorded error code`);
      stats.failedActions += 1;
    }
  }
  // No action recorded for an instance EC2 was never asked about (outside dry-run).
  if (!c.dryRun) for (const a of actionRecords) assert.ok(attempted.has(a.target), `${a.target}: recorded, not called`);
  return summary;
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const smallFleetArb = fc.array(instanceSpecArb, { minLength: 1, maxLength: 12 });
/** Mostly small fleets, a fifth of them 100-200 instances (several GetMetricData calls, a digest over 50 blocks). */
const fleetArb = fc.oneof(
  { arbitrary: smallFleetArb, weight: 4 },
  {
    arbitrary: fc
      .integer({ min: 100, max: 200 })
      .chain((n) => fc.array(instanceSpecArb, { minLength: n, maxLength: n })),
    weight: 1,
  },
);

const globalFaultsArb = fc.record({
  describeInstances: faultArb(TRANSIENT_CODES, 30),
  describeTypes: faultArb(TRANSIENT_CODES, 20),
  spot: faultArb(TRANSIENT_CODES, 10),
  listMetrics: faultArb(TRANSIENT_CODES, 20),
  getMetricData: faultArb(TRANSIENT_CODES, 20),
  slackFailures: fc.oneof(
    { arbitrary: fc.constant(0), weight: 6 },
    { arbitrary: fc.constantFrom(1, Number.POSITIVE_INFINITY), weight: 1 },
  ),
  refuseTeamChannel: fc.oneof(
    { arbitrary: fc.constant(false), weight: 4 },
    { arbitrary: fc.constant(true), weight: 1 },
  ),
});

beforeAll(() => {
  installFakeAws();
  table = fakeStateTable();
});
afterAll(() => {
  ec2Mock.restore();
  cwMock.restore();
  table.mock.restore();
});

/** Instances with a warning on record more often than not, so that a fair share of decisions may act. */
const pureSpecArb: fc.Arbitrary<InstanceSpec> = fc
  .tuple(instanceSpecArb, sometimes(recordArb, 6, 1))
  .map(([spec, record]) => ({ ...spec, record }));

describe('Proof: idle GPU reaper safety (properties)', () => {
  it('decides act (after the last check) exactly when no rule forbids it', () => {
    // Prepare / Act / Assess: the pure decision over random instances, metrics, tags, warning records and configs
    let acts = 0;
    fc.assert(
      fc.property(pureSpecArb, configSpecArb, fc.integer({ min: 0, max: 600 }), (rawSpec, rawConfig, later) => {
        const c: ConfigSpec = { ...rawConfig, dryRun: false, notifier: 'slack', table: true };
        const nowMs = NOW_MS + later * MINUTE;
        const spec = rawSpec.record ? { ...rawSpec, record: seededRecord(rawSpec.record, c) } : rawSpec;
        const inst = materialize(spec, 0);
        const t = TYPES[inst.type]!;
        const facts: InstanceFacts = {
          instanceId: inst.id,
          region: REGION,
          instanceType: inst.type,
          state: 'running',
          ...(inst.launchTime ? { launchTime: inst.launchTime.toISOString() } : {}),
          tags: inst.tags,
          lifecycle: inst.lifecycle ?? 'on-demand',
          ...(inst.spotRequestId ? { spotInstanceRequestId: inst.spotRequestId } : {}),
          ...(inst.spotType ? { spotRequestType: inst.spotType } : {}),
        };
        const typeFacts: InstanceTypeFacts | undefined =
          t.kind === 'unknown'
            ? undefined
            : {
                instanceType: inst.type,
                accelerator: t.kind,
                acceleratorCount: Math.max(t.gpus, 1),
                instanceStorage: false,
              };
        const values = (s: SeriesSpec, v: number) => Array.from({ length: s.points }, () => v);
        const metrics: InstanceMetrics = {
          gpu: hasGpuSeries(inst) ? inst.gpu.map((s) => values(s, s.busy ? GPU_BUSY : GPU_IDLE)) : [],
          cpu: values(inst.cpu, inst.cpu.busy ? CPU_BUSY : CPU_IDLE),
          networkIn: values(inst.net, inst.net.busy ? NET_BUSY : NET_QUIET),
          networkOut: values(inst.net, inst.net.busy ? NET_BUSY : NET_QUIET),
        };
        const config = parseConfig(toConfig(c));
        const warning = inst.record ? warningState(inst, inst.record, c.warnMinutesBeforeAction) : undefined;
        const accepted: Accepted[] =
          inst.record?.status === 'delivered' && inst.record.action
            ? [{ atMs: recordTimeMs(inst, inst.record), action: inst.record.action }]
            : [];
        const keep = inst.keepRecord
          ? { instanceId: inst.id, region: REGION, until: KEEP_RECORD_END[inst.keepRecord], by: 'U0KEEPER1' }
          : undefined;
        const decided = decideInstance(facts, typeFacts, metrics, new Date(nowMs), config, {
          ...(warning ? { warning } : {}),
          ...(keep ? { keep } : {}),
        });
        const final =
          decided.kind === 'act' && c.action !== 'notify'
            ? checkBeforeAct(decided, c.action, { terminationProtected: inst.terminationProtected === true })
            : decided;
        const reason = forbiddenReason(inst, c, nowMs, noFaults(), accepted);
        if (final.kind === 'act') acts += 1;
        assert.equal(
          final.kind === 'act',
          reason === undefined,
          `decided ${final.kind} (${final.code}: ${final.reason}); oracle: ${reason}`,
        );
      }),
      { numRuns: RUNS },
    );
    // The property is not vacuous: some of the samples acted. About 3% of them do (19 to 40 of 1,000 over twelve
    // random seeds), so a bound of 2% failed one run in five; 0.5% is over four standard deviations below the mean.
    expect(acts).toBeGreaterThan(RUNS / 200);
  });

  it('over fleets of up to 200 instances and three runs with faults, acts only where the rules allow, never twice, within the limit of each period', async () => {
    const stats: RunStats = { acted: 0, failedActions: 0, threw: 0, keptBack: 0 };
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        configSpecArb,
        globalFaultsArb,
        fc.constantFrom(30, 61, 240, 600),
        async (specs, c, faults, laterMinutes) => {
          // Prepare
          const fleet = specs.map(materialize);
          const { slackFailures, refuseTeamChannel, ...global } = faults;
          const copy = (f: { code: string; times: number } | null) => (f ? { ...f } : undefined);
          world = newWorld(
            fleet,
            c,
            {
              describeInstances: copy(global.describeInstances),
              describeTypes: copy(global.describeTypes),
              spot: copy(global.spot),
              listMetrics: copy(global.listMetrics),
              getMetricData: copy(global.getMetricData),
            },
            slackFailures,
            refuseTeamChannel,
          );
          // Act + Assess: the scheduled run, its retry (same event, a minute later), then a later run over the
          // fleet and the table as they were left
          await runAndCheck(c, NOW_MS, stats, { checkLiveness: true });
          await runAndCheck(c, NOW_MS + MINUTE, stats, { event: scheduledEvent(NOW_MS) });
          await runAndCheck(c, NOW_MS + laterMinutes * MINUTE, stats);
          // Assess: no instance was stopped or terminated twice across the runs
          for (const [id, n] of world.ec2.effects) assert.equal(n, 1, `${id} stopped or terminated ${n} times`);
        },
      ),
      // No shrinking: over fleets of 200 it takes minutes, and the message already names the instance and the rule.
      { numRuns: FLEET_RUNS, endOnFailure: true },
    );
    // The property is not vacuous: instances were acted on, some actions failed, some runs failed.
    expect(stats.acted).toBeGreaterThan(FLEET_RUNS / 3);
    expect(stats.failedActions).toBeGreaterThan(FLEET_RUNS / 100);
    expect(stats.threw).toBeGreaterThan(FLEET_RUNS / 50);
    // ...and keep records held back instances the rules would otherwise have let it act on.
    expect(stats.keptBack).toBeGreaterThan(FLEET_RUNS / 20);
  }, 180_000);

  it('changes nothing in dry-run or with action notify, whatever the fleet and its records', async () => {
    await fc.assert(
      fc.asyncProperty(
        smallFleetArb,
        configSpecArb,
        fc.constantFrom('dry-run', 'notify'),
        async (specs, rawConfig, mode) => {
          // Prepare
          const c: ConfigSpec =
            mode === 'dry-run' ? { ...rawConfig, dryRun: true } : { ...rawConfig, action: 'notify' };
          const fleet = specs.map(materialize);
          world = newWorld(fleet, c);
          const tagsBefore = fleet.map((i) => ({ ...i.tags }));
          // Act + Assess (runAndCheck asserts that no mutating call was made and the table is unchanged)
          await runAndCheck(c, NOW_MS, { acted: 0, failedActions: 0, threw: 0 });
          // Assess: the fleet is exactly as it was
          assert.deepEqual(
            fleet.map((i) => i.tags),
            tagsBefore,
            'tags changed',
          );
          assert.ok(
            fleet.every((i) => i.state === 'running'),
            'an instance changed state',
          );
        },
      ),
      { numRuns: RUNS / 2 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Examples: each rule of issue 9, with the case the reaper once got wrong
// ---------------------------------------------------------------------------------------------------------------

const LIVE: ConfigSpec = {
  action: 'stop',
  dryRun: false,
  warnMinutesBeforeAction: 60,
  minimumAgeMinutes: 120,
  maxActionsPerRun: 25,
  actOnCpuOnlyEvidence: false,
  includeNeuron: false,
  minimumDatapointsPercent: 80,
  notifier: 'slack',
  table: true,
};

const fleetOf = (...specs: Partial<InstanceSpec>[]) => specs.map((s, n) => materialize({ ...BASE_SPEC, ...s }, n));
/** Back-dated by ten hours: on the old reaper this skipped the warning period. */
const BACKDATED = { kind: 'ago' as const, minutes: 600 };
const DELIVERED_LONG_AGO = (action: 'stop' | 'terminate'): RecordSpec => ({
  status: 'delivered',
  warnedAgo: 300,
  action,
  beforeLaunch: false,
  sameAsConfigured: false,
});

async function runOnce(c: ConfigSpec, nowMs = NOW_MS, event?: unknown): Promise<ReaperSummary> {
  world.clockMs = nowMs;
  world.fired = noFaults();
  try {
    return await reaperCapability.run(contextFor(c, nowMs), event ?? scheduledEvent(nowMs));
  } catch (error) {
    const summary = (error as { summary?: ReaperSummary }).summary;
    if (!summary) throw error;
    return summary;
  }
}
const entry = (s: ReaperSummary, id: string) => s.instances.find((i) => i.instanceId === id)!;
const postedText = () => world.posts.map((p) => textOf(p.message)).join('\n');
const warningRecord = (id: string) => table.get(`warning#${REGION}`, id);

describe('Proof: evidence for an idle verdict', () => {
  beforeEach(() => {
    ec2Mock.resetHistory();
    cwMock.resetHistory();
  });

  it.each(['stop', 'terminate'] as const)(
    'never %ss an idle p4d without per-instance GPU series, whatever its tag and warning record say',
    async (action) => {
      // Prepare: 4% CPU, 48 MB/h of network; one without the agent, one whose series lack InstanceId
      world = newWorld(
        fleetOf(
          { type: 'p4d.24xlarge', agent: 'none', idleSinceTag: BACKDATED, record: DELIVERED_LONG_AGO(action) },
          {
            type: 'p4d.24xlarge',
            agent: 'no-instance-id',
            idleSinceTag: BACKDATED,
            record: DELIVERED_LONG_AGO(action),
          },
        ),
      );
      // Act
      const s = await runOnce({ ...LIVE, action });
      // Assess
      expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
      expect(ec2Mock).not.toHaveReceivedCommand(TerminateInstancesCommand);
      for (const i of world.fleet) {
        expect(i.state).toBe('running');
        expect(entry(s, i.id).confidence).toBe('low');
        expect(entry(s, i.id).decision).not.toBe('act');
      }
    },
  );

  it("warns about such instances with how to install the agent, and says when a region's GPU series cannot be tied to instances", async () => {
    // Prepare
    world = newWorld(fleetOf({ type: 'p4d.24xlarge', agent: 'none' }, { agent: 'no-instance-id' }));
    // Act
    const s = await runOnce(LIVE);
    // Assess: reported once, never tagged for action
    expect(s.instances.map((r) => r.decision)).toEqual(['warn', 'warn']);
    expect(s.instances.every((r) => r.actAt === undefined)).toBe(true);
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    const text = postedText();
    expect(text).toContain('nvidia_gpu');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's placeholder, as the reader must copy it
    expect(text).toContain('"append_dimensions": {"InstanceId": "${aws:InstanceId}"}');
    expect(text).toMatch(/us-east-1: 1 GPU metric series cannot be tied to an instance/);
    expect(s.notes.join('\n')).toMatch(/cannot be tied to an instance/);
    // A second run does not repeat the report: the warning is on record.
    const again = await runOnce(LIVE, NOW_MS + 61 * MINUTE);
    expect(again.instances.map((r) => r.decision)).toEqual(['wait', 'wait']);
    expect(world.posts).toHaveLength(1);
  });

  it('acts on CPU-only evidence only when idleGpu.actOnCpuOnlyEvidence is set, and then only by stopping', async () => {
    for (const action of ['stop', 'terminate'] as const) {
      // Prepare
      world = newWorld(fleetOf({ agent: 'none', record: DELIVERED_LONG_AGO(action) }));
      // Act
      const s = await runOnce({ ...LIVE, action, actOnCpuOnlyEvidence: true });
      // Assess
      const i = world.fleet[0]!;
      if (action === 'stop') {
        expect(entry(s, i.id)).toMatchObject({ decision: 'act', confidence: 'low', action: { status: 'done' } });
        expect(i.state).toBe('stopped');
      } else {
        expect(entry(s, i.id).decision).not.toBe('act');
        expect(entry(s, i.id).reason).toMatch(/never terminated on CPU and network alone/);
        expect(i.state).toBe('running');
      }
    }
  });

  it('reports GPU memory used beside GPU utilization in every verdict', async () => {
    // Prepare
    world = newWorld(
      fleetOf(
        {},
        { gpu: [{ points: EXPECTED_POINTS, busy: true }] },
        { memory: false },
        { record: DELIVERED_LONG_AGO('stop') },
      ),
    );
    const [idle, busy, noMemory, due] = world.fleet;
    // Act
    const s = await runOnce(LIVE);
    // Assess
    expect(entry(s, idle!.id)).toMatchObject({
      decision: 'warn',
      gpuUtilizationMaxPercent: GPU_IDLE,
      gpuMemoryUsedMaxMb: GPU_MEM_USED_MB,
    });
    expect(entry(s, busy!.id)).toMatchObject({
      decision: 'busy',
      gpuUtilizationMaxPercent: GPU_BUSY,
      gpuMemoryUsedMaxMb: 20_000,
    });
    expect(entry(s, due!.id)).toMatchObject({ decision: 'act', gpuMemoryUsedMaxMb: GPU_MEM_USED_MB });
    expect(entry(s, noMemory!.id).gpuMemoryUsedMaxMb).toBeUndefined();
    for (const r of s.instances) expect(r.reason).toMatch(/GPU memory/);
    expect(postedText()).toMatch(/GPU memory 1,536 MB used/);
    // One ListMetrics scan per metric and one GetMetricData call for all of them.
    expect(cwMock.commandCalls(GetMetricDataCommand)).toHaveLength(1);
  });
});

describe('Proof: a warning counts only when a person could have read it', () => {
  beforeEach(() => {
    ec2Mock.resetHistory();
    cwMock.resetHistory();
  });

  it('a forged or back-dated idle-since tag changes nothing', async () => {
    // Prepare: one back-dated tag and no record; one delivered record whose tag someone moved to the future
    world = newWorld(
      fleetOf(
        { idleSinceTag: BACKDATED },
        { idleSinceTag: { kind: 'ago', minutes: -600 }, record: DELIVERED_LONG_AGO('stop') },
      ),
    );
    const [forged, due] = world.fleet;
    // Act
    const s = await runOnce(LIVE);
    // Assess: the tag neither skipped the warning nor delayed the due action
    expect(entry(s, forged!.id)).toMatchObject({ decision: 'warn' });
    expect(forged!.state).toBe('running');
    expect(entry(s, due!.id)).toMatchObject({ decision: 'act', action: { kind: 'stop', status: 'done' } });
    // The mirror now shows the reaper's own record.
    expect(forged!.tags[IDLE_SINCE]).toBe(TEST_NOW.toISOString());
    expect(warningRecord(forged!.id)).toMatchObject({ status: 'delivered', slackChannel: 'C0TEST' });
  });

  it('acts only after Slack accepted the warning and the grace period passed since then', async () => {
    // Prepare: Slack refuses the first digest, and the reaper cannot remove tags either
    world = newWorld(fleetOf({}));
    const i = world.fleet[0]!;
    world.slackFailures = Number.POSITIVE_INFINITY;
    world.ec2.faults.push({ operation: 'DeleteTags', code: 'InternalError', status: statusOf('InternalError') });
    // Act: the first run's warning is not delivered
    const first = await runOnce(LIVE);
    expect(first.slack.error).toBeDefined();
    expect(warningRecord(i.id)).toMatchObject({ status: 'pending' });
    expect(warningRecord(i.id)?.slackTs).toBeUndefined();
    // Act: an hour later Slack works: the run warns again instead of acting
    world.slackFailures = 0;
    const second = await runOnce(LIVE, NOW_MS + 61 * MINUTE);
    expect(entry(second, i.id)).toMatchObject({ decision: 'warn' });
    expect(i.state).toBe('running');
    expect(warningRecord(i.id)).toMatchObject({
      status: 'delivered',
      warnedAt: new Date(NOW_MS + 61 * MINUTE).toISOString(),
      slackChannel: 'C0TEST',
    });
    // Act: 30 minutes after the delivered warning it waits; after the grace period it stops
    const third = await runOnce(LIVE, NOW_MS + 91 * MINUTE);
    expect(entry(third, i.id).decision).toBe('wait');
    const fourth = await runOnce(LIVE, NOW_MS + 122 * MINUTE);
    expect(entry(fourth, i.id)).toMatchObject({ decision: 'act', action: { kind: 'stop', status: 'done' } });
    expect(warningRecord(i.id)).toBeUndefined();
  });

  it('never counts a warning that the digest did not show', async () => {
    // Prepare: 130 idle instances; a digest lists at most 100
    world = newWorld(fleetOf(...Array.from({ length: 130 }, () => ({}))));
    const c = { ...LIVE, maxActionsPerRun: 1000 };
    // Act
    await runOnce(c);
    const shown = new Set(world.posts.flatMap((p) => warningsIn(p.message).map((w) => w.id)));
    await runOnce(c, NOW_MS + 61 * MINUTE);
    // Assess
    expect(shown.size).toBe(100);
    const stopped = world.fleet.filter((i) => i.state === 'stopped').map((i) => i.id);
    expect(stopped).toHaveLength(100);
    for (const id of stopped) expect(shown.has(id)).toBe(true);
  });

  it.each([
    ['no Slack token (messages only printed)', { notifier: 'console' as const }, /no Slack token/i],
    ['no state table', { table: false }, /no state table/i],
  ])('with %s, reports but never tags for action and never acts, and says why', async (_, over, why) => {
    // Prepare: a warning on record and a back-dated tag
    world = newWorld(fleetOf({ idleSinceTag: BACKDATED, record: DELIVERED_LONG_AGO('stop') }, {}));
    // Act
    const s = await runOnce({ ...LIVE, ...over });
    // Assess
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(s.instances.map((r) => r.decision)).toEqual(['notify', 'notify']);
    expect(s.notes.filter((n) => why.test(n))).toHaveLength(1);
  });

  it('removes the warning record and its mirror tag when the instance is busy again', async () => {
    // Prepare
    world = newWorld(
      fleetOf({ idleSinceTag: BACKDATED, record: DELIVERED_LONG_AGO('stop'), cpu: { points: 12, busy: true } }),
    );
    const i = world.fleet[0]!;
    // Act
    const s = await runOnce(LIVE);
    // Assess
    expect(entry(s, i.id)).toMatchObject({ decision: 'busy', warningCleared: true });
    expect(warningRecord(i.id)).toBeUndefined();
    expect(i.tags[IDLE_SINCE]).toBeUndefined();
    expect(postedText()).toContain('Warning cancelled');
  });
});

describe('Proof: limits hold across retries', () => {
  beforeEach(() => {
    ec2Mock.resetHistory();
    cwMock.resetHistory();
  });

  it('acts on at most maxActionsPerRun instances over three deliveries of one scheduled event with Slack failing', async () => {
    // Prepare: 60 instances due (warned five hours ago), Slack down for all three deliveries
    world = newWorld(
      fleetOf(...Array.from({ length: 60 }, () => ({ idleSinceTag: BACKDATED, record: DELIVERED_LONG_AGO('stop') }))),
    );
    world.slackFailures = Number.POSITIVE_INFINITY;
    const event = scheduledEvent(NOW_MS);
    // Act: the scheduled invocation and Lambda's two retries of the same event
    const runs = [];
    for (const later of [0, 1, 3]) runs.push(await runOnce(LIVE, NOW_MS + later * MINUTE, event));
    // Assess
    expect(world.ec2.effects.size).toBe(25);
    const deferred = runs[2]!.instances.filter((r) => r.decision === 'deferred');
    expect(deferred).toHaveLength(35);
    expect(deferred[0]!.reason).toMatch(/action limit for this period reached/);
    // The next period acts on the next 25.
    world.slackFailures = 0;
    await runOnce(LIVE, NOW_MS + 61 * MINUTE);
    expect(world.ec2.effects.size).toBe(50);
  });
});

describe('Proof: the ledger is complete', () => {
  let server: SlackTestServer;
  const secrets = mockClient(SecretsManagerClient);
  const saved = { ...process.env };

  beforeEach(async () => {
    server = await startSlackServer();
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'xoxb-ledger-test' });
    Object.assign(process.env, {
      AWS_REGION: REGION,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      [ENV.stateTable]: TABLE,
      [ENV.slackSecret]: 'ml-cost-guard/slack',
      [ENV.config]: JSON.stringify({
        dryRun: false,
        idleGpu: { action: 'stop', schedule: SCHEDULE },
        slack: { channel: '#ml-finops', apiUrl: server.url },
      }),
    });
    // The handler reads its clock (new Date()): only Date is faked, timers and microtasks run for real.
    clockAt(TEST_NOW);
  });
  afterEach(async () => {
    jest.useRealTimers();
    process.env = { ...saved };
    secrets.restore();
    await server.close();
  });

  it("writes the reaper's stops to the savings ledger the monthly summary reads", async () => {
    // Prepare: one instance due (a delivered warning from five hours ago)
    world = newWorld(fleetOf({ record: DELIVERED_LONG_AGO('stop') }));
    const i = world.fleet[0]!;
    const handler = lambdaHandler('reaper', (ctx, event: unknown) => reaperCapability.run(ctx, event));
    // Act
    const summary = await handler(scheduledEvent(NOW_MS));
    // Assess
    expect(i.state).toBe('stopped');
    const ledger = [...table.items.values()].filter((item) => item.pk?.S === 'ledger#2026-11');
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({
      capability: { S: 'reaper' },
      kind: { S: 'stop' },
      target: { S: i.id },
      region: { S: REGION },
    });
    expect(Number(ledger[0]!.monthlySavingsUsd?.N)).toBeCloseTo(summary.monthlySavingsUsd, 6);
    expect(summary.monthlySavingsUsd).toBeGreaterThan(0);
  });
});
