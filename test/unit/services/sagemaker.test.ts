import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteEndpointCommand,
  StopNotebookInstanceCommand,
  UpdateDomainCommand,
  UpdateSpaceCommand,
  UpdateUserProfileCommand,
} from '@aws-sdk/client-sagemaker';
import { endpointIndexKey } from '../../../lambda/adapters/endpoint-index';
import { SageMakerWarningStore } from '../../../lambda/adapters/sagemaker-warnings';
import { ConsoleNotifier, SlackNotifier } from '../../../lambda/adapters/slack';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { sageMakerCost } from '../../../lambda/core/sagemaker';
import { createPricing } from '../../../lambda/core/savings';
import {
  SageMakerRunError,
  type SageMakerSummary,
  sageMakerCapability,
  sageMakerReportOnlyReason,
} from '../../../lambda/services/sagemaker';
import { TEST_NOW, testContext } from '../../helpers/context';
import {
  addEndpoint,
  emptyWorld,
  type FakeSageMaker,
  type FakeSageMakerWorld,
  installFakeSageMaker,
} from '../../helpers/fake-sagemaker';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const TABLE = 'state';
const REGION = 'us-east-1';
const minutesAfter = (m: number) => new Date(TEST_NOW.getTime() + m * 60_000);
const HOSTILE = '<!channel> <https://evil.example|click> *bold*';

/** A warning Slack accepted at `at`, as a run of the guard records it. */
async function warned(key: string, at: Date, identity: string, action: 'delete' | 'stop' = 'delete') {
  const store = new SageMakerWarningStore(new DynamoDBClient({ region: REGION }), TABLE, 'seed', at);
  await store.putPending(REGION, key, { idleSince: at.toISOString(), action, identity });
  await store.markDelivered({
    key,
    region: REGION,
    slackChannel: 'C0SEED',
    slackTs: '1699999999.000100',
    warnedAt: at.toISOString(),
    actionDue: new Date(at.getTime() + 60 * 60_000).toISOString(),
  });
}

describe('Service: SageMaker guard (mocked SageMaker and CloudWatch, Slack on loopback, in-memory state table)', () => {
  let server: SlackTestServer;
  let table: FakeStateTable;
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeAll(() => {
    table = fakeStateTable();
  });
  afterAll(() => table.mock.restore());
  beforeEach(async () => {
    table.items.clear();
    world = emptyWorld();
    fake = installFakeSageMaker(world);
    server = await startSlackServer();
  });
  afterEach(async () => {
    fake.restore();
    await server.close();
  });

  const slack = () =>
    new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 1, minRetryDelayMs: 5 });
  const runAt = (now: Date, config: CostGuardConfigInput = {}, o: { dryRun?: boolean; event?: unknown } = {}) => {
    const ctx = testContext({
      now,
      notifier: slack(),
      config: { ...config, sagemaker: { action: 'delete', ...(config.sagemaker ?? {}) } },
      stateTableName: TABLE,
      ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    });
    return { ctx, result: sageMakerCapability.run(ctx, o.event) };
  };
  const entry = (s: SageMakerSummary, name: string) => s.resources.find((r) => r.name === name)!;
  const posted = () => JSON.stringify(server.posts().map((p) => p.blocks));
  const creation = (name: string) => world.endpoints.get(name)!.creationTime.toISOString();

  it('warns about an idle GPU endpoint, waits, then deletes it, keeping its config and recording how to restore it', async () => {
    // Prepare
    addEndpoint(world, 'idle', { now: TEST_NOW, tags: { owner: 'alice', team: 'nlp' } });
    addEndpoint(world, 'busy', { now: TEST_NOW, invocations: { AllTraffic: [0, 4, 0] } });
    addEndpoint(world, 'stack', { now: TEST_NOW, tags: { 'aws:cloudformation:stack-name': 'serving' } });
    addEndpoint(world, 'kept', { now: TEST_NOW, tags: { 'cost-guard:opt-out': 'TRUE' } });
    addEndpoint(world, 'cpu', { now: TEST_NOW, variants: [{ name: 'v', instanceType: 'ml.m5.large', count: 1 }] });

    // Act: first run
    const first = runAt(TEST_NOW);
    const s1 = await first.result;

    // Assess: warned (delivered), nothing deleted
    expect(entry(s1, 'idle')).toMatchObject({
      decision: 'warn',
      warning: { status: 'delivered', slackTs: expect.any(String) },
    });
    expect(entry(s1, 'busy')).toMatchObject({ decision: 'busy', invocations: 4 });
    expect(entry(s1, 'stack')).toMatchObject({ decision: 'notify', code: 'cloudformation-managed' });
    expect(entry(s1, 'kept')).toMatchObject({ decision: 'skip', code: 'opt-out' });
    expect(s1.resources.find((r) => r.name === 'cpu')).toBeUndefined();
    expect(s1.endpointsScanned).toBe(5);
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
    expect(table.get('sagemaker-warning#us-east-1', 'endpoint/idle')).toMatchObject({ status: 'delivered' });
    expect(server.posts()).toHaveLength(1);
    expect(posted()).toContain('will delete');
    expect(first.ctx.metrics.value('SageMakerWarned')).toBe(1);
    // One GetMetricData call for every candidate endpoint.
    expect(fake.cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 1);

    // Act: 30 minutes later, still in the warning period
    const s2 = await runAt(minutesAfter(30)).result;
    expect(entry(s2, 'idle').decision).toBe('wait');
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);

    // Act: 61 minutes later
    const third = runAt(minutesAfter(61));
    const s3 = await third.result;

    // Assess
    const expected = sageMakerCost([{ instanceType: 'ml.g5.xlarge', count: 1 }], createPricing(), REGION)!.monthlyUsd;
    expect(entry(s3, 'idle')).toMatchObject({ decision: 'act', action: { kind: 'delete', status: 'done' } });
    expect(fake.sm).toHaveReceivedCommandWith(DeleteEndpointCommand, { EndpointName: 'idle' });
    expect(fake.sm).toHaveReceivedCommandTimes(DeleteEndpointCommand, 1);
    expect(world.endpoints.has('idle')).toBe(false);
    expect(world.configs.has('idle-config')).toBe(true);
    const { pk, sk } = endpointIndexKey(REGION, 'idle');
    expect(table.get(pk, sk)).toMatchObject({
      state: 'deleted',
      endpointConfigName: 'idle-config',
      tags: JSON.stringify({ owner: 'alice', team: 'nlp' }),
    });
    expect(s3.monthlySavingsUsd).toBeCloseTo(expected, 6);
    expect(s3.actions).toEqual([
      expect.objectContaining({ capability: 'sagemaker', kind: 'delete-endpoint', target: 'idle', status: 'done' }),
    ]);
    expect(third.ctx.metrics.value('SageMakerEndpointsDeleted')).toBe(1);
    expect(table.get('sagemaker-warning#us-east-1', 'endpoint/idle')).toBeUndefined();
    expect(server.posts().at(-1)!.text).toContain('1 endpoint(s) deleted');
  });

  it('without a Slack token deletes nothing, even with a delivered warning on record, and says why', async () => {
    // Prepare
    addEndpoint(world, 'idle', { now: TEST_NOW });
    await warned('endpoint/idle', minutesAfter(-180), creation('idle'));
    const printed: string[] = [];
    const ctx = testContext({
      config: { sagemaker: { action: 'delete' } },
      notifier: new ConsoleNotifier((t) => printed.push(t)),
      stateTableName: TABLE,
    });
    // Act
    const s = await sageMakerCapability.run(ctx);
    // Assess
    expect(entry(s, 'idle')).toMatchObject({ decision: 'notify', code: 'report-only' });
    expect(s.notes[0]).toMatch(/^Reporting only: no Slack token/);
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
    expect(printed.join('\n')).toContain('reported only');
  });

  it('without a state table deletes nothing and records nothing', async () => {
    addEndpoint(world, 'idle', { now: TEST_NOW });
    const ctx = testContext({ config: { sagemaker: { action: 'delete' } }, notifier: slack() });
    const s = await sageMakerCapability.run(ctx);
    expect(entry(s, 'idle')).toMatchObject({ decision: 'notify', code: 'report-only' });
    expect(s.notes[0]).toMatch(/^Reporting only: no state table/);
    expect(table.items.size).toBe(0);
  });

  it('never deletes on a warning Slack did not accept: the run alarms, and the next run warns again', async () => {
    // Prepare
    addEndpoint(world, 'idle', { now: TEST_NOW });
    server.script.push({ kind: 'slack-error', error: 'channel_not_found' });
    // Act
    const error = await runAt(TEST_NOW).result.catch((e: unknown) => e);
    // Assess: failed loudly, the warning is pending only
    expect(error).toBeInstanceOf(SageMakerRunError);
    const summary = (error as SageMakerRunError).summary;
    expect(entry(summary, 'idle').warning).toEqual({ status: 'not-delivered' });
    expect(summary.counts.warned).toBe(0);
    expect(table.get('sagemaker-warning#us-east-1', 'endpoint/idle')).toMatchObject({ status: 'pending' });
    // Act: two hours later, Slack works again
    const later = await runAt(minutesAfter(120)).result;
    // Assess: warned again, never deleted
    expect(entry(later, 'idle')).toMatchObject({ decision: 'warn', code: 'warning-undelivered' });
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });

  it('deletes at most maxActionsPerRun across three deliveries of one scheduled event, Slack down each time', async () => {
    // Prepare: five endpoints due for deletion
    for (let i = 0; i < 5; i++) {
      addEndpoint(world, `idle-${i}`, { now: TEST_NOW });
      await warned(`endpoint/idle-${i}`, minutesAfter(-180), creation(`idle-${i}`));
    }
    server.respond = () => ({ kind: 'slack-error', error: 'fatal_error' });
    const event = { source: 'ml-cost-guard.schedule', scheduledTime: TEST_NOW.toISOString() };
    // Act: the event and its two re-deliveries, minutes apart
    for (const m of [0, 2, 5]) {
      await runAt(minutesAfter(m), { sagemaker: { maxActionsPerRun: 2 } }, { event }).result.catch(() => undefined);
    }
    // Assess
    expect(fake.sm).toHaveReceivedCommandTimes(DeleteEndpointCommand, 2);
    expect(world.endpoints.size).toBe(3);
  });

  it('never deletes an endpoint whose metrics could not be read, nor one already Deleting', async () => {
    // Prepare
    addEndpoint(world, 'going', { now: TEST_NOW }).describeStatuses = ['InService', 'Deleting'];
    await warned('endpoint/going', minutesAfter(-180), creation('going'));
    // Act
    const s = await runAt(TEST_NOW).result;
    // Assess
    expect(entry(s, 'going')).toMatchObject({ decision: 'skip', code: 'not-in-service' });
    expect(entry(s, 'going').reason).toContain('Deleting now');
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);

    // Prepare: metrics down
    addEndpoint(world, 'blind', { now: TEST_NOW });
    await warned('endpoint/blind', minutesAfter(-180), creation('blind'));
    world.metricsFailWith = 'ThrottlingException';
    const s2 = await runAt(minutesAfter(5)).result;
    expect(entry(s2, 'blind')).toMatchObject({ decision: 'unknown', code: 'metrics-unavailable' });
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
  });

  it('reports a failed delete, records it as failed (restore never offers it), and goes on with the others', async () => {
    // Prepare
    addEndpoint(world, 'a', { now: TEST_NOW });
    addEndpoint(world, 'b', { now: TEST_NOW }).deleteFailsWith = 'ResourceLimitExceeded';
    addEndpoint(world, 'c', { now: TEST_NOW });
    for (const n of ['a', 'b', 'c']) await warned(`endpoint/${n}`, minutesAfter(-180), creation(n));
    // Act
    const s = await runAt(TEST_NOW).result;
    // Assess
    expect(entry(s, 'a').action).toEqual({ kind: 'delete', status: 'done' });
    expect(entry(s, 'c').action).toEqual({ kind: 'delete', status: 'done' });
    expect(entry(s, 'b').action).toMatchObject({ status: 'failed', errorCode: 'ResourceLimitExceeded' });
    expect(table.get('sagemaker-deleted#us-east-1', 'b')).toMatchObject({ state: 'delete-failed' });
    expect(posted()).toContain('ResourceLimitExceeded');
    expect(s.counts.failed).toBe(1);
  });

  it('in dry run changes nothing, records nothing, and says what it would delete', async () => {
    addEndpoint(world, 'new', { now: TEST_NOW });
    addEndpoint(world, 'due', { now: TEST_NOW });
    await warned('endpoint/due', minutesAfter(-180), creation('due'));
    world.domains.set('d-1', { id: 'd-1', name: 'research', status: 'InService', settings: {}, tags: {} });
    const before = JSON.stringify([...table.items]);
    // Act
    const s = await runAt(TEST_NOW, { sagemaker: { studioIdleShutdownMinutes: 120 } }, { dryRun: true }).result;
    // Assess
    expect(JSON.stringify([...table.items])).toBe(before);
    expect(fake.sm).not.toHaveReceivedCommand(DeleteEndpointCommand);
    expect(fake.sm).not.toHaveReceivedCommand(UpdateDomainCommand);
    expect(entry(s, 'due').action).toEqual({ kind: 'delete', status: 'dry-run' });
    expect(entry(s, 'new').warning).toEqual({ status: 'dry-run' });
    expect(s.studio.domains[0]!.action).toEqual({ kind: 'update-domain', status: 'dry-run' });
    expect(server.posts()[0]!.text).toMatch(/^\[DRY RUN\]/);
  });

  it('stops a GPU notebook instance over notebookMaxHours after its warning, and only reports the others', async () => {
    // Prepare
    const since = new Date(TEST_NOW.getTime() - 100 * 3_600_000);
    const nb = (name: string, instanceType: string, hours = 100) => ({
      name,
      instanceType,
      status: 'InService',
      creationTime: since,
      lastModifiedTime: new Date(TEST_NOW.getTime() - hours * 3_600_000),
      tags: {},
    });
    world.notebooks.set('long', nb('long', 'ml.g5.2xlarge'));
    world.notebooks.set('short', nb('short', 'ml.g5.2xlarge', 3));
    world.notebooks.set('cpu', nb('cpu', 'ml.t3.medium'));
    const config = { sagemaker: { notebookMaxHours: 72 } };
    // Act
    const s1 = await runAt(TEST_NOW, config).result;
    const s2 = await runAt(minutesAfter(61), config).result;
    // Assess
    expect(entry(s1, 'long')).toMatchObject({ kind: 'notebook', decision: 'warn' });
    expect(entry(s1, 'short')).toMatchObject({ decision: 'report', code: 'under-max-hours' });
    expect(s1.resources.find((r) => r.name === 'cpu')).toBeUndefined();
    expect(entry(s2, 'long').action).toEqual({ kind: 'stop', status: 'done' });
    expect(fake.sm).toHaveReceivedCommandWith(StopNotebookInstanceCommand, { NotebookInstanceName: 'long' });
    expect(fake.sm).toHaveReceivedCommandTimes(StopNotebookInstanceCommand, 1);
  });

  it('gives a Studio domain idle shutdown, keeping its other settings, and reports GPU apps with their $/hour', async () => {
    // Prepare
    world.domains.set('d-1', {
      id: 'd-1',
      name: 'research',
      status: 'InService',
      settings: { JupyterLabAppSettings: { CustomImages: [{ ImageName: 'torch', AppImageConfigName: 'c' }] } },
      tags: {},
    });
    world.domains.set('d-2', {
      id: 'd-2',
      name: 'platform',
      status: 'InService',
      settings: {},
      tags: { 'cost-guard:opt-out': 'true' },
    });
    world.apps.push({
      domainId: 'd-1',
      appType: 'JupyterLab',
      appName: 'default',
      spaceName: 'alice-space',
      status: 'InService',
      instanceType: 'ml.g5.xlarge',
      creationTime: new Date(TEST_NOW.getTime() - 30 * 3_600_000),
    });
    // Act
    const s = await runAt(TEST_NOW, { sagemaker: { studioIdleShutdownMinutes: 120 } }).result;
    // Assess
    expect(fake.sm).toHaveReceivedCommandTimes(UpdateDomainCommand, 1);
    expect(world.domains.get('d-1')!.settings).toEqual({
      JupyterLabAppSettings: {
        CustomImages: [{ ImageName: 'torch', AppImageConfigName: 'c' }],
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 },
        },
      },
      CodeEditorAppSettings: {
        AppLifecycleManagement: {
          IdleSettings: { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 },
        },
      },
    });
    const d2 = s.studio.domains.find((d) => d.domainId === 'd-2')!;
    expect(d2).toMatchObject({ decision: 'skip', code: 'opt-out' });
    expect(d2.action).toBeUndefined();
    expect(s.studio.gpuApps).toEqual([
      expect.objectContaining({ spaceName: 'alice-space', instanceType: 'ml.g5.xlarge', ageHours: 30 }),
    ]);
    expect(s.studio.gpuApps[0]!.hourlyUsd).toBeCloseTo(createPricing().instanceHourly('ml.g5.xlarge')!.usd, 9);
    expect(posted()).toContain('idle shutdown enabled');
    // A second run finds nothing to change.
    await runAt(minutesAfter(60), { sagemaker: { studioIdleShutdownMinutes: 120 } }).result;
    expect(fake.sm).toHaveReceivedCommandTimes(UpdateDomainCommand, 1);
  });

  describe('Studio user profiles and spaces overriding the domain', () => {
    const idle = (s: Record<string, unknown>) => ({ AppLifecycleManagement: { IdleSettings: s } });
    const strict = { LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 60, MaxIdleTimeoutInMinutes: 60 };
    const setUp = () => {
      world.domains.set('d-1', {
        id: 'd-1',
        name: 'research',
        status: 'InService',
        settings: { JupyterLabAppSettings: idle(strict), CodeEditorAppSettings: idle(strict) },
        tags: {},
      });
      const owner = (
        kind: 'user-profile' | 'space',
        name: string,
        settings: Record<string, Record<string, unknown>>,
        tags: Record<string, string> = {},
      ) => world.owners.push({ kind, domainId: 'd-1', name, status: 'InService', settings, tags });
      owner('user-profile', 'alice', {
        JupyterLabAppSettings: { CustomImages: [{ ImageName: 'torch' }], ...idle({ LifecycleManagement: 'DISABLED' }) },
      });
      owner('user-profile', 'bob', {
        JupyterLabAppSettings: idle({ LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 90 }),
      });
      owner('user-profile', 'carol', {});
      owner(
        'user-profile',
        'dave',
        { CodeEditorAppSettings: idle({ LifecycleManagement: 'DISABLED' }) },
        {
          'cost-guard:opt-out': 'true',
        },
      );
      owner(
        'user-profile',
        'erin',
        { CodeEditorAppSettings: idle({ LifecycleManagement: 'DISABLED' }) },
        {
          'aws:cloudformation:stack-name': 'studio-stack',
        },
      );
      owner('space', 'team', { JupyterLabAppSettings: idle({ IdleTimeoutInMinutes: 1440 }) });
      owner('space', 'quick', { JupyterLabAppSettings: idle({ IdleTimeoutInMinutes: 60 }) });
    };
    const ownersOf = (s: SageMakerSummary) =>
      Object.fromEntries(s.studio.domains.filter((d) => d.owner).map((d) => [d.owner!.name, d]));

    it('enforces the configured minutes on looser profiles and spaces only, through the action runner', async () => {
      setUp();
      // Act
      const run = runAt(TEST_NOW, { sagemaker: { studioIdleShutdownMinutes: 120 } });
      const s = await run.result;
      // Assess
      expect(fake.sm).not.toHaveReceivedCommand(UpdateDomainCommand);
      expect(fake.sm).toHaveReceivedCommandTimes(UpdateUserProfileCommand, 1);
      expect(fake.sm).toHaveReceivedCommandTimes(UpdateSpaceCommand, 1);
      const alice = world.owners.find((o) => o.name === 'alice')!;
      expect(alice.settings.JupyterLabAppSettings).toEqual({
        CustomImages: [{ ImageName: 'torch' }],
        ...idle({ LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120, MaxIdleTimeoutInMinutes: 120 }),
      });
      expect(world.owners.find((o) => o.name === 'team')!.settings.JupyterLabAppSettings).toEqual(
        idle({ IdleTimeoutInMinutes: 120 }),
      );
      const o = ownersOf(s);
      expect(Object.keys(o).sort()).toEqual(['alice', 'dave', 'erin', 'team']);
      expect(o.alice!.action).toEqual({ kind: 'update-user-profile', status: 'done' });
      expect(o.team!.action).toEqual({ kind: 'update-space', status: 'done' });
      expect(o.dave).toMatchObject({ decision: 'skip', code: 'opt-out' });
      expect(o.erin).toMatchObject({ decision: 'skip', code: 'cloudformation-managed' });
      expect(o.dave!.action).toBeUndefined();
      expect(o.erin!.action).toBeUndefined();
      const kinds = run.ctx.actions
        .records()
        .map((r) => r.kind)
        .sort();
      expect(kinds).toEqual(['update-space', 'update-user-profile']);
      expect(posted()).toContain('Studio user profile: idle shutdown enabled');
      // A second run finds nothing to change.
      await runAt(minutesAfter(60), { sagemaker: { studioIdleShutdownMinutes: 120 } }).result;
      expect(fake.sm).toHaveReceivedCommandTimes(UpdateUserProfileCommand, 1);
      expect(fake.sm).toHaveReceivedCommandTimes(UpdateSpaceCommand, 1);
    });

    it('in dry run and without a Slack token changes no profile or space', async () => {
      setUp();
      const dry = await runAt(TEST_NOW, { sagemaker: { studioIdleShutdownMinutes: 120 } }, { dryRun: true }).result;
      expect(ownersOf(dry).alice!.action).toEqual({ kind: 'update-user-profile', status: 'dry-run' });
      expect(ownersOf(dry).team!.action).toEqual({ kind: 'update-space', status: 'dry-run' });
      const ctx = testContext({
        config: { sagemaker: { action: 'delete', studioIdleShutdownMinutes: 120 } },
        notifier: new ConsoleNotifier(() => undefined),
        stateTableName: TABLE,
      });
      const s = await sageMakerCapability.run(ctx);
      expect(ownersOf(s).alice).toMatchObject({ decision: 'report', code: 'report-only' });
      expect(ownersOf(s).alice!.action).toBeUndefined();
      expect(fake.sm).not.toHaveReceivedCommand(UpdateUserProfileCommand);
      expect(fake.sm).not.toHaveReceivedCommand(UpdateSpaceCommand);
    });
  });

  it('skips and reports serverless, asynchronous and inference-component endpoints', async () => {
    addEndpoint(world, 'srv', { now: TEST_NOW, variants: [{ name: 'v', serverless: true, count: 0 }] });
    addEndpoint(world, 'queue', { now: TEST_NOW, async: true });
    addEndpoint(world, 'ic', { now: TEST_NOW });
    world.inferenceComponents.push({ name: 'llama', endpoint: 'ic' });
    const s = await runAt(TEST_NOW).result;
    expect(s.skippedByReason).toEqual({ serverless: 1, 'async-endpoint': 1, 'inference-components': 1 });
    expect(fake.cw).not.toHaveReceivedCommand(GetMetricDataCommand);
    expect(server.posts()).toHaveLength(0);
  });

  it('escapes every AWS value it posts', async () => {
    addEndpoint(world, 'idle', { now: TEST_NOW, tags: { owner: HOSTILE, team: HOSTILE } });
    await runAt(TEST_NOW).result;
    expect(posted()).not.toContain('<!channel>');
    expect(posted()).not.toContain('<https://evil.example');
    expect(posted()).toContain('&lt;!channel&gt;');
  });

  it('does nothing when sagemaker.enabled is false', async () => {
    addEndpoint(world, 'idle', { now: TEST_NOW });
    const s = await runAt(TEST_NOW, { sagemaker: { enabled: false } }).result;
    expect(fake.sm.calls()).toHaveLength(0);
    expect(s.notes).toEqual(['sagemaker.enabled is false: nothing done']);
  });
});

describe('Function: sageMakerReportOnlyReason', () => {
  const slack = { kind: 'slack' as const, post: async () => ({ channel: '#c', ts: '1.1' }) };
  const console = { kind: 'console' as const, post: async () => ({ channel: '#c' }) };
  it('lets a run with a state table and a Slack token act', () => {
    expect(sageMakerReportOnlyReason({ stateTableName: TABLE, notifier: slack })).toBeUndefined();
  });
  it.each([
    [{}, slack, /^no state table/],
    [{ stateTableName: TABLE }, console, /^no Slack token/],
  ])('says in one sentence why a run only reports (%j)', (t, notifier, why) => {
    const reason = sageMakerReportOnlyReason({ ...t, notifier });
    expect(reason).toMatch(why);
    expect(reason).toContain('never deletes, stops or updates anything');
  });
});
