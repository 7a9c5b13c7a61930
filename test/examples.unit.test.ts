/**
 * The tutorial's plans 1 and 2 as example stack files: they validate and render for every
 * host. Bad variations are refused with their paths. Shellcheck on every rendered script is in
 * examples.artifact.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig } from "../config";
import { renderStackFile } from "../scripts/cli/render-cli";

const example = (name: string) => path.join(__dirname, "..", "examples", name);

function stripNamespace(file: string): Record<string, any> {
  const cfg = parse(fs.readFileSync(file, "utf8")).config as Record<string, any>;
  const secret = (v: any): any => (v && typeof v === "object" && !Array.isArray(v) ? ("secure" in v ? "placeholder" : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, secret(x)]))) : Array.isArray(v) ? v.map(secret) : v);
  return Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k.replace(/^openwebui:/, ""), secret(v)]));
}

describe.each(["plan1.yaml", "plan2.yaml"])("%s", (file) => {
  const rendered = renderStackFile(example(file), "example", {});

  it("renders a backup command, env file and schedule for the web host and the NAS", () => {
    expect(rendered.hosts.map((h) => h.host)).toEqual(["web1", "nas"]);
    for (const h of rendered.hosts) {
      const paths = h.files.map((f) => f.path);
      expect(paths).toContain("/usr/local/sbin/openwebui-backup");
      expect(paths).toContain("/etc/openwebui-backup/backup.env");
    }
    const nasEnv = rendered.hosts[1].files.find((f) => f.path === "/etc/openwebui-backup/backup.env")!;
    expect(nasEnv.mode).toBe(0o600);
    expect(nasEnv.content).toMatch(/^OWB_JOB_from_web1_METHOD='pull'$/m);
    expect(nasEnv.content).toMatch(/^OWB_JOB_from_web1_FROM_PATH='\/'$/m);
    expect(nasEnv.content).not.toMatch(/OWB_DATA_(DIR|VOLUME)/);
    const webEnv = rendered.hosts[0].files.find((f) => f.path === "/etc/openwebui-backup/backup.env")!;
    expect(webEnv.content).toMatch(/^OWB_METRICS_FILE='\/var\/lib\/prometheus\/node-exporter\/openwebui_backup\.prom'$/m);
    // Secrets stored encrypted become marked placeholders, never a made-up value.
    expect(rendered.placeholders.map((p) => p.path)).toContain("resticPassword");
  });

  it("the systemd units of the web host may write the local snapshot folder and the metrics directory", () => {
    const weekly = rendered.hosts[0].files.find((f) => f.path === "/etc/systemd/system/openwebui-backup-weekly.service")!;
    expect(weekly.content).toMatch(/^ReadWritePaths=.* -\/var\/backups\/open-webui( |$)/m);
    expect(weekly.content).toMatch(/^ReadWritePaths=.* -\/var\/lib\/prometheus\/node-exporter( |$)/m);
  });
});

describe("the methods' rules, on plan 2", () => {
  const base = () => stripNamespace(example("plan2.yaml"));
  const table: [string, (c: any) => void, string][] = [
    ["sync with retention", (c) => (c.hosts[0].jobs[1].retention = { keep: 3 }), "hosts[0].jobs[1].retention.keep: method sync keeps one mirror and no retention"],
    ["local-snapshot to a bucket", (c) => (c.hosts[0].jobs[2].targets = ["offsite-s3"]), 'hosts[0].jobs[2].targets[0]: method local-snapshot writes hard-linked snapshots to local targets only; "offsite-s3" is of type s3'],
    ["local-snapshot without retention", (c) => delete c.hosts[0].jobs[2].retention, "hosts[0].jobs[2].retention: method local-snapshot needs keep or at least one of"],
    ["pull without from", (c) => delete c.hosts[1].jobs[0].from, "hosts[1].jobs[0].from: required for method pull"],
    ["pull with stop", (c) => (c.hosts[1].jobs[0].consistency = "stop"), "hosts[1].jobs[0].consistency: method pull reads another host's snapshots"],
    ["from on a restic job", (c) => (c.hosts[0].jobs[0].from = c.hosts[1].jobs[0].from), "hosts[0].jobs[0].from: only method pull takes from"],
    ["from with a relative key path", (c) => (c.hosts[1].jobs[0].from.sshKeyFile = "id_ed25519"), "hosts[1].jobs[0].from.sshKeyFile: "],
    ["from with a bad host key", (c) => (c.hosts[1].jobs[0].from.hostKey = "AAAA"), 'hosts[1].jobs[0].from.hostKey: must be a public host key such as "ssh-ed25519 AAAA…"'],
    ["a NAS with a restic job but no data", (c) => c.hosts[1].jobs.push({ name: "own", method: "restic", targets: ["offsite-s3"], retention: { daily: 1 } }), "hosts[1].data: required unless openwebui is set"],
  ];
  it.each(table)("%s", (_name, mutate, expected) => {
    const c = base();
    mutate(c);
    let message = "";
    try {
      parseStackConfig(c);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(expected);
  });

  it("the unchanged plan parses", () => {
    expect(parseStackConfig(base()).hosts[1].data).toBeUndefined();
  });
});

it("a pull job whose SSH key lives under /root can read it in the systemd sandbox", () => {
  const nas = renderStackFile(example("plan1.yaml"), "example", {}).hosts[1];
  // plan1's NAS uses cron; render it with systemd to check the unit.
  const c = stripNamespace(example("plan1.yaml"));
  c.hosts[1].scheduler = "systemd";
  const cfg = parseStackConfig(c);
  const { renderSystemdFiles } = jest.requireActual("../scripts/render/systemd");
  const { plainTargets } = jest.requireActual("../scripts/render/plain-targets");
  const unit = (renderSystemdFiles({ stack: "example", host: cfg.hosts[1], targets: plainTargets(cfg), notify: cfg.notify }) as { path: string; content: string }[]).find((f) => f.path.endsWith("openwebui-backup-from-web1.service"))!;
  expect(unit.content).toMatch(/^ProtectHome=read-only$/m);
  expect(unit.content).toMatch(/^ReadWritePaths=.* -\/volume1\/backups\/open-webui( |$)/m);
  expect(nas.files.map((f) => f.path)).toContain("/etc/cron.d/openwebui-backup");
});
