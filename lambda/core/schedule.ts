/**
 * Validation of EventBridge Scheduler expressions (`rate(...)` and `cron(...)`), so a bad schedule fails
 * `cdk synth` with a message instead of failing the CloudFormation deployment.
 */

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,\-/#L]+$/;

/** Returns a reason the expression is invalid, or undefined when it is valid. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!;
    if (n < 1) return 'a rate must be at least 1';
    const plural = unit.endsWith('s');
    if (n === 1 && plural) return `use the singular for 1: rate(1 ${unit.slice(0, -1)})`;
    if (n > 1 && !plural) return `use the plural for ${n}: rate(${n} ${unit}s)`;
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) {
      return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year); got ${fields.length}`;
    }
    const bad = fields.find((f) => !CRON_FIELD.test(f));
    if (bad) return `cron field '${bad}' has characters cron does not accept`;
    const [, , dom, , dow] = fields;
    if ((dom === '?') === (dow === '?')) return 'exactly one of day-of-month and day-of-week must be ?';
    return undefined;
  }
  return "expected 'rate(N unit)' (e.g. rate(1 hour)) or 'cron(m h dom mon dow year)' (e.g. cron(0 * * * ? *))";
}

/** Approximate interval in minutes of a rate expression (undefined for cron). Used to size alarms. */
export function rateMinutes(expression: string): number | undefined {
  const rate = RATE.exec(expression);
  if (!rate) return undefined;
  const n = Number(rate[1]);
  const unit = rate[2]!;
  return unit.startsWith('minute') ? n : unit.startsWith('hour') ? n * 60 : n * 1440;
}

const MINUTE_MS = 60_000;

/**
 * The start (ISO) of the scheduled period containing `now`: the key under which a capability's per-period action
 * limit is counted, so a scheduled event, its retries and an overlapping run share one budget of actions.
 * - `rate(N unit)`: periods of N units counted from the Unix epoch (rate(1 hour) → the UTC hour, rate(1 day) →
 *   the UTC day). EventBridge Scheduler does not align rate schedules to the epoch, so pass the event's scheduled
 *   time (not the invocation time) when the event carries it: then every retry of one event falls in one period.
 * - `cron(...)` whose minute and hour fields are single numbers (fires at most once a day): the UTC day.
 * - any other cron (fires several times a day or more often than hourly), and anything unparseable: the UTC hour.
 *   A cron firing more often than hourly shares one limit among that hour's runs: stricter, never looser, and it
 *   needs no cron evaluator.
 */
export function periodOf(schedule: string, now: Date): string {
  const minutes = rateMinutes(schedule);
  const t = now.getTime();
  if (minutes !== undefined) {
    const size = minutes * MINUTE_MS;
    return new Date(Math.floor(t / size) * size).toISOString();
  }
  const cron = CRON.exec(schedule);
  const [minute, hour] = cron ? cron[1]!.trim().split(/\s+/) : [];
  const single = (f: string | undefined) => f !== undefined && /^\d+$/.test(f);
  const size = single(minute) && single(hour) ? 1440 * MINUTE_MS : 60 * MINUTE_MS;
  return new Date(Math.floor(t / size) * size).toISOString();
}

/** The event field the schedules fill with EventBridge Scheduler's `<aws.scheduler.scheduled-time>`. */
export const SCHEDULED_TIME_FIELD = 'scheduledTime';
/** An event's scheduled time older than this is not trusted for the period (Scheduler retries for up to a day). */
const MAX_SCHEDULED_AGE_MS = 24 * 60 * MINUTE_MS;

/**
 * The time a scheduled event was due: its `scheduledTime` when it is a valid time, not after `now` (one minute of
 * clock slack) and at most a day old; otherwise `now` (an SNS notification, the CLI, a hand-made event). Lambda
 * delivers its retries of one event with the same payload, so the event and its retries share one period.
 */
export function scheduledTimeOf(event: unknown, now: Date): Date {
  const raw = event && typeof event === 'object' ? (event as Record<string, unknown>)[SCHEDULED_TIME_FIELD] : undefined;
  const t = typeof raw === 'string' ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(t) || t > now.getTime() + MINUTE_MS || t < now.getTime() - MAX_SCHEDULED_AGE_MS) return now;
  return new Date(t);
}

/** The period a run's per-period action limit is counted in: `periodOf` at the event's scheduled time. */
export function actionPeriod(schedule: string, event: unknown, now: Date): string {
  return periodOf(schedule, scheduledTimeOf(event, now));
}
