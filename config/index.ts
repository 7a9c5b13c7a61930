/**
 * The parser: raw config in, a validated `StackConfig` or a `ConfigError` listing every problem
 * with its field path out. Pure. Entry points parse through here (config/sources.ts reads the
 * raw config); everything else takes the parsed model from ./schema and its helpers.
 */
import { ConfigError, ConfigProblem, formatPath } from "./problems";
import { StackConfig, stackConfigSchema } from "./schema";
import { databaseProblems } from "./rules/database";
import { clusterProblems } from "./rules/clusters";
import { hostAwsProblems } from "./rules/host-aws";
import { jobProblems } from "./rules/jobs";
import { openwebuiProblems } from "./rules/openwebui";
import { retentionAgreementProblems } from "./rules/retention-agreement";
import { scheduleProblems } from "./rules/schedule";
import { targetProblems } from "./rules/targets";
import { preUpgradeProblems } from "./pre-upgrade";

export * from "./schema";
export { ConfigError, type ConfigProblem, formatPath } from "./problems";

/** Parses and validates the keys of the `openwebui:` namespace (without the prefix). */
export function parseStackConfig(raw: unknown): StackConfig {
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
  }
  const problems = crossFieldProblems(parsed.data);
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** Rules that span fields, which a per-field schema cannot express: one list per area. */
function crossFieldProblems(cfg: StackConfig): ConfigProblem[] {
  const problems = [
    ...targetProblems(cfg),
    ...jobProblems(cfg),
    ...openwebuiProblems(cfg),
    ...databaseProblems(cfg),
    ...hostAwsProblems(cfg),
    ...scheduleProblems(cfg),
    ...retentionAgreementProblems(cfg),
    ...preUpgradeProblems(cfg),
    ...clusterProblems(cfg),
  ];
  // One message per field is enough: the restic password rule fires once per job otherwise.
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message.split(" because")[0] === p.message.split(" because")[0]) === i);
}
