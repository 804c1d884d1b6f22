import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  type CreateTagsCommandInput,
  DeleteTagsCommand,
  type DeleteTagsCommandInput,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypesCommandInput,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  StopInstancesCommand,
  type StopInstancesCommandInput,
  TerminateInstancesCommand,
  type TerminateInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ConsoleNotifier, SlackNotifier } from '../../../lambda/adapters/slack';
import { WarningStore } from '../../../lambda/adapters/warning-store';
import { formatReaperText } from '../../../lambda/cli/format/reaper';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { createPricing, monthlySavingsOfStop, monthlySavingsOfTerminate } from '../../../lambda/core/savings';
import {
  ReaperRunError,
  type ReaperSummary,
  reaperCapability,
  reportOnlyReason,
} from '../../../lambda/services/reaper';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);
const IDLE_SINCE = 'cost-guard:idle-since';
const minutesAfter = (m: number) => new Date(TEST_NOW.getTime() + m * 60_000);
const awsError = (name: string) => Object.assign(new Error(`${name} (simulated)`), { name });
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

interface FakeInstance {
  id: string;
  type: string;
  tags: Record<string, string>;
  state: 'running' | 'stopped' | 'terminated';
  /** GPU utilization % of every GPU; null = no CloudWatch agent. */
  gpu: number | null;
  cpu: number;
  lifecycle?: 'spot';
  spotRequestId?: string;
  protected?: boolean;
  /** Error code StopInstances/TerminateInstances answers for this instance. */
  failWith?: string;
}

const GPU_TYPES: Record<string, number> = { 'g5.xlarge': 1, 'p4d.24xlarge': 8 };
const CPU_TYPES = new Set(['m5.large']);

function fake(id: string, over: Partial<FakeInstance> = {}): FakeInstance {
  return {
    id,
    type: 'g5.xlarge',
    tags: { Name: `box-${id}`, owner: 'alice' },
    state: 'running',
    gpu: 0,
    cpu: 1,
    ...over,
  };
}

/** A tiny EC2 + CloudWatch that keeps state across runs: tags stick, stopped instances stop running. */
function installFakeAws(fleet: FakeInstance[]) {
  const byId = new Map(fleet.map((i) => [i.id, i]));
  ec2Mock.on(DescribeInstancesCommand).callsFake(() => ({
    Reservations: [
      {
        Instances: fleet
          .filter((i) => i.state === 'running')
          .map((i) => ({
            InstanceId: i.id,
            InstanceType: i.type,
            LaunchTime: new Date(TEST_NOW.getTime() - 86_400_000),
            Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
            ...(i.lifecycle ? { InstanceLifecycle: i.lifecycle, SpotInstanceRequestId: i.spotRequestId } : {}),
          })),
      },
    ],
  }));
  ec2Mock.on(DescribeInstanceTypesCommand).callsFake((input: DescribeInstanceTypesCommandInput) => {
    const names = input.InstanceTypes ?? [];
    if (names.some((n) => !(n in GPU_TYPES) && !CPU_TYPES.has(n))) throw awsError('InvalidInstanceType');
    return {
      InstanceTypes: names.map((n) =>
        n in GPU_TYPES
          ? { InstanceType: n, GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: GPU_TYPES[n] }] } }
          : { InstanceType: n },
      ),
    };
  });
  ec2Mock.on(DescribeInstanceAttributeCommand).callsFake((input: { InstanceId: string }) => ({
    DisableApiTermination: { Value: byId.get(input.InstanceId)?.protected === true },
  }));
  ec2Mock.on(DescribeSpotInstanceRequestsCommand).callsFake((input: { SpotInstanceRequestIds: string[] }) => ({
    SpotInstanceRequests: input.SpotInstanceRequestIds.map((id) => ({ SpotInstanceRequestId: id, Type: 'one-time' })),
  }));
  ec2Mock.on(CreateTagsCommand).callsFake((input: CreateTagsCommandInput) => {
    for (const id of input.Resources ?? []) for (const t of input.Tags ?? []) byId.get(id)!.tags[t.Key!] = t.Value!;
    return {};
  });
  ec2Mock.on(DeleteTagsCommand).callsFake((input: DeleteTagsCommandInput) => {
    for (const id of input.Resources ?? []) for (const t of input.Tags ?? []) delete byId.get(id)!.tags[t.Key!];
    return {};
  });
  const act = (to: 'stopped' | 'terminated') => (input: StopInstancesCommandInput | TerminateInstancesCommandInput) => {
    const ids = input.InstanceIds ?? [];
    const bad = ids.map((id) => byId.get(id)!).find((i) => i.failWith);
    if (bad) throw awsError(bad.failWith!);
    for (const id of ids) byId.get(id)!.state = to;
    const list = ids.map((InstanceId) => ({ InstanceId }));
    return to === 'stopped' ? { StoppingInstances: list } : { TerminatingInstances: list };
  };
  ec2Mock.on(StopInstancesCommand).callsFake(act('stopped'));
  ec2Mock.on(TerminateInstancesCommand).callsFake(act('terminated'));

  cwMock.on(ListMetricsCommand).callsFake(() => ({
    Metrics: fleet
      .filter((i) => i.state === 'running' && i.gpu !== null && i.type in GPU_TYPES)
      .flatMap((i) =>
        Array.from({ length: GPU_TYPES[i.type]! }, (_, g) => ({
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
      fake('i-protected', { protected: true }),
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
      fake('i-spot', { lifecycle: 'spot', spotRequestId: 'sir-1', tags: { [IDLE_SINCE]: '2026-11-15T08:00:00.000Z' } }),
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
