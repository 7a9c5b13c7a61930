/**
 * The contract between the renderer and the host command: every setting the env file may
 * hold, declared once. The renderer writes the env file only through `envSetting`, and the
 * file lists the names this host must have (OWB_REQUIRED), which the command checks when it
 * loads. A test reads the bash parts and holds both sides to this list.
 *
 * Names: host settings are OWB_<KEY>; per job OWB_JOB_<job>_<KEY>; per target
 * OWB_TARGET_<target>_<KEY>; per job and target OWB_JOB_<job>_AT_<target>_<KEY>. Config names
 * are [a-z0-9-] and become [a-z0-9_]; keys are upper case, so no two names can collide.
 */
import { shellIdent } from "./shell";

export type SettingScope = "host" | "job" | "target" | "job-target";

export interface HostSetting {
  readonly scope: SettingScope;
  readonly key: string;
  /** The command refuses to run without it (listed in OWB_REQUIRED when it applies). */
  readonly required: boolean;
  /** What the renderer writes when the config says nothing; the command keeps no default of its own. */
  readonly default?: string;
  readonly doc: string;
}

const host = (key: string, required: boolean, doc: string, dflt?: string): HostSetting => ({ scope: "host", key, required, doc, default: dflt });
const job = (key: string, required: boolean, doc: string): HostSetting => ({ scope: "job", key, required, doc });
const target = (key: string, required: boolean, doc: string): HostSetting => ({ scope: "target", key, required, doc });

/** How long a reader waits on "database is locked" while copying a busy SQLite database. */
export const SQLITE_BUSY_TIMEOUT_MS = 60000;

/**
 * Seconds a folder that changed while it was copied must stay still before it is copied again.
 * Chroma persists an HNSW segment in one burst of writes, milliseconds to a second long; two
 * seconds of quiet means the burst is over.
 */
export const STILL_SECONDS = 2;

export const HOST_SETTINGS: readonly HostSetting[] = [
  host("REQUIRED", true, "Names of the settings this host's file must set; checked when the command loads."),
  host("HOST", true, "The host's name in the stack: restic's --host, labels, alerts."),
  host("STACK", true, "The Pulumi stack that rendered the file, recorded in each manifest."),
  host("DATA_DIR", false, "The Open WebUI data directory on the host (or DATA_VOLUME)."),
  host("DATA_VOLUME", false, "The Docker volume holding the data directory (or DATA_DIR)."),
  host("CONTAINERS", false, "Containers paused or stopped around a copy."),
  host("OPENWEBUI_CONTAINER", true, "The Open WebUI container, whose image each manifest records."),
  host("SQLITE_FILES", true, "The SQLite databases of the data directory, copied inside a read transaction."),
  host("SQLITE_TIMEOUT_MS", true, "Busy timeout of the SQLite copies and checks.", String(SQLITE_BUSY_TIMEOUT_MS)),
  host("STAGING_DIR", true, "Where runs stage their copy."),
  host("STILL_SECONDS", true, "Online copies: how long a folder that changed while copied must stay still before it is copied again.", String(STILL_SECONDS)),
  host("STATE_DIR", true, "Run state, alert markers and metrics fragments."),
  host("LOCK_DIR", true, "Lock files."),
  host("LOG_DIR", true, "One log file per job."),
  host("JOBS", true, "The jobs of this host, space separated."),
  host("DATABASE_URL", false, "PostgreSQL the stack does not run: its URL (a secret); the client tools run on this host."),
  host("DATABASE_CONTAINER", false, "PostgreSQL in a container on this host: the client tools run inside it (docker exec)."),
  host("DATABASE_USER", false, "PostgreSQL in a container: the role the tools connect as."),
  host("DATABASE_NAME", false, "PostgreSQL in a container: the database dumped and restored."),
  host("DATABASE_PASSWORD", false, "PostgreSQL in a container: the role's password, passed as PGPASSWORD; absent: the container's local trust."),
  host("STORAGE_BUCKET", false, "Open WebUI's files in S3: the bucket."),
  host("STORAGE_PREFIX", false, "Open WebUI's files in S3: the key prefix (S3_KEY_PREFIX)."),
  host("STORAGE_REGION", false, "Open WebUI's files in S3: the region."),
  host("STORAGE_ENDPOINT", false, "Open WebUI's files in S3: a non-AWS endpoint."),
  host("STORAGE_ACCESS_KEY_ID", false, "Open WebUI's files in S3: the key id; absent: ambient credentials."),
  host("STORAGE_SECRET_ACCESS_KEY", false, "Open WebUI's files in S3: the secret key."),
  host("METRICS_FILE", false, "The Prometheus textfile; absent: no metrics."),
  host("RESTIC_PASSWORD", false, "Password of this host's restic repositories."),
  host("WEBHOOK_URL", false, "Where failures are posted."),
  host("HEALTHCHECK_URL", false, "healthchecks.io-style ping URL for jobs without their own."),
  job("METHOD", true, "restic, snapshot, sync, local-snapshot or pull."),
  job("TARGETS", true, "The job's targets, space separated."),
  job("CONSISTENCY", true, "online, pause or stop."),
  job("EXCLUDE", false, "Paths under the data directory left out."),
  job("SHRINK_LIMIT", true, "Source gate: the largest drop, in percent of files or bytes against the last successful backup, a run accepts."),
  job("SETTLE_TIMEOUT", true, "Online copies: seconds to wait for changing folders to settle before pausing the containers to copy them."),
  job("HEALTHCHECK_URL", false, "The job's own ping URL."),
  job("TIMEOUT", true, "Seconds a run (or the job's restore drill) may take before it is stopped and reported."),
  job("FROM_HOST", false, "pull: the source host."),
  job("FROM_USER", false, "pull: the SSH user."),
  job("FROM_PORT", false, "pull: the SSH port."),
  job("FROM_KEY", false, "pull: the SSH private key file."),
  job("FROM_PATH", false, "pull: the source's snapshot folder."),
  job("FROM_HOSTKEY", false, "pull: the source's host key; absent: trusted on first use."),
  job("KEEP_LAST", false, "Retention: the newest N backups."),
  job("KEEP_HOURLY", false, "Retention: one per hour for N hours."),
  job("KEEP_DAILY", false, "Retention: one per day for N days."),
  job("KEEP_WEEKLY", false, "Retention: one per ISO week for N weeks."),
  job("KEEP_MONTHLY", false, "Retention: one per month for N months."),
  job("KEEP_YEARLY", false, "Retention: one per year for N years."),
  target("TYPE", true, "s3, b2 or local."),
  target("BUCKET", false, "s3, b2: the bucket."),
  target("REGION", false, "s3: the region."),
  target("ENDPOINT", false, "s3: a non-AWS endpoint."),
  target("ACCESS_KEY_ID", false, "s3: the key id; absent: ambient credentials."),
  target("SECRET_ACCESS_KEY", false, "s3: the secret key."),
  target("KEY_ID", false, "b2: the application key id."),
  target("APPLICATION_KEY", false, "b2: the application key."),
  { scope: "job-target", key: "LOCATION", required: true, doc: "Where the job's backups live on the target: a key prefix or a local path." },
];

/** The scope names a setting needs. */
export interface SettingOwner {
  readonly job?: string;
  readonly target?: string;
}

export function settingName(scope: SettingScope, key: string, owner: SettingOwner = {}): string {
  const need = (what: "job" | "target") => {
    const value = owner[what];
    if (value === undefined) throw new Error(`setting ${key} (${scope}) needs a ${what} name`);
    return shellIdent(value);
  };
  switch (scope) {
    case "host":
      return `OWB_${key}`;
    case "job":
      return `OWB_JOB_${need("job")}_${key}`;
    case "target":
      return `OWB_TARGET_${need("target")}_${key}`;
    case "job-target":
      return `OWB_JOB_${need("job")}_AT_${need("target")}_${key}`;
    default: {
      const unknownScope: never = scope;
      throw new Error(`unknown setting scope ${String(unknownScope)}`);
    }
  }
}

/** The declared setting of that scope and key; throws for one the contract does not declare. */
export function declaredSetting(scope: SettingScope, key: string): HostSetting {
  const found = HOST_SETTINGS.find((s) => s.scope === scope && s.key === key);
  if (!found) throw new Error(`env contract: no ${scope} setting ${key} is declared`);
  return found;
}
