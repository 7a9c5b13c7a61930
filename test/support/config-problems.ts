/** What `parseStackConfig` refuses, for validation tables: the problems under some paths only. */
import { ConfigError, ConfigProblem, parseStackConfig } from "../../config";

/** Problems whose path starts with one of `prefixes` (other rules of the model are tested elsewhere); [] when the config is valid. */
export function configProblemsUnder(raw: unknown, prefixes: readonly string[]): ConfigProblem[] {
  try {
    parseStackConfig(raw);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.filter((p) => prefixes.some((prefix) => p.path.startsWith(prefix)));
  }
}
