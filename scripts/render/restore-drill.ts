/**
 * The restore drill: which job it verifies and the command's arguments. Both schedulers run
 * it and the installer enables its timer, so all of them ask here.
 */
import { JobConfig } from "../../config/schema";
import { HostRenderInput } from "./types";

/** The job the restore drill verifies, and its arguments; undefined when there is no drill. */
export function restoreDrillArgs(input: HostRenderInput): { job: JobConfig; args: string[] } | undefined {
  const drill = input.host.restoreDrill;
  if (!drill.enabled || input.host.jobs.length === 0) return undefined;
  const job = drill.job === undefined ? input.host.jobs[0] : input.host.jobs.find((j) => j.name === drill.job);
  if (!job) throw new Error(`host ${input.host.name}: restoreDrill.job "${drill.job}" is not one of its jobs`);
  return { job, args: ["verify", job.name, ...(drill.target ? ["--target", drill.target] : [])] };
}
