/**
 * Retention that agrees with itself: what a managed bucket's lifecycle and lock do must not
 * contradict what the jobs writing into it keep and prune. Checked at validation time; every
 * message names both fields.
 *
 * - A lifecycle never expires objects a job still keeps. Under a restic repository expiring
 *   (S3) or hiding (B2) current objects corrupts it, so that is refused outright; under a
 *   snapshot job it must wait until the job's own pruning would have removed them.
 * - A lock never outlasts what the job prunes where that makes pruning fail: B2 refuses to
 *   delete a locked file version. (S3 keeps a deleted version behind a delete marker, so
 *   pruning succeeds there and the lock still protects the data.)
 * - Noncurrent-version expiry covers the undo window: `undoDays`, or the lock's days.
 */
import { RunInterval, runInterval } from "../../calendar/run-interval";
import { TargetJob, jobsOnTarget } from "../locations";
import type { ConfigProblem } from "../problems";
import type { B2TargetConfig, S3TargetConfig, StackConfig } from "../schema";
import { MANAGED_DEFAULTS } from "../targets";

/** Storage classes whose objects restic cannot read without a restore request first. */
const ARCHIVE_CLASSES = new Set(["GLACIER", "DEEP_ARCHIVE"]);
/** AWS refuses transitions to these classes before 30 days. */
const MIN_30_DAY_CLASSES = new Set(["STANDARD_IA", "ONEZONE_IA"]);

const days = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(2)} day${n === 1 ? "" : "s"}`;

interface LockSetting {
  readonly path: string;
  readonly days: number;
}

/** The undo window the user asked for, and the field that asked. */
function undoWindow(at: string, undoDays: number | undefined, lock: LockSetting | undefined): LockSetting | undefined {
  if (undoDays !== undefined) return { path: `${at}.managed.undoDays`, days: undoDays };
  return lock;
}

/** A snapshot job's keep window: its oldest kept folder is at most this old. */
function snapshotKeepWindow(tj: TargetJob): { interval: RunInterval | undefined; keep: number } | undefined {
  const keep = tj.job.retention.keep;
  if (tj.job.method !== "snapshot" || keep === undefined) return undefined;
  return { interval: runInterval(tj.job.schedule), keep };
}

/** A current-object expiry (S3 expiration, B2 hiding) against the jobs under it. */
function expiryProblems(field: string, expiryDays: number, jobs: readonly TargetJob[], what: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const tj of jobs) {
    if (tj.job.method === "restic") {
      problems.push({
        path: field,
        message: `${what} under the restic repository of ${tj.path} (${tj.location}/), which corrupts it; refuse. Remove it: restic forget/prune already deletes what ${tj.path}.retention no longer keeps`,
      });
      continue;
    }
    if (tj.job.method === "sync") {
      problems.push({
        path: field,
        message: `${what} under the mirror of ${tj.path} (${tj.location}/current/ and next/), which hold only current files: unchanged uploads would vanish from it; refuse. History of a mirror comes from noncurrent versions (managed.lifecycle.noncurrentDays)`,
      });
      continue;
    }
    const w = snapshotKeepWindow(tj);
    if (!w) continue;
    if (!w.interval) {
      problems.push({ path: field, message: `cannot tell how often ${tj.path}.schedule ("${tj.job.schedule}") runs, so cannot check that it ${what} only after ${tj.path}.retention.keep (${w.keep}) prunes them; remove it` });
      continue;
    }
    const needed = w.keep * w.interval.maxDays;
    if (expiryDays <= needed) {
      problems.push({
        path: field,
        message: `${days(expiryDays)} ${what} that ${tj.path}.retention.keep (${w.keep} runs of "${tj.job.schedule}", up to ${days(needed)}) still keeps; use more than ${days(Math.ceil(needed))} or remove it`,
      });
    }
  }
  return problems;
}

function s3Problems(tname: string, t: S3TargetConfig, jobs: readonly TargetJob[]): ConfigProblem[] {
  const m = t.managed;
  if (!m) return [];
  const at = `targets.${tname}`;
  const problems: ConfigProblem[] = [];
  const lc = m.lifecycle ?? {};
  if (t.endpoint) problems.push({ path: `${at}.endpoint`, message: `a managed target is created on AWS; remove endpoint, or remove ${at}.managed and create the bucket yourself` });
  if (t.accessKeyId) problems.push({ path: `${at}.accessKeyId`, message: `a managed target gets one key per host from pulumi up; remove accessKeyId and secretAccessKey` });

  if (lc.expirationDays !== undefined) {
    problems.push(...expiryProblems(`${at}.managed.lifecycle.expirationDays`, lc.expirationDays, jobs, "expires current objects"));
  }
  const storageClass = lc.transitionStorageClass ?? MANAGED_DEFAULTS.transitionStorageClass;
  if (lc.transitionStorageClass !== undefined && lc.transitionDays === undefined) {
    problems.push({ path: `${at}.managed.lifecycle.transitionStorageClass`, message: `needs ${at}.managed.lifecycle.transitionDays (when to move objects)` });
  }
  if (lc.transitionDays !== undefined) {
    if (MIN_30_DAY_CLASSES.has(storageClass) && lc.transitionDays < 30) {
      problems.push({ path: `${at}.managed.lifecycle.transitionDays`, message: `AWS moves objects to ${storageClass} (${at}.managed.lifecycle.transitionStorageClass) after 30 days at the earliest; use 30 or more` });
    }
    if (lc.expirationDays !== undefined && lc.expirationDays <= lc.transitionDays) {
      problems.push({ path: `${at}.managed.lifecycle.transitionDays`, message: `objects expire (${at}.managed.lifecycle.expirationDays = ${lc.expirationDays}) before they would move; use fewer days than expirationDays or remove it` });
    }
    if (ARCHIVE_CLASSES.has(storageClass)) {
      for (const tj of jobs.filter((j) => j.job.method === "restic")) {
        problems.push({
          path: `${at}.managed.lifecycle.transitionStorageClass`,
          message: `${storageClass} objects need a restore request before they can be read, and restic on ${tj.path} reads its repository to back up, prune and restore; use STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR`,
        });
      }
    }
  }
  const lock = m.objectLock ? { path: `${at}.managed.objectLock.days`, days: m.objectLock.days } : undefined;
  const undo = undoWindow(at, m.undoDays, lock);
  const noncurrentDays = lc.noncurrentDays ?? MANAGED_DEFAULTS.noncurrentDays;
  if (undo && noncurrentDays < undo.days) {
    problems.push({
      path: `${at}.managed.lifecycle.noncurrentDays`,
      message: `deletes overwritten and deleted versions after ${days(noncurrentDays)}${lc.noncurrentDays === undefined ? " (the default)" : ""}, sooner than the undo window ${undo.path} (${days(undo.days)}); use at least ${undo.days}`,
    });
  }
  return problems;
}

function b2Problems(tname: string, t: B2TargetConfig, jobs: readonly TargetJob[]): ConfigProblem[] {
  const m = t.managed;
  if (!m) return [];
  const at = `targets.${tname}`;
  const problems: ConfigProblem[] = [];
  const lc = m.lifecycle ?? {};
  if (t.keyId || t.applicationKey) problems.push({ path: `${at}.keyId`, message: `a managed target gets one key per host from pulumi up; remove keyId and applicationKey` });

  if (lc.daysFromUploadingToHiding !== undefined) {
    problems.push(...expiryProblems(`${at}.managed.lifecycle.daysFromUploadingToHiding`, lc.daysFromUploadingToHiding, jobs, "hides current files"));
  }
  if (m.fileLock) {
    const lockPath = `${at}.managed.fileLock.days`;
    const lockDays = m.fileLock.days;
    for (const tj of jobs) {
      if (tj.job.method === "restic") {
        problems.push({
          path: lockPath,
          message: `B2 refuses to delete locked file versions, and restic on ${tj.path} deletes its lock file after every run and prunes what ${tj.path}.retention drops: both fail until each file's ${days(lockDays)} lock ends. Remove fileLock, or send ${tj.path} to an S3 target with managed.objectLock (S3 keeps deleted versions behind a delete marker instead of failing)`,
        });
        continue;
      }
      const w = snapshotKeepWindow(tj);
      if (!w) continue;
      const youngestPruned = w.interval ? w.keep * w.interval.minDays : undefined;
      if (youngestPruned === undefined || lockDays > youngestPruned) {
        const age = youngestPruned === undefined ? `cannot tell how often "${tj.job.schedule}" runs` : `a folder is pruned when ${days(youngestPruned)} old at the earliest`;
        problems.push({
          path: lockPath,
          message: `outlasts what ${tj.path}.retention.keep (${w.keep}) prunes (${age}); B2 refuses to delete locked file versions, so pruning fails until the ${days(lockDays)} lock ends. Lower fileLock.days or raise keep`,
        });
      }
    }
  }
  const lock = m.fileLock ? { path: `${at}.managed.fileLock.days`, days: m.fileLock.days } : undefined;
  const undo = undoWindow(at, m.undoDays, lock);
  const hidingToDeleting = lc.daysFromHidingToDeleting ?? MANAGED_DEFAULTS.daysFromHidingToDeleting;
  if (undo && hidingToDeleting < undo.days) {
    problems.push({
      path: `${at}.managed.lifecycle.daysFromHidingToDeleting`,
      message: `deletes hidden (deleted or overwritten) versions after ${days(hidingToDeleting)}${lc.daysFromHidingToDeleting === undefined ? " (the default)" : ""}, sooner than the undo window ${undo.path} (${days(undo.days)}); use at least ${undo.days}`,
    });
  }
  return problems;
}

/** Problems of managed targets whose retention settings disagree with the jobs writing to them. */
export function retentionAgreementProblems(cfg: StackConfig): ConfigProblem[] {
  return Object.entries(cfg.targets).flatMap(([tname, t]) => {
    const jobs = jobsOnTarget(cfg, tname);
    if (t.type === "s3") return s3Problems(tname, t, jobs);
    if (t.type === "b2") return b2Problems(tname, t, jobs);
    return [];
  });
}
