import { ConfigError, parseConfig } from '../../../lambda/core/config';

function rejection(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe('Function: parseConfig (slack buttons and interactivity)', () => {
  it('keeps buttons off by default, so a deployed stack stays as it was', () => {
    const { slack, tags } = parseConfig({});
    expect(slack.interactivity).toBe(false);
    expect(slack.teamId).toBeUndefined();
    expect(slack.signingSecretName).toBeUndefined();
    expect(tags.owner).toBe('Owner');
  });

  it('defaults the slack section key by key when some keys are given', () => {
    const { slack } = parseConfig({ slack: { channel: 'C0123' } });
    expect(slack).toMatchObject({ channel: 'C0123', keepHours: [4, 24, 168], maxKeepHours: 168, approvers: [] });
  });

  it('accepts a full interactivity section', () => {
    const { slack } = parseConfig({
      slack: {
        interactivity: true,
        teamId: 'T0123ABCD',
        signingSecretName: 'slack/signing',
        keepHours: [2, 8],
        maxKeepHours: 72,
        approvers: ['U0123ABCD', 'W0123ABCD', 'S0123ABCD'],
        teamChannels: { vision: '#vision-finops', nlp: 'C0456' },
      },
    });
    expect(slack.teamChannels).toEqual({ vision: '#vision-finops', nlp: 'C0456' });
    expect(slack.approvers).toHaveLength(3);
  });

  it('requires the workspace ID when interactivity is on', () => {
    expect(rejection({ slack: { interactivity: true } })).toContain('costGuard.slack.teamId: interactivity is on');
  });

  it('refuses a keep button longer than the cap, naming it', () => {
    expect(rejection({ slack: { keepHours: [4, 200] } })).toContain(
      'costGuard.slack.keepHours[1]: keep length 200 is over maxKeepHours (168)',
    );
  });

  it.each([
    [{ slack: { maxKeepHours: 0 } }, 'costGuard.slack.maxKeepHours'],
    [{ slack: { maxKeepHours: 721 } }, 'costGuard.slack.maxKeepHours'],
    [{ slack: { keepHours: [] } }, 'costGuard.slack.keepHours'],
    [{ slack: { keepHours: [1.5] } }, 'costGuard.slack.keepHours[0]'],
    [{ slack: { approvers: ['alice@example.com'] } }, 'costGuard.slack.approvers[0]'],
    [{ slack: { approvers: ['C0123ABCD'] } }, 'costGuard.slack.approvers[0]'],
    [{ slack: { teamId: 'U0123ABCD' } }, 'costGuard.slack.teamId'],
    [{ slack: { teamChannels: { vision: '' } } }, 'costGuard.slack.teamChannels.vision'],
  ])('refuses %o', (raw, field) => {
    expect(rejection(raw)).toContain(field);
  });
});
