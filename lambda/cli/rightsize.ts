/**
 * `cost-guard rightsize`: the GPU right-sizing advice against the account the AWS SDK chain points at, printed (or as
 * JSON). Reads EC2 and CloudWatch only; posts nothing and changes nothing.
 */

import { summaryOfFailedRun } from '../runtime/context';
import type { RightsizingSummary } from '../services/rightsizing';
import { rightsizingCapability } from '../services/rightsizing';
import { parseCliArgs } from './args';
import { cliContext } from './cli-context';
import { formatRightsizingText } from './format/rightsizing';
import { type CliIO, EXIT } from './io';
import { resolveConfig } from './load-config';

export const RIGHTSIZE_USAGE = `Usage: cost-guard rightsize [--config FILE] [--region R] [--json]

Looks at every running GPU instance over costGuard.rightsizing.lookbackDays of hourly CloudWatch metrics (GPU
utilization p95, GPU memory used peak, CPU p95) and names the cheapest compatible GPU type that covers the peaks with
costGuard.rightsizing.headroomPercent headroom, with the dollars a month it saves. Advice only: reads EC2 and
CloudWatch, posts nothing, changes nothing.

Options:
  --config FILE   costGuard config (default: ./cdk.json context)
  --region R      default region (else AWS_REGION); costGuard.regions lists more
  --json          the full result (every instance, its evidence and verdict) as JSON
  --verbose       log to stderr
  --help          this help`;

export async function rightsizeCommand(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseCliArgs(
    {
      args: argv,
      options: {
        config: { type: 'string' },
        region: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    },
    RIGHTSIZE_USAGE,
  );
  if (values.help) {
    io.out(RIGHTSIZE_USAGE);
    return EXIT.ok;
  }
  const { config } = resolveConfig(values.config, io);
  // The advice uses no state table: a missing one is no problem here.
  const ctx = await cliContext({
    config: { ...config, rightsizing: { ...config.rightsizing, enabled: true } },
    io,
    dryRun: true,
    printOnly: true,
    verbose: values.verbose === true,
    ...(values.region ? { region: values.region } : {}),
    onMissingStateTable: () => {},
  });
  // Printed, not posted: the report below is the advice, so the Slack rendering is not shown too.
  const quiet = { ...ctx, notifier: { kind: 'console' as const, post: async () => ({ channel: '(rightsize)' }) } };
  let summary: RightsizingSummary;
  let failed = false;
  try {
    summary = await rightsizingCapability.run(quiet);
  } catch (error) {
    const partial = summaryOfFailedRun(error) as RightsizingSummary | undefined;
    if (!partial) throw error;
    summary = partial;
    failed = true;
  }
  io.out(values.json ? JSON.stringify(summary, null, 2) : formatRightsizingText(summary));
  return failed ? EXIT.failure : EXIT.ok;
}
