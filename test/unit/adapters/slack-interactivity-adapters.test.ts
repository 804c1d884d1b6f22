import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { markOnce, requestMarkKey } from '../../../lambda/adapters/interaction-store';
import { activeKeeps, keepKey, setKeep } from '../../../lambda/adapters/keep-store';
import { isSlackResponseUrl, WebSlackInteractivityApi } from '../../../lambda/adapters/slack-interactivity';
import { headerOf, signingSecretFromSecret, verifySlackSignature } from '../../../lambda/adapters/slack-signature';
import type { KeepRecord } from '../../../lambda/core/keeps';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';
import { signedRequest, slackSignature, TEST_SIGNING_SECRET } from '../../helpers/slack-signing';

const NOW = new Date('2026-11-15T12:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const BODY = 'payload=%7B%7D';

describe('Function: verifySlackSignature', () => {
  it('accepts what Slack signed, and says when (never the secret)', () => {
    const verdict = verifySlackSignature(signedRequest(BODY, NOW_S), TEST_SIGNING_SECRET, NOW);
    expect(verdict).toEqual({ ok: true, timestamp: NOW_S, signature: slackSignature(BODY, NOW_S) });
    expect(JSON.stringify(verdict)).not.toContain(TEST_SIGNING_SECRET);
  });

  it.each([
    ['another secret', signedRequest(BODY, NOW_S, 'other'), 'bad-signature'],
    ['a changed body', { ...signedRequest(BODY, NOW_S), rawBody: 'payload=%7B%7D ' }, 'bad-signature'],
    [
      'a changed timestamp',
      {
        ...signedRequest(BODY, NOW_S),
        headers: { ...signedRequest(BODY, NOW_S).headers, 'x-slack-request-timestamp': String(NOW_S - 1) },
      },
      'bad-signature',
    ],
    ['no headers', { headers: {}, rawBody: BODY }, 'unsigned'],
    [
      'a v1 signature',
      {
        headers: { 'x-slack-request-timestamp': String(NOW_S), 'x-slack-signature': `v1=${'0'.repeat(64)}` },
        rawBody: BODY,
      },
      'malformed',
    ],
    [
      'a timestamp that is not a number',
      {
        headers: { 'x-slack-request-timestamp': '1e9', 'x-slack-signature': slackSignature(BODY, NOW_S) },
        rawBody: BODY,
      },
      'malformed',
    ],
    ['301 s old', signedRequest(BODY, NOW_S - 301), 'stale'],
    ['301 s ahead', signedRequest(BODY, NOW_S + 301), 'stale'],
  ])('refuses %s', (_what, request, reason) => {
    expect(verifySlackSignature(request, TEST_SIGNING_SECRET, NOW)).toEqual({ ok: false, reason });
  });

  it('refuses everything without a secret', () => {
    expect(verifySlackSignature(signedRequest(BODY, NOW_S, ''), '', NOW)).toEqual({ ok: false, reason: 'no-secret' });
  });

  it('reads headers in any case', () => {
    expect(headerOf({ 'X-Slack-Signature': 'v0=a' }, 'x-slack-signature')).toBe('v0=a');
  });

  it.each([
    ['abc123', 'abc123'],
    ['{"signingSecret":"abc123"}', 'abc123'],
    ['REPLACE_WITH_SLACK_SIGNING_SECRET', undefined],
    ['', undefined],
    ['{"token":"x"}', undefined],
  ])('reads the secret %s as %s', (stored, secret) => {
    expect(signingSecretFromSecret(stored)).toBe(secret);
  });
});

describe('Keep store and once-only marks (state table)', () => {
  let table: FakeStateTable;
  const client = () => new DynamoDBClient({ region: 'us-east-1' });
  const keep = (over: Partial<KeepRecord> = {}): KeepRecord => ({
    instanceId: 'i-0aaaaaaaaaaaaaaa1',
    region: 'us-east-1',
    until: '2026-11-22T12:00:00Z',
    by: 'U0ALICE',
    setAt: '2026-11-15T12:00:00.000Z',
    source: 'slack',
    guard: 'reaper',
    ...over,
  });
  beforeEach(() => {
    table = fakeStateTable();
  });
  afterEach(() => table.mock.restore());

  it('replaces a keep with a later one, shorter or longer, and says which it replaced', async () => {
    await setKeep(client(), 'state', keep());
    const shorter = await setKeep(
      client(),
      'state',
      keep({ until: '2026-11-15T16:00:00Z', setAt: '2026-11-15T12:05:00.000Z', by: 'U0BOB' }),
    );
    expect(shorter).toMatchObject({ written: true, replaced: { until: '2026-11-22T12:00:00Z', by: 'U0ALICE' } });
    expect((await activeKeeps(client(), 'state', 'us-east-1', NOW)).get('i-0aaaaaaaaaaaaaaa1')?.until).toBe(
      '2026-11-15T16:00:00Z',
    );
  });

  it('keeps the later keep when an earlier press arrives after it', async () => {
    await setKeep(client(), 'state', keep({ setAt: '2026-11-15T12:05:00.000Z' }));
    const late = await setKeep(
      client(),
      'state',
      keep({ until: '2026-11-15T13:00:00Z', setAt: '2026-11-15T12:00:00.000Z' }),
    );
    expect(late).toMatchObject({ written: false, newer: { until: '2026-11-22T12:00:00Z' } });
  });

  it('lists the keeps that still protect, with one Query, ignoring expired and hand-made items', async () => {
    await setKeep(client(), 'state', keep());
    await setKeep(client(), 'state', keep({ instanceId: 'i-0bbbbbbbbbbbbbbb2', until: '2026-11-15T11:00:00Z' }));
    const key = keepKey('us-east-1', 'i-0ccccccccccccccc3');
    table.items.set(`${key.pk}\u0000${key.sk}`, {
      pk: { S: key.pk },
      sk: { S: key.sk },
      keepUntil: { S: '2027-01-01T00:00:00Z' },
    });
    const before = table.mock.commandCalls(QueryCommand).length;
    const found = await activeKeeps(client(), 'state', 'us-east-1', NOW);
    expect([...found.keys()]).toEqual(['i-0aaaaaaaaaaaaaaa1']);
    expect(table.mock.commandCalls(QueryCommand).length - before).toBe(1);
  });

  it('marks a request once; after the mark expires it may be marked again', async () => {
    const key = requestMarkKey(slackSignature(BODY, NOW_S));
    expect(key.pk).not.toContain(slackSignature(BODY, NOW_S).slice(3));
    expect(await markOnce(client(), 'state', key, NOW)).toBe(true);
    expect(await markOnce(client(), 'state', key, new Date(NOW.getTime() + 9 * 60_000))).toBe(false);
    expect(await markOnce(client(), 'state', key, new Date(NOW.getTime() + 11 * 60_000))).toBe(true);
  });
});

describe('Class: WebSlackInteractivityApi', () => {
  let slack: SlackTestServer;
  beforeAll(async () => {
    slack = await startSlackServer();
  });
  afterAll(() => slack.close());

  it('updates a message and answers the presser on loopback', async () => {
    const api = new WebSlackInteractivityApi('xoxb-test', slack.url);
    await api.updateMessage('C0FINOPS', '1700000000.000100', 'text', [{ type: 'divider' }]);
    await api.respond(`${slack.url}response/1`, 'Not allowed');
    const update = slack.requests.find((r) => r.path.endsWith('/chat.update'));
    expect(update?.body).toMatchObject({ channel: 'C0FINOPS', ts: '1700000000.000100' });
    const answer = slack.requests.find((r) => r.path.endsWith('/response/1'));
    expect(answer?.body).toEqual({ response_type: 'ephemeral', replace_original: false, text: 'Not allowed' });
  });

  it('posts an answer only to Slack (or the loopback API it was given)', async () => {
    const api = new WebSlackInteractivityApi('xoxb-test', 'https://slack.com/api/');
    await expect(api.respond('https://evil.example/hook', 'x')).rejects.toThrow(/not a Slack address/);
    expect(isSlackResponseUrl('https://hooks.slack.com/actions/T0/1/abc', 'https://slack.com/api/')).toBe(true);
    expect(isSlackResponseUrl('https://hooks.slack.com.evil.example/a', 'https://slack.com/api/')).toBe(false);
    expect(isSlackResponseUrl('http://hooks.slack.com/a', 'https://slack.com/api/')).toBe(false);
    expect(isSlackResponseUrl('http://127.0.0.1:9/a', 'https://slack.com/api/')).toBe(false);
  });
});
