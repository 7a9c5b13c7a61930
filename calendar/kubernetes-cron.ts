/**
 * The two cron dialects a Kubernetes cluster of ours reads, checked before anything is applied:
 *
 *  - a CloudNativePG `ScheduledBackup` takes SIX fields, seconds first (`0 0 3 * * *` is 03:00:00
 *    every day); a 5-field expression there is read with its minute as seconds and runs at the
 *    wrong times, so it is refused;
 *  - a Kubernetes `CronJob` (and a k8up `Schedule`) takes the usual FIVE fields or an `@` shorthand,
 *    without a `TZ=` prefix (the API refuses it in `spec.schedule`).
 *
 * Each field is read by the same parser as the host schedules (calendar/schedule.ts), so a value
 * out of range or a construct that is not portable is refused with the same words. Pure; imports
 * only its own layer.
 */
import { CalendarSpec, ScheduleError, parseCron } from "./schedule";

export const CNPG_CRON_ACCEPTS = 'six fields, seconds first: "0 0 3 * * *" (second minute hour day-of-month month day-of-week)';
export const KUBERNETES_CRON_ACCEPTS = 'five fields: "0 5 * * 0" (minute hour day-of-month month day-of-week), or @hourly, @daily, @weekly, @monthly, @yearly';

const fieldsOf = (expression: string) => expression.trim().split(/\s+/).filter(Boolean);

/**
 * Parses a CloudNativePG schedule: six fields, seconds first. The seconds field has the minute
 * field's range (0-59), so it is read by the minute parser.
 */
export function parseSecondsCron(expression: string): CalendarSpec {
  const fields = fieldsOf(expression);
  if (expression.trim().startsWith("@")) throw new ScheduleError(`"${expression.trim()}": use ${CNPG_CRON_ACCEPTS}, not an @ shorthand`);
  if (fields.length === 5) {
    throw new ScheduleError(`"${expression.trim()}" has 5 fields; CloudNativePG reads ${CNPG_CRON_ACCEPTS}, so this one would run at the wrong times (did you mean "0 ${fields.join(" ")}"?)`);
  }
  if (fields.length !== 6) throw new ScheduleError(`"${expression.trim()}" has ${fields.length} fields; expected ${CNPG_CRON_ACCEPTS}`);
  let seconds: readonly number[];
  try {
    seconds = parseCron(`${fields[0]} * * * *`).minutes;
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    throw new ScheduleError(`seconds field "${fields[0]}": ${e.message.replace(/minute/g, "second")}`);
  }
  return { ...parseCron(fields.slice(1).join(" ")), seconds };
}

/** Parses a Kubernetes CronJob (or k8up) schedule: five fields or an @ shorthand, no time zone prefix. */
export function parseKubernetesCron(expression: string): CalendarSpec {
  const text = expression.trim();
  if (/^(CRON_)?TZ=/.test(text)) throw new ScheduleError(`"${text}": a TZ= prefix is refused by the Kubernetes API in spec.schedule; write ${KUBERNETES_CRON_ACCEPTS}`);
  const fields = fieldsOf(text);
  if (fields.length === 6) {
    throw new ScheduleError(`"${text}" has 6 fields; a Kubernetes CronJob reads ${KUBERNETES_CRON_ACCEPTS} (no seconds field; did you mean "${fields.slice(1).join(" ")}"?)`);
  }
  return parseCron(text);
}

/** The problem with a CloudNativePG schedule as text, or undefined when it parses. */
export function cnpgScheduleProblem(expression: string): string | undefined {
  return problemOf(() => parseSecondsCron(expression), `accepted: ${CNPG_CRON_ACCEPTS}`);
}

/** The problem with a Kubernetes CronJob / k8up schedule as text, or undefined when it parses. */
export function kubernetesScheduleProblem(expression: string): string | undefined {
  return problemOf(() => parseKubernetesCron(expression), `accepted: ${KUBERNETES_CRON_ACCEPTS}`);
}

function problemOf(parse: () => CalendarSpec, accepted: string): string | undefined {
  try {
    parse();
    return undefined;
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    return e.message.includes("expected") || e.message.includes("reads") ? e.message : `${e.message}; ${accepted}`;
  }
}
