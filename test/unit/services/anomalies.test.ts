import { SlackNotifier } from '../../../lambda/adapters/slack';
import { ENV } from '../../../lambda/core/names';
import { type Block, messageToText } from '../../../lambda/core/slack-blocks';
import { handler } from '../../../lambda/handlers/anomaly-to-slack';
import { forwardAnomalies } from '../../../lambda/services/anomalies';
import { SAGEMAKER_ANOMALY, snsEvent } from '../../fixtures/anomaly-notifications';
import { testContext } from '../../helpers/context';
import { lambdaContext } from '../../helpers/lambda-context';
import { type SlackTestServer, startSlackServer } from '../../helpers/slack-server';

let server: SlackTestServer;
beforeEach(async () => {
  server = await startSlackServer();
});
afterEach(() => server.close());

const slack = () => new SlackNotifier({ token: 'xoxb-test', channel: '#finops', apiUrl: server.url, retries: 0 });
const posted = () => server.posts().map((p) => messageToText({ text: p.text, blocks: p.blocks as Block[] }));

describe('Function: forwardAnomalies', () => {
  it('posts one Slack message per anomaly of the SNS event, with its impact and root causes', async () => {
    // Prepare
    const second = {
      ...SAGEMAKER_ANOMALY,
      anomalyId: 'b2',
      dimensionalValue: 'Amazon EC2',
      impact: { totalImpact: 150 },
    };
    const event = snsEvent(JSON.stringify(SAGEMAKER_ANOMALY), JSON.stringify(second));
    // Act
    const summary = await forwardAnomalies(testContext({ notifier: slack() }), event);
    // Assess
    expect(summary).toMatchObject({ capability: 'anomalies', posted: 2, unrecognized: 0, actions: [] });
    expect(server.posts().map((p) => p.text)).toEqual([
      '💸 +$1,427.75 (346.1%) unusual spend on Amazon SageMaker',
      '💸 +$150.00 unusual spend on Amazon EC2',
    ]);
    expect(posted()[0]).toContain('usage type USW2-Notebk:ml.p4d.24xlarge: $1,210.50');
  });

  it('posts a message that is not an anomaly as escaped text and counts it, without failing', async () => {
    // Prepare: e.g. the SNS console's "Publish message" test.
    const event = snsEvent('hello <!channel>', JSON.stringify(SAGEMAKER_ANOMALY));
    // Act
    const summary = await forwardAnomalies(testContext({ notifier: slack() }), event);
    // Assess
    expect(summary).toMatchObject({ posted: 2, unrecognized: 1 });
    expect(JSON.stringify(server.posts()[0]!.blocks)).toContain('hello &lt;!channel&gt;');
    expect(summary.notes[0]).toBe('2 anomaly notification(s) posted, 1 not recognized');
  });

  it('fails when Slack refuses, so Lambda retries the delivery', async () => {
    // Prepare
    server.script.push({ kind: 'slack-error', error: 'channel_not_found' });
    // Act + Assess
    await expect(
      forwardAnomalies(testContext({ notifier: slack() }), snsEvent(JSON.stringify(SAGEMAKER_ANOMALY))),
    ).rejects.toMatchObject({ code: 'channel_not_found' });
  });

  it('takes an event without records (posts nothing)', async () => {
    const summary = await forwardAnomalies(testContext({ notifier: slack() }), { Records: [] });
    expect(summary.posted).toBe(0);
    expect(server.posts()).toHaveLength(0);
  });
});

describe('Handler: anomaly to Slack', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('runs the forwarder from the Lambda environment (no Slack token: the message goes to the log)', async () => {
    // Prepare
    process.env[ENV.config] = JSON.stringify({ slack: { channel: '#finops' } });
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    let result: unknown;
    try {
      // Act
      result = await handler(snsEvent(JSON.stringify(SAGEMAKER_ANOMALY)), lambdaContext());
    } finally {
      write.mockRestore();
    }
    // Assess
    expect(result).toMatchObject({ capability: 'anomalies', posted: 1, unrecognized: 0 });
    expect(lines.join('')).toContain('unusual spend on Amazon SageMaker');
  });
});
