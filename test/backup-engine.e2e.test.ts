/**
 * The backup engine end to end, for real: the rendered command backs up an Open WebUI-shaped
 * data directory with real sqlite3, rsync, restic and rclone to a local directory and to an
 * S3 server on 127.0.0.1, restores, and the result is compared file by file.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, integrityCheck, isDatabaseFile, isExcluded, rowCounts, treeHashes } from "./support/openwebui-data";
import { expectSameData } from "./support/backup-checks";
import { startS3Server, useS3Server } from "./support/s3-server";
import { waitFor } from "./support/wait";

jest.setTimeout(240_000);

const s3 = useS3Server();
let bucketCounter = 0;

async function newBucket(): Promise<string> {
  const name = `backups-${++bucketCounter}`;
  await s3.createBucket(name);
  return name;
}

function stackConfig(sandbox: HostSandbox, job: Record<string, unknown>, targets: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], jobs: [{ name: "nightly", ...job }] }],
    resticPassword: "correct horse battery staple",
    ...extra,
  };
}

/** A local HTTP listener standing in for the alert webhook. */
async function webhookListener(): Promise<{ url: string; bodies: any[]; close: () => Promise<void> }> {
  const bodies: any[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      bodies.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook/secret-token`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

describe.each([
  ["restic", { method: "restic", retention: { daily: 7, weekly: 4 } }],
  ["snapshot", { method: "snapshot", retention: { keep: 2 } }],
])("method %s", (method, job) => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    // The first backup of each target kind initialises its restic repository with the real
    // `restic init`; the other tests' repositories are cloned (see HostSandbox's ResticInit).
    const firstBackup = /backs up to a/.test(expect.getState().currentTestName ?? "");
    sandbox = new HostSandbox("owb-host-", { resticInit: firstBackup ? "real" : "cloned" });
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => sandbox.cleanup());

  it.each(["s3", "local"])("backs up to a %s target and restores every file intact", async (kind) => {
    const targets = kind === "s3" ? { offsite: s3.target(await newBucket()) } : { offsite: { type: "local", path: path.join(sandbox.root, "nas") } };
    sandbox.install(stackConfig(sandbox, { ...job, targets: ["offsite"] }, targets));
    await sandbox.ok(["run", "nightly"]);

    const list = await sandbox.ok(["list", "nightly"]);
    expect(list.stdout).toMatch(method === "restic" ? /1 snapshots/ : /^open-webui-backup-\d{8}T\d{6}Z$/m);

    const restored = path.join(sandbox.root, "restored");
    const r = await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(r.stderr).toMatch(/integrity: webui\.db: ok/);
    expect(r.stderr).toMatch(/integrity: vector_db\/chroma\.sqlite3: ok/);
    expectSameData(sandbox.dataDir, restored);

    const verify = await sandbox.ok(["verify", "nightly"]);
    expect(verify.stderr).toMatch(/verify ok/);
    const state = JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
    expect(state).toMatchObject({ host: "web1", job: "nightly", method, outcome: "success" });
    expect(state.bytes).toBeGreaterThan(3_000_000);
    // consistency online: containers untouched (the manifest only asks docker which image runs)
    expect(sandbox.dockerCalls().filter((c) => !/^(image )?inspect /.test(c))).toEqual([]);
  });

  it("keeps writing while an online backup runs, and the restored database is consistent", async () => {
    sandbox.install(stackConfig(sandbox, { ...job, targets: ["nas"] }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    const db = path.join(sandbox.dataDir, "webui.db");
    const writer = spawn("python3", [path.join(__dirname, "support", "webui-writer.py"), db, "0.005"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    writer.stdout.on("data", (c) => (out += c));
    await new Promise<void>((resolve) => writer.stdout.once("data", () => resolve()));
    await sandbox.ok(["run", "nightly"]);
    writer.kill("SIGTERM");
    await new Promise((r) => writer.once("exit", r));
    const stats = JSON.parse(out.trim().split("\n").pop()!);
    expect(stats.failures).toEqual([]);
    expect(stats.committed).toBeGreaterThan(0);

    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(integrityCheck(path.join(restored, "webui.db"))).toBe("ok");
    const restoredChats = rowCounts(path.join(restored, "webui.db"), ["chat"]).chat;
    // A snapshot from during the run: at least the rows from before it, at most those after it.
    expect(restoredChats).toBeGreaterThanOrEqual(200);
    expect(restoredChats).toBeLessThanOrEqual(200 + stats.committed);
  });

  it("restores in place: stops the containers only for the swap, keeps a safety copy, starts them again", async () => {
    sandbox.install(stackConfig(sandbox, { ...job, targets: ["nas"] }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    await sandbox.ok(["run", "nightly"]);
    const before = treeHashes(sandbox.dataDir, (rel) => isDatabaseFile(rel) || isExcluded(rel));
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "report 2024 final.pdf"), "overwritten by mistake");
    fs.rmSync(path.join(sandbox.dataDir, "vector_db"), { recursive: true });

    const r = await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(treeHashes(sandbox.dataDir, isDatabaseFile)).toEqual(before);
    expect(integrityCheck(path.join(sandbox.dataDir, "webui.db"))).toBe("ok");
    const safety = fs.readdirSync(sandbox.root).filter((n) => n.startsWith("data.before-restore-"));
    expect(safety).toHaveLength(1);
    expect(fs.readFileSync(path.join(sandbox.root, safety[0], "uploads", "report 2024 final.pdf"), "utf8")).toBe("overwritten by mistake");
    expect(sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"))).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
    expect(r.stderr).toMatch(/previous data is kept in/);
  });
});

describe("failures lose nothing", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => sandbox.cleanup());

  it.each([
    ["snapshot", { method: "snapshot", retention: { keep: 1 } }],
    ["restic", { method: "restic", retention: { keep: 1 } }],
  ])("%s: the S3 server dies mid-upload → non-zero exit, webhook posted, nothing pruned, next run succeeds", async (method, job) => {
    const server = await startS3Server();
    const hook = await webhookListener();
    try {
      await server.createBucket("backups");
      const target = server.target("backups");
      sandbox.install(stackConfig(sandbox, { ...job, targets: ["offsite"] }, { offsite: target }, { notify: { webhookUrl: hook.url } }));
      // rclone's own retry defaults everywhere but in the run that meets the dead server.
      const patient = { RCLONE_RETRIES: "3", RCLONE_LOW_LEVEL_RETRIES: "10" };
      await sandbox.ok(["run", "nightly"], { ...patient, OPENWEBUI_BACKUP_NOW: "1767225600" });
      const firstList = (await sandbox.ok(["list", "nightly"], patient)).stdout;

      fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "new.bin"), Buffer.alloc(2_000_000, 7));
      // The server crashes at an upload of this run, whenever the run gets there: restic at its
      // first new data pack (its lock is already stored); snapshot at the manifest, the last
      // file of the folder (the data files are already stored).
      await server.crashOnWrite("backups", method === "restic" ? "web1/nightly/data/" : "web1/nightly/open-webui-backup-20260102T000000Z/manifest.json");
      const running = sandbox.start(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: "1767312000" });
      await Promise.race([server.crashed(), running.result]);
      if (method === "restic") {
        // restic 0.14 retries every failed request 10 times with back-off (about two minutes, no
        // option lowers it). Once it reports the failed save, end it as a job timeout would.
        await waitFor("restic to report the failed upload", () => /returned error, retrying/.test(running.stderr()), 60_000);
        for (const pid of sandbox.processes("restic")) process.kill(pid, "SIGTERM");
      }
      const failed = await running.result;
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toMatch(/offsite: FAILED/);
      expect(hook.bodies).toHaveLength(1);
      expect(hook.bodies[0]).toMatchObject({ host: "web1", job: "nightly", outcome: "failure" });
      expect(JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8")).outcome).toBe("failure");
      // No secret reached the log or the webhook.
      expect(failed.stderr).not.toContain("secret-token");
      expect(JSON.stringify(hook.bodies)).not.toContain(server.secretAccessKey + "x");

      await server.restart();
      // The old backup is still there and restorable.
      expect((await sandbox.ok(["list", "nightly"], patient)).stdout).toContain(firstList.split("\n").find((l) => /open-webui-backup-|^[0-9a-f]{8} /.test(l)) ?? "");
      await sandbox.ok(["run", "nightly"], { ...patient, OPENWEBUI_BACKUP_NOW: "1767398400" });
      // Runs only add; the prune (its own timer) applies keep: 1.
      await sandbox.ok(["prune", "nightly"], patient);
      const restored = path.join(sandbox.root, "restored");
      await sandbox.ok(["restore", "nightly", "--to", restored], patient);
      expectSameData(sandbox.dataDir, restored);
      if (method === "snapshot") {
        // keep: 1 → after the prune only the newest complete folder remains; the failed run's leftovers are gone.
        expect((await sandbox.ok(["list", "nightly"], patient)).stdout.trim().split("\n")).toEqual(["open-webui-backup-20260103T000000Z"]);
      }
    } finally {
      await hook.close();
      await server.stop();
    }
  });

  it("refuses a second concurrent run of the same job instead of waiting", async () => {
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 2 }, targets: ["nas"] }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    fs.mkdirSync(sandbox.paths.lockDir, { recursive: true });
    // Its own process group, so the sleep holding the lock ends with it. It says when it holds the lock.
    const holding = path.join(sandbox.root, "holding");
    const holder = spawn("flock", [path.join(sandbox.paths.lockDir, "nightly.lock"), "sh", "-c", 'touch "$1"; exec sleep 30', "sh", holding], { detached: true, stdio: "ignore" });
    try {
      await waitFor("the lock to be held", () => fs.existsSync(holding), 30_000);
      const started = Date.now();
      const r = await sandbox.run(["run", "nightly"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/another run of job nightly holds/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      process.kill(-holder.pid!, "SIGKILL");
    }
  });

  it("consistency stop: containers stopped only for staging and started again although the upload fails", async () => {
    const nas = path.join(sandbox.root, "nas");
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 2 }, targets: ["nas"], consistency: "stop" }, { nas: { type: "local", path: nas } }));
    fs.writeFileSync(nas, "a file where the target directory should be"); // the upload cannot succeed
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"))).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
    // Started before any upload was attempted: the log says so in order.
    expect(r.stderr.indexOf("resumed container ollama")).toBeLessThan(r.stderr.indexOf("nas: FAILED"));
  });

  it("consistency pause: containers unpaused even when staging itself fails", async () => {
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 2 }, targets: ["nas"], consistency: "pause" }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    fs.writeFileSync(path.join(sandbox.dataDir, "webui.db"), "this is not a database");
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/staging failed; nothing was shipped or pruned/);
    expect(sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"))).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
  });

  it("leaves a container that was already stopped alone", async () => {
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 2 }, targets: ["nas"], consistency: "stop" }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    sandbox.setContainerState("ollama", "exited");
    await sandbox.ok(["run", "nightly"]);
    expect(sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"))).toEqual(["stop open-webui", "start open-webui"]);
  });

  it("verify fails when the newest backup is damaged", async () => {
    const nas = path.join(sandbox.root, "nas");
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 2 }, targets: ["nas"] }, { nas: { type: "local", path: nas } }));
    await sandbox.ok(["run", "nightly"]);
    const [folder] = fs.readdirSync(path.join(nas, "web1", "nightly"));
    fs.writeFileSync(path.join(nas, "web1", "nightly", folder, "data", "webui.db"), Buffer.alloc(8192, 1));
    const r = await sandbox.run(["verify", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/verify FAILED/);
    expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual([]); // scratch cleaned up
  });
});

describe("data in a Docker named volume", () => {
  let sandbox: HostSandbox;
  beforeEach(() => (sandbox = new HostSandbox()));
  afterEach(() => sandbox.cleanup());

  const volumeConfig = (sb: HostSandbox) => ({
    targets: { nas: { type: "local", path: path.join(sb.root, "nas") } },
    hosts: [{ name: "web1", data: { volume: "open-webui" }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 2 } }] }],
  });

  it("resolves the data directory with docker volume inspect", async () => {
    const mountpoint = path.join(sandbox.root, "volumes", "open-webui", "_data");
    buildDataDir(mountpoint);
    sandbox.setVolume("open-webui", mountpoint);
    sandbox.install(volumeConfig(sandbox));
    await sandbox.ok(["run", "nightly"]);
    expect(sandbox.dockerCalls()).toContain("volume inspect --format {{ .Mountpoint }} open-webui");
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(mountpoint, restored);
  });

  it("fails clearly when the volume does not exist", async () => {
    sandbox.install(volumeConfig(sandbox));
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Docker volume "open-webui" not found on this host/);
  });
});

describe("hostile values stay data", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => sandbox.cleanup());

  it("a target path full of shell syntax is used literally and nothing executes", async () => {
    const evil = path.join(sandbox.root, "nas $(touch PWNED1) `touch PWNED2` 'q' \"dq\" ; touch PWNED3");
    const hook = "http://127.0.0.1:9/$(touch PWNED4)";
    expect(() =>
      sandbox.install({
        targets: { nas: { type: "local", path: evil } },
        hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 1 } }] }],
        notify: { webhookUrl: hook },
      }),
    ).toThrow(/notify\.webhookUrl: must not contain whitespace, quotes, backticks, '\$'/);
    sandbox.install({
      targets: { nas: { type: "local", path: evil } },
      // systemd units can't name such a path (validation says so); cron hosts can.
      hosts: [{ name: "web1", scheduler: "cron", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", method: "restic", targets: ["nas"], schedule: "0 3 * * *", retention: { keep: 1 } }] }],
      resticPassword: "pw $(touch PWNED5) `touch PWNED6` ' \" \n newline",
    });
    await sandbox.ok(["run", "nightly"]);
    await sandbox.ok(["prune", "nightly"]);
    expect(fs.existsSync(path.join(evil, "web1", "nightly", "config"))).toBe(true); // the restic repository, at the literal path
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);
    for (const dir of [sandbox.root, process.cwd(), sandbox.paths.stagingDir, path.dirname(sandbox.paths.command)]) {
      if (fs.existsSync(dir)) expect(fs.readdirSync(dir).filter((n) => n.startsWith("PWNED"))).toEqual([]);
    }
  });
});
