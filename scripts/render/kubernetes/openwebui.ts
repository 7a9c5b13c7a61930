/**
 * Open WebUI from the official chart, and the one step that migrates its database. The chart has
 * no value for WEBUI_SECRET_KEY and renders `databaseUrl` as plain text, so both come from Secrets
 * through `extraEnvVars` (`secretKeyRef`), and `databaseUrl` stays empty.
 *
 * Migrations: every chart pod runs with ENABLE_DB_MIGRATIONS=false. Before the chart changes
 * version, a Job stops the old pods (the Deployment scaled to 0) and runs the new version once,
 * alone, with migrations on, until it answers /health; only then does the chart roll out, with the
 * Recreate strategy so two versions never serve against one database.
 */
import { PlanContext } from "./context";
import { opaqueSecret, upgradeAnnotations } from "./database";
import { API_ACCESS_MOUNT, API_ACCESS_VOLUME, K8sObject, NAMES, awaitAnnotations, commonLabels } from "./objects";
import { ref } from "./refs";
import { OPENWEBUI_CHART, OPENWEBUI_IMAGE_REPOSITORY, TOOL_IMAGES } from "./versions";

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string }; readonly fieldRef?: { readonly fieldPath: string } };
}

/** The Open WebUI pods' selector in the chart (`open-webui.selectorLabels` with our release name). */
export const OPENWEBUI_POD_SELECTOR = `app.kubernetes.io/instance=${OPENWEBUI_CHART.release},app.kubernetes.io/component=${OPENWEBUI_CHART.chart}`;

export function webuiSecret(ctx: PlanContext): K8sObject {
  return opaqueSecret(ctx, NAMES.webuiSecret, "openwebui", { [NAMES.webuiSecretKey]: ref("webuiSecretKey") });
}

/** The two secret settings, always by reference: the generated key and CloudNativePG's connection URI. */
export const SECRET_ENV: readonly EnvVar[] = [
  { name: "WEBUI_SECRET_KEY", valueFrom: { secretKeyRef: { name: NAMES.webuiSecret, key: NAMES.webuiSecretKey } } },
  { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: NAMES.databaseAppSecret, key: "uri" } } },
];

/** What the scaling guide asks of every replica: vectors in PostgreSQL, one worker per pod. */
export const SCALING_ENV: readonly EnvVar[] = [
  { name: "VECTOR_DB", value: "pgvector" },
  { name: "UVICORN_WORKERS", value: "1" },
];

/** The chart's values. Every key set here exists in the chart's values.yaml (a test holds it to that). */
export function openwebuiValues(ctx: PlanContext): Record<string, unknown> {
  const ow = ctx.cluster.openwebui;
  const files = ctx.cluster.files;
  const multi = ow.replicas > 1;
  return {
    fullnameOverride: NAMES.openwebui,
    replicaCount: ow.replicas,
    workload: { kind: "Deployment" },
    // Never two versions against one database: all old pods stop before new ones start.
    strategy: { type: "Recreate" },
    image: { repository: OPENWEBUI_IMAGE_REPOSITORY, tag: ow.imageTag },
    ollama: { enabled: ow.ollama.enabled },
    pipelines: { enabled: ow.pipelines.enabled },
    // Several replicas share websocket state through Redis (the chart's own); one needs none.
    websocket: multi ? { enabled: true, manager: "redis", redis: { enabled: true } } : { enabled: true, manager: "", redis: { enabled: false } },
    // The chart's default is a placeholder key rendered as plain text.
    openaiApiKey: "",
    databaseUrl: "",
    persistence:
      files.provider === "pvc"
        ? { enabled: true, existingClaim: NAMES.filesVolume, provider: "local" }
        : {
            enabled: false,
            provider: "s3",
            s3: {
              bucket: ctx.target.bucket,
              region: ctx.target.region ?? "",
              endpointUrl: ctx.endpoint,
              keyPrefix: ctx.location("uploads"),
              accessKeyExistingSecret: NAMES.filesS3Secret,
              accessKeyExistingAccessKey: NAMES.accessKeyIdKey,
              secretKeyExistingSecret: NAMES.filesS3Secret,
              secretKeyExistingSecretKey: NAMES.secretAccessKeyKey,
            },
          },
    ingress: ow.host
      ? { enabled: true, host: ow.host, class: ow.ingressClassName ?? "", tls: ow.tlsSecret !== undefined, existingSecret: ow.tlsSecret ?? "" }
      : { enabled: false },
    extraEnvVars: [...SECRET_ENV, ...SCALING_ENV, { name: "ENABLE_DB_MIGRATIONS", value: "false" }],
  };
}

/** Stops the running version: scale the Deployment to 0 and wait until its pods are gone. */
export const STOP_SCRIPT = `set -euo pipefail
# Two versions must never serve against one database: stop the old one first.
if [[ -z "$(kubectl get deployment "$DEPLOYMENT" --ignore-not-found -o name)" ]]; then
  echo "no deployment/$DEPLOYMENT yet (first install): nothing to stop"
  exit 0
fi
kubectl scale deployment "$DEPLOYMENT" --replicas=0
deadline=$((SECONDS + 600))
while [[ -n "$(kubectl get pods -l "$POD_SELECTOR" -o name)" ]]; do
  if ((SECONDS >= deadline)); then
    echo "Open WebUI pods still running 600 s after scaling to 0" >&2
    exit 1
  fi
  sleep 2
done
echo "deployment/$DEPLOYMENT stopped"
`;

/** Runs the new version once with migrations on, until it answers /health, then stops it. */
export const MIGRATE_SCRIPT = `set -uo pipefail
bash start.sh &
server=$!
deadline=$((SECONDS + 1800))
until curl -fsS -o /dev/null "http://127.0.0.1:\${PORT}/health"; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    echo "Open WebUI exited before it answered /health: the migration failed (see above)" >&2
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "Open WebUI did not answer /health within 1800 s" >&2
    kill -TERM "$server"
    exit 1
  fi
  sleep 3
done
echo "migrated: Open WebUI $IMAGE_TAG started with migrations on and answered /health"
kill -TERM "$server"
wait "$server" || true
`;

/** The migration step: its ServiceAccount, what that account may do, and the Job. */
export function migrateObjects(ctx: PlanContext): { serviceAccount: K8sObject; role: K8sObject; roleBinding: K8sObject; job: K8sObject } {
  const meta = (name: string) => ({ name, namespace: ctx.namespace, labels: commonLabels(ctx.cluster.name, "openwebui-migrate") });
  const serviceAccount: K8sObject = { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(NAMES.migrate), automountServiceAccountToken: false };
  const role: K8sObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: meta(NAMES.migrate),
    rules: [
      { apiGroups: ["apps"], resources: ["deployments"], resourceNames: [NAMES.openwebui], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments/scale"], resourceNames: [NAMES.openwebui], verbs: ["get", "patch", "update"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
    ],
  };
  const roleBinding: K8sObject = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta(NAMES.migrate),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAMES.migrate },
    subjects: [{ kind: "ServiceAccount", name: NAMES.migrate, namespace: ctx.namespace }],
  };
  const job: K8sObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      ...meta(`${NAMES.migrate}-${ctx.upgradeHash}`),
      annotations: { ...upgradeAnnotations(ctx), ...awaitAnnotations("condition=Complete", 3600) },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: 3300,
      template: {
        metadata: { labels: commonLabels(ctx.cluster.name, "openwebui-migrate") },
        spec: {
          serviceAccountName: NAMES.migrate,
          // Only the container that scales the Deployment gets the token, not Open WebUI.
          automountServiceAccountToken: false,
          restartPolicy: "Never",
          initContainers: [
            {
              name: "stop-open-webui",
              image: TOOL_IMAGES.kubectl,
              command: ["bash", "-c", STOP_SCRIPT],
              env: [
                { name: "DEPLOYMENT", value: NAMES.openwebui },
                { name: "POD_SELECTOR", value: OPENWEBUI_POD_SELECTOR },
              ],
              volumeMounts: [API_ACCESS_MOUNT],
            },
          ],
          containers: [
            {
              name: "migrate",
              image: `${OPENWEBUI_IMAGE_REPOSITORY}:${ctx.cluster.openwebui.imageTag}`,
              workingDir: "/app/backend",
              command: ["bash", "-c", MIGRATE_SCRIPT],
              env: [...SECRET_ENV, ...SCALING_ENV, { name: "ENABLE_DB_MIGRATIONS", value: "true" }, { name: "PORT", value: "8080" }, { name: "IMAGE_TAG", value: ctx.cluster.openwebui.imageTag }],
              volumeMounts: [{ name: "data", mountPath: "/app/backend/data" }],
            },
          ],
          volumes: [{ name: "data", emptyDir: {} }, API_ACCESS_VOLUME],
        },
      },
    },
  };
  return { serviceAccount, role, roleBinding, job };
}
