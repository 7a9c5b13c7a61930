/**
 * Every object a cluster plan creates, validated against the schema of the version we pin:
 * custom resources against the operators' CRDs (vendored under test/fixtures/k8s, see each
 * SOURCE.md) with ajv, core objects with kubernetes-models. The values passed to each chart are
 * checked against the chart's values.schema.json, or, where it has none, against the keys of its
 * values.yaml. A field the CRD does not know would be pruned by the API server without a word, so
 * unknown fields are refused here.
 */
import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { K8sObject } from "../scripts/render/kubernetes/objects";
import { ClusterPlan } from "../scripts/render/kubernetes/plan";
import { RawCluster, allObjects, chartOf, filled, planFor } from "./support/k8s-plan";
import { FIXTURES, Schema, coreModel, crdValidators } from "./support/k8s-schemas";

const VARIANTS: [string, RawCluster][] = [
  ["files in S3, one replica", {}],
  ["files on a ReadWriteMany volume, three replicas, ingress with TLS", { openwebui: { replicas: 3, host: "chat.example.com", ingressClassName: "nginx", tlsSecret: "chat-tls" }, files: { provider: "pvc", accessMode: "ReadWriteMany", storageClass: "nfs" }, postgres: { storageClass: "fast" } }],
  ["an S3-compatible unmanaged target, operators preinstalled", { backup: { target: "minio" }, operators: { install: false }, files: { provider: "pvc" } }],
  ["8w retention, no drill", { backup: { target: "offsite", retention: "8w" }, files: { provider: "pvc" }, restoreDrill: { enabled: false } }],
];

describe("every planned object validates against the schema of the pinned version", () => {
  const validators = crdValidators();

  it("loads the vendored CRDs", () => {
    expect([...validators.keys()].sort()).toEqual(
      ["barmancloud.cnpg.io/v1/ObjectStore", "k8up.io/v1/Backup", "k8up.io/v1/Schedule", "postgresql.cnpg.io/v1/Backup", "postgresql.cnpg.io/v1/Cluster", "postgresql.cnpg.io/v1/ScheduledBackup"].sort(),
    );
  });

  it("refuses what the API server would prune or reject (the check itself works)", () => {
    const cluster = validators.get("postgresql.cnpg.io/v1/Cluster")!;
    const ok = { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "x" }, spec: { instances: 1, storage: { size: "1Gi" } } };
    expect(cluster(ok)).toBe(true);
    expect(cluster({ ...ok, spec: { ...ok.spec, plugins: [{ name: "barman-cloud.cloudnative-pg.io", isWalArchiver: true }] } })).toBe(false);
    expect(cluster({ ...ok, spec: { ...ok.spec, instances: "three" } })).toBe(false);
    const store = validators.get("barmancloud.cnpg.io/v1/ObjectStore")!;
    expect(store({ apiVersion: "barmancloud.cnpg.io/v1", kind: "ObjectStore", metadata: { name: "s" }, spec: { configuration: { destinationPath: "s3://b/p" }, retentionPolicy: "30" } })).toBe(false);
    const Job = coreModel("batch/v1", "Job")!;
    expect(() => new Job({ metadata: { name: "j" }, spec: { template: { spec: { containers: [{ image: "x" }] } } } }).validate()).toThrow(/name/);
  });

  describe.each(VARIANTS)("%s", (_name, over) => {
    const plan: ClusterPlan = planFor(over);
    const objects = allObjects(plan).map(({ id, object }) => ({ id, object: filled(object) as K8sObject }));

    it.each(objects.map((o) => [o.id, o.object.kind, o.object]))("%s (%s)", (_id, _kind, object) => {
      const obj = object as K8sObject;
      const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
      const crd = validators.get(`${group}/${version}/${obj.kind}`);
      if (crd) {
        const valid = crd(obj);
        expect(valid ? [] : crd.errors).toEqual([]);
        return;
      }
      const Model = coreModel(obj.apiVersion, obj.kind);
      if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}: vendor its CRD or use a kubernetes-models kind`);
      expect(() => new Model(obj).validate()).not.toThrow();
    });
  });
});

describe("chart values", () => {
  const yamlValues = (file: string) => parseYaml(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as Schema;

  /** Paths of `ours` that the chart's values.yaml does not have (free-form maps and lists are leaves). */
  function unknownKeys(ours: unknown, chart: unknown, at = ""): string[] {
    if (!ours || typeof ours !== "object" || Array.isArray(ours)) return [];
    if (!chart || typeof chart !== "object" || Array.isArray(chart)) return [`${at}: the chart has ${JSON.stringify(chart)} here, not an object`];
    const defaults = chart as Schema;
    if (Object.keys(defaults).length === 0) return []; // a free-form map in the chart
    return Object.entries(ours as Schema).flatMap(([k, v]) => (k in defaults ? unknownKeys(v, defaults[k], at ? `${at}.${k}` : k) : [`${at ? `${at}.` : ""}${k}`]));
  }

  it("the checker finds a key the chart does not have", () => {
    expect(unknownKeys({ persistence: { provider: "s3", s3: { bucket: "b", buckt: "b" } }, extraEnvVars: [{ name: "X" }] }, yamlValues("open-webui-16.0.0/values.yaml"))).toEqual(["persistence.s3.buckt"]);
  });

  it.each(VARIANTS)("open-webui 16.0.0: every key we set exists in its values.yaml (%s)", (_name, over) => {
    const values = filled(chartOf(planFor(over), "openwebui").values);
    expect(unknownKeys(values, yamlValues("open-webui-16.0.0/values.yaml"))).toEqual([]);
    const EnvVar = coreModel("v1", "EnvVar")!;
    for (const env of values.extraEnvVars as unknown[]) expect(() => new EnvVar(env).validate()).not.toThrow();
  });

  it("k8up 4.9.0: every key we set exists in its values.yaml", () => {
    expect(unknownKeys(chartOf(planFor({}), "operator-k8up").values, yamlValues("k8up-4.9.0/values.yaml"))).toEqual([]);
  });

  it.each([
    ["operator-cnpg", "cloudnative-pg-charts/cloudnative-pg-0.29.0.values.schema.json"],
    ["operator-barman-cloud", "cloudnative-pg-charts/plugin-barman-cloud-0.7.0.values.schema.json"],
  ])("%s: our values validate against the chart's values.schema.json", (id, file) => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")));
    const values = chartOf(planFor({}), id).values;
    expect(validate(values) ? [] : validate.errors).toEqual([]);
    expect(validate({ crds: { create: "yes" } })).toBe(false);
  });
});
