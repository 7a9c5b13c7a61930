/**
 * Backup targets as the hosts see them. A `managed` S3 or B2 target gets its bucket and one
 * least-privilege key per host from `pulumi up`; every other target passes through as
 * configured. Either way each host gets `ResolvedTarget`s for the env file.
 *
 * Pure planning and the mapping from a bucket component's outputs; the program creates the
 * buckets.
 */
import * as pulumi from "@pulumi/pulumi";
import { jobsOnTarget } from "../config/locations";
import type { HostConfig, StackConfig, TargetConfig } from "../config/schema";
import type { ResolvedObjectStorage, ResolvedTarget } from "../scripts/render/types";
import { BackupLocation } from "./backup-access";
import { B2BackupBucket } from "./b2-backup-bucket";
import { S3BackupBucket } from "./s3-backup-bucket";

/** Per host name: the locations its jobs write on target `targetName` (hosts without any left out). */
export function hostLocationsOnTarget(cfg: StackConfig, targetName: string): Record<string, BackupLocation[]> {
  const hosts: Record<string, BackupLocation[]> = {};
  for (const tj of jobsOnTarget(cfg, targetName)) {
    (hosts[tj.hostName] ??= []).push({ location: tj.location, method: tj.job.method, retention: tj.job.retention });
  }
  return hosts;
}

/** An unmanaged target as configured. */
function passThrough(t: TargetConfig): ResolvedTarget {
  switch (t.type) {
    case "s3":
      return { type: "s3", bucket: t.bucket!, prefix: t.prefix, region: t.region, endpoint: t.endpoint, accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey };
    case "b2":
      return { type: "b2", bucket: t.bucket!, prefix: t.prefix, keyId: t.keyId!, applicationKey: t.applicationKey! };
    case "local":
      return { type: "local", path: t.path };
    default: {
      const unknownTarget: never = t;
      throw new Error(`unknown target type ${JSON.stringify(unknownTarget)}`);
    }
  }
}

/**
 * Target `t` as host `hostName` sees it: a managed one through its bucket (name and that host's
 * own key), any other as configured. `t` must come from `parseStackConfig`, which has checked
 * that unmanaged targets carry their bucket and credentials.
 */
export function resolvedTarget(t: TargetConfig, bucket: S3BackupBucket | B2BackupBucket | undefined, hostName: string): pulumi.Output<ResolvedTarget> {
  if (t.type === "s3" && bucket instanceof S3BackupBucket) {
    const c = bucket.credentials[hostName];
    return pulumi.all([bucket.bucketName, c.accessKeyId, c.secretAccessKey]).apply(
      ([name, accessKeyId, secretAccessKey]): ResolvedTarget => ({ type: "s3", bucket: name, prefix: t.prefix, region: t.region, accessKeyId, secretAccessKey }),
    );
  }
  if (t.type === "b2" && bucket instanceof B2BackupBucket) {
    const c = bucket.credentials[hostName];
    return pulumi
      .all([bucket.bucketName, c.keyId, c.applicationKey])
      .apply(([name, keyId, applicationKey]): ResolvedTarget => ({ type: "b2", bucket: name, prefix: t.prefix, keyId, applicationKey }));
  }
  return pulumi.output(passThrough(t));
}

/** Per host name: the prefix its Open WebUI keeps its files under on target `targetName` (`openwebui.storage.s3`). */
export function fileStoresOnTarget(cfg: StackConfig, targetName: string): Record<string, string> {
  const stores: Record<string, string> = {};
  for (const host of cfg.hosts) {
    const s3 = host.openwebui?.storage?.s3;
    if (s3 && s3.target === targetName) stores[host.name] = s3.prefix;
  }
  return stores;
}

/**
 * Where host `host`'s Open WebUI keeps its files, with the key it (and the backups of those
 * files) use: a managed target's bucket and the host's file-store key, or an unmanaged target's
 * bucket and key as configured. Undefined for a host whose files stay in the data volume.
 */
export function resolvedObjectStorage(cfg: StackConfig, host: HostConfig, bucket?: S3BackupBucket | B2BackupBucket): pulumi.Output<ResolvedObjectStorage> | undefined {
  const s3 = host.openwebui?.storage?.s3;
  if (!s3) return undefined;
  const t = cfg.targets[s3.target];
  if (!t || t.type !== "s3") throw new Error(`host ${host.name}: openwebui.storage.s3.target "${s3.target}" is not an s3 target`);
  const plain = { prefix: s3.prefix, region: t.region, endpoint: t.endpoint };
  if (t.managed) {
    if (!(bucket instanceof S3BackupBucket) || !bucket.fileStoreCredentials[host.name]) throw new Error(`host ${host.name}: managed target "${s3.target}" has no file-store key for it`);
    const c = bucket.fileStoreCredentials[host.name];
    return pulumi.secret(
      pulumi.all([bucket.bucketName, c.accessKeyId, c.secretAccessKey]).apply(([name, accessKeyId, secretAccessKey]): ResolvedObjectStorage => ({ ...plain, bucket: name, accessKeyId, secretAccessKey })),
    );
  }
  // A secret either way: it may carry the target's key.
  return pulumi.secret(pulumi.output<ResolvedObjectStorage>({ ...plain, bucket: t.bucket!, accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey }));
}
