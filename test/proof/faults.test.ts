/**
 * Proof suite, faults: for each handler (reaper, lifecycle, budgets) and each step (every AWS operation it calls, and
 * the Slack post), inject throttling, a 5xx and a timeout (the SDK's retries are off: the ClientFactory makes one
 * attempt, as `testContext` does), and Slack 429 (retried, then accepted) / 500 (refused) on the loopback Slack
 * server. Each run must finish, or fail with an error that names the fault (carrying its summary when it acted),
 * report every outcome, and leave state a retry can finish from: the retry (fault gone) completes, acts on nothing
 * twice and, for the budget guard, delivers each alert exactly once. Lifecycle writes are all or nothing: every
 * bucket ends with either its old configuration or the merged one, never something in between.
 *
 * Faults are injected on the run's own clients (the ClientFactory's instance `send` is wrapped before the run), so
 * the same stateful fakes serve every case and the retry, built with a fresh context, sees no fault.
 */
import assert from 'node:assert/strict';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DeleteBucketLifecycleCommand,
  GetBucketLifecycleConfigurationCommand,
  type GetBucketLifecycleConfigurationCommandInput,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  type GetBucketTaggingCommandInput,
  GetBucketVersioningCommand,
  type LifecycleRule,
  ListBucketsCommand,
  PutBucketLifecycleConfigurationCommand,
  type PutBucketLifecycleConfigurationCommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../lambda/adapters/clients';
import { SlackNotifier } from '../../lambda/adapters/slack';
import { type CostGuardConfigInput, parseConfig } from '../../lambda/core/config';
import { buildContext, type RunContext } from '../../lambda/runtime/context';
import { type BudgetsSummary, budgetsCapability } from '../../lambda/services/budgets';
import { type LifecycleRunSummary, lifecycleCapability } from '../../lambda/services/lifecycle';
import { type ReaperSummary, reaperCapability } from '../../lambda/services/reaper';
import { MemoryMetrics, silentLog } from '../../lambda/shared/observability';
import { TEST_NOW } from '../helpers/context';
import { FakeEc2, type FakeInstance, fakeInstance } from '../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { RoutedFakes } from '../helpers/routed-fakes';
import { type ScriptedResponse, type SlackTestServer, startSlackServer } from '../helpers/slack-server';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);
const s3Mock = mockClient(S3Client);
const budgetsMock = mockClient(BudgetsClient);
const stsMock = mockClient(STSClient);

const NOW_MS = TEST_NOW.getTime();
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------------------------------
// Faults and their injection
// ---------------------------------------------------------------------------------------------------------------

type FaultKind = 'throttling' | '5xx' | 'timeout';
const FAULT_KINDS: readonly FaultKind[] = ['throttling', '5xx', 'timeout'];
type Service = 'EC2' | 'CloudWatch' | 'S3' | 'Budgets' | 'DynamoDB' | 'STS';

/** Each service's throttling error code, as it answers when its rate is exceeded. */
const THROTTLE: Readonly<Record<Service, { code: string; status: number }>> = {
  EC2: { code: 'RequestLimitExceeded', status: 503 },
  CloudWatch: { code: 'Throttling', status: 400 },
  S3: { code: 'SlowDown', status: 503 },
  Budgets: { code: 'ThrottlingException', status: 400 },
  DynamoDB: { code: 'ThrottlingException', status: 400 },
  STS: { code: 'Throttling', status: 400 },
};

interface InjectedFault {
  readonly kind: FaultKind;
  readonly code: string;
  readonly error: Error;
}

/** The error the SDK hands back once its retries are spent (or, for a timeout, what the HTTP handler throws). */
function faultOf(kind: FaultKind, service: Service): InjectedFault {
  if (kind === 'timeout') {
    const error = Object.assign(
      new Error(
        '@smithy/node-http-handler - the request socket timed out after 3000 ms of inactivity (configured by client requestHandler).',
      ),
      { name: 'TimeoutError' },
    );
    return { kind, code: 'TimeoutError', error };
  }
  const { code, status } =
    kind === 'throttling'
      ? THROTTLE[service]
      : { code: service === 'DynamoDB' ? 'InternalServerError' : 'InternalError', status: 500 };
  const message = kind === 'throttling' ? 'Rate exceeded' : 'We encountered an internal error. Please try again.';
  const error = Object.assign(new Error(message), {
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 1 },
    ...(kind === 'throttling' ? { $retryable: { throttling: true } } : {}),
  });
  return { kind, code, error };
}

interface Injection {
  readonly service: Service;
  /** Operation name, e.g. 'StopInstances'. */
  readonly operation: string;
  /** Only calls whose input mentions this string (an instance ID, a bucket name) fail; all calls when absent. */
  readonly target?: string;
}

type Sender = (
  this: unknown,
  command: { constructor: { name: string }; input: unknown },
  ...rest: unknown[]
) => unknown;

/** Makes `operation` fail with `fault` on the run's client of `service`; returns how often it fired. */
function inject(ctx: RunContext, injection: Injection, fault: InjectedFault): { fired: number } {
  const clients: Record<Service, () => object> = {
    EC2: () => ctx.clients.ec2(),
    CloudWatch: () => ctx.clients.cloudwatch(),
    S3: () => ctx.clients.s3(),
    Budgets: () => ctx.clients.budgets(),
    DynamoDB: () => ctx.clients.dynamodb(),
    STS: () => ctx.clients.sts(),
  };
  const client = clients[injection.service]();
  const inner = (client as { send: Sender }).send;
  const hits = { fired: 0 };
  Object.defineProperty(client, 'send', {
    configurable: true,
    value(this: unknown, command: { constructor: { name: string }; input: unknown }, ...rest: unknown[]) {
      if (
        command.constructor.name === `${injection.operation}Command` &&
        (injection.target === undefined || JSON.stringify(command.input).includes(injection.target))
      ) {
        hits.fired += 1;
        return Promise.reject(fault.error);
      }
      return inner.call(this, command, ...rest);
    },
  });
  return hits;
}

/** True when `text` names the fault (its code, or its message for errors passed through unchanged). */
const namesFault = (text: string, fault: InjectedFault) =>
  text.includes(fault.code) || text.includes(fault.error.message);

// ---------------------------------------------------------------------------------------------------------------
// Shared plumbing: routed fakes, loopback Slack, contexts
// ---------------------------------------------------------------------------------------------------------------

const fakes = new RoutedFakes();
const route: RoutedFakes['route'] = (command, fake) => fakes.route(command, fake);
const dispatch = fakes.dispatch;

/** A deep copy made in this realm (structuredClone's objects fail strict deep equality under jest's vm). */
const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

function awsError(code: string, status = 400): Error {
  return Object.assign(new Error(`${code} (simulated)`), { name: code, $metadata: { httpStatusCode: status } });
}

let server: SlackTestServer;
let table: FakeStateTable;

beforeAll(() => {
  for (const m of [ec2Mock, cwMock, s3Mock, budgetsMock, stsMock]) m.send.callsFake(dispatch as never);
  table = fakeStateTable();
});
afterAll(() => {
  table.mock.restore();
  for (const m of [ec2Mock, cwMock, s3Mock, budgetsMock, stsMock]) m.restore();
});
beforeEach(async () => {
  for (const m of [ec2Mock, cwMock, s3Mock, budgetsMock, stsMock]) m.resetHistory();
  table.items.clear();
  server = await startSlackServer();
});
afterEach(async () => {
  await server.close();
});

/** A run context like testContext's (one SDK attempt, fixed clock), with Slack on the loopback server. */
function context(config: CostGuardConfigInput, o: { accountId?: boolean; stateTable?: boolean } = {}) {
  return buildContext({
    config: parseConfig({ dryRun: false, ...config }),
    now: TEST_NOW,
    defaultRegion: 'us-east-1',
    notifier: new SlackNotifier({
      token: 'xoxb-test',
      channel: '#c',
      apiUrl: server.url,
      retries: 1,
      minRetryDelayMs: 5,
    }),
    log: silentLog,
    metrics: new MemoryMetrics(),
    clients: new ClientFactory({ defaultRegion: 'us-east-1', maxAttempts: 1 }),
    ...(o.accountId === false ? {} : { accountId: '123456789012' }),
    ...(o.stateTable ? { stateTableName: 'state' } : {}),
  });
}

/** A run's outcome: its summary (returned, or carried by the error), and the error when it failed. */
interface Outcome<S> {
  readonly summary?: S;
  readonly error?: Error;
}
async function settle<S>(run: Promise<S>): Promise<Outcome<S>> {
  try {
    return { summary: await run };
  } catch (error) {
    assert.ok(error instanceof Error, `the run threw a non-error: ${String(error)}`);
    assert.ok(error.message.length > 0, 'the run threw an error without a message');
    const summary = (error as { summary?: S }).summary;
    return { error, ...(summary ? { summary } : {}) };
  }
}

const SLACK_CASES: readonly (readonly [string, readonly ScriptedResponse[], boolean])[] = [
  ['429, retried then accepted', [{ kind: 'rate-limited', retryAfterSeconds: 0 }], true],
  [
    '500 (refused)',
    [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    ],
    false,
  ],
];

// ---------------------------------------------------------------------------------------------------------------
// Idle GPU reaper
// ---------------------------------------------------------------------------------------------------------------

/** An instance of the reaper's fake EC2, with the GPU utilization CloudWatch reports for it. */
interface ReaperInstance extends FakeInstance {
  readonly gpu: number;
}

const OLD_WARNING = new Date(NOW_MS - 3 * HOUR).toISOString();
const IDLE_SINCE = 'cost-guard:idle-since';

/** The reaper's fleet on the shared fake EC2 (routed by `reset`, which the budget guard's fleet also does). */
const reaper = {
  fleet: [] as ReaperInstance[],
  ec2: new FakeEc2(),
  reset() {
    const make = (id: string, over: Partial<ReaperInstance> = {}): ReaperInstance => ({
      id,
      type: 'g5.xlarge',
      tags: { Name: id, [IDLE_SINCE]: OLD_WARNING },
      state: 'running',
      launchTime: new Date(NOW_MS - 24 * HOUR),
      gpu: 0,
      ...over,
    });
    this.fleet = [
      make('i-act'),
      make('i-act2'),
      make('i-spot', { lifecycle: 'spot', spotRequestId: 'sir-i-spot', spotType: 'persistent' }),
      make('i-new', { tags: { Name: 'i-new' } }),
      make('i-busy', { gpu: 80 }),
      make('i-cpu', { type: 'm5.large', tags: { Name: 'i-cpu' } }),
    ];
    this.ec2 = new FakeEc2({ instances: this.fleet });
    this.ec2.routeOn(fakes);
  },
  /** Successful stops and terminations per instance. */
  get effects(): ReadonlyMap<string, number> {
    return this.ec2.effects;
  },
  get(id: string): ReaperInstance {
    return this.fleet.find((i) => i.id === id)!;
  },
};

route(ListMetricsCommand, () => ({
  Metrics: reaper.fleet
    .filter((i) => i.state === 'running' && i.type.startsWith('g5'))
    .map((i) => ({
      Namespace: 'CWAgent',
      MetricName: 'nvidia_smi_utilization_gpu',
      Dimensions: [
        { Name: 'InstanceId', Value: i.id },
        { Name: 'index', Value: '0' },
      ],
    })),
}));
route(GetMetricDataCommand, (input: GetMetricDataCommandInput) => ({
  MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
    const metric = q.MetricStat!.Metric!;
    if (metric.Namespace === 'AWS/S3') {
      const type = metric.Dimensions?.find((d) => d.Name === 'StorageType')?.Value;
      return { Id: q.Id, Values: type === 'StandardStorage' ? [500 * 1024 ** 3] : [] };
    }
    const inst = reaper.get(metric.Dimensions!.find((d) => d.Name === 'InstanceId')!.Value!);
    const value =
      metric.MetricName === 'nvidia_smi_utilization_gpu' ? inst.gpu : metric.MetricName === 'CPUUtilization' ? 1 : 1000;
    return { Id: q.Id, Values: Array(12).fill(value) };
  }),
}));

const GPU_IDS = ['i-act', 'i-act2', 'i-busy', 'i-new', 'i-spot'];
/** The instances whose warning Slack accepted three hours ago (their idle-since tag mirrors it). */
const WARNED_IDS = ['i-act', 'i-act2', 'i-spot', 'i-busy'];

/** Puts the delivered warnings of WARNED_IDS in the state table, announcing `action`. */
function seedWarnings(action: 'stop' | 'terminate'): void {
  const S = (v: string) => ({ S: v });
  for (const id of WARNED_IDS) {
    table.items.set(`warning#us-east-1\u0000${id}`, {
      pk: S('warning#us-east-1'),
      sk: S(id),
      instanceId: S(id),
      region: S('us-east-1'),
      status: S('delivered'),
      idleSince: S(OLD_WARNING),
      action: S(action),
      warnedAt: S(OLD_WARNING),
      actionDue: S(new Date(NOW_MS - 2 * HOUR).toISOString()),
      slackChannel: S('C0SEED'),
      slackTs: S('1699999999.000100'),
      runToken: S('seed'),
      ttl: { N: String(Math.floor(NOW_MS / 1000) + 30 * 86_400) },
    });
  }
}
const warningOf = (id: string) => table.get('warning#us-east-1', id);
/** A reaper context: Slack on the loopback server and the state table, so it may warn and act. */
const reaperContext = (action: 'stop' | 'terminate') => context({ idleGpu: { action } }, { stateTable: true });

interface ReaperStep {
  readonly step: string;
  readonly injection: Injection;
  readonly action: 'stop' | 'terminate';
  readonly assess: (o: Outcome<ReaperSummary>, fault: InjectedFault) => void;
}

const entry = (s: ReaperSummary, id: string) => s.instances.find((i) => i.instanceId === id)!;
const notesOf = (s: { notes: readonly string[] }) => s.notes.join('\n');

const REAPER_STEPS: readonly ReaperStep[] = [
  {
    step: 'DescribeInstances',
    injection: { service: 'EC2', operation: 'DescribeInstances' },
    action: 'stop',
    assess: (o, f) => {
      assert.ok(o.error, 'the run should fail: its region could not be scanned');
      assert.match(o.error.message, /could not be scanned/);
      assert.ok(namesFault(o.error.message, f), o.error.message);
      assert.deepEqual(o.summary!.instances, []);
      assert.equal(reaper.effects.size, 0);
    },
  },
  {
    step: 'DescribeInstanceTypes',
    injection: { service: 'EC2', operation: 'DescribeInstanceTypes' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(
        s.instances.map((i) => [i.instanceId, i.code]).sort(),
        [...GPU_IDS, 'i-cpu'].sort().map((id) => [id, 'unknown-type']),
      );
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(reaper.effects.size, 0);
      // Blind to its instance types, the reaper acted on nothing and fails the run so the errors alarm fires.
      assert.ok(o.error && namesFault(o.error.message, f), o.error?.message);
    },
  },
  {
    step: 'DescribeSpotInstanceRequests',
    injection: { service: 'EC2', operation: 'DescribeSpotInstanceRequests' },
    action: 'stop',
    assess: (o) => {
      const s = o.summary!;
      assert.equal(entry(s, 'i-spot').code, 'spot-cannot-stop');
      assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
      assert.equal(reaper.get('i-spot').state, 'running');
    },
  },
  {
    step: 'ListMetrics',
    injection: { service: 'CloudWatch', operation: 'ListMetrics' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      for (const id of GPU_IDS) assert.equal(entry(s, id).decision, 'unknown', id);
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(reaper.effects.size, 0);
    },
  },
  {
    step: 'GetMetricData',
    injection: { service: 'CloudWatch', operation: 'GetMetricData' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      for (const id of GPU_IDS) assert.equal(entry(s, id).decision, 'unknown', id);
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(reaper.effects.size, 0);
      // Not knowing is not evidence of work: the busy instance keeps its tag.
      assert.equal(reaper.get('i-busy').tags[IDLE_SINCE], OLD_WARNING);
    },
  },
  {
    step: 'DescribeInstanceAttribute (one instance)',
    injection: { service: 'EC2', operation: 'DescribeInstanceAttribute', target: 'i-act"' },
    action: 'terminate',
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(entry(s, 'i-act').code, 'termination-protection-unknown');
      assert.equal(reaper.get('i-act').state, 'running');
      assert.deepEqual(entry(s, 'i-act2').action, { kind: 'terminate', status: 'done' });
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
    },
  },
  {
    step: 'TerminateInstances (one instance)',
    injection: { service: 'EC2', operation: 'TerminateInstances', target: 'i-act"' },
    action: 'terminate',
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(entry(s, 'i-act').action, {
        kind: 'terminate',
        status: 'failed',
        errorCode: f.code,
        errorMessage: f.error.message,
      });
      assert.equal(reaper.get('i-act').state, 'running');
      assert.deepEqual(entry(s, 'i-act2').action, { kind: 'terminate', status: 'done' });
      assert.equal(s.counts.failed, 1);
    },
  },
  {
    step: 'StopInstances (one instance)',
    injection: { service: 'EC2', operation: 'StopInstances', target: 'i-act"' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(entry(s, 'i-act').action?.status, 'failed');
      assert.equal(entry(s, 'i-act').action?.errorCode, f.code);
      assert.equal(reaper.get('i-act').state, 'running');
      assert.deepEqual(entry(s, 'i-act2').action, { kind: 'stop', status: 'done' });
      assert.deepEqual(entry(s, 'i-spot').action, { kind: 'stop', status: 'done' });
    },
  },
  {
    step: 'CreateTags (one instance)',
    injection: { service: 'EC2', operation: 'CreateTags', target: 'i-new' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      // The mirror tag failed; the warning Slack accepted stands on record.
      assert.equal(entry(s, 'i-new').tag?.status, 'failed');
      assert.equal(entry(s, 'i-new').tag?.errorCode, f.code);
      assert.equal(reaper.get('i-new').tags[IDLE_SINCE], undefined);
      assert.equal(warningOf('i-new')?.status, 'delivered');
      assert.match(notesOf(s), /mirror tag write\(s\) failed/);
      assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
    },
  },
  {
    step: 'DeleteTags (one instance)',
    injection: { service: 'EC2', operation: 'DeleteTags', target: 'i-busy' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(entry(s, 'i-busy').tag?.kind, 'untag');
      assert.equal(entry(s, 'i-busy').tag?.status, 'failed');
      assert.equal(entry(s, 'i-busy').tag?.errorCode, f.code);
      // The warning itself is gone: the tag left behind is never read.
      assert.equal(warningOf('i-busy'), undefined);
      assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
    },
  },
  {
    step: 'Query (warning records)',
    injection: { service: 'DynamoDB', operation: 'Query' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      // Without its records the reaper cannot know what was warned: it reports, acts on nothing, and alarms.
      assert.equal(reaper.effects.size, 0);
      assert.ok(o.error && namesFault(o.error.message, f), o.error?.message);
      assert.match(notesOf(s), /warning records could not be read/);
      assert.equal(entry(s, 'i-new').decision, 'notify');
      assert.equal(warningOf('i-new'), undefined);
    },
  },
  {
    step: 'PutItem (one warning record)',
    injection: { service: 'DynamoDB', operation: 'PutItem', target: 'i-new' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(entry(s, 'i-new').warning, { status: 'not-recorded' });
      assert.equal(warningOf('i-new'), undefined);
      assert.equal(reaper.get('i-new').tags[IDLE_SINCE], undefined);
      assert.ok(o.error && namesFault(o.error.message, f), o.error?.message);
      assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
    },
  },
  {
    step: 'UpdateItem (action limit and warning delivery)',
    injection: { service: 'DynamoDB', operation: 'UpdateItem' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      // The period's limit cannot be checked: nothing is acted on. The warning cannot be marked delivered: it does
      // not count, and the next run warns again.
      assert.equal(reaper.effects.size, 0);
      assert.equal(entry(s, 'i-act').decision, 'deferred');
      assert.equal(warningOf('i-new')?.status, 'pending');
      assert.ok(o.error && namesFault(o.error.message, f), o.error?.message);
    },
  },
  {
    step: 'DeleteItem (one warning record)',
    injection: { service: 'DynamoDB', operation: 'DeleteItem', target: 'i-busy' },
    action: 'stop',
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(warningOf('i-busy')?.status, 'delivered');
      assert.equal(entry(s, 'i-busy').warningCleared, undefined);
      assert.ok(o.error && namesFault(o.error.message, f), o.error?.message);
      assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
    },
  },
];

/** Checks that hold whatever failed: outcomes consistent with EC2's state, failures carried in the error. */
function assessReaperRun(o: Outcome<ReaperSummary>): void {
  assert.ok(o.summary, `the reaper failed without a summary: ${o.error?.stack}`);
  if (o.error) assert.equal(o.error.name, 'ReaperRunError');
  for (const a of o.summary.actions) {
    if (a.kind !== 'stop' && a.kind !== 'terminate') continue;
    const state = reaper.get(a.target).state;
    assert.equal(state !== 'running', a.status === 'done', `${a.target}: recorded ${a.status}, EC2 says ${state}`);
  }
}

/** The retry after the fault is gone finishes and acts on nothing twice. */
async function assessReaperRetry(action: 'stop' | 'terminate'): Promise<void> {
  const retry = await settle(reaperCapability.run(reaperContext(action)));
  assert.equal(retry.error, undefined, `the retry failed: ${retry.error?.message}`);
  for (const [id, n] of reaper.effects) assert.equal(n, 1, `${id} acted on ${n} times`);
}

describe('Proof: reaper faults', () => {
  beforeEach(() => reaper.reset());

  it.each(REAPER_STEPS.flatMap((s) => FAULT_KINDS.map((k) => [s.step, k, s] as const)))(
    'finishes or fails cleanly when %s fails with %s, and the retry completes',
    async (_step, kind, s) => {
      // Prepare
      const fault = faultOf(kind, s.injection.service);
      seedWarnings(s.action);
      const ctx = reaperContext(s.action);
      const hits = inject(ctx, s.injection, fault);
      // Act
      const outcome = await settle(reaperCapability.run(ctx));
      // Assess
      assert.ok(hits.fired > 0, `${s.step} was never called`);
      assessReaperRun(outcome);
      s.assess(outcome, fault);
      await assessReaperRetry(s.action);
    },
  );

  it.each(SLACK_CASES)('posts the digest when Slack answers %s, or fails with the summary', async (_, script, ok) => {
    // Prepare
    server.script.push(...script);
    seedWarnings('stop');
    // Act
    const outcome = await settle(reaperCapability.run(reaperContext('stop')));
    // Assess
    assessReaperRun(outcome);
    const s = outcome.summary!;
    assert.deepEqual(entry(s, 'i-act').action, { kind: 'stop', status: 'done' });
    if (ok) {
      assert.equal(outcome.error, undefined);
      assert.equal(s.slack.posted, s.slack.messages);
      assert.equal(server.posts().length, s.slack.messages + 1);
    } else {
      assert.match(outcome.error!.message, /Slack digest not delivered/);
      assert.ok(s.slack.error, 'the Slack error is not in the summary');
      // The warning nobody read stays pending, without a tag: the next run warns again before acting.
      assert.equal(reaper.get('i-new').tags[IDLE_SINCE], undefined);
      assert.equal(warningOf('i-new')?.status, 'pending');
    }
    await assessReaperRetry('stop');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Storage lifecycle
// ---------------------------------------------------------------------------------------------------------------

interface LifecycleConfig {
  readonly Rules: LifecycleRule[];
}
interface FakeBucket {
  readonly tagged: boolean;
  config?: LifecycleConfig;
}

const teamRule = (id: string, prefix: string): LifecycleRule => ({
  ID: id,
  Filter: { Prefix: prefix },
  Status: 'Enabled',
  Expiration: { Days: 90 },
});

const lifecycle = {
  buckets: new Map<string, FakeBucket>(),
  reset() {
    this.buckets = new Map<string, FakeBucket>([
      ['ml-a', { tagged: true }],
      ['ml-b', { tagged: true, config: { Rules: [teamRule('team-logs', 'logs/')] } }],
      ['ml-c', { tagged: true, config: { Rules: [teamRule('team-tmp', 'tmp/')] } }],
      ['web', { tagged: false, config: { Rules: [teamRule('web-logs', 'logs/')] } }],
      ['ml-listed', { tagged: false }],
    ]);
  },
  snapshot(): Record<string, LifecycleConfig | undefined> {
    return Object.fromEntries([...this.buckets].map(([name, b]) => [name, clone(b.config)]));
  },
  bucket(name: string) {
    const b = this.buckets.get(name);
    if (!b) throw awsError('NoSuchBucket', 404);
    return b;
  },
};

route(ListBucketsCommand, () => ({ Buckets: [...lifecycle.buckets.keys()].map((Name) => ({ Name })) }));
route(GetBucketLocationCommand, (input: { Bucket?: string }) => {
  lifecycle.bucket(input.Bucket!);
  return {};
});
route(GetBucketTaggingCommand, (input: GetBucketTaggingCommandInput) => {
  if (!lifecycle.bucket(input.Bucket!).tagged) throw awsError('NoSuchTagSet', 404);
  return { TagSet: [{ Key: 'cost-guard:lifecycle', Value: 'managed' }] };
});
// No bucket has a policy: none is a log bucket (a policy read that fails protects the bucket for that run).
route(GetBucketPolicyCommand, (input: { Bucket?: string }) => {
  lifecycle.bucket(input.Bucket!);
  throw awsError('NoSuchBucketPolicy', 404);
});
route(GetBucketVersioningCommand, () => ({ Status: 'Enabled' }));
route(GetBucketLifecycleConfigurationCommand, (input: GetBucketLifecycleConfigurationCommandInput) => {
  const b = lifecycle.bucket(input.Bucket!);
  if (!b.config) throw awsError('NoSuchLifecycleConfiguration', 404);
  return clone(b.config);
});
// PutBucketLifecycleConfiguration replaces the whole configuration at once, as S3 does.
route(PutBucketLifecycleConfigurationCommand, (input: PutBucketLifecycleConfigurationCommandInput) => {
  lifecycle.bucket(input.Bucket!).config = { Rules: clone(input.LifecycleConfiguration!.Rules!) };
  return {};
});
route(DeleteBucketLifecycleCommand, (input: { Bucket?: string }) => {
  lifecycle.bucket(input.Bucket!).config = undefined;
  return {};
});

const LIFECYCLE_CONFIG: CostGuardConfigInput = { storage: { buckets: ['ml-listed'] } };
const MANAGED = ['ml-a', 'ml-b', 'ml-c', 'ml-listed'];

interface LifecycleStep {
  readonly step: string;
  readonly injection: Injection;
  /** The run must fail (errors alarm) with its summary: nothing could be selected. */
  readonly failsRun?: boolean;
  readonly assess: (o: Outcome<LifecycleRunSummary>, fault: InjectedFault) => void;
}

const bucketReport = (s: LifecycleRunSummary, name: string) => s.buckets.find((b) => b.bucket === name);

const LIFECYCLE_STEPS: readonly LifecycleStep[] = [
  {
    step: 'ListBuckets',
    injection: { service: 'S3', operation: 'ListBuckets' },
    failsRun: true,
    assess: (o, f) => {
      const s = o.summary!;
      assert.match(notesOf(s), /ListBuckets failed/);
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.deepEqual(
        s.buckets.map((b) => [b.bucket, b.decision]),
        [['ml-listed', 'changed']],
      );
    },
  },
  {
    step: 'GetBucketLocation (one bucket)',
    injection: { service: 'S3', operation: 'GetBucketLocation', target: 'ml-b' },
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(s.tagReadFailures, [{ bucket: 'ml-b', code: f.code }]);
      assert.equal(bucketReport(s, 'ml-b'), undefined);
      assert.equal(bucketReport(s, 'ml-a')!.decision, 'changed');
    },
  },
  {
    step: 'GetBucketTagging (one bucket)',
    injection: { service: 'S3', operation: 'GetBucketTagging', target: 'ml-b' },
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(s.tagReadFailures, [{ bucket: 'ml-b', code: f.code }]);
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(bucketReport(s, 'ml-c')!.decision, 'changed');
    },
  },
  {
    step: 'GetBucketPolicy (one bucket)',
    injection: { service: 'S3', operation: 'GetBucketPolicy', target: 'ml-b' },
    assess: (o, f) => {
      // When in doubt, no write: the bucket is reported as protected this run, the others change.
      const s = o.summary!;
      const b = bucketReport(s, 'ml-b')!;
      assert.equal(b.decision, 'protected');
      assert.ok(namesFault(b.notices.join('\n'), f), b.notices.join('\n'));
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(bucketReport(s, 'ml-a')!.decision, 'changed');
    },
  },
  {
    step: 'GetBucketVersioning (one bucket)',
    injection: { service: 'S3', operation: 'GetBucketVersioning', target: 'ml-b' },
    assess: (o, f) => {
      const b = bucketReport(o.summary!, 'ml-b')!;
      assert.equal(b.decision, 'changed');
      assert.ok(
        b.notices.some((n) => n.includes('versioning cannot be read') && n.includes(f.code)),
        b.notices.join('\n'),
      );
    },
  },
  {
    step: 'GetBucketLifecycleConfiguration (one bucket)',
    injection: { service: 'S3', operation: 'GetBucketLifecycleConfiguration', target: 'ml-b' },
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(bucketReport(s, 'ml-b')!.decision, 'unreadable');
      assert.equal(bucketReport(s, 'ml-b')!.errorCode, f.code);
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      assert.equal(bucketReport(s, 'ml-a')!.decision, 'changed');
    },
  },
  {
    step: 'GetMetricData (bucket sizes)',
    injection: { service: 'CloudWatch', operation: 'GetMetricData' },
    assess: (o, f) => {
      const s = o.summary!;
      assert.ok(namesFault(notesOf(s), f), notesOf(s));
      for (const name of MANAGED) {
        assert.equal(bucketReport(s, name)!.decision, 'changed', name);
        assert.equal(bucketReport(s, name)!.projection, undefined, name);
      }
    },
  },
  {
    step: 'PutBucketLifecycleConfiguration (one bucket)',
    injection: { service: 'S3', operation: 'PutBucketLifecycleConfiguration', target: 'ml-b' },
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(bucketReport(s, 'ml-b')!.decision, 'failed');
      assert.equal(bucketReport(s, 'ml-b')!.errorCode, f.code);
      assert.deepEqual(
        s.actions.filter((a) => a.target === 'ml-b').map((a) => [a.kind, a.status, a.errorCode]),
        [['lifecycle-put', 'failed', f.code]],
      );
      for (const name of ['ml-a', 'ml-c', 'ml-listed']) assert.equal(bucketReport(s, name)!.decision, 'changed');
      assert.match(JSON.stringify(server.posts()), new RegExp(`write failed \\(${f.code}\\)`));
    },
  },
];

/** The configurations a clean run leaves (computed once on a fresh account). */
let mergedConfigs: Record<string, LifecycleConfig | undefined>;

/** Every bucket holds its old configuration or the merged one: a write is never half applied. */
function assessAllOrNothing(
  before: Record<string, LifecycleConfig | undefined>,
  s: LifecycleRunSummary | undefined,
): void {
  const after = lifecycle.snapshot();
  for (const [name, config] of Object.entries(after)) {
    const decision = s ? bucketReport(s, name)?.decision : undefined;
    const expected = decision === 'changed' ? mergedConfigs[name] : before[name];
    assert.deepEqual(config, expected, `${name} (${decision ?? 'not managed'}) holds a configuration it should not`);
  }
}

describe('Proof: storage lifecycle faults', () => {
  beforeAll(async () => {
    lifecycle.reset();
    server = await startSlackServer();
    await lifecycleCapability.run(context(LIFECYCLE_CONFIG));
    await server.close();
    mergedConfigs = lifecycle.snapshot();
    // The clean run changes every managed bucket and leaves the others alone.
    for (const name of MANAGED) assert.ok(mergedConfigs[name]?.Rules.some((r) => r.ID?.startsWith('cost-guard-')));
    assert.deepEqual(mergedConfigs.web, { Rules: [teamRule('web-logs', 'logs/')] });
  });
  beforeEach(() => lifecycle.reset());

  it.each(LIFECYCLE_STEPS.flatMap((s) => FAULT_KINDS.map((k) => [s.step, k, s] as const)))(
    'finishes when %s fails with %s, reports it, leaves no half-applied configuration, and the retry completes',
    async (_step, kind, s) => {
      // Prepare
      const fault = faultOf(kind, s.injection.service);
      const ctx = context(LIFECYCLE_CONFIG);
      const hits = inject(ctx, s.injection, fault);
      const before = lifecycle.snapshot();
      // Act
      const outcome = await settle(lifecycleCapability.run(ctx));
      // Assess
      assert.ok(hits.fired > 0, `${s.step} was never called`);
      if (s.failsRun) {
        assert.ok(
          outcome.error && namesFault(outcome.error.message, fault),
          `expected the run to fail naming ${fault.code}`,
        );
        assert.ok(outcome.summary, 'the failed run carries its summary');
      } else assert.equal(outcome.error, undefined, `the lifecycle run threw: ${outcome.error?.stack}`);
      s.assess(outcome, fault);
      assessAllOrNothing(before, outcome.summary);
      // Act + Assess: the retry brings every managed bucket to the merged configuration
      const retry = await settle(lifecycleCapability.run(context(LIFECYCLE_CONFIG)));
      assert.equal(retry.error, undefined);
      assert.deepEqual(lifecycle.snapshot(), mergedConfigs);
    },
  );

  it.each(SLACK_CASES)(
    'changes the buckets once Slack accepted the announcement of rules that delete data (%s), else holds them',
    async (_, script, ok) => {
      // Prepare: the default rules expire data, so every managed bucket's first write is announced before it is made.
      server.script.push(...script);
      const before = lifecycle.snapshot();
      // Act
      const outcome = await settle(lifecycleCapability.run(context(LIFECYCLE_CONFIG)));
      // Assess
      const s = outcome.summary!;
      if (ok) {
        assert.equal(outcome.error, undefined);
        assert.deepEqual(lifecycle.snapshot(), mergedConfigs);
        assert.equal(s.bucketsChanged, MANAGED.length);
        assert.equal(s.slackMessages, 2);
      } else {
        // Nobody could have read the announcement: nothing is written, the run fails (errors alarm) and says why.
        assert.deepEqual(lifecycle.snapshot(), before);
        for (const name of MANAGED) assert.equal(bucketReport(s, name)!.decision, 'held', name);
        assert.match(outcome.error?.message ?? '', /announcement of rules that delete data was not delivered/);
        assert.match(notesOf(s), /announcement of rules that delete data was not delivered/);
        // The retry announces again and writes.
        const posts = server.posts().length;
        const retry = await settle(lifecycleCapability.run(context(LIFECYCLE_CONFIG)));
        assert.equal(retry.error, undefined);
        assert.deepEqual(lifecycle.snapshot(), mergedConfigs);
        assert.match(server.posts()[posts]!.text, /rules that delete data go on 4 buckets/);
      }
    },
  );

  it('fails the run when the digest did not go out after the writes, and the retry writes nothing again', async () => {
    // Prepare: the announcement is accepted, the digest after the writes is refused (two 500s: one retry).
    server.script.push({ kind: 'ok' }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    // Act
    const outcome = await settle(lifecycleCapability.run(context(LIFECYCLE_CONFIG)));
    // Assess
    const s = outcome.summary!;
    assert.deepEqual(lifecycle.snapshot(), mergedConfigs);
    assert.equal(s.bucketsChanged, MANAGED.length);
    assert.match(outcome.error?.message ?? '', /Slack digest was not delivered/);
    assert.equal(s.slackMessages, 1);
    assert.match(notesOf(s), /Slack digest was not delivered/);
    const retry = await settle(lifecycleCapability.run(context(LIFECYCLE_CONFIG)));
    assert.equal(retry.error, undefined);
    assert.equal(retry.summary!.actions.length, 0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Budget guard
// ---------------------------------------------------------------------------------------------------------------

/** The budget guard's fleet on the shared fake EC2 (routed by `reset`, which the reaper's fleet also does). */
const budgets = {
  ec2: new FakeEc2(),
  reset() {
    this.ec2 = new FakeEc2({
      instances: [
        fakeInstance('i-ml-1', { tags: { team: 'ml' } }),
        fakeInstance('i-ml-2', { tags: { team: 'ml' } }),
        fakeInstance('i-ml-essential', { tags: { team: 'ml', 'Cost-Guard:Essential': 'TRUE' } }),
        fakeInstance('i-data', { tags: { team: 'data' } }),
      ],
    });
    this.ec2.routeOn(fakes);
  },
  /** Successful stops per instance. */
  get effects(): ReadonlyMap<string, number> {
    return this.ec2.effects;
  },
  get(id: string): FakeInstance {
    return this.ec2.get(id);
  },
  /**
   * Makes EC2 refuse to stop `id` as it refuses a one-time Spot instance (UnsupportedOperation), while
   * DescribeInstances still lists it as on-demand: the guard learns only from the failed stop.
   */
  refuseStop(id: string): void {
    this.ec2.faults.push({ operation: 'StopInstances', code: 'UnsupportedOperation', instanceId: id });
  },
};

const budget = (name: string, actual: number) => ({
  BudgetName: name,
  BudgetType: 'COST',
  TimeUnit: 'MONTHLY',
  BudgetLimit: { Amount: '1000', Unit: 'USD' },
  CalculatedSpend: { ActualSpend: { Amount: String(actual), Unit: 'USD' } },
  TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
});
route(DescribeBudgetsCommand, () => ({ Budgets: [budget('ml', 960), budget('data', 850)] }));
route(GetCallerIdentityCommand, () => ({ Account: '123456789012' }));

const BUDGETS_CONFIG: CostGuardConfigInput = {
  budgets: {
    action: 'stop-non-essential',
    items: [
      { name: 'ml', scopeTags: { team: 'ml' } },
      { name: 'data', scopeTags: { team: 'data' } },
    ],
  },
};

interface BudgetStep {
  readonly step: string;
  readonly injections: readonly Injection[];
  /** Also make these instances' stops fail (UnsupportedOperation), to reach the untag after a failed stop. */
  readonly oneTimeSpot?: readonly string[];
  readonly assess: (o: Outcome<BudgetsSummary>, fault: InjectedFault) => void;
}

const budgetReport = (s: BudgetsSummary, name: string) => s.budgets.find((b) => b.name === name)!;
const stopOf = (s: BudgetsSummary, id: string) => budgetReport(s, 'ml').stops.find((st) => st.instanceId === id);

/** The whole run cannot start: it fails with the service's error, having changed and posted nothing. */
const failsUpFront = (o: Outcome<BudgetsSummary>, f: InjectedFault) => {
  assert.ok(o.error, 'the run should fail');
  assert.ok(namesFault(o.error.message, f), o.error.message);
  assert.equal(server.posts().length, 0);
  assert.equal(budgets.effects.size, 0);
};

const BUDGET_STEPS: readonly BudgetStep[] = [
  { step: 'GetCallerIdentity', injections: [{ service: 'STS', operation: 'GetCallerIdentity' }], assess: failsUpFront },
  { step: 'DescribeBudgets', injections: [{ service: 'Budgets', operation: 'DescribeBudgets' }], assess: failsUpFront },
  {
    step: 'DescribeInstanceTypes',
    injections: [{ service: 'EC2', operation: 'DescribeInstanceTypes' }],
    assess: (o) => {
      const s = o.summary!;
      assert.equal(o.error, undefined);
      assert.match(notesOf(s), /DescribeInstanceTypes failed/);
      assert.equal(budgets.effects.size, 0);
      assert.deepEqual(budgetReport(s, 'ml').stops, []);
      assert.deepEqual([...budgetReport(s, 'ml').alerted].sort(), ['action-95', 'alert-80']);
    },
  },
  {
    step: 'CreateTags (one instance)',
    injections: [{ service: 'EC2', operation: 'CreateTags', target: 'i-ml-1' }],
    assess: (o, f) => {
      const s = o.summary!;
      assert.deepEqual(stopOf(s, 'i-ml-1'), {
        instanceId: 'i-ml-1',
        region: 'us-east-1',
        instanceType: 'g5.xlarge',
        hourlyUsd: stopOf(s, 'i-ml-1')!.hourlyUsd,
        monthlyUsd: stopOf(s, 'i-ml-1')!.monthlyUsd,
        status: 'failed',
        errorCode: f.code,
        note: 'could not tag it, so it was not stopped',
      });
      assert.equal(budgets.get('i-ml-1').state, 'running');
      assert.equal(stopOf(s, 'i-ml-2')!.status, 'done');
    },
  },
  {
    step: 'StopInstances (one instance)',
    injections: [{ service: 'EC2', operation: 'StopInstances', target: 'i-ml-1' }],
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(stopOf(s, 'i-ml-1')!.status, 'failed');
      assert.equal(stopOf(s, 'i-ml-1')!.errorCode, f.code);
      // The stopped-by tags written before the stop are removed again.
      assert.deepEqual(budgets.get('i-ml-1').tags, { team: 'ml' });
      assert.equal(stopOf(s, 'i-ml-2')!.status, 'done');
    },
  },
  {
    step: 'DeleteTags (after a failed stop)',
    injections: [{ service: 'EC2', operation: 'DeleteTags', target: 'i-ml-1' }],
    oneTimeSpot: ['i-ml-1'],
    assess: (o, f) => {
      const s = o.summary!;
      assert.equal(stopOf(s, 'i-ml-1')!.status, 'failed');
      assert.deepEqual(
        s.actions.filter((a) => a.target === 'i-ml-1').map((a) => [a.kind, a.status, a.errorCode]),
        [
          ['tag', 'done', undefined],
          ['stop', 'failed', 'UnsupportedOperation'],
          ['untag', 'failed', f.code],
        ],
      );
      assert.equal(stopOf(s, 'i-ml-2')!.status, 'done');
    },
  },
  {
    step: 'DynamoDB PutItem (claim)',
    injections: [{ service: 'DynamoDB', operation: 'PutItem' }],
    assess: failsUpFront,
  },
  {
    step: 'DynamoDB UpdateItem (mark sent)',
    injections: [{ service: 'DynamoDB', operation: 'UpdateItem' }],
    assess: (o, f) => {
      assert.ok(o.error, 'the run should fail: it could not record the alert as sent');
      assert.ok(namesFault(o.error.message, f), o.error.message);
      // Slack took it: the run says so instead of blaming Slack, and nothing is marked undelivered.
      assert.match(o.summary!.notes.join('\n'), /ml: alert sent but not recorded/);
      assert.deepEqual([...budgetReport(o.summary!, 'ml').deliveryFailed], []);
    },
  },
];

/** Checks that hold whatever failed: nothing protected or out of scope stopped, no stop recorded without effect. */
function assessBudgetRun(o: Outcome<BudgetsSummary>): void {
  for (const id of budgets.effects.keys()) assert.ok(['i-ml-1', 'i-ml-2'].includes(id), `${id} was stopped`);
  if (!o.summary) return;
  for (const b of o.summary.budgets) {
    for (const st of b.stops) {
      if (st.status === 'done') assert.ok(budgets.effects.has(st.instanceId), `${st.instanceId} reported stopped`);
      if (st.status === 'failed') assert.ok(st.errorCode, `${st.instanceId} failed without a code`);
    }
  }
}

/**
 * After the retry (fault gone): each budget alerted exactly once, nothing stopped twice. `refused` counts the requests
 * Slack answered with 429/500 (they carried the first budget's alert, 'ml').
 */
async function assessBudgetRetry(refused = 0): Promise<BudgetsSummary> {
  const retry = await settle(budgetsCapability.run(context(BUDGETS_CONFIG, { stateTable: true })));
  assert.equal(retry.error, undefined, `the retry failed: ${retry.error?.message}`);
  assessBudgetRun(retry);
  const posts = server.posts();
  for (const name of ['ml', 'data']) {
    const n = posts.filter((p) => p.text.startsWith(`Budget ${name} `)).length - (name === 'ml' ? refused : 0);
    assert.equal(n, 1, `budget ${name} alerted ${n} times over the run and its retry`);
  }
  for (const [id, n] of budgets.effects) assert.equal(n, 1, `${id} stopped ${n} times`);
  return retry.summary!;
}

describe('Proof: budget guard faults', () => {
  beforeEach(() => budgets.reset());

  it.each(BUDGET_STEPS.flatMap((s) => FAULT_KINDS.map((k) => [s.step, k, s] as const)))(
    'finishes or fails cleanly when %s fails with %s, and the retry alerts exactly once',
    async (_step, kind, s) => {
      // Prepare
      for (const id of s.oneTimeSpot ?? []) budgets.refuseStop(id);
      const ctx = context(BUDGETS_CONFIG, { stateTable: true, accountId: s.step !== 'GetCallerIdentity' });
      const fault = faultOf(kind, s.injections[0]!.service);
      const hits = s.injections.map((i) => inject(ctx, i, fault));
      // Act
      const outcome = await settle(budgetsCapability.run(ctx, { source: 'ml-cost-guard.schedule' }));
      // Assess
      for (const [i, h] of hits.entries()) assert.ok(h.fired > 0, `${s.injections[i]!.operation} was never called`);
      assessBudgetRun(outcome);
      s.assess(outcome, fault);
      budgets.ec2.faults.length = 0;
      await assessBudgetRetry();
    },
  );

  // Regression: a DescribeInstances failure at the action threshold once left the alert claims pending, so no
  // alert went out until the lease expired. Now the action's claim is released (retried with its alert) and the
  // run fails with the summary, naming the EC2 error.
  it.each(FAULT_KINDS)(
    'alerts now and releases the action claim when DescribeInstances fails with %s; the retry stops and alerts once',
    async (kind) => {
      // Prepare
      const ctx = context(BUDGETS_CONFIG, { stateTable: true });
      const fault = faultOf(kind, 'EC2');
      inject(ctx, { service: 'EC2', operation: 'DescribeInstances' }, fault);
      // Act
      const outcome = await settle(budgetsCapability.run(ctx, { source: 'ml-cost-guard.schedule' }));
      // Assess: the run fails naming the EC2 error, stopped nothing, but the alert threshold went out already.
      assert.ok(outcome.error && namesFault(outcome.error.message, fault));
      assert.ok(outcome.summary, 'the failed run carries its summary');
      assert.equal(budgets.effects.size, 0);
      assert.deepEqual([...budgetReport(outcome.summary, 'ml').alerted], ['alert-80']);
      // The retry applies the action and announces it, once; no threshold is alerted twice.
      const retry = await settle(budgetsCapability.run(context(BUDGETS_CONFIG, { stateTable: true })));
      assert.equal(retry.error, undefined, `the retry failed: ${retry.error?.message}`);
      assert.deepEqual([...budgetReport(retry.summary!, 'ml').alerted], ['action-95']);
      assert.equal(stopOf(retry.summary!, 'i-ml-1')!.status, 'done');
      for (const [id, n] of budgets.effects) assert.equal(n, 1, `${id} stopped ${n} times`);
      const mlPosts = server.posts().filter((p) => p.text.startsWith('Budget ml '));
      assert.equal(mlPosts.length, 2, 'one message for the alert threshold, one for the action');
    },
  );

  it.each(SLACK_CASES)(
    'alerts, then stops, when Slack answers %s; or stops nothing, fails with the summary and resends',
    async (_, script, ok) => {
      // Prepare
      server.script.push(...script);
      // Act
      const outcome = await settle(
        budgetsCapability.run(context(BUDGETS_CONFIG, { stateTable: true }), { source: 'ml-cost-guard.schedule' }),
      );
      // Assess: the alert comes first; nothing is stopped unless Slack accepted it
      assessBudgetRun(outcome);
      const s = outcome.summary!;
      if (ok) {
        assert.equal(stopOf(s, 'i-ml-1')!.status, 'done');
        assert.equal(stopOf(s, 'i-ml-2')!.status, 'done');
        assert.equal(outcome.error, undefined);
        assert.deepEqual([...budgetReport(s, 'ml').alerted].sort(), ['action-95', 'alert-80']);
      } else {
        assert.equal(outcome.error!.name, 'BudgetRunIncompleteError');
        assert.deepEqual([...budgetReport(s, 'ml').deliveryFailed].sort(), ['action-95', 'alert-80']);
        assert.deepEqual(budgetReport(s, 'ml').stops, []);
        assert.equal(budgets.effects.size, 0, 'stopped although Slack refused the alert');
      }
      const retry = await assessBudgetRetry(script.length);
      // The retry announces, then stops.
      if (!ok)
        assert.deepEqual(
          budgetReport(retry, 'ml')
            .stops.map((st) => [st.instanceId, st.status])
            .sort(),
          [
            ['i-ml-1', 'done'],
            ['i-ml-2', 'done'],
          ],
        );
    },
  );
});
