/**
 * The restore drill in the cluster: a CronJob whose pod
 *  1. restores the latest file snapshot into a scratch volume (restic, reader key), or lists the
 *     uploads in the bucket (rclone, reader key) when the files live in S3;
 *  2. recovers a throwaway CloudNativePG cluster from the read-only ObjectStore to the time of that
 *     file snapshot (to the end of the archived WAL with files in S3), with no WAL archiving of
 *     its own, so it never writes where production archives;
 *  3. checks row counts and that every `file` row's object exists;
 *  4. deletes the throwaway cluster, on success and on failure (it is also owned by the Job, so
 *     it goes with the Job if the pod is killed). A failed Job is the alert.
 *
 * Its ServiceAccount may create clusters, and get, watch and delete only the throwaway one, and
 * exec only into its first instance; a ValidatingAdmissionPolicy refuses any cluster that
 * account creates unless it is the throwaway one, recovers from the read-only store and archives
 * nothing.
 */
import { PlanContext } from "./context";
import { API_ACCESS_MOUNT, API_ACCESS_VOLUME, DATABASE, K8sObject, NAMES, commonLabels } from "./objects";
import { BARMAN_CLOUD_PLUGIN, POSTGRES_IMAGE, TOOL_IMAGES } from "./versions";

/** Where k8up mounts a volume when it backs it up, and so where its files sit in a snapshot. */
export const K8UP_DATA_PATH = "/data";
/** Where Open WebUI's data directory is mounted in its pods; `file.path` starts with it. */
export const OPENWEBUI_DATA_DIR = "/app/backend/data";
/** Tables whose rows the drill counts; a recovered database without a user fails. */
export const DRILL_TABLES = ["user", "chat", "file", "knowledge"] as const;

const DRILL_COMPONENT = "restore-drill";

/** Where the drill pod's volumes are mounted; the scripts read them from the environment. */
export const DIRS = { WORK_DIR: "/work", SCRATCH_DIR: "/scratch", DRILL_DIR: "/drill" } as const;
const dirEnv = Object.entries(DIRS).map(([name, value]) => ({ name, value }));
const EXTERNAL_CLUSTER = "origin";

/**
 * The throwaway cluster, as the drill creates it: one instance, recovered from the read-only
 * store, no `plugins` and no `backup` section (no WAL archiving). The drill adds
 * `recoveryTarget.targetTime` and an owner reference to its Job at run time.
 */
export function drillClusterManifest(ctx: PlanContext): K8sObject {
  const pg = ctx.cluster.postgres;
  return {
    apiVersion: "postgresql.cnpg.io/v1",
    kind: "Cluster",
    metadata: { name: NAMES.drillDatabase, namespace: ctx.namespace, labels: commonLabels(ctx.cluster.name, DRILL_COMPONENT) },
    spec: {
      instances: 1,
      imageName: POSTGRES_IMAGE,
      storage: { size: pg.size, ...(pg.storageClass ? { storageClass: pg.storageClass } : {}) },
      bootstrap: { recovery: { source: EXTERNAL_CLUSTER, database: DATABASE.name, owner: DATABASE.owner } },
      externalClusters: [
        { name: EXTERNAL_CLUSTER, plugin: { name: BARMAN_CLOUD_PLUGIN, parameters: { barmanObjectName: NAMES.readOnlyObjectStore, serverName: NAMES.database } } },
      ],
    },
  };
}

/** Restores the newest snapshot of the file volume into $SCRATCH_DIR and records it in $WORK_DIR/snapshot.json (restic image, sh). */
export const RESTORE_FILES_SCRIPT = `set -eu
restic snapshots --json --path "$SNAPSHOT_PATH" latest > "$WORK_DIR/snapshot.json"
id=$(grep -o '"id":"[0-9a-f]*"' "$WORK_DIR/snapshot.json" | head -n 1 | cut -d '"' -f 4)
if [ -z "$id" ]; then
  echo "no snapshot of $SNAPSHOT_PATH in the repository" >&2
  exit 1
fi
restic restore "$id" --target "$SCRATCH_DIR"
echo "restored file snapshot $id into the scratch volume"
`;

/** Lists the uploads in the bucket into $WORK_DIR/objects.txt, one key per line below the prefix (rclone image, sh). */
export const LIST_UPLOADS_SCRIPT = `set -eu
rclone lsf --recursive --files-only ":s3:$BUCKET/$UPLOADS_PREFIX" > "$WORK_DIR/objects.txt"
echo "listed $(wc -l < "$WORK_DIR/objects.txt") uploads in s3://$BUCKET/$UPLOADS_PREFIX/"
`;

/** The drill itself (kubectl image: bash, kubectl, jq). */
export const DRILL_SCRIPT = `#!/usr/bin/env bash
# Open WebUI restore drill: recover the database into a throwaway cluster, check it against the
# files restored beside it, delete the throwaway cluster. Any failure fails the Job: that is the alert.
set -euo pipefail

declare -A COUNTS=() OBJECTS=()
CHILD=""

log() { printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "restore drill FAILED: $*"
  exit 1
}

# One query in the throwaway cluster's instance, as postgres over its local socket.
query() {
  kubectl exec "$DRILL_CLUSTER-1" -c postgres -- psql -X -q -v ON_ERROR_STOP=1 -d "$DATABASE" -At "$@"
}

delete_drill_cluster() {
  kubectl delete "clusters.postgresql.cnpg.io/$DRILL_CLUSTER" --ignore-not-found --wait=true --timeout=10m >/dev/null
}

# Long waits run in the background, so a TERM (the Job's deadline, a deleted pod) is handled at once.
interruptible() {
  "$@" &
  CHILD=$!
  wait "$CHILD"
}

on_term() {
  if [[ -n $CHILD ]]; then kill "$CHILD" 2>/dev/null || true; fi
  log "restore drill FAILED: terminated"
  exit 143
}

# Whatever happened, the throwaway cluster goes; if it cannot, the Job fails so someone looks.
on_exit() {
  local status=$?
  trap - EXIT
  if delete_drill_cluster; then
    log "deleted cluster/$DRILL_CLUSTER"
  else
    log "could not delete cluster/$DRILL_CLUSTER; it is owned by job/$JOB_NAME and goes when the Job is deleted"
    status=1
  fi
  exit "$status"
}

# The time of the restored file snapshot, as RFC 3339 without fractions of a second.
snapshot_time() {
  local t
  t=$(jq -r '.[0].time // empty' "$WORK_DIR/snapshot.json")
  [[ $t =~ ^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] || die "cannot read the file snapshot's time: \${t:-none}"
  printf '%s%s\\n' "\${BASH_REMATCH[1]}" "\${BASH_REMATCH[3]}"
}

# The throwaway cluster: the planned manifest, owned by this Job, recovering to $1 (empty: the end of the WAL).
create_drill_cluster() {
  jq --arg job "$JOB_NAME" --arg uid "$JOB_UID" --arg time "$1" '
    .metadata.ownerReferences = [{apiVersion: "batch/v1", kind: "Job", name: $job, uid: $uid}]
    | if $time == "" then . else .spec.bootstrap.recovery.recoveryTarget = {targetTime: $time} end' \\
    "$DRILL_DIR/cluster.json" | kubectl create -f - >/dev/null
}

check_tables() {
  local table count
  for table in $TABLES; do
    count=$(query -c "SELECT count(*) FROM \\"$table\\"") || die "cannot count the rows of table $table in the recovered database"
    COUNTS[$table]=$count
    log "recovered table $table: $count rows"
  done
  ((COUNTS[user] > 0)) || die "the recovered database has no users"
}

load_objects() {
  local key
  while IFS= read -r key; do
    OBJECTS[$key]=1
  done <"$WORK_DIR/objects.txt"
}

# Whether the object a file row points at is there: in the restored volume, or in the bucket.
file_present() {
  local path=$1
  case $FILES_PROVIDER in
    pvc)
      [[ $path == "$OPENWEBUI_DATA_DIR"/* ]] && [[ -f "$RESTORED_DATA/\${path#"$OPENWEBUI_DATA_DIR"/}" ]]
      ;;
    s3)
      [[ $path == "s3://$BUCKET/$UPLOADS_PREFIX"/* ]] && [[ -n "\${OBJECTS[\${path#"s3://$BUCKET/$UPLOADS_PREFIX"/}]:-}" ]]
      ;;
    *) die "unknown FILES_PROVIDER $FILES_PROVIDER" ;;
  esac
}

check_files() {
  local id path checked=0 missing=0
  [[ $FILES_PROVIDER != s3 ]] || load_objects
  query -z -0 -c 'SELECT id, path FROM file WHERE path IS NOT NULL ORDER BY id' >"$WORK_DIR/files.list" || die "cannot list the file table"
  while IFS= read -r -d '' id && IFS= read -r -d '' path; do
    checked=$((checked + 1))
    if ! file_present "$path"; then
      missing=$((missing + 1))
      if ((missing <= 20)); then log "missing: file $id at $path"; fi
    fi
  done <"$WORK_DIR/files.list"
  ((missing == 0)) || die "$missing of $checked files have no stored object"
  log "files ok: all $checked stored objects are present"
}

main() {
  trap on_exit EXIT
  trap on_term TERM INT
  delete_drill_cluster
  local target_time=""
  if [[ $FILES_PROVIDER == pvc ]]; then
    target_time=$(snapshot_time)
    log "recovering the database to $target_time, the time of the latest file snapshot"
  else
    log "recovering the database to the end of its archived WAL"
  fi
  create_drill_cluster "$target_time"
  interruptible kubectl wait --for=condition=Ready "clusters.postgresql.cnpg.io/$DRILL_CLUSTER" --timeout="$READY_TIMEOUT" >/dev/null ||
    die "cluster/$DRILL_CLUSTER did not become Ready within $READY_TIMEOUT"
  check_tables
  check_files
  log "restore drill ok: \${COUNTS[user]} users, \${COUNTS[chat]} chats, \${COUNTS[file]} files, \${COUNTS[knowledge]} knowledge bases"
}

main "$@"
`;

const secretEnv = (name: string, secret: string, key: string, optional = false) => ({ name, valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } } });

/** The reader key as the AWS SDKs and restic/rclone read it. */
const readerEnv = (ctx: PlanContext) => [
  secretEnv("AWS_ACCESS_KEY_ID", NAMES.readerSecret, NAMES.accessKeyIdKey),
  secretEnv("AWS_SECRET_ACCESS_KEY", NAMES.readerSecret, NAMES.secretAccessKeyKey),
  ...(ctx.target.region ? [secretEnv("AWS_DEFAULT_REGION", NAMES.readerSecret, NAMES.regionKey)] : []),
];

function fileStepContainer(ctx: PlanContext): Record<string, unknown> {
  const files = ctx.cluster.files;
  if (files.provider === "pvc") {
    return {
      name: "restore-files",
      image: TOOL_IMAGES.restic,
      command: ["sh", "-c", RESTORE_FILES_SCRIPT],
      env: [
        { name: "RESTIC_REPOSITORY", value: `s3:${ctx.endpoint}/${ctx.target.bucket}/${ctx.location("files")}` },
        secretEnv("RESTIC_PASSWORD", NAMES.resticSecret, NAMES.resticPasswordKey),
        ...readerEnv(ctx),
        { name: "RESTIC_CACHE_DIR", value: `${DIRS.WORK_DIR}/restic-cache` },
        { name: "SNAPSHOT_PATH", value: `${K8UP_DATA_PATH}/${NAMES.filesVolume}` },
        ...dirEnv,
      ],
      volumeMounts: [
        { name: "work", mountPath: DIRS.WORK_DIR },
        { name: "scratch", mountPath: DIRS.SCRATCH_DIR },
      ],
    };
  }
  return {
    name: "list-uploads",
    image: TOOL_IMAGES.rclone,
    command: ["sh", "-c", LIST_UPLOADS_SCRIPT],
    env: [
      { name: "BUCKET", value: ctx.target.bucket },
      { name: "UPLOADS_PREFIX", value: ctx.location("uploads") },
      { name: "RCLONE_S3_PROVIDER", value: ctx.s3Provider },
      { name: "RCLONE_S3_ENV_AUTH", value: "true" },
      { name: "RCLONE_S3_ENDPOINT", value: ctx.endpoint },
      ...(ctx.target.region ? [secretEnv("RCLONE_S3_REGION", NAMES.readerSecret, NAMES.regionKey)] : []),
      ...readerEnv(ctx),
      ...dirEnv,
    ],
    volumeMounts: [{ name: "work", mountPath: DIRS.WORK_DIR }],
  };
}

export interface DrillObjects {
  readonly configMap: K8sObject;
  readonly serviceAccount: K8sObject;
  readonly role: K8sObject;
  readonly roleBinding: K8sObject;
  readonly policy: K8sObject;
  readonly policyBinding: K8sObject;
  readonly cronJob: K8sObject;
}

/** The name of the drill's admission policy: cluster-wide, so it carries the namespace. */
export const drillPolicyName = (ctx: PlanContext) => `${NAMES.drill}-${ctx.namespace}`;

export function drillObjects(ctx: PlanContext): DrillObjects {
  const labels = commonLabels(ctx.cluster.name, DRILL_COMPONENT);
  const meta = (name: string) => ({ name, namespace: ctx.namespace, labels });
  const instance = `${NAMES.drillDatabase}-1`;
  const files = ctx.cluster.files;
  const account = `system:serviceaccount:${ctx.namespace}:${NAMES.drill}`;

  const configMap: K8sObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(NAMES.drill),
    data: { "drill.sh": DRILL_SCRIPT, "cluster.json": `${JSON.stringify(drillClusterManifest(ctx), null, 2)}\n` },
  };
  const serviceAccount: K8sObject = { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(NAMES.drill), automountServiceAccountToken: false };
  const role: K8sObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(NAMES.drill),
    rules: [
      // RBAC cannot name what is created; the admission policy below pins the name and the spec.
      { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters"], verbs: ["create"] },
      { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters"], resourceNames: [NAMES.drillDatabase], verbs: ["get", "list", "watch", "delete"] },
      { apiGroups: [""], resources: ["pods"], resourceNames: [instance], verbs: ["get"] },
      { apiGroups: [""], resources: ["pods/exec"], resourceNames: [instance], verbs: ["create"] },
    ],
  };
  const roleBinding: K8sObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(NAMES.drill),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAMES.drill },
    subjects: [{ kind: "ServiceAccount", name: NAMES.drill, namespace: ctx.namespace }],
  };
  const inNamespace = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ctx.namespace } } };
  const policy: K8sObject = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: drillPolicyName(ctx), labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        ...inNamespace,
        resourceRules: [{ apiGroups: ["postgresql.cnpg.io"], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: ["clusters"] }],
      },
      matchConditions: [{ name: "restore-drill-account", expression: `request.userInfo.username == '${account}'` }],
      validations: [
        { expression: `object.metadata.name == '${NAMES.drillDatabase}'`, message: `the restore drill may only create cluster ${NAMES.drillDatabase}` },
        { expression: "!has(object.spec.plugins) || size(object.spec.plugins) == 0", message: "the restore drill's cluster must not archive WAL (no plugins)" },
        { expression: "!has(object.spec.backup)", message: "the restore drill's cluster must not back up (no backup section)" },
        { expression: "has(object.spec.bootstrap) && has(object.spec.bootstrap.recovery)", message: "the restore drill's cluster must be recovered from a backup" },
        {
          expression: `has(object.spec.externalClusters) && object.spec.externalClusters.all(e, has(e.plugin) && e.plugin.parameters['barmanObjectName'] == '${NAMES.readOnlyObjectStore}')`,
          message: `the restore drill's cluster may read only from ObjectStore ${NAMES.readOnlyObjectStore} (the reader key)`,
        },
        { expression: "object.spec.instances == 1", message: "the restore drill's cluster has one instance" },
      ],
    },
  };
  const policyBinding: K8sObject = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: drillPolicyName(ctx), labels },
    spec: { policyName: drillPolicyName(ctx), validationActions: ["Deny"], matchResources: inNamespace },
  };

  const scratch =
    files.provider === "pvc"
      ? [
          {
            name: "scratch",
            ephemeral: {
              volumeClaimTemplate: {
                metadata: { labels },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: files.size } }, ...(files.storageClass ? { storageClassName: files.storageClass } : {}) },
              },
            },
          },
        ]
      : [];
  const cronJob: K8sObject = {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: meta(NAMES.drill),
    spec: {
      schedule: ctx.cluster.restoreDrill.schedule.trim().replace(/\s+/g, " "),
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 3600,
      failedJobsHistoryLimit: 3,
      successfulJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 4 * 3600,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: NAMES.drill,
              // Only the drill container talks to the API; restic and rclone never hold the token.
              automountServiceAccountToken: false,
              restartPolicy: "Never",
              initContainers: [fileStepContainer(ctx)],
              containers: [
                {
                  name: "drill",
                  image: TOOL_IMAGES.kubectl,
                  command: ["bash", `${DIRS.DRILL_DIR}/drill.sh`],
                  env: [
                    { name: "JOB_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } } },
                    { name: "JOB_UID", valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" } } },
                    { name: "DRILL_CLUSTER", value: NAMES.drillDatabase },
                    { name: "DATABASE", value: DATABASE.name },
                    { name: "TABLES", value: DRILL_TABLES.join(" ") },
                    { name: "READY_TIMEOUT", value: "2h" },
                    { name: "FILES_PROVIDER", value: files.provider },
                    { name: "OPENWEBUI_DATA_DIR", value: OPENWEBUI_DATA_DIR },
                    { name: "RESTORED_DATA", value: `${DIRS.SCRATCH_DIR}${K8UP_DATA_PATH}/${NAMES.filesVolume}` },
                    ...dirEnv,
                    { name: "BUCKET", value: ctx.target.bucket },
                    { name: "UPLOADS_PREFIX", value: ctx.location("uploads") },
                  ],
                  volumeMounts: [
                    { name: "drill", mountPath: DIRS.DRILL_DIR, readOnly: true },
                    { name: "work", mountPath: DIRS.WORK_DIR },
                    ...(files.provider === "pvc" ? [{ name: "scratch", mountPath: DIRS.SCRATCH_DIR, readOnly: true }] : []),
                    API_ACCESS_MOUNT,
                  ],
                },
              ],
              volumes: [{ name: "drill", configMap: { name: NAMES.drill } }, { name: "work", emptyDir: {} }, ...scratch, API_ACCESS_VOLUME],
            },
          },
        },
      },
    },
  };
  return { configMap, serviceAccount, role, roleBinding, policy, policyBinding, cronJob };
}
