/**
 * The database: a CloudNativePG cluster on the pgvector-carrying image, `vector` created at init,
 * WAL archived continuously through the barman-cloud plugin to an ObjectStore on the backup
 * target (the writer key), scheduled base backups, and the pre-upgrade backup. A second,
 * read-only ObjectStore (the reader key) is what the restore drill recovers from.
 */
import { PlanContext } from "./context";
import { DATABASE, K8sObject, NAMES, awaitAnnotations, commonLabels } from "./objects";
import { SecretValue, ref } from "./refs";
import { BARMAN_CLOUD_PLUGIN, POSTGRES_IMAGE } from "./versions";

const meta = (ctx: PlanContext, name: string, component: string, annotations?: Record<string, string>) => ({
  name,
  namespace: ctx.namespace,
  labels: commonLabels(ctx.cluster.name, component),
  ...(annotations ? { annotations } : {}),
});

/** An Opaque Secret of the stack's, labelled for its component. */
export function opaqueSecret(ctx: PlanContext, name: string, component: string, stringData: Record<string, string>): K8sObject {
  return { apiVersion: "v1", kind: "Secret", metadata: meta(ctx, name, component), type: "Opaque", stringData };
}

/** An S3 key as a Secret in the keys barman-cloud, k8up, restic and rclone are given. */
export function s3KeySecret(ctx: PlanContext, name: string, id: SecretValue, secret: SecretValue, component: string): K8sObject {
  return opaqueSecret(ctx, name, component, {
    [NAMES.accessKeyIdKey]: ref(id),
    [NAMES.secretAccessKeyKey]: ref(secret),
    ...(ctx.target.region ? { [NAMES.regionKey]: ctx.target.region } : {}),
  });
}

function objectStore(ctx: PlanContext, name: string, secretName: string, retention: string | undefined): K8sObject {
  return {
    apiVersion: "barmancloud.cnpg.io/v1",
    kind: "ObjectStore",
    metadata: meta(ctx, name, "database-backup"),
    spec: {
      configuration: {
        destinationPath: `s3://${ctx.target.bucket}/${ctx.location("database")}/`,
        endpointURL: ctx.endpoint,
        s3Credentials: {
          accessKeyId: { name: secretName, key: NAMES.accessKeyIdKey },
          secretAccessKey: { name: secretName, key: NAMES.secretAccessKeyKey },
          ...(ctx.target.region ? { region: { name: secretName, key: NAMES.regionKey } } : {}),
        },
        wal: { compression: "gzip" },
        data: { compression: "gzip" },
      },
      ...(retention ? { retentionPolicy: retention } : {}),
    },
  };
}

/** Where WAL and base backups go, with the writer key; prunes past `backup.retention` only on a managed target. */
export const writerObjectStore = (ctx: PlanContext) => objectStore(ctx, NAMES.objectStore, NAMES.writerSecret, ctx.prunes ? ctx.cluster.backup.retention : undefined);

/** The same place with the reader key: what the restore drill recovers from. */
export const readOnlyObjectStore = (ctx: PlanContext) => objectStore(ctx, NAMES.readOnlyObjectStore, NAMES.readerSecret, undefined);

/**
 * The production database. Pulumi waits until it is Ready and archiving WAL, so nothing that
 * writes to it starts before its changes reach the backup target.
 */
export function databaseCluster(ctx: PlanContext): K8sObject {
  const pg = ctx.cluster.postgres;
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: meta(ctx, NAMES.database, "database", awaitAnnotations(JSON.stringify(["condition=Ready", "condition=ContinuousArchiving"]), 1800)),
    spec: {
      instances: pg.instances,
      imageName: POSTGRES_IMAGE,
      storage: { size: pg.size, ...(pg.storageClass ? { storageClass: pg.storageClass } : {}) },
      bootstrap: {
        initdb: {
          database: DATABASE.name,
          owner: DATABASE.owner,
          // Open WebUI's pgvector store needs the extension; creating it takes a superuser, so at init.
          postInitApplicationSQL: ["CREATE EXTENSION IF NOT EXISTS vector"],
        },
      },
      plugins: [{ name: BARMAN_CLOUD_PLUGIN, isWALArchiver: true, parameters: { barmanObjectName: NAMES.objectStore } }],
    },
  };
}

/** Base backups on `backup.schedule` (six fields, seconds first), the first one right away. */
export function scheduledBackup(ctx: PlanContext): K8sObject {
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "ScheduledBackup",
    metadata: meta(ctx, NAMES.scheduledBackup, "database-backup"),
    spec: {
      schedule: ctx.cluster.backup.schedule.trim().replace(/\s+/g, " "),
      cluster: { name: NAMES.database },
      method: "plugin",
      pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
      backupOwnerReference: "self",
      immediate: true,
    },
  };
}

/** Which upgrade a pre-upgrade object belongs to (annotations: versions need not fit a label's rules). */
export function upgradeAnnotations(ctx: PlanContext): Record<string, string> {
  return { "openwebui.stack/chart-version": ctx.cluster.openwebui.chartVersion, "openwebui.stack/image-tag": ctx.cluster.openwebui.imageTag };
}

/** The on-demand base backup taken before the chart changes; Pulumi waits for it to complete. */
export function preUpgradeDatabaseBackup(ctx: PlanContext): K8sObject {
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Backup",
    metadata: {
      name: `${NAMES.database}-pre-upgrade-${ctx.upgradeHash}`,
      namespace: ctx.namespace,
      labels: commonLabels(ctx.cluster.name, "pre-upgrade-backup"),
      annotations: { ...upgradeAnnotations(ctx), ...awaitAnnotations("jsonpath={.status.phase}=completed", 7200) },
    },
    spec: {
      cluster: { name: NAMES.database },
      method: "plugin",
      pluginConfiguration: { name: BARMAN_CLOUD_PLUGIN },
    },
  };
}
