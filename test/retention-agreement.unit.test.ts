/**
 * Retention that agrees with itself: configs that must pass and configs that must fail,
 * with the messages users see (both fields named), through `parseStackConfig`.
 */
import { configProblemsUnder } from "./support/config-problems";
import { runInterval } from "../calendar/run-interval";
import type { JobMethod } from "../config/schema";

type Job = { name: string; method: JobMethod; targets: string[]; retention: Record<string, number>; schedule?: string };

const RESTIC: Job = { name: "db", method: "restic", targets: ["t"], retention: { daily: 7 } };
const SNAPSHOT_DAILY_KEEP_7: Job = { name: "files", method: "snapshot", targets: ["t"], retention: { keep: 7 }, schedule: "daily" };

function config(target: Record<string, unknown>, jobs: Job[]) {
  return {
    resticPassword: "pw",
    targets: { t: target },
    hosts: [{ name: "web1", data: { dir: "/srv/openwebui" }, jobs }],
  };
}

/** The problems parseStackConfig reports under `targets.t` (other rules are not ours). */
const problems = (raw: unknown): string[] => configProblemsUnder(raw, ["targets.t"]).map((p) => `${p.path}: ${p.message}`);

const s3 = (managed: Record<string, unknown>) => ({ type: "s3", region: "eu-central-1", prefix: "web1", managed });
const b2 = (managed: Record<string, unknown>) => ({ type: "b2", prefix: "web1", managed });

describe("configs that pass", () => {
  it.each([
    ["the issue's S3 example under restic", s3({ lifecycle: { transitionDays: 30, noncurrentDays: 30 }, objectLock: { mode: "governance", days: 7 } }), [RESTIC]],
    ["S3 defaults", s3({}), [RESTIC, SNAPSHOT_DAILY_KEEP_7]],
    ["S3 expiry after a snapshot's keep window", s3({ lifecycle: { expirationDays: 8 } }), [SNAPSHOT_DAILY_KEEP_7]],
    ["S3 archive class for snapshots only", s3({ lifecycle: { transitionDays: 90, transitionStorageClass: "DEEP_ARCHIVE" } }), [SNAPSHOT_DAILY_KEEP_7]],
    ["S3 GLACIER_IR under restic", s3({ lifecycle: { transitionDays: 1, transitionStorageClass: "GLACIER_IR" } }), [RESTIC]],
    ["S3 undo window within noncurrent expiry", s3({ undoDays: 30 }), [RESTIC]],
    ["S3 managed target no job uses", s3({ lifecycle: { expirationDays: 1 } }), []],
    ["the issue's B2 example under a snapshot job keeping longer than the lock", b2({ lifecycle: { daysFromHidingToDeleting: 30 }, fileLock: { mode: "governance", days: 7 } }), [SNAPSHOT_DAILY_KEEP_7]],
    ["B2 defaults under restic", b2({}), [RESTIC]],
    ["B2 hiding after a weekly snapshot's keep window", b2({ lifecycle: { daysFromUploadingToHiding: 30 } }), [{ ...SNAPSHOT_DAILY_KEEP_7, retention: { keep: 4 }, schedule: "Sun *-*-* 02:00:00" }]],
  ])("%s", (_what, target, jobs) => {
    expect(problems(config(target, jobs))).toEqual([]);
  });
});

describe("configs that fail, naming both fields", () => {
  it.each([
    [
      "S3 expiry under a sync mirror",
      s3({ lifecycle: { expirationDays: 90 } }),
      [{ name: "mirror", method: "sync", targets: ["t"], retention: {} } as Job],
      [
        "targets.t.managed.lifecycle.expirationDays: expires current objects under the mirror of hosts[0].jobs[0] (web1/mirror/current/ and next/), which hold only current files: unchanged uploads would vanish from it; refuse. History of a mirror comes from noncurrent versions (managed.lifecycle.noncurrentDays)",
      ],
    ],
    [
      "S3 expiry under a restic repository",
      s3({ lifecycle: { expirationDays: 365 } }),
      [RESTIC],
      [
        "targets.t.managed.lifecycle.expirationDays: expires current objects under the restic repository of hosts[0].jobs[0] (web1/db/), which corrupts it; refuse. Remove it: restic forget/prune already deletes what hosts[0].jobs[0].retention no longer keeps",
      ],
    ],
    [
      "S3 expiry inside a snapshot's keep window",
      s3({ lifecycle: { expirationDays: 7 } }),
      [SNAPSHOT_DAILY_KEEP_7],
      ['targets.t.managed.lifecycle.expirationDays: 7 days expires current objects that hosts[0].jobs[0].retention.keep (7 runs of "daily", up to 7 days) still keeps; use more than 7 days or remove it'],
    ],
    [
      "S3 archive class under restic",
      s3({ lifecycle: { transitionDays: 90, transitionStorageClass: "GLACIER" } }),
      [RESTIC],
      [
        "targets.t.managed.lifecycle.transitionStorageClass: GLACIER objects need a restore request before they can be read, and restic on hosts[0].jobs[0] reads its repository to back up, prune and restore; use STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR",
      ],
    ],
    [
      "S3 transition to STANDARD_IA before 30 days",
      s3({ lifecycle: { transitionDays: 10 } }),
      [RESTIC],
      ["targets.t.managed.lifecycle.transitionDays: AWS moves objects to STANDARD_IA (targets.t.managed.lifecycle.transitionStorageClass) after 30 days at the earliest; use 30 or more"],
    ],
    [
      "S3 noncurrent expiry shorter than the object lock",
      s3({ lifecycle: { noncurrentDays: 3 }, objectLock: { mode: "compliance", days: 14 } }),
      [RESTIC],
      ["targets.t.managed.lifecycle.noncurrentDays: deletes overwritten and deleted versions after 3 days, sooner than the undo window targets.t.managed.objectLock.days (14 days); use at least 14"],
    ],
    [
      "S3 default noncurrent expiry shorter than undoDays",
      s3({ undoDays: 60 }),
      [RESTIC],
      ["targets.t.managed.lifecycle.noncurrentDays: deletes overwritten and deleted versions after 30 days (the default), sooner than the undo window targets.t.managed.undoDays (60 days); use at least 60"],
    ],
    [
      "S3 managed with an endpoint and a static key",
      { ...s3({}), endpoint: "https://s3.example.com", accessKeyId: "AKIA", secretAccessKey: "x" },
      [RESTIC],
      [
        "targets.t.endpoint: a managed target is created on AWS; remove endpoint, or remove targets.t.managed and create the bucket yourself",
        "targets.t.accessKeyId: a managed target gets one key per host from pulumi up; remove accessKeyId and secretAccessKey",
      ],
    ],
    [
      "B2 hiding under a restic repository",
      b2({ lifecycle: { daysFromUploadingToHiding: 90 } }),
      [RESTIC],
      [
        "targets.t.managed.lifecycle.daysFromUploadingToHiding: hides current files under the restic repository of hosts[0].jobs[0] (web1/db/), which corrupts it; refuse. Remove it: restic forget/prune already deletes what hosts[0].jobs[0].retention no longer keeps",
      ],
    ],
    [
      "B2 file lock under restic",
      b2({ fileLock: { mode: "governance", days: 7 } }),
      [RESTIC],
      [
        "targets.t.managed.fileLock.days: B2 refuses to delete locked file versions, and restic on hosts[0].jobs[0] deletes its lock file after every run and prunes what hosts[0].jobs[0].retention drops: both fail until each file's 7 days lock ends. Remove fileLock, or send hosts[0].jobs[0] to an S3 target with managed.objectLock (S3 keeps deleted versions behind a delete marker instead of failing)",
      ],
    ],
    [
      "B2 file lock outlasting a snapshot's pruning",
      b2({ fileLock: { mode: "compliance", days: 10 } }),
      [SNAPSHOT_DAILY_KEEP_7],
      [
        "targets.t.managed.fileLock.days: outlasts what hosts[0].jobs[0].retention.keep (7) prunes (a folder is pruned when 7 days old at the earliest); B2 refuses to delete locked file versions, so pruning fails until the 10 days lock ends. Lower fileLock.days or raise keep",
      ],
    ],
    [
      "B2 hidden versions deleted before the undo window",
      b2({ lifecycle: { daysFromHidingToDeleting: 5 }, undoDays: 14 }),
      [SNAPSHOT_DAILY_KEEP_7],
      ["targets.t.managed.lifecycle.daysFromHidingToDeleting: deletes hidden (deleted or overwritten) versions after 5 days, sooner than the undo window targets.t.managed.undoDays (14 days); use at least 14"],
    ],
  ])("%s", (_what, target, jobs, expected) => {
    expect(problems(config(target, jobs))).toEqual(expected);
  });
});

describe("managed schemas", () => {
  it.each([
    [s3({ forceDestroy: true }), 'targets.t.managed: unknown key "forceDestroy"; accepted: lifecycle, objectLock, undoDays, kmsKeyArn'],
    [s3({ kmsKeyArn: "my-key" }), "targets.t.managed.kmsKeyArn: must be a KMS key ARN such as arn:aws:kms:eu-central-1:123456789012:key/…"],
    [b2({ fileLock: { mode: "legal", days: 7 } }), "targets.t.managed.fileLock.mode"],
  ])("refuses %j", (target, expected) => {
    expect(problems(config(target, [RESTIC])).join("\n")).toContain(expected);
  });
});

describe("runInterval", () => {
  it.each([
    ["daily", 1, 1],
    ["*-*-* 03:00:00", 1, 1],
    ["0 3 * * *", 1, 1],
    ["Mon *-*-* 04:00", 7, 7],
    ["Mon..Fri *-*-* 04:00", 1, 3],
    ["*-*-* 03,15:00:00", 0.5, 0.5],
    ["hourly", 1 / 24, 1 / 24],
    ["monthly", 28, 31],
    ["yearly", 365, 365],
  ])("%s runs between %d and %d days apart", (schedule, min, max) => {
    const interval = runInterval(schedule)!;
    expect(interval.minDays).toBeCloseTo(min, 9);
    expect(interval.maxDays).toBeCloseTo(max, 9);
  });
  it("is undefined for what does not parse", () => {
    expect(runInterval("whenever")).toBeUndefined();
  });
});
