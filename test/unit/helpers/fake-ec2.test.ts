/** The shared fake EC2 answers like EC2 where the guards depend on it; checked through the real EC2 adapter. */
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
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

  it('answers InvalidInstanceType for a whole call naming an unknown type', async () => {
    new FakeEc2({ types: { 'g5.xlarge': { kind: 'gpu', count: 4 } } }).install(ec2Mock);
    const catalog = new InstanceTypeCatalog();
    const types = await catalog.resolve(client(), 'us-east-1', ['g5.xlarge', 'zz9.huge']);
    expect(types.get('g5.xlarge')).toMatchObject({ accelerator: 'gpu', acceleratorCount: 4, instanceStorage: true });
    expect(catalog.unknownTypes()).toEqual(['us-east-1: zz9.huge']);
    expect(catalog.errors).toEqual([]);
  });
});
