/**
 * Backup targets (`targets.<name>`): an S3 bucket, a B2 bucket or a local directory, and the
 * settings of buckets `pulumi up` creates (`managed`). Rules across fields are in rules/targets.ts
 * and rules/retention-agreement.ts.
 */
import { z } from "zod";
import { awsRegion, bucketName, hostPath, kmsKeyArn, positiveInt, prefix, secretString, strictObject, url } from "./fields";

/** What the managed buckets do when a setting is absent (the rules and the components use these). */
export const MANAGED_DEFAULTS = {
  noncurrentDays: 30,
  abortMultipartDays: 7,
  daysFromHidingToDeleting: 30,
  cancelUnfinishedLargeFilesDays: 7,
  transitionStorageClass: "STANDARD_IA",
} as const;

const days = positiveInt("a number of days");
const lock = strictObject({ mode: z.enum(["governance", "compliance"]), days });

/**
 * Managed S3 bucket settings: `pulumi up` creates the bucket (versioned, encrypted, private,
 * TLS only, never force-destroyed) and one least-privilege key per host. Lifecycle rules apply
 * per job location; rules/retention-agreement.ts checks they agree with what the jobs keep.
 */
export const s3ManagedSchema = strictObject({
  lifecycle: strictObject({
    /** Days after upload that objects move to `transitionStorageClass`. */
    transitionDays: days.optional(),
    /** Default STANDARD_IA. Restic repositories accept only the instant-retrieval classes. */
    transitionStorageClass: z.enum(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]).optional(),
    /** Days after upload that current objects expire. Refused under restic repositories. */
    expirationDays: days.optional(),
    /** Days a deleted or overwritten version stays recoverable. Default 30. */
    noncurrentDays: days.optional(),
    /** Keep this many newest noncurrent versions even after `noncurrentDays`. */
    noncurrentNewerVersions: positiveInt("a number of versions").optional(),
    /** Days after which incomplete multipart uploads are aborted. Default 7. */
    abortMultipartDays: days.optional(),
  }).optional(),
  /** Object lock (set at bucket creation): versions cannot be deleted for `days`. */
  objectLock: lock.optional(),
  /** Days a deleted or overwritten backup must stay recoverable. Default: objectLock.days. */
  undoDays: days.optional(),
  /** Encrypt with this KMS key (SSE-KMS) instead of SSE-S3. */
  kmsKeyArn: kmsKeyArn.optional(),
});

/**
 * Managed B2 bucket settings: `pulumi up` creates a private SSE-B2 bucket and one application
 * key per host, limited to the bucket and the host's prefix.
 */
export const b2ManagedSchema = strictObject({
  lifecycle: strictObject({
    /** Days after upload that files are hidden. Refused under restic repositories. */
    daysFromUploadingToHiding: days.optional(),
    /** Days a hidden (deleted or overwritten) file version stays recoverable. Default 30. */
    daysFromHidingToDeleting: days.optional(),
  }).optional(),
  /** File lock: file versions cannot be deleted for `days`. */
  fileLock: lock.optional(),
  /** Days a deleted or overwritten backup must stay recoverable. Default: fileLock.days. */
  undoDays: days.optional(),
});

export const s3TargetSchema = strictObject({
  type: z.literal("s3"),
  bucket: bucketName.optional(),
  prefix: prefix.optional(),
  region: awsRegion.optional(),
  endpoint: url.optional(),
  accessKeyId: secretString.optional(),
  secretAccessKey: secretString.optional(),
  managed: s3ManagedSchema.optional(),
});

export const b2TargetSchema = strictObject({
  type: z.literal("b2"),
  bucket: bucketName.optional(),
  prefix: prefix.optional(),
  keyId: secretString.optional(),
  applicationKey: secretString.optional(),
  managed: b2ManagedSchema.optional(),
});

export const localTargetSchema = strictObject({
  type: z.literal("local"),
  path: hostPath,
});

export const targetSchema = z.discriminatedUnion("type", [s3TargetSchema, b2TargetSchema, localTargetSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'expected one of "s3", "b2", "local"' : undefined),
});
