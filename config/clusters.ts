/**
 * Kubernetes clusters (`clusters[]`): Open WebUI from its official Helm chart on a cluster, with
 * PostgreSQL from CloudNativePG (WAL archiving and base backups through the barman-cloud plugin),
 * files in an S3 prefix or on a volume k8up backs up, a backup before every upgrade and a restore
 * drill in the cluster. Rules across fields (targets, replicas and storage, schedules) are in
 * rules/clusters.ts.
 */
import { z } from "zod";
import { name, positiveInt, secretString, strictObject } from "./fields";

/** Versions the stack was built and checked against (see docs/kubernetes.md); config may pin others. */
export const DEFAULT_OPENWEBUI_CHART_VERSION = "16.0.0";
export const DEFAULT_OPENWEBUI_IMAGE_TAG = "0.11.0";
export const DEFAULT_CLUSTER_NAMESPACE = "openwebui";
/** CloudNativePG: six fields, seconds first. */
export const DEFAULT_DB_BACKUP_SCHEDULE = "0 0 3 * * *";
/** k8up and Kubernetes CronJobs: five fields. */
export const DEFAULT_FILES_BACKUP_SCHEDULE = "15 * * * *";
export const DEFAULT_FILES_CHECK_SCHEDULE = "30 4 * * 0";
export const DEFAULT_CLUSTER_DRILL_SCHEDULE = "0 5 * * 0";

/** A DNS-1123 label: namespaces and most object names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .max(63, { message: `${what} has at most 63 characters` })
    .regex(DNS_LABEL, { message: `must be ${what}: lowercase letters, digits and '-', starting and ending with a letter or digit` });

/** A DNS-1123 subdomain: storage class and ingress class names, Secret names. */
const dnsSubdomain = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, { message: `must be ${what}: lowercase letters, digits, '-' and '.'` });

/** A Kubernetes storage quantity such as 20Gi. */
export const storageQuantity = z
  .string({ error: 'expected a storage size such as "20Gi"' })
  .regex(/^[1-9][0-9]*(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/, { message: 'must be a storage size such as "20Gi" or "500Mi"' });

/** Cron schedules; the field counts and values are checked in rules/clusters.ts (calendar/kubernetes-cron.ts). */
const cronText = z
  .string({ error: "expected a cron expression" })
  .min(1)
  .refine((s) => !/[\n\r'"`$\\;%]/.test(s), { message: "must be a cron expression (no quotes, '$', '%', ';' or '\\')" });

const VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MOVING_TAGS = ["latest", "main", "dev", "cuda", "ollama"];

export const clusterOpenwebuiSchema = strictObject({
  chartVersion: z
    .string({ error: "expected a chart version such as 16.0.0" })
    .regex(VERSION, { message: 'must be a chart version such as "16.0.0"' })
    .default(DEFAULT_OPENWEBUI_CHART_VERSION)
    .describe("Version of the `open-webui` Helm chart (https://helm.openwebui.com). A change first backs up the database and the files, then upgrades."),
  imageTag: z
    .string({ error: "expected an image tag such as 0.11.0" })
    .regex(TAG, { message: "must be an image tag (letters, digits, '_', '.', '-')" })
    .refine((t) => !MOVING_TAGS.includes(t), { message: `must be a version tag such as "0.11.0"; ${MOVING_TAGS.join(", ")} move and would upgrade without the pre-upgrade backup` })
    .default(DEFAULT_OPENWEBUI_IMAGE_TAG)
    .describe("Tag of `ghcr.io/open-webui/open-webui`. A change first backs up the database and the files, then upgrades."),
  secretKey: secretString
    .optional()
    .describe("WEBUI_SECRET_KEY of an existing installation (moving from a host: `pulumi stack output --show-secrets openwebuiSecretKeys`); restores need the key the data was written with. Absent: generated once and kept in the Pulumi state."),
  replicas: positiveInt("a number of replicas")
    .max(50, { message: "at most 50 replicas" })
    .default(1)
    .describe("Open WebUI pods. Above 1: Redis websockets are deployed and the files must be in S3 or on a ReadWriteMany volume."),
  host: z
    .string({ error: "expected a host name such as chat.example.com" })
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$/, { message: 'must be a DNS host name such as "chat.example.com"' })
    .optional()
    .describe("Host name of an Ingress for Open WebUI. Absent: no Ingress (reach the Service another way)."),
  ingressClassName: dnsSubdomain("an ingress class name").optional().describe("Ingress class for the Ingress (needs `host`). Absent: the cluster's default class."),
  tlsSecret: dnsSubdomain("a Secret name").optional().describe("Secret (type kubernetes.io/tls) in the namespace with the Ingress certificate (needs `host`). Absent: no TLS on the Ingress."),
  ollama: strictObject({
    enabled: z.boolean().default(false).describe("Install Ollama with the chart (its `ollama` subchart)."),
  })
    .default({ enabled: false })
    .describe("Ollama in the cluster."),
  pipelines: strictObject({
    enabled: z.boolean().default(false).describe("Install the Pipelines server with the chart; off unless asked for."),
  })
    .default({ enabled: false })
    .describe("The Pipelines server."),
});

const s3FilesSchema = strictObject({
  provider: z.literal("s3").describe("Open WebUI stores uploads in the backup target's bucket, under `<prefix or cluster name>/uploads/` (versioned and lifecycle-managed when the target is managed)."),
});

const pvcFilesSchema = strictObject({
  provider: z.literal("pvc").describe("Open WebUI stores uploads on a volume; k8up backs it up with restic to the backup target."),
  size: storageQuantity.default("20Gi").describe("Size of the volume."),
  storageClass: dnsSubdomain("a storage class name").optional().describe("Storage class of the volume; absent: the cluster's default."),
  accessMode: z
    .enum(["ReadWriteOnce", "ReadWriteMany"], { error: 'expected "ReadWriteOnce" or "ReadWriteMany"' })
    .default("ReadWriteOnce")
    .describe("Access mode of the volume; ReadWriteMany (and a storage class that provides it) when `openwebui.replicas` is above 1."),
});

export const clusterFilesSchema = z.discriminatedUnion("provider", [s3FilesSchema, pvcFilesSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'expected { provider: s3 } or { provider: pvc, size, storageClass, accessMode }' : undefined),
});

export const clusterPostgresSchema = strictObject({
  instances: positiveInt("a number of PostgreSQL instances").max(9, { message: "at most 9 instances" }).default(3).describe("PostgreSQL instances (one primary, the rest streaming replicas)."),
  size: storageQuantity.default("20Gi").describe("Volume size of each instance."),
  storageClass: dnsSubdomain("a storage class name").optional().describe("Storage class of the instances' volumes; absent: the cluster's default."),
});

export const clusterBackupSchema = strictObject({
  target: z.string({ error: "expected the name of an s3 target under targets" }).describe("Name of the `s3` target (under `targets`) that receives WAL, base backups and file snapshots."),
  schedule: cronText.default(DEFAULT_DB_BACKUP_SCHEDULE).describe("Base backups (CloudNativePG ScheduledBackup): six cron fields, seconds first."),
  retention: z
    .string({ error: 'expected a retention such as "30d"' })
    .regex(/^[1-9][0-9]*[dwm]$/, { message: 'must be a number followed by d, w or m, such as "30d"' })
    .optional()
    .describe("How far back a restore can go (`30d`, `8w`, `6m`): old base backups, WAL and file snapshots are pruned from inside the cluster. Managed targets only (their keys cannot erase object versions); absent: nothing is pruned."),
  files: strictObject({
    schedule: cronText.default(DEFAULT_FILES_BACKUP_SCHEDULE).describe("File volume backups (k8up, restic): five cron fields."),
    checkSchedule: cronText.default(DEFAULT_FILES_CHECK_SCHEDULE).describe("restic check of the file repository, with the reader key: five cron fields."),
  })
    .optional()
    .describe("Schedules of the file volume's backups (`files.provider: pvc` only)."),
});

export const clusterRestoreDrillSchema = strictObject({
  enabled: z.boolean().default(true).describe("On by default: a CronJob restores the database and files into throwaway copies and checks them."),
  schedule: cronText.default(DEFAULT_CLUSTER_DRILL_SCHEDULE).describe("When the drill runs (Kubernetes CronJob): five cron fields."),
});

export const clusterSchema = strictObject({
  name: name("cluster name").describe("Cluster name (lowercase letters, digits, '-'); used in resource names and as the default key prefix on the backup target."),
  kubeconfig: secretString.optional().describe("Kubeconfig contents (set it with `pulumi config set --secret`). Absent: the ambient kubeconfig (KUBECONFIG or ~/.kube/config)."),
  namespace: dnsLabel("a namespace name").default(DEFAULT_CLUSTER_NAMESPACE).describe("Namespace for Open WebUI, its database and its backups."),
  operators: strictObject({
    install: z.boolean().default(true).describe("Install CloudNativePG, the barman-cloud plugin and k8up at pinned chart versions; false: they are installed already (cert-manager is always a prerequisite)."),
  })
    .default({ install: true })
    .describe("The operators the cluster needs."),
  openwebui: clusterOpenwebuiSchema.default(clusterOpenwebuiSchema.parse({})).describe("The Open WebUI Helm release."),
  files: clusterFilesSchema.default({ provider: "s3" }).describe("Where Open WebUI keeps uploaded files: `{ provider: s3 }` or `{ provider: pvc, size, storageClass, accessMode }`."),
  postgres: clusterPostgresSchema.default(clusterPostgresSchema.parse({})).describe("The CloudNativePG cluster."),
  backup: clusterBackupSchema.describe("Backups of the database and the files."),
  restoreDrill: clusterRestoreDrillSchema.default(clusterRestoreDrillSchema.parse({})).describe("The restore drill in the cluster."),
});

export type ClusterConfig = z.infer<typeof clusterSchema>;
export type ClusterFilesConfig = z.infer<typeof clusterFilesSchema>;

/**
 * Where a cluster keeps things on its backup target, under `<prefix or cluster name>/`:
 * WAL and base backups, the restic repository of the file volume, and (files in S3) the live uploads.
 */
export const CLUSTER_AREAS = { database: "postgres", files: "files", uploads: "uploads" } as const;
export type ClusterArea = keyof typeof CLUSTER_AREAS;

/** The key prefix of one area, without a trailing '/': `prod/postgres`. */
export function clusterLocation(target: { readonly prefix?: string }, clusterName: string, area: ClusterArea): string {
  return `${target.prefix ?? clusterName}/${CLUSTER_AREAS[area]}`;
}

/** The areas a cluster writes: the database always, then the file volume's repository or the uploads. */
export function clusterAreas(cluster: { readonly files: ClusterFilesConfig }): ClusterArea[] {
  return ["database", cluster.files.provider === "pvc" ? "files" : "uploads"];
}
