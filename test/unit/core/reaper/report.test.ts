import { formatUsd } from '../../../../lambda/core/money';
import {
  buildDigest,
  buildDigestPlan,
  countReports,
  type DigestInput,
  type InstanceReport,
  ownerTags,
  ownerWarningMessage,
  savingsTotals,
} from '../../../../lambda/core/reaper/report';
import { type ActionsBlock, header, MAX_BLOCKS_PER_MESSAGE, messageToText } from '../../../../lambda/core/slack-blocks';

const report = (over: Partial<InstanceReport> = {}): InstanceReport => ({
  instanceId: 'i-0abc',
  region: 'us-east-1',
  instanceType: 'g5.xlarge',
  name: 'train <box>',
  owner: 'alice',
  team: 'vision',
  decision: 'warn',
  code: 'first-detection',
  reason: 'idle for 60 min: GPU max 0%',
  confidence: 'high',
  idleSince: '2026-11-15T12:00:00.000Z',
  actAt: '2026-11-15T13:00:00.000Z',
  hourlyUsd: 1.006,
  wasteSoFarUsd: 1.006,
  monthlySavingsUsd: 734.38,
  tag: { kind: 'tag', status: 'done' },
  ...over,
});

const input = (reports: InstanceReport[], over: Partial<DigestInput> = {}): DigestInput => ({
  reports,
  action: 'stop',
  dryRun: false,
  optOutKey: 'cost-guard:opt-out',
  lookbackMinutes: 60,
  maxActionsPerRun: 25,
  skippedByReason: {},
  unknownTypes: [],
  notes: [],
  ...over,
});

describe('Function: buildDigest', () => {
  it('posts nothing when nothing was warned, acted on or failed', () => {
    // Prepare
    const quiet = [
      report({ decision: 'busy', code: 'gpu-busy', tag: undefined }),
      report({ decision: 'wait', code: 'warned', tag: undefined }),
      report({ decision: 'skip', code: 'opt-out', tag: undefined }),
    ];
    // Act / Assess
    expect(buildDigest(input(quiet, { skippedByReason: { 'opt-out': 1 } }))).toEqual([]);
  });

  it('warns with name, id, type, owner, team, price, waste, when and how to opt out', () => {
    // Act
    const [message] = buildDigest(input([report()]));
    const text = messageToText(message!);
    // Assess
    expect(text).toContain('1 warned');
    expect(text).toContain('*train <box>*');
    expect(JSON.stringify(message!.blocks)).toContain('train &lt;box&gt;');
    expect(text).toContain('`i-0abc` (g5.xlarge, us-east-1)');
    expect(text).toContain('owner alice');
    expect(text).toContain('team vision');
    expect(text).toContain('$1.01/h');
    expect(text).toContain('wasted so far $1.01');
    expect(text).toContain('will stop at 2026-11-15 13:00 UTC');
    expect(text).toContain(
      'aws ec2 create-tags --region us-east-1 --resources i-0abc --tags Key=cost-guard:opt-out,Value=true',
    );
  });

  it('totals the monthly savings of the actions that took effect and says "price unknown"', () => {
    // Prepare
    const reports = [
      report({ instanceId: 'i-1', decision: 'act', action: { kind: 'stop', status: 'done' }, tag: undefined }),
      report({
        instanceId: 'i-2',
        decision: 'act',
        monthlySavingsUsd: undefined,
        hourlyUsd: undefined,
        action: { kind: 'stop', status: 'done' },
        tag: undefined,
      }),
      report({
        instanceId: 'i-3',
        decision: 'act',
        action: { kind: 'stop', status: 'failed', errorCode: 'UnsupportedOperation' },
        tag: undefined,
      }),
    ];
    // Act
    const [message] = buildDigest(input(reports));
    const text = messageToText(message!);
    // Assess
    expect(message!.text).toContain('2 stopped');
    expect(message!.text).toContain('1 failed');
    expect(message!.text).toContain(`${formatUsd(734.38)}/month saved (+1 price unknown)`);
    expect(text).toContain('price unknown');
    expect(text).toContain('Stop failed* (UnsupportedOperation)');
  });

  it('labels a dry run and says what would happen', () => {
    const reports = [report({ decision: 'act', action: { kind: 'terminate', status: 'dry-run' }, tag: undefined })];
    const [message] = buildDigest(input(reports, { dryRun: true, action: 'terminate' }));
    expect(message!.text).toMatch(/^\[DRY RUN\] /);
    expect(message!.text).toContain('1 would be terminated');
    expect(messageToText(message!)).toContain('Would terminate');
  });

  it('marks low-confidence decisions and says, once, how to install the agent', () => {
    const reports = [
      report({ instanceId: 'i-1', confidence: 'low', actAt: undefined, code: 'low-confidence' }),
      report({ instanceId: 'i-2', confidence: 'low', actAt: undefined, code: 'low-confidence' }),
    ];
    const [message] = buildDigest(input(reports));
    const text = messageToText(message!);
    expect(text).toContain('Low confidence');
    expect(text).toContain('Idle, judged on CPU and network alone: not stopped');
    expect(text).not.toContain('will stop');
    expect(text.match(/nvidia_gpu/g)).toHaveLength(1);
    expect(text).toContain('2 instance(s) above have no per-instance GPU metrics');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the agent's placeholder, as the reader must copy it
    expect(text).toContain('"append_dimensions": {"InstanceId": "${aws:InstanceId}"}');
  });

  it('says which regions have GPU series that cannot be tied to instances, with the fix', () => {
    const [message] = buildDigest(input([report()], { unattributedGpuSeries: [{ region: 'eu-west-1', series: 16 }] }));
    const text = messageToText(message!);
    expect(text).toContain('eu-west-1: 16 GPU metric series cannot be tied to an instance (no InstanceId dimension)');
    expect(text).toContain('append_dimensions');
  });

  it('says when a run only reports, and when a warning is cancelled', () => {
    const reports = [
      report({ instanceId: 'i-1', decision: 'notify', code: 'report-only', tag: undefined }),
      report({ instanceId: 'i-2', decision: 'busy', code: 'gpu-busy', warningCleared: true, tag: undefined }),
    ];
    const text = messageToText(buildDigest(input(reports))[0]!);
    expect(text).toContain('reported only: this run cannot deliver a warning');
    expect(text).toContain('Warning cancelled* (busy again)');
  });

  it('splits a long digest into messages of at most 50 blocks, each with the header', () => {
    // Prepare
    const reports = Array.from({ length: 130 }, (_, i) => report({ instanceId: `i-${i}` }));
    // Act
    const messages = buildDigest(input(reports, { skippedByReason: { 'opt-out': 2 }, maxInstanceSections: 200 }));
    // Assess
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
      expect(m.blocks[0]!.type).toBe('header');
    }
    const sections = messages.flatMap((m) => m.blocks).filter((b) => b.type === 'section');
    expect(sections).toHaveLength(130);
  });

  it('says which message shows each instance, so that only the messages Slack accepted deliver warnings', () => {
    // Prepare
    const reports = Array.from({ length: 130 }, (_, i) => report({ instanceId: `i-${String(i).padStart(3, '0')}` }));
    // Act
    const plan = buildDigestPlan(input(reports, { maxInstanceSections: 120 }));
    // Assess: every listed instance is in the message the map names, the unlisted ones in none
    expect(plan.messageOf.size).toBe(120);
    for (const [id, index] of plan.messageOf) {
      expect(JSON.stringify(plan.messages[index]!.blocks)).toContain(`\`${id}\``);
    }
    for (const r of reports.slice(120)) expect(plan.messageOf.has(r.instanceId)).toBe(false);
  });

  it('lists skipped reasons in words, other codes as they are, and unknown types in the footer', () => {
    const [message] = buildDigest(
      input([report()], {
        skippedByReason: { 'opt-out': 3, 'too-few-gpu-datapoints': 1 },
        unknownTypes: ['us-east-1: zz9.huge'],
      }),
    );
    const text = messageToText(message!);
    expect(text).toContain('Skipped: 3 opted out, 1 too-few-gpu-datapoints.');
    expect(text).toContain('zz9.huge');
  });
});

describe('Function: countReports', () => {
  it('counts done actions separately from dry-run and failed ones', () => {
    const counts = countReports([
      report({ decision: 'act', action: { kind: 'terminate', status: 'done' }, tag: undefined }),
      report({ decision: 'act', action: { kind: 'stop', status: 'dry-run' }, tag: undefined }),
      report({ decision: 'act', action: { kind: 'stop', status: 'failed', errorCode: 'Throttling' }, tag: undefined }),
      report({ decision: 'busy', warningCleared: true, tag: { kind: 'untag', status: 'done' } }),
    ]);
    expect(counts).toMatchObject({ terminated: 1, stopped: 0, wouldAct: 1, failed: 1, untagged: 1 });
  });

  it('counts a warning once a person could read it, never one Slack did not accept', () => {
    const counts = countReports([
      report({ instanceId: 'i-1', warning: { status: 'delivered', slackChannel: 'C1', slackTs: '1.2' } }),
      report({ instanceId: 'i-2', warning: { status: 'not-delivered' } }),
      report({ instanceId: 'i-3', warning: { status: 'not-recorded' } }),
      report({ instanceId: 'i-4', warning: { status: 'dry-run' } }),
    ]);
    expect(counts.warned).toBe(2);
  });
});

describe('Function: ownerTags', () => {
  it('reads Name, owner and team in any case', () => {
    expect(ownerTags({ Name: 'box', Owner: 'bob', TEAM: 'nlp' })).toEqual({ name: 'box', owner: 'bob', team: 'nlp' });
  });
});

describe('Function: buildDigest (large runs)', () => {
  it('lists at most maxInstanceSections instances and counts the rest', () => {
    // Prepare
    const reports = [
      ...Array.from({ length: 8 }, (_, i) => report({ instanceId: `i-w${i}` })),
      ...Array.from({ length: 5 }, (_, i) => report({ instanceId: `i-d${i}`, decision: 'deferred', tag: undefined })),
    ];
    // Act
    const messages = buildDigest(input(reports, { maxInstanceSections: 6 }));
    const text = messages.map(messageToText).join('\n');
    // Assess
    expect(messages.flatMap((m) => m.blocks).filter((b) => b.type === 'section')).toHaveLength(6);
    expect(text).toContain('…and 2 warn, 5 deferred not listed here');
    expect(text).toContain('--resources <instance-id>');
  });
});

describe('Function: buildDigest (the headline adds up the lines under it)', () => {
  const WORDS = /\$([\d,]+\.\d{2})\/month (saved|would be saved \(dry run\)|would be saved if acted on)/g;
  /** Cents by the words after each figure in `text`. */
  const figures = (text: string): Map<string, number> => {
    const sums = new Map<string, number>();
    for (const m of text.matchAll(WORDS)) {
      sums.set(m[2]!, (sums.get(m[2]!) ?? 0) + Math.round(Number(m[1]!.replace(/,/g, '')) * 100));
    }
    return sums;
  };
  /** The headline's figures, and those of every block under it, in every message of the digest. */
  const headlineAndBody = (reports: InstanceReport[], over: Partial<DigestInput> = {}) => {
    const messages = buildDigest(input(reports, over));
    const head = messages[0]!.text;
    const body = messages
      .flatMap((m) => m.blocks.slice(1))
      .map((b) => JSON.stringify(b))
      .join('\n');
    return { head, headFigures: figures(head), bodyFigures: figures(body) };
  };

  it('in a real run: saved and would-be-saved-if-acted-on, each the sum of its lines', () => {
    // Prepare
    const reports = [
      report({ instanceId: 'i-1', decision: 'act', action: { kind: 'stop', status: 'done' }, tag: undefined }),
      report({
        instanceId: 'i-2',
        decision: 'act',
        monthlySavingsUsd: 16_030.8,
        action: { kind: 'stop', status: 'done' },
        tag: undefined,
      }),
      report({ instanceId: 'i-3', monthlySavingsUsd: 1234.567 }),
      report({ instanceId: 'i-4', decision: 'act', action: { kind: 'stop', status: 'failed' }, tag: undefined }),
      report({ instanceId: 'i-5', decision: 'deferred', monthlySavingsUsd: 0.005, tag: undefined }),
    ];
    // Act
    const { head, headFigures, bodyFigures } = headlineAndBody(reports);
    // Assess
    expect(head).toContain('$16,765.18/month saved');
    expect(head).toContain('$1,234.58/month would be saved if acted on');
    expect(headFigures).toEqual(bodyFigures);
  });

  it('in a dry run: what would be acted on, and the warned instances', () => {
    const reports = [
      report({ instanceId: 'i-1', decision: 'act', action: { kind: 'terminate', status: 'dry-run' }, tag: undefined }),
      report({ instanceId: 'i-2', monthlySavingsUsd: 2.224, warning: { status: 'dry-run' } }),
      report({ instanceId: 'i-3', monthlySavingsUsd: 2.224, warning: { status: 'dry-run' } }),
    ];
    const { head, headFigures, bodyFigures } = headlineAndBody(reports, { dryRun: true, action: 'terminate' });
    expect(head).toContain('$734.38/month would be saved (dry run)');
    // Each line is rounded to the cent as shown, and the headline adds what is shown.
    expect(head).toContain('$4.44/month would be saved if acted on');
    expect(headFigures).toEqual(bodyFigures);
  });

  it('in a run that can only report (a plan without a Slack token): not $0.00 above $16,030.80', () => {
    // Prepare: one idle p4d.24xlarge, reported only
    const reports = [
      report({
        instanceId: 'i-0p4d',
        instanceType: 'p4d.24xlarge',
        decision: 'notify',
        code: 'report-only',
        hourlyUsd: 21.96,
        monthlySavingsUsd: 16_030.8,
        tag: undefined,
      }),
    ];
    // Act
    const { head, headFigures, bodyFigures } = headlineAndBody(reports, { dryRun: true });
    // Assess
    expect(head).toBe('[DRY RUN] Idle GPU reaper: 1 idle · $16,030.80/month would be saved if acted on');
    expect(head).not.toContain('$0.00');
    expect(headFigures).toEqual(bodyFigures);
  });

  it('counts the instances not listed (over maxInstanceSections) in the line that mentions them', () => {
    const reports = Array.from({ length: 7 }, (_, i) => report({ instanceId: `i-${i}`, monthlySavingsUsd: 100 + i }));
    const { head, headFigures, bodyFigures } = headlineAndBody(reports, { maxInstanceSections: 3 });
    expect(head).toContain('$721.00/month would be saved if acted on');
    expect(headFigures).toEqual(bodyFigures);
  });

  it('shows no saving for an instance that saves nothing (busy again, protected, failed)', () => {
    const reports = [
      report({ instanceId: 'i-1', decision: 'busy', code: 'gpu-busy', warningCleared: true, tag: undefined }),
      report({ instanceId: 'i-2', decision: 'skip', code: 'termination-protected', tag: undefined }),
      report({ instanceId: 'i-3', decision: 'act', action: { kind: 'stop', status: 'failed' }, tag: undefined }),
    ];
    const { head, bodyFigures } = headlineAndBody(reports);
    expect(head).not.toMatch(/\/month/);
    expect(bodyFigures.size).toBe(0);
  });
});

describe('Function: savingsTotals', () => {
  it('sums each kind to the cent as shown and counts the unpriced apart', () => {
    const totals = savingsTotals([
      report({ instanceId: 'i-1', monthlySavingsUsd: 0.004 }),
      report({ instanceId: 'i-2', monthlySavingsUsd: 0.004 }),
      report({ instanceId: 'i-3', monthlySavingsUsd: undefined }),
      report({ instanceId: 'i-4', decision: 'busy', code: 'gpu-busy' }),
    ]);
    expect(totals).toEqual([{ kind: 'if-acted-on', monthlyUsd: 0, instances: 3, unpriced: 1 }]);
  });
});

describe('Buttons, owners, teams and keeps in the digest', () => {
  const BUTTONS = { keepHours: [4, 24, 168], maxKeepHours: 168 };
  const id = (i: number) => `i-${i.toString(16).padStart(17, '0')}`;
  const actionsOf = (blocks: readonly { type: string }[]) =>
    blocks.filter((b): b is ActionsBlock => b.type === 'actions');
  const labels = (b: ActionsBlock) => b.elements.map((e) => ('text' in e && e.text ? e.text.text : ''));

  it('puts keep buttons for each length and "Stop now" right under each warning', () => {
    // Act
    const [message] = buildDigest(input([report({ instanceId: id(1) })], { buttons: BUTTONS }));
    // Assess
    const i = message!.blocks.findIndex((b) => b.type === 'actions');
    expect(message!.blocks[i - 1]!.type).toBe('section');
    const [actions] = actionsOf(message!.blocks);
    expect(labels(actions!)).toEqual(['Keep 4 h', 'Keep 1 day', 'Keep 1 week', 'Stop now']);
    expect(actions!.block_id).toBe(`cost-guard.actions.${id(1)}`);
  });

  it('says "Terminate now" when the action is terminate, and caps keeps by maxKeepHours', () => {
    // Act
    const [message] = buildDigest(
      input([report({ instanceId: id(1) })], {
        action: 'terminate',
        buttons: { keepHours: [4, 24, 168], maxKeepHours: 24 },
      }),
    );
    // Assess
    expect(labels(actionsOf(message!.blocks)[0]!)).toEqual(['Keep 4 h', 'Keep 1 day', 'Terminate now']);
  });

  it('gives buttons to warnings that announce an action and to deferred actions, not to done, busy or low-confidence ones', () => {
    // Prepare
    const reports = [
      report({ instanceId: id(1) }),
      report({ instanceId: id(2), decision: 'deferred', code: 'max-actions-per-run', tag: undefined }),
      report({ instanceId: id(3), decision: 'act', action: { kind: 'stop', status: 'done' }, tag: undefined }),
      report({ instanceId: id(4), decision: 'busy', code: 'gpu-busy', warningCleared: true, tag: undefined }),
      report({ instanceId: id(5), confidence: 'low', actAt: undefined, code: 'low-confidence' }),
    ];
    // Act
    const [message] = buildDigest(input(reports, { buttons: BUTTONS }));
    // Assess
    expect(actionsOf(message!.blocks).map((b) => b.block_id)).toEqual([
      `cost-guard.actions.${id(1)}`,
      `cost-guard.actions.${id(2)}`,
    ]);
  });

  it('without interactivity (no buttons input) reads exactly as before', () => {
    // Act
    const plain = buildDigest(input([report({ instanceId: id(1) })]));
    // Assess
    expect(plain.flatMap((m) => m.blocks).some((b) => b.type === 'actions')).toBe(false);
  });

  it('leaves out buttons it could not encode (an id EC2 would never give) instead of failing the digest', () => {
    // Act
    const [message] = buildDigest(input([report({ instanceId: 'i-<bad>' })], { buttons: BUTTONS }));
    // Assess
    expect(actionsOf(message!.blocks)).toHaveLength(0);
    expect(messageToText(message!)).toContain('i-<bad>');
  });

  it('fits 100 warnings with buttons in messages of at most 50 blocks, each section with its buttons, and says where each went', () => {
    // Prepare
    const reports = Array.from({ length: 100 }, (_, i) => report({ instanceId: id(i) }));
    // Act
    const plan = buildDigestPlan(input(reports, { buttons: BUTTONS }));
    // Assess
    expect(plan.messages).toHaveLength(5);
    for (const [n, m] of plan.messages.entries()) {
      expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
      for (const a of actionsOf(m.blocks)) {
        expect(a.elements.length).toBeLessThanOrEqual(25);
        const instanceId = a.block_id!.replace('cost-guard.actions.', '');
        expect(plan.messageOf.get(instanceId)).toBe(n);
        const section = m.blocks[m.blocks.indexOf(a) - 1]!;
        expect(section.type === 'section' && section.text?.text).toContain(instanceId);
      }
    }
    expect(plan.messageOf.size).toBe(100);
  });

  it('says in the digest when the owner got the warning directly, and when the owner could not be reached', () => {
    // Prepare
    const reports = [
      report({
        instanceId: id(1),
        ownerMessage: { owner: 'bob@example.com', status: 'sent', slackChannel: 'D1', slackTs: '1.1' },
      }),
      report({ instanceId: id(2), ownerMessage: { owner: 'alice@example.com', status: 'not-found' } }),
      report({ instanceId: id(3), ownerMessage: { owner: 'alice', status: 'invalid' } }),
      report({ instanceId: id(4), ownerMessage: { owner: 'U0CAROL01', status: 'failed', errorCode: 'cannot_dm_bot' } }),
      report({ instanceId: id(5), ownerMessage: { owner: 'dave@example.com', status: 'over-limit' } }),
    ];
    // Act
    const text = messageToText(buildDigest(input(reports))[0]!);
    // Assess
    expect(text).toContain('Sent to its owner bob@example.com as a direct message too.');
    expect(text).toContain('Owner alice@example.com not found in Slack: warned here.');
    expect(text).toContain('Owner tag alice is neither an e-mail address nor a Slack user ID: warned here.');
    expect(text).toContain('Owner U0CAROL01 could not be sent a direct message (cannot_dm_bot): warned here.');
    expect(text).toContain('Owner dave@example.com already has 10 direct messages from this run: warned here.');
  });

  it("summarizes a team with its own digest in one line and lists its instances only in the team's digest", () => {
    // Prepare
    const reports = [
      report({ instanceId: id(1), team: 'vision' }),
      report({
        instanceId: id(2),
        team: 'vision',
        decision: 'act',
        action: { kind: 'stop', status: 'done' },
        tag: undefined,
      }),
      report({ instanceId: id(3), team: 'audio' }),
    ];
    const teamDigests = [{ team: 'vision', channel: '#vision-costs', instanceIds: new Set([id(1), id(2)]) }];
    // Act
    const plan = buildDigestPlan(input(reports, { teamDigests }));
    const text = plan.messages.map(messageToText).join('\n');
    // Assess: the headline counts every instance; the team's are not listed, but summarized
    expect(text).toContain('1 stopped, 2 warned');
    expect(text).toContain(
      "Team *vision*: 1 stopped, 1 warned · $734.38/month saved · $734.38/month would be saved if acted on, in #vision-costs's digest.",
    );
    expect([...plan.messageOf.keys()]).toEqual([id(3)]);
    expect(text).not.toContain(id(1));
  });

  it("lists a team's instances here when its channel refused the team's digest, and says so", () => {
    // Prepare
    const reports = [report({ instanceId: id(1), team: 'vision' })];
    const teamDigests = [
      { team: 'vision', channel: 'C0VISION1', instanceIds: new Set([id(1)]), errorCode: 'not_in_channel' },
    ];
    // Act
    const plan = buildDigestPlan(input(reports, { teamDigests }));
    const text = messageToText(plan.messages[0]!);
    // Assess
    expect(plan.messageOf.get(id(1))).toBe(0);
    expect(text).toContain('did not take its digest (not_in_channel): its instances are listed here.');
    expect(JSON.stringify(plan.messages[0]!.blocks)).toContain('<#C0VISION1>');
  });

  it("a team's own digest names the team in its header", () => {
    // Act
    const [message] = buildDigest(input([report({ instanceId: id(1) })], { team: 'vision <lab>' }));
    // Assess
    expect(message!.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: expect.stringContaining('Idle GPU reaper (team vision <lab>): 1 warned') },
    });
    expect(message!.text).toContain('(team vision &lt;lab&gt;)');
  });

  it('names each keep that protected an instance: who, until when, why; a keep alone posts nothing', () => {
    // Prepare
    const kept = report({
      instanceId: id(7),
      decision: 'skip',
      code: 'keep-until',
      tag: undefined,
      keep: { until: '2026-11-15T16:00:00.000Z', by: 'alice', reason: 'eval resumes at 3' },
    });
    // Act
    const alone = buildDigest(input([kept]));
    const withWarning = buildDigest(input([kept, report({ instanceId: id(1) })]));
    // Assess
    expect(alone).toEqual([]);
    expect(messageToText(withWarning[0]!)).toContain(
      `Kept on request, not acted on: *train <box>* \`${id(7)}\` until 2026-11-15 16:00 UTC by alice (eval resumes at 3).`,
    );
  });
});

describe('Function: ownerWarningMessage', () => {
  it("is the instance's warning with its buttons, for the owner's direct message", () => {
    // Act
    const message = ownerWarningMessage(
      report({ instanceId: 'i-0123456789abcdef0', ownerMessage: { owner: 'a@b.co', status: 'sent' } }),
      { ...input([]), buttons: { keepHours: [4], maxKeepHours: 168 } },
    )!;
    // Assess
    const text = messageToText(message);
    expect(message.blocks[0]).toEqual(
      header(
        'Your GPU instance train <box> (i-0123456789abcdef0) will be stopped at 2026-11-15 13:00 UTC unless it gets busy',
      ),
    );
    expect(text).toContain('will stop at 2026-11-15 13:00 UTC');
    expect(text).not.toContain('direct message too');
    expect(message.blocks.filter((b) => b.type === 'actions')).toHaveLength(1);
    expect(message.text).toContain('train &lt;box&gt;');
  });

  it('is nothing for a report that is not a warning', () => {
    expect(ownerWarningMessage(report({ decision: 'busy', code: 'gpu-busy' }), input([]))).toBeUndefined();
  });
});
