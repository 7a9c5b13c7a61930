/**
 * Per-host scheduling settings (which scheduler runs the jobs, how much random delay,
 * the restore drill) and the cross-field rule that every schedule converts exactly for the
 * chosen scheduler.
 *
 * This file imports nothing but zod and the pure schedule converter at runtime, so
 * `schema.ts` can spread `hostScheduleShape` into its host schema without an import cycle.
 */
import { z } from "zod";
import { Scheduler, scheduleProblem } from "../calendar/schedule";
import type { ConfigProblem } from "./index";
import type { StackConfig } from "./schema";

/**
 * Spreads the timers over ten minutes, so that hosts (and jobs) that share a schedule do not
 * all hit the same bucket in the same second; small enough that "03:00" still means "around 3".
 */
export const DEFAULT_RANDOMIZED_DELAY_SEC = 600;

/** The drill runs `openwebui-backup verify <job>`: a restore into scratch space, checked, thrown away. */
export const DEFAULT_RESTORE_DRILL_SCHEDULE = "weekly";

const scheduleExpression = z
  .string({ error: "expected a systemd calendar or 5-field cron expression" })
  .min(1)
  .refine((s) => !/[\n\r'"`$\\;%]/.test(s), { message: "must be a systemd calendar or cron expression (no quotes, '$', '%', ';' or '\\')" });

export const restoreDrillSchema = z.strictObject(
  {
    /** On by default: a backup nobody ever restored is a hope, not a backup. */
    enabled: z.boolean().default(true),
    schedule: scheduleExpression.default(DEFAULT_RESTORE_DRILL_SCHEDULE),
    /** The job to verify; default the host's first job. */
    job: z.string().optional(),
    /** The target to restore from; default the command's own choice (the job's first target). */
    target: z.string().optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}; accepted: enabled, schedule, job, target` : undefined,
  },
);

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
const UNIT_PATH_RULE = "cannot be written into a systemd unit: no quotes, '\\', '$' or control characters (or use scheduler: cron)";

/**
 * Every job's schedule and the drill's schedule must convert exactly for the host's scheduler;
 * the drill must name a real job and target; paths a systemd unit names must fit in one.
 */
export function scheduleProblems(cfg: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    if (host.scheduler === "systemd" && host.jobs.length > 0) {
      for (const [key, p] of Object.entries(host.paths)) {
        if (UNIT_PATH_UNSAFE.test(p)) problems.push({ path: `${hp}.paths.${key}`, message: UNIT_PATH_RULE });
      }
      if (host.data && "dir" in host.data && UNIT_PATH_UNSAFE.test(host.data.dir)) problems.push({ path: `${hp}.data.dir`, message: UNIT_PATH_RULE });
      for (const tname of new Set(host.jobs.flatMap((j) => j.targets))) {
        const t = cfg.targets[tname];
        if (t?.type === "local" && UNIT_PATH_UNSAFE.test(t.path)) problems.push({ path: `targets.${tname}.path`, message: `${UNIT_PATH_RULE}; host "${host.name}" uses systemd` });
      }
    }
    host.jobs.forEach((job, ji) => {
      const problem = scheduleProblem(job.schedule, host.scheduler);
      if (problem) problems.push({ path: `${hp}.jobs[${ji}].schedule`, message: problem });
    });
    const drill = host.restoreDrill;
    if (!drill.enabled) return;
    const problem = scheduleProblem(drill.schedule, host.scheduler);
    if (problem) problems.push({ path: `${hp}.restoreDrill.schedule`, message: problem });
    const jobNames = host.jobs.map((j) => j.name);
    if (drill.job !== undefined && !jobNames.includes(drill.job)) {
      problems.push({ path: `${hp}.restoreDrill.job`, message: `unknown job "${drill.job}"; jobs of host "${host.name}": ${jobNames.join(", ") || "(none)"}` });
    }
    const job = host.jobs.find((j) => j.name === (drill.job ?? jobNames[0]));
    if (drill.target !== undefined && job && !job.targets.includes(drill.target)) {
      problems.push({ path: `${hp}.restoreDrill.target`, message: `job "${job.name}" does not back up to "${drill.target}"; its targets: ${job.targets.join(", ")}` });
    }
  });
  return problems;
}
