/**
 * A throwaway PostgreSQL cluster for end-to-end tests and the benchmark: Debian's own server
 * binaries, a data directory under a temporary directory, a unix socket in that directory and
 * a port on 127.0.0.1. Local (socket) connections are trusted; TCP ones need the superuser's
 * password, so a `postgresql://` URL exercises real password authentication.
 *
 *     const pg = await startPostgres();
 *     pg.createDatabase("openwebui");
 *     pg.psql("SELECT 1", "openwebui");
 *     await pg.stop();
 *
 * PostgreSQL refuses to run as root: when the tests run as root the server runs as the
 * `postgres` system user (setpriv execs it directly, so the child process is the postmaster
 * itself and stop() signals it, not a wrapper). Readiness is `pg_isready`, polled with a deadline.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export const PG_SUPERUSER = "owb";
/** Safe in a URL without escaping; what a TCP client must present. */
export const PG_PASSWORD = "throwaway-cluster-password";

const START_DEADLINE_MS = 60_000;
const STOP_DEADLINE_MS = 30_000;

/** The newest server binaries Debian installed (/usr/lib/postgresql/<major>/bin). */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = majors.map((m) => path.join(root, m, "bin")).find((d) => fs.existsSync(path.join(d, "postgres")));
  if (!dir) throw new Error("no PostgreSQL server binaries under /usr/lib/postgresql/<major>/bin; install Debian's postgresql package");
  return dir;
}

/** Whether this machine can run the throwaway cluster (the server binaries are installed). */
export function postgresAvailable(): boolean {
  try {
    postgresBinDir();
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PgCluster {
  /** The directory holding the socket (PGHOST for local clients). */
  readonly socketDir: string;
  readonly port: number;
  readonly superuser: string;
  readonly password: string;
  /** libpq's environment for a local (socket, trusted) client of `database`. */
  env(database?: string): NodeJS.ProcessEnv;
  /** `postgresql://owb:…@127.0.0.1:<port>/<database>`: a TCP client that must authenticate. */
  url(database: string): string;
  /** Runs SQL with psql (stops on the first error); returns its unaligned, tuples-only output. */
  psql(sql: string, database?: string): string;
  createDatabase(name: string): void;
  dropDatabase(name: string): void;
  databases(): string[];
  /** The server's major version, e.g. 15. */
  readonly major: number;
  stop(): Promise<void>;
}

/** Starts a cluster; resolves once `pg_isready` answers. */
export async function startPostgres(prefix = "owb-pg-"): Promise<PgCluster> {
  const bin = postgresBinDir();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(root, "data");
  const logFile = path.join(root, "server.log");
  const asRoot = process.getuid?.() === 0;
  // The server's own user must own what it writes; the clients here (root) reach it anyway.
  const runAs = (cmd: string, args: string[]) => (asRoot ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", cmd, ...args]] as const : [cmd, args] as const);
  if (asRoot) execFileSync("chown", ["postgres:postgres", root]);
  fs.chmodSync(root, 0o755);
  const pwFile = path.join(root, "pwfile");
  fs.writeFileSync(pwFile, `${PG_PASSWORD}\n`, { mode: 0o644 });
  const [initCmd, initArgs] = runAs(path.join(bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    PG_SUPERUSER,
    `--pwfile=${pwFile}`,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--encoding=UTF8",
    "--locale=C.UTF-8",
    "--no-sync",
  ]);
  execFileSync(initCmd, initArgs, { stdio: ["ignore", "pipe", "pipe"], cwd: root });
  fs.rmSync(pwFile);

  let port = 0;
  let server: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const env = (database = "postgres"): NodeJS.ProcessEnv => ({ ...process.env, PGHOST: root, PGPORT: String(port), PGUSER: PG_SUPERUSER, PGDATABASE: database });
  const ready = () => {
    try {
      execFileSync("pg_isready", ["-q", "-h", root, "-p", String(port), "-U", PG_SUPERUSER, "-d", "postgres"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };

  // Another process may take the free port between the probe and the bind: try a few.
  for (let attempt = 1; attempt <= 5 && !server; attempt++) {
    port = await freePort();
    const log = fs.openSync(logFile, "a");
    const [cmd, args] = runAs(path.join(bin, "postgres"), [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-k",
      root,
      "-c",
      "listen_addresses=127.0.0.1",
      // A test cluster: durability is not under test, speed on a busy box is welcome.
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=40",
    ]);
    const child = spawn(cmd, args, { stdio: ["ignore", log, log], cwd: root });
    fs.closeSync(log);
    let gone = false;
    exited = new Promise<void>((resolve) => child.once("exit", () => { gone = true; resolve(); }));
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!gone && !ready() && Date.now() < deadline) await sleepMs(50);
    if (!gone && ready()) server = child;
    else if (!gone) {
      child.kill("SIGKILL");
      await exited;
      throw new Error(`PostgreSQL did not become ready within ${START_DEADLINE_MS} ms:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
    }
  }
  if (!server) throw new Error(`PostgreSQL would not start:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
  const postmaster = server;

  const psql = (sql: string, database = "postgres") =>
    execFileSync("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"], { input: sql, env: env(database), encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  const major = Number(psql("SHOW server_version_num;").trim()) / 10000;

  return {
    socketDir: root,
    port,
    superuser: PG_SUPERUSER,
    password: PG_PASSWORD,
    major: Math.floor(major),
    env,
    url: (database) => `postgresql://${PG_SUPERUSER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`,
    psql,
    createDatabase: (name) => void psql(`CREATE DATABASE "${name}";`),
    dropDatabase: (name) => void psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE);`),
    databases: () => psql("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1;").split("\n").filter(Boolean),
    async stop() {
      if (postmaster.exitCode === null && postmaster.signalCode === null) {
        // SIGINT: fast shutdown (disconnect clients, roll back, stop).
        postmaster.kill("SIGINT");
        const timer = setTimeout(() => postmaster.kill("SIGKILL"), STOP_DEADLINE_MS);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- an Open WebUI-shaped database

/** Open WebUI's main tables as they look in PostgreSQL (a subset of columns). */
export const WEBUI_PG_TABLES = ["alembic_version", "auth", "chat", "config", "file", "knowledge", "user"];
export const WEBUI_PG_REVISION = "3781e22d8b01";

/**
 * Creates Open WebUI's tables in `database` with `chats` chat rows of ~2 kB each: repetitive
 * text (quick, and TOAST compresses it to little), or with `randomText` hex digests that stay
 * near their size on disk, as real chats do.
 */
export function createWebuiTables(pg: PgCluster, database: string, chats = 200, opts: { randomText?: boolean } = {}): void {
  const body = opts.randomText ? "(SELECT string_agg(md5(random()::text || i || n), '') FROM generate_series(1, 62) AS n)" : "md5(i::text) || repeat('x', 2000)";
  pg.psql(
    `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('${WEBUI_PG_REVISION}');
CREATE TABLE "user" (id TEXT PRIMARY KEY, name TEXT, email TEXT, role TEXT, created_at BIGINT);
CREATE TABLE auth (id TEXT PRIMARY KEY, email TEXT, password TEXT, active BOOLEAN);
CREATE TABLE chat (id TEXT PRIMARY KEY, user_id TEXT, title TEXT, chat JSON, created_at BIGINT, updated_at BIGINT);
CREATE TABLE file (id TEXT PRIMARY KEY, user_id TEXT, filename TEXT, path TEXT, meta JSON, created_at BIGINT);
CREATE TABLE knowledge (id TEXT PRIMARY KEY, user_id TEXT, name TEXT, description TEXT, data JSON);
CREATE TABLE config (id SERIAL PRIMARY KEY, data JSON, version INTEGER);
INSERT INTO "user" VALUES ('u1', 'Ada', 'ada@example.org', 'admin', 1700000000);
INSERT INTO auth VALUES ('u1', 'ada@example.org', '$2b$12$hash', true);
INSERT INTO config (data, version) VALUES ('{"version":0}', 0);
INSERT INTO knowledge VALUES ('k1', 'u1', 'Manuals', 'product manuals', '{"file_ids":["f1"]}');
INSERT INTO file VALUES ('f1', 'u1', 'manual.pdf', 'openwebui-files/f1_manual.pdf', '{"size":1}', 1700000000);
INSERT INTO chat SELECT 'c' || i, 'u1', 'chat ' || i, json_build_object('messages', ${body}), 1700000000 + i, 1700000000 + i FROM generate_series(1, ${chats}) AS i;
`,
    database,
  );
}

/** Row counts of `tables` in `database`, by table name. */
export function pgRowCounts(pg: PgCluster, database: string, tables: string[] = WEBUI_PG_TABLES): Record<string, number> {
  const sql = tables.map((t) => `SELECT '${t}', count(*) FROM "${t}";`).join("\n");
  return Object.fromEntries(
    pg
      .psql(sql, database)
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [t, n] = line.split("|");
        return [t, Number(n)];
      }),
  );
}

// ---------------------------------------------------------------- a busy Open WebUI

export interface PgWriterStats {
  committed: number;
  failures: string[];
  maxMs: number;
  p99Ms: number;
  writes: number;
}

/**
 * Plays a busy Open WebUI on PostgreSQL: one psql session inserts a ~2 kB chat row every
 * `intervalMs` and acknowledges each commit; the latency of a write is the time from sending
 * it to its acknowledgement. Resolves once the first write is acknowledged.
 */
export async function startPgWriter(pg: PgCluster, database: string, intervalMs: number): Promise<{ stop: () => Promise<PgWriterStats> }> {
  const child = spawn("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=0"], { env: { ...pg.env(database), PGAPPNAME: "owb-test-writer" }, stdio: ["pipe", "pipe", "pipe"] });
  const tag = `${process.pid}-${Date.now()}`;
  const latencies: number[] = [];
  const failures: string[] = [];
  let committed = 0;
  let i = 0;
  let stopping = false;
  let pending: { n: number; t0: bigint; done: () => void } | undefined;
  let buffer = "";
  // A failed insert answers on stderr only: it counts as a write, with its latency, and a failure.
  child.stderr!.on("data", (c) => {
    failures.push(String(c).trim());
    if (pending) {
      latencies.push(Number(process.hrtime.bigint() - pending.t0) / 1e6);
      const done = pending.done;
      pending = undefined;
      done();
    }
  });
  child.stdout!.on("data", (c) => {
    buffer += String(c);
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      const m = /^ack (\d+) (\d+)$/.exec(line);
      if (m && pending && Number(m[1]) === pending.n) {
        latencies.push(Number(process.hrtime.bigint() - pending.t0) / 1e6);
        committed += Number(m[2]);
        const done = pending.done;
        pending = undefined;
        done();
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const writeOne = () =>
    new Promise<void>((resolve) => {
      i += 1;
      pending = { n: i, t0: process.hrtime.bigint(), done: resolve };
      // The row count in the answer says whether the insert committed (autocommit: one statement, one transaction).
      child.stdin!.write(
        `WITH ins AS (INSERT INTO chat VALUES ('w${tag}-${i}', 'u1', 'written during backup ${i}', json_build_object('m', repeat('x', 2000)), ${i}, ${i}) RETURNING 1) SELECT 'ack ${i} ' || count(*) FROM ins;\n`,
      );
    });
  const loop = (async () => {
    while (!stopping) {
      await Promise.race([writeOne(), exited]);
      if (child.exitCode !== null) break;
      await sleepMs(intervalMs);
    }
  })();
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (latencies.length > 0) {
        clearInterval(check);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(check);
        reject(new Error(`the writer's psql exited: ${failures.join("; ")}`));
      }
    }, 5);
  });
  return {
    stop: async () => {
      stopping = true;
      await loop;
      child.stdin!.end();
      await exited;
      const sorted = [...latencies].sort((a, b) => a - b);
      return {
        committed,
        failures,
        maxMs: sorted.length ? sorted[sorted.length - 1] : 0,
        p99Ms: sorted.length ? sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] : 0,
        writes: latencies.length,
      };
    },
  };
}
