/**
 * Proof suite, safety of the budget guard in a payer account: a budget item with two linked accounts, one of which
 * denies AssumeRole on its spoke role. fast-check properties over random fleets (in the reachable account, the denied
 * one and the hub itself) with essential / opt-out tags in any case, scope tags matching or not, GPU / non-GPU types
 * and running or stopped instances, and over budgets.maxStopsPerRun; the same scheduled event is delivered three
 * times (the Lambda's two retries: the run fails each time, because an account was not reached).
 *
 * It checks, against ground truth computed here from the fleets: only the reachable account's running, in-scope,
 * non-essential, not opted-out GPU instances are stopped, each once, and exactly min(maxStopsPerRun, how many there
 * are) of them over the three deliveries; nothing essential or opted out stops anywhere; the denied account gets no
 * EC2 call at all and is reported (summary and alert) with its reason; the hub, not in the budget's accounts, is
 * not touched; each threshold is alerted once.
 */
import assert from 'node:assert/strict';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { SlackNotifier } from '../../lambda/adapters/slack';
import { type Block, messageToText } from '../../lambda/core/slack-blocks';
import { BudgetRunIncompleteError, type BudgetsSummary, budgetsCapability } from '../../lambda/services/budgets';
import { givenSpokeRoles, routeEc2ByAccount } from '../helpers/accounts';
import { randomCase } from '../helpers/arbitraries';
import { TEST_NOW, testContext } from '../helpers/context';
import { FakeEc2, type FakeInstance, fakeInstance } from '../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../helpers/slack-server';

const ec2Mock = mockClient(EC2Client);
const budgetsMock = mockClient(BudgetsClient);
const stsMock = mockClient(STSClient);

const RUNS = 60;
const HUB = '123456789012';
const REACHABLE = '111111111111';
const DENIED = '222222222222';
const SCHEDULE = { source: 'ml-cost-guard.schedule' };
const GPU_TYPES = new Set(['g5.xlarge', 'p4d.24xlarge']);

interface InstanceSpec {
  readonly type: string;
  readonly running: boolean;
  readonly inScope: boolean;
  readonly essential: { readonly key: string; readonly value: string } | null;
  readonly optOut: { readonly key: string; readonly value: string } | null;
}

const flag = (key: string) =>
  fc.option(fc.record({ key: randomCase(key), value: fc.constantFrom('true', 'TRUE', ' True ', 'false', '') }), {
    freq: 2,
    nil: null,
  });
const instanceArb: fc.Arbitrary<InstanceSpec> = fc.record({
  type: fc.constantFrom('g5.xlarge', 'p4d.24xlarge', 'g5.xlarge', 'm5.large'),
  running: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
  inScope: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  essential: flag('cost-guard:essential'),
  optOut: flag('cost-guard:opt-out'),
});
const fleetArb = fc.array(instanceArb, { maxLength: 8 });

const isTrue = (f: InstanceSpec['essential']) => f !== null && f.value.trim().toLowerCase() === 'true';

function toFake(prefix: string, specs: readonly InstanceSpec[]): FakeInstance[] {
  return specs.map((s, n) =>
    fakeInstance(`i-${prefix}${String(n).padStart(15, '0')}`, {
      type: s.type,
      state: s.running ? 'running' : 'stopped',
      tags: {
        team: s.inScope ? 'ml' : 'search',
        ...(s.essential ? { [s.essential.key]: s.essential.value } : {}),
        ...(s.optOut ? { [s.optOut.key]: s.optOut.value } : {}),
      },
    }),
  );
}

/** Ground truth: what the budget may stop in the reachable account. */
const stoppable = (s: InstanceSpec) =>
  s.running && s.inScope && GPU_TYPES.has(s.type) && !isTrue(s.essential) && !isTrue(s.optOut);

let server: SlackTestServer;
beforeAll(async () => {
  server = await startSlackServer();
});
afterAll(async () => {
  await server.close();
});

describe('Proof: the budget guard reaches linked accounts safely', () => {
  it('stops only the reachable account’s stoppable instances, within maxStopsPerRun over three deliveries; reports the denied one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fleetArb,
        fleetArb,
        fleetArb,
        fc.integer({ min: 1, max: 6 }),
        async (reachableSpecs, deniedSpecs, hubSpecs, maxStopsPerRun) => {
          // Prepare
          ec2Mock.reset();
          budgetsMock.reset();
          stsMock.reset();
          server.requests.length = 0;
          const table: FakeStateTable = fakeStateTable();
          try {
            budgetsMock.on(DescribeBudgetsCommand).resolves({
              Budgets: [
                {
                  BudgetName: 'org-ml',
                  BudgetType: 'COST',
                  TimeUnit: 'MONTHLY',
                  BudgetLimit: { Amount: '1000', Unit: 'USD' },
                  CalculatedSpend: { ActualSpend: { Amount: '970', Unit: 'USD' } },
                  TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
                },
              ],
            });
            const reachable = new FakeEc2({ instances: toFake('a', reachableSpecs) });
            const denied = new FakeEc2({ instances: toFake('b', deniedSpecs) });
            const hub = new FakeEc2({ instances: toFake('c', hubSpecs) });
            routeEc2ByAccount(ec2Mock, hub, { [REACHABLE]: reachable, [DENIED]: denied });
            const roles = givenSpokeRoles(stsMock, { denied: [DENIED] });
            const config = {
              accounts: {
                mode: 'organization' as const,
                organizationId: 'o-a1b2c3d4e5',
                accountIds: [REACHABLE, DENIED],
              },
              budgets: {
                action: 'stop-non-essential' as const,
                maxStopsPerRun,
                items: [{ name: 'org-ml', scopeTags: { team: 'ml' }, accounts: [REACHABLE, DENIED] }],
              },
            };

            // Act: one scheduled event, delivered three times (the first try and Lambda's two retries).
            const summaries: BudgetsSummary[] = [];
            for (const minutes of [0, 1, 3]) {
              const ctx = testContext({
                config,
                now: new Date(TEST_NOW.getTime() + minutes * 60_000),
                notifier: new SlackNotifier({ token: 'xoxb-test', channel: '#c', apiUrl: server.url, retries: 0 }),
                stateTableName: 'state',
                accountId: HUB,
              });
              const error = await budgetsCapability.run(ctx, SCHEDULE).catch((e: unknown) => e);
              // The denied account fails every delivery: the errors alarm fires.
              assert.ok(error instanceof BudgetRunIncompleteError, `delivery at +${minutes} min did not fail`);
              summaries.push(error.summary);
            }

            // Assess: the denied account and the hub are never acted on; the denied one is never even read.
            assert.deepEqual(denied.calls, []);
            assert.deepEqual(denied.changes, []);
            assert.deepEqual(hub.changes, []);
            assert.ok(roles.assumed.includes(DENIED));
            for (const s of summaries) {
              const report = s.budgets[0]!;
              assert.deepEqual(
                report.unreachableAccounts?.map((u) => u.accountId),
                [DENIED],
                'the denied account is reported in every delivery',
              );
              assert.match(report.unreachableAccounts![0]!.reason, /AccessDenied/);
            }
            // Only stops, each of a stoppable instance of the reachable account, each once.
            const expected = reachable.instances.filter((_, n) => stoppable(reachableSpecs[n]!)).map((i) => i.id);
            for (const change of reachable.changes) assert.equal(change.operation, 'StopInstances');
            const stopped = reachable.changes.map((c) => c.id);
            assert.equal(new Set(stopped).size, stopped.length, 'an instance was stopped twice');
            for (const id of stopped) assert.ok(expected.includes(id), `${id} is not stoppable but was stopped`);
            // Nothing essential or opted out stopped, whatever the case of the tag.
            for (const change of reachable.changes) {
              const tags = Object.entries(change.tags).map(([k, v]) => [k.toLowerCase(), v.trim().toLowerCase()]);
              assert.ok(!tags.some(([k, v]) => k === 'cost-guard:essential' && v === 'true'));
              assert.ok(!tags.some(([k, v]) => k === 'cost-guard:opt-out' && v === 'true'));
            }
            // The per-period limit holds over the three deliveries, and is used up when there is enough to stop.
            assert.equal(stopped.length, Math.min(maxStopsPerRun, expected.length));
            // Each threshold alerted once; the alert that announced the action named the denied account.
            const posts = server.posts().map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }));
            const alerts = posts.filter((t) => t.includes('Budget org-ml at 97.0%'));
            assert.equal(alerts.length, 1, 'the action alert was posted more than once');
            assert.ok(alerts[0]!.includes(`account ${DENIED}: cannot assume`));
            const alerted = summaries.flatMap((s) => s.budgets[0]!.alerted).sort();
            assert.deepEqual(alerted, ['action-95', 'alert-80']);
          } finally {
            table.mock.restore();
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
