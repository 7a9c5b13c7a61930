/**
 * A Backblaze B2 bucket for backups: private, SSE-B2 encrypted, lifecycle rules per job
 * location, optional file lock, and one application key per host limited to the bucket and
 * the host's prefix, which can list, read, write and hide files but never delete a version.
 *
 * `b2CapabilitiesForHost`, `b2NamePrefixForHost` and `b2LifecycleRules` are pure and
 * table-tested; the component only wires resources.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as b2 from "../sdks/b2";
import { MANAGED_DEFAULTS } from "../config/targets";
import { BackupLocation, commonPrefix } from "./backup-access";

export interface B2LifecycleSettings {
  /** Hides current files; applied only under snapshot locations, never under restic. */
  readonly daysFromUploadingToHiding?: number;
  readonly daysFromHidingToDeleting?: number;
}

export interface B2FileLockSettings {
  readonly mode: "governance" | "compliance";
  readonly days: number;
}

export interface B2BackupBucketArgs {
  /** Bucket name (globally unique); absent: the component name plus a random suffix. */
  readonly bucketName?: pulumi.Input<string>;
  /** Lifecycle rules per location; absent: hidden versions deleted after 30 days, unfinished large files canceled after 7. */
  readonly lifecycle?: B2LifecycleSettings;
  /** File lock with a default retention. */
  readonly fileLock?: B2FileLockSettings;
  /** Per host name: the job locations the host writes. Each host gets an application key. */
  readonly hosts: Readonly<Record<string, readonly BackupLocation[]>>;
}

/** A host's B2 credentials; `applicationKey` is secret. */
export interface B2HostCredentials {
  readonly keyId: pulumi.Output<string>;
  readonly applicationKey: pulumi.Output<string>;
}

// ---------------------------------------------------------------- pure planning

/**
 * What a host's key may do: find its bucket, list, read and write files. Never `deleteFiles`
 * (b2_delete_file_version), whatever its jobs prune: every removal a host makes is a hide
 * (b2_hide_file, which `writeFiles` allows; rclone's B2 backend hides unless told to hard-delete),
 * and hidden versions go only by the bucket's lifecycle rules (`daysFromHidingToDeleting`).
 * So a stolen host key can hide files, never destroy a version. Nor does it get a capability
 * that changes the bucket, its keys, or file lock retention.
 */
export function b2CapabilitiesForHost(_locations: readonly BackupLocation[]): string[] {
  return ["listBuckets", "listFiles", "readFiles", "writeFiles"];
}

/**
 * A B2 key takes one name prefix: the longest whole-segment prefix the host's locations
 * share (`web1/` for `web1/db` and `web1/files`, `web1/db/` for one job).
 */
export function b2NamePrefixForHost(locations: readonly BackupLocation[]): string {
  return commonPrefix(locations.map((l) => `${l.location}/`));
}

export interface B2LifecycleRule {
  fileNamePrefix: string;
  daysFromHidingToDeleting: number;
  daysFromUploadingToHiding?: number;
  daysFromStartingToCancelingUnfinishedLargeFiles: number;
}

/**
 * One rule per location (`<location>/`). Files are hidden only under snapshot locations,
 * never under a restic repository. Without locations, one bucket-wide rule with the defaults.
 */
export function b2LifecycleRules(locations: readonly BackupLocation[], lifecycle: B2LifecycleSettings = {}): B2LifecycleRule[] {
  const byPrefix = new Map<string, BackupLocation[]>();
  for (const l of locations) byPrefix.set(`${l.location}/`, [...(byPrefix.get(`${l.location}/`) ?? []), l]);
  if (byPrefix.size === 0) byPrefix.set("", []);
  return [...byPrefix.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([fileNamePrefix, locs]) => {
      const hides = lifecycle.daysFromUploadingToHiding !== undefined && locs.length > 0 && locs.every((l) => l.method === "snapshot");
      return {
        fileNamePrefix,
        daysFromHidingToDeleting: lifecycle.daysFromHidingToDeleting ?? MANAGED_DEFAULTS.daysFromHidingToDeleting,
        ...(hides ? { daysFromUploadingToHiding: lifecycle.daysFromUploadingToHiding } : {}),
        daysFromStartingToCancelingUnfinishedLargeFiles: MANAGED_DEFAULTS.cancelUnfinishedLargeFilesDays,
      };
    });
}

// ---------------------------------------------------------------- the component

export class B2BackupBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketId: pulumi.Output<string>;
  /** Per host name: its application key; `applicationKey` is secret. */
  public readonly credentials: Readonly<Record<string, B2HostCredentials>>;

  constructor(name: string, args: B2BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:b2:B2BackupBucket", name, {}, opts);
    const parent = { parent: this };

    let bucketName = args.bucketName;
    if (bucketName === undefined) {
      // B2 names are global and the provider does not auto-name: name plus 8 hex digits.
      const suffix = new random.RandomId(`${name}-name`, { byteLength: 4 }, parent);
      bucketName = pulumi.interpolate`${name.slice(0, 54)}-${suffix.hex}`;
    }
    const allLocations = Object.values(args.hosts).flat();
    const bucket = new b2.Bucket(
      `${name}-bucket`,
      {
        bucketName,
        bucketType: "allPrivate",
        defaultServerSideEncryption: { mode: "SSE-B2", algorithm: "AES256" },
        lifecycleRules: b2LifecycleRules(allLocations, args.lifecycle),
        fileLockConfigurations: args.fileLock
          ? [{ isFileLockEnabled: true, defaultRetention: { mode: args.fileLock.mode, period: { duration: args.fileLock.days, unit: "days" } } }]
          : undefined,
        bucketInfo: { "openwebui-purpose": "backups" },
      },
      parent,
    );

    const credentials: Record<string, B2HostCredentials> = {};
    for (const [hostName, locations] of Object.entries(args.hosts)) {
      if (locations.length === 0) continue;
      const namePrefix = b2NamePrefixForHost(locations);
      const key = new b2.ApplicationKey(
        `${name}-${hostName}`,
        {
          keyName: `${name}-${hostName}`.slice(0, 100),
          capabilities: b2CapabilitiesForHost(locations),
          bucketIds: [bucket.bucketId],
          namePrefix: namePrefix || undefined,
        },
        parent,
      );
      credentials[hostName] = { keyId: key.applicationKeyId, applicationKey: pulumi.secret(key.applicationKey) };
    }

    this.bucketName = bucket.bucketName;
    this.bucketId = bucket.bucketId;
    this.credentials = credentials;
    this.registerOutputs({ bucketName: this.bucketName, bucketId: this.bucketId });
  }
}
