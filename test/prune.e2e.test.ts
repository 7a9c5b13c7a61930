/**
 * `openwebui-backup prune`, end to end: a run ends with `forget` only and a prune does the
 * `restic prune` (a restic shim on PATH records every call, then runs the real restic); a
 * prune and a run of the same job wait for each other, up to a bound, then fail and alert;
 * a prune against a target that is down fails, alerts and loses nothing; sync has nothing
 * to prune. Bytes freed and duration reach the state file and the metrics.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { start, startHeld } from "./support/held-command";
import { waitFor } from "./support/wait";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, pseudoRandomBytes } from "./support/openwebui-data";
import { S3TestServer, startS3Server } from "./support/s3-server";
import { WebhookListener, webhookListener } from "./support/webhook-listener";

jest.setTimeout(240_000);

let sandbox: HostSandbox;
let hook: WebhookListener;
beforeEach(async () => {
  sandbox = new HostSandbox("owb-prune-");
  buildDataDir(sandbox.dataDir);
  hook = await webhookListener();
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

const epoch = (iso: string) => String(Math.floor(Date.parse(iso) / 1000));
const metricsFile = () => path.join(sandbox.root, "textfile", "openwebui_backup.prom");
const nas = () => path.join(sandbox.root, "nas");
const folders = () => fs.readdirSync(path.join(nas(), "web1", "nightly")).sort();
const pruneState = () => JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.prune.json"), "utf8"));

function install(job: Record<string, unknown>, targets: Record<string, unknown> = { nas: { type: "local", path: nas() } }): void {
  sandbox.install({
    targets,
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        paths: { metricsFile: metricsFile() },
        jobs: [{ name: "nightly", targets: Object.keys(targets), ...job }],
      },
    ],
    notify: { webhookUrl: hook.url },
    resticPassword: "correct horse battery staple",
  });
}

/** A metric's value for job nightly on a target, from the textfile. */
function metric(name: string, target = "nas"): number {
  const line = fs
    .readFileSync(metricsFile(), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`openwebui_backup_${name}{`) && l.includes(`target="${target}"`));
  if (!line) throw new Error(`no ${name} for ${target} in the metrics file`);
  return Number(line.split(" ").pop());
}

/** restic on PATH records its arguments (one call a line, arguments split by \x1f) and runs the real one. */
function resticShim(): string {
  const real = execFileSync("bash", ["-c", "command -v restic"], { encoding: "utf8" }).trim();
  const log = path.join(sandbox.root, "restic-calls.log");
  fs.writeFileSync(path.join(sandbox.binDir, "restic"), `#!/usr/bin/env bash\nprintf '%s\\x1f' "$@" >>${JSON.stringify(log)}\nprintf '\\n' >>${JSON.stringify(log)}\nexec ${JSON.stringify(real)} "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(log, "");
  return log;
}

/** The restic subcommands (and their arguments) recorded since `from` lines. */
function resticCalls(log: string): string[][] {
  return fs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const args = line.split("\x1f").filter((a) => a !== "");
      // restic -o rclone.args=… <subcommand> …: skip the global option and its value.
      const i = args[0] === "-o" ? 2 : 0;
      return args.slice(i);
    });
}

describe("restic: a run forgets, the prune prunes", () => {
  it("a nightly run invokes no prune; prune runs restic prune, frees the forgotten data, and records it", async () => {
    const log = resticShim();
    install({ method: "restic", retention: { keep: 1 } });
    const big = path.join(sandbox.dataDir, "uploads", "going.bin");
    fs.writeFileSync(big, pseudoRandomBytes(2_000_000, 99));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    fs.rmSync(big);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });

    const runs = resticCalls(log);
    expect(runs.map((c) => c[0])).toEqual(["init", "backup", "forget", "backup", "forget"]);
    for (const forget of runs.filter((c) => c[0] === "forget")) {
      expect(forget).toEqual(expect.arrayContaining(["--keep-last", "1"]));
      expect(forget).not.toContain("--prune");
    }
    const repo = path.join(nas(), "web1", "nightly");
    const sizeBefore = Number(execFileSync("du", ["-sb", repo], { encoding: "utf8" }).split("\t")[0]);

    fs.writeFileSync(log, "");
    const r = await sandbox.ok(["prune", "nightly"]);
    expect(resticCalls(log).map((c) => c[0])).toEqual(["unlock", "prune"]);
    expect(r.stderr).toMatch(/total prune:/);
    const sizeAfter = Number(execFileSync("du", ["-sb", repo], { encoding: "utf8" }).split("\t")[0]);
    expect(sizeBefore - sizeAfter).toBeGreaterThan(1_900_000);

    const state = pruneState();
    expect(state).toMatchObject({ host: "web1", job: "nightly", method: "restic", command: "prune", outcome: "success", failedTargets: "" });
    expect(state.bytesFreed).toBe(sizeBefore - sizeAfter);
    expect(metric("prune_bytes_freed")).toBe(sizeBefore - sizeAfter);
    expect(metric("prune_exit_status")).toBe(0);
    expect(metric("prune_duration_seconds")).toBeGreaterThanOrEqual(0);
    expect(metric("prune_last_success_timestamp_seconds")).toBe(metric("prune_last_run_timestamp_seconds"));
    // The run's own metrics are untouched by the prune.
    expect(metric("exit_status")).toBe(0);
    expect(hook.requests).toEqual([]);

    // What the retention keeps is whole.
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(fs.existsSync(path.join(restored, "uploads", "going.bin"))).toBe(false);
    expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/verify ok/);
  });
});

describe("restic: a prune whose restic is killed while it holds the repository's exclusive lock", () => {
  it("fails and alerts, leaving a stale lock that the next run removes before it backs up; the next prune succeeds", async () => {
    // Slow writes keep the prune busy long enough to kill it once its lock is stored.
    const slow = await startS3Server({ slowWritesMs: 200 });
    try {
      await slow.createBucket("backups");
      const target = slow.target("backups");
      install({ method: "restic", retention: { keep: 1 } }, { offsite: target });
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
      fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "later.txt"), "later\n");
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
      expect(await slow.bytesStored("backups", "web1/nightly/locks/")).toBe(0);

      const prune = start(sandbox, ["prune", "nightly"]);
      let locked = false;
      await waitFor("restic prune to store its lock", () => {
        void slow.bytesStored("backups", "web1/nightly/locks/").then((n) => (locked = locked || n > 0));
        return locked;
      });
      // restic itself is killed (as by the OOM killer); the command, its parent, reaps it, so its
      // PID is gone and restic may call the lock stale (a killed command's restic would linger as
      // a zombie here, where PID 1 does not reap).
      const resticPids = execFileSync("ps", ["-e", "-o", "pid=,pgid=,comm="], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter(([, pgid, comm]) => Number(pgid) === prune.pid && comm === "restic")
        .map(([pid]) => Number(pid));
      expect(resticPids).toHaveLength(1);
      process.kill(resticPids[0], "SIGKILL");
      const killed = await prune.exited;
      expect(killed.code).not.toBe(0);
      expect(killed.stderr).toMatch(/offsite: restic prune failed/);
      expect(hook.jsonBodies()).toEqual([expect.objectContaining({ message: "prune failed for target(s): offsite" })]);
      expect(await slow.bytesStored("backups", "web1/nightly/locks/")).toBeGreaterThan(0);

      const r = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-03T03:00:00Z") });
      expect(r.stderr).toMatch(/restic snapshot [0-9a-f]{8} saved/);
      await sandbox.ok(["prune", "nightly"]);
      expect(pruneState()).toMatchObject({ outcome: "success" });
      const restored = path.join(sandbox.root, "restored");
      await sandbox.ok(["restore", "nightly", "--to", restored]);
      expect(fs.readFileSync(path.join(restored, "uploads", "later.txt"), "utf8")).toBe("later\n");
    } finally {
      await slow.stop();
    }
  });
});

describe("a prune and a run of the same job exclude each other", () => {
  it("a prune waits for a run that holds the job, then prunes what the run's retention left", async () => {
    install({ method: "local-snapshot", retention: { keep: 1 }, consistency: "pause" });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const run = startHeld(sandbox, ["run", "nightly"], "run-suspended", { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await run.held;
    const prune = start(sandbox, ["prune", "nightly"]);
    await waitFor("the prune to wait", () => /a run of job nightly \(or a restore, or another prune\) holds .*nightly\.lock; waiting for it to finish/.test(prune.stderr()));
    expect(folders()).toEqual(["open-webui-backup-20260101T030000Z"]); // nothing pruned while the run holds the job
    run.release();
    expect((await run.exited).code).toBe(0);
    const p = await prune.exited;
    expect(p.code).toBe(0);
    // The prune ran after the run: it saw the run's new folder and kept only it.
    expect(folders()).toEqual(["open-webui-backup-20260102T030000Z"]);
    expect(p.stderr).toMatch(/nas: 1 snapshots kept, 1 pruned/);
  });

  it("a run waits for a prune that holds the job, then backs up", async () => {
    install({ method: "local-snapshot", retention: { keep: 1 } });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const prune = startHeld(sandbox, ["prune", "nightly"], "prune-locked");
    await prune.held;
    const run = start(sandbox, ["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await waitFor("the run to wait", () => /a prune of job nightly holds .*nightly\.lock; waiting for it to finish/.test(run.stderr()));
    expect(folders()).toEqual(["open-webui-backup-20260101T030000Z"]);
    prune.release();
    expect((await prune.exited).code).toBe(0);
    expect((await run.exited).code).toBe(0);
    expect(folders()).toEqual(["open-webui-backup-20260101T030000Z", "open-webui-backup-20260102T030000Z"]);
  });

  it("waits a bounded time: a run still held by a prune fails and alerts, and changes nothing", async () => {
    install({ method: "local-snapshot", retention: { keep: 1 } });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const prune = startHeld(sandbox, ["prune", "nightly"], "prune-locked");
    try {
      await prune.held;
      const r = await sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z"), OPENWEBUI_BACKUP_TEST_LOCK_WAIT: "1" });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/the prune of job nightly still held .*nightly\.lock after 1 s; nothing was done/);
      expect(hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", outcome: "failure", message: expect.stringMatching(/prune of job nightly still held/) })]);
      expect(folders()).toEqual(["open-webui-backup-20260101T030000Z"]);
    } finally {
      prune.release();
      await prune.exited;
    }
  });

  it("waits a bounded time: a prune still held by a run fails, alerts, records it, and deletes nothing", async () => {
    install({ method: "local-snapshot", retention: { keep: 1 }, consistency: "pause" });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    const run = startHeld(sandbox, ["run", "nightly"], "run-suspended", { OPENWEBUI_BACKUP_NOW: epoch("2026-01-03T03:00:00Z") });
    try {
      await run.held;
      const p = await sandbox.run(["prune", "nightly"], { OPENWEBUI_BACKUP_TEST_LOCK_WAIT: "1" });
      expect(p.code).not.toBe(0);
      expect(p.stderr).toMatch(/prune of job nightly skipped: a run \(or restore\) still held .*nightly\.lock after 1 s/);
      expect(hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", outcome: "failure", target: "nas" })]);
      expect(pruneState()).toMatchObject({ outcome: "failure", failedTargets: "nas", bytesFreed: 0 });
      expect(metric("prune_exit_status")).toBe(1);
      expect(folders()).toEqual(["open-webui-backup-20260101T030000Z", "open-webui-backup-20260102T030000Z"]);
    } finally {
      run.release();
      expect((await run.exited).code).toBe(0);
    }
  });
});

describe("a prune against a target that is down", () => {
  let s3: S3TestServer;
  beforeEach(async () => {
    s3 = await startS3Server();
    await s3.createBucket("backups");
  });
  afterEach(async () => {
    await s3.stop();
  });

  it.each([
    ["restic", { method: "restic", retention: { keep: 1 } }, /1 snapshots/],
    ["snapshot", { method: "snapshot", retention: { keep: 1 } }, /^open-webui-backup-20260101T030000Z\nopen-webui-backup-20260102T030000Z$/],
  ])("%s: fails non-zero, alerts, records it, and loses nothing; the next prune succeeds", async (_method, job, listed) => {
    const target = s3.target("backups");
    install(job, { offsite: target });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "later.txt"), "later\n");
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    const listBefore = (await sandbox.ok(["list", "nightly"])).stdout.trim();
    expect(listBefore).toMatch(listed);

    await s3.stop();
    const p = await sandbox.run(["prune", "nightly"]);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toMatch(/offsite: prune FAILED/);
    expect(hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", target: "offsite", outcome: "failure", message: "prune failed for target(s): offsite" })]);
    expect(pruneState()).toMatchObject({ outcome: "failure", failedTargets: "offsite" });
    expect(metric("prune_exit_status", "offsite")).toBe(1);
    expect(metric("exit_status", "offsite")).toBe(0); // the last run's own status stands

    await s3.restart();
    expect((await sandbox.ok(["list", "nightly"])).stdout.trim()).toBe(listBefore);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(fs.readFileSync(path.join(restored, "uploads", "later.txt"), "utf8")).toBe("later\n");
    await sandbox.ok(["prune", "nightly"]);
    expect(pruneState()).toMatchObject({ outcome: "success" });
    expect(metric("prune_exit_status", "offsite")).toBe(0);
    expect(metric("prune_bytes_freed", "offsite")).toBeGreaterThan(0);
  });
});

it("sync: prune refuses, naming the method, and touches nothing", async () => {
  // sync mirrors only to a bucket; the refusal comes before anything reaches it.
  install({ method: "sync" }, { nas: { type: "s3", bucket: "mirror", region: "us-east-1", endpoint: "http://127.0.0.1:9", accessKeyId: "id", secretAccessKey: "secret" } });
  const r = await sandbox.run(["prune", "nightly"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/job nightly uses method sync: one mirror and no retention, so nothing to prune/);
  expect(fs.existsSync(path.join(sandbox.paths.stateDir, "nightly.prune.json"))).toBe(false);
});

it("prune with --target prunes that target only", async () => {
  const disk = path.join(sandbox.root, "disk");
  install({ method: "local-snapshot", retention: { keep: 1 } }, { nas: { type: "local", path: nas() }, disk: { type: "local", path: disk } });
  for (const day of ["01", "02"]) await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch(`2026-01-${day}T03:00:00Z`) });
  await sandbox.ok(["prune", "nightly", "--target", "disk"]);
  expect(fs.readdirSync(path.join(disk, "web1", "nightly"))).toEqual(["open-webui-backup-20260102T030000Z"]);
  expect(folders()).toHaveLength(2);
  const r = await sandbox.run(["prune", "nightly", "--target", "elsewhere"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/job nightly has no target "elsewhere"/);
});
