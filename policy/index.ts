/**
 * The openwebui policy pack: backup buckets private, encrypted, versioned and with lifecycle
 * rules; prod stacks snapshot their hosts and back up Open WebUI before every image change;
 * containers publish on every interface only when asked to. The rules are pure functions in `./rules` (tested in test/policy.test.ts).
 *
 *   pulumi preview --policy-pack policy
 *   pulumi up --policy-pack policy
 *
 * Stack policies see every resource with its companions (provider v7 configures an S3
 * bucket through separate resources), so each rule is a `validateStack`.
 */
import { PolicyPack, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { Violation, b2BucketViolations, containerPortViolations, prodPreUpgradeViolations, prodSnapshotViolations, s3BucketViolations } from "./rules";

const report = (violations: Violation[], reportViolation: ReportViolation) => {
  for (const v of violations) reportViolation(v.message, v.urn);
};

const rule = (check: (resources: StackValidationArgs["resources"]) => Violation[]) => (args: StackValidationArgs, reportViolation: ReportViolation) =>
  report(check(args.resources), reportViolation);

new PolicyPack("openwebui", {
  policies: [
    {
      name: "backup-buckets-s3",
      description: "S3 backup buckets are private, encrypted, versioned, have lifecycle rules and are not force-destroyed.",
      enforcementLevel: "mandatory",
      validateStack: rule(s3BucketViolations),
    },
    {
      name: "backup-buckets-b2",
      description: "B2 backup buckets are allPrivate, SSE-B2 encrypted, and keep hidden versions for at least a day.",
      enforcementLevel: "mandatory",
      validateStack: rule(b2BucketViolations),
    },
    {
      name: "prod-host-snapshots",
      description: 'Stacks named "prod…" have an enabled DLM snapshot policy (hosts[].snapshots.aws).',
      enforcementLevel: "mandatory",
      validateStack: rule((resources) => prodSnapshotViolations(resources)),
    },
    {
      name: "prod-pre-upgrade-backup",
      description: 'Stacks named "prod…" back up Open WebUI before its container is replaced (hosts[].openwebui.preUpgradeBackup is not false).',
      enforcementLevel: "mandatory",
      validateStack: rule((resources) => prodPreUpgradeViolations(resources)),
    },
    {
      name: "containers-not-on-all-interfaces",
      description: "Containers publish ports on 0.0.0.0 or :: only with the openwebui.allow-all-interfaces=true label (hosts[].openwebui.allowAllInterfaces).",
      enforcementLevel: "mandatory",
      validateStack: rule(containerPortViolations),
    },
  ],
});
