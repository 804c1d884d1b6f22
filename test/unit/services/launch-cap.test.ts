/**
 * The budget guard's launch cap, run end to end through budgetsCapability.run and restoreInstances: AWS Budgets,
 * EC2 and IAM behind aws-sdk-client-mock, the state table in memory (conditional writes honoured), Slack a real
 * local HTTP server. Table of runs: attach at the action threshold, idempotent re-runs, period rollover, restore.
 */
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  DetachRolePolicyCommand,
  IAMClient,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoLaunchCapStore } from '../../../lambda/adapters/launch-cap-store';
import { ConsoleNotifier, SlackNotifier } from '../../../lambda/adapters/slack';
import { launchCapPolicyArn } from '../../../lambda/core/budgets/launch-cap';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import { BudgetRunIncompleteError, type BudgetsSummary, budgetsCapability } from '../../../lambda/services/budgets';
import { restoreInstances } from '../../../lambda/services/restore';
import { testContext } from '../../helpers/context';
import { FakeEc2 } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const budgetsMock = mockClient(BudgetsClient);
const ec2Mock = mockClient(EC2Client);
const iamMock = mockClient(IAMClient);

const ACCOUNT = '123456789012';
const POLICY = launchCapPolicyArn('aws', ACCOUNT, 'ml-platform');
const ROLES = ['ml-training', 'ml-research'];
const SCHEDULE_EVENT = { source: 'ml-cost-guard.schedule' };
const NOV = new Date('2026-11-15T12:00:00Z');
const NOV_LATER = new Date('2026-11-15T13:00:00Z');
const DEC = new Date('2026-12-01T02:00:00Z');

const CONFIG: CostGuardConfigInput = {
  budgets: {
    action: 'notify',
    launchCap: true,
    items: [{ name: 'ml-platform', scopeTags: { team: 'ml' }, launchCapRoles: ROLES }],
  },
};

let server: SlackTestServer;
let table: FakeStateTable;

beforeEach(async () => {
  budgetsMock.reset();
  ec2Mock.reset();
  iamMock.reset();
  iamMock.on(AttachRolePolicyCommand).resolves({});
  iamMock.on(DetachRolePolicyCommand).resolves({});
  new FakeEc2({ instances: [] }).install(ec2Mock);
  table = fakeStateTable();
  server = await startSlackServer();
});
afterEach(async () => {
  table.mock.restore();
  await server.close();
});

function context(o: { config?: CostGuardConfigInput; now?: Date; dryRun?: boolean; console?: boolean } = {}) {
  return testContext({
    config: o.config ?? CONFIG,
    now: o.now ?? NOV,
    ...(o.dryRun !== undefined ? { dryRun: o.dryRun } : {}),
    notifier: o.console
      ? new ConsoleNotifier(() => {})
      : new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 0, minRetryDelayMs: 5 }),
    stateTableName: 'state',
    accountId: ACCOUNT,
  });
}

/** The budget at `percent` of its 1,000 USD monthly limit. */
function givenBudgetAt(percent: number) {
  budgetsMock.on(DescribeBudgetsCommand).resolves({
    Budgets: [
      {
        BudgetName: 'ml-platform',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: '1000', Unit: 'USD' },
        CalculatedSpend: { ActualSpend: { Amount: String(percent * 10), Unit: 'USD' } },
        TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
      },
    ],
  });
}

const attachedRoles = () =>
  iamMock.commandCalls(AttachRolePolicyCommand).map((c) => [c.args[0].input.RoleName, c.args[0].input.PolicyArn]);
const detachedRoles = () =>
  iamMock.commandCalls(DetachRolePolicyCommand).map((c) => [c.args[0].input.RoleName, c.args[0].input.PolicyArn]);
const posted = () => server.posts().map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }));
/** The cap's record in the state table, read the way the guard reads it. */
const record = () => new DynamoLaunchCapStore(new DynamoDBClient({}), 'state').get('ml-platform');
const report = (s: BudgetsSummary) => s.budgets.find((b) => b.name === 'ml-platform')!;
const run = (ctx = context()) => budgetsCapability.run(ctx, SCHEDULE_EVENT);

describe('Launch cap: the budget guard puts it on at the action threshold', () => {
  it('names the cap in the action alert, then attaches the cap policy to each listed role, and records it', async () => {
    // Prepare
    givenBudgetAt(96);
    // Act
    const summary = await run();
    // Assess: announced in the same alert, before any attach.
    const alert = posted()[0]!;
    expect(alert).toContain('Launch cap:* denying launching or starting GPU instances');
    expect(alert).toContain('`ml-training`, `ml-research`');
    expect(alert).toContain('until the budget period ends (2026-12-01)');
    expect(attachedRoles()).toEqual([
      ['ml-training', POLICY],
      ['ml-research', POLICY],
    ]);
    expect(report(summary).launchCap).toMatchObject({ why: 'action-threshold', attached: ROLES, failed: [] });
    expect(summary.actions.filter((a) => a.kind === 'launch-cap-attach')).toEqual([
      expect.objectContaining({ capability: 'budgets', target: 'ml-training', status: 'done' }),
      expect.objectContaining({ capability: 'budgets', target: 'ml-research', status: 'done' }),
    ]);
    expect(await record()).toMatchObject({
      status: 'attached',
      period: '2026-11',
      periodEnd: '2026-12-01T00:00:00.000Z',
      roles: ROLES,
      announced: ROLES,
      policyArn: POLICY,
    });
  });

  it('is idempotent: later runs of the period send no IAM call and no new message', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    iamMock.resetHistory();
    const before = server.posts().length;
    // Act
    const later = await run(context({ now: NOV_LATER }));
    // Assess
    expect(attachedRoles()).toEqual([]);
    expect(detachedRoles()).toEqual([]);
    expect(server.posts()).toHaveLength(before);
    expect(later.notes).toContain('ml-platform: the GPU launch cap is in force until 2026-12-01T00:00:00.000Z');
  });

  it('puts nothing on under the action threshold', async () => {
    givenBudgetAt(85);
    const summary = await run();
    expect(attachedRoles()).toEqual([]);
    expect(report(summary).launchCap).toBeUndefined();
    expect(await record()).toBeUndefined();
  });

  it('puts nothing on when Slack did not accept the alert (a cap needs an alert a person could read)', async () => {
    // Prepare
    givenBudgetAt(96);
    server.script.push({ kind: 'slack-error', error: 'channel_not_found' });
    // Act + Assess
    await expect(run()).rejects.toBeInstanceOf(BudgetRunIncompleteError);
    expect(attachedRoles()).toEqual([]);
    expect(await record()).toBeUndefined();
  });

  it('in dry run: says what it would cap, calls IAM for nothing, records nothing', async () => {
    givenBudgetAt(96);
    const summary = await run(context({ dryRun: true }));
    expect(posted()[0]).toContain('Launch cap (dry run):* would deny');
    expect(attachedRoles()).toEqual([]);
    expect(summary.actions.filter((a) => a.kind === 'launch-cap-attach').map((a) => a.status)).toEqual([
      'dry-run',
      'dry-run',
    ]);
    expect(await record()).toBeUndefined();
  });

  it('without a Slack token: reports the cap it would apply and attaches nothing', async () => {
    givenBudgetAt(96);
    const summary = await run(context({ console: true }));
    expect(attachedRoles()).toEqual([]);
    expect(report(summary).launchCap).toMatchObject({ mode: 'unheard', waiting: ROLES, attached: [] });
    expect(summary.notes.join('\n')).toContain('would apply to ml-training, ml-research (not applied: no Slack token)');
  });

  it("turned on after the period's action alert went out: announces the cap in a message of its own, then attaches", async () => {
    // Prepare: the action alert went out without the cap.
    givenBudgetAt(96);
    await run(context({ config: { budgets: { ...CONFIG.budgets, launchCap: false } } }));
    expect(attachedRoles()).toEqual([]);
    const before = server.posts().length;
    // Act
    await run(context({ now: NOV_LATER }));
    // Assess
    const own = posted().slice(before);
    expect(own).toHaveLength(1);
    expect(own[0]).toContain('Budget ml-platform at 96.0%: GPU launch cap');
    expect(attachedRoles().map(([r]) => r)).toEqual(ROLES);
  });

  it('fails the run when an attach fails, and retries only that role next run without announcing it again', async () => {
    // Prepare
    givenBudgetAt(96);
    iamMock
      .on(AttachRolePolicyCommand, { RoleName: 'ml-research' })
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }))
      .resolves({});
    // Act
    const error = await run().catch((e: unknown) => e);
    // (Call history kept: sinon counts `rejectsOnce` by it.)
    const callsBefore = attachedRoles().length;
    const before = server.posts().length;
    await run(context({ now: NOV_LATER }));
    // Assess
    expect(error).toBeInstanceOf(BudgetRunIncompleteError);
    const first = report((error as BudgetRunIncompleteError).summary as BudgetsSummary).launchCap;
    expect(first).toMatchObject({ attached: ['ml-training'], failed: [{ role: 'ml-research', code: 'AccessDenied' }] });
    expect(attachedRoles().slice(callsBefore)).toEqual([['ml-research', POLICY]]);
    // The retry posts no announcement (the alert named the role already).
    expect(posted().slice(before).join('\n')).not.toContain('GPU launch cap');
    expect(await record()).toMatchObject({ status: 'attached', roles: ROLES, failed: [] });
  });
});

describe('Launch cap: it comes off at the period change', () => {
  it('detaches from every role at the first run of the next period, says so, and records it', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    givenBudgetAt(3);
    // Act
    const summary = await run(context({ now: DEC }));
    // Assess
    expect(detachedRoles()).toEqual([
      ['ml-training', POLICY],
      ['ml-research', POLICY],
    ]);
    expect(report(summary).launchCap).toMatchObject({ why: 'period-ended', detached: ROLES });
    expect(posted().at(-1)).toContain(
      'GPU launches are allowed again for `ml-training`, `ml-research`: the budget period ended.',
    );
    expect(await record()).toMatchObject({ status: 'detached', endedBy: 'period-ended', roles: ROLES });
  });

  it('is idempotent: a role that no longer has the policy (NoSuchEntity) counts as detached, and later runs do nothing', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    givenBudgetAt(3);
    iamMock
      .on(DetachRolePolicyCommand, { RoleName: 'ml-research' })
      .rejects(new NoSuchEntityException({ message: 'not attached', $metadata: {} }));
    // Act
    const rollover = await run(context({ now: DEC }));
    iamMock.resetHistory();
    const next = await run(context({ now: new Date('2026-12-01T03:00:00Z') }));
    // Assess
    expect(report(rollover).launchCap).toMatchObject({ detached: ROLES, failed: [] });
    expect(detachedRoles()).toEqual([]);
    expect(report(next).launchCap).toBeUndefined();
  });

  it('comes off at the recorded period end even when the budget can no longer be read', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    budgetsMock.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
    // Act
    const summary = await run(context({ now: DEC }));
    // Assess
    expect(detachedRoles().map(([r]) => r)).toEqual(ROLES);
    expect(report(summary).launchCap).toMatchObject({ why: 'period-ended' });
  });

  it('comes off when budgets.launchCap is turned off (the roles stay listed)', async () => {
    givenBudgetAt(96);
    await run();
    const summary = await run(
      context({ now: NOV_LATER, config: { budgets: { ...CONFIG.budgets, launchCap: false } } }),
    );
    expect(detachedRoles().map(([r]) => r)).toEqual(ROLES);
    expect(report(summary).launchCap).toMatchObject({ why: 'cap-off' });
  });
});

describe('Launch cap: cost-guard restore lifts it for the rest of the period', () => {
  it('detaches from the recorded roles, records it lifted, and the guard does not put it back this period', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    iamMock.resetHistory();
    // Act
    const restored = await restoreInstances(context({ now: NOV_LATER }), { budget: 'ml-platform' });
    const after = await run(context({ now: new Date('2026-11-15T14:00:00Z') }));
    // Assess
    expect(restored.launchCaps).toEqual([
      { budget: 'ml-platform', policyArn: POLICY, detached: ROLES, failed: [], record: 'lifted' },
    ]);
    expect(restored.actions.filter((a) => a.kind === 'launch-cap-detach')).toHaveLength(2);
    expect(detachedRoles().map(([r]) => r)).toEqual(ROLES);
    expect(attachedRoles()).toEqual([]);
    expect(after.notes).toContain(
      'ml-platform: the GPU launch cap was lifted by cost-guard restore; it stays off this period',
    );
    expect(await record()).toMatchObject({ status: 'lifted', endedBy: 'restore' });
  });

  it('puts it back in the next period when the budget is over again', async () => {
    // Prepare
    givenBudgetAt(96);
    await run();
    await restoreInstances(context({ now: NOV_LATER }), { budget: 'ml-platform' });
    iamMock.resetHistory();
    // Act
    await run(context({ now: DEC }));
    // Assess
    expect(attachedRoles().map(([r]) => r)).toEqual(ROLES);
    expect(await record()).toMatchObject({ status: 'attached', period: '2026-12' });
  });

  it('in dry run lists what it would lift and changes nothing', async () => {
    givenBudgetAt(96);
    await run();
    iamMock.resetHistory();
    const restored = await restoreInstances(context({ now: NOV_LATER, dryRun: true }), { budget: 'ml-platform' });
    expect(detachedRoles()).toEqual([]);
    expect(restored.launchCaps[0]).toMatchObject({ detached: ROLES, record: 'not-written' });
    expect(await record()).toMatchObject({ status: 'attached' });
  });
});
