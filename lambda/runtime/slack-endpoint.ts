/**
 * The Lambda side of the Slack interactivity endpoint (a function URL, auth NONE: Slack signs its requests): the
 * HTTP request as the raw body and headers the signature covers, the answer Slack gets, the hand-over of a verified
 * press to an asynchronous invocation of the same function, and the secrets (signing secret, bot token) read from
 * Secrets Manager (cached 5 minutes), never from the environment and never logged.
 */
import type { InvokeCommandInput } from '@aws-sdk/client-lambda';
import type { ClientFactory } from '../adapters/clients';
import { tokenFromSecret } from '../adapters/slack';
import {
  LoggedSlackInteractivityApi,
  type SlackInteractivityApi,
  WebSlackInteractivityApi,
} from '../adapters/slack-interactivity';
import { headerOf, type SignedRequest, signingSecretFromSecret } from '../adapters/slack-signature';
import type { CostGuardConfig } from '../core/config';

/** What a function URL passes (payload format 2.0), as far as the endpoint reads it. */
export interface FunctionUrlEvent {
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
}

/** A verified press handed to the asynchronous invocation: the signed request itself, checked again there. */
export interface HandOverEvent {
  readonly source: 'ml-cost-guard.slack-press';
  readonly headers: { readonly 'x-slack-signature': string; readonly 'x-slack-request-timestamp': string };
  readonly rawBody: string;
}

export function isHandOver(event: unknown): event is HandOverEvent {
  const e = event as Partial<HandOverEvent> | undefined;
  return e?.source === 'ml-cost-guard.slack-press' && typeof e.rawBody === 'string' && typeof e.headers === 'object';
}

/** The request as Slack signed it: the body decoded from base64 when the function URL encoded it. */
export function signedRequestOf(event: FunctionUrlEvent): SignedRequest {
  const body = event.body ?? '';
  return {
    headers: event.headers ?? {},
    rawBody: event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body,
  };
}

/** The event handed over: only the two headers the signature needs, and the raw body. */
export function handOverOf(request: SignedRequest): HandOverEvent {
  return {
    source: 'ml-cost-guard.slack-press',
    headers: {
      'x-slack-signature': headerOf(request.headers, 'x-slack-signature') ?? '',
      'x-slack-request-timestamp': headerOf(request.headers, 'x-slack-request-timestamp') ?? '',
    },
    rawBody: request.rawBody,
  };
}

/** The HTTP answer: 200 with an empty body is Slack's "received"; a refusal says only its status. */
export function httpAnswer(statusCode: number): { statusCode: number; headers: Record<string, string>; body: string } {
  return {
    statusCode,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body:
      statusCode === 200 ? '' : statusCode === 400 ? 'bad request' : statusCode === 403 ? 'forbidden' : 'unauthorized',
  };
}

/** Invokes the function itself asynchronously (InvocationType Event) with the hand-over. */
export async function invokeSelf(clients: ClientFactory, functionName: string, event: HandOverEvent): Promise<void> {
  const { InvokeCommand, LambdaClient } = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  const client = clients.counter.attach(new LambdaClient({ region: clients.defaultRegion }), 'Lambda');
  const input: InvokeCommandInput = {
    FunctionName: functionName,
    InvocationType: 'Event',
    Payload: Buffer.from(JSON.stringify(event)),
  };
  await client.send(new InvokeCommand(input));
}

/** A secret's value by ARN (Powertools Parameters, cached 5 minutes); undefined when it has none. */
async function secretValue(arn: string | undefined): Promise<string | undefined> {
  if (!arn) return undefined;
  const { getSecret } =
    require('@aws-lambda-powertools/parameters/secrets') as typeof import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret<string>(arn, { maxAge: 300 });
  return typeof value === 'string' ? value : undefined;
}

export const signingSecretAt = async (arn: string | undefined) => signingSecretFromSecret(await secretValue(arn));

/** The Slack API for answers: with the bot token, or (not filled in yet) to the log. */
export async function slackApiAt(
  arn: string | undefined,
  config: CostGuardConfig,
  log: (line: string) => void,
): Promise<SlackInteractivityApi> {
  const token = tokenFromSecret(await secretValue(arn));
  return token ? new WebSlackInteractivityApi(token, config.slack.apiUrl) : new LoggedSlackInteractivityApi(log);
}
