/**
 * The budget guard of a payer account: a budget item's `accounts` (linked accounts) makes the action threshold reach
 * into those accounts through their spoke role, with the same rules as in the guard's own account.
 */
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import { BudgetRunIncompleteError, type BudgetsSummary, budgetsCapability } from '../../../lambda/services/budgets';
import { givenSpokeRoles, routeEc2ByAccount } from '../../helpers/accounts';
import { testContext } from '../../helpers/context';
import { FakeEc2, type FakeInstance, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);
const stsMock = mockClient(STSClient);

const HUB = '123456789012';
const A = '111111111111';
const B = '222222222222';
const SCHEDULE_EVENT = { source: 'ml-cost-guard.schedule' };

let server: SlackTestServer;
let table: FakeStateTable;

beforeEach(async () => {
  budgetsMock.reset();
  ec2Mock.reset();
  stsMock.reset();
  table = fakeStateTable();
  server = await startSlackServer();
  budgetsMock.on(DescribeBudgetsCommand).resolves({
    Budgets: [
      {
        BudgetName: 'org-ml',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '1000', Unit: 'USD' },
        CalculatedSpend: { ActualSpend: { Amount: '960', Unit: 'USD' } },
        TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
});
afterEach(async () => {
  table.mock.restore();
  await server.close();
});

function config(
  o: { accounts?: string[]; maxStopsPerRun?: number; interactivity?: boolean } = {},
): CostGuardConfigInput {
  return {
    accounts: { mode: 'organization', organizationId: 'o-a1b2c3d4e5', accountIds: [A, B] },
    slack: o.interactivity ? { interactivity: true, teamId: 'T0123ABCD' } : {},
    budgets: {
      action: 'stop-non-essential',
      ...(o.maxStopsPerRun !== undefined ? { maxStopsPerRun: o.maxStopsPerRun } : {}),
      items: [{ name: 'org-ml', scopeTags: { team: 'ml' }, ...(o.accounts ? { accounts: o.accounts } : {}) }],
    },
  };
}

function context(cfg: CostGuardConfigInput) {
  return testContext({
    config: cfg,
    notifier: new SlackNotifier({
      token: 'xoxb-test',
      channel: '#c',
      apiUrl: server.url,
      retries: 1,
      minRetryDelayMs: 5,
    }),
    stateTableName: 'state',
    accountId: HUB,
  });
}

const ml = (extra: Record<string, string> = {}) => ({ team: 'ml', ...extra });
/** One account's fleet: two stoppable GPU instances, one essential, one opted out, one out of scope. */
function fleet(prefix: string, extra: FakeInstance[] = []): FakeEc2 {
  return new FakeEc2({
    instances: [
      fakeInstance(`i-${prefix}-gpu1`, { tags: ml() }),
      fakeInstance(`i-${prefix}-gpu2`, { type: 'g4dn.xlarge', tags: ml() }),
      fakeInstance(`i-${prefix}-essential`, { tags: ml({ 'cost-guard:essential': 'true' }) }),
      fakeInstance(`i-${prefix}-optout`, { tags: ml({ 'cost-guard:opt-out': 'true' }) }),
      fakeInstance(`i-${prefix}-other`, { tags: { team: 'search' } }),
      ...extra,
    ],
  });
}

const stoppedIds = (fake: FakeEc2) => fake.changes.filter((c) => c.operation === 'StopInstances').map((c) => c.id);
const report = (s: BudgetsSummary) => s.budgets.find((b) => b.name === 'org-ml')!;
const postedText = () =>
  server
    .posts()
    .map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }))
    .join('\n');

async function runFailing(cfg: CostGuardConfigInput): Promise<BudgetRunIncompleteError> {
  const error = await budgetsCapability.run(context(cfg), SCHEDULE_EVENT).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BudgetRunIncompleteError);
  return error as BudgetRunIncompleteError;
}

describe('Function: budgetsCapability.run with linked accounts', () => {
  it('stops in the reachable account, reports the one denying AssumeRole, touches nothing in the hub, and fails the run', async () => {
    // Prepare
    const hub = fleet('hub');
    const a = fleet('a');
    const b = fleet('b');
    routeEc2ByAccount(ec2Mock, hub, { [A]: a, [B]: b });
    const roles = givenSpokeRoles(stsMock, { denied: [B] });
    // Act
    const error = await runFailing(config({ accounts: [A, B] }));
    // Assess: A's non-essential GPU instances in scope stop; nothing else anywhere.
    expect(stoppedIds(a).sort()).toEqual(['i-a-gpu1', 'i-a-gpu2']);
    expect(a.get('i-a-gpu1').tags).toMatchObject({ 'cost-guard:stopped-budget': 'org-ml' });
    expect(stoppedIds(b)).toEqual([]);
    expect(b.calls).toEqual([]);
    expect(stoppedIds(hub)).toEqual([]);
    expect(hub.calls.filter((c) => c.operation === 'DescribeInstances')).toEqual([]);
    expect(roles.assumed.sort()).toEqual([A, B]);
    // The summary names the denied account and why; the run fails so the errors alarm fires.
    const r = report(error.summary);
    expect(r.unreachableAccounts).toEqual([{ accountId: B, reason: expect.stringContaining('AccessDenied') }]);
    expect(error.message).toContain(`org-ml/account-${B}`);
    expect(r.stops.map((s) => [s.accountId, s.instanceId, s.status]).sort()).toEqual([
      [A, 'i-a-gpu1', 'done'],
      [A, 'i-a-gpu2', 'done'],
    ]);
    // Each action record names the account it acted in.
    const stopRecords = error.summary.actions.filter((x) => x.kind === 'stop');
    expect(stopRecords.map((x) => x.accountId)).toEqual([A, A]);
    // The alert says where each instance runs and which account was not reached.
    const text = postedText();
    expect(text).toContain(`\`i-a-gpu1\` g5.xlarge (us-east-1, account ${A}): stopping now`);
    expect(text).toContain('1 linked account(s) not reached');
    expect(text).toContain(`account ${B}: cannot assume arn:aws:iam::${B}:role/ml-cost-guard-spoke (AccessDenied)`);
    expect(text).toContain('start the instances of linked accounts in their own account');
  });

  it('goes on in a later run once the denied account is reachable, without stopping the first account again', async () => {
    // Prepare
    const a = fleet('a');
    const b = fleet('b');
    routeEc2ByAccount(ec2Mock, fleet('hub'), { [A]: a, [B]: b });
    givenSpokeRoles(stsMock, { denied: [B] });
    await runFailing(config({ accounts: [A, B] }));
    // Someone starts one of A's instances again: the guard stopped it once this period, it stays running.
    a.get('i-a-gpu1').state = 'running';
    stsMock.reset();
    givenSpokeRoles(stsMock);
    const postsBefore = server.posts().length;
    // Act
    const later = await budgetsCapability.run(context(config({ accounts: [A, B] })), SCHEDULE_EVENT);
    // Assess
    expect(stoppedIds(b).sort()).toEqual(['i-b-gpu1', 'i-b-gpu2']);
    expect(stoppedIds(a).sort()).toEqual(['i-a-gpu1', 'i-a-gpu2']);
    expect(a.get('i-a-gpu1').state).toBe('running');
    expect(report(later).unreachableAccounts).toBeUndefined();
    expect(report(later).stoppedEarlier).toBe(2);
    // Announced first, in a continuation notice of its own.
    const notice = server
      .posts()
      .slice(postsBefore)
      .map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }))
      .join('\n');
    expect(notice).toContain('still at 96.0%: stopping 2 more instance(s)');
    expect(notice).toContain(`(us-east-1, account ${B})`);
  });

  it('counts budgets.maxStopsPerRun across all accounts of the budget, dearest first', async () => {
    // Prepare
    const a = fleet('a', [fakeInstance('i-a-p4d', { type: 'p4d.24xlarge', tags: ml() })]);
    const b = fleet('b');
    routeEc2ByAccount(ec2Mock, fleet('hub'), { [A]: a, [B]: b });
    givenSpokeRoles(stsMock);
    // Act
    const summary = await budgetsCapability.run(
      context(config({ accounts: [A, B], maxStopsPerRun: 3 })),
      SCHEDULE_EVENT,
    );
    // Assess: three stops in all; the p4d first, then the two g5.xlarge (dearer than the g4dn ones).
    const stopped = [...stoppedIds(a), ...stoppedIds(b)].sort();
    expect(stopped).toEqual(['i-a-gpu1', 'i-a-p4d', 'i-b-gpu1']);
    expect(report(summary).deferred).toBe(2);
    // The per-period reservation names each instance with its account.
    const limit = [...table.items.values()].find((i) => i.pk?.S === 'limit#budgets#stops');
    expect(limit?.targets?.SS?.sort()).toEqual([`${A}/i-a-gpu1`, `${A}/i-a-p4d`, `${B}/i-b-gpu1`]);
  });

  it('tells apart instances of two accounts that carry the same ID', async () => {
    // Prepare
    const a = new FakeEc2({ instances: [fakeInstance('i-same', { tags: ml() })] });
    const b = new FakeEc2({ instances: [fakeInstance('i-same', { tags: ml() })] });
    routeEc2ByAccount(ec2Mock, new FakeEc2(), { [A]: a, [B]: b });
    givenSpokeRoles(stsMock);
    // Act
    const summary = await budgetsCapability.run(context(config({ accounts: [A, B] })), SCHEDULE_EVENT);
    // Assess
    expect(a.get('i-same').state).toBe('stopped');
    expect(b.get('i-same').state).toBe('stopped');
    expect(
      report(summary)
        .stops.map((s) => s.accountId)
        .sort(),
    ).toEqual([A, B]);
  });

  it("uses the guard's own clients for its own account in the list, without AssumeRole, and records no account", async () => {
    // Prepare
    const hub = fleet('hub');
    const a = fleet('a');
    routeEc2ByAccount(ec2Mock, hub, { [A]: a });
    const roles = givenSpokeRoles(stsMock);
    // Act
    const summary = await budgetsCapability.run(context(config({ accounts: [HUB, A] })), SCHEDULE_EVENT);
    // Assess
    expect(roles.assumed).toEqual([A]);
    expect(stoppedIds(hub).sort()).toEqual(['i-hub-gpu1', 'i-hub-gpu2']);
    expect(stoppedIds(a).sort()).toEqual(['i-a-gpu1', 'i-a-gpu2']);
    const hubStops = summary.actions.filter((x) => x.kind === 'stop' && x.target.startsWith('i-hub'));
    expect(hubStops.every((x) => x.accountId === undefined)).toBe(true);
  });

  it('puts no Slack buttons under instances of linked accounts (buttons act in the hub only)', async () => {
    // Prepare: instance IDs as EC2 gives them (the buttons refuse others).
    const hub = new FakeEc2({ instances: [fakeInstance('i-0aaaaaaaaaaaaaaa1', { tags: ml() })] });
    const a = new FakeEc2({ instances: [fakeInstance('i-0bbbbbbbbbbbbbbb1', { tags: ml() })] });
    routeEc2ByAccount(ec2Mock, hub, { [A]: a });
    givenSpokeRoles(stsMock);
    // Act
    await budgetsCapability.run(context(config({ accounts: [HUB, A], interactivity: true })), SCHEDULE_EVENT);
    // Assess: both stopped, a Restore button only under the hub's own instance.
    expect(stoppedIds(hub)).toEqual(['i-0aaaaaaaaaaaaaaa1']);
    expect(stoppedIds(a)).toEqual(['i-0bbbbbbbbbbbbbbb1']);
    const values = server
      .posts()
      .flatMap((p) => p.blocks as Block[])
      .filter((blk) => blk.type === 'actions')
      .flatMap((blk) => blk.elements.map((e) => JSON.parse((e as { value: string }).value) as Record<string, unknown>));
    expect(values.map((v) => [v.kind, v.instanceId])).toEqual([['restore', 'i-0aaaaaaaaaaaaaaa1']]);
  });

  it('publishes realized savings by account for the stops of linked accounts', async () => {
    // Prepare
    routeEc2ByAccount(ec2Mock, fleet('hub'), { [A]: fleet('a') });
    givenSpokeRoles(stsMock);
    const ctx = context(config({ accounts: [A] }));
    // Act
    const summary = await budgetsCapability.run(ctx, SCHEDULE_EVENT);
    // Assess
    const byAccount = ctx.metrics.points.filter((p) => p.name === 'RealizedMonthlySavingsUsd');
    expect(byAccount).toEqual([
      { name: 'RealizedMonthlySavingsUsd', value: summary.monthlySavingsUsd, unit: 'None', dimensions: { Account: A } },
    ]);
    expect(summary.monthlySavingsUsd).toBeGreaterThan(0);
  });

  it('without accounts, stops in its own account only and assumes no role (as before)', async () => {
    // Prepare
    const hub = fleet('hub');
    const a = fleet('a');
    routeEc2ByAccount(ec2Mock, hub, { [A]: a });
    const roles = givenSpokeRoles(stsMock);
    // Act
    const summary = await budgetsCapability.run(context(config()), SCHEDULE_EVENT);
    // Assess
    expect(roles.assumed).toEqual([]);
    expect(stoppedIds(hub).sort()).toEqual(['i-hub-gpu1', 'i-hub-gpu2']);
    expect(a.calls).toEqual([]);
    expect(summary.actions.every((x) => x.accountId === undefined)).toBe(true);
    expect(postedText()).toContain('`i-hub-gpu1` g5.xlarge (us-east-1): stopping now');
  });
});
