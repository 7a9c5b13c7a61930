/**
 * A real S3-compatible server on 127.0.0.1 for end-to-end tests that run the
 * restic and rclone binaries: s3rver 3.7 in a child process, with a thin layer
 * in front that decodes aws-chunked uploads (restic/minio-go) and only stores
 * complete bodies (see s3-server-process.ts).
 *
 * Usage:
 *
 *     const s3 = await startS3Server();
 *     await s3.createBucket("backups");
 *     const env = { ...s3ClientEnv(), AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
 *     // restic -r s3:${s3.endpoint}/backups/host1 ...
 *     await s3.stop();
 *
 * The server lives in its own process, so a test may block its own event loop
 * (execFileSync) while restic talks to it. stop() kills it with SIGKILL (a crash,
 * not a graceful shutdown); crashOnWrite() makes it crash by itself at the next
 * upload under a prefix, so a test kills it mid-upload without guessing when that is;
 * restart() starts it again on the same port over the same data directory. If the
 * test process exits, the server exits with it.
 *
 * Known s3rver limits (not papered over here): object names whose last path
 * segment is longer than ~230 bytes fail (s3rver keeps each key as a file name
 * plus a suffix); folders holding only sub-folders are listed only with
 * `--fast-list` (set by s3ClientEnv); names with `#%*?` need rclone `--checksum`
 * when only modification times changed.
 */
import { ChildProcess, fork } from "child_process";
import { rmSync, promises as fs } from "fs";
import type { Socket } from "net";
import * as os from "os";
import * as path from "path";
import { s3ServerEntry } from "./s3-server-entry";
import type { S3ServerProcessCommand, S3ServerProcessMessage, S3ServerProcessOptions } from "./s3-server-process";

export interface S3TestServer {
  endpoint: string; // e.g. "http://127.0.0.1:43123"
  /** Where s3rver keeps buckets and objects (object `k` of bucket `b` is `<dataDir>/b/k._S3rver_object`). */
  readonly dataDir: string;
  accessKeyId: string; // "S3RVER"
  secretAccessKey: string; // "S3RVER"
  createBucket(name: string): Promise<void>;
  /** A stack config target on this server: the bucket, prefix "web1" unless given (undefined: none), this server's endpoint and account. */
  target(bucket: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  stop(): Promise<void>; // close (used to simulate the server dying mid-upload); safe to call twice
  /** Arms the server to crash (SIGKILL itself) when the next PUT/POST under `bucket/keyPrefix` arrives, before it answers. */
  crashOnWrite(bucket: string, keyPrefix: string): Promise<void>;
  /** Resolves once the server process has ended (crashed or stopped). */
  crashed(): Promise<void>;
  restart(): Promise<void>; // listen again on the SAME port with the same data
  /** Uploads the server has begun to receive and not finished handling (stored or refused). */
  uploadsInProgress(): Promise<number>;
  /** Total bytes of object data currently stored under a bucket/prefix (for the benchmark). */
  bytesStored(bucket: string, prefix?: string): Promise<number>;
}

export interface StartS3ServerOptions {
  /** Where s3rver keeps buckets and objects; a fresh temp dir when omitted. Kept across restart(). */
  dataDir?: string;
  /** delay each PUT/POST by this many ms, to let a test kill the server mid-upload */
  slowWritesMs?: number;
  /** Log every request (method and URL, one JSON line each) to this file; see S3LoggedRequest. */
  requestLog?: string;
}

/** The one account s3rver knows. */
const ACCESS_KEY_ID = "S3RVER";
const SECRET_ACCESS_KEY = "S3RVER";

/** How long a (re)start may take before it counts as failed. */
const START_TIMEOUT_MS = 30_000;
/** How long restart() keeps retrying while the old port is still held. */
const RESTART_PORT_RETRY_MS = 5_000;

/** s3rver's file suffix for object data: `<last key segment>._S3rver_object`. */
const OBJECT_FILE_SUFFIX = "._S3rver_object";

/** Environment for restic/rclone child processes that talk to this server. */
export function s3ClientEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  // rclone 1.60 refuses to start (LoadCustomCABundleError) with the AWS_CA_BUNDLE this machine sets;
  // the server speaks plain http, so no client needs a CA bundle.
  delete env.AWS_CA_BUNDLE;
  // s3rver omits folders that hold only sub-folders from delimiter listings; a flat listing sees them.
  env.RCLONE_FAST_LIST = "true";
  return env;
}

/**
 * The S3 server of a test file (or describe block): started in its beforeAll, stopped in its
 * afterAll. The handle is usable from the tests on; before beforeAll it throws.
 */
export function useS3Server(opts: StartS3ServerOptions = {}): S3TestServer {
  let server: S3TestServer | undefined;
  beforeAll(async () => {
    server = await startS3Server(opts);
  });
  afterAll(async () => {
    await server?.stop();
  });
  const started = (): S3TestServer => {
    if (!server) throw new Error("useS3Server: the server starts in beforeAll; use it from a test");
    return server;
  };
  return {
    get endpoint() {
      return started().endpoint;
    },
    get dataDir() {
      return started().dataDir;
    },
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    createBucket: (name) => started().createBucket(name),
    target: (bucket, overrides) => started().target(bucket, overrides),
    stop: () => started().stop(),
    crashOnWrite: (bucket, keyPrefix) => started().crashOnWrite(bucket, keyPrefix),
    crashed: () => started().crashed(),
    restart: () => started().restart(),
    uploadsInProgress: () => started().uploadsInProgress(),
    bytesStored: (bucket, prefix) => started().bytesStored(bucket, prefix),
  };
}

export async function startS3Server(opts: StartS3ServerOptions = {}): Promise<S3TestServer> {
  const slowWritesMs = opts.slowWritesMs ?? 0;
  if (!Number.isFinite(slowWritesMs) || slowWritesMs < 0) {
    throw new Error(`startS3Server: slowWritesMs must be a number of milliseconds >= 0, got ${opts.slowWritesMs}`);
  }
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "s3-test-server-"));
  removeOnExit(workDir);
  const server = new ChildProcessS3Server({
    dataDir: path.resolve(opts.dataDir ?? path.join(workDir, "data")),
    spoolDir: path.join(workDir, "spool"),
    port: 0,
    slowWritesMs,
    requestLog: opts.requestLog,
  });
  await server.launch();
  return server;
}

class ChildProcessS3Server implements S3TestServer {
  readonly accessKeyId = ACCESS_KEY_ID;
  readonly secretAccessKey = SECRET_ACCESS_KEY;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** How the server ended when nothing here stopped it and no crash was armed, for the errors of later calls. */
  private lost: string | undefined;
  private crashArmed = false;

  constructor(private readonly options: S3ServerProcessOptions) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  target(bucket: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const target = { type: "s3", bucket, prefix: "web1", endpoint: this.endpoint, region: "us-east-1", accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey, ...overrides };
    // An override of undefined leaves the field out (the config's objects are strict).
    return Object.fromEntries(Object.entries(target).filter(([, value]) => value !== undefined));
  }

  /** Starts the child on options.port (0 the first time, then the port it got). */
  async launch(): Promise<void> {
    const { entry, execArgv, env } = s3ServerEntry();
    const child = fork(entry, [JSON.stringify(this.options)], { execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], env: { ...process.env, ...env } });
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));

    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderr = (stderr + text).slice(-4000);
    });

    try {
      this.options.port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
        child.on("message", (message: S3ServerProcessMessage) => {
          if (message.type === "listening") resolve(message.port);
          else if (message.type === "failed") reject(new Error(message.message));
          else return;
          clearTimeout(timer);
        });
        child.once("exit", (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`exited during start (code ${code}, signal ${signal})`));
        });
        child.once("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    } catch (error) {
      await this.stop();
      const detail = stderr.trim() === "" ? "" : `\n${stderr.trim()}`;
      throw new Error(`test S3 server on port ${this.options.port || "(any)"}: ${(error as Error).message}${detail}`);
    }

    child.once("exit", (code, signal) => {
      if (this.child !== child || this.crashArmed) return;
      this.lost = `the test S3 server (pid ${child.pid}) ended unexpectedly (exit code ${code}, signal ${signal})${stderr.trim() === "" ? "" : `; its last words:\n${stderr.trim()}`}`;
      console.warn(this.lost);
    });
    // Don't let a forgotten server keep the test process alive; it exits when we disconnect.
    child.unref();
    child.channel?.unref();
    (child.stderr as Socket | null)?.unref();
  }

  async createBucket(name: string): Promise<void> {
    // s3rver lets unsigned requests through; path-style PUT /<bucket> creates it.
    const response = await fetch(`${this.endpoint}/${encodeURIComponent(name)}`, { method: "PUT" }).catch((error: Error) => {
      throw new Error(`createBucket(${JSON.stringify(name)}): ${error.message}${this.lost ? `; ${this.lost}` : ""}`);
    });
    if (!response.ok) {
      throw new Error(`createBucket(${JSON.stringify(name)}): HTTP ${response.status} ${await response.text()}`);
    }
  }

  async crashOnWrite(bucket: string, keyPrefix: string): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error("crashOnWrite: the server is not running");
    const command: S3ServerProcessCommand = { type: "crash-on-write", keyPrefix: `${bucket}/${keyPrefix}` };
    this.crashArmed = true;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: S3ServerProcessMessage) => {
        if (message.type !== "armed") return;
        child.off("message", onMessage);
        resolve();
      };
      child.on("message", onMessage);
      child.send(command, (error) => error && reject(error));
    });
  }

  crashed(): Promise<void> {
    return this.exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    this.crashArmed = false;
    if (child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      child.ref(); // keep this process alive until the exit is seen
      child.kill("SIGKILL");
    }
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + RESTART_PORT_RETRY_MS;
    for (;;) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (!/EADDRINUSE/.test((error as Error).message) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async uploadsInProgress(): Promise<number> {
    // Each upload is spooled to its own file, removed once the upload is stored or refused.
    return (await fs.readdir(this.options.spoolDir).catch(() => [])).length;
  }

  async bytesStored(bucket: string, prefix = ""): Promise<number> {
    const bucketDir = path.join(this.options.dataDir, bucket);
    let total = 0;
    for (const { key, size } of await storedObjects(bucketDir, "")) {
      if (key.startsWith(prefix)) total += size;
    }
    return total;
  }
}

/** Every object s3rver stores under `dir`, with its key (relative to the bucket) and data size. */
async function storedObjects(dir: string, keyPrefix: string): Promise<Array<{ key: string; size: number }>> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const found: Array<{ key: string; size: number }> = [];
  for (const entry of entries) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      // s3rver's own bookkeeping (e.g. `._S3rver_uploads` for multipart parts) is not object data.
      if (entry.name.startsWith("._S3rver_")) continue;
      found.push(...(await storedObjects(entryPath, `${keyPrefix}${entry.name}/`)));
    } else if (entry.isFile() && entry.name.endsWith(OBJECT_FILE_SUFFIX)) {
      const { size } = await fs.stat(entryPath);
      found.push({ key: keyPrefix + entry.name.slice(0, -OBJECT_FILE_SUFFIX.length), size });
    }
  }
  return found;
}

const workDirsToRemove = new Set<string>();

/** Temp dirs we created are removed when the test process exits. */
function removeOnExit(dir: string): void {
  if (workDirsToRemove.size === 0) {
    process.once("exit", () => {
      for (const workDir of workDirsToRemove) rmSync(workDir, { recursive: true, force: true });
    });
  }
  workDirsToRemove.add(dir);
}
