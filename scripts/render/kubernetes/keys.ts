/**
 * The S3 keys a cluster's pods hold, as what each may do under which key prefixes. On a managed
 * target the stack creates one IAM user per key with exactly this (components/s3-backup-bucket.ts);
 * none of them may delete object versions, so what they delete stays recoverable for the bucket's
 * noncurrent-version window.
 *
 *  - writer: WAL archiving, base backups and file backups; deletes only where the cluster prunes
 *    (`backup.retention`), else only restic's lock files;
 *  - reader: reads the database backups and the file repository; writes and deletes only restic's
 *    lock files (restic check and restore lock the repository), so it cannot change history;
 *  - files (files in S3): Open WebUI's own uploads prefix.
 */
import { ClusterArea, clusterLocation } from "../../../config/clusters";
import type { ClusterConfig } from "../../../config/schema";

/** Key prefixes, each ending in '/'. */
export interface KeyAccess {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly delete: readonly string[];
}

export type ClusterKeyRole = "writer" | "reader" | "files";

/** The name of a cluster's key on its target's bucket: `prod-writer`. */
export const clusterKeyName = (clusterName: string, role: ClusterKeyRole) => `${clusterName}-${role}`;

export function clusterKeyAccess(cluster: ClusterConfig, target: { readonly prefix?: string; readonly managed: boolean }): Partial<Record<ClusterKeyRole, KeyAccess>> {
  const at = (area: ClusterArea) => `${clusterLocation(target, cluster.name, area)}/`;
  const pvc = cluster.files.provider === "pvc";
  const backups = [at("database"), ...(pvc ? [at("files")] : [])];
  const locks = pvc ? [`${at("files")}locks/`] : [];
  const prunes = target.managed && cluster.backup.retention !== undefined;
  return {
    writer: { read: backups, write: backups, delete: prunes ? backups : locks },
    reader: { read: backups, write: locks, delete: locks },
    ...(pvc ? {} : { files: { read: [at("uploads")], write: [at("uploads")], delete: [at("uploads")] } }),
  };
}
