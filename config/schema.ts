/**
 * The one config model: what users write under `openwebui:` in `Pulumi.<stack>.yaml`.
 *
 * `index.ts` (through `pulumi.Config`) and the render CLI (through the YAML file) both
 * parse with `parseStackConfig`, so a bad value fails the same way in both places.
 * Every object is strict: an unknown key is a typo that would otherwise silently drop
 * part of a backup.
 */
import { z } from "zod";
import { bucketName, hostPath, name, positiveInt, prefix, secretString, strictObject, url } from "./primitives";
import { openwebuiServiceSchema, resolveHostData } from "./openwebui-service";
import { hostProvisionSchema, hostSnapshotsSchema } from "./host-aws";
import { hostScheduleShape } from "./schedule";
import { TIMESPAN_RULE, parseTimespan } from "./timespan";

export * from "./primitives";

// ---------------------------------------------------------------- targets

/**
 * Managed S3 bucket settings (the buckets issue): `pulumi up` creates the bucket (versioned,
 * encrypted, private, TLS only, never force-destroyed) and one least-privilege key per host.
 * Lifecycle rules apply per job location; `config/retention-agreement.ts` checks they agree
 * with what the jobs keep.
 */
export const s3ManagedSchema = strictObject({
  lifecycle: strictObject({
    /** Days after upload that objects move to `transitionStorageClass`. */
    transitionDays: positiveInt.optional(),
    /** Default STANDARD_IA. Restic repositories accept only the instant-retrieval classes. */
    transitionStorageClass: z.enum(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]).optional(),
    /** Days after upload that current objects expire. Refused under restic repositories. */
    expirationDays: positiveInt.optional(),
    /** Days a deleted or overwritten version stays recoverable. Default 30. */
    noncurrentDays: positiveInt.optional(),
    /** Keep this many newest noncurrent versions even after `noncurrentDays`. */
    noncurrentNewerVersions: positiveInt.optional(),
    /** Days after which incomplete multipart uploads are aborted. Default 7. */
    abortMultipartDays: positiveInt.optional(),
  }).optional(),
  /** Object lock (set at bucket creation): versions cannot be deleted for `days`. */
  objectLock: strictObject({ mode: z.enum(["governance", "compliance"]), days: positiveInt }).optional(),
  /** Days a deleted or overwritten backup must stay recoverable. Default: objectLock.days. */
  undoDays: positiveInt.optional(),
  /** Encrypt with this KMS key (SSE-KMS) instead of SSE-S3. */
  kmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/, { message: "must be a KMS key ARN such as arn:aws:kms:eu-central-1:123456789012:key/…" }).optional(),
});

/**
 * Managed B2 bucket settings: `pulumi up` creates a private SSE-B2 bucket and one application
 * key per host, limited to the bucket and the host's prefix.
 */
export const b2ManagedSchema = strictObject({
  lifecycle: strictObject({
    /** Days after upload that files are hidden. Refused under restic repositories. */
    daysFromUploadingToHiding: positiveInt.optional(),
    /** Days a hidden (deleted or overwritten) file version stays recoverable. Default 30. */
    daysFromHidingToDeleting: positiveInt.optional(),
  }).optional(),
  /** File lock: file versions cannot be deleted for `days`. */
  fileLock: strictObject({ mode: z.enum(["governance", "compliance"]), days: positiveInt }).optional(),
  /** Days a deleted or overwritten backup must stay recoverable. Default: fileLock.days. */
  undoDays: positiveInt.optional(),
});

export const s3TargetSchema = strictObject({
  type: z.literal("s3"),
  bucket: bucketName.optional(),
  prefix: prefix.optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region such as "eu-central-1"' }).optional(),
  endpoint: url.optional(),
  accessKeyId: secretString.optional(),
  secretAccessKey: secretString.optional(),
  managed: s3ManagedSchema.optional(),
});

export const b2TargetSchema = strictObject({
  type: z.literal("b2"),
  bucket: bucketName.optional(),
  prefix: prefix.optional(),
  keyId: secretString.optional(),
  applicationKey: secretString.optional(),
  managed: b2ManagedSchema.optional(),
});

export const localTargetSchema = strictObject({
  type: z.literal("local"),
  path: hostPath,
});

export const targetSchema = z.discriminatedUnion("type", [s3TargetSchema, b2TargetSchema, localTargetSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'expected one of "s3", "b2", "local"' : undefined),
});

// ---------------------------------------------------------------- jobs

export const JOB_METHODS = ["restic", "snapshot", "sync", "local-snapshot", "pull"] as const;
export const CONSISTENCY_MODES = ["online", "pause", "stop"] as const;

export const retentionSchema = strictObject({
  keep: positiveInt.optional(),
  hourly: positiveInt.optional(),
  daily: positiveInt.optional(),
  weekly: positiveInt.optional(),
  monthly: positiveInt.optional(),
  yearly: positiveInt.optional(),
});

/** Paths relative to the data directory: safe characters and '*' globs, no "..". */
const excludeEntry = z
  .string()
  .regex(/^[A-Za-z0-9._*-]+(\/[A-Za-z0-9._*-]+)*\/?$/, {
    message: "must be a path relative to the data directory of A-Z a-z 0-9 . _ - * and '/'",
  })
  .refine((p) => !p.split("/").includes(".."), { message: 'must not contain ".."' });

/**
 * Where a `pull` job fetches from: the folder of another host's `local-snapshot` job (its
 * `<target path>/<host>/<job>`), over SSH with rsync. The key should be restricted on the source
 * host to `command="rrsync -ro <that folder>"` (see README).
 */
export const pullSourceSchema = strictObject({
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, { message: "must be a host name or IP address" }),
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "must be a Unix user name" }).default("root"),
  port: z.number().int().min(1).max(65535).default(22),
  /** Private key on the pulling host (not its content: it stays on that host). */
  sshKeyFile: hostPath,
  /** Folder on the source host holding its `open-webui-backup-<time>` snapshots. */
  path: hostPath,
  /** The source's SSH host key line (`ssh-ed25519 AAAA…`); absent: trusted on first use. */
  hostKey: z.string().regex(/^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+$/, { message: 'must be a public host key such as "ssh-ed25519 AAAA…"' }).optional(),
});

export const jobSchema = strictObject({
  name: name("job name"),
  method: z.enum(JOB_METHODS),
  targets: z.array(z.string()).min(1, { message: "needs at least one target" }),
  schedule: z.string().min(1).refine((s) => !/[\n\r'"`$\\;]/.test(s), { message: "must be a systemd calendar or cron expression" }).default("*-*-* 03:00:00"),
  /** Required by every method but sync (a mirror: history is the bucket's versioning). */
  retention: retentionSchema.default({}),
  consistency: z.enum(CONSISTENCY_MODES).default("online"),
  /** Paths under the data directory left out of the backup. */
  exclude: z.array(excludeEntry).default(["cache/", "audit.log"]),
  /** method pull only: the source host's snapshot folder. */
  from: pullSourceSchema.optional(),
  /** Overrides notify.healthcheckUrl for this job (one check per job, as healthchecks.io expects). */
  healthcheckUrl: url.optional(),
  /** How long a run (or the restore drill of this job) may take before it is stopped and reported. */
  timeout: z
    .string({ error: `expected ${TIMESPAN_RULE}` })
    .refine((s) => parseTimespan(s) !== undefined, { message: `must be ${TIMESPAN_RULE}` })
    .default("6h"),
});

// ---------------------------------------------------------------- hosts

export const connectionSchema = strictObject({
  host: z.string().regex(/^[A-Za-z0-9.:-]+$/, { message: "must be a host name or IP address" }),
  user: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: "must be a Unix user name" }).default("root"),
  port: z.number().int().min(1).max(65535).default(22),
  privateKey: secretString.optional(),
});

const dataSchema = z.union([strictObject({ dir: hostPath }), strictObject({ volume: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "must be a Docker volume name" }) })], {
  error: "data: expected { dir: /absolute/path } or { volume: docker-volume-name }",
});

/** Where the host command keeps its own files; tests point these into a temporary directory. */
export const hostPathsSchema = strictObject({
  envFile: hostPath.default("/etc/openwebui-backup/backup.env"),
  command: hostPath.default("/usr/local/sbin/openwebui-backup"),
  stagingDir: hostPath.default("/var/lib/openwebui-backup/staging"),
  stateDir: hostPath.default("/var/lib/openwebui-backup/state"),
  lockDir: hostPath.default("/run/lock/openwebui-backup"),
  logDir: hostPath.default("/var/log/openwebui-backup"),
  /** Prometheus textfile-collector file written after every run; absent: no metrics file. */
  metricsFile: hostPath.optional(),
});

const containerName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: "must be a Docker container name" });

export const hostSchema = strictObject({
  name: name("host name"),
  /** Optional when `openwebui` is set (derived from where the stack keeps its data) or every job is a pull. */
  data: dataSchema.optional(),
  containers: z.array(containerName).default(["open-webui"]),
  connection: connectionSchema.optional(),
  paths: hostPathsSchema.default(hostPathsSchema.parse({})),
  jobs: z.array(jobSchema).default([]),
  /** scheduler, randomizedDelaySec, restoreDrill: see config/schedule.ts. */
  ...hostScheduleShape,
  openwebui: openwebuiServiceSchema.optional(),
  // Lazy: host-aws.ts imports helpers from this file.
  snapshots: z.lazy(() => hostSnapshotsSchema).optional(),
  provision: z.lazy(() => hostProvisionSchema).optional(),
}).transform((host, ctx) => ({
  ...host,
  // A puller (every job `pull`) backs up no data of its own: `data` stays absent there.
  data: !host.data && !host.openwebui && host.jobs.length > 0 && host.jobs.every((j) => j.method === "pull") ? undefined : resolveHostData(host, ctx),
}));

// ---------------------------------------------------------------- the stack

export const notifySchema = strictObject({
  webhookUrl: url.optional(),
  healthcheckUrl: url.optional(),
});

/** Keys under the `openwebui:` namespace, without the namespace. */
export const stackConfigSchema = strictObject({
  targets: z.record(z.string(), targetSchema).default({}),
  hosts: z.array(hostSchema).min(1, { message: "needs at least one host" }),
  notify: notifySchema.default({}),
  resticPassword: secretString.optional(),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type JobConfig = z.infer<typeof jobSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type S3TargetConfig = z.infer<typeof s3TargetSchema>;
export type B2TargetConfig = z.infer<typeof b2TargetSchema>;
export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type HostPaths = z.infer<typeof hostPathsSchema>;
export type NotifyConfig = z.infer<typeof notifySchema>;
export type JobMethod = (typeof JOB_METHODS)[number];
export type ConsistencyMode = (typeof CONSISTENCY_MODES)[number];
