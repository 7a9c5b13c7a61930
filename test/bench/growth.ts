/**
 * The growth table of `npm run bench` (issue 15): how a run's cost grows with the data, per
 * method, next to the bare tool doing the same transfer, all measured in one bench run.
 *
 * For each case (a generated data directory of each size in OWB_BENCH_GROWTH_SIZES_MB, and one
 * of OWB_BENCH_SMALL_FILES small uploads), for each method:
 *  - a first (full) run of ours and of the bare tool, alternating which goes first, each into
 *    a fresh target and with a cold hash cache: wall time and bytes sent;
 *  - then, after ~1% of the data changed the way Open WebUI changes it, a second run of each:
 *    wall time, bytes sent, and bytes sent ÷ changed bytes.
 * Bytes sent to S3 are counted by a counting proxy on 127.0.0.1 in front of the local S3
 * server (request bodies of PUT/POST; a server-side copy sends 0), never by the tools' own
 * statistics. For local targets (local-snapshot, pull) "sent" is what the target grew by,
 * each hard-linked file counted once.
 * From the two sizes: per method the fixed cost (intercept) and the per-GB cost (slope) of a
 * first run, ours and the bare tool's.
 *
 * Environment: OWB_BENCH_GROWTH_SIZES_MB (default "100,1000"), OWB_BENCH_SMALL_FILES (50000;
 * 0 skips the case), OWB_BENCH_SMALL_FILE_BYTES (2000), OWB_BENCH_GROWTH_METHODS (default
 * "restic,snapshot,sync,local-snapshot,pull"), OWB_BENCH_GROWTH_RUNS (1).
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { targetLocation } from "../../config/locations";
import { CountingProxy, startCountingProxy } from "../support/counting-proxy";
import { HostSandbox } from "../support/host-sandbox";
import { buildDataDir, pseudoRandomBytes } from "../support/openwebui-data";
import { S3TestServer, s3ClientEnv, startS3Server } from "../support/s3-server";
import { TestSshd, startSshd } from "../support/sshd";
import { Row, median, megabytes, renderRows, renderTable, seconds } from "./figures";

export const GROWTH_METHODS = ["restic", "snapshot", "sync", "local-snapshot", "pull"] as const;
export type GrowthMethod = (typeof GROWTH_METHODS)[number];

export interface GrowthOptions {
  sizesMb: number[];
  smallFiles: number;
  smallFileBytes: number;
  methods: GrowthMethod[];
  runs: number;
}

export function growthOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): GrowthOptions {
  const numbers = (name: string, dflt: string) =>
    (env[name] ?? dflt).split(",").map((v) => {
      const n = Number(v.trim());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${name}: expected numbers >= 0 separated by commas, got ${env[name]}`);
      return n;
    });
  const sizesMb = numbers("OWB_BENCH_GROWTH_SIZES_MB", "100,1000").filter((n) => n > 0);
  if (sizesMb.length !== 2 || sizesMb[0] === sizesMb[1]) throw new Error("OWB_BENCH_GROWTH_SIZES_MB: expected two different sizes in MB, e.g. 100,1000");
  const methods = (env.OWB_BENCH_GROWTH_METHODS ?? GROWTH_METHODS.join(",")).split(",").map((m) => m.trim());
  for (const m of methods) if (!(GROWTH_METHODS as readonly string[]).includes(m)) throw new Error(`OWB_BENCH_GROWTH_METHODS: unknown method ${m}; known: ${GROWTH_METHODS.join(", ")}`);
  return {
    sizesMb: [...sizesMb].sort((a, b) => a - b),
    smallFiles: Math.round(numbers("OWB_BENCH_SMALL_FILES", "50000")[0]),
    smallFileBytes: Math.max(1, Math.round(numbers("OWB_BENCH_SMALL_FILE_BYTES", "2000")[0])),
    methods: methods as GrowthMethod[],
    runs: Math.max(1, Math.round(numbers("OWB_BENCH_GROWTH_RUNS", "1")[0])),
  };
}

const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] growth: ${msg}\n`);
const rm = (p: string) => fs.rmSync(p, { recursive: true, force: true });
/** Bytes under a path, each hard-linked file once (du's rule within one call). */
const du = (...paths: string[]) => {
  const existing = paths.filter((p) => fs.existsSync(p));
  if (existing.length === 0) return 0;
  return Number(execFileSync("du", ["-scb", ...existing], { encoding: "utf8" }).trim().split("\n").pop()!.split("\t")[0]);
};

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${String(stderr).slice(-3000)}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  execFileSync("sync");
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

// ---------------------------------------------------------------- data

interface Case {
  title: string;
  /** Nominal size for the fit; the measured size of the data directory is used. */
  sizeMb?: number;
  build(dir: string): void;
  /** Changes ~1% the way Open WebUI does; returns the changed bytes: new rows' content, new and replaced files. */
  change(dir: string): { rows: number; files: number };
}

function sqlite(db: string, sql: string): string {
  return execFileSync("sqlite3", ["-bail", "-cmd", ".timeout 60000", db], { input: sql, encoding: "utf8" });
}

/** New chat rows of ~2.1 kB content each; returns their content bytes. */
function addChats(dir: string, rows: number, tag: string): number {
  const db = path.join(dir, "webui.db");
  sqlite(
    db,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO chat SELECT '${tag}-' || i, 'u1', 'new chat ' || i, '{"messages":"' || hex(randomblob(1000)) || '"}', 1800000000 + i, 1800000000 + i FROM n;`,
  );
  return Number(sqlite(db, `SELECT sum(length(id) + length(user_id) + length(title) + length(chat) + 16) FROM chat WHERE id GLOB '${tag}-*';`).trim());
}

/** Replaces every k-th of `files` with new content of the same size and adds `added` files; returns the bytes. */
function changeFiles(dir: string, files: string[], replace: number, added: number, addedBytes: number, seed: number): number {
  let changed = 0;
  const step = Math.max(1, Math.floor(files.length / Math.max(1, replace)));
  for (let i = 0; i < replace && i * step < files.length; i++) {
    const f = path.join(dir, files[i * step]);
    const size = fs.statSync(f).size;
    fs.writeFileSync(f, pseudoRandomBytes(size, seed + i));
    changed += size;
  }
  for (let i = 0; i < added; i++) {
    fs.writeFileSync(path.join(dir, "uploads", `growth-new-${seed}-${i}.bin`), pseudoRandomBytes(addedBytes, seed + 50_000 + i));
    changed += addedBytes;
  }
  return changed;
}

/** The benchmark's data shape: webui.db ~13%, one big upload ~5%, the rest 200 kB uploads. */
function sizedCase(sizeMb: number): Case {
  const total = sizeMb * 1e6;
  const per = 200_000;
  return {
    title: `${sizeMb} MB`,
    sizeMb,
    build: (dir) =>
      buildDataDir(dir, {
        chats: Math.max(200, Math.round((total * 0.13) / 4100)),
        bigUploadBytes: Math.round(total * 0.05),
        uploads: Math.max(5, Math.round((total * 0.82) / per)),
        uploadBytes: per,
        seed: 42,
      }),
    change: (dir) => {
      const docs = fs.readdirSync(path.join(dir, "uploads")).filter((n) => /^\d{5}_doc\.bin$/.test(n)).sort().map((n) => `uploads/${n}`);
      const rows = addChats(dir, Math.max(10, Math.round((total * 0.003) / 2100)), "growth-new");
      return { rows, files: changeFiles(dir, docs, Math.max(1, Math.round((total * 0.003) / per)), Math.max(1, Math.round((total * 0.004) / per)), per, 900_000) };
    },
  };
}

/** Many small uploads (Open WebUI's knowledge bases full of small documents). */
function smallFilesCase(count: number, bytes: number): Case {
  return {
    title: `${count} small files of ${bytes} B`,
    build: (dir) => buildDataDir(dir, { chats: 200, bigUploadBytes: 100_000, uploads: count, uploadBytes: bytes, seed: 43 }),
    change: (dir) => {
      const docs = fs.readdirSync(path.join(dir, "uploads")).filter((n) => /^\d{5}_doc\.bin$/.test(n)).sort().map((n) => `uploads/${n}`);
      const rows = addChats(dir, 20, "growth-new");
      return { rows, files: changeFiles(dir, docs, Math.max(1, Math.round(count * 0.005)), Math.max(1, Math.round(count * 0.005)), bytes, 700_000) };
    },
  };
}

// ---------------------------------------------------------------- one case's host

const HOST = "bench";
const PASSWORD = "bench correct horse battery staple";
const JOB: Record<GrowthMethod, string> = { restic: "g-restic", snapshot: "g-snapshot", sync: "g-sync", "local-snapshot": "g-local", pull: "g-pull" };

/** One measured run: wall seconds and bytes sent (or written, for local targets). */
interface Sample {
  seconds: number;
  bytes: number;
}

interface MethodFigures {
  first: { ours: Sample[]; bare: Sample[] };
  second: {
    ours: Sample;
    bare: Sample;
    /** New rows' content plus new and replaced files. */
    changed: number;
    changedFiles: number;
    /** The databases a file-level method sends whole after the change (local targets copy both every run). */
    databases: number;
  };
}

class GrowthHost {
  readonly sandbox = new HostSandbox("owb-growth-");
  readonly puller = new HostSandbox("owb-growth-nas-");
  readonly data = this.sandbox.dataDir;
  readonly local = path.join(this.sandbox.root, "disk");
  readonly nas = path.join(this.puller.root, "nas");
  readonly bare = path.join(this.sandbox.root, "bare");
  private clock = 1_767_225_600;
  private bucketCounter = 0;
  buckets: Record<"restic" | "snapshot" | "sync", string> = { restic: "", snapshot: "", sync: "" };

  /** The source host's sshd, serving the local-snapshot job's folder to the pull job (when measured). */
  sshd: TestSshd | undefined;

  constructor(
    readonly s3: S3TestServer,
    readonly s3DataDir: string,
    readonly proxy: CountingProxy,
  ) {
    fs.mkdirSync(this.bare, { recursive: true });
  }

  /** A bucket no one used; the bucket it replaces is deleted from the server's disk. */
  async freshBucket(method: "restic" | "snapshot" | "sync"): Promise<void> {
    if (this.buckets[method]) rm(path.join(this.s3DataDir, this.buckets[method]));
    this.buckets[method] = `growth-${method}-${++this.bucketCounter}`;
    await this.s3.createBucket(this.buckets[method]);
    this.install();
  }

  install(): void {
    const s3 = (bucket: string) => ({ type: "s3", bucket: bucket || "unused-bucket", prefix: HOST, endpoint: this.proxy.endpoint, region: "us-east-1", accessKeyId: this.s3.accessKeyId, secretAccessKey: this.s3.secretAccessKey });
    const targets = {
      "s3-restic": s3(this.buckets.restic),
      "s3-snapshot": s3(this.buckets.snapshot),
      "s3-sync": s3(this.buckets.sync),
      disk: { type: "local", path: this.local },
      nas: { type: "local", path: this.nas },
    };
    // keep 10: nothing is pruned between the runs, so what a run sends is all it does.
    const jobs = [
      { name: JOB.restic, method: "restic", targets: ["s3-restic"], retention: { keep: 10 } },
      { name: JOB.snapshot, method: "snapshot", targets: ["s3-snapshot"], retention: { keep: 10 } },
      { name: JOB.sync, method: "sync", targets: ["s3-sync"] },
      { name: JOB["local-snapshot"], method: "local-snapshot", targets: ["disk"], retention: { keep: 10 } },
    ];
    const config = {
      targets,
      hosts: [
        { name: HOST, data: { dir: this.data }, jobs },
        ...(this.sshd
          ? [
              {
                name: "nas",
                jobs: [
                  {
                    name: JOB.pull,
                    method: "pull",
                    targets: ["nas"],
                    retention: { keep: 10 },
                    from: { host: "127.0.0.1", port: this.sshd.port, user: "root", sshKeyFile: this.sshd.clientKey, path: "/", hostKey: this.sshd.hostKey },
                  },
                ],
              },
            ]
          : []),
      ],
      resticPassword: PASSWORD,
    };
    this.sandbox.install(config, "bench", 0);
    if (this.sshd) this.puller.install(config, "bench", 1);
  }

  /** The local-snapshot job's folder on the source, which the pull job reads. */
  localLocation(): string {
    return targetLocation({ type: "local", path: this.local } as Parameters<typeof targetLocation>[0], HOST, JOB["local-snapshot"]);
  }

  nasLocation(): string {
    return targetLocation({ type: "local", path: this.nas } as Parameters<typeof targetLocation>[0], "nas", JOB.pull);
  }

  /** rclone's remote "owb" for the bare tools: the same server, through the same proxy. */
  bareEnv(): NodeJS.ProcessEnv {
    return {
      ...s3ClientEnv(),
      RCLONE_CONFIG: "/dev/null",
      RCLONE_CONFIG_OWB_TYPE: "s3",
      RCLONE_CONFIG_OWB_PROVIDER: "Other",
      RCLONE_CONFIG_OWB_ENDPOINT: this.proxy.endpoint,
      RCLONE_CONFIG_OWB_REGION: "us-east-1",
      RCLONE_CONFIG_OWB_ACCESS_KEY_ID: this.s3.accessKeyId,
      RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY: this.s3.secretAccessKey,
      RESTIC_PASSWORD: PASSWORD,
    };
  }

  /** A first run is a first run: no hash cache from an earlier measurement. */
  coldCaches(): void {
    rm(path.join(this.sandbox.paths.stateDir, "hashes"));
    rm(path.join(this.puller.paths.stateDir, "hashes"));
  }

  async ours(method: GrowthMethod): Promise<string> {
    const env = { OPENWEBUI_BACKUP_NOW: String((this.clock += 3600)) };
    if (method === "pull") return run(this.puller.paths.command, ["run", JOB.pull], { env: { ...this.puller.env(), ...env } });
    return run(this.sandbox.paths.command, ["run", JOB[method]], { env: { ...this.sandbox.env(), ...env } });
  }

  /** Where a bare run writes, per method and run number. */
  bareRestic = () => `rclone:owb:${this.buckets.restic}/bare-repo`;

  /**
   * A first run is into an existing empty repository, for ours and the bare tool alike (as in
   * the benchmark's full backups): init is set-up, not a run's cost.
   */
  async bareInit(method: GrowthMethod): Promise<void> {
    if (method === "restic") {
      for (const repo of [this.bareRestic(), `rclone:owb:${this.buckets.restic}/${HOST}/${JOB.restic}`]) {
        await run("restic", ["-o", "rclone.args=serve restic --stdio", "-r", repo, "init"], { env: this.bareEnv() });
      }
    }
    if (method === "local-snapshot") rm(path.join(this.bare, "local"));
    if (method === "pull") rm(path.join(this.bare, "pull"));
  }

  /** The bare tool doing the method's transfer; `n` numbers the run (1: full, 2: after the change). */
  async bareRun(method: GrowthMethod, n: number): Promise<void> {
    const env = this.bareEnv();
    const folder = (k: number) => `bare-${k}`;
    switch (method) {
      case "restic":
        await run("restic", ["-o", "rclone.args=serve restic --stdio", "-r", this.bareRestic(), "backup", "--json", "."], { env, cwd: this.data });
        return;
      case "snapshot":
        await run("rclone", ["copy", ...(n > 1 ? ["--copy-dest", `owb:${this.buckets.snapshot}/${folder(n - 1)}`] : []), this.data, `owb:${this.buckets.snapshot}/${folder(n)}`], { env });
        return;
      case "sync":
        await run("rclone", ["sync", this.data, `owb:${this.buckets.sync}/bare-current`], { env });
        return;
      case "local-snapshot": {
        const root = path.join(this.bare, "local");
        fs.mkdirSync(root, { recursive: true });
        await run("rsync", ["-a", ...(n > 1 ? [`--link-dest=${path.join(root, folder(n - 1))}`] : []), `${this.data}/`, `${path.join(root, folder(n))}/`]);
        return;
      }
      case "pull": {
        const root = path.join(this.bare, "pull");
        fs.mkdirSync(root, { recursive: true });
        const newest = fs.readdirSync(this.localLocation()).filter((f) => /^open-webui-backup-\d{8}T\d{6}Z$/.test(f)).sort().pop()!;
        const ssh = `ssh -i ${this.sshd!.clientKey} -p ${this.sshd!.port} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null`;
        await run("rsync", ["-a", "-e", ssh, ...(n > 1 ? [`--link-dest=${path.join(root, folder(n - 1))}`] : []), `root@127.0.0.1:/${newest}/`, `${path.join(root, folder(n))}/`]);
        return;
      }
    }
  }

  /** Bytes a run of `who` put on its target: proxy count for S3, target growth for local ones. */
  async measure(method: GrowthMethod, fn: () => Promise<unknown>, who: "ours" | "bare"): Promise<Sample> {
    const localRoot =
      method === "local-snapshot" ? (who === "ours" ? this.localLocation() : path.join(this.bare, "local")) : method === "pull" ? (who === "ours" ? this.nasLocation() : path.join(this.bare, "pull")) : undefined;
    const before = localRoot ? du(localRoot) : 0;
    this.proxy.reset();
    const secs = await timed(fn);
    const bytes = localRoot ? du(localRoot) - before : this.proxy.counts().sentBytes;
    return { seconds: secs, bytes };
  }

  /** A fresh target for ours and for the bare tool. */
  async fresh(method: GrowthMethod): Promise<void> {
    if (method === "restic" || method === "snapshot" || method === "sync") await this.freshBucket(method);
    if (method === "local-snapshot") rm(this.localLocation());
    if (method === "pull") rm(this.nasLocation());
    await this.bareInit(method);
  }

  cleanup(): void {
    for (const b of Object.values(this.buckets)) if (b) rm(path.join(this.s3DataDir, b));
    this.sandbox.cleanup();
    this.puller.cleanup();
  }
}

// ---------------------------------------------------------------- measuring

async function measureCase(c: Case, s3: S3TestServer, s3DataDir: string, proxy: CountingProxy, opts: GrowthOptions): Promise<{ dataBytes: number; files: number; byMethod: Map<GrowthMethod, MethodFigures> }> {
  const h = new GrowthHost(s3, s3DataDir, proxy);
  try {
    progress(`${c.title}: building the data directory`);
    c.build(h.data);
    const dataBytes = du(h.data);
    const files = Number(execFileSync("bash", ["-c", 'find "$1" -type f | wc -l', "_", h.data], { encoding: "utf8" }).trim());
    if (opts.methods.includes("pull")) {
      fs.mkdirSync(h.localLocation(), { recursive: true });
      h.sshd = await startSshd(`command="/usr/bin/rrsync -ro ${h.localLocation()}",restrict`);
    }
    await h.freshBucket("restic");
    await h.freshBucket("snapshot");
    await h.freshBucket("sync");
    const byMethod = new Map<GrowthMethod, MethodFigures>();
    // A pull copies the local-snapshot job's folders: it comes last.
    const order = [...opts.methods].sort((a, b) => Number(a === "pull") - Number(b === "pull"));
    for (const m of order) byMethod.set(m, { first: { ours: [], bare: [] }, second: { ours: { seconds: 0, bytes: 0 }, bare: { seconds: 0, bytes: 0 }, changed: 0, changedFiles: 0, databases: 0 } });
    for (let i = 1; i <= opts.runs; i++) {
      for (const m of order) {
        progress(`${c.title}: first run, ${m} (${i}/${opts.runs})`);
        // A pull copies the source's newest snapshot: there must be one.
        if (m === "pull" && !fs.readdirSync(h.localLocation()).some((f) => f.startsWith("open-webui-backup-"))) await h.ours("local-snapshot");
        await h.fresh(m);
        h.coldCaches();
        const figures = byMethod.get(m)!;
        // Alternate which goes first, so neither always follows the other's writes.
        const pair: Array<["ours" | "bare", () => Promise<unknown>]> = [
          ["ours", () => h.ours(m)],
          ["bare", () => h.bareRun(m, 1)],
        ];
        for (const [who, fn] of i % 2 === 1 ? pair : pair.reverse()) figures.first[who].push(await h.measure(m, fn, who));
      }
    }
    // Every target now holds one full run of ours and one of the bare tool: one change, then
    // a second run of each.
    progress(`${c.title}: changing ~1% of the data`);
    const change = c.change(h.data);
    const size = (rel: string) => fs.statSync(path.join(h.data, rel)).size;
    for (const m of order) {
      progress(`${c.title}: second run, ${m}`);
      const figures = byMethod.get(m)!;
      // A pull's second run copies the source's changed snapshot (local-snapshot's second run, when measured before it).
      if (m === "pull" && !opts.methods.includes("local-snapshot")) await h.ours("local-snapshot");
      figures.second.ours = await h.measure(m, () => h.ours(m), "ours");
      figures.second.bare = await h.measure(m, () => h.bareRun(m, 2), "bare");
      figures.second.changed = change.rows + change.files;
      figures.second.changedFiles = change.files;
      figures.second.databases = size("webui.db") + (m === "local-snapshot" || m === "pull" ? size("vector_db/chroma.sqlite3") : 0);
    }
    return { dataBytes, files, byMethod };
  } finally {
    await h.sshd?.stop();
    h.cleanup();
  }
}

// ---------------------------------------------------------------- report

interface CaseResult {
  c: Case;
  dataBytes: number;
  files: number;
  byMethod: Map<GrowthMethod, MethodFigures>;
}

const med = (samples: Sample[], key: keyof Sample) => median(samples.map((s) => s[key]));

/** Seconds = intercept + slope × GB, through the two sizes' medians. */
export function fit(points: Array<{ gb: number; seconds: number }>): { intercept: number; slope: number } {
  const [a, b] = points;
  const slope = (b.seconds - a.seconds) / (b.gb - a.gb);
  return { slope, intercept: a.seconds - slope * a.gb };
}

const GOALS = { ratio: 1.5, slope: 1.15, intercept: 0.7 };

export function growthReport(results: CaseResult[], opts: GrowthOptions): string[] {
  const lines: string[] = ["", `Growth (issue 15): per method, first (full) run and second run after ~1% changed, ours next to the bare tool; bytes sent counted by a proxy in front of the S3 server (local targets: target growth).`];
  const detail: string[][] = [];
  for (const r of results) {
    for (const [m, f] of r.byMethod) {
      detail.push([
        r.c.title,
        m,
        `${seconds(med(f.first.ours, "seconds"))} / ${megabytes(med(f.first.ours, "bytes"))}`,
        `${seconds(med(f.first.bare, "seconds"))} / ${megabytes(med(f.first.bare, "bytes"))}`,
        `${seconds(f.second.ours.seconds)} / ${megabytes(f.second.ours.bytes)}`,
        `${seconds(f.second.bare.seconds)} / ${megabytes(f.second.bare.bytes)}`,
        megabytes(f.second.changed),
        `${(f.second.ours.bytes / f.second.changed).toFixed(2)}x`,
        `${(f.second.bare.bytes / f.second.changed).toFixed(2)}x`,
      ]);
    }
  }
  lines.push(
    renderTable(["case", "method", "1st run ours (time / sent)", "1st run bare", "2nd run ours", "2nd run bare", "changed", "2nd sent/changed ours", "bare"], detail),
    "",
    "Bare tools: restic backup (same rclone backend), rclone copy (2nd run: --copy-dest the 1st), rclone sync, rsync (--link-dest the 1st), rsync over ssh (--link-dest).",
  );

  const sized = results.filter((r) => r.c.sizeMb !== undefined);
  const rows: Row[] = [];
  for (const m of opts.methods) {
    if (sized.length === 2) {
      const points = (who: "ours" | "bare") => sized.map((r) => ({ gb: r.dataBytes / 1e9, seconds: med(r.byMethod.get(m)!.first[who], "seconds") }));
      const ours = fit(points("ours"));
      const bare = fit(points("bare"));
      rows.push({
        figure: `${m}: per-GB cost of a run, ours / bare`,
        ours: `${seconds(ours.slope)}/GB`,
        baseline: `${seconds(bare.slope)}/GB`,
        value: ours.slope / bare.slope,
        unit: "x",
        goal: { limit: GOALS.slope, unit: "x" },
      });
      rows.push({
        figure: `${m}: fixed cost per run (intercept), ours`,
        ours: seconds(ours.intercept),
        baseline: `bare ${seconds(bare.intercept)}`,
        value: ours.intercept * 1000,
        unit: "ms",
        goal: { limit: GOALS.intercept * 1000, unit: "ms" },
        note: `fit through ${sized.map((r) => megabytes(r.dataBytes)).join(" and ")}`,
      });
    }
    for (const r of results) {
      const f = r.byMethod.get(m)!;
      const hasGoal = m === "restic" || m === "snapshot";
      rows.push({
        figure: `${m}, ${r.c.title}: 2nd-run bytes sent / changed`,
        ours: megabytes(f.second.ours.bytes),
        baseline: `changed ${megabytes(f.second.changed)}`,
        value: f.second.ours.bytes / f.second.changed,
        unit: "x",
        goal: hasGoal ? { limit: GOALS.ratio, unit: "x" } : undefined,
        note: `bare: ${(f.second.bare.bytes / f.second.changed).toFixed(2)}x${m === "restic" ? "" : `; files only (sent - databases ${megabytes(f.second.databases)}) / changed files: ${((f.second.ours.bytes - f.second.databases) / f.second.changedFiles).toFixed(2)}x`}`,
      });
    }
  }
  lines.push("", renderRows(rows));
  lines.push(
    "",
    "changed = the new chat rows' content plus the replaced and added files. File-level methods (snapshot, sync, local-snapshot, pull) send a changed",
    "webui.db whole (a fresh copy each run), which dominates their ratio when the database is a large share of the data; \"files only\" takes the",
    "databases out of both sides. Every run of ours also sends files.sha256 (about 90 bytes per file), which shows with many small files.",
  );
  return lines;
}

export async function growthTable(opts: GrowthOptions): Promise<string[]> {
  const s3DataDir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-growth-s3-"));
  const s3 = await startS3Server({ dataDir: s3DataDir });
  const proxy = await startCountingProxy(s3.endpoint);
  try {
    const cases = [...opts.sizesMb.map(sizedCase), ...(opts.smallFiles > 0 ? [smallFilesCase(opts.smallFiles, opts.smallFileBytes)] : [])];
    const results: CaseResult[] = [];
    for (const c of cases) results.push({ c, ...(await measureCase(c, s3, s3DataDir, proxy, opts)) });
    return growthReport(results, opts);
  } finally {
    await proxy.stop();
    await s3.stop();
    rm(s3DataDir);
  }
}
