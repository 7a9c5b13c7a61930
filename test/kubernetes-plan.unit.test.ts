/**
 * The cluster planner, asserted on its plain output: the order of the steps, the cron dialects
 * in the objects that read them, the multi-replica rules, no plaintext secret anywhere (every
 * string scanned), a restore drill that cannot archive, pre-upgrade backups ahead of the chart,
 * keys that cannot erase history, and what is kept on delete.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseKubernetesCron, parseSecondsCron } from "../calendar/kubernetes-cron";
import { s3PolicyForKey } from "../components/s3-backup-bucket";
import { clusterKeyAccess } from "../scripts/render/kubernetes/keys";
import { DRILL_SCRIPT, LIST_UPLOADS_SCRIPT, RESTORE_FILES_SCRIPT } from "../scripts/render/kubernetes/drill";
import { K8sObject, NAMES, PlanStep } from "../scripts/render/kubernetes/objects";
import { MIGRATE_SCRIPT, STOP_SCRIPT } from "../scripts/render/kubernetes/openwebui";
import { SECRET_VALUES, stringsOf } from "../scripts/render/kubernetes/refs";
import { BARMAN_CLOUD_CHART, CNPG_CHART, K8UP_CHART } from "../scripts/render/kubernetes/versions";
import { SAMPLE_VALUES, allObjects, chartOf, containerIn, filled, objectOf, parsedCluster, planFor, step } from "./support/k8s-plan";

const PVC = { files: { provider: "pvc", size: "30Gi", accessMode: "ReadWriteMany", storageClass: "nfs" } };
const index = (steps: readonly PlanStep[], id: string) => steps.findIndex((s) => s.id === id);
/** Every step a step waits for, directly or through others. */
function waitsFor(steps: readonly PlanStep[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const visit = (x: string) => byId.get(x)?.dependsOn.forEach((d) => (seen.has(d) ? undefined : (seen.add(d), visit(d))));
  visit(id);
  return seen;
}
const spec = (o: K8sObject) => o.spec as Record<string, any>;

describe("plan order", () => {
  it.each([
    ["files in S3", {}],
    ["files on a volume", PVC],
  ])("%s: every step comes after the steps it waits for", (_name, over) => {
    const steps = planFor(over).steps;
    steps.forEach((s, i) => {
      for (const d of s.dependsOn) {
        const at = index(steps, d);
        expect([s.id, d, at >= 0 && at < i]).toEqual([s.id, d, true]);
      }
    });
    expect(new Set(steps.map((s) => s.id)).size).toBe(steps.length);
  });

  it("the pre-upgrade backups, then the migration, then the chart", () => {
    const steps = planFor(PVC).steps;
    const chart = waitsFor(steps, "openwebui");
    for (const id of ["pre-upgrade-database-backup", "pre-upgrade-files-backup", "migrate-job", "database", "secret-webui-key", "files-volume"]) expect(chart.has(id)).toBe(true);
    expect(waitsFor(steps, "migrate-job").has("pre-upgrade-database-backup")).toBe(true);
    expect(waitsFor(steps, "migrate-job").has("pre-upgrade-files-backup")).toBe(true);
    expect(index(steps, "pre-upgrade-database-backup")).toBeLessThan(index(steps, "migrate-job"));
    expect(index(steps, "migrate-job")).toBeLessThan(index(steps, "openwebui"));
  });

  it("custom resources wait for the operators the stack installs; with operators.install false, no operator charts", () => {
    const steps = planFor(PVC).steps;
    expect(steps.filter((s) => s.type === "chart").map((s) => s.id)).toEqual(["operator-cnpg", "operator-barman-cloud", "operator-k8up", "openwebui"]);
    const crs = steps.filter((s) => s.type === "object" && /cnpg\.io|k8up\.io/.test(s.object.apiVersion));
    expect(crs.map((c) => c.id)).toEqual(["objectstore-backup", "objectstore-readonly", "database", "database-scheduled-backup", "files-schedule", "pre-upgrade-database-backup", "pre-upgrade-files-backup"]);
    for (const cr of crs) {
      const needs = waitsFor(steps, cr.id);
      const op = cr.type === "object" && cr.object.apiVersion.startsWith("k8up.io") ? "operator-k8up" : "operator-barman-cloud";
      expect([cr.id, needs.has(op)]).toEqual([cr.id, true]);
    }
    const bare = planFor({ ...PVC, operators: { install: false } }).steps;
    expect(bare.filter((s) => s.type === "chart").map((s) => s.id)).toEqual(["openwebui"]);
    expect(bare.flatMap((s) => s.dependsOn).filter((d) => d.startsWith("operator-"))).toEqual([]);
  });

  it("operator charts and the Open WebUI chart are pinned", () => {
    const plan = planFor({ openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0" } });
    expect(chartOf(plan, "operator-cnpg")).toMatchObject({ chart: "cloudnative-pg", version: "0.29.0", repo: "https://cloudnative-pg.github.io/charts", namespace: "cnpg-system" });
    expect(chartOf(plan, "operator-barman-cloud")).toMatchObject({ chart: "plugin-barman-cloud", version: "0.7.0", namespace: "cnpg-system" });
    expect(chartOf(plan, "operator-k8up")).toMatchObject({ chart: "k8up", version: "4.9.0", repo: "https://k8up-io.github.io/k8up" });
    expect(chartOf(plan, "openwebui")).toMatchObject({ chart: "open-webui", version: "16.0.0", repo: "https://helm.openwebui.com", namespace: "openwebui" });
    expect((chartOf(plan, "openwebui").values.image as Record<string, string>).tag).toBe("0.11.0");
    expect([CNPG_CHART.appVersion, BARMAN_CLOUD_CHART.appVersion, K8UP_CHART.appVersion]).toEqual(["1.30.0", "v0.13.0", "v2.15.0"]);
  });
});

describe("cron dialects in the objects", () => {
  it("ScheduledBackup: six fields, seconds first; k8up and the drill CronJob: five", () => {
    const plan = planFor({ ...PVC, backup: { target: "offsite", retention: "30d", schedule: "0 30 2 * * *", files: { schedule: "5 * * * *", checkSchedule: "0 6 * * 1" } }, restoreDrill: { schedule: "0 7 * * 6" } });
    const cnpg = spec(objectOf(plan, "database-scheduled-backup")).schedule as string;
    expect(cnpg.split(" ")).toHaveLength(6);
    expect(parseSecondsCron(cnpg)).toMatchObject({ seconds: [0], minutes: [30], hours: [2] });
    const schedule = spec(objectOf(plan, "files-schedule"));
    for (const job of ["backup", "check", "prune"]) {
      expect(schedule[job].schedule.split(" ")).toHaveLength(5);
      expect(() => parseKubernetesCron(schedule[job].schedule)).not.toThrow();
    }
    expect([schedule.backup.schedule, schedule.check.schedule]).toEqual(["5 * * * *", "0 6 * * 1"]);
    const drill = spec(objectOf(plan, "drill-cronjob")).schedule as string;
    expect(drill).toBe("0 7 * * 6");
  });
});

describe("multi-replica rules", () => {
  const values = (over: Record<string, unknown>) => chartOf(planFor(over), "openwebui").values as Record<string, any>;
  const env = (v: Record<string, any>) => Object.fromEntries((v.extraEnvVars as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

  it("replicas > 1: Redis websockets, one shared key, pgvector, one worker, no migrations in the chart's pods", () => {
    const v = values({ openwebui: { replicas: 3 } });
    expect(v.replicaCount).toBe(3);
    expect(v.websocket).toEqual({ enabled: true, manager: "redis", redis: { enabled: true } });
    expect(v.strategy).toEqual({ type: "Recreate" });
    expect(v.workload).toEqual({ kind: "Deployment" });
    expect(env(v)).toMatchObject({ VECTOR_DB: "pgvector", UVICORN_WORKERS: "1", ENABLE_DB_MIGRATIONS: "false" });
    expect(v.persistence).toMatchObject({ enabled: false, provider: "s3" });
  });

  it("one replica: no Redis; migrations run only in the migration Job", () => {
    const plan = planFor({});
    const v = chartOf(plan, "openwebui").values as Record<string, any>;
    expect(v.websocket).toEqual({ enabled: true, manager: "", redis: { enabled: false } });
    const migrate = containerIn(objectOf(plan, "migrate-job"), "migrate");
    expect(migrate.env).toEqual(expect.arrayContaining([{ name: "ENABLE_DB_MIGRATIONS", value: "true" }]));
    expect(spec(objectOf(plan, "migrate-job")).backoffLimit).toBe(0);
  });

  it("files on a ReadWriteMany volume: the chart mounts the planned claim", () => {
    const plan = planFor({ ...PVC, openwebui: { replicas: 2 } });
    expect((chartOf(plan, "openwebui").values as Record<string, any>).persistence).toEqual({ enabled: true, existingClaim: NAMES.filesVolume, provider: "local" });
    expect(spec(objectOf(plan, "files-volume"))).toMatchObject({ accessModes: ["ReadWriteMany"], storageClassName: "nfs", resources: { requests: { storage: "30Gi" } } });
  });

  it("pipelines and Ollama stay off unless asked for", () => {
    expect(values({})).toMatchObject({ pipelines: { enabled: false }, ollama: { enabled: false } });
    expect(values({ openwebui: { pipelines: { enabled: true }, ollama: { enabled: true } } })).toMatchObject({ pipelines: { enabled: true }, ollama: { enabled: true } });
  });
});

describe("no plaintext secrets", () => {
  const plans = [planFor({}), planFor(PVC), planFor({ backup: { target: "minio" } }), planFor({ openwebui: { replicas: 2, host: "chat.example.com", tlsSecret: "chat-tls" } })];

  it("DATABASE_URL and WEBUI_SECRET_KEY only ever come from Secrets, and no string anywhere is a connection URL", () => {
    for (const plan of plans) {
      const everything = filled(plan.steps);
      for (const { path: at, text } of stringsOf(everything)) {
        expect([at, /postgres(ql)?:\/\//i.test(text)]).toEqual([at, false]);
      }
      const envs: { name: string; value?: unknown; valueFrom?: any }[] = [];
      const collect = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(collect);
        else if (v && typeof v === "object") {
          const o = v as Record<string, any>;
          if (typeof o.name === "string" && ("value" in o || "valueFrom" in o)) envs.push(o as never);
          Object.values(o).forEach(collect);
        }
      };
      collect(everything);
      const dbUrls = envs.filter((e) => e.name === "DATABASE_URL");
      expect(dbUrls.length).toBe(2); // the chart's pods and the migration Job
      for (const e of dbUrls) expect(e).toEqual({ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: NAMES.databaseAppSecret, key: "uri" } } });
      for (const e of envs.filter((x) => x.name === "WEBUI_SECRET_KEY")) expect(e).toEqual({ name: "WEBUI_SECRET_KEY", valueFrom: { secretKeyRef: { name: NAMES.webuiSecret, key: "WEBUI_SECRET_KEY" } } });
      expect((chartOf(plan, "openwebui").values as Record<string, any>).databaseUrl).toBe("");
      expect((chartOf(plan, "openwebui").values as Record<string, any>).openaiApiKey).toBe("");
    }
  });

  it("every secret value lands only in a Secret's stringData", () => {
    for (const plan of plans) {
      for (const s of filled(plan.steps)) {
        for (const { path: at, text } of stringsOf(s.type === "object" ? s.object : s.values)) {
          for (const name of SECRET_VALUES) {
            if (!text.includes(SAMPLE_VALUES[name])) continue;
            expect([s.id, at, s.type === "object" && s.object.kind]).toEqual([s.id, expect.stringMatching(/^stringData\./), "Secret"]);
          }
        }
      }
      // And each needed secret is somewhere: none is silently dropped.
      const secrets = JSON.stringify(filled(plan.steps));
      for (const name of plan.secretValues) expect([name, secrets.includes(SAMPLE_VALUES[name])]).toEqual([name, true]);
    }
  });
});

describe("the restore drill", () => {
  const plan = planFor(PVC);
  const manifest = JSON.parse((objectOf(plan, "drill-config").data as Record<string, string>)["cluster.json"]) as K8sObject;

  it("recovers a throwaway cluster with no WAL archiving of its own, from the read-only store", () => {
    expect(manifest.metadata.name).toBe(NAMES.drillDatabase);
    expect(spec(manifest).plugins).toBeUndefined();
    expect(spec(manifest).backup).toBeUndefined();
    expect(spec(manifest).instances).toBe(1);
    expect(spec(manifest).bootstrap).toEqual({ recovery: { source: "origin", database: "app", owner: "app" } });
    expect(spec(manifest).externalClusters).toEqual([
      { name: "origin", plugin: { name: "barman-cloud.cloudnative-pg.io", parameters: { barmanObjectName: NAMES.readOnlyObjectStore, serverName: NAMES.database } } },
    ]);
    // The read-only store reads the production path with the reader key and prunes nothing.
    const ro = spec(objectOf(plan, "objectstore-readonly"));
    const rw = spec(objectOf(plan, "objectstore-backup"));
    expect(ro.configuration.destinationPath).toBe(rw.configuration.destinationPath);
    expect(ro.configuration.s3Credentials.secretAccessKey.name).toBe(NAMES.readerSecret);
    expect(ro.retentionPolicy).toBeUndefined();
    // Production archives through the writer store.
    expect(spec(objectOf(plan, "database")).plugins).toEqual([{ name: "barman-cloud.cloudnative-pg.io", isWALArchiver: true, parameters: { barmanObjectName: NAMES.objectStore } }]);
    expect(rw.configuration.s3Credentials.secretAccessKey.name).toBe(NAMES.writerSecret);
  });

  it("its account may create clusters and touch only the throwaway one; admission refuses anything else", () => {
    const rules = objectOf(plan, "drill-role").rules as { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[];
    expect(rules.flatMap((r) => r.verbs)).not.toContain("*");
    expect(rules.flatMap((r) => r.resources)).not.toContain("secrets");
    for (const r of rules) if (!(r.verbs.length === 1 && r.verbs[0] === "create" && r.resources[0] === "clusters")) expect(r.resourceNames?.length).toBeGreaterThan(0);
    expect(rules.find((r) => r.resources.includes("pods/exec"))?.resourceNames).toEqual([`${NAMES.drillDatabase}-1`]);
    const validations = (spec(objectOf(plan, "drill-policy")).validations as { expression: string }[]).map((v) => v.expression).join("\n");
    expect(validations).toContain(`object.metadata.name == '${NAMES.drillDatabase}'`);
    expect(validations).toContain("!has(object.spec.plugins) || size(object.spec.plugins) == 0");
    expect(validations).toContain("!has(object.spec.backup)");
    expect(validations).toContain(`'${NAMES.readOnlyObjectStore}'`);
    expect(spec(objectOf(plan, "drill-policy")).matchConditions[0].expression).toBe(`request.userInfo.username == 'system:serviceaccount:openwebui:${NAMES.drill}'`);
    expect(spec(objectOf(plan, "drill-policy-binding")).validationActions).toEqual(["Deny"]);
  });

  it("restores files with the reader key into a scratch volume that goes with the pod; a failed Job stays as the alert", () => {
    const cron = spec(objectOf(plan, "drill-cronjob"));
    const restore = containerIn(cron, "restore-files");
    const envNames = (restore.env as { name: string; valueFrom?: any }[]).map((e) => [e.name, e.valueFrom?.secretKeyRef?.name]);
    expect(envNames).toEqual(expect.arrayContaining([["AWS_ACCESS_KEY_ID", NAMES.readerSecret], ["AWS_SECRET_ACCESS_KEY", NAMES.readerSecret], ["RESTIC_PASSWORD", NAMES.resticSecret]]));
    expect(JSON.stringify(cron)).not.toContain(NAMES.writerSecret);
    const pod = cron.jobTemplate.spec.template.spec;
    expect(pod.volumes.find((v: any) => v.name === "scratch").ephemeral.volumeClaimTemplate.spec.resources.requests.storage).toBe("30Gi");
    expect(cron.jobTemplate.spec.backoffLimit).toBe(0);
    expect(cron.concurrencyPolicy).toBe("Forbid");
    expect(cron.failedJobsHistoryLimit).toBeGreaterThan(0);
    expect(cron.jobTemplate.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  it("only the containers that talk to the API get the ServiceAccount token", () => {
    const tokenHolders = (podSpec: any) =>
      [...(podSpec.initContainers ?? []), ...podSpec.containers].filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === "/var/run/secrets/kubernetes.io/serviceaccount")).map((c: any) => c.name);
    const drillPod = spec(objectOf(plan, "drill-cronjob")).jobTemplate.spec.template.spec;
    expect(drillPod.automountServiceAccountToken).toBe(false);
    expect(tokenHolders(drillPod)).toEqual(["drill"]);
    const migratePod = spec(objectOf(plan, "migrate-job")).template.spec;
    expect(migratePod.automountServiceAccountToken).toBe(false);
    expect(tokenHolders(migratePod)).toEqual(["stop-open-webui"]);
  });

  it("with files in S3 it lists the uploads with the reader key", () => {
    const s3 = planFor({});
    const list = containerIn(spec(objectOf(s3, "drill-cronjob")), "list-uploads");
    expect(list.env).toEqual(expect.arrayContaining([{ name: "UPLOADS_PREFIX", value: "prod/uploads" }, { name: "AWS_SECRET_ACCESS_KEY", valueFrom: { secretKeyRef: { name: NAMES.readerSecret, key: "ACCESS_SECRET_KEY" } } }]));
    expect(s3.steps.some((x) => x.id === "drill-cronjob")).toBe(true);
    expect(planFor({ restoreDrill: { enabled: false } }).steps.some((x) => x.id.startsWith("drill-"))).toBe(false);
  });
});

describe("pre-upgrade backups", () => {
  const names = (over: Record<string, unknown>) => {
    const plan = planFor({ ...PVC, ...over });
    return ["pre-upgrade-database-backup", "pre-upgrade-files-backup", "migrate-job"].map((id) => objectOf(plan, id).metadata.name);
  };

  it("are named from a hash of chartVersion and imageTag: a change of either makes new ones", () => {
    const base = names({ openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0" } });
    expect(names({ openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0", replicas: 1, host: "chat.example.com" } })).toEqual(base);
    const newImage = names({ openwebui: { chartVersion: "16.0.0", imageTag: "0.11.1" } });
    const newChart = names({ openwebui: { chartVersion: "16.0.1", imageTag: "0.11.0" } });
    for (const changed of [newImage, newChart]) changed.forEach((n, i) => expect(n).not.toBe(base[i]));
    expect(base[0]).toMatch(/^openwebui-db-pre-upgrade-[0-9a-f]{10}$/);
  });

  it("Pulumi waits for them to complete before anything after them", () => {
    const plan = planFor(PVC);
    expect(objectOf(plan, "pre-upgrade-database-backup").metadata.annotations).toMatchObject({ "pulumi.com/waitFor": "jsonpath={.status.phase}=completed" });
    expect(objectOf(plan, "pre-upgrade-files-backup").metadata.annotations).toMatchObject({ "pulumi.com/waitFor": 'jsonpath={.status.conditions[?(@.type=="Completed")].reason}=Succeeded' });
    expect(objectOf(plan, "migrate-job").metadata.annotations).toMatchObject({ "pulumi.com/waitFor": "condition=Complete" });
    expect(spec(objectOf(plan, "pre-upgrade-database-backup"))).toEqual({ cluster: { name: NAMES.database }, method: "plugin", pluginConfiguration: { name: "barman-cloud.cloudnative-pg.io" } });
    expect(spec(objectOf(plan, "pre-upgrade-files-backup")).backend.s3.accessKeyIDSecretRef.name).toBe(NAMES.writerSecret);
  });
});

describe("keys", () => {
  it("the writer deletes only where the cluster prunes; the reader changes nothing but lock files; no key deletes versions", () => {
    const pvc = parsedCluster(PVC);
    const managed = clusterKeyAccess(pvc, { managed: true });
    expect(managed.writer).toEqual({ read: ["prod/postgres/", "prod/files/"], write: ["prod/postgres/", "prod/files/"], delete: ["prod/postgres/", "prod/files/"] });
    expect(managed.reader).toEqual({ read: ["prod/postgres/", "prod/files/"], write: ["prod/files/locks/"], delete: ["prod/files/locks/"] });
    const noRetention = clusterKeyAccess(parsedCluster({ ...PVC, backup: { target: "offsite" } }), { managed: true });
    expect(noRetention.writer?.delete).toEqual(["prod/files/locks/"]);
    const s3 = clusterKeyAccess(parsedCluster({}), { managed: true, prefix: "team-a" });
    expect(s3.files).toEqual({ read: ["team-a/uploads/"], write: ["team-a/uploads/"], delete: ["team-a/uploads/"] });
    for (const access of [managed.writer!, managed.reader!, s3.files!]) {
      const policy = s3PolicyForKey("arn:aws:s3:::owb", access);
      const actions = policy.Statement.flatMap((st) => st.Action);
      expect(actions).not.toContain("s3:DeleteObjectVersion");
      expect(actions.filter((a) => !["s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"].includes(a))).toEqual([]);
    }
    expect(s3PolicyForKey("arn:aws:s3:::owb", managed.reader!).Statement.find((st) => st.Sid === "WriteOwnObjects")?.Resource).toEqual(["arn:aws:s3:::owb/prod/files/locks/*"]);
  });

  it("pruning from the cluster only with a managed target's keys: barman retention and k8up prune", () => {
    const managed = planFor(PVC);
    expect(spec(objectOf(managed, "objectstore-backup")).retentionPolicy).toBe("30d");
    expect(spec(objectOf(managed, "files-schedule")).prune).toMatchObject({ retention: { keepLast: 24, keepDaily: 30 } });
    expect(spec(objectOf(managed, "files-schedule")).prune.backend.s3.accessKeyIDSecretRef.name).toBe(NAMES.writerSecret);
    const unmanaged = planFor({ ...PVC, backup: { target: "minio" } });
    expect(spec(objectOf(unmanaged, "objectstore-backup")).retentionPolicy).toBeUndefined();
    expect(spec(objectOf(unmanaged, "files-schedule")).prune).toBeUndefined();
  });

  it("k8up backs up with the writer key and checks with the reader key", () => {
    const s = spec(objectOf(planFor(PVC), "files-schedule"));
    expect(s.backup.backend.s3.secretAccessKeySecretRef.name).toBe(NAMES.writerSecret);
    expect(s.check.backend.s3.secretAccessKeySecretRef.name).toBe(NAMES.readerSecret);
    expect(s.backend.s3.secretAccessKeySecretRef.name).toBe(NAMES.readerSecret);
    expect(s.backup.labelSelectors).toEqual([{ matchLabels: { "app.kubernetes.io/component": "openwebui-files" } }]);
    expect(filled(s).backup.backend.s3).toMatchObject({ endpoint: "https://s3.eu-central-1.amazonaws.com", bucket: "owb-backups-sample/prod/files" });
  });
});

describe("kept on delete", () => {
  it("the namespace, the database and its ObjectStore, the file volume, the keys and the operators; nothing else", () => {
    const kept = planFor(PVC).steps.filter((s) => s.retainOnDelete).map((s) => s.id);
    expect(kept.sort()).toEqual(
      ["namespace", "operator-cnpg", "operator-barman-cloud", "operator-k8up", "secret-webui-key", "secret-backup-writer", "secret-backup-reader", "secret-restic", "objectstore-backup", "database", "files-volume"].sort(),
    );
  });
});

describe("scripts in the plan", () => {
  it.each([
    ["drill.sh", DRILL_SCRIPT, "bash"],
    ["restore-files", RESTORE_FILES_SCRIPT, "sh"],
    ["list-uploads", LIST_UPLOADS_SCRIPT, "sh"],
    ["stop-open-webui", STOP_SCRIPT, "bash"],
    ["migrate", MIGRATE_SCRIPT, "bash"],
  ])("%s passes shellcheck", (_name, script, shell) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-k8s-sh-"));
    try {
      const file = path.join(dir, "script");
      fs.writeFileSync(file, script);
      expect(execFileSync("shellcheck", ["-s", shell, "-S", "style", file], { encoding: "utf8" })).toBe("");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the ConfigMap carries the drill script as planned", () => {
    const plan = planFor(PVC);
    expect((objectOf(plan, "drill-config").data as Record<string, string>)["drill.sh"]).toBe(DRILL_SCRIPT);
    expect(allObjects(plan).length).toBe(plan.steps.filter((s) => s.type === "object").length + 2);
    expect(step(plan, "openwebui").type).toBe("chart");
  });
});
