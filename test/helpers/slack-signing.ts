/**
 * Slack interactivity requests as Slack sends them, made in the tests with a test secret: a `block_actions` payload
 * form-encoded as `payload=<JSON>`, and its v0 signature (HMAC-SHA256 over `v0:{timestamp}:{body}`).
 */
import { createHmac } from 'node:crypto';
import type { SignedRequest } from '../../lambda/adapters/slack-signature';

export const TEST_SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const TEST_TEAM = 'T0TEST';

export interface PressOptions {
  readonly actionId: string;
  readonly value: string;
  readonly user?: string;
  readonly userName?: string;
  readonly team?: string;
  readonly actionTs?: string;
  readonly channel?: string;
  readonly messageTs?: string;
  readonly responseUrl?: string;
  readonly blocks?: readonly unknown[];
  readonly text?: string;
}

/** The payload object of one pressed button. */
export function pressPayload(o: PressOptions): Record<string, unknown> {
  const user = o.user ?? 'U0ALICE';
  return {
    type: 'block_actions',
    team: { id: o.team ?? TEST_TEAM, domain: 'test' },
    user: { id: user, username: o.userName ?? user.toLowerCase(), team_id: o.team ?? TEST_TEAM },
    api_app_id: 'A0TEST',
    container: { type: 'message', channel_id: o.channel ?? 'C0FINOPS', message_ts: o.messageTs ?? '1700000000.000100' },
    channel: { id: o.channel ?? 'C0FINOPS' },
    message: { ts: o.messageTs ?? '1700000000.000100', text: o.text ?? 'idle GPU instances', blocks: o.blocks ?? [] },
    ...(o.responseUrl ? { response_url: o.responseUrl } : {}),
    actions: [
      {
        type: 'button',
        action_id: o.actionId,
        block_id: 'cost-guard.actions.x',
        value: o.value,
        action_ts: o.actionTs ?? '1700000100.000200',
      },
    ],
  };
}

/** The form body Slack posts. */
export const formBody = (payload: unknown): string =>
  new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** v0 signature of `body` at `timestamp` (seconds) with `secret`. */
export function slackSignature(body: string, timestamp: number, secret = TEST_SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** A signed request: the headers Slack sends and the raw body. */
export function signedRequest(body: string, timestamp: number, secret = TEST_SIGNING_SECRET): SignedRequest {
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(body, timestamp, secret),
    },
    rawBody: body,
  };
}
