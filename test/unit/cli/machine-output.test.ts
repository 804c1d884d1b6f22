/**
 * The CLI's streams: with --json stdout holds exactly one JSON document (printed Slack messages, the config's source,
 * progress and warnings go to stderr); progress is drawn only on a terminal; --verbose logs AWS calls and decisions;
 * plan previews the deployed guard with a Slack token and shows the report-only outcome without one.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../lambda/cli/main';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW } from '../../helpers/context';

const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBClient);
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const budgets = mockClient(BudgetsClient);
const secrets = mockClient(SecretsManagerClient);

function configDir(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-json-'));
  writeFileSync(
    path.join(dir, 'guard.json'),
    JSON.stringify({ budgets: { items: [{ name: 'ml-platform' }] }, ...extra }),
  );
  return dir;
}

/** One idle g5.xlarge with GPU series tied to it: the reaper can judge it with high confidence. */
function givenAccount(): void {
  for (const m of [sts, dynamodb, ec2, cw, s3, budgets, secrets]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
  dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'ml-cost-guard-state' } });
  dynamodb.on(QueryCommand).resolves({ Items: [] });
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({});
  dynamodb.on(DeleteItemCommand).resolves({});
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0idle',
            InstanceType: 'g5.xlarge',
            LaunchTime: new Date(TEST_NOW.getTime() - 3 * 86_400_000),
            State: { Name: 'running' },
            Placement: { AvailabilityZone: 'us-east-1a' },
            Tags: [{ Key: 'Name', Value: 'notebook-alice' }],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      {
        InstanceType: 'g5.xlarge',
        GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: 1, MemoryInfo: { SizeInMiB: 24576 } }] },
      },
    ],
  });
  cw.on(ListMetricsCommand).resolves({
    Metrics: [
      {
        Namespace: 'CWAgent',
        MetricName: 'nvidia_smi_utilization_gpu',
        Dimensions: [
          { Name: 'InstanceId', Value: 'i-0idle' },
          { Name: 'index', Value: '0' },
          { Name: 'name', Value: 'NVIDIA A10G' },
          { Name: 'host', Value: 'ip-10-0-0-1' },
        ],
      },
    ],
  });
  cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { Id: string }[] }) => ({
    MetricDataResults: input.MetricDataQueries.map((q) => ({
      Id: q.Id,
      StatusCode: 'Complete',
      Timestamps: Array.from({ length: 12 }, (_, i) => new Date(TEST_NOW.getTime() - i * 300_000)),
      Values: Array.from({ length: 12 }, () => 0),
    })),
  }));
  s3.on(ListBucketsCommand).resolves({ Buckets: [] });
  budgets.on(DescribeBudgetsCommand).resolves({
    Budgets: [
      {
        BudgetName: 'ml-platform',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '1000', Unit: 'USD' },
        CalculatedSpend: { ActualSpend: { Amount: '850', Unit: 'USD' } },
        TimePeriod: { Start: new Date('2026-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
}

beforeEach(givenAccount);

describe('Function: main (--json)', () => {
  it.each([
    ['plan', ['plan', '--config', 'guard.json', '--json']],
    ['run reaper', ['run', 'reaper', '--config', 'guard.json', '--dry-run', '--json']],
    ['run lifecycle', ['run', 'lifecycle', '--config', 'guard.json', '--dry-run', '--json']],
    ['run budgets', ['run', 'budgets', '--config', 'guard.json', '--dry-run', '--json']],
    ['restore', ['restore', '--config', 'guard.json', '--dry-run', '--json']],
    ['estimate', ['estimate', 'idle', '--instance-type', 'g5.xlarge', '--idle-fraction', '0.5', '--json']],
    ['config', ['config', '--config', 'guard.json', '--json']],
    ['rightsize', ['rightsize', '--config', 'guard.json', '--json']],
  ])('%s: stdout is exactly one JSON document', async (_name, argv) => {
    // Prepare: no Slack token, so messages are printed
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    await main(argv, io);
    // Assess
    expect(() => JSON.parse(io.stdout())).not.toThrow();
    expect(io.stdout()).not.toContain('# from');
    expect(io.stdout()).not.toContain('Slack message for');
  });

  it('sends the Slack messages a run without a token prints to stderr', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    await main(['run', 'reaper', '--config', 'guard.json', '--dry-run', '--json'], io);
    expect(io.stderr()).toContain('--- Slack message for #ml-finops (not posted: no token) ---');
    expect(JSON.parse(io.stdout()).capability).toBe('reaper');
  });

  it("sends the config's source to stderr with --json, and keeps it on stdout without", async () => {
    const cwd = configDir();
    const json = fakeIO({ cwd });
    await main(['config', '--config', 'guard.json', '--json'], json);
    expect(json.stderr()).toContain(`# from ${path.join(cwd, 'guard.json')}`);
    const text = fakeIO({ cwd });
    await main(['config', '--config', 'guard.json'], text);
    expect(text.stdout().split('\n')[0]).toContain('# from');
  });

  it('refuses --json together with another --format', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    expect(await main(['plan', '--json', '--format', 'markdown'], io)).toBe(2);
    expect(io.stderr()).toContain('--json and --format markdown ask for two formats');
  });
});

describe('Command: plan (Slack delivery)', () => {
  const reaperOf = (stdout: string) =>
    JSON.parse(stdout).sections.find((s: { capability: string }) => s.capability === 'reaper');

  it('without a Slack token shows the report-only outcome and says why', async () => {
    // Act
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    await main(['plan', '--config', 'guard.json', '--json', '--only', 'reaper'], io);
    // Assess
    const reaper = reaperOf(io.stdout());
    expect(reaper.summary.instances[0]).toMatchObject({
      instanceId: 'i-0idle',
      decision: 'notify',
      code: 'report-only',
    });
    expect(reaper.assumption).toMatch(/^No Slack token \(SLACK_BOT_TOKEN is not set/);
    expect(reaper.subtotal.text).toBe('$734.38/month would be saved if acted on');
  });

  it('with SLACK_BOT_TOKEN evaluates as if Slack accepts the warning, and posts nothing', async () => {
    // Prepare: a token that would fail if anything tried to post with it
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1', SLACK_BOT_TOKEN: 'xoxb-not-a-real-token' } });
    // Act
    const code = await main(['plan', '--config', 'guard.json', '--json', '--only', 'reaper'], io);
    // Assess
    expect(code).toBe(0);
    const reaper = reaperOf(io.stdout());
    expect(reaper.summary.instances[0]).toMatchObject({ decision: 'warn', warning: { status: 'dry-run' } });
    expect(reaper.assumption).toBe(
      'Slack token found (SLACK_BOT_TOKEN): shown as the deployed guard would run, assuming Slack accepts the warning. Nothing is posted.',
    );
    expect(reaper.slackMessages).toBe(1);
    expect(JSON.parse(io.stdout()).slack).toEqual({ tokenFound: true, source: 'SLACK_BOT_TOKEN' });
    expect(io.stdout()).not.toContain('xoxb-not-a-real-token');
    // A plan records no warning and writes no tag.
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
  });

  it.each([
    ['a token', 'xoxb-123', 'warn', "Slack token found (secret 'slack-bot')"],
    [
      'the placeholder',
      'REPLACE_WITH_SLACK_BOT_TOKEN',
      'notify',
      "No Slack token (secret 'slack-bot' holds no token yet",
    ],
  ])('with the configured secret holding %s: %s', async (_what, value, decision, assumption) => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: 'slack-bot' }).resolves({ SecretString: value });
    const io = fakeIO({
      cwd: configDir({ slack: { tokenSecretName: 'slack-bot' } }),
      env: { AWS_REGION: 'us-east-1' },
    });
    // Act
    await main(['plan', '--config', 'guard.json', '--json', '--only', 'reaper'], io);
    // Assess
    const reaper = reaperOf(io.stdout());
    expect(reaper.summary.instances[0].decision).toBe(decision);
    expect(reaper.assumption).toContain(assumption);
    expect(io.stdout()).not.toContain('xoxb-123');
  });
});

describe('Command: plan and run (progress and --verbose)', () => {
  let writes: string[];
  beforeEach(() => {
    writes = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());

  it('draws regions, what was read and the AWS calls on stderr when it is a terminal', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' }, errIsTTY: true });
    await main(['plan', '--config', 'guard.json', '--only', 'reaper,budgets'], io);
    const drawn = writes.join('');
    expect(drawn).toContain('reaper · region us-east-1 (1 of 1)');
    expect(drawn).toContain('1 running instances read in us-east-1');
    expect(drawn).toMatch(/budgets · .*calls?, last Budgets\.DescribeBudgets/);
    // The line is cleared before the report.
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('draws nothing when stderr is not a terminal', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' }, errIsTTY: false });
    await main(['run', 'reaper', '--config', 'guard.json', '--dry-run'], io);
    expect(writes).toEqual([]);
  });

  it('--verbose logs each AWS call with its time and each decision, on stderr', async () => {
    // Act
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    await main(['run', 'reaper', '--config', 'guard.json', '--dry-run', '--json', '--verbose'], io);
    // Assess
    expect(io.stderr()).toMatch(/^aws EC2\.DescribeInstances us-east-1 \d+ ms$/m);
    expect(io.stderr()).toMatch(/^aws CloudWatch\.GetMetricData us-east-1 \d+ ms$/m);
    expect(io.stderr()).toContain(
      'decision reaper i-0idle (notebook-alice) g5.xlarge us-east-1: notify (report-only): idle',
    );
    expect(() => JSON.parse(io.stdout())).not.toThrow();
  });

  it('prints no AWS call without --verbose', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    await main(['run', 'reaper', '--config', 'guard.json', '--dry-run'], io);
    expect(io.stderr()).not.toMatch(/^aws /m);
  });
});
