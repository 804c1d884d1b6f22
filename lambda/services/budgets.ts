/**
 * The budget guard: reads the watched AWS Budgets, alerts Slack once per (budget, period, threshold) at
 * `alertPercent`, and at `actionPercent` alerts and (with `action: stop-non-essential`) stops the running
 * non-essential instances in the budget's scope. The schedule and the Budgets SNS notifications run this same code;
 * an SNS message only says which budget prompted the run, the figures always come from DescribeBudgets.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

import { readWatchedBudgets } from '../adapters/budgets';

import { Ec2Writer, InstanceTypeCatalog, instanceFilters, listInstances } from '../adapters/ec2';

import { postAll } from '../adapters/slack';

import { alertKey, DynamoStateStore, MemoryStateStore, type StateKey, type StateStore } from '../adapters/state-store';

import { countSkipped, selectStopCandidates } from '../core/budgets/candidates';

import { type Trigger, triggerOf } from '../core/budgets/event';

import {
  type ActionMode,
  budgetAlertMessages,
  budgetProblemMessage,
  type InstanceStoreWarning,
  type StopOutcome,
} from '../core/budgets/messages';
import { currentPeriod } from '../core/budgets/period';

import {
  type BudgetEvaluation,
  type BudgetProblem,
  type CrossedThreshold,
  evaluateBudget,
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
import { METRIC } from '../core/names';

import { monthlySavingsOfStop, round2 } from '../core/savings/calculators';

import type { CapabilityModule } from '../runtime/capability';
import { type RunContext, RunIncompleteError, type RunSummary } from '../runtime/context';

import { errorCode, errorMessage } from '../shared/errors';

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
  readonly stops: readonly StopOutcome[];
  readonly skipped?: CountedSkips;
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

interface RunState {
  readonly ctx: RunContext;
  readonly store: StateStore;
  readonly catalog: InstanceTypeCatalog;
  /** Batched EC2 writes (tag, stop, untag), one writer per region. */
  readonly writer: (region: string) => Ec2Writer;
  readonly mode: ActionMode;
  readonly notes: string[];
  readonly failures: { key: string; error: unknown }[];
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

function writerPerRegion(ctx: RunContext): (region: string) => Ec2Writer {
  const writers = new Map<string, Ec2Writer>();
  return (region) => {
    let w = writers.get(region);
    if (!w) {
      w = new Ec2Writer(ctx.clients.ec2(region));
      writers.set(region, w);
    }
    return w;
  };
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

/** Stops (or, in dry-run / notify, lists) the candidates of one budget in every region of the run. */
async function applyAction(
  state: RunState,
  item: BudgetItemConfig,
  evaluation: BudgetEvaluation,
): Promise<{ stops: StopOutcome[]; skipped: CountedSkips }> {
  const { ctx } = state;
  const stops: StopOutcome[] = [];
  const skippedAll = [];
  const reason = `budget ${item.name} at ${formatPercentValue(evaluation.percentUsed ?? 0)} (action threshold ${ctx.config.budgets.actionPercent}%)`;
  for (const region of ctx.regions) {
    const ec2 = ctx.clients.ec2(region);
    const instances = await listInstances(ec2, region, instanceFilters(['running'], item.scopeTags));
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
    const selection = selectStopCandidates(instances, {
      scopeTags: item.scopeTags,
      tags: ctx.config.tags,
      stopScope: ctx.config.budgets.stopScope,
      typeFacts: (_region, t) => types.get(t),
    });
    skippedAll.push(...selection.skipped);
    // Started together so the writer batches the tag and stop calls; each instance still gets its own outcome.
    stops.push(...(await Promise.all(selection.candidates.map((instance) => stopOne(state, item, instance, reason)))));
  }
  return { stops, skipped: countSkipped(skippedAll) };
}

async function stopOne(
  state: RunState,
  item: BudgetItemConfig,
  instance: InstanceFacts,
  reason: string,
): Promise<StopOutcome> {
  const { ctx } = state;
  const savings = monthlySavingsOfStop(instance.instanceType, ctx.pricing, {
    spot: instance.lifecycle === 'spot',
    region: instance.region,
  });
  const base = {
    instanceId: instance.instanceId,
    region: instance.region,
    instanceType: instance.instanceType,
    ...(savings ? { hourlyUsd: savings.hourlyUsd } : {}),
  };
  if (state.mode === 'notify') return { ...base, status: 'would-stop' };

  const writer = state.writer(instance.region);
  const tags = {
    [STOPPED_BY_TAG]: STOPPED_BY_VALUE,
    [STOPPED_AT_TAG]: ctx.now.toISOString(),
    [STOPPED_BUDGET_TAG]: item.name,
  };
  // Tag first: whatever the guard stops carries the tags `cost-guard restore` looks for.
  const tagged = await ctx.actions.perform(
    {
      capability: 'budgets',
      kind: 'tag',
      target: instance.instanceId,
      region: instance.region,
      reason: 'mark the instance as stopped by the budget guard',
      details: { tags },
    },
    () => writer.tag(instance.instanceId, tags),
  );
  if (tagged.status === 'failed') {
    return {
      ...base,
      status: 'failed',
      errorCode: tagged.errorCode ?? 'Unknown',
      note: 'could not tag it, so it was not stopped',
    };
  }
  const stopped = await ctx.actions.perform(
    {
      capability: 'budgets',
      kind: 'stop',
      target: instance.instanceId,
      region: instance.region,
      reason,
      ...(savings ? { monthlySavingsUsd: savings.monthlyUsd } : {}),
      details: {
        budget: item.name,
        instanceType: instance.instanceType,
        ...(savings ? { hourlyUsd: savings.hourlyUsd, priceSource: savings.source, savingsNote: savings.note } : {}),
      },
    },
    () => writer.stop(instance.instanceId),
  );
  if (stopped.status === 'failed') {
    await ctx.actions.perform(
      {
        capability: 'budgets',
        kind: 'untag',
        target: instance.instanceId,
        region: instance.region,
        reason: 'the stop failed: remove the stopped-by tags again',
        details: { keys: [...STOPPED_TAG_KEYS] },
      },
      () => writer.untag(instance.instanceId, STOPPED_TAG_KEYS),
    );
    const code = stopped.errorCode ?? 'Unknown';
    const note =
      code === 'UnsupportedOperation' && instance.lifecycle === 'spot'
        ? 'a one-time Spot instance cannot be stopped; terminate it or let it run'
        : code === 'UnsupportedOperation'
          ? 'EC2 does not support stopping this instance (one-time Spot, or instance-store root volume)'
          : stopped.errorMessage;
    return { ...base, status: 'failed', errorCode: code, ...(note ? { note } : {}) };
  }
  return { ...base, status: stopped.status };
}

function parseDetail(detail: string | undefined): StopOutcome[] {
  if (!detail) return [];
  try {
    const parsed = JSON.parse(detail) as { stops?: StopOutcome[] };
    return Array.isArray(parsed.stops) ? parsed.stops : [];
  } catch {
    return [];
  }
}

/** Claims, acts, posts and records one budget that has no problem. */
async function guardBudget(state: RunState, item: BudgetItemConfig, evaluation: BudgetEvaluation) {
  const { ctx, store, mode } = state;
  const period = evaluation.period!;
  const claimed: { threshold: CrossedThreshold; key: StateKey; token: string; previousDetail?: string }[] = [];
  const alreadySent: string[] = [];
  const inFlight: string[] = [];
  for (const threshold of evaluation.crossed) {
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
    else inFlight.push(threshold.key);
  }
  if (inFlight.length > 0) {
    state.notes.push(`${item.name}: another run is sending the ${inFlight.join(', ')} alert(s)`);
  }

  let stops: StopOutcome[] = [];
  let skipped: CountedSkips | undefined;
  const action = claimed.find((c) => c.threshold.kind === 'action');
  if (action) {
    // An earlier attempt may have stopped instances before Slack failed: report them too.
    const earlier = parseDetail(action.previousDetail);
    try {
      const now = await applyAction(state, item, evaluation);
      const seen = new Set(now.stops.map((s) => s.instanceId));
      stops = [...earlier.filter((s) => !seen.has(s.instanceId)), ...now.stops];
      skipped = now.skipped;
    } catch (error) {
      // EC2 could not be read: release the action's claim so the retry (or the next run) stops and announces it;
      // the other thresholds are still alerted now, so an EC2 outage never silences a budget.
      await store.release(action.key, action.token, errorMessage(error), action.previousDetail);
      claimed.splice(claimed.indexOf(action), 1);
      stops = earlier;
      state.failures.push({ key: `${item.name}/${action.threshold.key}`, error });
      state.notes.push(
        `${item.name}: the ${action.threshold.key} action could not be applied (${errorCode(error)}: ` +
          `${errorMessage(error)}); it is retried with its alert`,
      );
    }
  }

  const alerted: string[] = [];
  const deliveryFailed: string[] = [];
  if (claimed.length > 0) {
    const messages = budgetAlertMessages({
      evaluation,
      thresholds: claimed.map((c) => c.threshold),
      mode,
      ...(action ? { stops, instanceStore: instanceStoreWarning(state, stops) } : {}),
      ...(skipped ? { skipped } : {}),
      essentialTag: ctx.config.tags.essential,
    });
    const detail = action
      ? JSON.stringify({ stops: stops.filter((s) => s.status === 'done') }).slice(0, 300_000)
      : undefined;
    let ts: string | undefined;
    let delivered = false;
    try {
      ts = (await postAll(ctx.notifier, messages))[0]?.ts;
      delivered = true;
      for (const c of claimed) {
        const kept = await store.markSent(c.key, c.token, ts, detail);
        if (!kept) state.notes.push(`${item.name}: the ${c.threshold.key} claim was taken over by another run`);
        alerted.push(c.threshold.key);
      }
      const used = evaluation.percentUsed === undefined ? '' : ` at ${evaluation.percentUsed.toFixed(1)}% of the limit`;
      state.notes.push(`${item.name}: ${alerted.join(', ')} alert${mode === 'dry-run' ? ' (dry run)' : ''}${used}`);
    } catch (error) {
      if (delivered) {
        // Slack took the alert but the record could not be marked sent: it stays pending and a run after the lease
        // may send it again. A duplicate alert is the price of never dropping one.
        ctx.log.error('Budget alert sent but not recorded as sent', { budget: item.name, error: errorMessage(error) });
        state.notes.push(`${item.name}: alert sent but not recorded (${errorCode(error)}); it may be sent again`);
        state.failures.push({ key: `${item.name}/record`, error });
      } else {
        ctx.log.error('Slack did not accept the budget alert', { budget: item.name, error: errorMessage(error) });
        for (const c of claimed) {
          await store.release(c.key, c.token, errorMessage(error), detail);
          deliveryFailed.push(c.threshold.key);
          state.failures.push({ key: `${item.name}/${c.threshold.key}`, error });
        }
      }
    }
  }

  const report: BudgetReport = {
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
    stops,
    ...(skipped ? { skipped } : {}),
  };
  return report;
}

/** A budget that cannot be judged is reported in the run and, once a period, in Slack. */
async function reportProblem(state: RunState, evaluation: BudgetEvaluation): Promise<BudgetReport> {
  const { ctx, store } = state;
  const problem = evaluation.problems[0]!;
  state.notes.push(problem.message);
  ctx.log.warn('budget cannot be checked', { budget: evaluation.name, problem: problem.kind });
  const periodKey =
    evaluation.period?.key ??
    (() => {
      const p = currentPeriod('MONTHLY', ctx.now);
      return 'period' in p ? p.period.key : ctx.now.toISOString().slice(0, 7);
    })();
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
  const mode: ActionMode = ctx.dryRun ? 'dry-run' : cfg.action === 'notify' ? 'notify' : 'stop';
  // A dry run that only prints (e.g. `cost-guard plan`) writes nothing, not even alert records.
  const printOnlyDryRun = ctx.dryRun && ctx.notifier.kind === 'console';
  const store: StateStore =
    ctx.stateTableName && !printOnlyDryRun
      ? new DynamoStateStore(ctx.clients.dynamodb(), ctx.stateTableName, { now: ctx.now })
      : new MemoryStateStore();
  const state: RunState = {
    ctx,
    store,
    catalog: new InstanceTypeCatalog(),
    writer: writerPerRegion(ctx),
    mode,
    notes: [],
    failures: [],
  };
  const reports: BudgetReport[] = [];

  if (printOnlyDryRun && ctx.stateTableName) {
    state.notes.push(
      'Dry run with printed messages: no alert records are written, so the deployed guard still alerts.',
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
  if (mode === 'notify') state.notes.push("budgets.action is 'notify': the action threshold alerts and stops nothing.");
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
    const watched = await readWatchedBudgets(ctx.clients.budgets(), accountId, watchedNames);
    ctx.metrics.add(METRIC.BudgetsChecked, watched.found.size, 'Count');
    for (const item of cfg.items) {
      const evaluation = evaluateBudget(item.name, watched.found.get(item.name), cfg, ctx.now);
      if (evaluation.problems.length > 0) {
        reports.push(await reportProblem(state, evaluation));
        continue;
      }
      ctx.metrics.add(METRIC.PercentUsed, round2(evaluation.percentUsed ?? 0), 'Percent', { Budget: item.name });
      reports.push(await guardBudget(state, item, evaluation));
    }
  }

  const stopTotals = ctx.actions.totals((r) => r.capability === 'budgets' && r.kind === 'stop');
  const alertsSent = reports.reduce((n, r) => n + r.alerted.length, 0);
  ctx.metrics.add(METRIC.AlertsSent, alertsSent, 'Count');
  ctx.metrics.add(METRIC.InstancesStopped, stopTotals.done, 'Count');
  ctx.metrics.add(METRIC.EstimatedMonthlySavingsUsd, round2(stopTotals.monthlySavingsUsd), 'None');

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

export const budgetsCapability: CapabilityModule<BudgetsSummary> = {
  name: 'budgets',
  description: 'Slack alerts at budgets.alertPercent, stop non-essential instances at budgets.actionPercent',
  run,
};
