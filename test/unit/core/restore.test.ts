import { planRestore, type RecordedStop, type StoppedInstanceFacts } from '../../../lambda/core/restore';

const STOPPED_AT = '2026-11-10T08:00:00.000Z';
const stop = (id: string, over: Partial<RecordedStop> = {}): RecordedStop => ({
  instanceId: id,
  region: 'us-east-1',
  capability: 'budgets',
  stoppedAt: STOPPED_AT,
  budget: 'ml-platform',
  reason: 'budget ml-platform at 97%',
  ...over,
});
const instance = (id: string, over: Partial<StoppedInstanceFacts> = {}): StoppedInstanceFacts => ({
  instanceId: id,
  region: 'us-east-1',
  instanceType: 'g5.xlarge',
  state: 'stopped',
  launchTime: '2026-11-01T00:00:00.000Z',
  tags: { 'cost-guard:stopped-by': 'budget-guard', 'cost-guard:stopped-budget': 'ml-platform' },
  ...over,
});
const started = (p: ReturnType<typeof planRestore>) => p.start.map((c) => c.instance.instanceId);
const reasons = (p: ReturnType<typeof planRestore>) =>
  Object.fromEntries(p.refused.map((r) => [r.instanceId, r.reason]));

describe('Function: planRestore', () => {
  it("never starts a stop recorded in a budget's linked account, even when this account has an instance of that ID", () => {
    // Prepare: i-1 was stopped in linked account 111111111111; this account (123456789012) reports a stopped i-1.
    const stops = [stop('i-1', { account: '111111111111' }), stop('i-2')];
    // Act
    const plan = planRestore(stops, [instance('i-1'), instance('i-2')], { accountId: '123456789012' });
    // Assess
    expect(started(plan)).toEqual(['i-2']);
    // Two refusals: the linked account's record, and this account's tagged i-1 that no record of this account names.
    expect(plan.refused.filter((r) => r.instanceId === 'i-1').map((r) => r.reason)).toEqual([
      "stopped in linked account 111111111111 for budget ml-platform: restore starts only this account's " +
        'instances; start it in account 111111111111 and remove its cost-guard:stopped-* tags',
      'tagged cost-guard:stopped-by but not in the ledger: not started',
    ]);
  });

  it('starts a stop recorded with the account restore runs in, and refuses every account-named stop when its own is unknown', () => {
    const stops = [stop('i-1', { account: '123456789012' })];
    expect(started(planRestore(stops, [instance('i-1')], { accountId: '123456789012' }))).toEqual(['i-1']);
    expect(started(planRestore(stops, [instance('i-1')]))).toEqual([]);
  });

  it('starts the stopped instances the records name', () => {
    // Act
    const plan = planRestore([stop('i-1'), stop('i-2')], [instance('i-1'), instance('i-2')]);
    // Assess
    expect(started(plan)).toEqual(['i-1', 'i-2']);
    expect(plan.refused).toEqual([]);
  });

  it('never starts a tagged instance the records do not name, and says why', () => {
    // Prepare: i-9 carries a hand-written stopped-by tag.
    const plan = planRestore([stop('i-1')], [instance('i-1'), instance('i-9')]);
    // Assess
    expect(started(plan)).toEqual(['i-1']);
    expect(reasons(plan)).toEqual({ 'i-9': 'tagged cost-guard:stopped-by but not in the ledger: not started' });
  });

  it('starts a recorded instance whose tags were removed: the record is the evidence, not the tag', () => {
    const plan = planRestore([stop('i-1')], [instance('i-1', { tags: {} })]);
    expect(started(plan)).toEqual(['i-1']);
  });

  it('leaves an instance started after the guard stopped it (and stopped since by someone else)', () => {
    // Act
    const plan = planRestore([stop('i-1')], [instance('i-1', { launchTime: '2026-11-12T09:00:00.000Z' })]);
    // Assess
    expect(started(plan)).toEqual([]);
    expect(reasons(plan)['i-1']).toContain('was started again at 2026-11-12T09:00:00.000Z');
  });

  it.each([
    ['running', instance('i-1', { state: 'running' }), 'is running now, not stopped'],
    ['gone', undefined, 'no longer exists'],
  ])('reports a recorded instance that is %s and starts nothing', (_, found, reason) => {
    const plan = planRestore([stop('i-1')], found ? [found] : []);
    expect(started(plan)).toEqual([]);
    expect(reasons(plan)['i-1']).toContain(reason);
  });

  it("restores the reaper's stops only when asked", () => {
    // Prepare
    const stops = [stop('i-1'), stop('i-2', { capability: 'reaper', budget: undefined })];
    const found = [instance('i-1'), instance('i-2', { tags: {} })];
    // Act
    const byDefault = planRestore(stops, found);
    const asked = planRestore(stops, found, { includeReaper: true });
    // Assess
    expect(started(byDefault)).toEqual(['i-1']);
    expect(reasons(byDefault)['i-2']).toContain('--include-reaper');
    expect(started(asked)).toEqual(['i-1', 'i-2']);
  });

  it('keeps to one budget when asked, in the starts and in the report of tagged instances', () => {
    // Prepare
    const stops = [stop('i-1'), stop('i-2', { budget: 'research' })];
    const found = [
      instance('i-1'),
      instance('i-2'),
      instance('i-8', { tags: { 'cost-guard:stopped-by': 'x', 'cost-guard:stopped-budget': 'research' } }),
      instance('i-9', { tags: { 'cost-guard:stopped-by': 'x', 'cost-guard:stopped-budget': 'ml-platform' } }),
    ];
    // Act
    const plan = planRestore(stops, found, { budget: 'ml-platform' });
    // Assess
    expect(started(plan)).toEqual(['i-1']);
    expect(Object.keys(reasons(plan))).toEqual(['i-9']);
  });
});
