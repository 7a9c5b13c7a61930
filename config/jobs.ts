/**
 * Backup jobs (`hosts[].jobs[]`): what a job backs up how, where to and when, and what it keeps.
 * Rules across fields (retention per method, known targets, pull sources) are in rules/jobs.ts.
 */
import { z } from "zod";
import { TIMESPAN_RULE, parseTimespan } from "./timespan";
import { hostPath, name, positiveInt, scheduleExpression, sshEndpointShape, strictObject, url } from "./fields";

export const JOB_METHODS = ["restic", "snapshot", "sync", "local-snapshot", "pull"] as const;
export const CONSISTENCY_MODES = ["online", "pause", "stop"] as const;

/**
 * When a job's `prune` runs unless `pruneSchedule` says otherwise: weekly, at a quiet hour
 * after the default nightly run. Converts exactly to cron ("30 5 * * 0").
 */
export const DEFAULT_PRUNE_SCHEDULE = "Sun *-*-* 05:30:00";

const count = positiveInt("a number of backups");

export const retentionSchema = strictObject({
  keep: count.optional(),
  hourly: count.optional(),
  daily: count.optional(),
  weekly: count.optional(),
  monthly: count.optional(),
  yearly: count.optional(),
});

/** Paths relative to the data directory: safe characters and '*' globs, no "..". */
const excludeEntry = z
  .string()
  .regex(/^[A-Za-z0-9._*-]+(\/[A-Za-z0-9._*-]+)*\/?$/, {
    message: "must be a path relative to the data directory of A-Z a-z 0-9 . _ - * and '/'",
  })
  .refine((p) => !p.split("/").includes(".."), { message: 'must not contain ".."' });

/**
 * Where a `pull` job fetches from: the folder of another host's `local-snapshot` job (its
 * `<target path>/<host>/<job>`), over SSH with rsync. The key should be restricted on the source
 * host to `command="rrsync -ro <that folder>"` (see README).
 */
export const pullSourceSchema = strictObject({
  ...sshEndpointShape,
  /** Private key on the pulling host (not its content: it stays on that host). */
  sshKeyFile: hostPath,
  /** Folder on the source host holding its `open-webui-backup-<time>` snapshots. */
  path: hostPath,
  /** The source's SSH host key line (`ssh-ed25519 AAAA…`); absent: trusted on first use. */
  hostKey: z.string().regex(/^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+$/, { message: 'must be a public host key such as "ssh-ed25519 AAAA…"' }).optional(),
});

/**
 * The source gate's default: a run whose copy has more than half fewer files or bytes than the
 * last successful backup is refused. Open WebUI data grows, and day-to-day deletions (chats,
 * a knowledge base) take a few percent; the faults that wipe backups take most or all of it (a
 * disk that did not mount, a volume recreated empty, a missing uploads folder, which usually
 * holds most of the bytes).
 */
export const DEFAULT_SHRINK_LIMIT = 50;
/** How long an online run waits for changing folders to settle before it pauses the containers. */
export const DEFAULT_SETTLE_TIMEOUT = 60;

const shrinkLimitRule = "must be a whole percentage from 1 to 100 (the largest drop in files or bytes against the last successful backup that a run accepts)";
const settleTimeoutRule = "must be a whole number of seconds from 1 to 3600 (how long an online run waits for files that changed while copied to settle)";

export const jobSchema = strictObject({
  name: name("job name"),
  method: z.enum(JOB_METHODS),
  targets: z.array(z.string()).min(1, { message: "needs at least one target" }),
  schedule: scheduleExpression.default("*-*-* 03:00:00"),
  /**
   * When `openwebui-backup prune <job>` frees what the retention no longer keeps; absent:
   * DEFAULT_PRUNE_SCHEDULE. Not for sync (a mirror keeps no retention). See pruneScheduleOf.
   */
  pruneSchedule: scheduleExpression.optional(),
  /** Required by every method but sync (a mirror: history is the bucket's versioning). */
  retention: retentionSchema.default({}),
  consistency: z.enum(CONSISTENCY_MODES).default("online"),
  /** Paths under the data directory left out of the backup. */
  exclude: z.array(excludeEntry).default(["cache/", "audit.log"]),
  /** Source gate: refuse a copy with more than this percentage fewer files or bytes than the last successful backup. */
  shrinkLimit: z.number({ error: shrinkLimitRule }).int({ error: shrinkLimitRule }).min(1, { error: shrinkLimitRule }).max(100, { error: shrinkLimitRule }).default(DEFAULT_SHRINK_LIMIT),
  /** Online consistency: seconds to wait for files that changed while copied to settle before pausing the containers for them. */
  settleTimeout: z.number({ error: settleTimeoutRule }).int({ error: settleTimeoutRule }).min(1, { error: settleTimeoutRule }).max(3600, { error: settleTimeoutRule }).default(DEFAULT_SETTLE_TIMEOUT),
  /** How long a run (or the restore drill of this job) may take before it is stopped and reported. */
  timeout: z
    .string({ error: `expected ${TIMESPAN_RULE}` })
    .refine((s) => parseTimespan(s) !== undefined, { message: `must be ${TIMESPAN_RULE}` })
    .default("6h"),
  /** method pull only: the source host's snapshot folder. */
  from: pullSourceSchema.optional(),
  /** Overrides notify.healthcheckUrl for this job (one check per job, as healthchecks.io expects). */
  healthcheckUrl: url.optional(),
});

/**
 * The schedule of a job's prune, or undefined for a job that has nothing to prune (sync).
 * Runs only forget (restic) or add folders; the prune frees storage on this schedule.
 */
export function pruneScheduleOf(job: { readonly method: (typeof JOB_METHODS)[number]; readonly pruneSchedule?: string }): string | undefined {
  if (job.method === "sync") return undefined;
  return job.pruneSchedule ?? DEFAULT_PRUNE_SCHEDULE;
}
