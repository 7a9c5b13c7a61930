/**
 * `npm run docs`: regenerates docs/config-reference.md's key table from the zod schema
 * (`stackConfigSchema`), so the table cannot drift from what `parseStackConfig` accepts.
 *
 * The schema is exported with zod 4's `z.toJSONSchema` (input side: defaults shown, transforms
 * ignored) and walked into one row per key path: `hosts[].jobs[].retention.daily`. Types,
 * defaults and "required" come from the schema; descriptions come from a `.describe()` in
 * the schema when present, else from `DESCRIPTIONS` below. `test/config-reference.unit.test.ts`
 * fails when a key has no description, when a description names a key that no longer
 * exists, or when docs/config-reference.md is not what this script generates.
 *
 *   npm run docs               rewrite docs/config-reference.md between the markers
 *   npm run docs -- --check    exit 1 when docs/config-reference.md is stale
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { stackConfigSchema } from "../../config/schema";

export const START_MARKER = "<!-- config-reference:start -->";
export const END_MARKER = "<!-- config-reference:end -->";

/** The JSON Schema subset zod 4 emits for our config. */
interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  format?: string;
}

export interface ReferenceRow {
  /** Key path as users write it; `[]` is any list element, `<name>` any map key. */
  path: string;
  /** Which variant of a union the key belongs to, e.g. `type: s3`; empty when always. */
  when: string;
  type: string;
  required: boolean;
  /** Compact JSON of the default, or "" when none. */
  default: string;
  description: string;
}

/** Lookup key of a row in `DESCRIPTIONS`: the path, with its variant in parentheses. */
export function rowKey(row: Pick<ReferenceRow, "path" | "when">): string {
  return row.when ? `${row.path} (${row.when})` : row.path;
}

/**
 * What each key means. Keep them short and true to the code; the test lists missing and
 * stale entries. Keys: see `rowKey`.
 */
export const DESCRIPTIONS: Record<string, string> = {
  targets: "Where backups go, by target name (lowercase letters, digits, '-'). Jobs refer to these names.",
  "targets.<name>": "One backup target; `type` selects the kind and which keys apply.",
  "targets.<name>.type (type: s3)": "An S3 bucket (AWS or any S3-compatible service).",
  "targets.<name>.bucket (type: s3)": "Bucket name. Required unless `managed` (then: the bucket to create; absent, Pulumi names it).",
  "targets.<name>.prefix (type: s3)": "Key prefix; default the host name. Each job writes under `<prefix>/<job>`.",
  "targets.<name>.region (type: s3)": "AWS region, e.g. `eu-central-1`. Required unless `endpoint` is given.",
  "targets.<name>.endpoint (type: s3)": "Endpoint URL of an S3-compatible service (MinIO, Wasabi, B2's S3 API).",
  "targets.<name>.accessKeyId (type: s3)": "Access key id (plain or Pulumi secret). Goes with `secretAccessKey`; managed targets get a per-host key instead.",
  "targets.<name>.secretAccessKey (type: s3)": "Secret access key; store it with `pulumi config set --secret`.",
  "targets.<name>.managed (type: s3)": "Let `pulumi up` create the bucket (versioned, encrypted, private, TLS only) and one least-privilege IAM user and key per host.",
  "targets.<name>.managed.lifecycle (type: s3)": "Lifecycle rules, one set per job location; checked against the jobs' retention.",
  "targets.<name>.managed.lifecycle.transitionDays (type: s3)": "Days after upload that objects move to `transitionStorageClass`.",
  "targets.<name>.managed.lifecycle.transitionStorageClass (type: s3)": "Storage class for the transition; default STANDARD_IA. Restic repositories accept only instant-retrieval classes.",
  "targets.<name>.managed.lifecycle.expirationDays (type: s3)": "Days after upload that current objects expire; refused under restic repositories.",
  "targets.<name>.managed.lifecycle.noncurrentDays (type: s3)": "Days a deleted or overwritten version stays recoverable; default 30.",
  "targets.<name>.managed.lifecycle.noncurrentNewerVersions (type: s3)": "Keep this many newest noncurrent versions even after `noncurrentDays`.",
  "targets.<name>.managed.lifecycle.abortMultipartDays (type: s3)": "Days after which incomplete multipart uploads are aborted; default 7.",
  "targets.<name>.managed.objectLock (type: s3)": "Object lock, set at bucket creation: versions cannot be deleted for `days`.",
  "targets.<name>.managed.objectLock.mode (type: s3)": "`governance` (privileged users may override) or `compliance` (nobody may).",
  "targets.<name>.managed.objectLock.days (type: s3)": "Default retention of every object version, in days.",
  "targets.<name>.managed.undoDays (type: s3)": "Days a deleted or overwritten backup must stay recoverable; default `objectLock.days`.",
  "targets.<name>.managed.kmsKeyArn (type: s3)": "Encrypt with this KMS key (SSE-KMS) instead of SSE-S3.",
  "targets.<name>.type (type: b2)": "A Backblaze B2 bucket (native API, through rclone and restic's b2 backend).",
  "targets.<name>.bucket (type: b2)": "Bucket name. Required unless `managed` (then: absent, the target name plus a random suffix).",
  "targets.<name>.prefix (type: b2)": "File name prefix; default the host name. Each job writes under `<prefix>/<job>`.",
  "targets.<name>.keyId (type: b2)": "Application key id. Required unless `managed`.",
  "targets.<name>.applicationKey (type: b2)": "Application key; store it with `pulumi config set --secret`. Required unless `managed`.",
  "targets.<name>.managed (type: b2)": "Let `pulumi up` create a private SSE-B2 bucket and one application key per host, limited to its prefix.",
  "targets.<name>.managed.lifecycle (type: b2)": "Lifecycle rules, one per job location; checked against the jobs' retention.",
  "targets.<name>.managed.lifecycle.daysFromUploadingToHiding (type: b2)": "Days after upload that files are hidden; refused under restic repositories.",
  "targets.<name>.managed.lifecycle.daysFromHidingToDeleting (type: b2)": "Days a hidden (deleted or overwritten) version stays recoverable; default 30.",
  "targets.<name>.managed.fileLock (type: b2)": "File lock: versions cannot be deleted for `days`.",
  "targets.<name>.managed.fileLock.mode (type: b2)": "`governance` or `compliance`.",
  "targets.<name>.managed.fileLock.days (type: b2)": "Default retention of every file version, in days.",
  "targets.<name>.managed.undoDays (type: b2)": "Days a deleted or overwritten backup must stay recoverable; default `fileLock.days`.",
  "targets.<name>.type (type: local)": "A directory on the host: a second disk or a mounted NAS.",
  "targets.<name>.path (type: local)": "Absolute path; each job writes under `<path>/<host>/<job>`.",

  hosts: "The Docker hosts: what runs on each and how it is backed up. At least one host or cluster.",
  "hosts[].name": "Host name (lowercase letters, digits, '-'); used in unit names, remote paths and resource names.",
  "hosts[].data": "What the backups read: `{ dir: /path }` or `{ volume: name }`. Optional when `openwebui` is set (derived from `openwebui.data`).",
  "hosts[].data.dir": "Absolute path of Open WebUI's data directory on the host.",
  "hosts[].data.volume": "Docker named volume holding Open WebUI's data (resolved with `docker volume inspect` on the host).",
  "hosts[].database": "Open WebUI's main database when it is PostgreSQL, for the backups: derived from `openwebui.database` when that is set (then both must agree); absent: SQLite in `data`.",
  "hosts[].database.postgres": "`{ url }`, or `{ container, user, database }` of a server in a container on the host (the client tools run inside it).",
  "hosts[].database.postgres.url": "`postgresql://user:password@host:5432/database[?sslmode=…]`; a secret, written only to the 0600 env file.",
  "hosts[].database.postgres.container": "The database container; never paused or stopped by a backup.",
  "hosts[].database.postgres.user": "The role `pg_dump` connects as (over the container's local socket).",
  "hosts[].database.postgres.database": "The database dumped and restored.",
  "hosts[].containers": "Containers that jobs with `consistency: pause` or `stop` pause or stop; must include `open-webui` when `openwebui` is set.",
  "hosts[].connection": "SSH connection to the host. Absent: the host is the machine running `pulumi up` (local Docker socket, local commands).",
  "hosts[].connection.host": "Host name or IP address.",
  "hosts[].connection.user": "SSH user; it must be root or have passwordless `sudo` (the installer writes /etc and /usr/local).",
  "hosts[].connection.port": "SSH port.",
  "hosts[].connection.privateKey": "SSH private key (store it as a secret); absent: your SSH agent and default keys.",
  "hosts[].paths": "Where the host command keeps its own files.",
  "hosts[].paths.envFile": "The env file with settings and credentials (mode 0600).",
  "hosts[].paths.command": "Where the host command `openwebui-backup` is installed.",
  "hosts[].paths.stagingDir": "Where the consistent local copy of the data is staged before upload.",
  "hosts[].paths.stateDir": "Per-job state (last run, last success).",
  "hosts[].paths.lockDir": "Lock files that keep two runs of a job apart.",
  "hosts[].paths.logDir": "Per-job log files.",
  "hosts[].paths.metricsFile": "Prometheus textfile-collector file written after every run; absent: no metrics file.",
  "hosts[].jobs": "Backup jobs of this host.",
  "hosts[].jobs[].name": "Job name (lowercase letters, digits, '-'); `openwebui-backup run <name>`.",
  "hosts[].jobs[].method": "`restic` (deduplicated, encrypted repository), `snapshot` (a dated copy per run), `sync` (a mirror at `<location>/current`, uploaded through `<location>/next` so a complete one is always there; S3 or B2 only), `local-snapshot` (hard-linked dated copies in a local directory) or `pull` (a NAS pulling another host's snapshots over SSH).",
  "hosts[].jobs[].targets": "Target names this job writes to, each in full.",
  "hosts[].jobs[].schedule": "When it runs: a systemd calendar expression or a 5-field cron expression.",
  "hosts[].jobs[].pruneSchedule": "When `openwebui-backup prune` frees what the retention no longer keeps (restic prune, old dated folders); runs only forget or add. Absent: weekly, `Sun *-*-* 05:30:00`. Not for sync.",
  "hosts[].jobs[].retention": "What to keep (every method but sync, which keeps one mirror): `keep` (snapshot: newest N dated copies; restic: --keep-last) and/or restic's hourly/daily/weekly/monthly/yearly.",
  "hosts[].jobs[].retention.keep": "Keep the newest N backups.",
  "hosts[].jobs[].retention.hourly": "restic: keep the newest backup of each of the last N hours.",
  "hosts[].jobs[].retention.daily": "restic: keep the newest backup of each of the last N days.",
  "hosts[].jobs[].retention.weekly": "restic: keep the newest backup of each of the last N weeks.",
  "hosts[].jobs[].retention.monthly": "restic: keep the newest backup of each of the last N months.",
  "hosts[].jobs[].retention.yearly": "restic: keep the newest backup of each of the last N years.",
  "hosts[].jobs[].consistency": "`online` (SQLite online backup while Open WebUI runs), `pause` or `stop` the containers while the local copy is taken.",
  "hosts[].jobs[].exclude": "Paths under the data directory left out of the backup.",
  "hosts[].jobs[].shrinkLimit": "Source gate: a run refuses (non-zero exit, alert, nothing shipped or pruned) when its copy has more than this percentage fewer files or bytes than the last successful backup. `openwebui-backup run <job> --allow-shrink` accepts one intended shrink. An empty data directory or a missing `webui.db` is always refused.",
  "hosts[].jobs[].settleTimeout": "Consistency `online`: seconds to wait for folders whose files changed while they were copied (Chroma rewrites its index files in place) to stay still for a moment and be copied again; folders still changing then are copied with the containers paused briefly (`openwebui_backup_pause_seconds`).",
  "hosts[].jobs[].from": "method `pull` only: where to pull from (another host's `local-snapshot` folder, over SSH with rsync).",
  "hosts[].jobs[].from.host": "Source host name or IP address.",
  "hosts[].jobs[].from.user": "SSH user on the source host (restrict its key with `rrsync -ro`).",
  "hosts[].jobs[].from.port": "SSH port of the source host.",
  "hosts[].jobs[].from.sshKeyFile": "Private key file on the pulling host (its path, not its content).",
  "hosts[].jobs[].from.path": "Folder on the source host holding its snapshots.",
  "hosts[].jobs[].from.hostKey": 'The source\'s SSH host key ("ssh-ed25519 AAAA…"); absent: trusted on first use.',
  "hosts[].jobs[].healthcheckUrl": "Overrides `notify.healthcheckUrl` for this job (one check per job).",
  "hosts[].jobs[].timeout": 'How long a run (and the restore drill of this job) may take: a systemd time span such as "6h", "90min" or "1h 30min". The command stops a run that takes longer (TERM, the containers come back, nothing is pruned), alerts and exits non-zero, also under cron; the systemd unit\'s `TimeoutStartSec=` is 5 minutes more, as a backstop.',
  "hosts[].scheduler": "`systemd` timers (hardened, catch up after downtime) or `cron`.",
  "hosts[].randomizedDelaySec": "Random delay before each run, in seconds; 0 turns it off.",
  "hosts[].restoreDrill": "A periodic `openwebui-backup verify`: restore into scratch space, check, clean up.",
  "hosts[].restoreDrill.enabled": "On by default.",
  "hosts[].restoreDrill.schedule": "When the drill runs (systemd calendar or cron expression).",
  "hosts[].restoreDrill.job": "Which job to verify; default the host's first job.",
  "hosts[].restoreDrill.target": "Which target to restore from; default the job's first target.",
  "hosts[].openwebui": "Run Open WebUI (and optionally Ollama) on this host with Docker.",
  "hosts[].resticPassword": "This host's restic password (only for a host with restic jobs); absent: the stack's `resticPassword`, else one `pulumi up` generates for this host. Set it with `pulumi config set --secret --path 'openwebui:hosts[0].resticPassword' …`.",
  "hosts[].openwebui.image": "Open WebUI image with a tag, digest preferred: `ghcr.io/open-webui/open-webui:v0.11.4@sha256:…`. `latest` is refused. Changing it backs up first (`preUpgradeBackup`).",
  "hosts[].openwebui.port": "Host port Open WebUI is published on.",
  "hosts[].openwebui.bindAddress": "Address the port is published on; 127.0.0.1 so nothing is exposed by accident.",
  "hosts[].openwebui.allowAllInterfaces": "Required to publish on 0.0.0.0 or :: (every interface).",
  "hosts[].openwebui.secretKey": "WEBUI_SECRET_KEY of an existing installation (restores need the key the data was written with); absent: generated once and kept in the Pulumi state.",
  "hosts[].openwebui.env": "Extra environment variables for Open WebUI (not WEBUI_SECRET_KEY or OLLAMA_BASE_URL).",
  "hosts[].openwebui.env.<name>": "Value of the variable `<name>`.",
  "hosts[].openwebui.data": "Where Open WebUI keeps `/app/backend/data`: a named volume (kept on `pulumi destroy`) or a host directory.",
  "hosts[].openwebui.data.volume": "Docker volume name.",
  "hosts[].openwebui.data.dir": "Absolute host directory (not /).",
  "hosts[].openwebui.preUpgradeBackup":
    "The job `pulumi up` runs once before it replaces the Open WebUI container with another image (`openwebui-backup pre-upgrade`): a restic, snapshot or local-snapshot job of this host; default its first restic or snapshot job; `false` for none (refused on prod stacks).",
  "hosts[].openwebui.ollama": "The Ollama container.",
  "hosts[].openwebui.ollama.enabled": "Run Ollama beside Open WebUI (OLLAMA_BASE_URL points at it).",
  "hosts[].openwebui.ollama.image": "Ollama image with a tag (digest preferred); required when enabled.",
  "hosts[].openwebui.ollama.gpus": '`"all"` or a list of GPU device ids; absent: no GPU access.',
  "hosts[].openwebui.ollama.models": "Models pulled with `ollama pull` after the container is healthy.",
  "hosts[].openwebui.ollama.data": "Where Ollama keeps `/root/.ollama` (models); must differ from `openwebui.data`.",
  "hosts[].openwebui.ollama.data.volume": "Docker volume name.",
  "hosts[].openwebui.ollama.data.dir": "Absolute host directory (not /).",
  "hosts[].openwebui.database": "Open WebUI's main database in PostgreSQL instead of SQLite in the data volume (docs/postgres.md); absent: SQLite.",
  "hosts[].openwebui.database.postgres": "`image` (the stack runs PostgreSQL) or `url` (a server it does not run).",
  "hosts[].openwebui.database.postgres.image": "A pinned postgres image; the stack runs it as container `open-webui-db` with a retained volume `open-webui-db`, a generated password and a `pg_isready` health check, on the stack's network, no port published.",
  "hosts[].openwebui.database.postgres.url": "`postgresql://user:password@host:5432/database[?sslmode=…]` of a server the stack does not run; a secret. The backup command dumps it with the host's pg_dump (at least the server's major version).",
  "hosts[].openwebui.database.postgres.vectors": "Vectors in this database too (`VECTOR_DB=pgvector`); needs an image or server with pgvector.",
  "hosts[].openwebui.storage": "Open WebUI's files in S3 instead of the data volume; absent: files in the data volume.",
  "hosts[].openwebui.storage.s3": "`STORAGE_PROVIDER=s3` with the bucket, endpoint and region of an s3 target; backups copy the prefix after the database dump.",
  "hosts[].openwebui.storage.s3.target": "Name of an s3 target under `targets`; a managed one gets a key for Open WebUI that reaches only the prefix.",
  "hosts[].openwebui.storage.s3.prefix": "Key prefix of the files (`S3_KEY_PREFIX`); no backup location on the target may overlap it.",
  "hosts[].snapshots": "Whole-machine snapshots; `aws` is the only kind (elsewhere use your provider's snapshot feature).",
  "hosts[].snapshots.aws": "An AWS DLM lifecycle policy (with its IAM role) snapshotting this host's EBS volumes.",
  "hosts[].snapshots.aws.instanceId": "An existing instance to snapshot; the stack tags it. Not with `provision`.",
  "hosts[].snapshots.aws.tags": "Tags already on the instance (or volumes) that select what to snapshot. Not with `provision`.",
  "hosts[].snapshots.aws.tags.<name>": "Tag value.",
  "hosts[].snapshots.aws.target": "`instance` (all volumes, crash-consistent together) or `volume` (tagged volumes one by one).",
  "hosts[].snapshots.aws.schedules": "Up to 4 schedules, each `every`+`at` or `cron`, each `keep` or `keepDays`.",
  "hosts[].snapshots.aws.schedules[].name": "Schedule name.",
  "hosts[].snapshots.aws.schedules[].every": 'Interval, e.g. "24h" (the intervals DLM accepts).',
  "hosts[].snapshots.aws.schedules[].at": 'UTC start time "HH:MM"; required with `every`.',
  "hosts[].snapshots.aws.schedules[].cron": 'AWS 6-field cron in UTC, e.g. "cron(0 3 ? * SUN *)"; instead of `every`/`at`.',
  "hosts[].snapshots.aws.schedules[].keep": "Keep the newest N snapshots of this schedule.",
  "hosts[].snapshots.aws.schedules[].keepDays": "Keep this schedule's snapshots for N days.",
  "hosts[].snapshots.aws.copyTo": "Copies of every schedule's snapshots into other regions.",
  "hosts[].snapshots.aws.copyTo[].region": "Destination region.",
  "hosts[].snapshots.aws.copyTo[].keepDays": "How long copies are kept, in days.",
  "hosts[].snapshots.aws.copyTo[].encrypted": "Encrypt the copies.",
  "hosts[].snapshots.aws.copyTo[].kmsKeyArn": "KMS key in the destination region; absent: that region's default EBS key.",
  "hosts[].snapshots.aws.fastRestore": "Fast snapshot restore for the newest `count` snapshots of the first schedule.",
  "hosts[].snapshots.aws.fastRestore.availabilityZones": "Zones where restores are fast.",
  "hosts[].snapshots.aws.fastRestore.count": "How many of the newest snapshots.",
  "hosts[].snapshots.aws.allowOverlapWithBackups": "Accept snapshots starting in the same hour as a file-backup job.",
  "hosts[].provision": "Let the stack create the host; `aws` is the only kind.",
  "hosts[].provision.aws": "An EC2 instance (Debian 12, IMDSv2) with a security group, a separate gp3 data volume for Docker, and an instance role.",
  "hosts[].provision.aws.instanceType": 'EC2 instance type, e.g. "t3.large".',
  "hosts[].provision.aws.subnetId": "Subnet to launch in; absent: the default VPC's first available zone.",
  "hosts[].provision.aws.keyName": "EC2 key pair for SSH.",
  "hosts[].provision.aws.dataVolumeGb": "Size of the gp3 volume that holds /var/lib/docker (kept on `pulumi destroy`).",
  "hosts[].provision.aws.allowedCidrs": "Where SSH (port 22) is reachable from.",
  "hosts[].provision.aws.sshFromAnywhere": "Required to list 0.0.0.0/0 or ::/0 in `allowedCidrs`.",
  "hosts[].provision.aws.publishWeb": "Open the Open WebUI port to the internet; default closed (use an SSH tunnel).",
  "hosts[].provision.aws.region": "Region of the instance; absent: the AWS provider's region.",

  notify: "Where failures and successes are reported.",
  "notify.webhookUrl": "A URL that receives a JSON POST per run.",
  "notify.healthcheckUrl": "A healthchecks.io-style URL: pinged at start, on success, and at `/fail`.",
  resticPassword:
    "One restic password for every host without its own `hosts[].resticPassword`; absent: `pulumi up` generates one per host (exported as the secret output `resticPasswords`). Shared by two or more hosts it draws a warning. Store it with `pulumi config set --secret`.",
};

// ---------------------------------------------------------------- walking the schema

const escapeCell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function scalarType(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const t = Array.isArray(s.type) ? s.type.join(" | ") : s.type;
  if (t === "string" && s.format === "uri") return "URL";
  return t ?? "any";
}

function typeOf(s: JsonSchema): string {
  const members = s.anyOf ?? s.oneOf;
  if (members) {
    if (members.every((m) => m.type === "object")) return "object";
    return members.map(typeOf).join(" | ");
  }
  if (s.type === "array") return s.items && s.items.type === "object" ? "list of objects" : `list of ${s.items ? typeOf(s.items) : "any"}`;
  if (s.type === "object") return s.properties ? "object" : "map";
  return scalarType(s);
}

function defaultOf(s: JsonSchema): string {
  if (s.default === undefined) return "";
  if (s.default !== null && typeof s.default === "object" && !Array.isArray(s.default) && Object.keys(s.default).length > 0) {
    return "(its keys' defaults)";
  }
  return JSON.stringify(s.default);
}

/** Every key path of the config, in schema order; parents before children. */
export function referenceRows(schema: JsonSchema = z.toJSONSchema(stackConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const visit = (s: JsonSchema, at: string, when: string, required: boolean) => {
    if (at) {
      const row = { path: at, when, type: typeOf(s), required: required && s.default === undefined, default: defaultOf(s), description: "" };
      row.description = s.description ?? DESCRIPTIONS[rowKey(row)] ?? "";
      rows.push(row);
    }
    children(s, at, when);
  };
  const children = (s: JsonSchema, at: string, when: string) => {
    const members = s.anyOf ?? s.oneOf;
    if (members) {
      for (const m of members) {
        if (m.type !== "object") continue;
        // The variant's discriminator: its first key with a constant value (`type: s3`, `provider: pvc`).
        const tag = Object.entries(m.properties ?? {}).find(([, p]) => p.const !== undefined);
        children(m, at, tag ? `${tag[0]}: ${String(tag[1].const)}` : when);
      }
      return;
    }
    const prefix = at ? `${at}.` : "";
    if (s.type === "object" && s.properties) {
      const required = new Set(s.required ?? []);
      for (const [key, child] of Object.entries(s.properties)) visit(child, `${prefix}${key}`, when, required.has(key));
    } else if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
      visit(s.additionalProperties, `${prefix}<name>`, when, false);
    } else if (s.type === "array" && s.items && (s.items.type === "object" || s.items.anyOf || s.items.oneOf)) {
      children(s.items, `${at}[]`, when);
    }
  };
  visit(schema, "", "", true);
  return rows;
}

/** The markdown table docs/config-reference.md holds between the markers. */
export function configReferenceMarkdown(rows: ReferenceRow[] = referenceRows()): string {
  const lines = [
    "<!-- generated by `npm run docs` (scripts/cli/config-reference.ts) from config/schema.ts; do not edit by hand -->",
    "",
    "Every key goes under the `openwebui:` namespace in `Pulumi.<stack>.yaml` (`openwebui:hosts`, `openwebui:targets`, …). " +
      "`[]` stands for any list element, `<name>` for any map key. Unknown keys are refused.",
    "",
    "| Key | When | Type | Required | Default | Description |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      [`\`${r.path}\``, r.when ? `\`${r.when}\`` : "", r.type, r.required ? "yes" : "", r.default ? `\`${r.default}\`` : "", r.description]
        .map(escapeCell)
        .join(" | ")
        .replace(/^/, "| ")
        .replace(/$/, " |"),
    ),
  ];
  return lines.join("\n");
}

/** `readme` with the text between the markers replaced; throws when the markers are missing. */
export function withConfigReference(readme: string, reference: string = configReferenceMarkdown()): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`no ${START_MARKER} … ${END_MARKER} section`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${reference}\n${readme.slice(end)}`;
}

export function main(argv: string[]): number {
  const readmePath = path.join(__dirname, "..", "..", "docs", "config-reference.md");
  const current = fs.readFileSync(readmePath, "utf8");
  const next = withConfigReference(current);
  const missing = referenceRows().filter((r) => !r.description);
  for (const r of missing) process.stderr.write(`docs: no description for ${rowKey(r)} (add it to DESCRIPTIONS in scripts/cli/config-reference.ts)\n`);
  if (argv.includes("--check")) {
    if (next !== current) {
      process.stderr.write("docs: docs/config-reference.md is stale; run `npm run docs`\n");
      return 1;
    }
    return missing.length > 0 ? 1 : 0;
  }
  if (next !== current) fs.writeFileSync(readmePath, next);
  process.stdout.write(next !== current ? "docs: docs/config-reference.md updated\n" : "docs: docs/config-reference.md already up to date\n");
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
