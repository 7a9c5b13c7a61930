/**
 * Host-level snapshots on AWS (`hosts[].snapshots.aws`): an EBS snapshot policy run by Data
 * Lifecycle Manager, with its execution role. The policy finds what to snapshot by tag: the
 * tags the stack puts on an instance it creates or on an existing instance id, or tags the
 * user already has on the instance or its volumes.
 *
 * Hosts that are not on AWS get no policy: use the provider's own snapshot feature there.
 *
 * Planning (target tags, the policy's details) is in the pure functions below.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AwsSnapshotsConfig } from "../config/host-aws";

// ---------------------------------------------------------------- planning (pure)

/** The tag the stack puts on what it wants snapshotted. */
export const SNAPSHOT_TAG_KEY = "openwebui-snapshots";
/** Added to every snapshot, so a snapshot says which schedule made it. */
export const SCHEDULE_TAG_KEY = "openwebui-schedule";
/** AWS's managed policy for DLM's EBS snapshot policies. */
export const DLM_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";

/** The tags a stack-tagged host carries, unique per stack and host. */
export function snapshotTargetTags(stack: string, hostName: string): Record<string, string> {
  return { [SNAPSHOT_TAG_KEY]: `${stack}/${hostName}` };
}

/** DLM descriptions accept only letters, digits, spaces, '_' and '-'. */
export function policyDescription(stack: string, hostName: string): string {
  return `openwebui ${stack} host ${hostName} snapshots`.replace(/[^0-9A-Za-z _-]/g, "-").slice(0, 500);
}

/** Trust policy letting DLM assume its execution role. */
export function dlmTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

/**
 * The policy's details: one DLM schedule per configured schedule (interval from `at`, or
 * cron; all UTC), retained by count or age, tags copied from the source, copies to other
 * regions with their own retention and encryption, fast restore on the first schedule.
 */
export function planPolicyDetails(
  snapshots: Pick<AwsSnapshotsConfig, "target" | "schedules" | "copyTo" | "fastRestore">,
  targetTags: Readonly<Record<string, string>>,
): aws.types.input.dlm.LifecyclePolicyPolicyDetails {
  if (Object.keys(targetTags).length === 0) throw new Error("a snapshot policy needs at least one target tag");
  const copies = snapshots.copyTo.map((c) => ({
    target: c.region,
    encrypted: c.encrypted,
    ...(c.kmsKeyArn ? { cmkArn: c.kmsKeyArn } : {}),
    copyTags: true,
    retainRule: { interval: c.keepDays, intervalUnit: "DAYS" },
  }));
  return {
    policyType: "EBS_SNAPSHOT_MANAGEMENT",
    resourceTypes: [snapshots.target === "instance" ? "INSTANCE" : "VOLUME"],
    targetTags: { ...targetTags },
    schedules: snapshots.schedules.map((s, i) => {
      let createRule: aws.types.input.dlm.LifecyclePolicyPolicyDetailsScheduleCreateRule;
      if (s.cron !== undefined) createRule = { cronExpression: s.cron };
      else if (s.every !== undefined && s.at !== undefined) createRule = { interval: s.every, intervalUnit: "HOURS", times: s.at };
      else throw new Error(`schedule "${s.name}" needs every with at, or cron`);
      let retainRule: aws.types.input.dlm.LifecyclePolicyPolicyDetailsScheduleRetainRule;
      if (s.keep !== undefined) retainRule = { count: s.keep };
      else if (s.keepDays !== undefined) retainRule = { interval: s.keepDays, intervalUnit: "DAYS" };
      else throw new Error(`schedule "${s.name}" needs keep or keepDays`);
      return {
        name: s.name,
        copyTags: true,
        tagsToAdd: { [SCHEDULE_TAG_KEY]: s.name },
        createRule,
        retainRule,
        ...(copies.length > 0 ? { crossRegionCopyRules: copies } : {}),
        ...(i === 0 && snapshots.fastRestore
          ? { fastRestoreRule: { availabilityZones: [...snapshots.fastRestore.availabilityZones], count: snapshots.fastRestore.count } }
          : {}),
      };
    }),
  };
}

// ---------------------------------------------------------------- the component

export interface HostSnapshotPolicyArgs {
  /** The host's name in config. */
  readonly hostName: string;
  /** Pulumi stack name, for the description. */
  readonly stack: string;
  /** The host's validated `snapshots.aws` block. */
  readonly snapshots: AwsSnapshotsConfig;
  /** The tags the policy selects by (see `snapshotTargetTags`). */
  readonly targetTags: Readonly<Record<string, string>>;
  /** An existing instance to put `targetTags` on, so the policy finds it. */
  readonly tagInstanceId?: pulumi.Input<string>;
  /** Region of the policy (the instance's); absent: the AWS provider's region. */
  readonly region?: string;
  /** Tags on the policy and its role. */
  readonly tags?: Readonly<Record<string, string>>;
}

export class HostSnapshotPolicy extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly policy: aws.dlm.LifecyclePolicy;
  readonly policyArn: pulumi.Output<string>;
  readonly targetTags: Readonly<Record<string, string>>;

  constructor(name: string, args: HostSnapshotPolicyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:aws:HostSnapshotPolicy", name, {}, opts);
    const on = { parent: this };
    const at = args.region ? { region: args.region } : {};
    const tags = { ...(args.tags ?? {}), "openwebui-host": args.hostName };
    const policyDetails = planPolicyDetails(args.snapshots, args.targetTags);
    this.targetTags = args.targetTags;

    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: dlmTrustPolicy(), description: `DLM snapshots of openwebui host ${args.hostName}`, tags }, on);
    const attachment = new aws.iam.RolePolicyAttachment(`${name}-role-policy`, { role: this.role.name, policyArn: DLM_MANAGED_POLICY_ARN }, on);

    const tagged: pulumi.Resource[] = [];
    if (args.tagInstanceId !== undefined) {
      for (const [key, value] of Object.entries(args.targetTags)) {
        tagged.push(new aws.ec2.Tag(`${name}-tag-${key}`, { resourceId: args.tagInstanceId, key, value, ...at }, on));
      }
    }

    this.policy = new aws.dlm.LifecyclePolicy(
      `${name}-policy`,
      { description: policyDescription(args.stack, args.hostName), executionRoleArn: this.role.arn, state: "ENABLED", policyDetails, tags, ...at },
      { ...on, dependsOn: [attachment, ...tagged] },
    );
    this.policyArn = this.policy.arn;

    this.registerOutputs({ policyArn: this.policyArn, roleArn: this.role.arn, targetTags: this.targetTags });
  }
}
