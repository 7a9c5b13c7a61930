/**
 * Keys that cannot destroy history, as `pulumi up` would create them (under mocks): for a
 * stack whose hosts run every method on managed S3 and B2 targets,
 *  - no B2 host key holds deleteFiles, or any capability that deletes, bypasses or changes
 *    retention, or touches buckets and keys;
 *  - no S3 host policy allows s3:DeleteObjectVersion, or any action by wildcard, or anything
 *    that changes the bucket (versioning, lifecycle, policy, object lock);
 *  - what the hosts do delete is kept by the buckets: S3 versioning is on, and every location
 *    a host writes has a lifecycle rule that keeps noncurrent versions (S3) or hidden versions
 *    (B2) for the configured days before they go;
 *  - the host command asks for nothing else: no rclone command that removes versions, and
 *    restic only through rclone, started without --b2-hard-delete (run for real in
 *    test/hide-only-deletes.e2e.test.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { deployBackupTargets } from "../program/deploy";
import { BACKUP_COMMAND_BODY } from "../scripts/render/assets";
import { installMocks, promiseOf, registered, resourcesOfType } from "./support/pulumi-mocks";

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

/** Every method that writes to a bucket, with and without pruning, on two hosts. */
const jobs = (targets: string[]) => [
  { name: "db", method: "restic", targets, retention: { daily: 7, weekly: 4 } },
  { name: "files", method: "snapshot", targets, retention: { keep: 3 } },
  { name: "archive", method: "snapshot", targets, retention: { keep: 1000 } },
  { name: "mirror", method: "sync", targets },
];
const cfg = parseStackConfig({
  targets: {
    "offsite-s3": { type: "s3", region: "eu-central-1", managed: { lifecycle: { noncurrentDays: 45 } } },
    "offsite-b2": { type: "b2", managed: { lifecycle: { daysFromHidingToDeleting: 45 } } },
  },
  hosts: ["web1", "web2"].map((name) => ({ name, data: { dir: `/srv/${name}` }, jobs: jobs(["offsite-s3", "offsite-b2"]) })),
});

beforeAll(async () => {
  registered.length = 0;
  const targets = deployBackupTargets(cfg);
  await promiseOf(pulumi.all([targets.resolvedTargetsFor("web1"), targets.resolvedTargetsFor("web2")]));
});

const LOCATIONS = ["web1/db", "web1/files", "web1/archive", "web1/mirror", "web2/db", "web2/files", "web2/archive", "web2/mirror"];

describe("B2 host keys", () => {
  it("one per host, limited to the bucket and the host's prefix, with no capability that deletes or widens", () => {
    const keys = resourcesOfType("b2:index/applicationKey:ApplicationKey");
    expect(keys.map((k) => k.name).sort()).toEqual(["offsite-b2-web1", "offsite-b2-web2"]);
    for (const k of keys) {
      expect(k.inputs.capabilities).toEqual(["listBuckets", "listFiles", "readFiles", "writeFiles"]);
      expect(k.inputs.capabilities.filter((c: string) => /delete|bypass|retention|legalhold|writeBucket|writeKeys|shareFiles/i.test(c))).toEqual([]);
      expect(k.inputs.bucketIds).toEqual(["offsite-b2-bucket-bid"]);
      expect(k.inputs.namePrefix).toBe(`${k.name.replace("offsite-b2-", "")}/`);
    }
  });

  it("the bucket keeps every hidden version of every location for the configured days", () => {
    const [bucket] = resourcesOfType("b2:index/bucket:Bucket");
    const rules = bucket.inputs.lifecycleRules as { fileNamePrefix: string; daysFromHidingToDeleting: number; daysFromUploadingToHiding?: number }[];
    expect(rules.map((r) => r.fileNamePrefix).sort()).toEqual(LOCATIONS.map((l) => `${l}/`).sort());
    for (const r of rules) {
      expect(r.daysFromHidingToDeleting).toBe(45);
      expect(r.daysFromUploadingToHiding).toBeUndefined();
    }
  });
});

describe("S3 host policies", () => {
  const policies = () => resourcesOfType("aws:iam/userPolicy:UserPolicy").map((p) => ({ name: p.name, doc: JSON.parse(p.inputs.policy) }));

  it("one per host; none allows deleting a version, a wildcard action, or changing the bucket", () => {
    expect(policies().map((p) => p.name).sort()).toEqual(["offsite-s3-web1", "offsite-s3-web2"]);
    for (const { doc } of policies()) {
      const actions: string[] = doc.Statement.flatMap((s: any) => s.Action);
      expect(doc.Statement.every((s: any) => s.Effect === "Allow")).toBe(true);
      expect(actions.filter((a) => a.includes("*"))).toEqual([]);
      expect(actions.filter((a) => /Version|Lifecycle|Put(Bucket|Object(Retention|LegalHold))|Bypass|Policy|DeleteBucket/i.test(a))).toEqual([]);
      expect([...new Set(actions)].sort()).toEqual(["s3:DeleteObject", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
    }
  });

  it("the bucket is versioned and every location keeps noncurrent versions for the configured days", () => {
    expect(resourcesOfType("aws:s3/bucketVersioning:BucketVersioning").map((v) => v.inputs.versioningConfiguration)).toEqual([{ status: "Enabled" }]);
    const [lifecycle] = resourcesOfType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
    const rules = lifecycle.inputs.rules as { filter: { prefix: string }; status: string; noncurrentVersionExpiration?: { noncurrentDays: number } }[];
    for (const loc of LOCATIONS) {
      const mine = rules.filter((r) => r.filter.prefix === `${loc}/` && r.noncurrentVersionExpiration);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ status: "Enabled", noncurrentVersionExpiration: { noncurrentDays: 45 } });
    }
  });
});

describe("the host command", () => {
  // Code only: comments may name what is avoided.
  const code = BACKUP_COMMAND_BODY.split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n");

  it("runs no rclone command that removes versions, and never turns hard delete on", () => {
    expect(code).not.toMatch(/rclone\s+(purge|cleanup|backend)\b/);
    expect(code).not.toMatch(/--b2-hard-delete|hard_delete=true|HARD_DELETE=true|--s3-versions|--b2-versions/);
    expect(code).toMatch(/RCLONE_CONFIG_OWB_HARD_DELETE=false/);
  });

  it("reaches buckets with restic only through rclone, started without --b2-hard-delete", () => {
    expect(code).toMatch(/^restic\(\) \{ command restic -o rclone\.args="serve restic --stdio" "\$@"; \}$/m);
    expect(code).toMatch(/s3 \| b2\) printf 'rclone:%s'/);
    expect(code).not.toMatch(/printf '(s3|b2):/);
    // No restic call bypasses the function above: `command restic`, or a wrapper that runs
    // the binary itself (timeout, env, nice, xargs, exec …), would start rclone with restic's
    // default --b2-hard-delete. Such a wrapper must run a function that adds the option too.
    expect(code).not.toMatch(/command restic (?!-o rclone\.args)/);
    expect(code.split("\n").filter((l) => /\b(timeout|env|nice|ionice|xargs|exec|nohup|setsid|stdbuf)(\s+(-\S+|\d\S*|[A-Z_]+=\S*|"\$[^"]*"))*\s+restic\s/.test(l))).toEqual([]);
  });
});
