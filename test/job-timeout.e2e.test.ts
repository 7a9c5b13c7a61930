/**
 * The job's timeout, for real: a run held in staging or in its upload (a shim on PATH holds
 * rsync or rclone), an upload that ignores TERM, a restore drill that hangs, and a run that
 * finds its job held by a stuck one. Each test asserts the outcome: exit status, the alert
 * naming the job, the earlier backups still restorable, the containers' state, no leftovers.
 *
 * @waits most of its time on timeouts and retries, so it starts first (tier-sequencer.js)
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RunResult } from "./support/host-sandbox";
import { treeHashes } from "./support/openwebui-data";
import { epoch } from "./support/backup-checks";
import { faultHost } from "./support/fault-host";
import { processesUnder } from "./support/processes";
import { waitFor } from "./support/wait";

jest.setTimeout(600_000);

const host = faultHost("owb-timeout-");

describe("the job's timeout", () => {
  it("stops a run held in staging while the containers are paused: they are unpaused, the alert names the job, the mirror is untouched", async () => {
    const targets = { offsite: host.s3.target(await host.bucket()) };
    host.sandbox.install(host.config({ method: "sync", targets: ["offsite"], consistency: "pause", timeout: "12s" }, targets));
    await host.sandbox.ok(["run", "nightly"]);
    const before = await host.restore("offsite", "before");
    fs.writeFileSync(path.join(host.sandbox.dataDir, "uploads", "added later.txt"), "not backed up\n");
    fs.writeFileSync(host.sandbox.dockerLog, "");
    host.hook.requests.length = 0;

    host.holdShim("rsync");
    const marker = path.join(host.sandbox.root, "held");
    const started = Date.now();
    const r = await host.sandbox.run(["run", "nightly"], { HOLD_ARG: `${host.sandbox.dataDir}/`, HOLD_MARKER: marker });
    const elapsed = Date.now() - started;

    expect(fs.existsSync(marker)).toBe(true); // the run was held where the test meant it to be
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/the run timed out after \d+ s \(timeout: 12 s\) and was stopped; not finished: offsite/);
    // TERM was enough: nothing waited for the kill 120 s later.
    expect(elapsed).toBeLessThan(80_000);
    expect(host.dockerVerbs()).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
    const alerts = host.hook.jsonBodies();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ host: "web1", job: "nightly", target: "offsite", outcome: "failure" });
    expect(alerts[0].message).toMatch(/^backup run timed out after \d+ s \(timeout: 12 s\)/);
    expect(host.hook.requests.map((q) => q.path.replace(/^\/hook\/secret-token/, ""))).toEqual(["/hc/start", "", "/hc/fail"]);
    expect(host.state()).toMatchObject({ outcome: "failure", failedTargets: "offsite" });
    expect(host.metric("exit_status", "offsite")).toBe(1);
    expect(host.stagingLeft()).toEqual([]);
    expect(treeHashes(await host.restore("offsite", "after"))).toEqual(treeHashes(before));
  });

  it("stops a run whose upload hangs, and prunes nothing", async () => {
    const targets = { offsite: host.s3.target(await host.bucket()) };
    host.sandbox.install(host.config({ method: "snapshot", retention: { keep: 1 }, targets: ["offsite"], timeout: "12s" }, targets));
    await host.sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-01T03:00:00Z") });
    const before = await host.restore("offsite", "before");

    host.holdShim("rclone");
    const marker = path.join(host.sandbox.root, "held");
    const r = await host.sandbox.run(["run", "nightly"], { HOLD_ARG: path.join(host.sandbox.paths.stagingDir, "nightly", "data"), HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-02T03:00:00Z") });

    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/uploading to open-webui-backup-20250102T030000Z/);
    expect(r.stderr).not.toMatch(/pruning/);
    expect(host.hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "offsite", outcome: "failure" });
    expect((await host.sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20250101T030000Z");
    expect(treeHashes(await host.restore("offsite", "after"))).toEqual(treeHashes(before));
    expect(host.stagingLeft()).toEqual([]);
    // The stopped run left its lock free: the next run goes ahead.
    expect((await host.sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-03T03:00:00Z") })).code).toBe(0);
  });

  it("kills what ignores TERM after a grace period; the run itself reported at its timeout; nothing is left running", async () => {
    const targets = { offsite: host.s3.target(await host.bucket()) };
    host.sandbox.install(host.config({ method: "snapshot", retention: { keep: 1 }, targets: ["offsite"], timeout: "12s" }, targets));
    await host.sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-01T03:00:00Z") });
    // An upload that ignores TERM (as one stuck in the kernel would).
    const real = execFileSync("bash", ["-c", "command -v rclone"], { encoding: "utf8" }).trim();
    fs.writeFileSync(
      path.join(host.sandbox.binDir, "rclone"),
      `#!/usr/bin/env bash
if [[ "$1" == copy && -n "\${HOLD_MARKER:-}" && ! -e "$HOLD_MARKER" ]]; then trap '' TERM; : >"$HOLD_MARKER"; while :; do sleep 1; done; fi
exec ${real} "$@"
`,
      { mode: 0o755 },
    );
    const marker = path.join(host.sandbox.root, "held");
    const started = Date.now();
    // The command's output pipes stay open until the last process holding them, the upload, is gone.
    // The watchdog's grace after TERM is 120 s on a host (pinned by the render snapshot); 5 s here.
    const grace = 5;
    const r = await host.sandbox.run(["run", "nightly"], { HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-02T03:00:00Z"), OPENWEBUI_BACKUP_TEST_KILL_AFTER: String(grace) });
    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(Date.now() - started).toBeGreaterThanOrEqual((12 + grace - 1) * 1000);
    expect(host.hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", target: "offsite", outcome: "failure", message: expect.stringMatching(/^backup run timed out after \d+ s \(timeout: 12 s\)/) })]);
    const log = fs.readFileSync(path.join(host.sandbox.paths.logDir, "nightly.log"), "utf8");
    expect(log).toMatch(/the run has reached its timeout of 12 s; stopping it/);
    expect(log).toMatch(new RegExp(`still running ${grace} s after TERM, so killed: \\d+`));
    await waitFor("no process of the host.sandbox to be left", () => processesUnder(host.sandbox.root).length === 0, 10_000);
    expect(host.state()).toMatchObject({ outcome: "failure", failedTargets: "offsite" });
    expect(host.stagingLeft()).toEqual([]);
    expect((await host.sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20250101T030000Z");
    await host.sandbox.ok(["run", "nightly"], { HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-03T03:00:00Z") }); // the lock is free again
  });

  it("stops a restore drill that hangs: the alert says so, its scratch copy is removed", async () => {
    const name = await host.bucket();
    host.sandbox.install(host.config({ method: "sync", targets: ["offsite"], timeout: "12s" }, { offsite: host.s3.target(name) }));
    await host.sandbox.ok(["run", "nightly"]);
    host.hook.requests.length = 0;
    host.holdShim("rclone");
    const marker = path.join(host.sandbox.root, "held");
    // restore_sync's `rclone copy <mirror>/data <scratch>`.
    const r = await host.sandbox.run(["verify", "nightly"], { HOLD_ARG: `owb:${name}/web1/nightly/current/data`, HOLD_MARKER: marker });
    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/the restore drill of job nightly on target offsite timed out after \d+ s \(timeout: 12 s\) and was stopped/);
    expect(host.hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", target: "offsite", outcome: "failure", message: expect.stringMatching(/^restore drill timed out/) })]);
    expect(host.stagingLeft()).toEqual([]);
  });

  describe("a run that finds its job locked (cron: no systemd to keep runs apart)", () => {
    let holder: ChildProcess | undefined;
    afterEach(() => {
      if (holder?.pid) process.kill(-holder.pid, "SIGKILL");
      holder = undefined;
    });

    /** Holds the job's lock as a run started `ageSeconds` ago with a 1 h timeout would. */
    async function holdLock(ageSeconds: number): Promise<void> {
      const lock = path.join(host.sandbox.paths.lockDir, "nightly.lock");
      fs.mkdirSync(host.sandbox.paths.lockDir, { recursive: true });
      fs.writeFileSync(lock, `4242 ${Math.floor(Date.now() / 1000) - ageSeconds} run 3600\n`);
      holder = spawn("flock", [lock, "bash", "-c", "echo locked; exec sleep 120"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
      await new Promise<void>((r) => holder!.stdout!.once("data", () => r()));
    }

    it("within that run's timeout: says who holds it and does not start", async () => {
      host.sandbox.install(host.config({ method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"], timeout: "1h" }, { nas: { type: "local", path: path.join(host.sandbox.root, "nas") } }));
      await holdLock(600);
      const r: RunResult = await host.sandbox.run(["run", "nightly"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/another run of job nightly holds .*nightly\.lock: a run \(pid 4242\) started 60\d s ago, within its timeout of 3600 s; this run did not start/);
      expect(host.hook.requests).toEqual([]);
      expect(fs.existsSync(path.join(host.sandbox.root, "nas"))).toBe(false);
    });

    it("past that run's timeout: alerts that it is stuck", async () => {
      host.sandbox.install(host.config({ method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"], timeout: "1h" }, { nas: { type: "local", path: path.join(host.sandbox.root, "nas") } }));
      await holdLock(3600 + 301);
      const r = await host.sandbox.run(["run", "nightly"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/a run \(pid 4242\) started 390\d s ago, past its timeout of 3600 s; it is stuck/);
      const [body] = host.hook.jsonBodies();
      expect(body).toMatchObject({ host: "web1", job: "nightly", target: "nas", outcome: "failure" });
      expect(body.message).toMatch(/a run of job nightly \(pid 4242\) started 390\d s ago still runs, past its timeout of 3600 s/);
    });
  });
});
