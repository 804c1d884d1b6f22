/** The shared fake EC2 answers like EC2 where the guards depend on it; checked through the real EC2 adapter. */
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { Ec2Writer, InstanceTypeCatalog, instanceFilters, listInstances } from '../../../lambda/adapters/ec2';
import { errorCode } from '../../../lambda/shared/errors';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';

const ec2Mock = mockClient(EC2Client);
const client = () => new EC2Client({ region: 'us-east-1' });
const outcomes = (results: PromiseSettledResult<void>[]) =>
  results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorCode(r.reason)));

beforeEach(() => ec2Mock.reset());

describe('Class: FakeEc2', () => {
  it('filters by state and tag and pages with NextToken', async () => {
    // Prepare: five instances, two a page
    const fake = new FakeEc2({
      pageSize: 2,
      instances: [
        fakeInstance('i-1', { tags: { team: 'ml' } }),
        fakeInstance('i-2', { tags: { team: 'ml' }, state: 'stopped' }),
        fakeInstance('i-3', { tags: { team: 'ML' } }),
        fakeInstance('i-4', { tags: { team: 'ml' } }),
        fakeInstance('i-5', { tags: { team: 'ml' } }),
      ],
    }).install(ec2Mock);
    // Act
    const found = await listInstances(client(), 'us-east-1', instanceFilters(['running'], { team: 'ml' }));
    // Assess: tag values match exactly, as in EC2
    expect(found.map((i) => i.instanceId)).toEqual(['i-1', 'i-4', 'i-5']);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)).toHaveLength(2);
    expect(fake.get('i-2').state).toBe('stopped');
  });

  it('fails a whole stop call for a one-time Spot instance, which the writer then isolates', async () => {
    // Prepare
    const fake = new FakeEc2({
      instances: [
        fakeInstance('i-1'),
        fakeInstance('i-spot', { lifecycle: 'spot', spotType: 'one-time' }),
        fakeInstance('i-persistent', { lifecycle: 'spot', spotType: 'persistent' }),
      ],
    }).install(ec2Mock);
    const writer = new Ec2Writer(client());
    // Act
    const results = await Promise.allSettled(['i-1', 'i-spot', 'i-persistent'].map((id) => writer.stop(id)));
    // Assess
    expect(outcomes(results)).toEqual(['ok', 'UnsupportedOperation', 'ok']);
    expect(fake.instances.map((i) => i.state)).toEqual(['stopped', 'running', 'stopped']);
    expect(fake.effects).toEqual(
      new Map([
        ['i-1', 1],
        ['i-persistent', 1],
      ]),
    );
  });

  it('logs each state change with the tags the instance had at that moment, and no change for a repeated call', async () => {
    // Prepare
    const fake = new FakeEc2({
      instances: [fakeInstance('i-1', { tags: { why: 'idle' } }), fakeInstance('i-2', { state: 'stopped' })],
    }).install(ec2Mock);
    const writer = new Ec2Writer(client());
    // Act: stop i-1, retag it, stop it again (no change), start i-2
    await writer.stop('i-1');
    await writer.tag('i-1', { why: 'later' });
    await writer.stop('i-1');
    await writer.start('i-2');
    // Assess
    expect(fake.changes).toEqual([
      { operation: 'StopInstances', id: 'i-1', from: 'running', to: 'stopped', tags: { why: 'idle' } },
      { operation: 'StartInstances', id: 'i-2', from: 'stopped', to: 'running', tags: {} },
    ]);
    expect(fake.get('i-1').tags).toEqual({ why: 'later' });
  });

  it('refuses to terminate a protected instance and to change a terminated one', async () => {
    new FakeEc2({
      instances: [
        fakeInstance('i-protected', { terminationProtected: true }),
        fakeInstance('i-gone', { state: 'terminated' }),
      ],
    }).install(ec2Mock);
    const writer = new Ec2Writer(client());
    const results = await Promise.allSettled([writer.terminate('i-protected'), writer.start('i-gone')]);
    expect(outcomes(results)).toEqual(['OperationNotPermitted', 'IncorrectInstanceState']);
  });

  it('fails the next calls of an operation as often as a fault says, then answers again', async () => {
    // Prepare
    const fake = new FakeEc2({
      instances: [fakeInstance('i-1'), fakeInstance('i-2')],
      faults: [{ operation: 'CreateTags', code: 'RequestLimitExceeded', instanceId: 'i-2', times: 1 }],
    }).install(ec2Mock);
    const writer = new Ec2Writer(client());
    // Act: the batch call names i-2 and fails; each instance is then tagged alone, and the fault is spent.
    const results = await Promise.allSettled(['i-1', 'i-2'].map((id) => writer.tag(id, { k: 'v' })));
    // Assess
    expect(outcomes(results)).toEqual(['ok', 'ok']);
    expect(fake.get('i-2').tags).toEqual({ k: 'v' });
    expect(fake.faults[0]!.times).toBe(0);
  });

  it('logs every call with the instances it named, its error code, and the fault that failed it if one did', async () => {
    // Prepare: a fault on i-2's attribute, once; a one-time Spot instance EC2 refuses to stop
    const fake = new FakeEc2({
      instances: [fakeInstance('i-1'), fakeInstance('i-2'), fakeInstance('i-spot', { lifecycle: 'spot' })],
      faults: [{ operation: 'DescribeInstanceAttribute', code: 'RequestLimitExceeded', instanceId: 'i-2', times: 1 }],
    }).install(ec2Mock);
    const ec2 = client();
    const attribute = (id: string) =>
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'disableApiTermination' }));
    // Act
    const results = await Promise.allSettled([
      attribute('i-1'),
      attribute('i-2'),
      attribute('i-2'),
      ec2.send(new StopInstancesCommand({ InstanceIds: ['i-1', 'i-spot'] })),
      ec2.send(new DescribeInstancesCommand({})),
    ]);
    // Assess: the fault is told apart from EC2's own refusal, and the calls that succeeded carry no error
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : errorCode(r.reason)))).toEqual([
      'ok',
      'RequestLimitExceeded',
      'ok',
      'UnsupportedOperation',
      'ok',
    ]);
    expect(fake.calls).toEqual([
      { operation: 'DescribeInstanceAttribute', instanceIds: ['i-1'] },
      {
        operation: 'DescribeInstanceAttribute',
        instanceIds: ['i-2'],
        errorCode: 'RequestLimitExceeded',
        fault: fake.faults[0],
      },
      { operation: 'DescribeInstanceAttribute', instanceIds: ['i-2'] },
      { operation: 'StopInstances', instanceIds: ['i-1', 'i-spot'], errorCode: 'UnsupportedOperation' },
      { operation: 'DescribeInstances', instanceIds: [] },
    ]);
    expect(fake.calls.filter((c) => c.fault).map((c) => c.instanceIds)).toEqual([['i-2']]);
  });

  it('tells onCall of each call as it arrives, before the fake answers it', async () => {
    // Prepare: onCall notes the instance's state and the call's outcome at the moment the call arrives
    const seen: string[] = [];
    const fake = new FakeEc2({
      instances: [fakeInstance('i-1')],
      faults: [{ operation: 'TerminateInstances', code: 'InternalError', status: 500, times: 1 }],
      onCall: (call) =>
        seen.push(`${call.operation} ${call.instanceIds.join(',')} ${fake.get('i-1').state} ${call.errorCode ?? '-'}`),
    }).install(ec2Mock);
    const writer = new Ec2Writer(client());
    // Act: stop, stop again, then a termination that fails once and succeeds when sent again
    await writer.stop('i-1');
    await writer.stop('i-1');
    await expect(writer.terminate('i-1')).rejects.toMatchObject({ name: 'InternalError' });
    await writer.terminate('i-1');
    // Assess: each call was seen before it changed the instance; the failed one before it failed
    expect(seen).toEqual([
      'StopInstances i-1 running -',
      'StopInstances i-1 stopped -',
      'TerminateInstances i-1 stopped -',
      'TerminateInstances i-1 stopped -',
    ]);
    expect(fake.calls.map((c) => c.errorCode)).toEqual([undefined, undefined, 'InternalError', undefined]);
    expect(fake.get('i-1').state).toBe('terminated');
  });

  it('answers InvalidInstanceType for a whole call naming an unknown type', async () => {
    new FakeEc2({ types: { 'g5.xlarge': { kind: 'gpu', count: 4 } } }).install(ec2Mock);
    const catalog = new InstanceTypeCatalog();
    const types = await catalog.resolve(client(), 'us-east-1', ['g5.xlarge', 'zz9.huge']);
    expect(types.get('g5.xlarge')).toMatchObject({ accelerator: 'gpu', acceleratorCount: 4, instanceStorage: true });
    expect(catalog.unknownTypes()).toEqual(['us-east-1: zz9.huge']);
    expect(catalog.errors).toEqual([]);
  });
});
