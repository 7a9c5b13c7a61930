/**
 * Open WebUI on one Kubernetes cluster, applied from the pure plan of
 * scripts/render/kubernetes/plan.ts: a Kubernetes provider (the configured kubeconfig, or the
 * ambient one), then every planned step as a resource in the plan's order, each waiting for
 * the steps the plan says it waits for. Helm releases become `helm.v3.Release`s (pinned
 * versions), Kubernetes objects typed resources or `CustomResource`s. Steps the plan marks
 * `retainOnDelete` (the namespace, the database, its ObjectStore, the file volume, the keys, the
 * operators) stay in the cluster when the stack lets go of them.
 *
 * The plan holds tokens where secrets and late values go; they are filled here from Outputs, and
 * any string that carries a secret stays a Pulumi secret.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { ClusterConfig } from "../config/schema";
import { ClusterTarget } from "../scripts/render/kubernetes/context";
import { PlanStep } from "../scripts/render/kubernetes/objects";
import { ClusterPlan, planCluster } from "../scripts/render/kubernetes/plan";
import { LateValue, RefName, SecretValue, fillRefs, isSecretValue, mapRefs, ref } from "../scripts/render/kubernetes/refs";

/** An S3 key the cluster's pods are given; the secret part should be a Pulumi secret. */
export interface ClusterS3Key {
  readonly accessKeyId: pulumi.Input<string>;
  readonly secretAccessKey: pulumi.Input<string>;
}

export interface OpenWebUIClusterArgs {
  readonly cluster: ClusterConfig;
  /** The backup target; `bucket` and `region` may be Outputs of a managed bucket. */
  readonly target: {
    readonly name: string;
    readonly managed: boolean;
    readonly bucket: pulumi.Input<string>;
    readonly region?: pulumi.Input<string>;
    readonly endpoint?: string;
    readonly prefix?: string;
  };
  readonly keys: { readonly writer: ClusterS3Key; readonly reader: ClusterS3Key; readonly files?: ClusterS3Key };
  /** The restic password of the file repository (files on a volume). */
  readonly resticPassword?: pulumi.Input<string>;
}

/** A plan object's fields as a typed resource's args (the class sets apiVersion and kind). */
type ObjectArgs = Record<string, unknown>;
type Make = (name: string, args: ObjectArgs, opts: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** A typed resource class of @pulumi/kubernetes, taking a plan object's fields as its args. */
const typed =
  <A>(Class: new (name: string, args: A, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource): Make =>
  (name, args, opts) =>
    new Class(name, args as unknown as A, opts);

/** Typed resources for the core kinds the plan uses; anything else is a CustomResource. */
const TYPED: Record<string, Make> = {
  "v1/Namespace": typed(k8s.core.v1.Namespace),
  "v1/Secret": typed(k8s.core.v1.Secret),
  "v1/ConfigMap": typed(k8s.core.v1.ConfigMap),
  "v1/ServiceAccount": typed(k8s.core.v1.ServiceAccount),
  "v1/PersistentVolumeClaim": typed(k8s.core.v1.PersistentVolumeClaim),
  "rbac.authorization.k8s.io/v1/Role": typed(k8s.rbac.v1.Role),
  "rbac.authorization.k8s.io/v1/RoleBinding": typed(k8s.rbac.v1.RoleBinding),
  "batch/v1/Job": typed(k8s.batch.v1.Job),
  "batch/v1/CronJob": typed(k8s.batch.v1.CronJob),
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": typed(k8s.admissionregistration.v1.ValidatingAdmissionPolicy),
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": typed(k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding),
};

export class OpenWebUICluster extends pulumi.ComponentResource {
  /** WEBUI_SECRET_KEY (secret): restores onto another installation need it. */
  public readonly secretKey: pulumi.Output<string>;
  public readonly namespace: string;
  /** The plan this component applied, for previews and tests. */
  public readonly plan: ClusterPlan;
  /** The resources by plan step id. */
  public readonly resources: Readonly<Record<string, pulumi.Resource>>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: OpenWebUIClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:k8s:OpenWebUICluster", name, {}, opts);
    const cluster = args.cluster;
    const prefix = cluster.name;

    this.provider = new k8s.Provider(
      `${prefix}-k8s`,
      // Absent: the ambient kubeconfig (KUBECONFIG or ~/.kube/config).
      cluster.kubeconfig === undefined ? {} : { kubeconfig: pulumi.secret(cluster.kubeconfig) },
      { parent: this },
    );

    const configuredKey = cluster.openwebui.secretKey;
    this.secretKey = pulumi.secret(
      configuredKey !== undefined ? pulumi.output(configuredKey) : new random.RandomPassword(`${prefix}-secret-key`, { length: 48, special: false }, { parent: this }).result,
    );

    // Literal where the config knows the value, a token where only an Output will.
    const late = (value: pulumi.Input<string> | undefined, name: LateValue) => (value === undefined ? undefined : typeof value === "string" ? value : ref(name));
    const target: ClusterTarget = {
      name: args.target.name,
      managed: args.target.managed,
      bucket: late(args.target.bucket, "bucket")!,
      region: late(args.target.region, "region"),
      endpoint: args.target.endpoint,
      prefix: args.target.prefix,
    };
    this.plan = planCluster({ cluster, target });
    this.namespace = this.plan.namespace;

    const values: Partial<Record<RefName, pulumi.Input<string>>> = {
      bucket: args.target.bucket,
      region: args.target.region,
      webuiSecretKey: this.secretKey,
      writerAccessKeyId: args.keys.writer.accessKeyId,
      writerSecretAccessKey: args.keys.writer.secretAccessKey,
      readerAccessKeyId: args.keys.reader.accessKeyId,
      readerSecretAccessKey: args.keys.reader.secretAccessKey,
      filesAccessKeyId: args.keys.files?.accessKeyId,
      filesSecretAccessKey: args.keys.files?.secretAccessKey,
      resticPassword: args.resticPassword,
    };
    for (const needed of this.plan.secretValues) {
      if (values[needed] === undefined) throw new Error(`cluster ${cluster.name}: no value for ${needed as SecretValue}`);
    }
    const fill = (text: string, names: RefName[]) => {
      const filled = pulumi.all(names.map((n) => values[n] ?? "")).apply((vals) => fillRefs(text, Object.fromEntries(names.map((n, i) => [n, vals[i]]))));
      return names.some(isSecretValue) ? pulumi.secret(filled) : filled;
    };

    const resources: Record<string, pulumi.Resource> = {};
    for (const step of this.plan.steps) {
      const resourceOpts: pulumi.CustomResourceOptions = {
        parent: this,
        provider: this.provider,
        dependsOn: step.dependsOn.map((id) => resources[id]),
        retainOnDelete: step.retainOnDelete,
      };
      resources[step.id] = this.createStep(`${prefix}-${step.id}`, step, fill, resourceOpts);
    }
    this.resources = resources;
    this.registerOutputs({ secretKey: this.secretKey, namespace: this.namespace });
  }

  private createStep(name: string, step: PlanStep, fill: (text: string, names: RefName[]) => unknown, opts: pulumi.CustomResourceOptions): pulumi.Resource {
    if (step.type === "chart") {
      return new k8s.helm.v3.Release(
        name,
        {
          name: step.release,
          chart: step.chart,
          version: step.version,
          repositoryOpts: { repo: step.repo },
          namespace: step.namespace,
          createNamespace: step.createNamespace,
          values: mapRefs(step.values, fill) as Record<string, pulumi.Input<unknown>>,
          // Wait for the release's workloads: what depends on an operator needs it running.
          skipAwait: false,
          timeout: 1200,
        },
        opts,
      );
    }
    const { apiVersion, kind, ...fields } = mapRefs(step.object, fill) as { apiVersion: string; kind: string } & ObjectArgs;
    const make = TYPED[`${apiVersion}/${kind}`];
    if (make) return make(name, fields, opts);
    return new k8s.apiextensions.CustomResource(name, { apiVersion, kind, ...fields } as k8s.apiextensions.CustomResourceArgs, opts);
  }
}
