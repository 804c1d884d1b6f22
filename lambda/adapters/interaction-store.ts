/**
 * Once-only marks in the state table for Slack interactivity:
 * - `slack-request#<hash>`: a signed request seen (the hash of its signature, never the signature itself), so a
 *   request replayed within the five minutes its timestamp is accepted is refused;
 * - `slack-press#<team>#<user>`, sk `<action_ts>#<action_id>`: one button press handled, so a press whose work is
 *   delivered twice (an asynchronous invocation retried, a request replayed to `cost-guard slack serve`) acts once.
 * Each is a conditional PutItem that succeeds only for the first writer; items expire after {@link MARK_TTL_S}.
 *
 * Calls: PutItem.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { errorCode } from '../shared/errors';

/** Longer than the 5 minutes a request timestamp is accepted either side of now. */
export const MARK_TTL_S = 10 * 60;

export const requestMarkKey = (signature: string) => ({
  pk: `slack-request#${createHash('sha256').update(signature).digest('hex')}`,
  sk: 'request',
});

export const pressMarkKey = (teamId: string, userId: string, actionTs: string, actionId: string) => ({
  pk: `slack-press#${teamId}#${userId}`,
  sk: `${actionTs}#${actionId}`,
});

/** Writes the mark; true for the first writer, false when it was already there (and not expired). */
export async function markOnce(
  client: DynamoDBClient,
  tableName: string,
  key: { readonly pk: string; readonly sk: string },
  now: Date,
): Promise<boolean> {
  const nowS = Math.floor(now.getTime() / 1000);
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: key.pk },
          sk: { S: key.sk },
          at: { S: now.toISOString() },
          ttl: { N: String(nowS + MARK_TTL_S) },
        },
        // An item past its TTL that the sweeper has not removed yet does not count.
        ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':now': { N: String(nowS) } },
      }),
    );
    return true;
  } catch (error) {
    if (errorCode(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}
