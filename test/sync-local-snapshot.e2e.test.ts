/**
 * Methods sync (a mirror in a bucket) and local-snapshot (hard-linked point-in-time folders),
 * end to end with real rclone, rsync and sqlite3; the "cold" job (sync + consistency stop).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, rowCounts } from "./support/openwebui-data";
import { useS3Server } from "./support/s3-server";
import { epoch, expectSameData } from "./support/backup-checks";
import { waitFor } from "./support/wait";

jest.setTimeout(180_000);

const s3 = useS3Server();
let buckets = 0;

/** A new bucket on the S3 server as a target, and where the server keeps its objects. */
async function mirrorTarget(): Promise<{ target: Record<string, unknown>; stored: (key: string) => string }> {
  const bucket = `mirror-${++buckets}`;
  await s3.createBucket(bucket);
  return {
    target: s3.target(bucket),
    stored: (key: string) => path.join(s3.dataDir, bucket, `${key}._S3rver_object`),
  };
}

let sandbox: HostSandbox;
beforeEach(() => {
  sandbox = new HostSandbox("owb-sls-");
  buildDataDir(sandbox.dataDir);
});
afterEach(() => sandbox.cleanup());

function config(job: Record<string, unknown>, targets: Record<string, unknown>) {
  return { targets, hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], jobs: [{ name: "nightly", ...job }] }] };
}

/** A frozen copy of the data directory as it is now (databases included). */
function freeze(name: string): string {
  const dest = path.join(sandbox.root, name);
  execFileSync("cp", ["-a", sandbox.dataDir, dest]);
  return dest;
}

/** Changes the data: a new upload, an edited one, one deleted, rows added. */
function changeData() {
  const up = path.join(sandbox.dataDir, "uploads");
  fs.writeFileSync(path.join(up, "added after the first run.txt"), "new\n");
  const victim = fs.readdirSync(up).find((n) => n.endsWith(".txt") && !n.startsWith("added"))!;
  fs.appendFileSync(path.join(up, victim), "edited\n");
  const removable = fs.readdirSync(up).filter((n) => n !== victim && !n.startsWith("added"))[0];
  fs.rmSync(path.join(up, removable), { recursive: true });
  execFileSync("sqlite3", [path.join(sandbox.dataDir, "webui.db"), "INSERT INTO chat (id, user_id, title, chat, created_at, updated_at) VALUES ('later', 'u', 'later', '{}', 1, 1);"]);
}

describe("method sync", () => {
  it("mirrors to an S3 target: back up, change, back up again, restore the mirror", async () => {
    const { target, stored } = await mirrorTarget();
    sandbox.install(config({ method: "sync", targets: ["b2like"] }, { b2like: target }));
    await sandbox.ok(["run", "nightly"]);
    const first = await sandbox.ok(["list", "nightly"]);
    expect(first.stdout).toMatch(/^current {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}\d+ files {2}\d+ bytes$/m);

    changeData();
    await sandbox.ok(["run", "nightly"]);
    const restored = path.join(sandbox.root, "restored");
    const r = await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(r.stderr).toMatch(/integrity: webui\.db: ok/);
    expectSameData(sandbox.dataDir, restored); // the deleted upload is gone from the mirror too
    expect(rowCounts(path.join(restored, "webui.db"), ["chat"]).chat).toBe(rowCounts(path.join(sandbox.dataDir, "webui.db"), ["chat"]).chat);
    // Both copies are complete after a run: the mirror and the copy the next run uploads into.
    for (const copy of ["current", "next"]) expect(fs.existsSync(stored(`web1/nightly/${copy}/manifest.json`))).toBe(true);
    for (const copy of ["current", "next"]) expect(fs.existsSync(stored(`web1/nightly/${copy}/files.sha256`))).toBe(true);
    await sandbox.ok(["verify", "nightly"]);
    const bad = await sandbox.run(["restore", "nightly", "--snapshot", "open-webui-backup-20240101T000000Z", "--to", path.join(sandbox.root, "x")]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/method sync keeps one mirror/);
  });

  it("a mirror no sync finished is reported incomplete and not restored", async () => {
    const { target, stored } = await mirrorTarget();
    sandbox.install(config({ method: "sync", targets: ["nas"] }, { nas: target }));
    await sandbox.ok(["run", "nightly"]);
    for (const copy of ["current", "next"]) {
      const object = stored(`web1/nightly/${copy}/manifest.json`);
      for (const f of fs.readdirSync(path.dirname(object)).filter((n) => n.startsWith("manifest.json._S3rver"))) fs.rmSync(path.join(path.dirname(object), f));
    }
    expect((await sandbox.ok(["list", "nightly"])).stdout).toMatch(/no complete mirror/);
    const r = await sandbox.run(["restore", "nightly", "--to", path.join(sandbox.root, "restored")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/has no manifest/);
  });

  describe("cold (sync with consistency stop)", () => {
    const stageManifest = () => path.join(sandbox.paths.stagingDir, "nightly", "manifest.json");

    it("stops before staging, starts after staging and before the upload ends", async () => {
      const { target, stored } = await mirrorTarget();
      sandbox.install(config({ method: "sync", targets: ["nas"], consistency: "stop" }, { nas: target }));
      // Probes: the staged copy's data dir, the staged manifest, the uploaded manifest.
      const uploaded = stored("web1/nightly/current/manifest.json");
      const probes = [path.join(sandbox.paths.stagingDir, "nightly", "data", "webui.db"), stageManifest(), uploaded].join(":");
      await sandbox.ok(["run", "nightly"], { DOCKER_STUB_PROBES: probes });
      expect(sandbox.dockerProbes()).toEqual([
        "stop open-webui 000", // nothing staged yet
        "stop ollama 000",
        "start open-webui 100", // the staged copy exists; the manifest (written after) and the upload do not
        "start ollama 100",
      ]);
      expect(fs.existsSync(uploaded)).toBe(true);
    });

    it("starts the containers again when staging fails", async () => {
      const { target, stored } = await mirrorTarget();
      sandbox.install(config({ method: "sync", targets: ["nas"], consistency: "stop" }, { nas: target }));
      fs.writeFileSync(path.join(sandbox.dataDir, "webui.db"), "this is not a database");
      const r = await sandbox.run(["run", "nightly"]);
      expect(r.code).not.toBe(0);
      expect(sandbox.dockerCalls().filter((c) => !/inspect/.test(c))).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
      expect(fs.existsSync(stored("web1/nightly/current/manifest.json"))).toBe(false);
    });
  });
});

describe("method local-snapshot", () => {
  const nas = () => path.join(sandbox.root, "nas");
  const root = () => path.join(nas(), "web1", "nightly");
  const install = (retention: Record<string, number>) =>
    sandbox.install(config({ method: "local-snapshot", targets: ["nas"], retention }, { nas: { type: "local", path: nas() } }));
  const folders = () => fs.readdirSync(root()).sort();
  const ino = (p: string) => fs.statSync(p).ino;

  it("hard-links unchanged files, restores every snapshot intact", async () => {
    install({ keep: 5 });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-01T03:00:00Z") });
    const before = freeze("before");
    changeData();
    const r2 = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-02T03:00:00Z") });
    expect(r2.stderr).toMatch(/open-webui-backup-20240302T030000Z complete: \d+ bytes copied, unchanged files hard-linked to open-webui-backup-20240301T030000Z/);
    const [s1, s2] = folders();
    expect([s1, s2]).toEqual(["open-webui-backup-20240301T030000Z", "open-webui-backup-20240302T030000Z"]);

    // Unchanged: the same inode in both snapshots; changed: a new file.
    const chroma = fs.readdirSync(path.join(root(), s2, "data", "vector_db")).find((n) => !n.endsWith(".sqlite3"))!;
    const seg = path.join("data", "vector_db", chroma);
    const bin = fs.readdirSync(path.join(root(), s2, seg))[0];
    expect(ino(path.join(root(), s1, seg, bin))).toBe(ino(path.join(root(), s2, seg, bin)));
    expect(ino(path.join(root(), s1, "data", "webui.db"))).not.toBe(ino(path.join(root(), s2, "data", "webui.db")));
    // The first snapshot shares no inode with the live data (it was a copy, not a link).
    expect(ino(path.join(root(), s1, seg, bin))).not.toBe(ino(path.join(sandbox.dataDir, "vector_db", chroma, bin)));

    const list = await sandbox.ok(["list", "nightly"]);
    expect(list.stdout.trim().split("\n")).toEqual([s1, s2]);
    const old = path.join(sandbox.root, "restored-1");
    await sandbox.ok(["restore", "nightly", "--snapshot", s1, "--to", old]);
    expectSameData(before, old);
    const latest = path.join(sandbox.root, "restored-2");
    await sandbox.ok(["restore", "nightly", "--to", latest]);
    expectSameData(sandbox.dataDir, latest);
    expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/verify ok/);
  });

  it("ignores and cleans a .partial left by a killed run, and never links against it", async () => {
    install({ keep: 5 });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-01T03:00:00Z") });
    // What a run killed mid-copy leaves: a newer folder under its .partial name, manifest included.
    const partial = path.join(root(), "open-webui-backup-20240301T120000Z.partial");
    execFileSync("cp", ["-a", path.join(root(), "open-webui-backup-20240301T030000Z"), partial]);
    expect((await sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20240301T030000Z");
    const verify = await sandbox.ok(["verify", "nightly"]);
    expect(verify.stderr).toMatch(/open-webui-backup-20240301T030000Z/);

    const r = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-02T03:00:00Z") });
    expect(r.stderr).toMatch(/removing open-webui-backup-20240301T120000Z\.partial, left by an interrupted run/);
    expect(r.stderr).toMatch(/hard-linked to open-webui-backup-20240301T030000Z/);
    expect(folders()).toEqual(["open-webui-backup-20240301T030000Z", "open-webui-backup-20240302T030000Z"]);
  });

  it("a killed run leaves only its .partial; the previous snapshots are untouched", async () => {
    install({ keep: 5 });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-01T03:00:00Z") });
    // A big new upload makes the copy long enough to kill it mid-way.
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "big.bin"), Buffer.alloc(400 * 1024 * 1024, 7));
    const { spawn } = await import("child_process");
    const child = spawn(sandbox.paths.command, ["run", "nightly"], { env: { ...sandbox.env(), OPENWEBUI_BACKUP_NOW: epoch("2024-03-02T03:00:00Z") }, detached: true, stdio: "ignore" });
    const partial = path.join(root(), "open-webui-backup-20240302T030000Z.partial");
    await waitFor("the run to start its copy", () => fs.existsSync(partial), 60_000);
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(folders()).toEqual(["open-webui-backup-20240301T030000Z", "open-webui-backup-20240302T030000Z.partial"]);
    expect((await sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20240301T030000Z");
    fs.rmSync(path.join(sandbox.paths.stagingDir, "nightly"), { recursive: true, force: true });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-03-02T04:00:00Z") });
    expect(folders()).toEqual(["open-webui-backup-20240301T030000Z", "open-webui-backup-20240302T040000Z"]);
  });

  it("keeps exactly what daily/weekly retention says over a sequence of days, runs and prunes alternating", async () => {
    install({ daily: 3, weekly: 2 });
    const day = (d: number, time = "03:00:00") => epoch(`2024-01-${String(d).padStart(2, "0")}T${time}Z`);
    // 2024-01-01 is a Monday: days 1-7 are ISO week 1, 8-14 week 2. Each night a run; on Sunday
    // the 7th, the prune's default timer (Sun 05:30) fires after that night's run.
    for (let d = 1; d <= 7; d++) await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: day(d) });
    expect(folders()).toHaveLength(7); // a run never deletes
    const prune1 = await sandbox.ok(["prune", "nightly"], { OPENWEBUI_BACKUP_NOW: day(7, "05:30:00") });
    expect(prune1.stderr).toMatch(/nas: 3 snapshots kept, 4 pruned/);
    expect(folders()).toEqual(["open-webui-backup-20240105T030000Z", "open-webui-backup-20240106T030000Z", "open-webui-backup-20240107T030000Z"]);
    for (let d = 8; d <= 10; d++) await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: day(d) });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: day(10, "15:00:00") });
    expect(folders()).toHaveLength(7);
    await sandbox.ok(["prune", "nightly"], { OPENWEBUI_BACKUP_NOW: day(14, "05:30:00") });
    expect(folders()).toEqual([
      "open-webui-backup-20240107T030000Z", // newest of week 1
      "open-webui-backup-20240108T030000Z",
      "open-webui-backup-20240109T030000Z",
      "open-webui-backup-20240110T150000Z", // newest of Jan 10 (and of week 2)
    ]);
    // A second prune finds nothing more to do.
    expect((await sandbox.ok(["prune", "nightly"])).stderr).toMatch(/nas: 4 snapshots kept, 0 pruned/);
  });

  it("keeps the newest N with keep after a prune, and a failed run changes nothing", async () => {
    install({ keep: 2 });
    for (const day of ["01", "02", "03"]) await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch(`2024-02-${day}T03:00:00Z`) });
    expect(folders()).toHaveLength(3);
    await sandbox.ok(["prune", "nightly"]);
    expect(folders()).toEqual(["open-webui-backup-20240202T030000Z", "open-webui-backup-20240203T030000Z"]);
    fs.writeFileSync(path.join(sandbox.dataDir, "webui.db"), "this is not a database");
    const r = await sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-02-04T03:00:00Z") });
    expect(r.code).not.toBe(0);
    await sandbox.ok(["prune", "nightly"]);
    expect(folders()).toEqual(["open-webui-backup-20240202T030000Z", "open-webui-backup-20240203T030000Z"]);
  });
});
