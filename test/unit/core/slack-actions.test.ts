import {
  type ActionValue,
  ActionValueError,
  actionButtons,
  actionKindOf,
  buttonLabel,
  decodeAction,
  decodeActionValue,
  encodeActionValue,
  keepLengthText,
  MAX_BUTTON_VALUE,
  reaperWarningButtons,
  replaceActionBlocks,
} from '../../../lambda/core/slack-actions';

const limits = { maxKeepHours: 168 };
const target = { instanceId: 'i-0123456789abcdef0', region: 'us-east-1' };

describe('Function: encodeActionValue / decodeActionValue', () => {
  it.each<ActionValue>([
    { kind: 'keep', ...target, hours: 4 },
    { kind: 'keep', ...target, hours: 168 },
    { kind: 'act-now', ...target, action: 'stop' },
    { kind: 'act-now', instanceId: 'i-0abc1234', region: 'us-gov-west-1', action: 'terminate' },
    { kind: 'restore', ...target, budget: 'ml-training: "team" <a>'.replace(':', '') },
    { kind: 'keep-running', ...target, budget: 'gpu', hours: 24 },
  ])('reads back what it wrote (%o)', (value) => {
    // Act
    const text = encodeActionValue(value, limits);
    // Assess
    expect(text.length).toBeLessThanOrEqual(MAX_BUTTON_VALUE);
    expect(text).not.toMatch(/[{,]\s|\n/);
    expect(decodeActionValue(text, limits)).toEqual(value);
  });

  it('writes the same text whatever order the fields were given in', () => {
    const a = encodeActionValue({ kind: 'keep', ...target, hours: 4 }, limits);
    const b = encodeActionValue({ hours: 4, region: 'us-east-1', instanceId: target.instanceId, kind: 'keep' }, limits);
    expect(a).toBe(b);
  });

  it.each([
    ['not JSON', 'keep:i-0123456789abcdef0'],
    ['an array', '[1]'],
    ['no version', JSON.stringify({ kind: 'keep', ...target, hours: 4 })],
    ['another version', JSON.stringify({ v: 2, kind: 'keep', ...target, hours: 4 })],
    ['an unknown kind', JSON.stringify({ v: 1, kind: 'delete', ...target })],
    ['an unknown field', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: 4, by: 'U1' })],
    ['a field of another kind', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: 4, budget: 'b' })],
    ['a bad instance id', JSON.stringify({ v: 1, kind: 'keep', instanceId: 'i-XYZ', region: 'us-east-1', hours: 4 })],
    ['an instance id with more', JSON.stringify({ v: 1, kind: 'keep', ...target, instanceId: 'i-0123456789abcdef0 ' })],
    ['a bad region', JSON.stringify({ v: 1, kind: 'keep', ...target, region: 'us-east-1a', hours: 4 })],
    ['zero hours', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: 0 })],
    ['hours over the cap', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: 169 })],
    ['fractional hours', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: 1.5 })],
    ['hours as text', JSON.stringify({ v: 1, kind: 'keep', ...target, hours: '4' })],
    ['an act-now of another action', JSON.stringify({ v: 1, kind: 'act-now', ...target, action: 'reboot' })],
    ['a budget name with a colon', JSON.stringify({ v: 1, kind: 'restore', ...target, budget: 'a:b' })],
    ['an empty budget name', JSON.stringify({ v: 1, kind: 'restore', ...target, budget: '' })],
    ['a long value', `{"v":1,"kind":"keep","pad":"${'x'.repeat(2000)}"}`],
  ])('refuses %s with an ActionValueError', (_what, text) => {
    expect(() => decodeActionValue(text, limits)).toThrow(ActionValueError);
  });

  it('checks hours against the cap it is given', () => {
    const text = encodeActionValue({ kind: 'keep', ...target, hours: 24 }, limits);
    expect(() => decodeActionValue(text, { maxKeepHours: 12 })).toThrow(/1 to 12/);
  });

  it('refuses to write a value it would refuse to read', () => {
    expect(() => encodeActionValue({ kind: 'keep', ...target, hours: 500 }, limits)).toThrow(ActionValueError);
  });
});

describe('Function: decodeAction', () => {
  it('reads a button whose action_id matches its value', () => {
    const [block] = actionButtons(target, [{ kind: 'keep', hours: 24 }], limits);
    const b = block!.elements[0] as { action_id: string; value: string };
    expect(decodeAction(b.action_id, b.value, limits)).toEqual({ kind: 'keep', ...target, hours: 24 });
  });

  it('refuses a value under the action_id of another kind or length', () => {
    const keep = encodeActionValue({ kind: 'keep', ...target, hours: 4 }, limits);
    expect(() => decodeAction('cost-guard.act-now', keep, limits)).toThrow(/does not match/);
    expect(() => decodeAction('cost-guard.keep.24', keep, limits)).toThrow(/does not match/);
    expect(() => decodeAction('other.app', keep, limits)).toThrow(/unknown action_id/);
  });

  it.each([
    ['cost-guard.keep.4', 'keep'],
    ['cost-guard.act-now', 'act-now'],
    ['cost-guard.restore', 'restore'],
    ['cost-guard.keep-running', 'keep-running'],
    ['cost-guard.keep', undefined],
    ['cost-guard.keep.x', undefined],
    ['constructor', undefined],
  ])('names the kind of action_id %s', (id, kind) => {
    expect(actionKindOf(id)).toBe(kind);
  });
});

describe('Function: reaperWarningButtons', () => {
  it('offers each configured keep within the cap and then the configured action', () => {
    // Act
    const blocks = reaperWarningButtons(target, {
      action: 'terminate',
      keepHours: [4, 24, 168, 336],
      maxKeepHours: 168,
    });
    // Assess
    expect(blocks).toHaveLength(1);
    const labels = blocks[0]!.elements.map((e) => (e as { text: { text: string } }).text.text);
    expect(labels).toEqual(['Keep 4 h', 'Keep 1 day', 'Keep 1 week', 'Terminate now']);
    const ids = blocks[0]!.elements.map((e) => (e as { action_id: string }).action_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(blocks[0]!.block_id).toBe('cost-guard.actions.i-0123456789abcdef0');
    expect((blocks[0]!.elements[3] as { confirm?: unknown }).confirm).toBeDefined();
  });

  it('offers keeps only when the reaper only notifies', () => {
    const blocks = reaperWarningButtons(target, { action: 'notify', keepHours: [4], maxKeepHours: 168 });
    expect(blocks[0]!.elements.map((e) => (e as { action_id: string }).action_id)).toEqual(['cost-guard.keep.4']);
  });
});

describe('Function: actionButtons', () => {
  it('puts at most 25 buttons in a block, with a block id of its own each', () => {
    const specs = Array.from({ length: 30 }, (_, i) => ({ kind: 'keep' as const, hours: i + 1 }));
    const blocks = actionButtons(target, specs, limits);
    expect(blocks.map((b) => b.elements.length)).toEqual([25, 5]);
    expect(new Set(blocks.map((b) => b.block_id)).size).toBe(2);
  });

  it('labels the budget buttons', () => {
    expect(buttonLabel({ kind: 'restore', budget: 'b' })).toBe('Restore');
    expect(buttonLabel({ kind: 'keep-running', budget: 'b', hours: 24 })).toBe('Keep this one running');
    expect(buttonLabel({ kind: 'act-now', action: 'stop' })).toBe('Stop now');
  });

  it.each([
    [1, '1 h'],
    [4, '4 h'],
    [24, '1 day'],
    [48, '2 days'],
    [36, '36 h'],
    [168, '1 week'],
    [336, '2 weeks'],
  ])('says %i hours as %s', (hours, text) => {
    expect(keepLengthText(hours)).toBe(text);
  });
});

describe('Function: replaceActionBlocks', () => {
  it("replaces only that instance's buttons with the line", () => {
    // Prepare
    const other = { instanceId: 'i-0fedcba9876543210', region: 'us-east-1' };
    const blocks = [
      { type: 'section', block_id: 's' },
      ...actionButtons(target, [{ kind: 'keep', hours: 4 }], limits),
      ...actionButtons(other, [{ kind: 'keep', hours: 4 }], limits),
    ];
    const line = { type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: 'kept' }] };
    // Act
    const out = replaceActionBlocks(blocks, target.instanceId, line);
    // Assess
    expect(out?.map((b) => b.type)).toEqual(['section', 'context', 'actions']);
    expect(replaceActionBlocks(out ?? [], target.instanceId, line)).toBeUndefined();
  });
});
