/**
 * One cluster's config in, the plan out: every Kubernetes object and Helm release, as plain data,
 * in an order where each step comes after the steps it waits for. Pure: secrets and late values
 * are tokens (refs.ts) filled in by whoever applies the plan (components/openwebui-cluster.ts),
 * and the tests read the plan directly.
 *
 *   namespace ─┬─ Secrets ─┬─ ObjectStore (writer) ── Cluster ── ScheduledBackup
 *   operators ─┘           │                            └── pre-upgrade Backup ─┐
 *                          ├─ file volume ─ k8up Schedule, pre-upgrade k8up Backup ─┤
 *                          │                                                        ▼
 *                          │                          migration Job ── Open WebUI chart
 *                          └─ ObjectStore (reader) ── restore drill (CronJob, RBAC, admission policy)
 */
import { ClusterPlanInput, PlanContext, planContext } from "./context";
import { databaseCluster, preUpgradeDatabaseBackup, readOnlyObjectStore, s3KeySecret, scheduledBackup, writerObjectStore } from "./database";
import { drillObjects } from "./drill";
import { filesS3Secret, filesSchedule, filesVolume, preUpgradeFilesBackup, resticPasswordSecret } from "./files";
import { ChartStep, K8sObject, NAMES, ObjectStep, PlanStep, checkOrder, commonLabels } from "./objects";
import { migrateObjects, openwebuiValues, webuiSecret } from "./openwebui";
import { SecretValue } from "./refs";
import { BARMAN_CLOUD_CHART, CNPG_CHART, K8UP_CHART, OPENWEBUI_CHART, PinnedChart } from "./versions";

export interface ClusterPlan {
  readonly clusterName: string;
  readonly namespace: string;
  readonly steps: readonly PlanStep[];
  /** The secret values the plan's Secrets need (refs.ts). */
  readonly secretValues: readonly SecretValue[];
  /** Names this version's pre-upgrade backups and migration. */
  readonly upgradeHash: string;
}

const object = (id: string, obj: K8sObject, dependsOn: readonly string[], purpose: string, retainOnDelete = false): ObjectStep => ({
  type: "object",
  id,
  object: obj,
  dependsOn,
  retainOnDelete,
  purpose,
});

function operatorStep(id: string, pinned: PinnedChart, values: Record<string, unknown>, dependsOn: string[], purpose: string): ChartStep {
  return {
    type: "chart",
    id,
    release: pinned.release,
    chart: pinned.chart,
    repo: pinned.repo,
    version: pinned.version,
    namespace: pinned.namespace,
    createNamespace: true,
    values,
    dependsOn,
    // Operators are cluster-wide and their CRDs hold every database: never uninstalled by the stack.
    retainOnDelete: true,
    purpose,
  };
}

/** The operators, when the config installs them. Their charts keep their CRDs on uninstall too (helm.sh/resource-policy: keep, or crds/). */
function operatorSteps(install: boolean): ChartStep[] {
  if (!install) return [];
  return [
    operatorStep("operator-cnpg", CNPG_CHART, { crds: { create: true } }, [], `CloudNativePG ${CNPG_CHART.appVersion}`),
    operatorStep("operator-barman-cloud", BARMAN_CLOUD_CHART, { crds: { create: true } }, ["operator-cnpg"], `barman-cloud plugin ${BARMAN_CLOUD_CHART.appVersion} (WAL archiving and base backups)`),
    // Only volumes annotated k8up.io/backup=true are backed up, never a database's volumes file by file.
    operatorStep("operator-k8up", K8UP_CHART, { k8up: { skipWithoutAnnotation: true } }, [], `k8up ${K8UP_CHART.appVersion} (file volume backups)`),
  ];
}

export function planCluster(input: ClusterPlanInput): ClusterPlan {
  const operators = operatorSteps(input.cluster.operators.install);
  const ctx: PlanContext = planContext(input, operators.map((o) => o.id));
  const cluster = ctx.cluster;
  const pvc = cluster.files.provider === "pvc";
  const needs = (...ids: (string | false)[]) => ids.filter((id): id is string => id !== false && id !== "");
  const has = (id: string) => operators.some((o) => o.id === id);
  const cnpg = has("operator-cnpg") && "operator-cnpg";
  const barman = has("operator-barman-cloud") && "operator-barman-cloud";
  const k8up = has("operator-k8up") && "operator-k8up";

  const namespace: K8sObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: ctx.namespace, labels: commonLabels(cluster.name, "namespace") } };
  const steps: PlanStep[] = [
    // Deleting a namespace deletes everything in it, retained or not: the namespace is retained too.
    object("namespace", namespace, [], `namespace ${ctx.namespace}`, true),
    ...operators,
    object("secret-webui-key", webuiSecret(ctx), ["namespace"], "WEBUI_SECRET_KEY, generated once and kept in the state", true),
    object("secret-backup-writer", s3KeySecret(ctx, NAMES.writerSecret, "writerAccessKeyId", "writerSecretAccessKey", "backup"), ["namespace"], "writer key: WAL archiving, base and file backups", true),
    object("secret-backup-reader", s3KeySecret(ctx, NAMES.readerSecret, "readerAccessKeyId", "readerSecretAccessKey", "backup"), ["namespace"], "reader key: checks and the restore drill", true),
    ...(pvc
      ? [object("secret-restic", resticPasswordSecret(ctx), ["namespace"], "the file repository's restic password", true)]
      : [object("secret-files-s3", filesS3Secret(ctx), ["namespace"], "Open WebUI's key to its uploads prefix", true)]),
    object("objectstore-backup", writerObjectStore(ctx), needs("secret-backup-writer", barman), `WAL and base backups in s3://…/${ctx.location("database")}/ (writer key)`, true),
    object("objectstore-readonly", readOnlyObjectStore(ctx), needs("secret-backup-reader", barman), "the same place with the reader key, for the restore drill"),
    object("database", databaseCluster(ctx), needs("objectstore-backup", cnpg, barman), `PostgreSQL (${cluster.postgres.instances} instances) with pgvector, archiving WAL`, true),
    object("database-scheduled-backup", scheduledBackup(ctx), ["database"], `base backups at "${cluster.backup.schedule}"`),
  ];
  if (pvc) {
    steps.push(
      object("files-volume", filesVolume(ctx), ["namespace"], "Open WebUI's files", true),
      object("files-schedule", filesSchedule(ctx), needs("files-volume", "secret-backup-writer", "secret-backup-reader", "secret-restic", k8up), "file backups (writer key) and checks (reader key)"),
    );
  }
  const preUpgrade = ["pre-upgrade-database-backup", ...(pvc ? ["pre-upgrade-files-backup"] : [])];
  steps.push(object("pre-upgrade-database-backup", preUpgradeDatabaseBackup(ctx), ["database"], "a base backup before this chart version and image tag roll out"));
  if (pvc) steps.push(object("pre-upgrade-files-backup", preUpgradeFilesBackup(ctx), needs("files-volume", "secret-backup-writer", "secret-restic", k8up), "a file backup before this chart version and image tag roll out"));

  const migrate = migrateObjects(ctx);
  steps.push(
    object("migrate-service-account", migrate.serviceAccount, ["namespace"], "the migration step's account"),
    object("migrate-role", migrate.role, ["namespace"], "the migration step may scale Open WebUI and list its pods"),
    object("migrate-role-binding", migrate.roleBinding, ["migrate-service-account", "migrate-role"], "binds the migration step's role"),
    object("migrate-job", migrate.job, ["migrate-role-binding", "secret-webui-key", "database", ...preUpgrade], "stops the old version, migrates the database once with the new one"),
  );
  const chart: ChartStep = {
    type: "chart",
    id: "openwebui",
    release: OPENWEBUI_CHART.release,
    chart: OPENWEBUI_CHART.chart,
    repo: OPENWEBUI_CHART.repo,
    version: cluster.openwebui.chartVersion,
    namespace: ctx.namespace,
    createNamespace: false,
    values: openwebuiValues(ctx),
    dependsOn: ["migrate-job", ...preUpgrade, "secret-webui-key", "database", pvc ? "files-volume" : "secret-files-s3"],
    retainOnDelete: false,
    purpose: `Open WebUI ${cluster.openwebui.imageTag} (chart ${cluster.openwebui.chartVersion}), ${cluster.openwebui.replicas} replica(s)`,
  };
  steps.push(chart);

  if (cluster.restoreDrill.enabled) {
    const d = drillObjects(ctx);
    steps.push(
      object("drill-config", d.configMap, ["namespace"], "the restore drill's script and throwaway cluster manifest"),
      object("drill-service-account", d.serviceAccount, ["namespace"], "the restore drill's account"),
      object("drill-role", d.role, ["namespace"], "what the restore drill may do, and nothing else"),
      object("drill-role-binding", d.roleBinding, ["drill-service-account", "drill-role"], "binds the restore drill's role"),
      object("drill-policy", d.policy, needs(cnpg), "admission: the drill creates only its own throwaway, non-archiving cluster"),
      object("drill-policy-binding", d.policyBinding, ["drill-policy"], "enforces the drill's admission policy"),
      object(
        "drill-cronjob",
        d.cronJob,
        needs("drill-config", "drill-role-binding", "drill-policy-binding", "objectstore-readonly", "secret-backup-reader", pvc && "secret-restic"),
        `restore drill at "${cluster.restoreDrill.schedule}"`,
      ),
    );
  }

  checkOrder(steps);
  const secretValues: SecretValue[] = ["webuiSecretKey", "writerAccessKeyId", "writerSecretAccessKey", "readerAccessKeyId", "readerSecretAccessKey", ...(pvc ? (["resticPassword"] as const) : (["filesAccessKeyId", "filesSecretAccessKey"] as const))];
  return { clusterName: cluster.name, namespace: ctx.namespace, steps, secretValues, upgradeHash: ctx.upgradeHash };
}
