/** `cost-guard restore`: the command line around services/restore, and its text report. */
import { STOPPED_BY_TAG } from '../core/budgets/tags';
import { withRunLeases } from '../runtime/lease';
import { recordRun } from '../runtime/record';
import {
  type EndpointRestoreSummary,
  type RestoreSummary,
  restoreEndpoints,
  restoreInstances,
} from '../services/restore';
import { parseCliArgs } from './args';
import { cliContext, cliHolder } from './cli-context';
import { terminalText } from './format/table';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';
import { Progress } from './progress';

export function formatRestore(s: RestoreSummary): string {
  const verb = { done: 'started', 'dry-run': 'would start', failed: 'FAILED to start' } as const;
  const lines = [`Restore${s.budget ? ` (budget ${s.budget})` : ''}${s.dryRun ? ' [dry run]' : ''}`];
  // Names are AWS values: one plain line each on a terminal.
  const instanceLabel = (id: string, name?: string) => terminalText(name ? `${id} (${name})` : id);
  for (const i of s.instances) {
    const why = i.budget ? ` (budget ${i.budget})` : i.stoppedBy === 'reaper' ? ' (idle GPU reaper)' : '';
    lines.push(
      `  ${verb[i.status]} ${instanceLabel(i.instanceId, i.name)} ${i.instanceType} ${i.region}${why}${i.errorCode ? `: ${i.errorCode}` : ''}`,
    );
  }
  for (const r of s.notStarted)
    lines.push(`  left alone ${instanceLabel(r.instanceId, r.name)} ${r.region}: ${r.reason}`);
  for (const c of s.launchCaps ?? []) {
    const roles = c.detached.length > 0 ? c.detached.join(', ') : 'no role';
    lines.push(`  ${s.dryRun ? 'would lift' : 'lifted'} the GPU launch cap of budget ${c.budget} from ${roles}`);
    for (const f of c.failed) lines.push(`  FAILED to lift the GPU launch cap from ${f.role}: ${f.code}`);
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** The text report of `cost-guard restore --sagemaker`. */
export function formatEndpointRestore(s: EndpointRestoreSummary): string {
  const verb = { done: 'recreated', 'dry-run': 'would recreate', failed: 'FAILED to recreate' } as const;
  const lines = [`Restore SageMaker endpoints${s.dryRun ? ' [dry run]' : ''}`];
  for (const e of s.endpoints) {
    lines.push(
      `  ${verb[e.status]} ${terminalText(e.endpointName)} ${e.region} from config ${terminalText(e.endpointConfigName)}` +
        ` (deleted ${e.deletedAt})${e.errorCode ? `: ${e.errorCode}` : ''}`,
    );
  }
  for (const r of s.notRecreated)
    lines.push(`  left alone ${terminalText(r.endpointName)} ${r.region}: ${terminalText(r.reason)}`);
  for (const n of s.notes) lines.push(`note: ${terminalText(n)}`);
  if (s.endpoints.some((e) => e.status === 'done')) {
    lines.push('note: SageMaker provisions the instances again: each endpoint takes minutes to be InService.');
  }
  return lines.join('\n');
}

export const RESTORE_USAGE = `Usage: cost-guard restore [--budget NAME] [options]
       cost-guard restore --sagemaker [options]

Starts the EC2 instances the budget guard stopped, in every configured region, and removes the guard's
cost-guard:stopped-* tags from each one that started. Takes the budget's GPU launch cap (budgets.launchCap) off
its roles too (of every budget without --budget); it stays off for the rest of the budget period. What the guard stopped comes from its records in the state
table, not from tags: a stopped instance tagged ${STOPPED_BY_TAG} that the records do not name is reported and left
alone, and so is one started by someone since the guard stopped it. Waits for (refuses during) a run of the
deployed budget guard in the same region.

With --sagemaker it recreates instead, with CreateEndpoint from the same endpoint config and with their tags, the
SageMaker endpoints the SageMaker guard deleted, and only those its records name; an endpoint of that name that
exists again, or whose config is gone, is reported and left alone. Waits for a run of the deployed guard.

Options:
  --budget NAME     only instances stopped for this budget
  --include-reaper  also instances the idle GPU reaper stopped
  --sagemaker       recreate the endpoints the SageMaker guard deleted (no instance is started)
  --config FILE   costGuard config (default: ./cdk.json context)
  --region R      default region (else AWS_REGION)
  --state-table T the deployed state table (else state.tableName, else ml-cost-guard-state)
  --dry-run       list what would be started; change nothing
  --json          print the summary as JSON (stdout holds only it)
  --verbose       log each AWS call to stderr
  --help          this help`;

/** `cost-guard restore [--budget NAME] [--config FILE] [--region R] [--dry-run] [--json]`. */
export async function restoreCommand(argv: string[], io: CliIO): Promise<number> {
  let values: {
    budget?: string;
    'include-reaper'?: boolean;
    sagemaker?: boolean;
    config?: string;
    region?: string;
    'state-table'?: string;
    'dry-run'?: boolean;
    json?: boolean;
    verbose?: boolean;
    help?: boolean;
  };
  ({ values } = parseCliArgs(
    {
      args: argv,
      options: {
        budget: { type: 'string' },
        'include-reaper': { type: 'boolean' },
        sagemaker: { type: 'boolean' },
        config: { type: 'string' },
        region: { type: 'string' },
        'state-table': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    },
    RESTORE_USAGE,
  ));
  if (values.help) {
    io.out(RESTORE_USAGE);
    return EXIT.ok;
  }
  if (values.budget !== undefined && values.budget.trim() === '') {
    throw new UsageError('--budget needs a budget name', RESTORE_USAGE);
  }
  if (values.sagemaker && (values.budget !== undefined || values['include-reaper'])) {
    throw new UsageError(
      '--sagemaker recreates endpoints only: it takes no --budget or --include-reaper',
      RESTORE_USAGE,
    );
  }
  const { config } = resolveConfig(values.config, io);
  const progress = new Progress(io);
  progress.section('restore');
  const ctx = await cliContext({
    config,
    io,
    dryRun: values['dry-run'] === true,
    printOnly: true,
    verbose: values.verbose === true,
    progress,
    ...(values.region ? { region: values.region } : {}),
    ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
  }).finally(() => progress.done());
  if (values.sagemaker) {
    // Not while the deployed SageMaker guard acts in the same region; the creates reach the ledger (which marks the
    // deletions restored) before the lease goes.
    const summary = await withRunLeases(ctx, { capabilities: ['sagemaker'], holder: cliHolder(io) }, async () => {
      try {
        return await restoreEndpoints(ctx);
      } finally {
        for (const problem of await recordRun(ctx)) io.err(`warning: ${problem}`);
      }
    }).finally(() => progress.done());
    io.out(values.json ? JSON.stringify(summary, null, 2) : formatEndpointRestore(summary));
    return summary.endpoints.some((e) => e.status === 'failed') ? EXIT.failure : EXIT.ok;
  }
  const includeReaper = values['include-reaper'] === true;
  // Not while the budget guard (or the reaper, when its stops are restored too) acts in the same region: it could
  // stop again what this starts. The starts go to the ledger, which marks the stops restored, before the lease goes.
  const capabilities = includeReaper ? ['budgets', 'reaper'] : ['budgets'];
  const summary = await withRunLeases(ctx, { capabilities, holder: cliHolder(io) }, async () => {
    try {
      return await restoreInstances(ctx, { ...(values.budget ? { budget: values.budget } : {}), includeReaper });
    } finally {
      for (const problem of await recordRun(ctx)) io.err(`warning: ${problem}`);
    }
  }).finally(() => progress.done());
  io.out(values.json ? JSON.stringify(summary, null, 2) : formatRestore(summary));
  const failed =
    summary.instances.some((i) => i.status === 'failed') || summary.launchCaps.some((c) => c.failed.length > 0);
  return failed ? EXIT.failure : EXIT.ok;
}
