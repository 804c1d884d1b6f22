/**
 * `cost-guard plan` end to end over the real capabilities, against mocked AWS: one report that holds the reaper's,
 * the lifecycle's and the budget guard's dry-run views, changes nothing and posts nothing.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ListBucketsCommand, PutBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../lambda/cli/main';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW } from '../../helpers/context';

const sts = mockClient(STSClient);
const dynamodb = mockClient(DynamoDBClient);
/** The deployed stack's state table does not exist in this account. */
const noStateTable = () =>
  dynamodb
    .on(DescribeTableCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);
const s3 = mockClient(S3Client);
const budgets = mockClient(BudgetsClient);
/** An account without SageMaker endpoints, notebook instances or Studio domains. */
const sagemaker = mockClient(SageMakerClient);

function configDir(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-plan-'));
  writeFileSync(
    path.join(dir, 'guard.json'),
    JSON.stringify({ dryRun: false, budgets: { items: [{ name: 'ml-platform' }] }, ...extra }),
  );
  return dir;
}

beforeEach(() => {
  for (const m of [sts, dynamodb, ec2, cw, s3, budgets, sagemaker]) m.reset();
  sagemaker.onAnyCommand().resolves({});
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
  noStateTable();
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
  cw.on(ListMetricsCommand).resolves({ Metrics: [] });
  // Every metric flat at zero, a datapoint every 5 minutes over the hour: idle by CPU and network.
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
        CalculatedSpend: {
          ActualSpend: { Amount: '850', Unit: 'USD' },
          ForecastedSpend: { Amount: '990', Unit: 'USD' },
        },
        TimePeriod: { Start: new Date('2026-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
});

describe('Command: plan (all capabilities)', () => {
  it("reports each capability's dry-run view in one markdown report and changes nothing", async () => {
    // Prepare: no stack is deployed in this account yet.
    const cwd = configDir();
    const io = fakeIO({ cwd, env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['plan', '--config', 'guard.json', '--format', 'markdown'], io);
    // Assess: the missing state table heads the report and fails the plan; the sections still show the dry run.
    const text = io.stdout();
    expect(io.stderr()).toBe('');
    expect(code).toBe(1);
    // The first paragraph after the title and the account line.
    expect(text.split('\n').filter(Boolean)[2]).toBe(
      "**error**: State table 'ml-cost-guard-state' not found in us-east-1: deploy the stack in that account and region (cdk deploy), or set state.tableName / pass --state-table NAME to name the deployed table.",
    );
    expect(text).toContain('### reaper');
    // Without the deployed state table no warning can be recorded: the reaper only reports, and says why.
    expect(text).toContain(
      '- Reporting only: no state table, so no warning can be recorded: the reaper reports and never tags for action or acts.',
    );
    expect(text).not.toContain('| tag | i-0idle');
    expect(text).toContain('### lifecycle');
    expect(text).toContain('### budgets');
    expect(text).toContain('ml-platform: alert-80 alert (dry run) at 85.0% of the limit');
    // Nothing mutating was sent, although the config itself says dryRun: false.
    expect(ec2).not.toHaveReceivedCommand(CreateTagsCommand);
    expect(ec2).not.toHaveReceivedCommand(StopInstancesCommand);
    expect(ec2).not.toHaveReceivedCommand(TerminateInstancesCommand);
    expect(s3).not.toHaveReceivedCommand(PutBucketLifecycleConfigurationCommand);
  });

  it('prints the same report as JSON with each section summary', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    await main(['plan', '--config', 'guard.json', '--format', 'json'], io);
    const report = JSON.parse(io.stdout());
    expect(report.sections.map((s: { capability: string }) => s.capability)).toEqual([
      'reaper',
      'lifecycle',
      'budgets',
      'sagemaker',
      'rightsizing',
    ]);
    expect(report.sections.every((s: { summary: { dryRun: boolean } }) => s.summary.dryRun)).toBe(true);
    // Account, state table and prices are looked up once for the whole plan, not once per section.
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    expect(dynamodb).toHaveReceivedCommandTimes(DescribeTableCommand, 1);
    // Each section counts only its own API calls.
    const calls = report.sections.map((s: { summary: { apiCalls: Record<string, number> } }) =>
      Object.keys(s.summary.apiCalls),
    );
    expect(calls[1].some((op: string) => op.startsWith('EC2.'))).toBe(false);
  });

  it('leaves out what a disabled capability would do: idleGpu.enabled false reads no instance', async () => {
    // Prepare: the idle instance of the first test is still there.
    const io = fakeIO({
      cwd: configDir({ idleGpu: { enabled: false }, rightsizing: { enabled: false } }),
      env: { AWS_REGION: 'us-east-1' },
    });
    // Act
    await main(['plan', '--config', 'guard.json', '--format', 'json'], io);
    // Assess
    const reaper = JSON.parse(io.stdout()).sections.find((s: { capability: string }) => s.capability === 'reaper');
    expect(reaper.summary.notes).toEqual(['idleGpu.enabled is false: nothing done']);
    expect(reaper.summary.instances).toEqual([]);
    expect(ec2).not.toHaveReceivedCommand(DescribeInstancesCommand);
    expect(cw).not.toHaveReceivedCommand(GetMetricDataCommand);
  });

  it("uses the deployed stack's state table when it exists in the region", async () => {
    // Prepare
    dynamodb.on(DescribeTableCommand).resolves({ Table: { TableName: 'ml-cost-guard-state' } });
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    // Act
    const code = await main(['plan', '--config', 'guard.json', '--format', 'json', '--only', 'budgets'], io);
    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(io.stdout()).problems).toBeUndefined();
    const notes: string[] = JSON.parse(io.stdout()).sections[0].summary.notes;
    expect(notes.some((n) => n.includes('No state table'))).toBe(false);
    expect(dynamodb).toHaveReceivedCommandWith(DescribeTableCommand, { TableName: 'ml-cost-guard-state' });
    // A plan writes no alert record: the deployed guard still sends the real alert.
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
    expect(dynamodb).not.toHaveReceivedCommand(UpdateItemCommand);
  });
});
