import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoStateStore, leaseName } from '../../../lambda/adapters/state-store';
import { RUN_LEASE_MS, RunLeaseHeldError, withRunLeases } from '../../../lambda/runtime/lease';
import { TEST_NOW, testContext } from '../../helpers/context';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

let table: FakeStateTable;
beforeEach(() => {
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const ctxWith = (o: { dryRun?: boolean; regions?: string[]; table?: boolean } = {}) =>
  testContext({
    config: { regions: o.regions ?? ['us-east-1', 'eu-west-1'] },
    ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    ...(o.table === false ? {} : { stateTableName: 'state' }),
  });

async function holdLease(capability: string, region: string, holder: string) {
  const ctx = ctxWith();
  const store = new DynamoStateStore(ctx.clients.dynamodb(), 'state', { now: TEST_NOW });
  await store.acquireLease({ name: leaseName(capability, region), holder, now: TEST_NOW, ttlMs: 5 * 60_000 });
}

describe('Function: withRunLeases', () => {
  it('holds the lease of every region while the run runs, and gives them back after', async () => {
    // Prepare
    const ctx = ctxWith();
    const during: unknown[] = [];
    // Act
    await withRunLeases(ctx, { capabilities: ['reaper'], holder: 'cli:ana@laptop:42' }, async () => {
      during.push(
        table.get('lease#reaper#us-east-1', 'lease')?.holder,
        table.get('lease#reaper#eu-west-1', 'lease')?.holder,
      );
    });
    // Assess
    expect(during).toEqual(['cli:ana@laptop:42', 'cli:ana@laptop:42']);
    expect(table.get('lease#reaper#us-east-1', 'lease')?.expiresAt).toBe(0);
    expect(table.get('lease#reaper#eu-west-1', 'lease')?.expiresAt).toBe(0);
  });

  it('runs nothing when another run holds one region, names it, and gives back the leases it took', async () => {
    // Prepare
    await holdLease('reaper', 'us-east-1', 'lambda:req-7');
    const ctx = ctxWith();
    const run = jest.fn(async () => 'acted');
    // Act
    const attempt = withRunLeases(ctx, { capabilities: ['reaper'], holder: 'cli:ana@laptop:42' }, run);
    // Assess
    await expect(attempt).rejects.toThrow(RunLeaseHeldError);
    await expect(withRunLeases(ctx, { capabilities: ['reaper'], holder: 'cli:ana@laptop:42' }, run)).rejects.toThrow(
      'another run (lambda:req-7, until 2026-11-15T12:05:00.000Z) is acting on reaper in us-east-1; try again after 2026-11-15T12:05:00.000Z',
    );
    expect(run).not.toHaveBeenCalled();
    // eu-west-1 sorts first: taken, then given back when us-east-1 was found held.
    expect(table.get('lease#reaper#eu-west-1', 'lease')?.expiresAt).toBe(0);
    expect(table.get('lease#reaper#us-east-1', 'lease')?.holder).toBe('lambda:req-7');
  });

  it('gives the leases back when the run fails', async () => {
    // Prepare
    const ctx = ctxWith({ regions: ['us-east-1'] });
    // Act
    const attempt = withRunLeases(ctx, { capabilities: ['budgets'], holder: 'lambda:req-1' }, async () => {
      throw new Error('Slack is down');
    });
    // Assess
    await expect(attempt).rejects.toThrow('Slack is down');
    expect(table.get('lease#budgets#us-east-1', 'lease')?.expiresAt).toBe(0);
  });

  it('leases for RUN_LEASE_MS by default', async () => {
    // Act
    await withRunLeases(ctxWith({ regions: ['us-east-1'] }), { capabilities: ['reaper'], holder: 'x' }, async () => {
      // Assess
      expect(table.get('lease#reaper#us-east-1', 'lease')?.expiresAt).toBe(TEST_NOW.getTime() + RUN_LEASE_MS);
    });
  });

  it.each([
    ['a dry run', { dryRun: true }],
    ['a run without a state table', { table: false }],
  ])('takes no lease for %s', async (_, o) => {
    // Prepare
    await holdLease('reaper', 'us-east-1', 'lambda:req-7');
    const run = jest.fn(async () => 'ran');
    // Act
    const result = await withRunLeases(ctxWith(o), { capabilities: ['reaper'], holder: 'cli:x' }, run);
    // Assess
    expect(result).toBe('ran');
    expect(table.mock.commandCalls(PutItemCommand)).toHaveLength(1); // only holdLease's
  });
});
