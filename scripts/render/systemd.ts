/**
 * systemd units for one host's backup jobs: per job a hardened oneshot service and its
 * timer, its prune's service and timer, a templated failure handler, the restore drill, and a
 * tmpfiles rule for the lock directory. Pure: resolved values in, files out.
 *
 * The sandbox: the whole file system is read-only (`ProtectSystem=strict`) except what the
 * job writes: staging, state, lock and log directories, the folder holding the data directory
 * (SQLite opens a WAL database read-write even to copy it; settling an interrupted in-place
 * restore renames the data directory and the copies kept beside it), and local targets.
 * After each run, however it ended, `ExecStopPost=` runs `openwebui-backup recover`, which
 * resumes containers a killed run left paused or stopped.
 * Nothing here hides `/run/docker.sock`: `pause`/`stop` consistency and Docker volumes need
 * the Docker CLI, and a read-only mount does not stop connecting to a socket.
 */
import { scheduleFor } from "../../calendar/schedule";
import { JobConfig, pruneScheduleOf } from "../../config/schema";
import { UNIT_PATH_UNSAFE } from "../../config/schedule";
import { hostAsset } from "./assets";
import { DRILL_UNIT_BASE, SYSTEMD_UNIT_DIR, TMPFILES_PATH, commentHeader, generatedHeader, jobPruneServiceName, jobPruneTimerName, jobServiceName, jobTimerName } from "./naming";
import { restoreDrillArgs } from "./restore-drill";
import { shellQuote } from "./shell";
import { HostFile, HostRenderInput } from "./types";
import { formatTimespan, jobTimeoutSeconds } from "../../config/timespan";

export const NOTIFY_FAILURE_PATH = "/usr/local/lib/openwebui-backup/notify-failure";
export const FAILURE_UNIT = "openwebui-backup-failure@.service";
const DOCKER_VOLUMES_DIR = "/var/lib/docker/volumes";

const NOTIFY_FAILURE_BODY = hostAsset("notify-failure.bash");

/**
 * A unit may run this much longer than its job's timeout: the command stops itself at the
 * timeout (TERM, a kill 120 s later) and alerts, so its clean failure comes first and systemd
 * only kills a run whose own timeout did not work. The host command's TIMEOUT_MARGIN.
 */
export const JOB_TIMEOUT_MARGIN_SEC = 300;

/**
 * A path as one word of a unit file setting: `%` doubled (specifiers), quoted when it holds
 * spaces. Paths with quotes, backslashes or `$` are refused rather than guessed at.
 */
export function unitPath(p: string): string {
  if (UNIT_PATH_UNSAFE.test(p)) throw new Error(`path ${JSON.stringify(p)} cannot be written into a systemd unit (quotes, '\\', '$' or control characters)`);
  const escaped = p.replace(/%/g, "%%");
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/** `NAME=value` for `Environment=`: the whole assignment is quoted when the value needs it. */
export function unitEnvironment(name: string, value: string): string {
  const word = unitPath(value);
  return word.startsWith('"') ? `"${name}=${word.slice(1)}` : `${name}=${word}`;
}

/** The data directory as the host sees it (a Docker volume's data lives under /var/lib/docker/volumes); none on a pull-only host. */
export function hostDataDir(input: HostRenderInput): string | undefined {
  const data = input.host.data;
  if (!data) return undefined;
  return "dir" in data ? data.dir : `${DOCKER_VOLUMES_DIR}/${data.volume}/_data`;
}

/**
 * Where a job may write for the data: the folder holding the data directory, because an
 * in-place restore keeps its copies beside the data directory and settling an interrupted
 * one renames them (a path listed in ReadWritePaths= is a mount in the unit, which cannot be
 * renamed). The data directory itself when its parent is the root.
 */
export function dataWritePath(input: HostRenderInput): string | undefined {
  const data = hostDataDir(input);
  if (data === undefined) return undefined;
  const parent = data.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
  return parent === "" ? data : parent;
}

/** Local target directories a job writes to. */
function localTargetPaths(input: HostRenderInput, job: JobConfig): string[] {
  return job.targets.flatMap((t) => {
    const target = input.targets[t];
    if (!target) throw new Error(`host ${input.host.name}: job ${job.name} names target "${t}", which was not resolved`);
    return target.type === "local" ? [target.path] : [];
  });
}

/** What a job's service may write; `-` marks paths that may not exist yet (systemd skips them). */
export function writablePaths(input: HostRenderInput, job: JobConfig): string[] {
  const { paths } = input.host;
  const data = dataWritePath(input);
  const needsDocker = job.consistency !== "online" || (input.host.data !== undefined && "volume" in input.host.data);
  return [
    paths.stagingDir,
    paths.stateDir,
    `-${paths.lockDir}`,
    paths.logDir,
    ...(paths.metricsFile ? [`-${paths.metricsFile.replace(/\/[^/]*$/, "") || "/"}`] : []),
    ...(data !== undefined ? [`-${data}`] : []),
    ...localTargetPaths(input, job).map((p) => `-${p}`),
    ...(needsDocker ? ["-/run/docker.sock"] : []),
  ];
}

const HOME_DIRS = ["/home", "/root", "/run/user"];
const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

function serviceUnit(input: HostRenderInput, opts: { description: string; args: string[]; writable: string[]; docker: boolean; timeoutSec: number; readable?: string[]; recover?: boolean }): string {
  const { paths } = input.host;
  // `readable`: files the job only reads, such as a pull job's SSH key under /root/.ssh.
  const plain = [...opts.writable.map((p) => p.replace(/^-/, "")), ...(opts.readable ?? [])];
  // ProtectHome=yes hides /home, /root and /run/user entirely; when the job writes under one
  // of them, read-only is the strictest setting that still lets ReadWritePaths= through.
  const protectHome = plain.some((p) => HOME_DIRS.some((h) => under(p, h))) ? "read-only" : "yes";
  const exec = [unitPath(paths.command), ...opts.args.map(unitPath)].join(" ");
  return [
    "[Unit]",
    `Description=${opts.description}`,
    "Wants=network-online.target",
    `After=network-online.target${opts.docker ? " docker.service" : ""}`,
    "OnFailure=openwebui-backup-failure@%n.service",
    "",
    "[Service]",
    "Type=oneshot",
    `Environment=${unitEnvironment("OPENWEBUI_BACKUP_ENV", paths.envFile)}`,
    "# restic keeps its cache under $XDG_CACHE_HOME; home directories are hidden from the job.",
    `Environment=${unitEnvironment("XDG_CACHE_HOME", `${paths.stateDir}/cache`)}`,
    `ExecStart=${exec}`,
    ...(opts.recover
      ? ["# However the run ended (killed, timed out): resume containers it left paused or stopped.", `ExecStopPost=${unitPath(paths.command)} recover`]
      : []),
    `# The command stops itself after the job's timeout (${formatTimespan(opts.timeoutSec)}) and alerts; this is the backstop.`,
    `TimeoutStartSec=${formatTimespan(opts.timeoutSec + JOB_TIMEOUT_MARGIN_SEC)}`,
    "# A backup should never slow Open WebUI down.",
    "Nice=10",
    "IOSchedulingClass=idle",
    "# Sandbox: read-only system, writes only where the job needs them.",
    "ProtectSystem=strict",
    `ProtectHome=${protectHome}`,
    `ReadWritePaths=${opts.writable.map((p) => (p.startsWith("-") ? `-${unitPath(p.slice(1))}` : unitPath(p))).join(" ")}`,
    "PrivateTmp=yes",
    "NoNewPrivileges=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectControlGroups=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "UMask=0077",
    "",
  ].join("\n");
}

function timerUnit(input: HostRenderInput, description: string, service: string, schedule: string, what = "backup"): string {
  return [
    "[Unit]",
    `Description=${description}`,
    "",
    "[Timer]",
    `OnCalendar=${scheduleFor(schedule, "systemd")}`,
    `# Runs a missed ${what} at boot when the host was off at the scheduled time.`,
    "Persistent=true",
    `RandomizedDelaySec=${input.host.randomizedDelaySec}`,
    `Unit=${service}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

const unitFile = (name: string, content: string): HostFile => ({ path: `${SYSTEMD_UNIT_DIR}/${name}`, mode: 0o644, content });

/**
 * A job's prune: its own service and timer (none for sync, which has nothing to prune). The
 * service is the run's in all but its command: the same sandbox, failure alert and
 * `ExecStopPost=` recovery, because every command first settles what a killed run left
 * behind (resuming containers, an interrupted restore), and that needs what the run needs.
 */
export function pruneUnits(input: HostRenderInput, job: JobConfig): HostFile[] {
  const schedule = pruneScheduleOf(job);
  if (schedule === undefined) return [];
  const docker = job.consistency !== "online" || (input.host.data !== undefined && "volume" in input.host.data);
  return [
    unitFile(
      jobPruneServiceName(job.name),
      `${commentHeader(input, `Prune of Open WebUI backup job "${job.name}": frees what its retention no longer keeps on ${job.targets.join(", ")}.`)}\n${serviceUnit(input, {
        description: `Open WebUI backup prune of job ${job.name} (${job.method} on ${job.targets.join(", ")})`,
        args: ["prune", job.name],
        writable: writablePaths(input, job),
        readable: job.from ? [job.from.sshKeyFile] : [],
        docker,
        timeoutSec: jobTimeoutSeconds(job),
        recover: true,
      })}`,
    ),
    unitFile(
      jobPruneTimerName(job.name),
      `${commentHeader(input, `Schedule of the prune of Open WebUI backup job "${job.name}" (${schedule}).`)}\n${timerUnit(input, `Schedule of the prune of Open WebUI backup job ${job.name}`, jobPruneServiceName(job.name), schedule, "prune")}`,
    ),
  ];
}

export function renderSystemdFiles(input: HostRenderInput): HostFile[] {
  const { host } = input;
  if (host.jobs.length === 0) return [];
  const files: HostFile[] = [];
  const unit = (name: string, content: string): HostFile => ({ path: `${SYSTEMD_UNIT_DIR}/${name}`, mode: 0o644, content });

  for (const job of host.jobs) {
    const docker = job.consistency !== "online" || (host.data !== undefined && "volume" in host.data);
    files.push(
      unit(
        jobServiceName(job.name),
        `${commentHeader(input, `Open WebUI backup job "${job.name}": ${job.method} to ${job.targets.join(", ")}.`)}\n${serviceUnit(input, {
          description: `Open WebUI backup job ${job.name} (${job.method} to ${job.targets.join(", ")})`,
          args: ["run", job.name],
          writable: writablePaths(input, job),
          readable: job.from ? [job.from.sshKeyFile] : [],
          docker,
          recover: true,
          timeoutSec: jobTimeoutSeconds(job),
        })}`,
      ),
      unit(jobTimerName(job.name), `${commentHeader(input, `Schedule of Open WebUI backup job "${job.name}" (${job.schedule}).`)}\n${timerUnit(input, `Schedule of Open WebUI backup job ${job.name}`, jobServiceName(job.name), job.schedule)}`),
    );
    files.push(...pruneUnits(input, job));
  }

  const drill = restoreDrillArgs(input);
  if (drill) {
    files.push(
      unit(
        `${DRILL_UNIT_BASE}.service`,
        `${commentHeader(input, `Restore drill: restores the latest backup of job "${drill.job.name}" into scratch space and checks it.`)}\n${serviceUnit(input, {
          description: `Open WebUI restore drill (verify job ${drill.job.name})`,
          args: drill.args,
          // The drill restores into staging and reads (restic: locks) the local targets; never the live data.
          writable: writablePaths(input, drill.job).filter((p) => p !== `-${dataWritePath(input)}` && p !== "-/run/docker.sock"),
          docker: false,
          timeoutSec: jobTimeoutSeconds(drill.job),
        })}`,
      ),
      unit(`${DRILL_UNIT_BASE}.timer`, `${commentHeader(input, `Schedule of the restore drill (${host.restoreDrill.schedule}).`)}\n${timerUnit(input, "Schedule of the Open WebUI restore drill", `${DRILL_UNIT_BASE}.service`, host.restoreDrill.schedule)}`),
    );
  }

  files.push(
    unit(
      FAILURE_UNIT,
      [
        commentHeader(input, "Reports a failed openwebui-backup unit (%i) to the webhook in the env file."),
        "[Unit]",
        "Description=Report failure of %i",
        "",
        "[Service]",
        "Type=oneshot",
        `Environment=${unitEnvironment("OPENWEBUI_BACKUP_ENV", host.paths.envFile)}`,
        `ExecStart=${unitPath(NOTIFY_FAILURE_PATH)} %i`,
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "",
      ].join("\n"),
    ),
    {
      path: NOTIFY_FAILURE_PATH,
      mode: 0o755,
      content: [
        "#!/usr/bin/env bash",
        `# ${generatedHeader(input)}`,
        "set -Eeuo pipefail",
        `readonly DEFAULT_ENV_FILE=${shellQuote(host.paths.envFile)}`,
        "",
        NOTIFY_FAILURE_BODY,
      ].join("\n"),
    },
    {
      path: TMPFILES_PATH,
      mode: 0o644,
      content: `${commentHeader(input, "The lock directory lives on /run, which is empty after every boot.")}\nd ${unitPath(host.paths.lockDir)} 0700 root root -\n`,
    },
  );
  return files;
}
