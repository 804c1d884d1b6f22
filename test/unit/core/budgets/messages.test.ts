import {
  budgetAlertMessages,
  budgetConsoleUrl,
  budgetLimitMismatchMessage,
  budgetProblemMessage,
  budgetStopContinuationMessages,
  budgetStopResultMessages,
} from '../../../../lambda/core/budgets/messages';
import { evaluateBudget } from '../../../../lambda/core/budgets/policy';
import {
  type Block,
  MAX_BLOCKS_PER_MESSAGE,
  messageToText,
  type SlackMessage,
} from '../../../../lambda/core/slack-blocks';

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

const HOSTILE = '<!channel> <https://evil.example|click> *bold* `code`';
/** Every mrkdwn text of a message (its `text` and every mrkdwn object), where Slack would parse markup. */
function mrkdwnTexts(m: SlackMessage): string[] {
  const out = [m.text];
  for (const b of m.blocks as Block[]) {
    if (b.type === 'section') {
      if (b.text?.type === 'mrkdwn') out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    } else if (b.type === 'context') out.push(...b.elements.filter((e) => e.type === 'mrkdwn').map((e) => e.text));
  }
  return out;
}

describe('Function: budgetAlertMessages before stopping', () => {
  const stopping = (i: number) => ({
    instanceId: `i-${i}`,
    region: 'us-east-1',
    instanceType: 'g5.xlarge',
    hourlyUsd: 1,
    status: 'stopping' as const,
  });

  it('says what it is stopping now and how many are left for the next run', () => {
    // Prepare
    const e = evaluation(960);
    // Act
    const text = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed,
      mode: 'stop',
      stops: [stopping(1), stopping(2)],
      deferred: 4998,
      essentialTag: 'cost-guard:essential',
    })
      .map(messageToText)
      .join('\n');
    // Assess
    expect(text).toContain(
      '*Action:* stopping 2 non-essential instance(s) now, saving $2.00/h. 4998 more to stop next run.',
    );
    expect(text).toContain('`i-1` g5.xlarge (us-east-1): stopping now, saves $1.00/h');
  });

  it('says how many more would be stopped in later runs in notify mode', () => {
    const e = evaluation(960);
    const text = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed,
      mode: 'notify',
      stops: [{ ...stopping(1), status: 'would-stop' }],
      deferred: 7,
      essentialTag: 'cost-guard:essential',
    })
      .map(messageToText)
      .join('\n');
    expect(text).toContain('it would stop 1 instance(s), saving $1.00/h. 7 more would be stopped in later runs');
  });
});

describe('Function: budgetStopContinuationMessages', () => {
  it('says the threshold was announced, how many were stopped since, what stops now and what is left', () => {
    // Prepare
    const e = evaluation(960);
    // Act
    const messages = budgetStopContinuationMessages({
      evaluation: e,
      stops: [
        { instanceId: 'i-9', region: 'eu-west-1', instanceType: 'p4d.24xlarge', hourlyUsd: 21.96, status: 'stopping' },
      ],
      stoppedBefore: 50,
      deferred: 3,
      essentialTag: 'cost-guard:essential',
    });
    const text = messages.map(messageToText).join('\n');
    // Assess
    expect(messages[0]!.text).toBe('Budget ml platform still at 96.0%: stopping 1 more instance(s)');
    expect(text).toContain('50 instance(s) were stopped since');
    expect(text).toContain('stopping 1 non-essential instance(s) now, saving $21.96/h. 3 more to stop next run.');
    expect(text).toContain('`i-9` p4d.24xlarge (eu-west-1): stopping now');
  });
});

describe('Function: budgetStopResultMessages', () => {
  it('lists the stops that failed and the ones left because time ran short', () => {
    // Act
    const text = budgetStopResultMessages({
      name: 'ml platform',
      stops: [
        { instanceId: 'i-1', region: 'us-east-1', instanceType: 'g5.xlarge', status: 'done' },
        {
          instanceId: 'i-2',
          region: 'us-east-1',
          instanceType: 'g5.xlarge',
          status: 'failed',
          errorCode: 'IncorrectInstanceState',
        },
      ],
      cutShort: 3,
    })
      .map(messageToText)
      .join('\n');
    // Assess
    expect(text).toContain('Budget ml platform: 1 of 5 announced instance(s) stopped');
    expect(text).toContain('`i-2` g5.xlarge (us-east-1): *not stopped* (IncorrectInstanceState)');
    expect(text).toContain('3 left for the next run');
    expect(text).not.toContain('`i-1`');
  });
});

describe('Function: budgetLimitMismatchMessage', () => {
  it('names both limits and says nothing is stopped until they agree', () => {
    // Act
    const m = budgetLimitMismatchMessage(
      'ml-platform',
      { reason: 'amount', configuredUsd: 1000, live: { amount: 1500, unit: 'USD' } },
      '2026-11',
    );
    const text = messageToText(m);
    // Assess
    expect(text).toContain('*Configured (limitUsd)*: $1,000.00');
    expect(text).toContain('*Live (AWS Budgets)*: $1,500.00');
    expect(text).toContain('stops nothing for this budget');
    expect(text).toContain(budgetConsoleUrl('ml-platform'));
  });

  it('shows a unit other than USD and a missing limit as they are', () => {
    const eur = messageToText(
      budgetLimitMismatchMessage('b', { reason: 'unit', configuredUsd: 1000, live: { amount: 1000, unit: 'EUR' } }),
    );
    expect(eur).toContain('*Live (AWS Budgets)*: 1000 EUR');
    expect(eur).toContain('not in USD');
    const none = messageToText(budgetLimitMismatchMessage('b', { reason: 'no-limit', configuredUsd: 1000 }));
    expect(none).toContain('none (the budget has no BudgetLimit)');
  });

  it('escapes the budget name and the live unit wherever Slack parses markup', () => {
    // Act
    const m = budgetLimitMismatchMessage(HOSTILE, {
      reason: 'unit',
      configuredUsd: 1,
      live: { amount: 1, unit: HOSTILE },
    });
    // Assess
    for (const t of mrkdwnTexts(m)) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<https://evil.example|click>');
      expect(t).not.toMatch(/(^|[^\u200B])\*bold\*/);
    }
    expect(messageToText(m)).toContain(HOSTILE);
  });
});

describe('Function: budgetAlertMessages (names)', () => {
  it('shows the Name tag next to each instance ID, escaped', () => {
    // Prepare
    const e = evaluation(960);
    // Act
    const [message] = budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed.filter((t) => t.kind === 'action'),
      mode: 'stop',
      stops: [
        {
          instanceId: 'i-1',
          name: 'train <@U123> *big*',
          region: 'us-east-1',
          instanceType: 'g5.xlarge',
          hourlyUsd: 1.006,
          status: 'stopping',
        },
      ],
      essentialTag: 'cost-guard:essential',
    });
    const json = JSON.stringify(message!.blocks);
    // Assess: the name is there, and cannot mention anyone or bold anything
    expect(json).toContain('train &lt;@U123&gt;');
    expect(json).not.toContain('<@U123>');
    expect(messageToText(message!)).toMatch(/train .*`i-1` g5\.xlarge \(us-east-1\): stopping now/);
  });
});

describe('Buttons on budget action messages', () => {
  const BUTTONS = { maxKeepHours: 168, keepRunningHours: 120 };
  const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
  const stop = (n: number, status: 'stopping' | 'done' | 'failed' | 'dry-run') => ({
    instanceId: id(n),
    region: 'us-east-1',
    instanceType: 'g5.xlarge',
    hourlyUsd: 1.006,
    status,
    ...(status === 'failed' ? { errorCode: 'UnsupportedOperation' } : {}),
  });
  const alert = (over: Partial<Parameters<typeof budgetAlertMessages>[0]> = {}) => {
    const e = evaluation(960);
    return budgetAlertMessages({
      evaluation: e,
      thresholds: e.crossed.filter((t) => t.kind === 'action'),
      mode: 'stop',
      essentialTag: 'cost-guard:essential',
      buttons: BUTTONS,
      ...over,
    });
  };
  type Actions = Extract<Block, { type: 'actions' }>;
  const actionsOf = (messages: readonly SlackMessage[]) =>
    messages.flatMap((m) => m.blocks.filter((b): b is Actions => b.type === 'actions'));
  const values = (a: Actions) =>
    a.elements.map((e) => ('value' in e ? JSON.parse(e.value as string) : undefined) as Record<string, unknown>);

  it('puts "Restore" under each instance stopped for the budget, naming the budget, and none under a failed stop', () => {
    // Act
    const messages = alert({ stops: [stop(1, 'stopping'), stop(2, 'failed'), stop(3, 'done')] });
    // Assess
    const actions = actionsOf(messages);
    expect(actions.map((a) => a.block_id)).toEqual([`cost-guard.actions.${id(1)}`, `cost-guard.actions.${id(3)}`]);
    expect(values(actions[0]!)).toEqual([
      { v: 1, kind: 'restore', instanceId: id(1), region: 'us-east-1', budget: 'ml platform' },
    ]);
    // Each button sits right under its instance's line.
    for (const m of messages)
      m.blocks.forEach((b, i) => {
        if (b.type !== 'actions') return;
        const line = m.blocks[i - 1]!;
        expect(line.type === 'section' && line.text?.text).toContain(b.block_id!.replace('cost-guard.actions.', ''));
      });
  });

  it('lists the instances next to stop, each with "Keep this one running" for the configured hours', () => {
    // Act
    const next = [stop(7, 'dry-run'), stop(8, 'dry-run')];
    const messages = alert({ stops: [stop(1, 'stopping')], deferred: 12, next });
    // Assess
    const text = messages.map(messageToText).join('\n');
    expect(text).toContain('*Next to stop* (a later run, unless kept): the first 2 of 12.');
    expect(text).toContain(`\`${id(7)}\` g5.xlarge (us-east-1): next to stop, saves $1.01/h`);
    const keeps = actionsOf(messages).filter((a) => values(a)[0]!.kind === 'keep-running');
    expect(keeps.map((a) => values(a)[0])).toEqual(
      next.map((s) => ({
        v: 1,
        kind: 'keep-running',
        instanceId: s.instanceId,
        region: 'us-east-1',
        budget: 'ml platform',
        hours: 120,
      })),
    );
    expect(keeps[0]!.elements[0]).toMatchObject({ text: { type: 'plain_text', text: 'Keep this one running' } });
  });

  it('has no buttons and no "next" list in a dry run, with action notify, or without interactivity', () => {
    // Act
    const dry = alert({ mode: 'dry-run', stops: [stop(1, 'dry-run')], next: [stop(2, 'dry-run')] });
    const notify = alert({ mode: 'notify', stops: [stop(1, 'dry-run')], next: [stop(2, 'dry-run')] });
    const off = budgetAlertMessages({
      evaluation: evaluation(960),
      thresholds: evaluation(960).crossed.filter((t) => t.kind === 'action'),
      mode: 'stop',
      essentialTag: 'cost-guard:essential',
      stops: [stop(1, 'stopping')],
      next: [stop(2, 'dry-run')],
    });
    // Assess
    for (const messages of [dry, notify, off]) {
      expect(actionsOf(messages)).toEqual([]);
      expect(messages.map(messageToText).join('\n')).not.toContain('Next to stop');
    }
  });

  it('leaves the button out for a budget name the endpoint would refuse, and keeps the line', () => {
    // Prepare: AWS Budgets allows no ':' in a name, so the endpoint refuses one
    const e = evaluateBudget(
      'a:b',
      {
        name: 'a:b',
        timeUnit: 'MONTHLY',
        limit: { amount: 1000, unit: 'USD' },
        actual: { amount: 960, unit: 'USD' },
      },
      { alertPercent: 80, actionPercent: 95 },
      NOW,
    );
    // Act
    const messages = alert({ evaluation: e, thresholds: e.crossed, stops: [stop(1, 'stopping')] });
    // Assess
    expect(actionsOf(messages)).toEqual([]);
    expect(messages.map(messageToText).join('\n')).toContain(`\`${id(1)}\` g5.xlarge (us-east-1): stopping now`);
  });

  it('fits 50 stops with buttons in messages of at most 50 blocks, 25 buttons at most a block', () => {
    // Act
    const messages = alert({ stops: Array.from({ length: 50 }, (_, n) => stop(n, 'stopping')) });
    // Assess
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS_PER_MESSAGE);
    const actions = actionsOf(messages);
    expect(actions).toHaveLength(50);
    for (const a of actions) expect(a.elements.length).toBeLessThanOrEqual(25);
  });

  it('puts the same buttons on the continuation of a later run', () => {
    // Act
    const messages = budgetStopContinuationMessages({
      evaluation: evaluation(960),
      stops: [stop(1, 'stopping')],
      stoppedBefore: 50,
      deferred: 3,
      essentialTag: 'cost-guard:essential',
      buttons: BUTTONS,
      next: [stop(2, 'dry-run')],
    });
    // Assess
    expect(actionsOf(messages).map((a) => values(a)[0]!.kind)).toEqual(['restore', 'keep-running']);
  });
});
