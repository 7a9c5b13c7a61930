/**
 * Renders the backup command and its env file for one host. Pure: resolved values in,
 * files out. Everything host-specific lives in the env file; the command's body is the
 * same on every host, so a reviewer reads it once.
 */
import { targetLocation } from "../../config/locations";
import { OPENWEBUI_CONTAINER } from "../../config/openwebui-service";
import { jobTimeoutSeconds } from "../../config/timespan";
import { JobConfig } from "../../config/schema";
import { BACKUP_COMMAND_BODY } from "./assets";
import { SettingOwner, SettingScope, declaredSetting, settingName } from "./env-contract";
import { commentText, generatedHeader } from "./naming";
import { shellAssignment, shellQuote } from "./shell";
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

/** Env file lines, each through the contract: undefined values are left out. */
class EnvLines {
  readonly lines: string[] = [];
  readonly required: string[] = [];

  comment(text: string): void {
    this.lines.push(`# ${text}`);
  }

  set(scope: SettingScope, key: string, value: string | undefined, owner?: SettingOwner): void {
    const setting = declaredSetting(scope, key);
    const name = settingName(scope, key, owner);
    if (setting.required) this.required.push(name);
    const written = value ?? setting.default;
    if (written === undefined) return;
    this.lines.push(shellAssignment(name, written));
  }
}

/** Config retention keys to the env file's KEEP_* keys (`keep` is "the newest N"). */
const RETENTION_KEYS: Readonly<Record<string, string>> = { keep: "KEEP_LAST", hourly: "KEEP_HOURLY", daily: "KEEP_DAILY", weekly: "KEEP_WEEKLY", monthly: "KEEP_MONTHLY", yearly: "KEEP_YEARLY" };

function addJob(env: EnvLines, input: HostRenderInput, job: JobConfig): void {
  const owner = { job: job.name };
  const set = (key: string, value: string | undefined) => env.set("job", key, value, owner);
  env.comment(`job ${job.name}`);
  set("METHOD", job.method);
  set("TARGETS", job.targets.join(" "));
  set("CONSISTENCY", job.consistency);
  set("EXCLUDE", job.exclude.join(" "));
  set("SHRINK_LIMIT", String(job.shrinkLimit));
  set("SETTLE_TIMEOUT", String(job.settleTimeout));
  set("HEALTHCHECK_URL", job.healthcheckUrl);
  set("TIMEOUT", String(jobTimeoutSeconds(job)));
  if (job.from) {
    set("FROM_HOST", job.from.host);
    set("FROM_USER", job.from.user);
    set("FROM_PORT", String(job.from.port));
    set("FROM_KEY", job.from.sshKeyFile);
    set("FROM_PATH", job.from.path);
    set("FROM_HOSTKEY", job.from.hostKey);
  }
  for (const [key, value] of Object.entries(job.retention)) {
    const envKey = RETENTION_KEYS[key];
    if (!envKey) throw new Error(`retention key ${key} has no env setting`);
    if (value !== undefined) set(envKey, String(value));
  }
  for (const tname of job.targets) {
    const target = input.targets[tname];
    if (!target) throw new Error(`host ${input.host.name}: job ${job.name} names target "${tname}", which was not resolved`);
    env.set("job-target", "LOCATION", targetLocation(target, input.host.name, job.name), { job: job.name, target: tname });
  }
}

/** The database the command dumps (a secret URL, or the container the tools run in) and where Open WebUI's files live in S3. */
function addSources(env: EnvLines, input: HostRenderInput): void {
  const set = (key: string, value: string | undefined) => env.set("host", key, value);
  const pg = input.host.database?.postgres;
  if (pg) {
    env.comment("Open WebUI's database: PostgreSQL");
    if ("url" in pg) set("DATABASE_URL", pg.url);
    else {
      set("DATABASE_CONTAINER", pg.container);
      set("DATABASE_USER", pg.user);
      set("DATABASE_NAME", pg.database);
      set("DATABASE_PASSWORD", input.databasePassword);
    }
  }
  if (input.host.openwebui?.storage) {
    const storage = input.objectStorage;
    if (!storage) throw new Error(`host ${input.host.name}: Open WebUI keeps its files in S3, but no resolved object storage was given to the renderer`);
    env.comment("Open WebUI's files: S3");
    set("STORAGE_BUCKET", storage.bucket);
    set("STORAGE_PREFIX", storage.prefix);
    set("STORAGE_REGION", storage.region);
    set("STORAGE_ENDPOINT", storage.endpoint);
    set("STORAGE_ACCESS_KEY_ID", storage.accessKeyId);
    set("STORAGE_SECRET_ACCESS_KEY", storage.secretAccessKey);
  }
}

function addTarget(env: EnvLines, name: string, target: ResolvedTarget): void {
  const set = (key: string, value: string | undefined) => env.set("target", key, value, { target: name });
  env.comment(`target ${name}`);
  set("TYPE", target.type);
  switch (target.type) {
    case "s3":
      set("BUCKET", target.bucket);
      set("REGION", target.region);
      set("ENDPOINT", target.endpoint);
      set("ACCESS_KEY_ID", target.accessKeyId);
      set("SECRET_ACCESS_KEY", target.secretAccessKey);
      return;
    case "b2":
      set("BUCKET", target.bucket);
      set("KEY_ID", target.keyId);
      set("APPLICATION_KEY", target.applicationKey);
      return;
    case "local":
      return;
    default: {
      const unknownTarget: never = target;
      throw new Error(`unknown target type ${JSON.stringify(unknownTarget)}`);
    }
  }
}

export function renderBackupEnv(input: HostRenderInput): HostFile {
  const { host } = input;
  const usedTargets = [...new Set(host.jobs.flatMap((j) => j.targets))];
  const env = new EnvLines();
  const set = (key: string, value: string | undefined) => env.set("host", key, value);
  set("HOST", host.name);
  set("STACK", input.stack);
  if (host.data === undefined) env.comment("no data directory: every job on this host is a pull");
  else if ("dir" in host.data) set("DATA_DIR", host.data.dir);
  else set("DATA_VOLUME", host.data.volume);
  set("CONTAINERS", host.containers.join(" "));
  set("OPENWEBUI_CONTAINER", OPENWEBUI_CONTAINER);
  set("SQLITE_FILES", OPENWEBUI_DATABASES.join(" "));
  set("SQLITE_TIMEOUT_MS", undefined);
  set("STAGING_DIR", host.paths.stagingDir);
  set("STILL_SECONDS", undefined);
  set("STATE_DIR", host.paths.stateDir);
  set("LOCK_DIR", host.paths.lockDir);
  set("LOG_DIR", host.paths.logDir);
  set("JOBS", host.jobs.map((j) => j.name).join(" "));
  set("METRICS_FILE", host.paths.metricsFile);
  addSources(env, input);
  for (const job of host.jobs) addJob(env, input, job);
  for (const t of usedTargets) addTarget(env, t, input.targets[t]);
  env.comment("secrets and alerting");
  if (host.jobs.some((j) => j.method === "restic")) set("RESTIC_PASSWORD", input.resticPassword);
  set("WEBHOOK_URL", input.notify.webhookUrl || undefined);
  set("HEALTHCHECK_URL", input.notify.healthcheckUrl || undefined);
  const lines = [
    `# Settings of openwebui-backup on host "${host.name}". Holds credentials: mode 0600, root only.`,
    `# ${generatedHeader(input)}`,
    "# shellcheck shell=bash disable=SC2034,SC2016 # sourced by openwebui-backup, which reads every variable; values are literal on purpose",
    // REQUIRED itself is checked by name in load_env, so it lists the others.
    shellAssignment(settingName("host", "REQUIRED"), env.required.filter((n) => n !== settingName("host", "REQUIRED")).join(" ")),
    ...env.lines,
  ];
  return { path: host.paths.envFile, mode: 0o600, content: lines.join("\n") + "\n" };
}

/** The backup command and its env file: what every host with jobs gets. */
export function renderBackupFiles(input: HostRenderInput): HostFile[] {
  return [renderBackupCommand(input), renderBackupEnv(input)];
}
