/**
 * Cron schedules in the syntax WAVS accepts (the Rust `cron` crate): six fields with seconds, or seven
 * with a year — `sec min hour day-of-month month day-of-week [year]` — evaluated in UTC. Each field is
 * a comma list of `*`, `n`, `a-b`, or any of those followed by `/step` (`n/step` runs from n to the
 * field's maximum); months and weekdays also take names (JAN…, SUN…); `?` means any in the two day
 * fields. Weekdays are 1–7 with Sunday = 1, as in that crate, and a day must match both day fields.
 * `@yearly`, `@monthly`, `@weekly`, `@daily` and `@hourly` are shorthands.
 */

import { WavsError } from "../util/errors";

export interface CronSchedule {
  readonly expression: string;
  readonly seconds: ReadonlySet<number>;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 1 = Sunday … 7 = Saturday. */
  readonly daysOfWeek: ReadonlySet<number>;
  readonly years: ReadonlySet<number>;
}

export class CronSyntaxError extends WavsError {
  override name = "CronSyntaxError";
  constructor(message: string) {
    super("invalid_cron", message);
  }
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
  allowAny?: boolean;
}

const MONTH_NAMES: Record<string, number> = Object.fromEntries(
  ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].flatMap((m, i) => [[m, i + 1]]),
);
Object.assign(MONTH_NAMES, {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
});
const DAY_NAMES: Record<string, number> = {
  sun: 1,
  sunday: 1,
  mon: 2,
  monday: 2,
  tue: 3,
  tues: 3,
  tuesday: 3,
  wed: 4,
  wednesday: 4,
  thu: 5,
  thurs: 5,
  thursday: 5,
  fri: 6,
  friday: 6,
  sat: 7,
  saturday: 7,
};

const FIELDS: readonly FieldSpec[] = [
  { name: "seconds", min: 0, max: 59 },
  { name: "minutes", min: 0, max: 59 },
  { name: "hours", min: 0, max: 23 },
  { name: "days of month", min: 1, max: 31, allowAny: true },
  { name: "months", min: 1, max: 12, names: MONTH_NAMES },
  { name: "days of week", min: 1, max: 7, names: DAY_NAMES, allowAny: true },
  { name: "years", min: 1970, max: 2100 },
];

const SHORTHANDS: Record<string, string> = {
  "@yearly": "0 0 0 1 1 *",
  "@monthly": "0 0 0 1 * *",
  "@weekly": "0 0 0 * * 1",
  "@daily": "0 0 0 * * *",
  "@hourly": "0 0 * * * *",
};

/**
 * Parses a cron expression.
 * @throws CronSyntaxError naming the field and what is wrong with it
 */
export function parseCronSchedule(expression: string): CronSchedule {
  const trimmed = expression.trim();
  const longhand = SHORTHANDS[trimmed] ?? trimmed;
  const parts = longhand.split(/\s+/).filter(Boolean);
  if (parts.length !== 6 && parts.length !== 7) {
    throw new CronSyntaxError(`a cron expression has 6 or 7 fields (seconds first), got ${parts.length}`);
  }
  const sets = FIELDS.map((spec, i) =>
    parts[i] === undefined ? range(spec.min, spec.max, 1) : parseField(parts[i]!, spec),
  );
  return {
    expression: trimmed,
    seconds: sets[0]!,
    minutes: sets[1]!,
    hours: sets[2]!,
    daysOfMonth: sets[3]!,
    months: sets[4]!,
    daysOfWeek: sets[5]!,
    years: sets[6]!,
  };
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") throw new CronSyntaxError(`${spec.name}: empty list item in "${text}"`);
    const [base, stepText, extra] = item.split("/");
    if (extra !== undefined) throw new CronSyntaxError(`${spec.name}: "${item}" has two steps`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, spec, "step");
    if (step < 1) throw new CronSyntaxError(`${spec.name}: a step must be at least 1`);
    let lo: number;
    let hi: number;
    if (base === "*" || (base === "?" && spec.allowAny)) {
      [lo, hi] = [spec.min, spec.max];
    } else if (base!.includes("-")) {
      const [a, b, more] = base!.split("-");
      if (more !== undefined || !a || !b) throw new CronSyntaxError(`${spec.name}: bad range "${base}"`);
      [lo, hi] = [parseValue(a, spec), parseValue(b, spec)];
      if (lo > hi) throw new CronSyntaxError(`${spec.name}: range "${base}" runs backwards`);
    } else {
      lo = parseValue(base!, spec);
      // `n/step` runs from n to the maximum; a lone name or number is one value. A name with a step
      // is refused, as by WAVS's parser.
      if (stepText !== undefined && !/^\d+$/.test(base!))
        throw new CronSyntaxError(`${spec.name}: "${item}" cannot take a step`);
      hi = stepText === undefined ? lo : spec.max;
    }
    for (const v of range(lo, hi, step)) out.add(v);
  }
  return out;
}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const v = Number(text);
    if (v < spec.min || v > spec.max)
      throw new CronSyntaxError(`${spec.name}: ${v} is outside ${spec.min}–${spec.max}`);
    return v;
  }
  const named = spec.names?.[text.toLowerCase()];
  if (named === undefined) throw new CronSyntaxError(`${spec.name}: "${text}" is not a valid value`);
  return named;
}

function parseNumber(text: string, spec: FieldSpec, what: string): number {
  if (!/^\d+$/.test(text)) throw new CronSyntaxError(`${spec.name}: ${what} "${text}" is not a number`);
  return Number(text);
}

function range(lo: number, hi: number, step: number): Set<number> {
  const s = new Set<number>();
  for (let v = lo; v <= hi; v += step) s.add(v);
  return s;
}

/** Bounded search: a schedule that matches nothing (e.g. 31 February) must not loop forever. */
const MAX_STEPS = 200_000;

/** Whether the UTC second `t` (seconds since the epoch) matches the schedule. */
export function matchesCron(s: CronSchedule, t: number): boolean {
  const d = new Date(t * 1000);
  return (
    s.seconds.has(d.getUTCSeconds()) &&
    s.minutes.has(d.getUTCMinutes()) &&
    s.hours.has(d.getUTCHours()) &&
    s.daysOfMonth.has(d.getUTCDate()) &&
    s.months.has(d.getUTCMonth() + 1) &&
    s.daysOfWeek.has(d.getUTCDay() + 1) &&
    s.years.has(d.getUTCFullYear())
  );
}

/** Year, month (0-based), day, hour, minute and second of `d` in UTC. */
function utcParts(d: Date): [number, number, number, number, number, number] {
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

/**
 * The latest scheduled second at or before `t` (seconds since the epoch), or undefined when there is
 * none since 1970. Skips whole years, months, days, hours and minutes that cannot match.
 */
export function previousCronTick(s: CronSchedule, t: number): number | undefined {
  let cur = Math.floor(t);
  for (let i = 0; i < MAX_STEPS && cur >= 0; i++) {
    const d = new Date(cur * 1000);
    const [y, mo, day, h, mi, sec] = utcParts(d);
    // Each miss jumps to the last second of the previous unit (Date.UTC normalises day 0 and the like).
    if (!s.years.has(y)) cur = Date.UTC(y, 0, 1) / 1000 - 1;
    else if (!s.months.has(mo + 1)) cur = Date.UTC(y, mo, 1) / 1000 - 1;
    else if (!s.daysOfMonth.has(day) || !s.daysOfWeek.has(d.getUTCDay() + 1)) cur = Date.UTC(y, mo, day) / 1000 - 1;
    else if (!s.hours.has(h)) cur = Date.UTC(y, mo, day, h) / 1000 - 1;
    else if (!s.minutes.has(mi)) cur = Date.UTC(y, mo, day, h, mi) / 1000 - 1;
    else if (!s.seconds.has(sec)) cur -= 1;
    else return cur;
  }
  return undefined;
}

/** The earliest scheduled second strictly after `t`, or undefined when there is none before 2101. */
export function nextCronTick(s: CronSchedule, t: number): number | undefined {
  let cur = Math.floor(t) + 1;
  const last = Date.UTC(2101, 0, 1) / 1000;
  for (let i = 0; i < MAX_STEPS && cur < last; i++) {
    const d = new Date(cur * 1000);
    const [y, mo, day, h, mi, sec] = utcParts(d);
    // Each miss jumps to the first second of the next unit.
    if (!s.years.has(y)) cur = Date.UTC(y + 1, 0, 1) / 1000;
    else if (!s.months.has(mo + 1)) cur = Date.UTC(y, mo + 1, 1) / 1000;
    else if (!s.daysOfMonth.has(day) || !s.daysOfWeek.has(d.getUTCDay() + 1)) cur = Date.UTC(y, mo, day + 1) / 1000;
    else if (!s.hours.has(h)) cur = Date.UTC(y, mo, day, h + 1) / 1000;
    else if (!s.minutes.has(mi)) cur = Date.UTC(y, mo, day, h, mi + 1) / 1000;
    else if (!s.seconds.has(sec)) cur += 1;
    else return cur;
  }
  return undefined;
}
