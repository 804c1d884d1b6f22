/**
 * The organization fan-out end to end through the reaper's Lambda handler: a simulated organization of 3 accounts
 * × 2 regions (Organizations, STS, EC2 and CloudWatch mocked per account by the credentials each client holds; the
 * state table in memory; Slack on loopback). The hub is account A; B is reached through its spoke role; C denies
 * AssumeRole.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { WarningStore } from '../../../lambda/adapters/warning-store';
import { ENV } from '../../../lambda/core/names';
import type { FanOutUnit, TargetsResult, UnitStatus } from '../../../lambda/core/organization/fan-out';
import { lambdaHandler } from '../../../lambda/runtime/lambda-runtime';
import { OrganizationAccessError, runTargets, TooManyUnitsError } from '../../../lambda/runtime/organization';
import { reaperCapability } from '../../../lambda/services/reaper';
import { clockAt } from '../../helpers/clock';
import { TEST_NOW, testContext } from '../../helpers/context';
import { FakeEc2, type FakeInstance, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { lambdaContext } from '../../helpers/lambda-context';
import { RoutedFakes } from '../../helpers/routed-fakes';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const A = '111111111111'; // the hub
const B = '222222222222';
const C = '333333333333'; // denies AssumeRole
const NAMES: Record<string, string> = { [A]: 'platform', [B]: 'research', [C]: 'sandbox' };
const REGIONS = ['eu-west-1', 'us-east-1'];
const TABLE = 'state';
const RUN = 'exec-2026-11-15T12-00';

const orgMock = mockClient(OrganizationsClient);
const stsMock = mockClient(STSClient);
const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);
const secretsMock = mockClient(SecretsManagerClient);

/** GPU utilization an instance reports (0: idle). */
type Box = FakeInstance & { readonly gpu: number };
const box = (id: string, gpu = 0): Box => ({
  ...fakeInstance(id, { tags: { Name: id }, launchTime: new Date(TEST_NOW.getTime() - 86_400_000) }),
  gpu,
});

/** Whose client sent a command: the account its credentials are of (the hub's own: A), and its region. */
async function whereFrom(client: unknown): Promise<{ account: string; region: string }> {
  const config = (
    client as { config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> } }
  ).config;
  const { accessKeyId } = await config.credentials();
  const region = await config.region();
  return { account: accessKeyId.startsWith('SPOKE-') ? accessKeyId.slice(6) : A, region };
}

interface World {
  readonly ec2: Map<string, FakeEc2>;
  /** Where EC2 and CloudWatch calls went, as `<account>#<region>`. */
  readonly reached: Set<string>;
}

/** The organization: fleets per account and region, each answering only the clients of its account. */
function installOrganization(fleets: Record<string, Box[]>): World {
  const ec2 = new Map<string, FakeEc2>();
  const routes = new Map<string, RoutedFakes>();
  const boxes = new Map<string, Box[]>();
  const reached = new Set<string>();
  for (const account of [A, B, C]) {
    for (const region of REGIONS) {
      const key = `${account}#${region}`;
      const fleet = fleets[key] ?? [];
      const fake = new FakeEc2({ instances: fleet });
      const r = new RoutedFakes();
      fake.routeOn(r);
      ec2.set(key, fake);
      routes.set(key, r);
      boxes.set(key, fleet);
    }
  }
  ec2Mock.send.callsFake(async function (this: unknown, command: never) {
    const { account, region } = await whereFrom(this);
    reached.add(`${account}#${region}`);
    return routes.get(`${account}#${region}`)!.dispatch(command);
  } as never);
  cwMock.send.callsFake(async function (this: unknown, command: { input: unknown }) {
    const { account, region } = await whereFrom(this);
    reached.add(`${account}#${region}`);
    const fleet = boxes.get(`${account}#${region}`) ?? [];
    if (command instanceof ListMetricsCommand) {
      return {
        Metrics: fleet
          .filter((i) => i.state === 'running')
          .map((i) => ({
            Namespace: 'CWAgent',
            MetricName: 'nvidia_smi_utilization_gpu',
            Dimensions: [
              { Name: 'InstanceId', Value: i.id },
              { Name: 'index', Value: '0' },
              { Name: 'name', Value: 'NVIDIA A10G' },
            ],
          })),
      };
    }
    if (command instanceof GetMetricDataCommand) {
      const input = command.input as GetMetricDataCommandInput;
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
          const metric = q.MetricStat!.Metric!;
          const id = metric.Dimensions!.find((d) => d.Name === 'InstanceId')!.Value!;
          const inst = fleet.find((i) => i.id === id)!;
          const value =
            metric.MetricName === 'nvidia_smi_utilization_gpu'
              ? inst.gpu
              : metric.MetricName === 'CPUUtilization'
                ? 1
                : 1000;
          return { Id: q.Id, Values: Array(12).fill(value) };
        }),
      };
    }
    throw new Error(`no fake for ${command.constructor.name}`);
  } as never);
  orgMock.on(ListAccountsCommand).resolves({
    Accounts: [A, B, C].map((Id) => ({ Id, Name: NAMES[Id], Status: 'ACTIVE' })),
  });
  stsMock.on(AssumeRoleCommand).callsFake(async (input) => {
    const account = input.RoleArn!.split(':')[4]!;
    if (account === C)
      throw Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' });
    return {
      Credentials: {
        AccessKeyId: `SPOKE-${account}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(TEST_NOW.getTime() + 3_600_000),
      },
    };
  });
  return { ec2, reached };
}

/** A warning of `instanceId` Slack accepted two hours ago, in `account`'s keys. */
async function warnedEarlier(account: string, region: string, instanceId: string): Promise<void> {
  const at = new Date(TEST_NOW.getTime() - 2 * 3_600_000);
  const store = new WarningStore(new DynamoDBClient({ region: 'us-east-1' }), TABLE, 'seed', at, account);
  await store.putPending({ instanceId, region, idleSince: at.toISOString(), action: 'stop', confidence: 'high' });
  await store.markDelivered({
    instanceId,
    region,
    slackChannel: 'C0SEED',
    slackTs: '1699999999.000100',
    warnedAt: at.toISOString(),
    actionDue: new Date(at.getTime() + 60 * 60_000).toISOString(),
  });
}

/** The deployed reaper of the hub (a fresh cold start on this test's environment). */
function hubReaper(slack: SlackTestServer, over: { idleGpu?: object; accounts?: object } = {}) {
  process.env[ENV.config] = JSON.stringify({
    dryRun: false,
    regions: REGIONS,
    pricing: { live: false },
    slack: { channel: '#ml-finops', apiUrl: slack.url, accountChannels: { [B]: 'C0RESEARCH' } },
    idleGpu: { action: 'stop', warnMinutesBeforeAction: 60, ...over.idleGpu },
    accounts: { mode: 'organization', organizationId: 'o-abc123def4', accountIds: [A, B, C], ...over.accounts },
  });
  process.env[ENV.stateTable] = TABLE;
  process.env[ENV.slackSecret] = 'ml-cost-guard/slack';
  process.env[ENV.accountId] = A;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'HUBKEY';
  process.env.AWS_SECRET_ACCESS_KEY = 'hubsecret';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'xoxb-test-token' });
  return lambdaHandler('reaper', (ctx, event: unknown) => reaperCapability.run(ctx, event));
}

const unitEvent = (u: FanOutUnit) => ({ costGuardFanOut: 'unit' as const, runId: RUN, ...u });
const stopped = (w: World, key: string) =>
  w.ec2
    .get(key)!
    .changes.filter((c) => c.to === 'stopped')
    .map((c) => c.id);

describe('Handler: reaper fan-out over an organization (3 accounts × 2 regions, one denying AssumeRole)', () => {
  const saved = { ...process.env };
  let slack: SlackTestServer;
  let table: FakeStateTable;
  beforeEach(async () => {
    for (const m of [orgMock, stsMock, ec2Mock, cwMock, secretsMock]) m.reset();
    table = fakeStateTable();
    slack = await startSlackServer();
    clockAt(TEST_NOW);
  });
  afterEach(async () => {
    jest.useRealTimers();
    process.env = { ...saved };
    table.mock.restore();
    await slack.close();
  });

  it('runs every reachable unit as a single-account run would, per-account keys, and digests the denied account with its reason', async () => {
    // Prepare: A (hub) and B each have an instance warned two hours ago; B has a newly idle one in eu-west-1; C
    // cannot be reached.
    const world = installOrganization({
      [`${A}#us-east-1`]: [box('i-a1'), box('i-abusy', 90)],
      [`${B}#us-east-1`]: [box('i-b1')],
      [`${B}#eu-west-1`]: [box('i-b2')],
      [`${C}#us-east-1`]: [box('i-c1')],
    });
    await warnedEarlier(A, 'us-east-1', 'i-a1');
    await warnedEarlier(B, 'us-east-1', 'i-b1');
    const handler = hubReaper(slack);

    // Act: the state machine's three steps
    const targets = (await handler({ costGuardFanOut: 'targets', runId: RUN }, lambdaContext())) as TargetsResult;
    const statuses: UnitStatus[] = [];
    for (const [i, u] of targets.units.entries()) {
      statuses.push((await handler(unitEvent(u), lambdaContext({ awsRequestId: `unit-${i}` }))) as UnitStatus);
    }
    const digest = await handler(
      { costGuardFanOut: 'digest', runId: RUN, units: targets.units, skippedAccounts: targets.skippedAccounts },
      lambdaContext(),
    );

    // Assess: six units, C's two failed with the spoke role's reason, never thrown
    expect(targets.units.map((u) => `${u.accountName}/${u.region}`)).toEqual([
      'platform/eu-west-1',
      'platform/us-east-1',
      'research/eu-west-1',
      'research/us-east-1',
      'sandbox/eu-west-1',
      'sandbox/us-east-1',
    ]);
    expect(statuses.filter((s) => s.ok).map((s) => `${s.accountId}#${s.region}`)).toHaveLength(4);
    const denied = statuses.filter((s) => !s.ok);
    expect(denied.map((s) => s.accountId)).toEqual([C, C]);
    expect(denied[0]!.reason).toContain(`cannot assume arn:aws:iam::${C}:role/ml-cost-guard-spoke (AccessDenied)`);
    expect(digest).toEqual({ units: 6, failedUnits: 2, missingUnits: 0 });

    // Acted and warned in each reachable account, on that account's EC2 only; C's fleet never touched
    expect(stopped(world, `${A}#us-east-1`)).toEqual(['i-a1']);
    expect(stopped(world, `${B}#us-east-1`)).toEqual(['i-b1']);
    expect(world.ec2.get(`${C}#us-east-1`)!.calls).toEqual([]);
    expect([...world.reached].some((k) => k.startsWith(C))).toBe(false);
    expect(world.ec2.get(`${B}#eu-west-1`)!.instances[0]!.tags['cost-guard:idle-since']).toBe(TEST_NOW.toISOString());

    // Per-account keys: warnings, limits, leases; nothing under a single-account key
    const pks = [...table.items.values()].map((i) => i.pk!.S!);
    expect(table.get(`warning#${B}#eu-west-1`, 'i-b2')).toMatchObject({
      status: 'delivered',
      slackChannel: 'C0RESEARCH',
    });
    expect(table.get(`warning#${A}#us-east-1`, 'i-a1')).toBeUndefined();
    expect(pks).toContain(`limit#reaper#${A}#all-regions`);
    expect(pks).toContain(`limit#reaper#${B}#all-regions`);
    expect(pks).toContain('limit#reaper#organization');
    expect(pks).toContain(`lease#reaper#${B}#eu-west-1`);
    expect(
      pks.filter(
        (pk) => /^(warning|keep|lease|limit#reaper#all-regions)/.test(pk) && !pk.includes(A) && !pk.includes(B),
      ),
    ).toEqual([]);
    expect(JSON.parse(String(table.get(`fanout#${RUN}`, `${C}#us-east-1`)?.report))).toMatchObject({ ok: false });

    // Slack: B's messages in its channel, labelled; one organization digest in the main channel with names and reasons
    const posts = slack.posts();
    const research = posts.filter((p) => p.channel === 'C0RESEARCH');
    expect(research.length).toBeGreaterThan(0);
    expect(research.every((p) => p.text.includes('Account *research* (222222222222)'))).toBe(true);
    const orgDigest = posts.filter((p) => p.text.includes('across the organization'));
    expect(orgDigest).toHaveLength(1);
    expect(orgDigest[0]!.channel).toBe('#ml-finops');
    const body = JSON.stringify(orgDigest[0]!.blocks);
    for (const name of ['platform', 'research', 'sandbox']) expect(body).toContain(`*${name}*`);
    expect(body).toContain('cannot assume arn:aws:iam::333333333333:role/ml-cost-guard-spoke (AccessDenied)');
  });

  it('acts at most to the per-account limit when one unit event is delivered three times', async () => {
    // Prepare: three instances warned long ago in B, one action allowed a period
    const world = installOrganization({ [`${B}#us-east-1`]: [box('i-b1'), box('i-b2'), box('i-b3')] });
    for (const id of ['i-b1', 'i-b2', 'i-b3']) await warnedEarlier(B, 'us-east-1', id);
    const handler = hubReaper(slack, { idleGpu: { maxActionsPerRun: 1 } });
    const unit = unitEvent({ accountId: B, accountName: 'research', region: 'us-east-1' });
    // Act
    const answers = [];
    for (const i of [1, 2, 3]) answers.push(await handler(unit, lambdaContext({ awsRequestId: `retry-${i}` })));
    // Assess
    expect(stopped(world, `${B}#us-east-1`)).toHaveLength(1);
    expect(answers.every((a) => (a as UnitStatus).ok)).toBe(true);
    const limit = [...table.items.values()].find((i) => i.pk!.S === `limit#reaper#${B}#all-regions`);
    expect(limit?.count).toEqual({ N: '1' });
  });

  it('holds the organization-wide ceiling across accounts', async () => {
    // Prepare: two warned instances in each of A and B; 5 a period per account, 3 across the organization
    const world = installOrganization({
      [`${A}#us-east-1`]: [box('i-a1'), box('i-a2')],
      [`${B}#us-east-1`]: [box('i-b1'), box('i-b2')],
    });
    for (const id of ['i-a1', 'i-a2']) await warnedEarlier(A, 'us-east-1', id);
    for (const id of ['i-b1', 'i-b2']) await warnedEarlier(B, 'us-east-1', id);
    const handler = hubReaper(slack, { idleGpu: { maxActionsPerRun: 5 }, accounts: { maxActionsPerOrganization: 3 } });
    // Act
    for (const account of [A, B]) {
      await handler(
        unitEvent({ accountId: account, accountName: NAMES[account]!, region: 'us-east-1' }),
        lambdaContext(),
      );
    }
    // Assess
    const all = [...stopped(world, `${A}#us-east-1`), ...stopped(world, `${B}#us-east-1`)];
    expect(all).toHaveLength(3);
    expect(stopped(world, `${A}#us-east-1`)).toHaveLength(2);
    const report = JSON.parse(String(table.get(`fanout#${RUN}`, `${B}#us-east-1`)?.report)) as { notes: string[] };
    expect(report.notes.some((n) => n.includes('accounts.maxActionsPerOrganization (3)'))).toBe(true);
  });
});

describe('Handler: reaper fan-out, Slack', () => {
  const saved = { ...process.env };
  let slack: SlackTestServer;
  let table: FakeStateTable;
  beforeEach(async () => {
    for (const m of [orgMock, stsMock, ec2Mock, cwMock, secretsMock]) m.reset();
    table = fakeStateTable();
    slack = await startSlackServer();
    clockAt(TEST_NOW);
  });
  afterEach(async () => {
    jest.useRealTimers();
    process.env = { ...saved };
    table.mock.restore();
    await slack.close();
  });

  it("puts buttons only on the hub account's warnings (buttons act only in the hub)", async () => {
    // Prepare: a newly idle instance in the hub (A) and in B, interactivity on
    // (instance IDs as EC2 writes them: a button value must hold a real one)
    installOrganization({
      [`${A}#eu-west-1`]: [box('i-0aaaaaaaaaaaaaaa3')],
      [`${B}#eu-west-1`]: [box('i-0bbbbbbbbbbbbbbb3')],
    });
    hubReaper(slack); // the environment; the config below adds interactivity
    process.env[ENV.config] = JSON.stringify({
      ...JSON.parse(process.env[ENV.config]!),
      slack: { channel: '#ml-finops', apiUrl: slack.url, interactivity: true, teamId: 'T0TEST' },
    });
    const fresh = lambdaHandler('reaper', (ctx, event: unknown) => reaperCapability.run(ctx, event));
    // Act
    for (const account of [A, B]) {
      await fresh(
        unitEvent({ accountId: account, accountName: NAMES[account]!, region: 'eu-west-1' }),
        lambdaContext(),
      );
    }
    // Assess
    const posts = slack.posts();
    const of = (name: string) => posts.filter((p) => p.text.includes(`Account *${name}*`));
    const hasButtons = (p: { blocks: unknown[] }) => p.blocks.some((b) => (b as { type: string }).type === 'actions');
    expect(of('platform').length).toBeGreaterThan(0);
    expect(of('research').length).toBeGreaterThan(0);
    expect(of('platform').some(hasButtons)).toBe(true);
    expect(of('research').some(hasButtons)).toBe(false);
  });

  it('fails the digest step when Slack refuses the organization digest', async () => {
    installOrganization({});
    const handler = hubReaper(slack);
    slack.respond = () => ({ kind: 'slack-error', error: 'channel_not_found' });
    const units = [{ accountId: A, accountName: 'platform', region: 'us-east-1' }];
    await expect(handler({ costGuardFanOut: 'digest', runId: RUN, units }, lambdaContext())).rejects.toMatchObject({
      name: 'OrganizationDigestError',
    });
  });

  it('refuses a fan-out event when the stack is not an organization hub', async () => {
    installOrganization({});
    hubReaper(slack);
    process.env[ENV.config] = JSON.stringify({ dryRun: false, pricing: { live: false } });
    const single = lambdaHandler('reaper', (ctx, event: unknown) => reaperCapability.run(ctx, event));
    await expect(single({ costGuardFanOut: 'targets', runId: RUN }, lambdaContext())).rejects.toMatchObject({
      name: 'FanOutEventError',
    });
  });
});

describe('Function: runTargets', () => {
  beforeEach(() => orgMock.reset());
  const ctx = (config: object) =>
    testContext({
      config: { accounts: { mode: 'organization', organizationId: 'o-abc123def4', accountIds: [A] }, ...config },
    });

  it('refuses more than MAX_UNITS units with a named error telling the user to split, truncating nothing', async () => {
    const ids = Array.from({ length: 700 }, (_, i) => String(500000000000 + i));
    orgMock.on(ListAccountsCommand).resolves({ Accounts: ids.map((Id) => ({ Id, Name: Id, Status: 'ACTIVE' })) });
    const error = await runTargets(
      ctx({
        regions: ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1'],
        accounts: { mode: 'organization', organizationId: 'o-abc123def4', accountIds: ids },
      }),
      'reaper',
      { runId: 'r' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooManyUnitsError);
    expect((error as Error).message).toContain('2800 units (700 accounts × 4 regions)');
    expect((error as Error).message).toContain('split');
  });

  it('fails naming the management account / delegated administrator requirement when Organizations denies', async () => {
    orgMock.on(ListAccountsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const error = await runTargets(ctx({}), 'reaper', { runId: 'r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrganizationAccessError);
    expect((error as Error).message).toMatch(/management account.*delegated administrator/);
  });

  it('gives the lifecycle one unit per account, in the home region', async () => {
    orgMock.on(ListAccountsCommand).resolves({ Accounts: [{ Id: A, Name: 'platform', Status: 'ACTIVE' }] });
    const result = await runTargets(ctx({ regions: ['us-east-1', 'eu-west-1'] }), 'lifecycle', { runId: 'r' });
    expect(result.units).toEqual([{ accountId: A, accountName: 'platform', region: 'us-east-1' }]);
  });
});
