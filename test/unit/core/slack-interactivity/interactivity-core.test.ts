import fc from 'fast-check';
import { KeepRequestError, keepActiveAt, keepEnd, keepReasonText, utcTimeText } from '../../../../lambda/core/keeps';
import { authorize, isOwner, ownerOf } from '../../../../lambda/core/slack-interactivity/authorize';
import { parseInteraction, SlackPayloadError } from '../../../../lambda/core/slack-interactivity/payload';
import { ephemeralText, outcomeLine } from '../../../../lambda/core/slack-interactivity/replies';
import { untrustedText } from '../../../helpers/arbitraries';
import { formBody, pressPayload } from '../../../helpers/slack-signing';

const NOW = new Date('2026-11-15T12:00:00.000Z');

describe('Function: parseInteraction', () => {
  it('reads a pressed button with its user, message and response_url', () => {
    // Act
    const parsed = parseInteraction(
      formBody(
        pressPayload({
          actionId: 'cost-guard.keep.4',
          value: '{"v":1}',
          responseUrl: 'https://hooks.slack.com/x',
          blocks: [{ type: 'divider' }],
        }),
      ),
    );
    // Assess
    expect(parsed).toMatchObject({
      type: 'block_actions',
      teamId: 'T0TEST',
      user: { id: 'U0ALICE' },
      channelId: 'C0FINOPS',
      messageTs: '1700000000.000100',
      responseUrl: 'https://hooks.slack.com/x',
      message: { blocks: [{ type: 'divider' }] },
      actions: [{ actionId: 'cost-guard.keep.4', value: '{"v":1}', actionTs: '1700000100.000200' }],
    });
  });

  it('acknowledges other interaction types without reading them further', () => {
    expect(parseInteraction(formBody({ type: 'shortcut', team: { id: 'T0TEST' } }))).toEqual({
      type: 'shortcut',
      teamId: 'T0TEST',
    });
  });

  it.each([
    ['no payload field', 'token=abc'],
    ['a payload that is not JSON', 'payload=%7B'],
    ['a payload that is an array', formBody([1])],
    ['no team', formBody({ ...pressPayload({ actionId: 'a', value: 'v' }), team: undefined, user: { id: 'U0A' } })],
    ['a bad user ID', formBody({ ...pressPayload({ actionId: 'a', value: 'v' }), user: { id: '<!channel>' } })],
    ['no button', formBody({ ...pressPayload({ actionId: 'a', value: 'v' }), actions: [] })],
    [
      'a button without action_ts',
      formBody({ ...pressPayload({ actionId: 'a', value: 'v' }), actions: [{ action_id: 'a', value: 'v' }] }),
    ],
  ])('refuses %s with a SlackPayloadError', (_what, body) => {
    expect(() => parseInteraction(body)).toThrow(SlackPayloadError);
  });

  it('drops a channel or message ts that is not one Slack writes', () => {
    const body = formBody(pressPayload({ actionId: 'a', value: 'v', channel: '../../x', messageTs: 'now' }));
    const parsed = parseInteraction(body);
    expect(parsed).not.toHaveProperty('channelId');
    expect(parsed).not.toHaveProperty('messageTs');
  });
});

describe('Function: authorize', () => {
  const approvers = new Set(['U0LEAD']);

  it.each(['keep', 'keep-running'] as const)('lets anyone press %s', (kind) => {
    expect(authorize(kind, { presser: { id: 'U0ANYONE' }, approvers: new Set() })).toEqual({
      allowed: true,
      as: 'anyone',
    });
  });

  it.each([
    ['U0BOB', { id: 'U0BOB' }],
    ['<@U0BOB>', { id: 'U0BOB' }],
    ['<@U0BOB|bob>', { id: 'U0BOB' }],
    [' @U0BOB ', { id: 'U0BOB' }],
    ['Bob@Example.com', { id: 'U0BOB', email: 'bob@example.COM' }],
  ])('lets the owner named by %s stop or restore', (ownerTag, presser) => {
    expect(authorize('act-now', { presser, ownerTag, approvers })).toEqual({ allowed: true, as: 'owner' });
    expect(authorize('restore', { presser, ownerTag, approvers }).allowed).toBe(true);
  });

  it('lets an approver act on any instance', () => {
    expect(authorize('act-now', { presser: { id: 'U0LEAD' }, ownerTag: 'U0BOB', approvers })).toEqual({
      allowed: true,
      as: 'approver',
    });
  });

  it.each([
    ['someone else', { id: 'U0MALLORY' }, 'U0BOB'],
    ['a presser whose e-mail Slack did not give', { id: 'U0BOB' }, 'bob@example.com'],
    ['a presser with another e-mail', { id: 'U0BOB', email: 'rob@example.com' }, 'bob@example.com'],
    ['an owner tag that is neither an ID nor an address', { id: 'U0BOB' }, 'bob'],
    ['a look-alike ID', { id: 'U0BOB' }, 'U0BOBX'],
  ])('refuses %s', (_what, presser, ownerTag) => {
    expect(authorize('act-now', { presser, ownerTag, approvers }).allowed).toBe(false);
  });

  it('says why when the instance has no owner tag', () => {
    const verdict = authorize('restore', { presser: { id: 'U0MALLORY' }, approvers });
    expect(verdict).toEqual({ allowed: false, reason: expect.stringContaining('no owner tag') });
  });

  it('reads owners without being fooled by markup', () => {
    expect(ownerOf('<https://evil.example|U0BOB>')).toBeUndefined();
    expect(isOwner('<!channel>', { id: 'U0BOB' })).toBe(false);
  });
});

describe('Function: keepEnd and friends (core/keeps)', () => {
  it.each([
    [4, '2026-11-15T16:00:00Z'],
    [24, '2026-11-16T12:00:00Z'],
    [168, '2026-11-22T12:00:00Z'],
  ])('ends a keep of %i hours at %s', (hours, end) => {
    expect(keepEnd(NOW, hours, 168)).toBe(end);
  });

  it.each([0, -1, 1.5, 169, Number.NaN])('refuses %d hours under a cap of 168', (hours) => {
    expect(() => keepEnd(NOW, hours, 168)).toThrow(KeepRequestError);
  });

  it('keeps a reason on one line, and refuses a long one', () => {
    expect(keepReasonText('eval\nrun\u0000 ')).toBe('eval run');
    expect(keepReasonText('  ')).toBeUndefined();
    expect(() => keepReasonText('x'.repeat(201))).toThrow(KeepRequestError);
  });

  it('protects until the end, and when the end cannot be read', () => {
    expect(keepActiveAt({ until: '2026-11-15T12:00:01Z' }, NOW)).toBe(true);
    expect(keepActiveAt({ until: '2026-11-15T12:00:00Z' }, NOW)).toBe(false);
    expect(keepActiveAt({ until: 'soon' }, NOW)).toBe(true);
    expect(keepActiveAt(undefined, NOW)).toBe(false);
  });

  it('says a time of the same day as hh:mm UTC, another day with its date', () => {
    expect(utcTimeText('2026-11-15T16:05:00Z', NOW)).toBe('16:05 UTC');
    expect(utcTimeText('2026-11-22T12:00:00Z', NOW)).toBe('Sun 22 Nov 12:00 UTC');
  });
});

describe('Function: outcomeLine / ephemeralText', () => {
  it('replaces the buttons with who kept it until when', () => {
    const line = outcomeLine(
      { kind: 'kept', button: 'keep', until: '2026-11-15T16:00:00Z', hours: 4, by: 'U0ALICE', tag: 'written' },
      NOW,
    );
    expect(line?.elements[0]?.text).toBe(':hourglass: kept until 16:00 UTC (4 h) by <@U0ALICE>');
  });

  it('leaves the message alone for a refusal, and escapes what came from AWS', () => {
    const refused = { kind: 'failed' as const, action: 'stop', error: 'UnauthorizedOperation: <!channel> *x*' };
    expect(outcomeLine(refused, NOW)).toBeUndefined();
    const text = ephemeralText(refused, NOW);
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('&lt;!channel&gt;');
  });

  it('says "not allowed" to the presser alone', () => {
    expect(ephemeralText({ kind: 'not-allowed', reason: 'only the owner' }, NOW)).toContain(
      'Not allowed: only the owner',
    );
  });
});

describe('Untrusted text in the answers to a press', () => {
  it('never lets a reason, an error or a stored name mention, link or format', () => {
    fc.assert(
      fc.property(untrustedText(), (text) => {
        const answers = [
          ephemeralText({ kind: 'refused', reason: text }, NOW),
          ephemeralText({ kind: 'not-allowed', reason: text }, NOW),
          ephemeralText({ kind: 'failed', action: 'stop', error: text }, NOW),
          ephemeralText({ kind: 'keep-superseded', until: '2026-11-15T13:00:00Z', by: text }, NOW),
        ];
        for (const a of answers) {
          expect(a).not.toMatch(/<[!#@]|<https?:/);
          expect(a.length).toBeLessThanOrEqual(3000);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('mentions a Slack user, and shows anyone else (an AWS principal) as text', () => {
    expect(ephemeralText({ kind: 'keep-superseded', until: '2026-11-15T13:00:00Z', by: 'U0BOB' }, NOW)).toContain(
      '<@U0BOB>',
    );
    const arn = 'arn:aws:sts::123456789012:assumed-role/Dev/alice';
    expect(ephemeralText({ kind: 'keep-superseded', until: '2026-11-15T13:00:00Z', by: arn }, NOW)).toContain(arn);
  });
});
