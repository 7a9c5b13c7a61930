/**
 * Host snapshots on AWS: the `hosts[].snapshots.aws` validation table (exact paths and
 * messages), the pure planning of the DLM policy, and the `HostSnapshotPolicy` resources
 * under mocks (schedules, retain rules, target tags, cross-region rules, role).
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigProblem, parseStackConfig } from "../config";
import { configProblemsUnder } from "./support/config-problems";
import { AwsSnapshotsConfig, awsCronProblem, jobHours, snapshotHours } from "../config/host-aws";
import { DLM_MANAGED_POLICY_ARN, planPolicyDetails, policyDescription, snapshotTargetTags } from "../components/host-snapshots";
import { deployHostProtection } from "../program/deploy";
import { installMocks, promiseOf, resourcesOfType } from "./support/pulumi-mocks";

const SP = "hosts[0].snapshots.aws";

function stackWith(snapshots: unknown, host: Record<string, unknown> = {}) {
  return {
    targets: { usb: { type: "local", path: "/mnt/backup" } },
    hosts: [
      {
        name: "web1",
        data: { dir: "/srv/openwebui" },
        jobs: [{ name: "nightly", method: "snapshot", targets: ["usb"], schedule: "*-*-* 03:00:00", retention: { keep: 7 } }],
        ...(snapshots === undefined ? {} : { snapshots: { aws: snapshots } }),
        ...host,
      },
    ],
  };
}

/** Problems under this keys (other rules of the model are tested elsewhere). */
const problemsOf = (raw: unknown) => configProblemsUnder(raw, ["hosts[0].snapshots", "hosts[0].provision"]);

const daily = { name: "daily", every: "24h", at: "04:00", keep: 7 };
const weekly = { name: "weekly", cron: "cron(0 5 ? * SUN *)", keep: 4 };
const byId = { instanceId: "i-0123456789abcdef0" };
const CRON_RULE = 'must be an AWS cron expression "cron(Minutes Hours Day-of-month Month Day-of-week Year)" such as "cron(0 3 ? * SUN *)"';
const overlap = (hours: string, field: string) =>
  `snapshots start in hour ${hours} (UTC), the same hour as hosts[0].jobs[0] "nightly" (schedule "*-*-* 03:00:00"); move one of them to another hour, or set ${SP}.allowOverlapWithBackups: true`;

describe("hosts[].snapshots.aws validation", () => {
  it("accepts the issue's example (away from the 03:00 backup)", () => {
    const raw = stackWith({ ...byId, schedules: [daily, weekly], copyTo: [{ region: "eu-west-1", keepDays: 30 }] });
    expect(problemsOf(raw)).toEqual([]);
    const snap = parseStackConfig(raw).hosts[0].snapshots!.aws!;
    expect(snap.target).toBe("instance");
    expect(snap.schedules[0].every).toBe(24);
    expect(snap.copyTo[0].encrypted).toBe(true);
    expect(snap.allowOverlapWithBackups).toBe(false);
  });

  it.each<[string, unknown, ConfigProblem[]]>([
    [
      "every not in DLM's set",
      { ...byId, schedules: [{ ...daily, every: "5h" }] },
      [{ path: `${SP}.schedules[0].every`, message: 'must be one of "1h", "2h", "3h", "4h", "6h", "8h", "12h", "24h" (the intervals DLM accepts)' }],
    ],
    ["every as a number", { ...byId, schedules: [{ ...daily, every: 12 }] }, []],
    ["at not HH:MM", { ...byId, schedules: [{ ...daily, at: "4:00" }] }, [{ path: `${SP}.schedules[0].at`, message: 'must be a UTC time "HH:MM" such as "03:00"' }]],
    ["at out of range", { ...byId, schedules: [{ ...daily, at: "24:00" }] }, [{ path: `${SP}.schedules[0].at`, message: 'must be a UTC time "HH:MM" such as "03:00"' }]],
    ["cron without cron(…)", { ...byId, schedules: [{ ...weekly, cron: "0 5 * * 0" }] }, [{ path: `${SP}.schedules[0].cron`, message: CRON_RULE }]],
    [
      "cron with 5 fields",
      { ...byId, schedules: [{ ...weekly, cron: "cron(0 5 ? * SUN)" }] },
      [{ path: `${SP}.schedules[0].cron`, message: `${CRON_RULE}; got 5 fields, AWS needs 6` }],
    ],
    [
      "cron without '?'",
      { ...byId, schedules: [{ ...weekly, cron: "cron(0 5 * * SUN *)" }] },
      [{ path: `${SP}.schedules[0].cron`, message: `${CRON_RULE}; exactly one of day-of-month and day-of-week must be "?"` }],
    ],
    [
      "cron more often than hourly",
      { ...byId, schedules: [{ ...weekly, cron: "cron(*/5 5 ? * SUN *)" }] },
      [{ path: `${SP}.schedules[0].cron`, message: `${CRON_RULE}; the minutes field must be one number 0-59 (DLM takes at most one snapshot an hour)` }],
    ],
    [
      "cron with shell characters",
      { ...byId, schedules: [{ ...weekly, cron: "cron(0 5 ? * $(id) *)" }] },
      [{ path: `${SP}.schedules[0].cron`, message: `${CRON_RULE}; field 5 ("$(id)") has characters AWS does not accept there` }],
    ],
    ["keep 0", { ...byId, schedules: [{ ...daily, keep: 0 }] }, [{ path: `${SP}.schedules[0].keep`, message: "must be a snapshot count, a whole number ≥ 1" }]],
    ["keep over DLM's limit", { ...byId, schedules: [{ ...daily, keep: 1001 }] }, [{ path: `${SP}.schedules[0].keep`, message: "must be at most 1000 (DLM's limit)" }]],
    [
      "keepDays negative",
      { ...byId, schedules: [{ name: "daily", every: "24h", at: "04:00", keepDays: -1 }] },
      [{ path: `${SP}.schedules[0].keepDays`, message: "must be a number of days, a whole number ≥ 1" }],
    ],
    [
      "keep and keepDays",
      { ...byId, schedules: [{ ...daily, keepDays: 7 }] },
      [{ path: `${SP}.schedules[0]`, message: "needs exactly one of keep (number of snapshots) or keepDays (age in days)" }],
    ],
    [
      "neither keep nor keepDays",
      { ...byId, schedules: [{ name: "daily", every: "24h", at: "04:00" }] },
      [{ path: `${SP}.schedules[0]`, message: "needs exactly one of keep (number of snapshots) or keepDays (age in days)" }],
    ],
    [
      "every without at",
      { ...byId, schedules: [{ name: "daily", every: "24h", keep: 7 }] },
      [{ path: `${SP}.schedules[0].at`, message: 'required with every: the UTC time "HH:MM" of the first snapshot of the day' }],
    ],
    [
      "every and cron",
      { ...byId, schedules: [{ ...daily, cron: "cron(0 5 ? * SUN *)" }] },
      [
        { path: `${SP}.schedules[0]`, message: 'needs exactly one of every (with at) or cron, e.g. { every: "24h", at: "03:00" } or { cron: "cron(0 3 ? * SUN *)" }' },
        { path: `${SP}.schedules[0].at`, message: "not used with cron: put the time in the cron expression" },
      ],
    ],
    [
      "neither every nor cron",
      { ...byId, schedules: [{ name: "daily", keep: 7 }] },
      [{ path: `${SP}.schedules[0]`, message: 'needs exactly one of every (with at) or cron, e.g. { every: "24h", at: "03:00" } or { cron: "cron(0 3 ? * SUN *)" }' }],
    ],
    [
      "an unknown key in a schedule",
      { ...byId, schedules: [{ ...daily, retain: 7 }] },
      [{ path: `${SP}.schedules[0]`, message: 'unknown key "retain"; accepted: name, every, at, cron, keep, keepDays' }],
    ],
    ["no schedules", { ...byId, schedules: [] }, [{ path: `${SP}.schedules`, message: "needs at least one schedule" }]],
    [
      "five schedules",
      { ...byId, schedules: ["a", "b", "c", "d", "e"].map((name, i) => ({ name, every: "24h", at: `1${i}:00`, keep: 1 })) },
      [{ path: `${SP}.schedules`, message: "DLM allows at most 4 schedules per policy" }],
    ],
    ["duplicate schedule names", { ...byId, schedules: [daily, { ...weekly, name: "daily" }] }, [{ path: `${SP}.schedules[1].name`, message: 'duplicate schedule name "daily"' }]],
    ["instance id malformed", { instanceId: "i-123", schedules: [daily] }, [{ path: `${SP}.instanceId`, message: 'must be an instance id such as "i-0123456789abcdef0"' }]],
    [
      "neither instanceId nor tags",
      { schedules: [daily] },
      [{ path: SP, message: "needs instanceId or tags (what to snapshot), or hosts[0].provision.aws so the stack creates and tags the instance" }],
    ],
    ["instanceId and tags", { ...byId, tags: { Backup: "openwebui" }, schedules: [daily] }, [{ path: `${SP}.tags`, message: "give either instanceId or tags, not both" }]],
    ["tags, volume target", { tags: { Backup: "openwebui" }, target: "volume", schedules: [daily] }, []],
    [
      "instanceId with the volume target",
      { ...byId, target: "volume", schedules: [daily] },
      [{ path: `${SP}.target`, message: 'target "volume" selects volumes by their tags; with instanceId use target "instance", or give tags that are on the volumes' }],
    ],
    ["an unknown target", { ...byId, target: "ami", schedules: [daily] }, [{ path: `${SP}.target`, message: 'expected "instance" or "volume"' }]],
    ["empty tags", { tags: {}, schedules: [daily] }, [{ path: `${SP}.tags`, message: "needs at least one tag" }]],
    [
      "a reserved tag key",
      { tags: { "aws:backup": "yes" }, schedules: [daily] },
      [{ path: `${SP}.tags.aws:backup`, message: 'is not a valid tag key; tag keys: 1-128 characters, not starting with "aws:"' }],
    ],
    ["copy region malformed", { ...byId, schedules: [daily], copyTo: [{ region: "Ireland", keepDays: 30 }] }, [{ path: `${SP}.copyTo[0].region`, message: 'must be an AWS region such as "eu-central-1"' }]],
    ["copy retention 0", { ...byId, schedules: [daily], copyTo: [{ region: "eu-west-1", keepDays: 0 }] }, [{ path: `${SP}.copyTo[0].keepDays`, message: "must be a number of days, a whole number ≥ 1" }]],
    [
      "copy without retention",
      { ...byId, schedules: [daily], copyTo: [{ region: "eu-west-1" }] },
      [{ path: `${SP}.copyTo[0].keepDays`, message: "expected a number of days, a whole number ≥ 1" }],
    ],
    [
      "the same copy region twice",
      { ...byId, schedules: [daily], copyTo: [{ region: "eu-west-1", keepDays: 30 }, { region: "eu-west-1", keepDays: 7 }] },
      [{ path: `${SP}.copyTo[1].region`, message: "copies to eu-west-1 twice" }],
    ],
    [
      "four copy regions",
      { ...byId, schedules: [daily], copyTo: ["eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1"].map((region) => ({ region, keepDays: 7 })) },
      [{ path: `${SP}.copyTo`, message: "DLM copies to at most 3 regions" }],
    ],
    [
      "a KMS key in another region",
      { ...byId, schedules: [daily], copyTo: [{ region: "eu-west-1", keepDays: 30, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abcd-1234" }] },
      [{ path: `${SP}.copyTo[0].kmsKeyArn`, message: "is a key in us-east-1; copies to eu-west-1 need a key in eu-west-1" }],
    ],
    [
      "a KMS key without encryption",
      { ...byId, schedules: [daily], copyTo: [{ region: "eu-west-1", keepDays: 30, encrypted: false, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234" }] },
      [{ path: `${SP}.copyTo[0].kmsKeyArn`, message: "needs encrypted: true (a KMS key encrypts the copies)" }],
    ],
    [
      "fast restore for more snapshots than kept",
      { ...byId, schedules: [daily], fastRestore: { availabilityZones: ["eu-central-1a"], count: 8 } },
      [{ path: `${SP}.fastRestore.count`, message: `is more than the 7 snapshots ${SP}.schedules[0] keeps; at most 7` }],
    ],
    [
      "fast restore zone malformed",
      { ...byId, schedules: [daily], fastRestore: { availabilityZones: ["eu-central-1"], count: 1 } },
      [{ path: `${SP}.fastRestore.availabilityZones[0]`, message: 'must be an availability zone such as "eu-central-1a"' }],
    ],
    // Collisions with the 03:00 file backup.
    ["daily at 03:00", { ...byId, schedules: [{ ...daily, at: "03:00" }] }, [{ path: `${SP}.schedules[0].at`, message: overlap("03", "at") }]],
    ["daily at 03:59", { ...byId, schedules: [{ ...daily, at: "03:59" }] }, [{ path: `${SP}.schedules[0].at`, message: overlap("03", "at") }]],
    ["every 6h from 21:00 (21, 03, 09, 15)", { ...byId, schedules: [{ ...daily, every: "6h", at: "21:00" }] }, [{ path: `${SP}.schedules[0].at`, message: overlap("03", "at") }]],
    ["every 6h from 22:00 (22, 04, 10, 16)", { ...byId, schedules: [{ ...daily, every: "6h", at: "22:00" }] }, []],
    ["cron hours 1-4", { ...byId, schedules: [{ ...weekly, cron: "cron(30 1-4 ? * SUN *)" }] }, [{ path: `${SP}.schedules[0].cron`, message: overlap("03", "cron") }]],
    ["cron every hour", { ...byId, schedules: [{ ...weekly, cron: "cron(0 * ? * SUN *)" }] }, [{ path: `${SP}.schedules[0].cron`, message: overlap("03", "cron") }]],
    ["overlap allowed", { ...byId, allowOverlapWithBackups: true, schedules: [{ ...daily, at: "03:00" }] }, []],
  ])("%s", (_label, snapshots, expected) => {
    expect(problemsOf(stackWith(snapshots))).toEqual(expected);
  });

  it("snapshots without aws (hosts elsewhere use their provider's snapshots)", () => {
    expect(problemsOf({ ...stackWith(undefined), hosts: [{ ...stackWith(undefined).hosts[0], snapshots: { hetzner: {} } }] })).toEqual([
      { path: "hosts[0].snapshots", message: 'unknown key "hetzner"; accepted: aws' },
      { path: SP, message: "required: snapshots.aws is the only kind of host snapshots (elsewhere use your provider's snapshot feature)" },
    ]);
  });

  it("compares against every job, in cron form too", () => {
    const raw = stackWith(
      { ...byId, schedules: [{ ...daily, every: "12h", at: "05:00" }] },
      {
        jobs: [
          { name: "nightly", method: "snapshot", targets: ["usb"], schedule: "*-*-* 03:00:00", retention: { keep: 7 } },
          { name: "noon", method: "snapshot", targets: ["usb"], schedule: "15 17 * * *", retention: { keep: 7 } },
        ],
      },
    );
    expect(problemsOf(raw)).toEqual([
      {
        path: `${SP}.schedules[0].at`,
        message: `snapshots start in hour 17 (UTC), the same hour as hosts[0].jobs[1] "noon" (schedule "15 17 * * *"); move one of them to another hour, or set ${SP}.allowOverlapWithBackups: true`,
      },
    ]);
  });
});

describe("hours of day", () => {
  it.each<[Parameters<typeof snapshotHours>[0], number[] | undefined]>([
    [{ every: 24, at: "03:00" }, [3]],
    [{ every: 8, at: "01:30" }, [1, 9, 17]],
    [{ every: 1, at: "00:00" }, Array.from({ length: 24 }, (_, h) => h)],
    [{ cron: "cron(0 3 ? * SUN *)" }, [3]],
    [{ cron: "cron(0 0/6 * * ? *)" }, [0, 6, 12, 18]],
    [{ cron: "cron(0 1,13 ? * MON-FRI *)" }, [1, 13]],
    [{ cron: "cron(0 3 ? *)" }, undefined],
    [{ every: 24 }, undefined],
  ])("snapshotHours(%j)", (schedule, hours) => {
    expect(snapshotHours(schedule)).toEqual(hours);
  });

  it.each<[string, number[] | undefined]>([
    ["*-*-* 03:00:00", [3]],
    ["daily", [0]],
    ["Mon *-*-* 04:30:00", [4]],
    ["30 4 * * 1", [4]],
    ["0 */6 * * *", [0, 6, 12, 18]],
    ["not a schedule", undefined],
  ])("jobHours(%s)", (schedule, hours) => {
    expect(jobHours(schedule)).toEqual(hours);
  });

  it.each([["cron(0 3 ? * SUN *)"], ["cron(15 10 ? * 6L 2030-2040)"], ["cron(0 8 1 * ? *)"]])("accepts %s", (cron) => {
    expect(awsCronProblem(cron)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- planning

describe("planPolicyDetails", () => {
  const tags = { "openwebui-snapshots": "dev/web1" };
  const base: Pick<AwsSnapshotsConfig, "target" | "schedules" | "copyTo" | "fastRestore"> = { target: "instance", schedules: [], copyTo: [] };

  it.each<[string, Partial<typeof base>, unknown]>([
    [
      "interval, kept by count",
      { schedules: [{ name: "daily", every: 24, at: "03:00", keep: 7 }] },
      [{ name: "daily", copyTags: true, tagsToAdd: { "openwebui-schedule": "daily" }, createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" }, retainRule: { count: 7 } }],
    ],
    [
      "cron, kept by age",
      { schedules: [{ name: "weekly", cron: "cron(0 3 ? * SUN *)", keepDays: 28 }] },
      [{ name: "weekly", copyTags: true, tagsToAdd: { "openwebui-schedule": "weekly" }, createRule: { cronExpression: "cron(0 3 ? * SUN *)" }, retainRule: { interval: 28, intervalUnit: "DAYS" } }],
    ],
    [
      "copies on every schedule, fast restore on the first",
      {
        schedules: [
          { name: "daily", every: 24, at: "03:00", keep: 7 },
          { name: "weekly", cron: "cron(0 4 ? * SUN *)", keep: 4 },
        ],
        copyTo: [
          { region: "eu-west-1", keepDays: 30, encrypted: true },
          { region: "us-east-1", keepDays: 7, encrypted: true, kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k" },
        ],
        fastRestore: { availabilityZones: ["eu-central-1a"], count: 2 },
      },
      [
        {
          name: "daily",
          copyTags: true,
          tagsToAdd: { "openwebui-schedule": "daily" },
          createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
          retainRule: { count: 7 },
          crossRegionCopyRules: [
            { target: "eu-west-1", encrypted: true, copyTags: true, retainRule: { interval: 30, intervalUnit: "DAYS" } },
            { target: "us-east-1", encrypted: true, cmkArn: "arn:aws:kms:us-east-1:123456789012:key/k", copyTags: true, retainRule: { interval: 7, intervalUnit: "DAYS" } },
          ],
          fastRestoreRule: { availabilityZones: ["eu-central-1a"], count: 2 },
        },
        {
          name: "weekly",
          copyTags: true,
          tagsToAdd: { "openwebui-schedule": "weekly" },
          createRule: { cronExpression: "cron(0 4 ? * SUN *)" },
          retainRule: { count: 4 },
          crossRegionCopyRules: [
            { target: "eu-west-1", encrypted: true, copyTags: true, retainRule: { interval: 30, intervalUnit: "DAYS" } },
            { target: "us-east-1", encrypted: true, cmkArn: "arn:aws:kms:us-east-1:123456789012:key/k", copyTags: true, retainRule: { interval: 7, intervalUnit: "DAYS" } },
          ],
        },
      ],
    ],
  ])("%s", (_label, override, schedules) => {
    const details = planPolicyDetails({ ...base, ...override }, tags);
    expect(details).toEqual({ policyType: "EBS_SNAPSHOT_MANAGEMENT", resourceTypes: ["INSTANCE"], targetTags: tags, schedules });
  });

  it.each([
    ["instance", ["INSTANCE"]],
    ["volume", ["VOLUME"]],
  ] as const)("target %s", (target, resourceTypes) => {
    expect(planPolicyDetails({ ...base, target, schedules: [{ name: "d", every: 24, at: "03:00", keep: 1 }] }, tags).resourceTypes).toEqual(resourceTypes);
  });

  it("refuses a policy without target tags (it would match nothing, or everything)", () => {
    expect(() => planPolicyDetails({ ...base, schedules: [{ name: "d", every: 24, at: "03:00", keep: 1 }] }, {})).toThrow("at least one target tag");
  });

  it.each([
    ["dev", "web1", "openwebui dev host web1 snapshots"],
    ["org/prod.eu", "web1", "openwebui org-prod-eu host web1 snapshots"],
  ])("policyDescription(%s, %s)", (stack, host, expected) => {
    expect(policyDescription(stack, host)).toBe(expected);
    expect(expected).toMatch(/^[0-9A-Za-z _-]+$/);
  });
});

// ---------------------------------------------------------------- resources

describe("HostSnapshotPolicy under mocks", () => {
  beforeEach(() =>
    installMocks({
      "aws:iam/role:Role": (_inputs, name) => ({ arn: `arn:aws:iam::123456789012:role/${name}`, name }),
      "aws:dlm/lifecyclePolicy:LifecyclePolicy": (_inputs, name) => ({ arn: `arn:aws:dlm:eu-central-1:123456789012:policy/${name}` }),
    }),
  );

  async function settle(): Promise<void> {
    // Let the mocked engine register everything the program created.
    await new Promise((r) => setTimeout(r, 50));
  }

  it("an existing instance by id: tags it, and the policy targets that tag with one schedule per entry", async () => {
    const cfg = parseStackConfig(
      stackWith({ ...byId, schedules: [daily, weekly], copyTo: [{ region: "eu-west-1", keepDays: 30, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/k" }] }),
    );
    const protection = deployHostProtection(cfg, { stack: "dev" });
    expect(Object.keys(protection.hosts)).toEqual([]);
    const policy = protection.snapshots.web1;
    expect(await promiseOf(policy.policyArn)).toBe("arn:aws:dlm:eu-central-1:123456789012:policy/snapshots-web1-policy");
    await settle();

    const tagsOnInstance = resourcesOfType("aws:ec2/tag:Tag");
    expect(tagsOnInstance.map((t) => t.inputs)).toEqual([{ resourceId: "i-0123456789abcdef0", key: "openwebui-snapshots", value: "dev/web1" }]);

    const [dlm] = resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(dlm.inputs.state).toBe("ENABLED");
    expect(dlm.inputs.executionRoleArn).toBe("arn:aws:iam::123456789012:role/snapshots-web1-role");
    const details = dlm.inputs.policyDetails;
    expect(details.resourceTypes).toEqual(["INSTANCE"]);
    expect(details.targetTags).toEqual({ "openwebui-snapshots": "dev/web1" });
    expect(details.schedules.map((s: any) => [s.name, s.createRule, s.retainRule, s.copyTags])).toEqual([
      ["daily", { interval: 24, intervalUnit: "HOURS", times: "04:00" }, { count: 7 }, true],
      ["weekly", { cronExpression: "cron(0 5 ? * SUN *)" }, { count: 4 }, true],
    ]);
    for (const s of details.schedules) {
      expect(s.crossRegionCopyRules).toEqual([
        { target: "eu-west-1", encrypted: true, cmkArn: "arn:aws:kms:eu-west-1:123456789012:key/k", copyTags: true, retainRule: { interval: 30, intervalUnit: "DAYS" } },
      ]);
    }
  });

  it("the execution role is trusted by DLM and carries AWS's managed DLM policy", async () => {
    const cfg = parseStackConfig(stackWith({ ...byId, schedules: [daily] }));
    const policy = deployHostProtection(cfg, { stack: "dev" }).snapshots.web1;
    await promiseOf(policy.policyArn);
    await settle();
    const [role] = resourcesOfType("aws:iam/role:Role");
    expect(JSON.parse(role.inputs.assumeRolePolicy)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const [attachment] = resourcesOfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
    expect(attachment.inputs).toEqual({ role: "snapshots-web1-role", policyArn: DLM_MANAGED_POLICY_ARN });
    expect(DLM_MANAGED_POLICY_ARN).toBe("arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole");
  });

  it("user tags on volumes: no tag resources, the policy targets volumes by the user's tags", async () => {
    const cfg = parseStackConfig(stackWith({ tags: { Backup: "openwebui" }, target: "volume", schedules: [{ name: "daily", every: "24h", at: "04:00", keepDays: 14 }] }));
    const policy = deployHostProtection(cfg, { stack: "dev" }).snapshots.web1;
    await promiseOf(policy.policyArn);
    await settle();
    expect(resourcesOfType("aws:ec2/tag:Tag")).toEqual([]);
    const [dlm] = resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(dlm.inputs.policyDetails.resourceTypes).toEqual(["VOLUME"]);
    expect(dlm.inputs.policyDetails.targetTags).toEqual({ Backup: "openwebui" });
    expect(dlm.inputs.policyDetails.schedules[0].retainRule).toEqual({ interval: 14, intervalUnit: "DAYS" });
    expect(dlm.inputs.policyDetails.schedules[0].crossRegionCopyRules).toBeUndefined();
  });

  it("fast restore on the first schedule only", async () => {
    const cfg = parseStackConfig(stackWith({ ...byId, schedules: [daily, weekly], fastRestore: { availabilityZones: ["eu-central-1a", "eu-central-1b"], count: 2 } }));
    await promiseOf(deployHostProtection(cfg, { stack: "dev" }).snapshots.web1.policyArn);
    await settle();
    const [dlm] = resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(dlm.inputs.policyDetails.schedules.map((s: any) => s.fastRestoreRule)).toEqual([{ availabilityZones: ["eu-central-1a", "eu-central-1b"], count: 2 }, undefined]);
  });

  it("hosts without snapshots.aws get no policy", async () => {
    const cfg = parseStackConfig(stackWith(undefined));
    const protection = deployHostProtection(cfg, { stack: "dev" });
    expect(protection).toEqual({ hosts: {}, snapshots: {}, addresses: {} });
    await settle();
    expect(resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy")).toEqual([]);
  });

  it("snapshotTargetTags is unique per stack and host", () => {
    expect(snapshotTargetTags("dev", "web1")).toEqual({ "openwebui-snapshots": "dev/web1" });
    expect(snapshotTargetTags("prod", "web1")).not.toEqual(snapshotTargetTags("dev", "web1"));
  });

  it("the component is registered under its type token", async () => {
    const cfg = parseStackConfig(stackWith({ ...byId, schedules: [daily] }));
    const policy = deployHostProtection(cfg, { stack: "dev" }).snapshots.web1;
    const urn = await promiseOf(policy.urn as pulumi.Output<string>);
    expect(urn).toContain("openwebui:aws:HostSnapshotPolicy::snapshots-web1");
  });
});
