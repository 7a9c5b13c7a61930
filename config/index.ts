/**
 * Parsing and cross-field validation of the stack config. Pure: plain values in,
 * a `StackConfig` or a `ConfigError` listing every problem with its field path out.
 */
import { NAME_PATTERN, StackConfig, stackConfigSchema } from "./schema";

import { openwebuiProblems } from "./openwebui-service";
import { hostAwsProblems } from "./host-aws";
import { scheduleProblems } from "./schedule";
import { retentionAgreementProblems } from "./retention-agreement";

export * from "./schema";

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

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

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

/** What locating a job's backups needs of a target (configured or resolved). */
export type LocatedTarget = { type: "local"; path: string } | { type: "s3" | "b2"; prefix?: string };

/**
 * Where one host's job keeps its backups on a target: `<prefix or host name>/<job>` in a
 * bucket, `<path>/<host>/<job>` on a local target. The env file and the validation both use it.
 */
export function targetLocation(target: LocatedTarget, hostName: string, jobName: string): string {
  if (target.type === "local") return `${target.path.replace(/\/+$/, "")}/${hostName}/${jobName}`;
  return `${target.prefix ?? hostName}/${jobName}`;
}

/** Rules that span fields, which a per-field schema cannot express. */
function crossFieldProblems(cfg: StackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const targetNames = Object.keys(cfg.targets);

  for (const [tname, t] of Object.entries(cfg.targets)) {
    const at = `targets.${tname}`;
    if (!NAME_PATTERN.test(tname)) add(at, "target names must be lowercase letters, digits and '-', starting with a letter");
    if (t.type === "s3") {
      if (!t.managed && !t.bucket) add(`${at}.bucket`, "required unless the target is managed");
      if (!t.region && !t.endpoint) add(`${at}.region`, "required unless endpoint is given");
      if (Boolean(t.accessKeyId) !== Boolean(t.secretAccessKey)) add(`${at}.secretAccessKey`, "accessKeyId and secretAccessKey go together");
    } else if (t.type === "b2") {
      if (!t.managed) {
        if (!t.bucket) add(`${at}.bucket`, "required unless the target is managed");
        if (!t.keyId) add(`${at}.keyId`, "required unless the target is managed");
        if (!t.applicationKey) add(`${at}.applicationKey`, "required unless the target is managed");
      }
    }
  }

  const hostNames = new Set<string>();
  const locations = new Map<string, string>();
  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    if (hostNames.has(host.name)) add(`${hp}.name`, `duplicate host name "${host.name}"`);
    hostNames.add(host.name);
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
        if (!cfg.resticPassword) add("resticPassword", `required because ${jp} uses method restic (set it with: pulumi config set --secret openwebui:resticPassword …)`);
      } else if (job.method === "sync") {
        // A mirror keeps one copy; history is the bucket's versioning and lifecycle.
        for (const k of [...(r.keep !== undefined ? (["keep"] as const) : []), ...calendarKeys]) add(`${jp}.retention.${k}`, "method sync keeps one mirror and no retention; history comes from bucket versioning (remove retention)");
        // A local folder has no versions: a mirror there is one copy, which the next bad run overwrites.
        job.targets.forEach((tname, ti) => {
          if (cfg.targets[tname]?.type === "local") add(`${jp}.targets[${ti}]`, `method sync needs a versioned bucket (s3 or b2); "${tname}" is a local target, which keeps no history: use method local-snapshot for local targets`);
        });
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
  // A puller host has no data; it has no openwebui block either, so its stack rules do not apply.
  problems.push(...openwebuiProblems({ hosts: cfg.hosts.map((h) => ({ ...h, data: h.data ?? { volume: "" } })) }));
  problems.push(...hostAwsProblems(cfg));
  problems.push(...scheduleProblems(cfg));
  problems.push(...retentionAgreementProblems(cfg));
  // One message per field is enough: the restic password rule fires once per job otherwise.
  return problems.filter((p, i) => problems.findIndex((q) => q.path === p.path && q.message.split(" because")[0] === p.message.split(" because")[0]) === i);
}

