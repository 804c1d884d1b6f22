import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  type InstanceTypeInfo,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import {
  Ec2Writer,
  InstanceTypeCatalog,
  isTerminationProtected,
  listRunningInstances,
  spotRequestTypes,
  typeFacts,
} from '../../../lambda/adapters/ec2';
import { errorCode } from '../../../lambda/shared/errors';

const ec2Mock = mockClient(EC2Client);
const client = () => new EC2Client({ region: 'us-east-1' });
const awsError = (name: string) => Object.assign(new Error(`${name} happened`), { name });

beforeEach(() => ec2Mock.reset());

const gpuType = (name: string, gpus = 1): InstanceTypeInfo => ({
  InstanceType: name as never,
  GpuInfo: { Gpus: [{ Name: 'A10G', Manufacturer: 'NVIDIA', Count: gpus }] },
});

describe('Function: listRunningInstances', () => {
  it('follows NextToken, filters on running and maps tags, launch time and lifecycle', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-1',
                InstanceType: 'g5.xlarge',
                LaunchTime: new Date('2026-11-14T00:00:00Z'),
                Tags: [{ Key: 'Name', Value: 'a' }],
              },
            ],
          },
        ],
        NextToken: 'page2',
      })
      .resolvesOnce({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-2',
                InstanceType: 'p4d.24xlarge',
                InstanceLifecycle: 'spot',
                SpotInstanceRequestId: 'sir-1',
              },
            ],
          },
        ],
      });
    // Act
    const instances = await listRunningInstances(client(), 'us-east-1');
    // Assess
    expect(instances).toEqual([
      {
        instanceId: 'i-1',
        region: 'us-east-1',
        instanceType: 'g5.xlarge',
        launchTime: '2026-11-14T00:00:00.000Z',
        tags: { Name: 'a' },
        lifecycle: 'on-demand',
      },
      {
        instanceId: 'i-2',
        region: 'us-east-1',
        instanceType: 'p4d.24xlarge',
        tags: {},
        lifecycle: 'spot',
        spotInstanceRequestId: 'sir-1',
      },
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    const inputs = ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toEqual({ Filters: [{ Name: 'instance-state-name', Values: ['running'] }], MaxResults: 1000 });
    expect(inputs[1]).toMatchObject({ NextToken: 'page2', MaxResults: 1000 });
  });
});

describe('Function: typeFacts', () => {
  it.each<[string, InstanceTypeInfo, string, number]>([
    ['an NVIDIA type', gpuType('p4d.24xlarge', 8), 'gpu', 8],
    [
      'dl1 (Habana under GpuInfo)',
      { InstanceType: 'dl1.24xlarge', GpuInfo: { Gpus: [{ Name: 'Gaudi HL-205', Manufacturer: 'Habana', Count: 8 }] } },
      'gpu',
      8,
    ],
    [
      'a Neuron type',
      { InstanceType: 'trn1.2xlarge', NeuronInfo: { NeuronDevices: [{ Name: 'Trainium', Count: 1 }] } },
      'neuron',
      1,
    ],
    [
      'an Inferentia (inf1) type',
      { InstanceType: 'inf1.xlarge', InferenceAcceleratorInfo: { Accelerators: [{ Name: 'Inferentia', Count: 1 }] } },
      'neuron',
      1,
    ],
    ['a CPU type', { InstanceType: 'm5.large' }, 'none', 0],
  ])('classifies %s', (_, info, accelerator, count) => {
    expect(typeFacts(info)).toMatchObject({ accelerator, acceleratorCount: count });
  });
});

describe('Class: InstanceTypeCatalog', () => {
  it('asks only for the types present, 100 a call, and caches them for the run', async () => {
    // Prepare
    ec2Mock.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes: string[] }) => ({
      InstanceTypes: input.InstanceTypes.map((t) => gpuType(t)),
    }));
    const types = Array.from({ length: 150 }, (_, i) => `g5.x${i}`);
    const catalog = new InstanceTypeCatalog();
    // Act
    const first = await catalog.resolve(client(), 'us-east-1', [...types, ...types]);
    const again = await catalog.resolve(client(), 'eu-west-1', types.slice(0, 10));
    // Assess
    expect(first.size).toBe(150);
    expect(again.size).toBe(10);
    const calls = ec2Mock.commandCalls(DescribeInstanceTypesCommand);
    expect(calls.map((c) => c.args[0].input.InstanceTypes?.length)).toEqual([100, 50]);
  });

  it('isolates a type the API does not know and reports it, keeping the others', async () => {
    // Prepare: any call naming the unknown type fails with InvalidInstanceType.
    ec2Mock.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes: string[] }) => {
      if (input.InstanceTypes.includes('zz9.huge')) throw awsError('InvalidInstanceType');
      return { InstanceTypes: input.InstanceTypes.map((t) => gpuType(t)) };
    });
    const catalog = new InstanceTypeCatalog();
    // Act
    const resolved = await catalog.resolve(client(), 'us-east-1', ['g5.xlarge', 'zz9.huge', 'p5.48xlarge']);
    // Assess
    expect([...resolved.keys()].sort()).toEqual(['g5.xlarge', 'p5.48xlarge']);
    expect(catalog.unknownTypes()).toEqual(['us-east-1: zz9.huge']);
    expect(catalog.errors).toEqual([]);
  });

  it('follows NextToken within a batch', async () => {
    ec2Mock
      .on(DescribeInstanceTypesCommand)
      .resolvesOnce({ InstanceTypes: [gpuType('g5.xlarge')], NextToken: 't' })
      .resolvesOnce({ InstanceTypes: [gpuType('g6.xlarge')] });
    const resolved = await new InstanceTypeCatalog().resolve(client(), 'us-east-1', ['g5.xlarge', 'g6.xlarge']);
    expect(resolved.size).toBe(2);
  });
});

describe('Function: isTerminationProtected', () => {
  it.each([
    [true, true],
    [false, false],
    [undefined, false],
  ])('reads disableApiTermination %s as %s', async (value, expected) => {
    ec2Mock
      .on(DescribeInstanceAttributeCommand)
      .resolves(value === undefined ? {} : { DisableApiTermination: { Value: value } });
    await expect(isTerminationProtected(client(), 'i-1')).resolves.toBe(expected);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstanceAttributeCommand, {
      InstanceId: 'i-1',
      Attribute: 'disableApiTermination',
    });
  });
});

describe('Function: spotRequestTypes', () => {
  it('maps request IDs to types and leaves out the ones that fail alone', async () => {
    // Prepare
    ec2Mock.on(DescribeSpotInstanceRequestsCommand).callsFake((input: { SpotInstanceRequestIds: string[] }) => {
      if (input.SpotInstanceRequestIds.includes('sir-gone')) throw awsError('InvalidSpotInstanceRequestID.NotFound');
      return {
        SpotInstanceRequests: input.SpotInstanceRequestIds.map((id) => ({
          SpotInstanceRequestId: id,
          Type: id === 'sir-p' ? 'persistent' : 'one-time',
        })),
      };
    });
    // Act
    const kinds = await spotRequestTypes(client(), ['sir-p', 'sir-o', 'sir-gone']);
    // Assess
    expect(Object.fromEntries(kinds)).toEqual({ 'sir-p': 'persistent', 'sir-o': 'one-time' });
  });
});

describe('Class: Ec2Writer', () => {
  it('tags instances started together in one CreateTags call limited to the idle-since key', async () => {
    // Prepare
    ec2Mock.on(CreateTagsCommand).resolves({});
    const writer = new Ec2Writer(client());
    // Act
    await Promise.all(['i-1', 'i-2', 'i-3'].map((id) => writer.tag(id, 'cost-guard:idle-since', 'T')));
    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: ['i-1', 'i-2', 'i-3'],
      Tags: [{ Key: 'cost-guard:idle-since', Value: 'T' }],
    });
  });

  it('splits tag writes into calls of 100', async () => {
    ec2Mock.on(DeleteTagsCommand).resolves({});
    const writer = new Ec2Writer(client());
    await Promise.all(Array.from({ length: 250 }, (_, i) => writer.untag(`i-${i}`, 'cost-guard:idle-since')));
    const sizes = ec2Mock.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input.Resources?.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('retries a failed terminate batch one instance at a time so one protected instance blocks nobody', async () => {
    // Prepare
    ec2Mock.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
      if (input.InstanceIds.includes('i-protected')) throw awsError('OperationNotPermitted');
      if (input.InstanceIds.includes('i-gone')) throw awsError('InvalidInstanceID.NotFound');
      return { TerminatingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId })) };
    });
    const writer = new Ec2Writer(client());
    // Act
    const results = await Promise.allSettled(['i-1', 'i-protected', 'i-2', 'i-gone'].map((id) => writer.terminate(id)));
    // Assess
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorCode(r.reason)))).toEqual([
      'ok',
      'OperationNotPermitted',
      'ok',
      'InvalidInstanceID.NotFound',
    ]);
    // One batch call, then one call per instance.
    expect(ec2Mock).toHaveReceivedCommandTimes(TerminateInstancesCommand, 5);
  });

  it('reports UnsupportedOperation (one-time Spot) and throttling per instance on stop', async () => {
    ec2Mock.on(StopInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
      if (input.InstanceIds.includes('i-spot')) throw awsError('UnsupportedOperation');
      if (input.InstanceIds.includes('i-slow')) throw awsError('RequestLimitExceeded');
      return { StoppingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId })) };
    });
    const writer = new Ec2Writer(client());
    const results = await Promise.allSettled(['i-spot', 'i-ok', 'i-slow'].map((id) => writer.stop(id)));
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorCode(r.reason)))).toEqual([
      'UnsupportedOperation',
      'ok',
      'RequestLimitExceeded',
    ]);
  });

  it('fails an instance the answer leaves out', async () => {
    ec2Mock.on(StopInstancesCommand).resolves({ StoppingInstances: [{ InstanceId: 'i-1' }] });
    const writer = new Ec2Writer(client());
    const results = await Promise.allSettled(['i-1', 'i-2'].map((id) => writer.stop(id)));
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { name: 'InstanceNotInResponseError' } });
  });

  it('stops at most 10 instances a call', async () => {
    ec2Mock.on(StopInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      StoppingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId })),
    }));
    const writer = new Ec2Writer(client());
    await Promise.all(Array.from({ length: 25 }, (_, i) => writer.stop(`i-${i}`)));
    expect(ec2Mock.commandCalls(StopInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length)).toEqual([
      10, 10, 5,
    ]);
  });
});
