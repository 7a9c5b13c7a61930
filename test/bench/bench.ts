/**
 * `npm run bench [-- --size-mb N --runs N --writer-interval-ms N --keep]`
 *
 * The benchmark of issue 2: on ONE generated Open WebUI data directory, in one run, the
 * rendered host command (`openwebui-backup`, installed into a temporary "host" by
 * HostSandbox) against baselines measured on the same data in the same run:
 *   1. full backup to a local target ÷ the bare tool (restic backup / rclone copy), and ÷ raw tar;
 *   2. a concurrent writer's max/p99 latency during an online backup, next to the writer alone;
 *   3. bytes a second run adds to the target after ~1% of the data changed ÷ the changed bytes;
 *   4. restore of the latest snapshot ÷ a raw `cp -a` of the same data.
 *   5. Open WebUI on PostgreSQL (a throwaway cluster of Debian's server): a writer's max latency
 *      during an online backup, and the command's dump step (snapshot session, source gate, row
 *      counts, pg_dump through `docker exec`) ÷ a bare `pg_dump --format=custom` of the same database.
 * Then one traced run per method says where the command's time goes (tool shims on PATH).
 * It reports; it never fails on a missed goal (exit 0), only on a broken command.
 */
import { ChildProcess, execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { targetLocation } from "../../config/locations";
import { shellQuote } from "../../scripts/render/shell";
import { HostSandbox } from "../support/host-sandbox";
import { buildDataDir, pseudoRandomBytes } from "../support/openwebui-data";
import { PgWriterStats, createWebuiTables, postgresAvailable, startPgWriter, startPostgres } from "../support/postgres";
import { s3ClientEnv } from "../support/s3-server";
import { Row, breakdown, median, megabytes, millis, parseToolLog, renderRows, renderTable, seconds, secondsOf } from "./figures";
import { growthOptionsFromEnv, growthTable } from "./growth";

interface Options {
  sizeMb: number;
  runs: number;
  writerIntervalMs: number;
  keep: boolean;
  propose: boolean;
  onlyProposals: boolean;
  postgres: boolean;
  onlyPostgres: boolean;
  /** The growth table (growth.ts); its sizes come from the environment. */
  growth: boolean;
  onlyGrowth: boolean;
}

function parseOptions(argv: string[]): Options {
  const opts: Options = { sizeMb: 300, runs: 3, writerIntervalMs: 10, keep: false, propose: true, onlyProposals: false, postgres: true, onlyPostgres: false, growth: true, onlyGrowth: false };
  const num = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} takes a number >= ${min}, got ${v ?? "nothing"}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--size-mb") opts.sizeMb = num(a, argv[++i], 5);
    else if (a === "--runs") opts.runs = Math.round(num(a, argv[++i], 1));
    else if (a === "--writer-interval-ms") opts.writerIntervalMs = num(a, argv[++i], 1);
    else if (a === "--keep") opts.keep = true;
    else if (a === "--no-propose") opts.propose = false;
    else if (a === "--only-proposals") opts.onlyProposals = true;
    else if (a === "--no-postgres") opts.postgres = false;
    else if (a === "--only-postgres") opts.onlyPostgres = true;
    else if (a === "--no-growth") opts.growth = false;
    else if (a === "--only-growth") opts.onlyGrowth = true;
    else if (a === "-h" || a === "--help") {
      console.log("usage: npm run bench -- [--size-mb N (300)] [--runs N (3)] [--writer-interval-ms N (10)] [--keep (leave the temp dir)] [--no-propose (skip measuring proposed changes)] [--only-proposals (measure just those)] [--no-postgres | --only-postgres (the PostgreSQL figures)] [--no-growth | --only-growth (the growth table; sizes: OWB_BENCH_GROWTH_SIZES_MB=100,1000 OWB_BENCH_SMALL_FILES=50000, see test/bench/growth.ts)]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}; try --help`);
  }
  return opts;
}

const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---------------------------------------------------------------- processes

interface Output {
  stdout: string;
  stderr: string;
}

/** A traced run: wall seconds and seconds per step. */
interface Traced {
  title: string;
  wall: number;
  steps: Array<[string, number]>;
}

/** Runs a command; rejects with its output when it exits non-zero. */
function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${String(stderr).slice(-4000)}`));
      else resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Wall seconds of fn. A `sync` first (not timed): every step writes hundreds of MB, and the
 * kernel would otherwise make the next step pay for the previous one's dirty pages.
 */
async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  execFileSync("sync");
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, value];
}

const du = (p: string) => (fs.existsSync(p) ? Number(execFileSync("du", ["-sb", p], { encoding: "utf8" }).split("\t")[0]) : 0);
const rm = (p: string) => fs.rmSync(p, { recursive: true, force: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sqlite(db: string, sql: string): string {
  return execFileSync("sqlite3", ["-bail", "-cmd", ".timeout 60000", db], { input: sql, encoding: "utf8" });
}

function resticSummary(jsonLines: string): { dataAdded: number; snapshotId: string } {
  const line = jsonLines.split("\n").find((l) => l.includes('"message_type":"summary"'));
  if (!line) throw new Error(`restic printed no summary:\n${jsonLines.slice(-2000)}`);
  const s = JSON.parse(line);
  return { dataAdded: Number(s.data_added), snapshotId: String(s.snapshot_id) };
}

// ---------------------------------------------------------------- the writer

interface WriterStats {
  committed: number;
  failures: string[];
  maxMs: number;
  p99Ms: number;
  writes: number;
}

const WRITER = path.join(__dirname, "..", "support", "webui-writer.py");

/** Starts test/support/webui-writer.py on the live db; resolves once it writes. */
async function startWriter(db: string, intervalMs: number): Promise<{ stop: () => Promise<WriterStats> }> {
  // The writer numbers its rows w1, w2, … from 1 each time: rename an earlier writer's rows
  // (kept: they are data now), or every insert of a second writer fails on the primary key.
  sqlite(db, `UPDATE chat SET id = 'bench-' || hex(randomblob(4)) || '-' || id WHERE id GLOB 'w[0-9]*';`);
  const child: ChildProcess = spawn("python3", [WRITER, db, String(intervalMs / 1000)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.on("data", (c) => (out += c));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once("data", () => resolve());
    child.once("exit", (code) => reject(new Error(`writer exited ${code} before it started`)));
  });
  return {
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      return JSON.parse(out.trim().split("\n").pop()!) as WriterStats;
    },
  };
}

// ---------------------------------------------------------------- the bench host

const PASSWORD = "bench correct horse battery staple";
const HOST = "bench";
const JOBS = { restic: "restic-job", snapshot: "snap-job" } as const;
type Method = keyof typeof JOBS;

/** Tools the command calls, wrapped so a traced run logs each call's start, end and arguments. */
const TRACED_TOOLS = ["restic", "rclone", "rsync", "sqlite3", "du", "find"];

class Bench {
  readonly sandbox = new HostSandbox("owb-bench-");
  readonly data = this.sandbox.dataDir;
  readonly work = path.join(this.sandbox.root, "bench");
  readonly targetRoot = path.join(this.sandbox.root, "targets");
  readonly shimDir = path.join(this.sandbox.root, "shims");
  readonly toolLog = path.join(this.sandbox.root, "tools.log");
  private clock = 1_767_225_600; // OPENWEBUI_BACKUP_NOW: distinct dated folders for the snapshot method

  constructor(readonly opts: Options) {
    fs.mkdirSync(this.work, { recursive: true });
    fs.mkdirSync(this.shimDir);
    for (const tool of TRACED_TOOLS) {
      const real = execFileSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
      fs.writeFileSync(
        path.join(this.shimDir, tool),
        `#!/usr/bin/env bash
s=$EPOCHREALTIME
${shellQuote(real)} "$@"
rc=$?
a="$*"
printf '%s\\t%s\\t%s\\t%s\\n' "$s" "$EPOCHREALTIME" ${shellQuote(tool)} "\${a//$'\\n'/ }" >>"$BENCH_TOOL_LOG"
exit "$rc"
`,
        { mode: 0o755 },
      );
    }
  }

  /** Builds ~sizeMb of data: a webui.db of ~13% (40 MB of 300), one big upload of ~5%, the rest 200 kB uploads. */
  build(): void {
    const total = this.opts.sizeMb * 1e6;
    const uploadBytes = 200_000;
    buildDataDir(this.data, {
      // A chat row takes ~4.1 kB of webui.db: 2 kB of JSON, its index entry, page slack.
      chats: Math.max(200, Math.round((total * 0.13) / 4100)),
      bigUploadBytes: Math.round(total * 0.05),
      uploads: Math.max(5, Math.round((total * 0.82) / uploadBytes)),
      uploadBytes,
      seed: 42,
    });
  }

  install(): void {
    const job = (name: string, method: Method) => ({
      name,
      method,
      targets: [`nas-${method}`],
      // keep-last: nothing is pruned between the two incremental runs, so the growth is what was added.
      retention: { keep: 10 },
      consistency: "online",
    });
    this.sandbox.install({
      targets: {
        "nas-restic": { type: "local", path: path.join(this.targetRoot, "restic") },
        "nas-snapshot": { type: "local", path: path.join(this.targetRoot, "snapshot") },
      },
      hosts: [{ name: HOST, data: { dir: this.data }, containers: ["open-webui"], jobs: [job(JOBS.restic, "restic"), job(JOBS.snapshot, "snapshot")] }],
      resticPassword: PASSWORD,
    });
  }

  /** Where a method's job keeps its backups on its local target (the restic repo or the dated folders). */
  location(method: Method): string {
    return targetLocation({ type: "local", path: path.join(this.targetRoot, method) } as Parameters<typeof targetLocation>[0], HOST, JOBS[method]);
  }

  resticEnv(repo: string): NodeJS.ProcessEnv {
    return { ...s3ClientEnv(), RESTIC_PASSWORD: PASSWORD, RESTIC_REPOSITORY: repo };
  }

  /** A fresh, initialised repository: "full backup" here means into an existing empty repo, for ours and bare alike. */
  async initRepo(repo: string): Promise<void> {
    rm(repo);
    fs.mkdirSync(path.dirname(repo), { recursive: true });
    await run("restic", ["init"], { env: this.resticEnv(repo) });
  }

  async freshTarget(method: Method): Promise<void> {
    rm(path.join(this.targetRoot, method));
    if (method === "restic") await this.initRepo(this.location("restic"));
  }

  /** One `openwebui-backup <args>` (or of a patched copy); traced through the tool shims when asked. */
  async ours(args: string[], traced = false, command = this.sandbox.paths.command): Promise<Output> {
    const env: NodeJS.ProcessEnv = { OPENWEBUI_BACKUP_NOW: String((this.clock += 3600)) };
    if (traced) {
      fs.writeFileSync(this.toolLog, "");
      Object.assign(env, { PATH: `${this.shimDir}:${this.sandbox.binDir}:${process.env.PATH}`, BENCH_TOOL_LOG: this.toolLog });
    }
    return run(command, args, { env: { ...this.sandbox.env(), ...env } });
  }

  backupOurs(method: Method, traced = false, command?: string) {
    return this.ours(["run", JOBS[method]], traced, command);
  }

  /** Runs fn with the tool shims on PATH: the command's time, step by step. */
  async traced(title: string, fn: (traced: boolean) => Promise<unknown>): Promise<Traced> {
    progress(`traced: ${title}`);
    const [wall] = await timed(() => fn(true));
    return { title, wall, steps: breakdown(parseToolLog(fs.readFileSync(this.toolLog, "utf8")), wall) };
  }

  async bareRestic(repo: string): Promise<{ dataAdded: number }> {
    const r = await run("restic", ["backup", "--json", "."], { env: this.resticEnv(repo), cwd: this.data });
    return resticSummary(r.stdout);
  }

  bareRclone(dest: string): Promise<Output> {
    return run("rclone", ["copy", this.data, dest], { env: { ...s3ClientEnv(), RCLONE_CONFIG: "/dev/null" } });
  }

  cleanup(): void {
    if (this.opts.keep) progress(`kept ${this.sandbox.root}`);
    else this.sandbox.cleanup();
  }
}

// ---------------------------------------------------------------- the four figures

/** Samples in seconds, one per run. */
interface FullBackupFigures {
  tar: number[];
  bareRestic: number[];
  oursRestic: number[];
  bareRclone: number[];
  oursSnapshot: number[];
}

async function fullBackups(b: Bench): Promise<FullBackupFigures> {
  const samples: Record<keyof FullBackupFigures, number[]> = { tar: [], bareRestic: [], oursRestic: [], bareRclone: [], oursSnapshot: [] };
  const bareRepo = path.join(b.work, "bare-restic");
  const bareCopy = path.join(b.work, "bare-rclone");
  const tarFile = path.join(b.work, "raw.tar");
  for (let i = 1; i <= b.opts.runs; i++) {
    progress(`full backups, run ${i}/${b.opts.runs}`);
    // Interleaved, so a drift of the machine (page cache, other load) hits every column alike.
    rm(tarFile);
    samples.tar.push((await timed(() => run("tar", ["-cf", tarFile, "-C", b.data, "."])))[0]);
    rm(tarFile);

    await b.initRepo(bareRepo);
    samples.bareRestic.push((await timed(() => b.bareRestic(bareRepo)))[0]);
    rm(bareRepo);

    await b.freshTarget("restic");
    samples.oursRestic.push((await timed(() => b.backupOurs("restic")))[0]);

    rm(bareCopy);
    samples.bareRclone.push((await timed(() => b.bareRclone(bareCopy)))[0]);

    await b.freshTarget("snapshot");
    samples.oursSnapshot.push((await timed(() => b.backupOurs("snapshot")))[0]);
  }
  // The last bare copy stays: the restore section copies it back as rclone's own restore.
  return samples;
}

/** One traced full backup per method: seconds per step of the command. */
async function tracedBackups(b: Bench): Promise<Traced[]> {
  const out: Traced[] = [];
  for (const method of ["restic", "snapshot"] as Method[]) {
    await b.freshTarget(method);
    out.push(await b.traced(`full ${method} backup`, (t) => b.backupOurs(method, t)));
  }
  return out;
}

interface LatencyFigures {
  alone: WriterStats;
  during: Record<Method, WriterStats & { backupSeconds: number }>;
}

async function writerLatency(b: Bench): Promise<LatencyFigures> {
  const db = path.join(b.data, "webui.db");
  const during = {} as LatencyFigures["during"];
  for (const method of ["restic", "snapshot"] as Method[]) {
    progress(`writer during an online ${method} backup`);
    await b.freshTarget(method);
    const writer = await startWriter(db, b.opts.writerIntervalMs);
    // The writer is stopped whatever the backup does, so a failing run leaves no process behind.
    const backup = timed(() => b.backupOurs(method)).then(
      ([s]) => s,
      (err: unknown) => err,
    );
    const result = await backup;
    const stats = await writer.stop();
    if (typeof result !== "number") throw result;
    during[method] = { ...stats, backupSeconds: result };
  }
  const duration = Math.max(during.restic.backupSeconds, during.snapshot.backupSeconds);
  progress(`writer alone for ${duration.toFixed(1)} s`);
  const writer = await startWriter(db, b.opts.writerIntervalMs);
  await sleep(duration * 1000);
  const alone = await writer.stop();
  if (alone.failures.length > 0) throw new Error(`the writer alone failed ${alone.failures.length} writes: ${alone.failures[0]}`);
  return { alone, during };
}

interface IncrementalFigures {
  changedBytes: number;
  oursResticGrowth: number;
  oursResticDataAdded: number;
  bareResticGrowth: number;
  bareResticDataAdded: number;
  oursSnapshotGrowth: number;
  parentFound: boolean;
}

/** Changes ~1% of the data the way Open WebUI does: new chat rows, some uploads replaced, some added. */
function changeOnePercent(b: Bench): number {
  const total = b.opts.sizeMb * 1e6;
  const db = path.join(b.data, "webui.db");
  const rows = Math.max(10, Math.round((total * 0.003) / 2100));
  sqlite(
    db,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO chat SELECT 'bench-new-' || i, 'u1', 'new chat ' || i, '{"messages":"' || hex(randomblob(1000)) || '"}', 1800000000 + i, 1800000000 + i FROM n;`,
  );
  // What changed in the database is the new rows' content (~2.1 kB each); the db file grows
  // more than that (b-tree page slack), which VACUUM INTO packs away again.
  let changed = Number(sqlite(db, "SELECT sum(length(id) + length(user_id) + length(title) + length(chat) + 16) FROM chat WHERE id GLOB 'bench-new-*';").trim());
  const uploads = path.join(b.data, "uploads");
  const docs = fs.readdirSync(uploads).filter((n) => /^\d{5}_doc\.bin$/.test(n)).sort();
  const per = 200_000;
  const replace = Math.max(1, Math.round((total * 0.003) / per));
  const add = Math.max(1, Math.round((total * 0.004) / per));
  // Spread over the tree: every k-th upload gets new content of the same size.
  const step = Math.max(1, Math.floor(docs.length / replace));
  for (let i = 0; i < replace && i * step < docs.length; i++) {
    const f = path.join(uploads, docs[i * step]);
    const size = fs.statSync(f).size;
    fs.writeFileSync(f, pseudoRandomBytes(size, 900_000 + i));
    changed += size;
  }
  for (let i = 0; i < add; i++) {
    fs.writeFileSync(path.join(uploads, `new-${i}.bin`), pseudoRandomBytes(per, 950_000 + i));
    changed += per;
  }
  return changed;
}

async function incremental(b: Bench): Promise<IncrementalFigures> {
  progress("incremental: first runs (ours restic, ours snapshot, bare restic)");
  const bareRepo = path.join(b.work, "bare-restic-incr");
  await b.freshTarget("restic");
  await b.backupOurs("restic");
  await b.freshTarget("snapshot");
  await b.backupOurs("snapshot");
  await b.initRepo(bareRepo);
  await b.bareRestic(bareRepo);

  const changedBytes = changeOnePercent(b);
  progress(`incremental: changed ${megabytes(changedBytes)}; second runs`);

  const repo = b.location("restic");
  let size = du(repo);
  const r = await b.backupOurs("restic");
  const oursResticGrowth = du(repo) - size;
  const oursResticDataAdded = Number(/restic snapshot \S+ saved, (\d+) bytes added/.exec(r.stderr)?.[1] ?? NaN);

  size = du(b.location("snapshot"));
  await b.backupOurs("snapshot");
  const oursSnapshotGrowth = du(b.location("snapshot")) - size;

  size = du(bareRepo);
  const bare = await b.bareRestic(bareRepo);
  const bareResticGrowth = du(bareRepo) - size;

  // Did restic use the previous snapshot as parent? It says so in the second snapshot.
  const snaps = JSON.parse((await run("restic", ["snapshots", "--json"], { env: b.resticEnv(repo) })).stdout) as Array<{ parent?: string }>;
  return {
    changedBytes,
    oursResticGrowth,
    oursResticDataAdded,
    bareResticGrowth,
    bareResticDataAdded: bare.dataAdded,
    oursSnapshotGrowth,
    parentFound: snaps.length >= 2 && Boolean(snaps[snaps.length - 1].parent),
  };
}

/** Samples in seconds, one per run. */
interface RestoreFigures {
  cp: number[];
  oursRestic: number[];
  oursSnapshot: number[];
  bareRestic: number[];
  bareRclone: number[];
}

async function restores(b: Bench, bareResticRepo: string, traced: Traced[]): Promise<RestoreFigures> {
  const samples: Record<keyof RestoreFigures, number[]> = { cp: [], oursRestic: [], oursSnapshot: [], bareRestic: [], bareRclone: [] };
  const dest = path.join(b.work, "restored");
  const once = async (key: keyof RestoreFigures, fn: () => Promise<unknown>) => {
    rm(dest);
    samples[key].push((await timed(fn))[0]);
    rm(dest);
  };
  for (let i = 1; i <= b.opts.runs; i++) {
    progress(`restores, run ${i}/${b.opts.runs}`);
    await once("cp", () => run("cp", ["-a", b.data, dest]));
    await once("oursRestic", () => b.ours(["restore", JOBS.restic, "--to", dest]));
    await once("bareRestic", () => run("restic", ["restore", "latest", "--target", dest], { env: b.resticEnv(bareResticRepo) }));
    await once("oursSnapshot", () => b.ours(["restore", JOBS.snapshot, "--to", dest]));
    await once("bareRclone", () => run("rclone", ["copy", path.join(b.work, "bare-rclone"), dest], { env: { ...s3ClientEnv(), RCLONE_CONFIG: "/dev/null" } }));
  }
  for (const method of ["restic", "snapshot"] as Method[]) {
    rm(dest);
    traced.push(await b.traced(`restore of the latest ${method} snapshot`, (t) => b.ours(["restore", JOBS[method], "--to", dest], t)));
    rm(dest);
  }
  return samples;
}

// ---------------------------------------------------------------- Open WebUI on PostgreSQL

interface PostgresFigures {
  dbBytes: number;
  chats: number;
  /** Seconds of the command's dump step, from its log, one per run. */
  ours: number[];
  /** Seconds of a bare pg_dump of the same database, one per run. */
  bare: number[];
  during: PgWriterStats & { backupSeconds: number };
  alone: PgWriterStats;
}

const PG_CONTAINER = "open-webui-db";

/**
 * A second bench host whose Open WebUI keeps its database in a throwaway cluster (the database
 * container is the docker stub's `exec`, running the real client tools against it), backed up
 * with local-snapshot. The database is ~13% of --size-mb, like webui.db above.
 */
async function postgresFigures(opts: Options): Promise<PostgresFigures> {
  const pg = await startPostgres("owb-bench-pg-");
  const sandbox = new HostSandbox("owb-bench-pghost-");
  try {
    const db = "openwebui";
    // A chat row of ~2 kB of random hex takes ~2.2 kB in the table (TOAST barely compresses it).
    const chats = Math.max(1000, Math.round((opts.sizeMb * 1e6 * 0.13) / 2200));
    progress(`PostgreSQL: a ${chats}-chat database in a throwaway cluster`);
    pg.createDatabase(db);
    createWebuiTables(pg, db, chats, { randomText: true });
    pg.psql("VACUUM ANALYZE;", db);
    const dbBytes = Number(pg.psql(`SELECT pg_database_size('${db}');`).trim());
    buildDataDir(sandbox.dataDir, { chats: 10, bigUploadBytes: 100_000 });
    for (const f of ["webui.db", "webui.db-wal", "webui.db-shm"]) rm(path.join(sandbox.dataDir, f));
    sandbox.setExecEnvironment(PG_CONTAINER, { PGHOST: pg.socketDir, PGPORT: String(pg.port) });
    sandbox.install({
      targets: { nas: { type: "local", path: path.join(sandbox.root, "nas") } },
      hosts: [
        {
          name: "bench-pg",
          data: { dir: sandbox.dataDir },
          database: { postgres: { container: PG_CONTAINER, user: pg.superuser, database: db } },
          jobs: [{ name: "pg-job", method: "local-snapshot", targets: ["nas"], retention: { keep: 100 }, consistency: "online" }],
        },
      ],
    });
    let clock = 1_767_225_600;
    const ours = async (): Promise<[number, number]> => {
      const [wall, out] = await timed(() => run(sandbox.paths.command, ["run", "pg-job"], { env: { ...sandbox.env(), OPENWEBUI_BACKUP_NOW: String((clock += 3600)) } }));
      const m = /dumped PostgreSQL .* in (\d+\.\d+) s/.exec(out.stderr);
      if (!m) throw new Error(`the command logged no dump time:
${out.stderr.slice(-2000)}`);
      return [Number(m[1]), wall];
    };
    const bareDump = path.join(sandbox.root, "bare.dump");
    const bare = async () => {
      rm(bareDump);
      const [s] = await timed(() => run("pg_dump", ["--format=custom", "--no-password", "-f", bareDump], { env: pg.env(db) }));
      rm(bareDump);
      return s;
    };

    const samples = { ours: [] as number[], bare: [] as number[] };
    for (let i = 1; i <= opts.runs; i++) {
      progress(`PostgreSQL: dump, run ${i}/${opts.runs}`);
      // Alternate which goes first, so neither always meets the other's page cache.
      if (i % 2 === 1) {
        samples.bare.push(await bare());
        samples.ours.push((await ours())[0]);
      } else {
        samples.ours.push((await ours())[0]);
        samples.bare.push(await bare());
      }
    }

    progress("PostgreSQL: writer during an online backup");
    const writer = await startPgWriter(pg, db, opts.writerIntervalMs);
    const result = await ours().then(
      ([, wall]) => wall,
      (err: unknown) => err,
    );
    const stats = await writer.stop();
    if (typeof result !== "number") throw result;
    progress(`PostgreSQL: writer alone for ${result.toFixed(1)} s`);
    const lone = await startPgWriter(pg, db, opts.writerIntervalMs);
    await sleep(result * 1000);
    const alone = await lone.stop();
    return { dbBytes, chats, ours: samples.ours, bare: samples.bare, during: { ...stats, backupSeconds: result }, alone };
  } finally {
    if (opts.keep) progress(`kept ${sandbox.root}`);
    else sandbox.cleanup();
    await pg.stop();
  }
}

function postgresRows(p: PostgresFigures): Row[] {
  const failures = p.during.failures.length > 0 ? `, ${p.during.failures.length} FAILED writes` : "";
  return [
    {
      figure: "PostgreSQL dump: ours / bare pg_dump",
      ours: secondsOf(p.ours),
      baseline: secondsOf(p.bare),
      value: median(p.ours) / median(p.bare),
      unit: "x",
      note: `database ${megabytes(p.dbBytes)} (${p.chats} chats); ours = snapshot session, source gate, row counts, pg_dump via docker exec`,
    },
    {
      figure: "writer max latency during online backup (PostgreSQL)",
      ours: millis(p.during.maxMs),
      baseline: `alone ${millis(p.alone.maxMs)}`,
      value: p.during.maxMs,
      unit: "ms",
      goal: { limit: 250, unit: "ms" },
      note: `${p.during.writes} writes, ${p.during.committed} committed in ${seconds(p.during.backupSeconds)}${failures}`,
    },
    { figure: "writer p99 latency during online backup (PostgreSQL)", ours: millis(p.during.p99Ms), baseline: `alone ${millis(p.alone.p99Ms)}`, value: p.during.p99Ms, unit: "ms", note: `alone: ${p.alone.writes} writes` },
  ];
}

// ---------------------------------------------------------------- proposed changes

/**
 * Changes to the host command this benchmark suggests, each a literal text replacement in
 * scripts/host/openwebui-backup.bash. They are applied to a COPY of the installed command in
 * the temp dir, never to the repository; a change whose text is gone is reported, not applied.
 */
const PROPOSALS: Array<{ name: string; method: Method; why: string; from: string; to: string }> = [
  {
    name: "restic: one repository open instead of two before the backup",
    method: "restic",
    why: "each restic process pays the repository's key derivation (~0.5 s here); `unlock` already fails when there is no repository, so it can stand in for `cat config`",
    from: `  if ! restic cat config >/dev/null 2>&1; then
    log "$t: initialising restic repository"
    restic init >/dev/null
  fi
  # A run that died (power cut, server gone) leaves its lock; unlock removes only stale ones.
  restic unlock >/dev/null 2>&1 || true
`,
    to: `  # A run that died (power cut, server gone) leaves its lock; unlock removes only stale ones.
  # It opens the repository, so it also tells whether one exists: one open instead of two,
  # each paying restic's key derivation. Any other failure makes init fail loudly below.
  if ! restic unlock >/dev/null 2>&1; then
    log "$t: initialising restic repository"
    restic init >/dev/null
  fi
`,
  },
  {
    name: "snapshot: check the upload by listing (names and sizes), not by re-hashing both sides",
    method: "snapshot",
    why: "rclone copy already verifies each transferred file's hash where both sides have one; `check` without --size-only reads and hashes all the data again",
    from: `rclone check --one-way "$stage_dir/data" "$root/$folder/data"`,
    to: `rclone check --one-way --size-only "$stage_dir/data" "$root/$folder/data"`,
  },
];

async function measureProposals(b: Bench): Promise<string[]> {
  const original = fs.readFileSync(b.sandbox.paths.command, "utf8");
  const lines: string[] = ["", "Proposed changes to scripts/host/openwebui-backup.bash (applied to a copy in the temp dir only):"];
  const rows: string[][] = [];
  for (const p of PROPOSALS) {
    if (!original.includes(p.from)) {
      lines.push(`- ${p.name}: NOT measured, the command no longer contains the text it replaces`);
      continue;
    }
    const patched = `${b.sandbox.paths.command}.proposed`;
    fs.writeFileSync(patched, original.replace(p.from, p.to), { mode: 0o755 });
    // The patched command must still do its job: a first run that initialises the target.
    rm(path.join(b.targetRoot, p.method));
    await b.backupOurs(p.method, false, patched);
    const before: number[] = [];
    const after: number[] = [];
    const bare: number[] = [];
    for (let i = 1; i <= b.opts.runs; i++) {
      progress(`proposal "${p.name}", run ${i}/${b.opts.runs}`);
      // Alternate which goes first, so neither always follows the other's disk writes.
      const pair: Array<[number[], string | undefined]> = [
        [before, undefined],
        [after, patched],
      ];
      for (const [samples, command] of i % 2 === 1 ? pair : pair.reverse()) {
        await b.freshTarget(p.method);
        samples.push((await timed(() => b.backupOurs(p.method, false, command)))[0]);
      }
      if (p.method === "restic") {
        const repo = path.join(b.work, "bare-restic");
        await b.initRepo(repo);
        bare.push((await timed(() => b.bareRestic(repo)))[0]);
        rm(repo);
      } else {
        const dest = path.join(b.work, "bare-rclone-proposal");
        rm(dest);
        bare.push((await timed(() => b.bareRclone(dest)))[0]);
        rm(dest);
      }
    }
    const [m0, m1, mb] = [median(before), median(after), median(bare)];
    rows.push([p.name, secondsOf(before), secondsOf(after), secondsOf(bare), `${(m0 / mb).toFixed(2)}x`, `${(m1 / mb).toFixed(2)}x`]);
    lines.push(`- ${p.name}: ${p.why}`);
    rm(patched);
  }
  if (rows.length > 0) lines.push(renderTable(["change", "before", "after", "bare tool", "before/bare", "after/bare"], rows));
  return lines;
}

// ---------------------------------------------------------------- report

interface Results {
  dataBytes: number;
  dbSize: number;
  files: number;
  full: FullBackupFigures;
  lat: LatencyFigures;
  inc: IncrementalFigures;
  rest: RestoreFigures;
  traced: Traced[];
  proposals: string[];
  pg?: PostgresFigures;
}

function report(opts: Options, { dataBytes, dbSize, files, full, lat, inc, rest, traced, proposals, pg }: Results): string {
  const x = { limit: 1.15, unit: "x" as const };
  const m = (samples: number[]) => median(samples);
  const rows: Row[] = [
    { figure: "full backup restic: ours / bare restic backup", ours: secondsOf(full.oursRestic), baseline: secondsOf(full.bareRestic), value: m(full.oursRestic) / m(full.bareRestic), unit: "x", goal: x },
    { figure: "full backup snapshot: ours / bare rclone copy", ours: secondsOf(full.oursSnapshot), baseline: secondsOf(full.bareRclone), value: m(full.oursSnapshot) / m(full.bareRclone), unit: "x", goal: x },
    { figure: "full backup restic: ours / raw tar", ours: secondsOf(full.oursRestic), baseline: secondsOf(full.tar), value: m(full.oursRestic) / m(full.tar), unit: "x", note: `bare restic / tar: ${(m(full.bareRestic) / m(full.tar)).toFixed(2)}x` },
    { figure: "full backup snapshot: ours / raw tar", ours: secondsOf(full.oursSnapshot), baseline: secondsOf(full.tar), value: m(full.oursSnapshot) / m(full.tar), unit: "x", note: `bare rclone / tar: ${(m(full.bareRclone) / m(full.tar)).toFixed(2)}x` },
  ];
  for (const method of ["restic", "snapshot"] as Method[]) {
    const d = lat.during[method];
    const failures = d.failures.length > 0 ? `, ${d.failures.length} FAILED writes` : "";
    rows.push({
      figure: `writer max latency during online ${method} backup`,
      ours: millis(d.maxMs),
      baseline: `alone ${millis(lat.alone.maxMs)}`,
      value: d.maxMs,
      unit: "ms",
      goal: { limit: 250, unit: "ms" },
      note: `${d.writes} writes in ${seconds(d.backupSeconds)}${failures}`,
    });
    rows.push({ figure: `writer p99 latency during online ${method} backup`, ours: millis(d.p99Ms), baseline: `alone ${millis(lat.alone.p99Ms)}`, value: d.p99Ms, unit: "ms", note: `alone: ${lat.alone.writes} writes` });
  }
  rows.push(
    {
      figure: "2nd run after ~1% change, restic: repo growth / changed",
      ours: megabytes(inc.oursResticGrowth),
      baseline: `changed ${megabytes(inc.changedBytes)}`,
      value: inc.oursResticGrowth / inc.changedBytes,
      unit: "x",
      goal: { limit: 1.5, unit: "x" },
      note: `data_added ${megabytes(inc.oursResticDataAdded)} (${(inc.oursResticDataAdded / inc.changedBytes).toFixed(2)}x); parent snapshot ${inc.parentFound ? "found" : "NOT found"}`,
    },
    {
      figure: "2nd run after ~1% change, bare restic: repo growth / changed",
      ours: megabytes(inc.bareResticGrowth),
      baseline: `changed ${megabytes(inc.changedBytes)}`,
      value: inc.bareResticGrowth / inc.changedBytes,
      unit: "x",
      note: `data_added ${megabytes(inc.bareResticDataAdded)} (${(inc.bareResticDataAdded / inc.changedBytes).toFixed(2)}x); for comparison`,
    },
    {
      figure: "2nd run after ~1% change, snapshot: target growth / changed",
      ours: megabytes(inc.oursSnapshotGrowth),
      baseline: `changed ${megabytes(inc.changedBytes)}`,
      value: inc.oursSnapshotGrowth / inc.changedBytes,
      unit: "x",
      note: "dated full copies: expected ~100x, for comparison",
    },
    { figure: "restore latest, restic: ours / cp -a", ours: secondsOf(rest.oursRestic), baseline: secondsOf(rest.cp), value: m(rest.oursRestic) / m(rest.cp), unit: "x", goal: { limit: 1.5, unit: "x" }, note: `bare restic restore: ${secondsOf(rest.bareRestic)} (${(m(rest.bareRestic) / m(rest.cp)).toFixed(2)}x cp)` },
    { figure: "restore latest, snapshot: ours / cp -a", ours: secondsOf(rest.oursSnapshot), baseline: secondsOf(rest.cp), value: m(rest.oursSnapshot) / m(rest.cp), unit: "x", goal: { limit: 1.5, unit: "x" }, note: `bare rclone copy back: ${secondsOf(rest.bareRclone)} (${(m(rest.bareRclone) / m(rest.cp)).toFixed(2)}x cp)` },
    ...(pg ? postgresRows(pg) : []),
  );

  const where = traced.map((t) =>
    [
      `\nWhere the time of a ${t.title} goes (one traced run, ${seconds(t.wall)} wall):`,
      renderTable(
        ["step", "seconds", "share"],
        t.steps.map(([step, s]) => [step, s.toFixed(2), `${((100 * s) / t.wall).toFixed(0)}%`]),
      ),
    ].join("\n"),
  );
  const pgNote = pg ? [] : [opts.postgres ? "PostgreSQL figures: skipped, no PostgreSQL server binaries here (Debian's postgresql package)" : "PostgreSQL figures: skipped (--no-postgres)"];
  return [
    `openwebui-backup benchmark: data dir ${megabytes(dataBytes)} (${files} files, webui.db ${megabytes(dbSize)}), times: median of ${opts.runs} run(s) [min-max], writer interval ${opts.writerIntervalMs} ms`,
    "",
    renderRows(rows),
    ...where,
    ...proposals,
    ...pgNote,
    "",
    "Not a test: MISS marks a missed goal; the exit status stays 0.",
  ].join("\n");
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const b = new Bench(opts);
  const onSignal = () => {
    b.cleanup();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    if (opts.onlyGrowth) {
      console.log((await growthTable(growthOptionsFromEnv())).join("\n"));
      return;
    }
    if (opts.onlyPostgres) {
      if (!postgresAvailable()) throw new Error("--only-postgres needs Debian's postgresql package (server binaries under /usr/lib/postgresql)");
      console.log(["openwebui-backup benchmark: PostgreSQL figures only", "", renderRows(postgresRows(await postgresFigures(opts)))].join("\n"));
      return;
    }
    progress(`building a ~${opts.sizeMb} MB data dir in ${b.data}`);
    b.build();
    b.install();
    const dataBytes = du(b.data);
    const files = Number(execFileSync("bash", ["-c", `find ${shellQuote(b.data)} -type f | wc -l`], { encoding: "utf8" }).trim());
    const dbSize = fs.statSync(path.join(b.data, "webui.db")).size;

    if (opts.onlyProposals) {
      console.log((await measureProposals(b)).join("\n"));
      return;
    }
    const full = await fullBackups(b);
    const traced = await tracedBackups(b);
    const lat = await writerLatency(b);
    const inc = await incremental(b);
    const rest = await restores(b, path.join(b.work, "bare-restic-incr"), traced);
    const proposals = opts.propose ? await measureProposals(b) : [];
    const pg = opts.postgres && postgresAvailable() ? await postgresFigures(opts) : undefined;
    const growth = opts.growth ? await growthTable(growthOptionsFromEnv()) : [];
    console.log(report(opts, { dataBytes, dbSize, files, full, lat, inc, rest, traced, proposals, pg }));
    if (growth.length > 0) console.log(growth.join("\n"));
  } finally {
    b.cleanup();
  }
}

main().catch((err) => {
  console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
