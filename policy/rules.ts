/**
 * The rules of the openwebui policy pack, as pure functions over the resources of a stack
 * (`PolicyResource`'s shape, reduced to what the rules read). `policy/index.ts` wires them
 * into a `PolicyPack`; `test/policy.test.ts` runs them on sample resources.
 *
 * Each rule returns the violations it found: a message, and the URN of the resource at fault
 * (absent: the stack as a whole).
 */

import { bindsAllInterfaces } from "../config/addresses";

/** What a rule reads of a resource: `PolicyResource` satisfies it. */
export interface StackResource {
  readonly type: string;
  readonly urn: string;
  readonly name?: string;
  readonly props: Record<string, any>;
  /** Resources each input came from (`bucket` → the bucket resource). */
  readonly propertyDependencies?: Record<string, ReadonlyArray<{ readonly urn: string }>>;
  /** Every resource it depends on (dependsOn and inputs), as the engine records them. */
  readonly dependencies?: ReadonlyArray<{ readonly urn: string }>;
}

export interface Violation {
  readonly message: string;
  readonly urn?: string;
}

// ---------------------------------------------------------------- backup buckets

/** Bucket types the rules apply to. This project creates no other buckets than backup buckets. */
export const S3_BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const B2_BUCKET_TYPE = "b2:index/bucket:Bucket";

/** The companions of an S3 bucket in provider v7: each a separate resource pointing at the bucket. */
export const S3_COMPANION = {
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
} as const;

const PUBLIC_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);
const SSE_ALGORITHMS = new Set(["AES256", "aws:kms", "aws:kms:dsse"]);

/**
 * Whether `companion` configures `bucket`: its `bucket` input came from that bucket (the
 * engine knows this even in a preview, where the id is not known yet), or it names the bucket.
 */
export function configures(companion: StackResource, bucket: StackResource): boolean {
  if (companion.propertyDependencies?.bucket?.some((d) => d.urn === bucket.urn)) return true;
  const target = companion.props.bucket;
  return typeof target === "string" && target !== "" && (target === bucket.props.bucket || target === bucket.props.id);
}

const nameOf = (r: StackResource) => r.name ?? r.urn.split("::").pop() ?? r.urn;

/**
 * Every S3 bucket is private (a public access block with all four settings on, no public
 * ACL), encrypted by default (SSE-S3 or SSE-KMS), versioned (status Enabled), has at least
 * one enabled lifecycle rule, and is never force-destroyed.
 */
export function s3BucketViolations(resources: readonly StackResource[]): Violation[] {
  const violations: Violation[] = [];
  const buckets = resources.filter((r) => (S3_BUCKET_TYPES as readonly string[]).includes(r.type));
  const companions = (bucket: StackResource, type: string) => resources.filter((r) => r.type === type && configures(r, bucket));

  for (const bucket of buckets) {
    const at = (message: string) => violations.push({ message: `S3 bucket ${nameOf(bucket)}: ${message}`, urn: bucket.urn });
    if (bucket.props.acl && PUBLIC_ACLS.has(bucket.props.acl)) at(`has the public ACL "${bucket.props.acl}"; backup buckets must be private`);
    if (bucket.props.forceDestroy === true) at("has forceDestroy: true; a backup bucket must not be deletable with its backups in it");

    const blocks = companions(bucket, S3_COMPANION.publicAccessBlock);
    const allBlocked = blocks.some((b) => ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every((k) => b.props[k] === true));
    if (!allBlocked) at("needs an aws.s3.BucketPublicAccessBlock with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true (private)");

    const sse = companions(bucket, S3_COMPANION.encryption);
    const encrypted = sse.some((e) =>
      (e.props.rules ?? []).some((rule: any) => SSE_ALGORITHMS.has(rule?.applyServerSideEncryptionByDefault?.sseAlgorithm)),
    );
    if (!encrypted) at("needs an aws.s3.BucketServerSideEncryptionConfiguration with a default of AES256 or aws:kms (encrypted)");

    const versioning = companions(bucket, S3_COMPANION.versioning);
    if (!versioning.some((v) => v.props.versioningConfiguration?.status === "Enabled")) {
      at('needs an aws.s3.BucketVersioning with status "Enabled" (versioned: a deleted or overwritten backup stays recoverable)');
    }

    const lifecycle = companions(bucket, S3_COMPANION.lifecycle);
    if (!lifecycle.some((l) => (l.props.rules ?? []).some((rule: any) => rule?.status === "Enabled"))) {
      at("needs an aws.s3.BucketLifecycleConfiguration with at least one enabled rule (old versions and unfinished uploads must expire)");
    }
  }
  return violations;
}

/**
 * Every B2 bucket is `allPrivate`, SSE-B2 encrypted, and has lifecycle rules that keep
 * hidden (deleted or overwritten) versions for at least a day: B2 keeps file versions by
 * itself, so "versioned" means no rule deletes them on the spot.
 */
export function b2BucketViolations(resources: readonly StackResource[]): Violation[] {
  const violations: Violation[] = [];
  for (const bucket of resources.filter((r) => r.type === B2_BUCKET_TYPE)) {
    const at = (message: string) => violations.push({ message: `B2 bucket ${nameOf(bucket)}: ${message}`, urn: bucket.urn });
    const p = bucket.props;
    if (p.bucketType !== "allPrivate") at(`has bucketType ${JSON.stringify(p.bucketType)}; backup buckets must be "allPrivate"`);
    if (p.defaultServerSideEncryption?.mode !== "SSE-B2") at('needs defaultServerSideEncryption { mode: "SSE-B2", algorithm: "AES256" } (encrypted)');
    const rules: any[] = p.lifecycleRules ?? [];
    if (rules.length === 0) at("needs lifecycle rules (hidden versions and unfinished large files must be cleaned up)");
    for (const rule of rules) {
      const days = rule?.daysFromHidingToDeleting;
      if (typeof days !== "number" || days < 1) {
        at(`lifecycle rule for "${rule?.fileNamePrefix ?? ""}" must keep hidden versions at least 1 day (daysFromHidingToDeleting ≥ 1), so deleted backups stay recoverable`);
      }
    }
  }
  return violations;
}

// ---------------------------------------------------------------- prod snapshots

export const DLM_POLICY_TYPE = "aws:dlm/lifecyclePolicy:LifecyclePolicy";

/** The stack name in a URN: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string | undefined {
  const m = /^urn:pulumi:([^:]+)::/.exec(urn);
  return m ? m[1] : undefined;
}

/** Stacks whose name starts with "prod" (prod, prod-eu, production) must snapshot their hosts. */
export function isProdStack(stack: string): boolean {
  return stack.startsWith("prod");
}

/** A prod stack has at least one enabled DLM lifecycle policy (`hosts[].snapshots.aws`). */
export function prodSnapshotViolations(resources: readonly StackResource[], stack = resources.map((r) => stackOfUrn(r.urn)).find(Boolean)): Violation[] {
  if (!stack || !isProdStack(stack)) return [];
  const enabled = resources.filter((r) => r.type === DLM_POLICY_TYPE && (r.props.state ?? "ENABLED") === "ENABLED");
  if (enabled.length > 0) return [];
  return [{ message: `stack "${stack}" is a prod stack but has no enabled DLM snapshot policy; add hosts[].snapshots.aws (daily and weekly schedules) to its hosts` }];
}

// ---------------------------------------------------------------- published ports

export const DOCKER_CONTAINER_TYPE = "docker:index/container:Container";
/**
 * The container label that says "publishing on every interface is meant" (set from
 * `hosts[].openwebui.allowAllInterfaces`).
 */
export const ALLOW_ALL_INTERFACES_LABEL = "openwebui.allow-all-interfaces";

function labelValue(labels: unknown, key: string): string | undefined {
  if (Array.isArray(labels)) return labels.find((l) => l?.label === key)?.value;
  if (labels && typeof labels === "object") return (labels as Record<string, string>)[key];
  return undefined;
}

/**
 * A container publishes no port on every interface (ip 0.0.0.0 or ::, or no ip: Docker's
 * default is every interface) unless it carries the label `openwebui.allow-all-interfaces=true`.
 */
export function containerPortViolations(resources: readonly StackResource[]): Violation[] {
  const violations: Violation[] = [];
  for (const c of resources.filter((r) => r.type === DOCKER_CONTAINER_TYPE)) {
    if (labelValue(c.props.labels, ALLOW_ALL_INTERFACES_LABEL) === "true") continue;
    for (const port of (c.props.ports ?? []) as any[]) {
      const ip: string | undefined = port?.ip;
      if (ip !== undefined && ip !== "" && !bindsAllInterfaces(ip)) continue;
      violations.push({
        message:
          `container ${c.props.name ?? nameOf(c)} publishes port ${port?.external ?? port?.internal} on every interface (ip ${ip ? ip : "unset, Docker's default 0.0.0.0"}); ` +
          `bind it to 127.0.0.1 behind a reverse proxy, or set hosts[].openwebui.allowAllInterfaces: true to mean it (label ${ALLOW_ALL_INTERFACES_LABEL}=true)`,
        urn: c.urn,
      });
    }
  }
  return violations;
}

// ---------------------------------------------------------------- prod pre-upgrade backups

export const COMMAND_TYPES = ["command:remote:Command", "command:local:Command"] as const;

/** A command resource that runs `openwebui-backup pre-upgrade …` (components/pre-upgrade-backup.ts). */
export function isPreUpgradeCommand(r: StackResource): boolean {
  return (COMMAND_TYPES as readonly string[]).includes(r.type) && typeof r.props.create === "string" && / pre-upgrade /.test(r.props.create);
}

/**
 * On a prod stack, every Open WebUI container (label `openwebui.role=openwebui`) depends on a
 * command that runs `openwebui-backup pre-upgrade`, so the stack cannot replace Open WebUI with
 * another image before a backup of its data succeeded. `hosts[].openwebui.preUpgradeBackup:
 * false` leaves that command out: this is where a prod stack refuses it. The rule reads the
 * dependency the engine records, not the config, so it also catches a wiring that lost it.
 */
export function prodPreUpgradeViolations(resources: readonly StackResource[], stack = resources.map((r) => stackOfUrn(r.urn)).find(Boolean)): Violation[] {
  if (!stack || !isProdStack(stack)) return [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const violations: Violation[] = [];
  for (const c of resources.filter((r) => r.type === DOCKER_CONTAINER_TYPE && labelValue(r.props.labels, "openwebui.role") === "openwebui")) {
    const guarded = (c.dependencies ?? []).some((d) => {
      const dep = byUrn.get(d.urn);
      return dep !== undefined && isPreUpgradeCommand(dep);
    });
    if (guarded) continue;
    violations.push({
      message:
        `stack "${stack}" is a prod stack, but container ${c.props.name ?? nameOf(c)} of host "${labelValue(c.props.labels, "openwebui.host") ?? "?"}" would be replaced without a backup first; ` +
        "remove hosts[].openwebui.preUpgradeBackup: false (default: the host's first restic or snapshot job) or name one of its restic, snapshot or local-snapshot jobs",
      urn: c.urn,
    });
  }
  return violations;
}
