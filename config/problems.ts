/**
 * What validation reports: a problem per field, with the field's full path as users write it.
 * The bottom of config/: the schemas and the rules import it, it imports nothing.
 */

export interface ConfigProblem {
  /** Full field path as users write it: `hosts[0].jobs[1].retention.daily`. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid openwebui config:\n${problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** `["hosts", 0, "jobs", 1, "name"]` → `hosts[0].jobs[1].name`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

/** A list to report into: rule files call `add(path, message)` once per problem found. */
export function problemList(): { readonly problems: ConfigProblem[]; readonly add: (path: string, message: string) => void } {
  const problems: ConfigProblem[] = [];
  return { problems, add: (path, message) => problems.push({ path, message }) };
}
