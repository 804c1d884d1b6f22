/**
 * Slack delivery. `SlackNotifier` posts through @slack/web-api (which retries 429 after Retry-After and 5xx by
 * itself); `ConsoleNotifier` prints the same messages when no token is configured (the CLI on a laptop, or a
 * deployment whose secret is still empty). Either way a failure to deliver is a `SlackDeliveryError`, never silent.
 *
 * A message goes to the configured channel unless the caller names another (a team's channel, an owner's direct
 * message). `OwnerDirectory` finds an owner's direct-message channel once per run (users.lookupByEmail, then
 * conversations.open), each answer cached for the run.
 */
import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from '../core/slack-blocks';
import { messageToText } from '../core/slack-blocks';
import { type OwnerAddress, ownerAddress, ownerKey } from '../core/slack-routing';
import { errorCode, errorMessage, SlackDeliveryError } from '../shared/errors';

export interface PostResult {
  /** Slack's message timestamp (its ID), or undefined when printed instead of posted. */
  readonly ts?: string;
  readonly channel: string;
}

export interface Notifier {
  /**
   * 'slack' posts to Slack, 'console' prints (nobody reads it: the guard then only reports). 'preview' posts nothing
   * and stands for a Slack that accepts every message: `cost-guard plan` uses it, in dry-run only, to show what the
   * deployed guard would do when it has a token.
   */
  readonly kind: 'slack' | 'console' | 'preview';
  /**
   * Sends one message to `channel` (a channel or DM channel ID or name; default: the configured channel); throws
   * SlackDeliveryError when Slack did not accept it.
   */
  post(message: SlackMessage, channel?: string): Promise<PostResult>;
  /** Finds people in the workspace (only a notifier that posts to Slack has it). */
  readonly directory?: SlackDirectory;
}

/** Who is who in the workspace: what owner routing needs (scopes users:read.email and im:write). */
export interface SlackDirectory {
  /** users.lookupByEmail: the user's ID, or undefined when no user has that address (users_not_found). */
  userIdByEmail(email: string): Promise<string | undefined>;
  /** conversations.open: the ID of the direct-message channel with the user; SlackDeliveryError when refused. */
  openDirectMessage(userId: string): Promise<string>;
}

export interface SlackNotifierOptions {
  readonly token: string;
  readonly channel: string;
  /** @default 'https://slack.com/api/' */
  readonly apiUrl?: string;
  /** Retries after a 429 or 5xx. @default 5 */
  readonly retries?: number;
  /** Smallest wait between retries in ms (Retry-After wins when larger). @default 1000 */
  readonly minRetryDelayMs?: number;
  /** Per-request timeout in ms. @default 10000 */
  readonly timeoutMs?: number;
}

export class SlackNotifier implements Notifier {
  readonly kind = 'slack' as const;
  private readonly client: WebClient;

  constructor(private readonly options: SlackNotifierOptions) {
    const minTimeout = options.minRetryDelayMs ?? 1000;
    // Loaded here, not at import: a run without a token (ConsoleNotifier) never needs the client.
    const { LogLevel, WebClient } = require('@slack/web-api') as typeof import('@slack/web-api');
    this.client = new WebClient(options.token, {
      slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
      retryConfig: { retries: options.retries ?? 5, minTimeout, maxTimeout: Math.max(minTimeout, 30_000), factor: 2 },
      rejectRateLimitedCalls: false,
      timeout: options.timeoutMs ?? 10_000,
      // Logs go through our logger; the client's own would print the token-free request URL on every retry.
      logLevel: LogLevel.ERROR,
    });
  }

  readonly directory: SlackDirectory = {
    userIdByEmail: async (email) => {
      try {
        const res = await this.client.users.lookupByEmail({ email });
        if (!res.ok)
          throw new SlackDeliveryError(`Slack answered ok:false (${res.error ?? 'unknown'})`, res.error ?? 'unknown');
        return res.user?.id;
      } catch (error) {
        if (slackErrorCode(error) === 'users_not_found') return undefined;
        throw deliveryError('Slack could not look the user up', error);
      }
    },
    openDirectMessage: async (userId) => {
      try {
        const res = await this.client.conversations.open({ users: userId });
        const id = res.channel?.id;
        if (!res.ok || !id)
          throw new SlackDeliveryError(
            `Slack answered without a channel (${res.error ?? 'no channel'})`,
            res.error ?? 'no_channel',
          );
        return id;
      } catch (error) {
        throw deliveryError('Slack did not open the direct message', error);
      }
    },
  };

  async post(message: SlackMessage, channel?: string): Promise<PostResult> {
    const to = channel ?? this.options.channel;
    try {
      const res = await this.client.chat.postMessage({
        channel: to,
        text: message.text,
        blocks: [...message.blocks],
        unfurl_links: false,
      });
      if (!res.ok)
        throw new SlackDeliveryError(`Slack answered ok:false (${res.error ?? 'unknown'})`, res.error ?? 'unknown');
      return { ts: res.ts, channel: res.channel ?? to };
    } catch (error) {
      throw deliveryError('Slack did not accept the message', error);
    }
  }
}

/** Slack's error code of a failed call (`users_not_found`, `channel_not_found`…), else the error's own code. */
function slackErrorCode(error: unknown): string {
  if (error instanceof SlackDeliveryError) return error.code;
  const data = (error as { data?: { error?: string } }).data;
  return data?.error ?? (error as { code?: string }).code ?? errorCode(error);
}

function deliveryError(what: string, error: unknown): SlackDeliveryError {
  if (error instanceof SlackDeliveryError) return error;
  const data = (error as { data?: { error?: string } }).data;
  return new SlackDeliveryError(`${what}: ${data?.error ?? errorMessage(error)}`, slackErrorCode(error), {
    cause: error,
  });
}

export class ConsoleNotifier implements Notifier {
  readonly kind = 'console' as const;
  readonly sent: SlackMessage[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly channel = '(console)',
  ) {}

  async post(message: SlackMessage, channel?: string): Promise<PostResult> {
    this.sent.push(message);
    const to = channel ?? this.channel;
    this.write(`--- Slack message for ${to} (not posted: no token) ---\n${messageToText(message)}\n`);
    return { channel: to };
  }
}

/**
 * Where an owner's direct message goes: `found` (the DM channel), `not-found` (no Slack user with that address or
 * ID), `invalid` (the tag is neither an e-mail address nor a user ID), or `failed` (Slack refused or could not be
 * reached; `errorCode` says how).
 */
export type OwnerRoute =
  | { readonly status: 'found'; readonly userId: string; readonly channel: string }
  | { readonly status: 'not-found' | 'invalid' }
  | { readonly status: 'failed'; readonly errorCode: string };

/** Slack's answers that mean "no such person" (the warning then stays in the channel, which says so). */
const NOT_FOUND_CODES = new Set([
  'users_not_found',
  'user_not_found',
  'user_not_visible',
  'account_inactive',
  'user_disabled',
]);

/**
 * Finds owners' DM channels for one run: each address is looked up once however many instances name it (a fleet of
 * 200 instances of one owner makes one lookup and one conversations.open). Create one per run: a person who leaves
 * or joins is seen by the next run.
 */
export class OwnerDirectory {
  private readonly cache = new Map<string, Promise<OwnerRoute>>();

  constructor(private readonly directory: SlackDirectory) {}

  /** The route for an owner tag's value. Never throws: a failure is a route of status `failed`. */
  route(owner: string): Promise<OwnerRoute> {
    const address = ownerAddress(owner);
    const key = ownerKey(address);
    if (key === undefined || address.kind === 'invalid') return Promise.resolve({ status: 'invalid' });
    let found = this.cache.get(key);
    if (!found) {
      found = this.lookup(address);
      this.cache.set(key, found);
    }
    return found;
  }

  private async lookup(address: Exclude<OwnerAddress, { kind: 'invalid' }>): Promise<OwnerRoute> {
    try {
      const userId = address.kind === 'user' ? address.userId : await this.directory.userIdByEmail(address.email);
      if (userId === undefined) return { status: 'not-found' };
      return { status: 'found', userId, channel: await this.directory.openDirectMessage(userId) };
    } catch (error) {
      const code = slackErrorCode(error);
      return NOT_FOUND_CODES.has(code) ? { status: 'not-found' } : { status: 'failed', errorCode: code };
    }
  }
}

/** Posts several messages in order (a long digest split to fit Slack's limits); stops at the first failure. */
export async function postAll(notifier: Notifier, messages: readonly SlackMessage[]): Promise<PostResult[]> {
  const results: PostResult[] = [];
  for (const m of messages) results.push(await notifier.post(m));
  return results;
}

/** A Slack bot token in a secret may be stored as the bare token or as JSON `{"token": "xoxb-…"}`. */
export function tokenFromSecret(secret: string | undefined): string | undefined {
  if (!secret) return undefined;
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const token = parsed.token ?? parsed.botToken ?? parsed.SLACK_BOT_TOKEN;
      return typeof token === 'string' && token.length > 0 ? token : undefined;
    } catch {
      return undefined;
    }
  }
  // The stack creates the secret with a placeholder; treat it as "not configured yet".
  return trimmed.length > 0 && !trimmed.startsWith('REPLACE') ? trimmed : undefined;
}
