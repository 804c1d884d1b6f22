import { ownerAddress, ownerKey, teamChannelOf } from '../../../lambda/core/slack-routing';

describe('Function: ownerAddress', () => {
  it.each([
    ['alice@example.com', { kind: 'email', email: 'alice@example.com' }],
    ['  Alice.Smith+gpu@Example.co.uk ', { kind: 'email', email: 'alice.smith+gpu@example.co.uk' }],
    ['U0ALICE01', { kind: 'user', userId: 'U0ALICE01' }],
    ['W0ENTERPRISE1', { kind: 'user', userId: 'W0ENTERPRISE1' }],
    ['<@U0ALICE01>', { kind: 'user', userId: 'U0ALICE01' }],
    ['<@U0ALICE01|alice>', { kind: 'user', userId: 'U0ALICE01' }],
    ['@U0ALICE01', { kind: 'user', userId: 'U0ALICE01' }],
  ] as const)('reads %j as %j', (value, expected) => {
    expect(ownerAddress(value)).toEqual(expected);
  });

  it.each([
    'alice',
    'u0alice01',
    'C0CHANNEL1',
    '<!channel>',
    'alice@localhost',
    'alice@example.com, bob@example.com',
    '<mailto:alice@example.com|alice@example.com>',
    'a b@example.com',
    '',
    `${'a'.repeat(250)}@example.com`,
  ])('finds no address in %j', (value) => {
    expect(ownerAddress(value)).toEqual({ kind: 'invalid' });
  });

  it('gives one cache key to one person however the tag writes the address', () => {
    expect(ownerKey(ownerAddress('ALICE@example.com'))).toBe(ownerKey(ownerAddress(' alice@example.com')));
    expect(ownerKey(ownerAddress('<@U0ALICE01>'))).toBe(ownerKey(ownerAddress('U0ALICE01')));
    expect(ownerKey(ownerAddress('nobody'))).toBeUndefined();
  });
});

describe('Function: teamChannelOf', () => {
  const channels = { 'ml-research': '#ml-research-costs', vision: 'C0VISION1' };

  it('maps a team tag value to its channel, exact or in another case with spaces around', () => {
    expect(teamChannelOf('vision', channels)).toEqual({ team: 'vision', channel: 'C0VISION1' });
    expect(teamChannelOf(' ML-Research ', channels)).toEqual({ team: 'ml-research', channel: '#ml-research-costs' });
  });

  it('gives no channel to a team without one, an absent tag, or a key inherited from Object', () => {
    expect(teamChannelOf('audio', channels)).toBeUndefined();
    expect(teamChannelOf(undefined, channels)).toBeUndefined();
    expect(teamChannelOf('constructor', channels)).toBeUndefined();
  });
});
