import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteEndpointCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeUserProfileCommand,
  ListEndpointsCommand,
  ListTagsCommand,
  ListUserProfilesCommand,
  SageMakerClient,
  UpdateDomainCommand,
  UpdateSpaceCommand,
  UpdateUserProfileCommand,
} from '@aws-sdk/client-sagemaker';
import {
  endpointIndexKey,
  guardDeletions,
  markDeletion,
  recordDeleting,
  recordEndpointRestores,
} from '../../../lambda/adapters/endpoint-index';
import {
  endpointConfigExists,
  endpointNow,
  listEndpoints,
  listGpuNotebooks,
  listStudio,
  listStudioOwners,
  mapLimit,
  updateDomainAppSettings,
  updateStudioOwnerAppSettings,
} from '../../../lambda/adapters/sagemaker';
import { fetchEndpointInvocations, invocationsWindow } from '../../../lambda/adapters/sagemaker-metrics';
import { SageMakerWarningStore, sageMakerWarningKey } from '../../../lambda/adapters/sagemaker-warnings';
import type { EndpointFacts } from '../../../lambda/core/sagemaker';
import { TEST_NOW } from '../../helpers/context';
import {
  addEndpoint,
  emptyWorld,
  type FakeSageMaker,
  type FakeSageMakerWorld,
  installFakeSageMaker,
} from '../../helpers/fake-sagemaker';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const REGION = 'us-east-1';
const client = () => new SageMakerClient({ region: REGION });

describe('Function: listEndpoints', () => {
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeEach(() => {
    world = emptyWorld();
    fake = installFakeSageMaker(world);
  });
  afterEach(() => fake.restore());

  it('joins each endpoint with its config: instance types, current counts, serverless, async, tags', async () => {
    // Prepare
    addEndpoint(world, 'llm', {
      now: TEST_NOW,
      variants: [
        { name: 'a', instanceType: 'ml.g5.2xlarge', count: 2 },
        { name: 'b', instanceType: 'ml.m5.xlarge', count: 1 },
      ],
      tags: { team: 'ml' },
    });
    addEndpoint(world, 'srv', {
      now: TEST_NOW,
      variants: [{ name: 'v', instanceType: 'ml.g5.xlarge', serverless: true, count: 0 }],
    });
    addEndpoint(world, 'queue', { now: TEST_NOW, async: true });
    addEndpoint(world, 'cpu', { now: TEST_NOW, variants: [{ name: 'v', instanceType: 'ml.c5.large', count: 1 }] });
    addEndpoint(world, 'updating', { now: TEST_NOW, status: 'Updating' });
    world.inferenceComponents.push({ name: 'ic-1', endpoint: 'queue' });
    // Act
    const scan = await listEndpoints(client(), REGION);
    // Assess
    const byName = new Map(scan.endpoints.map((e) => [e.name, e]));
    expect([...byName.keys()].sort()).toEqual(['cpu', 'llm', 'queue', 'srv']);
    expect(byName.get('llm')).toMatchObject({
      status: 'InService',
      endpointConfigName: 'llm-config',
      async: false,
      tags: { team: 'ml' },
      variants: [
        { variantName: 'a', instanceType: 'ml.g5.2xlarge', serverless: false, currentInstanceCount: 2 },
        { variantName: 'b', instanceType: 'ml.m5.xlarge', serverless: false, currentInstanceCount: 1 },
      ],
    });
    expect(byName.get('srv')!.variants[0]!.serverless).toBe(true);
    expect(byName.get('queue')).toMatchObject({ async: true, inferenceComponents: { count: 1, names: ['ic-1'] } });
    // Tags are read only for endpoints on GPU types (a serverless variant has no instance type).
    expect(fake.sm).toHaveReceivedCommandTimes(ListTagsCommand, 2);
    expect(scan.errors).toEqual([]);
  });

  it('reads every page of ListEndpoints and describes each distinct config once', async () => {
    // Prepare: 250 endpoints sharing 5 configs
    for (let i = 0; i < 250; i++) {
      const e = addEndpoint(world, `ep-${i}`, { now: TEST_NOW });
      e.configName = `shared-${i % 5}`;
      world.configs.set(e.configName, { variants: [{ name: 'AllTraffic', instanceType: 'ml.g5.xlarge', count: 1 }] });
    }
    // Act
    const scan = await listEndpoints(client(), REGION);
    // Assess
    expect(scan.endpoints).toHaveLength(250);
    expect(fake.sm).toHaveReceivedCommandTimes(ListEndpointsCommand, 3);
    expect(fake.sm).toHaveReceivedCommandTimes(DescribeEndpointCommand, 250);
    expect(fake.sm).toHaveReceivedCommandTimes(DescribeEndpointConfigCommand, 5);
  });

  it('marks tags unknown when ListTags fails, so the endpoint is never acted on', async () => {
    addEndpoint(world, 'llm', { now: TEST_NOW });
    world.fail.ListTags = 'AccessDeniedException';
    const scan = await listEndpoints(client(), REGION);
    expect(scan.endpoints[0]).toMatchObject({ tagsUnknown: true, tags: {} });
  });

  it('says when inference components cannot be listed (no endpoint of the region may be judged)', async () => {
    addEndpoint(world, 'llm', { now: TEST_NOW });
    world.fail.ListInferenceComponents = 'ThrottlingException';
    const scan = await listEndpoints(client(), REGION);
    expect(scan.inferenceComponentsUnknown).toBe(true);
    expect(scan.errors[0]).toContain('ListInferenceComponents failed (ThrottlingException)');
  });

  it('reports an endpoint it cannot describe, and goes on with the others', async () => {
    addEndpoint(world, 'ok', { now: TEST_NOW });
    const broken = addEndpoint(world, 'broken', { now: TEST_NOW });
    broken.configName = 'missing-config';
    const scan = await listEndpoints(client(), REGION);
    expect(scan.endpoints.map((e) => e.name)).toEqual(['ok']);
    expect(scan.errors).toEqual([
      expect.stringContaining('endpoint broken could not be described (ValidationException)'),
    ]);
  });
});

describe('Function: endpointNow / endpointConfigExists', () => {
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeEach(() => {
    world = emptyWorld();
    fake = installFakeSageMaker(world);
  });
  afterEach(() => fake.restore());

  it('reads the status and config now, and undefined for an endpoint that is gone', async () => {
    addEndpoint(world, 'llm', { now: TEST_NOW, status: 'Deleting' });
    await expect(endpointNow(client(), 'llm')).resolves.toEqual({
      status: 'Deleting',
      endpointConfigName: 'llm-config',
    });
    await expect(endpointNow(client(), 'nope')).resolves.toBeUndefined();
    await expect(endpointConfigExists(client(), 'llm-config')).resolves.toBe(true);
    await expect(endpointConfigExists(client(), 'nope')).resolves.toBe(false);
  });

  it('throws on anything else than "not found" (when in doubt, the caller does not act)', async () => {
    addEndpoint(world, 'llm', { now: TEST_NOW });
    world.fail.DescribeEndpoint = 'ThrottlingException';
    await expect(endpointNow(client(), 'llm')).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('Function: listGpuNotebooks / listStudio / updateDomainAppSettings', () => {
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeEach(() => {
    world = emptyWorld();
    fake = installFakeSageMaker(world);
  });
  afterEach(() => fake.restore());

  it('lists InService notebook instances on GPU types only, with their tags', async () => {
    const base = { creationTime: TEST_NOW, lastModifiedTime: TEST_NOW, tags: { owner: 'bob' } };
    world.notebooks.set('gpu', { name: 'gpu', instanceType: 'ml.g5.xlarge', status: 'InService', ...base });
    world.notebooks.set('cpu', { name: 'cpu', instanceType: 'ml.t3.medium', status: 'InService', ...base });
    world.notebooks.set('off', { name: 'off', instanceType: 'ml.p3.2xlarge', status: 'Stopped', ...base });
    const { notebooks } = await listGpuNotebooks(client(), REGION);
    expect(notebooks.map((n) => [n.name, n.tags])).toEqual([['gpu', { owner: 'bob' }]]);
  });

  it('lists domains with their JupyterLab and Code Editor settings and running apps', async () => {
    world.domains.set('d-1', {
      id: 'd-1',
      name: 'research',
      status: 'InService',
      settings: { JupyterLabAppSettings: { CustomImages: [] }, ExecutionRole: { x: 1 } },
      tags: {},
    });
    world.apps.push(
      {
        domainId: 'd-1',
        appType: 'JupyterLab',
        appName: 'default',
        status: 'InService',
        instanceType: 'ml.g5.xlarge',
        creationTime: TEST_NOW,
      },
      { domainId: 'd-1', appType: 'JupyterLab', appName: 'old', status: 'Deleted', creationTime: TEST_NOW },
    );
    const studio = await listStudio(client(), REGION);
    expect(studio.domains).toEqual([
      expect.objectContaining({ domainId: 'd-1', appSettings: { JupyterLab: { CustomImages: [] } }, tags: {} }),
    ]);
    expect(studio.apps.map((a) => a.appName)).toEqual(['default']);
  });

  it('sends only the app settings it was given to UpdateDomain', async () => {
    world.domains.set('d-1', { id: 'd-1', name: 'r', status: 'InService', settings: {}, tags: {} });
    const update = {
      JupyterLabAppSettings: { AppLifecycleManagement: { IdleSettings: { LifecycleManagement: 'ENABLED' } } },
    };
    await updateDomainAppSettings(client(), 'd-1', update);
    expect(fake.sm).toHaveReceivedCommandWith(UpdateDomainCommand, { DomainId: 'd-1', DefaultUserSettings: update });
  });
});

describe('Function: listStudioOwners / updateStudioOwnerAppSettings', () => {
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeEach(() => {
    world = emptyWorld();
    fake = installFakeSageMaker(world);
  });
  afterEach(() => fake.restore());
  const idle = (s: Record<string, unknown>) => ({ AppLifecycleManagement: { IdleSettings: s } });

  it('reads every page of user profiles and spaces per domain, with their own app settings', async () => {
    for (let i = 0; i < 205; i++) {
      world.owners.push({
        kind: 'user-profile',
        domainId: 'd-1',
        name: `u${i}`,
        status: 'InService',
        settings: {},
        tags: {},
      });
    }
    world.owners.push(
      { kind: 'user-profile', domainId: 'd-2', name: 'other', status: 'InService', settings: {}, tags: {} },
      {
        kind: 'space',
        domainId: 'd-1',
        name: 'team',
        status: 'InService',
        settings: { JupyterLabAppSettings: { CodeRepositories: [], ...idle({ IdleTimeoutInMinutes: 600 }) } },
        tags: { team: 'ml' },
      },
    );
    const { owners, errors } = await listStudioOwners(client(), REGION, ['d-1']);
    expect(errors).toEqual([]);
    expect(owners.filter((o) => o.kind === 'user-profile')).toHaveLength(205);
    expect(fake.sm).toHaveReceivedCommandTimes(ListUserProfilesCommand, 3);
    expect(owners.find((o) => o.kind === 'space')).toEqual(
      expect.objectContaining({
        name: 'team',
        domainId: 'd-1',
        arn: 'arn:aws:sagemaker:us-east-1:123456789012:space/d-1/team',
        appSettings: { JupyterLab: { CodeRepositories: [], ...idle({ IdleTimeoutInMinutes: 600 }) } },
        tags: { team: 'ml' },
      }),
    );
    // Tags are read only for the one with idle settings of its own.
    expect(fake.sm).toHaveReceivedCommandTimes(ListTagsCommand, 1);
  });

  it('reports a profile it cannot describe and one whose tags cannot be read is tagsUnknown', async () => {
    world.owners.push({
      kind: 'user-profile',
      domainId: 'd-1',
      name: 'alice',
      status: 'InService',
      settings: { JupyterLabAppSettings: idle({ LifecycleManagement: 'DISABLED' }) },
      tags: {},
    });
    world.fail.ListTags = 'AccessDeniedException';
    const tagless = await listStudioOwners(client(), REGION, ['d-1']);
    expect(tagless.owners).toEqual([expect.objectContaining({ name: 'alice', tagsUnknown: true })]);
    world.fail.DescribeUserProfile = 'ThrottlingException';
    const failed = await listStudioOwners(client(), REGION, ['d-1']);
    expect(failed.owners).toEqual([]);
    expect(failed.errors).toEqual([
      expect.stringContaining('alice (d-1) could not be described (ThrottlingException)'),
    ]);
    expect(fake.sm).toHaveReceivedCommandWith(DescribeUserProfileCommand, {
      DomainId: 'd-1',
      UserProfileName: 'alice',
    });
  });

  it('reports a domain whose spaces cannot be listed', async () => {
    world.fail.ListSpaces = 'AccessDeniedException';
    const { errors } = await listStudioOwners(client(), REGION, ['d-1']);
    expect(errors).toEqual([expect.stringContaining('spaces of Studio domain d-1 could not be listed')]);
  });

  it('sends UpdateUserProfile or UpdateSpace with only the app settings it was given', async () => {
    const update = { JupyterLabAppSettings: idle({ LifecycleManagement: 'ENABLED', IdleTimeoutInMinutes: 120 }) };
    world.owners.push(
      { kind: 'user-profile', domainId: 'd-1', name: 'alice', status: 'InService', settings: {}, tags: {} },
      { kind: 'space', domainId: 'd-1', name: 'team', status: 'InService', settings: {}, tags: {} },
    );
    await updateStudioOwnerAppSettings(client(), { kind: 'user-profile', domainId: 'd-1', name: 'alice' }, update);
    await updateStudioOwnerAppSettings(client(), { kind: 'space', domainId: 'd-1', name: 'team' }, update);
    expect(fake.sm).toHaveReceivedCommandWith(UpdateUserProfileCommand, {
      DomainId: 'd-1',
      UserProfileName: 'alice',
      UserSettings: update,
    });
    expect(fake.sm).toHaveReceivedCommandWith(UpdateSpaceCommand, {
      DomainId: 'd-1',
      SpaceName: 'team',
      SpaceSettings: update,
    });
  });
});

describe('Function: fetchEndpointInvocations', () => {
  let world: FakeSageMakerWorld;
  let fake: FakeSageMaker;
  beforeEach(() => {
    world = emptyWorld();
    fake = installFakeSageMaker(world);
  });
  afterEach(() => fake.restore());

  const facts = (name: string, variants = ['AllTraffic']): EndpointFacts => ({
    name,
    arn: `arn:aws:sagemaker:us-east-1:123456789012:endpoint/${name}`,
    region: REGION,
    status: 'InService',
    endpointConfigName: `${name}-config`,
    variants: variants.map((v) => ({ variantName: v, instanceType: 'ml.g5.xlarge', serverless: false })),
    async: false,
    tags: {},
  });

  it('asks for every variant in GetMetricData batches of 500, never one call per endpoint', async () => {
    // Prepare: 300 endpoints of 2 variants = 600 queries
    const endpoints = Array.from({ length: 300 }, (_, i) => facts(`ep-${i}`, ['a', 'b']));
    for (const e of endpoints)
      addEndpoint(world, e.name, { now: TEST_NOW, invocations: e.name === 'ep-7' ? { b: [3] } : {} });
    // Act
    const result = await fetchEndpointInvocations(
      new CloudWatchClient({ region: REGION }),
      endpoints,
      invocationsWindow(TEST_NOW, 24),
    );
    // Assess
    expect(fake.cw).toHaveReceivedCommandTimes(GetMetricDataCommand, 2);
    expect(result.queries).toBe(600);
    expect(result.invocations.get('ep-7')).toEqual({ a: [], b: [3] });
    expect(result.invocations.get('ep-8')).toEqual({ a: [], b: [] });
    const first = fake.cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(first.MetricDataQueries![0]!.MetricStat).toMatchObject({
      Metric: {
        Namespace: 'AWS/SageMaker',
        MetricName: 'Invocations',
        Dimensions: [
          { Name: 'EndpointName', Value: 'ep-0' },
          { Name: 'VariantName', Value: 'a' },
        ],
      },
      Period: 3600,
      Stat: 'Sum',
    });
  });

  it('leaves the invocations of a failed call unknown (never silent)', async () => {
    world.metricsFailWith = 'ThrottlingException';
    const result = await fetchEndpointInvocations(
      new CloudWatchClient({ region: REGION }),
      [facts('x')],
      invocationsWindow(TEST_NOW, 24),
    );
    expect(result.invocations.get('x')).toBeUndefined();
    expect(result.invocations.has('x')).toBe(true);
    expect(result.errors[0]).toContain('those endpoints are unknown');
  });

  it('covers at least the window and the current hour', () => {
    const w = invocationsWindow(new Date('2026-11-15T12:34:00.000Z'), 24);
    expect(w.start.toISOString()).toBe('2026-11-14T12:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-11-15T13:00:00.000Z');
  });
});

describe('Class: SageMakerWarningStore and the endpoint index', () => {
  let table: FakeStateTable;
  beforeEach(() => {
    table = fakeStateTable();
  });
  afterEach(() => table.mock.restore());
  const ddb = () => new DynamoDBClient({ region: REGION });

  it('keeps warnings under their own partition, pending until this run marks them delivered', async () => {
    // Prepare
    const run = new SageMakerWarningStore(ddb(), 'state', 'run-1', TEST_NOW);
    const other = new SageMakerWarningStore(ddb(), 'state', 'run-2', TEST_NOW);
    await run.putPending(REGION, 'endpoint/llm', {
      idleSince: TEST_NOW.toISOString(),
      action: 'delete',
      identity: 'x',
    });
    // Act
    const stolen = await other.markDelivered({
      key: 'endpoint/llm',
      region: REGION,
      slackChannel: 'C',
      slackTs: '1.1',
      warnedAt: TEST_NOW.toISOString(),
      actionDue: TEST_NOW.toISOString(),
    });
    const mine = await run.markDelivered({
      key: 'endpoint/llm',
      region: REGION,
      slackChannel: 'C',
      slackTs: '1.1',
      warnedAt: TEST_NOW.toISOString(),
      actionDue: TEST_NOW.toISOString(),
    });
    // Assess
    expect(stolen).toBe(false);
    expect(mine).toBe(true);
    const { pk, sk } = sageMakerWarningKey(REGION, 'endpoint/llm');
    expect(pk).toBe('sagemaker-warning#us-east-1');
    expect(table.get(pk, sk)).toMatchObject({ status: 'delivered', slackTs: '1.1', identity: 'x' });
    expect((await run.list(REGION)).get('endpoint/llm')).toMatchObject({ status: 'delivered', action: 'delete' });
    // The reaper's partition is untouched.
    expect([...table.items.keys()].every((k) => k.startsWith('sagemaker-warning#'))).toBe(true);
    await run.remove(REGION, 'endpoint/llm');
    expect((await run.list(REGION)).size).toBe(0);
  });

  it('records a deletion before it happens, marks it deleted, and gives restore what it needs', async () => {
    // Act
    await recordDeleting(ddb(), 'state', {
      endpointName: 'llm',
      region: REGION,
      endpointConfigName: 'llm-config',
      tags: { team: 'ml' },
      creationTime: '2026-10-01T00:00:00.000Z',
      reason: 'idle',
      at: TEST_NOW.toISOString(),
    });
    const { pk, sk } = endpointIndexKey(REGION, 'llm');
    expect(table.get(pk, sk)).toMatchObject({ state: 'deleting' });
    await markDeletion(ddb(), 'state', REGION, 'llm', 'deleted', TEST_NOW.toISOString());
    // Assess
    expect(await guardDeletions(ddb(), 'state', REGION)).toEqual([
      {
        endpointName: 'llm',
        region: REGION,
        endpointConfigName: 'llm-config',
        tags: { team: 'ml' },
        deletedAt: TEST_NOW.toISOString(),
        reason: 'idle',
        creationTime: '2026-10-01T00:00:00.000Z',
      },
    ]);
    // Restored: no longer offered.
    await recordEndpointRestores(ddb(), 'state', [
      {
        capability: 'restore',
        kind: 'create-endpoint',
        target: 'llm',
        region: REGION,
        reason: 'r',
        status: 'done',
        at: TEST_NOW.toISOString(),
      },
    ]);
    expect(await guardDeletions(ddb(), 'state', REGION)).toEqual([]);
  });

  it('never offers a failed deletion for restore', async () => {
    await recordDeleting(ddb(), 'state', {
      endpointName: 'llm',
      region: REGION,
      endpointConfigName: 'c',
      tags: {},
      reason: 'idle',
      at: TEST_NOW.toISOString(),
    });
    await markDeletion(ddb(), 'state', REGION, 'llm', 'delete-failed', TEST_NOW.toISOString());
    expect(await guardDeletions(ddb(), 'state', REGION)).toEqual([]);
  });
});

describe('Function: mapLimit', () => {
  it('keeps the order of the items and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running -= 1;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });
});

it('sends DeleteEndpoint only through the adapter (sanity: the fake keeps the config)', async () => {
  const world = emptyWorld();
  const fake = installFakeSageMaker(world);
  addEndpoint(world, 'llm', { now: TEST_NOW });
  await client().send(new DeleteEndpointCommand({ EndpointName: 'llm' }));
  expect(world.endpoints.has('llm')).toBe(false);
  expect(world.configs.has('llm-config')).toBe(true);
  fake.restore();
});
