import { ConsoleNotifier, postAll, SlackNotifier, tokenFromSecret } from '../../../lambda/adapters/slack';
import { header, section } from '../../../lambda/core/slack-blocks';
import { SlackDeliveryError } from '../../../lambda/shared/errors';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const message = { text: 'GPU reaper digest', blocks: [header('Digest'), section('*i-123* stopped')] };

describe('Class: SlackNotifier', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    server = await startSlackServer();
  });
  afterEach(async () => {
    await server.close();
  });
  const notifier = () =>
    new SlackNotifier({
      token: 'xoxb-test',
      channel: '#ml-finops',
      apiUrl: server.url,
      retries: 2,
      minRetryDelayMs: 10,
    });

  it('posts text and blocks to the channel with the bot token', async () => {
    // Act
    const result = await notifier().post(message);
    // Assess
    expect(result.ts).toMatch(/^1700000000\./);
    const [post] = server.posts();
    expect(post).toEqual({ channel: '#ml-finops', text: 'GPU reaper digest', blocks: message.blocks });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer xoxb-test');
  });

  it('retries after a 429 and delivers once Slack accepts', async () => {
    // Prepare
    server.script.push({ kind: 'rate-limited', retryAfterSeconds: 0 });
    // Act
    const result = await notifier().post(message);
    // Assess
    expect(result.ts).toBeDefined();
    expect(server.posts()).toHaveLength(2);
  });

  it('throws SlackDeliveryError with the code when Slack answers ok:false', async () => {
    server.script.push({ kind: 'slack-error', error: 'channel_not_found' });
    await expect(notifier().post(message)).rejects.toMatchObject({
      name: 'SlackDeliveryError',
      code: 'channel_not_found',
    });
    expect(server.posts()).toHaveLength(1);
  });

  it('throws SlackDeliveryError after the retries when Slack keeps answering 500', async () => {
    server.script.push(
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 500 },
    );
    await expect(notifier().post(message)).rejects.toBeInstanceOf(SlackDeliveryError);
    expect(server.posts()).toHaveLength(3);
  });

  it('stops a multi-part digest at the first message Slack refuses', async () => {
    server.script.push({ kind: 'ok' }, { kind: 'slack-error', error: 'invalid_blocks' });
    await expect(postAll(notifier(), [message, message, message])).rejects.toMatchObject({ code: 'invalid_blocks' });
    expect(server.posts()).toHaveLength(2);
  });
});

describe('Class: ConsoleNotifier', () => {
  it('prints the message as text instead of posting', async () => {
    const lines: string[] = [];
    const n = new ConsoleNotifier((t) => lines.push(t), '#ml-finops');
    await n.post(message);
    expect(lines.join('\n')).toContain('i-123* stopped');
    expect(lines.join('\n')).toContain('#ml-finops');
    expect(n.sent).toEqual([message]);
  });
});

describe('Function: tokenFromSecret', () => {
  it.each([
    ['xoxb-abc', 'xoxb-abc'],
    ['  xoxb-abc\n', 'xoxb-abc'],
    ['{"token":"xoxb-json"}', 'xoxb-json'],
    ['REPLACE_WITH_SLACK_BOT_TOKEN', undefined],
    ['{"other":1}', undefined],
    ['{not json', undefined],
    ['', undefined],
  ])('reads %j as %j', (secret, expected) => {
    expect(tokenFromSecret(secret)).toBe(expected);
  });
});
