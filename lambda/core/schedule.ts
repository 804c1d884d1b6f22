/**
 * Validation of EventBridge Scheduler expressions (`rate(...)` and `cron(...)`), so a bad schedule fails
 * `cdk synth` with a message instead of failing the CloudFormation deployment.
 */

import awsCron from 'aws-cron-parser';

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const RATE_LOOSE = /^rate\((.*)\)$/;
const CRON = /^cron\((.+)\)$/;

/** One field of an EventBridge cron expression: its name, its numeric range and what else it accepts. */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted for numbers (JAN-DEC, SUN-SAT), in order from `min`. */
  readonly names?: readonly string[];
  /** `?`, `L`, `W`, `#`: only day-of-month and day-of-week take them, each its own. */
  readonly question?: boolean;
  readonly last?: 'alone' | 'alone-or-after-day';
  readonly weekday?: boolean;
  readonly nth?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

/** EventBridge Scheduler's six cron fields, in order (docs: "Schedule types on EventBridge Scheduler", cron). */
const CRON_FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true, last: 'alone', weekday: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, question: true, last: 'alone-or-after-day', nth: true },
  { name: 'year', min: 1970, max: 2199 },
];

/** The allowed values of a field as the messages say them: "0-59", "1-12 or JAN-DEC". */
function allowedText(f: CronField): string {
  const names = f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : '';
  return `${f.min}-${f.max}${names}`;
}

/** A number or a name of the field as its number; undefined when it is neither (or out of range). */
function fieldValue(f: CronField, token: string): number | undefined {
  if (/^\d{1,4}$/.test(token)) {
    const n = Number(token);
    return n >= f.min && n <= f.max ? n : undefined;
  }
  const i = f.names?.indexOf(token.toUpperCase()) ?? -1;
  return i >= 0 ? f.min + i : undefined;
}

/** The field with its names (JAN, MON, …) written as numbers, as aws-cron-parser reads them. */
function numbered(f: CronField, raw: string): string {
  if (!f.names) return raw;
  return raw.replace(/[A-Za-z]{3}/g, (name) => {
    const v = fieldValue(f, name);
    return v === undefined ? name : String(v);
  });
}

/** `L`, `W` or `#` in a field (the letters inside JUL, WED, SAT or APR do not count). */
const hasSpecial = (raw: string): boolean => /[LW#]/i.test(raw.replace(/JUL|WED|SAT|APR/gi, ''));

/** The `L`, `W`, `#` forms a field takes, as the messages say them. */
function specialForms(f: CronField): string[] {
  return [
    f.last === 'alone' ? "'L' (last day of the month)" : undefined,
    f.weekday ? "'nW' with n 1-31 (the weekday nearest day n)" : undefined,
    f.last === 'alone-or-after-day' ? "'L', or 'nL' with n 1-7 (the last such weekday of the month)" : undefined,
    f.nth ? "'n#k' with n 1-7 and k 1-5 (the k-th such weekday of the month)" : undefined,
  ].filter((t): t is string => t !== undefined);
}

/** Checks a field that uses `L`, `W` or `#`: only the forms EventBridge accepts there, and only alone. */
function specialProblem(f: CronField, raw: string, bad: (why?: string) => string): string | undefined {
  const forms = specialForms(f);
  if (forms.length === 0) return bad("may not use 'L', 'W' or '#' (only day-of-month and day-of-week may)");
  if (f.last && /^L$/i.test(raw)) return undefined;
  const lastOf = f.last === 'alone-or-after-day' ? /^(\d)L$/i.exec(raw) : null;
  if (lastOf) return fieldValue(f, lastOf[1]!) === undefined ? bad() : undefined;
  const nearest = f.weekday ? /^(\d{1,2})W$/i.exec(raw) : null;
  if (nearest) return fieldValue(f, nearest[1]!) === undefined ? bad() : undefined;
  const nth = f.nth ? /^(\d)#(\d+)$/.exec(raw) : null;
  if (nth) {
    if (fieldValue(f, nth[1]!) === undefined) return bad();
    const k = Number(nth[2]);
    return k >= 1 && k <= 5 ? undefined : bad(`asks for weekday number ${nth[2]} of the month; '#' takes 1-5`);
  }
  return bad(`uses 'L', 'W' or '#' in a form EventBridge does not accept; allowed here, alone: ${forms.join(', ')}`);
}

/** Checks a plain field: `*`, `*\/n`, values, `a-b`, `a/n`, `a-b/n` and lists of them, each within the range. */
function plainProblem(f: CronField, raw: string, bad: (why?: string) => string): string | undefined {
  for (const part of raw.split(',')) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(part);
    if (!m) return bad();
    const [, base, step] = m;
    if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > f.max)) {
      return bad(`has the increment '/${step}'; an increment must be 1-${f.max}`);
    }
    if (base === '*') {
      if (raw !== '*' && step === undefined) return bad("may use '*' only alone or as '*/n'");
      continue;
    }
    const range = base!.split('-');
    if (range.length > 2) return bad();
    const values = range.map((t) => fieldValue(f, t));
    if (values.some((v) => v === undefined)) return bad();
    if (values.length === 2 && values[0]! > values[1]!) {
      return bad(`has the range '${base}', which runs backwards; write it from the smaller value`);
    }
  }
  return undefined;
}

/**
 * Checks one field: the forms EventBridge accepts there (`*`, `?`, values, `a-b`, `a/n`, lists, and `L`, `W`, `#`
 * where it allows them), each value within the field's range. The value is then handed to aws-cron-parser (a parser
 * of AWS's 6-field cron), in an expression where only this field is the user's, so its range checks apply too.
 * The library checks ranges only (it reads letters as numbers it cannot check, accepts reversed ranges, `L`, `W`
 * and `#` in any field, and `#` up to 7), hence the checks before it.
 */
function cronFieldProblem(f: CronField, raw: string, index: number): string | undefined {
  const bad = (why?: string) => `${f.name} field '${raw}' ${why ?? `must be ${allowedText(f)}`}`;
  if (raw === '?') return f.question ? undefined : bad("may not be '?' (only day-of-month or day-of-week may)");
  const problem = hasSpecial(raw) ? specialProblem(f, raw, bad) : plainProblem(f, raw, bad);
  if (problem) return problem;
  const probe = ['0', '0', '*', '*', '?', '*'];
  probe[index] = numbered(f, raw).toUpperCase();
  if (index === 4) probe[2] = '?';
  try {
    awsCron.parse(probe.join(' '));
  } catch {
    return bad();
  }
  return undefined;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The values a plain field (numbers, names, ranges, steps, lists) selects; undefined for `*` forms or L/W/#. */
function selected(f: CronField, raw: string): Set<number> | undefined {
  if (raw === '*' || raw === '?' || hasSpecial(raw)) return undefined;
  const out = new Set<number>();
  for (const part of raw.split(',')) {
    const [base, step] = part.split('/');
    const [a, b] = base === '*' ? [f.min, f.max] : base!.split('-').map((t) => fieldValue(f, t)!);
    const end = b ?? (step !== undefined ? f.max : a!);
    for (let v = a!; v <= end; v += step !== undefined ? Number(step) : 1) out.add(v);
  }
  return out;
}

/** Why a 6-field cron expression is not one EventBridge accepts (or never fires), or undefined. */
function cronProblem(body: string): string | undefined {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year); got ${fields.length}`;
  }
  for (const [i, f] of CRON_FIELDS.entries()) {
    const problem = cronFieldProblem(f, fields[i]!, i);
    if (problem) return problem;
  }
  const [, , dom, month, dow] = fields;
  if ((dom === '?') === (dow === '?')) {
    return `exactly one of day-of-month ('${dom}') and day-of-week ('${dow}') must be ?`;
  }
  const days = selected(CRON_FIELDS[2]!, dom!);
  const months = selected(CRON_FIELDS[3]!, month!) ?? new Set(DAYS_IN_MONTH.map((_, i) => i + 1));
  if (days && ![...months].some((m) => [...days].some((d) => d <= DAYS_IN_MONTH[m - 1]!))) {
    return `day-of-month '${dom}' never occurs in month '${month}', so the schedule never fires`;
  }
  return undefined;
}

/** Why a `rate(...)` expression is not one EventBridge accepts, or undefined. */
function rateProblem(inner: string): string {
  const m = /^(\S+)\s+(\S+)$/.exec(inner.trim());
  if (!m) return `a rate is 'rate(N unit)', e.g. rate(1 hour) or rate(15 minutes); got 'rate(${inner})'`;
  const [, value, unit] = m;
  if (!/^\d+$/.test(value!)) return `rate value '${value}' must be a whole number of at least 1`;
  if (!/^(minute|minutes|hour|hours|day|days)$/.test(unit!)) {
    return `rate unit '${unit}' must be minute(s), hour(s) or day(s)`;
  }
  return `write one space between the number and the unit: rate(${value} ${unit})`;
}

/** Returns a reason the expression is invalid, or undefined when it is valid. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2]!;
    if (n < 1) return `rate value '${rate[1]}' must be at least 1`;
    const plural = unit.endsWith('s');
    if (n === 1 && plural) return `use the singular for 1: rate(1 ${unit.slice(0, -1)})`;
    if (n > 1 && !plural) return `use the plural for ${n}: rate(${n} ${unit}s)`;
    return undefined;
  }
  const loose = RATE_LOOSE.exec(expression);
  if (loose) return rateProblem(loose[1]!);
  const cron = CRON.exec(expression);
  if (cron) return cronProblem(cron[1]!);
  return "expected 'rate(N unit)' (e.g. rate(1 hour)) or 'cron(m h dom mon dow year)' (e.g. cron(0 * * * ? *))";
}

/** Approximate interval in minutes of a rate expression (undefined for cron). Used to size alarms. */
/**
 * The longest gap between two runs of a schedule, in minutes, when it is at most a day and known without evaluating
 * the calendar: a `rate(...)` gives its interval; a `cron(...)` that fires every day (day-of-month, month, day-of-week
 * and year all `*` or `?`) gives 1440. Anything else (weekly, monthly, given dates) is undefined: such a schedule
 * cannot be watched by a CloudWatch alarm, whose window is at most seven days.
 */
export function maxRunGapMinutes(expression: string): number | undefined {
  const rate = rateMinutes(expression);
  if (rate !== undefined) return rate;
  const cron = CRON.exec(expression.trim());
  if (!cron) return undefined;
  const fields = cron[1]!.trim().split(/\s+/);
  if (fields.length !== 6) return undefined;
  const [, , dayOfMonth, month, dayOfWeek, year] = fields;
  const any = (f: string | undefined) => f === '*' || f === '?';
  return any(dayOfMonth) && month === '*' && any(dayOfWeek) && year === '*' ? 1440 : undefined;
}

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
