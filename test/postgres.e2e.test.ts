/**
 * Open WebUI on PostgreSQL, end to end against a real server: a throwaway cluster of Debian's
 * own PostgreSQL (test/support/postgres.ts) under a temporary directory, the rendered command,
 * real pg_dump / pg_restore / psql, restic, rclone and the local S3 server. The database
 * container is the docker stub's `exec`, which runs the real client tools against the cluster
 * (as `docker exec open-webui-db pg_dump …` runs the server's own tools inside the container).
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { AWKWARD_UPLOAD_NAMES, buildDataDir, isExcluded, treeHashes } from "./support/openwebui-data";
import { PgCluster, WEBUI_PG_REVISION, WEBUI_PG_TABLES, createWebuiTables, pgRowCounts, postgresAvailable, startPgWriter, startPostgres } from "./support/postgres";
import { S3TestServer, s3ClientEnv, startS3Server } from "./support/s3-server";
import { installPull, startPullSshd } from "./support/pull-pair";
import { TestSshd } from "./support/sshd";
import { WebhookListener, webhookListener } from "./support/webhook-listener";
import { waitFor } from "./support/wait";

jest.setTimeout(300_000);

const DB_CONTAINER = "open-webui-db";
const OWUI_IMAGE = "ghcr.io/open-webui/open-webui:v0.6.5";
/** Without Debian's postgresql package the suites are skipped, and say why in their names. */
const suite: (name: string, fn: () => void) => void = postgresAvailable()
  ? describe
  : (name, fn) => describe.skip(`${name} [skipped: no PostgreSQL server binaries under /usr/lib/postgresql; install Debian's postgresql package]`, fn);

let pg: PgCluster;
let s3: S3TestServer;
let counter = 0;

beforeAll(async () => {
  if (!postgresAvailable()) return;
  [pg, s3] = await Promise.all([startPostgres(), startS3Server()]);
});
afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
});

/** A fresh Open WebUI-shaped database. */
function newDatabase(chats = 200): string {
  const name = `webui_${++counter}`;
  pg.createDatabase(name);
  createWebuiTables(pg, name, chats);
  return name;
}

/** A data directory as Open WebUI keeps it on PostgreSQL: no webui.db, the rest as usual. */
function buildPostgresDataDir(dir: string): void {
  buildDataDir(dir);
  for (const f of ["webui.db", "webui.db-wal", "webui.db-shm"]) fs.rmSync(path.join(dir, f), { force: true });
}

type Source = { container: string; database: string } | { url: string };

function hostConfig(sandbox: HostSandbox, source: Source, job: Record<string, unknown>, targets: Record<string, unknown>, extra: Record<string, unknown> = {}, host: Record<string, unknown> = {}) {
  const postgres = "url" in source ? { url: source.url } : { container: source.container, user: pg.superuser, database: source.database };
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, database: { postgres }, containers: ["open-webui"], jobs: [{ name: "nightly", ...job }], ...host }],
    resticPassword: "correct horse battery staple",
    ...extra,
  };
}

/** A sandbox whose `docker exec open-webui-db …` reaches the cluster over its socket. */
function newSandbox(): HostSandbox {
  const sandbox = new HostSandbox("owb-pg-host-");
  buildPostgresDataDir(sandbox.dataDir);
  sandbox.setExecEnvironment(DB_CONTAINER, { PGHOST: pg.socketDir, PGPORT: String(pg.port) });
  return sandbox;
}

const localTarget = (sandbox: HostSandbox) => ({ nas: { type: "local", path: path.join(sandbox.root, "nas") } });
const manifestOf = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));
const dumpIn = (tree: string) => path.join(tree, "openwebui-backup", "postgres.dump");

/** Loads a dump with the real pg_restore into a new database; returns its name. */
function loadDump(dump: string): string {
  const name = `check_${++counter}`;
  pg.createDatabase(name);
  const r = require("child_process").spawnSync("pg_restore", ["--no-owner", "--exit-on-error", "-d", name, dump], { env: pg.env(name), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`pg_restore of ${dump} failed: ${r.stderr}`);
  return name;
}

const filesOnly = (rel: string) => isExcluded(rel) || rel === "vector_db/chroma.sqlite3" || /^vector_db\/chroma\.sqlite3-/.test(rel);

suite("PostgreSQL in the database container (docker exec)", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = newSandbox();
  });
  afterEach(() => sandbox.cleanup());

  it.each([
    ["restic", { method: "restic", retention: { keep: 3 } }],
    ["snapshot", { method: "snapshot", retention: { keep: 3 } }],
    ["sync", { method: "sync" }],
    ["local-snapshot", { method: "local-snapshot", retention: { keep: 3 } }],
  ])("%s: an online backup while a writer inserts; the dump restores with the manifest's row counts, the files intact, verify passes", async (_m, job) => {
    const db = newDatabase();
    sandbox.databasePassword = "role-password-from-the-stack";
    // sync mirrors only to a versioned bucket: its row goes to the local S3 server.
    let targets: Record<string, unknown> = localTarget(sandbox);
    if (job.method === "sync") {
      const bucket = `pg-sync-${++counter}`;
      await s3.createBucket(bucket);
      targets = { nas: s3.target(bucket) };
    }
    sandbox.install(hostConfig(sandbox, { container: DB_CONTAINER, database: db }, { ...job, targets: ["nas"] }, targets));
    const writer = await startPgWriter(pg, db, 5);
    const run = await sandbox.run(["run", "nightly"]);
    const stats = await writer.stop();
    expect(run.code).toBe(0);
    expect(stats.failures).toEqual([]);
    expect(stats.committed).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/dumped PostgreSQL 15\.\d+ .*database "webui_\d+" in container open-webui-db/);

    const restored = path.join(sandbox.root, "restored");
    const r = await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(r.stderr).toMatch(/PostgreSQL dump: .*postgres\.dump/);
    // The data directory's files, byte for byte (Chroma by content: it is a fresh copy).
    expect(treeHashes(restored, (rel) => filesOnly(rel) || rel.startsWith("openwebui-backup"))).toEqual(treeHashes(sandbox.dataDir, filesOnly));

    // The dump is one snapshot: the rows from before the run, some of the writer's, and exactly the counts recorded.
    const loaded = loadDump(dumpIn(restored));
    const counts = pgRowCounts(pg, loaded);
    expect(counts.chat).toBeGreaterThanOrEqual(200);
    expect(counts.chat).toBeLessThanOrEqual(200 + stats.committed);
    expect(counts.knowledge).toBe(1);
    // The writer kept committing after the snapshot was taken, yet the dump holds none of those rows.
    expect(pgRowCounts(pg, db).chat).toBeGreaterThan(counts.chat);
    const rows = fs.readFileSync(path.join(restored, "openwebui-backup", "postgres-rows.txt"), "utf8");
    for (const t of WEBUI_PG_TABLES) expect(rows).toContain(`${t}|${counts[t]}\n`);

    const verify = await sandbox.ok(["verify", "nightly"]);
    expect(verify.stderr).toMatch(/verify: PostgreSQL dump restored; row counts match the manifest/);
    expect(pg.databases().filter((d) => d.startsWith("owb_verify_"))).toEqual([]);

    // The role's password reached docker exec by name only, never on a command line.
    const calls = sandbox.dockerCalls().filter((c) => c.startsWith("exec "));
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toMatch(/^exec -i -e PGUSER -e PGDATABASE -e PGPASSWORD open-webui-db (psql|pg_dump|pg_restore) /);
    expect(sandbox.dockerCalls().join("\n")).not.toContain("role-password-from-the-stack");
    // Online: Open WebUI was neither paused nor stopped.
    expect(sandbox.dockerCalls().filter((c) => /^(stop|pause) /.test(c))).toEqual([]);
  });

  it("records the server version, the schema revision and the dump's row counts in the manifest", async () => {
    const db = newDatabase(50);
    sandbox.install(hostConfig(sandbox, { container: DB_CONTAINER, database: db }, { method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"] }, localTarget(sandbox)));
    await sandbox.ok(["run", "nightly"]);
    const root = path.join(sandbox.root, "nas", "web1", "nightly");
    const folder = fs.readdirSync(root).find((f) => f.startsWith("open-webui-backup-"))!;
    const manifest = manifestOf(path.join(root, folder, "manifest.json"));
    expect(manifest.schemaRevision).toBe(WEBUI_PG_REVISION);
    expect(manifest.database).toEqual({
      engine: "postgresql",
      serverVersion: expect.stringMatching(/^15\.\d+/),
      schemaRevision: WEBUI_PG_REVISION,
      dump: "openwebui-backup/postgres.dump",
      rowCounts: pgRowCounts(pg, db),
    });
  });
});

/** A psql session holding a lock until released: pg_restore blocks on it inside its transaction. */
async function holdLock(db: string, sql: string): Promise<{ release: () => Promise<void> }> {
  const child: ChildProcess = spawn("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], { env: { ...pg.env(db), PGAPPNAME: "owb-test-blocker" }, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (c) => String(c).includes("locked") && resolve());
    child.once("exit", (code) => reject(new Error(`the lock holder exited ${code}`)));
    child.stdin!.write(`BEGIN; ${sql}; SELECT 'locked';\n`);
  });
  return {
    release: async () => {
      child.stdin!.end("COMMIT;\n");
      await exited;
    },
  };
}

const onlyStartStop = (calls: string[]) => calls.filter((c) => /^(stop|start|pause|unpause) /.test(c));
const leftovers = (sandbox: HostSandbox) => fs.readdirSync(sandbox.root).filter((n) => /^data\.restore-/.test(n));

suite("restore in place and its failures", () => {
  let sandbox: HostSandbox;
  let hook: WebhookListener;
  beforeEach(async () => {
    sandbox = newSandbox();
    hook = await webhookListener();
  });
  afterEach(async () => {
    sandbox.cleanup();
    await hook.close();
  });

  const install = (db: string) =>
    sandbox.install(
      hostConfig(sandbox, { container: DB_CONTAINER, database: db }, { method: "snapshot", retention: { keep: 3 }, targets: ["nas"] }, localTarget(sandbox), {
        notify: { webhookUrl: hook.url },
      }, { containers: ["open-webui", "ollama"] }),
    );

  it("after a table was dropped: stops Open WebUI, restores the database in one transaction and the files, keeps the old database, starts it again", async () => {
    const db = newDatabase();
    install(db);
    await sandbox.ok(["run", "nightly"]);
    const atBackup = pgRowCounts(pg, db);
    const files = treeHashes(sandbox.dataDir, filesOnly);

    pg.psql(`DROP TABLE knowledge; DELETE FROM chat WHERE id LIKE 'c1%'; INSERT INTO "user" VALUES ('u2', 'Eve', 'eve@example.org', 'user', 1);`, db);
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", AWKWARD_UPLOAD_NAMES[0]), "overwritten by mistake");

    const r = await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(pgRowCounts(pg, db)).toEqual(atBackup);
    expect(pg.psql(`SELECT name FROM knowledge;`, db).trim()).toBe("Manuals");
    expect(treeHashes(sandbox.dataDir, filesOnly)).toEqual(files);
    expect(fs.existsSync(path.join(sandbox.dataDir, "openwebui-backup"))).toBe(false);
    expect(leftovers(sandbox)).toEqual([]);

    // The database as it was before the restore is kept, and loads.
    const safety = fs.readdirSync(sandbox.root).filter((n) => /^data\.before-restore-.*\.pgdump$/.test(n));
    expect(safety).toHaveLength(1);
    const previous = loadDump(path.join(sandbox.root, safety[0]));
    expect(pg.psql(`SELECT to_regclass('knowledge') IS NULL, (SELECT count(*) FROM "user");`, previous).trim()).toBe("t|2");
    expect(r.stderr).toMatch(/database restored; the previous one is kept in .*\.pgdump/);

    // Open WebUI was stopped around the restore only; pg_restore ran while it was down.
    const calls = sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"));
    expect(onlyStartStop(calls)).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
    const restoreCall = calls.findIndex((c) => / pg_restore --clean --if-exists --single-transaction /.test(c));
    expect(restoreCall).toBeGreaterThan(calls.indexOf("stop ollama"));
    expect(restoreCall).toBeLessThan(calls.indexOf("start open-webui"));
  });

  it("pg_restore interrupted mid-transaction (SIGTERM): the old database is intact, Open WebUI runs again, nothing half-restored is left", async () => {
    const db = newDatabase();
    install(db);
    await sandbox.ok(["run", "nightly"]);
    pg.psql(`DELETE FROM chat WHERE id LIKE 'c1%';`, db);
    const before = pgRowCounts(pg, db);
    const files = treeHashes(sandbox.dataDir, filesOnly);

    // pg_restore drops tables in reverse order and alembic_version last: holding a lock on it
    // stops the restore inside its transaction, with the other drops already done.
    const blocker = await holdLock(db, "LOCK TABLE alembic_version IN ACCESS SHARE MODE");
    let stderr = "";
    const child = spawn(sandbox.paths.command, ["restore", "nightly", "--in-place"], { env: sandbox.env(), detached: true, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.once("exit", (code, signal) => r(code ?? (signal ? 128 : null))));
    try {
      const waiting = () => pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_restore' AND wait_event_type = 'Lock';`, "postgres").trim() === "1";
      await waitFor("pg_restore to wait on the lock", waiting);
      const dropped = pg.psql(
        `SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.application_name = 'pg_restore' AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted;`,
        "postgres",
      );
      expect(Number(dropped)).toBeGreaterThan(0);
      process.kill(-child.pid!, "SIGTERM");
      const code = await exited;
      expect(code).not.toBe(0);
    } finally {
      await blocker.release();
    }
    expect(pgRowCounts(pg, db)).toEqual(before);
    expect(treeHashes(sandbox.dataDir, filesOnly)).toEqual(files);
    expect(onlyStartStop(sandbox.dockerCalls())).toEqual(["stop open-webui", "stop ollama", "start open-webui", "start ollama"]);
    // The fetched copy had passed its checks before anything was stopped: the crash-safe restore
    // keeps it (and says where) rather than fetch it again; nothing half-restored is left.
    const kept = leftovers(sandbox);
    expect(kept.filter((n) => !n.includes(".", "data.restore-".length))).toHaveLength(1);
    expect(kept.every((n) => /^data\.restore-[0-9TZ-]+(\.manifest\.json|\.files\.sha256)?$/.test(n))).toBe(true);
    expect(fs.readdirSync(sandbox.root).filter((n) => n.startsWith("data.before-restore-") && !n.endsWith(".pgdump"))).toEqual([]);
    expect(stderr).toMatch(/restoring PostgreSQL database .* in one transaction/);
  });

  it("a damaged dump: restore in place fails, the old database is intact and Open WebUI runs again; verify fails and alerts", async () => {
    const db = newDatabase(400);
    install(db);
    await sandbox.ok(["run", "nightly"]);
    pg.psql(`INSERT INTO "user" VALUES ('u2', 'Eve', 'eve@example.org', 'user', 1);`, db);
    const before = pgRowCounts(pg, db);
    const root = path.join(sandbox.root, "nas", "web1", "nightly");
    const folder = fs.readdirSync(root).find((f) => f.startsWith("open-webui-backup-"))!;
    const dump = dumpIn(path.join(root, folder, "data"));
    fs.truncateSync(dump, Math.floor(fs.statSync(dump).size / 2));

    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    // The whole-tree check reads the damaged dump before the scratch restore would try it.
    expect(verify.stderr).toMatch(/file check FAILED: 1 differ.*|verify: the PostgreSQL dump does not restore/);
    expect(verify.stderr).toMatch(/postgres\.dump|PostgreSQL dump/);
    expect(verify.stderr).toMatch(/verify FAILED for target nas/);
    expect(hook.jsonBodies()).toHaveLength(1);
    expect(hook.jsonBodies()[0]).toMatchObject({ host: "web1", job: "nightly", outcome: "failure", message: "restore drill failed on target nas" });
    expect(pg.databases().filter((d) => d.startsWith("owb_verify_"))).toEqual([]);
    expect(fs.readdirSync(sandbox.paths.stagingDir)).toEqual([]);

    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    // The dump's recorded sha256 refuses it before anything is stopped: pg_restore never sees it.
    expect(r.stderr).toMatch(/differs: openwebui-backup\/postgres\.dump/);
    expect(r.stderr).toMatch(/the live data was not touched/);
    expect(pgRowCounts(pg, db)).toEqual(before);
    expect(onlyStartStop(sandbox.dockerCalls())).toEqual([]);
    expect(leftovers(sandbox)).toEqual([]);
  });

  it("verify fails when the dump's row counts differ from the manifest's", async () => {
    const db = newDatabase(20);
    install(db);
    await sandbox.ok(["run", "nightly"]);
    const root = path.join(sandbox.root, "nas", "web1", "nightly");
    const folder = fs.readdirSync(root).find((f) => f.startsWith("open-webui-backup-"))!;
    const manifest = path.join(root, folder, "manifest.json");
    fs.writeFileSync(manifest, fs.readFileSync(manifest, "utf8").replace('"chat": 20', '"chat": 21'));
    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/verify: row counts differ: the manifest says \{.*"chat": 21.*\}, the restored dump has \{.*"chat": 20.*\}/);
    expect(hook.jsonBodies()).toHaveLength(1);
    expect(pg.databases().filter((d) => d.startsWith("owb_verify_"))).toEqual([]);
  });

  it("source gate: a database without Open WebUI's tables is refused; nothing is shipped, an alert goes out, no session is left open", async () => {
    const db = `empty_${++counter}`;
    pg.createDatabase(db);
    install(db);
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`source gate: PostgreSQL database "${db}" in container open-webui-db has no Open WebUI tables \\(missing: user chat\\); refusing to back it up`));
    expect(hook.jsonBodies()).toHaveLength(1);
    expect(hook.jsonBodies()[0]).toMatchObject({ outcome: "failure", message: "staging the data directory failed" });
    expect(JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.json"), "utf8")).outcome).toBe("failure");
    expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
    await waitFor("the snapshot session to end", () => pg.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${db}';`).trim() === "0", 10_000);
  });
});

suite("PostgreSQL by URL (client tools on the host)", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = newSandbox();
  });
  afterEach(() => sandbox.cleanup());

  it("authenticates with the URL's password through PGPASSWORD, backs up to S3, restores and verifies; docker is never asked", async () => {
    const db = newDatabase();
    await s3.createBucket(`pg-url-${counter}`);
    const offsite = s3.target(`pg-url-${counter}`);
    sandbox.install(hostConfig(sandbox, { url: pg.url(db) }, { method: "restic", retention: { keep: 2 }, targets: ["offsite"] }, { offsite }));
    const env = fs.readFileSync(sandbox.paths.envFile, "utf8");
    expect(env).toContain(`OWB_DATABASE_URL='${pg.url(db)}'`);
    expect(fs.statSync(sandbox.paths.envFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(sandbox.paths.command, "utf8")).not.toContain(pg.password);

    const run = await sandbox.ok(["run", "nightly"]);
    expect(run.stderr).toMatch(new RegExp(`dumped PostgreSQL 15\\.\\d+ .*database "${db}" on 127\\.0\\.0\\.1:${pg.port}`));
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(pgRowCounts(pg, loadDump(dumpIn(restored)))).toEqual(pgRowCounts(pg, db));
    const verify = await sandbox.ok(["verify", "nightly"]);
    expect(verify.stderr).toMatch(/row counts match the manifest/);
    expect(sandbox.dockerCalls().filter((c) => !/^(image )?inspect /.test(c))).toEqual([]);
    const log = fs.readFileSync(path.join(sandbox.root, "var/log/openwebui-backup/nightly.log"), "utf8");
    expect(log).not.toContain(pg.password);
    expect(run.stderr + verify.stderr).not.toContain(pg.password);
  });

  it("a wrong password fails the run with libpq's message, and the alert carries no password", async () => {
    const db = newDatabase(5);
    const hook = await webhookListener();
    try {
      const url = pg.url(db).replace(pg.password, "not-the-password");
      sandbox.install(hostConfig(sandbox, { url }, { method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"] }, localTarget(sandbox), { notify: { webhookUrl: hook.url } }));
      const r = await sandbox.run(["run", "nightly"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/password authentication failed/);
      expect(r.stderr).toMatch(/could not open a snapshot of PostgreSQL database/);
      expect(hook.jsonBodies()).toHaveLength(1);
      expect(JSON.stringify(hook.jsonBodies())).not.toContain("not-the-password");
    } finally {
      await hook.close();
    }
  });

  it("refuses a pg_dump older than the server, saying which client to install", async () => {
    const db = newDatabase(5);
    sandbox.install(hostConfig(sandbox, { url: pg.url(db) }, { method: "local-snapshot", retention: { keep: 2 }, targets: ["nas"] }, localTarget(sandbox)));
    fs.writeFileSync(
      path.join(sandbox.binDir, "pg_dump"),
      `#!/usr/bin/env bash\nif [[ "$1" == --version ]]; then echo "pg_dump (PostgreSQL) ${pg.major - 1}.9"; exit 0; fi\nexec /usr/bin/pg_dump "$@"\n`,
      { mode: 0o755 },
    );
    const r = await sandbox.run(["run", "nightly"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`pg_dump ${pg.major - 1} on this host cannot dump a PostgreSQL ${pg.major} server; install client tools of version ${pg.major} or newer`);
    expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
  });
});

// ---------------------------------------------------------------- the stack's shape: files in S3

/** rclone against the local S3 server, for putting and reading Open WebUI's files. */
function s3rclone(args: string[]): string {
  const env = {
    ...s3ClientEnv(),
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_T_TYPE: "s3",
    RCLONE_CONFIG_T_PROVIDER: "Other",
    RCLONE_CONFIG_T_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_T_REGION: "us-east-1",
    RCLONE_CONFIG_T_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_T_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  return execFileSync("rclone", args, { env, encoding: "utf8" });
}

const FILES = { "f1_manual.pdf": "manual v1\n", "9a2b_ünïcödé report 2024.md": "résumé\n", "c3d4_it's \"quoted\".txt": "quoted\n" };

suite("Open WebUI on the stack's PostgreSQL with its files in S3", () => {
  let sandbox: HostSandbox;
  let bucket: string;
  beforeEach(async () => {
    sandbox = newSandbox();
    bucket = `owui-files-${++counter}`;
    await s3.createBucket(bucket);
    // What the stack's container holds: role and database "openwebui" (the image makes the role a superuser).
    pg.psql(`DROP DATABASE IF EXISTS openwebui WITH (FORCE);\nDROP ROLE IF EXISTS openwebui;\nCREATE ROLE openwebui LOGIN SUPERUSER;\nCREATE DATABASE openwebui OWNER openwebui;`);
    createWebuiTables(pg, "openwebui", 100);
    const src = path.join(sandbox.root, "uploads-src");
    fs.mkdirSync(src);
    for (const [name, content] of Object.entries(FILES)) fs.writeFileSync(path.join(src, name), content);
    s3rclone(["copy", src, `t:${bucket}/openwebui-files`]);
  });
  afterEach(() => sandbox.cleanup());

  const stackConfig = (job: Record<string, unknown>) => ({
    targets: {
      files: s3.target(bucket, { prefix: undefined }),
      nas: { type: "local", path: path.join(sandbox.root, "nas") },
    },
    hosts: [
      {
        name: "web1",
        openwebui: {
          image: OWUI_IMAGE,
          data: { dir: sandbox.dataDir },
          database: { postgres: { image: "postgres:16.4" } },
          storage: { s3: { target: "files", prefix: "openwebui-files/" } },
        },
        jobs: [{ name: "nightly", targets: ["nas"], ...job }],
      },
    ],
    resticPassword: "correct horse battery staple",
  });

  it.each([
    ["snapshot", { method: "snapshot", retention: { keep: 3 } }],
    ["restic", { method: "restic", retention: { keep: 3 } }],
  ])("%s: dump first, then the prefix; restore --to gives both; in place puts back a deleted file and the rows; verify passes", async (_m, job) => {
    sandbox.install(stackConfig(job));
    const env = fs.readFileSync(sandbox.paths.envFile, "utf8");
    expect(env).toMatch(/^OWB_DATABASE_CONTAINER='open-webui-db'$/m);
    expect(env).toMatch(/^OWB_STORAGE_PREFIX='openwebui-files'$/m);

    const run = await sandbox.ok(["run", "nightly"]);
    const lines = run.stderr.split("\n");
    const dumped = lines.findIndex((l) => /dumped PostgreSQL .*database "openwebui" in container open-webui-db/.test(l));
    const copied = lines.findIndex((l) => /copied 3 files, \d+ bytes of Open WebUI's files from bucket owui-files-\d+, prefix openwebui-files/.test(l));
    expect(dumped).toBeGreaterThanOrEqual(0);
    expect(copied).toBeGreaterThan(dumped);

    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    const copy = path.join(restored, "openwebui-backup", "object-storage");
    expect(Object.fromEntries(fs.readdirSync(copy).map((n) => [n, fs.readFileSync(path.join(copy, n), "utf8")]))).toEqual(FILES);
    expect(pgRowCounts(pg, loadDump(dumpIn(restored)))).toEqual(pgRowCounts(pg, "openwebui"));

    // After the backup: a file deleted (with its row), a new one uploaded.
    const atBackup = pgRowCounts(pg, "openwebui");
    pg.psql(`DELETE FROM file WHERE id = 'f1';`, "openwebui");
    s3rclone(["deletefile", `t:${bucket}/openwebui-files/f1_manual.pdf`]);
    fs.writeFileSync(path.join(sandbox.root, "new.txt"), "uploaded after the backup\n");
    s3rclone(["copyto", path.join(sandbox.root, "new.txt"), `t:${bucket}/openwebui-files/e5f6_new.txt`]);

    await sandbox.ok(["restore", "nightly", "--in-place"]);
    expect(pgRowCounts(pg, "openwebui")).toEqual(atBackup);
    expect(s3rclone(["cat", `t:${bucket}/openwebui-files/f1_manual.pdf`])).toBe(FILES["f1_manual.pdf"]);
    // A copy, not a sync: what was uploaded since stays.
    expect(s3rclone(["lsf", `t:${bucket}/openwebui-files`]).split("\n").filter(Boolean).sort()).toEqual([...Object.keys(FILES), "e5f6_new.txt"].sort());
    expect(fs.existsSync(path.join(sandbox.dataDir, "openwebui-backup"))).toBe(false);
    expect(onlyStartStop(sandbox.dockerCalls())).toEqual(["stop open-webui", "start open-webui"]);

    const verify = await sandbox.ok(["verify", "nightly"]);
    expect(verify.stderr).toMatch(/row counts match the manifest/);

    // The next run downloads only what is new into its mirror, and stages all four files.
    const next = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: String(Math.floor(Date.now() / 1000) + 3600) });
    expect(next.stderr).toMatch(/copied 4 files/);
  });

  it("an unreachable bucket fails the run before anything is shipped, with an alert", async () => {
    const hook = await webhookListener();
    try {
      const cfg = stackConfig({ method: "snapshot", retention: { keep: 3 } });
      (cfg.targets.files as { bucket: string }).bucket = "no-such-bucket";
      sandbox.install({ ...cfg, notify: { webhookUrl: hook.url } });
      const r = await sandbox.run(["run", "nightly"]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/could not copy Open WebUI's files from bucket no-such-bucket, prefix openwebui-files/);
      expect(hook.jsonBodies()).toHaveLength(1);
      expect(fs.existsSync(path.join(sandbox.root, "nas"))).toBe(false);
    } finally {
      await hook.close();
    }
  });
});

// ---------------------------------------------------------------- method pull

suite("method pull of a PostgreSQL host's snapshots", () => {
  let source: HostSandbox;
  let puller: HostSandbox;
  let sshd: TestSshd;
  beforeEach(async () => {
    source = newSandbox();
    puller = new HostSandbox("owb-pg-nas-");
    sshd = await startPullSshd(source);
  });
  afterEach(async () => {
    await sshd?.stop();
    source.cleanup();
    puller.cleanup();
  });

  it("copies the dump with the files; the puller restores it and checks the files (it has no server to load it into)", async () => {
    const db = newDatabase();
    installPull(source, puller, sshd, { source: { database: { postgres: { container: DB_CONTAINER, user: pg.superuser, database: db } } } });
    await source.ok(["run", "nightly"]);
    await puller.ok(["run", "from-web1"]);
    const restored = path.join(puller.root, "restored");
    await puller.ok(["restore", "from-web1", "--to", restored]);
    expect(pgRowCounts(pg, loadDump(dumpIn(restored)))).toEqual(pgRowCounts(pg, db));
    expect(treeHashes(restored, (rel) => filesOnly(rel) || rel.startsWith("openwebui-backup"))).toEqual(treeHashes(source.dataDir, filesOnly));
    await puller.ok(["verify", "from-web1"]);
  });
});
