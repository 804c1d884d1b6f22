/**
 * Slack delivery. `SlackNotifier` posts through @slack/web-api (which retries 429 after Retry-After and 5xx by
 * itself); `ConsoleNotifier` prints the same messages when no token is configured (the CLI on a laptop, or a
 * deployment whose secret is still empty). Either way a failure to deliver is a `SlackDeliveryError`, never silent.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { messageToText, type SlackMessage } from '../core/slack-blocks';
import { errorCode, errorMessage, SlackDeliveryError } from '../shared/errors';

export interface PostResult {
  /** Slack's message timestamp (its ID), or undefined when printed instead of posted. */
  readonly ts?: string;
  readonly channel: string;
}

export interface Notifier {
  /** 'slack' posts to Slack, 'console' prints. */
  readonly kind: 'slack' | 'console';
  /** Sends one message; throws SlackDeliveryError when Slack did not accept it. */
  post(message: SlackMessage): Promise<PostResult>;
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
    this.client = new WebClient(options.token, {
      slackApiUrl: options.apiUrl ?? 'https://slack.com/api/',
      retryConfig: { retries: options.retries ?? 5, minTimeout, maxTimeout: Math.max(minTimeout, 30_000), factor: 2 },
      rejectRateLimitedCalls: false,
      timeout: options.timeoutMs ?? 10_000,
      // Logs go through our logger; the client's own would print the token-free request URL on every retry.
      logLevel: LogLevel.ERROR,
    });
  }

  async post(message: SlackMessage): Promise<PostResult> {
    try {
      const res = await this.client.chat.postMessage({
        channel: this.options.channel,
        text: message.text,
        blocks: [...message.blocks],
        unfurl_links: false,
      });
      if (!res.ok)
        throw new SlackDeliveryError(`Slack answered ok:false (${res.error ?? 'unknown'})`, res.error ?? 'unknown');
      return { ts: res.ts, channel: res.channel ?? this.options.channel };
    } catch (error) {
      if (error instanceof SlackDeliveryError) throw error;
      const data = (error as { data?: { error?: string } }).data;
      const code = data?.error ?? (error as { code?: string }).code ?? errorCode(error);
      throw new SlackDeliveryError(`Slack did not accept the message: ${data?.error ?? errorMessage(error)}`, code, {
        cause: error,
      });
    }
  }
}

export class ConsoleNotifier implements Notifier {
  readonly kind = 'console' as const;
  readonly sent: SlackMessage[] = [];

  constructor(
    private readonly write: (text: string) => void,
    private readonly channel = '(console)',
  ) {}

  async post(message: SlackMessage): Promise<PostResult> {
    this.sent.push(message);
    this.write(`--- Slack message for ${this.channel} (not posted: no token) ---\n${messageToText(message)}\n`);
    return { channel: this.channel };
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
