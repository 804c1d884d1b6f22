import { budgetAlertMessages, budgetConsoleUrl, budgetProblemMessage } from '../../../../lambda/core/budgets/messages';
import { evaluateBudget } from '../../../../lambda/core/budgets/policy';
import { MAX_BLOCKS_PER_MESSAGE, messageToText } from '../../../../lambda/core/slack-blocks';

const NOW = new Date('2026-11-15T12:00:00Z');
const evaluation = (actual: number) =>
  evaluateBudget(
    'ml platform',
    {
      name: 'ml platform',
      timeUnit: 'MONTHLY',
      limit: { amount: 1000, unit: 'USD' },
      actual: { amount: actual, unit: 'USD' },
      forecast: { amount: 1250, unit: 'USD' },
    },
    { alertPercent: 80, actionPercent: 95 },
    NOW,
  );

describe('Function: budgetAlertMessages', () => {
  it('shows budget, spend, limit, percent, forecast, days left and the console link', () => {
    // Prepare
    const e = evaluation(850);
    // Act
    const [message] = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed,
      mode: 'stop',
      essentialTag: 'cost-guard:essential',
    });
    const text = messageToText(message!);
    // Assess
    expect(message!.text).toBe('Budget ml platform at 85.0% (alert threshold 80%)');
    for (const part of ['ml platform', '$850.00', '$1,000.00', '85.0%', '$1,250.00 (125.0%)', '16 (period 2026-11)']) {
      expect(text).toContain(part);
    }
    expect(text).toContain('https://us-east-1.console.aws.amazon.com/billing/home#/budgets/details?name=ml%20platform');
  });

  it('lists stopped instances with $/h and warns about instance-store data at the action threshold', () => {
    // Prepare
    const e = evaluation(960);
    // Act
    const text = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed.filter((t) => t.kind === 'action'),
      mode: 'stop',
      stops: [
        { instanceId: 'i-1', region: 'us-east-1', instanceType: 'g5.xlarge', hourlyUsd: 1.006, status: 'done' },
        {
          instanceId: 'i-2',
          region: 'us-east-1',
          instanceType: 'g4dn.xlarge',
          hourlyUsd: 0.158,
          status: 'failed',
          errorCode: 'UnsupportedOperation',
          note: 'a one-time Spot instance cannot be stopped',
        },
      ],
      instanceStore: { known: true, types: ['g5.xlarge'] },
      skipped: { essential: 2 },
      essentialTag: 'cost-guard:essential',
    })
      .map(messageToText)
      .join('\n');
    // Assess
    expect(text).toContain('stopped 1 non-essential instance(s), saving $1.01/h; 1 could not be stopped');
    expect(text).toContain('`i-1` g5.xlarge (us-east-1): stopped, saves $1.01/h');
    expect(text).toContain('UnsupportedOperation: a one-time Spot instance cannot be stopped');
    expect(text).toContain('Instance-store (local NVMe) data is lost on stop: g5.xlarge has instance store');
    expect(text).toContain('2 tagged essential');
    expect(text).toContain("npx cost-guard restore --budget 'ml platform'");
  });

  it('says what would happen, and warns generally, in dry-run without instance-type facts', () => {
    const e = evaluation(960);
    const messages = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed,
      mode: 'dry-run',
      stops: [
        { instanceId: 'i-1', region: 'us-east-1', instanceType: 'g5.xlarge', hourlyUsd: 1.006, status: 'dry-run' },
      ],
      instanceStore: { known: false, types: [] },
      essentialTag: 'cost-guard:essential',
    });
    const text = messages.map(messageToText).join('\n');
    expect(messages[0]!.text).toMatch(/^\[dry run\] /);
    expect(text).toContain('*Dry run:* nothing was changed. With `stop-non-essential` it would stop 1 instance(s)');
    expect(text).toContain('Any instance-store (local NVMe) data is lost on stop');
  });

  it('splits a long list of instances into messages within Slack limits', () => {
    const e = evaluation(960);
    const stops = Array.from({ length: 3000 }, (_, i) => ({
      instanceId: `i-${String(i).padStart(17, '0')}`,
      region: 'us-east-1',
      instanceType: 'g5.xlarge',
      hourlyUsd: 1.006,
      status: 'done' as const,
    }));
    const messages = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed,
      mode: 'stop',
      stops,
      essentialTag: 'cost-guard:essential',
    });
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
    expect(messages.map(messageToText).join('\n')).toContain(stops[2999]!.instanceId);
  });
});

describe('Function: budgetAlertMessages (restore command)', () => {
  it.each([
    ['ml-platform', 'npx cost-guard restore --budget ml-platform'],
    ["team's budget", "npx cost-guard restore --budget 'team'\\''s budget'"],
  ])('quotes the budget name %s for the shell', (name, command) => {
    // Prepare
    const e = { ...evaluation(960), name };
    // Act
    const messages = budgetAlertMessages({ evaluation: e, thresholds: e.crossed, mode: 'stop', essentialTag: 'k' });
    // Assess
    expect(messages.map(messageToText).join('\n')).toContain(command);
  });
});

describe('Function: budgetProblemMessage', () => {
  it('names the budget and the problem', () => {
    const m = budgetProblemMessage('team-a', { kind: 'currency', message: "budget 'team-a' is in 'EUR', not USD" });
    expect(messageToText(m)).toContain("is in 'EUR', not USD");
    expect(messageToText(m)).toContain(budgetConsoleUrl('team-a'));
  });
});
