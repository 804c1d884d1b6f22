import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  EC2Client,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { setKeep } from '../../../lambda/adapters/keep-store';
import { ConsoleNotifier, SlackNotifier } from '../../../lambda/adapters/slack';
import { WarningStore } from '../../../lambda/adapters/warning-store';
import { formatReaperText } from '../../../lambda/cli/format/reaper';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import type { KeepRecord } from '../../../lambda/core/keeps';
import { createPricing, monthlySavingsOfStop, monthlySavingsOfTerminate } from '../../../lambda/core/savings';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import {
  ReaperRunError,
  type ReaperSummary,
  reaperCapability,
  reportOnlyReason,
} from '../../../lambda/services/reaper';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type Ec2Fault, FakeEc2, type FakeInstance, type FakeType } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);
const IDLE_SINCE = 'cost-guard:idle-since';
const minutesAfter = (m: number) => new Date(TEST_NOW.getTime() + m * 60_000);
const TABLE = 'state';

/** A warning of `action` that Slack accepted at `at`, as a run of the reaper records it. */
async function warned(instanceId: string, at: string, action: 'stop' | 'terminate' = 'stop'): Promise<void> {
  const store = new WarningStore(new DynamoDBClient({ region: 'us-east-1' }), TABLE, 'seed', new Date(at));
  await store.putPending({ instanceId, region: 'us-east-1', idleSince: at, action, confidence: 'high' });
  await store.markDelivered({
    instanceId,
    region: 'us-east-1',
    slackChannel: 'C0SEED',
    slackTs: '1699999999.000100',
    warnedAt: at,
    actionDue: new Date(Date.parse(at) + 60 * 60_000).toISOString(),
  });
}

/** An instance of the shared fake EC2 with what CloudWatch reports for it. */
interface Box extends FakeInstance {
  /** GPU utilization % of every GPU; null = no CloudWatch agent. */
  readonly gpu: number | null;
  readonly cpu: number;
  /** Error code StopInstances/TerminateInstances answers for a call naming this instance. */
  readonly failWith?: string;
}

const TYPES: Record<string, FakeType> = {
  'g5.xlarge': { kind: 'gpu' },
  'p4d.24xlarge': { kind: 'gpu', count: 8 },
  'm5.large': { kind: 'none' },
};
const gpuCount = (type: string) => (TYPES[type]?.kind === 'gpu' ? (TYPES[type].count ?? 1) : 0);

function fake(id: string, over: Partial<Box> = {}): Box {
  return {
    id,
    type: 'g5.xlarge',
    tags: { Name: `box-${id}`, owner: 'alice' },
    state: 'running',
    launchTime: new Date(TEST_NOW.getTime() - 86_400_000),
    gpu: 0,
    cpu: 1,
    ...over,
  };
}

/** The shared fake EC2 and a tiny CloudWatch over the same fleet: tags stick, stopped instances stop running. */
function installFakeAws(fleet: Box[]) {
  const byId = new Map(fleet.map((i) => [i.id, i]));
  const faults = fleet.flatMap((i): Ec2Fault[] =>
    i.failWith
      ? (['StopInstances', 'TerminateInstances'] as const).map((operation) => ({
          operation,
          code: i.failWith!,
          instanceId: i.id,
        }))
      : [],
  );
  new FakeEc2({ instances: fleet, types: TYPES, faults }).install(ec2Mock);

  cwMock.on(ListMetricsCommand).callsFake(() => ({
    Metrics: fleet
      .filter((i) => i.state === 'running' && i.gpu !== null && gpuCount(i.type) > 0)
      .flatMap((i) =>
        Array.from({ length: gpuCount(i.type) }, (_, g) => ({
          Namespace: 'CWAgent',
          MetricName: 'nvidia_smi_utilization_gpu',
          Dimensions: [
            { Name: 'InstanceId', Value: i.id },
            { Name: 'index', Value: String(g) },
            { Name: 'name', Value: 'NVIDIA A10G' },
          ],
        })),
      ),
  }));
  cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const metric = q.MetricStat!.Metric!;
      const inst = byId.get(metric.Dimensions!.find((d) => d.Name === 'InstanceId')!.Value!)!;
      const value =
        metric.MetricName === 'nvidia_smi_utilization_gpu'
          ? inst.gpu!
          : metric.MetricName === 'CPUUtilization'
            ? inst.cpu
            : 1000;
      return { Id: q.Id, Values: Array(12).fill(value) };
    }),
  }));
  return byId;
}

describe('Handler: idle GPU reaper (end to end, mocked AWS, Slack on loopback)', () => {
  let server: SlackTestServer;
  let table: FakeStateTable;
  beforeAll(() => {
    table = fakeStateTable();
  });
  afterAll(() => table.mock.restore());
  beforeEach(async () => {
    ec2Mock.reset();
    cwMock.reset();
    table.items.clear();
    server = await startSlackServer();
  });
  afterEach(async () => {
    await server.close();
  });

  const notifier = () =>
    new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 1, minRetryDelayMs: 5 });
  const runAt = (now: Date, config: CostGuardConfigInput = {}, dryRun?: boolean) => {
    const ctx = testContext({
      now,
      notifier: notifier(),
      config: { idleGpu: { action: 'stop' }, ...config },
      stateTableName: TABLE,
      ...(dryRun !== undefined ? { dryRun } : {}),
    });
    return { ctx, result: reaperCapability.run(ctx) };
  };
  const entry = (s: ReaperSummary, id: string) => s.instances.find((i) => i.instanceId === id)!;
  const postedText = () =>
    server
      .posts()
      .map((p) => JSON.stringify(p.blocks))
      .join('\n');

  it('warns and tags on first detection, stops an hour later, and reports the savings model figure', async () => {
    // Prepare
    const fleet = installFakeAws([
      fake('i-idle'),
      fake('i-busy', { gpu: 80 }),
      fake('i-optout', { tags: { 'cost-guard:opt-out': 'TRUE' } }),
      fake('i-asg', { tags: { 'aws:autoscaling:groupName': 'trainers' } }),
      fake('i-cpu', { type: 'm5.large', gpu: null }),
    ]);

    // Act: first run
    const first = runAt(TEST_NOW);
    const s1 = await first.result;

    // Assess: warned and tagged, nothing stopped
    expect(entry(s1, 'i-idle')).toMatchObject({ decision: 'warn', tag: { kind: 'tag', status: 'done' } });
    expect(fleet.get('i-idle')!.tags[IDLE_SINCE]).toBe(TEST_NOW.toISOString());
    expect(entry(s1, 'i-busy').decision).toBe('busy');
    expect(entry(s1, 'i-optout')).toMatchObject({ decision: 'skip', code: 'opt-out' });
    expect(entry(s1, 'i-asg')).toMatchObject({ decision: 'skip', code: 'auto-scaling-group' });
    expect(s1.instances.find((i) => i.instanceId === 'i-cpu')).toBeUndefined();
    expect(s1.instancesScanned).toBe(5);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(server.posts()).toHaveLength(1);
    expect(postedText()).toContain('i-idle');
    expect(postedText()).toContain('Key=cost-guard:opt-out,Value=true');
    expect(first.ctx.metrics.value('Warned')).toBe(1);
    expect(first.ctx.metrics.value('InstancesScanned')).toBe(5);
    expect(first.ctx.metrics.points).toContainEqual({
      name: 'Skipped',
      value: 1,
      unit: 'Count',
      dimensions: { Reason: 'opt-out' },
    });

    // Act: 30 minutes later it is still in its warning period
    const s2 = await runAt(minutesAfter(30)).result;
    expect(entry(s2, 'i-idle').decision).toBe('wait');
    expect(server.posts()).toHaveLength(1);

    // Act: 61 minutes later it is stopped
    const third = runAt(minutesAfter(61));
    const s3 = await third.result;

    // Assess
    const expected = monthlySavingsOfStop('g5.xlarge', createPricing())!.monthlyUsd;
    expect(entry(s3, 'i-idle')).toMatchObject({ decision: 'act', action: { kind: 'stop', status: 'done' } });
    expect(ec2Mock).toHaveReceivedCommandWith(StopInstancesCommand, { InstanceIds: ['i-idle'] });
    expect(fleet.get('i-idle')!.state).toBe('stopped');
    expect(s3.monthlySavingsUsd).toBeCloseTo(expected, 6);
    expect(third.ctx.metrics.value('Stopped')).toBe(1);
    expect(third.ctx.metrics.value('EstimatedMonthlySavingsUsd')).toBeCloseTo(expected, 6);
    expect(server.posts()).toHaveLength(2);
    expect(server.posts()[1]!.text).toContain('1 stopped');
  });

  it('removes the idle-since tag when the instance became busy', async () => {
    const fleet = installFakeAws([fake('i-1', { gpu: 90, tags: { [IDLE_SINCE]: TEST_NOW.toISOString() } })]);
    const s = await runAt(minutesAfter(120)).result;
    expect(entry(s, 'i-1')).toMatchObject({ decision: 'busy', tag: { kind: 'untag', status: 'done' } });
    expect(fleet.get('i-1')!.tags[IDLE_SINCE]).toBeUndefined();
  });

  it('terminates per instance: a protected instance is reported, a failing one never blocks the others', async () => {
    // Prepare
    installFakeAws([
      fake('i-a'),
      fake('i-protected', { terminationProtected: true }),
      fake('i-gone', { failWith: 'InvalidInstanceID.NotFound' }),
      fake('i-b'),
    ]);
    for (const id of ['i-a', 'i-protected', 'i-gone', 'i-b']) await warned(id, '2026-11-15T08:00:00.000Z', 'terminate');
    // Act
    const { ctx, result } = runAt(TEST_NOW, { idleGpu: { action: 'terminate' } });
    const s = await result;
    // Assess
    expect(entry(s, 'i-a').action).toEqual({ kind: 'terminate', status: 'done' });
    expect(entry(s, 'i-b').action).toEqual({ kind: 'terminate', status: 'done' });
    expect(entry(s, 'i-gone').action).toMatchObject({ status: 'failed', errorCode: 'InvalidInstanceID.NotFound' });
    expect(entry(s, 'i-protected')).toMatchObject({ decision: 'skip', code: 'termination-protected' });
    expect(entry(s, 'i-protected').action).toBeUndefined();
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstanceAttributeCommand, 4);
    expect(ctx.metrics.value('Terminated')).toBe(2);
    const terminate = monthlySavingsOfTerminate('g5.xlarge', createPricing())!.monthlyUsd;
    expect(s.monthlySavingsUsd).toBeCloseTo(2 * terminate, 6);
    expect(postedText()).toContain('InvalidInstanceID.NotFound');
  });

  it('caps actions at maxActionsPerRun and defers the rest, oldest warning first', async () => {
    installFakeAws([fake('i-1'), fake('i-2'), fake('i-3')]);
    await warned('i-1', '2026-11-15T09:00:00.000Z');
    await warned('i-2', '2026-11-15T08:00:00.000Z');
    await warned('i-3', '2026-11-15T10:00:00.000Z');
    const s = await runAt(TEST_NOW, { idleGpu: { action: 'stop', maxActionsPerRun: 2 } }).result;
    expect(entry(s, 'i-2').action?.status).toBe('done');
    expect(entry(s, 'i-1').action?.status).toBe('done');
    expect(entry(s, 'i-3')).toMatchObject({ decision: 'deferred', code: 'max-actions-per-run' });
    expect(s.skippedByReason['max-actions-per-run']).toBe(1);
    // The limit is the period's: a second run in the same hour acts on nothing more.
    const again = await runAt(minutesAfter(10), { idleGpu: { action: 'stop', maxActionsPerRun: 2 } }).result;
    expect(entry(again, 'i-3').decision).toBe('deferred');
    expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 1);
  });

  it('in dry run changes nothing, not even tags or records, and says what would happen', async () => {
    installFakeAws([fake('i-new'), fake('i-old')]);
    await warned('i-old', '2026-11-15T08:00:00.000Z');
    const records = JSON.stringify([...table.items]);
    const s = await runAt(TEST_NOW, {}, true).result;
    expect(JSON.stringify([...table.items])).toBe(records);
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(entry(s, 'i-old').action).toEqual({ kind: 'stop', status: 'dry-run' });
    expect(entry(s, 'i-new').tag).toEqual({ kind: 'tag', status: 'dry-run' });
    expect(server.posts()[0]!.text).toMatch(/^\[DRY RUN\].*1 would be stopped/);
  });

  it('with action notify makes no write call and records the decision', async () => {
    installFakeAws([fake('i-1', { tags: { [IDLE_SINCE]: '2026-11-15T08:00:00.000Z' } }), fake('i-2')]);
    const s = await runAt(TEST_NOW, { idleGpu: { action: 'notify' } }).result;
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(DeleteTagsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(s.actions).toEqual([]);
    expect(s.instances.map((i) => i.decision)).toEqual(['notify', 'notify']);
    expect(server.posts()).toHaveLength(1);
  });

  it('does not stop a one-time Spot instance and says why', async () => {
    installFakeAws([
      fake('i-spot', {
        lifecycle: 'spot',
        spotRequestId: 'sir-1',
        spotType: 'one-time',
        tags: { [IDLE_SINCE]: '2026-11-15T08:00:00.000Z' },
      }),
    ]);
    const s = await runAt(TEST_NOW).result;
    expect(entry(s, 'i-spot')).toMatchObject({ decision: 'skip', code: 'spot-cannot-stop' });
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it('reports an unknown instance type and never acts on it', async () => {
    installFakeAws([fake('i-new-type', { type: 'zz9.48xlarge', tags: { [IDLE_SINCE]: '2026-11-15T08:00:00.000Z' } })]);
    const s = await runAt(TEST_NOW).result;
    expect(entry(s, 'i-new-type')).toMatchObject({ decision: 'skip', code: 'unknown-type' });
    expect(s.unknownTypes).toEqual(['us-east-1: zz9.48xlarge']);
    expect(server.posts()).toHaveLength(0);
  });

  it('posts nothing when nothing happened', async () => {
    installFakeAws([fake('i-busy', { gpu: 70 }), fake('i-cpu', { type: 'm5.large', gpu: null })]);
    const s = await runAt(TEST_NOW).result;
    expect(server.posts()).toHaveLength(0);
    expect(s.slack).toEqual({ messages: 0, posted: 0 });
  });

  it('does nothing when idleGpu.enabled is false, even with an idle instance and dry-run off', async () => {
    // Prepare: an instance the enabled reaper would warn about (see the first test).
    installFakeAws([fake('i-idle')]);
    // Act
    const s = await runAt(TEST_NOW, { idleGpu: { enabled: false, action: 'stop' } }, false).result;
    // Assess: nothing read, nothing written, nothing posted, and the summary says why.
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(cwMock.calls()).toHaveLength(0);
    expect(server.posts()).toHaveLength(0);
    expect(s.actions).toEqual([]);
    expect(s.notes).toEqual(['idleGpu.enabled is false: nothing done']);
  });

  it('throws after a Slack failure, counts no undelivered warning, and a retry repeats no action', async () => {
    // Prepare
    const fleet = installFakeAws([fake('i-new'), fake('i-old')]);
    await warned('i-old', '2026-11-15T08:00:00.000Z');
    server.script.push({ kind: 'slack-error', error: 'channel_not_found' });
    // Act
    const error = await runAt(TEST_NOW).result.catch((e: unknown) => e);
    // Assess: the run failed loudly, with its summary
    expect(error).toBeInstanceOf(ReaperRunError);
    const summary = (error as ReaperRunError).summary;
    expect(summary.slack.error).toContain('channel_not_found');
    expect(entry(summary, 'i-old').action?.status).toBe('done');
    expect(fleet.get('i-old')!.state).toBe('stopped');
    // The warning nobody read is on record as pending only: no tag, no grace clock.
    expect(fleet.get('i-new')!.tags[IDLE_SINCE]).toBeUndefined();
    expect(ec2Mock).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(table.get('warning#us-east-1', 'i-new')).toMatchObject({ status: 'pending' });
    expect(entry(summary, 'i-new').warning).toEqual({ status: 'not-delivered' });
    expect(summary.counts.warned).toBe(0);

    // Act: the retry (Slack works again)
    ec2Mock.resetHistory();
    const retry = await runAt(TEST_NOW).result;
    // Assess: i-old is not stopped twice; i-new is warned again
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(entry(retry, 'i-new').decision).toBe('warn');
    expect(retry.instances.find((i) => i.instanceId === 'i-old')).toBeUndefined();
  });

  it('warns about an instance without the CloudWatch agent, never announcing an action, and says how to fix it', async () => {
    const fleet = installFakeAws([fake('i-noagent', { gpu: null })]);
    const s = await runAt(TEST_NOW).result;
    expect(entry(s, 'i-noagent')).toMatchObject({ decision: 'warn', code: 'low-confidence', confidence: 'low' });
    expect(entry(s, 'i-noagent').actAt).toBeUndefined();
    expect(postedText()).toContain('Low confidence');
    expect(postedText()).toContain('nvidia_gpu');
    // Nothing is tagged for action, and later runs neither act nor repeat the report.
    expect(fleet.get('i-noagent')!.tags[IDLE_SINCE]).toBeUndefined();
    const later = await runAt(minutesAfter(600)).result;
    expect(entry(later, 'i-noagent').decision).toBe('wait');
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(server.posts()).toHaveLength(1);
  });

  it('without a Slack token reports only, says why, and records nothing', async () => {
    installFakeAws([fake('i-1'), fake('i-2')]);
    await warned('i-2', '2026-11-15T08:00:00.000Z');
    const printed: string[] = [];
    const ctx = testContext({
      config: { idleGpu: { action: 'stop' } },
      notifier: new ConsoleNotifier((t) => printed.push(t)),
      stateTableName: TABLE,
    });
    const s = await reaperCapability.run(ctx);
    expect(s.instances.map((r) => r.decision)).toEqual(['notify', 'notify']);
    expect(s.notes[0]).toMatch(/^Reporting only: no Slack token/);
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(table.get('warning#us-east-1', 'i-1')).toBeUndefined();
    expect(printed.join('\n')).toContain('reported only');
  });

  it('prints a readable text report', async () => {
    installFakeAws([fake('i-1')]);
    const s = await runAt(TEST_NOW).result;
    const text = formatReaperText(s);
    expect(text).toContain('i-1');
    expect(text).toContain('warn');
    expect(text).toMatch(/Scanned 1 running instances, 1 GPU/);
  });
});

describe('Function: reportOnlyReason', () => {
  const slack = { kind: 'slack' as const, post: async () => ({ channel: '#c', ts: '1.1' }) };
  const console = { kind: 'console' as const, post: async () => ({ channel: '#c' }) };

  it('lets a run with a state table and a Slack token warn and act', () => {
    expect(reportOnlyReason({ stateTableName: TABLE, notifier: slack })).toBeUndefined();
  });

  it.each([
    ['no state table', {}, slack, /^no state table/],
    ['no Slack token', { stateTableName: TABLE }, console, /^no Slack token/],
    ['neither', {}, console, /^no state table/],
  ])('says why a run with %s only reports, in one sentence', (_, table, notifier, why) => {
    const reason = reportOnlyReason({ ...table, notifier });
    expect(reason).toMatch(why);
    expect(reason).toContain('never tags for action or acts');
  });
});

describe('Handler: idle GPU reaper, warnings routed to owners and teams, keeps honoured (Slack on loopback)', () => {
  let server: SlackTestServer;
  let table: FakeStateTable;
  beforeAll(() => {
    table = fakeStateTable();
  });
  afterAll(() => table.mock.restore());
  beforeEach(async () => {
    ec2Mock.reset();
    cwMock.reset();
    table.items.clear();
    server = await startSlackServer();
    server.users.set('alice@example.com', 'U0ALICE01');
  });
  afterEach(async () => {
    await server.close();
  });

  const ID = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
  const notifier = () =>
    new SlackNotifier({ token: 'xoxb-test', channel: 'C0MAIN01', apiUrl: server.url, retries: 3, minRetryDelayMs: 5 });
  const run = (now: Date, config: CostGuardConfigInput = {}) =>
    reaperCapability.run(
      testContext({
        now,
        notifier: notifier(),
        config: {
          idleGpu: { action: 'stop' },
          slack: { interactivity: true, teamId: 'T0TEST001' },
          ...config,
        },
        stateTableName: TABLE,
      }),
    );
  const entry = (s: ReaperSummary, id: string) => s.instances.find((i) => i.instanceId === id)!;
  const textOf = (p: { blocks: unknown[] }) => JSON.stringify(p.blocks);
  /** A posted message as a reader sees it (escapes undone). */
  const readable = (p: { text: string; blocks: unknown[] }) =>
    messageToText({ text: p.text, blocks: p.blocks as Block[] });
  const record = (id: string) => table.get('warning#us-east-1', id);
  const keep = (id: string, until: string, over: Partial<KeepRecord> = {}) =>
    setKeep(new DynamoDBClient({ region: 'us-east-1' }), TABLE, {
      instanceId: id,
      region: 'us-east-1',
      until,
      by: 'U0BOB0001',
      byName: 'bob',
      reason: 'eval resumes at 3',
      setAt: '2026-11-15T11:00:00.000Z',
      source: 'slack',
      guard: 'reaper',
      ...over,
    });

  it('sends the owner found by e-mail a direct message with the buttons, and counts it as the delivered warning', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { Name: 'train', Owner: 'alice@example.com' } })]);
    // Act
    const s = await run(TEST_NOW);
    // Assess: one DM, one digest; the DM carries the warning and its buttons
    const posts = server.posts();
    expect(posts.map((p) => p.channel)).toEqual(['DU0ALICE01', 'C0MAIN01']);
    const dmButtons = (posts[0]!.blocks as { type: string; elements?: { text: { text: string } }[] }[]).find(
      (b) => b.type === 'actions',
    )!;
    expect(dmButtons.elements!.map((e) => e.text.text)).toEqual(['Keep 4 h', 'Keep 1 day', 'Keep 1 week', 'Stop now']);
    expect(textOf(posts[1]!)).toContain('Sent to its owner alice@example.com as a direct message too.');
    expect(textOf(posts[1]!)).toContain('"type":"actions"');
    expect(entry(s, ID(1)).ownerMessage).toMatchObject({
      owner: 'alice@example.com',
      status: 'sent',
      slackChannel: 'DU0ALICE01',
    });
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'DU0ALICE01' });
    expect(entry(s, ID(1)).warning).toMatchObject({ status: 'delivered', slackChannel: 'DU0ALICE01' });
  });

  it('takes an owner tag holding a Slack user ID without a lookup', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { owner: 'U0CAROL01' } })]);
    // Act
    await run(TEST_NOW);
    // Assess
    expect(server.requests.filter((r) => r.path.endsWith('/users.lookupByEmail'))).toHaveLength(0);
    expect(server.posts().map((p) => p.channel)).toEqual(['DU0CAROL01', 'C0MAIN01']);
  });

  it('falls back to the channel for an owner Slack does not know, and says so there', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { Owner: 'alice@elsewhere.example' } })]);
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(server.posts().map((p) => p.channel)).toEqual(['C0MAIN01']);
    expect(textOf(server.posts()[0]!)).toContain('Owner alice@elsewhere.example not found in Slack: warned here.');
    expect(entry(s, ID(1)).ownerMessage).toEqual({ owner: 'alice@elsewhere.example', status: 'not-found' });
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'C0MAIN01' });
  });

  it('falls back to the channel when Slack refuses the direct message, and says why', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { Owner: 'alice@example.com' } })]);
    server.respond = (body, path) =>
      path.endsWith('/chat.postMessage') && String(body.channel).startsWith('D')
        ? { kind: 'slack-error', error: 'messages_tab_disabled' }
        : undefined;
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(entry(s, ID(1)).ownerMessage).toMatchObject({ status: 'failed', errorCode: 'messages_tab_disabled' });
    expect(readable(server.posts()[1]!)).toContain(
      'Owner alice@example.com could not be sent a direct message (messages_tab_disabled): warned here.',
    );
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'C0MAIN01' });
  });

  it('waits out a 429 on the direct message and posts it once, not twice', async () => {
    // Prepare: the first chat.postMessage to the DM is rate limited (Retry-After 0: the client's whole 429 path, pause,
    // wait and retry, without a second of real time)
    installFakeAws([fake(ID(1), { tags: { Owner: 'alice@example.com' } })]);
    let limited = false;
    server.respond = (body, path) => {
      if (!limited && path.endsWith('/chat.postMessage') && body.channel === 'DU0ALICE01') {
        limited = true;
        return { kind: 'rate-limited', retryAfterSeconds: 0 };
      }
      return undefined;
    };
    // Act
    const s = await run(TEST_NOW);
    // Assess: two requests to the DM (429, then ok), one message Slack accepted there, and the warning delivered
    const toDm = server.requests.filter((r) => r.path.endsWith('/chat.postMessage') && r.body.channel === 'DU0ALICE01');
    expect(toDm).toHaveLength(2);
    expect(s.slack).toEqual({ messages: 2, posted: 2 });
    expect(entry(s, ID(1)).ownerMessage?.status).toBe('sent');
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'DU0ALICE01' });
  });

  it('looks an owner of many instances up once, and sends each instance its own direct message', async () => {
    // Prepare
    installFakeAws([1, 2, 3].map((n) => fake(ID(n), { tags: { Owner: 'alice@example.com' } })));
    // Act
    await run(TEST_NOW);
    // Assess
    expect(server.requests.filter((r) => r.path.endsWith('/users.lookupByEmail'))).toHaveLength(1);
    expect(server.requests.filter((r) => r.path.endsWith('/conversations.open'))).toHaveLength(1);
    expect(server.posts().filter((p) => p.channel === 'DU0ALICE01')).toHaveLength(3);
  });

  it('sends one owner at most 10 direct messages a run; the rest of their warnings are in the digest, which says so', async () => {
    // Prepare
    installFakeAws(Array.from({ length: 12 }, (_, n) => fake(ID(n + 1), { tags: { Owner: 'alice@example.com' } })));
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(server.posts().filter((p) => p.channel === 'DU0ALICE01')).toHaveLength(10);
    const limited = s.instances.filter((r) => r.ownerMessage?.status === 'over-limit');
    expect(limited).toHaveLength(2);
    expect(readable(server.posts().find((p) => p.channel === 'C0MAIN01')!)).toContain(
      'Owner alice@example.com already has 10 direct messages from this run: warned here.',
    );
    for (const r of limited)
      expect(record(r.instanceId)).toMatchObject({ status: 'delivered', slackChannel: 'C0MAIN01' });
  });

  it('counts a warning Slack accepted in the DM even when the channel refused the digest: acts after the grace period', async () => {
    // Prepare
    const fleet = installFakeAws([fake(ID(1), { tags: { Owner: 'alice@example.com' } })]);
    server.respond = (body, path) =>
      path.endsWith('/chat.postMessage') && body.channel === 'C0MAIN01'
        ? { kind: 'slack-error', error: 'not_in_channel' }
        : undefined;
    // Act: the run alarms (its digest was refused) but the owner read the warning
    const error = await run(TEST_NOW).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ReaperRunError);
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'DU0ALICE01' });
    server.respond = undefined;
    const later = await run(minutesAfter(61));
    expect(entry(later, ID(1)).action).toEqual({ kind: 'stop', status: 'done' });
    expect(fleet.get(ID(1))!.state).toBe('stopped');
  });

  it('starts no grace clock when neither the DM nor the digest was accepted', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { Owner: 'alice@example.com' } })]);
    server.respond = (_body, path) =>
      path.endsWith('/chat.postMessage') ? { kind: 'slack-error', error: 'internal_error' } : undefined;
    // Act
    await run(TEST_NOW).catch(() => undefined);
    server.respond = undefined;
    const later = await run(minutesAfter(61));
    // Assess: never acted on; warned again
    expect(entry(later, ID(1))).toMatchObject({ decision: 'warn', code: 'warning-undelivered' });
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it("posts a team's instances to its channel's digest and keeps one line for the team in the main digest", async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { team: 'Vision' } }), fake(ID(2), { tags: { team: 'audio' } })]);
    // Act
    const s = await run(TEST_NOW, {
      idleGpu: { action: 'stop' },
      slack: { interactivity: true, teamId: 'T0TEST001', teamChannels: { vision: 'C0VISION1' } },
    });
    // Assess
    const posts = server.posts();
    expect(posts.map((p) => p.channel)).toEqual(['C0VISION1', 'C0MAIN01']);
    expect(posts[0]!.text).toContain('Idle GPU reaper (team vision): 1 warned');
    expect(textOf(posts[0]!)).toContain(ID(1));
    expect(textOf(posts[1]!)).not.toContain(ID(1));
    expect(textOf(posts[1]!)).toContain(ID(2));
    expect(textOf(posts[1]!)).toContain('Team *vision*: 1 warned');
    expect(posts[1]!.text).toContain('2 warned');
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'C0VISION1' });
    expect(entry(s, ID(2)).warning).toMatchObject({ status: 'delivered', slackChannel: 'C0MAIN01' });
  });

  it("lists a team's instances in the main digest when its channel refuses, so the warning still counts", async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { team: 'vision' } })]);
    server.respond = (body, path) =>
      path.endsWith('/chat.postMessage') && body.channel === 'C0VISION1'
        ? { kind: 'slack-error', error: 'not_in_channel' }
        : undefined;
    // Act
    const s = await run(TEST_NOW, {
      idleGpu: { action: 'stop' },
      slack: { teamChannels: { vision: 'C0VISION1' } },
    });
    // Assess
    const main = server.posts().find((p) => p.channel === 'C0MAIN01')!;
    expect(textOf(main)).toContain(ID(1));
    expect(readable(main)).toContain('did not take its digest (not_in_channel): its instances are listed here.');
    expect(record(ID(1))).toMatchObject({ status: 'delivered', slackChannel: 'C0MAIN01' });
    expect(s.notes.join('\n')).toContain('team vision: channel C0VISION1 did not take the team');
  });

  it('never acts on a kept instance, even with a warning past its grace period, and names the keep in the digest', async () => {
    // Prepare: i-1 warned long ago and kept until 16:00; i-2 a fresh idle instance so that a digest is posted
    const fleet = installFakeAws([fake(ID(1)), fake(ID(2))]);
    await warned(ID(1), '2026-11-15T08:00:00.000Z');
    await keep(ID(1), '2026-11-15T16:00:00.000Z');
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(entry(s, ID(1))).toMatchObject({ decision: 'skip', code: 'keep-until' });
    expect(entry(s, ID(1)).reason).toBe('kept until 2026-11-15T16:00:00.000Z by bob (U0BOB0001): eval resumes at 3');
    expect(fleet.get(ID(1))!.state).toBe('running');
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(textOf(server.posts()[0]!)).toContain('until 2026-11-15 16:00 UTC by bob (eval resumes at 3)');
    // The warning given before the keep is withdrawn.
    expect(record(ID(1))).toBeUndefined();
  });

  it('after a keep ends, warns again before any action, then acts once the new warning has had its grace period', async () => {
    // Prepare: warned at 08:00 (due 09:00), kept from 08:30 to 11:30, no run in between withdrew the warning
    const fleet = installFakeAws([fake(ID(1))]);
    await warned(ID(1), '2026-11-15T08:00:00.000Z');
    await keep(ID(1), '2026-11-15T11:30:00.000Z', { setAt: '2026-11-15T08:30:00.000Z' });
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(entry(s, ID(1))).toMatchObject({ decision: 'warn', code: 'keep-expired' });
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
    const later = await run(minutesAfter(61));
    expect(entry(later, ID(1)).action).toEqual({ kind: 'stop', status: 'done' });
    expect(fleet.get(ID(1))!.state).toBe('stopped');
  });

  it('honours a keep pressed while the run read the metrics (the last look before acting)', async () => {
    // Prepare: a warning past its grace period; the keep lands while GetMetricData is answered
    const fleet = installFakeAws([fake(ID(1))]);
    await warned(ID(1), '2026-11-15T08:00:00.000Z');
    cwMock.on(GetMetricDataCommand).callsFake(async (input: GetMetricDataCommandInput) => {
      await keep(ID(1), '2026-11-15T16:00:00.000Z');
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
          Id: q.Id,
          Values: Array(12).fill(
            q.MetricStat!.Metric!.MetricName === 'NetworkIn' || q.MetricStat!.Metric!.MetricName === 'NetworkOut'
              ? 1000
              : 0,
          ),
        })),
      };
    });
    // Act
    const s = await run(TEST_NOW);
    // Assess
    expect(entry(s, ID(1))).toMatchObject({ decision: 'skip', code: 'keep-until' });
    expect(entry(s, ID(1)).reason).toContain('set while this run read the metrics');
    expect(fleet.get(ID(1))!.state).toBe('running');
    expect(ec2Mock).not.toHaveReceivedCommand(StopInstancesCommand);
  });

  it('in dry run looks nobody up and sends no direct message', async () => {
    // Prepare
    installFakeAws([fake(ID(1), { tags: { Owner: 'alice@example.com' } })]);
    // Act
    await reaperCapability.run(
      testContext({
        now: TEST_NOW,
        notifier: notifier(),
        config: { idleGpu: { action: 'stop' } },
        stateTableName: TABLE,
        dryRun: true,
      }),
    );
    // Assess
    expect(server.requests.filter((r) => !r.path.endsWith('/chat.postMessage'))).toHaveLength(0);
    expect(server.posts().map((p) => p.channel)).toEqual(['C0MAIN01']);
    expect(JSON.stringify(server.posts()[0]!.blocks)).not.toContain('"type":"actions"');
  });
});
