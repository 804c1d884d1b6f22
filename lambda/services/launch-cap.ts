/**
 * The budget guard's launch cap, run by the budget guard (each budget, each run) and by `cost-guard restore`.
 *
 * Each run reads the budget's cap record, decides (lambda/core/budgets/launch-cap.ts `decideLaunchCap`) and then:
 * - puts the cap on only after Slack accepted a message that names it (the action alert, or, when that went out
 *   earlier in the period, a message of its own); never in dry run; never without a Slack token;
 * - writes the record before it attaches (so a run that dies halfway leaves a record that the period change will
 *   clean up: detaching a policy a role does not have is a no-op), and again with what happened;
 * - takes the cap off when the period ended, when the cap was turned off, or from roles no longer listed, and says
 *   so in Slack (best effort: lifting a cap never waits for a person).
 * Every attach and detach goes through the action runner (dry run, ledger), with kinds `launch-cap-attach` and
 * `launch-cap-detach` and the role name as target.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { attachRolePolicy, detachRolePolicy } from '../adapters/iam';
import { DynamoLaunchCapStore, type LaunchCapStore, MemoryLaunchCapStore } from '../adapters/launch-cap-store';
import { postAll } from '../adapters/slack';
import {
  decideLaunchCap,
  type LaunchCapDecision,
  type LaunchCapLift,
  type LaunchCapMode,
  type LaunchCapNotice,
  type LaunchCapRecord,
  launchCapChangeMessage,
  launchCapMessage,
  launchCapPolicyArn,
  partitionOf,
} from '../core/budgets/launch-cap';
import type { BudgetItemConfig } from '../core/config';
import type { Capability } from '../core/run';
import type { RunContext } from '../runtime/context';
import { errorCode, errorMessage } from '../shared/errors';

/** What a run did (or would do) with one budget's cap. */
export interface LaunchCapReport {
  readonly why: LaunchCapDecision['why'];
  readonly mode: LaunchCapMode;
  readonly policyArn: string;
  /** Roles the cap was put on (or would be, in dry run). */
  readonly attached: readonly string[];
  /** Roles it was taken off (or would be). */
  readonly detached: readonly string[];
  /** Roles it would go on, but did not: not announced yet, or no Slack token. */
  readonly waiting: readonly string[];
  readonly failed: readonly { readonly role: string; readonly code: string; readonly attach: boolean }[];
  /** ISO end of the period the cap is in force for. */
  readonly until?: string;
}

/** A budget's cap, decided and ready to be announced and settled. */
export interface LaunchCapPlan {
  readonly budget: string;
  readonly policyArn: string;
  readonly record: LaunchCapRecord | undefined;
  readonly decision: LaunchCapDecision;
  readonly mode: LaunchCapMode;
  /** Set when the decision puts the cap on roles not announced yet: what the announcement says. */
  readonly notice?: LaunchCapNotice;
}

/** What the budget guard's run lends the cap: its context, its notes and failures. */
export interface LaunchCapRun {
  readonly ctx: RunContext;
  readonly store: LaunchCapStore;
  readonly notes: string[];
  readonly failures: { key: string; error: unknown }[];
}

/** The record store of a run: the state table, or this process's memory (no table, or a dry run that only prints). */
export function launchCapStore(ctx: RunContext, printOnly: boolean): LaunchCapStore {
  return ctx.stateTableName && !printOnly
    ? new DynamoLaunchCapStore(ctx.clients.dynamodb(), ctx.stateTableName)
    : new MemoryLaunchCapStore();
}

/** The roles to cap for a budget: its `launchCapRoles` when `budgets.launchCap` is on, else none. */
export function cappedRoles(ctx: RunContext, item: BudgetItemConfig): readonly string[] {
  return ctx.config.budgets.launchCap ? item.launchCapRoles : [];
}

/** True when the cap concerns this budget at all: roles are listed (a cap in force may need lifting). */
export const hasLaunchCap = (item: BudgetItemConfig): boolean => item.launchCapRoles.length > 0;

async function accountOf(ctx: RunContext): Promise<string> {
  if (ctx.accountId) return ctx.accountId;
  const id = await ctx.clients.sts().send(new GetCallerIdentityCommand({}));
  if (!id.Account) throw new Error('STS GetCallerIdentity returned no account; the launch cap policy ARN needs it');
  return id.Account;
}

/** The ARN of a budget's cap policy in the run's account and partition. */
export async function policyArnOf(ctx: RunContext, budget: string): Promise<string> {
  return launchCapPolicyArn(partitionOf(ctx.clients.defaultRegion), await accountOf(ctx), budget);
}

/** Reads the budget's record and decides. `period` is absent when the budget could not be read this run. */
export async function planLaunchCap(
  run: LaunchCapRun,
  item: BudgetItemConfig,
  o: { period?: { key: string; end: string }; actionCrossed: boolean },
): Promise<LaunchCapPlan> {
  const { ctx } = run;
  const record = await run.store.get(item.name);
  const decision = decideLaunchCap({
    record,
    now: ctx.now,
    roles: cappedRoles(ctx, item),
    ...(o.period ? { period: o.period } : {}),
    actionCrossed: o.actionCrossed,
  });
  const mode: LaunchCapMode = ctx.dryRun ? 'dry-run' : ctx.notifier.kind === 'console' ? 'unheard' : 'apply';
  const policyArn = record?.policyArn ?? (await policyArnOf(ctx, item.name));
  const notice: LaunchCapNotice | undefined =
    decision.announce.length > 0 && decision.period
      ? { budget: item.name, roles: decision.announce, until: decision.period.end, mode }
      : undefined;
  return { budget: item.name, policyArn, record, decision, mode, ...(notice ? { notice } : {}) };
}

type RoleOutcome = { role: string; ok: boolean; code?: string };

async function attachAll(
  ctx: RunContext,
  capability: Capability,
  plan: LaunchCapPlan,
  roles: readonly string[],
  until: string | undefined,
): Promise<RoleOutcome[]> {
  const iam = ctx.clients.iam();
  return Promise.all(
    roles.map(async (role) => {
      const r = await ctx.actions.perform(
        {
          capability,
          kind: 'launch-cap-attach',
          target: role,
          reason: `budget ${plan.budget} past its action threshold: deny GPU launches until ${until ?? 'the period ends'}`,
          details: { budget: plan.budget, policyArn: plan.policyArn, ...(until ? { until } : {}) },
        },
        () => attachRolePolicy(iam, role, plan.policyArn),
      );
      return { role, ok: r.status !== 'failed', ...(r.errorCode ? { code: r.errorCode } : {}) };
    }),
  );
}

async function detachAll(
  ctx: RunContext,
  capability: Capability,
  budget: string,
  policyArn: string,
  roles: readonly string[],
  why: LaunchCapLift,
): Promise<RoleOutcome[]> {
  const iam = ctx.clients.iam();
  return Promise.all(
    roles.map(async (role) => {
      const r = await ctx.actions.perform(
        {
          capability,
          kind: 'launch-cap-detach',
          target: role,
          reason: `lift the GPU launch cap of budget ${budget}: ${why}`,
          details: { budget, policyArn, why },
        },
        () => detachRolePolicy(iam, role, policyArn),
      );
      return { role, ok: r.status !== 'failed', ...(r.errorCode ? { code: r.errorCode } : {}) };
    }),
  );
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
const without = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x));

/**
 * Carries out a plan. `announcedInAlert`: the action alert that Slack just accepted named the cap.
 * `mayAnnounce`: the cap may be announced in a message of its own (the action alert of the period went out
 * earlier); otherwise unannounced roles wait for the run that sends the alert.
 */
export async function settleLaunchCap(
  run: LaunchCapRun,
  plan: LaunchCapPlan,
  o: { announcedInAlert: boolean; mayAnnounce: boolean; percentUsed?: number },
): Promise<LaunchCapReport | undefined> {
  const { ctx } = run;
  const { decision: d, mode } = plan;
  if (d.attach.length === 0 && d.detach.length === 0) {
    if (d.why === 'in-force') run.notes.push(`${plan.budget}: the GPU launch cap is in force until ${d.period?.end}`);
    if (d.why === 'lifted-this-period') {
      run.notes.push(`${plan.budget}: the GPU launch cap was lifted by cost-guard restore; it stays off this period`);
    }
    return undefined;
  }
  const until = d.period?.end;
  const waiting: string[] = [];
  let attach = [...d.attach];

  // Announce first: roles no accepted message named yet go on only once one has.
  const unannounced = o.announcedInAlert ? [] : [...d.announce];
  if (unannounced.length > 0) {
    if (mode === 'apply' && o.mayAnnounce && plan.notice) {
      try {
        await postAll(ctx.notifier, [launchCapMessage({ ...plan.notice, roles: unannounced }, o.percentUsed)]);
      } catch (error) {
        run.notes.push(`${plan.budget}: Slack did not accept the launch cap notice, so the cap was not applied`);
        run.failures.push({ key: `${plan.budget}/launch-cap`, error });
        waiting.push(...unannounced);
        attach = without(attach, unannounced);
      }
    } else {
      waiting.push(...unannounced);
      attach = without(attach, unannounced);
    }
  }
  // Without a Slack token nothing is put on (a cap needs an alert a person could read); lifting still happens.
  if (mode === 'unheard') {
    waiting.push(...attach);
    attach = [];
  }
  if (waiting.length > 0) {
    run.notes.push(
      `${plan.budget}: the GPU launch cap would apply to ${waiting.join(', ')}` +
        (mode === 'unheard' ? ' (not applied: no Slack token)' : mode === 'dry-run' ? ' (dry run)' : ' once announced'),
    );
  }

  const announced = union(
    plan.record?.status === 'attached' ? (plan.record.announced ?? []) : [],
    d.announce.filter((r) => !waiting.includes(r)),
  );
  const lifting = d.why === 'period-ended' || d.why === 'cap-off';
  const liftWhy: LaunchCapLift = lifting ? (d.why as LaunchCapLift) : 'roles-changed';
  const previous = plan.record?.status === 'attached' ? plan.record : undefined;
  const period = d.period ?? (plan.record ? { key: plan.record.period, end: plan.record.periodEnd } : undefined);
  const writes = mode === 'apply' || (mode === 'unheard' && d.detach.length > 0);

  // Write ahead: the record names every role the policy may be on before any attach is sent.
  if (writes && attach.length > 0 && period) {
    await run.store.put(
      {
        budget: plan.budget,
        status: 'attached',
        period: period.key,
        periodEnd: period.end,
        policyArn: plan.policyArn,
        roles: union(previous?.roles ?? [], attach),
        failed: without(previous?.failed ?? [], attach),
        announced,
        attachedAt: previous?.attachedAt ?? ctx.now.toISOString(),
      },
      ctx.now,
    );
  }
  const attached = attach.length > 0 ? await attachAll(ctx, 'budgets', plan, attach, until) : [];
  const detached =
    d.detach.length > 0 ? await detachAll(ctx, 'budgets', plan.budget, plan.policyArn, d.detach, liftWhy) : [];
  const failedAttach = attached.filter((a) => !a.ok).map((a) => a.role);
  const failedDetach = detached.filter((a) => !a.ok).map((a) => a.role);
  const doneDetach = detached.filter((a) => a.ok).map((a) => a.role);

  if (writes && period && (attached.length > 0 || detached.length > 0)) {
    const stillOn = without(union(previous?.roles ?? [], attach), doneDetach);
    const record: LaunchCapRecord =
      lifting && failedDetach.length === 0
        ? {
            budget: plan.budget,
            status: 'detached',
            period: period.key,
            periodEnd: period.end,
            policyArn: plan.policyArn,
            roles: doneDetach,
            endedAt: ctx.now.toISOString(),
            endedBy: liftWhy,
          }
        : {
            budget: plan.budget,
            status: 'attached',
            period: period.key,
            periodEnd: period.end,
            policyArn: plan.policyArn,
            roles: lifting ? failedDetach : stillOn,
            failed: lifting
              ? []
              : union(
                  failedAttach,
                  waiting.filter((r) => stillOn.includes(r)),
                ),
            announced,
            attachedAt: previous?.attachedAt ?? ctx.now.toISOString(),
          };
    try {
      await run.store.put(record, ctx.now);
    } catch (error) {
      run.notes.push(`${plan.budget}: the launch cap record could not be written (${errorCode(error)})`);
      run.failures.push({ key: `${plan.budget}/launch-cap-record`, error });
    }
  }

  const failed = [
    ...attached.filter((a) => !a.ok).map((a) => ({ role: a.role, code: a.code ?? 'Unknown', attach: true })),
    ...detached.filter((a) => !a.ok).map((a) => ({ role: a.role, code: a.code ?? 'Unknown', attach: false })),
  ];
  if (attached.length > 0) {
    run.notes.push(
      `${plan.budget}: GPU launch cap ${mode === 'dry-run' ? 'would be put' : 'put'} on ${
        attached
          .filter((a) => a.ok)
          .map((a) => a.role)
          .join(', ') || 'no role'
      }` + (failedAttach.length > 0 ? `; failed for ${failedAttach.join(', ')}` : ''),
    );
  }
  if (detached.length > 0) {
    run.notes.push(
      `${plan.budget}: GPU launch cap ${mode === 'dry-run' ? 'would be lifted' : 'lifted'} from ${doneDetach.join(', ') || 'no role'} (${liftWhy})` +
        (failedDetach.length > 0 ? `; failed for ${failedDetach.join(', ')}` : ''),
    );
  }
  for (const f of failed) {
    run.failures.push({ key: `${plan.budget}/launch-cap/${f.role}`, error: new Error(`${f.code} for role ${f.role}`) });
  }
  // Tell people what came off, and what could not be done (best effort: never blocks a lift).
  if (mode !== 'dry-run' && (doneDetach.length > 0 || failed.length > 0)) {
    try {
      await postAll(ctx.notifier, [
        launchCapChangeMessage({ budget: plan.budget, detached: doneDetach, why: liftWhy, failed }),
      ]);
    } catch (error) {
      ctx.log.warn('Slack did not accept the launch cap change', { budget: plan.budget, error: errorMessage(error) });
    }
  }
  return {
    why: d.why,
    mode,
    policyArn: plan.policyArn,
    attached: attached.filter((a) => a.ok).map((a) => a.role),
    detached: doneDetach,
    waiting,
    failed,
    ...(until ? { until } : {}),
  };
}

/** What `cost-guard restore` did with one budget's cap. */
export interface LaunchCapRestore {
  readonly budget: string;
  readonly policyArn: string;
  readonly detached: readonly string[];
  readonly failed: readonly { readonly role: string; readonly code: string }[];
  /** `lifted`: the record says so now (the guard leaves it off this period); `no-record`: no state table. */
  readonly record: 'lifted' | 'not-written' | 'no-record';
}

/**
 * `cost-guard restore`: takes the cap of each budget (or of `budget` alone) off every role its record names and
 * every role the config lists (detaching is idempotent), and records it lifted so the guard leaves it off for the
 * rest of the period. Runs with the user's credentials (iam:DetachRolePolicy on those roles).
 */
export async function liftLaunchCaps(ctx: RunContext, o: { budget?: string } = {}): Promise<LaunchCapRestore[]> {
  const items = ctx.config.budgets.items.filter((i) => (o.budget ? i.name === o.budget : hasLaunchCap(i)));
  const names = o.budget && items.length === 0 ? [o.budget] : items.map((i) => i.name);
  const store = ctx.stateTableName ? new DynamoLaunchCapStore(ctx.clients.dynamodb(), ctx.stateTableName) : undefined;
  const out: LaunchCapRestore[] = [];
  for (const budget of names) {
    const record = await store?.get(budget);
    const configured = items.find((i) => i.name === budget)?.launchCapRoles ?? [];
    const fromRecord = record?.status === 'attached' ? record.roles : [];
    const roles = union(fromRecord, configured);
    if (roles.length === 0) continue;
    const policyArn = record?.policyArn ?? (await policyArnOf(ctx, budget));
    const results = await detachAll(ctx, 'restore', budget, policyArn, roles, 'restore');
    const failed = results.filter((r) => !r.ok).map((r) => ({ role: r.role, code: r.code ?? 'Unknown' }));
    const detached = results.filter((r) => r.ok).map((r) => r.role);
    let written: LaunchCapRestore['record'] = store ? 'not-written' : 'no-record';
    if (store && record && !ctx.dryRun && (record.status === 'attached' || record.status === 'lifted')) {
      await store.put(
        failed.length === 0
          ? {
              ...record,
              status: 'lifted',
              roles: detached,
              failed: [],
              endedAt: ctx.now.toISOString(),
              endedBy: 'restore',
            }
          : { ...record, status: 'attached', roles: failed.map((f) => f.role) },
        ctx.now,
      );
      if (failed.length === 0) written = 'lifted';
    }
    out.push({ budget, policyArn, detached, failed, record: written });
  }
  return out;
}
