/**
 * The one config model: what users write under `openwebui:` in `Pulumi.<stack>.yaml`, composed
 * from the schemas of each area (targets, jobs, scheduling, the Open WebUI stack, AWS hosts,
 * Kubernetes clusters).
 *
 * `index.ts` (through `pulumi.Config`) and the render CLI (through the YAML file) both
 * parse with `parseStackConfig`, so a bad value fails the same way in both places.
 * Every object is strict: an unknown key is a typo that would otherwise silently drop
 * part of a backup.
 */
import { z } from "zod";
import { dockerName, hostPath, name, secretString, sshEndpointShape, strictObject, url } from "./fields";
import { CONSISTENCY_MODES, JOB_METHODS, jobSchema, retentionSchema } from "./jobs";
import { b2TargetSchema, localTargetSchema, s3TargetSchema, targetSchema } from "./targets";
import { hostDatabaseSchema } from "./database";
import { openwebuiServiceSchema, resolveHostData, stackHostDatabase } from "./openwebui-service";
import { hostProvisionSchema, hostSnapshotsSchema } from "./host-aws";
import { hostScheduleShape } from "./schedule";
import { clusterSchema } from "./clusters";

/** The method and consistency lists belong to the model as much as their types below do. */
export { CONSISTENCY_MODES, DEFAULT_PRUNE_SCHEDULE, JOB_METHODS, pruneScheduleOf } from "./jobs";

// ---------------------------------------------------------------- hosts

export const connectionSchema = strictObject({
  ...sshEndpointShape,
  privateKey: secretString.optional(),
});

const dataSchema = z.union([strictObject({ dir: hostPath }), strictObject({ volume: dockerName("volume") })], {
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

export const hostSchema = strictObject({
  name: name("host name"),
  /** Optional when `openwebui` is set (derived from where the stack keeps its data) or every job is a pull. */
  data: dataSchema.optional(),
  /**
   * Open WebUI's main database when it is PostgreSQL (config/database.ts); absent: SQLite in `data`.
   * Derived from `openwebui.database` when that is set; when both are given they must agree.
   */
  database: hostDatabaseSchema.optional(),
  containers: z.array(dockerName("container")).default(["open-webui"]),
  connection: connectionSchema.optional(),
  paths: hostPathsSchema.default(hostPathsSchema.parse({})),
  jobs: z.array(jobSchema).default([]),
  /** scheduler, randomizedDelaySec, restoreDrill: see config/schedule.ts. */
  ...hostScheduleShape,
  openwebui: openwebuiServiceSchema.optional(),
  /** This host's restic password; absent: the stack's `resticPassword`, else one `pulumi up` generates. */
  resticPassword: secretString.optional(),
  snapshots: hostSnapshotsSchema.optional(),
  provision: hostProvisionSchema.optional(),
}).transform((host, ctx) => ({
  ...host,
  // A puller (every job `pull`) backs up no data of its own: `data` stays absent there.
  data: !host.data && !host.openwebui && host.jobs.length > 0 && host.jobs.every((j) => j.method === "pull") ? undefined : resolveHostData(host, ctx),
  database: host.database ?? (host.openwebui?.database ? stackHostDatabase(host.openwebui.database) : undefined),
}));

// ---------------------------------------------------------------- the stack

export const notifySchema = strictObject({
  webhookUrl: url.optional(),
  healthcheckUrl: url.optional(),
});

/** Keys under the `openwebui:` namespace, without the namespace. */
export const stackConfigSchema = strictObject({
  targets: z.record(z.string(), targetSchema).default({}),
  /** At least one host or cluster (rules/clusters.ts). */
  hosts: z.array(hostSchema).default([]),
  /** Kubernetes clusters running Open WebUI from its Helm chart: config/clusters.ts. */
  clusters: z
    .array(clusterSchema)
    .default([])
    .describe("Kubernetes clusters running Open WebUI from its official Helm chart, with CloudNativePG, k8up, pre-upgrade backups and a restore drill (docs/kubernetes.md)."),
  notify: notifySchema.default({}),
  /** One password for every host without its own (`hosts[].resticPassword`); absent: generated per host. */
  resticPassword: secretString.optional(),
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type HostConfig = z.infer<typeof hostSchema>;
export type JobConfig = z.infer<typeof jobSchema>;
export type { ClusterConfig, ClusterFilesConfig } from "./clusters";
export type TargetConfig = z.infer<typeof targetSchema>;
export type S3TargetConfig = z.infer<typeof s3TargetSchema>;
export type B2TargetConfig = z.infer<typeof b2TargetSchema>;
export type LocalTargetConfig = z.infer<typeof localTargetSchema>;
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type HostPaths = z.infer<typeof hostPathsSchema>;
export type NotifyConfig = z.infer<typeof notifySchema>;
export type JobMethod = (typeof JOB_METHODS)[number];
export type ConsistencyMode = (typeof CONSISTENCY_MODES)[number];
