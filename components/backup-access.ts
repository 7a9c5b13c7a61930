/**
 * What a backup job does to its location in a bucket, as far as permissions and lifecycle
 * care. Pure; shared by the S3 and B2 bucket components and their table tests.
 */
import type { JobMethod, RetentionConfig } from "../config/schema";

/** One job's place in a bucket. */
export interface BackupLocation {
  /** Key prefix the job writes under, without a trailing '/': `web1/db`. */
  readonly location: string;
  readonly method: JobMethod;
  readonly retention: RetentionConfig;
}

/** Whether the job deletes what its retention no longer keeps. */
export function prunes(loc: BackupLocation): boolean {
  const r = loc.retention;
  if (loc.method === "restic") return [r.keep, r.hourly, r.daily, r.weekly, r.monthly, r.yearly].some((v) => v !== undefined);
  return r.keep !== undefined;
}

/**
 * The folders of a `sync` job: its mirror `<location>/current/` and `<location>/next/`, where
 * each run uploads first (the host command's methods/sync.bash).
 */
export const mirrorPrefixes = (loc: BackupLocation) => [`${loc.location}/current/`, `${loc.location}/next/`];

/**
 * Key prefixes (ending in '/') under which the job must be able to delete:
 * - restic with retention: the whole repository (forget removes snapshots, prune removes packs);
 * - restic without: only `locks/`, which every run creates and removes;
 * - snapshot with `keep`: the whole location (old dated folders);
 * - sync: its mirror and the copy it uploads into first, where files removed from Open WebUI are removed too;
 * - anything else writes only.
 */
export function deletePrefixes(loc: BackupLocation): string[] {
  if (loc.method === "sync") return mirrorPrefixes(loc);
  if (prunes(loc)) return [`${loc.location}/`];
  if (loc.method === "restic") return [`${loc.location}/locks/`];
  return [];
}

/** The longest common prefix of key prefixes, cut back to a whole path segment ('' if none). */
export function commonPrefix(prefixes: readonly string[]): string {
  if (prefixes.length === 0) return "";
  let common = prefixes[0];
  for (const p of prefixes.slice(1)) {
    let i = 0;
    while (i < common.length && i < p.length && common[i] === p[i]) i++;
    common = common.slice(0, i);
  }
  return common.slice(0, common.lastIndexOf("/") + 1);
}
