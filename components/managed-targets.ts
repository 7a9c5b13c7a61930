/**
 * Backup targets as the hosts see them. A `managed` S3 or B2 target gets its bucket and one
 * least-privilege key per host from `pulumi up`; every other target passes through as
 * configured. Either way each host gets `ResolvedTarget`s for the env file, as a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig, TargetConfig } from "../config/schema";
import { jobsOnTarget } from "../config/locations";
import type { ResolvedTarget } from "../scripts/render/types";
import { BackupLocation } from "./backup-access";
import { B2BackupBucket } from "./b2-backup-bucket";
import { S3BackupBucket } from "./s3-backup-bucket";

export interface BackupTargets {
  /** The managed buckets by target name. */
  readonly buckets: Readonly<Record<string, S3BackupBucket | B2BackupBucket>>;
  /**
   * The targets host `hostName`'s jobs name, resolved; a secret, since it holds credentials.
   * Throws for a host the config does not have.
   */
  resolvedTargetsFor(hostName: string): pulumi.Output<Record<string, ResolvedTarget>>;
}

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
 * Creates the managed targets' buckets and keys (named after the target, children of
 * `opts.parent` if given). `cfg` must come from `parseStackConfig`, which has checked that
 * unmanaged targets carry their bucket and credentials.
 */
export function deployBackupTargets(cfg: StackConfig, opts?: pulumi.ComponentResourceOptions): BackupTargets {
  const buckets: Record<string, S3BackupBucket | B2BackupBucket> = {};
  for (const [tname, t] of Object.entries(cfg.targets)) {
    if (t.type === "s3" && t.managed) {
      const m = t.managed;
      buckets[tname] = new S3BackupBucket(
        tname,
        { bucket: t.bucket, region: t.region, lifecycle: m.lifecycle, objectLock: m.objectLock, kmsKeyArn: m.kmsKeyArn, hosts: hostLocationsOnTarget(cfg, tname) },
        opts,
      );
    } else if (t.type === "b2" && t.managed) {
      const m = t.managed;
      buckets[tname] = new B2BackupBucket(tname, { bucketName: t.bucket, lifecycle: m.lifecycle, fileLock: m.fileLock, hosts: hostLocationsOnTarget(cfg, tname) }, opts);
    }
  }

  function resolvedTarget(tname: string, hostName: string): pulumi.Output<ResolvedTarget> {
    const t = cfg.targets[tname];
    const bucket = buckets[tname];
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

  return {
    buckets,
    resolvedTargetsFor(hostName: string) {
      const host = cfg.hosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`resolvedTargetsFor: no host "${hostName}" in the config; hosts: ${cfg.hosts.map((h) => h.name).join(", ")}`);
      const names = [...new Set(host.jobs.flatMap((j) => j.targets))];
      const resolved = Object.fromEntries(names.map((tname) => [tname, resolvedTarget(tname, hostName)]));
      return pulumi.secret(pulumi.all(resolved));
    },
  };
}
