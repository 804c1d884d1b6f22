/**
 * Is this HTTP request from Slack? Slack signs each request with the app's signing secret:
 * `X-Slack-Signature: v0=` + hex HMAC-SHA256(secret, `v0:{X-Slack-Request-Timestamp}:{raw body}`).
 *
 * The HMAC and its constant-time comparison are Slack's own code: `verifySlackRequest` of @slack/bolt, imported from
 * its module (`dist/receivers/verify-request`, about 2 KB bundled; the package's index would bring Express and the
 * OAuth and Socket Mode clients, 1.6 MB). Around it this adds what Bolt leaves out: the headers must be well formed,
 * and the timestamp must be within 5 minutes of now on either side (Bolt refuses only old ones; a timestamp from the
 * future would outlive the replay marks). Replays are refused by the caller (lambda/adapters/interaction-store.ts).
 *
 * Nothing here logs, and no verdict carries the secret, the signature or the body.
 */
import { verifySlackRequest } from '@slack/bolt/dist/receivers/verify-request';

/** How far a request's timestamp may be from now, either way. */
export const MAX_REQUEST_AGE_S = 5 * 60;

export type SignatureVerdict =
  | { readonly ok: true; readonly timestamp: number; readonly signature: string }
  | {
      readonly ok: false;
      /** Why, for the log: never the signature or the secret. */
      readonly reason: 'no-secret' | 'unsigned' | 'malformed' | 'stale' | 'bad-signature';
    };

/** A header by name in any case (Node lower-cases them; a function URL event may not). */
export function headerOf(headers: Readonly<Record<string, string | string[] | undefined>>, name: string) {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export interface SignedRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received, before any parsing. */
  readonly rawBody: string;
}

/** Checks a request's signature and timestamp against `signingSecret` at `now`. */
export function verifySlackSignature(request: SignedRequest, signingSecret: string, now: Date): SignatureVerdict {
  if (!signingSecret) return { ok: false, reason: 'no-secret' };
  const signature = headerOf(request.headers, 'x-slack-signature');
  const stamp = headerOf(request.headers, 'x-slack-request-timestamp');
  if (signature === undefined || stamp === undefined) return { ok: false, reason: 'unsigned' };
  if (!/^\d{1,12}$/.test(stamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(stamp);
  if (Math.abs(now.getTime() / 1000 - timestamp) > MAX_REQUEST_AGE_S) return { ok: false, reason: 'stale' };
  try {
    verifySlackRequest({
      signingSecret,
      body: request.rawBody,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds: now.getTime(),
    });
  } catch {
    return { ok: false, reason: 'bad-signature' };
  }
  return { ok: true, timestamp, signature };
}

/** A signing secret stored as the bare secret or as JSON `{"signingSecret": "…"}`; undefined when not filled in. */
export function signingSecretFromSecret(secret: string | undefined): string | undefined {
  if (!secret) return undefined;
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      const value = parsed.signingSecret ?? parsed.SLACK_SIGNING_SECRET;
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  }
  // The stack creates the secret with a placeholder: "not configured yet".
  return trimmed.length > 0 && !trimmed.startsWith('REPLACE') ? trimmed : undefined;
}
