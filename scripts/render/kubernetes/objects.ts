/**
 * The shape of a cluster plan: Kubernetes objects and Helm releases as plain data, each with an
 * id and the ids it must wait for, listed in an order that respects those waits. Also the fixed
 * names of what lives in the cluster's namespace, so every part of the plan (and the drill's
 * script) names the same objects.
 */

/** A Kubernetes object as applied: apiVersion, kind, metadata and the rest of its fields. */
export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

interface StepBase {
  /** Stable within a cluster: the Pulumi resource is named `<cluster>-<id>`. */
  readonly id: string;
  /** Ids of steps that must be in place (and ready, where the step waits) first. */
  readonly dependsOn: readonly string[];
  /** Kept in the cluster when the stack lets go of it (`pulumi destroy`, a removed cluster). */
  readonly retainOnDelete: boolean;
  /** Why the step is there, for previews and the docs. */
  readonly purpose: string;
}

export interface ObjectStep extends StepBase {
  readonly type: "object";
  readonly object: K8sObject;
}

export interface ChartStep extends StepBase {
  readonly type: "chart";
  readonly release: string;
  readonly chart: string;
  readonly repo: string;
  readonly version: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  readonly values: Readonly<Record<string, unknown>>;
}

export type PlanStep = ObjectStep | ChartStep;

/** Fixed names inside the cluster's namespace. */
export const NAMES = {
  webuiSecret: "openwebui-secret-key",
  webuiSecretKey: "WEBUI_SECRET_KEY",
  writerSecret: "backup-writer-s3",
  readerSecret: "backup-reader-s3",
  filesS3Secret: "openwebui-files-s3",
  resticSecret: "files-restic-repo",
  resticPasswordKey: "password",
  /** Key names the barman-cloud docs use; k8up, restic and rclone read the same Secret. */
  accessKeyIdKey: "ACCESS_KEY_ID",
  secretAccessKeyKey: "ACCESS_SECRET_KEY",
  regionKey: "ACCESS_REGION",
  objectStore: "openwebui-backup",
  readOnlyObjectStore: "openwebui-backup-readonly",
  database: "openwebui-db",
  /** The database's connection Secret, written by CloudNativePG (`uri`, `username`, `password`, …). */
  databaseAppSecret: "openwebui-db-app",
  scheduledBackup: "openwebui-db-scheduled",
  filesVolume: "openwebui-files",
  filesSchedule: "openwebui-files",
  openwebui: "open-webui",
  migrate: "openwebui-migrate",
  drill: "openwebui-restore-drill",
  drillDatabase: "openwebui-db-drill",
} as const;

/** The database and its owner inside the CNPG cluster (CNPG's defaults, written out). */
export const DATABASE = { name: "app", owner: "app" } as const;

/** Labels every planned object carries. */
export function commonLabels(clusterName: string, component: string): Record<string, string> {
  return { "app.kubernetes.io/part-of": "openwebui", "app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/component": component, "openwebui.stack/cluster": clusterName };
}

/** Pulumi's await annotations: wait for a condition or a field, at most `timeoutSeconds`. */
export function awaitAnnotations(waitFor: string, timeoutSeconds: number): Record<string, string> {
  return { "pulumi.com/waitFor": waitFor, "pulumi.com/timeoutSeconds": String(timeoutSeconds) };
}

/** The steps in order; throws when a step waits for one that is missing or comes later. */
export function checkOrder(steps: readonly PlanStep[]): void {
  const seen = new Set<string>();
  for (const s of steps) {
    if (seen.has(s.id)) throw new Error(`plan step "${s.id}" appears twice`);
    for (const d of s.dependsOn) if (!seen.has(d)) throw new Error(`plan step "${s.id}" waits for "${d}", which does not come before it`);
    seen.add(s.id);
  }
}

/**
 * The ServiceAccount token as a volume, for the one container that talks to the API: pods set
 * `automountServiceAccountToken: false` so their other containers (Open WebUI, restic, rclone)
 * never hold it. Mounted where kubectl's in-cluster config looks for it.
 */
export const API_ACCESS_VOLUME = {
  name: "kube-api-access",
  projected: {
    sources: [
      { serviceAccountToken: { path: "token", expirationSeconds: 3600 } },
      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
    ],
  },
} as const;
export const API_ACCESS_MOUNT = { name: API_ACCESS_VOLUME.name, mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true } as const;
