/**
 * The policy pack's rules on sample resources: for each rule, resources that pass and
 * resources that fail, with the message that names what is missing.
 */
import {
  ALLOW_ALL_INTERFACES_LABEL,
  B2_BUCKET_TYPE,
  DLM_POLICY_TYPE,
  DOCKER_CONTAINER_TYPE,
  S3_COMPANION,
  StackResource,
  b2BucketViolations,
  configures,
  containerPortViolations,
  isProdStack,
  prodSnapshotViolations,
  s3BucketViolations,
  stackOfUrn,
} from "../policy/rules";

const urn = (type: string, name: string, stack = "dev") => `urn:pulumi:${stack}::openwebui::${type}::${name}`;
const res = (type: string, name: string, props: Record<string, any>, stack = "dev"): StackResource => ({ type, name, urn: urn(type, name, stack), props });

// ---------------------------------------------------------------- S3

const BUCKET = res("aws:s3/bucket:Bucket", "offsite-bucket", { bucket: "my-backups", forceDestroy: false });
/** Companions as S3BackupBucket declares them: each names the bucket by its id (= its name). */
const goodS3 = (): Record<keyof typeof S3_COMPANION, StackResource> => ({
  publicAccessBlock: res(S3_COMPANION.publicAccessBlock, "offsite-public-access", {
    bucket: "my-backups",
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  }),
  encryption: res(S3_COMPANION.encryption, "offsite-encryption", { bucket: "my-backups", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
  versioning: res(S3_COMPANION.versioning, "offsite-versioning", { bucket: "my-backups", versioningConfiguration: { status: "Enabled" } }),
  lifecycle: res(S3_COMPANION.lifecycle, "offsite-lifecycle", {
    bucket: "my-backups",
    rules: [{ id: "backup-web1-nightly", status: "Enabled", filter: { prefix: "web1/nightly/" }, noncurrentVersionExpiration: { noncurrentDays: 30 } }],
  }),
});

describe("backup buckets: S3", () => {
  it("a bucket with all four companions configured as S3BackupBucket does passes", () => {
    expect(s3BucketViolations([BUCKET, ...Object.values(goodS3())])).toEqual([]);
  });

  it("SSE-KMS counts as encrypted", () => {
    const c = goodS3();
    const kms = { ...c.encryption, props: { bucket: "my-backups", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-central-1:123456789012:key/abc" } }] } };
    expect(s3BucketViolations([BUCKET, c.publicAccessBlock, kms, c.versioning, c.lifecycle])).toEqual([]);
  });

  it("companions found through the engine's property dependencies (a preview, where the id is unknown)", () => {
    const deps = Object.values(goodS3()).map((r) => ({ ...r, props: { ...r.props, bucket: undefined }, propertyDependencies: { bucket: [{ urn: BUCKET.urn }] } }));
    expect(s3BucketViolations([BUCKET, ...deps])).toEqual([]);
    expect(configures(deps[0], BUCKET)).toBe(true);
    expect(configures(deps[0], { ...BUCKET, urn: urn("aws:s3/bucket:Bucket", "other") })).toBe(false);
  });

  const missing: [string, keyof typeof S3_COMPANION, RegExp][] = [
    ["no public access block: not private", "publicAccessBlock", /BucketPublicAccessBlock .* \(private\)/],
    ["no encryption configuration", "encryption", /BucketServerSideEncryptionConfiguration .* \(encrypted\)/],
    ["no versioning", "versioning", /BucketVersioning with status "Enabled" \(versioned/],
    ["no lifecycle configuration", "lifecycle", /BucketLifecycleConfiguration with at least one enabled rule/],
  ];
  it.each(missing)("%s fails, naming the bucket and what is missing", (_, companion, message) => {
    const c = goodS3();
    delete (c as Partial<typeof c>)[companion];
    const v = s3BucketViolations([BUCKET, ...Object.values(c)]);
    expect(v).toHaveLength(1);
    expect(v[0].urn).toBe(BUCKET.urn);
    expect(v[0].message).toMatch(/^S3 bucket offsite-bucket: /);
    expect(v[0].message).toMatch(message);
  });

  const weak: [string, (c: ReturnType<typeof goodS3>) => void, RegExp][] = [
    ["one public-access setting off", (c) => (c.publicAccessBlock.props.restrictPublicBuckets = false), /BucketPublicAccessBlock/],
    ["versioning suspended", (c) => (c.versioning.props.versioningConfiguration = { status: "Suspended" }), /BucketVersioning/],
    ["lifecycle rules all disabled", (c) => (c.lifecycle.props.rules = [{ id: "x", status: "Disabled" }]), /BucketLifecycleConfiguration/],
    ["encryption without a default algorithm", (c) => (c.encryption.props.rules = [{}]), /BucketServerSideEncryptionConfiguration/],
    ["companions of another bucket", (c) => Object.values(c).forEach((r) => (r.props.bucket = "someone-elses")), /BucketPublicAccessBlock/],
  ];
  it.each(weak)("%s fails", (_, spoil, message) => {
    const c = goodS3();
    spoil(c);
    const v = s3BucketViolations([BUCKET, ...Object.values(c)]);
    expect(v.length).toBeGreaterThanOrEqual(1);
    expect(v.map((x) => x.message).join("\n")).toMatch(message);
  });

  it("a public ACL or forceDestroy on the bucket itself fails", () => {
    const c = Object.values(goodS3());
    expect(s3BucketViolations([{ ...BUCKET, props: { ...BUCKET.props, acl: "public-read" } }, ...c]).map((v) => v.message)).toEqual([
      'S3 bucket offsite-bucket: has the public ACL "public-read"; backup buckets must be private',
    ]);
    expect(s3BucketViolations([{ ...BUCKET, props: { ...BUCKET.props, forceDestroy: true } }, ...c]).map((v) => v.message)).toEqual([
      "S3 bucket offsite-bucket: has forceDestroy: true; a backup bucket must not be deletable with its backups in it",
    ]);
  });

  it("a stack without buckets has nothing to check", () => {
    expect(s3BucketViolations([res(DOCKER_CONTAINER_TYPE, "c", {})])).toEqual([]);
  });
});

// ---------------------------------------------------------------- B2

const b2 = (props: Record<string, any>) =>
  res(B2_BUCKET_TYPE, "offsite-b2-bucket", {
    bucketName: "my-b2-backups",
    bucketType: "allPrivate",
    defaultServerSideEncryption: { mode: "SSE-B2", algorithm: "AES256" },
    lifecycleRules: [{ fileNamePrefix: "web1/nightly/", daysFromHidingToDeleting: 30, daysFromStartingToCancelingUnfinishedLargeFiles: 7 }],
    ...props,
  });

describe("backup buckets: B2", () => {
  it("a bucket as B2BackupBucket declares it passes", () => {
    expect(b2BucketViolations([b2({})])).toEqual([]);
  });

  it.each<[string, Record<string, any>, RegExp]>([
    ["public bucket", { bucketType: "allPublic" }, /has bucketType "allPublic"; backup buckets must be "allPrivate"/],
    ["no encryption", { defaultServerSideEncryption: undefined }, /SSE-B2.*\(encrypted\)/],
    ["encryption mode none", { defaultServerSideEncryption: { mode: "none" } }, /SSE-B2/],
    ["no lifecycle rules", { lifecycleRules: [] }, /needs lifecycle rules/],
    ["hidden versions deleted at once", { lifecycleRules: [{ fileNamePrefix: "web1/", daysFromHidingToDeleting: 0 }] }, /"web1\/" must keep hidden versions at least 1 day/],
    ["a rule without daysFromHidingToDeleting", { lifecycleRules: [{ fileNamePrefix: "" }] }, /must keep hidden versions/],
  ])("%s fails", (_, props, message) => {
    const v = b2BucketViolations([b2(props)]);
    expect(v).toHaveLength(1);
    expect(v[0].message).toMatch(/^B2 bucket offsite-b2-bucket: /);
    expect(v[0].message).toMatch(message);
  });
});

// ---------------------------------------------------------------- prod snapshots

describe("prod stacks snapshot their hosts", () => {
  const dlm = (stack: string, state?: string) => res(DLM_POLICY_TYPE, "web1-snapshots-policy", state ? { state } : {}, stack);
  const other = (stack: string) => res(DOCKER_CONTAINER_TYPE, "web1-openwebui", {}, stack);

  it("reads the stack from URNs and knows prod stacks by their name", () => {
    expect(stackOfUrn(urn("a:b:c", "x", "prod-eu"))).toBe("prod-eu");
    expect(stackOfUrn("nonsense")).toBeUndefined();
    expect(["prod", "prod-eu", "production"].map(isProdStack)).toEqual([true, true, true]);
    expect(["dev", "staging", "myprod"].map(isProdStack)).toEqual([false, false, false]);
  });

  it.each<[string, StackResource[], number]>([
    ["prod with an enabled policy passes", [other("prod"), dlm("prod")], 0],
    ["prod with an explicitly ENABLED policy passes", [dlm("prod", "ENABLED")], 0],
    ["prod without a policy fails", [other("prod")], 1],
    ["prod with only a DISABLED policy fails", [other("prod"), dlm("prod", "DISABLED")], 1],
    ["dev without a policy passes", [other("dev")], 0],
    ["an empty stack has no name to judge", [], 0],
  ])("%s", (_, resources, count) => {
    const v = prodSnapshotViolations(resources);
    expect(v).toHaveLength(count);
    if (count) expect(v[0]).toEqual({ message: 'stack "prod" is a prod stack but has no enabled DLM snapshot policy; add hosts[].snapshots.aws (daily and weekly schedules) to its hosts' });
  });

  it("the stack name can be given explicitly", () => {
    expect(prodSnapshotViolations([], "prod-eu")).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- published ports

describe("containers are not published on every interface by accident", () => {
  const container = (ports: any[], labels: any[] = [{ label: "openwebui.role", value: "openwebui" }]) =>
    res(DOCKER_CONTAINER_TYPE, "web1-openwebui", { name: "open-webui", ports, labels });

  it.each<[string, StackResource, number]>([
    ["127.0.0.1 passes", container([{ internal: 8080, external: 3000, ip: "127.0.0.1", protocol: "tcp" }]), 0],
    ["a LAN address passes", container([{ internal: 8080, external: 3000, ip: "192.168.1.10" }]), 0],
    ["::1 passes", container([{ internal: 8080, external: 3000, ip: "::1" }]), 0],
    ["no ports passes", container([]), 0],
    ["0.0.0.0 fails", container([{ internal: 8080, external: 3000, ip: "0.0.0.0" }]), 1],
    [":: fails", container([{ internal: 8080, external: 3000, ip: "::" }]), 1],
    ["no ip (Docker's default: every interface) fails", container([{ internal: 8080, external: 3000 }]), 1],
    ["two open ports fail twice", container([{ internal: 8080, external: 3000, ip: "0.0.0.0" }, { internal: 11434, external: 11434 }]), 2],
    ["0.0.0.0 with the flag label passes", container([{ internal: 8080, external: 3000, ip: "0.0.0.0" }], [{ label: ALLOW_ALL_INTERFACES_LABEL, value: "true" }]), 0],
    ["0.0.0.0 with the label set to false fails", container([{ internal: 8080, external: 3000, ip: "0.0.0.0" }], [{ label: ALLOW_ALL_INTERFACES_LABEL, value: "false" }]), 1],
  ])("%s", (_, c, count) => {
    expect(containerPortViolations([c])).toHaveLength(count);
  });

  it("the message names the container, the port and how to mean it", () => {
    const [v] = containerPortViolations([container([{ internal: 8080, external: 3000, ip: "0.0.0.0" }])]);
    expect(v.urn).toBe(urn(DOCKER_CONTAINER_TYPE, "web1-openwebui"));
    expect(v.message).toBe(
      "container open-webui publishes port 3000 on every interface (ip 0.0.0.0); bind it to 127.0.0.1 behind a reverse proxy, " +
        `or set hosts[].openwebui.allowAllInterfaces: true to mean it (label ${ALLOW_ALL_INTERFACES_LABEL}=true)`,
    );
  });
});
