/**
 * Open WebUI's files. In S3: a prefix of the backup target (`<prefix>/uploads/`), reached with a
 * key of its own; the bucket's versioning and lifecycle keep their history. On a volume: a
 * PersistentVolumeClaim that k8up backs up with restic to `<prefix>/files/` (the writer key),
 * checks with the reader key, and prunes (writer key) only where the target is managed.
 */
import { DEFAULT_FILES_BACKUP_SCHEDULE, DEFAULT_FILES_CHECK_SCHEDULE } from "../../../config/clusters";
import { PlanContext } from "./context";
import { opaqueSecret, upgradeAnnotations } from "./database";
import { K8sObject, NAMES, awaitAnnotations, commonLabels } from "./objects";
import { ref } from "./refs";

/** The label k8up selects the file volume by, so it never copies the database's volumes file by file. */
export const FILES_SELECTOR = { "app.kubernetes.io/component": "openwebui-files" } as const;

/** Prune old file snapshots daily, clear of the backups at quarter past each hour. */
const PRUNE_SCHEDULE = "45 3 * * *";

export function filesVolume(ctx: PlanContext): K8sObject {
  const files = ctx.cluster.files;
  if (files.provider !== "pvc") throw new Error("filesVolume: files are not on a volume");
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: NAMES.filesVolume,
      namespace: ctx.namespace,
      labels: { ...commonLabels(ctx.cluster.name, "openwebui-files"), ...FILES_SELECTOR },
      annotations: { "k8up.io/backup": "true" },
    },
    spec: {
      accessModes: [files.accessMode],
      resources: { requests: { storage: files.size } },
      ...(files.storageClass ? { storageClassName: files.storageClass } : {}),
    },
  };
}

export function resticPasswordSecret(ctx: PlanContext): K8sObject {
  return opaqueSecret(ctx, NAMES.resticSecret, "files-backup", { [NAMES.resticPasswordKey]: ref("resticPassword") });
}

/** The restic repository of the file volume, as k8up reaches it with one of the two keys. */
export function filesBackend(ctx: PlanContext, keySecret: string): Record<string, unknown> {
  return {
    repoPasswordSecretRef: { name: NAMES.resticSecret, key: NAMES.resticPasswordKey },
    s3: {
      endpoint: ctx.endpoint,
      bucket: `${ctx.target.bucket}/${ctx.location("files")}`,
      accessKeyIDSecretRef: { name: keySecret, key: NAMES.accessKeyIdKey },
      secretAccessKeySecretRef: { name: keySecret, key: NAMES.secretAccessKeyKey },
    },
  };
}

/** `30d` → keep the last day's backups and one a day for 30 days; `8w`, `6m` likewise by week, month. */
export function resticRetention(retention: string): Record<string, number> {
  const n = Number(retention.slice(0, -1));
  const unit = retention.slice(-1);
  const keep: Record<string, number> = unit === "d" ? { keepDaily: n } : unit === "w" ? { keepDaily: 7, keepWeekly: n } : { keepDaily: 7, keepWeekly: 5, keepMonthly: n };
  return { keepLast: 24, ...keep };
}

const history = { failedJobsHistoryLimit: 3, successfulJobsHistoryLimit: 1 };

/**
 * Backups with the writer key, checks with the reader key (job-level backends, so each job's pod
 * holds only its own key); the schedule-wide backend is the reader's, for anything else.
 */
export function filesSchedule(ctx: PlanContext): K8sObject {
  const f = ctx.cluster.backup.files;
  const schedule = (f?.schedule ?? DEFAULT_FILES_BACKUP_SCHEDULE).trim().replace(/\s+/g, " ");
  const check = (f?.checkSchedule ?? DEFAULT_FILES_CHECK_SCHEDULE).trim().replace(/\s+/g, " ");
  const retention = ctx.cluster.backup.retention;
  return {
    apiVersion: "k8up.io/v1",
    kind: "Schedule",
    metadata: { name: NAMES.filesSchedule, namespace: ctx.namespace, labels: commonLabels(ctx.cluster.name, "files-backup") },
    spec: {
      backend: filesBackend(ctx, NAMES.readerSecret),
      backup: { schedule, backend: filesBackend(ctx, NAMES.writerSecret), labelSelectors: [{ matchLabels: { ...FILES_SELECTOR } }], ...history },
      check: { schedule: check, backend: filesBackend(ctx, NAMES.readerSecret), ...history },
      ...(ctx.prunes && retention ? { prune: { schedule: PRUNE_SCHEDULE, backend: filesBackend(ctx, NAMES.writerSecret), retention: resticRetention(retention), ...history } } : {}),
    },
  };
}

/** The on-demand file backup taken before the chart changes; Pulumi waits for it to succeed. */
export function preUpgradeFilesBackup(ctx: PlanContext): K8sObject {
  return {
    apiVersion: "k8up.io/v1",
    kind: "Backup",
    metadata: {
      name: `${NAMES.filesVolume}-pre-upgrade-${ctx.upgradeHash}`,
      namespace: ctx.namespace,
      labels: commonLabels(ctx.cluster.name, "pre-upgrade-backup"),
      annotations: { ...upgradeAnnotations(ctx), ...awaitAnnotations('jsonpath={.status.conditions[?(@.type=="Completed")].reason}=Succeeded', 7200) },
    },
    spec: {
      backend: filesBackend(ctx, NAMES.writerSecret),
      labelSelectors: [{ matchLabels: { ...FILES_SELECTOR } }],
      tags: ["pre-upgrade", `chart-${ctx.cluster.openwebui.chartVersion}`, `image-${ctx.cluster.openwebui.imageTag}`],
      ...history,
    },
  };
}

/** The key Open WebUI writes its uploads with (files in S3). */
export function filesS3Secret(ctx: PlanContext): K8sObject {
  return opaqueSecret(ctx, NAMES.filesS3Secret, "openwebui-files", { [NAMES.accessKeyIdKey]: ref("filesAccessKeyId"), [NAMES.secretAccessKeyKey]: ref("filesSecretAccessKey") });
}
