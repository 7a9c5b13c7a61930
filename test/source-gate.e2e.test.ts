/**
 * The source gate and staging's exit paths, for real (sqlite3, rsync, restic, rclone; docker is
 * the stub): a data directory that is empty, lost its webui.db or its uploads is refused before
 * anything ships or prunes, whatever the method, and the good backups stay restorable; an
 * intended shrink passes with --allow-shrink; a pull refuses such a snapshot from its source; a
 * staging disk without room fails early, one that fills mid-copy leaves nothing behind, and a
 * SIGTERM, SIGINT or SIGKILL during staging leaves no staging behind and no container paused.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { epoch, expectSameData } from "./support/backup-checks";
import { WebhookListener, webhookListener } from "./support/webhook-listener";
import { installPull, pullSourceRoot, pulledRoot, startPullSshd } from "./support/pull-pair";
import { TestSshd } from "./support/sshd";
import { useS3Server } from "./support/s3-server";
import { waitFor } from "./support/wait";

jest.setTimeout(300_000);

let sandbox: HostSandbox;
let hook: WebhookListener;
// sync mirrors only to a versioned bucket: its runs go to a local S3 server.
const s3 = useS3Server();
let buckets = 0;
beforeEach(async () => {
  sandbox = new HostSandbox("owb-gate-");
  buildDataDir(sandbox.dataDir);
  hook = await webhookListener();
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

const nasRoot = () => path.join(sandbox.root, "nas");
const metricsFile = () => path.join(sandbox.root, "textfile", "openwebui_backup.prom");

function config(job: Record<string, unknown>, extra: { targets?: Record<string, unknown>; containers?: string[]; paths?: Record<string, string> } = {}) {
  return {
    targets: extra.targets ?? { nas: { type: "local", path: nasRoot() } },
    hosts: [
      {
        name: "web1",
        data: { dir: sandbox.dataDir },
        containers: extra.containers ?? ["open-webui", "ollama"],
        paths: { metricsFile: metricsFile(), ...extra.paths },
        jobs: [{ name: "nightly", targets: ["nas"], ...job }],
      },
    ],
    notify: { webhookUrl: hook.url, healthcheckUrl: `${hook.url}/hc` },
    resticPassword: "correct horse battery staple",
  };
}

/** A frozen copy of the data directory as it is now. */
function freeze(name: string): string {
  const dest = path.join(sandbox.root, name);
  execFileSync("cp", ["-a", sandbox.dataDir, dest]);
  return dest;
}

/** Puts a frozen copy back as the live data directory. */
function putBack(frozen: string): void {
  fs.rmSync(sandbox.dataDir, { recursive: true, force: true });
  execFileSync("cp", ["-a", frozen, sandbox.dataDir]);
}

/** How a source fails: each leaves the data directory as a failed mount or a lost volume would. */
const SOURCE_FAULTS: [string, () => void, RegExp][] = [
  [
    "an empty data directory (a disk that did not mount)",
    () => {
      for (const e of fs.readdirSync(sandbox.dataDir)) fs.rmSync(path.join(sandbox.dataDir, e), { recursive: true });
    },
    /backup refused: the data directory .* is empty/,
  ],
  ["webui.db missing", () => fs.rmSync(path.join(sandbox.dataDir, "webui.db")), /backup refused: webui\.db is missing from the data directory/],
  [
    "half present: webui.db there, uploads gone",
    () => fs.rmSync(path.join(sandbox.dataDir, "uploads"), { recursive: true }),
    /backup refused: the staged copy has \d+ files .*, down from \d+ files .*% fewer bytes, more than the job's shrink limit of 50%/,
  ],
];

const hookPaths = (from: number) => hook.requests.slice(from).map((r) => r.path.replace(/^\/hook\/secret-token/, ""));
/** What runs left in the staging dir (a disk-full test's filler is the test's own). */
const stagingLeft = () => (fs.existsSync(sandbox.paths.stagingDir) ? fs.readdirSync(sandbox.paths.stagingDir).filter((n) => n !== "filler") : []);
const state = () => JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8"));
const metric = (name: string) => {
  const m = new RegExp(`^openwebui_backup_${name}\\{host="web1",job="nightly",target="nas"\\} (\\S+)$`, "m").exec(fs.readFileSync(metricsFile(), "utf8"));
  if (!m) throw new Error(`no metric ${name} in ${metricsFile()}`);
  return Number(m[1]);
};

/** Runs a backup that must be refused: non-zero, the webhook and /fail, failure state and metrics, no staging left. */
async function expectRefused(reason: RegExp, env: NodeJS.ProcessEnv = {}, args: string[] = []) {
  const from = hook.requests.length;
  const r = await sandbox.run(["run", "nightly", ...args], env);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/refused \(see above\); nothing was shipped or pruned/);
  expect(hookPaths(from)).toEqual(["/hc/start", "", "/hc/fail"]);
  const body = JSON.parse(hook.requests[from + 1].body);
  expect(body).toMatchObject({ host: "web1", job: "nightly", outcome: "failure", target: "nas" });
  expect(body.message).toMatch(reason);
  expect(hook.requests[from + 2].body).toMatch(/refused: /);
  expect(state()).toMatchObject({ outcome: "failure", bytes: 0 });
  expect(metric("exit_status")).toBe(1);
  expect(stagingLeft()).toEqual([]);
  return r;
}

/** The job's backups on the target, oldest first: restic snapshot ids, folder names, or the mirror's creation time. */
async function listBackups(method: string): Promise<string[]> {
  const out = (await sandbox.ok(["list", "nightly"])).stdout;
  if (method === "restic") return [...out.matchAll(/^([0-9a-f]{8}) /gm)].map((m) => m[1]);
  if (method === "sync") return [...out.matchAll(/^current {2}(\S+)/gm)].map((m) => m[1]);
  return out.trim().split("\n").filter(Boolean);
}

describe.each([
  ["restic", { method: "restic", retention: { keep: 3 } }],
  ["snapshot", { method: "snapshot", retention: { keep: 3 } }],
  ["local-snapshot", { method: "local-snapshot", retention: { keep: 3 } }],
  ["sync", { method: "sync" }],
])("method %s with keep: 3", (method, job) => {
  it("refuses an empty, a db-less and a half-present source run after run, prunes nothing, and every good backup restores", async () => {
    if (method === "sync") {
      const bucket = `gate-sync-${++buckets}`;
      await s3.createBucket(bucket);
      sandbox.install(config(job, { targets: { nas: s3.target(bucket) } }));
    } else {
      sandbox.install(config(job));
    }
    const frozen: string[] = [];
    for (const day of [1, 2, 3]) {
      fs.writeFileSync(path.join(sandbox.dataDir, "uploads", `day ${day}.txt`), `written on day ${day}\n`);
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch(`2024-06-0${day}T03:00:00Z`) });
      frozen.push(freeze(`frozen-${day}`));
    }
    const good = await listBackups(method);
    expect(good).toHaveLength(method === "sync" ? 1 : 3);
    expect(metric("exit_status")).toBe(0);

    // Three refused runs, each of which would otherwise have pruned a good backup.
    let day = 4;
    for (const [, fault, reason] of SOURCE_FAULTS) {
      fault();
      await expectRefused(reason, { OPENWEBUI_BACKUP_NOW: epoch(`2024-06-0${day++}T03:00:00Z`) });
      putBack(frozen[2]);
    }
    expect(await listBackups(method)).toEqual(good);

    if (method === "sync") {
      const restored = path.join(sandbox.root, "restored");
      await sandbox.ok(["restore", "nightly", "--to", restored]);
      expectSameData(frozen[2], restored);
    } else {
      for (const [i, id] of good.entries()) {
        const restored = path.join(sandbox.root, `restored-${i}`);
        await sandbox.ok(["restore", "nightly", "--snapshot", id, "--to", restored]);
        expectSameData(frozen[i], restored);
      }
    }
    // The source is whole again: the next run passes the gate.
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-06-08T03:00:00Z") });
    expect(stagingLeft()).toEqual([]);
  });
});

describe("an intended shrink", () => {
  const folders = () => fs.readdirSync(path.join(nasRoot(), "web1", "nightly")).sort();

  it("is refused, then accepted once with --allow-shrink, and the next run compares with the shrunk copy", async () => {
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 5 } }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-01T03:00:00Z") });
    fs.rmSync(path.join(sandbox.dataDir, "uploads"), { recursive: true });
    await expectRefused(/shrink limit of 50%.*run once: openwebui-backup run nightly --allow-shrink/, { OPENWEBUI_BACKUP_NOW: epoch("2024-07-02T03:00:00Z") });
    expect(folders()).toEqual(["open-webui-backup-20240701T030000Z"]);

    const allowed = await sandbox.ok(["run", "nightly", "--allow-shrink"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-02T04:00:00Z") });
    expect(allowed.stderr).toMatch(/accepted because of --allow-shrink/);
    expect(folders()).toEqual(["open-webui-backup-20240701T030000Z", "open-webui-backup-20240702T040000Z"]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);
    // The shrunk copy is now the reference: the next ordinary run passes.
    expect((await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-03T03:00:00Z") })).stderr).toMatch(/source gate: ok/);
  });

  it("--allow-shrink never lets an empty data directory or a missing webui.db through", async () => {
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 5 } }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-01T03:00:00Z") });
    fs.rmSync(path.join(sandbox.dataDir, "webui.db"));
    await expectRefused(/webui\.db is missing/, { OPENWEBUI_BACKUP_NOW: epoch("2024-07-02T03:00:00Z") }, ["--allow-shrink"]);
    expect(folders()).toEqual(["open-webui-backup-20240701T030000Z"]);
    const misuse = await sandbox.run(["restore", "nightly", "--to", path.join(sandbox.root, "x"), "--allow-shrink"]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toMatch(/--allow-shrink applies to run only/);
  });

  it("shrinkLimit is the job's: a larger limit accepts the same shrink", async () => {
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 5 }, shrinkLimit: 90 }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-01T03:00:00Z") });
    fs.rmSync(path.join(sandbox.dataDir, "uploads"), { recursive: true });
    expect((await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-02T03:00:00Z") })).stderr).toMatch(/source gate: ok/);
  });

  it("a run where one target failed does not become the reference", async () => {
    const nas2 = path.join(sandbox.root, "nas2");
    const targets = { nas: { type: "local", path: nasRoot() }, nas2: { type: "local", path: nas2 } };
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 5 }, targets: ["nas", "nas2"] }, { targets }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-01T03:00:00Z") });
    fs.rmSync(path.join(sandbox.dataDir, "uploads"), { recursive: true });
    fs.rmSync(nas2, { recursive: true });
    fs.writeFileSync(nas2, "a file where the target directory should be");
    const half = await sandbox.run(["run", "nightly", "--allow-shrink"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-02T03:00:00Z") });
    expect(half.code).not.toBe(0);
    expect(half.stderr).toMatch(/nas2: FAILED/);
    fs.rmSync(nas2);
    // Still compared with the last run that reached every target.
    const from = hook.requests.length;
    const r = await sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-07-03T03:00:00Z") });
    expect(r.code).not.toBe(0);
    expect(JSON.parse(hook.requests[from + 1].body).message).toMatch(/backup refused: .*shrink limit/);
  });
});

describe("method pull applies the gate to what it pulls", () => {
  let source: HostSandbox;
  let puller: HostSandbox;
  let sshd: TestSshd;
  const srcRoot = () => pullSourceRoot(source);
  const pullRoot = () => pulledRoot(puller);
  beforeEach(async () => {
    source = new HostSandbox("owb-gsrc-");
    puller = new HostSandbox("owb-gnas-");
    buildDataDir(source.dataDir);
    sshd = await startPullSshd(source);
    installPull(source, puller, sshd, { keep: 1, stack: { notify: { webhookUrl: hook.url } } });
  });
  afterEach(async () => {
    await sshd?.stop();
    source.cleanup();
    puller.cleanup();
  });

  it("refuses a shrunk snapshot and one without webui.db, keeps what it has (keep: 1), and pulls a shrink with --allow-shrink", async () => {
    await source.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-01T03:00:00Z") });
    await puller.ok(["run", "from-web1"]);
    const frozen = path.join(source.root, "frozen");
    execFileSync("cp", ["-a", source.dataDir, frozen]);

    // The source host accepted a shrink on purpose; the puller has to be told as well.
    fs.rmSync(path.join(source.dataDir, "uploads"), { recursive: true });
    await source.ok(["run", "nightly", "--allow-shrink"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-02T03:00:00Z") });
    const refused = await puller.run(["run", "from-web1"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/refused: nas: open-webui-backup-20240502T030000Z on the source has \d+ files .* more than the job's shrink limit of 50%/);
    expect(hook.jsonBodies().at(-1)).toMatchObject({ job: "from-web1", outcome: "failure", message: expect.stringMatching(/^backup refused: nas: open-webui-backup-20240502T030000Z/) });
    expect(fs.readdirSync(pullRoot())).toEqual(["open-webui-backup-20240501T030000Z"]);

    // A snapshot folder on the source that lost its database.
    const broken = path.join(srcRoot(), "open-webui-backup-20240503T030000Z");
    execFileSync("cp", ["-a", path.join(srcRoot(), "open-webui-backup-20240501T030000Z"), broken]);
    fs.rmSync(path.join(broken, "data", "webui.db"));
    const noDb = await puller.run(["run", "from-web1"]);
    expect(noDb.code).not.toBe(0);
    expect(noDb.stderr).toMatch(/refused: nas: open-webui-backup-20240503T030000Z on the source has no database \(data\/webui\.db, or a PostgreSQL dump\)/);
    expect(fs.readdirSync(pullRoot())).toEqual(["open-webui-backup-20240501T030000Z"]);
    const restored = path.join(puller.root, "restored");
    await puller.ok(["restore", "from-web1", "--to", restored]);
    expectSameData(frozen, restored);

    fs.rmSync(broken, { recursive: true });
    await puller.ok(["run", "from-web1", "--allow-shrink"]);
    // A run only adds; the retention (keep: 1) applies at the job's prune.
    await puller.ok(["prune", "from-web1"]);
    expect(fs.readdirSync(pullRoot())).toEqual(["open-webui-backup-20240502T030000Z"]);
    expect(fs.existsSync(puller.paths.stagingDir) ? fs.readdirSync(puller.paths.stagingDir) : []).toEqual([]);
  });
});

/** Holds an exclusive lock on a rollback-journal database, so a reader (staging's VACUUM INTO) waits on it until released. */
async function lockDatabase(db: string): Promise<{ release: () => Promise<void> }> {
  execFileSync("sqlite3", [db, "PRAGMA journal_mode=DELETE;"]);
  const holder = spawn("python3", ["-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN EXCLUSIVE')\nprint('locked',flush=True)\nsys.stdin.readline()\nc.execute('ROLLBACK')", db], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve) => holder.stdout!.once("data", () => resolve()));
  return {
    release: async () => {
      if (holder.exitCode !== null) return;
      holder.stdin!.end("\n");
      await new Promise((r) => holder.once("exit", r));
    },
  };
}

function startRun(env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  // Its own process group, as under systemd or a terminal: the signal reaches every process of the run.
  const child = spawn(sandbox.paths.command, ["run", "nightly"], { env: { ...sandbox.env(), ...env }, detached: true, stdio: "ignore" });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (code, signal) => r({ code, signal })));
  return { child, exited };
}

const dockerVerbs = () => sandbox.dockerCalls().filter((c) => !/inspect/.test(c));

describe("staging", () => {
  const stageData = () => path.join(sandbox.paths.stagingDir, "nightly", "data");

  describe("on a small disk (a tmpfs mounted as the staging dir)", () => {
    let mounted = false;
    beforeEach(() => {
      fs.mkdirSync(sandbox.paths.stagingDir, { recursive: true });
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", sandbox.paths.stagingDir], { stdio: "pipe" });
        mounted = true;
      } catch (e) {
        console.log(`skipping the disk-full staging tests: cannot mount a tmpfs here (${String((e as Error).message).split("\n")[0]})`);
        mounted = false;
      }
    });
    afterEach(() => {
      if (mounted) execFileSync("umount", [sandbox.paths.stagingDir]);
    });
    const filler = () => path.join(sandbox.paths.stagingDir, "filler");
    const fill = (leaveBytes: number) => {
      const st = fs.statfsSync(sandbox.paths.stagingDir);
      fs.writeFileSync(filler(), Buffer.alloc(Math.max(0, st.bavail * st.bsize - leaveBytes)));
    };

    it("without room: fails before copying or pausing anything, alerts, leaves nothing; works once there is room", async () => {
      if (!mounted) return;
      sandbox.install(config({ method: "snapshot", retention: { keep: 2 }, consistency: "pause" }));
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-08-01T03:00:00Z") });
      const before = freeze("before");
      const calls = dockerVerbs().length;
      fill(8 * 1024 * 1024);
      const r = await expectRefused(/backup refused: not enough space to stage a copy: it needs about .* which has .* free/, { OPENWEBUI_BACKUP_NOW: epoch("2024-08-02T03:00:00Z") });
      expect(r.stderr).toMatch(/point hosts\[\]\.paths\.stagingDir at a larger disk/);
      expect(dockerVerbs().length).toBe(calls); // nothing paused
      expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual(["filler"]);
      expect(await listBackups("snapshot")).toEqual(["open-webui-backup-20240801T030000Z"]);
      const restored = path.join(sandbox.root, "restored");
      await sandbox.ok(["restore", "nightly", "--to", restored]);
      expectSameData(before, restored);

      fs.rmSync(filler());
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-08-03T03:00:00Z") });
      expect(await listBackups("snapshot")).toEqual(["open-webui-backup-20240801T030000Z", "open-webui-backup-20240803T030000Z"]);
      expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual([]);
    });

    it("filling up mid-copy: non-zero, alert, containers unpaused, no partial copy left; the next run works", async () => {
      if (!mounted) return;
      sandbox.install(config({ method: "snapshot", retention: { keep: 2 }, consistency: "pause" }));
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-08-01T03:00:00Z") });
      const lock = await lockDatabase(path.join(sandbox.dataDir, "webui.db"));
      const from = hook.requests.length;
      const run = sandbox.run(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-08-02T03:00:00Z") });
      try {
        // The space check has passed and the database copy waits on the lock: now the disk fills.
        await waitFor("staging to start", () => fs.existsSync(stageData()));
        fill(0);
      } finally {
        await lock.release();
      }
      const r = await run;
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/staging failed; nothing was shipped or pruned/);
      expect(hookPaths(from)).toEqual(["/hc/start", "", "/hc/fail"]);
      expect(JSON.parse(hook.requests[from + 1].body)).toMatchObject({ outcome: "failure", message: "staging the data directory failed" });
      expect(hook.requests[from + 2].body).toMatch(/full/i);
      expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual(["filler"]);
      expect(dockerVerbs().slice(-4)).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
      expect(await listBackups("snapshot")).toEqual(["open-webui-backup-20240801T030000Z"]);

      fs.rmSync(filler());
      await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-08-03T03:00:00Z") });
      const restored = path.join(sandbox.root, "restored");
      await sandbox.ok(["restore", "nightly", "--to", restored]);
      expectSameData(sandbox.dataDir, restored);
      expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual([]);
    });
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)("%s to the run's process group during staging: staging removed, containers unpaused, the earlier backup intact", async (signal, status) => {
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 1 }, consistency: "pause" }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-09-01T03:00:00Z") });
    const before = freeze("before");
    const lock = await lockDatabase(path.join(sandbox.dataDir, "webui.db"));
    const { child, exited } = startRun({ OPENWEBUI_BACKUP_NOW: epoch("2024-09-02T03:00:00Z") });
    try {
      await waitFor("staging to start", () => fs.existsSync(stageData()));
      process.kill(-child.pid!, signal);
    } finally {
      // sqlite3 answers SIGINT by interrupting its statement, which it notices once the lock is free.
      await lock.release();
    }
    expect(await exited).toEqual({ code: status, signal: null });
    expect(stagingLeft()).toEqual([]);
    expect(dockerVerbs().slice(-4)).toEqual(["pause open-webui", "pause ollama", "unpause open-webui", "unpause ollama"]);
    expect(fs.readdirSync(path.join(nasRoot(), "web1", "nightly"))).toEqual(["open-webui-backup-20240901T030000Z"]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(before, restored);
  });

  it("SIGKILL during staging: the next run removes the leftover copy before it starts, and succeeds", async () => {
    sandbox.install(config({ method: "local-snapshot", retention: { keep: 2 } }));
    const lock = await lockDatabase(path.join(sandbox.dataDir, "webui.db"));
    try {
      const { child, exited } = startRun({ OPENWEBUI_BACKUP_NOW: epoch("2024-09-01T03:00:00Z") });
      await waitFor("staging to start", () => fs.existsSync(stageData()));
      process.kill(-child.pid!, "SIGKILL");
      expect(await exited).toEqual({ code: null, signal: "SIGKILL" });
    } finally {
      await lock.release();
    }
    expect(stagingLeft()).toContain("nightly");
    const r = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-09-02T03:00:00Z") });
    expect(r.stderr).toMatch(/removing nightly from staging, left by an interrupted run/);
    expect(stagingLeft()).toEqual([]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);
  });
});
