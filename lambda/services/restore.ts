/**
 * `cost-guard restore`: starts the instances the guard stopped (all, or those of one budget) and removes the guard's
 * `cost-guard:stopped-*` tags from each instance that started. What the guard stopped comes from its own records in
 * the state table (the stop index, lambda/adapters/stop-index.ts), never from tags: a hand-written
 * `cost-guard:stopped-by` tag starts nothing and is reported (lambda/core/restore.ts decides). Budget-guard stops are
 * restored by default, the reaper's with `includeReaper`. Every start and untag goes through the action runner, so
 * `--dry-run` lists what would be restarted and changes nothing; the caller records the starts in the ledger.
 */
import type { Filter } from '@aws-sdk/client-ec2';
import { Ec2Writer, listInstances } from '../adapters/ec2';
import { guardDeletions } from '../adapters/endpoint-index';
import { createEndpoint, endpointConfigExists, endpointNow } from '../adapters/sagemaker';
import { guardStops } from '../adapters/stop-index';
import { STOPPED_BY_TAG, STOPPED_TAG_KEYS } from '../core/budgets/tags';
import {
  nameOf,
  planRestore,
  type RecordedStop,
  type RestoreRefusal,
  type StoppedInstanceFacts,
} from '../core/restore';
import {
  type EndpointRestoreFacts,
  type EndpointRestoreRefusal,
  planEndpointRestore,
  type RecordedEndpointDeletion,
  restorableTags,
} from '../core/sagemaker/restore';
import { keyScopeOf, type RunContext, type RunSummary } from '../runtime/context';
import { errorCode, errorMessage } from '../shared/errors';
import { type LaunchCapRestore, liftLaunchCaps } from './launch-cap';

/** DescribeInstances takes at most 200 values in one filter. */
const IDS_PER_FILTER = 200;

export interface RestoredInstance {
  readonly instanceId: string;
  readonly region: string;
  readonly instanceType: string;
  /** The instance's Name tag. */
  readonly name?: string;
  /** Which guard stopped it, by its records. */
  readonly stoppedBy: RecordedStop['capability'];
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
  readonly includeReaper: boolean;
  readonly instances: readonly RestoredInstance[];
  /** Instances left alone, with the reason: tagged but not recorded, started since, reaper stops… */
  readonly notStarted: readonly RestoreRefusal[];
  /** The budget guard's GPU launch caps taken off (budgets.launchCap): of `budget`, or of every budget. */
  readonly launchCaps: readonly LaunchCapRestore[];
}

export interface RestoreOptions {
  /** Only instances the guard stopped for this budget. */
  readonly budget?: string;
  /** Also restart the instances the idle GPU reaper stopped. @default false */
  readonly includeReaper?: boolean;
}

/** Starts one stopped instance, then removes the guard's tags from it once it started. */
async function restoreOne(
  ctx: RunContext,
  writer: Ec2Writer,
  instance: StoppedInstanceFacts,
  stop: RecordedStop,
  notes: string[],
): Promise<RestoredInstance> {
  const { instanceId, region } = instance;
  const { budget, stoppedAt } = stop;
  const who = stop.capability === 'budgets' ? 'the budget guard' : 'the idle GPU reaper';
  const started = await ctx.actions.perform(
    {
      capability: 'restore',
      kind: 'start',
      target: instanceId,
      region,
      reason: `stopped by ${who}${budget ? ` for budget ${budget}` : ''} at ${stoppedAt} (state table record)`,
      details: { instanceType: instance.instanceType, stoppedBy: stop.capability, ...(budget ? { budget } : {}) },
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
        reason: "restarted: remove the guard's stopped-* tags",
        details: { keys: [...STOPPED_TAG_KEYS] },
      },
      () => writer.untag(instanceId, STOPPED_TAG_KEYS),
    );
    untagged = untag.status === 'done';
    if (untag.status === 'failed') {
      notes.push(`${instanceId} started, but its cost-guard:stopped-* tags could not be removed (${untag.errorCode})`);
    }
  }
  const name = nameOf(instance);
  return {
    instanceId,
    region,
    instanceType: instance.instanceType,
    ...(name ? { name } : {}),
    stoppedBy: stop.capability,
    ...(budget ? { budget } : {}),
    stoppedAt,
    status: started.status,
    ...(started.errorCode ? { errorCode: started.errorCode } : {}),
    untagged,
  };
}

export async function restoreInstances(ctx: RunContext, options: RestoreOptions = {}): Promise<RestoreSummary> {
  const startedAt = ctx.now.toISOString();
  const instances: RestoredInstance[] = [];
  const notStarted: RestoreRefusal[] = [];
  const notes: string[] = [];
  const includeReaper = options.includeReaper === true;

  if (!ctx.stateTableName) {
    notes.push(
      "No state table (state.tableName, or the deployed stack's table in this region): restore starts only what the " +
        "guard's records say it stopped, and there are none to read. Nothing started.",
    );
  } else {
    for (const [index, region] of ctx.regions.entries()) {
      ctx.progress?.({ kind: 'region', region, index: index + 1, total: ctx.regions.length });
      const ec2 = ctx.clients.ec2(region);
      const stops = await guardStops(ctx.clients.dynamodb(), ctx.stateTableName, region, keyScopeOf(ctx));
      // Stops the budget guard made in a payer budget's linked accounts are not in this account: never described or
      // started here, each reported with the account to start it in (lambda/core/restore.ts).
      const here = stops.filter((s) => s.account === undefined || s.account === ctx.accountId);
      const seen = await describeForRestore(ctx, region, here);
      const plan = planRestore(stops, seen, {
        ...(options.budget ? { budget: options.budget } : {}),
        includeReaper,
        ...(ctx.accountId ? { accountId: ctx.accountId } : {}),
      });
      notStarted.push(...plan.refused);
      const writer = new Ec2Writer(ec2);
      // Started together so the writer batches the start and untag calls; each instance gets its own outcome.
      instances.push(...(await Promise.all(plan.start.map((c) => restoreOne(ctx, writer, c.instance, c.stop, notes)))));
    }
    if (instances.length === 0) {
      notes.push(
        `Nothing the guard stopped${options.budget ? ` for budget ${options.budget}` : ''} is waiting to be restarted in ${ctx.regions.join(', ')}.`,
      );
    }
  }
  // The GPU launch cap of the budget (or of every budget) comes off too, and stays off for the rest of its period.
  let launchCaps: LaunchCapRestore[] = [];
  try {
    launchCaps = await liftLaunchCaps(ctx, options.budget ? { budget: options.budget } : {});
  } catch (error) {
    notes.push(`The GPU launch cap could not be lifted (${errorCode(error)}: ${errorMessage(error)})`);
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
    includeReaper,
    instances,
    notStarted,
    launchCaps,
  };
}

/**
 * What EC2 says now about the recorded instances (any state: one started since must be seen as running) and about
 * every stopped instance carrying a stopped-by tag (to report the ones the records do not name).
 */
async function describeForRestore(
  ctx: RunContext,
  region: string,
  stops: readonly RecordedStop[],
): Promise<StoppedInstanceFacts[]> {
  const ec2 = ctx.clients.ec2(region);
  const byId = new Map<string, StoppedInstanceFacts>();
  const ids = [...new Set(stops.map((s) => s.instanceId))];
  for (let i = 0; i < ids.length; i += IDS_PER_FILTER) {
    const filters: Filter[] = [{ Name: 'instance-id', Values: ids.slice(i, i + IDS_PER_FILTER) }];
    for (const facts of await listInstances(ec2, region, filters)) byId.set(facts.instanceId, facts);
  }
  const tagged: Filter[] = [
    { Name: 'instance-state-name', Values: ['stopped'] },
    { Name: 'tag-key', Values: [STOPPED_BY_TAG] },
  ];
  for (const facts of await listInstances(ec2, region, tagged)) byId.set(facts.instanceId, facts);
  return [...byId.values()];
}

/** One endpoint `restore --sagemaker` recreated (or would, or failed to). */
export interface RestoredEndpoint {
  readonly endpointName: string;
  readonly region: string;
  readonly endpointConfigName: string;
  readonly deletedAt: string;
  readonly status: 'done' | 'dry-run' | 'failed';
  readonly errorCode?: string;
}

export interface EndpointRestoreSummary extends RunSummary {
  readonly capability: 'restore';
  readonly endpoints: readonly RestoredEndpoint[];
  /** Recorded deletions left alone, with the reason: a new endpoint of the name, the config gone… */
  readonly notRecreated: readonly EndpointRestoreRefusal[];
}

/**
 * `cost-guard restore --sagemaker`: recreates, with CreateEndpoint from the same endpoint config and with its tags,
 * every endpoint the SageMaker guard's own records (the endpoint index, lambda/adapters/endpoint-index.ts) say it
 * deleted, and only those; a name nobody recorded is never touched (lambda/core/sagemaker/restore.ts decides).
 * Every create goes through the action runner (`--dry-run` lists them); the caller records them, which marks the
 * records restored.
 */
export async function restoreEndpoints(ctx: RunContext): Promise<EndpointRestoreSummary> {
  const endpoints: RestoredEndpoint[] = [];
  const notRecreated: EndpointRestoreRefusal[] = [];
  const notes: string[] = [];
  if (!ctx.stateTableName) {
    notes.push(
      "No state table (state.tableName, or the deployed stack's table in this region): restore recreates only what the " +
        "guard's records say it deleted, and there are none to read. Nothing recreated.",
    );
  } else {
    for (const region of ctx.regions) {
      const sm = ctx.clients.sagemaker(region);
      const deletions = await guardDeletions(ctx.clients.dynamodb(), ctx.stateTableName, region, keyScopeOf(ctx));
      const facts = new Map<string, EndpointRestoreFacts>();
      for (const d of deletions) {
        try {
          const now = await endpointNow(sm, d.endpointName);
          facts.set(d.endpointName, {
            ...(now ? { endpointStatus: now.status ?? 'unknown' } : {}),
            configExists: await endpointConfigExists(sm, d.endpointConfigName),
          });
        } catch (error) {
          notes.push(`${d.endpointName} (${region}) could not be checked: ${errorCode(error)}: ${errorMessage(error)}`);
        }
      }
      const plan = planEndpointRestore(deletions, facts);
      notRecreated.push(...plan.refused);
      for (const d of plan.create) endpoints.push(await recreate(ctx, d));
    }
    if (endpoints.length === 0) {
      notes.push(`No endpoint the SageMaker guard deleted is waiting to be recreated in ${ctx.regions.join(', ')}.`);
    }
  }
  return {
    capability: 'restore',
    dryRun: ctx.dryRun,
    startedAt: ctx.now.toISOString(),
    actions: ctx.actions.records().filter((r) => r.capability === 'restore'),
    // Recreating spends money again; the guard's savings are reported by its own runs.
    monthlySavingsUsd: 0,
    apiCalls: ctx.clients.counter.byOperation(),
    notes,
    endpoints,
    notRecreated,
  };
}

async function recreate(ctx: RunContext, d: RecordedEndpointDeletion): Promise<RestoredEndpoint> {
  const record = await ctx.actions.perform(
    {
      capability: 'restore',
      kind: 'create-endpoint',
      target: d.endpointName,
      region: d.region,
      reason: `deleted by the SageMaker guard at ${d.deletedAt} (state table record): recreated from endpoint config ${d.endpointConfigName}`,
      details: { endpointConfigName: d.endpointConfigName, tags: d.tags },
    },
    () => createEndpoint(ctx.clients.sagemaker(d.region), d.endpointName, d.endpointConfigName, restorableTags(d.tags)),
  );
  return {
    endpointName: d.endpointName,
    region: d.region,
    endpointConfigName: d.endpointConfigName,
    deletedAt: d.deletedAt,
    status: record.status,
    ...(record.errorCode ? { errorCode: record.errorCode } : {}),
  };
}
