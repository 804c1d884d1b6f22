import { ConfigError, parseConfig } from '../../../lambda/core/config';

/** The ConfigError's issues (fails the test when the config is accepted). */
function issues(raw: unknown): readonly string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues;
  }
  throw new Error(`config was accepted: ${JSON.stringify(raw)}`);
}

describe('Function: parseConfig (anomalies)', () => {
  it('is off by default, with a 100 USD threshold and a services monitor', () => {
    expect(parseConfig({}).anomalies).toEqual({ enabled: false, minimumImpactUsd: 100, tagValues: [] });
  });

  it('takes a tag monitor with its values, or an existing monitor ARN', () => {
    // Act
    const tag = parseConfig({ anomalies: { enabled: true, tagKey: 'team', tagValues: ['ml'] } }).anomalies;
    const existing = parseConfig({
      anomalies: { enabled: true, monitorArn: 'arn:aws:ce::111122223333:anomalymonitor/abc-123' },
    }).anomalies;
    // Assess
    expect(tag).toMatchObject({ tagKey: 'team', tagValues: ['ml'] });
    expect(existing.monitorArn).toBe('arn:aws:ce::111122223333:anomalymonitor/abc-123');
  });

  it.each<[string, unknown, string]>([
    [
      'a negative threshold',
      { minimumImpactUsd: -1 },
      'costGuard.anomalies.minimumImpactUsd: minimumImpactUsd must be from 0 to 1000000 (got -1)',
    ],
    [
      'a tag key without values',
      { tagKey: 'team' },
      'costGuard.anomalies.tagValues: list 1 to 10 values of tagKey to monitor',
    ],
    [
      'values without a tag key',
      { tagValues: ['ml'] },
      'costGuard.anomalies.tagKey: tagValues needs the tagKey they are values of',
    ],
    [
      'more than 10 values',
      { tagKey: 'team', tagValues: Array.from({ length: 11 }, (_, i) => `t${i}`) },
      'costGuard.anomalies.tagValues: a tag monitor takes at most 10 values',
    ],
    [
      'a monitor ARN and a tag key',
      { tagKey: 'team', tagValues: ['ml'], monitorArn: 'arn:aws:ce::111122223333:anomalymonitor/abc' },
      'costGuard.anomalies.monitorArn: set monitorArn (use an existing monitor) or tagKey (create a tag monitor), not both',
    ],
    [
      'an ARN that is no anomaly monitor',
      { monitorArn: 'arn:aws:sns:us-east-1:111122223333:topic' },
      'costGuard.anomalies.monitorArn: must be an anomaly monitor ARN',
    ],
  ])('rejects %s, naming the field', (_label, anomalies, expected) => {
    expect(issues({ anomalies }).join('\n')).toContain(expected);
  });
});
