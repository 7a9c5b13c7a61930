/**
 * The rendered systemd units: which units a host gets, their whole text as snapshots (so a
 * reviewer sees every change), and the hardening and write access each job needs.
 * `systemd-analyze verify` on them is in systemd-units.artifact.test.ts.
 */
import * as path from "path";
import { renderHostFiles } from "../scripts/render/host-files";
import { SYSTEMD_UNIT_DIR } from "../scripts/render/naming";
import { renderSystemdFiles, unitPath } from "../scripts/render/systemd";
import { SYSTEMD_UNIT_CASES, hostInput } from "./support/schedule-fixtures";

describe.each(SYSTEMD_UNIT_CASES)("%s", (_title, host) => {
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

  it("matches the snapshot", () => {
    for (const u of units) expect(u.content).toMatchSnapshot(path.basename(u.path));
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
