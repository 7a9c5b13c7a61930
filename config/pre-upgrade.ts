/**
 * `hosts[].openwebui.preUpgradeBackup`: the job that backs up a host's Open WebUI data inside
 * `pulumi up`, before the container is replaced by another image (Open WebUI migrates its
 * database when it starts, never back, so a rollback needs a copy from before).
 *
 * A job name of the host; absent: the host's first restic or snapshot job; `false`: no backup
 * (the policy pack refuses that on prod stacks). Only methods that keep this host's data under
 * a name a rollback can find again qualify: a sync mirror is overwritten by its next run, and a
 * pull job holds another host's data.
 */
import { z } from "zod";
import { NAME_PATTERN } from "./fields";

/** Methods a pre-upgrade backup may use; the default picks among the first two. */
export const PRE_UPGRADE_METHODS = ["restic", "snapshot", "local-snapshot"] as const;
const DEFAULT_METHODS: readonly string[] = ["restic", "snapshot"];

const RULE = `the name of one of this host's ${PRE_UPGRADE_METHODS.join(", ")} jobs, or false for no backup before an image change`;

export const preUpgradeBackupSchema = z.union([z.literal(false), z.string().regex(NAME_PATTERN, { message: `expected ${RULE}` })], { error: `expected ${RULE}` });

interface JobLike {
  readonly name: string;
  readonly method: string;
}

interface HostLike {
  readonly name: string;
  readonly jobs: readonly JobLike[];
  readonly openwebui?: { readonly preUpgradeBackup?: string | false };
}

/** The job a host's pre-upgrade backup runs; undefined when it has none (`false`, or no Open WebUI). */
export function preUpgradeJob<J extends JobLike>(host: { readonly jobs: readonly J[]; readonly openwebui?: { readonly preUpgradeBackup?: string | false } }): J | undefined {
  const wanted = host.openwebui?.preUpgradeBackup;
  if (!host.openwebui || wanted === false) return undefined;
  if (wanted !== undefined) return host.jobs.find((j) => j.name === wanted && (PRE_UPGRADE_METHODS as readonly string[]).includes(j.method));
  return host.jobs.find((j) => DEFAULT_METHODS.includes(j.method));
}

/** Each host with an Open WebUI stack has a job for its pre-upgrade backup, or says false. */
export function preUpgradeProblems(cfg: { readonly hosts: readonly HostLike[] }): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  cfg.hosts.forEach((host, hi) => {
    const wanted = host.openwebui?.preUpgradeBackup;
    if (!host.openwebui || wanted === false) return;
    const at = `hosts[${hi}].openwebui.preUpgradeBackup`;
    const suitable = host.jobs.filter((j) => (PRE_UPGRADE_METHODS as readonly string[]).includes(j.method)).map((j) => j.name);
    const has = suitable.length > 0 ? `its: ${suitable.join(", ")}` : "it has none";
    if (wanted === undefined) {
      if (preUpgradeJob(host)) return;
      problems.push({
        path: at,
        message: `is needed: host "${host.name}" runs Open WebUI but has no restic or snapshot job to back it up before an image change; accepted: ${RULE} (${has})`,
      });
      return;
    }
    const job = host.jobs.find((j) => j.name === wanted);
    if (!job) problems.push({ path: at, message: `names no job of host "${host.name}"; accepted: ${RULE} (${has})` });
    else if (!(PRE_UPGRADE_METHODS as readonly string[]).includes(job.method)) {
      const why = job.method === "sync" ? "a mirror its next run overwrites" : "it holds another host's data";
      problems.push({ path: at, message: `names job "${wanted}" of method ${job.method} (${why}); accepted: ${RULE} (${has})` });
    }
  });
  return problems;
}
