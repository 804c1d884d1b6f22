import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { setKeep } from '../../../lambda/adapters/keep-store';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { formatBudgetsText } from '../../../lambda/cli/format/budgets';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { monthlySavingsOfStop } from '../../../lambda/core/savings/calculators';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import { BudgetRunIncompleteError, type BudgetsSummary, budgetsCapability } from '../../../lambda/services/budgets';
import { TEST_NOW, testContext } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);

const SCHEDULE_EVENT = { source: 'ml-cost-guard.schedule' };
const snsEvent = (name: string) => ({
  Records: [
    {
      EventSource: 'aws:sns',
      Sns: { Message: `AWS Budget Notification\n\nBudget Name: ${name}\nAlert Type: ACTUAL\nAlert Threshold: 80%` },
    },
  ],
});

let server: SlackTestServer;
let table: FakeStateTable;

beforeEach(async () => {
  budgetsMock.reset();
  ec2Mock.reset();
  table = fakeStateTable();
  server = await startSlackServer();
});
afterEach(async () => {
  table.mock.restore();
  await server.close();
});

const CONFIG: CostGuardConfigInput = {
  budgets: { action: 'stop-non-essential', items: [{ name: 'ml-platform', scopeTags: { team: 'ml' } }] },
};

function context(o: { config?: CostGuardConfigInput; now?: Date; dryRun?: boolean; stateTable?: boolean } = {}) {
  return testContext({
    config: o.config ?? CONFIG,
    ...(o.now ? { now: o.now } : {}),
    ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    notifier: new SlackNotifier({
      token: 'xoxb-test',
      channel: '#c',
      apiUrl: server.url,
      retries: 1,
      minRetryDelayMs: 5,
    }),
    ...(o.stateTable === false ? {} : { stateTableName: 'state' }),
  });
}

function givenBudget(actual: number, forecast?: number, name = 'ml-platform') {
  budgetsMock.on(DescribeBudgetsCommand).resolves({
    Budgets: [
      {
        BudgetName: name,
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '1000', Unit: 'USD' },
        CalculatedSpend: {
          ActualSpend: { Amount: String(actual), Unit: 'USD' },
          ...(forecast !== undefined ? { ForecastedSpend: { Amount: String(forecast), Unit: 'USD' } } : {}),
        },
        TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
}

let ec2: FakeEc2;

/** Six running instances of two teams; the one-time Spot instance cannot be stopped. */
function givenInstances() {
  const ml = (extra: Record<string, string> = {}) => ({ team: 'ml', ...extra });
  ec2 = new FakeEc2({
    instances: [
      fakeInstance('i-gpu', { tags: ml() }),
      fakeInstance('i-gpu-spot', { type: 'g4dn.xlarge', tags: ml(), lifecycle: 'spot', spotType: 'one-time' }),
      fakeInstance('i-essential', { tags: ml({ 'cost-guard:essential': 'True' }) }),
      fakeInstance('i-optout', { type: 'p4d.24xlarge', tags: ml({ 'cost-guard:opt-out': 'TRUE' }) }),
      fakeInstance('i-cpu', { type: 'm5.large', tags: ml() }),
      fakeInstance('i-other-team', { tags: { team: 'search' } }),
    ],
  }).install(ec2Mock);
}

/** Every instance ID the guard asked EC2 to stop, once each. */
const askedToStop = () =>
  [...new Set(ec2Mock.commandCalls(StopInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []))].sort();

const postedText = () =>
  server
    .posts()
    .map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }))
    .join('\n');

const budget = (s: BudgetsSummary, name = 'ml-platform') => s.budgets.find((b) => b.name === name)!;

describe('Function: budgetsCapability.run', () => {
  it('checks the budget, records the percentage and posts nothing under the alert threshold', async () => {
    // Prepare
    givenBudget(500);
    const ctx = context();
    // Act
    const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
    // Assess
    expect(server.posts()).toHaveLength(0);
    expect(ctx.metrics.value('BudgetsChecked')).toBe(1);
    expect(ctx.metrics.points).toContainEqual({
      name: 'PercentUsed',
      value: 50,
      unit: 'Percent',
      dimensions: { Budget: 'ml-platform' },
    });
    expect(ctx.metrics.value('AlertsSent')).toBe(0);
    expect(budgetsMock).toHaveReceivedCommandWith(DescribeBudgetsCommand, { AccountId: '123456789012' });
    expect(budget(summary).crossed).toEqual([]);
  });

  it('alerts once at exactly the alert threshold, not again in the same period, again in the next', async () => {
    // Prepare
    givenBudget(800, 950);
    // Act
    const first = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    const second = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    const nextMonth = await budgetsCapability.run(context({ now: new Date('2026-12-02T08:00:00Z') }), SCHEDULE_EVENT);
    // Assess
    expect(budget(first).alerted).toEqual(['alert-80']);
    expect(budget(second).alerted).toEqual([]);
    expect(budget(second).alreadySent).toEqual(['alert-80']);
    expect(budget(nextMonth).alerted).toEqual(['alert-80']);
    expect(server.posts()).toHaveLength(2);
    const text = postedText();
    expect(text).toContain('Budget ml-platform at 80.0% (alert threshold 80%)');
    expect(text).toContain('$800.00');
    expect(text).toContain('$950.00 (95.0%)');
    expect(text).toContain('16 (period 2026-11)');
    expect(text).toContain('details?name=ml-platform');
    expect(table.get('budget#ml-platform', '2026-11#alert-80')).toMatchObject({ status: 'sent' });
    expect(table.get('budget#ml-platform', '2026-12#alert-80')).toMatchObject({ status: 'sent' });
  });

  it('retries a 429 after Retry-After and marks the alert sent', async () => {
    // Prepare
    givenBudget(850);
    server.script.push({ kind: 'rate-limited', retryAfterSeconds: 0 });
    const ctx = context();
    // Act
    const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
    // Assess
    expect(server.posts()).toHaveLength(2);
    expect(budget(summary).alerted).toEqual(['alert-80']);
    expect(ctx.metrics.value('AlertsSent')).toBe(1);
    expect(table.get('budget#ml-platform', '2026-11#alert-80')).toMatchObject({
      status: 'sent',
      slackTs: expect.stringMatching(/^1700000000\./),
    });
  });

  it.each([
    [
      'a 500',
      [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 500 },
      ] as const,
    ],
    ['ok:false', [{ kind: 'slack-error', error: 'channel_not_found' }] as const],
  ])(
    'leaves the alert unsent and fails the run when Slack answers %s; the re-run sends exactly once',
    async (_, script) => {
      // Prepare
      givenBudget(850);
      server.script.push(...script);
      // Act
      const failed = budgetsCapability.run(context(), SCHEDULE_EVENT);
      // Assess
      await expect(failed).rejects.toBeInstanceOf(BudgetRunIncompleteError);
      const error = (await failed.catch((e: unknown) => e)) as BudgetRunIncompleteError;
      expect(budget(error.summary).deliveryFailed).toEqual(['alert-80']);
      expect(table.get('budget#ml-platform', '2026-11#alert-80')).toMatchObject({ status: 'failed' });
      // Act: Slack is back; the Lambda retry and a later scheduled run.
      const postsBefore = server.posts().length;
      const retry = await budgetsCapability.run(context(), SCHEDULE_EVENT);
      const later = await budgetsCapability.run(context(), SCHEDULE_EVENT);
      // Assess
      expect(budget(retry).alerted).toEqual(['alert-80']);
      expect(budget(later).alerted).toEqual([]);
      expect(server.posts().length - postsBefore).toBe(1);
      expect(table.get('budget#ml-platform', '2026-11#alert-80')).toMatchObject({ status: 'sent' });
    },
  );

  it('lets exactly one of two concurrent runs (schedule and SNS) post', async () => {
    // Prepare
    givenBudget(850);
    // Act
    const [a, b] = await Promise.all([
      budgetsCapability.run(context(), SCHEDULE_EVENT),
      budgetsCapability.run(context(), snsEvent('ml-platform')),
    ]);
    // Assess
    expect(server.posts()).toHaveLength(1);
    expect([...budget(a).alerted, ...budget(b).alerted]).toEqual(['alert-80']);
  });

  it('runs the same code for an SNS notification as for the schedule', async () => {
    // Prepare
    givenBudget(850, 1100);
    // Act
    const fromSchedule = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    const schedulePosts = server.posts();
    table.items.clear();
    const fromSns = await budgetsCapability.run(context(), snsEvent('ml-platform'));
    // Assess
    expect(fromSns.trigger).toBe('sns');
    expect(fromSns.notifiedBudgets).toEqual(['ml-platform']);
    expect(fromSns.budgets).toEqual(fromSchedule.budgets);
    expect(server.posts().slice(schedulePosts.length)).toEqual(schedulePosts);
    expect(budgetsMock).toHaveReceivedCommandTimes(DescribeBudgetsCommand, 2);
  });

  it('notes an SNS notification for a budget it does not watch, and still checks the watched ones', async () => {
    givenBudget(100);
    const summary = await budgetsCapability.run(context(), snsEvent('someone-else'));
    expect(summary.notes.join('\n')).toContain("SNS notification for budget 'someone-else'");
    expect(budgetsMock).toHaveReceivedCommandTimes(DescribeBudgetsCommand, 1);
  });

  it('warns once per period when the forecast is over 100%', async () => {
    // Prepare
    givenBudget(300, 1100);
    // Act
    const first = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    const second = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    // Assess
    expect(budget(first).alerted).toEqual(['forecast-100']);
    expect(budget(second).alerted).toEqual([]);
    expect(server.posts()).toHaveLength(1);
    expect(postedText()).toContain('is forecast to reach 110.0% of its limit');
  });

  describe('at the action threshold', () => {
    it('stops the running non-essential GPU instances in scope, tags them and reports $/h', async () => {
      // Prepare
      givenBudget(950);
      givenInstances();
      const ctx = context();
      // Act
      const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
      // Assess: the scope is asked of EC2, and only the in-scope, unprotected GPU instances were asked to stop.
      expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'tag:team', Values: ['ml'] },
        ],
      });
      expect(askedToStop()).toEqual(['i-gpu', 'i-gpu-spot']);
      expect(ec2.get('i-gpu')).toMatchObject({
        state: 'stopped',
        tags: {
          team: 'ml',
          'cost-guard:stopped-by': 'budget-guard',
          'cost-guard:stopped-at': TEST_NOW.toISOString(),
          'cost-guard:stopped-budget': 'ml-platform',
        },
      });
      // The one-time Spot instance failed: reported, its tags removed again, the other still stopped.
      expect(ec2.get('i-gpu-spot')).toMatchObject({ state: 'running', tags: { team: 'ml' } });
      expect(Object.keys(ec2.get('i-gpu-spot').tags)).toEqual(['team']);
      for (const id of ['i-essential', 'i-optout', 'i-cpu', 'i-other-team']) expect(ec2.get(id).state).toBe('running');
      const stops = budget(summary).stops;
      expect(stops.find((s) => s.instanceId === 'i-gpu')).toMatchObject({ status: 'done' });
      expect(stops.find((s) => s.instanceId === 'i-gpu-spot')).toMatchObject({
        status: 'failed',
        errorCode: 'UnsupportedOperation',
        note: expect.stringContaining('one-time Spot'),
      });
      expect(budget(summary).skipped).toEqual({ essential: 1, 'opt-out': 1, 'not-gpu': 1 });
      // Savings from the savings model, in the summary, metrics and action records.
      const expected = monthlySavingsOfStop('g5.xlarge', ctx.pricing)!;
      expect(summary.monthlySavingsUsd).toBeCloseTo(expected.monthlyUsd, 2);
      expect(ctx.metrics.value('InstancesStopped')).toBe(1);
      expect(ctx.metrics.value('EstimatedMonthlySavingsUsd')).toBeCloseTo(expected.monthlyUsd, 2);
      // The Lambda runtime writes this stop to the savings ledger from the action record and its dollars.
      expect(summary.actions.find((a) => a.kind === 'stop' && a.target === 'i-gpu')).toMatchObject({
        status: 'done',
        monthlySavingsUsd: expected.monthlyUsd,
      });
      // One message announcing both thresholds and the stops about to be made, then one with the stop that failed.
      expect(server.posts()).toHaveLength(2);
      expect([...budget(summary).alerted].sort()).toEqual(['action-95', 'alert-80']);
      const [alert, result] = server.posts().map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }));
      expect(alert).toContain('Budget ml-platform at 95.0% (action threshold 95%)');
      expect(alert).toContain(
        `\`i-gpu\` g5.xlarge (us-east-1): stopping now, saves $${expected.hourlyUsd.toFixed(2)}/h`,
      );
      expect(alert).toContain('Instance-store (local NVMe) data is lost on stop: g4dn.xlarge, g5.xlarge have');
      expect(result).toContain('Budget ml-platform: 1 of 2 announced instance(s) stopped');
      expect(result).toContain('`i-gpu-spot` g4dn.xlarge (us-east-1): *not stopped* (UnsupportedOperation');
    });

    it('stops nothing again in the same period', async () => {
      givenBudget(960);
      givenInstances();
      await budgetsCapability.run(context(), SCHEDULE_EVENT);
      ec2Mock.resetHistory();
      const second = await budgetsCapability.run(context(), SCHEDULE_EVENT);
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
      expect([...budget(second).alreadySent].sort()).toEqual(['action-95', 'alert-80']);
    });

    it('stops non-GPU instances too when stopScope is all', async () => {
      givenBudget(960);
      givenInstances();
      await budgetsCapability.run(
        context({ config: { budgets: { ...CONFIG.budgets, stopScope: 'all' } } }),
        SCHEDULE_EVENT,
      );
      expect(askedToStop()).toEqual(['i-cpu', 'i-gpu', 'i-gpu-spot']);
      expect(ec2.get('i-cpu').state).toBe('stopped');
    });

    it('changes nothing in dry-run and says what would be stopped', async () => {
      // Prepare
      givenBudget(960);
      givenInstances();
      // Act
      const summary = await budgetsCapability.run(context({ dryRun: true }), SCHEDULE_EVENT);
      // Assess
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
      expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0);
      expect(summary.mode).toBe('dry-run');
      expect(budget(summary).stops.map((s) => s.status)).toEqual(['dry-run', 'dry-run']);
      expect(postedText()).toContain('*Dry run:* nothing was changed. With `stop-non-essential` it would stop 2');
      // A later real run still acts: the dry-run record has its own key.
      expect(table.get('budget#ml-platform', '2026-11#action-95#dry-run')).toMatchObject({ status: 'sent' });
      await budgetsCapability.run(context(), SCHEDULE_EVENT);
      expect(askedToStop()).toEqual(['i-gpu', 'i-gpu-spot']);
      expect(ec2.get('i-gpu').state).toBe('stopped');
    });

    it("stops nothing with action 'notify' and says what it would stop", async () => {
      givenBudget(960);
      givenInstances();
      const summary = await budgetsCapability.run(
        context({ config: { budgets: { ...CONFIG.budgets, action: 'notify' } } }),
        SCHEDULE_EVENT,
      );
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
      expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0);
      expect(budget(summary).stops.map((s) => s.status)).toEqual(['would-stop', 'would-stop']);
      expect(postedText()).toContain("*budgets.action is 'notify':* nothing was stopped");
    });

    it('stops nothing while Slack does not accept the alert; the retry announces, then stops', async () => {
      // Prepare
      givenBudget(960);
      givenInstances();
      server.script.push({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
      // Act
      await expect(budgetsCapability.run(context(), SCHEDULE_EVENT)).rejects.toBeInstanceOf(BudgetRunIncompleteError);
      // Assess: no tag, no stop without a warning a person could read
      expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
      expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0);
      expect(ec2.get('i-gpu').state).toBe('running');
      // Act: the Lambda retry, Slack back
      const retry = await budgetsCapability.run(context(), SCHEDULE_EVENT);
      // Assess
      expect([...budget(retry).alerted].sort()).toEqual(['action-95', 'alert-80']);
      expect(budget(retry).stops).toEqual([
        expect.objectContaining({ instanceId: 'i-gpu', status: 'done' }),
        expect.objectContaining({ instanceId: 'i-gpu-spot', status: 'failed', errorCode: 'UnsupportedOperation' }),
      ]);
      expect(postedText()).toContain('`i-gpu` g5.xlarge (us-east-1): stopping now');
      expect(ec2.effects.get('i-gpu')).toBe(1);
    });
  });

  it('reports a missing budget once a period, and a non-USD one', async () => {
    // Prepare
    budgetsMock.on(DescribeBudgetsCommand).resolves({
      Budgets: [
        {
          BudgetName: 'euro',
          BudgetType: 'COST',
          TimeUnit: 'MONTHLY',
          BudgetLimit: { Amount: '1000', Unit: 'EUR' },
        },
      ],
    });
    const config = { budgets: { items: [{ name: 'gone' }, { name: 'euro' }] } };
    // Act
    const first = await budgetsCapability.run(context({ config }), SCHEDULE_EVENT);
    const second = await budgetsCapability.run(context({ config }), SCHEDULE_EVENT);
    // Assess
    expect(budget(first, 'gone').problems.map((p) => p.kind)).toEqual(['missing']);
    expect(budget(first, 'euro').problems.map((p) => p.kind)).toEqual(['currency']);
    expect(first.notes.join('\n')).toContain("budget 'gone' was not found");
    expect(budget(second, 'gone').alerted).toEqual([]);
    expect(server.posts()).toHaveLength(2);
  });

  it('keeps dry-run alert records apart, so the first real run still alerts', async () => {
    // Prepare
    givenBudget(850);
    // Act
    await budgetsCapability.run(context({ dryRun: true }), SCHEDULE_EVENT);
    const real = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    // Assess
    expect(table.get('budget#ml-platform', '2026-11#alert-80#dry-run')).toMatchObject({ status: 'sent' });
    expect(budget(real).alerted).toEqual(['alert-80']);
    expect(server.posts().map((p) => p.text)).toEqual([
      '[dry run] Budget ml-platform at 85.0% (alert threshold 80%)',
      'Budget ml-platform at 85.0% (alert threshold 80%)',
    ]);
  });

  it('writes no record when a dry run only prints (cost-guard plan)', async () => {
    // Prepare
    givenBudget(850);
    const ctx = testContext({ config: CONFIG, dryRun: true, stateTableName: 'state' });
    // Act
    const summary = await budgetsCapability.run(ctx, { source: 'cost-guard.cli' });
    // Assess
    expect(table.items.size).toBe(0);
    expect(ctx.printed.join('\n')).toContain('Budget ml-platform at 85.0%');
    expect(summary.notes.join('\n')).toContain('no alert records are written');
  });

  it('records printed alerts apart when no Slack token is configured, so Slack gets them later', async () => {
    // Prepare
    givenBudget(850);
    // Act
    await budgetsCapability.run(testContext({ config: CONFIG, stateTableName: 'state' }), SCHEDULE_EVENT);
    const withToken = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    // Assess
    expect(table.get('budget#ml-platform', '2026-11#alert-80#console')).toMatchObject({ status: 'sent' });
    expect(budget(withToken).alerted).toEqual(['alert-80']);
    expect(server.posts()).toHaveLength(1);
  });

  it('says alerts are not de-duplicated without a state table, and alerts on every run', async () => {
    givenBudget(850);
    const first = await budgetsCapability.run(context({ stateTable: false }), SCHEDULE_EVENT);
    await budgetsCapability.run(context({ stateTable: false }), SCHEDULE_EVENT);
    expect(first.deduplicated).toBe(false);
    expect(first.notes.join('\n')).toContain('alerts are not de-duplicated');
    expect(server.posts()).toHaveLength(2);
    expect(table.items.size).toBe(0);
  });

  it('does nothing but say so when no budget is watched', async () => {
    const summary = await budgetsCapability.run(context({ config: {} }), SCHEDULE_EVENT);
    expect(summary.notes.join('\n')).toContain('budgets.items is empty');
    expect(budgetsMock).toHaveReceivedCommandTimes(DescribeBudgetsCommand, 0);
  });

  it('formats a readable report', async () => {
    givenBudget(960);
    givenInstances();
    const text = formatBudgetsText(await budgetsCapability.run(context(), SCHEDULE_EVENT));
    expect(text).toContain('ml-platform: $960.00 of $1,000.00 (96.0%)');
    expect(text).toContain('stopped i-gpu g5.xlarge us-east-1');
    expect(text).toContain('FAILED i-gpu-spot');
  });
});

describe('Function: budgetsCapability.run, fleets larger than one run stops', () => {
  /** `n` running in-scope g5.xlarge instances. */
  function givenFleet(n: number) {
    ec2 = new FakeEc2({
      instances: Array.from({ length: n }, (_, i) =>
        fakeInstance(`i-${String(i).padStart(17, '0')}`, { tags: { team: 'ml' } }),
      ),
    }).install(ec2Mock);
  }
  const withLimit = (maxStopsPerRun: number): CostGuardConfigInput => ({
    budgets: { ...CONFIG.budgets, maxStopsPerRun },
  });
  const HOUR = 3_600_000;

  it('stops at most maxStopsPerRun, says how many are left, and goes on in the next run with a notice first', async () => {
    // Prepare
    givenBudget(960);
    givenFleet(7);
    // Act
    const first = await budgetsCapability.run(context({ config: withLimit(3) }), SCHEDULE_EVENT);
    const second = await budgetsCapability.run(
      context({ config: withLimit(3), now: new Date(TEST_NOW.getTime() + HOUR) }),
      SCHEDULE_EVENT,
    );
    const third = await budgetsCapability.run(
      context({ config: withLimit(3), now: new Date(TEST_NOW.getTime() + 2 * HOUR) }),
      SCHEDULE_EVENT,
    );
    const fourth = await budgetsCapability.run(
      context({ config: withLimit(3), now: new Date(TEST_NOW.getTime() + 3 * HOUR) }),
      SCHEDULE_EVENT,
    );
    // Assess
    expect([first, second, third].map((s) => s.instancesStopped)).toEqual([3, 3, 1]);
    expect([first, second, third].map((s) => budget(s).deferred)).toEqual([4, 1, 0]);
    expect([...budget(first).alerted].sort()).toEqual(['action-95', 'alert-80']);
    expect(budget(second).alerted).toEqual([]);
    expect(budget(second).stoppedEarlier).toBe(3);
    expect([...budget(fourth).alreadySent].sort()).toEqual(['action-95', 'alert-80']);
    expect(fourth.instancesStopped).toBe(0);
    expect([...ec2.effects.values()]).toEqual(Array(7).fill(1));
    expect(server.posts().map((p) => p.text)).toEqual([
      'Budget ml-platform at 96.0% (action threshold 95%)',
      'Budget ml-platform still at 96.0%: stopping 3 more instance(s)',
      'Budget ml-platform still at 96.0%: stopping 1 more instance(s)',
    ]);
    expect(postedText()).toContain('4 more to stop next run');
    expect(formatBudgetsText(first)).toContain('4 more to stop next run');
    expect(table.get('budget#ml-platform', '2026-11#action-95')).toMatchObject({ status: 'sent' });
  });

  it('with slack.interactivity puts Restore under each stop and "Keep this one running" under the next ones, kept until the period ends', async () => {
    // Prepare
    givenBudget(960);
    givenFleet(5);
    const config: CostGuardConfigInput = {
      ...withLimit(2),
      slack: { interactivity: true, teamId: 'T0TEST001' },
    };
    // Act
    await budgetsCapability.run(context({ config }), SCHEDULE_EVENT);
    // Assess
    const blocks = server.posts().flatMap((p) => p.blocks as Block[]);
    const values = blocks
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements.map((e) => JSON.parse((e as { value: string }).value) as Record<string, unknown>));
    expect(values.filter((v) => v.kind === 'restore').map((v) => v.instanceId)).toEqual([
      'i-00000000000000000',
      'i-00000000000000001',
    ]);
    const keeps = values.filter((v) => v.kind === 'keep-running');
    expect(keeps.map((v) => v.instanceId)).toEqual([
      'i-00000000000000002',
      'i-00000000000000003',
      'i-00000000000000004',
    ]);
    // TEST_NOW is 2026-11-15 12:00 UTC: the period ends 2026-12-01 00:00, 372 hours later, over maxKeepHours (168).
    expect(new Set(keeps.map((v) => v.hours))).toEqual(new Set([168]));
    expect(keeps.every((v) => v.budget === 'ml-platform')).toBe(true);
  });

  it('never stops again in the period what an earlier run stopped and someone started again', async () => {
    // Prepare: the first run stops three of seven; someone restores one of them
    givenBudget(960);
    givenFleet(7);
    const first = await budgetsCapability.run(context({ config: withLimit(3) }), SCHEDULE_EVENT);
    const restored = budget(first).stops[0]!.instanceId;
    ec2.get(restored).state = 'running';
    // Act: the next runs go on with the rest
    const next = async (hours: number) =>
      budgetsCapability.run(
        context({ config: withLimit(3), now: new Date(TEST_NOW.getTime() + hours * HOUR) }),
        SCHEDULE_EVENT,
      );
    const second = await next(1);
    const third = await next(2);
    // Assess
    expect(ec2.get(restored).state).toBe('running');
    expect([second, third].flatMap((s) => budget(s).stops.map((st) => st.instanceId))).not.toContain(restored);
    expect(second.instancesStopped + third.instancesStopped).toBe(4);
    expect(budget(third).stoppedEarlier).toBe(6);
  });

  it('lets an SNS run in the same scheduled period stop nothing beyond the per-period limit', async () => {
    // Prepare
    givenBudget(960);
    givenFleet(7);
    // Act: the scheduled run, then an AWS Budgets notification ten minutes later (same hour)
    const scheduled = await budgetsCapability.run(context({ config: withLimit(3) }), SCHEDULE_EVENT);
    const sns = await budgetsCapability.run(
      context({ config: withLimit(3), now: new Date(TEST_NOW.getTime() + 10 * 60_000) }),
      snsEvent('ml-platform'),
    );
    // Assess
    expect(scheduled.instancesStopped).toBe(3);
    expect(sns.instancesStopped).toBe(0);
    expect(budget(sns).deferred).toBe(4);
    expect(sns.notes.join('\n')).toContain('over the per-period limit');
    expect(ec2.effects.size).toBe(3);
  });

  it('stops early when the Lambda runs short of time, removes the tags it set, and says what is left', async () => {
    // Prepare: time for the plan and the first chunk of stops, then under the margin
    givenBudget(960);
    givenFleet(25);
    let checks = 0;
    const ctx = Object.assign(context(), { remainingTimeMs: () => (++checks <= 2 ? 120_000 : 10_000) });
    // Act
    const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
    // Assess: one chunk of 10 stopped, 15 left (tagged for the announcement, untagged again), Slack told
    expect(summary.instancesStopped).toBe(10);
    expect(budget(summary).deferred).toBe(15);
    const untouched = ec2.instances.filter((i) => i.state === 'running');
    expect(untouched).toHaveLength(15);
    for (const i of untouched) expect(Object.keys(i.tags)).toEqual(['team']);
    expect(server.posts().at(-1)!.text).toBe('Budget ml-platform: 10 of 25 announced instance(s) stopped');
    expect(postedText()).toContain("The run's time ran short: 15 left for the next run.");
    // ...and the next run goes on with them
    const next = await budgetsCapability.run(context({ now: new Date(TEST_NOW.getTime() + HOUR) }), SCHEDULE_EVENT);
    expect(next.instancesStopped).toBe(15);
  });

  it('announces and stops nothing when the Lambda is already short of time, and leaves the action for the next run', async () => {
    // Prepare
    givenBudget(960);
    givenFleet(4);
    const ctx = Object.assign(context(), { remainingTimeMs: () => 5_000 });
    // Act
    const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0);
    expect(budget(summary).deferred).toBe(4);
    expect(postedText()).toContain('nothing stopped in this run; 4 in scope to stop next run');
    const next = await budgetsCapability.run(context({ now: new Date(TEST_NOW.getTime() + HOUR) }), SCHEDULE_EVENT);
    expect(next.instancesStopped).toBe(4);
  });

  it('holds the action of a budget whose live limit differs from limitUsd, and still sends its other alerts', async () => {
    // Prepare: configured $900; the live budget says $1,000
    givenBudget(960);
    givenFleet(2);
    const config: CostGuardConfigInput = {
      budgets: {
        action: 'stop-non-essential',
        items: [{ name: 'ml-platform', limitUsd: 900, scopeTags: { team: 'ml' } }],
      },
    };
    // Act
    const summary = await budgetsCapability.run(context({ config }), SCHEDULE_EVENT);
    // Assess
    expect(ec2Mock).toHaveReceivedCommandTimes(StopInstancesCommand, 0);
    expect(budget(summary).held).toEqual(['action-95']);
    expect(budget(summary).alerted).toEqual(['limit-mismatch', 'alert-80']);
    expect(server.posts().map((p) => p.text)).toEqual([
      'Budget guard stops nothing for budget ml-platform: its limit is not the configured one',
      'Budget ml-platform at 96.0% (alert threshold 80%)',
    ]);
    expect(formatBudgetsText(summary)).toContain('live limit 1000 USD is not the configured $900.00');
  });
});

describe('Function: budgetsCapability.run, keeps (issue 12)', () => {
  it('never stops an instance someone kept ("keep this one running"), and stops the others as before', async () => {
    // Prepare: i-gpu kept for 4 hours from Slack.
    givenBudget(960);
    givenInstances();
    await setKeep(testContext().clients.dynamodb(), 'state', {
      instanceId: 'i-gpu',
      region: 'us-east-1',
      until: new Date(TEST_NOW.getTime() + 4 * 3_600_000).toISOString(),
      by: 'U0ALICE',
      setAt: TEST_NOW.toISOString(),
      source: 'slack',
      guard: 'budgets',
    });
    // Act
    const kept = await budgetsCapability.run(context(), SCHEDULE_EVENT);
    // Assess
    expect(askedToStop()).not.toContain('i-gpu');
    expect(ec2.get('i-gpu').state).toBe('running');
    expect(budget(kept).skipped).toMatchObject({ 'keep-until': 1 });

    expect(ec2.get('i-gpu-spot').state).toBe('running'); // one-time Spot: failed, as without the keep
    expect(askedToStop()).toEqual(['i-gpu-spot']);
  });
});
