/**
 * One restic password per host with restic jobs: its own `hosts[].resticPassword`, else the
 * stack-wide `resticPassword`, else a password `pulumi up` generates for that host alone.
 * Every one is a Pulumi secret: in the state encrypted, on the host only inside the env file
 * that the secret installer carries, and exported (secret) for disaster recovery.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StackConfig } from "../config/schema";
import { hostsWithRestic, resticPasswordSource } from "../config/restic-passwords";

/** 40 letters and digits: about 238 bits, and nothing a shell or an env file could misread. */
const GENERATED = { length: 40, special: false } as const;

/**
 * The resource name of a host's generated password. Name and parent are its identity in the
 * state: a different one makes `pulumi up` replace the password, and the host's existing
 * repositories become unreadable. Keep both (or add an alias) when moving this code.
 */
export const resticPasswordResourceName = (hostName: string) => `restic-password-${hostName}`;

/**
 * Per host with restic jobs: its password, secret. Generated passwords are `protect`ed: deleting
 * or replacing one would lock its host out of its own backups, so `pulumi up` refuses to until
 * the operator has saved it (`pulumi stack output --show-secrets resticPasswords`) and unprotected it.
 * Created without a parent, so their identity does not depend on which component wires them.
 */
export function deployResticPasswords(cfg: StackConfig): Record<string, pulumi.Output<string>> {
  const passwords: Record<string, pulumi.Output<string>> = {};
  for (const hostName of hostsWithRestic(cfg)) {
    const source = resticPasswordSource(cfg, hostName);
    if (source.kind === "generated") {
      const generated = new random.RandomPassword(resticPasswordResourceName(hostName), GENERATED, { protect: true });
      passwords[hostName] = pulumi.secret(generated.result);
    } else {
      passwords[hostName] = pulumi.secret(source.value);
    }
  }
  return passwords;
}
