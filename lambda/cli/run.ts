/**
 * `cost-guard run <reaper|lifecycle|budgets|sagemaker>`: one run of one capability from a laptop, with the same code as
 * its Lambda.
 */
import { closestName } from '../core/suggest';
import type { CapabilityName } from '../runtime/capability';
import { type RunSummary, summaryOfFailedRun } from '../runtime/context';
import { withRunLeases } from '../runtime/lease';
import { priceListsFor } from '../runtime/pricing-source';
import { recordRun } from '../runtime/record';
import { parseCliArgs } from './args';
import type { CliCapability } from './capabilities';
import { cliContext, cliHolder } from './cli-context';
import { DEFAULT_WIDTH } from './format/table';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';
import { Progress } from './progress';

export const RUN_USAGE = `Usage: cost-guard run <reaper|lifecycle|budgets|sagemaker> [options]

Runs one capability once against the account the AWS SDK chain points at (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL…). Slack: SLACK_BOT_TOKEN, else the configured secret, else messages are printed (on stderr).

Options:
  --config FILE   costGuard config (default: ./cdk.json context)
  --dry-run       change nothing; report what would happen (also on when the config says dryRun)
  --region R      default region (else AWS_REGION)
  --state-table T the deployed state table (else state.tableName, else ml-cost-guard-state); missing: exit 1
  --json          print the run summary as JSON (stdout holds only it; messages and warnings go to stderr)
  --details       list the instances counted as left alone (reaper)
  --verbose       log each AWS call and each decision to stderr
  --help          this help`;

const parseRunArgs = (args: string[]) =>
  parseCliArgs(
    {
      args,
      options: {
        config: { type: 'string' },
        'dry-run': { type: 'boolean' },
        region: { type: 'string' },
        'state-table': { type: 'string' },
        json: { type: 'boolean' },
        details: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: true,
    },
    RUN_USAGE,
  );

export function runCommandFor(modules: ReadonlyMap<CapabilityName, CliCapability>) {
  return async function runCommand(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseRunArgs(argv);
    if (values.help) {
      io.out(RUN_USAGE);
      return EXIT.ok;
    }
    const [name, ...extra] = positionals;
    if (!name) throw new UsageError('name a capability: reaper, lifecycle, budgets or sagemaker', RUN_USAGE);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, RUN_USAGE);
    const module = modules.get(name as CapabilityName);
    if (!module) {
      const names = [...modules.keys()];
      const near = closestName(name, names);
      throw new UsageError(
        `unknown capability '${name}'; ${near ? `did you mean ${near}? ` : ''}choose one of ${names.join(', ')}`,
        RUN_USAGE,
      );
    }
    const { config } = resolveConfig(values.config, io);
    const verbose = values.verbose === true;
    // Progress on stderr while it runs (a terminal only): regions, what was read, AWS calls, Slack posts.
    const progress = new Progress(io);
    progress.section(`run ${module.name}`);
    const ctx = await cliContext({
      config,
      io,
      dryRun: values['dry-run'] === true,
      verbose,
      progress,
      priceLists: priceListsFor(module.name),
      ...(values.region ? { region: values.region } : {}),
      ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
    }).finally(() => progress.done());
    const print = (summary: RunSummary) => {
      progress.done();
      if (verbose) for (const line of module.decisionLines?.(summary) ?? []) io.err(line);
      io.out(
        values.json
          ? JSON.stringify(summary, null, 2)
          : module.formatText(summary, { width: io.columns ?? DEFAULT_WIDTH, details: values.details === true }),
      );
    };
    let summary: RunSummary;
    try {
      // Never at the same time as the deployed function (or another CLI) on this capability and region; the run's
      // actions are recorded in the ledger before the lease is given back. A held lease throws RunLeaseHeldError
      // (exit 1, nothing read or changed).
      summary = await withRunLeases(ctx, { capabilities: [module.name], holder: cliHolder(io) }, async () => {
        try {
          return await module.run(ctx, { source: 'cost-guard.cli' });
        } finally {
          for (const problem of await recordRun(ctx)) io.err(`warning: ${problem}`);
        }
      });
    } catch (error) {
      progress.done();
      const partial = summaryOfFailedRun(error);
      if (!partial) throw error;
      print(partial);
      io.err(`cost-guard run ${name}: ${(error as Error).message}`);
      return EXIT.failure;
    }
    print(summary);
    return summary.actions.some((a) => a.status === 'failed') ? EXIT.failure : EXIT.ok;
  };
}
