/**
 * Where a job's backups live on a target. Pure functions of the config model: the validation,
 * the renderer (the env file) and the managed buckets (per-host key prefixes) all ask here.
 */
import type { JobConfig, StackConfig } from "./schema";

/** What locating a job's backups needs of a target (configured or resolved). */
export type LocatedTarget = { type: "local"; path: string } | { type: "s3" | "b2"; prefix?: string };

/**
 * Where one host's job keeps its backups on a target: `<prefix or host name>/<job>` in a
 * bucket, `<path>/<host>/<job>` on a local target.
 */
export function targetLocation(target: LocatedTarget, hostName: string, jobName: string): string {
  if (target.type === "local") return `${target.path.replace(/\/+$/, "")}/${hostName}/${jobName}`;
  return `${target.prefix ?? hostName}/${jobName}`;
}

/** One host's job writing to one bucket target. */
export interface TargetJob {
  readonly hostName: string;
  readonly job: JobConfig;
  /** Field path of the job: `hosts[0].jobs[1]`. */
  readonly path: string;
  /** Key prefix the job writes under, without a trailing '/': `web1/db`. */
  readonly location: string;
}

/** Every job of every host that writes to bucket target `targetName`, in config order; none for a local target. */
export function jobsOnTarget(cfg: StackConfig, targetName: string): TargetJob[] {
  const target = cfg.targets[targetName];
  if (!target || target.type === "local") return [];
  return cfg.hosts.flatMap((host, hi) =>
    host.jobs.flatMap((job, ji) =>
      job.targets.includes(targetName) ? [{ hostName: host.name, job, path: `hosts[${hi}].jobs[${ji}]`, location: targetLocation(target, host.name, job.name) }] : [],
    ),
  );
}
