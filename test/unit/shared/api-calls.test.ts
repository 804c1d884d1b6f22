import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../../lambda/adapters/clients';
import { listGpuSeries } from '../../../lambda/adapters/cloudwatch-metrics';
import { type ApiCall, ApiCallCounter, operationName } from '../../../lambda/shared/api-calls';

describe('Class: ApiCallCounter', () => {
  const ec2 = mockClient(EC2Client);
  afterEach(() => ec2.reset());

  it('counts each command sent through a factory client by service and operation', async () => {
    // Prepare
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const clients = new ClientFactory({ defaultRegion: 'us-east-1' });
    // Act
    await clients.ec2().send(new DescribeInstancesCommand({}));
    await clients.ec2('eu-west-1').send(new DescribeInstancesCommand({}));
    // Assess
    expect(clients.counter.byOperation()).toEqual({ 'EC2.DescribeInstances': 2 });
    expect(clients.counter.total()).toBe(2);
  });

  it('tells its hooks each call: the operation when sent, and its region, time and error code when answered', async () => {
    // Prepare
    ec2
      .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
      .resolves({ Reservations: [] })
      .on(DescribeInstancesCommand, { InstanceIds: ['i-bad'] })
      .rejects(Object.assign(new Error('bad id'), { name: 'InvalidInstanceID.Malformed' }));
    const started: string[] = [];
    const ended: ApiCall[] = [];
    const counter = new ApiCallCounter({ onStart: (op) => started.push(op), onEnd: (c) => ended.push(c) });
    const clients = new ClientFactory({ defaultRegion: 'us-east-1', counter }).fresh();
    // Act
    await clients.ec2('eu-west-1').send(new DescribeInstancesCommand({ InstanceIds: ['i-1'] }));
    await expect(clients.ec2().send(new DescribeInstancesCommand({ InstanceIds: ['i-bad'] }))).rejects.toThrow(
      'bad id',
    );
    // Assess: a fresh factory (one per plan section) keeps the hooks and counts on its own
    expect(started).toEqual(['EC2.DescribeInstances', 'EC2.DescribeInstances']);
    expect(ended).toEqual([
      { operation: 'EC2.DescribeInstances', region: 'eu-west-1', durationMs: expect.any(Number) },
      {
        operation: 'EC2.DescribeInstances',
        region: 'us-east-1',
        durationMs: expect.any(Number),
        error: 'InvalidInstanceID.Malformed',
      },
    ]);
    expect(clients.counter.total()).toBe(2);
    expect(counter.total()).toBe(0);
  });

  it('counts every page an SDK paginator requests', async () => {
    // Prepare: three pages; each page is answered only when the right token is sent.
    const cw = mockClient(CloudWatchClient);
    cw.on(ListMetricsCommand, { NextToken: undefined })
      .resolves({ Metrics: [], NextToken: 'p2' })
      .on(ListMetricsCommand, { NextToken: 'p2' })
      .resolves({ Metrics: [], NextToken: 'p3' })
      .on(ListMetricsCommand, { NextToken: 'p3' })
      .resolves({ Metrics: [] });
    const clients = new ClientFactory({ defaultRegion: 'us-east-1' });
    // Act
    await listGpuSeries(clients.cloudwatch());
    // Assess
    expect(clients.counter.byOperation()).toEqual({ 'CloudWatch.ListMetrics': 3 });
    cw.restore();
  });

  it('names the operation from the command, not its class name, which minified bundles rename', async () => {
    // Prepare: a command class renamed the way esbuild --minify renames it
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    class Vi extends DescribeInstancesCommand {}
    const clients = new ClientFactory({ defaultRegion: 'us-east-1' });
    // Act
    await clients.ec2().send(new Vi({}));
    // Assess
    expect(clients.counter.byOperation()).toEqual({ 'EC2.DescribeInstances': 1 });
  });

  it.each<[string, unknown, string]>([
    ['the operation schema', { schema: [9, 'com.amazonaws.ec2', 'StopInstances'] }, 'StopInstances'],
    ['a schema object', { schema: { name: 'GetMetricData' } }, 'GetMetricData'],
    ['the class name without a schema', new (class ListBucketsCommand {})(), 'ListBuckets'],
  ])('reads %s', (_, command, expected) => {
    expect(operationName(command)).toBe(expected);
  });

  it('reuses one client per service and region', () => {
    const clients = new ClientFactory({ defaultRegion: 'us-east-1' });
    expect(clients.ec2()).toBe(clients.ec2('us-east-1'));
    expect(clients.ec2('eu-west-1')).not.toBe(clients.ec2());
    expect(clients.budgets()).toBe(clients.budgets());
  });

  it('uses path-style S3 addressing when a custom endpoint is set', async () => {
    const clients = new ClientFactory({ defaultRegion: 'us-east-1', endpoint: 'http://127.0.0.1:4566' });
    expect(clients.s3().config.forcePathStyle).toBe(true);
    expect(new ClientFactory({ defaultRegion: 'us-east-1' }).s3().config.forcePathStyle).toBe(false);
  });
});
