/**
 * Stack configs the renderer tests share: a small one, and a full one with every target
 * type, both schedulers and a credential of each kind (SECRETS) to follow through the files.
 */
import { parseStackConfig } from "../../config";
import { StackConfig } from "../../config/schema";
import { renderHostFiles } from "../../scripts/render/host-files";
import { plainTargets } from "../../scripts/render/plain-targets";

export const SECRETS = ["AKIA-SECRET-ID", "s3-secret-key-value", "b2-application-key-value", "restic-repo-password", "hook-token-value"];

export const small = (): StackConfig =>
  parseStackConfig({
    targets: { nas: { type: "local", path: "/mnt/nas/open-webui" } },
    hosts: [{ name: "web1", data: { dir: "/var/lib/open-webui/data" }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 3 } }] }],
  });

export const full = (): StackConfig =>
  parseStackConfig({
    targets: {
      "offsite-s3": { type: "s3", bucket: "my-backups", prefix: "web1", region: "eu-central-1", endpoint: "https://s3.example.org", accessKeyId: SECRETS[0], secretAccessKey: SECRETS[1] },
      "offsite-b2": { type: "b2", bucket: "my-b2-backups", prefix: "web1", keyId: "b2-key-id", applicationKey: SECRETS[2] },
      nas: { type: "local", path: "/mnt/nas/open webui" },
      odd: { type: "local", path: "/mnt/nas/open webui's $(backups)" },
    },
    hosts: [
      {
        name: "web1",
        openwebui: { image: "ghcr.io/open-webui/open-webui:v0.6.5", ollama: { enabled: true, image: "ollama/ollama:0.6.5" } },
        containers: ["open-webui", "ollama"],
        jobs: [
          { name: "nightly", method: "restic", targets: ["offsite-s3", "nas"], schedule: "*-*-* 03:00:00", retention: { daily: 7, weekly: 4, monthly: 6 }, consistency: "pause" },
          { name: "weekly", method: "snapshot", targets: ["offsite-b2"], schedule: "Sun *-*-* 04:00:00", retention: { keep: 4 }, consistency: "stop", exclude: ["cache/", "audit.log", "uploads/tmp"] },
        ],
      },
      {
        name: "web2",
        data: { dir: "/srv/open-webui" },
        scheduler: "cron",
        jobs: [{ name: "nightly", method: "restic", targets: ["odd"], schedule: "30 2 * * *", retention: { keep: 10 } }],
      },
    ],
    notify: { webhookUrl: `https://hooks.example.org/${SECRETS[4]}` },
    resticPassword: SECRETS[3],
  });

export function render(cfg: StackConfig, hostIndex = 0) {
  const host = cfg.hosts[hostIndex];
  return renderHostFiles({ stack: "prod", host, targets: plainTargets(cfg), notify: cfg.notify, resticPassword: cfg.resticPassword });
}
