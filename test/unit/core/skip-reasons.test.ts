import { skipSummary } from '../../../lambda/core/budgets/report';
import { isSkipReason, SKIP_REASON_TEXT, skipReasonText } from '../../../lambda/core/skip-reasons';

describe('Function: skipReasonText', () => {
  it.each([
    ['opt-out', 'opted out'],
    ['unknown-type', 'instance type not described by EC2 (treated as not GPU)'],
    ['essential', 'tagged essential'],
  ])('says %s in words', (code, text) => {
    expect(skipReasonText(code)).toBe(text);
  });

  it.each(['too-few-gpu-datapoints', 'max-actions-per-run', 'opted-out', 'type-unknown', 'constructor', '__proto__'])(
    'shows %s, which is not a skip reason, as it is',
    (code) => {
      expect(isSkipReason(code)).toBe(false);
      expect(skipReasonText(code)).toBe(code);
    },
  );

  it('has words for every reason, and no two reasons share them', () => {
    const texts = Object.values(SKIP_REASON_TEXT);
    expect(texts.every((t) => t.trim().length > 0)).toBe(true);
    expect(new Set(texts).size).toBe(texts.length);
  });
});

describe('Function: skipSummary (budget guard)', () => {
  it('counts the protected and non-GPU instances in the shared words, leaving out what is not news', () => {
    expect(
      skipSummary({ essential: 2, 'opt-out': 1, 'not-gpu': 3, 'unknown-type': 1, 'out-of-scope': 7, 'not-running': 4 }),
    ).toBe(
      '2 tagged essential, 1 opted out, 3 not a GPU instance, 1 instance type not described by EC2 (treated as not GPU)',
    );
  });

  it('says nothing when nothing worth saying was skipped', () => {
    expect(skipSummary({})).toBe('');
    expect(skipSummary({ 'out-of-scope': 2, essential: 0 })).toBe('');
  });
});
