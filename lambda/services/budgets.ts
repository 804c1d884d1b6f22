/**
 * The budget guard: reads the watched AWS Budgets, alerts Slack once per (budget, period, threshold) at
 * `alertPercent`, and at `actionPercent` alerts and (with `action: stop-non-essential`) stops the running
 * non-essential instances in the budget's scope. The schedule and the Budgets SNS notifications run this same code;
 * an SNS message only says which budget prompted the run, the figures always come from DescribeBudgets.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

import { readWatchedBudgets } from '../adapters/budgets';
import type { ClientFactory } from '../adapters/clients';

import { ACTION_BATCH_SIZE, Ec2Writer, InstanceTypeCatalog, instanceFilters, listInstances } from '../adapters/ec2';
import { activeKeeps } from '../adapters/keep-store';
import type { LaunchCapStore } from '../adapters/launch-cap-store';
import { describeAccountFailure } from '../adapters/organizations';
import { postAll } from '../adapters/slack';

import {
  alertKey,
  DynamoStateStore,
  describeClaimConflict,
  MemoryStateStore,
  type StateKey,
  type StateStore,
} from '../adapters/state-store';

import {
  countSkipped,
  listSkipped,
  type SkippedIds,
  type SkippedInstance,
  selectStopCandidates,
} from '../core/budgets/candidates';

import { type Trigger, triggerOf } from '../core/budgets/event';

import {
  type ActionMode,
  type BudgetButtons,
  budgetAlertMessages,
  budgetLimitMismatchMessage,
  budgetProblemMessage,
  budgetStopContinuationMessages,
  budgetStopResultMessages,
  type InstanceStoreWarning,
  MAX_NEXT_LISTED,
  type StopOutcome,
  type UnreachableAccount,
} from '../core/budgets/messages';
import { currentPeriod } from '../core/budgets/period';

import {
  type BudgetEvaluation,
  type BudgetProblem,
  type CrossedThreshold,
  evaluateBudget,
  type LimitMismatch,
  limitMismatch,
} from '../core/budgets/policy';

import type { CountedSkips } from '../core/budgets/report';
import {
  STOPPED_AT_TAG,
  STOPPED_BUDGET_TAG,
  STOPPED_BY_TAG,
  STOPPED_BY_VALUE,
  STOPPED_TAG_KEYS,
} from '../core/budgets/tags';
import type { BudgetItemConfig } from '../core/config';
import type { InstanceFacts } from '../core/instances';
import { formatPercentValue } from '../core/money';
import { DIMENSION, METRIC } from '../core/names';
import { monthlySavingsOfStop, round2 } from '../core/savings/calculators';
import { actionPeriod } from '../core/schedule';
import type { SlackMessage } from '../core/slack-blocks';
import { tagValue } from '../core/tags';

import type { CapabilityModule } from '../runtime/capability';
import { keyScopeOf, type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';
import { SpokeClients } from '../runtime/spoke';

import { errorCode, errorMessage } from '../shared/errors';
import {
  hasLaunchCap,
  type LaunchCapPlan,
  type LaunchCapReport,
  type LaunchCapRun,
  launchCapStore,
  planLaunchCap,
  settleLaunchCap,
} from './launch-cap';

export interface BudgetReport {
  readonly name: string;
  readonly problems: readonly BudgetProblem[];
  readonly period?: string;
  readonly daysLeft?: number;
  readonly limitUsd?: number;
  readonly actualUsd?: number;
  readonly forecastUsd?: number;
  readonly percentUsed?: number;
  readonly forecastPercent?: number;
  /** Threshold keys the budget is at or over ('alert-80', 'action-95', 'forecast-100'). */
  readonly crossed: readonly string[];
  /** Threshold keys alerted in this run. */
  readonly alerted: readonly string[];
  /** Threshold keys already alerted earlier in this period. */
  readonly alreadySent: readonly string[];
  /** Threshold keys another run is alerting right now. */
  readonly inFlight: readonly string[];
  /** Threshold keys whose alert Slack did not accept (left unsent for the retry). */
  readonly deliveryFailed: readonly string[];
  /** Action thresholds crossed but not acted on: the live budget's limit is not the configured `limitUsd`. */
  readonly held?: readonly string[];
  /** Present when the live budget's limit is not the configured `limitUsd`. */
  readonly limitMismatch?: LimitMismatch;
  /** This run's stop outcomes (announced first, then made). */
  readonly stops: readonly StopOutcome[];
  /** Instances in scope left for the next run (budgets.maxStopsPerRun, the per-period limit, or time ran short). */
  readonly deferred?: number;
  /** In a run that goes on with an action announced earlier in the period: instances stopped by earlier runs. */
  readonly stoppedEarlier?: number;
  readonly skipped?: CountedSkips;
  /** The skipped instances worth naming, by reason (`cost-guard plan --details` lists them). */
  readonly skippedIds?: SkippedIds;
  /** What this run did with the budget's GPU launch cap (budgets.launchCap), when it did anything. */
  readonly launchCap?: LaunchCapReport;
  /** Linked accounts (the item's `accounts`) not reached at the action threshold in this run, with the reason. */
  readonly unreachableAccounts?: readonly UnreachableAccount[];
}

export interface BudgetsSummary extends RunSummary {
  readonly capability: 'budgets';
  readonly trigger: Trigger;
  /** Budget names named by the SNS notifications that triggered the run. */
  readonly notifiedBudgets: readonly string[];
  /** False without a state table: every run alerts again. */
  readonly deduplicated: boolean;
  readonly mode: ActionMode;
  readonly budgets: readonly BudgetReport[];
  readonly alertsSent: number;
  readonly instancesStopped: number;
  readonly deliveryFailures: number;
}

/**
 * The run did not finish what it took on: Slack refused an alert, an alert's record could not be written, or EC2
 * could not be read for the action threshold. What was not done stays claimable, and the run fails so that Lambda
 * retries it and the errors alarm fires.
 */
export class BudgetRunIncompleteError extends RunIncompleteError<BudgetsSummary> {
  constructor(message: string, summary: BudgetsSummary, options?: { cause?: unknown }) {
    super(message, summary, options);
    this.name = 'BudgetRunIncompleteError';
  }
}

/**
 * An instance in a budget's scope, with the linked account it runs in (a payer budget's `accounts`, reached through
 * the spoke role); `accountId` is absent for the run's own account, whose instances are handled as they always were.
 */
type Candidate = InstanceFacts & { readonly accountId?: string };

/**
 * What names an instance in the per-period stop limit and in the action record's list of stopped instances: its ID,
 * prefixed by its account when it is a linked account's (so one account's instance never stands for another's).
 */
const candidateKey = (c: { readonly instanceId: string; readonly accountId?: string }): string =>
  c.accountId ? `${c.accountId}/${c.instanceId}` : c.instanceId;

interface RunState {
  readonly ctx: RunContext;
  readonly store: StateStore;
  readonly catalog: InstanceTypeCatalog;
  /** Batched EC2 writes (tag, stop, untag), one writer per account and region. */
  readonly writer: (region: string, accountId?: string) => Ec2Writer;
  /** The run's own account (known once the budgets are read). */
  ownAccountId?: string;
  /** Clients of the linked accounts reached in this run, by account ID (spoke role). */
  readonly accountClients: Map<string, ClientFactory>;
  /** Made on first use: only budgets with linked accounts assume a spoke role. */
  spokes?: SpokeClients;
  readonly mode: ActionMode;
  readonly notes: string[];
  readonly failures: { key: string; error: unknown }[];
  /** Stops this run may still make: budgets.maxStopsPerRun, shared by every budget of the run. */
  stopsLeft: number;
  /** The scheduled period (start, ISO) the per-period stop limit is counted in. */
  readonly stopPeriod: string;
  /** The launch cap records (budgets.launchCap). */
  readonly capStore: LaunchCapStore;
}

const capRun = (state: RunState): LaunchCapRun => ({
  ctx: state.ctx,
  store: state.capStore,
  notes: state.notes,
  failures: state.failures,
});

/** The budget's launch cap plan; a failure to read its record is noted and fails the run, never the other work. */
async function planCap(
  state: RunState,
  item: BudgetItemConfig,
  o: Parameters<typeof planLaunchCap>[2],
): Promise<LaunchCapPlan | undefined> {
  if (!hasLaunchCap(item)) return undefined;
  try {
    return await planLaunchCap(capRun(state), item, o);
  } catch (error) {
    state.notes.push(`${item.name}: the launch cap could not be checked (${errorCode(error)}: ${errorMessage(error)})`);
    state.failures.push({ key: `${item.name}/launch-cap`, error });
    return undefined;
  }
}

async function settleCap(
  state: RunState,
  plan: LaunchCapPlan | undefined,
  o: Parameters<typeof settleLaunchCap>[2],
): Promise<LaunchCapReport | undefined> {
  if (!plan) return undefined;
  try {
    return await settleLaunchCap(capRun(state), plan, o);
  } catch (error) {
    state.notes.push(
      `${plan.budget}: the launch cap could not be applied (${errorCode(error)}: ${errorMessage(error)})`,
    );
    state.failures.push({ key: `${plan.budget}/launch-cap`, error });
    return undefined;
  }
}

/**
 * The state record name of a threshold. Records that did not reach Slack as a real alert get their own name, so they
 * never use up the real one: a dry run ('#dry-run'), the action threshold under `action: notify` ('#notify'), and
 * messages only printed or logged because no Slack token is configured ('#console'). The first real run after
 * dry-run is turned off, the action switched on or the token stored, still alerts and acts.
 */
function recordName(threshold: string, kind: CrossedThreshold['kind'] | 'problem', state: RunState): string {
  let name = threshold;
  if (state.mode === 'dry-run') name += '#dry-run';
  else if (state.mode === 'notify' && kind === 'action') name += '#notify';
  if (state.ctx.notifier.kind === 'console') name += '#console';
  return name;
}

function writerPerRegion(
  ctx: RunContext,
  accountClients: ReadonlyMap<string, ClientFactory>,
): (region: string, accountId?: string) => Ec2Writer {
  const writers = new Map<string, Ec2Writer>();
  return (region, accountId) => {
    const key = `${accountId ?? ''}|${region}`;
    let w = writers.get(key);
    if (!w) {
      const clients = accountId ? accountClients.get(accountId) : ctx.clients;
      // Only instances read through an account's clients are ever written to: a missing entry is a bug, not a guess.
      if (!clients) throw new Error(`no clients for account ${accountId}: its instances were not read in this run`);
      w = new Ec2Writer(clients.ec2(region));
      writers.set(key, w);
    }
    return w;
  };
}

/**
 * The clients of one of a budget's accounts: the run's own for its own account, else the spoke role's (one
 * AssumeRole per account and run). Throws SpokeRoleAccessError when the role cannot be assumed.
 */
async function clientsOfAccount(state: RunState, accountId: string): Promise<ClientFactory> {
  const { ctx } = state;
  if (accountId === state.ownAccountId) return ctx.clients;
  const known = state.accountClients.get(accountId);
  if (known) return known;
  state.spokes ??= new SpokeClients(
    { clients: ctx.clients, config: ctx.config, ...(state.ownAccountId ? { accountId: state.ownAccountId } : {}) },
    { capability: 'budgets', runId: ctx.target?.runId ?? ctx.holder ?? ctx.now.toISOString() },
  );
  const clients = await state.spokes.forAccount(accountId);
  state.accountClients.set(accountId, clients);
  return clients;
}

async function accountIdOf(ctx: RunContext): Promise<string> {
  if (ctx.accountId) return ctx.accountId;
  const id = await ctx.clients.sts().send(new GetCallerIdentityCommand({}));
  if (!id.Account) throw new Error('STS GetCallerIdentity returned no account; AWS Budgets needs the account ID');
  return id.Account;
}

function instanceStoreWarning(state: RunState, stops: readonly StopOutcome[]): InstanceStoreWarning {
  const acted = stops.filter((s) => s.status !== 'failed');
  let known = true;
  const types = new Set<string>();
  for (const s of acted) {
    const facts = state.catalog.get(s.instanceType);
    if (!facts) known = false;
    else if (facts.instanceStorage) types.add(s.instanceType);
  }
  return { known, types: [...types].sort() };
}

/** Stops are made a chunk at a time (one StopInstances call per region a chunk); the deadline is checked before each. */
const STOP_CHUNK = ACTION_BATCH_SIZE;
/** Time kept in hand once the stops end: recording the alert, the result message, the ledger and the metrics. */
export const DEADLINE_MARGIN_MS = 30_000;

/** True when the Lambda's remaining time is under the margin (never for the CLI, which has no deadline). */
function timeShort(ctx: RunContext): boolean {
  return ctx.remainingTimeMs !== undefined && ctx.remainingTimeMs() < DEADLINE_MARGIN_MS;
}

interface CandidateScan {
  readonly candidates: Candidate[];
  readonly skipped: CountedSkips;
  readonly skippedIds: SkippedIds;
  /** Linked accounts that could not be scanned (their instances are neither counted nor stopped). */
  readonly unreachable: UnreachableAccount[];
}

/**
 * The running, in-scope, non-essential instances of one budget in every region of the run, dearest first: in the
 * run's own account, or, for a budget with linked `accounts`, in each of them through its spoke role. A linked
 * account that cannot be reached (role missing or not trusting the hub, EC2 refusing) is reported with its reason
 * and noted as a failure of the run; the other accounts are scanned and acted on all the same.
 */
async function selectCandidates(state: RunState, item: BudgetItemConfig): Promise<CandidateScan> {
  const { ctx } = state;
  const candidates: Candidate[] = [];
  const skippedAll: SkippedInstance[] = [];
  const unreachable: UnreachableAccount[] = [];
  if (item.accounts.length === 0) {
    await scanAccount(state, item, ctx.clients, undefined, candidates, skippedAll);
  } else {
    for (const accountId of [...new Set(item.accounts)]) {
      // Scanned into a scratch list first: an account that fails halfway adds nothing.
      const found: Candidate[] = [];
      const skipped: SkippedInstance[] = [];
      try {
        const clients = await clientsOfAccount(state, accountId);
        await scanAccount(
          state,
          item,
          clients,
          accountId === state.ownAccountId ? undefined : accountId,
          found,
          skipped,
        );
      } catch (error) {
        const reason = describeAccountFailure(error);
        unreachable.push({ accountId, reason });
        state.failures.push({ key: `${item.name}/account-${accountId}`, error });
        state.notes.push(`${item.name}: account ${accountId} not reached (${reason}); nothing there is stopped`);
        ctx.log.warn('budget account not reached', { budget: item.name, accountId, error: errorMessage(error) });
        continue;
      }
      candidates.push(...found);
      skippedAll.push(...skipped);
    }
  }
  // When not all can be stopped in this run, the ones that cost the most go first.
  const hourly = (i: InstanceFacts) => savingsOf(ctx, i)?.hourlyUsd ?? 0;
  candidates.sort(
    (a, b) =>
      hourly(b) - hourly(a) || (candidateKey(a) < candidateKey(b) ? -1 : candidateKey(a) > candidateKey(b) ? 1 : 0),
  );
  return { candidates, skipped: countSkipped(skippedAll), skippedIds: listSkipped(skippedAll), unreachable };
}

/** One account's candidates in every region of the run, added to `candidates` (`accountId` set for a linked one). */
async function scanAccount(
  state: RunState,
  item: BudgetItemConfig,
  clients: ClientFactory,
  accountId: string | undefined,
  candidates: Candidate[],
  skippedAll: SkippedInstance[],
): Promise<void> {
  const { ctx } = state;
  for (const [index, region] of ctx.regions.entries()) {
    ctx.progress?.({ kind: 'region', region, index: index + 1, total: ctx.regions.length });
    const ec2 = clients.ec2(region);
    const instances = await listInstances(ec2, region, instanceFilters(['running'], item.scopeTags));
    ctx.progress?.({
      kind: 'read',
      what: `running instances in scope of ${item.name}${accountId ? ` in account ${accountId}` : ''}`,
      count: instances.length,
      region,
    });
    const types = await state.catalog.resolve(
      ec2,
      region,
      instances.map((i) => i.instanceType),
    );
    if (!state.catalog.available(region)) {
      state.notes.push(
        `DescribeInstanceTypes failed in ${region}: GPU types unknown there, nothing stopped by GPU scope`,
      );
    }
    // Keeps set from Slack ("keep this one running") or with `cost-guard keep`: one Query per region, in the hub's
    // state table (a linked account's keeps are scoped by that account). When they cannot be read, nothing in the
    // region is stopped (a kept instance must not be stopped by mistake).
    let kept: ReadonlyMap<string, unknown> = new Map();
    if (ctx.stateTableName) {
      try {
        const scope = accountId ?? keyScopeOf(ctx);
        kept = await activeKeeps(ctx.clients.dynamodb(), ctx.stateTableName, region, ctx.now, scope);
      } catch (error) {
        const where = accountId ? `${region} (account ${accountId})` : region;
        state.notes.push(`${where}: keeps could not be read (${errorCode(error)}): nothing stopped there this run`);
        continue;
      }
    }
    const selection = selectStopCandidates(instances, {
      scopeTags: item.scopeTags,
      tags: ctx.config.tags,
      stopScope: ctx.config.budgets.stopScope,
      typeFacts: (_region, t) => types.get(t),
      isKept: (i) => kept.has(i.instanceId),
    });
    skippedAll.push(...selection.skipped);
    candidates.push(...selection.candidates.map((i) => (accountId ? { ...i, accountId } : i)));
  }
}

function savingsOf(ctx: RunContext, instance: InstanceFacts) {
  return monthlySavingsOfStop(instance.instanceType, ctx.pricing, {
    spot: instance.lifecycle === 'spot',
    region: instance.region,
  });
}

function outcomeOf(ctx: RunContext, instance: Candidate, status: StopOutcome['status']): StopOutcome {
  const savings = savingsOf(ctx, instance);
  const name = tagValue(instance.tags, 'Name');
  return {
    instanceId: instance.instanceId,
    region: instance.region,
    instanceType: instance.instanceType,
    ...(instance.accountId ? { accountId: instance.accountId } : {}),
    ...(name ? { name } : {}),
    ...(savings ? { hourlyUsd: savings.hourlyUsd, monthlyUsd: savings.monthlyUsd } : {}),
    status,
  };
}

/**
 * The candidates this run stops (or would): at most what is left of `budgets.maxStopsPerRun` in this run, and (when
 * stopping) what the per-period reservation in the state table grants, so that retries and overlapping runs of one
 * scheduled period together stop no more. Nothing when the Lambda's time already runs short. The rest is deferred
 * (`rest`, in the order later runs would stop them).
 */
async function planStops(
  state: RunState,
  candidates: readonly Candidate[],
): Promise<{ planned: Candidate[]; deferred: number; rest: Candidate[] }> {
  const { ctx } = state;
  if (timeShort(ctx)) {
    if (candidates.length > 0) state.notes.push("The run's time ran short: nothing more is stopped in this run.");
    return { planned: [], deferred: candidates.length, rest: [...candidates] };
  }
  let planned = candidates.slice(0, Math.max(0, state.stopsLeft));
  if (state.mode === 'stop' && planned.length > 0) {
    const granted = new Set(
      await state.store.reserveActions({
        capability: 'budgets',
        scope: 'stops',
        period: state.stopPeriod,
        limit: ctx.config.budgets.maxStopsPerRun,
        targets: planned.map(candidateKey),
        now: ctx.now,
      }),
    );
    if (granted.size < planned.length) {
      state.notes.push(
        `${planned.length - granted.size} stop(s) over the per-period limit (budgets.maxStopsPerRun in period ` +
          `${state.stopPeriod}) are left for the next period`,
      );
    }
    planned = planned.filter((i) => granted.has(candidateKey(i)));
  }
  state.stopsLeft -= planned.length;
  const chosen = new Set(planned.map(candidateKey));
  return {
    planned,
    deferred: candidates.length - planned.length,
    rest: candidates.filter((i) => !chosen.has(candidateKey(i))),
  };
}

/**
 * The buttons of this budget's action messages (slack.interactivity on, stopping for real), or undefined. "Keep this
 * one running" keeps an instance until the budget period ends, at most slack.maxKeepHours.
 */
function budgetButtons(ctx: RunContext, mode: ActionMode, periodEnd: string): BudgetButtons | undefined {
  if (!ctx.config.slack.interactivity || mode !== 'stop') return undefined;
  const { maxKeepHours } = ctx.config.slack;
  const untilEnd = Math.ceil((Date.parse(periodEnd) - ctx.now.getTime()) / 3_600_000);
  const keepRunningHours = Number.isFinite(untilEnd) ? Math.min(maxKeepHours, Math.max(1, untilEnd)) : maxKeepHours;
  return { maxKeepHours, keepRunningHours };
}

/**
 * Tags, then stops, the planned instances through the shared EC2 writer (CreateTags 100 a call, StopInstances
 * ACTION_BATCH_SIZE a call, a failed call split to one call per instance), a chunk at a time while the Lambda has
 * time. Tags come off again where the stop failed or was not made. Every instance gets its own outcome.
 * Call only after Slack accepted the alert that announced these stops.
 */
async function executeStops(
  state: RunState,
  item: BudgetItemConfig,
  planned: readonly Candidate[],
  reason: string,
): Promise<{ outcomes: StopOutcome[]; cutShort: number }> {
  const { ctx } = state;
  const tags = {
    [STOPPED_BY_TAG]: STOPPED_BY_VALUE,
    [STOPPED_AT_TAG]: ctx.now.toISOString(),
    [STOPPED_BUDGET_TAG]: item.name,
  };
  const outcomes: StopOutcome[] = [];
  // Tag first: whatever the guard stops carries the tags people and `cost-guard restore` look for.
  const tagged = await Promise.all(
    planned.map(async (instance) => ({
      instance,
      record: await ctx.actions.perform(
        {
          capability: 'budgets',
          kind: 'tag',
          target: instance.instanceId,
          region: instance.region,
          ...(instance.accountId ? { accountId: instance.accountId } : {}),
          reason: 'mark the instance as stopped by the budget guard',
          details: { tags },
        },
        () => state.writer(instance.region, instance.accountId).tag(instance.instanceId, tags),
      ),
    })),
  );
  const toStop: Candidate[] = [];
  for (const { instance, record } of tagged) {
    if (record.status !== 'failed') toStop.push(instance);
    else {
      outcomes.push({
        ...outcomeOf(ctx, instance, 'failed'),
        errorCode: record.errorCode ?? 'Unknown',
        note: 'could not tag it, so it was not stopped',
      });
    }
  }

  // One StopInstances call per account and region a chunk.
  const byRegion = new Map<string, Candidate[]>();
  for (const i of toStop) {
    const place = `${i.accountId ?? ''}|${i.region}`;
    byRegion.set(place, [...(byRegion.get(place) ?? []), i]);
  }
  const untag: { instance: Candidate; why: string }[] = [];
  let cutShort = 0;
  for (const instances of byRegion.values()) {
    for (let start = 0; start < instances.length; start += STOP_CHUNK) {
      ctx.progress?.({
        kind: 'batch',
        what: `stop batches for ${item.name}`,
        done: start / STOP_CHUNK + 1,
        total: Math.ceil(instances.length / STOP_CHUNK),
      });
      if (timeShort(ctx)) {
        const rest = instances.slice(start);
        cutShort += rest.length;
        for (const instance of rest) untag.push({ instance, why: "the run's time ran short before the stop" });
        break;
      }
      const chunk = instances.slice(start, start + STOP_CHUNK);
      const records = await Promise.all(
        chunk.map((instance) => {
          const savings = savingsOf(ctx, instance);
          return ctx.actions.perform(
            {
              capability: 'budgets',
              kind: 'stop',
              target: instance.instanceId,
              region: instance.region,
              ...(instance.accountId ? { accountId: instance.accountId } : {}),
              reason,
              ...(savings ? { monthlySavingsUsd: savings.monthlyUsd } : {}),
              details: {
                budget: item.name,
                instanceType: instance.instanceType,
                ...(savings
                  ? { hourlyUsd: savings.hourlyUsd, priceSource: savings.source, savingsNote: savings.note }
                  : {}),
              },
            },
            () => state.writer(instance.region, instance.accountId).stop(instance.instanceId),
          );
        }),
      );
      chunk.forEach((instance, n) => {
        const stopped = records[n]!;
        if (stopped.status !== 'failed') {
          outcomes.push(outcomeOf(ctx, instance, stopped.status === 'done' ? 'done' : 'dry-run'));
          return;
        }
        untag.push({ instance, why: 'the stop failed: remove the stopped-by tags again' });
        const code = stopped.errorCode ?? 'Unknown';
        const note =
          code === 'UnsupportedOperation' && instance.lifecycle === 'spot'
            ? 'a one-time Spot instance cannot be stopped; terminate it or let it run'
            : code === 'UnsupportedOperation'
              ? 'EC2 does not support stopping this instance (one-time Spot, or instance-store root volume)'
              : stopped.errorMessage;
        outcomes.push({ ...outcomeOf(ctx, instance, 'failed'), errorCode: code, ...(note ? { note } : {}) });
      });
    }
  }
  await Promise.all(
    untag.map(({ instance, why }) =>
      ctx.actions.perform(
        {
          capability: 'budgets',
          kind: 'untag',
          target: instance.instanceId,
          region: instance.region,
          ...(instance.accountId ? { accountId: instance.accountId } : {}),
          reason: why,
          details: { keys: [...STOPPED_TAG_KEYS] },
        },
        () => state.writer(instance.region, instance.accountId).untag(instance.instanceId, STOPPED_TAG_KEYS),
      ),
    ),
  );
  return { outcomes, cutShort };
}

/**
 * What the action record of a period carries from run to run: whether its alert went out already (a later run
 * then only announces the next batch of stops) and the IDs of the instances stopped so far, which later runs of
 * the period never stop again (a restore sticks).
 */
interface ActionDetail {
  readonly announced: boolean;
  readonly stopped: readonly string[];
}

/** IDs kept in a record (about 22 characters each): well inside DynamoDB's 400 KB item. */
const MAX_RECORDED_STOPS = 15_000;

function parseDetail(detail: string | undefined): ActionDetail {
  if (!detail) return { announced: false, stopped: [] };
  try {
    const parsed = JSON.parse(detail) as { announced?: unknown; stopped?: unknown; stops?: unknown };
    const ids = Array.isArray(parsed.stopped)
      ? parsed.stopped.filter((id): id is string => typeof id === 'string')
      : // records written before the IDs: whole outcomes
        Array.isArray(parsed.stops)
        ? (parsed.stops as { instanceId?: unknown }[]).flatMap((s) =>
            typeof s?.instanceId === 'string' ? [s.instanceId] : [],
          )
        : [];
    return { announced: parsed.announced === true, stopped: ids };
  } catch {
    return { announced: false, stopped: [] };
  }
}

const detailText = (d: ActionDetail): string =>
  JSON.stringify({ announced: d.announced, stopped: d.stopped.slice(-MAX_RECORDED_STOPS) });

/**
 * Claims, warns, acts and records one budget that has no problem. The order is what makes a stop safe: the alert
 * (or, in a later run of the period, the notice of the next batch) names the instances about to be stopped, and
 * nothing is stopped unless Slack accepted it. With a `limitUsd` that the live budget does not have (`mismatch`),
 * the action threshold is held: neither claimed nor acted on, until the limits agree again.
 */
async function guardBudget(
  state: RunState,
  item: BudgetItemConfig,
  evaluation: BudgetEvaluation,
  mismatch: LimitMismatch | undefined,
): Promise<BudgetReport> {
  const { ctx, store, mode } = state;
  const period = evaluation.period!;
  const held = mismatch ? evaluation.crossed.filter((t) => t.kind === 'action').map((t) => t.key) : [];
  const thresholds = evaluation.crossed.filter((t) => !held.includes(t.key));
  const claimed: { threshold: CrossedThreshold; key: StateKey; token: string; previousDetail?: string }[] = [];
  const alreadySent: string[] = [];
  const inFlight: string[] = [];
  for (const threshold of thresholds) {
    const key = alertKey(item.name, period.key, recordName(threshold.key, threshold.kind, state));
    const result = await store.claim(key, { budget: item.name, period: period.key, threshold: threshold.key });
    if (result.outcome === 'claimed') {
      claimed.push({
        threshold,
        key,
        token: result.token,
        ...(result.previousDetail ? { previousDetail: result.previousDetail } : {}),
      });
    } else if (result.outcome === 'sent') alreadySent.push(threshold.key);
    else {
      inFlight.push(threshold.key);
      // What the record says: being sent (by whom, since when), or failed with its claim still held.
      state.notes.push(`${item.name}: the ${threshold.key} alert ${describeClaimConflict(result)}`);
    }
  }
  if (held.length > 0) {
    state.notes.push(
      `${item.name}: the ${held.join(', ')} action is held: the budget's limit is not the configured one`,
    );
  }

  const action = claimed.find((c) => c.threshold.kind === 'action');
  // An earlier run of the period may have announced the action and stopped a first batch.
  const earlier = parseDetail(action?.previousDetail);
  let plan:
    | {
        planned: Candidate[];
        deferred: number;
        rest: Candidate[];
        skipped: CountedSkips;
        skippedIds: SkippedIds;
        unreachable: UnreachableAccount[];
      }
    | undefined;
  if (action) {
    try {
      const selection = await selectCandidates(state, item);
      // What an earlier run of the period stopped and someone started again stays running.
      const before = new Set(earlier.stopped);
      const candidates = selection.candidates.filter((i) => !before.has(candidateKey(i)));
      plan = {
        ...(await planStops(state, candidates)),
        skipped: selection.skipped,
        skippedIds: selection.skippedIds,
        unreachable: selection.unreachable,
      };
    } catch (error) {
      // EC2 (or the state table) could not be read: release the action's claim so the retry (or the next run)
      // announces and stops; the other thresholds are still alerted now, so an EC2 outage never silences a budget.
      await releaseQuietly(state, action.key, action.token, errorMessage(error), action.previousDetail);
      claimed.splice(claimed.indexOf(action), 1);
      state.failures.push({ key: `${item.name}/${action.threshold.key}`, error });
      state.notes.push(
        `${item.name}: the ${action.threshold.key} action could not be applied (${errorCode(error)}: ` +
          `${errorMessage(error)}); it is retried with its alert`,
      );
    }
  }
  const acting = action && plan ? action : undefined;
  const continuing = acting !== undefined && earlier.announced;
  const announcedStatus: StopOutcome['status'] =
    mode === 'stop' ? 'stopping' : mode === 'dry-run' ? 'dry-run' : 'would-stop';
  const announcedStops = (plan?.planned ?? []).map((i) => outcomeOf(ctx, i, announcedStatus));
  const storeWarning = instanceStoreWarning(state, announcedStops);
  const unreachable = plan?.unreachable ?? [];
  const withUnreachable = unreachable.length > 0 ? { unreachable } : {};

  // The GPU launch cap (budgets.launchCap): named in the action alert when that alert goes out in this run.
  const actionThreshold = thresholds.find((t) => t.kind === 'action');
  const capPlan = await planCap(state, item, {
    period: { key: period.key, end: period.end },
    actionCrossed: actionThreshold !== undefined,
  });
  const capInAlert = acting !== undefined && !continuing && capPlan?.notice !== undefined;

  // The messages: the newly crossed thresholds (the action with the stops about to be made), or for a continuation
  // the other new thresholds and a notice of the next batch of stops.
  const alertThresholds = claimed.filter((c) => !(continuing && c === acting)).map((c) => c.threshold);
  const messages: SlackMessage[] = [];
  // Restore under what is stopped, "keep this one running" under what is next (slack.interactivity).
  const buttons = budgetButtons(ctx, mode, period.end);
  const withButtons = buttons
    ? { buttons, next: (plan?.rest ?? []).slice(0, MAX_NEXT_LISTED).map((i) => outcomeOf(ctx, i, 'would-stop')) }
    : {};
  if (alertThresholds.length > 0) {
    const withAction = acting !== undefined && !continuing;
    messages.push(
      ...budgetAlertMessages({
        evaluation,
        thresholds: alertThresholds,
        mode,
        ...(withAction ? { stops: announcedStops, deferred: plan!.deferred, instanceStore: storeWarning } : {}),
        ...(withAction ? { skipped: plan!.skipped } : {}),
        ...(withAction && capInAlert ? { launchCap: capPlan!.notice! } : {}),
        ...(withAction ? withButtons : {}),
        ...(withAction ? withUnreachable : {}),
        essentialTag: ctx.config.tags.essential,
      }),
    );
  }
  if (continuing && announcedStops.length > 0) {
    messages.push(
      ...budgetStopContinuationMessages({
        evaluation,
        stops: announcedStops,
        stoppedBefore: earlier.stopped.length,
        deferred: plan!.deferred,
        skipped: plan!.skipped,
        instanceStore: storeWarning,
        essentialTag: ctx.config.tags.essential,
        ...withButtons,
        ...withUnreachable,
      }),
    );
  }

  const alerted: string[] = [];
  const deliveryFailed: string[] = [];
  let stops: StopOutcome[] = [];
  let deferred = plan?.deferred ?? 0;
  if (claimed.length === 0) {
    // nothing to announce or to act on
  } else {
    let ts: string | undefined;
    try {
      if (messages.length > 0) ts = (await postAll(ctx.notifier, messages))[0]?.ts;
    } catch (error) {
      // Nothing was stopped: the warning comes first. The claims stay unsent for the retry.
      ctx.log.error('Slack did not accept the budget alert', { budget: item.name, error: errorMessage(error) });
      for (const c of claimed) {
        await releaseQuietly(
          state,
          c.key,
          c.token,
          errorMessage(error),
          c === acting ? action?.previousDetail : undefined,
        );
        deliveryFailed.push(c.threshold.key);
        state.failures.push({ key: `${item.name}/${c.threshold.key}`, error });
      }
      if (acting && announcedStops.length > 0) {
        state.notes.push(`${item.name}: Slack did not accept the alert, so nothing was stopped`);
        deferred += announcedStops.length;
      }
    }
    if (deliveryFailed.length === 0) {
      let cutShort = 0;
      if (acting && mode !== 'notify' && plan!.planned.length > 0) {
        const reason = `budget ${item.name} at ${formatPercentValue(evaluation.percentUsed ?? 0)} (action threshold ${ctx.config.budgets.actionPercent}%)`;
        const result = await executeStops(state, item, plan!.planned, reason);
        stops = result.outcomes;
        cutShort = result.cutShort;
        deferred += cutShort;
      } else if (acting) stops = announcedStops;
      const done: ActionDetail = {
        announced: true,
        stopped: [...earlier.stopped, ...stops.filter((s) => s.status === 'done').map(candidateKey)],
      };
      const used = evaluation.percentUsed === undefined ? '' : ` at ${evaluation.percentUsed.toFixed(1)}% of the limit`;
      await recordClaims(state, item, claimed, {
        acting,
        continuing,
        ts,
        done,
        deferred,
        unreachable: unreachable.length,
        alerted,
        used,
      });
      if (acting && mode === 'stop' && (cutShort > 0 || stops.some((s) => s.status === 'failed'))) {
        await postBestEffort(state, item.name, budgetStopResultMessages({ name: item.name, stops, cutShort }));
      }
    }
  }

  const delivered = claimed.length > 0 && deliveryFailed.length === 0;
  const launchCap = await settleCap(state, capPlan, {
    announcedInAlert: capInAlert && delivered,
    // The period's action alert went out in an earlier run: the cap may be announced in a message of its own.
    mayAnnounce:
      (actionThreshold !== undefined && alreadySent.includes(actionThreshold.key)) || (continuing && delivered),
    ...(evaluation.percentUsed !== undefined ? { percentUsed: evaluation.percentUsed } : {}),
  });

  return {
    name: item.name,
    problems: [],
    period: period.key,
    daysLeft: period.daysLeft,
    ...(evaluation.limitUsd !== undefined ? { limitUsd: evaluation.limitUsd } : {}),
    ...(evaluation.actualUsd !== undefined ? { actualUsd: evaluation.actualUsd } : {}),
    ...(evaluation.forecastUsd !== undefined ? { forecastUsd: evaluation.forecastUsd } : {}),
    ...(evaluation.percentUsed !== undefined ? { percentUsed: round2(evaluation.percentUsed) } : {}),
    ...(evaluation.forecastPercent !== undefined ? { forecastPercent: round2(evaluation.forecastPercent) } : {}),
    crossed: evaluation.crossed.map((t) => t.key),
    alerted,
    alreadySent,
    inFlight,
    deliveryFailed,
    held,
    stops,
    deferred,
    ...(continuing ? { stoppedEarlier: earlier.stopped.length } : {}),
    ...(plan ? { skipped: plan.skipped, skippedIds: plan.skippedIds } : {}),
    ...(launchCap ? { launchCap } : {}),
    ...(unreachable.length > 0 ? { unreachableAccounts: unreachable } : {}),
  };
}

/**
 * Marks the claims of a delivered alert sent. The action's record stays open (released with what was stopped so
 * far) while instances in scope are left for the next run, so that run claims it again and goes on.
 */
async function recordClaims(
  state: RunState,
  item: BudgetItemConfig,
  claimed: readonly { threshold: CrossedThreshold; key: StateKey; token: string }[],
  o: {
    acting: { key: StateKey } | undefined;
    continuing: boolean;
    ts: string | undefined;
    done: ActionDetail;
    deferred: number;
    /** Linked accounts not reached: the action goes on in a later run, which tries them again. */
    unreachable: number;
    alerted: string[];
    /** ' at 85.0% of the limit', for the note. */
    used: string;
  },
): Promise<void> {
  const { store } = state;
  try {
    for (const c of claimed) {
      const isAction = c === o.acting;
      if (isAction && state.mode === 'stop' && (o.deferred > 0 || o.unreachable > 0)) {
        const left = [
          ...(o.deferred > 0 ? [`${o.deferred} instance(s) left to stop`] : []),
          ...(o.unreachable > 0 ? [`${o.unreachable} account(s) not reached`] : []),
        ].join(', ');
        await store.release(c.key, c.token, `continues: ${left}`, detailText(o.done));
        if (o.deferred > 0) state.notes.push(`${item.name}: ${o.deferred} more to stop next run`);
        if (o.unreachable > 0) state.notes.push(`${item.name}: the accounts not reached are tried again next run`);
      } else {
        const kept = await store.markSent(c.key, c.token, o.ts, isAction ? detailText(o.done) : undefined);
        if (!kept) state.notes.push(`${item.name}: the ${c.threshold.key} claim was taken over by another run`);
      }
      if (!(isAction && o.continuing)) o.alerted.push(c.threshold.key);
    }
    if (o.alerted.length > 0) {
      state.notes.push(
        `${item.name}: ${o.alerted.join(', ')} alert${state.mode === 'dry-run' ? ' (dry run)' : ''}${o.used}`,
      );
    }
  } catch (error) {
    // Slack took the alert but the record could not be written: it stays pending and a run after the lease may
    // send it again. A duplicate alert is the price of never dropping one.
    state.ctx.log.error('Budget alert sent but not recorded as sent', {
      budget: item.name,
      error: errorMessage(error),
    });
    state.notes.push(`${item.name}: alert sent but not recorded (${errorCode(error)}); it may be sent again`);
    state.failures.push({ key: `${item.name}/record`, error });
  }
}

/**
 * Marks a claim failed so the retry takes it again. When even that write fails, the claim stays pending and a run
 * after the lease takes it over: the run goes on (its failure is already recorded) rather than losing its summary.
 */
async function releaseQuietly(
  state: RunState,
  key: StateKey,
  token: string,
  error: string,
  detail?: string,
): Promise<void> {
  try {
    await state.store.release(key, token, error, detail);
  } catch (e) {
    state.ctx.log.error('could not release a budget alert claim', { key: key.sk, error: errorMessage(e) });
    state.notes.push(
      `${key.pk} ${key.sk}: the claim could not be released (${errorCode(e)}); it is retried after its lease`,
    );
  }
}

/** A follow-up that corrects an announcement (stops that failed, or were cut short): its failure fails nothing. */
async function postBestEffort(state: RunState, budget: string, messages: readonly SlackMessage[]): Promise<void> {
  try {
    await postAll(state.ctx.notifier, messages);
  } catch (error) {
    state.ctx.log.warn('Slack did not accept the stop results', { budget, error: errorMessage(error) });
    state.notes.push(`${budget}: the stop results were not posted to Slack (${errorCode(error)})`);
  }
}

/**
 * A budget whose live limit is not the configured `limitUsd`: announced once a period (its own record), and the
 * caller holds the budget's action until the two agree.
 */
async function reportMismatch(
  state: RunState,
  name: string,
  mismatch: LimitMismatch,
  periodKey: string,
): Promise<{ alerted: string[]; alreadySent: string[]; inFlight: string[]; deliveryFailed: string[] }> {
  const { ctx, store } = state;
  const threshold = 'limit-mismatch';
  state.notes.push(
    `${name}: the live budget's limit is not the configured limitUsd (${mismatch.reason}); nothing is stopped for it`,
  );
  ctx.log.warn('budget limit differs from the configuration', { budget: name, reason: mismatch.reason });
  const key = alertKey(name, periodKey, recordName(threshold, 'problem', state));
  const out = {
    alerted: [] as string[],
    alreadySent: [] as string[],
    inFlight: [] as string[],
    deliveryFailed: [] as string[],
  };
  const claim = await store.claim(key, { budget: name, period: periodKey, threshold });
  if (claim.outcome === 'sent') out.alreadySent.push(threshold);
  else if (claim.outcome === 'in-flight') out.inFlight.push(threshold);
  else {
    try {
      const [result] = await postAll(ctx.notifier, [budgetLimitMismatchMessage(name, mismatch, periodKey)]);
      await store.markSent(key, claim.token, result?.ts);
      out.alerted.push(threshold);
    } catch (error) {
      await releaseQuietly(state, key, claim.token, errorMessage(error));
      out.deliveryFailed.push(threshold);
      state.failures.push({ key: `${name}/${threshold}`, error });
    }
  }
  return out;
}

/** The budget's period, or the calendar month when the budget cannot be placed in one. */
function periodKeyOf(ctx: RunContext, evaluation: BudgetEvaluation): string {
  if (evaluation.period) return evaluation.period.key;
  const p = currentPeriod('MONTHLY', ctx.now);
  return 'period' in p ? p.period.key : ctx.now.toISOString().slice(0, 7);
}

/** A budget that cannot be judged is reported in the run and, once a period, in Slack. */
async function reportProblem(state: RunState, evaluation: BudgetEvaluation): Promise<BudgetReport> {
  const { ctx, store } = state;
  const problem = evaluation.problems[0]!;
  state.notes.push(problem.message);
  ctx.log.warn('budget cannot be checked', { budget: evaluation.name, problem: problem.kind });
  const periodKey = periodKeyOf(ctx, evaluation);
  const key = alertKey(evaluation.name, periodKey, recordName(`problem-${problem.kind}`, 'problem', state));
  const alerted: string[] = [];
  const deliveryFailed: string[] = [];
  const claim = await store.claim(key, { budget: evaluation.name, period: periodKey, threshold: key.sk });
  if (claim.outcome === 'claimed') {
    try {
      const [result] = await postAll(ctx.notifier, [budgetProblemMessage(evaluation.name, problem)]);
      await store.markSent(key, claim.token, result?.ts);
      alerted.push(`problem-${problem.kind}`);
    } catch (error) {
      await store.release(key, claim.token, errorMessage(error));
      deliveryFailed.push(`problem-${problem.kind}`);
      state.failures.push({ key: `${evaluation.name}/problem-${problem.kind}`, error });
    }
  }
  return {
    name: evaluation.name,
    problems: evaluation.problems,
    ...(evaluation.period ? { period: evaluation.period.key, daysLeft: evaluation.period.daysLeft } : {}),
    crossed: [],
    alerted,
    alreadySent: claim.outcome === 'sent' ? [`problem-${problem.kind}`] : [],
    inFlight: claim.outcome === 'in-flight' ? [`problem-${problem.kind}`] : [],
    deliveryFailed,
    stops: [],
  };
}

async function run(ctx: RunContext, event?: unknown): Promise<BudgetsSummary> {
  const cfg = ctx.config.budgets;
  const startedAt = ctx.now.toISOString();
  const trigger = triggerOf(event);
  // Without a Slack token the alerts only reach a log nobody reads: a stop needs a warning a person could have read,
  // so the action threshold then reports what it would stop and stops nothing.
  const unheard = ctx.notifier.kind === 'console';
  const mode: ActionMode = ctx.dryRun ? 'dry-run' : cfg.action === 'notify' || unheard ? 'notify' : 'stop';
  // A dry run that only prints or previews its messages (`cost-guard plan`) writes nothing, not even alert records.
  const printOnlyDryRun = ctx.dryRun && ctx.notifier.kind !== 'slack';
  const store: StateStore =
    ctx.stateTableName && !printOnlyDryRun
      ? new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName, {
          now: ctx.now,
          ...(ctx.holder ? { holder: ctx.holder } : {}),
        })
      : new MemoryStateStore();
  const accountClients = new Map<string, ClientFactory>();
  const state: RunState = {
    ctx,
    store,
    catalog: new InstanceTypeCatalog(),
    writer: writerPerRegion(ctx, accountClients),
    accountClients,
    mode,
    notes: [],
    failures: [],
    stopsLeft: cfg.maxStopsPerRun,
    stopPeriod: actionPeriod(cfg.schedule, event, ctx.now),
    capStore: launchCapStore(ctx, printOnlyDryRun),
  };
  const reports: BudgetReport[] = [];

  if (printOnlyDryRun && ctx.stateTableName) {
    state.notes.push(
      'Dry run with printed (or previewed) messages: no alert records are written, so the deployed guard still alerts.',
    );
  } else if (!store.deduplicated) {
    state.notes.push(
      'No state table (state.tableName): alerts are not de-duplicated, every run alerts again while a budget is over a threshold.',
    );
  }
  if (ctx.notifier.kind === 'console' && !printOnlyDryRun) {
    state.notes.push(
      'No Slack token: alerts are printed, and recorded apart so they are posted once a token is stored.',
    );
  }
  if (mode === 'notify' && cfg.action === 'notify') {
    state.notes.push("budgets.action is 'notify': the action threshold alerts and stops nothing.");
  }
  if (cfg.action === 'stop-non-essential' && unheard) {
    state.notes.push(
      ctx.dryRun
        ? 'Stops are made only after Slack accepted the alert: without a Slack token (messages printed or logged) ' +
            'the budget guard reports what it would stop and stops nothing.'
        : 'No Slack token: nothing is stopped. A stop needs an alert a person could have read; the action threshold ' +
            'reports what it would stop until a Slack bot token is stored.',
    );
  }
  if (mode === 'dry-run') state.notes.push('Dry run: nothing is stopped or tagged; alerts say what would happen.');

  if (!cfg.enabled) state.notes.push('The budget guard is disabled (budgets.enabled is false).');
  else if (cfg.items.length === 0) state.notes.push('No budgets to watch: budgets.items is empty.');
  else {
    const watchedNames = cfg.items.map((i) => i.name);
    for (const n of trigger.budgetNames) {
      if (!watchedNames.includes(n))
        state.notes.push(`SNS notification for budget '${n}', which budgets.items does not watch.`);
    }
    const accountId = await accountIdOf(ctx);
    state.ownAccountId = accountId;
    const watched = await readWatchedBudgets(ctx.clients.budgets(), accountId, watchedNames);
    ctx.progress?.({ kind: 'read', what: `budgets of account ${accountId}`, count: watched.found.size });
    ctx.metrics.add(METRIC.BudgetsChecked, watched.found.size, 'Count');
    for (const item of cfg.items) {
      const snapshot = watched.found.get(item.name);
      const evaluation = evaluateBudget(item.name, snapshot, cfg, ctx.now);
      // Act only on the budget the user configured: a limit edited or replaced since is announced first.
      const mismatch = snapshot ? limitMismatch(item.limitUsd, snapshot.limit) : undefined;
      const mismatchAlert = mismatch
        ? await reportMismatch(state, item.name, mismatch, periodKeyOf(ctx, evaluation))
        : undefined;
      let report: BudgetReport;
      if (evaluation.problems.length > 0) {
        report = await reportProblem(state, evaluation);
        // A budget that cannot be read puts no cap on; one in force still comes off at the end of its period.
        const capPlan = await planCap(state, item, { actionCrossed: false });
        const launchCap = await settleCap(state, capPlan, { announcedInAlert: false, mayAnnounce: false });
        if (launchCap) report = { ...report, launchCap };
      } else {
        ctx.metrics.add(METRIC.PercentUsed, round2(evaluation.percentUsed ?? 0), 'Percent', { Budget: item.name });
        report = await guardBudget(state, item, evaluation, mismatch);
      }
      reports.push(
        mismatch && mismatchAlert
          ? {
              ...report,
              limitMismatch: mismatch,
              alerted: [...mismatchAlert.alerted, ...report.alerted],
              alreadySent: [...mismatchAlert.alreadySent, ...report.alreadySent],
              inFlight: [...mismatchAlert.inFlight, ...report.inFlight],
              deliveryFailed: [...mismatchAlert.deliveryFailed, ...report.deliveryFailed],
            }
          : report,
      );
    }
  }

  const stopTotals = ctx.actions.totals((r) => r.capability === 'budgets' && r.kind === 'stop');
  const alertsSent = reports.reduce((n, r) => n + r.alerted.length, 0);
  ctx.metrics.add(METRIC.AlertsSent, alertsSent, 'Count');
  ctx.metrics.add(METRIC.InstancesStopped, stopTotals.done, 'Count');
  ctx.metrics.add(METRIC.EstimatedMonthlySavingsUsd, round2(stopTotals.monthlySavingsUsd), 'None');
  addAccountSavings(ctx, state.ownAccountId);

  const summary: BudgetsSummary = {
    capability: 'budgets',
    dryRun: ctx.dryRun,
    startedAt,
    actions: ctx.actions.records().filter((r) => r.capability === 'budgets'),
    monthlySavingsUsd: round2(stopTotals.monthlySavingsUsd),
    apiCalls: ctx.clients.counter.byOperation(),
    notes: state.notes,
    trigger: trigger.trigger,
    notifiedBudgets: trigger.budgetNames,
    deduplicated: store.deduplicated,
    mode,
    budgets: reports,
    alertsSent,
    instancesStopped: stopTotals.done,
    deliveryFailures: state.failures.length,
  };
  if (state.failures.length > 0) {
    const first = state.failures[0]!.error;
    throw new BudgetRunIncompleteError(
      `budget run incomplete: ${state.failures.length} alert(s) or action(s) not done ` +
        `(${state.failures.map((f) => f.key).join(', ')}): ${errorMessage(first)}. They are retried.`,
      summary,
      { cause: first },
    );
  }
  return summary;
}

/**
 * Savings of the stops that took effect, by account (dimension Account): for every linked account a budget reached
 * and, in organization mode, for the hub's own account too, so the dashboard's savings-by-account widget shows the
 * budget guard's stops beside the fan-out's. Nothing in single-account mode without linked accounts.
 */
function addAccountSavings(ctx: RunContext, ownAccountId: string | undefined): void {
  const organization = ctx.config.accounts.mode === 'organization';
  const byAccount = new Map<string, number>();
  for (const r of ctx.actions.records()) {
    if (r.capability !== 'budgets' || r.kind !== 'stop' || r.status !== 'done') continue;
    const account = r.accountId ?? (organization ? (ctx.target?.accountId ?? ownAccountId) : undefined);
    if (!account) continue;
    byAccount.set(account, (byAccount.get(account) ?? 0) + (r.monthlySavingsUsd ?? 0));
  }
  for (const [account, usd] of byAccount) {
    ctx.metrics.add(METRIC.RealizedMonthlySavingsUsd, round2(usd), 'None', { [DIMENSION.Account]: account });
  }
}

export const budgetsCapability: CapabilityModule<BudgetsSummary> = {
  name: 'budgets',
  description: 'Slack alerts at budgets.alertPercent, stop non-essential instances at budgets.actionPercent',
  run,
};
