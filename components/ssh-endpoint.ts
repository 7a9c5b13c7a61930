/**
 * How a component reaches its host over SSH. The program works it out once per host (from
 * `hosts[].connection`, or the address of the instance the stack creates) and hands the same
 * endpoint to every component that connects there.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostConfig } from "../config/schema";

export interface SshEndpoint {
  /** Host name or address; an Output when the stack creates the host. */
  readonly host: pulumi.Input<string>;
  readonly user: string;
  readonly port: number;
  /** A secret; absent: the SSH agent's keys. */
  readonly privateKey?: pulumi.Input<string>;
}

/** The endpoint `hosts[].connection` names, the private key kept secret. */
export function configuredEndpoint(c: NonNullable<HostConfig["connection"]>): SshEndpoint {
  return { host: c.host, user: c.user, port: c.port, ...(c.privateKey !== undefined ? { privateKey: pulumi.secret(c.privateKey) } : {}) };
}
