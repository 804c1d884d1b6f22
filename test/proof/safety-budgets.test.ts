/**
 * Proof suite, safety of the budget guard: fast-check properties over random budgets (spend, limit, forecast,
 * currency, a limit of 0, unreadable amounts, missing budgets) and random instances (essential / opt-out tags with the
 * key and value in any case, scope tags matching or not, GPU / non-GPU / unknown types, running or not, one-time Spot,
 * Stop and CreateTags failures), under `stopScope` gpu or all, action stop-non-essential or notify, and dry-run.
 *
 * The end-to-end property runs the handler four times over one period on a fake DynamoDB state table and a fake EC2
 * that keeps state: two runs started together (the schedule and an SNS notification), then the Lambda retry and the
 * next scheduled run an hour later (past the claim lease), with Slack refusing some posts. It checks the StopInstances calls against ground truth, that every
 * (budget, period, threshold) alert is delivered exactly once (never twice, and again after a Slack failure), and
 * that no instance is stopped twice.
 */
import assert from 'node:assert/strict';
import { type Budget, BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  EC2Client,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import type { Notifier } from '../../lambda/adapters/slack';
import { selectStopCandidates } from '../../lambda/core/budgets/candidates';
import { type BudgetSnapshot, evaluateBudget } from '../../lambda/core/budgets/policy';
import type { InstanceFacts } from '../../lambda/core/instances';
import { messageToText, type SlackMessage } from '../../lambda/core/slack-blocks';
import type { BudgetsSummary } from '../../lambda/services/budgets';
import { budgetsCapability } from '../../lambda/services/budgets';
import { SlackDeliveryError } from '../../lambda/shared/errors';
import { randomCase } from '../helpers/arbitraries';
import { TEST_NOW, testContext } from '../helpers/context';
import {
  type Ec2Fault,
  FakeEc2,
  type FakeInstance as FakeEc2Instance,
  type FakeType,
  fakeInstance,
} from '../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../helpers/fake-state-table';
import { RoutedFakes } from '../helpers/routed-fakes';

const ec2Mock = mockClient(EC2Client);
const budgetsMock = mockClient(BudgetsClient);

const RUNS = 1000;
const ESSENTIAL = 'cost-guard:essential';
const OPT_OUT = 'cost-guard:opt-out';
const STOPPED_BUDGET = 'cost-guard:stopped-budget';
const SCHEDULE = { source: 'ml-cost-guard.schedule' };
const snsEvent = (name: string) => ({
  Records: [{ EventSource: 'aws:sns', Sns: { Message: `AWS Budget Notification\n\nBudget Name: ${name}\n` } }],
});

const TYPES: Readonly<Record<string, 'gpu' | 'none' | 'unknown'>> = {
  'g5.xlarge': 'gpu',
  'p4d.24xlarge': 'gpu',
  'm5.large': 'none',
  'zz9.large': 'unknown',
};
/** What the fake EC2 answers for TYPES (it knows no unknown type). */
const EC2_TYPES: Readonly<Record<string, FakeType>> = {
  'g5.xlarge': { kind: 'gpu' },
  'p4d.24xlarge': { kind: 'gpu' },
  'm5.large': { kind: 'none' },
};

// ---------------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------------

const sometimes = <T>(arb: fc.Arbitrary<T>, present: number, absent: number): fc.Arbitrary<T | null> =>
  fc.oneof({ arbitrary: arb, weight: present }, { arbitrary: fc.constant(null), weight: absent });
const flagTag = (key: string) =>
  sometimes(
    fc.record({ key: randomCase(key), value: fc.constantFrom('true', 'TRUE', ' True ', 'false', 'yes', '') }),
    1,
    3,
  );

interface Fault {
  readonly code: string;
  times: number;
}
const faultArb = sometimes(
  fc.record({
    code: fc.constantFrom('ThrottlingException', 'InternalError', 'RequestTimeout', 'IncorrectInstanceState'),
    times: fc.constantFrom(1, Number.POSITIVE_INFINITY),
  }),
  1,
  6,
);

interface InstanceSpec {
  readonly type: string;
  readonly state: 'running' | 'stopped' | 'pending';
  readonly team: string | null;
  readonly env: string | null;
  readonly essential: { readonly key: string; readonly value: string } | null;
  readonly optOut: { readonly key: string; readonly value: string } | null;
  readonly oneTimeSpot: boolean;
  readonly stopFault: { readonly code: string; readonly times: number } | null;
  readonly tagFault: { readonly code: string; readonly times: number } | null;
}

const instanceSpecArb: fc.Arbitrary<InstanceSpec> = fc.record({
  type: fc.oneof(
    { arbitrary: fc.constantFrom('g5.xlarge', 'p4d.24xlarge'), weight: 3 },
    { arbitrary: fc.constantFrom('m5.large', 'zz9.large'), weight: 1 },
  ),
  state: fc.oneof(
    { arbitrary: fc.constant('running' as const), weight: 6 },
    { arbitrary: fc.constantFrom('stopped' as const, 'pending' as const), weight: 1 },
  ),
  team: sometimes(
    fc.oneof(
      { arbitrary: fc.constant('t0'), weight: 4 },
      { arbitrary: fc.constantFrom('t1', 't2', 'T0', 't0 '), weight: 3 },
    ),
    6,
    1,
  ),
  env: sometimes(fc.constantFrom('prod', 'Prod', 'dev'), 3, 1),
  essential: flagTag(ESSENTIAL),
  optOut: flagTag(OPT_OUT),
  oneTimeSpot: fc.oneof({ arbitrary: fc.constant(false), weight: 8 }, { arbitrary: fc.constant(true), weight: 1 }),
  stopFault: faultArb,
  tagFault: faultArb,
});

type BudgetKind = 'ok' | 'zero' | 'currency' | 'garbage' | 'missing' | 'no-limit';
interface BudgetSpec {
  readonly kind: BudgetKind;
  readonly limit: number;
  /** Actual spend as a percentage of the limit. */
  readonly percent: number;
  readonly forecastPercent: number | null;
  /** The scope also requires env=prod. */
  readonly prodOnly: boolean;
}

const budgetSpecArb: fc.Arbitrary<BudgetSpec> = fc.record({
  kind: fc.oneof(
    { arbitrary: fc.constant('ok' as const), weight: 10 },
    { arbitrary: fc.constantFrom<BudgetKind>('zero', 'currency', 'garbage', 'missing', 'no-limit'), weight: 2 },
  ),
  limit: fc.constantFrom(100, 1000, 12345.67),
  percent: fc.oneof(
    { arbitrary: fc.constantFrom(0, 49.99, 50, 79.99, 80, 84.99, 85, 94.99), weight: 1 },
    { arbitrary: fc.constantFrom(95, 96, 99.99, 100, 130), weight: 2 },
  ),
  forecastPercent: sometimes(fc.constantFrom(50, 99, 100, 100.5, 150), 1, 1),
  prodOnly: fc.oneof({ arbitrary: fc.constant(false), weight: 2 }, { arbitrary: fc.constant(true), weight: 1 }),
});

interface ConfigSpec {
  readonly action: 'stop-non-essential' | 'notify';
  readonly dryRun: boolean;
  readonly stopScope: 'gpu' | 'all';
  readonly thresholds: readonly [number, number];
}
const configSpecArb: fc.Arbitrary<ConfigSpec> = fc.record({
  action: fc.oneof(
    { arbitrary: fc.constant('stop-non-essential' as const), weight: 4 },
    { arbitrary: fc.constant('notify' as const), weight: 1 },
  ),
  dryRun: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
  stopScope: fc.constantFrom('gpu' as const, 'all' as const),
  thresholds: fc.constantFrom<readonly [number, number]>([80, 95], [50, 85], [95, 100]),
});

const scopeOf = (index: number, b: BudgetSpec): Record<string, string> => ({
  team: `t${index}`,
  ...(b.prodOnly ? { env: 'prod' } : {}),
});

const toConfig = (c: ConfigSpec, budgets: readonly BudgetSpec[]) => ({
  budgets: {
    action: c.action,
    stopScope: c.stopScope,
    alertPercent: c.thresholds[0],
    actionPercent: c.thresholds[1],
    items: budgets.map((b, i) => ({ name: `b${i}`, scopeTags: scopeOf(i, b) })),
  },
});

// ---------------------------------------------------------------------------------------------------------------
// Ground truth
// ---------------------------------------------------------------------------------------------------------------

const flagged = (tags: Readonly<Record<string, string>>, key: string) =>
  Object.entries(tags).some(([k, v]) => k.toLowerCase() === key.toLowerCase() && v.trim().toLowerCase() === 'true');

/** Why `tags`/`type`/`state` forbid stopping the instance for a budget with this scope; undefined when allowed. */
function forbiddenReason(
  inst: { readonly tags: Readonly<Record<string, string>>; readonly type: string; readonly state: string },
  scope: Readonly<Record<string, string>>,
  stopScope: 'gpu' | 'all',
): string | undefined {
  if (inst.state !== 'running') return 'not running';
  if (flagged(inst.tags, ESSENTIAL)) return 'essential';
  if (flagged(inst.tags, OPT_OUT)) return 'opted out';
  for (const [k, v] of Object.entries(scope)) if (inst.tags[k] !== v) return `out of scope (${k})`;
  if (stopScope === 'gpu' && TYPES[inst.type] !== 'gpu') return 'not a GPU instance';
  return undefined;
}

/** Thresholds a well-formed budget is at or over, from the percentages the generator chose. */
function expectedCrossed(b: BudgetSpec, [alert, action]: readonly [number, number]): string[] {
  if (b.kind !== 'ok') return [`problem-${PROBLEM_OF[b.kind]}`];
  return [
    ...(b.percent >= alert ? [`alert-${alert}`] : []),
    ...(b.percent >= action ? [`action-${action}`] : []),
    ...(b.forecastPercent !== null && b.forecastPercent > 100 ? ['forecast-100'] : []),
  ];
}
const PROBLEM_OF: Readonly<Record<Exclude<BudgetKind, 'ok'>, string>> = {
  zero: 'zero-limit',
  currency: 'currency',
  garbage: 'invalid-amount',
  missing: 'missing',
  'no-limit': 'no-limit',
};

function describeBudget(b: BudgetSpec, name: string): Budget | undefined {
  if (b.kind === 'missing') return undefined;
  const amount = (pct: number) => String((b.limit * pct) / 100);
  const unit = b.kind === 'currency' ? 'EUR' : 'USD';
  return {
    BudgetName: name,
    BudgetType: 'COST',
    TimeUnit: 'MONTHLY',
    ...(b.kind === 'no-limit'
      ? {}
      : {
          BudgetLimit: {
            Amount: b.kind === 'zero' ? '0' : b.kind === 'garbage' ? 'abc' : String(b.limit),
            Unit: unit,
          },
        }),
    CalculatedSpend: {
      ActualSpend: { Amount: amount(b.percent), Unit: unit },
      ...(b.forecastPercent !== null ? { ForecastedSpend: { Amount: amount(b.forecastPercent), Unit: unit } } : {}),
    },
    TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The fake EC2 / Budgets / Slack (stateful over the runs of one sample)
// ---------------------------------------------------------------------------------------------------------------

interface World {
  /** The fleet of the sample: its `effects` count successful stops, its `changes` log each with its tags. */
  readonly ec2: FakeEc2;
  readonly budgets: Budget[];
  slackFailures: number;
  readonly posts: SlackMessage[];
  /** Mutating EC2 calls made (CreateTags, DeleteTags, Stop/Start/TerminateInstances), failed ones too. */
  mutations: number;
}

let world: World;

const idOf = (index: number) => `i-${(0x2000 + index).toString(16).padStart(17, '0')}`;

/** The instance a spec describes; a one-time Spot instance is `spot` without a request type (EC2's default). */
function materialize(spec: InstanceSpec, index: number): FakeEc2Instance {
  const tags: Record<string, string> = { Name: `box-${index}` };
  if (spec.team !== null) tags.team = spec.team;
  if (spec.env !== null) tags.env = spec.env;
  if (spec.essential) tags[spec.essential.key] = spec.essential.value;
  if (spec.optOut) tags[spec.optOut.key] = spec.optOut.value;
  return fakeInstance(idOf(index), {
    type: spec.type,
    state: spec.state,
    tags,
    ...(spec.oneTimeSpot ? { lifecycle: 'spot' as const } : {}),
  });
}

/** The Stop and CreateTags faults of the specs, each failing the calls that name its instance. */
function faultsOf(specs: readonly InstanceSpec[]): Ec2Fault[] {
  const fault = (operation: 'StopInstances' | 'CreateTags', f: Fault, index: number): Ec2Fault => ({
    operation,
    code: f.code,
    times: f.times,
    instanceId: idOf(index),
    status: f.code === 'InternalError' ? 500 : f.code === 'RequestTimeout' ? 408 : 400,
  });
  return specs.flatMap((spec, index) => [
    ...(spec.stopFault ? [fault('StopInstances', spec.stopFault, index)] : []),
    ...(spec.tagFault ? [fault('CreateTags', spec.tagFault, index)] : []),
  ]);
}

const MUTATING = [
  CreateTagsCommand,
  DeleteTagsCommand,
  StopInstancesCommand,
  StartInstancesCommand,
  TerminateInstancesCommand,
];

const fakes = new RoutedFakes();
const route: RoutedFakes['route'] = (command, fake) => fakes.route(command, fake);
const dispatch = fakes.dispatch;

function installFakeAws(): void {
  const countingDispatch = (command: { readonly constructor: unknown; readonly input: unknown }) => {
    if (MUTATING.some((c) => command instanceof c)) world.mutations += 1;
    return dispatch(command);
  };
  ec2Mock.send.callsFake(countingDispatch as never);
  budgetsMock.send.callsFake(dispatch as never);
  route(DescribeBudgetsCommand, () => ({ Budgets: world.budgets }));
}

const notifier: Notifier = {
  kind: 'slack',
  async post(message: SlackMessage) {
    if (world.slackFailures > 0) {
      world.slackFailures -= 1;
      throw new SlackDeliveryError('Slack did not accept the message: HTTP 500', 'slack_webapi_http_error');
    }
    world.posts.push(message);
    return { channel: '#c', ts: `1700000000.${world.posts.length}` };
  },
};

async function settle(run: Promise<BudgetsSummary>): Promise<BudgetsSummary> {
  try {
    return await run;
  } catch (error) {
    const summary = (error as { summary?: BudgetsSummary }).summary;
    // (the stack is formatted only on failure: formatting one costs more than the run's checks)
    if (!summary) assert.fail(`the run threw without a summary: ${(error as Error).stack}`);
    if ((error as Error).name !== 'BudgetRunIncompleteError') assert.fail((error as Error).stack);
    return summary;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('Proof: budget guard safety (properties)', () => {
  let table: FakeStateTable;
  beforeAll(() => {
    installFakeAws();
    table = fakeStateTable();
  });
  afterAll(() => {
    table.mock.restore();
    ec2Mock.restore();
    budgetsMock.restore();
  });

  it('selects exactly the running, in-scope, non-essential, not opted-out (GPU) instances', () => {
    let candidates = 0;
    fc.assert(
      fc.property(
        fc.array(instanceSpecArb, { minLength: 1, maxLength: 12 }),
        fc.constantFrom<Record<string, string>>({}, { team: 't0' }, { team: 't0', env: 'prod' }),
        fc.constantFrom('gpu' as const, 'all' as const),
        (specs, scopeTags, stopScope) => {
          // Prepare
          const fleet = specs.map(materialize);
          const instances: InstanceFacts[] = fleet.map((i) => ({
            instanceId: i.id,
            region: 'us-east-1',
            instanceType: i.type,
            state: i.state,
            tags: i.tags,
            lifecycle: i.lifecycle === 'spot' ? 'spot' : 'on-demand',
          }));
          // Act
          const selection = selectStopCandidates(instances, {
            scopeTags,
            tags: { essential: ESSENTIAL, optOut: OPT_OUT },
            stopScope,
            typeFacts: (_r, t) =>
              TYPES[t] === 'unknown'
                ? undefined
                : {
                    instanceType: t,
                    accelerator: TYPES[t] === 'gpu' ? 'gpu' : 'none',
                    acceleratorCount: TYPES[t] === 'gpu' ? 1 : 0,
                    instanceStorage: false,
                  },
          });
          // Assess: candidates and skipped partition the input; candidates are exactly the allowed ones
          const chosen = selection.candidates.map((i) => i.instanceId);
          const skipped = selection.skipped.map((s) => s.instance.instanceId);
          assert.deepEqual([...chosen, ...skipped].sort(), fleet.map((i) => i.id).sort(), 'not a partition');
          for (const i of fleet) {
            const reason = forbiddenReason(i, scopeTags, stopScope);
            assert.equal(chosen.includes(i.id), reason === undefined, `${i.id} ${JSON.stringify(i.tags)}: ${reason}`);
          }
          candidates += chosen.length;
        },
      ),
      { numRuns: RUNS },
    );
    expect(candidates).toBeGreaterThan(RUNS / 2);
  });

  it('never crosses a threshold of a budget it cannot judge, and crosses exactly the ones reached', () => {
    fc.assert(
      fc.property(
        budgetSpecArb,
        configSpecArb,
        fc.constantFrom('MONTHLY', 'QUARTERLY', 'ANNUALLY', 'DAILY', 'WEEKLY'),
        (b, c, timeUnit) => {
          // Prepare
          const raw = describeBudget(b, 'b0');
          const snapshot: BudgetSnapshot | undefined = raw && {
            name: 'b0',
            timeUnit,
            ...(raw.BudgetLimit
              ? {
                  limit: {
                    amount: raw.BudgetLimit.Amount === 'abc' ? Number.NaN : Number(raw.BudgetLimit.Amount),
                    unit: raw.BudgetLimit.Unit!,
                  },
                }
              : {}),
            actual: {
              amount: Number(raw.CalculatedSpend!.ActualSpend!.Amount),
              unit: raw.CalculatedSpend!.ActualSpend!.Unit!,
            },
            ...(raw.CalculatedSpend!.ForecastedSpend
              ? {
                  forecast: {
                    amount: Number(raw.CalculatedSpend!.ForecastedSpend.Amount),
                    unit: raw.CalculatedSpend!.ForecastedSpend.Unit!,
                  },
                }
              : {}),
            periodStart: '2024-01-01T00:00:00.000Z',
            periodEnd: '2087-06-15T00:00:00.000Z',
          };
          const thresholds = { alertPercent: c.thresholds[0], actionPercent: c.thresholds[1] };
          // Act
          const evaluation = evaluateBudget('b0', snapshot, thresholds, TEST_NOW);
          // Assess
          if (timeUnit === 'WEEKLY' && b.kind !== 'missing') {
            assert.deepEqual(
              evaluation.problems.map((p) => p.kind),
              ['unknown-time-unit'],
            );
          } else if (b.kind !== 'ok') {
            assert.deepEqual(
              evaluation.problems.map((p) => p.kind),
              [PROBLEM_OF[b.kind]],
            );
          } else {
            assert.deepEqual(evaluation.problems, []);
            assert.ok(Number.isFinite(evaluation.percentUsed!), 'percentUsed is not a number');
            assert.deepEqual(
              evaluation.crossed.map((t) => t.key),
              expectedCrossed(b, c.thresholds),
            );
          }
          if (evaluation.problems.length > 0) assert.deepEqual(evaluation.crossed, [], 'crossed with a problem');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('stops only allowed instances, never twice, and delivers each alert exactly once over concurrent and repeated runs', async () => {
    const stats = { stopped: 0, failedStops: 0, slackFailed: 0, alerts: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(budgetSpecArb, { minLength: 1, maxLength: 3 }),
        fc.array(instanceSpecArb, { minLength: 1, maxLength: 10 }),
        configSpecArb,
        fc.oneof(
          { arbitrary: fc.constant(0), weight: 3 },
          { arbitrary: fc.constantFrom(1, 2, Number.POSITIVE_INFINITY), weight: 1 },
        ),
        async (budgetSpecs, instanceSpecs, c, slackFailures) => {
          // Prepare
          world = {
            ec2: new FakeEc2({
              instances: instanceSpecs.map(materialize),
              types: EC2_TYPES,
              faults: faultsOf(instanceSpecs),
            }),
            budgets: budgetSpecs.flatMap((b, i) => describeBudget(b, `b${i}`) ?? []),
            slackFailures,
            posts: [],
            mutations: 0,
          };
          world.ec2.routeOn(fakes);
          table.items.clear();
          // (the mocks' call history is not asserted here: kept over a thousand runs it only burdens the GC)
          for (const m of [ec2Mock, budgetsMock, table.mock]) m.resetHistory();
          const config = toConfig(c, budgetSpecs);
          const run = (event: unknown, now = TEST_NOW) =>
            settle(
              budgetsCapability.run(
                testContext({ config, now, dryRun: c.dryRun, notifier, stateTableName: 'state' }),
                event,
              ),
            );

          // Act: the schedule and an SNS notification at once, then (Slack back) the Lambda retry, and the next
          // scheduled run an hour later (same period, past the claim lease)
          const concurrent = await Promise.all([run(SCHEDULE), run(snsEvent('b0'))]);
          world.slackFailures = 0;
          const retry = await run(SCHEDULE);
          const later = await run(SCHEDULE, new Date(TEST_NOW.getTime() + 3_600_000));
          const summaries = [...concurrent, retry, later];

          // Assess: dry-run and notify change nothing
          const mutating = !c.dryRun && c.action === 'stop-non-essential';
          if (!mutating) assert.equal(world.mutations, 0, 'a mutating EC2 call in dry-run or notify mode');

          // Assess: each state change was a stop of an allowed instance, for a budget at its action threshold
          for (const s of world.ec2.changes) {
            assert.equal(s.operation, 'StopInstances', `${s.id}: ${s.operation} by the budget guard`);
            const index = budgetSpecs.findIndex((_, i) => `b${i}` === s.tags[STOPPED_BUDGET]);
            assert.ok(index >= 0, `${s.id} stopped without a stopped-budget tag`);
            const b = budgetSpecs[index]!;
            assert.ok(b.kind === 'ok' && b.percent >= c.thresholds[1], `${s.id} stopped for b${index} under action`);
            const inst = world.ec2.get(s.id);
            const reason = forbiddenReason(
              { tags: s.tags, type: inst.type, state: s.from },
              scopeOf(index, b),
              c.stopScope,
            );
            assert.equal(reason, undefined, `${s.id} stopped for b${index} although: ${reason}`);
          }
          // ...and never twice
          for (const [id, n] of world.ec2.effects) assert.equal(n, 1, `${id} stopped ${n} times`);

          // Assess: each alert of the period delivered exactly once over the four runs
          const delivered = new Map<string, number>();
          for (const s of summaries) {
            for (const b of s.budgets)
              for (const k of b.alerted) delivered.set(`${b.name}/${k}`, (delivered.get(`${b.name}/${k}`) ?? 0) + 1);
          }
          const expected = budgetSpecs.flatMap((b, i) => expectedCrossed(b, c.thresholds).map((k) => `b${i}/${k}`));
          assert.deepEqual([...delivered.keys()].sort(), [...expected].sort(), 'alerts delivered');
          for (const [key, n] of delivered) assert.equal(n, 1, `${key} delivered ${n} times`);
          // ...the summaries tell the truth: one Slack post per budget alerted in a run
          // (besides the results posted after stops that failed, which correct what an alert announced)
          const alertedPairs = summaries.reduce((n, s) => n + s.budgets.filter((b) => b.alerted.length > 0).length, 0);
          const alertPosts = world.posts.filter((p) => !/ announced instance\(s\) stopped$/.test(p.text));
          assert.equal(alertPosts.length, alertedPairs, 'posts vs alerted budgets');
          const failedRuns = summaries.reduce(
            (n, s) => n + s.budgets.filter((b) => b.stops.some((st) => st.status === 'failed')).length,
            0,
          );
          assert.equal(world.posts.length - alertPosts.length, mutating ? failedRuns : 0, 'stop results posted');
          // ...including what Slack refused in the concurrent runs: the other run or the Lambda retry sends it (not
          // only the next scheduled run, once the claim lease has run out)
          const keys = (s: BudgetsSummary, of: 'alerted' | 'deliveryFailed') =>
            s.budgets.flatMap((b) => b[of].map((k) => `${b.name}/${k}`));
          const refused = concurrent.flatMap((s) => keys(s, 'deliveryFailed'));
          const resent = new Set([...concurrent, retry].flatMap((s) => keys(s, 'alerted')));
          for (const key of refused) assert.ok(resent.has(key), `${key} refused by Slack, not resent by the retry`);
          if (refused.length > 0) stats.slackFailed += 1;

          // Assess: every stop outcome reported, failures as failed
          for (const [r, s] of summaries.entries()) {
            for (const b of s.budgets) {
              for (const st of b.stops) {
                if (st.status === 'done') {
                  assert.ok(
                    world.ec2.effects.has(st.instanceId),
                    `run ${r}: ${st.instanceId} reported stopped, was not`,
                  );
                } else if (st.status === 'failed') {
                  assert.ok(st.errorCode, `run ${r}: ${st.instanceId} failed without an error code`);
                  stats.failedStops += 1;
                } else {
                  assert.ok(!mutating, `run ${r}: ${st.instanceId} ${st.status} while stopping`);
                }
              }
            }
          }
          for (const id of world.ec2.effects.keys()) {
            assert.ok(
              summaries.some((s) =>
                s.budgets.some((b) => b.stops.some((st) => st.instanceId === id && st.status === 'done')),
              ),
              `${id} stopped but never reported`,
            );
          }
          stats.stopped += world.ec2.effects.size;
          stats.alerts += delivered.size;
        },
      ),
      { numRuns: RUNS },
    );
    // The property is not vacuous.
    expect(stats.stopped).toBeGreaterThan(RUNS / 5);
    expect(stats.failedStops).toBeGreaterThan(RUNS / 50);
    expect(stats.slackFailed).toBeGreaterThan(RUNS / 50);
    expect(stats.alerts).toBeGreaterThan(RUNS);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// At fleet scale, and only on the budget the user configured
// ---------------------------------------------------------------------------------------------------------------

describe('Proof: budget guard acts only on the configured budget, after a readable warning, in batches', () => {
  const BUDGET = 'ml <!channel> *team*';
  const SCOPE = { team: 'ml' };
  const BATCH = 10; // ACTION_BATCH_SIZE of the shared EC2 writer
  type LogEntry =
    | { readonly kind: 'post'; readonly text: string; readonly accepted: boolean }
    | { readonly kind: 'stop'; readonly ids: readonly string[] };

  // Created in beforeAll: the properties above hold the module's mocks until their afterAll.
  const newEc2Mock = () => mockClient(EC2Client);
  const newBudgetsMock = () => mockClient(BudgetsClient);
  let ec2m: ReturnType<typeof newEc2Mock>;
  let budgetsm: ReturnType<typeof newBudgetsMock>;
  let table: FakeStateTable;
  let ec2: FakeEc2;
  let log: LogEntry[];
  let slackDown: number;
  let live: { amount: string; unit: string } | undefined;
  let spend: string;

  beforeAll(() => {
    ec2m = newEc2Mock();
    budgetsm = newBudgetsMock();
  });
  afterAll(() => {
    ec2m.restore();
    budgetsm.restore();
  });
  beforeEach(() => {
    ec2m.resetHistory();
    table = fakeStateTable();
    log = [];
    slackDown = 0;
    live = { amount: '1000', unit: 'USD' };
    spend = '960';
  });
  afterEach(() => table.mock.restore());

  /** `n` running, in-scope g5.xlarge instances (plus `extra`), on a fake EC2 that logs each StopInstances call. */
  function givenFleet(n: number, extra: FakeEc2Instance[] = []): void {
    ec2 = new FakeEc2({
      instances: [
        ...Array.from({ length: n }, (_, i) =>
          fakeInstance(`i-${i.toString(16).padStart(17, '0')}`, { tags: { ...SCOPE } }),
        ),
        ...extra,
      ],
    });
    const fakes = new RoutedFakes();
    ec2.routeOn(fakes);
    fakes.route(DescribeBudgetsCommand, () => ({
      Budgets: [
        {
          BudgetName: BUDGET,
          BudgetType: 'COST',
          TimeUnit: 'MONTHLY',
          ...(live ? { BudgetLimit: { Amount: live.amount, Unit: live.unit } } : {}),
          CalculatedSpend: { ActualSpend: { Amount: spend, Unit: 'USD' } },
          TimePeriod: { Start: new Date('2024-01-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
        },
      ],
    }));
    const send = async (command: { constructor: unknown; input: { InstanceIds?: string[] } }) => {
      if (command instanceof StopInstancesCommand)
        log.push({ kind: 'stop', ids: [...(command.input.InstanceIds ?? [])] });
      return fakes.dispatch(command);
    };
    ec2m.send.callsFake(send as never);
    budgetsm.send.callsFake(send as never);
  }

  const notifier: Notifier = {
    kind: 'slack',
    async post(message: SlackMessage) {
      const text = messageToText(message);
      if (slackDown > 0) {
        slackDown -= 1;
        log.push({ kind: 'post', text, accepted: false });
        throw new SlackDeliveryError('Slack did not accept the message: HTTP 500', 'slack_webapi_http_error');
      }
      log.push({ kind: 'post', text, accepted: true });
      return { channel: '#c', ts: `1700000000.${log.length}` };
    },
  };

  const run = (o: { limitUsd?: number; now?: Date; event?: unknown } = {}) =>
    settle(
      budgetsCapability.run(
        testContext({
          config: {
            budgets: {
              action: 'stop-non-essential',
              items: [
                { name: BUDGET, scopeTags: SCOPE, ...(o.limitUsd !== undefined ? { limitUsd: o.limitUsd } : {}) },
              ],
            },
          },
          notifier,
          stateTableName: 'state',
          ...(o.now ? { now: o.now } : {}),
        }),
        o.event ?? SCHEDULE,
      ),
    );
  const stopCalls = () => log.filter((e): e is Extract<LogEntry, { kind: 'stop' }> => e.kind === 'stop');
  const posts = () => log.filter((e): e is Extract<LogEntry, { kind: 'post' }> => e.kind === 'post');
  const stopped = () => [...ec2.effects.keys()];
  const mutatingCalls = () =>
    ec2m.calls().filter((c) => {
      const name = (c.args[0] as { constructor: { name: string } }).constructor.name;
      return name === 'StopInstancesCommand' || name === 'CreateTagsCommand';
    }).length;

  /** Every instance stopped was named by a Slack post that Slack accepted before its StopInstances call. */
  function assertWarnedBeforeStopped(): void {
    const announced = new Set<string>();
    for (const e of log) {
      if (e.kind === 'post') {
        if (e.accepted) for (const m of e.text.matchAll(/`(i-[0-9a-f]+)`/g)) announced.add(m[1]!);
      } else {
        for (const id of e.ids) assert.ok(announced.has(id), `${id} asked to stop before an accepted alert named it`);
      }
    }
  }

  it('stops nothing for a budget whose live limit is not the configured limitUsd, and says so once a period', async () => {
    // Prepare: configured $1,000; someone raised the live budget to $1,500 (spend $1,450 is 96.7% of it)
    givenFleet(3);
    live = { amount: '1500', unit: 'USD' };
    spend = '1450';
    // Act
    const first = await run({ limitUsd: 1000 });
    const second = await run({ limitUsd: 1000, now: new Date(TEST_NOW.getTime() + 3_600_000) });
    // Assess: nothing tagged or stopped
    assert.equal(mutatingCalls(), 0, 'a mutating EC2 call for a budget whose limit differs');
    assert.deepEqual(stopped(), []);
    const report = first.budgets[0]!;
    assert.deepEqual(report.held, ['action-95']);
    assert.equal(report.limitMismatch?.reason, 'amount');
    assert.ok(report.alerted.includes('limit-mismatch'), `alerted: ${report.alerted}`);
    assert.deepEqual(second.budgets[0]!.alreadySent.includes('limit-mismatch'), true);
    // ...one mismatch alert in the period, naming both limits, the budget name escaped where Slack parses mrkdwn
    const mismatchPosts = posts().filter((p) => p.text.includes('its limit is not the configured one'));
    assert.equal(mismatchPosts.length, 1);
    assert.match(mismatchPosts[0]!.text, /Configured \(limitUsd\)\*: \$1,000\.00/);
    assert.match(mismatchPosts[0]!.text, /Live \(AWS Budgets\)\*: \$1,500\.00/);

    // Act: the limit is set back (in cents it agrees: 1000.001), the spend is over the action threshold
    live = { amount: '1000.001', unit: 'USD' };
    spend = '960';
    const agreed = await run({ limitUsd: 1000, now: new Date(TEST_NOW.getTime() + 2 * 3_600_000) });
    // Assess: the held action now announces and stops
    assert.equal(stopped().length, 3);
    assert.deepEqual(agreed.budgets[0]!.held, []);
    assertWarnedBeforeStopped();
  });

  it('treats a unit other than USD, or no fixed limit, as a mismatch', async () => {
    for (const [amount, unit] of [
      ['1000', 'EUR'],
      ['1000', 'GB'],
    ] as const) {
      table.items.clear();
      givenFleet(2);
      live = { amount, unit };
      const summary = await run({ limitUsd: 1000 });
      assert.equal(mutatingCalls(), 0, `stopped with a ${unit} limit`);
      assert.equal(summary.budgets[0]!.limitMismatch?.reason, 'unit');
      ec2m.resetHistory();
    }
    table.items.clear();
    live = undefined;
    const none = await run({ limitUsd: 1000 });
    assert.equal(mutatingCalls(), 0, 'stopped with no fixed limit');
    assert.equal(none.budgets[0]!.limitMismatch?.reason, 'no-limit');
    assert.ok(posts().some((p) => p.text.includes('none (the budget has no BudgetLimit)')));
  });

  it('stops nothing while Slack does not accept the alert, over the event and its Lambda retries', async () => {
    // Prepare
    givenFleet(30);
    slackDown = Number.POSITIVE_INFINITY;
    // Act: one scheduled event delivered three times (the call and two Lambda retries), Slack down throughout
    const attempts = [await run(), await run(), await run()];
    // Assess
    assert.equal(mutatingCalls(), 0, 'tagged or stopped without a delivered warning');
    for (const s of attempts) assert.ok(s.budgets[0]!.deliveryFailed.includes('action-95'));
    assert.ok(posts().length >= 3 && posts().every((p) => !p.accepted));
    // Act: Slack back
    slackDown = 0;
    await run();
    // Assess: now it warns, then stops
    assert.equal(stopped().length, 30);
    assertWarnedBeforeStopped();
  });

  it('stops at most budgets.maxStopsPerRun of 5,000 instances in scope, in batch calls, and says how many are left', async () => {
    // Prepare: 5,000 running GPU instances in scope; the default limit is 50 a run
    givenFleet(5000);
    // Act
    const first = await run();
    // Assess: 50 stopped, in ceil(50 / batch) StopInstances calls (no split: nothing failed), one CreateTags call
    const limit = 50;
    assert.equal(stopped().length, limit);
    assert.ok(stopCalls().length <= Math.ceil(limit / BATCH), `${stopCalls().length} StopInstances calls`);
    assert.equal(ec2m.commandCalls(CreateTagsCommand).length, 1);
    assert.equal(first.budgets[0]!.deferred, 5000 - limit);
    assert.match(posts()[0]!.text, /stopping 50 non-essential instance\(s\) now.*4950 more to stop next run/s);
    assertWarnedBeforeStopped();

    // Act: the next hourly run goes on with the next batch, announced first; the alert itself is not repeated
    const next = await run({ now: new Date(TEST_NOW.getTime() + 3_600_000) });
    // Assess
    assert.equal(stopped().length, 2 * limit);
    assert.deepEqual(next.budgets[0]!.alerted, []);
    assert.equal(next.budgets[0]!.deferred, 5000 - 2 * limit);
    assert.match(posts().at(-1)!.text, /still at 96\.0%: stopping 50 more instance\(s\)/);
    for (const [id, n] of ec2.effects) assert.equal(n, 1, `${id} stopped ${n} times`);
    assertWarnedBeforeStopped();
  });

  it('splits a failing StopInstances batch into one call per instance and reports each outcome', async () => {
    // Prepare: ten in scope; a one-time Spot instance among them fails the whole batch call
    givenFleet(9, [
      fakeInstance('i-spot', { type: 'p4d.24xlarge', tags: { ...SCOPE }, lifecycle: 'spot', spotType: 'one-time' }),
    ]);
    // Act
    const summary = await run();
    // Assess: one batch of 10 failed, then one call per instance
    const calls = stopCalls();
    assert.equal(calls[0]!.ids.length, 10, 'the first call is a batch');
    assert.deepEqual(
      calls.slice(1).map((c) => c.ids.length),
      Array(10).fill(1),
    );
    assert.ok(calls.length <= Math.ceil(10 / BATCH) + 10);
    // ...each outcome reported: nine stopped, the Spot instance failed with its own error and a note
    const stops = summary.budgets[0]!.stops;
    assert.equal(stops.length, 10);
    assert.equal(stops.filter((s) => s.status === 'done').length, 9);
    assert.deepEqual(
      stops.filter((s) => s.status === 'failed').map((s) => [s.instanceId, s.errorCode]),
      [['i-spot', 'UnsupportedOperation']],
    );
    assert.equal(ec2.get('i-spot').state, 'running');
    assert.equal(stopped().length, 9);
    // ...and Slack hears that the announced stop of i-spot did not happen
    assert.match(
      posts().at(-1)!.text,
      /9 of 10 announced instance\(s\) stopped[\s\S]*`i-spot`[\s\S]*UnsupportedOperation/,
    );
  });

  it('never stops more than the limit per run or per scheduled period, and always warns first (fleets up to 200)', async () => {
    let total = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.constantFrom(0, 0, 1, 2), { minLength: 4, maxLength: 4 }),
        async (n, maxStopsPerRun, slackFailures) => {
          // Prepare
          table.items.clear();
          log = [];
          givenFleet(n);
          ec2m.resetHistory();
          const config = {
            budgets: {
              action: 'stop-non-essential' as const,
              maxStopsPerRun,
              items: [{ name: BUDGET, scopeTags: SCOPE }],
            },
          };
          // Act: per hour, the scheduled event and its Lambda retry (same period), four hours
          const runs: BudgetsSummary[] = [];
          const perPeriod: number[] = [];
          for (const [hour, failures] of slackFailures.entries()) {
            const now = new Date(TEST_NOW.getTime() + hour * 3_600_000);
            const before = stopped().length;
            slackDown = failures;
            for (let delivery = 0; delivery < 2; delivery++) {
              const ctx = testContext({ config, notifier, stateTableName: 'state', now });
              const s = await settle(budgetsCapability.run(ctx, SCHEDULE));
              runs.push(s);
              // Assess: at most the limit a run
              assert.ok(s.instancesStopped <= maxStopsPerRun, `${s.instancesStopped} stopped in one run`);
            }
            perPeriod.push(stopped().length - before);
          }
          // Assess: at most the limit a scheduled period, never twice, always named by an accepted post first
          for (const k of perPeriod) assert.ok(k <= maxStopsPerRun, `${k} stopped in one period`);
          for (const [id, times] of ec2.effects) assert.equal(times, 1, `${id} stopped ${times} times`);
          assertWarnedBeforeStopped();
          // ...and what is left is reported: deferred + stopped so far = in scope
          const last = runs.at(-1)!.budgets[0]!;
          if (last.deferred !== undefined && last.deferred > 0) {
            assert.equal(last.deferred + stopped().length, n, 'deferred + stopped');
          }
          total += stopped().length;
        },
      ),
      { numRuns: 60 },
    );
    expect(total).toBeGreaterThan(100);
  });
});
