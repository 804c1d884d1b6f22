import {
  anomalyConsoleUrl,
  anomalyNotificationMessage,
  MAX_ROOT_CAUSES_SHOWN,
  parseAnomaly,
} from '../../../../lambda/core/anomalies/message';
import { messageToText, type SlackMessage } from '../../../../lambda/core/slack-blocks';
import { ANOMALY_ID, MONITOR_ID, SAGEMAKER_ANOMALY } from '../../../fixtures/anomaly-notifications';

const json = (o: unknown) => JSON.stringify(o);
const mrkdwnOf = (m: SlackMessage) => JSON.stringify(m.blocks);

describe('Function: parseAnomaly', () => {
  it('reads every field the message uses from a real-shaped notification', () => {
    // Act
    const a = parseAnomaly(json(SAGEMAKER_ANOMALY));
    // Assess
    expect(a).toEqual({
      anomalyId: ANOMALY_ID,
      accountId: '111122223333',
      monitorArn: `arn:aws:ce::111122223333:anomalymonitor/${MONITOR_ID}`,
      subscriptionName: 'ml-cost-guard-slack',
      dimensionalValue: 'Amazon SageMaker',
      startDate: '2026-11-12T00:00:00Z',
      endDate: '2026-11-14T00:00:00Z',
      totalImpactUsd: 1427.75,
      maxImpactUsd: 612.4,
      totalActualSpendUsd: 1840.25,
      totalExpectedSpendUsd: 412.5,
      totalImpactPercent: 346.12,
      rootCauses: [
        {
          service: 'Amazon SageMaker',
          linkedAccount: '444455556666',
          linkedAccountName: 'ml-research',
          region: 'us-west-2',
          usageType: 'USW2-Notebk:ml.p4d.24xlarge',
          contributionUsd: 1210.5,
        },
        {
          service: 'Amazon SageMaker',
          linkedAccount: '444455556666',
          linkedAccountName: 'ml-research',
          region: 'us-west-2',
          usageType: 'USW2-TrainingVolume-gp3',
          contributionUsd: 217.25,
        },
      ],
    });
  });

  it.each([
    ['not JSON', 'AWS Budget Notification: budget ml at 80%'],
    ['an empty string', ''],
    ['JSON null', 'null'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"anomalyId"'],
    ['an object that is no anomaly (a CloudWatch alarm)', json({ AlarmName: 'x', NewStateValue: 'ALARM' })],
  ])('returns undefined for %s', (_label, raw) => {
    expect(parseAnomaly(raw)).toBeUndefined();
  });

  it('reads numbers written as strings, and drops values of the wrong type instead of failing', () => {
    // Prepare: anyone allowed to publish to the topic writes the JSON.
    const raw = json({
      anomalyId: 42,
      accountId: { nested: true },
      anomalyStartDate: null,
      impact: { totalImpact: '250.5', totalImpactPercentage: 'a lot', maxImpact: Number.NaN, totalActualSpend: [] },
      rootCauses: [null, 'x', { service: ['EC2'], region: 'eu-west-1', impact: 'big' }, {}],
    });
    // Act
    const a = parseAnomaly(raw);
    // Assess
    expect(a).toEqual({ anomalyId: '42', totalImpactUsd: 250.5, rootCauses: [{ region: 'eu-west-1' }] });
  });

  it('takes a notification with an impact but no anomalyId (still an anomaly)', () => {
    expect(parseAnomaly(json({ impact: { totalImpact: 120 } }))).toEqual({ totalImpactUsd: 120, rootCauses: [] });
  });
});

describe('Function: anomalyConsoleUrl', () => {
  it('links the anomaly page built from the monitor and anomaly IDs, on the us-east-1 console', () => {
    expect(anomalyConsoleUrl(parseAnomaly(json(SAGEMAKER_ANOMALY))!)).toBe(
      `https://us-east-1.console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/${MONITOR_ID}/anomalies/${ANOMALY_ID}`,
    );
  });

  it.each([
    ['no IDs', {}],
    ['an anomaly ID with a link in it', { monitorArn: SAGEMAKER_ANOMALY.monitorArn, anomalyId: 'x|<https://evil>' }],
    ['a monitor ARN of another service', { monitorArn: 'arn:aws:sns:us-east-1:111122223333:t', anomalyId: ANOMALY_ID }],
    [
      'a monitor ID with a path',
      { monitorArn: 'arn:aws:ce::111122223333:anomalymonitor/a/../../evil', anomalyId: ANOMALY_ID },
    ],
  ])('falls back to the anomaly overview for %s', (_label, a) => {
    expect(anomalyConsoleUrl(a)).toBe(
      'https://us-east-1.console.aws.amazon.com/cost-management/home#/anomaly-detection/overview',
    );
  });
});

describe('Function: anomalyNotificationMessage', () => {
  it('says the impact, percent, spend, dates, account, each root cause and links the anomaly', () => {
    // Act
    const m = anomalyNotificationMessage(json(SAGEMAKER_ANOMALY));
    const text = messageToText(m);
    // Assess
    expect(m.text).toBe('💸 +$1,427.75 (346.1%) unusual spend on Amazon SageMaker');
    expect(text).toContain('*Total impact*: $1,427.75');
    expect(text).toContain('*Impact*: 346.1%');
    expect(text).toContain('*Actual vs expected*: $1,840.25 spent, $412.50 expected');
    expect(text).toContain('*Largest daily impact*: $612.40');
    expect(text).toContain('*Dates*: 2026-11-12 to 2026-11-14');
    expect(text).toContain('*Account*: 111122223333');
    expect(text).toContain(
      '1. *Amazon SageMaker*, account ml-research (444455556666), region us-west-2, usage type USW2-Notebk:ml.p4d.24xlarge: $1,210.50',
    );
    expect(text).toContain('2. *Amazon SageMaker*, account ml-research (444455556666), region us-west-2');
    expect(mrkdwnOf(m)).toContain(
      `<https://us-east-1.console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/${MONITOR_ID}/anomalies/${ANOMALY_ID}|Open the anomaly in the AWS console>`,
    );
  });

  it('shows a one-day anomaly as one date', () => {
    const m = anomalyNotificationMessage(
      json({ ...SAGEMAKER_ANOMALY, anomalyStartDate: '2026-11-14T00:00:00Z', anomalyEndDate: '2026-11-14' }),
    );
    expect(messageToText(m)).toContain('*Dates*: 2026-11-14 |');
  });

  it('never links the anomalyDetailsLink of the message (it could point anywhere)', () => {
    // Prepare
    const raw = json({ ...SAGEMAKER_ANOMALY, anomalyDetailsLink: 'https://evil.example/phish' });
    // Act
    const blocks = mrkdwnOf(anomalyNotificationMessage(raw));
    // Assess
    expect(blocks).not.toContain('evil.example');
  });

  it('escapes every untrusted field: no mention, no link, no formatting from the notification', () => {
    // Prepare
    const hostile = '<!channel> <https://evil.example|click> *bold* `code`';
    const raw = json({
      ...SAGEMAKER_ANOMALY,
      dimensionalValue: hostile,
      accountId: hostile,
      anomalyStartDate: hostile,
      monitorName: hostile,
      rootCauses: [
        { service: hostile, linkedAccount: hostile, linkedAccountName: hostile, region: hostile, usageType: hostile },
      ],
    });
    // Act
    const m = anomalyNotificationMessage(raw);
    const mrkdwn = [m.text, ...m.blocks.flatMap((b) => (b.type === 'header' ? [] : JSON.stringify(b)))].join('\n');
    // Assess
    expect(mrkdwn).not.toContain('<!channel>');
    expect(mrkdwn).not.toContain('<https://evil');
    expect(mrkdwn).not.toContain('*bold*');
    expect(mrkdwn).toContain('&lt;!channel&gt;');
    // The header is plain_text: shown as written, on one line.
    expect(m.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
  });

  it('lists at most MAX_ROOT_CAUSES_SHOWN root causes and counts the rest', () => {
    // Prepare
    const causes = Array.from({ length: 14 }, (_, i) => ({ service: `Service ${i}`, region: 'us-east-1' }));
    // Act
    const text = messageToText(anomalyNotificationMessage(json({ ...SAGEMAKER_ANOMALY, rootCauses: causes })));
    // Assess
    expect(text).toContain(`${MAX_ROOT_CAUSES_SHOWN}. *Service ${MAX_ROOT_CAUSES_SHOWN - 1}*`);
    expect(text).not.toContain(`Service ${MAX_ROOT_CAUSES_SHOWN}*`);
    expect(text).toContain('…and 4 more in the console.');
  });

  it('says unknown for the figures a sparse anomaly lacks, and that no root cause was given', () => {
    // Act
    const m = anomalyNotificationMessage(json({ anomalyId: ANOMALY_ID }));
    const text = messageToText(m);
    // Assess
    expect(m.text).toBe('💸 Unusual spend');
    expect(text).toContain('*Total impact*: unknown');
    expect(text).toContain('*Dates*: unknown');
    expect(text).toContain('Root causes:* none given');
  });

  it.each([
    ['plain text', 'Test message from the SNS console <!here>'],
    ['broken JSON', '{"anomalyId": "a", "impact": {'],
    ['an empty message', '   '],
  ])('posts %s as a plain message with the raw text escaped, never throwing', (_label, raw) => {
    // Act
    const m = anomalyNotificationMessage(raw);
    // Assess
    expect(m.text).toContain('not an anomaly');
    expect(mrkdwnOf(m)).not.toContain('<!here>');
    if (raw.trim()) expect(messageToText(m)).toContain(raw.trim());
    else expect(messageToText(m)).toContain('(empty message)');
  });
});
