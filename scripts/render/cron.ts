/**
 * The cron scheduler: one `/etc/cron.d/openwebui-backup` with a line per job, one per job's
 * prune (and the restore drill), each appending what it prints to `<logDir>/<job>.cron.log`
 * (the command keeps its own `<job>.log` there too, so cron's copy gets another name). A job's
 * run and prune take the job's lock themselves, and say so when an earlier one still holds it
 * (with an alert once that run is past its timeout), so a slow run is never overtaken by the
 * next and never silently; the drill, which takes no lock, runs under `flock -n`. Pure: values
 * in, files out.
 */
import { scheduleFor } from "../../calendar/schedule";
import { JobConfig, pruneScheduleOf } from "../../config/schema";
import { commentHeader } from "./naming";
import { restoreDrillArgs } from "./restore-drill";
import { shellQuote } from "./shell";
import { HostFile, HostRenderInput } from "./types";

export const CRON_PATH = "/etc/cron.d/openwebui-backup";
export const LOGROTATE_PATH = "/etc/logrotate.d/openwebui-backup";

/** cron turns an unescaped `%` in a command into a newline; our words never need one. */
function cronWord(value: string): string {
  if (value.includes("%")) throw new Error(`${JSON.stringify(value)}: a '%' cannot be written into a cron line`);
  return shellQuote(value);
}

/**
 * One cron.d line; `lockName` puts the command under `flock -n <lockDir>/cron-<name>.lock`.
 * That is not the command's own `<job>.lock`: a run takes that one itself, and would fail if
 * cron already held it.
 */
export function cronLine(input: HostRenderInput, schedule: string, lockName: string | undefined, logName: string, args: string[]): string {
  const { paths, randomizedDelaySec } = input.host;
  const command = [cronWord(paths.command), ...args.map(cronWord)].join(" ");
  const flock = lockName === undefined ? "" : `flock -n ${cronWord(`${paths.lockDir}/cron-${lockName}.lock`)} `;
  const steps = [
    `mkdir -p ${cronWord(paths.lockDir)} ${cronWord(paths.logDir)}`,
    ...(randomizedDelaySec > 0 ? [`sleep "$(shuf -i 0-${randomizedDelaySec} -n 1)"`] : []),
    `OPENWEBUI_BACKUP_ENV=${cronWord(paths.envFile)} ${flock}${command} >> ${cronWord(`${paths.logDir}/${logName}.cron.log`)} 2>&1`,
  ];
  return `${scheduleFor(schedule, "cron")} root ${steps.join(" && ")}`;
}

/** A job's prune line, with its comment; none for sync, which has nothing to prune. */
export function pruneCronLines(input: HostRenderInput, job: JobConfig): string[] {
  const schedule = pruneScheduleOf(job);
  if (schedule === undefined) return [];
  // '.' never occurs in job names, so "<job>.prune" cannot be another job's lock or log name.
  return [`# prune of job ${job.name}: frees what its retention no longer keeps (${schedule})`, cronLine(input, schedule, `${job.name}.prune`, `${job.name}.prune`, ["prune", job.name])];
}

export function renderCronFiles(input: HostRenderInput): HostFile[] {
  const { host } = input;
  if (host.jobs.length === 0) return [];
  const lines = [
    commentHeader(input, "Open WebUI backup jobs (scheduler: cron). Each run appends to <logDir>/<job>.cron.log; see /etc/logrotate.d/openwebui-backup."),
    "SHELL=/bin/bash",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "",
  ];
  for (const job of host.jobs) {
    lines.push(`# job ${job.name}: ${job.method} to ${job.targets.join(", ")} (${job.schedule})`, cronLine(input, job.schedule, undefined, job.name, ["run", job.name]));
    lines.push(...pruneCronLines(input, job));
  }
  const drill = restoreDrillArgs(input);
  if (drill) {
    // '.' never occurs in job names, so these names cannot collide with a job's.
    lines.push(`# restore drill: verify job ${drill.job.name} (${host.restoreDrill.schedule})`, cronLine(input, host.restoreDrill.schedule, `${drill.job.name}.restore-drill`, `${drill.job.name}.restore-drill`, drill.args));
  }
  return [{ path: CRON_PATH, mode: 0o644, content: `${lines.join("\n")}\n` }];
}

/**
 * Keeps the job logs small: the command's own `<job>.log` (under either scheduler) and
 * cron's `<job>.cron.log`.
 */
export function renderLogrotate(input: HostRenderInput): HostFile {
  const logGlob = `${input.host.paths.logDir}/*.log`;
  if (/["\n]/.test(logGlob)) throw new Error(`logDir ${JSON.stringify(input.host.paths.logDir)} cannot be written into a logrotate rule`);
  return {
    path: LOGROTATE_PATH,
    mode: 0o644,
    content: [
      commentHeader(input, "Keeps the logs of openwebui-backup small."),
      `"${logGlob}" {`,
      "    weekly",
      "    rotate 8",
      "    compress",
      "    delaycompress",
      "    missingok",
      "    notifempty",
      "    create 0600 root root",
      "}",
      "",
    ].join("\n"),
  };
}
