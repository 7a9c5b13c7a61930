/**
 * Every rendered unit passes `systemd-analyze verify` in a temporary root that holds the
 * rendered tree (so ExecStart paths exist and are executable) and a copy of systemd's own
 * units (so dependencies such as timers.target resolve). Unit text is snapshotted so a
 * reviewer sees every change.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderHostFiles } from "../scripts/render/host-files";
import { SYSTEMD_UNIT_DIR } from "../scripts/render/naming";
import { renderSystemdFiles, unitPath } from "../scripts/render/systemd";
import { HostFile } from "../scripts/render/types";
import { hostInput } from "./support/schedule-fixtures";

const SYSTEM_UNITS = "/usr/lib/systemd/system";

function writeTree(root: string, files: readonly HostFile[]): void {
  for (const f of files) {
    const dest = path.join(root, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, f.content, { mode: f.mode });
  }
}

function verify(root: string, units: string[]): { status: number | null; output: string } {
  const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...units], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "owb-units-"));
  fs.cpSync(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const cases = [
  ["docker volume, pause consistency, local and s3 targets", {}],
  ["data dir under /home, drill on a named job and target", { data: { dir: "/home/owui/data" }, restoreDrill: { job: "weekly-copy", target: "disk", schedule: "Sun *-*-* 06:00" } }],
  ["custom paths, no random delay, drill off", { randomizedDelaySec: 0, restoreDrill: { enabled: false }, paths: { command: "/opt/owb/bin/openwebui-backup", envFile: "/opt/owb/etc/backup env", stagingDir: "/opt/owb/staging", stateDir: "/opt/owb/state", lockDir: "/run/owb", logDir: "/opt/owb/log" } }],
] as const;

describe.each(cases)("%s", (_title, host) => {
  const input = hostInput(host as Record<string, unknown>);
  const { files } = renderHostFiles(input);
  const units = files.filter((f) => f.path.startsWith(`${SYSTEMD_UNIT_DIR}/`));

  it("renders a service and timer per job and per job's prune, the failure handler, and the drill when enabled", () => {
    const names = units.map((u) => path.basename(u.path)).sort();
    const drill = input.host.restoreDrill.enabled ? ["openwebui-restore-drill.service", "openwebui-restore-drill.timer"] : [];
    expect(names).toEqual(
      [
        "openwebui-backup-failure@.service",
        "openwebui-backup-nightly.service",
        "openwebui-backup-nightly.timer",
        "openwebui-backup-weekly-copy.service",
        "openwebui-backup-weekly-copy.timer",
        "openwebui-prune-nightly.service",
        "openwebui-prune-nightly.timer",
        "openwebui-prune-weekly-copy.service",
        "openwebui-prune-weekly-copy.timer",
        ...drill,
      ].sort(),
    );
  });

  it("passes systemd-analyze verify", () => {
    const hostRoot = fs.mkdtempSync(path.join(root, "host-"));
    fs.cpSync(path.join(root, "usr"), path.join(hostRoot, "usr"), { recursive: true, verbatimSymlinks: true });
    writeTree(hostRoot, files);
    const result = verify(
      hostRoot,
      units.map((u) => u.path),
    );
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("matches the snapshot", () => {
    for (const u of units) expect(u.content).toMatchSnapshot(path.basename(u.path));
  });
});

describe("verify catches what is wrong (the check is not vacuous)", () => {
  it("fails on a missing ExecStart binary and reports unknown keys", () => {
    const input = hostInput();
    const service = renderSystemdFiles(input).find((f) => f.path.endsWith("nightly.service"))!;
    const hostRoot = fs.mkdtempSync(path.join(root, "broken-"));
    fs.cpSync(path.join(root, "usr"), path.join(hostRoot, "usr"), { recursive: true, verbatimSymlinks: true });
    writeTree(hostRoot, [{ ...service, content: service.content.replace("Nice=10", "Nicee=10") }]);
    const result = verify(hostRoot, [service.path]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/is not executable/);
    expect(result.output).toMatch(/Unknown key 'Nicee'/);
  });
});

describe("hardening and write access", () => {
  const unit = (host: Record<string, unknown>, name: string) => renderSystemdFiles(hostInput(host)).find((f) => f.path.endsWith(name))!.content;
  const setting = (text: string, key: string) => text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));

  it("a Docker volume job may write the volume's folder (its _data and what a restore keeps beside it) and reach the Docker socket", () => {
    const text = unit({}, "openwebui-backup-nightly.service");
    const rw = setting(text, "ReadWritePaths")[0].split(" ");
    expect(rw).toEqual(expect.arrayContaining(["-/var/lib/docker/volumes/open-webui", "-/run/docker.sock", "-/srv/backups", "/var/lib/openwebui-backup/staging"]));
    expect(rw).not.toContain("-/var/lib/docker/volumes/open-webui/_data"); // a path listed there is a mount in the unit: it could not be renamed
    expect(text).not.toMatch(/InaccessiblePaths|PrivateDevices|RestrictAddressFamilies/);
    expect(setting(text, "ProtectSystem")).toEqual(["strict"]);
    expect(setting(text, "ProtectHome")).toEqual(["yes"]);
    expect(setting(text, "After")[0]).toContain("docker.service");
  });

  it("an online job on a data dir gets no Docker socket", () => {
    const text = unit({ data: { dir: "/srv/owui/data" } }, "openwebui-backup-weekly-copy.service");
    expect(setting(text, "ReadWritePaths")[0]).not.toContain("docker.sock");
    expect(setting(text, "ReadWritePaths")[0].split(" ")).toContain("-/srv/owui");
  });

  it("a data dir right under / is writable itself, never the whole root", () => {
    const rw = setting(unit({ data: { dir: "/owui" } }, "openwebui-backup-nightly.service"), "ReadWritePaths")[0].split(" ");
    expect(rw).toContain("-/owui");
    expect(rw).not.toContain("-/");
  });

  it("every job unit resumes what a killed run left suspended (ExecStopPost=… recover); the drill does not need to", () => {
    for (const name of ["openwebui-backup-nightly.service", "openwebui-backup-weekly-copy.service"]) {
      expect(setting(unit({}, name), "ExecStopPost")).toEqual(["/usr/local/sbin/openwebui-backup recover"]);
    }
    expect(setting(unit({}, "openwebui-restore-drill.service"), "ExecStopPost")).toEqual([]);
  });

  it("data under /home keeps ProtectHome=read-only so ReadWritePaths can reach it", () => {
    expect(setting(unit({ data: { dir: "/home/owui/data" } }, "openwebui-backup-nightly.service"), "ProtectHome")).toEqual(["read-only"]);
  });

  it("the drill never writes the live data", () => {
    const text = unit({}, "openwebui-restore-drill.service");
    expect(setting(text, "ExecStart")).toEqual(["/usr/local/sbin/openwebui-backup verify nightly"]);
    expect(setting(text, "ReadWritePaths")[0]).not.toContain("/var/lib/docker/volumes");
  });

  it("timers: converted cron schedule, Persistent, configured random delay", () => {
    const text = unit({ randomizedDelaySec: 120 }, "openwebui-backup-weekly-copy.timer");
    expect(setting(text, "OnCalendar")).toEqual(["Sun *-*-* 04:30:00"]);
    expect(setting(text, "Persistent")).toEqual(["true"]);
    expect(setting(text, "RandomizedDelaySec")).toEqual(["120"]);
  });

  it("a job's prune unit is its run unit but for the command: same sandbox, alert and recovery", () => {
    for (const job of ["nightly", "weekly-copy"]) {
      const run = unit({}, `openwebui-backup-${job}.service`);
      const prune = unit({}, `openwebui-prune-${job}.service`);
      expect(setting(prune, "ExecStart")).toEqual([`/usr/local/sbin/openwebui-backup prune ${job}`]);
      const body = (text: string) => text.split("\n").filter((l) => !/^(#|Description=|ExecStart=)/.test(l));
      expect(body(prune)).toEqual(body(run));
      expect(setting(prune, "OnFailure")).toEqual(["openwebui-backup-failure@%n.service"]);
      expect(setting(prune, "ExecStopPost")).toEqual(["/usr/local/sbin/openwebui-backup recover"]);
    }
  });

  it("prune timers: weekly at 05:30 on Sunday by default, pruneSchedule converted, none for sync", () => {
    const byDefault = unit({}, "openwebui-prune-nightly.timer");
    expect(setting(byDefault, "OnCalendar")).toEqual(["Sun *-*-* 05:30:00"]);
    expect(setting(byDefault, "Unit")).toEqual(["openwebui-prune-nightly.service"]);
    expect(setting(byDefault, "Persistent")).toEqual(["true"]);
    const jobs = [
      { name: "nightly", method: "restic", targets: ["offsite"], retention: { daily: 7 }, pruneSchedule: "15 2 * * 6" },
      { name: "mirror", method: "sync", targets: ["offsite"] },
    ];
    const files = renderSystemdFiles(hostInput({ jobs })).map((f) => path.basename(f.path));
    expect(setting(unit({ jobs }, "openwebui-prune-nightly.timer"), "OnCalendar")).toEqual(["Sat *-*-* 02:15:00"]);
    expect(files).toContain("openwebui-backup-mirror.timer");
    expect(files.filter((f) => f.includes("prune-mirror"))).toEqual([]);
  });

  it("unit paths: '%' doubled, spaces quoted, quotes refused", () => {
    expect(unitPath("/a b/c%d")).toBe('"/a b/c%%d"');
    expect(() => unitPath('/a"b')).toThrow(/cannot be written into a systemd unit/);
  });
});
