/**
 * An S3 bucket for backups that a host cannot lose by accident or by attack: versioned,
 * encrypted, private, TLS only, never force-destroyed, with lifecycle rules per job location,
 * optional object lock, and one IAM user per host whose key reaches only that host's prefixes.
 *
 * The policy document and the lifecycle rules are pure functions beside the component, so
 * they are table-tested, and `s3PolicyForHost` can be attached to an EC2 instance role instead.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { MANAGED_DEFAULTS } from "../config/targets";
import type { KeyAccess } from "../scripts/render/kubernetes/keys";
import { BackupLocation, deletePrefixes } from "./backup-access";

/** Lifecycle settings, applied to every job location in the bucket. */
export interface S3LifecycleSettings {
  readonly transitionDays?: number;
  readonly transitionStorageClass?: string;
  /** Expires current objects; applied only under snapshot locations, never under restic. */
  readonly expirationDays?: number;
  readonly noncurrentDays?: number;
  readonly noncurrentNewerVersions?: number;
  readonly abortMultipartDays?: number;
}

export interface S3ObjectLockSettings {
  readonly mode: "governance" | "compliance";
  readonly days: number;
}

export interface S3BackupBucketArgs {
  /** Bucket name; absent: Pulumi names it after the component. */
  readonly bucket?: pulumi.Input<string>;
  /** AWS region of the bucket; absent: the provider's region. */
  readonly region?: pulumi.Input<string>;
  /** Lifecycle rules per location; absent: the safe defaults (noncurrent 30 d, multipart 7 d, delete markers removed). */
  readonly lifecycle?: S3LifecycleSettings;
  /** Object lock, enabled at creation with a default retention. */
  readonly objectLock?: S3ObjectLockSettings;
  /** KMS key for SSE-KMS; absent: SSE-S3 (AES256). */
  readonly kmsKeyArn?: pulumi.Input<string>;
  /** Per host name: the job locations the host writes. Each host gets an IAM user and access key. */
  readonly hosts: Readonly<Record<string, readonly BackupLocation[]>>;
  /**
   * Per host name: the prefix its Open WebUI keeps its files under (`openwebui.storage.s3`). Each
   * gets its own IAM user and key, for Open WebUI and the backups of those files, that reaches
   * only that prefix, and a lifecycle rule like the backups' (no expiry of current files).
   */
  readonly fileStores?: Readonly<Record<string, string>>;
  /**
   * Keys that are not a host's (a Kubernetes cluster's writer, reader, …), by name: each gets an IAM
   * user limited to its prefixes (`s3PolicyForKey`). Their prefixes get the bucket's lifecycle rules.
   */
  readonly keys?: Readonly<Record<string, KeyAccess>>;
}

/** A host's S3 credentials; the secret is a Pulumi secret. */
export interface S3HostCredentials {
  readonly accessKeyId: pulumi.Output<string>;
  readonly secretAccessKey: pulumi.Output<string>;
}

// ---------------------------------------------------------------- pure planning

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface S3HostPolicyArgs {
  /** `arn:aws:s3:::bucket-name`. */
  readonly bucketArn: string;
  readonly locations: readonly BackupLocation[];
  /** When the bucket uses SSE-KMS, the key the host must encrypt and decrypt with. */
  readonly kmsKeyArn?: string;
}

const unique = <T>(xs: readonly T[]) => [...new Set(xs)];

/**
 * The inline policy of one host: list the bucket only under its locations, read and write
 * objects there, delete only where its jobs prune (see `deletePrefixes`). Attach it to the
 * host's IAM user, or to an EC2 instance role.
 */
export function s3PolicyForHost(args: S3HostPolicyArgs): PolicyDocument {
  const locations = unique(args.locations.map((l) => l.location)).sort();
  if (locations.length === 0) throw new Error("s3PolicyForHost: the host writes no location in this bucket");
  const deletes = unique(args.locations.flatMap(deletePrefixes)).sort();
  const statements: PolicyStatement[] = [
    {
      Sid: "ListOwnPrefixes",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: args.bucketArn,
      Condition: { StringLike: { "s3:prefix": locations.flatMap((l) => [l, `${l}/*`]) } },
    },
    { Sid: "FindBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: args.bucketArn },
    { Sid: "ReadWriteOwnObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: locations.map((l) => `${args.bucketArn}/${l}/*`) },
  ];
  if (deletes.length > 0) {
    statements.push({ Sid: "DeleteWhatJobsPrune", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: deletes.map((p) => `${args.bucketArn}/${p}*`) });
  }
  if (args.kmsKeyArn) {
    statements.push({ Sid: "UseBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.kmsKeyArn });
  }
  return { Version: "2012-10-17", Statement: statements };
}

export interface S3FileStorePolicyArgs {
  readonly bucketArn: string;
  /** Without a trailing '/'. */
  readonly prefix: string;
  readonly kmsKeyArn?: string;
}

/**
 * The policy of Open WebUI's own key: list, read, write and delete under its file prefix and
 * nowhere else (Open WebUI deletes a file when its user does; the bucket's versions keep it).
 */
export function s3FileStorePolicy(args: S3FileStorePolicyArgs): PolicyDocument {
  const statements: PolicyStatement[] = [
    { Sid: "ListFilePrefix", Effect: "Allow", Action: ["s3:ListBucket"], Resource: args.bucketArn, Condition: { StringLike: { "s3:prefix": [args.prefix, `${args.prefix}/*`] } } },
    { Sid: "FindBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: args.bucketArn },
    { Sid: "ReadWriteDeleteFiles", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: `${args.bucketArn}/${args.prefix}/*` },
  ];
  if (args.kmsKeyArn) statements.push({ Sid: "UseBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: args.kmsKeyArn });
  return { Version: "2012-10-17", Statement: statements };
}

/**
 * The inline policy of a key that is not a host's: list and read under its read prefixes, write
 * and delete (current objects only: never s3:DeleteObjectVersion) under the prefixes it names.
 */
export function s3PolicyForKey(bucketArn: string, access: KeyAccess, kmsKeyArn?: string): PolicyDocument {
  const trim = (p: string) => p.replace(/\/+$/, "");
  const read = unique(access.read.map(trim)).sort();
  if (read.length === 0) throw new Error("s3PolicyForKey: the key reads no prefix in this bucket");
  const objects = (prefixes: readonly string[]) => unique(prefixes.map(trim)).sort().map((p) => `${bucketArn}/${p}/*`);
  const statements: PolicyStatement[] = [
    { Sid: "ListOwnPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn, Condition: { StringLike: { "s3:prefix": read.flatMap((p) => [p, `${p}/*`]) } } },
    { Sid: "FindBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: bucketArn },
    { Sid: "ReadOwnObjects", Effect: "Allow", Action: ["s3:GetObject"], Resource: objects(access.read) },
  ];
  if (access.write.length > 0) statements.push({ Sid: "WriteOwnObjects", Effect: "Allow", Action: ["s3:PutObject"], Resource: objects(access.write) });
  if (access.delete.length > 0) statements.push({ Sid: "DeleteCurrentObjects", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: objects(access.delete) });
  if (kmsKeyArn) statements.push({ Sid: "UseBucketKey", Effect: "Allow", Action: ["kms:Decrypt", "kms:GenerateDataKey"], Resource: kmsKeyArn });
  return { Version: "2012-10-17", Statement: statements };
}

/** A key's written prefixes as lifecycle locations: never expired as current objects, like a restic repository. */
export function keyLifecycleLocations(keys: Readonly<Record<string, KeyAccess>>): BackupLocation[] {
  const prefixes = unique(Object.values(keys).flatMap((k) => k.write.map((p) => p.replace(/\/+$/, ""))));
  // Nested prefixes (a repository's locks/) are covered by their parent's rule.
  const top = prefixes.filter((p) => !prefixes.some((q) => q !== p && p.startsWith(`${q}/`))).sort();
  return top.map((location) => ({ location, method: "restic", retention: {} }));
}

/** The bucket policy: refuse every request that does not use TLS. */
export function s3TlsOnlyPolicy(bucketArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

export interface S3LifecycleRule {
  id: string;
  status: "Enabled";
  filter: { prefix: string };
  transitions?: { days: number; storageClass: string }[];
  expiration?: { days?: number; expiredObjectDeleteMarker?: boolean };
  noncurrentVersionExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number };
}

const ruleId = (prefix: string) => (prefix ? `backup-${prefix.replace(/\/$/, "").replace(/[^A-Za-z0-9._-]/g, "-")}` : "backup-bucket");

/**
 * One rule per location (`<location>/`): transitions, noncurrent-version expiry, abort of
 * incomplete multipart uploads, and removal of expired delete markers. Current objects
 * expire only under snapshot locations, never under a restic repository; S3 cannot combine
 * that with delete-marker removal in one rule, so those locations get a second rule.
 * Without locations, one bucket-wide rule with the same defaults.
 */
export function s3LifecycleRules(locations: readonly BackupLocation[], lifecycle: S3LifecycleSettings = {}): S3LifecycleRule[] {
  const byPrefix = new Map<string, BackupLocation[]>();
  for (const l of locations) byPrefix.set(`${l.location}/`, [...(byPrefix.get(`${l.location}/`) ?? []), l]);
  if (byPrefix.size === 0) byPrefix.set("", []);
  return [...byPrefix.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([prefix, locs]) => {
      const expires = lifecycle.expirationDays !== undefined && locs.length > 0 && locs.every((l) => l.method === "snapshot");
      const base: S3LifecycleRule = {
        id: ruleId(prefix),
        status: "Enabled",
        filter: { prefix },
        ...(lifecycle.transitionDays !== undefined
          ? { transitions: [{ days: lifecycle.transitionDays, storageClass: lifecycle.transitionStorageClass ?? MANAGED_DEFAULTS.transitionStorageClass }] }
          : {}),
        expiration: expires ? { days: lifecycle.expirationDays } : { expiredObjectDeleteMarker: true },
        noncurrentVersionExpiration: {
          noncurrentDays: lifecycle.noncurrentDays ?? MANAGED_DEFAULTS.noncurrentDays,
          ...(lifecycle.noncurrentNewerVersions !== undefined ? { newerNoncurrentVersions: lifecycle.noncurrentNewerVersions } : {}),
        },
        abortIncompleteMultipartUpload: { daysAfterInitiation: lifecycle.abortMultipartDays ?? MANAGED_DEFAULTS.abortMultipartDays },
      };
      if (!expires) return [base];
      return [base, { id: `${ruleId(prefix)}-delete-markers`, status: "Enabled" as const, filter: { prefix }, expiration: { expiredObjectDeleteMarker: true } }];
    });
}

/**
 * One rule per file prefix: deleted or replaced files stay recoverable for `noncurrentDays`,
 * incomplete uploads are aborted, expired delete markers removed. Current files never expire
 * and stay in their class: Open WebUI reads them at any time.
 */
export function s3FileStoreLifecycleRules(prefixes: readonly string[], lifecycle: S3LifecycleSettings = {}): S3LifecycleRule[] {
  return [...new Set(prefixes)].sort().map((prefix) => ({
    id: `files-${prefix.replace(/[^A-Za-z0-9._-]/g, "-")}`,
    status: "Enabled" as const,
    filter: { prefix: `${prefix}/` },
    expiration: { expiredObjectDeleteMarker: true },
    noncurrentVersionExpiration: {
      noncurrentDays: lifecycle.noncurrentDays ?? MANAGED_DEFAULTS.noncurrentDays,
      ...(lifecycle.noncurrentNewerVersions !== undefined ? { newerNoncurrentVersions: lifecycle.noncurrentNewerVersions } : {}),
    },
    abortIncompleteMultipartUpload: { daysAfterInitiation: lifecycle.abortMultipartDays ?? MANAGED_DEFAULTS.abortMultipartDays },
  }));
}

// ---------------------------------------------------------------- the component

export class S3BackupBucket extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly region: pulumi.Output<string>;
  /** Per host name: its access key; `secretAccessKey` is secret. */
  public readonly credentials: Readonly<Record<string, S3HostCredentials>>;
  /** Per host name with a file store here: Open WebUI's key to its file prefix; `secretAccessKey` is secret. */
  public readonly fileStoreCredentials: Readonly<Record<string, S3HostCredentials>>;
  /** Per key name (`S3BackupBucketArgs.keys`): its access key; `secretAccessKey` is secret. */
  public readonly keyCredentials: Readonly<Record<string, S3HostCredentials>>;

  constructor(name: string, args: S3BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:aws:S3BackupBucket", name, {}, opts);
    const parent = { parent: this };
    const region = args.region;

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: args.bucket, region, forceDestroy: false, objectLockEnabled: args.objectLock ? true : undefined, tags: { "openwebui:purpose": "backups" } },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, region, versioningConfiguration: { status: "Enabled" } }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        region,
        rules: [
          args.kmsKeyArn
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ],
      },
      parent,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, region, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      parent,
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, region, rule: { objectOwnership: "BucketOwnerEnforced" } }, parent);
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, region, policy: bucket.arn.apply((arn) => JSON.stringify(s3TlsOnlyPolicy(arn))) },
      { parent: this, dependsOn: [publicAccess] },
    );
    const allLocations = [...Object.values(args.hosts).flat(), ...keyLifecycleLocations(args.keys ?? {})];
    const filePrefixes = Object.values(args.fileStores ?? {});
    // A bucket that holds only Open WebUI's files gets their rules, not the bucket-wide backup rule.
    const backupRules = allLocations.length > 0 || filePrefixes.length === 0 ? s3LifecycleRules(allLocations, args.lifecycle) : [];
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      { bucket: bucket.id, region, rules: [...backupRules, ...s3FileStoreLifecycleRules(filePrefixes, args.lifecycle)] },
      { parent: this, dependsOn: [versioning] },
    );
    if (args.objectLock) {
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-object-lock`,
        { bucket: bucket.id, region, rule: { defaultRetention: { mode: args.objectLock.mode.toUpperCase(), days: args.objectLock.days } } },
        { parent: this, dependsOn: [versioning] },
      );
    }

    const credentials: Record<string, S3HostCredentials> = {};
    for (const [hostName, locations] of Object.entries(args.hosts)) {
      if (locations.length === 0) continue;
      const user = new aws.iam.User(`${name}-${hostName}`, { path: "/openwebui-backup/", tags: { "openwebui:host": hostName } }, parent);
      new aws.iam.UserPolicy(
        `${name}-${hostName}`,
        {
          user: user.name,
          policy: pulumi
            .all([bucket.arn, args.kmsKeyArn])
            .apply(([bucketArn, kmsKeyArn]) => JSON.stringify(s3PolicyForHost({ bucketArn, locations, kmsKeyArn }))),
        },
        parent,
      );
      const key = new aws.iam.AccessKey(`${name}-${hostName}`, { user: user.name }, parent);
      credentials[hostName] = { accessKeyId: key.id, secretAccessKey: pulumi.secret(key.secret) };
    }

    const fileStoreCredentials: Record<string, S3HostCredentials> = {};
    for (const [hostName, prefix] of Object.entries(args.fileStores ?? {})) {
      const user = new aws.iam.User(`${name}-${hostName}.files`, { path: "/openwebui-files/", tags: { "openwebui:host": hostName, "openwebui:purpose": "files" } }, parent);
      new aws.iam.UserPolicy(
        `${name}-${hostName}.files`,
        {
          user: user.name,
          policy: pulumi.all([bucket.arn, args.kmsKeyArn]).apply(([bucketArn, kmsKeyArn]) => JSON.stringify(s3FileStorePolicy({ bucketArn, prefix, kmsKeyArn }))),
        },
        parent,
      );
      const key = new aws.iam.AccessKey(`${name}-${hostName}.files`, { user: user.name }, parent);
      fileStoreCredentials[hostName] = { accessKeyId: key.id, secretAccessKey: pulumi.secret(key.secret) };
    }

    const keyCredentials: Record<string, S3HostCredentials> = {};
    for (const [keyName, access] of Object.entries(args.keys ?? {})) {
      const user = new aws.iam.User(`${name}-key-${keyName}`, { path: "/openwebui-backup/", tags: { "openwebui:key": keyName } }, parent);
      new aws.iam.UserPolicy(
        `${name}-key-${keyName}`,
        { user: user.name, policy: pulumi.all([bucket.arn, args.kmsKeyArn]).apply(([bucketArn, kmsKeyArn]) => JSON.stringify(s3PolicyForKey(bucketArn, access, kmsKeyArn))) },
        parent,
      );
      const key = new aws.iam.AccessKey(`${name}-key-${keyName}`, { user: user.name }, parent);
      keyCredentials[keyName] = { accessKeyId: key.id, secretAccessKey: pulumi.secret(key.secret) };
    }

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.region = bucket.region;
    this.credentials = credentials;
    this.fileStoreCredentials = fileStoreCredentials;
    this.keyCredentials = keyCredentials;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, region: this.region });
  }
}
