/**
 * Upgrades end to end, for real: `pre-upgrade` backs up a live Open WebUI data directory
 * before the image changes, a simulated migration moves the schema on, and `rollback` brings
 * the pre-upgrade data back byte for byte and row for row, leaving Open WebUI stopped and
 * naming the image to pin again. Real sqlite3, rsync, restic, rclone and an S3 server on
 * 127.0.0.1; only `docker` is a stub, which reports the image the test sets.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { preUpgradeCommand } from "../components/pre-upgrade-backup";
import { BACKUP_COMMAND_PARTS, hostAsset } from "../scripts/render/assets";
import { epoch } from "./support/backup-checks";
import { HostSandbox } from "./support/host-sandbox";
import { WEBUI_TABLES, buildDataDir, integrityCheck, isDatabaseFile, isExcluded, rowCounts, treeHashes } from "./support/openwebui-data";
import { useS3Server } from "./support/s3-server";
import { describeWithTmpfs, mountTmpfs, unmountAll } from "./support/tmpfs";
import { webhookListener } from "./support/webhook-listener";
import { waitFor } from "./support/wait";

jest.setTimeout(300_000);

const OLD = "ghcr.io/open-webui/open-webui:v0.6.5";
const OLD_DIGEST = `ghcr.io/open-webui/open-webui@sha256:${"a".repeat(64)}`;
const NEW = "ghcr.io/open-webui/open-webui:v0.11.4";
const NEW_DIGEST = `ghcr.io/open-webui/open-webui@sha256:${"b".repeat(64)}`;
const BASE_REVISION = "3781e22d8b01";

const s3 = useS3Server();
let buckets = 0;

function stackConfig(sandbox: HostSandbox, job: Record<string, unknown>, targets: Record<string, unknown>, host: Record<string, unknown> = {}) {
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], jobs: [{ name: "nightly", ...job }], ...host }],
    resticPassword: "correct horse battery staple",
  };
}

/** The Open WebUI container as Pulumi creates it: from an image id, labelled with the configured reference. */
function runImage(sandbox: HostSandbox, image: string, id: string, digest: string): void {
  sandbox.setContainerImage("open-webui", id, id, digest, image);
  sandbox.setContainerState("open-webui", "running");
}

function sql(db: string, statement: string): string {
  return execFileSync("sqlite3", ["-bail", db, statement], { encoding: "utf8" }).trim();
}

/** Every row of a table, as JSON text per row, keyed by its first column. */
function rowsOf(db: string, table: string): Map<string, string> {
  const json = execFileSync("sqlite3", ["-readonly", "-json", db, `SELECT * FROM "${table}";`], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }).trim();
  const rows: Record<string, unknown>[] = json ? JSON.parse(json) : [];
  return new Map(rows.map((r) => [String(Object.values(r)[0]), JSON.stringify(r)]));
}

/** What the upgraded release does to the data when it starts: one-way migrations and new writes. */
function simulateMigration(data: string): void {
  const db = path.join(data, "webui.db");
  sql(db, "UPDATE alembic_version SET version_num = 'c0ffee0b5e11';");
  sql(db, "ALTER TABLE chat ADD COLUMN folder_id TEXT;");
  sql(db, "UPDATE chat SET title = 'migrated ' || title, folder_id = 'f0';");
  sql(db, "DELETE FROM knowledge; INSERT INTO user VALUES ('u2', 'New', 'new@example.org', 'user', 1800000000);");
  fs.writeFileSync(path.join(data, "uploads", "report 2024 final.pdf"), "rewritten by the new release");
  fs.writeFileSync(path.join(data, "uploads", "after-upgrade.txt"), "uploaded after the upgrade");
}

/** A busy Open WebUI inserting chats until stopped; resolves with what it committed. */
async function startWriter(db: string): Promise<{ proc: ChildProcess; stop: () => Promise<{ committed: number; failures: string[] }> }> {
  const proc = spawn("python3", [path.join(__dirname, "support", "webui-writer.py"), db, "0.005"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout!.on("data", (c) => (out += c));
  await new Promise<void>((resolve) => proc.stdout!.once("data", () => resolve()));
  return {
    proc,
    stop: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
      return JSON.parse(out.trim().split("\n").pop()!);
    },
  };
}

function manifestsUnder(dir: string): any[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => /^open-webui-backup-\d{8}T\d{6}Z$/.test(n))
    .sort()
    .map((n) => JSON.parse(fs.readFileSync(path.join(dir, n, "manifest.json"), "utf8")));
}

/** Nothing a run leaves behind: no staging, scratch, partial or incoming restore folders. */
function expectNothingLeftBehind(sandbox: HostSandbox): void {
  const staging = sandbox.paths.stagingDir;
  expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
  expect(fs.readdirSync(sandbox.root).filter((n) => /^data\.restore-/.test(n))).toEqual([]);
}

describe.each([
  ["restic", "s3", { method: "restic", retention: { daily: 7 } }],
  ["snapshot", "s3", { method: "snapshot", retention: { keep: 5 } }],
  ["local-snapshot", "local", { method: "local-snapshot", retention: { keep: 5 } }],
])("method %s on a %s target", (method, kind, job) => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => sandbox.cleanup());

  const targetsFor = async () =>
    kind === "s3"
      ? { offsite: s3.target(await newBucket()) }
      : { offsite: { type: "local", path: path.join(sandbox.root, "nas") } };

  it("pre-upgrade on a live data dir, a migration, then rollback gives the pre-upgrade data back and leaves Open WebUI stopped", async () => {
    sandbox.install(stackConfig(sandbox, { ...job, targets: ["offsite"] }, await targetsFor()));
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-01T03:00:00Z") });

    // 1. pre-upgrade while the old release keeps writing.
    const db = path.join(sandbox.dataDir, "webui.db");
    const chatsBefore = rowsOf(db, "chat");
    const writer = await startWriter(db);
    const pre = await sandbox.run(["pre-upgrade", "nightly", "--to-image", NEW], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-02T10:00:00Z") });
    const stats = await writer.stop();
    expect(pre.code).toBe(0);
    expect(pre.stdout).toContain(`pre-upgrade backup of job nightly done: taken under ${OLD}, before the upgrade to ${NEW}`);
    expect(stats.failures).toEqual([]);
    expect(stats.committed).toBeGreaterThan(0);
    // What Open WebUI held when the deploy stopped it: the reference for "the data back".
    const filesAtUpgrade = treeHashes(sandbox.dataDir, (rel) => isDatabaseFile(rel) || isExcluded(rel));
    const tablesAtUpgrade = Object.fromEntries(WEBUI_TABLES.map((t) => [t, rowsOf(db, t)]));
    const chatSchema = sql(db, "SELECT sql FROM sqlite_master WHERE name = 'chat';");

    // 2. The new release starts: the schema revision moves, a column is added, rows change.
    runImage(sandbox, NEW, "sha256:2222", NEW_DIGEST);
    simulateMigration(sandbox.dataDir);
    // A scheduled backup of the migrated data: newer, but not the one a rollback wants.
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-03T03:00:00Z") });

    const list = await sandbox.ok(["list", "nightly"]);
    const section = list.stdout.split("pre-upgrade backups on offsite")[1] ?? "";
    const lines = section.split("\n").filter((l) => /taken under/.test(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`taken under ${OLD} (schema ${BASE_REVISION}), before the upgrade to ${NEW}`);
    if (method === "restic") expect(list.stdout).toMatch(/openwebui-job:nightly,openwebui-pre-upgrade/);
    else expect(lines[0]).toContain("open-webui-backup-20261102T100000Z");

    // 3. rollback.
    const calls = sandbox.dockerCalls().length;
    const rb = await sandbox.run(["rollback", "nightly"]);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain("is STOPPED on purpose");
    expect(rb.stdout).toContain(`set hosts[web1].openwebui.image (the host named "web1") back to the image this backup was taken under:`);
    expect(rb.stdout).toContain(`image: ${OLD}@sha256:${"a".repeat(64)}`);
    expect(rb.stdout).toMatch(/Run "pulumi up": it recreates the open-webui container from that image/);
    expect(sandbox.containerState("open-webui")).toBe("exited");
    expect(sandbox.containerState("ollama")).toBe("running");
    const verbs = sandbox.dockerCalls().slice(calls).filter((c) => /^(stop|start|pause|unpause) /.test(c));
    expect(verbs).toEqual(["stop open-webui", "stop ollama", "start ollama"]);

    // Byte for byte: every file; row for row: every table; the schema as it was.
    expect(treeHashes(sandbox.dataDir, isDatabaseFile)).toEqual(filesAtUpgrade);
    expect(integrityCheck(db)).toBe("ok");
    expect(sql(db, "SELECT sql FROM sqlite_master WHERE name = 'chat';")).toBe(chatSchema);
    expect(sql(db, "SELECT version_num FROM alembic_version;")).toBe(BASE_REVISION);
    for (const t of WEBUI_TABLES.filter((x) => x !== "chat")) expect(rowsOf(db, t)).toEqual(tablesAtUpgrade[t]);
    // Chats: a consistent point during the backup: every chat from before it, each one as it was then.
    const chats = rowsOf(db, "chat");
    for (const [id, row] of chatsBefore) expect(chats.get(id)).toBe(row);
    for (const [id, row] of chats) expect(tablesAtUpgrade.chat.get(id)).toBe(row);
    expect(chats.size).toBeLessThanOrEqual(chatsBefore.size + stats.committed);
    const safety = fs.readdirSync(sandbox.root).filter((n) => n.startsWith("data.before-restore-"));
    expect(safety).toHaveLength(1);
    expect(rb.stdout).toContain(`The upgraded data is kept in ${path.join(sandbox.root, safety[0])}`);
    expect(fs.readFileSync(path.join(sandbox.root, safety[0], "uploads", "after-upgrade.txt"), "utf8")).toBe("uploaded after the upgrade");
    expectNothingLeftBehind(sandbox);

    // 4. `pulumi up` with the old pin runs pre-upgrade again before it replaces the stopped
    // container: that backup holds the rolled-back data, so it is recorded under the old image.
    await sandbox.ok(["pre-upgrade", "nightly", "--to-image", OLD], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-04T10:00:00Z") });
    const again = (await sandbox.ok(["list", "nightly"])).stdout.split("\n").filter((l) => /taken under/.test(l));
    // restic applies the job's retention (daily: 7) to the pre-upgrade snapshots among themselves:
    // the newest of the day stays. Folders count among the job's keep newest.
    expect(again).toHaveLength(method === "restic" ? 1 : 2);
    expect(again[again.length - 1]).toContain(`taken under ${OLD} (schema ${BASE_REVISION}), before the upgrade to ${OLD}`);
    // Once the container is recreated and runs, its own image counts again.
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-05T03:00:00Z") });
    expect(fs.existsSync(path.join(sandbox.paths.stateDir, "rolled-back"))).toBe(false);
  });

  it("restore --in-place refuses a backup of a newer Open WebUI; --force restores it", async () => {
    sandbox.install(stackConfig(sandbox, { ...job, targets: ["offsite"] }, await targetsFor()));
    runImage(sandbox, NEW, "sha256:2222", NEW_DIGEST);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-01T03:00:00Z") });
    const backedUp = treeHashes(sandbox.dataDir, (rel) => isDatabaseFile(rel) || isExcluded(rel));
    // The host now runs an older release (v0.6.5 < v0.11.4 as versions, not as text).
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "new.txt"), "written since");
    const live = treeHashes(sandbox.dataDir, isDatabaseFile);
    const liveChats = rowsOf(path.join(sandbox.dataDir, "webui.db"), "chat");

    const refused = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`refusing to restore in place: this backup was made by a newer Open WebUI than the one here (it was taken under ${NEW} (release 0.11.4); this host runs ${OLD} (release 0.6.5))`);
    expect(refused.stderr).toContain("An older release cannot read a newer schema");
    expect(treeHashes(sandbox.dataDir, isDatabaseFile)).toEqual(live);
    expect(rowsOf(path.join(sandbox.dataDir, "webui.db"), "chat")).toEqual(liveChats);
    expect(sandbox.dockerCalls().filter((c) => /^(stop|start) /.test(c))).toEqual([]);
    expectNothingLeftBehind(sandbox);

    const forced = await sandbox.run(["restore", "nightly", "--in-place", "--force"]);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toMatch(/warning: --force: restoring a backup of a newer Open WebUI/);
    expect(treeHashes(sandbox.dataDir, isDatabaseFile)).toEqual(backedUp);
    expect(sandbox.containerState("open-webui")).toBe("running");
  });
});

async function newBucket(): Promise<string> {
  const name = `upgrade-${++buckets}`;
  await s3.createBucket(name);
  return name;
}

describeWithTmpfs()("rollback on a data directory that is a mountpoint (its own disk)", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    mountTmpfs(sandbox.dataDir, "64m");
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => {
    unmountAll();
    sandbox.cleanup();
  });

  it("gives the pre-upgrade data back and names the safety copy inside the mountpoint, where the restore kept it", async () => {
    sandbox.install(stackConfig(sandbox, { method: "local-snapshot", retention: { keep: 5 }, targets: ["nas"] }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    await sandbox.ok(["pre-upgrade", "nightly", "--to-image", NEW], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-02T10:00:00Z") });
    runImage(sandbox, NEW, "sha256:2222", NEW_DIGEST);
    simulateMigration(sandbox.dataDir);

    const rb = await sandbox.ok(["rollback", "nightly"]);
    const safety = fs.readdirSync(sandbox.dataDir).filter((n) => n.startsWith(".openwebui-before-restore-"));
    expect(safety).toHaveLength(1);
    expect(rb.stdout).toContain(`The upgraded data is kept in ${path.join(sandbox.dataDir, safety[0])}`);
    expect(fs.readFileSync(path.join(sandbox.dataDir, safety[0], "uploads", "after-upgrade.txt"), "utf8")).toBe("uploaded after the upgrade");
    expect(fs.existsSync(path.join(sandbox.dataDir, "uploads", "after-upgrade.txt"))).toBe(false);
    expect(sql(path.join(sandbox.dataDir, "webui.db"), "SELECT version_num FROM alembic_version;")).toBe(BASE_REVISION);
  });
});

describe("pre-upgrade edge cases", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
  });
  afterEach(() => sandbox.cleanup());
  const nas = () => ({ nas: { type: "local", path: path.join(sandbox.root, "nas") } });
  const job = { method: "snapshot", retention: { keep: 3 }, targets: ["nas"] };

  it.each<[string, (s: HostSandbox) => Record<string, unknown>, RegExp]>([
    ["no data directory", () => ({}), /data directory .* does not exist yet/],
    ["an empty data directory", (s) => (fs.mkdirSync(s.dataDir), {}), /holds no webui\.db/],
    ["uploads but no webui.db", (s) => (fs.mkdirSync(path.join(s.dataDir, "uploads"), { recursive: true }), {}), /holds no webui\.db/],
    ["a Docker volume that does not exist yet", () => ({ data: { volume: "open-webui" } }), /Docker volume open-webui does not exist yet/],
  ])("first deploy, %s: a no-op that exits 0 and says so", async (_what, setup, why) => {
    const host = setup(sandbox);
    sandbox.install(stackConfig(sandbox, job, nas(), host));
    const r = await sandbox.run(["pre-upgrade", "nightly", "--to-image", NEW]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pre-upgrade backup of job nightly: not needed, no Open WebUI data on this host yet/);
    expect(r.stdout).toMatch(why);
    expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
    expect(fs.existsSync(path.join(sandbox.paths.stateDir, "nightly.json"))).toBe(false);
  });

  it("a Docker that does not answer is not taken for a host without data: it fails", async () => {
    sandbox.install(stackConfig(sandbox, job, nas(), { data: { volume: "open-webui" } }));
    const broken = path.join(sandbox.root, "broken-bin");
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, "docker"), "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock' >&2\nexit 1\n", { mode: 0o755 });
    const r = await sandbox.run(["pre-upgrade", "nightly", "--to-image", NEW], { PATH: `${broken}:${process.env.PATH}` });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Cannot connect to the Docker daemon/);
    expect(r.stderr).toMatch(/not letting an upgrade go ahead without a backup/);
  });

  it("target down: pre-upgrade exits non-zero, alerts, records the failure, leaves nothing behind", async () => {
    buildDataDir(sandbox.dataDir, { chats: 20, bigUploadBytes: 100_000 });
    const closed = await closedPort();
    const hook = await webhookListener();
    try {
      const targets = { offsite: { type: "s3", bucket: "gone", endpoint: `http://127.0.0.1:${closed}`, region: "us-east-1", accessKeyId: "k", secretAccessKey: "s" } };
      sandbox.install({ ...stackConfig(sandbox, { method: "snapshot", retention: { keep: 3 }, targets: ["offsite"] }, targets), notify: { webhookUrl: hook.url } });
      runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
      const r = await sandbox.run(["pre-upgrade", "nightly", "--to-image", NEW]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/offsite: FAILED/);
      expect(r.stdout).not.toMatch(/done/);
      expect(hook.jsonBodies()).toEqual([expect.objectContaining({ host: "web1", job: "nightly", outcome: "failure", target: "offsite" })]);
      expect(JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8")).outcome).toBe("failure");
      expect(sandbox.containerState("open-webui")).toBe("running");
      expectNothingLeftBehind(sandbox);
    } finally {
      await hook.close();
    }
  });

  it("refuses a downgrade without a rollback: the older release would start on migrated data", async () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, job, nas()));
    runImage(sandbox, NEW, "sha256:2222", NEW_DIGEST);
    const r = await sandbox.run(["pre-upgrade", "nightly", "--to-image", OLD]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`refusing: the deploy would start ${OLD} (release 0.6.5) on data that ${NEW} (release 0.11.4) has migrated`);
    expect(r.stderr).toContain("run `openwebui-backup rollback nightly` on this host first");
    expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
    // Tags that name no release cannot be ordered: the backup goes ahead.
    runImage(sandbox, "ghcr.io/open-webui/open-webui:main", "sha256:3333", "");
    await sandbox.ok(["pre-upgrade", "nightly", "--to-image", OLD]);
    expect(manifestsUnder(path.join(sandbox.root, "nas", "web1", "nightly")).map((m) => [m.image, m.upgradeTo])).toEqual([["ghcr.io/open-webui/open-webui:main", OLD]]);
  });

  it("refuses a sync job: its next run would overwrite the copy a rollback needs", async () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    // sync mirrors only to a versioned bucket (a local target is refused by the config).
    const bucket = await newBucket();
    const offsite = { offsite: s3.target(bucket) };
    sandbox.install(stackConfig(sandbox, { method: "sync", targets: ["offsite"] }, offsite));
    for (const args of [["pre-upgrade", "nightly", "--to-image", NEW], ["rollback", "nightly"]]) {
      const r = await sandbox.run(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/job nightly is a sync mirror: its next run overwrites the copy a rollback needs; use a restic, snapshot or local-snapshot job/);
    }
  });

  it("rollback without a pre-upgrade backup fails, touching nothing", async () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, job, nas()));
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    await sandbox.ok(["run", "nightly"]);
    const before = treeHashes(sandbox.dataDir);
    const r = await sandbox.run(["rollback", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/job nightly has no pre-upgrade backup to roll back to/);
    expect(treeHashes(sandbox.dataDir)).toEqual(before);
    expect(sandbox.containerState("open-webui")).toBe("running");
    expectNothingLeftBehind(sandbox);
  });

  it("rollback whose backup fails its check: exits non-zero, live data untouched, Open WebUI left stopped, nothing left behind", async () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, { method: "local-snapshot", retention: { keep: 3 }, targets: ["nas"] }, nas()));
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    await sandbox.ok(["pre-upgrade", "nightly", "--to-image", NEW], { OPENWEBUI_BACKUP_NOW: epoch("2026-11-02T10:00:00Z") });
    runImage(sandbox, NEW, "sha256:2222", NEW_DIGEST);
    simulateMigration(sandbox.dataDir);
    const migrated = treeHashes(sandbox.dataDir, isDatabaseFile);
    const migratedChats = rowsOf(path.join(sandbox.dataDir, "webui.db"), "chat");
    // The backup is damaged where it is kept.
    fs.writeFileSync(path.join(sandbox.root, "nas", "web1", "nightly", "open-webui-backup-20261102T100000Z", "data", "webui.db"), "not a database any more");

    const r = await sandbox.run(["rollback", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/the restored copy (fails integrity_check|does not match the backup's recorded sha256); the live data was not touched/);
    expect(r.stderr).toMatch(/rollback FAILED \(exit 1\); container open-webui is left stopped/);
    expect(r.stdout).not.toMatch(/Rolled back/);
    expect(treeHashes(sandbox.dataDir, isDatabaseFile)).toEqual(migrated);
    expect(rowsOf(path.join(sandbox.dataDir, "webui.db"), "chat")).toEqual(migratedChats);
    expect(sandbox.containerState("open-webui")).toBe("exited");
    expect(sandbox.containerState("ollama")).toBe("running");
    expect(fs.readdirSync(sandbox.root).filter((n) => n.startsWith("data.before-restore-"))).toEqual([]);
    expect(fs.existsSync(path.join(sandbox.paths.stateDir, "rolled-back"))).toBe(false);
    expectNothingLeftBehind(sandbox);
  });

  it("waits for a scheduled run holding the job's lock instead of failing the deploy", async () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, job, nas()));
    fs.mkdirSync(sandbox.paths.lockDir, { recursive: true });
    // The holder keeps the lock until its stdin closes.
    const holder = spawn("flock", [path.join(sandbox.paths.lockDir, "nightly.lock"), "cat"], { stdio: ["pipe", "ignore", "ignore"] });
    await waitFor("the holder to take the lock", () => lockHeld(path.join(sandbox.paths.lockDir, "nightly.lock")));
    const pre = spawn(sandbox.paths.command, ["pre-upgrade", "nightly", "--to-image", NEW], { env: sandbox.env(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    pre.stderr!.on("data", (c) => (stderr += c));
    const exited = new Promise<number>((r) => pre.once("exit", (code) => r(code ?? -1)));
    await waitFor("pre-upgrade to wait for the lock", () => /holds .*nightly\.lock; waiting up to 1800 s/.test(stderr));
    holder.stdin!.end();
    expect(await exited).toBe(0);
    expect(manifestsUnder(path.join(sandbox.root, "nas", "web1", "nightly")).map((m) => m.upgradeTo)).toEqual([NEW]);
  });

  it("the command Pulumi runs on the host (the component's create string) runs pre-upgrade for real", () => {
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, job, nas()));
    runImage(sandbox, OLD, "sha256:1111", OLD_DIGEST);
    const out = execFileSync("/bin/sh", ["-c", preUpgradeCommand(sandbox.paths.command, "nightly", NEW)], { env: sandbox.env(), encoding: "utf8" });
    expect(out).toContain(`pre-upgrade backup of job nightly done: taken under ${OLD}, before the upgrade to ${NEW}`);
    const [m] = manifestsUnder(path.join(sandbox.root, "nas", "web1", "nightly"));
    expect(m).toMatchObject({ image: OLD, imageDigest: OLD_DIGEST, upgradeTo: NEW, schemaRevision: BASE_REVISION });
  });
});

/** The guard's building blocks, run in bash from the part itself. */
describe("version order of the restore guard", () => {
  const upgradePart = hostAsset(BACKUP_COMMAND_PARTS.find((p) => p.endsWith("upgrade.bash"))!);
  const bash = (script: string) => execFileSync("bash", ["-c", `${upgradePart}\n${script}`], { encoding: "utf8" });

  it.each([
    ["ghcr.io/open-webui/open-webui:v0.6.10", "0.6.10"],
    ["ghcr.io/open-webui/open-webui:v0.6.5-cuda", "0.6.5"],
    [`ghcr.io/open-webui/open-webui:v0.11.4@sha256:${"c".repeat(64)}`, "0.11.4"],
    ["ollama/ollama:0.35.1", "0.35.1"],
    ["localhost:5000/open-webui:v1.2", "1.2"],
    ["ghcr.io/open-webui/open-webui:main", ""],
    ["ghcr.io/open-webui/open-webui:git-1b7c125", ""],
    ["localhost:5000/open-webui", ""],
    ["sha256:1111", ""],
  ])("image_version %s = %j", (ref, want) => {
    expect(bash(`image_version '${ref}'`)).toBe(want);
  });

  it.each([
    ["0.6.10", "0.6.5", true],
    ["0.6.5", "0.6.10", false],
    ["0.11.4", "0.6.5", true],
    ["0.6.5", "0.6.5", false],
    ["1.0", "0.99.99", true],
  ])("version_newer %s %s: %s", (a, b, want) => {
    expect(bash(`if version_newer ${a} ${b}; then echo yes; else echo no; fi`).trim()).toBe(want ? "yes" : "no");
  });

  it.each([
    [BASE_REVISION, BASE_REVISION, "same-or-older"],
    ["peewee:017_add_user_oauth_sub", BASE_REVISION, "same-or-older"],
    [BASE_REVISION, "peewee:017_add_user_oauth_sub", "newer"],
    ["peewee:018_x", "peewee:017_y", "newer"],
    ["peewee:009_x", "peewee:017_y", "same-or-older"],
    ["c0ffee0b5e11", BASE_REVISION, "unknown"],
  ])("schema_order %s %s: %s", (b, l, want) => {
    expect(bash(`schema_order '${b}' '${l}'`).trim()).toBe(want);
  });
});

describe("the guard when tags name no release", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir, { chats: 5, bigUploadBytes: 1000 });
    sandbox.install(stackConfig(sandbox, { method: "local-snapshot", retention: { keep: 3 }, targets: ["nas"] }, { nas: { type: "local", path: path.join(sandbox.root, "nas") } }));
    runImage(sandbox, "ghcr.io/open-webui/open-webui:main", "sha256:3333", "");
  });
  afterEach(() => sandbox.cleanup());

  it("same schema revision: restores without a word", async () => {
    await sandbox.ok(["run", "nightly"]);
    const r = await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(r.stderr).not.toMatch(/refusing|cannot tell/);
  });

  it("an Alembic backup onto a peewee-era database: refused as newer", async () => {
    await sandbox.ok(["run", "nightly"]);
    const db = path.join(sandbox.dataDir, "webui.db");
    sql(db, "DROP TABLE alembic_version; CREATE TABLE migratehistory (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO migratehistory (name) VALUES ('017_add_user_oauth_sub');");
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`its schema revision is ${BASE_REVISION}; the live database's is peewee:017_add_user_oauth_sub`);
  });

  it("two Alembic revisions with no order: a warning, and the restore goes on", async () => {
    await sandbox.ok(["run", "nightly"]);
    sql(path.join(sandbox.dataDir, "webui.db"), "UPDATE alembic_version SET version_num = 'c0ffee0b5e11';");
    const r = await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(r.stderr).toMatch(/warning: cannot tell whether this backup is newer than the Open WebUI here .*restoring anyway/);
    expect(rowCounts(path.join(sandbox.dataDir, "webui.db"), ["alembic_version"])).toEqual({ alembic_version: 1 });
    expect(sql(path.join(sandbox.dataDir, "webui.db"), "SELECT version_num FROM alembic_version;")).toBe(BASE_REVISION);
  });
});

/** A TCP port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Whether someone holds an exclusive flock on the file. */
function lockHeld(file: string): boolean {
  try {
    execFileSync("flock", ["-n", file, "true"]);
    return false;
  } catch {
    return true;
  }
}

