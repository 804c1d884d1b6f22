/**
 * cost-guard: the same capability code the Lambdas run, from a laptop.
 *
 *   cost-guard estimate <calculator> [flags] [--json]   savings calculators (no AWS access)
 *   cost-guard plan [--config FILE] [--format …]        dry-run of every capability, one report
 *   cost-guard run <reaper|lifecycle|budgets|sagemaker> one run of one capability
 *   cost-guard restore [--budget NAME]                  restart what the guard recorded stopping
 *   cost-guard keep INSTANCE_ID --hours N               keep an instance from the guards for N hours
 *   cost-guard slack serve [--port N]                   the Slack buttons endpoint on this machine
 *   cost-guard rightsize [--json]                       GPU right-sizing advice (reads only)
 *   cost-guard config [--config FILE] [--json]          print the validated config with defaults
 */
import { ConfigError } from '../core/config';
import { didYouMean } from '../core/suggest';
import { RunLeaseHeldError } from '../runtime/lease';
import { AwsAccessError, StateTableNotFoundError } from '../shared/errors';
import { parseCliArgs } from './args';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';

export const USAGE = `Usage: cost-guard <command> [options]

Commands:
  estimate <gpu|network|reservation|storage|idle|autoscaling|roi>   savings calculators (offline)
  plan                                 dry-run every capability against your AWS account, one report
                                       (--organization: every account of the AWS Organization)
  run <reaper|lifecycle|budgets|sagemaker>  one run of one capability (honours dryRun in the config)
  restore                              restart instances the budget guard stopped (--sagemaker: recreate the
                                       endpoints the SageMaker guard deleted)
  keep INSTANCE_ID --hours N           keep an instance from the reaper and the budget guard for N hours
  slack serve [--port N]               the Slack buttons endpoint on this machine (POST /slack/events)
  rightsize                            GPU right-sizing advice: a cheaper type for busy, under-used GPUs (reads only)
  config                               print the validated configuration, defaults filled in

Common options:
  --config FILE   read the costGuard object from FILE (default: cdk.json context 'costGuard')
  --json          machine-readable output: stdout holds exactly one JSON document, everything else goes to
                  stderr (plan, run, restore, rightsize, estimate, config)
  --help          help for a command

Run 'cost-guard <command> --help' for a command's options.`;

type Command = (argv: string[], io: CliIO) => Promise<number>;

/**
 * Each command's module is loaded when the command runs, not at start: `cost-guard --help` or `estimate` does not load
 * every capability and its AWS SDK clients (a second of start-up through tsx on a laptop).
 */
const commands = new Map<string, () => Command>([
  ['estimate', () => (require('./estimate') as typeof import('./estimate')).estimateCommand],
  ['plan', () => (require('./plan') as typeof import('./plan')).planCommandFor(capabilities())],
  ['run', () => (require('./run') as typeof import('./run')).runCommandFor(capabilities())],
  ['restore', () => (require('./restore') as typeof import('./restore')).restoreCommand],
  ['keep', () => (require('./keep') as typeof import('./keep')).keepCommand],
  ['slack', () => (require('./slack') as typeof import('./slack')).slackCommand],
  ['rightsize', () => (require('./rightsize') as typeof import('./rightsize')).rightsizeCommand],
  ['config', () => configCommand],
]);

const capabilities = () => (require('./capabilities') as typeof import('./capabilities')).CAPABILITIES;

export const CONFIG_USAGE = `Usage: cost-guard config [--config FILE] [--json]

Prints the validated configuration with every default filled in, after a '# from …' line naming where it came
from. With --json stdout holds only the JSON (the '# from …' line goes to stderr).`;

async function configCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCliArgs(
    {
      args: argv,
      options: { config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    },
    CONFIG_USAGE,
  );
  if (values.help) {
    io.out(CONFIG_USAGE);
    return EXIT.ok;
  }
  const { config, source } = resolveConfig(values.config, io);
  const json = JSON.stringify(config, null, 2);
  if (values.json) {
    io.err(`# from ${source}`);
    io.out(json);
  } else io.out(`# from ${source}\n${json}`);
  return EXIT.ok;
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const load = commands.get(name);
  if (!load) {
    io.err(`cost-guard: unknown command '${name}'${didYouMean(name, [...commands.keys()])}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await load()(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`cost-guard ${name}: ${error.message}${error.usage ? `\n\n${error.usage}` : ''}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT.usage;
    }
    if (
      error instanceof AwsAccessError ||
      error instanceof RunLeaseHeldError ||
      error instanceof StateTableNotFoundError
    ) {
      io.err(`cost-guard ${name}: ${error.message}`);
      return EXIT.failure;
    }
    throw error;
  }
}
