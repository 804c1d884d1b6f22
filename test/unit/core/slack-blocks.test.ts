import fc from 'fast-check';
import {
  type ActionsBlock,
  escapeCode,
  escapeMrkdwn,
  fields,
  header,
  MAX_SECTION_TEXT,
  messageToText,
  section,
  splitGroups,
  splitIntoMessages,
  truncate,
  truncateMrkdwn,
} from '../../../lambda/core/slack-blocks';

describe('Function: splitIntoMessages', () => {
  it('returns one message when the body fits', () => {
    const messages = splitIntoMessages('digest', [header('h')], [section('a'), section('b')]);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.blocks).toHaveLength(3);
  });

  it('splits 120 body blocks into messages of at most 50 blocks, each opening with the head', () => {
    // Prepare
    const body = Array.from({ length: 120 }, (_, i) => section(`item ${i}`));
    // Act
    const messages = splitIntoMessages('digest', [header('Idle GPUs')], body);
    // Assess
    expect(messages).toHaveLength(3);
    for (const m of messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      expect(m.blocks[0]).toEqual(header('Idle GPUs'));
    }
    expect(messages.map((m) => m.text)).toEqual([
      'digest (part 1 of 3)',
      'digest (part 2 of 3)',
      'digest (part 3 of 3)',
    ]);
    const texts = messages.flatMap((m) => m.blocks.slice(1).map((b) => (b.type === 'section' ? b.text?.text : '')));
    expect(texts).toEqual(body.map((b) => b.text?.text));
  });

  it('refuses a head that leaves no room', () => {
    expect(() =>
      splitIntoMessages(
        'x',
        Array.from({ length: 50 }, () => header('h')),
        [section('a')],
      ),
    ).toThrow(RangeError);
  });
});

describe('Function: splitGroups', () => {
  const actions = (id: string): ActionsBlock => ({
    type: 'actions',
    block_id: `cost-guard.actions.${id}`,
    elements: [{ type: 'button', action_id: 'cost-guard.keep.4', text: { type: 'plain_text', text: 'Keep 4 h' } }],
  });

  it('never separates an instance from its buttons, and says which message each group landed in', () => {
    // Prepare: 30 instances of a section and an actions block, after a 2-block head: 24 fit a message
    const groups = Array.from({ length: 30 }, (_, i) => [section(`i-${i}`), actions(`i-${i}`)]);
    // Act
    const plan = splitGroups('digest', [header('h'), section('counts')], groups);
    // Assess
    expect(plan.messages).toHaveLength(2);
    for (const m of plan.messages) {
      expect(m.blocks.length).toBeLessThanOrEqual(50);
      m.blocks.forEach((b, i) => {
        if (b.type === 'actions') {
          const before = m.blocks[i - 1]!;
          expect(before.type === 'section' && before.text?.text).toBe(b.block_id!.replace('cost-guard.actions.', ''));
        }
      });
    }
    expect(plan.groupMessage).toEqual([...Array(24).fill(0), ...Array(6).fill(1)]);
    expect(plan.messages[1]!.text).toBe('digest (part 2 of 2)');
  });

  it('moves a group that does not fit whole to the next message instead of cutting it', () => {
    // Prepare: one head block leaves room for 49: 24 pairs use 48, one single block fits, the next pair does not
    const groups = [
      ...Array.from({ length: 24 }, (_, i) => [section(`p${i}`), actions(`p${i}`)]),
      [section('single')],
      [section('last'), actions('last')],
    ];
    // Act
    const plan = splitGroups('digest', [header('h')], groups);
    // Assess
    expect(plan.messages.map((m) => m.blocks.length)).toEqual([50, 3]);
    expect(plan.groupMessage.slice(-2)).toEqual([0, 1]);
  });
});

describe('Block builders', () => {
  it('truncates section text to 3,000 characters', () => {
    expect(section('x'.repeat(5000)).text!.text).toHaveLength(MAX_SECTION_TEXT);
  });

  it('keeps at most 10 fields', () => {
    const pairs = Array.from({ length: 12 }, (_, i) => [`k${i}`, `v${i}`] as const);
    expect(fields(pairs).fields).toHaveLength(10);
  });

  it('escapes mrkdwn control characters', () => {
    expect(escapeMrkdwn('<a & b>')).toBe('&lt;a &amp; b&gt;');
  });

  it('keeps a value from formatting the message: guards *, _, ~ and backticks, puts it on one line', () => {
    expect(escapeMrkdwn('*bold* `x`\nnext')).toBe('\u200B*\u200Bbold\u200B*\u200B \u200B`\u200Bx\u200B`\u200B next');
  });

  it('leaves a command in a code span copyable: only backticks are guarded', () => {
    expect(escapeCode("restore --budget 'my_budget' <x>")).toBe("restore --budget 'my_budget' &lt;x&gt;");
  });

  it('cuts between graphemes: never half a surrogate pair or half a ZWJ sequence', () => {
    // Prepare: 11 UTF-16 units per family; a cut at 2,999 units falls inside the 273rd.
    const family = '👩‍👩‍👧‍👦';
    // Act
    const cut = section(family.repeat(400)).text!.text;
    // Assess
    expect(cut).toBe(`${family.repeat(272)}…`);
    expect(truncate('😀'.repeat(10), 6)).toBe('😀😀…');
  });

  it('cuts exactly where segmenting the whole text would, for text mixing ASCII with emoji, flags, keycaps and marks', () => {
    // The oracle: whole graphemes of the whole text, as many as fit before the ellipsis, trailing joiners dropped.
    const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });
    const expected = (text: string, max: number) => {
      if (text.length <= max) return text;
      let kept = '';
      for (const { segment } of graphemes.segment(text)) {
        if (kept.length + segment.length > max - 1) break;
        kept += segment;
      }
      return `${kept.replace(/\u200D+$/, '')}…`;
    };
    const piece = fc.constantFrom(
      'a',
      'Z',
      ' ',
      '#',
      '1',
      '~',
      '😀',
      '👩‍👩‍👧',
      '🇫🇷',
      '1\uFE0F\u20E3',
      'e\u0301',
      '\u200D',
      '\r\n',
      'ก\u0E33',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 1, max: 60 }), (pieces, max) => {
        const text = pieces.join('');
        expect(truncate(text, max)).toBe(expected(text, max));
      }),
      { numRuns: 2000 },
    );
  });

  it('never leaves a zero-width joiner before the ellipsis, where Unicode lets one end a grapheme', () => {
    // A joiner after a non-emoji character (here U+10000) ends its grapheme; the cut then falls right after it.
    const joined = '\u{10000}\u200D'.repeat(10);
    expect(truncate(joined, 8)).toBe('\u{10000}\u200D\u{10000}…');
    expect(truncateMrkdwn(joined, 8)).toBe('\u{10000}\u200D\u{10000}…');
  });

  it('never leaves half an entity or half a guard at a cut', () => {
    expect(truncateMrkdwn(escapeMrkdwn('&&&'), 9)).toBe('&amp;…');
    expect(truncateMrkdwn(escapeMrkdwn('ab*c'), 5)).toBe('ab…');
  });

  it('keeps a header plain_text, on one line, and never empty', () => {
    expect(header('a\nb').text).toEqual({ type: 'plain_text', text: 'a b' });
    expect(section('').text!.text).toBe('(empty)');
  });

  it('renders a message as plain text for the console', () => {
    const text = messageToText({
      text: 't',
      blocks: [header('Budget'), section('*80%* used'), fields([['Spend', '$800']])],
    });
    expect(text).toBe('== Budget ==\n*80%* used\n*Spend*: $800');
  });

  it('shows escaped values as written on the console', () => {
    const text = messageToText({ text: 't', blocks: [section(`owner ${escapeMrkdwn('<!here> *a_b*')}`)] });
    expect(text).toBe('owner <!here> *a_b*');
  });
});
