/**
 * `cost-guard plan --organization` over a simulated organization: the caller's own (management) account and two
 * member accounts × two regions, with mocked Organizations, STS, EC2, CloudWatch, S3, SageMaker and DynamoDB. Each
 * mocked call is answered by the account whose credentials the client holds (the hub's own, or the spoke role's
 * from AssumeRole), so a unit that ran with the wrong account's credentials would see the wrong fleet. One member
 * account denies AssumeRole: its row shows why, and the others are planned.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListOrganizationalUnitsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../lambda/cli/main';
import { Progress } from '../../../lambda/cli/progress';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW } from '../../helpers/context';

const HUB = '999988887777';
const RESEARCH = '111122223333';
const SANDBOX = '444455556666';
const SUSPENDED = '777788889999';
const OU = 'ou-abcd-11111111';
/** The hub's key is the test environment's (test/setup-env.ts); a member's is the spoke role's from AssumeRole. */
const ACCOUNT_OF_KEY: Record<string, string> = { AKIAIOSFODNN7EXAMPLE: HUB, [`ASIA${RESEARCH}`]: RESEARCH };
/** Idle GPU instances per account and region. */
const FLEET: Record<string, Record<string, number>> = {
  [HUB]: { 'us-east-1': 2, 'eu-west-1': 1 },
  [RESEARCH]: { 'us-east-1': 1, 'eu-west-1': 0 },
};

const sts = mockClient(STSClient);
const organizations = mockClient(OrganizationsClient);
const dynamodb = mockClient(DynamoDBClient);
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const sagemaker = mockClient(SageMakerClient);

/** The account and region of the client a mocked call was sent with, from its credentials. */
async function whereSent(getClient: () => { config: unknown }): Promise<{ account: string; region: string }> {
  const config = getClient().config as {
    credentials: () => Promise<{ accessKeyId: string }>;
    region: () => Promise<string>;
  };
  const { accessKeyId } = await config.credentials();
  const account = ACCOUNT_OF_KEY[accessKeyId];
  if (!account) throw new Error(`a call with unknown credentials ${accessKeyId}`);
  return { account, region: await config.region() };
}

function instancesOf(account: string, region: string) {
  return Array.from({ length: FLEET[account]?.[region] ?? 0 }, (_, i) => ({
    InstanceId: `i-0${account.slice(0, 4)}${region.slice(0, 2)}${i}`,
    InstanceType: 'g5.xlarge' as const,
    LaunchTime: new Date(TEST_NOW.getTime() - 3 * 86_400_000),
    State: { Name: 'running' as const },
    Placement: { AvailabilityZone: `${region}a` },
    Tags: [{ Key: 'Name', Value: `trainer-${i}` }],
  }));
}

/** The config file: the OU to plan, two regions; accounts.mode stays single (the default). */
function configDir(accounts: Record<string, unknown> = { organizationalUnitIds: [OU] }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-plan-org-'));
  writeFileSync(
    path.join(dir, 'guard.json'),
    JSON.stringify({
      dryRun: false,
      regions: ['us-east-1', 'eu-west-1'],
      idleGpu: { actOnCpuOnlyEvidence: true },
      accounts,
    }),
  );
  return dir;
}

/** Units in flight now, and the most seen at once (DescribeInstances answers one turn of the event loop later). */
let inFlight = 0;
let mostInFlight = 0;

beforeEach(() => {
  for (const m of [sts, organizations, dynamodb, ec2, cw, s3, sagemaker]) m.reset();
  inFlight = 0;
  mostInFlight = 0;
  sts.on(GetCallerIdentityCommand).resolves({ Account: HUB });
  sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string }) => {
    if (input.RoleArn.includes(SANDBOX)) {
      throw Object.assign(new Error(`not authorized to perform: sts:AssumeRole on ${input.RoleArn}`), {
        name: 'AccessDenied',
      });
    }
    const account = /iam::(\d{12}):/.exec(input.RoleArn)![1]!;
    return { Credentials: { AccessKeyId: `ASIA${account}`, SecretAccessKey: 'secret', SessionToken: 'token' } };
  });
  const members = [
    { Id: RESEARCH, Name: 'research', Status: 'ACTIVE' as const },
    { Id: HUB, Name: 'platform', Status: 'ACTIVE' as const },
    { Id: SANDBOX, Name: 'sandbox', Status: 'ACTIVE' as const },
    { Id: SUSPENDED, Name: 'old', Status: 'SUSPENDED' as const },
  ];
  organizations.on(ListAccountsForParentCommand, { ParentId: OU }).resolves({ Accounts: members });
  organizations.on(ListAccountsCommand).resolves({ Accounts: members });
  organizations.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'ml-cost-guard-state' } });
  dynamodb.on(QueryCommand).resolves({ Items: [] });
  ec2.on(DescribeInstancesCommand).callsFake(async (_input, getClient) => {
    const { account, region } = await whereSent(getClient);
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    return { Reservations: [{ Instances: instancesOf(account, region) }] };
  });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      {
        InstanceType: 'g5.xlarge',
        GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 1, MemoryInfo: { SizeInMiB: 24576 } }] },
      },
    ],
  });
  cw.on(ListMetricsCommand).resolves({ Metrics: [] });
  // Every metric flat at zero, a datapoint every 5 minutes: idle by CPU and network.
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => ({
      Id: q.Id,
      StatusCode: 'Complete',
      Timestamps: Array.from({ length: 12 }, (_, i) => new Date(TEST_NOW.getTime() - i * 300_000)),
      Values: Array.from({ length: 12 }, () => 0),
    })),
  }));
  s3.on(ListBucketsCommand).resolves({ Buckets: [] });
  sagemaker.onAnyCommand().resolves({});
});

const env = { AWS_REGION: 'us-east-1', SLACK_BOT_TOKEN: 'xoxb-test' };

describe('Command: plan --organization', () => {
  it('plans every account and region from the caller, showing the account that denies the spoke role with its reason', async () => {
    // Prepare
    const io = fakeIO({ cwd: configDir(), env, columns: 200 });
    // Act
    const code = await main(['plan', '--organization', '--config', 'guard.json', '--only', 'reaper'], io);
    // Assess: one row per active account, in ID order; the sandbox failed with AssumeRole's refusal.
    const lines = io.stdout().split('\n');
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `)) ?? '';
    expect(row('research')).toMatch(
      /^research\s+111122223333\s+eu-west-1, us-east-1\s+1\s+-\s+1\s+\$[1-9][\d,.]+\s+planned$/,
    );
    expect(row('platform')).toMatch(
      /^platform\s+999988887777\s+eu-west-1, us-east-1\s+3\s+-\s+3\s+\$[1-9][\d,.]+\s+planned$/,
    );
    expect(row('sandbox')).toMatch(/^sandbox\s+444455556666\s+eu-west-1, us-east-1\s+-\s+-\s+0\s+\$0\.00\s+failed$/);
    const reason = lines[lines.indexOf(row('sandbox')) + 1];
    expect(reason).toContain('cannot assume arn:aws:iam::444455556666:role/ml-cost-guard-spoke (AccessDenied)');
    expect(io.stdout()).toContain(`${SUSPENDED}: account is suspended, not active`);
    expect(io.stdout()).toContain('2 of 6 unit(s) failed in 1 account(s)');
    expect(code).toBe(1);
    // The spoke role is assumed once per member account (a refusal is not asked again), never in the caller's own.
    const assumed = sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn);
    expect(assumed.sort()).toEqual([
      `arn:aws:iam::${RESEARCH}:role/ml-cost-guard-spoke`,
      `arn:aws:iam::${SANDBOX}:role/ml-cost-guard-spoke`,
    ]);
    // Dry-run: nothing that changes an instance was sent.
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(ec2).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
  });

  it('prints exactly one JSON document with a row and the units of each account', async () => {
    // Prepare
    const io = fakeIO({ cwd: configDir(), env });
    // Act
    const code = await main(['plan', '--organization', '--config', 'guard.json', '--json'], io);
    // Assess
    const report = JSON.parse(io.stdout());
    expect(code).toBe(1);
    expect(report).toMatchObject({ mode: 'organization', hubAccount: HUB, generatedAt: TEST_NOW.toISOString() });
    expect(report.capabilities).toEqual(['reaper', 'lifecycle', 'sagemaker', 'rightsizing']);
    expect(report.accounts.map((a: { accountId: string }) => a.accountId)).toEqual([RESEARCH, SANDBOX, HUB]);
    const byId = Object.fromEntries(report.accounts.map((a: { accountId: string }) => [a.accountId, a]));
    expect(byId[RESEARCH]).toMatchObject({ name: 'research', status: 'planned', gpuInstances: 1, endpoints: 0 });
    expect(byId[HUB]).toMatchObject({ name: 'platform', status: 'planned', gpuInstances: 3, failedUnits: 0 });
    expect(byId[SANDBOX]).toMatchObject({ status: 'failed', units: 7, failedUnits: 7 });
    expect(byId[SANDBOX].reasons).toHaveLength(1);
    expect(byId[SANDBOX].reasons[0]).toContain('(AccessDenied)');
    // reaper, sagemaker and rightsizing per region, the lifecycle once from the home region: 7 units per account.
    expect(report.units).toHaveLength(21);
    const research = report.units.filter((u: { accountId: string }) => u.accountId === RESEARCH);
    expect(research.map((u: { capability: string; region: string }) => `${u.capability}@${u.region}`)).toEqual([
      'reaper@eu-west-1',
      'reaper@us-east-1',
      'lifecycle@us-east-1',
      'sagemaker@eu-west-1',
      'sagemaker@us-east-1',
      'rightsizing@eu-west-1',
      'rightsizing@us-east-1',
    ]);
    expect(research.every((u: { ok: boolean; section: { summary: { dryRun: boolean } } }) => u.ok)).toBe(true);
    expect(research.every((u: { section: { summary: { dryRun: boolean } } }) => u.section.summary.dryRun)).toBe(true);
    expect(report.totals).toMatchObject({ accounts: 3, failedAccounts: 1, units: 21, failedUnits: 7 });
    // An account's dollars are the sum of its units' subtotals (the savings model's), and the total theirs.
    const hubUnits = report.units.filter((u: { accountId: string }) => u.accountId === HUB);
    const cents = (usd: number) => Math.round(usd * 100);
    expect(cents(byId[HUB].monthlySavingsUsd)).toBe(
      hubUnits.reduce(
        (n: number, u: { section: { subtotal: { monthlyUsd: number } } }) => n + cents(u.section.subtotal.monthlyUsd),
        0,
      ),
    );
    expect(byId[HUB].monthlySavingsUsd).toBeGreaterThan(0);
    expect(cents(report.totals.monthlySavingsUsd)).toBe(
      cents(byId[HUB].monthlySavingsUsd) + cents(byId[RESEARCH].monthlySavingsUsd),
    );
    expect(report.totals.actions).toBe(report.accounts.reduce((n: number, a: { actions: number }) => n + a.actions, 0));
    // stderr holds no part of the document.
    expect(io.stderr()).not.toContain('"mode"');
  });

  it("reads the state table through the caller's credentials, with the member account in the unit", async () => {
    // Prepare
    const io = fakeIO({ cwd: configDir(), env });
    // Act
    await main(['plan', '--organization', '--config', 'guard.json', '--only', 'reaper', '--json'], io);
    // Assess: every state-table call went to the hub's table with the hub's credentials.
    expect(dynamodb.commandCalls(QueryCommand).length).toBeGreaterThan(0);
    const keys = await Promise.all(
      dynamodb.calls().map(async (c) => {
        const client = c.thisValue as { config: { credentials: () => Promise<{ accessKeyId: string }> } };
        return (await client.config.credentials()).accessKeyId;
      }),
    );
    expect(new Set(keys)).toEqual(new Set(['AKIAIOSFODNN7EXAMPLE']));
  });

  it('exits 0 when every unit is planned, running at most --concurrency units at once', async () => {
    // Prepare: the two accounts whose role can be assumed, named on the command line.
    const io = fakeIO({ cwd: configDir({}), env });
    // Act
    const code = await main(
      [
        'plan',
        '--organization',
        '--config',
        'guard.json',
        '--accounts',
        `${RESEARCH},${HUB}`,
        '--only',
        'reaper',
        '--concurrency',
        '2',
        '--json',
      ],
      io,
    );
    // Assess
    const report = JSON.parse(io.stdout());
    expect(code).toBe(0);
    expect(report.accounts.map((a: { name: string }) => a.name)).toEqual(['research', 'platform']);
    expect(report.totals).toMatchObject({ units: 4, failedUnits: 0, failedAccounts: 0 });
    expect(mostInFlight).toBe(2);
  });

  it('prints one line per unit on stderr with --verbose, the failed ones with their reason', async () => {
    const io = fakeIO({ cwd: configDir(), env });
    await main(['plan', '--organization', '--config', 'guard.json', '--only', 'reaper', '--verbose'], io);
    const units = io
      .stderr()
      .split('\n')
      .filter((l) => /^[✓✗] \[\d+\/6\]/.test(l));
    expect(units).toHaveLength(6);
    expect(units.filter((l) => l.startsWith('✗'))).toEqual([
      expect.stringMatching(/^✗ \[\d\/6\] reaper · sandbox \(444455556666\) · (eu-west-1|us-east-1): cannot assume/),
      expect.stringMatching(/^✗ \[\d\/6\] reaper · sandbox \(444455556666\) · (eu-west-1|us-east-1): cannot assume/),
    ]);
    expect(units).toContainEqual(
      expect.stringMatching(/^✓ \[\d\/6\] reaper · research \(111122223333\) · us-east-1: /),
    );
  });

  it('lists every unit section with --details', async () => {
    const io = fakeIO({ cwd: configDir(), env, columns: 160 });
    await main(['plan', '--organization', '--config', 'guard.json', '--only', 'reaper', '--details'], io);
    expect(io.stdout()).toContain('== reaper · research (111122223333) · us-east-1 ==');
    expect(io.stdout()).toContain('== reaper · sandbox (444455556666) · eu-west-1 ==');
    expect(io.stdout()).toMatch(/== reaper · sandbox \(444455556666\) · eu-west-1 ==\nERROR: cannot assume/);
  });

  it('escapes account names from Organizations in the terminal table and in markdown', async () => {
    // Prepare: a name with a terminal escape and markdown table markup.
    organizations.on(ListAccountsForParentCommand, { ParentId: OU }).resolves({
      Accounts: [{ Id: RESEARCH, Name: 'research|\u001b[31mred', Status: 'ACTIVE' }],
    });
    const terminal = fakeIO({ cwd: configDir(), env, columns: 160 });
    const markdown = fakeIO({ cwd: configDir(), env });
    // Act
    await main(['plan', '--organization', '--config', 'guard.json', '--only', 'reaper'], terminal);
    await main(
      ['plan', '--organization', '--config', 'guard.json', '--only', 'reaper', '--format', 'markdown'],
      markdown,
    );
    // Assess
    expect(terminal.stdout()).not.toContain('\u001b');
    expect(terminal.stdout()).toMatch(/^research\| \[31mred\s+111122223333 /m);
    expect(markdown.stdout()).toContain('## ml-cost-guard plan --organization (dry-run)');
    expect(markdown.stdout()).toContain('| research\\| \\[31mred | 111122223333 | eu-west-1, us-east-1 | 1 | - | 1 | ');
  });

  it('keeps a unit line above the progress line on a terminal, and draws the progress line again under it', () => {
    // Prepare
    const drawn: string[] = [];
    const printed: string[] = [];
    const progress = new Progress({ errIsTTY: true }, (t) => drawn.push(t));
    progress.section('plan --organization');
    progress.update('1 of 6 units');
    drawn.length = 0;
    // Act
    progress.keep('✓ [1/6] reaper · research (111122223333) · us-east-1: 1 action(s)', (t) => printed.push(t));
    progress.done();
    // Assess: the line was cleared, the unit printed, then the progress line drawn again.
    expect(printed).toEqual(['✓ [1/6] reaper · research (111122223333) · us-east-1: 1 action(s)']);
    expect(drawn[0]).toBe('\r\u001b[2K');
    expect(drawn[1]).toMatch(/plan --organization · 1 of 6 units$/);
  });

  it('says what to do when the caller cannot list the organization', async () => {
    organizations
      .on(ListAccountsForParentCommand)
      .rejects(Object.assign(new Error('not a management account'), { name: 'AccessDeniedException' }));
    const io = fakeIO({ cwd: configDir(), env });
    expect(await main(['plan', '--organization', '--config', 'guard.json'], io)).toBe(1);
    expect(io.stderr()).toContain(
      "Cannot list the organization's accounts (AccessDeniedException: not a management account); run with credentials of the management account or of a delegated administrator",
    );
    expect(io.stdout()).toBe('');
  });

  it.each([
    [['--concurrency', '0'], "--concurrency must be a whole number from 1 to 100; got '0'"],
    [['--concurrency', '101'], "--concurrency must be a whole number from 1 to 100; got '101'"],
    [['--concurrency', '2x'], "--concurrency must be a whole number from 1 to 100; got '2x'"],
    [['--ou', 'ou-bad'], "--ou: 'ou-bad' is not an OU ID (ou-xxxx-yyyyyyyy) or the root ID (r-xxxx)"],
    [['--accounts', '1234,111122223333'], "--accounts: '1234' is not a 12-digit AWS account ID"],
    [['--accounts', ','], '--ou / --accounts name no account'],
    [['--only', 'budgets'], "--only: 'budgets' is not planned per account (budgets runs in the hub account only"],
    [
      ['--only', 'nope'],
      "--only: 'nope' is not planned per account; with --organization choose from reaper, sagemaker, rightsizing, lifecycle",
    ],
  ])('exits 2 on --organization %j before any AWS call', async (argv, message) => {
    const io = fakeIO({ cwd: configDir(), env });
    expect(await main(['plan', '--organization', '--config', 'guard.json', ...argv], io)).toBe(2);
    expect(io.stderr()).toContain(message);
    expect(sts.calls()).toHaveLength(0);
  });

  it.each([[['--ou', OU]], [['--accounts', RESEARCH]], [['--concurrency', '4']]])(
    'exits 2 on %j without --organization',
    async (argv) => {
      const io = fakeIO({ cwd: configDir(), env });
      expect(await main(['plan', '--config', 'guard.json', ...argv], io)).toBe(2);
      expect(io.stderr()).toContain('plans an organization: pass it with --organization');
    },
  );

  it('exits 2 when neither the config nor a flag names an account', async () => {
    const io = fakeIO({ cwd: configDir({}), env });
    expect(await main(['plan', '--organization', '--config', 'guard.json'], io)).toBe(2);
    expect(io.stderr()).toContain(
      '--organization: the config names no account to plan; set accounts.organizationalUnitIds or accounts.accountIds, or pass --ou ou-… / --accounts ID,ID',
    );
    expect(sts.calls()).toHaveLength(0);
  });
});
