/**
 * Per-host scheduling settings: which scheduler runs the jobs, how much random delay, the
 * restore drill. rules/schedule.ts checks that every schedule converts exactly for the chosen
 * scheduler.
 */
import { z } from "zod";
import type { Scheduler } from "../calendar/schedule";
import { scheduleExpression, strictObject } from "./fields";

/**
 * Spreads the timers over ten minutes, so that hosts (and jobs) that share a schedule do not
 * all hit the same bucket in the same second; small enough that "03:00" still means "around 3".
 */
export const DEFAULT_RANDOMIZED_DELAY_SEC = 600;

/** The drill runs `openwebui-backup verify <job>`: a restore into scratch space, checked, thrown away. */
export const DEFAULT_RESTORE_DRILL_SCHEDULE = "weekly";

export const restoreDrillSchema = strictObject({
  /** On by default: a backup nobody ever restored is a hope, not a backup. */
  enabled: z.boolean().default(true),
  schedule: scheduleExpression.default(DEFAULT_RESTORE_DRILL_SCHEDULE),
  /** The job to verify; default the host's first job. */
  job: z.string().optional(),
  /** The target to restore from; default the command's own choice (the job's first target). */
  target: z.string().optional(),
});

/** Keys spread into `hostSchema`. */
export const hostScheduleShape = {
  /** Who runs the jobs on the host: systemd timers (hardened, catch up after downtime) or cron. */
  scheduler: z.enum(["systemd", "cron"] satisfies Scheduler[], { error: 'expected "systemd" or "cron"' }).default("systemd"),
  /** Random delay before each run, in seconds (systemd `RandomizedDelaySec=`, a `sleep` under cron). 0 turns it off. */
  randomizedDelaySec: z
    .number({ error: "randomizedDelaySec: expected a whole number of seconds, 0 to 86400" })
    .int({ message: "expected a whole number of seconds, 0 to 86400" })
    .min(0, { message: "expected a whole number of seconds, 0 to 86400" })
    .max(86400, { message: "expected a whole number of seconds, 0 to 86400" })
    .default(DEFAULT_RANDOMIZED_DELAY_SEC),
  restoreDrill: restoreDrillSchema.default({ enabled: true, schedule: DEFAULT_RESTORE_DRILL_SCHEDULE }),
};

/** What a path in a systemd unit setting cannot hold: we refuse rather than guess at escapes. */
export const UNIT_PATH_UNSAFE = /["'\\$\x00-\x1f]/;
