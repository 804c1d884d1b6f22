import fc from 'fast-check';
import { isTagTrue, tagValue } from '../../../lambda/core/tags';

describe('Function: tagValue', () => {
  it.each<[string, Record<string, string>, string, string | undefined]>([
    ['the exact key', { 'cost-guard:opt-out': 'true' }, 'cost-guard:opt-out', 'true'],
    ['a key in another case', { 'Cost-Guard:Opt-Out': 'yes' }, 'cost-guard:opt-out', 'yes'],
    ['an empty value', { team: '' }, 'team', ''],
    ['a missing key', { team: 'ml' }, 'owner', undefined],
  ])('returns %s', (_, tags, key, expected) => {
    expect(tagValue(tags, key)).toBe(expected);
  });

  it('prefers the exact-case key when both spellings are present, in either order', () => {
    expect(tagValue({ Name: 'upper', name: 'lower' }, 'name')).toBe('lower');
    expect(tagValue({ name: 'lower', Name: 'upper' }, 'Name')).toBe('upper');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'does not read the inherited %s of an untagged instance',
    (key) => {
      expect(tagValue({}, key)).toBeUndefined();
      expect(tagValue({ team: 'ml' }, key.toUpperCase())).toBeUndefined();
    },
  );

  it.each(['__proto__', 'constructor', 'toString'])('reads a tag literally named %s', (key) => {
    // Object.fromEntries makes `__proto__` an own key, as the EC2 adapter does.
    const tags = Object.fromEntries([[key, 'true']]);
    expect(tagValue(tags, key)).toBe('true');
    expect(isTagTrue(tags, key)).toBe(true);
  });

  it('finds a key in any case among other tags', () => {
    const ascii = fc.string({ unit: 'grapheme-ascii' });
    fc.assert(
      fc.property(fc.dictionary(ascii, ascii), ascii, ascii, (others, key, value) => {
        const rest = Object.entries(others).filter(([k]) => k.toLowerCase() !== key.toLowerCase());
        const tags = Object.fromEntries([...rest, [key.toUpperCase(), value]]);
        return tagValue(tags, key) === value && tagValue(tags, key.toLowerCase()) === value;
      }),
    );
  });
});

describe('Function: isTagTrue', () => {
  it.each<[Record<string, string>, boolean]>([
    [{ 'cost-guard:opt-out': 'true' }, true],
    [{ 'cost-guard:opt-out': 'TRUE' }, true],
    [{ 'cost-guard:opt-out': 'True ' }, true],
    [{ 'cost-guard:opt-out': ' tRuE\t' }, true],
    [{ 'Cost-Guard:Opt-Out': 'true' }, true],
    [{ 'COST-GUARD:OPT-OUT': ' True ' }, true],
    [{ 'cost-guard:opt-out': 'false' }, false],
    [{ 'cost-guard:opt-out': 'yes' }, false],
    [{ 'cost-guard:opt-out': '1' }, false],
    [{ 'cost-guard:opt-out': '' }, false],
    [{ 'cost-guard:opt-out': 'true-ish' }, false],
    [{ 'cost-guard:opt-out-x': 'true' }, false],
    [{}, false],
  ])('says %j -> %s', (tags, expected) => {
    expect(isTagTrue(tags, 'cost-guard:opt-out')).toBe(expected);
  });

  it('reads the exact-case key when another spelling says otherwise', () => {
    expect(isTagTrue({ 'Cost-Guard:Opt-Out': 'true', 'cost-guard:opt-out': 'false' }, 'cost-guard:opt-out')).toBe(
      false,
    );
  });

  it('is never true for a key the instance does not carry, even one Object.prototype has', () => {
    for (const key of ['__proto__', 'constructor', 'toString']) expect(isTagTrue({}, key)).toBe(false);
  });
});
