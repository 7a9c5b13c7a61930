/**
 * Faults of targets and of time, for real: a target that accepts connections and never
 * answers, one that refuses them, a job that outruns its timeout (a shim on PATH holds
 * rsync or rclone), a run that finds its job held by a stuck one, and a `sync` killed or
 * cut off by its server mid-mirror. Real rclone, restic, rsync and sqlite3, the S3 server on
 * 127.0.0.1; only docker is a stub. Each test asserts the outcome: exit status, the alert
 * naming the job, the earlier backups still restorable, the containers' state, no leftovers.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { HostSandbox, RunResult } from "./support/host-sandbox";
import { buildDataDir, treeHashes } from "./support/openwebui-data";
import { S3TestServer, startS3Server } from "./support/s3-server";
import { WebhookListener, webhookListener } from "./support/webhook-listener";
import { epoch, expectSameData } from "./support/backup-checks";

jest.setTimeout(600_000);

const s3Data = fs.mkdtempSync(path.join(os.tmpdir(), "owb-faults-s3-"));
let s3: S3TestServer;
let buckets = 0;
beforeAll(async () => {
  s3 = await startS3Server({ dataDir: s3Data });
});
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(s3Data, { recursive: true, force: true });
});

let sandbox: HostSandbox;
let hook: WebhookListener;
beforeEach(async () => {
  sandbox = new HostSandbox("owb-faults-");
  buildDataDir(sandbox.dataDir);
  hook = await webhookListener();
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

/** The host's own rclone settings (with_target's), not the sandbox's impatient test values. */
const PRODUCTION_NETWORK = { RCLONE_RETRIES: undefined, RCLONE_LOW_LEVEL_RETRIES: undefined };
/**
 * A silent target gets 60 s to answer on a host; here 5 s (OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN),
 * so the test waits out the same bound without the minute. The rendered script's 60 s is
 * pinned by the render snapshot.
 */
const ANSWER_WITHIN = 5;

async function bucket(server: S3TestServer = s3): Promise<string> {
  const name = `faults-${++buckets}`;
  await server.createBucket(name);
  return name;
}

const s3Target = (name: string, endpoint = s3.endpoint) => ({ type: "s3", bucket: name, prefix: "web1", endpoint, region: "us-east-1", accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey });

function config(job: Record<string, unknown>, targets: Record<string, unknown>) {
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], paths: { metricsFile: path.join(sandbox.root, "textfile", "owb.prom") }, jobs: [{ name: "nightly", ...job }] }],
    notify: { webhookUrl: hook.url, healthcheckUrl: `${hook.url}/hc` },
    resticPassword: "correct horse battery staple",
  };
}

/** Waits for a condition, polling; fails after the deadline. */
async function until(what: string, condition: () => boolean, deadlineMs = 120_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Pids of the processes whose command line names a path under `root`. */
function processesUnder(root: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes(root);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Pids of the processes in a session. */
function sessionPids(sid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // After "pid (comm) ": state, ppid, pgrp, session, …
    if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]) === sid) pids.push(Number(entry));
  }
  return pids;
}

/**
 * SIGKILL to every process of a run spawned detached (a session of its own): the command, the
 * timed run in its own process group, rclone; what a reboot or `systemctl kill -s KILL` does.
 */
async function killRun(run: ChildProcess): Promise<void> {
  const exited = run.exitCode === null ? new Promise((r) => run.once("exit", r)) : Promise.resolve();
  await until("every process of the run to be killed", () => {
    const pids = sessionPids(run.pid!);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    return pids.length === 0;
  });
  await exited;
}

/** A TCP listener that accepts every connection and never sends a byte. */
async function silentServer(): Promise<{ endpoint: string; open: () => number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.resume(); // read (and drop) what arrives, so the peer's close is seen
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    open: () => sockets.size,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** An endpoint nothing listens on: connections are refused. */
async function refusedEndpoint(): Promise<string> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

/**
 * A shim for `tool` on the sandbox's PATH: the first call that has $HOLD_ARG among its
 * arguments touches $HOLD_MARKER and blocks; every other call is the real tool.
 */
function holdShim(tool: string): void {
  const real = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
  fs.writeFileSync(
    path.join(sandbox.binDir, tool),
    `#!/usr/bin/env bash
# A dry run (staging's space estimate) copies nothing: the hold waits for a real call.
case " $* " in *" -n "* | *" --dry-run "*) exec ${real} "$@" ;; esac
for a in "$@"; do
  if [[ -n "\${HOLD_ARG:-}" && "$a" == "$HOLD_ARG" && ! -e "$HOLD_MARKER" ]]; then : >"$HOLD_MARKER"; exec sleep 600; fi
done
exec ${real} "$@"
`,
    { mode: 0o755 },
  );
}

const state = () => JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
const metric = (name: string, target: string) => {
  const text = fs.readFileSync(path.join(sandbox.root, "textfile", "owb.prom"), "utf8");
  const m = new RegExp(`^openwebui_backup_${name}\\{host="web1",job="nightly",target="${target}"\\} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
};
const stagingLeft = () => (fs.existsSync(sandbox.paths.stagingDir) ? fs.readdirSync(sandbox.paths.stagingDir) : []);
const dockerVerbs = () => sandbox.dockerCalls().filter((c) => !/inspect/.test(c));

/** Restores the job's latest backup from a target into a new folder under the sandbox. */
async function restore(target: string, name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const dest = path.join(sandbox.root, name);
  await sandbox.ok(["restore", "nightly", "--target", target, "--to", dest], env);
  return dest;
}

describe("a dead target fails the run fast; the other target's backups stay restorable", () => {
  const methods = [
    ["restic", { method: "restic", retention: { keep: 2 } }],
    ["sync", { method: "sync" }],
  ] as const;

  it.each(methods)("%s: a target that accepts connections and never answers", async (_method, job) => {
    const silent = await silentServer();
    try {
      const targets = { good: s3Target(await bucket()), dead: s3Target("gone", silent.endpoint) };
      sandbox.install(config({ ...job, targets: ["good"] }, targets));
      await sandbox.ok(["run", "nightly"]);
      const before = await restore("good", "before");

      sandbox.install(config({ ...job, targets: ["good", "dead"] }, targets));
      const started = Date.now();
      const r = await sandbox.run(["run", "nightly"], { ...PRODUCTION_NETWORK, OPENWEBUI_BACKUP_TEST_ANSWER_WITHIN: String(ANSWER_WITHIN) });
      const elapsed = Date.now() - started;

      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`dead: the target did not answer within ${ANSWER_WITHIN} s; nothing was sent to it`));
      expect(r.stderr).toMatch(/good: done/);
      expect(silent.accepted()).toBeGreaterThan(0); // it really was asked
      expect(elapsed).toBeLessThan(60_000); // the bound and a backup to the good target, not rclone's one-minute idle timeout
      const [body] = hook.jsonBodies();
      expect(body).toMatchObject({ host: "web1", job: "nightly", target: "dead", outcome: "failure" });
      expect(state()).toMatchObject({ outcome: "failure", failedTargets: "dead" });
      expect(metric("exit_status", "dead")).toBe(1);
      expect(metric("exit_status", "good")).toBe(0);
      // Nothing is left talking to the dead target, nothing staged is left behind.
      await until("the connections to the silent target to close", () => silent.open() === 0, 30_000);
      expect(stagingLeft()).toEqual([]);
      // The good target has this run's backup and the earlier one is still restorable as it was.
      expectSameData(sandbox.dataDir, await restore("good", "after"));
      expect(treeHashes(before)).toEqual(treeHashes(await restore("good", "again")));
    } finally {
      await silent.close();
    }
  });

  // Both methods reach a target through the same check first; one of them waits out the host's
  // own rclone retries, to show that they end within about a minute.
  it.each([
    ["sync, with the host's own retries,", methods[1][1], PRODUCTION_NETWORK],
    ["restic", methods[0][1], {}],
  ] as const)("%s: a target that refuses connections fails within about a minute", async (_method, job, network) => {
    const targets = { good: s3Target(await bucket()), dead: s3Target("gone", await refusedEndpoint()) };
    sandbox.install(config({ ...job, targets: ["good", "dead"] }, targets));
    const started = Date.now();
    const r = await sandbox.run(["run", "nightly"], network);
    const elapsed = Date.now() - started;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/dead: the target cannot be reached \(rclone exit \d+\); nothing was sent to it/);
    expect(r.stderr).toMatch(/connection refused/);
    expect(elapsed).toBeLessThan(90_000);
    expect(hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "dead", outcome: "failure" });
    expectSameData(sandbox.dataDir, await restore("good", "restored"));
    expect(stagingLeft()).toEqual([]);
  });
});

describe("the job's timeout", () => {
  it("stops a run held in staging while the containers are paused: they are unpaused, the alert names the job, the mirror is untouched", async () => {
    const targets = { offsite: s3Target(await bucket()) };
    sandbox.install(config({ method: "sync", targets: ["offsite"], consistency: "pause", timeout: "12s" }, targets));
    await sandbox.ok(["run", "nightly"]);
    const before = await restore("offsite", "before");
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "added later.txt"), "not backed up\n");
    fs.writeFileSync(sandbox.dockerLog, "");
    hook.requests.length = 0;

    holdShim("rsync");
    const marker = path.join(sandbox.root, "held");
    const started = Date.now();
    const r = await sandbox.run(["run", "nightly"], { HOLD_ARG: `${sandbox.dataDir}/`, HOLD_MARKER: marker });
    const elapsed = Date.now() - started;

    expect(fs.existsSync(marker)).toBe(true); // the run was held where the test meant it to be
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/the run timed out after \d+ s \(timeout: 12 s\) and was stopped; not finished: offsite/);
    // TERM was enough: nothing waited for the kill 120 s later.
    expect(elapsed).toBeLessThan(80_000);
    expect(dockerVerbs()).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
    const alerts = hook.jsonBodies();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ host: "web1", job: "nightly", target: "offsite", outcome: "failure" });
    expect(alerts[0].message).toMatch(/^backup run timed out after \d+ s \(timeout: 12 s\)/);
    expect(hook.requests.map((q) => q.path.replace(/^\/hook\/secret-token/, ""))).toEqual(["/hc/start", "", "/hc/fail"]);
    expect(state()).toMatchObject({ outcome: "failure", failedTargets: "offsite" });
    expect(metric("exit_status", "offsite")).toBe(1);
    expect(stagingLeft()).toEqual([]);
    expect(treeHashes(await restore("offsite", "after"))).toEqual(treeHashes(before));
  });

  it("stops a run whose upload hangs, and prunes nothing", async () => {
    const targets = { offsite: s3Target(await bucket()) };
    sandbox.install(config({ method: "snapshot", retention: { keep: 1 }, targets: ["offsite"], timeout: "12s" }, targets));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-01T03:00:00Z") });
    const before = await restore("offsite", "before");

    holdShim("rclone");
    const marker = path.join(sandbox.root, "held");
    const r = await sandbox.run(["run", "nightly"], { HOLD_ARG: path.join(sandbox.paths.stagingDir, "nightly", "data"), HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-02T03:00:00Z") });

    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/uploading to open-webui-backup-20250102T030000Z/);
    expect(r.stderr).not.toMatch(/pruning/);
    expect(hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "offsite", outcome: "failure" });
    expect((await sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20250101T030000Z");
    expect(treeHashes(await restore("offsite", "after"))).toEqual(treeHashes(before));
    expect(stagingLeft()).toEqual([]);
    // The stopped run left its lock free: the next run goes ahead.
    expect((await sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-03T03:00:00Z") })).code).toBe(0);
  });

  it("kills what ignores TERM after a grace period; the run itself reported at its timeout; nothing is left running", async () => {
    const targets = { offsite: s3Target(await bucket()) };
    sandbox.install(config({ method: "snapshot", retention: { keep: 1 }, targets: ["offsite"], timeout: "12s" }, targets));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2025-01-01T03:00:00Z") });
    // An upload that ignores TERM (as one stuck in the kernel would).
    const real = execFileSync("bash", ["-c", "command -v rclone"], { encoding: "utf8" }).trim();
    fs.writeFileSync(
      path.join(sandbox.binDir, "rclone"),
      `#!/usr/bin/env bash
if [[ "$1" == copy && -n "\${HOLD_MARKER:-}" && ! -e "$HOLD_MARKER" ]]; then trap '' TERM; : >"$HOLD_MARKER"; while :; do sleep 1; done; fi
exec ${real} "$@"
`,
      { mode: 0o755 },
    );
    const marker = path.join(sandbox.root, "held");
    const started = Date.now();
    // The command's output pipes stay open until the last process holding them, the upload, is gone.
    // The watchdog's grace after TERM is 120 s on a host (pinned by the render snapshot); 5 s here.
    const grace = 5;
    const r = await sandbox.run(["run", "nightly"], { HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-02T03:00:00Z"), OPENWEBUI_BACKUP_TEST_KILL_AFTER: String(grace) });
    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(Date.now() - started).toBeGreaterThanOrEqual((12 + grace - 1) * 1000);
    expect(hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", target: "offsite", outcome: "failure", message: expect.stringMatching(/^backup run timed out after \d+ s \(timeout: 12 s\)/) })]);
    const log = fs.readFileSync(path.join(sandbox.paths.logDir, "nightly.log"), "utf8");
    expect(log).toMatch(/the run has reached its timeout of 12 s; stopping it/);
    expect(log).toMatch(new RegExp(`still running ${grace} s after TERM, so killed: \\d+`));
    await until("no process of the sandbox to be left", () => processesUnder(sandbox.root).length === 0, 10_000);
    expect(state()).toMatchObject({ outcome: "failure", failedTargets: "offsite" });
    expect(stagingLeft()).toEqual([]);
    expect((await sandbox.ok(["list", "nightly"])).stdout.trim()).toBe("open-webui-backup-20250101T030000Z");
    await sandbox.ok(["run", "nightly"], { HOLD_MARKER: marker, OPENWEBUI_BACKUP_NOW: epoch("2025-01-03T03:00:00Z") }); // the lock is free again
  });

  it("stops a restore drill that hangs: the alert says so, its scratch copy is removed", async () => {
    const name = await bucket();
    sandbox.install(config({ method: "sync", targets: ["offsite"], timeout: "12s" }, { offsite: s3Target(name) }));
    await sandbox.ok(["run", "nightly"]);
    hook.requests.length = 0;
    holdShim("rclone");
    const marker = path.join(sandbox.root, "held");
    // restore_sync's `rclone copy <mirror>/data <scratch>`.
    const r = await sandbox.run(["verify", "nightly"], { HOLD_ARG: `owb:${name}/web1/nightly/current/data`, HOLD_MARKER: marker });
    expect(fs.existsSync(marker)).toBe(true);
    expect(r.code).toBe(124);
    expect(r.stderr).toMatch(/the restore drill of job nightly on target offsite timed out after \d+ s \(timeout: 12 s\) and was stopped/);
    expect(hook.jsonBodies()).toEqual([expect.objectContaining({ job: "nightly", target: "offsite", outcome: "failure", message: expect.stringMatching(/^restore drill timed out/) })]);
    expect(stagingLeft()).toEqual([]);
  });

  describe("a run that finds its job locked (cron: no systemd to keep runs apart)", () => {
    let holder: ChildProcess | undefined;
    afterEach(() => {
      if (holder?.pid) process.kill(-holder.pid, "SIGKILL");
      holder = undefined;
    });

    /** Holds the job's lock as a run started `ageSeconds` ago with a 1 h timeout would. */
    async function holdLock(ageSeconds: number): Promise<void> {
      const lock = path.join(sandbox.paths.lockDir, "nightly.lock");
      fs.mkdirSync(sandbox.paths.lockDir, { recursive: true });
      fs.writeFileSync(lock, `4242 ${Math.floor(Date.now() / 1000) - ageSeconds} run 3600\n`);
      holder = spawn("flock", [lock, "bash", "-c", "echo locked; exec sleep 120"], { detached: true, stdio: ["ignore", "pipe", "ignore"] });
      await new Promise<void>((r) => holder!.stdout!.once("data", () => r()));
    }

    it("within that run's timeout: says who holds it and does not start", async () => {
      sandbox.install(config({ method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"], timeout: "1h" }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
      await holdLock(600);
      const r: RunResult = await sandbox.run(["run", "nightly"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/another run of job nightly holds .*nightly\.lock: a run \(pid 4242\) started 60\d s ago, within its timeout of 3600 s; this run did not start/);
      expect(hook.requests).toEqual([]);
      expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
    });

    it("past that run's timeout: alerts that it is stuck", async () => {
      sandbox.install(config({ method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"], timeout: "1h" }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
      await holdLock(3600 + 301);
      const r = await sandbox.run(["run", "nightly"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/a run \(pid 4242\) started 390\d s ago, past its timeout of 3600 s; it is stuck/);
      const [body] = hook.jsonBodies();
      expect(body).toMatchObject({ host: "web1", job: "nightly", target: "nas", outcome: "failure" });
      expect(body.message).toMatch(/a run of job nightly \(pid 4242\) started 390\d s ago still runs, past its timeout of 3600 s/);
    });
  });
});

describe("sync keeps a restorable mirror whatever stops it", () => {
  const slowData = fs.mkdtempSync(path.join(os.tmpdir(), "owb-faults-slow-s3-"));
  afterAll(() => fs.rmSync(slowData, { recursive: true, force: true }));

  /** Whether the S3 server already holds one of changeUploads' files under next/. */
  const uploading = (name: string) => () => {
    const dir = path.join(slowData, name, "web1", "nightly", "next", "data", "uploads");
    return fs.existsSync(dir) && fs.readdirSync(dir).some((f) => f.startsWith("later-"));
  };

  /** New and changed uploads, so the next sync has several files to send. */
  function changeUploads(): void {
    for (let i = 0; i < 12; i++) fs.writeFileSync(path.join(sandbox.dataDir, "uploads", `later-${i}.bin`), Buffer.alloc(200_000, i + 1));
    fs.appendFileSync(path.join(sandbox.dataDir, "uploads", "big.bin"), "changed");
  }

  it("SIGKILL while uploading to next/: restore gives the previous mirror byte for byte; the next run completes", async () => {
    const slow = await startS3Server({ slowWritesMs: 300, dataDir: slowData });
    try {
      const name = await bucket(slow);
      sandbox.install(config({ method: "sync", targets: ["offsite"] }, { offsite: s3Target(name, slow.endpoint) }));
      await sandbox.ok(["run", "nightly"]);
      const before = await restore("offsite", "before");
      changeUploads();

      const run = spawn(sandbox.paths.command, ["run", "nightly"], { env: sandbox.env(), detached: true, stdio: "ignore" });
      await until("the first new file in next/", uploading(name));
      await killRun(run);

      expect((await sandbox.ok(["list", "nightly"])).stdout).toMatch(/^current {2}\S+ {2}\d+ files/m);
      expect(treeHashes(await restore("offsite", "after-kill"))).toEqual(treeHashes(before));
      await sandbox.ok(["run", "nightly"]);
      expectSameData(sandbox.dataDir, await restore("offsite", "after-next-run"));
    } finally {
      await slow.stop();
    }
  });

  it("the server dies mid-upload: the run fails and alerts, restore gives the previous mirror byte for byte", async () => {
    const slow = await startS3Server({ slowWritesMs: 300, dataDir: slowData });
    try {
      const name = await bucket(slow);
      sandbox.install(config({ method: "sync", targets: ["offsite"] }, { offsite: s3Target(name, slow.endpoint) }));
      await sandbox.ok(["run", "nightly"]);
      const before = await restore("offsite", "before");
      changeUploads();

      const running = sandbox.run(["run", "nightly"]);
      await until("the first new file in next/", uploading(name));
      await slow.stop();
      const r = await running;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/offsite: FAILED/);
      expect(hook.jsonBodies()[0]).toMatchObject({ job: "nightly", target: "offsite", outcome: "failure" });

      await slow.restart();
      expect(treeHashes(await restore("offsite", "after"))).toEqual(treeHashes(before));
      expect(stagingLeft()).toEqual([]);
    } finally {
      await slow.stop();
    }
  });

  it("SIGKILL while next/ is copied to current/: restore gives the new complete copy from next/; the next run finishes the promotion", async () => {
    const slow = await startS3Server({ slowWritesMs: 200, dataDir: slowData });
    try {
      const name = await bucket(slow);
      sandbox.install(config({ method: "sync", targets: ["offsite"] }, { offsite: s3Target(name, slow.endpoint) }));
      await sandbox.ok(["run", "nightly"]);
      changeUploads();
      const loc = path.join(slowData, name, "web1", "nightly");
      const promoting = () => !fs.existsSync(path.join(loc, "current", "manifest.json._S3rver_object")) && fs.existsSync(path.join(loc, "next", "manifest.json._S3rver_object"));

      const run = spawn(sandbox.paths.command, ["run", "nightly"], { env: sandbox.env(), detached: true, stdio: "ignore" });
      await until("the promotion to begin", promoting);
      await killRun(run);
      expect(promoting()).toBe(true);

      expect((await sandbox.ok(["list", "nightly"])).stdout).toMatch(/\(in next\/: a promotion to current\/ did not finish/);
      const fromNext = await restore("offsite", "from-next");
      expectSameData(sandbox.dataDir, fromNext);

      const r = await sandbox.ok(["run", "nightly"]);
      expect(r.stderr).toMatch(/finishing the promotion of next\/ that an interrupted run left/);
      expect((await sandbox.ok(["list", "nightly"])).stdout).not.toMatch(/in next\//);
      expectSameData(sandbox.dataDir, await restore("offsite", "after"));
    } finally {
      await slow.stop();
    }
  });
});
