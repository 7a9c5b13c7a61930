/**
 * What the pure renderer takes and gives. Plain, resolved values only: no Pulumi Output,
 * no file system, no clock, no environment.
 */
import { HostConfig, NotifyConfig } from "../../config/schema";

/** One file to put on a host. `path` is absolute on the host. */
export interface HostFile {
  readonly path: string;
  /** Unix permission bits, e.g. 0o600 for anything holding credentials. */
  readonly mode: number;
  readonly content: string;
}

/** A backup target with every value known: managed buckets and keys already resolved. */
export type ResolvedTarget =
  | {
      readonly type: "s3";
      readonly bucket: string;
      readonly prefix?: string;
      readonly region?: string;
      readonly endpoint?: string;
      /** Absent: the host's ambient credentials (instance profile, environment). */
      readonly accessKeyId?: string;
      readonly secretAccessKey?: string;
    }
  | { readonly type: "b2"; readonly bucket: string; readonly prefix?: string; readonly keyId: string; readonly applicationKey: string }
  | { readonly type: "local"; readonly path: string };

/**
 * Where Open WebUI keeps its files when they live in S3 (`openwebui.storage.s3`), with the key
 * the backup command reads and writes that prefix with: a managed target's key for Open WebUI,
 * or the target's own.
 */
export interface ResolvedObjectStorage {
  readonly bucket: string;
  /** Without a trailing '/'. */
  readonly prefix: string;
  readonly region?: string;
  readonly endpoint?: string;
  /** Absent: the host's ambient credentials. */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
}

export interface HostRenderInput {
  /** Pulumi stack name, written into every file's header. */
  readonly stack: string;
  readonly host: HostConfig;
  /** Targets by name; must hold every target the host's jobs name. */
  readonly targets: Readonly<Record<string, ResolvedTarget>>;
  readonly notify: NotifyConfig;
  readonly resticPassword?: string;
  /** Required when the host's Open WebUI keeps its files in S3 (`openwebui.storage`). */
  readonly objectStorage?: ResolvedObjectStorage;
  /** The password of a database the stack runs in a container; absent: the container's local trust. */
  readonly databasePassword?: string;
}
