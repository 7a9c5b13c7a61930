/**
 * Rules of hosts and their jobs: unique names, known targets that no two jobs share a location
 * on, retention that fits the method, pull sources, and containers for pause/stop.
 */
import { targetLocation } from "../locations";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

export function jobProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();
  const targetNames = Object.keys(cfg.targets);

  const hostNames = new Set<string>();
  const locations = new Map<string, string>();
  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    if (hostNames.has(host.name)) add(`${hp}.name`, `duplicate host name "${host.name}"`);
    hostNames.add(host.name);
    if (host.resticPassword && !host.jobs.some((j) => j.method === "restic")) add(`${hp}.resticPassword`, `host "${host.name}" has no restic job to use it (remove it)`);
    const jobNames = new Set<string>();
    host.jobs.forEach((job, ji) => {
      const jp = `${hp}.jobs[${ji}]`;
      if (jobNames.has(job.name)) add(`${jp}.name`, `duplicate job name "${job.name}" on host "${host.name}"`);
      jobNames.add(job.name);

      job.targets.forEach((tname, ti) => {
        const target = cfg.targets[tname];
        if (!target) {
          add(`${jp}.targets[${ti}]`, `unknown target "${tname}"; known: ${targetNames.join(", ") || "(none defined under targets)"}`);
          return;
        }
        const key = `${tname}:${targetLocation(target, host.name, job.name)}`;
        const other = locations.get(key);
        if (other) add(`${jp}.targets[${ti}]`, `writes to the same location on target "${tname}" as ${other}; give the targets different prefixes`);
        else locations.set(key, jp);
      });
      if (new Set(job.targets).size !== job.targets.length) add(`${jp}.targets`, "lists a target twice");

      const r = job.retention;
      const calendarKeys = (["hourly", "daily", "weekly", "monthly", "yearly"] as const).filter((k) => r[k] !== undefined);
      if (job.method === "snapshot") {
        if (r.keep === undefined) add(`${jp}.retention.keep`, "required for method snapshot (how many dated folders to keep)");
        for (const k of calendarKeys) add(`${jp}.retention.${k}`, "method snapshot accepts only keep");
      } else if (job.method === "restic") {
        if (r.keep === undefined && calendarKeys.length === 0) {
          add(`${jp}.retention`, "method restic needs at least one of keep, hourly, daily, weekly, monthly, yearly");
        }
      } else if (job.method === "sync") {
        // A mirror keeps one copy; history is the bucket's versioning and lifecycle.
        for (const k of [...(r.keep !== undefined ? (["keep"] as const) : []), ...calendarKeys]) add(`${jp}.retention.${k}`, "method sync keeps one mirror and no retention; history comes from bucket versioning (remove retention)");
        // A local folder has no versions: a mirror there is one copy, which the next bad run overwrites.
        job.targets.forEach((tname, ti) => {
          if (cfg.targets[tname]?.type === "local") add(`${jp}.targets[${ti}]`, `method sync needs a versioned bucket (s3 or b2); "${tname}" is a local target, which keeps no history: use method local-snapshot for local targets`);
        });
        if (job.pruneSchedule !== undefined) add(`${jp}.pruneSchedule`, "method sync keeps one mirror and has nothing to prune; history comes from bucket versioning (remove pruneSchedule)");
      } else if (job.method === "local-snapshot" || job.method === "pull") {
        if (r.keep === undefined && calendarKeys.length === 0) add(`${jp}.retention`, `method ${job.method} needs keep or at least one of hourly, daily, weekly, monthly, yearly`);
        job.targets.forEach((tname, ti) => {
          const target = cfg.targets[tname];
          if (target && target.type !== "local") add(`${jp}.targets[${ti}]`, `method ${job.method} writes hard-linked snapshots to local targets only; "${tname}" is of type ${target.type}`);
        });
      }
      if (job.method === "pull") {
        if (!job.from) add(`${jp}.from`, "required for method pull: { host, user, port, sshKeyFile, path } of the source host's local-snapshot folder");
        if (job.consistency !== "online") add(`${jp}.consistency`, "method pull reads another host's snapshots; it has no containers to pause or stop (use online)");
      } else if (job.from) {
        add(`${jp}.from`, `only method pull takes from; this job's method is ${job.method}`);
      }
      if (job.consistency !== "online" && host.containers.length === 0) {
        add(`${jp}.consistency`, `"${job.consistency}" needs ${hp}.containers to list the containers to ${job.consistency}`);
      }
    });
  });
  return problems;
}
