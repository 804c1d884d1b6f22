import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { describeAllBudgets, readWatchedBudgets, toSnapshot } from '../../../lambda/adapters/budgets';
import {
  InstanceTypeCatalog,
  instanceFilters,
  listInstances,
  tagInstance,
  untagInstance,
} from '../../../lambda/adapters/budgets-ec2';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);

beforeEach(() => {
  budgetsMock.reset();
  ec2Mock.reset();
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

describe('Function: listInstances', () => {
  it('filters by state and scope tags on the server and follows NextToken', async () => {
    // Prepare
    ec2Mock
      .on(DescribeInstancesCommand, { NextToken: undefined })
      .resolves({
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-1',
                InstanceType: 'g5.xlarge',
                State: { Name: 'running' },
                Tags: [{ Key: 'team', Value: 'ml' }],
                InstanceLifecycle: 'spot',
              },
            ],
          },
        ],
        NextToken: 'n',
      })
      .on(DescribeInstancesCommand, { NextToken: 'n' })
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-2', State: { Name: 'running' } }] }] });
    // Act
    const found = await listInstances(
      new EC2Client({ region: 'eu-west-1' }),
      'eu-west-1',
      instanceFilters(['running'], { team: 'ml' }),
    );
    // Assess
    expect(found).toEqual([
      {
        instanceId: 'i-1',
        region: 'eu-west-1',
        instanceType: 'g5.xlarge',
        state: 'running',
        tags: { team: 'ml' },
        lifecycle: 'spot',
      },
      { instanceId: 'i-2', region: 'eu-west-1', instanceType: 'unknown', state: 'running', tags: {} },
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'instance-state-name', Values: ['running'] },
        { Name: 'tag:team', Values: ['ml'] },
      ],
    });
  });
});

describe('Class: InstanceTypeCatalog', () => {
  it('detects GPUs and instance store, and still describes the others when one type is unknown', async () => {
    // Prepare: a batch with an unknown type fails as a whole; each type is then asked alone.
    ec2Mock
      .on(DescribeInstanceTypesCommand)
      .rejects(Object.assign(new Error('bad type'), { name: 'InvalidInstanceType' }))
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
    const catalog = new InstanceTypeCatalog(() => new EC2Client({ region: 'us-east-1' }));
    // Act
    await catalog.load('us-east-1', ['g5.xlarge', 'm5.large', 'x9.future', 'g5.xlarge']);
    // Assess
    expect(catalog.get('us-east-1', 'g5.xlarge')).toEqual({ gpu: true, instanceStorage: true });
    expect(catalog.get('us-east-1', 'm5.large')).toEqual({ gpu: false, instanceStorage: false });
    expect(catalog.get('us-east-1', 'x9.future')).toBeUndefined();
    expect(catalog.available('us-east-1')).toBe(true);
  });

  it('marks the region unavailable when the call is denied, and caches what it knows', async () => {
    ec2Mock.on(DescribeInstanceTypesCommand).rejects(Object.assign(new Error('no'), { name: 'UnauthorizedOperation' }));
    const catalog = new InstanceTypeCatalog(() => new EC2Client({ region: 'us-east-1' }));
    await catalog.load('us-east-1', ['g5.xlarge']);
    expect(catalog.available('us-east-1')).toBe(false);
    expect(catalog.get('us-east-1', 'g5.xlarge')).toBeUndefined();
  });
});

describe('Function: tagInstance / untagInstance', () => {
  it('writes the tags and removes only the named keys', async () => {
    ec2Mock.on(CreateTagsCommand).resolves({}).on(DeleteTagsCommand).resolves({});
    const ec2 = new EC2Client({ region: 'us-east-1' });
    await tagInstance(ec2, 'i-1', { a: '1' });
    await untagInstance(ec2, 'i-1', ['a']);
    await untagInstance(ec2, 'i-1', []);
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: ['i-1'],
      Tags: [{ Key: 'a', Value: '1' }],
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteTagsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(DeleteTagsCommand, { Resources: ['i-1'], Tags: [{ Key: 'a' }] });
  });
});
