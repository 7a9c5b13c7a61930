/**
 * systemd time spans ("6h", "90min", "1h 30min"), the form of `hosts[].jobs[].timeout`. A
 * subset of what systemd.time(7) accepts: whole numbers, each with a unit, so the host
 * command gets whole seconds and the unit's `TimeoutStartSec=` reads the same. Pure.
 */

/** Seconds per unit; months and years (inexact) and sub-second units are left out. */
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  s: 1, sec: 1, second: 1, seconds: 1,
  m: 60, min: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
  w: 604800, week: 604800, weeks: 604800,
};

export const TIMESPAN_RULE = 'a systemd time span of whole numbers with units, such as "6h", "90min" or "1h 30min" (units s, min, h, d, w; at least 1s)';

/** Seconds of a time span, or undefined when it is not one this project accepts. */
export function parseTimespan(text: string): number | undefined {
  if (!/^\s*(\d+\s*[a-z]+\s*)+$/.test(text)) return undefined;
  let total = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)\s*([a-z]+)/g)) {
    const seconds = UNIT_SECONDS[unit];
    if (seconds === undefined) return undefined;
    total += Number(count) * seconds;
  }
  return total >= 1 && Number.isSafeInteger(total) ? total : undefined;
}

/** Whole seconds as a time span systemd reads back to the same value: 21900 → "6h 5min". */
export function formatTimespan(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 1) throw new Error(`formatTimespan: ${seconds} is not a whole number of seconds >= 1`);
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(" ");
}

/** A validated job's timeout in seconds (the schema has already refused anything else). */
export function jobTimeoutSeconds(job: { readonly name: string; readonly timeout: string }): number {
  const seconds = parseTimespan(job.timeout);
  if (seconds === undefined) throw new Error(`job ${job.name}: timeout ${JSON.stringify(job.timeout)} is not ${TIMESPAN_RULE}`);
  return seconds;
}
