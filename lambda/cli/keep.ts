/**
 * `cost-guard keep INSTANCE_ID --hours N [--reason TEXT]`: the keep a Slack button sets, without Slack, with the
 * user's own credentials: the same record in the state table (capped by slack.maxKeepHours), the same keep-until
 * mirror tag (not in dry run) and the same ledger entry, naming the caller's AWS principal.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { listInstances } from '../adapters/ec2';
import { recordActions } from '../adapters/ledger';
import { type KeepRecord, KeepRequestError, keepEnd, keepReasonText } from '../core/keeps';
import { INSTANCE_ID_PATTERN } from '../core/slack-actions';
import { recordRun } from '../runtime/record';
import { mirrorKeepTag, setKeepAndRecord } from '../services/slack-interactivity';
import { ActionRunner } from '../shared/actions';
import { parseCliArgs } from './args';
import { cliContext } from './cli-context';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';

export const KEEP_USAGE = `Usage: cost-guard keep INSTANCE_ID --hours N [--reason TEXT] [options]

Keeps an instance from the idle GPU reaper and the budget guard for N hours, as the keep buttons in Slack do: a
keep record in the state table (what the guards trust; a new keep replaces the one on record), the
cost-guard:keep-until tag for people (not with --dry-run), and a ledger entry naming you (your AWS principal).
N is a whole number from 1 to slack.maxKeepHours (default 168).

Options:
  --hours N         how long (required)
  --reason TEXT     why, shown in the digest (at most 200 characters)
  --config FILE     costGuard config (default: ./cdk.json context)
  --region R        the instance's region (else AWS_REGION)
  --state-table T   the deployed state table (else state.tableName, else ml-cost-guard-state)
  --dry-run         record the keep but write no tag
  --json            print the keep as JSON
  --help            this help`;

export async function keepCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCliArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        hours: { type: 'string' },
        reason: { type: 'string' },
        config: { type: 'string' },
        region: { type: 'string' },
        'state-table': { type: 'string' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    },
    KEEP_USAGE,
  );
  if (values.help) {
    io.out(KEEP_USAGE);
    return EXIT.ok;
  }
  const [instanceId, ...extra] = positionals;
  if (!instanceId || extra.length > 0) throw new UsageError('name one instance ID', KEEP_USAGE);
  if (!INSTANCE_ID_PATTERN.test(instanceId))
    throw new UsageError(`'${instanceId}' is not an EC2 instance ID (i- and 8 or 17 hex digits)`, KEEP_USAGE);
  if (values.hours === undefined) throw new UsageError('--hours is required', KEEP_USAGE);
  const hours = Number(values.hours);
  const { config } = resolveConfig(values.config, io);
  let reason: string | undefined;
  try {
    keepEnd(io.now(), hours, config.slack.maxKeepHours);
    reason = keepReasonText(values.reason);
  } catch (error) {
    if (error instanceof KeepRequestError) throw new UsageError(error.message, KEEP_USAGE);
    throw error;
  }

  const ctx = await cliContext({
    config,
    io,
    dryRun: values['dry-run'] === true,
    printOnly: true,
    ...(values.region ? { region: values.region } : {}),
    ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
  });
  const region = ctx.clients.defaultRegion;
  const found = await listInstances(ctx.clients.ec2(region), region, [{ Name: 'instance-id', Values: [instanceId] }]);
  if (!found.some((i) => i.instanceId === instanceId && i.state !== 'terminated')) {
    io.err(`cost-guard keep: ${instanceId} does not exist in ${region}`);
    return EXIT.failure;
  }
  const caller = await ctx.clients.sts().send(new GetCallerIdentityCommand({}));
  const by = caller.Arn ?? `account ${caller.Account ?? 'unknown'}`;
  const record: KeepRecord = {
    instanceId,
    region,
    until: keepEnd(ctx.now, hours, config.slack.maxKeepHours),
    by,
    byName: by.split('/').at(-1) ?? by,
    ...(reason ? { reason } : {}),
    setAt: ctx.now.toISOString(),
    source: 'cli',
    guard: 'reaper',
  };
  const protective = new ActionRunner(false, ctx.now);
  const result = await setKeepAndRecord(ctx, record, hours, protective);
  if (!result.written) {
    io.err(`cost-guard keep: not kept: ${JSON.stringify(result.outcome)}`);
    return EXIT.failure;
  }
  const tag = await mirrorKeepTag(ctx, record);
  for (const problem of [
    ...(await recordActions(ctx.clients.dynamodb(), ctx.stateTableName!, protective.records()).then(
      (r) => (r.unprocessed > 0 ? ['ledger: the keep entry was not written'] : []),
      (e: unknown) => [`ledger: ${String(e)}`],
    )),
    ...(await recordRun(ctx)),
  ])
    io.err(`warning: ${problem}`);
  if (values.json) io.out(JSON.stringify({ ...record, hours, tag }, null, 2));
  else
    io.out(
      `kept ${instanceId} (${region}) until ${record.until} (${hours} h)${reason ? `: ${reason}` : ''}; ${
        tag === 'written'
          ? `tag ${config.tags.keepUntil} written`
          : tag === 'dry-run'
            ? 'dry run: no tag written (the keep counts)'
            : `tag ${config.tags.keepUntil} could not be written (the keep counts)`
      }`,
    );
  return EXIT.ok;
}
