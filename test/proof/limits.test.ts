/**
 * Proof suite, limits that hold across retries, overlaps and the CLI (issue 9):
 * - the CLI's clock is AWS's: a laptop more than 5 minutes off is refused before anything is read or changed;
 * - the CLI and the deployed function never act on the same capability and region at the same time (a lease in the
 *   state table), whichever starts first;
 * - the budget guard acts on at most its per-period limit when one scheduled event is delivered three times with
 *   Slack failing, and never stops anything without a Slack token;
 * - `cost-guard restore` starts only what the guard's own records say it stopped: a hand-written stopped-by tag
 *   starts nothing.
 * Each case fails on the main of before this change (no clock check, no lease, no per-period count, tag-driven
 * restore, stops with a printing notifier).
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { type Budget, BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStateStore, leaseName } from '../../lambda/adapters/state-store';
import type { CliIO } from '../../lambda/cli/io';
import { main } from '../../lambda/cli/main';
import { ENV } from '../../lambda/core/names';
import { lambdaHandler } from '../../lambda/runtime/lambda-runtime';
import { budgetsCapability } from '../../lambda/services/budgets';
import { clockAt } from '../helpers/clock';
import { TEST_NOW, testContext } from '../helpers/context';
import { FakeEc2, fakeInstance } from '../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { lambdaContext } from '../helpers/lambda-context';
import { type SlackTestServer, startSlackServer } from '../helpers/slack-server';
import { type StsTestServer, startStsServer } from '../helpers/sts-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);
const secretsMock = mockClient(SecretsManagerClient);
let table: FakeStateTable;
let sts: StsTestServer;

beforeEach(async () => {
  budgetsMock.reset();
  ec2Mock.reset();
  table = fakeStateTable();
  sts = await startStsServer(TEST_NOW);
});
afterEach(async () => {
  table.mock.restore();
  await sts.close();
});
afterAll(() => {
  budgetsMock.restore();
  ec2Mock.restore();
  secretsMock.restore();
});

/** A config file and an io whose SDK calls reach the loopback STS (other clients are mocked). */
function cli(config: unknown, laptopNow: Date = TEST_NOW) {
  const dir = mkdtempSync(path.join(tmpdir(), 'limits-'));
  writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify(config));
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: sts.url, USER: 'ana' },
    isTTY: false,
    cwd: dir,
    now: () => laptopNow,
  };
  return { io, stdout: () => out.join('\n'), stderr: () => err.join('\n') };
}

const BUDGET_CONFIG = {
  dryRun: false,
  state: { tableName: 'state' },
  budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform' }] },
};

describe('Proof: the CLI runs on AWS time', () => {
  it('refuses a laptop clock 10 minutes ahead of AWS, before reading or changing anything', async () => {
    // Prepare
    const t = cli(BUDGET_CONFIG, new Date(TEST_NOW.getTime() + 10 * 60_000));
    // Act
    const code = await main(['run', 'budgets', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(code).toBe(1);
    expect(t.stderr()).toContain(
      "your clock is 10 minutes ahead of AWS's; fix it (timedatectl/ntp) — the guard's grace periods depend on it",
    );
    expect(budgetsMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(table.mock.calls()).toHaveLength(0);
  });

  it('refuses restore the same way', async () => {
    // Prepare
    const t = cli(BUDGET_CONFIG, new Date(TEST_NOW.getTime() - 6 * 60_000));
    // Act
    const code = await main(['restore', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(code).toBe(1);
    expect(t.stderr()).toContain("your clock is 6 minutes behind AWS's");
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("runs within 5 minutes of AWS's clock, on AWS's time (control)", async () => {
    // Prepare: the laptop is 3 minutes behind; the run's records carry AWS's time.
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
    const t = cli(BUDGET_CONFIG, new Date(TEST_NOW.getTime() - 3 * 60_000));
    // Act
    await main(['run', 'budgets', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(t.stderr()).not.toContain('your clock');
    expect(budgetsMock.commandCalls(DescribeBudgetsCommand).length).toBeGreaterThan(0);
    expect(table.get('lease#budgets#us-east-1', 'lease')?.acquiredAt).toBe(TEST_NOW.toISOString());
  });
});

describe('Proof: the CLI never acts beside the deployed function', () => {
  it('refuses `cost-guard run` while the function holds the lease, naming the holder and when to retry', async () => {
    // Prepare: the deployed budget guard is mid-run in us-east-1.
    const store = new DynamoStateStore(testContext().clients.dynamodb(), 'state', { now: TEST_NOW });
    await store.acquireLease({
      name: leaseName('budgets', 'us-east-1'),
      holder: 'lambda:3f1c-req',
      now: TEST_NOW,
      ttlMs: 15 * 60_000,
    });
    const t = cli(BUDGET_CONFIG);
    // Act
    const code = await main(['run', 'budgets', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(code).toBe(1);
    expect(t.stderr()).toContain(
      'another run (lambda:3f1c-req, until 2026-11-15T12:15:00.000Z) is acting on budgets in us-east-1; try again after 2026-11-15T12:15:00.000Z',
    );
    expect(budgetsMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it('runs once the lease has expired, and gives it back (control)', async () => {
    // Prepare
    const store = new DynamoStateStore(testContext().clients.dynamodb(), 'state', { now: TEST_NOW });
    await store.acquireLease({
      name: leaseName('budgets', 'us-east-1'),
      holder: 'lambda:old',
      now: new Date(TEST_NOW.getTime() - 20 * 60_000),
      ttlMs: 15 * 60_000,
    });
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
    const t = cli(BUDGET_CONFIG);
    // Act
    await main(['run', 'budgets', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(t.stderr()).not.toContain('another run');
    expect(budgetsMock.commandCalls(DescribeBudgetsCommand).length).toBeGreaterThan(0);
    expect(table.get('lease#budgets#us-east-1', 'lease')).toMatchObject({ expiresAt: 0 });
    expect(String(table.get('lease#budgets#us-east-1', 'lease')?.holder)).toMatch(/^cli:ana@.+:\d+$/);
  });
});

/** The deployed budget guard's handler, on this test's environment (a fresh cold start). */
function deployedBudgetGuard(config: unknown) {
  process.env[ENV.config] = JSON.stringify(config);
  process.env[ENV.stateTable] = 'state';
  process.env[ENV.slackSecret] = 'ml-cost-guard/slack';
  process.env[ENV.accountId] = '123456789012';
  process.env.AWS_REGION = 'us-east-1';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'CRITICAL';
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'xoxb-test-token' });
  return lambdaHandler('budgets', (ctx, event: unknown) => budgetsCapability.run(ctx, event));
}

/** A budget at `percent` of a $10,000 monthly limit, in November 2026. */
const budgetAt = (name: string, percent: number): Budget => ({
  BudgetName: name,
  BudgetType: 'COST',
  TimeUnit: 'MONTHLY',
  BudgetLimit: { Amount: '10000', Unit: 'USD' },
  CalculatedSpend: { ActualSpend: { Amount: String(percent * 100), Unit: 'USD' } },
  TimePeriod: { Start: new Date('2026-11-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
});

describe('Proof: the budget guard acts on at most its per-period limit, whatever the deliveries', () => {
  const saved = { ...process.env };
  let slack: SlackTestServer;
  beforeEach(async () => {
    secretsMock.reset();
    slack = await startSlackServer();
  });
  afterEach(async () => {
    process.env = { ...saved };
    jest.useRealTimers();
    await slack.close();
  });

  it('stops at most 50 of 60 instances when one scheduled event is delivered three times and Slack keeps failing', async () => {
    // Prepare: ml-platform is over its action threshold with 60 running GPU instances in scope; research too, but
    // Slack refuses every research message, so each delivery fails (and is delivered again).
    const fleet = [
      ...Array.from({ length: 60 }, (_, i) =>
        fakeInstance(`i-ml${String(i).padStart(3, '0')}`, { tags: { team: 'ml' } }),
      ),
      fakeInstance('i-research', { tags: { team: 'research' } }),
    ];
    const ec2 = new FakeEc2({ instances: fleet }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({
      Budgets: [budgetAt('ml-platform', 97), budgetAt('research', 99)],
    });
    slack.respond = (body) =>
      JSON.stringify(body).includes('research') ? { kind: 'slack-error', error: 'channel_not_found' } : undefined;
    const handler = deployedBudgetGuard({
      dryRun: false,
      slack: { channel: '#ml-finops', apiUrl: slack.url },
      pricing: { live: false },
      budgets: {
        action: 'stop-non-essential',
        items: [
          { name: 'ml-platform', scopeTags: { team: 'ml' } },
          { name: 'research', scopeTags: { team: 'research' } },
        ],
      },
    });
    // The event EventBridge Scheduler sent for 12:00, and the times it was delivered.
    const event = { source: 'ml-cost-guard.schedule', scheduledTime: '2026-11-15T12:00:00Z' };
    const deliveries = ['2026-11-15T12:00:03Z', '2026-11-15T12:01:10Z', '2026-11-15T12:03:20Z'];
    // Act
    const outcomes: string[] = [];
    for (const [i, at] of deliveries.entries()) {
      clockAt(new Date(at));
      try {
        await handler(event, lambdaContext({ awsRequestId: `req-${i}` }));
        outcomes.push('ok');
      } catch (error) {
        outcomes.push((error as Error).name);
      }
      jest.useRealTimers();
    }
    // Assess
    const stopped = fleet.filter((f) => ec2.get(f.id).state === 'stopped').map((f) => f.id);
    const asked = new Set(ec2Mock.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []));
    expect(outcomes.every((o) => o !== 'ok')).toBe(true); // every delivery failed on the research alert
    expect(asked.size).toBeLessThanOrEqual(50);
    expect(stopped.length).toBeLessThanOrEqual(50);
    expect(stopped).not.toContain('i-research');
    expect(stopped.length).toBeGreaterThan(0); // control: the guard did act, up to its limit
  });

  it.each([
    ['no Slack secret', undefined],
    ['a secret still holding its placeholder', 'REPLACE_WITH_XOXB_TOKEN'],
  ])('never stops, tags or counts anything with %s, and says why', async (_, token) => {
    // Prepare
    const ec2 = new FakeEc2({
      instances: Array.from({ length: 3 }, (_, i) => fakeInstance(`i-ml${i}`, { tags: { team: 'ml' } })),
    }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [budgetAt('ml-platform', 98)] });
    const handler = deployedBudgetGuard({
      dryRun: false,
      slack: { channel: '#ml-finops', apiUrl: slack.url },
      pricing: { live: false },
      budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
    });
    if (token === undefined) delete process.env[ENV.slackSecret];
    else {
      // Its own secret name: Powertools caches a secret's value for 5 minutes across invocations.
      process.env[ENV.slackSecret] = 'ml-cost-guard/slack-not-filled-in';
      secretsMock.on(GetSecretValueCommand).resolves({ SecretString: token });
    }
    clockAt(TEST_NOW);
    // Act
    const summary = await handler({ source: 'ml-cost-guard.schedule' }, lambdaContext({ awsRequestId: 'req-1' }));
    // Assess
    expect(ec2Mock.commandCalls(StopInstancesCommand)).toHaveLength(0);
    expect(ec2.instances.every((i) => i.state === 'running' && Object.keys(i.tags).join() === 'team')).toBe(true);
    expect(slack.posts()).toHaveLength(0);
    expect(summary.notes.join('\n')).toContain('No Slack token: nothing is stopped');
    expect(table.get('limit#budgets#stops', '2026-11-15T12:00:00.000Z')).toBeUndefined();
  });

  it('says in a dry run with printed messages (plan) that stops need an alert Slack accepted', async () => {
    // Prepare
    new FakeEc2({ instances: [fakeInstance('i-ml0', { tags: { team: 'ml' } })] }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [budgetAt('ml-platform', 98)] });
    const ctx = testContext({
      dryRun: true,
      config: {
        budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
      },
    });
    // Act
    const summary = await budgetsCapability.run(ctx, { source: 'cost-guard.cli' });
    // Assess
    expect(summary.notes.join('\n')).toContain(
      'Stops are made only after Slack accepted the alert: without a Slack token (messages printed or logged) the budget guard reports what it would stop and stops nothing.',
    );
  });

  it('stops the same fleet once the token is stored (control)', async () => {
    // Prepare
    const ec2 = new FakeEc2({
      instances: Array.from({ length: 3 }, (_, i) => fakeInstance(`i-ml${i}`, { tags: { team: 'ml' } })),
    }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [budgetAt('ml-platform', 98)] });
    const handler = deployedBudgetGuard({
      dryRun: false,
      slack: { channel: '#ml-finops', apiUrl: slack.url },
      pricing: { live: false },
      budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
    });
    clockAt(TEST_NOW);
    // Act
    await handler({ source: 'ml-cost-guard.schedule' }, lambdaContext({ awsRequestId: 'req-1' }));
    // Assess
    expect(ec2.instances.map((i) => i.state)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(slack.posts().length).toBeGreaterThan(0);
  });

  it('does nothing while a CLI run holds the lease, and says who holds it (the other side of the CLI proof)', async () => {
    // Prepare
    const ec2 = new FakeEc2({
      instances: Array.from({ length: 3 }, (_, i) => fakeInstance(`i-ml${i}`, { tags: { team: 'ml' } })),
    }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [budgetAt('ml-platform', 98)] });
    const handler = deployedBudgetGuard({
      dryRun: false,
      slack: { channel: '#ml-finops', apiUrl: slack.url },
      pricing: { live: false },
      budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
    });
    const store = new DynamoStateStore(testContext().clients.dynamodb(), 'state', { now: TEST_NOW });
    await store.acquireLease({
      name: leaseName('budgets', 'us-east-1'),
      holder: 'cli:ana@laptop:4242',
      now: TEST_NOW,
      ttlMs: 15 * 60_000,
    });
    clockAt(new Date(TEST_NOW.getTime() + 60_000));
    // Act
    const summary = await handler({ source: 'ml-cost-guard.schedule' }, lambdaContext({ awsRequestId: 'req-9' }));
    // Assess
    expect(budgetsMock.calls()).toHaveLength(0);
    expect(ec2.instances.map((i) => i.state)).toEqual(['running', 'running', 'running']);
    expect(summary.notes[0]).toContain(
      'another run (cli:ana@laptop:4242, until 2026-11-15T12:15:00.000Z) is acting on budgets in us-east-1',
    );
  });
});

describe('Proof: restore starts only what the guard recorded stopping', () => {
  const saved = { ...process.env };
  let slack: SlackTestServer;
  beforeEach(async () => {
    secretsMock.reset();
    slack = await startSlackServer();
  });
  afterEach(async () => {
    process.env = { ...saved };
    jest.useRealTimers();
    await slack.close();
  });

  it('leaves a stopped instance carrying a hand-written stopped-by tag, and restarts what the guard stopped', async () => {
    // Prepare: the deployed budget guard stops the two ml instances in scope...
    const forgedTags = {
      team: 'data',
      'cost-guard:stopped-by': 'budget-guard',
      'cost-guard:stopped-at': '2026-11-14T08:00:00.000Z',
      'cost-guard:stopped-budget': 'ml-platform',
    };
    const ec2 = new FakeEc2({
      instances: [
        fakeInstance('i-ml0', { tags: { team: 'ml' } }),
        fakeInstance('i-ml1', { tags: { team: 'ml' } }),
        // ...while someone stopped this one by hand and wrote the guard's tags on it.
        fakeInstance('i-forged', { state: 'stopped', tags: forgedTags }),
      ],
    }).install(ec2Mock);
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [budgetAt('ml-platform', 98)] });
    const guard = deployedBudgetGuard({
      dryRun: false,
      slack: { channel: '#ml-finops', apiUrl: slack.url },
      pricing: { live: false },
      budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
    });
    clockAt(TEST_NOW);
    await guard({ source: 'ml-cost-guard.schedule' }, lambdaContext({ awsRequestId: 'req-1' }));
    jest.useRealTimers();
    expect(['i-ml0', 'i-ml1'].map((id) => ec2.get(id).state)).toEqual(['stopped', 'stopped']);
    const t = cli({ dryRun: false, state: { tableName: 'state' } }, new Date(TEST_NOW.getTime() + 3_600_000));
    sts.date = new Date(TEST_NOW.getTime() + 3_600_000);
    // Act
    const code = await main(['restore', '--config', 'cost-guard.json'], t.io);
    // Assess
    expect(code).toBe(0);
    expect(ec2.get('i-forged')).toMatchObject({ state: 'stopped', tags: forgedTags });
    expect(['i-ml0', 'i-ml1'].map((id) => ec2.get(id).state)).toEqual(['running', 'running']);
    expect(t.stdout()).toContain(
      'left alone i-forged us-east-1: tagged cost-guard:stopped-by but not in the ledger: not started',
    );
  });
});
