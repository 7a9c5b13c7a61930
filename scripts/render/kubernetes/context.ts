/**
 * What every part of a cluster plan needs to know: the cluster's config, how its backup target
 * is reached (bucket, endpoint, where each area lives), whether pruning happens in the cluster,
 * and the hash that names the pre-upgrade step.
 */
import { createHash } from "crypto";
import { ClusterArea, clusterLocation } from "../../../config/clusters";
import type { ClusterConfig } from "../../../config/schema";

/** The backup target as the cluster reaches it; strings may be plan refs (`ref("bucket")`). */
export interface ClusterTarget {
  /** Its name under `targets`. */
  readonly name: string;
  /** Created by the stack: versioned bucket, lifecycle, keys that cannot delete object versions. */
  readonly managed: boolean;
  readonly bucket: string;
  /** AWS region (or the S3-compatible service's region name), when known. */
  readonly region?: string;
  /** S3-compatible endpoint URL; absent: AWS, `https://s3.<region>.amazonaws.com`. */
  readonly endpoint?: string;
  readonly prefix?: string;
}

export interface ClusterPlanInput {
  readonly cluster: ClusterConfig;
  readonly target: ClusterTarget;
}

export interface PlanContext {
  readonly cluster: ClusterConfig;
  readonly target: ClusterTarget;
  readonly namespace: string;
  /** The S3 endpoint URL every tool uses. */
  readonly endpoint: string;
  /** rclone's provider name: AWS, or Other for S3-compatible services. */
  readonly s3Provider: "AWS" | "Other";
  /** Key prefix of an area on the target, without a trailing '/'. */
  readonly location: (area: ClusterArea) => string;
  /** Old backups are pruned from inside the cluster (only with a managed target's keys). */
  readonly prunes: boolean;
  /** Step ids of the operators this plan installs; custom resources wait for them. */
  readonly operatorSteps: readonly string[];
  /** Names the pre-upgrade backups and the migration: changes with chartVersion or imageTag. */
  readonly upgradeHash: string;
}

/** A short hash of what an upgrade changes: the chart version and the image tag. */
export function upgradeHash(chartVersion: string, imageTag: string): string {
  return createHash("sha256").update(`open-webui chart ${chartVersion}\nimage ${imageTag}\n`).digest("hex").slice(0, 10);
}

export function planContext(input: ClusterPlanInput, operatorSteps: readonly string[]): PlanContext {
  const { cluster, target } = input;
  const region = target.region;
  if (!target.endpoint && !region) throw new Error(`cluster ${cluster.name}: target ${target.name} has neither an endpoint nor a region (pass ref("region") for a managed bucket's)`);
  return {
    cluster,
    target,
    namespace: cluster.namespace,
    endpoint: target.endpoint ?? `https://s3.${region}.amazonaws.com`,
    s3Provider: target.endpoint ? "Other" : "AWS",
    location: (area) => clusterLocation(target, cluster.name, area),
    prunes: target.managed && cluster.backup.retention !== undefined,
    operatorSteps,
    upgradeHash: upgradeHash(cluster.openwebui.chartVersion, cluster.openwebui.imageTag),
  };
}
