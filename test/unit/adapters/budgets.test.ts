import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { mockClient } from 'aws-sdk-client-mock';
import { describeAllBudgets, readWatchedBudgets, toSnapshot } from '../../../lambda/adapters/budgets';

const budgetsMock = mockClient(BudgetsClient);

beforeEach(() => {
  budgetsMock.reset();
});

const awsBudget = (name: string, actual = '850.5') => ({
  BudgetName: name,
  BudgetType: 'COST' as const,
  TimeUnit: 'MONTHLY' as const,
  BudgetLimit: { Amount: '1000.0', Unit: 'USD' },
  CalculatedSpend: { ActualSpend: { Amount: actual, Unit: 'USD' }, ForecastedSpend: { Amount: '1200', Unit: 'USD' } },
  TimePeriod: { Start: new Date('2018-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
});

describe('Function: toSnapshot', () => {
  it('maps limit, actual, forecast, time period and unit to plain data', () => {
    expect(toSnapshot(awsBudget('ml'))).toEqual({
      name: 'ml',
      budgetType: 'COST',
      timeUnit: 'MONTHLY',
      limit: { amount: 1000, unit: 'USD' },
      actual: { amount: 850.5, unit: 'USD' },
      forecast: { amount: 1200, unit: 'USD' },
      periodStart: '2018-01-01T00:00:00.000Z',
      periodEnd: '2087-06-15T00:00:00.000Z',
    });
  });

  it('keys planned limits by ISO period start and keeps an unreadable amount as NaN', () => {
    const s = toSnapshot({
      ...awsBudget('ml', 'n/a'),
      BudgetLimit: undefined,
      PlannedBudgetLimits: { '1793491200': { Amount: '2000', Unit: 'USD' } },
    });
    expect(s.limit).toBeUndefined();
    expect(s.plannedLimits).toEqual({ '2026-11-01T00:00:00.000Z': { amount: 2000, unit: 'USD' } });
    expect(s.actual?.amount).toBeNaN();
  });
});

describe('Function: describeAllBudgets', () => {
  it('follows NextToken with the account ID on every page', async () => {
    // Prepare
    budgetsMock
      .on(DescribeBudgetsCommand, { AccountId: '123456789012', NextToken: undefined })
      .resolves({ Budgets: [awsBudget('a')], NextToken: 'page2' })
      .on(DescribeBudgetsCommand, { AccountId: '123456789012', NextToken: 'page2' })
      .resolves({ Budgets: [awsBudget('b')] });
    // Act
    const all = await describeAllBudgets(new BudgetsClient({ region: 'us-east-1' }), '123456789012');
    // Assess
    expect(all.map((b) => b.name)).toEqual(['a', 'b']);
    expect(budgetsMock).toHaveReceivedCommandTimes(DescribeBudgetsCommand, 2);
    expect(budgetsMock).toHaveReceivedNthCommandWith(2, DescribeBudgetsCommand, {
      AccountId: '123456789012',
      NextToken: 'page2',
    });
  });
});

describe('Function: readWatchedBudgets', () => {
  it('returns the watched budgets and reports the missing ones', async () => {
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [awsBudget('ml'), awsBudget('other')] });
    const w = await readWatchedBudgets(new BudgetsClient({ region: 'us-east-1' }), '123456789012', ['ml', 'gone']);
    expect([...w.found.keys()]).toEqual(['ml']);
    expect(w.missing).toEqual(['gone']);
  });

  it('makes no call when nothing is watched', async () => {
    await readWatchedBudgets(new BudgetsClient({ region: 'us-east-1' }), '123456789012', []);
    expect(budgetsMock).toHaveReceivedCommandTimes(DescribeBudgetsCommand, 0);
  });
});
