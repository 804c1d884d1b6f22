import { rateMinutes, scheduleProblem } from '../../../lambda/core/schedule';

describe('Function: scheduleProblem', () => {
  it.each(['rate(1 hour)', 'rate(5 minutes)', 'rate(1 day)', 'rate(2 days)', 'cron(0 * * * ? *)', 'cron(0 9 1 * ? *)'])(
    'accepts %s',
    (expression) => {
      expect(scheduleProblem(expression)).toBeUndefined();
    },
  );

  it.each([
    ['rate(0 minutes)', 'at least 1'],
    ['rate(1 hours)', 'singular'],
    ['rate(2 hour)', 'plural'],
    ['rate(1 week)', "expected 'rate(N unit)'"],
    ['cron(0 * * * *)', '6 fields'],
    ['cron(0 * * * * *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(0 * ? * ? *)', 'exactly one of day-of-month and day-of-week'],
    ['cron(0 $ * * ? *)', "cron field '$'"],
    ['hourly', "expected 'rate(N unit)'"],
  ])('rejects %s', (expression, reason) => {
    expect(scheduleProblem(expression)).toContain(reason);
  });
});

describe('Function: rateMinutes', () => {
  it.each([
    ['rate(1 hour)', 60],
    ['rate(15 minutes)', 15],
    ['rate(2 days)', 2880],
    ['cron(0 * * * ? *)', undefined],
  ])('gives %s as %s minutes', (expression, expected) => {
    expect(rateMinutes(expression)).toBe(expected);
  });
});
