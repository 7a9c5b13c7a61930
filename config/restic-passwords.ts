/**
 * Where each host's restic password comes from, and the config's shared secrets worth a
 * warning. Pure: the Pulumi side (generating passwords) is components/restic-passwords.ts.
 *
 * A host's repositories are encrypted with its own password, so a host that is broken into
 * cannot decrypt another host's backups, even where it can read them (a shared key, a shared disk).
 */
import type { StackConfig } from "./schema";

export type ResticPasswordSource =
  /** `hosts[].resticPassword`: this host's own, chosen by the operator. */
  | { readonly kind: "host"; readonly value: string }
  /** The stack-wide `resticPassword`: every host without its own shares it (stacks from before per-host passwords). */
  | { readonly kind: "stack"; readonly value: string }
  /** Neither: `pulumi up` generates one for this host and keeps it as a secret in the state. */
  | { readonly kind: "generated" };

/** The hosts that run a restic job, in config order. */
export function hostsWithRestic(cfg: StackConfig): string[] {
  return cfg.hosts.filter((h) => h.jobs.some((j) => j.method === "restic")).map((h) => h.name);
}

/** Where host `hostName`'s restic password comes from: its own, the stack's, or generated. */
export function resticPasswordSource(cfg: StackConfig, hostName: string): ResticPasswordSource {
  const host = cfg.hosts.find((h) => h.name === hostName);
  if (host?.resticPassword) return { kind: "host", value: host.resticPassword };
  if (cfg.resticPassword) return { kind: "stack", value: cfg.resticPassword };
  return { kind: "generated" };
}

/**
 * Secrets that several hosts share, each a sentence for `pulumi up` to show as a warning:
 * - one stack-wide `resticPassword` for two or more hosts with restic jobs;
 * - an unmanaged S3 or B2 target with its own credentials that two or more hosts use: each
 *   of them holds the same key, which reaches every other host's backups on that target.
 * Not errors: an existing stack keeps working, and the warning says how to leave the risk.
 */
export function sharedSecretWarnings(cfg: StackConfig): string[] {
  const warnings: string[] = [];
  const stackShared = hostsWithRestic(cfg).filter((h) => resticPasswordSource(cfg, h).kind === "stack");
  if (stackShared.length > 1) {
    warnings.push(
      `resticPassword: hosts ${stackShared.join(", ")} share one restic password, so a host that is broken into can decrypt the others' backups wherever it can read them. ` +
        "Remove resticPassword to have pulumi up generate one per host (new repositories), or give each host its own with hosts[].resticPassword " +
        "(existing repositories: first add that password with `restic key add`).",
    );
  }
  for (const [tname, t] of Object.entries(cfg.targets)) {
    if ((t.type !== "s3" && t.type !== "b2") || t.managed) continue;
    const hasOwnKey = t.type === "s3" ? Boolean(t.accessKeyId) : Boolean(t.keyId);
    if (!hasOwnKey) continue; // S3 without keys: each host's own ambient credentials (its instance role).
    const users = cfg.hosts.filter((h) => h.jobs.some((j) => j.targets.includes(tname))).map((h) => h.name);
    if (users.length > 1) {
      warnings.push(
        `targets.${tname}: hosts ${users.join(", ")} share this target's key, so a host that is broken into can read, overwrite and delete the others' backups there. ` +
          `Make it managed (targets.${tname}.managed) for one least-privilege key per host, or give each host its own target with its own key.`,
      );
    }
  }
  return warnings;
}
