import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DeleteTagsCommand, DescribeInstancesCommand, EC2Client, StartInstancesCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { recordStops } from '../../../lambda/adapters/stop-index';
import type { CliIO } from '../../../lambda/cli/io';
import { restoreCommand } from '../../../lambda/cli/restore';
import type { ActionRecord } from '../../../lambda/core/run';
import { restoreInstances } from '../../../lambda/services/restore';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type Ec2Fault, FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const ec2Mock = mockClient(EC2Client);
const stsMock = mockClient(STSClient);
let table: FakeStateTable;

beforeEach(() => {
  ec2Mock.reset();
  stsMock.reset();
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

/** The guard's records of its stops: what restore goes by. */
async function givenRecordedStops(
  stops: readonly { id: string; budget?: string; capability?: 'budgets' | 'reaper' }[],
) {
  const records: ActionRecord[] = stops.map((s) => ({
    capability: s.capability ?? 'budgets',
    kind: 'stop',
    target: s.id,
    region: 'us-east-1',
    reason: `budget ${s.budget ?? '-'} at 96%`,
    status: 'done',
    at: '2026-11-10T08:00:00.000Z',
    ...(s.budget ? { details: { budget: s.budget } } : {}),
  }));
  await recordStops(testContext().clients.dynamodb(), 'state', records);
}

const ctx = (o: { dryRun?: boolean } = {}) => testContext({ stateTableName: 'state', ...o });

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
async function givenStopped(faults: Ec2Fault[] = []) {
  await givenRecordedStops([
    { id: 'i-1', budget: 'ml-platform' },
    { id: 'i-2', budget: 'ml-platform' },
    { id: 'i-3', budget: 'other' },
  ]);
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
  it('starts the stopped instances the records say the guard stopped and removes its tags', async () => {
    // Prepare
    await givenStopped();
    // Act
    const summary = await restoreInstances(ctx());
    // Assess
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: ['i-1', 'i-2', 'i-3'] }],
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
    await givenStopped();
    const summary = await restoreInstances(ctx(), { budget: 'ml-platform' });
    expect(summary.instances.map((i) => i.instanceId)).toEqual(['i-1', 'i-2']);
    expect(ec2.get('i-3').state).toBe('stopped');
  });

  it('keeps the tags of an instance that fails to start and goes on with the others', async () => {
    // Prepare
    await givenStopped([{ operation: 'StartInstances', instanceId: 'i-1', code: 'InsufficientInstanceCapacity' }]);
    // Act
    const summary = await restoreInstances(ctx(), { budget: 'ml-platform' });
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
    await givenStopped();
    const summary = await restoreInstances(ctx({ dryRun: true }), { budget: 'ml-platform' });
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteTagsCommand, 0);
    expect(summary.instances.map((i) => i.status)).toEqual(['dry-run', 'dry-run']);
  });

  it('says so when there is nothing to restore', async () => {
    await givenStopped();
    const summary = await restoreInstances(ctx(), { budget: 'x' });
    expect(summary.notes[0]).toContain(
      'Nothing the guard stopped for budget x is waiting to be restarted in us-east-1',
    );
  });

  it('starts nothing without a state table, and says why', async () => {
    // Prepare
    await givenStopped();
    // Act
    const summary = await restoreInstances(testContext());
    // Assess
    expect(summary.instances).toEqual([]);
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 0);
    expect(summary.notes[0]).toContain("restore starts only what the guard's records say it stopped");
  });

  it("restores the reaper's stops only with includeReaper", async () => {
    // Prepare
    await givenRecordedStops([{ id: 'i-r', capability: 'reaper' }]);
    ec2 = new FakeEc2({ instances: [fakeInstance('i-r', { state: 'stopped' })] }).install(ec2Mock);
    // Act
    const byDefault = await restoreInstances(ctx());
    const asked = await restoreInstances(ctx(), { includeReaper: true });
    // Assess
    expect(byDefault.instances).toEqual([]);
    expect(byDefault.notStarted[0]?.reason).toContain('--include-reaper');
    expect(asked.instances.map((i) => [i.instanceId, i.stoppedBy, i.status])).toEqual([['i-r', 'reaper', 'done']]);
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
  const CONFIG = { dryRun: false, state: { tableName: 'state' } };
  const configDir = (config: unknown) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'restore-'));
    writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify(config));
    return dir;
  };

  it('restores with the config file and prints JSON', async () => {
    // Prepare
    await givenStopped();
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir(CONFIG));
    // Act
    const code = await restoreCommand(['--config', 'cost-guard.json', '--budget', 'ml-platform', '--json'], t.io);
    // Assess
    expect(code).toBe(0);
    const summary = JSON.parse(t.out.join('\n'));
    expect(summary.budget).toBe('ml-platform');
    expect(summary.instances).toHaveLength(2);
    expect(ec2.get('i-1').state).toBe('running');
    expect(ec2.get('i-2').state).toBe('running');
    // The starts are in the ledger, and the records say these two are restored: a second restore starts nothing.
    expect(table.get('stopped#us-east-1', 'i-1')?.state).toBe('restored');
    expect(table.get('stopped#us-east-1', 'i-3')?.state).toBe('stopped');
    const ledger = [...table.items.values()].filter((i) => i.pk?.S?.startsWith('ledger#'));
    expect(ledger.map((i) => `${i.capability?.S}:${i.kind?.S}:${i.target?.S}`).sort()).toEqual([
      'restore:start:i-1',
      'restore:start:i-2',
      'restore:untag:i-1',
      'restore:untag:i-2',
    ]);
  });

  it('honours --dry-run and prints text', async () => {
    await givenStopped();
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir(CONFIG));
    const code = await restoreCommand(['--config', 'cost-guard.json', '--dry-run'], t.io);
    expect(code).toBe(0);
    expect(t.out.join('\n')).toContain('would start i-1 g5.xlarge us-east-1 (budget ml-platform)');
    expect(ec2Mock).toHaveReceivedCommandTimes(StartInstancesCommand, 0);
  });

  it('names each instance by its Name tag next to its ID, as a plain line', async () => {
    // Prepare: i-1 carries a Name with a terminal escape sequence; the hand-tagged one has a name too
    await givenRecordedStops([{ id: 'i-1', budget: 'ml-platform' }]);
    const named = stoppedInstance('i-1', 'ml-platform');
    ec2 = new FakeEc2({
      instances: [
        { ...named, tags: { ...named.tags, Name: 'train-7\u001b[2J' } },
        fakeInstance('i-hand', {
          state: 'stopped',
          tags: { Name: 'notebook-bob', 'cost-guard:stopped-by': 'budget-guard' },
        }),
      ],
    }).install(ec2Mock);
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir(CONFIG));
    // Act
    await restoreCommand(['--config', 'cost-guard.json', '--dry-run'], t.io);
    // Assess
    const text = t.out.join('\n');
    expect(text).toContain('would start i-1 (train-7 [2J) g5.xlarge us-east-1 (budget ml-platform)');
    expect(text).toContain(
      'left alone i-hand (notebook-bob) us-east-1: tagged cost-guard:stopped-by but not in the ledger',
    );
    expect(text).not.toContain('\u001b');
  });

  it('exits 1 when an instance fails to start', async () => {
    await givenStopped([{ operation: 'StartInstances', code: 'IncorrectInstanceState' }]);
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
    const t = io(configDir(CONFIG));
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
