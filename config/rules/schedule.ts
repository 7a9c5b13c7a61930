/**
 * Scheduling rules: every job's schedule and the drill's convert exactly for the host's
 * scheduler, the drill names a real job and target, and paths a systemd unit names fit in one.
 */
import { scheduleProblem } from "../../calendar/schedule";
import type { ConfigProblem } from "../problems";
import type { StackConfig } from "../schema";
import { UNIT_PATH_UNSAFE } from "../schedule";

const UNIT_PATH_RULE = "cannot be written into a systemd unit: no quotes, '\\', '$' or control characters (or use scheduler: cron)";

/**
 * Every job's schedule (and pruneSchedule) and the drill's schedule must convert exactly for the host's scheduler;
 * the drill must name a real job and target; paths a systemd unit names must fit in one.
 */
export function scheduleProblems(cfg: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    if (host.scheduler === "systemd" && host.jobs.length > 0) {
      for (const [key, p] of Object.entries(host.paths)) {
        if (UNIT_PATH_UNSAFE.test(p)) problems.push({ path: `${hp}.paths.${key}`, message: UNIT_PATH_RULE });
      }
      if (host.data && "dir" in host.data && UNIT_PATH_UNSAFE.test(host.data.dir)) problems.push({ path: `${hp}.data.dir`, message: UNIT_PATH_RULE });
      for (const tname of new Set(host.jobs.flatMap((j) => j.targets))) {
        const t = cfg.targets[tname];
        if (t?.type === "local" && UNIT_PATH_UNSAFE.test(t.path)) problems.push({ path: `targets.${tname}.path`, message: `${UNIT_PATH_RULE}; host "${host.name}" uses systemd` });
      }
    }
    host.jobs.forEach((job, ji) => {
      const problem = scheduleProblem(job.schedule, host.scheduler);
      if (problem) problems.push({ path: `${hp}.jobs[${ji}].schedule`, message: problem });
      // The default converts for both schedulers; a pruneSchedule of a sync job is refused in rules/jobs.ts.
      const pruneProblem = job.pruneSchedule === undefined ? undefined : scheduleProblem(job.pruneSchedule, host.scheduler);
      if (pruneProblem) problems.push({ path: `${hp}.jobs[${ji}].pruneSchedule`, message: pruneProblem });
    });
    const drill = host.restoreDrill;
    if (!drill.enabled) return;
    const problem = scheduleProblem(drill.schedule, host.scheduler);
    if (problem) problems.push({ path: `${hp}.restoreDrill.schedule`, message: problem });
    const jobNames = host.jobs.map((j) => j.name);
    if (drill.job !== undefined && !jobNames.includes(drill.job)) {
      problems.push({ path: `${hp}.restoreDrill.job`, message: `unknown job "${drill.job}"; jobs of host "${host.name}": ${jobNames.join(", ") || "(none)"}` });
    }
    const job = host.jobs.find((j) => j.name === (drill.job ?? jobNames[0]));
    if (drill.target !== undefined && job && !job.targets.includes(drill.target)) {
      problems.push({ path: `${hp}.restoreDrill.target`, message: `job "${job.name}" does not back up to "${drill.target}"; its targets: ${job.targets.join(", ")}` });
    }
  });
  return problems;
}
