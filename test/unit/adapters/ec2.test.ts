import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotInstanceRequestsCommand,
  EC2Client,
  type InstanceTypeInfo,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ClientFactory } from '../../../lambda/adapters/clients';
import {
  Ec2Writer,
  InstanceTypeCatalog,
  instanceFacts,
  instanceFilters,
  isTerminationProtected,
  listInstances,
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
  it('follows NextToken, filters on running and maps state, tags, launch time and lifecycle', async () => {
    // Prepare: the paginator reuses one input object, so each request is copied when it is sent.
    const sent: Record<string, unknown>[] = [];
    const pages = [
      {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-1',
                InstanceType: 'g5.xlarge' as const,
                State: { Name: 'running' as const },
                LaunchTime: new Date('2026-11-14T00:00:00Z'),
                Tags: [{ Key: 'Name', Value: 'a' }],
              },
            ],
          },
        ],
        NextToken: 'page2',
      },
      {
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-2',
                InstanceType: 'p4d.24xlarge' as const,
                State: { Name: 'running' as const },
                InstanceLifecycle: 'spot' as const,
                SpotInstanceRequestId: 'sir-1',
              },
            ],
          },
        ],
      },
    ];
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: Record<string, unknown>) => {
      sent.push({ ...input });
      return pages[sent.length - 1];
    });
    // Act
    const instances = await listRunningInstances(client(), 'us-east-1');
    // Assess
    expect(instances).toEqual([
      {
        instanceId: 'i-1',
        region: 'us-east-1',
        instanceType: 'g5.xlarge',
        state: 'running',
        launchTime: '2026-11-14T00:00:00.000Z',
        tags: { Name: 'a' },
        lifecycle: 'on-demand',
      },
      {
        instanceId: 'i-2',
        region: 'us-east-1',
        instanceType: 'p4d.24xlarge',
        state: 'running',
        tags: {},
        lifecycle: 'spot',
        spotInstanceRequestId: 'sir-1',
      },
    ]);
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({
      Filters: [{ Name: 'instance-state-name', Values: ['running'] }],
      MaxResults: 1000,
    });
    expect(sent[0]!.NextToken).toBeUndefined();
    expect(sent[1]).toMatchObject({ NextToken: 'page2', MaxResults: 1000 });
  });

  it('counts every page as an API call on a factory client', async () => {
    // Prepare: three pages
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [], NextToken: 'p2' })
      .resolvesOnce({ Reservations: [], NextToken: 'p3' })
      .resolvesOnce({ Reservations: [] });
    const clients = new ClientFactory({ defaultRegion: 'us-east-1', maxAttempts: 1 });
    // Act
    await listRunningInstances(clients.ec2(), 'us-east-1');
    // Assess
    expect(clients.counter.byOperation()).toEqual({ 'EC2.DescribeInstances': 3 });
  });
});

describe('Function: listInstances', () => {
  it('filters by state and scope tags on the server', async () => {
    // Prepare
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-1', InstanceType: 'g5.xlarge', State: { Name: 'stopped' } }] }],
    });
    // Act
    const found = await listInstances(
      new EC2Client({ region: 'eu-west-1' }),
      'eu-west-1',
      instanceFilters(['running', 'stopped'], { team: 'ml', env: 'dev' }),
    );
    // Assess
    expect(found).toMatchObject([{ instanceId: 'i-1', region: 'eu-west-1', state: 'stopped' }]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'instance-state-name', Values: ['running', 'stopped'] },
        { Name: 'tag:team', Values: ['ml'] },
        { Name: 'tag:env', Values: ['dev'] },
      ],
    });
  });
});

describe('Function: instanceFacts', () => {
  it('skips an entry without an ID and names what EC2 left out', () => {
    expect(instanceFacts({}, 'us-east-1')).toBeUndefined();
    expect(instanceFacts({ InstanceId: 'i-2' }, 'us-east-1')).toEqual({
      instanceId: 'i-2',
      region: 'us-east-1',
      instanceType: 'unknown',
      state: 'unknown',
      tags: {},
      lifecycle: 'on-demand',
    });
  });

  it.each(['__proto__', 'constructor', 'toString'])('keeps a tag named %s as an own tag', (key) => {
    const facts = instanceFacts({ InstanceId: 'i-1', Tags: [{ Key: key, Value: 'true' }] }, 'us-east-1')!;
    expect(Object.hasOwn(facts.tags, key)).toBe(true);
    expect(facts.tags[key]).toBe('true');
    expect(Object.getPrototypeOf(facts.tags)).toBe(Object.prototype);
  });

  it('drops an unparseable launch time and maps every lifecycle', () => {
    expect(instanceFacts({ InstanceId: 'i', LaunchTime: new Date('nope') }, 'r')?.launchTime).toBeUndefined();
    for (const lifecycle of ['spot', 'scheduled', 'capacity-block'] as const) {
      expect(instanceFacts({ InstanceId: 'i', InstanceLifecycle: lifecycle }, 'r')?.lifecycle).toBe(lifecycle);
    }
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

  it('reads instance store support, absent meaning none', () => {
    expect(typeFacts({ InstanceType: 'g5.xlarge', InstanceStorageSupported: true }).instanceStorage).toBe(true);
    expect(typeFacts({ InstanceType: 'g6.xlarge' }).instanceStorage).toBe(false);
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
    expect(ec2Mock).toHaveReceivedNthCommandWith(2, DescribeInstanceTypesCommand, { NextToken: 't' });
  });

  it('detects GPUs and instance store, and still describes the others when one type is unknown', async () => {
    // Prepare: a batch with an unknown type fails as a whole; each type is then asked alone.
    ec2Mock
      .on(DescribeInstanceTypesCommand)
      .rejects(awsError('InvalidInstanceType'))
      .on(DescribeInstanceTypesCommand, { InstanceTypes: ['g5.xlarge'] })
      .resolves({
        InstanceTypes: [
          {
            InstanceType: 'g5.xlarge',
            GpuInfo: { Gpus: [{ Name: 'A10G', Count: 1 }] },
            InstanceStorageSupported: true,
          },
        ],
      })
      .on(DescribeInstanceTypesCommand, { InstanceTypes: ['m5.large'] })
      .resolves({ InstanceTypes: [{ InstanceType: 'm5.large', InstanceStorageSupported: false }] });
    const catalog = new InstanceTypeCatalog();
    // Act
    const resolved = await catalog.resolve(client(), 'us-east-1', ['g5.xlarge', 'm5.large', 'x9.future', 'g5.xlarge']);
    // Assess
    expect(resolved.get('g5.xlarge')).toMatchObject({ accelerator: 'gpu', instanceStorage: true });
    expect(catalog.get('g5.xlarge')).toMatchObject({ accelerator: 'gpu', instanceStorage: true });
    expect(catalog.get('m5.large')).toMatchObject({ accelerator: 'none', instanceStorage: false });
    expect(catalog.get('x9.future')).toBeUndefined();
    expect(catalog.unknownTypes()).toEqual(['us-east-1: x9.future']);
    expect(catalog.available('us-east-1')).toBe(true);
  });

  it('marks the region unavailable when the call is denied, and keeps the other regions available', async () => {
    // Prepare
    ec2Mock.on(DescribeInstanceTypesCommand).rejects(awsError('UnauthorizedOperation'));
    const catalog = new InstanceTypeCatalog();
    // Act
    const resolved = await catalog.resolve(client(), 'us-east-1', ['g5.xlarge']);
    // Assess
    expect(resolved.size).toBe(0);
    expect(catalog.available('us-east-1')).toBe(false);
    expect(catalog.available('eu-west-1')).toBe(true);
    expect(catalog.get('g5.xlarge')).toBeUndefined();
    expect(catalog.errors).toEqual(['DescribeInstanceTypes g5.xlarge in us-east-1: UnauthorizedOperation']);
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
    await Promise.all(['i-1', 'i-2', 'i-3'].map((id) => writer.tag(id, { 'cost-guard:idle-since': 'T' })));
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
    await Promise.all(Array.from({ length: 250 }, (_, i) => writer.untag(`i-${i}`, ['cost-guard:idle-since'])));
    const sizes = ec2Mock.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input.Resources?.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('writes several tags in one call, batching only instances that get exactly the same tags', async () => {
    // Prepare
    ec2Mock.on(CreateTagsCommand).resolves({});
    const writer = new Ec2Writer(client());
    // Act
    await Promise.all([
      writer.tag('i-1', { a: '1', b: '2' }),
      writer.tag('i-2', { b: '2', a: '1' }),
      writer.tag('i-3', { a: '1', b: 'other' }),
    ]);
    // Assess
    const calls = ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      {
        Resources: ['i-1', 'i-2'],
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: '2' },
        ],
      },
      {
        Resources: ['i-3'],
        Tags: [
          { Key: 'a', Value: '1' },
          { Key: 'b', Value: 'other' },
        ],
      },
    ]);
  });

  it('removes only the named keys, and sends nothing when no key is named', async () => {
    // Prepare: DeleteTags without keys would delete every tag of the instance.
    ec2Mock.on(DeleteTagsCommand).resolves({});
    ec2Mock.on(CreateTagsCommand).resolves({});
    const writer = new Ec2Writer(client());
    // Act
    await writer.untag('i-1', ['a', 'b']);
    await writer.untag('i-1', []);
    await writer.tag('i-1', {});
    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteTagsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteTagsCommand, {
      Resources: ['i-1'],
      Tags: [{ Key: 'a' }, { Key: 'b' }],
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0);
  });

  it('starts instances in batches and reports each failure on its own instance', async () => {
    // Prepare
    ec2Mock.on(StartInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
      if (input.InstanceIds.includes('i-full')) throw awsError('InsufficientInstanceCapacity');
      return { StartingInstances: input.InstanceIds.map((InstanceId) => ({ InstanceId })) };
    });
    const writer = new Ec2Writer(client());
    // Act
    const results = await Promise.allSettled(['i-1', 'i-full', 'i-2'].map((id) => writer.start(id)));
    // Assess
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorCode(r.reason)))).toEqual([
      'ok',
      'InsufficientInstanceCapacity',
      'ok',
    ]);
    expect(ec2Mock.commandCalls(StartInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([
      ['i-1', 'i-full', 'i-2'],
      ['i-1'],
      ['i-full'],
      ['i-2'],
    ]);
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
