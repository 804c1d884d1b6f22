/**
 * `cost-guard slack serve --port N`: the Slack interactivity endpoint on a local HTTP server (POST /slack/events, the
 * path Slack's Bolt uses), for developing a Slack app through a tunnel and for tests. Same checks as the deployed
 * function (signature, 5-minute timestamp, replays, `slack.teamId`), the same work after the answer, against the
 * AWS account of the current credentials. The signing secret comes from SLACK_SIGNING_SECRET, the bot token from
 * SLACK_BOT_TOKEN (without it, answers are printed).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LoggedSlackInteractivityApi, WebSlackInteractivityApi } from '../adapters/slack-interactivity';
import type { BlockActions } from '../core/slack-interactivity/payload';
import { buildContext, type RunContext } from '../runtime/context';
import {
  dynamoMarks,
  handleInteraction,
  type InteractionSummary,
  type MarkStore,
  memoryMarks,
  receiveSlackRequest,
} from '../services/slack-interactivity';
import { MemoryMetrics } from '../shared/observability';
import { parseCliArgs } from './args';
import { cliContext } from './cli-context';
import { type CliIO, EXIT, UsageError } from './io';
import { resolveConfig } from './load-config';

export const SLACK_PATH = '/slack/events';
/** Slack's interactivity payloads are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export const SLACK_USAGE = `Usage: cost-guard slack serve [--port N] [options]

Runs the Slack interactivity endpoint on this machine: POST ${SLACK_PATH}, with the checks of the deployed one
(Slack's signature, a timestamp within 5 minutes, no replays, the workspace slack.teamId). Button presses act on the
AWS account of your current credentials. Point the Slack app's Request URL at it through a tunnel.

Environment:
  SLACK_SIGNING_SECRET  the app's signing secret (required)
  SLACK_BOT_TOKEN       the bot token, to update messages and answer the presser (else answers are printed)

Options:
  --port N          port to listen on (default 3000; 0 picks a free one)
  --host H          address to listen on (default 127.0.0.1)
  --config FILE     costGuard config (default: ./cdk.json context)
  --region R        default region (else AWS_REGION)
  --state-table T   the deployed state table (else state.tableName, else ml-cost-guard-state)
  --dry-run         act in dry run (keeps are recorded; no stop, start or tag)
  --help            this help`;

export interface SlackServeOptions {
  /** The context the server was started with (config, clients, account); each press gets its own clock reading. */
  readonly base: RunContext;
  readonly signingSecret: string;
  readonly botToken?: string;
  readonly port: number;
  readonly host?: string;
  readonly io: CliIO;
  /** @default the state table's marks, else marks in memory */
  readonly marks?: MarkStore;
}

export interface SlackEndpointServer {
  readonly url: string;
  /** Resolves when every press received so far has been handled. */
  settled(): Promise<InteractionSummary[]>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the endpoint; the press work runs after each answer, in this process. */
export async function serveSlack(o: SlackServeOptions): Promise<SlackEndpointServer> {
  const { base, io } = o;
  const marks =
    o.marks ?? (base.stateTableName ? dynamoMarks(base.clients.dynamodb(), base.stateTableName) : memoryMarks());
  const slack = o.botToken
    ? new WebSlackInteractivityApi(o.botToken, base.config.slack.apiUrl)
    : new LoggedSlackInteractivityApi((line) => io.err(line));
  const pending: Promise<InteractionSummary | undefined>[] = [];

  const work = (interaction: BlockActions) => {
    const ctx = buildContext({
      config: base.config,
      now: io.now(),
      defaultRegion: base.clients.defaultRegion,
      dryRun: base.dryRun,
      notifier: base.notifier,
      log: base.log,
      metrics: new MemoryMetrics(),
      clients: base.clients,
      ...(base.accountId ? { accountId: base.accountId } : {}),
      ...(base.stateTableName ? { stateTableName: base.stateTableName } : {}),
      ...(base.holder ? { holder: base.holder } : {}),
    });
    const done = handleInteraction(ctx, interaction, { slack, marks }).then(
      (summary) => {
        for (const p of summary.presses)
          io.err(
            `slack: ${p.userId} pressed ${p.kind ?? p.actionId}${p.instanceId ? ` on ${p.instanceId}` : ''}: ${p.duplicate ? 'already handled' : (p.outcome?.kind ?? 'nothing')}`,
          );
        return summary;
      },
      (error: unknown) => {
        io.err(`slack: press failed: ${String(error)}`);
        return undefined;
      },
    );
    pending.push(done);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const answer = (status: number, text = '') => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
    };
    if ((req.url ?? '').split('?')[0] !== SLACK_PATH) return answer(404, 'not found');
    if (req.method !== 'POST') return answer(405, 'POST only');
    const rawBody = await readBody(req);
    if (rawBody === undefined) return answer(413, 'too large');
    const receipt = await receiveSlackRequest(
      { headers: req.headers, rawBody },
      { signingSecret: o.signingSecret, teamId: base.config.slack.teamId, marks, now: io.now() },
    );
    if (receipt.status !== 200) {
      io.err(`slack: request refused (${receipt.status} ${receipt.reason})`);
      return answer(
        receipt.status,
        receipt.status === 403 ? 'forbidden' : receipt.status === 400 ? 'bad request' : 'unauthorized',
      );
    }
    answer(200);
    if (receipt.interaction) work(receipt.interaction);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      io.err(`slack: request failed: ${String(error)}`);
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${SLACK_PATH}`,
    settled: async () => (await Promise.all(pending)).filter((s): s is InteractionSummary => s !== undefined),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** `cost-guard slack serve`: runs until interrupted. */
export async function slackCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCliArgs(
    {
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        region: { type: 'string' },
        'state-table': { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    },
    SLACK_USAGE,
  );
  if (values.help) {
    io.out(SLACK_USAGE);
    return EXIT.ok;
  }
  if (positionals[0] !== 'serve' || positionals.length > 1)
    throw new UsageError(`unknown slack command '${positionals.join(' ')}' (serve is the one)`, SLACK_USAGE);
  const port = values.port === undefined ? 3000 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a whole number from 0 to 65535', SLACK_USAGE);
  const signingSecret = io.env.SLACK_SIGNING_SECRET;
  if (!signingSecret)
    throw new UsageError('SLACK_SIGNING_SECRET is not set: every request would be refused', SLACK_USAGE);
  const { config } = resolveConfig(values.config, io);
  if (!config.slack.teamId)
    throw new UsageError('slack.teamId is not set: name the workspace whose requests to accept', SLACK_USAGE);
  const base = await cliContext({
    config,
    io,
    dryRun: values['dry-run'] === true,
    printOnly: true,
    ...(values.region ? { region: values.region } : {}),
    ...(values['state-table'] ? { stateTable: values['state-table'] } : {}),
  });
  const server = await serveSlack({
    base,
    signingSecret,
    ...(io.env.SLACK_BOT_TOKEN ? { botToken: io.env.SLACK_BOT_TOKEN } : {}),
    port,
    ...(values.host ? { host: values.host } : {}),
    io,
  });
  io.err(`cost-guard slack: listening on ${server.url} (workspace ${config.slack.teamId}; Ctrl-C stops)`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await server.settled();
  await server.close();
  return EXIT.ok;
}
