/**
 * Renders the backup command and its env file for one host. Pure: resolved values in,
 * files out. Everything host-specific lives in the env file; the command's body is the
 * same on every host, so a reviewer reads it once.
 */
import { targetLocation } from "../../config/locations";
import { JobConfig } from "../../config/schema";
import { BACKUP_COMMAND_BODY } from "./assets";
import { commentText, generatedHeader } from "./naming";
import { shellAssignment, shellIdent, shellQuote } from "./shell";
import { HostFile, HostRenderInput, ResolvedTarget } from "./types";

/** The SQLite databases of an Open WebUI data directory, copied inside a read transaction. */
export const OPENWEBUI_DATABASES = ["webui.db", "vector_db/chroma.sqlite3"] as const;

export function renderBackupCommand(input: HostRenderInput): HostFile {
  const content = [
    "#!/usr/bin/env bash",
    "# openwebui-backup: back up, list, restore and verify Open WebUI data.",
    `# ${generatedHeader(input)}`,
    `# Settings and credentials: ${commentText(input.host.paths.envFile)}, or the file named by $OPENWEBUI_BACKUP_ENV.`,
    `readonly DEFAULT_ENV_FILE=${shellQuote(input.host.paths.envFile)}`,
    "",
    BACKUP_COMMAND_BODY,
  ].join("\n");
  return { path: input.host.paths.command, mode: 0o755, content };
}

function jobLines(input: HostRenderInput, job: JobConfig): string[] {
  const id = shellIdent(job.name);
  const lines = [
    `# job ${job.name}`,
    shellAssignment(`OWB_JOB_${id}_METHOD`, job.method),
    shellAssignment(`OWB_JOB_${id}_TARGETS`, job.targets.join(" ")),
    shellAssignment(`OWB_JOB_${id}_CONSISTENCY`, job.consistency),
    shellAssignment(`OWB_JOB_${id}_EXCLUDE`, job.exclude.join(" ")),
  ];
  if (job.healthcheckUrl) lines.push(shellAssignment(`OWB_JOB_${id}_HEALTHCHECK_URL`, job.healthcheckUrl));
  if (job.from) {
    lines.push(
      shellAssignment(`OWB_JOB_${id}_FROM_HOST`, job.from.host),
      shellAssignment(`OWB_JOB_${id}_FROM_USER`, job.from.user),
      shellAssignment(`OWB_JOB_${id}_FROM_PORT`, String(job.from.port)),
      shellAssignment(`OWB_JOB_${id}_FROM_KEY`, job.from.sshKeyFile),
      shellAssignment(`OWB_JOB_${id}_FROM_PATH`, job.from.path),
      ...(job.from.hostKey ? [shellAssignment(`OWB_JOB_${id}_FROM_HOSTKEY`, job.from.hostKey)] : []),
    );
  }
  for (const [key, value] of Object.entries(job.retention)) {
    if (value !== undefined) lines.push(shellAssignment(`OWB_JOB_${id}_KEEP_${key.toUpperCase()}`, String(value)));
  }
  for (const tname of job.targets) {
    const target = input.targets[tname];
    if (!target) throw new Error(`host ${input.host.name}: job ${job.name} names target "${tname}", which was not resolved`);
    lines.push(shellAssignment(`OWB_LOC_${id}__${shellIdent(tname)}`, targetLocation(target, input.host.name, job.name)));
  }
  return lines;
}

function targetLines(name: string, target: ResolvedTarget): string[] {
  const v = (key: string, value: string | undefined) => (value === undefined ? [] : [shellAssignment(`OWB_TARGET_${shellIdent(name)}_${key}`, value)]);
  const lines = [`# target ${name}`, ...v("TYPE", target.type)];
  switch (target.type) {
    case "s3":
      return [...lines, ...v("BUCKET", target.bucket), ...v("REGION", target.region), ...v("ENDPOINT", target.endpoint), ...v("ACCESS_KEY_ID", target.accessKeyId), ...v("SECRET_ACCESS_KEY", target.secretAccessKey)];
    case "b2":
      return [...lines, ...v("BUCKET", target.bucket), ...v("KEY_ID", target.keyId), ...v("APPLICATION_KEY", target.applicationKey)];
    case "local":
      return lines;
    default: {
      const unknownTarget: never = target;
      throw new Error(`unknown target type ${JSON.stringify(unknownTarget)}`);
    }
  }
}

export function renderBackupEnv(input: HostRenderInput): HostFile {
  const { host } = input;
  const usedTargets = [...new Set(host.jobs.flatMap((j) => j.targets))];
  const lines = [
    `# Settings of openwebui-backup on host "${host.name}". Holds credentials: mode 0600, root only.`,
    `# ${generatedHeader(input)}`,
    "# shellcheck shell=bash disable=SC2034,SC2016 # sourced by openwebui-backup, which reads every variable; values are literal on purpose",
    shellAssignment("OWB_HOST", host.name),
    shellAssignment("OWB_STACK", input.stack),
    ...(host.data === undefined ? ["# no data directory: every job on this host is a pull"] : ["dir" in host.data ? shellAssignment("OWB_DATA_DIR", host.data.dir) : shellAssignment("OWB_DATA_VOLUME", host.data.volume)]),
    shellAssignment("OWB_CONTAINERS", host.containers.join(" ")),
    shellAssignment("OWB_SQLITE_FILES", OPENWEBUI_DATABASES.join(" ")),
    shellAssignment("OWB_STAGING_DIR", host.paths.stagingDir),
    shellAssignment("OWB_STATE_DIR", host.paths.stateDir),
    shellAssignment("OWB_LOCK_DIR", host.paths.lockDir),
    shellAssignment("OWB_LOG_DIR", host.paths.logDir),
    shellAssignment("OWB_JOBS", host.jobs.map((j) => j.name).join(" ")),
    ...(host.paths.metricsFile ? [shellAssignment("OWB_METRICS_FILE", host.paths.metricsFile)] : []),
    ...host.jobs.flatMap((job) => jobLines(input, job)),
    ...usedTargets.flatMap((t) => targetLines(t, input.targets[t])),
    "# secrets and alerting",
    ...(input.resticPassword !== undefined && host.jobs.some((j) => j.method === "restic") ? [shellAssignment("OWB_RESTIC_PASSWORD", input.resticPassword)] : []),
    ...(input.notify.webhookUrl ? [shellAssignment("OWB_WEBHOOK_URL", input.notify.webhookUrl)] : []),
    ...(input.notify.healthcheckUrl ? [shellAssignment("OWB_HEALTHCHECK_URL", input.notify.healthcheckUrl)] : []),
  ];
  return { path: host.paths.envFile, mode: 0o600, content: lines.join("\n") + "\n" };
}

/** The backup command and its env file: what every host with jobs gets. */
export function renderBackupFiles(input: HostRenderInput): HostFile[] {
  return [renderBackupCommand(input), renderBackupEnv(input)];
}
