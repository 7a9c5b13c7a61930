/**
 * Schedules: a job's `schedule` is either a systemd calendar expression
 * (`Mon *-*-* 04:30:00`, `daily`) or a 5-field cron expression (`30 4 * * 1`, `@daily`).
 * The scheduler on the host needs one of the two; this module converts between them,
 * exactly or not at all.
 *
 * Both formats are parsed into the same model, a set of allowed values per field, and
 * rendered back from those sets. Converting sets is exact by construction; what cannot be
 * converted is refused with a `ScheduleError` saying why:
 *  - cron has no seconds, years, time zones or "last day of month" (`~`);
 *  - cron matches day-of-month OR day-of-week when both are restricted, systemd matches
 *    both (AND): an expression restricting both cannot be carried across either way.
 *
 * Pure: no clock, no environment, and no import of this project's other modules: the config
 * model and the renderers build on it, never the other way round. Tests prove the equivalence
 * against `systemd-analyze calendar` and `cron-parser`.
 */

export type Scheduler = "systemd" | "cron";
export const SCHEDULERS: readonly Scheduler[] = ["systemd", "cron"];

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

/** What both formats mean, as the set of matching values per field (sorted, unique). */
export interface CalendarSpec {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: readonly number[];
  readonly months: readonly number[];
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekdays: readonly number[];
  /** Why this spec cannot be written as cron, if it cannot (years, time zone, `~`, seconds). */
  readonly cronBlockers: readonly string[];
  /**
   * Cron only: both day fields restricted, so cron matches either (OR); systemd cannot say that.
   */
  readonly dayOrSemantics: boolean;
}

interface FieldRange {
  readonly label: string;
  readonly min: number;
  readonly max: number;
}

const SECOND: FieldRange = { label: "second", min: 0, max: 59 };
const MINUTE: FieldRange = { label: "minute", min: 0, max: 59 };
const HOUR: FieldRange = { label: "hour", min: 0, max: 23 };
const DAY: FieldRange = { label: "day of month", min: 1, max: 31 };
const MONTH: FieldRange = { label: "month", min: 1, max: 12 };
const WEEKDAY: FieldRange = { label: "day of week", min: 0, max: 6 };

const SYSTEMD_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const SYSTEMD_WEEKDAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const CRON_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const range = (f: FieldRange): number[] => Array.from({ length: f.max - f.min + 1 }, (_, i) => f.min + i);
const isFull = (values: readonly number[], f: FieldRange) => values.length === f.max - f.min + 1;
const sortedUnique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);

/** The systemd shorthands, as systemd.time(7) defines them. */
const SYSTEMD_SHORTHANDS: Record<string, string> = {
  minutely: "*-*-* *:*:00",
  hourly: "*-*-* *:00:00",
  daily: "*-*-* 00:00:00",
  weekly: "Mon *-*-* 00:00:00",
  monthly: "*-*-01 00:00:00",
  yearly: "*-01-01 00:00:00",
  annually: "*-01-01 00:00:00",
  quarterly: "*-01,04,07,10-01 00:00:00",
  semiannually: "*-01,07-01 00:00:00",
};

/** The cron shorthands Vixie cron and cronie understand (`@reboot` is not a schedule). */
const CRON_SHORTHANDS: Record<string, string> = {
  "@hourly": "0 * * * *",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@weekly": "0 0 * * 0",
  "@monthly": "0 0 1 * *",
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
};

const SYSTEMD_ACCEPTS =
  "a systemd calendar expression such as \"*-*-* 03:00:00\" or \"Mon..Fri *-*-* 04:30\" (or minutely, hourly, daily, weekly, monthly, yearly, quarterly, semiannually)";
const CRON_ACCEPTS = 'a 5-field cron expression such as "0 3 * * *" (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly';
export const SCHEDULE_ACCEPTS = `${SYSTEMD_ACCEPTS}, or ${CRON_ACCEPTS}`;

/** Which format an expression is written in. Cron: `@word`, or 5 fields without ':' or '..'. */
export function scheduleFormat(expression: string): Scheduler {
  const e = expression.trim();
  if (e.startsWith("@")) return "cron";
  const fields = e.split(/\s+/);
  if (fields.length === 5 && !e.includes(":") && !e.includes("..")) return "cron";
  return "systemd";
}

// ---------------------------------------------------------------- systemd parsing

/** Parses one systemd component (`*`, `5`, `1,3`, `1..5`, `0/15`, `1..10/3`). */
function parseSystemdComponent(text: string, f: FieldRange, names?: string[]): number[] {
  if (text === "*") return range(f);
  const values: number[] = [];
  const value = (t: string): number => {
    const lower = t.toLowerCase();
    if (names) {
      const i = names.findIndex((n) => lower === n || lower === fullWeekdayName(n));
      if (i >= 0) return i;
      throw new ScheduleError(`"${t}" is not a ${f.label}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun`);
    }
    if (!/^\d{1,4}$/.test(t)) throw new ScheduleError(`"${t}" is not a number for the ${f.label}`);
    const n = Number(t);
    if (n < f.min || n > f.max) throw new ScheduleError(`${f.label} ${n} is outside ${f.min}..${f.max}`);
    return n;
  };
  for (const item of text.split(",")) {
    if (item === "") throw new ScheduleError(`empty list entry in "${text}"`);
    const [spanText, stepText, extra] = item.split("/");
    if (extra !== undefined) throw new ScheduleError(`"${item}" has more than one "/"`);
    if (spanText === "*") throw new ScheduleError(`"${item}": systemd does not accept "*/step"; write "${f.min === 0 ? "0" : String(f.min).padStart(2, "0")}/${stepText}"`);
    const [fromText, toText, more] = spanText.split("..");
    if (more !== undefined) throw new ScheduleError(`"${item}" is not a range`);
    const from = value(fromText);
    const to = toText === undefined ? (stepText === undefined ? from : f.max) : value(toText);
    if (to < from) throw new ScheduleError(`range "${spanText}" runs backwards (systemd ranges do not wrap)`);
    let step = 1;
    if (stepText !== undefined) {
      if (names) throw new ScheduleError(`weekdays take no "/step" (${item})`);
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new ScheduleError(`"/${stepText}" is not a positive step`);
      step = Number(stepText);
    }
    for (let n = from; n <= to; n += step) values.push(n);
  }
  return sortedUnique(values);
}

function fullWeekdayName(abbrev: string): string {
  return { sun: "sunday", mon: "monday", tue: "tuesday", wed: "wednesday", thu: "thursday", fri: "friday", sat: "saturday" }[abbrev] ?? abbrev;
}

/** A zone name the zone database knows (the runtime's copy of it, as systemd uses the host's). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Parses a systemd calendar expression (the subset of systemd.time(7) we can reason about). */
export function parseSystemdCalendar(expression: string): CalendarSpec {
  const original = expression.trim();
  const expanded = SYSTEMD_SHORTHANDS[original.toLowerCase()] ?? original;
  let tokens = expanded.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) throw new ScheduleError(`empty schedule; expected ${SYSTEMD_ACCEPTS}`);
  const cronBlockers: string[] = [];

  let weekdays = range(WEEKDAY);
  if (/^[A-Za-z]/.test(tokens[0]) && !/[-:]/.test(tokens[0])) {
    // A leading word is a weekday list (a time zone only ever comes last, after a time or date).
    if (!/^[A-Za-z]+(\.\.[A-Za-z]+)?(,[A-Za-z]+(\.\.[A-Za-z]+)?)*$/.test(tokens[0])) {
      throw new ScheduleError(`"${tokens[0]}" is not a weekday list such as Mon or Mon..Fri or Sat,Sun`);
    }
    weekdays = parseSystemdWeekdays(tokens[0]);
    tokens = tokens.slice(1);
  }

  let date = "*-*-*";
  let time = "00:00:00";
  if (tokens.length > 0 && /[-~]/.test(tokens[0]) && !tokens[0].includes(":")) {
    date = tokens[0];
    tokens = tokens.slice(1);
  }
  if (tokens.length > 0 && tokens[0].includes(":")) {
    time = tokens[0];
    tokens = tokens.slice(1);
  }
  if (tokens.length === 1 && /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tokens[0])) {
    // systemd takes any trailing word as a zone and fails only when the timer is enabled.
    if (!isTimeZone(tokens[0])) throw new ScheduleError(`"${tokens[0]}" in "${original}" is not a time zone of the zone database (such as UTC or Europe/Berlin)`);
    cronBlockers.push(`it names a time zone (${tokens[0]}); cron runs in the host's time zone`);
    tokens = tokens.slice(1);
  }
  if (tokens.length > 0) throw new ScheduleError(`cannot read "${tokens.join(" ")}" in "${original}"; expected ${SYSTEMD_ACCEPTS}`);

  if (date.includes("~")) {
    cronBlockers.push('it counts days from the end of the month ("~"), which cron cannot');
    date = date.replace(/~.*/, "-*");
  }
  const dateParts = date.split("-");
  if (dateParts.length === 2) dateParts.unshift("*");
  if (dateParts.length !== 3) throw new ScheduleError(`date "${date}" is not YYYY-MM-DD or MM-DD (each part a value, list, range or "*")`);
  const [year, month, day] = dateParts;
  if (year !== "*") {
    if (!/^[0-9.,/]+$/.test(year)) throw new ScheduleError(`"${year}" is not a year`);
    cronBlockers.push(`it restricts the year (${year}), which cron cannot`);
  }

  const timeParts = time.split(":");
  if (timeParts.length === 2) timeParts.push("00");
  if (timeParts.length !== 3) throw new ScheduleError(`time "${time}" is not HH:MM or HH:MM:SS`);
  const [hour, minute, second] = timeParts;
  if (second.includes(".")) throw new ScheduleError(`fractional seconds ("${second}") are not supported`);

  const seconds = parseSystemdComponent(second, SECOND);
  if (seconds.length !== 1 || seconds[0] !== 0) cronBlockers.push(`it fires at second ${second}; cron fires only at second 0`);

  return {
    seconds,
    minutes: parseSystemdComponent(minute, MINUTE),
    hours: parseSystemdComponent(hour, HOUR),
    days: parseSystemdComponent(day, DAY),
    months: parseSystemdComponent(month, MONTH),
    weekdays,
    cronBlockers,
    dayOrSemantics: false,
  };
}

function parseSystemdWeekdays(text: string): number[] {
  // Ranges run Mon..Sun in systemd, so map to Monday-first indexes for range expansion.
  const mondayFirst = (d: number) => (d + 6) % 7;
  const values: number[] = [];
  for (const item of text.split(",")) {
    const [a, b, more] = item.split("..");
    if (more !== undefined) throw new ScheduleError(`"${item}" is not a weekday range`);
    const from = parseSystemdComponent(a, WEEKDAY, SYSTEMD_WEEKDAYS)[0];
    const to = b === undefined ? from : parseSystemdComponent(b, WEEKDAY, SYSTEMD_WEEKDAYS)[0];
    if (mondayFirst(to) < mondayFirst(from)) throw new ScheduleError(`weekday range "${item}" runs backwards (systemd weeks run Mon..Sun and do not wrap)`);
    for (let i = mondayFirst(from); i <= mondayFirst(to); i++) values.push((i + 1) % 7);
  }
  return sortedUnique(values);
}

// ---------------------------------------------------------------- cron parsing

function parseCronField(text: string, f: FieldRange, names?: string[]): number[] {
  if (text === "*" || ((f === DAY || f === WEEKDAY) && text === "?")) return range(f);
  const isWeekday = f === WEEKDAY;
  const max = isWeekday ? 7 : f.max; // cron accepts 7 for Sunday
  const value = (t: string): number => {
    const lower = t.toLowerCase();
    if (names) {
      const i = names.indexOf(lower);
      if (i >= 0) return i + f.min;
    }
    if (!/^\d{1,2}$/.test(t)) {
      if (/[LW#H]/i.test(t)) throw new ScheduleError(`"${t}": L, W, # and H are not portable cron; use plain values, lists, ranges and steps`);
      throw new ScheduleError(`"${t}" is not a ${f.label}`);
    }
    const n = Number(t);
    if (n < f.min || n > max) throw new ScheduleError(`${f.label} ${n} is outside ${f.min}-${max}`);
    return n;
  };
  const values: number[] = [];
  for (const item of text.split(",")) {
    if (item === "") throw new ScheduleError(`empty list entry in "${text}"`);
    const [spanText, stepText, extra] = item.split("/");
    if (extra !== undefined) throw new ScheduleError(`"${item}" has more than one "/"`);
    let from: number;
    let to: number;
    if (spanText === "*") {
      from = f.min;
      to = f.max;
    } else {
      const [a, b, more] = spanText.split("-");
      if (more !== undefined) throw new ScheduleError(`"${spanText}" is not a range`);
      from = value(a);
      if (b === undefined) {
        if (stepText !== undefined) throw new ScheduleError(`"${item}": write a range before the step ("${a}-${max}/${stepText}"), not every cron accepts "${item}"`);
        to = from;
      } else to = value(b);
    }
    if (to < from) throw new ScheduleError(`range "${spanText}" runs backwards`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw new ScheduleError(`"/${stepText}" is not a positive step`);
      step = Number(stepText);
    }
    for (let n = from; n <= to; n += step) values.push(isWeekday && n === 7 ? 0 : n);
  }
  return sortedUnique(values);
}

/** Parses a 5-field cron expression or an `@` shorthand. */
export function parseCron(expression: string): CalendarSpec {
  const original = expression.trim();
  let text = original;
  if (text.startsWith("@")) {
    const expanded = CRON_SHORTHANDS[text.toLowerCase()];
    if (!expanded) throw new ScheduleError(`"${text}" is not a schedule; expected ${CRON_ACCEPTS}`);
    text = expanded;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw new ScheduleError(`"${original}" has ${fields.length} fields; expected ${CRON_ACCEPTS}`);
  const [minute, hour, day, month, weekday] = fields;
  const restricted = (t: string) => t !== "*" && t !== "?";
  return {
    seconds: [0],
    minutes: parseCronField(minute, MINUTE),
    hours: parseCronField(hour, HOUR),
    days: parseCronField(day, DAY),
    months: parseCronField(month, MONTH, CRON_MONTHS),
    weekdays: parseCronField(weekday, WEEKDAY, SYSTEMD_WEEKDAYS),
    cronBlockers: [],
    dayOrSemantics: restricted(day) && restricted(weekday),
  };
}

/** Parses either format (see `scheduleFormat`). */
export function parseSchedule(expression: string): CalendarSpec {
  return scheduleFormat(expression) === "cron" ? parseCron(expression) : parseSystemdCalendar(expression);
}

// ---------------------------------------------------------------- rendering

/**
 * Writes a value set compactly: `*`, an arithmetic progression as a step, runs of three
 * or more as ranges, the rest as a list.
 */
function compress(values: readonly number[], f: FieldRange, style: Scheduler, pad: boolean): string {
  if (isFull(values, f)) return "*";
  const show = (n: number) => (pad ? String(n).padStart(2, "0") : String(n));
  const rangeSep = style === "cron" ? "-" : "..";
  if (values.length >= 3) {
    const step = values[1] - values[0];
    if (step > 1 && values.every((v, i) => i === 0 || v - values[i - 1] === step)) {
      const first = values[0];
      const last = values[values.length - 1];
      const reachesEnd = last + step > f.max;
      if (style === "cron") return first === f.min && reachesEnd ? `*/${step}` : `${first}-${last}/${step}`;
      return reachesEnd ? `${show(first)}/${step}` : `${show(first)}..${show(last)}/${step}`;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j] + 1) j++;
    if (j - i >= 2) parts.push(`${show(values[i])}${rangeSep}${show(values[j])}`);
    else for (let k = i; k <= j; k++) parts.push(show(values[k]));
    i = j + 1;
  }
  return parts.join(",");
}

function systemdWeekdays(weekdays: readonly number[]): string {
  // Monday-first order so that ranges read Mon..Fri and never wrap.
  const mondayFirst = weekdays.map((d) => (d + 6) % 7).sort((a, b) => a - b);
  const name = (i: number) => SYSTEMD_WEEKDAY_NAMES[(i + 1) % 7];
  const parts: string[] = [];
  for (let i = 0; i < mondayFirst.length; ) {
    let j = i;
    while (j + 1 < mondayFirst.length && mondayFirst[j + 1] === mondayFirst[j] + 1) j++;
    if (j - i >= 2) parts.push(`${name(mondayFirst[i])}..${name(mondayFirst[j])}`);
    else for (let k = i; k <= j; k++) parts.push(name(mondayFirst[k]));
    i = j + 1;
  }
  return parts.join(",");
}

/** Renders a spec as a systemd `OnCalendar=` value. */
export function renderSystemdCalendar(spec: CalendarSpec): string {
  if (spec.dayOrSemantics) {
    throw new ScheduleError(
      "it restricts both day-of-month and day-of-week; cron runs when EITHER matches, systemd's OnCalendar only when BOTH match. Use \"*\" in one of the two fields, or two jobs",
    );
  }
  const weekday = isFull(spec.weekdays, WEEKDAY) ? "" : `${systemdWeekdays(spec.weekdays)} `;
  const date = `*-${compress(spec.months, MONTH, "systemd", true)}-${compress(spec.days, DAY, "systemd", true)}`;
  const time = [spec.hours, spec.minutes, spec.seconds].map((v, i) => compress(v, [HOUR, MINUTE, SECOND][i], "systemd", true)).join(":");
  return `${weekday}${date} ${time}`;
}

/** Renders a spec as a 5-field cron expression. */
export function renderCron(spec: CalendarSpec): string {
  if (spec.cronBlockers.length > 0) throw new ScheduleError(`cron cannot express it: ${spec.cronBlockers.join("; ")}`);
  if (!isFull(spec.days, DAY) && !isFull(spec.weekdays, WEEKDAY)) {
    throw new ScheduleError(
      "it restricts both day-of-month and day-of-week; systemd runs only when BOTH match, cron would run when EITHER matches",
    );
  }
  return [
    compress(spec.minutes, MINUTE, "cron", false),
    compress(spec.hours, HOUR, "cron", false),
    compress(spec.days, DAY, "cron", false),
    compress(spec.months, MONTH, "cron", false),
    compress(spec.weekdays, WEEKDAY, "cron", false),
  ].join(" ");
}

/** systemd calendar expression → equivalent 5-field cron, or a `ScheduleError`. */
export function systemdToCron(expression: string): string {
  return renderCron(parseSystemdCalendar(expression));
}

/** 5-field cron → equivalent systemd calendar expression, or a `ScheduleError`. */
export function cronToSystemd(expression: string): string {
  return renderSystemdCalendar(parseCron(expression));
}

/**
 * The schedule as the scheduler needs it. An expression already in the scheduler's own
 * format is kept as written (after checking it parses); the other format is converted.
 */
export function scheduleFor(expression: string, scheduler: Scheduler): string {
  const format = scheduleFormat(expression);
  const trimmed = expression.trim().replace(/\s+/g, " ");
  if (format === scheduler) {
    parseSchedule(trimmed);
    return trimmed;
  }
  return scheduler === "cron" ? systemdToCron(trimmed) : cronToSystemd(trimmed);
}

/** Like `scheduleFor`, but returns the problem as text: `undefined` when it converts. */
export function scheduleProblem(expression: string, scheduler: Scheduler): string | undefined {
  try {
    scheduleFor(expression, scheduler);
    return undefined;
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    const format = scheduleFormat(expression);
    const what = format === scheduler ? `not a valid ${format} schedule` : `a ${format} schedule that the ${scheduler} scheduler cannot run exactly`;
    return `"${expression}" is ${what}: ${e.message}. Accepted for scheduler ${scheduler}: ${scheduler === "systemd" ? SYSTEMD_ACCEPTS : CRON_ACCEPTS}, or the other format when it converts exactly`;
  }
}
