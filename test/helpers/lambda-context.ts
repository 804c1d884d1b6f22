/**
 * A Lambda invocation context as the Node.js runtime passes it to a handler, for tests that invoke a handler the
 * way Lambda does (request id for the run lease and the logs, remaining time for the deadline).
 */
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  /** @default 'req-test' */
  readonly awsRequestId?: string;
  /** Milliseconds left before the timeout, read on every call. @default 240,000 */
  readonly remainingMs?: () => number;
}

export function lambdaContext(o: LambdaContextOptions = {}): Context {
  const functionName = 'ml-cost-guard-test';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111122223333:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: o.awsRequestId ?? 'req-test',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/15/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: o.remainingMs ?? (() => 240_000),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
