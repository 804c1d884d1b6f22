import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteTagsCommand, DescribeInstancesCommand, EC2Client, StartInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { CliIO } from '../../../lambda/cli/io';
import { restoreCommand } from '../../../lambda/cli/restore';
import { restoreInstances } from '../../../lambda/services/restore';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type Ec2Fault, FakeEc2, fakeInstance } from '../../helpers/fake-ec2';

const ec2Mock = mockClient(EC2Client);
const stsMock = mockClient(STSClient);

beforeEach(() => {
  ec2Mock.reset();
  stsMock.reset();
});

const stoppedInstance = (id: string, budget: string) =>
  fakeInstance(id, {
    state: 'stopped',
    tags: {
      team: 'ml',
      'cost-guard:stopped-by': 'budget-guard',
      'cost-guard:stopped-at': '2026-11-10T08:00:00.000Z',
      'cost-guard:stopped-budget': budget,
    },
  });

let ec2: FakeEc2;

/** Two instances the guard stopped for ml-platform, one it stopped for another budget, one a person stopped. */
function givenStopped(faults: Ec2Fault[] = []) {
  ec2 = new FakeEc2({
    instances: [
      stoppedInstance('i-1', 'ml-platform'),
      stoppedInstance('i-2', 'ml-platform'),
      stoppedInstance('i-3', 'other'),
      fakeInstance('i-manual', { state: 'stopped', tags: { team: 'ml' } }),
    ],
    faults,
  }).install(ec2Mock);
}

describe('Function: restoreInstances', () => {
  it('starts the stopped instances tagged by the guard and removes its tags', async () => {
    // Prepare
    givenStopped();
    // Act
    const summary = await restoreInstances(testContext());
    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'instance-state-name', Values: ['stopped'] },
        { Name: 'tag:cost-guard:stopped-by', Values: ['budget-guard'] },
      ],
    });
    // Started together in one call, untagged together in one call that names only the guard's keys.
    expect(ec2Mock.commandCalls(StartInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([
      ['i-1', 'i-2', 'i-3'],
    ]);
    expect(ec2Mock.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual([
      {
        Resources: ['i-1', 'i-2', 'i-3'],
        Tags: [
          { Key: 'cost-guard:stopped-at' },
          { Key: 'cost-guard:stopped-budget' },
          { Key: 'cost-guard:stopped-by' },
        ],
      },
    ]);
    for (const id of ['i-1', 'i-2', 'i-3'])
      expect(ec2.get(id)).toMatchObject({ state: 'running', tags: { team: 'ml' } });
    expect(Object.keys(ec2.get('i-1').tags)).toEqual(['team']);
    expect(ec2.get('i-manual').state).toBe('stopped');
    expect(summary.instances.map((i) => [i.instanceId, i.status, i.untagged])).toEqual([
      ['i-1', 'done', true],
      ['i-2', 'done', true],
      ['i-3', 'done', true],
    ]);
    expect(summary.actions.map((a) => `${a.kind}:${a.target}`).sort()).toEqual([
      'start:i-1',
      'start:i-2',
      'start:i-3',
      'untag:i-1',
      'untag:i-2',
      'untag:i-3',
    ]);
    // Each instance is untagged only after it started.
    for (const id of ['i-1', 'i-2', 'i-3']) {
      const kinds = summary.actions.filter((a) => a.target === id).map((a) => a.kind);
      expect(kinds).toEqual(['start', 'untag']);
    }
  });

  it('filters by budget when asked', async () => {
    givenStopped();
    const summary = await restoreInstances(testContext(), { budget: 'ml-platform' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: expect.arrayContaining([{ Name: 'tag:cost-guard:stopped-budget', Values: ['ml-platform'] }]),
    });
    expect(summary.instances.map((i) => i.instanceId)).toEqual(['i-1', 'i-2']);
    expect(ec2.get('i-3').state).toBe('stopped');
  });

  it('keeps the tags of an instance that fails to start and goes on with the others', async () => {
    // Prepare
    givenStopped([{ operation: 'StartInstances', instanceId: 'i-1', code: 'InsufficientInstanceCapacity' }]);
    // Act
    const summary = await restoreInstances(testContext(), { budget: 'ml-platform' });
    // Assess
    expect(summary.instances[0]).toMatchObject({
      status: 'failed',
      errorCode: 'InsufficientInstanceCapacity',
      untagged: false,
    });
    expect(summary.instances[1]).toMatchObject({ status: 'done', untagged: true });
    expect(ec2Mock.commandCalls(DeleteTagsCommand).flatMap((c) => c.args[0].input.Resources)).toEqual(['i-2']);
    expect(ec2.get('i-1')).toMatchObject({ state: 'stopped', tags: { 'cost-guard:stopped-by': 'budget-guard' } });
  });

  it('changes nothing in dry-run', async () => {
    givenStopped();
    const summary = await restoreInstances(testContext({ dryRun: true }), { budget: 'ml-platform' });
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteTagsCommand, 0);
    expect(summary.instances.map((i) => i.status)).toEqual(['dry-run', 'dry-run']);
  });

  it('says so when there is nothing to restore', async () => {
    givenStopped();
    const summary = await restoreInstances(testContext(), { budget: 'x' });
    expect(summary.notes[0]).toContain('No stopped instance tagged cost-guard:stopped-by=budget-guard for budget x');
  });
});

describe('Function: restoreCommand', () => {
  function io(dir: string) {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIO = {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: { AWS_REGION: 'us-east-1' },
      isTTY: false,
      cwd: dir,
      now: () => TEST_NOW,
    };
    return { io: value, out, err };
  }
  const configDir = (config: unknown) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'restore-'));
    writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify(config));
    return dir;
  };

  it('restores with the config file and prints JSON', async () => {
    // Prepare
    givenStopped();
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir({ dryRun: false }));
    // Act
    const code = await restoreCommand(['--config', 'cost-guard.json', '--budget', 'ml-platform', '--json'], t.io);
    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(t.out.join('\n'));
    expect(summary.budget).toBe('ml-platform');
    expect(summary.instances).toHaveLength(2);
    expect(ec2.get('i-1').state).toBe('running');
    expect(ec2.get('i-2').state).toBe('running');
  });

  it('honours --dry-run and prints text', async () => {
    givenStopped();
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir({ dryRun: false }));
    const code = await restoreCommand(['--config', 'cost-guard.json', '--dry-run'], t.io);
    expect(code).toBe(0);
    expect(t.out.join('\n')).toContain('would start i-1 g5.xlarge us-east-1 (budget ml-platform)');
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 0);
  });

  it('exits 1 when an instance fails to start', async () => {
    givenStopped([{ operation: 'StartInstances', code: 'IncorrectInstanceState' }]);
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir({ dryRun: false }));
    expect(await restoreCommand(['--config', 'cost-guard.json'], t.io)).toBe(1);
  });

  it.each([[['--bogus']], [['--budget']], [['--budget', ' ']], [['extra']]])(
    'throws UsageError for bad flags %j',
    async (argv) => {
      await expect(restoreCommand(argv, io(configDir({})).io)).rejects.toMatchObject({ name: 'UsageError' });
    },
  );

  it('prints its usage for --help', async () => {
    const t = io(configDir({}));
    expect(await restoreCommand(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toContain('Usage: cost-guard restore [--budget NAME]');
  });
});
