/**
 * How often a schedule runs: the shortest and longest time between two of its runs, for rules
 * that weigh retention counts against time (a lifecycle must not expire what a job still keeps).
 */
import { parseSchedule } from "./schedule";

/** Shortest and longest time between two runs of a schedule, in days; undefined if unknown. */
export interface RunInterval {
  readonly minDays: number;
  readonly maxDays: number;
}

const DAY_MS = 86_400_000;

/**
 * How far apart a schedule's runs are. Walks two calendar years (one of them a leap year) day
 * by day against the parsed schedule; undefined when the schedule does not parse or never runs.
 */
export function runInterval(schedule: string): RunInterval | undefined {
  let spec;
  try {
    spec = parseSchedule(schedule);
  } catch {
    return undefined;
  }
  const has = (values: readonly number[], v: number) => values.includes(v);
  const runDays: number[] = [];
  const start = Date.UTC(2027, 0, 1);
  for (let d = 0; d < 731; d++) {
    const date = new Date(start + d * DAY_MS);
    const dayOk = has(spec.days, date.getUTCDate());
    const weekdayOk = has(spec.weekdays, date.getUTCDay());
    const matches = has(spec.months, date.getUTCMonth() + 1) && (spec.dayOrSemantics ? dayOk || weekdayOk : dayOk && weekdayOk);
    if (matches) runDays.push(d);
  }
  if (runDays.length === 0) return undefined;
  // Times of day in seconds, sorted: spacing within a day and across midnight.
  const times = spec.hours.flatMap((h) => spec.minutes.flatMap((m) => spec.seconds.map((s) => h * 3600 + m * 60 + s))).sort((a, b) => a - b);
  const first = times[0];
  const last = times[times.length - 1];
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  for (let i = 1; i < runDays.length; i++) gaps.push((runDays[i] - runDays[i - 1]) * 86_400 - last + first);
  // One run in two years: a yearly schedule that is not, or a one-off.
  if (gaps.length === 0) gaps.push(366 * 86_400);
  const minDays = Math.min(...gaps) / 86_400;
  const maxDays = Math.max(...gaps) / 86_400;
  return { minDays, maxDays };
}
