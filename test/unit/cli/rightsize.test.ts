/** `cost-guard rightsize`: the advice printed (or as JSON) from a laptop; it reads, posts nothing, changes nothing. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
  type ListMetricsCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { main } from '../../../lambda/cli/main';
import { fakeIO } from '../../helpers/cli-io';

const sts = mockClient(STSClient);
const ddb = mockClient(DynamoDBClient);
const ec2 = mockClient(EC2Client);
const cw = mockClient(CloudWatchClient);

function configDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cost-guard-rightsize-'));
  writeFileSync(path.join(dir, 'guard.json'), JSON.stringify({ rightsizing: { lookbackDays: 7 } }));
  return dir;
}

beforeEach(() => {
  for (const m of [sts, ddb, ec2, cw]) m.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '111122223333' });
  ddb.on(DescribeTableCommand).rejects(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' }));
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: 'i-0big',
            InstanceType: 'p4d.24xlarge',
            State: { Name: 'running' },
            Tags: [{ Key: 'team', Value: 'vision' }],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      { InstanceType: 'p4d.24xlarge', GpuInfo: { Gpus: [{ Name: 'A100', Manufacturer: 'NVIDIA', Count: 8 }] } },
    ],
  });
  cw.on(ListMetricsCommand).callsFake((input: ListMetricsCommandInput) => ({
    Metrics: Array.from({ length: 8 }, (_, i) => ({
      Namespace: 'CWAgent',
      MetricName: input.MetricName,
      Dimensions: [
        { Name: 'InstanceId', Value: 'i-0big' },
        { Name: 'index', Value: String(i) },
      ],
    })),
  }));
  // 7 days x 24 h: GPUs at 30%, GPU 0 holds 9,000 MiB, the others 100; CPU 5%.
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const m = q.MetricStat!.Metric!;
      const index = m.Dimensions!.find((d) => d.Name === 'index')?.Value;
      const value =
        m.MetricName === 'nvidia_smi_memory_used'
          ? index === '0'
            ? 9000
            : 100
          : m.MetricName === 'CPUUtilization'
            ? 5
            : 30;
      return { Id: q.Id, Values: Array(168).fill(value) };
    }),
  }));
});

describe('Command: rightsize', () => {
  it('prints each recommendation with its dollars and evidence, and exits 0 without a state table', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    const code = await main(['rightsize', '--config', 'guard.json'], io);
    expect(code).toBe(0);
    const out = io.stdout();
    expect(out).toContain('advice only');
    expect(out).toContain('7 days of hourly metrics');
    expect(out).toContain('p4d.24xlarge -> g4dn.2xlarge: saves $15,481.84/month');
    expect(out).toContain('team vision');
    expect(out).toContain('GPU memory peak 9,000 MiB (1 of 8 GPUs in use)');
  });

  it('prints the whole result as JSON', async () => {
    const io = fakeIO({ cwd: configDir(), env: { AWS_REGION: 'us-east-1' } });
    expect(await main(['rightsize', '--config', 'guard.json', '--json'], io)).toBe(0);
    const summary = JSON.parse(io.stdout());
    expect(summary.recommendations[0].verdict.targetType).toBe('g4dn.2xlarge');
    expect(summary.actions).toEqual([]);
  });

  it('answers --help with its usage', async () => {
    const io = fakeIO();
    expect(await main(['rightsize', '--help'], io)).toBe(0);
    expect(io.stdout()).toContain('Usage: cost-guard rightsize');
  });
});
