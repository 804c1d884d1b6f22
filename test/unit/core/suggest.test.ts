import { closestName, didYouMean } from '../../../lambda/core/suggest';

describe('Function: closestName', () => {
  const keys = ['dryRun', 'regions', 'slack', 'tags', 'idleGpu', 'storage', 'budgets', 'pricing', 'observability'];
  const flags = ['config', 'dry-run', 'region', 'state-table', 'json', 'verbose', 'help'];

  it.each([
    ['idelGpu', keys, 'idleGpu'],
    ['dryrun', keys, 'dryRun'],
    ['budget', keys, 'budgets'],
    ['observabilty', keys, 'observability'],
    ['dryrun', flags, 'dry-run'],
    ['regoin', flags, 'region'],
    ['statetable', flags, 'state-table'],
    ['dry', flags, 'dry-run'],
  ])('suggests %s -> %s', (input, valid, expected) => {
    expect(closestName(input, valid)).toBe(expected);
  });

  it.each([
    ['foo', keys],
    ['x', flags],
    ['seed-prices', flags],
    ['anything', []],
  ])('suggests nothing for %s when no valid name is near', (input, valid) => {
    expect(closestName(input, valid)).toBeUndefined();
  });

  it('suggests nothing for a prefix that several names share', () => {
    expect(closestName('stat', ['state-table', 'statistics-export'])).toBeUndefined();
    expect(closestName('stat', ['state-table', 'budgets'])).toBe('state-table');
  });
});

describe('Function: didYouMean', () => {
  it('ends a message with the suggestion, quoted as asked, or with nothing', () => {
    expect(didYouMean('paln', ['plan', 'run'])).toBe('; did you mean plan?');
    expect(didYouMean('paln', ['plan', 'run'], (n) => `'${n}'`)).toBe("; did you mean 'plan'?");
    expect(didYouMean('zzzz', ['plan', 'run'])).toBe('');
  });
});
