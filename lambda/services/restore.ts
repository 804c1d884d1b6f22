/**
 * `cost-guard restore`: starts the instances the budget guard stopped (all, or those of one budget) and removes the
 * guard's `cost-guard:stopped-*` tags from each instance that started. Every start and untag goes through the action
 * runner, so `--dry-run` lists what would be restarted and changes nothing.
 */
import { Ec2Writer, instanceFilters, listInstances } from '../adapters/ec2';
import {
  STOPPED_AT_TAG,
  STOPPED_BUDGET_TAG,
  STOPPED_BY_TAG,
  STOPPED_BY_VALUE,
  STOPPED_TAG_KEYS,
} from '../core/budgets/tags';
import type { InstanceFacts } from '../core/instances';
import type { RunContext, RunSummary } from '../runtime/context';

export interface RestoredInstance {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  readonly budget?: string;
  readonly stoppedAt?: string;
  readonly status: 'done' | 'dry-run' | 'failed';
  readonly errorCode?: string;
  /** The stopped-* tags were removed (false when the start failed, or the untag did). */
  readonly untagged: boolean;
}

export interface RestoreSummary extends RunSummary {
  readonly capability: 'restore';
  readonly budget?: string;
  readonly instances: readonly RestoredInstance[];
}

export interface RestoreOptions {
  /** Only instances the guard stopped for this budget. */
  readonly budget?: string;
}

/** Starts one stopped instance, then removes the guard's tags from it once it started. */
async function restoreOne(
  ctx: RunContext,
  writer: Ec2Writer,
  instance: InstanceFacts,
  notes: string[],
): Promise<RestoredInstance> {
  const { instanceId, region } = instance;
  const budget = instance.tags[STOPPED_BUDGET_TAG];
  const stoppedAt = instance.tags[STOPPED_AT_TAG];
  const started = await ctx.actions.perform(
    {
      capability: 'restore',
      kind: 'start',
      target: instanceId,
      region,
      reason: `stopped by the budget guard${budget ? ` for budget ${budget}` : ''}${stoppedAt ? ` at ${stoppedAt}` : ''}`,
      details: { instanceType: instance.instanceType, ...(budget ? { budget } : {}) },
    },
    () => writer.start(instanceId),
  );
  let untagged = false;
  if (started.status !== 'failed') {
    const untag = await ctx.actions.perform(
      {
        capability: 'restore',
        kind: 'untag',
        target: instanceId,
        region,
        reason: 'restarted: remove the budget guard tags',
        details: { keys: [...STOPPED_TAG_KEYS] },
      },
      () => writer.untag(instanceId, STOPPED_TAG_KEYS),
    );
    untagged = untag.status === 'done';
    if (untag.status === 'failed') {
      notes.push(`${instanceId} started, but its cost-guard:stopped-* tags could not be removed (${untag.errorCode})`);
    }
  }
  return {
    instanceId,
    region,
    instanceType: instance.instanceType,
    ...(budget ? { budget } : {}),
    ...(stoppedAt ? { stoppedAt } : {}),
    status: started.status,
    ...(started.errorCode ? { errorCode: started.errorCode } : {}),
    untagged,
  };
}

export async function restoreInstances(ctx: RunContext, options: RestoreOptions = {}): Promise<RestoreSummary> {
  const startedAt = ctx.now.toISOString();
  const instances: RestoredInstance[] = [];
  const notes: string[] = [];
  const tags: Record<string, string> = { [STOPPED_BY_TAG]: STOPPED_BY_VALUE };
  if (options.budget) tags[STOPPED_BUDGET_TAG] = options.budget;

  for (const region of ctx.regions) {
    const ec2 = ctx.clients.ec2(region);
    const writer = new Ec2Writer(ec2);
    const stopped = await listInstances(ec2, region, instanceFilters(['stopped'], tags));
    // Started together so the writer batches the start and untag calls; each instance gets its own outcome.
    instances.push(...(await Promise.all(stopped.map((instance) => restoreOne(ctx, writer, instance, notes)))));
  }
  if (instances.length === 0) {
    notes.push(
      `No stopped instance tagged ${STOPPED_BY_TAG}=${STOPPED_BY_VALUE}${options.budget ? ` for budget ${options.budget}` : ''} in ${ctx.regions.join(', ')}.`,
    );
  }
  return {
    capability: 'restore',
    dryRun: ctx.dryRun,
    startedAt,
    actions: ctx.actions.records().filter((r) => r.capability === 'restore'),
    // Restarting spends money again; the guard's savings are reported by the budget guard's own runs.
    monthlySavingsUsd: 0,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    ...(options.budget ? { budget: options.budget } : {}),
    instances,
  };
}
