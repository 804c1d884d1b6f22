/** `cost-guard restore`: the command line around services/restore, and its text report. */
import { parseArgs } from 'node:util';
import { STOPPED_BY_TAG, STOPPED_BY_VALUE } from '../core/budgets/tags';
import { type RestoreSummary, restoreInstances } from '../services/restore';
import { cliContext } from './cli-context';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';

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
