import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { activeKeeps } from '../../../lambda/adapters/keep-store';
import { readMonth } from '../../../lambda/adapters/ledger';
import { type SlackInteractivityApi, WebSlackInteractivityApi } from '../../../lambda/adapters/slack-interactivity';
import { guardStops, recordStops } from '../../../lambda/adapters/stop-index';
import type { CostGuardConfigInput } from '../../../lambda/core/config';
import { encodeActionValue, reaperWarningButtons } from '../../../lambda/core/slack-actions';
import type { BlockActions } from '../../../lambda/core/slack-interactivity/payload';
import {
  dynamoMarks,
  handleInteraction,
  type InteractionDeps,
  receiveSlackRequest,
  verifyHandedOver,
} from '../../../lambda/services/slack-interactivity';
import { TEST_NOW, testContext } from '../../helpers/context';
import { FakeEc2, fakeInstance } from '../../helpers/fake-ec2';
import { type FakeStateTable, fakeStateTable } from '../../helpers/fake-state-table';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';
import { formBody, pressPayload, signedRequest, TEST_SIGNING_SECRET, TEST_TEAM } from '../../helpers/slack-signing';

const ec2Mock = mockClient(EC2Client);
const TABLE = 'state';
const REGION = 'us-east-1';
const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';
const NOW_S = Math.floor(TEST_NOW.getTime() / 1000);
const LAUNCHED = new Date(TEST_NOW.getTime() - 3 * 86_400_000);
const limits = { maxKeepHours: 168 };

let table: FakeStateTable;
let slack: SlackTestServer;
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
  slack.requests.length = 0;
  ec2 = new FakeEc2({
    instances: [
      fakeInstance(A, { launchTime: LAUNCHED, tags: { Owner: 'U0OWNER', Name: 'train-a' } }),
      fakeInstance(B, { launchTime: LAUNCHED, tags: { Owner: 'bob@example.com' } }),
    ],
  }).install(ec2Mock);
});
afterEach(() => {
  table.mock.restore();
});

const marks = () => dynamoMarks(new DynamoDBClient({ region: REGION }), TABLE);

function context(config: CostGuardConfigInput = {}, dryRun = false) {
  return testContext({
    config: {
      slack: { teamId: TEST_TEAM, apiUrl: slack.url, ...config.slack },
      idleGpu: { action: 'stop', ...config.idleGpu },
      ...(config.tags ? { tags: config.tags } : {}),
    },
    dryRun,
    stateTableName: TABLE,
  });
}

/** The loopback Slack for updates and answers; e-mail addresses and user groups from the given maps. */
function deps(emails: Record<string, string> = {}, groups: Record<string, string[]> = {}): InteractionDeps {
  const web = new WebSlackInteractivityApi('xoxb-test', slack.url);
  const api: SlackInteractivityApi = {
    userEmail: async (id) => emails[id],
    userGroupMembers: async (id) => groups[id] ?? [],
    updateMessage: (c, ts, text, blocks) => web.updateMessage(c, ts, text, blocks),
    respond: (url, text) => web.respond(url, text),
  };
  return { slack: api, marks: marks() };
}

/** The warning message of A and B as the reaper posts it. */
const warningBlocks = () => [
  { type: 'section', text: { type: 'mrkdwn', text: 'idle' } },
  ...reaperWarningButtons(
    { instanceId: A, region: REGION },
    { action: 'stop', keepHours: [4, 24, 168], maxKeepHours: 168 },
  ),
  ...reaperWarningButtons(
    { instanceId: B, region: REGION },
    { action: 'stop', keepHours: [4, 24, 168], maxKeepHours: 168 },
  ),
];

/** A verified interaction of one press (as receiveSlackRequest hands it over). */
async function press(o: {
  kind: 'keep' | 'act-now' | 'restore' | 'keep-running';
  instanceId?: string;
  hours?: number;
  budget?: string;
  user?: string;
  actionTs?: string;
}): Promise<BlockActions> {
  const instanceId = o.instanceId ?? A;
  const value = encodeActionValue(
    o.kind === 'keep'
      ? { kind: 'keep', instanceId, region: REGION, hours: o.hours ?? 4 }
      : o.kind === 'act-now'
        ? { kind: 'act-now', instanceId, region: REGION, action: 'stop' }
        : o.kind === 'restore'
          ? { kind: 'restore', instanceId, region: REGION, budget: o.budget ?? 'gpu' }
          : { kind: 'keep-running', instanceId, region: REGION, budget: o.budget ?? 'gpu', hours: o.hours ?? 24 },
    limits,
  );
  const actionId = o.kind === 'keep' ? `cost-guard.keep.${o.hours ?? 4}` : `cost-guard.${o.kind}`;
  const body = formBody(
    pressPayload({
      actionId,
      value,
      user: o.user ?? 'U0ALICE',
      actionTs: o.actionTs ?? '1700000100.000200',
      responseUrl: `${slack.url}response/1`,
      blocks: warningBlocks(),
    }),
  );
  const receipt = await receiveSlackRequest(signedRequest(body, NOW_S), {
    signingSecret: TEST_SIGNING_SECRET,
    teamId: TEST_TEAM,
    marks: marks(),
    now: TEST_NOW,
  });
  if (receipt.status !== 200 || !receipt.interaction) throw new Error(`not accepted: ${JSON.stringify(receipt)}`);
  return receipt.interaction;
}

const updates = () =>
  slack.requests
    .filter((r) => r.path.endsWith('/chat.update'))
    .map((r) => ({ ...r.body, blocks: JSON.parse(String(r.body.blocks)) as { type: string; block_id?: string }[] }));
const answers = () => slack.requests.filter((r) => r.path.endsWith('/response/1')).map((r) => String(r.body.text));

describe('Function: receiveSlackRequest', () => {
  const body = formBody(pressPayload({ actionId: 'cost-guard.keep.4', value: '{}' }));
  const options = () => ({ signingSecret: TEST_SIGNING_SECRET, teamId: TEST_TEAM, marks: marks(), now: TEST_NOW });

  it('accepts a request Slack signed now, and hands over the press', async () => {
    const receipt = await receiveSlackRequest(signedRequest(body, NOW_S), options());
    expect(receipt.status).toBe(200);
    expect(receipt.status === 200 && receipt.interaction?.user.id).toBe('U0ALICE');
  });

  it.each([
    ['a bad signature', signedRequest(body, NOW_S, 'another-secret'), 401, 'bad-signature'],
    ['a body changed after signing', { ...signedRequest(body, NOW_S), rawBody: `${body}x` }, 401, 'bad-signature'],
    ['no signature', { headers: { 'x-slack-request-timestamp': String(NOW_S) }, rawBody: body }, 401, 'unsigned'],
    ['a stale timestamp', signedRequest(body, NOW_S - 301), 401, 'stale'],
    ['a timestamp from the future', signedRequest(body, NOW_S + 301), 401, 'stale'],
    [
      'a malformed signature',
      { headers: { 'x-slack-request-timestamp': String(NOW_S), 'x-slack-signature': 'v0=zz' }, rawBody: body },
      401,
      'malformed',
    ],
  ])('refuses %s with %i and changes nothing', async (_what, request, status, reason) => {
    const receipt = await receiveSlackRequest(request, options());
    expect(receipt).toEqual({ status, reason });
    expect(table.items.size).toBe(0);
  });

  it('accepts a timestamp just inside the five minutes', async () => {
    expect((await receiveSlackRequest(signedRequest(body, NOW_S - 299), options())).status).toBe(200);
  });

  it('refuses the same request replayed within the window', async () => {
    const request = signedRequest(body, NOW_S);
    expect((await receiveSlackRequest(request, options())).status).toBe(200);
    expect(await receiveSlackRequest(request, { ...options(), now: new Date(TEST_NOW.getTime() + 60_000) })).toEqual({
      status: 401,
      reason: 'replayed',
    });
  });

  it('refuses a request of another workspace with 403', async () => {
    const foreign = formBody(pressPayload({ actionId: 'cost-guard.keep.4', value: '{}', team: 'T0OTHER' }));
    expect(await receiveSlackRequest(signedRequest(foreign, NOW_S), options())).toEqual({
      status: 403,
      reason: 'foreign-team',
    });
  });

  it('refuses everything while no workspace or no signing secret is configured', async () => {
    const request = signedRequest(body, NOW_S);
    expect((await receiveSlackRequest(request, { ...options(), teamId: undefined })).status).toBe(403);
    expect((await receiveSlackRequest(request, { ...options(), signingSecret: undefined })).status).toBe(401);
  });

  it('answers 400 to a signed body that is not an interactivity payload', async () => {
    expect(await receiveSlackRequest(signedRequest('payload=%7Bnot-json', NOW_S), options())).toEqual({
      status: 400,
      reason: 'bad-payload',
    });
  });

  it('acknowledges other interaction types without work', async () => {
    const shortcut = formBody({ type: 'shortcut', team: { id: TEST_TEAM }, user: { id: 'U0ALICE' } });
    expect(await receiveSlackRequest(signedRequest(shortcut, NOW_S), options())).toEqual({ status: 200 });
  });
});

describe('Function: verifyHandedOver', () => {
  const body = formBody(pressPayload({ actionId: 'cost-guard.keep.4', value: '{}' }));

  it('accepts the signed request up to 30 minutes after Slack signed it', () => {
    const later = new Date(TEST_NOW.getTime() + 29 * 60_000);
    expect(verifyHandedOver(signedRequest(body, NOW_S), TEST_SIGNING_SECRET, TEST_TEAM, later)?.user.id).toBe(
      'U0ALICE',
    );
  });

  it('refuses a forged, foreign or late hand-over', () => {
    const later = new Date(TEST_NOW.getTime() + 31 * 60_000);
    expect(verifyHandedOver(signedRequest(body, NOW_S), TEST_SIGNING_SECRET, TEST_TEAM, later)).toBeUndefined();
    expect(verifyHandedOver(signedRequest(body, NOW_S, 'x'), TEST_SIGNING_SECRET, TEST_TEAM, TEST_NOW)).toBeUndefined();
    expect(verifyHandedOver(signedRequest(body, NOW_S), TEST_SIGNING_SECRET, 'T0OTHER', TEST_NOW)).toBeUndefined();
    const early = new Date(TEST_NOW.getTime() - 6 * 60_000);
    expect(verifyHandedOver(signedRequest(body, NOW_S), TEST_SIGNING_SECRET, TEST_TEAM, early)).toBeUndefined();
  });
});

describe('Function: handleInteraction (keep)', () => {
  it.each([
    [4, '2026-11-15T16:00:00Z', '16:00 UTC (4 h)'],
    [24, '2026-11-16T12:00:00Z', 'Mon 16 Nov 12:00 UTC (1 day)'],
    [168, '2026-11-22T12:00:00Z', 'Sun 22 Nov 12:00 UTC (1 week)'],
  ])('keeps for %i hours: record, mirror tag, ledger entry, message updated in place', async (hours, until, shown) => {
    // Prepare
    const ctx = context();
    // Act
    const summary = await handleInteraction(ctx, await press({ kind: 'keep', hours }), deps());
    // Assess
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'kept', until, hours, by: 'U0ALICE', tag: 'written' });
    const keeps = await activeKeeps(new DynamoDBClient({ region: REGION }), TABLE, REGION, TEST_NOW);
    expect(keeps.get(A)).toMatchObject({ until, by: 'U0ALICE', source: 'slack', guard: 'reaper' });
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBe(until);
    const ledger = await readMonth(new DynamoDBClient({ region: REGION }), TABLE, '2026-11');
    expect(ledger.filter((e) => e.kind === 'keep')).toEqual([
      expect.objectContaining({
        kind: 'keep',
        target: A,
        capability: 'reaper',
        reason: expect.stringContaining('U0ALICE'),
      }),
    ]);
    const [update] = updates();
    expect(update).toMatchObject({ channel: 'C0FINOPS', ts: '1700000000.000100' });
    const line = update!.blocks.find((b) => b.type === 'context') as unknown as { elements: { text: string }[] };
    expect(line.elements[0]!.text).toContain(`kept until ${shown} by <@U0ALICE>`);
    // B's buttons are still there; A's are gone.
    expect(update!.blocks.filter((b) => b.type === 'actions').map((b) => b.block_id)).toEqual([
      `cost-guard.actions.${B}`,
    ]);
  });

  it('refuses a keep longer than slack.maxKeepHours, whatever the button says', async () => {
    const ctx = context({ slack: { maxKeepHours: 24, keepHours: [4] } });
    const summary = await handleInteraction(ctx, await press({ kind: 'keep', hours: 168 }), deps());
    expect(summary.presses[0]?.outcome?.kind).toBe('refused');
    expect(answers()[0]).toContain('not one the guard can act on');
    expect(await activeKeeps(new DynamoDBClient({ region: REGION }), TABLE, REGION, TEST_NOW)).toEqual(new Map());
    expect(updates()).toEqual([]);
  });

  it('in dry run keeps on record but does not write the tag', async () => {
    const summary = await handleInteraction(context({}, true), await press({ kind: 'keep' }), deps());
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'kept', tag: 'dry-run' });
    expect(ec2.get(A).tags['cost-guard:keep-until']).toBeUndefined();
    expect((await activeKeeps(new DynamoDBClient({ region: REGION }), TABLE, REGION, TEST_NOW)).has(A)).toBe(true);
  });

  it('acts once on a press delivered twice', async () => {
    const interaction = await press({ kind: 'keep' });
    await handleInteraction(context(), interaction, deps());
    const again = await handleInteraction(context(), interaction, deps());
    expect(again.presses[0]).toMatchObject({ duplicate: true });
    expect(updates()).toHaveLength(1);
    const ledger = await readMonth(new DynamoDBClient({ region: REGION }), TABLE, '2026-11');
    expect(ledger.map((e) => e.kind)).toEqual(['keep', 'tag']);
  });

  it('keeps for the budget guard from "keep this one running"', async () => {
    const summary = await handleInteraction(context(), await press({ kind: 'keep-running', hours: 24 }), deps());
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'kept', button: 'keep-running' });
    const keep = (await activeKeeps(new DynamoDBClient({ region: REGION }), TABLE, REGION, TEST_NOW)).get(A);
    expect(keep).toMatchObject({ guard: 'budgets', reason: 'budget gpu' });
  });
});

describe('Function: handleInteraction (stop now)', () => {
  it('lets the owner stop it now: stopped, ledger and stop index, message updated', async () => {
    const summary = await handleInteraction(context(), await press({ kind: 'act-now', user: 'U0OWNER' }), deps());
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'acted', action: 'stop', status: 'done' });
    expect(ec2.get(A).state).toBe('stopped');
    expect(await guardStops(new DynamoDBClient({ region: REGION }), TABLE, REGION)).toEqual([
      expect.objectContaining({ instanceId: A, capability: 'reaper' }),
    ]);
    const line = updates()[0]!.blocks.find((b) => b.type === 'context') as unknown as { elements: { text: string }[] };
    expect(line.elements[0]!.text).toContain('stopped at 12:00 UTC by <@U0OWNER>');
  });

  it('tells anyone else "not allowed" and changes nothing', async () => {
    const summary = await handleInteraction(context(), await press({ kind: 'act-now', user: 'U0MALLORY' }), deps());
    expect(summary.presses[0]?.outcome?.kind).toBe('not-allowed');
    expect(ec2.get(A).state).toBe('running');
    expect(ec2.effects.size).toBe(0);
    expect(updates()).toEqual([]);
    expect(answers()[0]).toContain('Not allowed');
    expect(await readMonth(new DynamoDBClient({ region: REGION }), TABLE, '2026-11')).toEqual([]);
  });

  it('recognises an owner by the e-mail address Slack has for them', async () => {
    const summary = await handleInteraction(
      context(),
      await press({ kind: 'act-now', instanceId: B, user: 'U0BOB' }),
      deps({ U0BOB: 'Bob@Example.com' }),
    );
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'acted', status: 'done' });
    expect(ec2.get(B).state).toBe('stopped');
  });

  it('lets an approver stop it, listed directly or through a user group', async () => {
    const direct = context({ slack: { approvers: ['U0LEAD'] } });
    await handleInteraction(direct, await press({ kind: 'act-now', user: 'U0LEAD' }), deps());
    expect(ec2.get(A).state).toBe('stopped');
    const viaGroup = context({ slack: { approvers: ['S0ONCALL'] } });
    await handleInteraction(
      viaGroup,
      await press({ kind: 'act-now', instanceId: B, user: 'U0CAROL', actionTs: '1700000101.000300' }),
      deps({}, { S0ONCALL: ['U0CAROL'] }),
    );
    expect(ec2.get(B).state).toBe('stopped');
  });

  it('goes through the scheduled run checks: a kept instance is not stopped', async () => {
    await handleInteraction(context(), await press({ kind: 'keep' }), deps());
    const summary = await handleInteraction(
      context(),
      await press({ kind: 'act-now', user: 'U0OWNER', actionTs: '1700000102.000400' }),
      deps(),
    );
    expect(summary.presses[0]?.outcome).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('kept until'),
    });
    expect(ec2.get(A).state).toBe('running');
  });

  it('does not stop an opted-out instance, nor when the configured action changed', async () => {
    ec2.get(A).tags['cost-guard:opt-out'] = 'TRUE';
    const optedOut = await handleInteraction(context(), await press({ kind: 'act-now', user: 'U0OWNER' }), deps());
    expect(optedOut.presses[0]?.outcome).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('opted out'),
    });
    const changed = await handleInteraction(
      context({ idleGpu: { action: 'terminate' } }),
      await press({ kind: 'act-now', instanceId: B, user: 'U0BOB', actionTs: '1700000103.000500' }),
      deps({ U0BOB: 'bob@example.com' }),
    );
    expect(changed.presses[0]?.outcome).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('terminate now'),
    });
    expect([ec2.get(A).state, ec2.get(B).state]).toEqual(['running', 'running']);
  });

  it('honours dry run: says what it would do, stops nothing', async () => {
    const summary = await handleInteraction(
      context({}, true),
      await press({ kind: 'act-now', user: 'U0OWNER' }),
      deps(),
    );
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'acted', status: 'dry-run' });
    expect(ec2.get(A).state).toBe('running');
  });

  it('stops nothing past the per-period action limit', async () => {
    const ctx = context({ idleGpu: { maxActionsPerRun: 1 } });
    await handleInteraction(ctx, await press({ kind: 'act-now', user: 'U0OWNER' }), deps());
    const second = await handleInteraction(
      context({ idleGpu: { maxActionsPerRun: 1 }, slack: { approvers: ['U0LEAD'] } }),
      await press({ kind: 'act-now', instanceId: B, user: 'U0LEAD', actionTs: '1700000104.000600' }),
      deps(),
    );
    expect(second.presses[0]?.outcome).toMatchObject({ kind: 'refused', reason: expect.stringContaining('limit') });
    expect(ec2.get(B).state).toBe('running');
  });
});

describe('Function: handleInteraction (restore)', () => {
  async function stoppedByBudgetGuard(instanceId: string, budget: string) {
    ec2.get(instanceId).state = 'stopped';
    ec2.get(instanceId).tags['cost-guard:stopped-by'] = 'budget-guard';
    await recordStops(new DynamoDBClient({ region: REGION }), TABLE, [
      {
        capability: 'budgets',
        kind: 'stop',
        target: instanceId,
        region: REGION,
        reason: 'budget',
        status: 'done',
        at: '2026-11-15T10:00:00.000Z',
        details: { budget },
      },
    ]);
  }

  it("restarts an instance the guard stopped for the button's budget, for its owner", async () => {
    await stoppedByBudgetGuard(A, 'gpu');
    const summary = await handleInteraction(context(), await press({ kind: 'restore', user: 'U0OWNER' }), deps());
    expect(summary.presses[0]?.outcome).toMatchObject({ kind: 'acted', action: 'start', status: 'done' });
    expect(ec2.get(A).state).toBe('running');
    expect(ec2.get(A).tags['cost-guard:stopped-by']).toBeUndefined();
    expect(await guardStops(new DynamoDBClient({ region: REGION }), TABLE, REGION)).toEqual([]);
  });

  it('starts nothing the records do not say the guard stopped (a hand-written tag is no evidence)', async () => {
    ec2.get(A).state = 'stopped';
    ec2.get(A).tags['cost-guard:stopped-by'] = 'budget-guard';
    const summary = await handleInteraction(context(), await press({ kind: 'restore', user: 'U0OWNER' }), deps());
    expect(summary.presses[0]?.outcome?.kind).toBe('refused');
    expect(ec2.get(A).state).toBe('stopped');
  });

  it('does not restart for someone who is neither owner nor approver', async () => {
    await stoppedByBudgetGuard(A, 'gpu');
    const summary = await handleInteraction(context(), await press({ kind: 'restore', user: 'U0MALLORY' }), deps());
    expect(summary.presses[0]?.outcome?.kind).toBe('not-allowed');
    expect(ec2.get(A).state).toBe('stopped');
  });
});
