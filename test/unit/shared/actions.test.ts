import { ActionRunner, type PlannedAction } from '../../../lambda/shared/actions';

const NOW = new Date('2026-11-15T12:00:00Z');
const stop = (target: string, monthlySavingsUsd?: number): PlannedAction => ({
  capability: 'reaper',
  kind: 'stop',
  target,
  region: 'us-east-1',
  reason: 'idle for 3 h',
  ...(monthlySavingsUsd !== undefined ? { monthlySavingsUsd } : {}),
});

describe('Class: ActionRunner', () => {
  it('calls the effect and records done with its savings', async () => {
    // Prepare
    const runner = new ActionRunner(false, NOW);
    const effect = jest.fn().mockResolvedValue(undefined);
    // Act
    const record = await runner.perform(stop('i-1', 383.98), effect);
    // Assess
    expect(effect).toHaveBeenCalledTimes(1);
    expect(record).toMatchObject({ status: 'done', target: 'i-1', at: NOW.toISOString(), monthlySavingsUsd: 383.98 });
  });

  it('never calls the effect in dry-run and records what would happen', async () => {
    const runner = new ActionRunner(true, NOW);
    const effect = jest.fn();
    const record = await runner.perform(stop('i-1', 10), effect);
    expect(effect).not.toHaveBeenCalled();
    expect(record.status).toBe('dry-run');
    expect(runner.totals()).toEqual({ done: 0, dryRun: 1, failed: 0, monthlySavingsUsd: 10 });
  });

  it('records a failure with its AWS error code and goes on with the next action', async () => {
    // Prepare
    const runner = new ActionRunner(false, NOW);
    const denied = Object.assign(new Error('protected'), { name: 'OperationNotPermitted' });
    // Act
    const failed = await runner.perform(stop('i-1', 100), () => Promise.reject(denied));
    const ok = await runner.perform(stop('i-2', 50), () => Promise.resolve());
    // Assess
    expect(failed).toMatchObject({ status: 'failed', errorCode: 'OperationNotPermitted', errorMessage: 'protected' });
    expect(ok.status).toBe('done');
    expect(runner.totals()).toEqual({ done: 1, dryRun: 0, failed: 1, monthlySavingsUsd: 50 });
  });

  it('counts no savings for an action whose price is unknown', async () => {
    const runner = new ActionRunner(false, NOW);
    await runner.perform(stop('i-1'), () => Promise.resolve());
    expect(runner.totals().monthlySavingsUsd).toBe(0);
  });

  it('filters totals by capability or kind', async () => {
    const runner = new ActionRunner(false, NOW);
    await runner.perform(stop('i-1', 5), () => Promise.resolve());
    await runner.perform({ ...stop('b', 7), capability: 'lifecycle', kind: 'lifecycle-put' }, () => Promise.resolve());
    expect(runner.totals((r) => r.capability === 'lifecycle').monthlySavingsUsd).toBe(7);
    expect(runner.records().map((r) => r.target)).toEqual(['i-1', 'b']);
  });
});
