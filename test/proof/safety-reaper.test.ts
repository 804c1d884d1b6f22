/**
 * Proof suite, safety of the idle GPU reaper: fast-check properties over random fleets (1-12 instances) with random
 * tags (opt-out in any case, keep-until past/future/garbage, Auto Scaling / EKS / Karpenter / fleet membership,
 * idle-since past/future/garbage/stale), ages, instance types (GPU, Neuron, non-GPU, unknown), lifecycles (on-demand,
 * one-time and persistent Spot), termination protection, metric gaps (missing datapoints, no GPU series), configs
 * (terminate / stop / notify, warn period, cap, dry-run) and injected faults (throttling, 5xx, timeouts, partial
 * failures of Stop / Terminate / CreateTags / DescribeInstanceAttribute per instance, Slack refusing the digest).
 *
 * The oracle (`forbiddenReason`) states the guard rails from ground truth, independently of the reaper's code: an
 * instance may be stopped or terminated only if none of them applies. The end-to-end property runs the whole handler
 * twice over a stateful fake EC2 + CloudWatch (the second run sees what the first one changed) and checks every
 * Stop/Terminate call the mock recorded against the oracle.
 */

import assert from 'node:assert/strict';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DeleteTagsCommand,
  type DeleteTagsCommandInput,
  DescribeInstanceAttributeCommand,
  type DescribeInstanceAttributeCommandInput,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandInput,
  DescribeSpotInstanceRequestsCommand,
  type DescribeSpotInstanceRequestsCommandInput,
  EC2Client,
  StopInstancesCommand,
  type StopInstancesCommandInput,
  TerminateInstancesCommand,
  type TerminateInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Notifier } from '../../lambda/adapters/slack';
import { parseConfig } from '../../lambda/core/config';
import type { InstanceFacts, InstanceTypeFacts } from '../../lambda/core/instances';
import { checkBeforeAct, decideInstance } from '../../lambda/core/reaper/decide';
import type { InstanceMetrics } from '../../lambda/core/reaper/types';
import type { SlackMessage } from '../../lambda/core/slack-blocks';
import { type ReaperSummary, reaperCapability } from '../../lambda/services/reaper';
import { SlackDeliveryError } from '../../lambda/shared/errors';
import { randomCase } from '../helpers/arbitraries';
import { TEST_NOW, testContext } from '../helpers/context';
import { RoutedFakes } from '../helpers/routed-fakes';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);

const NOW_MS = TEST_NOW.getTime();
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const IDLE_SINCE = 'cost-guard:idle-since';
const OPT_OUT = 'cost-guard:opt-out';
const KEEP_UNTIL = 'cost-guard:keep-until';
const RUNS = 1000;

// ---------------------------------------------------------------------------------------------------------------
// The world: instance types, instance specs, faults
// ---------------------------------------------------------------------------------------------------------------

type TypeKind = 'gpu' | 'neuron' | 'none' | 'unknown';
const TYPES: Readonly<Record<string, { kind: TypeKind; gpus: number }>> = {
  'g5.xlarge': { kind: 'gpu', gpus: 1 },
  'g5.12xlarge': { kind: 'gpu', gpus: 4 },
  'p3.2xlarge': { kind: 'gpu', gpus: 1 },
  'inf2.xlarge': { kind: 'neuron', gpus: 0 },
  'm5.large': { kind: 'none', gpus: 0 },
  'zz9.large': { kind: 'unknown', gpus: 0 },
};

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

interface SeriesSpec {
  readonly points: number;
  readonly busy: boolean;
}

interface InstanceSpec {
  readonly type: string;
  /** Minutes between launch and TEST_NOW; null = EC2 gives no launch time. */
  readonly launchAgo: number | null;
  readonly lifecycle: 'on-demand' | 'one-time' | 'persistent';
  readonly protected: boolean;
  readonly optOut: { readonly key: string; readonly value: string } | null;
  readonly keepUntil: { readonly key: string; readonly kind: KeepKind; readonly pick: number } | null;
  readonly member: number | null;
  /** Minutes before TEST_NOW (negative: in the future), an unparsable value, or older than the launch. */
  readonly idleSince:
    | { readonly kind: 'ago'; readonly minutes: number }
    | { readonly kind: 'garbage'; readonly value: string }
    | { readonly kind: 'before-launch' }
    | null;
  readonly agent: boolean;
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
  readonly allowCpuOnlyDecision: boolean;
  readonly includeNeuron: boolean;
  readonly minimumDatapointsPercent: number;
}

const GPU_IDLE = 3;
const GPU_BUSY = 60;
const CPU_IDLE = 2;
const CPU_BUSY = 50;
const NET_QUIET = 1_000;
const NET_BUSY = 1_000_000_000;
const EXPECTED_POINTS = 12; // lookbackMinutes 60 at 5-minute periods

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

const instanceSpecArb: fc.Arbitrary<InstanceSpec> = fc.record({
  type: fc.oneof(
    { arbitrary: fc.constantFrom('g5.xlarge', 'g5.12xlarge', 'p3.2xlarge'), weight: 8 },
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
  member: sometimes(fc.nat(MEMBERSHIP.length - 1), 1, 6),
  idleSince: fc.oneof(
    { arbitrary: fc.constant(null), weight: 3 },
    {
      arbitrary: fc.record({ kind: fc.constant('ago' as const), minutes: fc.integer({ min: -180, max: 600 }) }),
      weight: 5,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('garbage' as const),
        value: fc.constantFrom('yesterday', 'soon', 'n/a', ''),
      }),
      weight: 1,
    },
    { arbitrary: fc.constant({ kind: 'before-launch' as const }), weight: 1 },
  ),
  agent: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
  gpu: fc.array(seriesArb, { minLength: 4, maxLength: 4 }),
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
  allowCpuOnlyDecision: fc.boolean(),
  includeNeuron: fc.boolean(),
  minimumDatapointsPercent: fc.constantFrom(50, 80, 100),
});

const toConfig = (c: ConfigSpec) => ({
  idleGpu: {
    action: c.action,
    lookbackMinutes: 60,
    warnMinutesBeforeAction: c.warnMinutesBeforeAction,
    minimumAgeMinutes: c.minimumAgeMinutes,
    maxActionsPerRun: c.maxActionsPerRun,
    allowCpuOnlyDecision: c.allowCpuOnlyDecision,
    includeNeuron: c.includeNeuron,
    minimumDatapointsPercent: c.minimumDatapointsPercent,
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Materialized instances (the fake's state) and the oracle
// ---------------------------------------------------------------------------------------------------------------

interface FakeInstance {
  readonly id: string;
  readonly type: string;
  readonly launchMs: number | undefined;
  readonly tags: Record<string, string>;
  state: 'running' | 'stopped' | 'terminated';
  readonly lifecycle: 'on-demand' | 'spot';
  readonly spotRequestId?: string;
  readonly spotType?: 'one-time' | 'persistent';
  readonly protected: boolean;
  readonly keepKind?: KeepKind;
  readonly agent: boolean;
  readonly gpu: readonly SeriesSpec[];
  readonly cpu: SeriesSpec;
  readonly net: SeriesSpec;
  readonly actFault?: Fault;
  readonly tagFault?: Fault;
  readonly attrFault?: Fault;
}

function materialize(spec: InstanceSpec, index: number): FakeInstance {
  const id = `i-${(0x1000 + index).toString(16).padStart(17, '0')}`;
  const launchMs = spec.launchAgo === null ? undefined : NOW_MS - spec.launchAgo * MINUTE;
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
  if (spec.idleSince?.kind === 'ago')
    tags[IDLE_SINCE] = new Date(NOW_MS - spec.idleSince.minutes * MINUTE).toISOString();
  else if (spec.idleSince?.kind === 'garbage') tags[IDLE_SINCE] = spec.idleSince.value;
  else if (spec.idleSince?.kind === 'before-launch') {
    tags[IDLE_SINCE] = new Date((launchMs ?? NOW_MS) - 30 * MINUTE).toISOString();
  }
  const spot = spec.lifecycle !== 'on-demand';
  return {
    id,
    type: spec.type,
    launchMs,
    tags,
    state: 'running',
    lifecycle: spot ? 'spot' : 'on-demand',
    ...(spot ? { spotRequestId: `sir-${index}`, spotType: spec.lifecycle as 'one-time' | 'persistent' } : {}),
    protected: spec.protected,
    ...(spec.keepUntil ? { keepKind: spec.keepUntil.kind } : {}),
    agent: spec.agent,
    gpu: spec.gpu.slice(0, TYPES[spec.type]!.gpus),
    cpu: spec.cpu,
    net: spec.net,
    ...(spec.actFault ? { actFault: { ...spec.actFault } } : {}),
    ...(spec.tagFault ? { tagFault: { ...spec.tagFault } } : {}),
    ...(spec.attrFault ? { attrFault: { ...spec.attrFault } } : {}),
  };
}

const lowerKeyValue = (tags: Readonly<Record<string, string>>, key: string) =>
  Object.entries(tags).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];

const hasGpuSeries = (i: FakeInstance) => i.agent && i.gpu.length > 0;

/** The injected faults that fired during one run (what the reaper could not know). */
interface Fired {
  readonly ops: Set<string>;
  readonly attr: Set<string>;
}

/**
 * Why the guard rails forbid stopping or terminating `i` at `nowMs`, from ground truth (tags, age, type, metrics
 * served, protection) and the faults that fired in the run; undefined when acting is allowed.
 */
function forbiddenReason(i: FakeInstance, c: ConfigSpec, nowMs: number, fired: Fired): string | undefined {
  if (i.state !== 'running') return 'not running';
  if (c.dryRun) return 'dry run';
  if (c.action === 'notify') return 'action notify';
  if (fired.ops.has('DescribeInstances')) return 'instances could not be listed';
  const kind = TYPES[i.type]!.kind;
  if (kind === 'unknown') return 'unknown type';
  if (kind === 'none') return 'not a GPU type';
  if (kind === 'neuron' && !c.includeNeuron) return 'Neuron type excluded';
  if (lowerKeyValue(i.tags, OPT_OUT)?.trim().toLowerCase() === 'true') return 'opted out';
  if (i.keepKind && KEPT.has(i.keepKind)) return `keep-until ${i.keepKind}`;
  const member = Object.keys(i.tags).find(
    (k) => MEMBER_KEYS.includes(k.toLowerCase()) || k.toLowerCase().startsWith('kubernetes.io/cluster/'),
  );
  if (member) return `member (${member})`;
  if (i.launchMs === undefined) return 'launch time unknown';
  if (nowMs - i.launchMs < c.minimumAgeMinutes * MINUTE) return 'too young';
  if (c.action === 'stop' && i.lifecycle === 'spot' && i.spotType !== 'persistent') return 'one-time Spot';
  if (fired.ops.has('ListMetrics') || fired.ops.has('GetMetricData')) return 'metrics could not be read';
  const required = requiredPoints(c.minimumDatapointsPercent);
  const complete = (s: SeriesSpec) => s.points >= required && !s.busy;
  if (hasGpuSeries(i)) {
    if (!i.gpu.every(complete)) return 'GPU busy or GPU datapoints missing';
  } else if (!c.allowCpuOnlyDecision) return 'no GPU metrics';
  if (!complete(i.cpu)) return 'CPU busy or CPU datapoints missing';
  if (!complete(i.net)) return 'network busy or network datapoints missing';
  if (c.warnMinutesBeforeAction > 0) {
    const tag = i.tags[IDLE_SINCE];
    if (tag === undefined) return 'not warned';
    const since = Date.parse(tag);
    if (Number.isNaN(since)) return 'idle-since unparsable';
    if (since > nowMs) return 'idle-since in the future';
    if (since < i.launchMs) return 'idle-since older than the launch';
    if (nowMs - since < c.warnMinutesBeforeAction * MINUTE) return 'warning period not over';
  }
  if (c.action === 'terminate' && i.protected) return 'termination protection';
  if (c.action === 'terminate' && fired.attr.has(i.id)) return 'termination protection unknown';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The fake AWS (stateful across the runs of one sample)
// ---------------------------------------------------------------------------------------------------------------

interface GlobalFaults {
  describeInstances?: Fault;
  describeTypes?: Fault;
  spot?: Fault;
  listMetrics?: Fault;
  getMetricData?: Fault;
}

interface World {
  readonly fleet: FakeInstance[];
  readonly byId: Map<string, FakeInstance>;
  readonly faults: GlobalFaults;
  slackFailures: number;
  readonly posts: SlackMessage[];
  /** Successful Stop/Terminate effects per instance, over the whole sample. */
  readonly effects: Map<string, number>;
  /** Stop/Terminate calls that named an instance this sample had already stopped or terminated. */
  readonly repeated: string[];
  // Per run:
  fired: Fired;
  runEffects: Set<string>;
  lastActError: Map<string, string>;
}

let world: World;

function awsError(code: string): Error {
  const status = code === 'InternalError' ? 500 : code === 'RequestTimeout' ? 408 : 400;
  return Object.assign(new Error(`${code} (simulated)`), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

function trip(fault: Fault | undefined, op: string): void {
  if (fault && fault.times > 0) {
    fault.times -= 1;
    world.fired.ops.add(op);
    throw awsError(fault.code);
  }
}

const fakes = new RoutedFakes();
const route: RoutedFakes['route'] = (command, fake) => fakes.route(command, fake);
const dispatch = fakes.dispatch;

function installFakeAws(): void {
  ec2Mock.send.callsFake(dispatch as never);
  cwMock.send.callsFake(dispatch as never);
  route(DescribeInstancesCommand, (input: DescribeInstancesCommandInput) => {
    trip(world.faults.describeInstances, 'DescribeInstances');
    const states = input.Filters?.find((f) => f.Name === 'instance-state-name')?.Values;
    return {
      Reservations: [
        {
          Instances: world.fleet
            .filter((i) => !states || states.includes(i.state))
            .map((i) => ({
              InstanceId: i.id,
              InstanceType: i.type,
              ...(i.launchMs !== undefined ? { LaunchTime: new Date(i.launchMs) } : {}),
              State: { Name: i.state },
              Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
              ...(i.lifecycle === 'spot' ? { InstanceLifecycle: 'spot', SpotInstanceRequestId: i.spotRequestId } : {}),
            })),
        },
      ],
    };
  });
  route(DescribeInstanceTypesCommand, (input: DescribeInstanceTypesCommandInput) => {
    trip(world.faults.describeTypes, 'DescribeInstanceTypes');
    const names = (input.InstanceTypes ?? []) as string[];
    if (names.some((n) => TYPES[n]?.kind === 'unknown' || !TYPES[n])) throw awsError('InvalidInstanceType');
    return {
      InstanceTypes: names.map((n) => {
        const t = TYPES[n]!;
        if (t.kind === 'gpu') {
          return { InstanceType: n, GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: t.gpus }] } };
        }
        if (t.kind === 'neuron') {
          return { InstanceType: n, NeuronInfo: { NeuronDevices: [{ Name: 'Inferentia2', Count: 1 }] } };
        }
        return { InstanceType: n };
      }),
    };
  });
  route(DescribeSpotInstanceRequestsCommand, (input: DescribeSpotInstanceRequestsCommandInput) => {
    trip(world.faults.spot, 'DescribeSpotInstanceRequests');
    const ids = input.SpotInstanceRequestIds ?? [];
    return {
      SpotInstanceRequests: world.fleet
        .filter((i) => i.spotRequestId && ids.includes(i.spotRequestId))
        .map((i) => ({ SpotInstanceRequestId: i.spotRequestId, Type: i.spotType })),
    };
  });
  route(DescribeInstanceAttributeCommand, (input: DescribeInstanceAttributeCommandInput) => {
    const inst = world.byId.get(input.InstanceId!)!;
    if (inst.attrFault && inst.attrFault.times > 0) {
      inst.attrFault.times -= 1;
      world.fired.attr.add(inst.id);
      throw awsError(inst.attrFault.code);
    }
    return { InstanceId: inst.id, DisableApiTermination: { Value: inst.protected } };
  });
  route(CreateTagsCommand, (input: CreateTagsCommandInput) => {
    const targets = (input.Resources ?? []).map((id) => world.byId.get(id)!);
    const bad = targets.find((i) => i.tagFault && i.tagFault.times > 0);
    if (bad) {
      bad.tagFault!.times -= 1;
      throw awsError(bad.tagFault!.code);
    }
    for (const i of targets) for (const t of input.Tags ?? []) i.tags[t.Key!] = t.Value ?? '';
    return {};
  });
  route(DeleteTagsCommand, (input: DeleteTagsCommandInput) => {
    for (const id of input.Resources ?? []) for (const t of input.Tags ?? []) delete world.byId.get(id)!.tags[t.Key!];
    return {};
  });
  // All or nothing per call, as EC2 answers an error for the whole request.
  const act = (to: 'stopped' | 'terminated') => (input: StopInstancesCommandInput | TerminateInstancesCommandInput) => {
    const targets = (input.InstanceIds ?? []).map((id) => world.byId.get(id)!);
    for (const i of targets) if ((world.effects.get(i.id) ?? 0) > 0) world.repeated.push(i.id);
    const fail = (code: string) => {
      for (const t of targets) world.lastActError.set(t.id, code);
      throw awsError(code);
    };
    for (const i of targets) {
      if (i.actFault && i.actFault.times > 0) {
        i.actFault.times -= 1;
        fail(i.actFault.code);
      }
      if (to === 'terminated' && i.protected) fail('OperationNotPermitted');
      if (to === 'stopped' && i.lifecycle === 'spot' && i.spotType === 'one-time') fail('UnsupportedOperation');
      if (i.state === 'terminated') fail('IncorrectInstanceState');
    }
    for (const i of targets) {
      if (i.state === 'running') {
        world.effects.set(i.id, (world.effects.get(i.id) ?? 0) + 1);
        world.runEffects.add(i.id);
      }
      i.state = to;
      world.lastActError.delete(i.id);
    }
    const list = targets.map((i) => ({ InstanceId: i.id }));
    return to === 'stopped' ? { StoppingInstances: list } : { TerminatingInstances: list };
  };
  route(StopInstancesCommand, act('stopped'));
  route(TerminateInstancesCommand, act('terminated'));

  route(ListMetricsCommand, () => {
    trip(world.faults.listMetrics, 'ListMetrics');
    return {
      Metrics: world.fleet
        .filter((i) => i.state === 'running' && hasGpuSeries(i))
        .flatMap((i) =>
          i.gpu.map((_, g) => ({
            Namespace: 'CWAgent',
            MetricName: 'nvidia_smi_utilization_gpu',
            Dimensions: [
              { Name: 'InstanceId', Value: i.id },
              { Name: 'index', Value: String(g) },
              { Name: 'name', Value: 'NVIDIA A10G' },
            ],
          })),
        ),
    };
  });
  route(GetMetricDataCommand, (input: GetMetricDataCommandInput) => {
    trip(world.faults.getMetricData, 'GetMetricData');
    return {
      MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
        const metric = q.MetricStat!.Metric!;
        const dims = metric.Dimensions ?? [];
        const inst = world.byId.get(dims.find((d) => d.Name === 'InstanceId')!.Value!)!;
        let spec: SeriesSpec;
        let value: number;
        if (metric.MetricName === 'nvidia_smi_utilization_gpu') {
          spec = inst.gpu[Number(dims.find((d) => d.Name === 'index')!.Value)]!;
          value = spec.busy ? GPU_BUSY : GPU_IDLE;
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

const notifier: Notifier = {
  kind: 'slack',
  async post(message: SlackMessage) {
    if (world.slackFailures > 0) {
      world.slackFailures -= 1;
      throw new SlackDeliveryError('Slack did not accept the message: internal_error', 'internal_error');
    }
    world.posts.push(message);
    return { channel: '#c', ts: `1700000000.${world.posts.length}` };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// One run, checked
// ---------------------------------------------------------------------------------------------------------------

const DECISIONS = new Set(['skip', 'unknown', 'busy', 'warn', 'wait', 'act', 'notify', 'deferred']);

interface RunStats {
  acted: number;
  failedActions: number;
  threw: number;
}

async function runAndCheck(c: ConfigSpec, nowMs: number, stats: RunStats): Promise<void> {
  // Prepare: the state the run starts from, for the oracle
  world.fired = { ops: new Set(), attr: new Set() };
  world.runEffects = new Set();
  world.lastActError = new Map();
  ec2Mock.resetHistory();
  cwMock.resetHistory();
  const before = world.fleet.map((i) => ({ ...i, tags: { ...i.tags } }));
  const ctx = testContext({ config: toConfig(c), now: new Date(nowMs), dryRun: c.dryRun, notifier });

  // Act
  let summary: ReaperSummary;
  try {
    summary = await reaperCapability.run(ctx);
  } catch (error) {
    // A failed run must still say what it did.
    assert.ok(error instanceof Error && error.message.length > 0, `run threw a non-error: ${String(error)}`);
    const carried = (error as { summary?: ReaperSummary }).summary;
    assert.ok(carried, `run threw without a summary: ${(error as Error).stack}`);
    summary = carried!;
    stats.threw += 1;
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
  }
  if (c.action !== 'terminate') assert.equal(terminateCalls.length, 0, `TerminateInstances with action ${c.action}`);
  if (c.action !== 'stop') assert.equal(stopCalls.length, 0, `StopInstances with action ${c.action}`);

  // Assess: every instance asked to stop or terminate was allowed to be
  const allowed = before.filter((i) => forbiddenReason(i, c, nowMs, world.fired) === undefined).map((i) => i.id);
  for (const id of attempted) {
    const reason = forbiddenReason(before.find((i) => i.id === id)!, c, nowMs, world.fired);
    assert.equal(reason, undefined, `${id} was acted on although: ${reason}`);
  }
  assert.ok(attempted.size <= c.maxActionsPerRun, `${attempted.size} instances acted on, cap ${c.maxActionsPerRun}`);
  // ...and with the type and Spot lookups answered, the cap is filled from the allowed ones.
  if (!world.fired.ops.has('DescribeInstanceTypes') && !world.fired.ops.has('DescribeSpotInstanceRequests')) {
    assert.equal(attempted.size, Math.min(c.maxActionsPerRun, allowed.length), 'cap not filled from allowed ones');
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
  }

  // Assess: each Stop/Terminate outcome is reported, failures as failed with the EC2 error code
  const actionRecords = summary.actions.filter((a) => a.kind === 'stop' || a.kind === 'terminate');
  assert.equal(new Set(actionRecords.map((a) => a.target)).size, actionRecords.length, 'two actions on one instance');
  assert.ok(actionRecords.length <= c.maxActionsPerRun, `${actionRecords.length} actions recorded`);
  for (const id of attempted) {
    const report = summary.instances.find((r) => r.instanceId === id)!;
    const record = actionRecords.find((a) => a.target === id)!;
    if (world.runEffects.has(id)) {
      assert.deepEqual(report.action, { kind: c.action, status: 'done' }, `${id}: reported ${report.action?.status}`);
      assert.equal(record.status, 'done', `${id}: recorded ${record.status}`);
      stats.acted += 1;
    } else {
      const code = world.lastActError.get(id);
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
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const fleetArb = fc.array(instanceSpecArb, { minLength: 1, maxLength: 12 });

function newWorld(fleet: FakeInstance[], faults: GlobalFaults = {}, slackFailures = 0): World {
  return {
    fleet,
    byId: new Map(fleet.map((i) => [i.id, i])),
    faults,
    slackFailures,
    posts: [],
    effects: new Map(),
    repeated: [],
    fired: { ops: new Set(), attr: new Set() },
    runEffects: new Set(),
    lastActError: new Map(),
  };
}

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
});

describe('Proof: idle GPU reaper safety (properties)', () => {
  beforeAll(() => installFakeAws());
  afterAll(() => {
    ec2Mock.restore();
    cwMock.restore();
  });

  it('decides act (after the last check) exactly when no guard rail applies', () => {
    // Prepare / Act / Assess: the pure decision over random instances, metrics, tags and configs
    let acts = 0;
    fc.assert(
      fc.property(instanceSpecArb, configSpecArb, fc.integer({ min: 0, max: 600 }), (spec, rawConfig, later) => {
        const c = { ...rawConfig, dryRun: false };
        const nowMs = NOW_MS + later * MINUTE;
        const inst = materialize(spec, 0);
        const t = TYPES[inst.type]!;
        const facts: InstanceFacts = {
          instanceId: inst.id,
          region: 'us-east-1',
          instanceType: inst.type,
          state: inst.state,
          ...(inst.launchMs !== undefined ? { launchTime: new Date(inst.launchMs).toISOString() } : {}),
          tags: inst.tags,
          lifecycle: inst.lifecycle,
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
        const decided = decideInstance(facts, typeFacts, metrics, new Date(nowMs), config);
        const final =
          decided.kind === 'act' && c.action !== 'notify'
            ? checkBeforeAct(decided, c.action, { terminationProtected: inst.protected })
            : decided;
        const reason = forbiddenReason(inst, c, nowMs, { ops: new Set(), attr: new Set() });
        if (final.kind === 'act') acts += 1;
        assert.equal(
          final.kind === 'act',
          reason === undefined,
          `decided ${final.kind} (${final.code}); oracle: ${reason}`,
        );
      }),
      { numRuns: RUNS },
    );
    // The property is not vacuous: a good share of the samples acted.
    expect(acts).toBeGreaterThan(RUNS / 50);
  });

  it('never stops or terminates a guarded instance, never twice, reports every outcome, over two runs with faults', async () => {
    const stats: RunStats = { acted: 0, failedActions: 0, threw: 0 };
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        configSpecArb,
        globalFaultsArb,
        fc.constantFrom(0, 30, 61, 240, 600),
        async (specs, c, faults, laterMinutes) => {
          // Prepare
          const fleet = specs.map(materialize);
          const { slackFailures, ...global } = faults;
          const copy = (f: { code: string; times: number } | null) => (f ? { ...f } : undefined);
          world = newWorld(
            fleet,
            {
              describeInstances: copy(global.describeInstances),
              describeTypes: copy(global.describeTypes),
              spot: copy(global.spot),
              listMetrics: copy(global.listMetrics),
              getMetricData: copy(global.getMetricData),
            },
            slackFailures,
          );
          // Act + Assess: the first run, then a second one over the fleet as the first left it
          await runAndCheck(c, NOW_MS, stats);
          await runAndCheck(c, NOW_MS + laterMinutes * MINUTE, stats);
          // Assess: no instance was stopped or terminated twice across the runs
          for (const [id, n] of world.effects) assert.equal(n, 1, `${id} stopped or terminated ${n} times`);
        },
      ),
      { numRuns: RUNS },
    );
    // The property is not vacuous: instances were acted on, some actions failed, some runs failed.
    expect(stats.acted).toBeGreaterThan(RUNS / 5);
    expect(stats.failedActions).toBeGreaterThan(RUNS / 50);
    expect(stats.threw).toBeGreaterThan(RUNS / 50);
  });

  it('changes nothing in dry-run or with action notify, whatever the fleet', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        configSpecArb,
        fc.constantFrom('dry-run', 'notify'),
        async (specs, rawConfig, mode) => {
          // Prepare
          const c: ConfigSpec =
            mode === 'dry-run' ? { ...rawConfig, dryRun: true } : { ...rawConfig, action: 'notify' };
          const fleet = specs.map(materialize);
          world = newWorld(fleet);
          const tagsBefore = fleet.map((i) => ({ ...i.tags }));
          // Act + Assess (runAndCheck asserts that no mutating call was made)
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
      { numRuns: RUNS },
    );
  });

  // Regression: with warnMinutesBeforeAction 0 an idle-since tag that is not a time ('yesterday') once made the run
  // act, then throw a RangeError with no summary. The decision now counts such a tag from now.
  it('acts and reports when warnMinutesBeforeAction is 0 and the idle-since tag is not a time', async () => {
    // Prepare
    const inst = materialize(
      {
        type: 'g5.xlarge',
        launchAgo: 600,
        lifecycle: 'on-demand',
        protected: false,
        optOut: null,
        keepUntil: null,
        member: null,
        idleSince: { kind: 'garbage', value: 'yesterday' },
        agent: true,
        gpu: [{ points: 12, busy: false }],
        cpu: { points: 12, busy: false },
        net: { points: 12, busy: false },
        actFault: null,
        tagFault: null,
        attrFault: null,
      },
      0,
    );
    world = newWorld([inst]);
    const ctx = testContext({ config: { idleGpu: { action: 'terminate', warnMinutesBeforeAction: 0 } }, notifier });
    // Act
    const summary = await reaperCapability.run(ctx);
    // Assess
    expect(summary.instances[0]).toMatchObject({ decision: 'act', action: { kind: 'terminate', status: 'done' } });
    expect(Number.isNaN(Date.parse(summary.instances[0]!.idleSince!))).toBe(false);
    expect(world.posts).toHaveLength(1);
  });
});
