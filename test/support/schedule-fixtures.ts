/**
 * Host render inputs for the schedule, unit, installer and BackupJobs tests: parsed through
 * the real config model, so defaults and validation are the ones users get.
 */
import { parseStackConfig } from "../../config";
import { HostRenderInput, ResolvedTarget } from "../../scripts/render/types";

export const TARGETS: Record<string, ResolvedTarget> = {
  offsite: { type: "s3", bucket: "owui-backups", region: "eu-central-1", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t/key" },
  disk: { type: "local", path: "/srv/backups" },
};

/** Raw `openwebui:` config with one host; `host` overrides keys of that host. */
export function rawConfig(host: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resticPassword: "correct horse battery staple",
    notify: { webhookUrl: "https://hooks.example.com/T0/abc" },
    targets: {
      offsite: { type: "s3", bucket: "owui-backups", region: "eu-central-1", accessKeyId: "AKIAEXAMPLE", secretAccessKey: "s3cr3t/key" },
      disk: { type: "local", path: "/srv/backups" },
    },
    hosts: [
      {
        name: "gpu-box",
        data: { volume: "open-webui" },
        jobs: [
          { name: "nightly", method: "restic", targets: ["offsite", "disk"], retention: { daily: 7, weekly: 4 }, consistency: "pause" },
          { name: "weekly-copy", method: "snapshot", targets: ["disk"], retention: { keep: 4 }, schedule: "30 4 * * 0" },
        ],
        ...host,
      },
    ],
  };
}

export function hostInput(host: Record<string, unknown> = {}, stack = "prod"): HostRenderInput {
  const cfg = parseStackConfig(rawConfig(host));
  return { stack, host: cfg.hosts[0], targets: TARGETS, notify: cfg.notify, resticPassword: cfg.resticPassword };
}

/** Host variations whose systemd units are snapshotted (unit tier) and verified by systemd-analyze (artifact tier). */
export const SYSTEMD_UNIT_CASES = [
  ["docker volume, pause consistency, local and s3 targets", {}],
  ["data dir under /home, drill on a named job and target", { data: { dir: "/home/owui/data" }, restoreDrill: { job: "weekly-copy", target: "disk", schedule: "Sun *-*-* 06:00" } }],
  ["custom paths, no random delay, drill off", { randomizedDelaySec: 0, restoreDrill: { enabled: false }, paths: { command: "/opt/owb/bin/openwebui-backup", envFile: "/opt/owb/etc/backup env", stagingDir: "/opt/owb/staging", stateDir: "/opt/owb/state", lockDir: "/run/owb", logDir: "/opt/owb/log" } }],
] as const;
