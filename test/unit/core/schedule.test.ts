import {
  actionPeriod,
  maxRunGapMinutes,
  periodOf,
  rateMinutes,
  scheduledTimeOf,
  scheduleProblem,
} from '../../../lambda/core/schedule';

describe('Function: scheduleProblem', () => {
  it.each([
    'rate(1 hour)',
    'rate(5 minutes)',
    'rate(1 day)',
    'rate(2 days)',
    'cron(0 * * * ? *)',
    'cron(0 9 1 * ? *)',
    'cron(*/5 * * * ? *)',
    'cron(0,30 8-18/2 ? * MON-FRI *)',
    'cron(0 9 * jan-mar ? 2026-2030)',
    'cron(0 9 L * ? *)',
    'cron(0 9 15W * ? *)',
    'cron(0 9 ? * 6L *)',
    'cron(0 9 ? * L *)',
    'cron(0 9 ? * 2#3 *)',
    'cron(0 9 29 FEB ? *)',
    'cron(59 23 31 DEC ? 2199)',
  ])('accepts %s', (expression) => {
    expect(scheduleProblem(expression)).toBeUndefined();
  });

  it.each([
    ['rate(0 minutes)', "rate value '0' must be at least 1"],
    ['rate(1 hours)', 'use the singular for 1: rate(1 hour)'],
    ['rate(2 hour)', 'use the plural for 2: rate(2 hours)'],
    ['rate(1 week)', "rate unit 'week' must be minute(s), hour(s) or day(s)"],
    ['rate(1.5 hours)', "rate value '1.5' must be a whole number of at least 1"],
    ['rate(1 Hour)', "rate unit 'Hour'"],
    ['cron(0 * * * *)', '6 fields'],
    ['cron(0 * * * * *)', "exactly one of day-of-month ('*') and day-of-week ('*') must be ?"],
    ['cron(0 * ? * ? *)', 'exactly one of day-of-month'],
    ['cron(0 $ * * ? *)', "hours field '$' must be 0-23"],
    ['hourly', "expected 'rate(N unit)'"],
  ])('rejects %s', (expression, reason) => {
    expect(scheduleProblem(expression)).toContain(reason);
  });

  it.each([
    ['cron(0 25 * * ? *)', "hours field '25' must be 0-23"],
    ['cron(60 * * * ? *)', "minutes field '60' must be 0-59"],
    ['cron(0,60 * * * ? *)', "minutes field '0,60' must be 0-59"],
    ['cron(0 9 0 * ? *)', "day-of-month field '0' must be 1-31"],
    ['cron(0 9 32 * ? *)', "day-of-month field '32' must be 1-31"],
    ['cron(0 9 * 13 ? *)', "month field '13' must be 1-12 or JAN-DEC"],
    ['cron(0 9 * JANUARY ? *)', "month field 'JANUARY' must be 1-12 or JAN-DEC"],
    ['cron(0 9 ? * 8 *)', "day-of-week field '8' must be 1-7 or SUN-SAT"],
    ['cron(0 9 ? * 0 *)', "day-of-week field '0' must be 1-7 or SUN-SAT"],
    ['cron(0 9 * * ? 1969)', "year field '1969' must be 1970-2199"],
    ['cron(0 9 * * ? 2200)', "year field '2200' must be 1970-2199"],
    ['cron(abc 9 * * ? *)', "minutes field 'abc' must be 0-59"],
    ['cron(5x 9 * * ? *)', "minutes field '5x' must be 0-59"],
  ])('names the field and its range: %s', (expression, message) => {
    expect(scheduleProblem(expression)).toBe(message);
  });

  it.each([
    ['cron(0/0 * * * ? *)', "minutes field '0/0' has the increment '/0'; an increment must be 1-59"],
    ['cron(5-1 * * * ? *)', "minutes field '5-1' has the range '5-1', which runs backwards"],
    ['cron(0 ? * * * *)', "hours field '?' may not be '?'"],
    ['cron(0L 9 * * ? *)', "minutes field '0L' may not use 'L', 'W' or '#'"],
    ['cron(0 9 ? * 15W *)', "day-of-week field '15W' uses 'L', 'W' or '#' in a form EventBridge does not accept"],
    ['cron(0 9 6L * ? *)', "day-of-month field '6L' uses 'L', 'W' or '#'"],
    ['cron(0 9 1,L * ? *)', "day-of-month field '1,L' uses 'L', 'W' or '#'"],
    ['cron(0 9 ? * 2#6 *)', "day-of-week field '2#6' asks for weekday number 6 of the month; '#' takes 1-5"],
    ['cron(0 9 ? * 9#2 *)', "day-of-week field '9#2' must be 1-7 or SUN-SAT"],
    ['cron(0 9 32W * ? *)', "day-of-month field '32W' must be 1-31"],
    ['cron(0 9 30 FEB ? *)', "day-of-month '30' never occurs in month 'FEB', so the schedule never fires"],
    ['cron(0 9 31 4,6,9,11 ? *)', "day-of-month '31' never occurs in month '4,6,9,11'"],
  ])("applies EventBridge's rules for each field: %s", (expression, message) => {
    expect(scheduleProblem(expression)).toContain(message);
  });

  it('gives the full sentence the config error shows', () => {
    // Act
    const problem = scheduleProblem('cron(0 25 * * ? *)');
    // Assess
    expect(`invalid schedule 'cron(0 25 * * ? *)': ${problem}`).toBe(
      "invalid schedule 'cron(0 25 * * ? *)': hours field '25' must be 0-23",
    );
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

describe('Function: maxRunGapMinutes', () => {
  it.each([
    ['rate(1 hour)', 60],
    ['rate(15 minutes)', 15],
    ['rate(2 days)', 2880],
    ['cron(0 6 * * ? *)', 1440],
    ['cron(0/30 * ? * * *)', 1440],
    ['cron(0 8 ? * MON *)', undefined],
    ['cron(0 9 1 * ? *)', undefined],
    ['cron(0 9 ? 1 * *)', undefined],
    ['not a schedule', undefined],
  ])('gives %s as %s', (expression, minutes) => {
    expect(maxRunGapMinutes(expression)).toBe(minutes);
  });
});
