/**
 * `cost-guard restore` and the stops the budget guard made in a payer budget's linked accounts: the records name the
 * account, and restore (which acts with its own account's clients) never starts them; it says where to start them.
 */
import { EC2Client, StartInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { recordStops } from '../../../lambda/adapters/stop-index';
import type { ActionRecord } from '../../../lambda/core/run';
import { restoreInstances } from '../../../lambda/services/restore';
import { testContext } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';

const ec2Mock = mockClient(EC2Client);
let table: FakeStateTable;
beforeEach(() => {
  ec2Mock.reset();
  table = fakeStateTable();
});
afterEach(() => table.mock.restore());

const LINKED = '111111111111';
const stopRecord = (id: string, accountId?: string): ActionRecord => ({
  capability: 'budgets',
  kind: 'stop',
  target: id,
  region: 'us-east-1',
  ...(accountId ? { accountId } : {}),
  reason: 'budget org-ml at 96%',
  status: 'done',
  at: '2026-11-10T08:00:00.000Z',
  details: { budget: 'org-ml' },
});
const stopped = (id: string) =>
  fakeInstance(id, {
    state: 'stopped',
    launchTime: new Date('2026-11-01T00:00:00Z'),
    tags: { 'cost-guard:stopped-by': 'budget-guard', 'cost-guard:stopped-budget': 'org-ml' },
  });

describe('Function: restoreInstances with stops in linked accounts', () => {
  it("starts this account's stops, refuses the linked account's with the account to start it in", async () => {
    // Prepare: the hub stopped i-hub itself and i-linked in a linked account.
    const ctx = testContext({ stateTableName: 'state', accountId: '123456789012' });
    await recordStops(ctx.clients.dynamodb(), 'state', [stopRecord('i-hub'), stopRecord('i-linked', LINKED)]);
    const ec2 = new FakeEc2({ instances: [stopped('i-hub')] }).install(ec2Mock);
    // Act
    const summary = await restoreInstances(ctx, { budget: 'org-ml' });
    // Assess
    expect(summary.instances.map((i) => [i.instanceId, i.status])).toEqual([['i-hub', 'done']]);
    expect(ec2.get('i-hub').state).toBe('running');
    expect(summary.notStarted).toEqual([
      {
        instanceId: 'i-linked',
        region: 'us-east-1',
        reason: expect.stringContaining(`stopped in linked account ${LINKED} for budget org-ml`),
      },
    ]);
    const started = ec2Mock.commandCalls(StartInstancesCommand).flatMap((c) => c.args[0].input.InstanceIds ?? []);
    expect(started).toEqual(['i-hub']);
    // The linked instance is not even looked up in this account.
    expect(ec2.calls.flatMap((c) => c.instanceIds)).not.toContain('i-linked');
  });
});
