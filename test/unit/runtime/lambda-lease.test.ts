import { DynamoStateStore, leaseName } from '../../../lambda/adapters/state-store';
import type { RunSummary } from '../../../lambda/core/run';
import { LEASED_IN_LAMBDA, runUnderLambdaLease } from '../../../lambda/runtime/lambda-lease';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const ctx = () => testContext({ stateTableName: 'state' });
const summary = (capability: string): RunSummary => ({
  capability,
  dryRun: false,
  startedAt: TEST_NOW.toISOString(),
  actions: [],
  monthlySavingsUsd: 0,
  apiCalls: {},
  notes: [],
});

describe('Function: runUnderLambdaLease', () => {
  it('runs the reaper holding its lease as lambda:<request id>', async () => {
    // Prepare
    let holder: unknown;
    // Act
    const s = await runUnderLambdaLease(ctx(), 'reaper', 'req-1', async () => {
      holder = table.get('lease#reaper#us-east-1', 'lease')?.holder;
      return summary('reaper');
    });
    // Assess
    expect(holder).toBe('lambda:req-1');
    expect(s.notes).toEqual([]);
  });

  it('does not run while the CLI holds the lease, and says who and until when', async () => {
    // Prepare
    const c = ctx();
    await new DynamoStateStore(c.clients.dynamodb(), 'state', { now: TEST_NOW }).acquireLease({
      name: leaseName('budgets', 'us-east-1'),
      holder: 'cli:ana@laptop:42',
      now: TEST_NOW,
      ttlMs: 10 * 60_000,
    });
    const run = jest.fn(async () => summary('budgets'));
    // Act
    const s = await runUnderLambdaLease(c, 'budgets', 'req-2', run);
    // Assess
    expect(run).not.toHaveBeenCalled();
    expect(s).toMatchObject({
      capability: 'budgets',
      actions: [],
      leaseHeld: { holder: 'cli:ana@laptop:42', region: 'us-east-1', until: '2026-11-15T12:10:00.000Z' },
    });
    expect(s.notes[0]).toContain(
      'another run (cli:ana@laptop:42, until 2026-11-15T12:10:00.000Z) is acting on budgets',
    );
  });

  it("records a run's stops in the ledger while still holding the lease, even when the run then fails", async () => {
    // Prepare: a run that stops an instance, then throws
    const c = ctx();
    const run = async (): Promise<RunSummary> => {
      await c.actions.perform(
        {
          capability: 'reaper',
          kind: 'stop',
          target: 'i-1',
          region: 'us-east-1',
          reason: 'idle',
          monthlySavingsUsd: 9,
        },
        async () => {},
      );
      throw new Error('Slack was down');
    };
    // Act
    await expect(runUnderLambdaLease(c, 'reaper', 'req-4', run)).rejects.toThrow('Slack was down');
    // Assess: the stop is in the ledger and the stop index...
    expect(table.get('ledger#2026-11', '2026-11-15T12:00:00.000Z#reaper#stop#i-1')).toMatchObject({ target: 'i-1' });
    expect(table.get('stopped#us-east-1', 'i-1')).toMatchObject({ state: 'stopped' });
    // ...written before the lease was given back (the last call naming the lease)
    const calls = table.mock.calls().map((call) => JSON.stringify((call.args[0] as { input: unknown }).input));
    const ledgerWrite = calls.findIndex((input) => input.includes('ledger#2026-11'));
    const leaseRelease = calls.findLastIndex((input) => input.includes('lease#reaper#us-east-1'));
    expect(ledgerWrite).toBeGreaterThan(-1);
    expect(ledgerWrite).toBeLessThan(leaseRelease);
    expect(table.get('lease#reaper#us-east-1', 'lease')).toMatchObject({ holder: 'lambda:req-4', expiresAt: 0 });
  });

  it('holds the lease for every capability that changes resources, lifecycle writes and endpoint deletes included', () => {
    expect([...LEASED_IN_LAMBDA].sort()).toEqual(['budgets', 'lifecycle', 'reaper', 'sagemaker']);
  });

  it('takes no lease for functions that change nothing', async () => {
    // Act
    await runUnderLambdaLease(ctx(), 'summary', 'req-3', async () => summary('summary'));
    // Assess
    expect(LEASED_IN_LAMBDA.has('summary')).toBe(false);
    expect(table.items.size).toBe(0);
  });
});
