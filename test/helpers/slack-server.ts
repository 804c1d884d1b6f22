/**
 * A real HTTP server on 127.0.0.1 that speaks enough of the Slack Web API for tests (chat.postMessage, and for owner
 * routing users.lookupByEmail and conversations.open): it records every request and answers from a script (ok, 429
 * with Retry-After, 500, ok:false, any JSON). Without a script, users.lookupByEmail finds the addresses in `users`
 * (else users_not_found) and conversations.open gives `D<user id>`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** Parsed body: JSON or form-encoded fields (the client sends form-encoded with JSON-encoded blocks). */
  readonly body: Record<string, unknown>;
}

export type ScriptedResponse =
  | { kind: 'ok'; ts?: string }
  | { kind: 'rate-limited'; retryAfterSeconds: number }
  | { kind: 'status'; status: number }
  | { kind: 'slack-error'; error: string }
  | { kind: 'json'; body: Record<string, unknown> };

export interface SlackTestServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Responses to give, in order; when empty every request is answered ok. */
  readonly script: ScriptedResponse[];
  /**
   * Answers by content, before the script: a response for the request's parsed body and path (`/api/chat.postMessage`),
   * or undefined to go on.
   */
  respond?: (body: Record<string, unknown>, path: string) => ScriptedResponse | undefined;
  /** E-mail address to Slack user ID: what users.lookupByEmail finds. */
  readonly users: Map<string, string>;
  /** chat.postMessage requests only, with `blocks` parsed. */
  posts(): { channel: string; text: string; blocks: unknown[] }[];
  close(): Promise<void>;
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (!raw) return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  return Object.fromEntries(new URLSearchParams(raw).entries());
}

export async function startSlackServer(): Promise<SlackTestServer> {
  const requests: RecordedRequest[] = [];
  const script: ScriptedResponse[] = [];
  const holder: { respond?: SlackTestServer['respond'] } = {};
  const users = new Map<string, string>();
  /** The default answer of a method when neither `respond` nor the script gives one. */
  const byMethod = (path: string, body: Record<string, unknown>): ScriptedResponse | undefined => {
    if (path.endsWith('/users.lookupByEmail')) {
      const id = users.get(String(body.email));
      return id
        ? { kind: 'json', body: { ok: true, user: { id, name: id.toLowerCase() } } }
        : { kind: 'slack-error', error: 'users_not_found' };
    }
    if (path.endsWith('/conversations.open')) {
      return { kind: 'json', body: { ok: true, channel: { id: `D${String(body.users)}` } } };
    }
    return undefined;
  };
  let counter = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = parseBody(Buffer.concat(chunks).toString('utf8'), req.headers['content-type']);
      const path = req.url ?? '';
      requests.push({ method: req.method ?? '', path, headers: req.headers, body });
      const next = holder.respond?.(body, path) ?? script.shift() ?? byMethod(path, body) ?? { kind: 'ok' };
      const json = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      switch (next.kind) {
        case 'ok':
          counter += 1;
          json(200, { ok: true, channel: String(body.channel ?? 'C0TEST'), ts: next.ts ?? `1700000000.${counter}` });
          break;
        case 'rate-limited':
          json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(next.retryAfterSeconds) });
          break;
        case 'status':
          res.writeHead(next.status, { 'content-type': 'text/plain' });
          res.end('server error');
          break;
        case 'slack-error':
          json(200, { ok: false, error: next.error });
          break;
        case 'json':
          json(200, next.body);
          break;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    requests,
    script,
    users,
    get respond() {
      return holder.respond;
    },
    set respond(fn) {
      holder.respond = fn;
    },
    posts() {
      return requests
        .filter((r) => r.path.endsWith('/chat.postMessage'))
        .map((r) => ({
          channel: String(r.body.channel),
          text: String(r.body.text),
          blocks:
            typeof r.body.blocks === 'string'
              ? (JSON.parse(r.body.blocks) as unknown[])
              : ((r.body.blocks as unknown[]) ?? []),
        }));
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
