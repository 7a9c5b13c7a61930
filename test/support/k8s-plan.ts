/**
 * Cluster plans for tests: a parsed config with one cluster (tweaked per test), its plan, and the
 * plan with every token filled by a recognisable sample value, so a test can find where each
 * secret lands.
 */
import { ClusterConfig, parseStackConfig } from "../../config";
import { ClusterTarget } from "../../scripts/render/kubernetes/context";
import { K8sObject, PlanStep } from "../../scripts/render/kubernetes/objects";
import { ClusterPlan, planCluster } from "../../scripts/render/kubernetes/plan";
import { RefName, fillRefs, mapRefs } from "../../scripts/render/kubernetes/refs";

/** Sample values: each secret is unmistakable in any string it lands in. */
export const SAMPLE_VALUES: Record<RefName, string> = {
  webuiSecretKey: "SAMPLE-WEBUI-SECRET-KEY-7f3a",
  writerAccessKeyId: "AKIASAMPLEWRITER",
  writerSecretAccessKey: "SAMPLE-WRITER-SECRET-91c2",
  readerAccessKeyId: "AKIASAMPLEREADER",
  readerSecretAccessKey: "SAMPLE-READER-SECRET-5d0e",
  filesAccessKeyId: "AKIASAMPLEFILES",
  filesSecretAccessKey: "SAMPLE-FILES-SECRET-a8b4",
  resticPassword: "SAMPLE-RESTIC-PASSWORD-33f1",
  bucket: "owb-backups-sample",
  region: "eu-central-1",
};

export const TARGETS = {
  offsite: { type: "s3", bucket: "owb-backups", region: "eu-central-1", managed: {} },
  minio: { type: "s3", bucket: "owb", endpoint: "https://minio.example.org", region: "us-east-1", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cret-configured" },
  b2: { type: "b2", bucket: "owb-b2", keyId: "k", applicationKey: "a" },
  nas: { type: "local", path: "/mnt/nas" },
} as const;

export type RawCluster = Record<string, unknown>;

export const rawCluster = (over: RawCluster = {}): RawCluster => ({ name: "prod", backup: { target: "offsite", retention: "30d" }, ...over });

/** The stack config around clusters: the sample targets and a restic password. */
export const rawStack = (clusters: RawCluster[], extra: Record<string, unknown> = {}) => ({ targets: TARGETS, clusters, resticPassword: "pw", ...extra });

export function parsedCluster(over: RawCluster = {}): ClusterConfig {
  return parseStackConfig(rawStack([rawCluster(over)])).clusters[0];
}

/** The target as the program hands it to the planner: a managed bucket's name and region as tokens. */
export function targetFor(cluster: ClusterConfig): ClusterTarget {
  const name = cluster.backup.target;
  if (name === "offsite") return { name, managed: true, bucket: "{{owb:bucket}}", region: "{{owb:region}}" };
  if (name === "minio") return { name, managed: false, bucket: "owb", region: "us-east-1", endpoint: "https://minio.example.org" };
  throw new Error(`no sample target ${name}`);
}

export function planFor(over: RawCluster = {}): ClusterPlan {
  const cluster = parsedCluster(over);
  return planCluster({ cluster, target: targetFor(cluster) });
}

/** A step's content with every token replaced by its sample value. */
export function filled<T>(value: T): T {
  return mapRefs(value, (text) => fillRefs(text, SAMPLE_VALUES)) as T;
}

export function step(plan: ClusterPlan, id: string): PlanStep {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}; steps: ${plan.steps.map((x) => x.id).join(", ")}`);
  return s;
}

export function objectOf(plan: ClusterPlan, id: string): K8sObject {
  const s = step(plan, id);
  if (s.type !== "object") throw new Error(`step ${id} is a chart`);
  return s.object;
}

export function chartOf(plan: ClusterPlan, id: string) {
  const s = step(plan, id);
  if (s.type !== "chart") throw new Error(`step ${id} is an object`);
  return s;
}

/** Every Kubernetes object the plan creates, the drill's throwaway cluster included (with and without a target time). */
export function allObjects(plan: ClusterPlan): { id: string; object: K8sObject }[] {
  const objects = plan.steps.flatMap((s) => (s.type === "object" ? [{ id: s.id, object: s.object }] : []));
  const drill = plan.steps.find((s) => s.id === "drill-config");
  if (drill?.type === "object") {
    const manifest = JSON.parse((drill.object.data as Record<string, string>)["cluster.json"]) as K8sObject;
    const withTarget = JSON.parse(JSON.stringify(manifest));
    withTarget.spec.bootstrap.recovery.recoveryTarget = { targetTime: "2026-05-01T03:15:02Z" };
    withTarget.metadata.ownerReferences = [{ apiVersion: "batch/v1", kind: "Job", name: "openwebui-restore-drill-29100000", uid: "0b6f7c1e-1111-4222-8333-944445555666" }];
    objects.push({ id: "drill-cluster (at run time)", object: manifest }, { id: "drill-cluster with target time (at run time)", object: withTarget });
  }
  return objects;
}

/** The env list of the first container named `name` in a pod template or job/cron job spec. */
export function containerIn(obj: unknown, name: string): Record<string, any> {
  const found: Record<string, any>[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      const o = v as Record<string, any>;
      if (typeof o.name === "string" && typeof o.image === "string" && o.name === name) found.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(obj);
  if (found.length === 0) throw new Error(`no container ${name}`);
  return found[0];
}
