import { ConsoleNotifier, OwnerDirectory, SlackNotifier } from '../../../lambda/adapters/slack';
import { header, section } from '../../../lambda/core/slack-blocks';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

const message = { text: 'Your GPU instance is idle', blocks: [header('Idle'), section('`i-0123456789abcdef0`')] };
const calls = (server: SlackTestServer, method: string) => server.requests.filter((r) => r.path.endsWith(`/${method}`));

describe('Class: OwnerDirectory (against the loopback Slack server)', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    server = await startSlackServer();
    server.users.set('alice@example.com', 'U0ALICE01');
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
      minRetryDelayMs: 5,
    });

  it('finds an owner by e-mail address and opens the direct message with that user', async () => {
    // Act
    const route = await new OwnerDirectory(notifier().directory).route('  Alice@Example.com ');
    // Assess
    expect(route).toEqual({ status: 'found', userId: 'U0ALICE01', channel: 'DU0ALICE01' });
    expect(calls(server, 'users.lookupByEmail')[0]!.body.email).toBe('alice@example.com');
    expect(calls(server, 'conversations.open')[0]!.body.users).toBe('U0ALICE01');
  });

  it('takes a Slack user ID as it is (also written <@U…>), without a lookup', async () => {
    // Act
    const direct = new OwnerDirectory(notifier().directory);
    const plain = await direct.route('U0BOB0001');
    const mention = await direct.route('<@W0CAROL01>');
    // Assess
    expect(plain).toEqual({ status: 'found', userId: 'U0BOB0001', channel: 'DU0BOB0001' });
    expect(mention).toEqual({ status: 'found', userId: 'W0CAROL01', channel: 'DW0CAROL01' });
    expect(calls(server, 'users.lookupByEmail')).toHaveLength(0);
  });

  it('says not-found when Slack has no user with the address, and invalid for a value that is no address', async () => {
    // Act
    const direct = new OwnerDirectory(notifier().directory);
    const unknown = await direct.route('nobody@example.com');
    const invalid = await direct.route('alice');
    // Assess
    expect(unknown).toEqual({ status: 'not-found' });
    expect(invalid).toEqual({ status: 'invalid' });
    expect(calls(server, 'conversations.open')).toHaveLength(0);
  });

  it('says failed with the code when Slack refuses the direct message (e.g. the bot may not DM)', async () => {
    // Prepare
    server.respond = (_body, path) =>
      path.endsWith('/conversations.open') ? { kind: 'slack-error', error: 'cannot_dm_bot' } : undefined;
    // Act
    const route = await new OwnerDirectory(notifier().directory).route('alice@example.com');
    // Assess
    expect(route).toEqual({ status: 'failed', errorCode: 'cannot_dm_bot' });
  });

  it('looks each owner up once per run, however many instances name them and however the tag spells it', async () => {
    // Act
    const direct = new OwnerDirectory(notifier().directory);
    const routes = await Promise.all(
      ['alice@example.com', 'ALICE@example.com', 'alice@example.com', ' alice@example.com'].map((o) => direct.route(o)),
    );
    // Assess
    expect(new Set(routes.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(calls(server, 'users.lookupByEmail')).toHaveLength(1);
    expect(calls(server, 'conversations.open')).toHaveLength(1);
  });

  it('waits out a 429 with Retry-After on a lookup and still finds the owner', async () => {
    // Prepare: Retry-After 0 takes the client's whole 429 path (pause, wait, retry) without a second of real time
    server.script.push({ kind: 'rate-limited', retryAfterSeconds: 0 });
    // Act
    const route = await new OwnerDirectory(notifier().directory).route('alice@example.com');
    // Assess
    expect(route).toEqual({ status: 'found', userId: 'U0ALICE01', channel: 'DU0ALICE01' });
    expect(calls(server, 'users.lookupByEmail')).toHaveLength(2);
  });
});

describe('Class: SlackNotifier (posting elsewhere than the configured channel)', () => {
  let server: SlackTestServer;
  beforeEach(async () => {
    server = await startSlackServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('posts to the channel it is given, and to the configured one otherwise', async () => {
    // Prepare
    const notifier = new SlackNotifier({ token: 'xoxb-test', channel: '#ml-finops', apiUrl: server.url });
    // Act
    const dm = await notifier.post(message, 'D0ALICE01');
    const main = await notifier.post(message);
    // Assess
    expect(dm.channel).toBe('D0ALICE01');
    expect(main.channel).toBe('#ml-finops');
    expect(server.posts().map((p) => p.channel)).toEqual(['D0ALICE01', '#ml-finops']);
  });

  it('after a 429 with Retry-After delivers the message exactly once', async () => {
    // Prepare: Retry-After 0 takes the client's whole 429 path (pause, wait, retry) without a second of real time
    server.script.push({ kind: 'rate-limited', retryAfterSeconds: 0 });
    const notifier = new SlackNotifier({
      token: 'xoxb-test',
      channel: '#ml-finops',
      apiUrl: server.url,
      retries: 3,
      minRetryDelayMs: 5,
    });
    // Act
    const result = await notifier.post(message, 'D0ALICE01');
    // Assess: two requests, one refused with 429 and one accepted: one message in the DM
    expect(result.ts).toBeDefined();
    const answered = server.requests.filter((r) => r.path.endsWith('/chat.postMessage'));
    expect(answered).toHaveLength(2);
    expect(new Set(answered.map((r) => r.body.channel))).toEqual(new Set(['D0ALICE01']));
  });
});

describe('Class: ConsoleNotifier', () => {
  it('says which channel a printed message was for', async () => {
    // Prepare
    const lines: string[] = [];
    const notifier = new ConsoleNotifier((t) => lines.push(t), '#ml-finops');
    // Act
    const result = await notifier.post(message, '#team-vision');
    // Assess
    expect(result.channel).toBe('#team-vision');
    expect(lines[0]).toContain('Slack message for #team-vision');
  });
});
