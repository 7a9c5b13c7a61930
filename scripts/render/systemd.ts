/**
 * systemd units for one host's backup jobs: per job a hardened oneshot service and its
 * timer, a templated failure handler, the restore drill, and a tmpfiles rule for the lock
 * directory. Pure: resolved values in, files out.
 *
 * The sandbox: the whole file system is read-only (`ProtectSystem=strict`) except what the
 * job writes: staging, state, lock and log directories, the data directory (SQLite opens a
 * WAL database read-write even to copy it, and restore writes it), and local targets.
 * Nothing here hides `/run/docker.sock`: `pause`/`stop` consistency and Docker volumes need
 * the Docker CLI, and a read-only mount does not stop connecting to a socket.
 */
import { hostAsset } from "./assets";
import { generatedHeader } from "./backup";
import { scheduleFor } from "./schedule";
import { shellQuote } from "./shell";
import { HostFile, HostRenderInput } from "./types";
import { JobConfig } from "../../config/schema";
import { UNIT_PATH_UNSAFE } from "../../config/schedule";
import { formatTimespan, jobTimeoutSeconds } from "../../config/timespan";

export const SYSTEMD_UNIT_DIR = "/etc/systemd/system";
export const TMPFILES_PATH = "/etc/tmpfiles.d/openwebui-backup.conf";
export const NOTIFY_FAILURE_PATH = "/usr/local/lib/openwebui-backup/notify-failure";
export const FAILURE_UNIT = "openwebui-backup-failure@.service";
/** A different prefix than the jobs' units, so no job name can collide with it. */
export const DRILL_UNIT_BASE = "openwebui-restore-drill";
const DOCKER_VOLUMES_DIR = "/var/lib/docker/volumes";

const NOTIFY_FAILURE_BODY = hostAsset("notify-failure.bash");

/**
 * A unit may run this much longer than its job's timeout: the command stops itself at the
 * timeout (TERM, a kill 120 s later) and alerts, so its clean failure comes first and systemd
 * only kills a run whose own timeout did not work. The host command's TIMEOUT_MARGIN.
 */
export const JOB_TIMEOUT_MARGIN_SEC = 300;

export const jobServiceName = (job: string) => `openwebui-backup-${job}.service`;
export const jobTimerName = (job: string) => `openwebui-backup-${job}.timer`;

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

/** `# <what>` and the generated-by line, for files with `#` comments. */
export function header(input: HostRenderInput, what: string): string {
  return `# ${what}\n# ${generatedHeader(input)}`;
}

/** The data directory as the host sees it (a Docker volume's data lives under /var/lib/docker/volumes); none on a pull-only host. */
export function hostDataDir(input: HostRenderInput): string | undefined {
  const data = input.host.data;
  if (!data) return undefined;
  return "dir" in data ? data.dir : `${DOCKER_VOLUMES_DIR}/${data.volume}/_data`;
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
  const data = hostDataDir(input);
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

function serviceUnit(input: HostRenderInput, opts: { description: string; args: string[]; writable: string[]; docker: boolean; timeoutSec: number; readable?: string[] }): string {
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

function timerUnit(input: HostRenderInput, description: string, service: string, schedule: string): string {
  return [
    "[Unit]",
    `Description=${description}`,
    "",
    "[Timer]",
    `OnCalendar=${scheduleFor(schedule, "systemd")}`,
    "# Runs a missed backup at boot when the host was off at the scheduled time.",
    "Persistent=true",
    `RandomizedDelaySec=${input.host.randomizedDelaySec}`,
    `Unit=${service}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
}

/** The job the restore drill verifies, and its arguments; undefined when there is no drill. */
export function restoreDrillArgs(input: HostRenderInput): { job: JobConfig; args: string[] } | undefined {
  const drill = input.host.restoreDrill;
  if (!drill.enabled || input.host.jobs.length === 0) return undefined;
  const job = drill.job === undefined ? input.host.jobs[0] : input.host.jobs.find((j) => j.name === drill.job);
  if (!job) throw new Error(`host ${input.host.name}: restoreDrill.job "${drill.job}" is not one of its jobs`);
  return { job, args: ["verify", job.name, ...(drill.target ? ["--target", drill.target] : [])] };
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
        `${header(input, `Open WebUI backup job "${job.name}": ${job.method} to ${job.targets.join(", ")}.`)}\n${serviceUnit(input, {
          description: `Open WebUI backup job ${job.name} (${job.method} to ${job.targets.join(", ")})`,
          args: ["run", job.name],
          writable: writablePaths(input, job),
          readable: job.from ? [job.from.sshKeyFile] : [],
          docker,
          timeoutSec: jobTimeoutSeconds(job),
        })}`,
      ),
      unit(jobTimerName(job.name), `${header(input, `Schedule of Open WebUI backup job "${job.name}" (${job.schedule}).`)}\n${timerUnit(input, `Schedule of Open WebUI backup job ${job.name}`, jobServiceName(job.name), job.schedule)}`),
    );
  }

  const drill = restoreDrillArgs(input);
  if (drill) {
    files.push(
      unit(
        `${DRILL_UNIT_BASE}.service`,
        `${header(input, `Restore drill: restores the latest backup of job "${drill.job.name}" into scratch space and checks it.`)}\n${serviceUnit(input, {
          description: `Open WebUI restore drill (verify job ${drill.job.name})`,
          args: drill.args,
          // The drill restores into staging and reads (restic: locks) the local targets; never the live data.
          writable: writablePaths(input, drill.job).filter((p) => p !== `-${hostDataDir(input)}` && p !== "-/run/docker.sock"),
          docker: false,
          timeoutSec: jobTimeoutSeconds(drill.job),
        })}`,
      ),
      unit(`${DRILL_UNIT_BASE}.timer`, `${header(input, `Schedule of the restore drill (${host.restoreDrill.schedule}).`)}\n${timerUnit(input, "Schedule of the Open WebUI restore drill", `${DRILL_UNIT_BASE}.service`, host.restoreDrill.schedule)}`),
    );
  }

  files.push(
    unit(
      FAILURE_UNIT,
      [
        header(input, "Reports a failed openwebui-backup unit (%i) to the webhook in the env file."),
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
      content: `${header(input, "The lock directory lives on /run, which is empty after every boot.")}\nd ${unitPath(host.paths.lockDir)} 0700 root root -\n`,
    },
  );
  return files;
}
