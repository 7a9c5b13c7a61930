/**
 * components/openwebui-cluster.ts and the program under Pulumi mocks: every planned step becomes
 * one resource of the right type token with the planned inputs (tokens filled), through the
 * cluster's own Kubernetes provider; charts are pinned; secrets stay secret; what the plan keeps
 * on delete is registered with retainOnDelete, and the chart waits for the pre-upgrade steps.
 * Managed targets give the cluster its own scoped IAM keys on the hardened bucket.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, parseStackConfig } from "../config";
import type { OpenWebUICluster } from "../components/openwebui-cluster";
import { deployStack, stackOutputs } from "../program/deploy";
import { K8sObject } from "../scripts/render/kubernetes/objects";
import { fillRefs, mapRefs } from "../scripts/render/kubernetes/refs";
import { promiseOf, registered, unwrapInput } from "./support/pulumi-mocks";
import { RawCluster, TARGETS, rawCluster } from "./support/k8s-plan";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks");

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly retainOnDelete: boolean;
  readonly dependencies: readonly string[];
  readonly provider: string;
}
const registrations: Registration[] = [];
const originalRegister = MockMonitor.prototype.registerResource;
/** What the engine is told beyond the inputs: retainOnDelete, dependsOn, the provider. */
MockMonitor.prototype.registerResource = function (req: any, callback: unknown) {
  registrations.push({
    type: req.getType(),
    name: req.getName(),
    retainOnDelete: req.getRetainondelete?.() ?? false,
    dependencies: req.getDependenciesList(),
    provider: req.getProvider(),
  });
  return originalRegister.call(this, req, callback);
};

function mockEngine() {
  registered.length = 0;
  registrations.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = `${args.name}-id`;
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        const extra: Record<string, unknown> =
          args.type === "aws:iam/accessKey:AccessKey"
            ? { secret: `mock-secret-of-${args.name}` }
            : args.type === "aws:s3/bucket:Bucket"
              ? { bucket: args.inputs.bucket ?? `${args.name}-generated`, arn: `arn:aws:s3:::${args.inputs.bucket ?? args.name}`, region: "eu-central-1" }
              : args.type === "random:index/randomPassword:RandomPassword"
                ? { result: "generated-webui-secret-key-0123456789abcdef" }
                : {};
        return { id, state: { ...args.inputs, ...extra } };
      },
      call: (args) => args.inputs,
    },
    "openwebui",
    "test",
    false,
  );
}

const stack = (clusters: RawCluster[], targets: Record<string, unknown> = TARGETS) => parseStackConfig({ targets, clusters, resticPassword: "restic-pw" });

/** Waits until every resource of the cluster is registered with the engine. */
async function settle(c: OpenWebUICluster) {
  await Promise.all([...Object.values(c.resources).map((r) => promiseOf(r.urn)), promiseOf(c.provider.urn), promiseOf(c.secretKey)]);
}

/** The type token Pulumi uses for a Kubernetes object. */
function tokenOf(o: K8sObject): string {
  if (!o.apiVersion.includes("/")) return `kubernetes:core/${o.apiVersion}:${o.kind}`;
  return `kubernetes:${o.apiVersion}:${o.kind}`;
}

/** Inputs as the engine got them, with secrets unwrapped (and where they were secret). */
function plainInputs(value: unknown, secrets: string[], at = ""): unknown {
  const { secret, value: v } = unwrapInput(value);
  if (secret) secrets.push(at);
  if (Array.isArray(v)) return v.map((x, i) => plainInputs(x, secrets, `${at}[${i}]`));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainInputs(x, secrets, at ? `${at}.${k}` : k)]));
  return v;
}

describe("OpenWebUICluster under mocks", () => {
  const PVC_CLUSTER = rawCluster({ files: { provider: "pvc", accessMode: "ReadWriteMany" }, openwebui: { replicas: 2, host: "chat.example.com" } });

  it("one resource per planned step, of the right type, with the planned inputs, through the cluster's provider", async () => {
    mockEngine();
    const d = deployStack(stack([PVC_CLUSTER]), { stack: "test" });
    const c = d.clusters.prod;
    await settle(c);
    const bucket = "owb-backups";
    const values = {
      bucket,
      region: "eu-central-1",
      webuiSecretKey: "generated-webui-secret-key-0123456789abcdef",
      writerAccessKeyId: "offsite-key-prod-writer-id",
      writerSecretAccessKey: "mock-secret-of-offsite-key-prod-writer",
      readerAccessKeyId: "offsite-key-prod-reader-id",
      readerSecretAccessKey: "mock-secret-of-offsite-key-prod-reader",
      resticPassword: "restic-pw",
    };
    const providerUrn = await promiseOf(c.provider.urn);
    const providerRef = `${providerUrn}::${await promiseOf(c.provider.id)}`;
    for (const step of c.plan.steps) {
      const name = `prod-${step.id}`;
      const res = registered.find((r) => r.name === name);
      expect([name, res === undefined]).toEqual([name, false]);
      const reg = registrations.find((r) => r.name === name)!;
      expect([name, reg.provider]).toEqual([name, providerRef]);
      const inputs = plainInputs(res!.inputs, []) as Record<string, any>;
      if (step.type === "chart") {
        expect(res!.type).toBe("kubernetes:helm.sh/v3:Release");
        expect(inputs).toMatchObject({ name: step.release, chart: step.chart, version: step.version, repositoryOpts: { repo: step.repo }, namespace: step.namespace, skipAwait: false });
        expect(inputs.values).toEqual(mapRefs(step.values, (t) => fillRefs(t, values)));
      } else {
        expect([name, res!.type]).toEqual([name, tokenOf(step.object)]);
        const { apiVersion: _a, kind: _k, ...expected } = mapRefs(step.object, (t) => fillRefs(t, values)) as K8sObject;
        expect(inputs).toMatchObject(expected);
      }
    }
    expect(registered.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => r.name)).toEqual(["prod-k8s"]);
  });

  it("charts are pinned: the operators' and Open WebUI's versions as planned", async () => {
    mockEngine();
    const c = deployStack(stack([rawCluster({ openwebui: { chartVersion: "16.0.0", imageTag: "0.11.0" } })]), { stack: "test" }).clusters.prod;
    await settle(c);
    const releases = registered.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => [r.inputs.chart, r.inputs.version, r.inputs.repositoryOpts.repo]);
    expect(releases.sort()).toEqual([
      ["cloudnative-pg", "0.29.0", "https://cloudnative-pg.github.io/charts"],
      ["k8up", "4.9.0", "https://k8up-io.github.io/k8up"],
      ["open-webui", "16.0.0", "https://helm.openwebui.com"],
      ["plugin-barman-cloud", "0.7.0", "https://cloudnative-pg.github.io/charts"],
    ]);
  });

  it("secrets stay secret: Secret data, the kubeconfig, the exported key; nothing secret outside Secrets", async () => {
    mockEngine();
    const cfg = stack([rawCluster({ kubeconfig: "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: KUBE-TOKEN}}]\n" })]);
    const d = deployStack(cfg, { stack: "test" });
    await settle(d.clusters.prod);
    const outputs = stackOutputs(d);
    expect(await pulumi.isSecret(outputs.openwebuiClusterSecretKeys.prod)).toBe(true);
    expect(await promiseOf(outputs.openwebuiClusterSecretKeys.prod)).toBe("generated-webui-secret-key-0123456789abcdef");
    expect(outputs.clusters.prod).toEqual({ namespace: "openwebui", url: null, upgradeHash: d.clusters.prod.plan.upgradeHash });
    expect(JSON.stringify(outputs.clusters)).not.toContain("generated-webui-secret-key");
    const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(unwrapInput(provider.inputs.kubeconfig).secret).toBe(true);
    for (const r of registered.filter((x) => x.type === "kubernetes:core/v1:Secret")) {
      const secretPaths: string[] = [];
      const inputs = plainInputs(r.inputs, secretPaths) as Record<string, any>;
      for (const key of Object.keys(inputs.stringData)) expect([r.name, key, secretPaths.some((p) => p === `stringData.${key}` || p === "stringData")]).toEqual([r.name, key, true]);
    }
    for (const r of registered.filter((x) => x.type.startsWith("kubernetes:") && x.type !== "kubernetes:core/v1:Secret")) {
      const text = JSON.stringify(plainInputs(r.inputs, []));
      for (const secret of ["generated-webui-secret-key", "mock-secret-of-", "restic-pw", "KUBE-TOKEN"]) expect([r.name, text.includes(secret)]).toEqual([r.name, false]);
    }
  });

  it("retainOnDelete exactly where the plan keeps things; the chart waits for the pre-upgrade backups and the migration", async () => {
    mockEngine();
    const c = deployStack(stack([PVC_CLUSTER]), { stack: "test" }).clusters.prod;
    await settle(c);
    const kept = registrations.filter((r) => r.type.startsWith("kubernetes:") && r.retainOnDelete).map((r) => r.name);
    expect(kept.sort()).toEqual(c.plan.steps.filter((s) => s.retainOnDelete).map((s) => `prod-${s.id}`).sort());
    expect(kept).toEqual(expect.arrayContaining(["prod-database", "prod-objectstore-backup", "prod-operator-cnpg", "prod-operator-barman-cloud", "prod-operator-k8up", "prod-namespace"]));
    const urn = async (id: string) => promiseOf(c.resources[id].urn);
    const chartDeps = registrations.find((r) => r.name === "prod-openwebui")!.dependencies;
    for (const id of ["pre-upgrade-database-backup", "pre-upgrade-files-backup", "migrate-job"]) expect(chartDeps).toContain(await urn(id));
    expect(registrations.find((r) => r.name === "prod-migrate-job")!.dependencies).toEqual(expect.arrayContaining([await urn("pre-upgrade-database-backup"), await urn("pre-upgrade-files-backup")]));
  });

  it("a managed target: the bucket keeps its hardening, and the cluster gets its own writer and reader keys scoped to its prefixes", async () => {
    mockEngine();
    const c = deployStack(stack([PVC_CLUSTER]), { stack: "test" }).clusters.prod;
    await settle(c);
    const types = registered.map((r) => r.type);
    for (const t of ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"]) expect(types).toContain(t);
    const policies = registered.filter((r) => r.type === "aws:iam/userPolicy:UserPolicy");
    expect(policies.map((p) => p.name).sort()).toEqual(["offsite-key-prod-reader", "offsite-key-prod-writer"]);
    const doc = (name: string) => JSON.parse(policies.find((p) => p.name === name)!.inputs.policy);
    const writer = doc("offsite-key-prod-writer");
    expect(writer.Statement.find((s: any) => s.Sid === "DeleteCurrentObjects").Resource).toEqual(["arn:aws:s3:::owb-backups/prod/files/*", "arn:aws:s3:::owb-backups/prod/postgres/*"]);
    const reader = doc("offsite-key-prod-reader");
    expect(reader.Statement.find((s: any) => s.Sid === "WriteOwnObjects").Resource).toEqual(["arn:aws:s3:::owb-backups/prod/files/locks/*"]);
    expect(JSON.stringify([writer, reader])).not.toContain("DeleteObjectVersion");
    const rules = registered.find((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")!.inputs.rules as { filter: { prefix: string } }[];
    expect(rules.map((r) => r.filter.prefix)).toEqual(["prod/files/", "prod/postgres/"]);
    expect(registered.find((r) => r.type === "aws:s3/bucket:Bucket")!.inputs.forceDestroy).toBe(false);
  });

  it("an unmanaged target: its configured key, as a secret, for every role", async () => {
    mockEngine();
    const cfg = stack([rawCluster({ backup: { target: "minio" } })]);
    const c = deployStack(cfg, { stack: "test" }).clusters.prod;
    await settle(c);
    const writer = registered.find((r) => r.name === "prod-secret-backup-writer")!;
    const secrets: string[] = [];
    expect(plainInputs(writer.inputs, secrets)).toMatchObject({ stringData: { ACCESS_KEY_ID: "AKIAEXAMPLE", ACCESS_SECRET_KEY: "s3cret-configured", ACCESS_REGION: "us-east-1" } });
    expect(secrets.length).toBeGreaterThan(0);
    const store = plainInputs(registered.find((r) => r.name === "prod-objectstore-backup")!.inputs, []) as Record<string, any>;
    expect(store.spec.configuration).toMatchObject({ destinationPath: "s3://owb/prod/postgres/", endpointURL: "https://minio.example.org" });
    // No IAM keys for this cluster: the managed target it does not use gets none for it.
    expect(registered.filter((r) => r.type.startsWith("aws:iam") && r.name.includes("prod"))).toEqual([]);
  });

  it("a configured secret key is used instead of a generated one", async () => {
    mockEngine();
    const cfg: ClusterConfig = stack([rawCluster({ openwebui: { secretKey: "carried-over-from-the-host" } })]).clusters[0];
    const c = deployStack(parseStackConfig({ targets: TARGETS, clusters: [rawCluster({ openwebui: { secretKey: cfg.openwebui.secretKey } })] }), { stack: "test" }).clusters.prod;
    await settle(c);
    expect(await promiseOf(c.secretKey)).toBe("carried-over-from-the-host");
    expect(registered.some((r) => r.type === "random:index/randomPassword:RandomPassword")).toBe(false);
  });
});
