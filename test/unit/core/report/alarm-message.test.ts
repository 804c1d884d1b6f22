import { alarmMessage } from '../../../../lambda/core/report/alarm-message';
import { messageToText } from '../../../../lambda/core/slack-blocks';

describe('Function: alarmMessage', () => {
  it('formats a CloudWatch alarm notification', () => {
    const raw = JSON.stringify({
      AlarmName: 'MlCostGuard-ReaperErrors',
      AlarmDescription: 'ml-cost-guard reaper: a run failed',
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      NewStateReason: 'Threshold Crossed: 1 datapoint [1.0] was >= 1.0',
      StateChangeTime: '2026-11-15T12:00:00.000+0000',
      Region: 'US East (N. Virginia)',
      AWSAccountId: '111122223333',
    });
    const m = alarmMessage(raw);
    expect(m.text).toBe(':rotating_light: Alarm: MlCostGuard-ReaperErrors');
    const text = messageToText(m);
    expect(text).toContain('OK → ALARM');
    expect(text).toContain('Threshold Crossed');
  });

  it('calls a return to OK resolved', () => {
    expect(alarmMessage(JSON.stringify({ AlarmName: 'a', NewStateValue: 'OK' })).text).toContain('Resolved: a');
  });

  it('shows fields of the wrong type as text instead of failing', () => {
    // Prepare: anyone allowed to publish to the topic writes the JSON.
    const raw = JSON.stringify({ AlarmName: 42, AlarmDescription: { a: '<!channel>' }, NewStateReason: ['*x*'] });
    // Act
    const m = alarmMessage(raw);
    // Assess
    expect(m.text).toBe(':grey_question: Alarm: 42');
    expect(JSON.stringify(m.blocks)).toContain('&lt;!channel&gt;');
    expect(messageToText(m)).toContain('["*x*"]');
  });

  it('passes other text through', () => {
    expect(messageToText(alarmMessage('plain words'))).toContain('plain words');
  });
});
