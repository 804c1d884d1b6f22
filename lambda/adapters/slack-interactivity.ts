/**
 * The Slack Web API calls that answering a button press needs (bot token): who pressed (users.info, for the e-mail
 * address an owner tag may hold; scope users:read.email), who is in an approvers' user group
 * (usergroups.users.list; usergroups:read), the message rewritten in place (chat.update), and the ephemeral answer
 * posted to the press's `response_url`. @slack/web-api retries 429 after Retry-After and 5xx by itself.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { isSafeSlackApiUrl } from '../core/config';
import { errorMessage, SlackDeliveryError } from '../shared/errors';

export interface SlackInteractivityApi {
  /** The user's e-mail address, or undefined when Slack does not show it (no scope, a bot, no such user). */
  userEmail(userId: string): Promise<string | undefined>;
  /** The user IDs of a user group (`S…`). */
  userGroupMembers(groupId: string): Promise<string[]>;
  /** Replaces the text and blocks of a message the bot posted. */
  updateMessage(channel: string, ts: string, text: string, blocks: readonly unknown[]): Promise<void>;
  /** Posts an ephemeral answer to a press's response_url (seen by the presser only). */
  respond(responseUrl: string, text: string): Promise<void>;
}

/**
 * Where a response_url may point: Slack's hooks over https (slack.com, slack-gov.com), or a loopback address when
 * the API itself is a local server (tests, `slack serve` against a fake Slack). Anything else is refused: the URL
 * comes inside the payload, and the guard posts nowhere else.
 */
export function isSlackResponseUrl(url: string, apiUrl: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'https:' && /(^|\.)slack(-gov)?\.com$/.test(parsed.hostname)) return true;
  const api = new URL(apiUrl);
  return api.protocol === 'http:' && parsed.protocol === 'http:' && parsed.host === api.host && isSafeSlackApiUrl(url);
}

export class WebSlackInteractivityApi implements SlackInteractivityApi {
  private readonly client: WebClient;

  constructor(
    token: string,
    private readonly apiUrl = 'https://slack.com/api/',
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.client = new WebClient(token, {
      slackApiUrl: apiUrl,
      retryConfig: { retries: 3, minTimeout: 500, maxTimeout: 10_000, factor: 2 },
      rejectRateLimitedCalls: false,
      timeout: 5_000,
      logLevel: LogLevel.ERROR,
    });
  }

  async userEmail(userId: string): Promise<string | undefined> {
    try {
      const res = await this.client.users.info({ user: userId });
      return res.user?.profile?.email ?? undefined;
    } catch {
      // Not knowing the address only means the presser is not recognised as an owner by e-mail.
      return undefined;
    }
  }

  async userGroupMembers(groupId: string): Promise<string[]> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      return res.users ?? [];
    } catch {
      // A group Slack will not list has no members the guard can see: nobody is an approver through it.
      return [];
    }
  }

  async updateMessage(channel: string, ts: string, text: string, blocks: readonly unknown[]): Promise<void> {
    try {
      const res = await this.client.chat.update({ channel, ts, text, blocks: blocks as never[] });
      if (!res.ok)
        throw new SlackDeliveryError(`chat.update answered ${res.error ?? 'not ok'}`, res.error ?? 'unknown');
    } catch (error) {
      if (error instanceof SlackDeliveryError) throw error;
      const code = (error as { data?: { error?: string } }).data?.error ?? 'unknown';
      throw new SlackDeliveryError(`Slack did not update the message: ${errorMessage(error)}`, code, { cause: error });
    }
  }

  async respond(responseUrl: string, text: string): Promise<void> {
    if (!isSlackResponseUrl(responseUrl, this.apiUrl))
      throw new SlackDeliveryError('the response_url is not a Slack address: nothing posted', 'bad_response_url');
    const res = await this.fetchImpl(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new SlackDeliveryError(`response_url answered HTTP ${res.status}`, `http_${res.status}`);
  }
}

/** Without a bot token: answers go to the log, the message is left as it is. */
export class LoggedSlackInteractivityApi implements SlackInteractivityApi {
  constructor(private readonly log: (line: string) => void) {}
  async userEmail(): Promise<undefined> {
    return undefined;
  }
  async userGroupMembers(): Promise<string[]> {
    return [];
  }
  async updateMessage(channel: string, ts: string, text: string): Promise<void> {
    this.log(`(no Slack token) would update message ${ts} in ${channel}: ${text}`);
  }
  async respond(_responseUrl: string, text: string): Promise<void> {
    this.log(`(no Slack token) would answer the presser: ${text}`);
  }
}
