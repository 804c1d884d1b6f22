/**
 * End to end on loopback: `cost-guard slack serve` on a random port, a keep pressed in Slack (a request signed with a
 * test secret, sent over real HTTP), then a reaper run (mocked AWS) that skips the kept instance and names the keep
 * in its digest.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { SlackNotifier } from '../../../lambda/adapters/slack';
import { main } from '../../../lambda/cli/main';
import { SLACK_PATH, serveSlack } from '../../../lambda/cli/slack';
import { encodeActionValue, reaperWarningButtons } from '../../../lambda/core/slack-actions';
import { reaperCapability } from '../../../lambda/services/reaper';
import { fakeIO } from '../../helpers/cli-io';
import { TEST_NOW, testContext } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';
import { formBody, pressPayload, signedRequest, TEST_SIGNING_SECRET, TEST_TEAM } from '../../helpers/slack-signing';

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);
const A = 'i-0aaaaaaaaaaaaaaa1';
/** An idle instance nobody kept: the reaper warns about it, so it posts a digest. */
const B = 'i-0bbbbbbbbbbbbbbb2';
const NOW_S = Math.floor(TEST_NOW.getTime() / 1000);

let slack: SlackTestServer;
let table: FakeStateTable;
let ec2: FakeEc2;

beforeAll(async () => {
  slack = await startSlackServer();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  table = fakeStateTable();
  ec2Mock.reset();
  cwMock.reset();
  cwMock.on(ListMetricsCommand).resolves({
    Metrics: [A, B].map((id) => ({
      Namespace: 'CWAgent',
      MetricName: 'nvidia_smi_utilization_gpu',
      Dimensions: [
        { Name: 'InstanceId', Value: id },
        { Name: 'index', Value: '0' },
        { Name: 'name', Value: 'NVIDIA A10G' },
      ],
    })),
  });
  // Idle by every measure: GPU 0 %, CPU 1 %, a trickle of network.
  cwMock.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((q) => {
      const name = q.MetricStat?.Metric?.MetricName;
      return {
        Id: q.Id,
        Values: Array(12).fill(name === 'nvidia_smi_utilization_gpu' ? 0 : name === 'CPUUtilization' ? 1 : 1000),
      };
    }),
  }));
  const launchTime = new Date(TEST_NOW.getTime() - 86_400_000);
  ec2 = new FakeEc2({
    instances: [fakeInstance(A, { launchTime, tags: { Name: 'train' } }), fakeInstance(B, { launchTime })],
  }).install(ec2Mock);
});
afterEach(() => table.mock.restore());

const config = () => ({
  slack: { teamId: TEST_TEAM, apiUrl: slack.url, channel: 'C0FINOPS' },
  idleGpu: { action: 'stop' as const },
});

async function post(url: string, request: ReturnType<typeof signedRequest>): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: request.headers as Record<string, string>,
    body: request.rawBody,
  });
  await res.text();
  return res.status;
}

describe('Command: cost-guard slack serve (loopback, end to end)', () => {
  it('keeps an instance from a signed press over HTTP; the next reaper run skips it and names the keep', async () => {
    // Prepare: the endpoint, and a warning message with A's buttons.
    const io = fakeIO({ now: () => TEST_NOW });
    const base = testContext({ config: config(), stateTableName: 'state' });
    const server = await serveSlack({ base, signingSecret: TEST_SIGNING_SECRET, botToken: 'xoxb-test', port: 0, io });
    try {
      expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+${SLACK_PATH}$`));
      const value = encodeActionValue(
        { kind: 'keep', instanceId: A, region: 'us-east-1', hours: 24 },
        { maxKeepHours: 168 },
      );
      const body = formBody(
        pressPayload({
          actionId: 'cost-guard.keep.24',
          value,
          user: 'U0ALICE',
          userName: 'alice',
          blocks: reaperWarningButtons(
            { instanceId: A, region: 'us-east-1' },
            { action: 'stop', keepHours: [4, 24, 168], maxKeepHours: 168 },
          ),
        }),
      );
      const request = signedRequest(body, NOW_S);

      // Act: the press, then the same request again, then a forged one.
      expect(await post(server.url, request)).toBe(200);
      expect(await post(server.url, request)).toBe(401);
      expect(await post(server.url, signedRequest(body, NOW_S, 'not-the-secret'))).toBe(401);
      expect(await post(server.url.replace(SLACK_PATH, '/other'), request)).toBe(404);
      const [summary] = await server.settled();

      // Assess: kept once, the message updated in place.
      expect(summary?.presses).toEqual([
        expect.objectContaining({ kind: 'keep', instanceId: A, messageUpdated: true }),
      ]);
      expect(ec2.get(A).tags['cost-guard:keep-until']).toBe('2026-11-16T12:00:00Z');
      const update = slack.requests.find((r) => r.path.endsWith('/chat.update'));
      expect(String(update?.body.blocks)).toContain('kept until Mon 16 Nov 12:00 UTC (1 day) by <@U0ALICE>');

      // Act: an hour later the reaper runs (with a token, so it could warn and act).
      const later = new Date(TEST_NOW.getTime() + 60 * 60_000);
      const ctx = testContext({
        config: config(),
        now: later,
        stateTableName: 'state',
        notifier: new SlackNotifier({ token: 'xoxb-test', channel: 'C0FINOPS', apiUrl: slack.url, retries: 0 }),
      });
      const run = await reaperCapability.run(ctx, {
        source: 'ml-cost-guard.schedule',
        scheduledTime: later.toISOString(),
      });

      // Assess: skipped as kept, nothing stopped, and the digest names the keep and who set it.
      const report = run.instances.find((i) => i.instanceId === A);
      expect(report).toMatchObject({ decision: 'skip', code: 'keep-until' });
      expect(report?.reason).toContain('2026-11-16T12:00:00');
      expect(ec2.get(A).state).toBe('running');
      expect(run.instances.find((i) => i.instanceId === B)?.decision).toBe('warn');
      const digest = JSON.stringify(slack.posts());
      expect(digest).toContain('Kept on request, not acted on');
      expect(digest).toContain(A);
      expect(digest).toContain('by alice');
    } finally {
      await server.close();
    }
  });
});

describe('Command: cost-guard slack', () => {
  it.each([
    [['slack', 'serve'], {}, 'SLACK_SIGNING_SECRET is not set'],
    [['slack', 'listen'], { SLACK_SIGNING_SECRET: 's' }, "unknown slack command 'listen'"],
    [['slack', 'serve', '--port', '70000'], { SLACK_SIGNING_SECRET: 's' }, '--port must be'],
  ])('refuses %j before listening (exit 2)', async (argv, env, message) => {
    const io = fakeIO({ env });
    expect(await main(argv, io)).toBe(2);
    expect(io.stderr()).toContain(message);
  });

  it('needs slack.teamId to accept anything', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slack-'));
    writeFileSync(path.join(dir, 'cost-guard.json'), JSON.stringify({}));
    const io = fakeIO({ env: { SLACK_SIGNING_SECRET: 's' }, cwd: dir });
    expect(await main(['slack', 'serve', '--config', 'cost-guard.json'], io)).toBe(2);
    expect(io.stderr()).toContain('slack.teamId is not set');
  });
});
