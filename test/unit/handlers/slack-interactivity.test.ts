/**
 * The Lambda entry of the Slack endpoint, as a function URL and the asynchronous hand-over call it: the request is
 * answered at once, only a verified press is handed over, and the hand-over checks the signed request again.
 */

import { EC2Client } from '@aws-sdk/client-ec2';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { ENV } from '../../../lambda/core/names';
import { encodeActionValue } from '../../../lambda/core/slack-actions';
import { handler } from '../../../lambda/handlers/slack-interactivity';
import { clockAt } from '../../helpers/clock';
import { TEST_NOW } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { lambdaContext } from '../../helpers/lambda-context';
import { formBody, pressPayload, signedRequest, TEST_SIGNING_SECRET, TEST_TEAM } from '../../helpers/slack-signing';

const A = 'i-0aaaaaaaaaaaaaaa1';
const SIGNING_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-AbCdEf';
const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf';
const ec2Mock = mockClient(EC2Client);
const lambdaMock = mockClient(LambdaClient);
const secretsMock = mockClient(SecretsManagerClient);
let table: FakeStateTable;
let ec2: FakeEc2;

beforeAll(() => {
  // Only the clock is fake: the handler reads the time as Lambda does, the test signs at that time.
  clockAt(TEST_NOW);
  process.env[ENV.config] = JSON.stringify({
    dryRun: false,
    slack: { teamId: TEST_TEAM },
    idleGpu: { action: 'stop' },
  });
  process.env[ENV.stateTable] = 'state';
  process.env[ENV.slackSecret] = TOKEN_ARN;
  process.env[ENV.slackSigningSecret] = SIGNING_ARN;
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'ml-cost-guard-slack';
});
afterAll(() => {
  jest.useRealTimers();
  for (const k of [ENV.config, ENV.stateTable, ENV.slackSecret, ENV.slackSigningSecret, 'AWS_LAMBDA_FUNCTION_NAME'])
    delete process.env[k];
});
beforeEach(() => {
  table = fakeStateTable();
  lambdaMock.reset();
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).callsFake((input: { SecretId: string }) => ({
    SecretString: input.SecretId === SIGNING_ARN ? TEST_SIGNING_SECRET : 'REPLACE_WITH_SLACK_BOT_TOKEN',
  }));
  ec2Mock.reset();
  ec2 = new FakeEc2({ instances: [fakeInstance(A)] }).install(ec2Mock);
});
afterEach(() => table.mock.restore());

const NOW_S = Math.floor(TEST_NOW.getTime() / 1000);
const keepBody = () =>
  formBody(
    pressPayload({
      actionId: 'cost-guard.keep.4',
      value: encodeActionValue({ kind: 'keep', instanceId: A, region: 'us-east-1', hours: 4 }, { maxKeepHours: 168 }),
    }),
  );
/** A function URL event: the body base64-encoded, as Lambda sends a form body. */
const urlEvent = (request: ReturnType<typeof signedRequest>) => ({
  headers: request.headers as Record<string, string>,
  body: Buffer.from(request.rawBody).toString('base64'),
  isBase64Encoded: true,
  requestContext: { http: { method: 'POST' } },
});

describe('Handler: Slack interactivity (function URL)', () => {
  it('answers a signed press at once and hands it over; the hand-over keeps the instance', async () => {
    // Act: Slack's request.
    const answer = await handler(urlEvent(signedRequest(keepBody(), NOW_S)), lambdaContext());
    // Assess: 200, nothing kept yet, the press handed to this function asynchronously.
    expect(answer).toMatchObject({ statusCode: 200, body: '' });
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBeUndefined();
    const calls = lambdaMock.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input as InvokeCommandInput;
    expect(input).toMatchObject({ FunctionName: 'ml-cost-guard-slack', InvocationType: 'Event' });
    const handOver = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    expect(JSON.stringify(handOver)).not.toContain(TEST_SIGNING_SECRET);

    // Act: the asynchronous invocation.
    await handler(handOver, lambdaContext());
    // Assess
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBe('2026-11-15T16:00:00Z');
    expect(table.get('keep#us-east-1', A)).toMatchObject({ by: 'U0ALICE', keepUntil: '2026-11-15T16:00:00Z' });
  });

  it('refuses a badly signed request with 401 and hands nothing over', async () => {
    const answer = await handler(urlEvent(signedRequest(keepBody(), NOW_S, 'not-the-secret')), lambdaContext());
    expect(answer).toMatchObject({ statusCode: 401 });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  it('acts on no forged hand-over (an event anyone allowed to invoke the function could send)', async () => {
    const forged = signedRequest(keepBody(), NOW_S, 'not-the-secret');
    await handler(
      {
        source: 'ml-cost-guard.slack-press',
        headers: {
          'x-slack-signature': String(forged.headers['x-slack-signature']),
          'x-slack-request-timestamp': String(NOW_S),
        },
        rawBody: forged.rawBody,
      },
      lambdaContext(),
    );
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBeUndefined();
    expect(table.items.size).toBe(0);
  });
});
