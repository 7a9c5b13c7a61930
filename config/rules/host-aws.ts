/**
 * Rules across `hosts[].snapshots.aws`, `hosts[].provision.aws` and the host's jobs: what the
 * snapshot policy targets, snapshot hours against file-backup hours, copies and their keys,
 * fast restore, and SSH reach of a created instance.
 */
import { OPEN_CIDRS, ipv4NetworkOf, jobHours, snapshotHours } from "../host-aws";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

const hh = (h: number) => String(h).padStart(2, "0");

/** Rules across `hosts[].snapshots.aws`, `hosts[].provision.aws` and the host's jobs. */
export function hostAwsProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();

  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    const provision = host.provision?.aws;
    const pp = `${hp}.provision.aws`;
    const sourceRegion = provision?.region;

    if (provision) {
      provision.allowedCidrs.forEach((cidr, ci) => {
        if ((OPEN_CIDRS as readonly string[]).includes(cidr) && !provision.sshFromAnywhere) {
          add(`${pp}.allowedCidrs[${ci}]`, `${cidr} opens SSH to the whole internet; list your own address ranges, or set ${pp}.sshFromAnywhere: true to mean it`);
        }
        const network = ipv4NetworkOf(cidr);
        if (network) add(`${pp}.allowedCidrs[${ci}]`, `${cidr} has host bits set; did you mean ${network}?`);
      });
      if (new Set(provision.allowedCidrs).size !== provision.allowedCidrs.length) add(`${pp}.allowedCidrs`, "lists a CIDR block twice");
      if (host.connection && host.connection.user === "root") {
        add(`${hp}.connection.user`, `the Debian image ${pp} starts lets SSH in as "admin", not root; set ${hp}.connection.user: admin`);
      }
    }

    const snap = host.snapshots?.aws;
    if (!snap) return;
    const sp = `${hp}.snapshots.aws`;

    // What the policy targets.
    if (provision) {
      if (snap.instanceId) add(`${sp}.instanceId`, `not used with ${pp}: the stack tags the instance it creates; remove instanceId`);
      if (snap.tags) add(`${sp}.tags`, `not used with ${pp}: the stack tags the instance it creates; remove tags`);
    } else if (snap.instanceId && snap.tags) {
      add(`${sp}.tags`, "give either instanceId or tags, not both");
    } else if (!snap.instanceId && !snap.tags) {
      add(sp, `needs instanceId or tags (what to snapshot), or ${pp} so the stack creates and tags the instance`);
    }
    if (snap.instanceId && snap.target === "volume") {
      add(`${sp}.target`, 'target "volume" selects volumes by their tags; with instanceId use target "instance", or give tags that are on the volumes');
    }

    // Schedules.
    const names = new Set<string>();
    snap.schedules.forEach((s, si) => {
      const p = `${sp}.schedules[${si}]`;
      if (names.has(s.name)) add(`${p}.name`, `duplicate schedule name "${s.name}"`);
      names.add(s.name);
      if ((s.every === undefined) === (s.cron === undefined)) add(p, 'needs exactly one of every (with at) or cron, e.g. { every: "24h", at: "03:00" } or { cron: "cron(0 3 ? * SUN *)" }');
      if (s.every !== undefined && s.at === undefined) add(`${p}.at`, 'required with every: the UTC time "HH:MM" of the first snapshot of the day');
      if (s.cron !== undefined && s.at !== undefined) add(`${p}.at`, "not used with cron: put the time in the cron expression");
      if ((s.keep === undefined) === (s.keepDays === undefined)) add(p, "needs exactly one of keep (number of snapshots) or keepDays (age in days)");

      if (snap.allowOverlapWithBackups) return;
      const hours = snapshotHours(s);
      if (!hours) return;
      const field = s.cron !== undefined ? "cron" : "at";
      host.jobs.forEach((job, ji) => {
        const shared = (jobHours(job.schedule) ?? []).filter((h) => hours.includes(h));
        if (shared.length === 0) return;
        add(
          `${p}.${field}`,
          `snapshots start in hour ${shared.map(hh).join(", ")} (UTC), the same hour as ${hp}.jobs[${ji}] "${job.name}" (schedule "${job.schedule}"); ` +
            `move one of them to another hour, or set ${sp}.allowOverlapWithBackups: true`,
        );
      });
    });

    // Copies.
    const copyRegions = new Set<string>();
    snap.copyTo.forEach((c, ci) => {
      const p = `${sp}.copyTo[${ci}]`;
      if (copyRegions.has(c.region)) add(`${p}.region`, `copies to ${c.region} twice`);
      copyRegions.add(c.region);
      if (sourceRegion && c.region === sourceRegion) add(`${p}.region`, `is the region the instance runs in (${pp}.region); copy to another region`);
      if (c.kmsKeyArn) {
        if (!c.encrypted) add(`${p}.kmsKeyArn`, "needs encrypted: true (a KMS key encrypts the copies)");
        const keyRegion = c.kmsKeyArn.split(":")[3];
        if (keyRegion !== c.region) add(`${p}.kmsKeyArn`, `is a key in ${keyRegion}; copies to ${c.region} need a key in ${c.region}`);
      }
    });

    // Fast snapshot restore.
    if (snap.fastRestore) {
      const first = snap.schedules[0];
      if (first.keep !== undefined && snap.fastRestore.count > first.keep) {
        add(`${sp}.fastRestore.count`, `is more than the ${first.keep} snapshots ${sp}.schedules[0] keeps; at most ${first.keep}`);
      }
      if (sourceRegion) {
        snap.fastRestore.availabilityZones.forEach((az, ai) => {
          if (!az.startsWith(sourceRegion)) add(`${sp}.fastRestore.availabilityZones[${ai}]`, `is not in ${sourceRegion}, the region the instance runs in`);
        });
      }
    }
  });
  return problems;
}
