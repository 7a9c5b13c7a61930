/**
 * The backup buckets: the pure plans (IAM policy, B2 capabilities and prefix, lifecycle
 * rules) as tables, and the components under mocks (type tokens, every input, parents,
 * derived names, secrets), and deployBackupTargets resolving targets per host.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { BackupLocation, commonPrefix, deletePrefixes } from "../components/backup-access";
import { B2BackupBucket, b2CapabilitiesForHost, b2LifecycleRules, b2NamePrefixForHost } from "../components/b2-backup-bucket";
import { hostLocationsOnTarget } from "../components/managed-targets";
import { deployBackupTargets } from "../program/deploy";
import { S3BackupBucket, s3LifecycleRules, s3PolicyForHost, s3TlsOnlyPolicy } from "../components/s3-backup-bucket";
import { installMocks, isSecret, promiseOf, registered, resourcesOfType } from "./support/pulumi-mocks";

const restic = (location: string): BackupLocation => ({ location, method: "restic", retention: { daily: 7 } });
const resticNoPrune = (location: string): BackupLocation => ({ location, method: "restic", retention: {} });
const snapshot = (location: string, keep?: number): BackupLocation => ({ location, method: "snapshot", retention: keep === undefined ? {} : { keep } });
const ARN = "arn:aws:s3:::backups";

// ---------------------------------------------------------------- pure: permissions

describe("deletePrefixes", () => {
  it.each([
    ["restic with retention: the whole repository", restic("web1/db"), ["web1/db/"]],
    ["restic without retention: only its locks", resticNoPrune("web1/db"), ["web1/db/locks/"]],
    ["snapshot with keep: the whole location", snapshot("web1/files", 3), ["web1/files/"]],
    ["snapshot without keep: nothing", snapshot("web1/files"), []],
    ["sync: its mirror only", { location: "web1/mirror", method: "sync", retention: {} } as BackupLocation, ["web1/mirror/current/", "web1/mirror/next/"]],
  ])("%s", (_what, loc, expected) => {
    expect(deletePrefixes(loc)).toEqual(expected);
  });
});

describe("s3PolicyForHost", () => {
  const actionsOf = (doc: ReturnType<typeof s3PolicyForHost>) => doc.Statement.flatMap((s) => s.Action);
  const statement = (doc: ReturnType<typeof s3PolicyForHost>, sid: string) => doc.Statement.find((s) => s.Sid === sid);

  it.each([
    ["restic", [restic("web1/db")], [`${ARN}/web1/db/*`]],
    ["restic without pruning", [resticNoPrune("web1/db")], [`${ARN}/web1/db/locks/*`]],
    ["snapshot with keep", [snapshot("web1/files", 7)], [`${ARN}/web1/files/*`]],
    ["snapshot without keep", [snapshot("web1/files")], undefined],
    ["restic and a write-only snapshot", [restic("web1/db"), snapshot("web1/files")], [`${ARN}/web1/db/*`]],
  ])("%s: delete only where the jobs prune", (_what, locations, deleteResources) => {
    const doc = s3PolicyForHost({ bucketArn: ARN, locations });
    expect(statement(doc, "DeleteWhatJobsPrune")?.Resource).toEqual(deleteResources);
    if (deleteResources === undefined) expect(actionsOf(doc)).not.toContain("s3:DeleteObject");
  });

  it("lists only under the host's locations and reads/writes only there", () => {
    const doc = s3PolicyForHost({ bucketArn: ARN, locations: [snapshot("web1/files", 2), restic("web1/db")] });
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        { Sid: "ListOwnPrefixes", Effect: "Allow", Action: ["s3:ListBucket"], Resource: ARN, Condition: { StringLike: { "s3:prefix": ["web1/db", "web1/db/*", "web1/files", "web1/files/*"] } } },
        { Sid: "FindBucketRegion", Effect: "Allow", Action: ["s3:GetBucketLocation"], Resource: ARN },
        { Sid: "ReadWriteOwnObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [`${ARN}/web1/db/*`, `${ARN}/web1/files/*`] },
        { Sid: "DeleteWhatJobsPrune", Effect: "Allow", Action: ["s3:DeleteObject"], Resource: [`${ARN}/web1/db/*`, `${ARN}/web1/files/*`] },
      ],
    });
    expect(actionsOf(doc).every((a) => !a.includes("*"))).toBe(true);
  });

  it("grants the KMS key when the bucket uses SSE-KMS", () => {
    const kms = "arn:aws:kms:eu-central-1:123456789012:key/abc";
    expect(statement(s3PolicyForHost({ bucketArn: ARN, locations: [restic("a/b")], kmsKeyArn: kms }), "UseBucketKey")).toEqual({
      Sid: "UseBucketKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: kms,
    });
  });

  it("refuses a host without locations (that would be a policy for nothing)", () => {
    expect(() => s3PolicyForHost({ bucketArn: ARN, locations: [] })).toThrow(/writes no location/);
  });

  it("the bucket policy denies every non-TLS request", () => {
    expect(s3TlsOnlyPolicy(ARN).Statement).toEqual([
      { Sid: "DenyInsecureTransport", Effect: "Deny", Principal: "*", Action: ["s3:*"], Resource: [ARN, `${ARN}/*`], Condition: { Bool: { "aws:SecureTransport": "false" } } },
    ]);
  });
});

describe("b2CapabilitiesForHost", () => {
  const READ_WRITE = ["listBuckets", "listFiles", "readFiles", "writeFiles"];
  // Every removal a host makes on B2 is a hide (b2_hide_file needs writeFiles only); versions
  // go only by the bucket's lifecycle rules. So no job, however it prunes, gets deleteFiles.
  it.each([
    ["restic", [restic("web1/db")]],
    ["restic without pruning (locks)", [resticNoPrune("web1/db")]],
    ["snapshot with keep", [snapshot("web1/files", 3)]],
    ["snapshot without keep", [snapshot("web1/files")]],
    ["two write-only snapshots", [snapshot("web1/a"), snapshot("web1/b")]],
    ["sync (removes deleted files from its mirror)", [{ location: "web1/mirror", method: "sync", retention: {} } as BackupLocation]],
    ["every method at once", [restic("web1/db"), snapshot("web1/files", 3), { location: "web1/mirror", method: "sync", retention: {} } as BackupLocation]],
  ])("%s: list, read, write (hide), never delete", (_what, locations) => {
    const capabilities = b2CapabilitiesForHost(locations);
    expect(capabilities).toEqual(READ_WRITE);
    expect(capabilities.filter((c) => /delete|bypass|retention|legalhold|writeBucket|writeKeys/i.test(c))).toEqual([]);
  });
});

describe("b2NamePrefixForHost and commonPrefix", () => {
  it.each([
    [["web1/db"], "web1/db/"],
    [["web1/db", "web1/files"], "web1/"],
    [["web1/db", "web1/db2"], "web1/"],
    [["shared/web1/db", "shared/web1/files"], "shared/web1/"],
  ])("%j -> %s", (locations, expected) => {
    expect(b2NamePrefixForHost(locations.map((l) => restic(l)))).toBe(expected);
  });
  it("is empty when nothing is shared", () => {
    expect(commonPrefix(["a/x/", "b/y/"])).toBe("");
    expect(commonPrefix([])).toBe("");
  });
});

// ---------------------------------------------------------------- pure: lifecycle

describe("s3LifecycleRules", () => {
  it("safe defaults when lifecycle is absent: noncurrent 30 d, multipart 7 d, delete markers removed", () => {
    expect(s3LifecycleRules([restic("web1/db")])).toEqual([
      {
        id: "backup-web1-db",
        status: "Enabled",
        filter: { prefix: "web1/db/" },
        expiration: { expiredObjectDeleteMarker: true },
        noncurrentVersionExpiration: { noncurrentDays: 30 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
  });

  it("one bucket-wide default rule when no job writes to the bucket yet", () => {
    expect(s3LifecycleRules([]).map((r) => [r.id, r.filter.prefix])).toEqual([["backup-bucket", ""]]);
  });

  it("applies transitions and noncurrent settings per location; expires current objects only under snapshots", () => {
    const rules = s3LifecycleRules([restic("web1/db"), snapshot("web1/files", 7)], {
      transitionDays: 30,
      transitionStorageClass: "GLACIER_IR",
      expirationDays: 90,
      noncurrentDays: 14,
      noncurrentNewerVersions: 3,
      abortMultipartDays: 2,
    });
    const common = {
      status: "Enabled",
      transitions: [{ days: 30, storageClass: "GLACIER_IR" }],
      noncurrentVersionExpiration: { noncurrentDays: 14, newerNoncurrentVersions: 3 },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
    };
    expect(rules).toEqual([
      { id: "backup-web1-db", filter: { prefix: "web1/db/" }, ...common, expiration: { expiredObjectDeleteMarker: true } },
      { id: "backup-web1-files", filter: { prefix: "web1/files/" }, ...common, expiration: { days: 90 } },
      { id: "backup-web1-files-delete-markers", status: "Enabled", filter: { prefix: "web1/files/" }, expiration: { expiredObjectDeleteMarker: true } },
    ]);
  });

  it("transitions default to STANDARD_IA", () => {
    expect(s3LifecycleRules([restic("a/b")], { transitionDays: 45 })[0].transitions).toEqual([{ days: 45, storageClass: "STANDARD_IA" }]);
  });
});

describe("b2LifecycleRules", () => {
  it("defaults: hidden versions deleted after 30 days, unfinished large files canceled after 7", () => {
    expect(b2LifecycleRules([restic("web1/db")])).toEqual([{ fileNamePrefix: "web1/db/", daysFromHidingToDeleting: 30, daysFromStartingToCancelingUnfinishedLargeFiles: 7 }]);
  });
  it("hides current files only under snapshot locations", () => {
    expect(b2LifecycleRules([restic("web1/db"), snapshot("web1/files", 3)], { daysFromUploadingToHiding: 60, daysFromHidingToDeleting: 10 })).toEqual([
      { fileNamePrefix: "web1/db/", daysFromHidingToDeleting: 10, daysFromStartingToCancelingUnfinishedLargeFiles: 7 },
      { fileNamePrefix: "web1/files/", daysFromHidingToDeleting: 10, daysFromUploadingToHiding: 60, daysFromStartingToCancelingUnfinishedLargeFiles: 7 },
    ]);
  });
});

// ---------------------------------------------------------------- components under mocks

const parents = new Map<string, string>();
installMocks({
  "aws:s3/bucket:Bucket": (inputs, name) => {
    const bucket = inputs.bucket ?? `${name}-1234567`;
    return { bucket, arn: `arn:aws:s3:::${bucket}`, region: inputs.region ?? "us-east-1" };
  },
  "aws:iam/user:User": (_inputs, name) => ({ name, arn: `arn:aws:iam::123456789012:user/${name}` }),
  "aws:iam/accessKey:AccessKey": (_inputs, name) => ({ secret: `${name}-secret` }),
  "random:index/randomId:RandomId": () => ({ hex: "0a1b2c3d" }),
  "b2:index/bucket:Bucket": (_inputs, name) => ({ bucketId: `${name}-bid` }),
  "b2:index/applicationKey:ApplicationKey": (_inputs, name) => ({ applicationKeyId: `${name}-kid`, applicationKey: `${name}-key` }),
});
const monitor: any = pulumi.runtime.getMonitor();
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: any, callback: any) => {
  parents.set(`${req.getType()}::${req.getName()}`, req.getParent());
  return registerResource(req, callback);
};
/** The type token of the parent of the resource registered as `type::name`. */
const parentTypeOf = (type: string, name: string) => parents.get(`${type}::${name}`)?.split("::")[2]?.split("$").pop();

const only = (type: string) => {
  const rs = resourcesOfType(type);
  expect(rs).toHaveLength(1);
  return rs[0];
};

describe("S3BackupBucket", () => {
  const component = new S3BackupBucket("offsite", {
    bucket: "my-backups",
    region: "eu-central-1",
    lifecycle: { transitionDays: 30, noncurrentDays: 40 },
    objectLock: { mode: "governance", days: 7 },
    kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/k1",
    hosts: { web1: [restic("web1/db")], web2: [snapshot("web2/files")] },
  });
  const settled = () => promiseOf(pulumi.all([component.bucketName, component.credentials.web1.secretAccessKey, component.credentials.web2.secretAccessKey]));

  it("registers under its type token, every child parented to it and named after it", async () => {
    await settled();
    const children = registered.filter((r) => r.type.startsWith("aws:"));
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual(
      [
        "aws:iam/accessKey:AccessKey offsite-web1",
        "aws:iam/accessKey:AccessKey offsite-web2",
        "aws:iam/user:User offsite-web1",
        "aws:iam/user:User offsite-web2",
        "aws:iam/userPolicy:UserPolicy offsite-web1",
        "aws:iam/userPolicy:UserPolicy offsite-web2",
        "aws:s3/bucket:Bucket offsite-bucket",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration offsite-lifecycle",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration offsite-object-lock",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls offsite-ownership",
        "aws:s3/bucketPolicy:BucketPolicy offsite-tls-only",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock offsite-public-access",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration offsite-encryption",
        "aws:s3/bucketVersioning:BucketVersioning offsite-versioning",
      ].sort(),
    );
    for (const r of children) expect(parentTypeOf(r.type, r.name)).toBe("openwebui:aws:S3BackupBucket");
  });

  it("creates the bucket with object lock, never force-destroyed, and every S3 setting", async () => {
    await settled();
    expect(only("aws:s3/bucket:Bucket").inputs).toMatchObject({ bucket: "my-backups", region: "eu-central-1", forceDestroy: false, objectLockEnabled: true });
    const bucketRef = { bucket: "offsite-bucket-id", region: "eu-central-1" };
    expect(only("aws:s3/bucketVersioning:BucketVersioning").inputs).toEqual({ ...bucketRef, versioningConfiguration: { status: "Enabled" } });
    expect(only("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs).toEqual({
      ...bucketRef,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-central-1:123456789012:key/k1" }, bucketKeyEnabled: true }],
    });
    expect(only("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).toEqual({
      ...bucketRef,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(only("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs).toEqual({ ...bucketRef, rule: { objectOwnership: "BucketOwnerEnforced" } });
    const policy = JSON.parse(only("aws:s3/bucketPolicy:BucketPolicy").inputs.policy);
    expect(policy).toEqual(s3TlsOnlyPolicy("arn:aws:s3:::my-backups"));
    expect(only("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs).toEqual({
      ...bucketRef,
      rules: s3LifecycleRules([restic("web1/db"), snapshot("web2/files")], { transitionDays: 30, noncurrentDays: 40 }),
    });
    expect(only("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").inputs).toEqual({
      ...bucketRef,
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 7 } },
    });
  });

  it("gives each host a user whose policy reaches only its own locations", async () => {
    await settled();
    const policies = Object.fromEntries(resourcesOfType("aws:iam/userPolicy:UserPolicy").map((r) => [r.name, r.inputs]));
    expect(policies["offsite-web1"].user).toBe("offsite-web1");
    const kms = "arn:aws:kms:eu-central-1:123456789012:key/k1";
    expect(JSON.parse(policies["offsite-web1"].policy)).toEqual(s3PolicyForHost({ bucketArn: "arn:aws:s3:::my-backups", locations: [restic("web1/db")], kmsKeyArn: kms }));
    const web2 = JSON.parse(policies["offsite-web2"].policy);
    expect(web2).toEqual(s3PolicyForHost({ bucketArn: "arn:aws:s3:::my-backups", locations: [snapshot("web2/files")], kmsKeyArn: kms }));
    expect(JSON.stringify(web2)).not.toContain("DeleteObject");
    expect(resourcesOfType("aws:iam/user:User").map((r) => r.inputs.path)).toEqual(["/openwebui-backup/", "/openwebui-backup/"]);
    expect(resourcesOfType("aws:iam/accessKey:AccessKey").map((r) => r.inputs.user).sort()).toEqual(["offsite-web1", "offsite-web2"]);
  });

  it("keeps each secret access key secret", async () => {
    expect(await isSecret(component.credentials.web1.secretAccessKey)).toBe(true);
    expect(await promiseOf(component.credentials.web1.secretAccessKey)).toBe("offsite-web1-secret");
    expect(await promiseOf(component.credentials.web1.accessKeyId)).toBe("offsite-web1-id");
    expect(await promiseOf(component.bucketName)).toBe("my-backups");
  });
});

describe("S3BackupBucket defaults", () => {
  it("SSE-S3, no object lock, a Pulumi-named bucket", async () => {
    registered.length = 0;
    const c = new S3BackupBucket("plain", { hosts: { web1: [restic("web1/db")] } });
    await promiseOf(c.credentials.web1.secretAccessKey);
    expect(only("aws:s3/bucket:Bucket").inputs.bucket).toBeUndefined();
    expect(only("aws:s3/bucket:Bucket").inputs.objectLockEnabled).toBeUndefined();
    expect(only("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    expect(resourcesOfType("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")).toHaveLength(0);
    expect(await promiseOf(c.bucketName)).toBe("plain-bucket-1234567");
  });
});

describe("B2BackupBucket", () => {
  let component: B2BackupBucket;
  beforeAll(async () => {
    registered.length = 0;
    component = new B2BackupBucket("offsite-b2", {
      lifecycle: { daysFromHidingToDeleting: 30 },
      fileLock: { mode: "governance", days: 7 },
      hosts: { web1: [snapshot("web1/files", 14), snapshot("web1/db", 14)], web2: [snapshot("web2/files")] },
    });
    await promiseOf(pulumi.all([component.bucketId, component.credentials.web1.applicationKey, component.credentials.web2.applicationKey]));
  });

  it("registers under its type token, children parented to it and named after it", () => {
    const children = registered.filter((r) => r.type.startsWith("b2:") || r.type.startsWith("random:"));
    expect(children.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
      "b2:index/applicationKey:ApplicationKey offsite-b2-web1",
      "b2:index/applicationKey:ApplicationKey offsite-b2-web2",
      "b2:index/bucket:Bucket offsite-b2-bucket",
      "random:index/randomId:RandomId offsite-b2-name",
    ]);
    for (const r of children) expect(parentTypeOf(r.type, r.name)).toBe("openwebui:b2:B2BackupBucket");
  });

  it("creates a private SSE-B2 bucket with lifecycle rules per location and file lock", () => {
    expect(only("b2:index/bucket:Bucket").inputs).toEqual({
      bucketName: "offsite-b2-0a1b2c3d",
      bucketType: "allPrivate",
      bucketInfo: { "openwebui-purpose": "backups" },
      defaultServerSideEncryption: { mode: "SSE-B2", algorithm: "AES256" },
      lifecycleRules: b2LifecycleRules([snapshot("web1/files", 14), snapshot("web1/db", 14), snapshot("web2/files")], { daysFromHidingToDeleting: 30 }),
      fileLockConfigurations: [{ isFileLockEnabled: true, defaultRetention: { mode: "governance", period: { duration: 7, unit: "days" } } }],
    });
  });

  it("gives each host a key limited to the bucket, its prefix and its jobs' needs", () => {
    const keys = Object.fromEntries(resourcesOfType("b2:index/applicationKey:ApplicationKey").map((r) => [r.name, r.inputs]));
    // web1 prunes (keep: 14) and still gets no deleteFiles: its prunes are hides.
    expect(keys["offsite-b2-web1"]).toEqual({
      keyName: "offsite-b2-web1",
      capabilities: ["listBuckets", "listFiles", "readFiles", "writeFiles"],
      bucketIds: ["offsite-b2-bucket-bid"],
      namePrefix: "web1/",
    });
    expect(keys["offsite-b2-web2"]).toEqual({
      keyName: "offsite-b2-web2",
      capabilities: ["listBuckets", "listFiles", "readFiles", "writeFiles"],
      bucketIds: ["offsite-b2-bucket-bid"],
      namePrefix: "web2/files/",
    });
  });

  it("keeps the application key secret", async () => {
    expect(await isSecret(component.credentials.web1.applicationKey)).toBe(true);
    expect(await promiseOf(component.credentials.web1.applicationKey)).toBe("offsite-b2-web1-key");
    expect(await promiseOf(component.credentials.web1.keyId)).toBe("offsite-b2-web1-kid");
  });

  it("uses a given bucket name without a random suffix", async () => {
    registered.length = 0;
    const c = new B2BackupBucket("named", { bucketName: "my-b2-backups", hosts: {} });
    await promiseOf(c.bucketId);
    expect(resourcesOfType("random:index/randomId:RandomId")).toHaveLength(0);
    expect(only("b2:index/bucket:Bucket").inputs.bucketName).toBe("my-b2-backups");
    expect(only("b2:index/bucket:Bucket").inputs.fileLockConfigurations).toBeUndefined();
    expect(resourcesOfType("b2:index/applicationKey:ApplicationKey")).toHaveLength(0);
  });
});

// ---------------------------------------------------------------- deployBackupTargets

describe("deployBackupTargets", () => {
  const cfg = parseStackConfig({
    resticPassword: "pw",
    targets: {
      "offsite-s3": { type: "s3", region: "eu-central-1", prefix: "shared", managed: { lifecycle: { transitionDays: 30, noncurrentDays: 30 }, objectLock: { mode: "governance", days: 7 } } },
      "offsite-b2": { type: "b2", managed: { lifecycle: { daysFromHidingToDeleting: 30 } } },
      "own-s3": { type: "s3", bucket: "mine", region: "eu-west-1", accessKeyId: "AKIA", secretAccessKey: "sk" },
      disk: { type: "local", path: "/mnt/backup" },
    },
    hosts: [
      {
        name: "web1",
        data: { dir: "/srv/openwebui" },
        jobs: [
          { name: "db", method: "restic", targets: ["offsite-s3", "own-s3"], retention: { daily: 7 } },
          { name: "files", method: "snapshot", targets: ["offsite-b2", "disk"], retention: { keep: 3 } },
        ],
      },
      { name: "web2", data: { dir: "/srv/openwebui" }, jobs: [{ name: "logs", method: "snapshot", targets: ["offsite-s3"], retention: { keep: 3 } }] },
    ],
  });

  it("plans each host's locations on a target", () => {
    expect(hostLocationsOnTarget(cfg, "offsite-s3")).toEqual({
      web1: [{ location: "shared/db", method: "restic", retention: { daily: 7 } }],
      web2: [{ location: "shared/logs", method: "snapshot", retention: { keep: 3 } }],
    });
    expect(hostLocationsOnTarget(cfg, "disk")).toEqual({});
  });

  it("creates buckets only for managed targets and resolves every target a host uses, as a secret", async () => {
    registered.length = 0;
    const targets = deployBackupTargets(cfg);
    expect(Object.keys(targets.buckets).sort()).toEqual(["offsite-b2", "offsite-s3"]);
    expect(targets.buckets["offsite-s3"]).toBeInstanceOf(S3BackupBucket);
    const web1 = targets.resolvedTargetsFor("web1");
    expect(await isSecret(web1)).toBe(true);
    expect(await promiseOf(web1)).toEqual({
      "offsite-s3": {
        type: "s3",
        bucket: "offsite-s3-bucket-1234567",
        prefix: "shared",
        region: "eu-central-1",
        accessKeyId: "offsite-s3-web1-id",
        secretAccessKey: "offsite-s3-web1-secret",
      },
      "own-s3": { type: "s3", bucket: "mine", prefix: undefined, region: "eu-west-1", endpoint: undefined, accessKeyId: "AKIA", secretAccessKey: "sk" },
      "offsite-b2": { type: "b2", bucket: "offsite-b2-0a1b2c3d", prefix: undefined, keyId: "offsite-b2-web1-kid", applicationKey: "offsite-b2-web1-key" },
      disk: { type: "local", path: "/mnt/backup" },
    });
    expect(Object.keys(await promiseOf(targets.resolvedTargetsFor("web2")))).toEqual(["offsite-s3"]);
    // web2 only writes a snapshot with keep under shared/logs: its policy says so.
    const web2Policy = JSON.parse(resourcesOfType("aws:iam/userPolicy:UserPolicy").find((r) => r.name === "offsite-s3-web2")!.inputs.policy);
    expect(web2Policy.Statement.find((s: any) => s.Sid === "ReadWriteOwnObjects").Resource).toEqual(["arn:aws:s3:::offsite-s3-bucket-1234567/shared/logs/*"]);
  });

  it("refuses a host the config does not have", () => {
    expect(() => deployBackupTargets(cfg).resolvedTargetsFor("nope")).toThrow(/no host "nope"/);
  });
});
