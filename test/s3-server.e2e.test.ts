/**
 * The test S3 server (test/support/s3-server.ts) against the real restic 0.14 and
 * rclone 1.60 binaries: what the backup engine's end-to-end tests rely on. Its aws-chunked
 * decoder and client environment are checked in s3-server.unit.test.ts.
 */
import { execFile, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import { promises as fs } from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { S3TestServer, s3ClientEnv, startS3Server } from "./support/s3-server";
import { waitFor } from "./support/wait";

const RESTIC_PASSWORD = "correct horse battery staple";

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a binary without blocking the event loop; rejects with its output when it exits non-zero. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ code: 0, stdout, stderr });
    });
  });
}

function resticEnv(s3: S3TestServer, cacheDir: string): NodeJS.ProcessEnv {
  return {
    ...s3ClientEnv(),
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    RESTIC_PASSWORD,
    RESTIC_CACHE_DIR: cacheDir,
  };
}

function rcloneEnv(s3: S3TestServer): NodeJS.ProcessEnv {
  return {
    ...s3ClientEnv(),
    RCLONE_CONFIG_OWB_TYPE: "s3",
    RCLONE_CONFIG_OWB_PROVIDER: "Other",
    RCLONE_CONFIG_OWB_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_OWB_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_OWB_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

/** relative path → sha256 of every regular file under `root`. */
async function fileDigests(root: string): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  async function visit(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(full);
      else if (entry.isFile()) digests[path.relative(root, full)] = createHash("sha256").update(await fs.readFile(full)).digest("hex");
    }
  }
  await visit(root);
  return digests;
}

describe("test S3 server with restic and rclone", () => {
  let s3: S3TestServer;
  let work: string;
  let source: string;
  let sourceDigests: Record<string, string>;
  let sourceBytes: number;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "s3-server-test-"));
    source = path.join(work, "source");
    const files: Record<string, Buffer> = {
      // > 10 MB: several restic chunks, several rclone multipart parts.
      "big file.bin": randomBytes(12 * 1024 * 1024 + 123),
      "notes.txt": Buffer.from("plain text\n"),
      "dir one/sub/deeper/a b.txt": Buffer.from("only reachable through folders that hold only folders\n"),
      "ünïcödé/ファイル 名.txt": Buffer.from("unicode names\n"),
    };
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(source, name)), { recursive: true });
      await fs.writeFile(path.join(source, name), content);
    }
    sourceDigests = await fileDigests(source);
    sourceBytes = Object.values(files).reduce((sum, content) => sum + content.length, 0);
    s3 = await startS3Server();
    await s3.createBucket("backups");
  }, 60_000);

  afterAll(async () => {
    await s3?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it("listens on a random 127.0.0.1 port with the s3rver account", () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.endpoint).not.toBe("http://127.0.0.1:4568");
    expect([s3.accessKeyId, s3.secretAccessKey]).toEqual(["S3RVER", "S3RVER"]);
  });

  it("restic: init, backup, check --read-data and restore give back identical files", async () => {
    const env = resticEnv(s3, path.join(work, "restic-cache"));
    const repo = ["-r", `s3:${s3.endpoint}/backups/restic/host1`];
    await run("restic", [...repo, "init"], env);
    const backup = await run("restic", [...repo, "backup", "--host", "host1", "--json", source], env);
    const summary = backup.stdout.split("\n").filter(Boolean).map((line) => JSON.parse(line)).find((msg) => msg.message_type === "summary");
    expect(summary.files_new).toBe(Object.keys(sourceDigests).length);
    expect(summary.total_bytes_processed).toBe(sourceBytes);

    const check = await run("restic", [...repo, "check", "--read-data"], env);
    expect(check.stdout).toContain("no errors were found");

    const target = path.join(work, "restic-restore");
    await run("restic", [...repo, "restore", "latest", "--target", target], env);
    expect(await fileDigests(path.join(target, source))).toEqual(sourceDigests);

    // The packs hold the payload, not aws-chunked framing (restic data is encrypted, random data does not compress).
    const stored = await s3.bytesStored("backups", "restic/host1/data/");
    expect(stored).toBeGreaterThan(sourceBytes);
    expect(stored).toBeLessThan(sourceBytes + 64 * 1024);
  });

  it.each([
    ["single PUTs", "rclone/plain", []],
    ["multipart uploads", "rclone/multipart", ["--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]],
  ])("rclone: copy up with %s, check, copy back gives identical files", async (_name, prefix, flags) => {
    const env = rcloneEnv(s3);
    await run("rclone", ["copy", ...flags, source, `owb:backups/${prefix}`], env);
    await run("rclone", ["check", source, `owb:backups/${prefix}`], env);
    const back = path.join(work, prefix.replace("/", "-"));
    await run("rclone", ["copy", `owb:backups/${prefix}`, back], env);
    await run("rclone", ["check", source, back], env);
    expect(await fileDigests(back)).toEqual(sourceDigests);
    expect(await s3.bytesStored("backups", `${prefix}/`)).toBe(sourceBytes);
  });

  it("rclone lsf --dirs-only sees folders that hold only folders, flat and recursive", async () => {
    const env = rcloneEnv(s3);
    await run("rclone", ["copy", source, "owb:backups/listing"], env);
    const flat = await run("rclone", ["lsf", "--dirs-only", "owb:backups/listing"], env);
    expect(flat.stdout.split("\n").filter(Boolean).sort()).toEqual(["dir one/", "ünïcödé/"]);
    const nested = await run("rclone", ["lsf", "--dirs-only", "owb:backups/listing/dir one"], env);
    expect(nested.stdout.split("\n").filter(Boolean)).toEqual(["sub/"]);
    const recursive = await run("rclone", ["lsf", "-R", "--dirs-only", "owb:backups/listing"], env);
    expect(recursive.stdout.split("\n").filter(Boolean).sort()).toEqual(["dir one/", "dir one/sub/", "dir one/sub/deeper/", "ünïcödé/"]);
  });

  it("bytesStored counts only the objects under the prefix", async () => {
    const env = rcloneEnv(s3);
    await run("rclone", ["copy", source, "owb:backups/counted"], env);
    expect(await s3.bytesStored("backups", "counted/")).toBe(sourceBytes);
    expect(await s3.bytesStored("backups", "counted/dir one/")).toBe(Buffer.byteLength("only reachable through folders that hold only folders\n"));
    expect(await s3.bytesStored("backups", "nothing-here/")).toBe(0);
    expect(await s3.bytesStored("no-such-bucket")).toBe(0);
  });

  it("replaces an object's files by renames, never in place, on an upload and on a server-side copy, which keeps the source's md5 and metadata", async () => {
    // A file rewritten in place is truncated by a crash in the middle, and a truncated
    // metadata file fails every later listing of its folder.
    const env = rcloneEnv(s3);
    const local = path.join(work, "renamed");
    await fs.mkdir(local, { recursive: true });
    await fs.writeFile(path.join(local, "a.txt"), "first\n");
    await fs.writeFile(path.join(local, "b.txt"), "other\n");
    await run("rclone", ["copy", local, "owb:backups/renamed"], env);
    // s3rver's files of an object: its content, the content's md5, its metadata.
    const files = (key: string) => ["._S3rver_object", "._S3rver_object.md5", "._S3rver_metadata.json"].map((suffix) => path.join(s3.dataDir, "backups", "renamed", key + suffix));
    const inodes = async (key: string) => Promise.all(files(key).map(async (file) => (await fs.stat(file)).ino));
    const before = await inodes("a.txt");

    await fs.writeFile(path.join(local, "a.txt"), "second, longer\n");
    await run("rclone", ["copyto", path.join(local, "a.txt"), "owb:backups/renamed/a.txt"], env);
    const uploaded = await inodes("a.txt");
    uploaded.forEach((ino, i) => expect(ino).not.toBe(before[i]));

    // A server-side copy over an existing object.
    await run("rclone", ["copyto", "owb:backups/renamed/b.txt", "owb:backups/renamed/a.txt"], env);
    const copied = await inodes("a.txt");
    copied.forEach((ino, i) => expect(ino).not.toBe(uploaded[i]));
    expect(await fs.readFile(files("a.txt")[0], "utf8")).toBe("other\n");
    expect(await fs.readFile(files("a.txt")[1], "utf8")).toBe(createHash("md5").update("other\n").digest("hex"));
    expect(JSON.parse(await fs.readFile(files("a.txt")[2], "utf8"))).toEqual(JSON.parse(await fs.readFile(files("b.txt")[2], "utf8")));
    const listed = await run("rclone", ["lsjson", "--hash", "owb:backups/renamed"], env);
    expect(JSON.parse(listed.stdout).map((o: { Name: string; Hashes: { md5: string } }) => [o.Name, o.Hashes.md5])).toEqual([
      ["a.txt", createHash("md5").update("other\n").digest("hex")],
      ["b.txt", createHash("md5").update("other\n").digest("hex")],
    ]);
    expect(await s3.uploadsInProgress()).toBe(0); // nothing left in the spool
  });

  it("stores nothing from an upload that is cut off mid-body", async () => {
    const { port } = new URL(s3.endpoint);
    const req = http.request({ host: "127.0.0.1", port, method: "PUT", path: "/backups/cut/half.bin", headers: { "content-length": 1_000_000 } });
    req.on("error", () => undefined);
    await new Promise<void>((resolve) => req.write(Buffer.alloc(500_000), () => resolve()));
    // Cut the connection once the server is receiving the body; then wait until it has dealt
    // with the broken upload. The object must never appear.
    await waitFor("the server to receive the upload", async () => (await s3.uploadsInProgress()) > 0, 30_000);
    req.destroy();
    await waitFor("the server to drop the broken upload", async () => (await s3.uploadsInProgress()) === 0, 30_000);
    expect(await s3.bytesStored("backups", "cut/")).toBe(0);
    expect((await fetch(`${s3.endpoint}/backups/cut/half.bin`)).status).toBe(404);
  });
});

describe("test S3 server options", () => {
  it("keeps objects in the given dataDir, so a new server over it serves them", async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), "s3-server-data-"));
    try {
      const first = await startS3Server({ dataDir });
      await first.createBucket("kept");
      expect((await fetch(`${first.endpoint}/kept/a/b.txt`, { method: "PUT", body: "hello" })).status).toBe(200);
      await first.stop();

      const second = await startS3Server({ dataDir });
      try {
        expect(await (await fetch(`${second.endpoint}/kept/a/b.txt`)).text()).toBe("hello");
        expect(await second.bytesStored("kept", "a/")).toBe(5);
      } finally {
        await second.stop();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it("crashOnWrite(): the next upload under the prefix kills the server before anything of it is stored", async () => {
    const s3 = await startS3Server();
    try {
      await s3.createBucket("kept");
      await s3.crashOnWrite("kept", "doomed/");
      expect((await fetch(`${s3.endpoint}/kept/safe.txt`, { method: "PUT", body: "hello" })).status).toBe(200);
      await expect(fetch(`${s3.endpoint}/kept/doomed/a.txt`, { method: "PUT", body: "lost" })).rejects.toThrow();
      await s3.crashed();
      await s3.restart();
      expect(await s3.bytesStored("kept")).toBe(5);
      // A restarted server is not armed any more.
      expect((await fetch(`${s3.endpoint}/kept/doomed/a.txt`, { method: "PUT", body: "kept" })).status).toBe(200);
    } finally {
      await s3.stop();
    }
  });

  it("rejects a negative slowWritesMs", async () => {
    await expect(startS3Server({ slowWritesMs: -1 })).rejects.toThrow(/slowWritesMs must be a number of milliseconds >= 0/);
  });
});

describe("test S3 server dying mid-backup", () => {
  let s3: S3TestServer;
  let work: string;

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "s3-server-crash-test-"));
    await fs.mkdir(path.join(work, "source"));
    await fs.writeFile(path.join(work, "source", "data.bin"), randomBytes(3 * 1024 * 1024));
    // Every PUT/POST is held 700 ms, so uploads are in flight when the server is killed.
    s3 = await startS3Server({ slowWritesMs: 700 });
    await s3.createBucket("crash");
  }, 60_000);

  afterAll(async () => {
    await s3?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it("stop() makes a running restic backup fail; after restart() on the same port the next backup succeeds", async () => {
    const env = resticEnv(s3, path.join(work, "cache"));
    const repo = ["-r", `s3:${s3.endpoint}/crash/repo`];
    const source = path.join(work, "source");
    await run("restic", [...repo, "init"], env);

    const backup = spawn("restic", [...repo, "backup", "--host", "crash-test", source], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    backup.stderr.on("data", (text: Buffer) => (stderr += text.toString()));
    backup.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => backup.on("exit", (code, signal) => resolve({ code, signal })));

    try {
      // The backup has taken its lock and is now uploading data: kill the server under it.
      await waitFor("restic's lock to be stored", async () => (await s3.bytesStored("crash", "repo/locks/")) > 0, 20_000);
      const endpoint = s3.endpoint;
      await s3.stop();
      await s3.stop(); // safe twice

      // restic 0.14 notices (connection refused) and retries; it would give up only after ~2.5 minutes,
      // so once it has reported the failed save we end it the way a job timeout would.
      await waitFor("restic to report a failed save", () => /returned error, retrying/.test(stderr), 30_000);
      expect(stderr).toMatch(/connection refused/);
      expect(backup.exitCode).toBeNull(); // it did not finish without the server
      backup.kill("SIGKILL");
      const result = await exited;
      expect(result.code === 0).toBe(false);

      // Nothing half-written: no snapshot, and no data pack from the interrupted upload.
      expect(await s3.bytesStored("crash", "repo/snapshots/")).toBe(0);
      expect(await s3.bytesStored("crash", "repo/data/")).toBe(0);

      await s3.restart();
      expect(s3.endpoint).toBe(endpoint);
      await s3.restart(); // restarting a running server is a stop + start

      await run("restic", [...repo, "backup", "--host", "crash-test", source], env);
      const snapshots = JSON.parse((await run("restic", [...repo, "snapshots", "--json"], env)).stdout);
      expect(snapshots).toHaveLength(1);
      // The killed run left its lock behind; check needs an exclusive lock, so clear stale ones first.
      await run("restic", [...repo, "unlock"], env);
      const check = await run("restic", [...repo, "check", "--read-data"], env);
      expect(check.stdout).toContain("no errors were found");
    } finally {
      if (backup.exitCode === null && backup.signalCode === null) backup.kill("SIGKILL");
    }
  }, 240_000); // restic and the server restarts are slow on a busy machine; nothing here waits a fixed time
});
