import { actionPeriod, periodOf, rateMinutes, scheduledTimeOf, scheduleProblem } from '../../../lambda/core/schedule';

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

describe('Function: periodOf', () => {
  const at = (iso: string) => new Date(iso);

  it.each([
    ['rate(1 hour)', '2026-03-04T10:59:59.999Z', '2026-03-04T10:00:00.000Z'],
    ['rate(1 hour)', '2026-03-04T11:00:00.000Z', '2026-03-04T11:00:00.000Z'],
    ['rate(15 minutes)', '2026-03-04T10:44:10.000Z', '2026-03-04T10:30:00.000Z'],
    ['rate(1 day)', '2026-03-04T23:10:00.000Z', '2026-03-04T00:00:00.000Z'],
    // 2-day periods count from the epoch (1970-01-01): 2026-03-04 is day 20516, an even day.
    ['rate(2 days)', '2026-03-05T12:00:00.000Z', '2026-03-04T00:00:00.000Z'],
    // Hour 492394 since the epoch (2026-03-04T10:00Z) is a multiple of 7: 7-hour periods start at 10:00 and 17:00.
    ['rate(7 hours)', '2026-03-04T16:59:00.000Z', '2026-03-04T10:00:00.000Z'],
    ['rate(7 hours)', '2026-03-04T17:00:00.000Z', '2026-03-04T17:00:00.000Z'],
  ])('%s at %s is the period starting %s', (schedule, now, start) => {
    expect(periodOf(schedule, at(now))).toBe(start);
  });

  it('gives one period to an event and its retries minutes later, and a new one to the next hour', () => {
    // Prepare
    const first = at('2026-03-04T10:02:00Z');
    const retries = [at('2026-03-04T10:03:05Z'), at('2026-03-04T10:05:30Z')];
    // Act
    const periods = new Set([first, ...retries].map((d) => periodOf('rate(1 hour)', d)));
    // Assess
    expect(periods.size).toBe(1);
    expect(periodOf('rate(1 hour)', at('2026-03-04T11:02:00Z'))).not.toBe([...periods][0]);
  });

  it.each([
    ['cron(0 9 * * ? *)', '2026-03-04T17:30:00Z', '2026-03-04T00:00:00.000Z'],
    ['cron(30 6 ? * MON *)', '2026-03-02T06:30:00Z', '2026-03-02T00:00:00.000Z'],
    ['cron(0 * * * ? *)', '2026-03-04T17:30:00Z', '2026-03-04T17:00:00.000Z'],
    ['cron(0 9,17 * * ? *)', '2026-03-04T17:30:00Z', '2026-03-04T17:00:00.000Z'],
    ['cron(0/15 * * * ? *)', '2026-03-04T17:50:00Z', '2026-03-04T17:00:00.000Z'],
  ])('%s at %s is the period starting %s', (schedule, now, start) => {
    expect(periodOf(schedule, at(now))).toBe(start);
  });
});

describe('Function: scheduledTimeOf / actionPeriod', () => {
  const now = new Date('2026-03-04T11:01:30Z');

  it("takes the scheduled time of a Scheduler event, so a retry after the hour still counts in the event's hour", () => {
    // Prepare
    const event = { source: 'ml-cost-guard.schedule', scheduledTime: '2026-03-04T10:59:00Z' };
    // Act / Assess
    expect(scheduledTimeOf(event, now)).toEqual(new Date('2026-03-04T10:59:00Z'));
    expect(actionPeriod('rate(1 hour)', event, now)).toBe('2026-03-04T10:00:00.000Z');
    expect(actionPeriod('rate(1 hour)', { source: 'ml-cost-guard.schedule' }, now)).toBe('2026-03-04T11:00:00.000Z');
  });

  it.each([
    ['no event', undefined],
    ['an SNS notification', { Records: [{ EventSource: 'aws:sns' }] }],
    ['a time that does not parse', { scheduledTime: '<aws.scheduler.scheduled-time>' }],
    ['a time in the future', { scheduledTime: '2026-03-04T11:05:00Z' }],
    ['a time more than a day old', { scheduledTime: '2026-03-03T11:00:00Z' }],
    ['a number', { scheduledTime: 1772622000000 }],
  ])('uses now for %s', (_, event) => {
    expect(scheduledTimeOf(event, now)).toEqual(now);
  });
});
