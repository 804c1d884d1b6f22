/**
 * `cost-guard restore`: starts the instances the budget guard stopped (all, or those of one budget) and removes the
 * guard's `cost-guard:stopped-*` tags from each instance that started. Every start and untag goes through the action
 * runner, so `--dry-run` lists what would be restarted and changes nothing.
 */
import { parseArgs } from 'node:util';
import {
  instanceFilters,
  listInstances,
  STOPPED_AT_TAG,
  STOPPED_BUDGET_TAG,
  STOPPED_BY_TAG,
  STOPPED_BY_VALUE,
  STOPPED_TAG_KEYS,
  startInstance,
  untagInstance,
} from '../adapters/budgets-ec2';
import { cliContext } from '../cli/cli-context';
import { type CliIO, EXIT, UsageError } from '../cli/io';
import { resolveConfig } from '../cli/load-config';
import type { RunContext, RunSummary } from '../shared/context';

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

export async function restoreInstances(ctx: RunContext, options: RestoreOptions = {}): Promise<RestoreSummary> {
  const startedAt = ctx.now.toISOString();
  const instances: RestoredInstance[] = [];
  const notes: string[] = [];
  const tags: Record<string, string> = { [STOPPED_BY_TAG]: STOPPED_BY_VALUE };
  if (options.budget) tags[STOPPED_BUDGET_TAG] = options.budget;

  for (const region of ctx.regions) {
    const ec2 = ctx.clients.ec2(region);
    const stopped = await listInstances(ec2, region, instanceFilters(['stopped'], tags));
    for (const instance of stopped) {
      const budget = instance.tags[STOPPED_BUDGET_TAG];
      const stoppedAt = instance.tags[STOPPED_AT_TAG];
      const started = await ctx.actions.perform(
        {
          capability: 'restore',
          kind: 'start',
          target: instance.instanceId,
          region,
          reason: `stopped by the budget guard${budget ? ` for budget ${budget}` : ''}${stoppedAt ? ` at ${stoppedAt}` : ''}`,
          details: { instanceType: instance.instanceType, ...(budget ? { budget } : {}) },
        },
        () => startInstance(ec2, instance.instanceId),
      );
      let untagged = false;
      if (started.status !== 'failed') {
        const untag = await ctx.actions.perform(
          {
            capability: 'restore',
            kind: 'untag',
            target: instance.instanceId,
            region,
            reason: 'restarted: remove the budget guard tags',
            details: { keys: [...STOPPED_TAG_KEYS] },
          },
          () => untagInstance(ec2, instance.instanceId, STOPPED_TAG_KEYS),
        );
        untagged = untag.status === 'done';
        if (untag.status === 'failed') {
          notes.push(
            `${instance.instanceId} started, but its cost-guard:stopped-* tags could not be removed (${untag.errorCode})`,
          );
        }
      }
      instances.push({
        instanceId: instance.instanceId,
        region,
        instanceType: instance.instanceType,
        ...(budget ? { budget } : {}),
        ...(stoppedAt ? { stoppedAt } : {}),
        status: started.status,
        ...(started.errorCode ? { errorCode: started.errorCode } : {}),
        untagged,
      });
    }
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

export function formatRestore(s: RestoreSummary): string {
  const verb = { done: 'started', 'dry-run': 'would start', failed: 'FAILED to start' } as const;
  const lines = [`Restore${s.budget ? ` (budget ${s.budget})` : ''}${s.dryRun ? ' [dry run]' : ''}`];
  for (const i of s.instances) {
    lines.push(
      `  ${verb[i.status]} ${i.instanceId} ${i.instanceType} ${i.region}${i.budget ? ` (budget ${i.budget})` : ''}${i.errorCode ? `: ${i.errorCode}` : ''}`,
    );
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export const RESTORE_USAGE = `Usage: cost-guard restore [--budget NAME] [options]

Starts the EC2 instances the budget guard stopped (tagged ${STOPPED_BY_TAG}=${STOPPED_BY_VALUE}), in every configured
region, and removes the guard's cost-guard:stopped-* tags from each one that started.

Options:
  --budget NAME   only instances stopped for this budget
  --config FILE   costGuard config (default: ./cdk.json context)
  --region R      default region (else AWS_REGION)
  --dry-run       list what would be started; change nothing
  --json          print the summary as JSON
  --help          this help`;

/** `cost-guard restore [--budget NAME] [--config FILE] [--region R] [--dry-run] [--json]`. */
export async function restoreCommand(argv: string[], io: CliIO): Promise<number> {
  let values: {
    budget?: string;
    config?: string;
    region?: string;
    'dry-run'?: boolean;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        budget: { type: 'string' },
        config: { type: 'string' },
        region: { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message, RESTORE_USAGE);
  }
  if (values.help) {
    io.out(RESTORE_USAGE);
    return EXIT.ok;
  }
  if (values.budget !== undefined && values.budget.trim() === '') {
    throw new UsageError('--budget needs a budget name', RESTORE_USAGE);
  }
  const { config } = resolveConfig(values.config, io);
  const ctx = await cliContext({
    config,
    io,
    dryRun: values['dry-run'] === true,
    printOnly: true,
    ...(values.region ? { region: values.region } : {}),
  });
  const summary = await restoreInstances(ctx, values.budget ? { budget: values.budget } : {});
  io.out(values.json ? JSON.stringify(summary, null, 2) : formatRestore(summary));
  return summary.instances.some((i) => i.status === 'failed') ? EXIT.failure : EXIT.ok;
}
