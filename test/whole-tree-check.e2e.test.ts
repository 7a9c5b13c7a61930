/**
 * Whole-tree checks, end to end with real sha256sum, rclone, rsync, restic, sqlite3 and the
 * local S3 server: every backup records the sha256 of each file (files.sha256 beside the
 * manifest, which records the list's own sha256), and verify and every restore compare each
 * restored file against it. A stored backup is damaged for real (bytes flipped in an upload,
 * an upload truncated, one deleted, a stranger added): verify fails naming them and alerts,
 * restore fails naming them, the prior good backup still restores. A sha256sum shim on PATH
 * records what each run reads, proving that unchanged files are not read again.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir, isExcluded, pseudoRandomBytes, treeHashes } from "./support/openwebui-data";
import { s3ClientEnv, useS3Server } from "./support/s3-server";
import { installPull, pullSourceRoot, pulledRoot, startPullSshd } from "./support/pull-pair";
import { TestSshd } from "./support/sshd";
import { WebhookListener, webhookListener } from "./support/webhook-listener";
import { epoch, expectSameData } from "./support/backup-checks";

jest.setTimeout(240_000);

/**
 * Records every file sha256sum is asked to read (NUL-terminated), then runs the real one.
 * Once, when the file $SHA256_SHIM_ARMED exists (it is removed on use), with
 * $SHA256_SHIM_TAMPER_REL set, the call that reads that file appends to it in its working
 * directory (the staged tree) after hashing it: a staged file that changed between being
 * hashed and being shipped.
 */
const SHA256_SHIM = `#!/bin/bash
for a in "$@"; do [[ "$a" == -- ]] || printf '%s\\0' "$a" >>"$SHA256_SHIM_LOG"; done
if [[ -n "\${SHA256_SHIM_TAMPER_REL:-}" && -e "$SHA256_SHIM_ARMED" ]] && printf '%s\\n' "$@" | grep -qxF -- "$SHA256_SHIM_TAMPER_REL"; then
  rc=0
  /usr/bin/sha256sum "$@" || rc=$?
  rm -f -- "$SHA256_SHIM_ARMED"
  printf 'changed after it was hashed' >>"$SHA256_SHIM_TAMPER_REL"
  exit "$rc"
fi
exec /usr/bin/sha256sum "$@"
`;

const s3 = useS3Server();
let buckets = 0;

let sandbox: HostSandbox;
let hook: WebhookListener;
const shimLog = () => path.join(sandbox.root, "sha256sum.log");
const tmpDir = () => path.join(sandbox.root, "tmp");
beforeEach(async () => {
  sandbox = new HostSandbox("owb-tree-");
  buildDataDir(sandbox.dataDir);
  hook = await webhookListener();
  fs.writeFileSync(path.join(sandbox.binDir, "sha256sum"), SHA256_SHIM, { mode: 0o755 });
  fs.mkdirSync(tmpDir());
  // The command's own temporary files go here, so a test can see that none are left behind.
  sandbox.extraEnv = { SHA256_SHIM_LOG: shimLog(), TMPDIR: tmpDir() };
});
afterEach(async () => {
  await hook.close();
  sandbox.cleanup();
});

const T1 = { OPENWEBUI_BACKUP_NOW: epoch("2024-06-01T03:00:00Z") };
const T2 = { OPENWEBUI_BACKUP_NOW: epoch("2024-06-02T03:00:00Z") };
const T3 = { OPENWEBUI_BACKUP_NOW: epoch("2024-06-03T03:00:00Z") };
const FIRST = "open-webui-backup-20240601T030000Z";
const SECOND = "open-webui-backup-20240602T030000Z";

function config(job: Record<string, unknown>, targets: Record<string, unknown>) {
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, containers: ["open-webui", "ollama"], jobs: [{ name: "nightly", ...job }] }],
    resticPassword: "correct horse battery staple",
    notify: { webhookUrl: hook.url },
  };
}

async function s3Target() {
  const bucket = `tree-${++buckets}`;
  await s3.createBucket(bucket);
  return { bucket, target: s3.target(bucket) };
}
const nasTarget = () => ({ type: "local", path: path.join(sandbox.root, "nas") });
/** Where job nightly of host web1 keeps its backups on the local target. */
const nasRoot = () => path.join(sandbox.root, "nas", "web1", "nightly");

/** A frozen copy of the data directory as it is now. */
function freeze(name: string): string {
  const dest = path.join(sandbox.root, name);
  execFileSync("cp", ["-a", sandbox.dataDir, dest]);
  return dest;
}

/** Between the two backups: a new upload, and the big one rewritten (both new to backup 2). */
function changeData() {
  fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "added.bin"), pseudoRandomBytes(200_000, 42));
  fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "big.bin"), pseudoRandomBytes(1_500_000, 43));
}

/** Two good backups (T1, T2) with changeData between them; returns a frozen copy of the data at T1. */
async function twoBackups(): Promise<string> {
  await sandbox.ok(["run", "nightly"], T1);
  const frozen = freeze("frozen-1");
  changeData();
  await sandbox.ok(["run", "nightly"], T2);
  return frozen;
}

/** The stored files of one backup, damaged the way disks, buckets and people damage them. */
interface Store {
  read(rel: string): Buffer;
  write(rel: string, content: Buffer): void;
  remove(rel: string): void;
}

function localStore(dataDir: string): Store {
  return {
    read: (rel) => fs.readFileSync(path.join(dataDir, rel)),
    write: (rel, content) => {
      const file = path.join(dataDir, rel);
      const existed = fs.existsSync(file);
      const times = `${file}.times`;
      if (existed) execFileSync("touch", ["-r", file, times]); // to the nanosecond, which Date cannot hold
      fs.writeFileSync(file, content); // in place, same inode: what a failing disk does
      if (existed) {
        execFileSync("touch", ["-r", times, file]); // and its times still say "unchanged"
        fs.rmSync(times);
      }
    },
    remove: (rel) => fs.rmSync(path.join(dataDir, rel)),
  };
}

/** Objects under dmg:<bucket>/<prefix>, changed through the S3 API (the object's ETag then matches its new bytes). */
function s3Store(bucket: string, prefix: string): Store {
  const env = {
    ...s3ClientEnv(process.env),
    RCLONE_CONFIG: "/dev/null",
    RCLONE_CONFIG_DMG_TYPE: "s3",
    RCLONE_CONFIG_DMG_PROVIDER: "Other",
    RCLONE_CONFIG_DMG_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_DMG_REGION: "us-east-1",
    RCLONE_CONFIG_DMG_ACCESS_KEY_ID: s3.accessKeyId,
    RCLONE_CONFIG_DMG_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
  const key = (rel: string) => `dmg:${bucket}/${prefix}/${rel}`;
  return {
    read: (rel) => execFileSync("rclone", ["cat", key(rel)], { env, maxBuffer: 64 * 1024 * 1024 }),
    write: (rel, content) => void execFileSync("rclone", ["rcat", key(rel)], { env, input: content }),
    remove: (rel) => void execFileSync("rclone", ["deletefile", key(rel)], { env }),
  };
}

/** Flips bytes in one upload, truncates another, deletes a third, plants a stranger. */
function damage(store: Store) {
  const added = Buffer.from(store.read("uploads/added.bin"));
  for (let i = 1000; i < 1004; i++) added[i] ^= 0xff;
  store.write("uploads/added.bin", added);
  store.write("uploads/big.bin", store.read("uploads/big.bin").subarray(0, 700_000));
  store.remove("uploads/report 2024 final.pdf");
  store.write("uploads/planted.txt", Buffer.from("not from this host\n"));
}

const DAMAGE_REPORT = ["differs: uploads/added.bin", "differs: uploads/big.bin", "missing: uploads/report 2024 final.pdf", "not in the backup: uploads/planted.txt"];

/** The files a failed check named, in the order it named them. */
const named = (stderr: string) => [...stderr.matchAll(/^\S+ \[[a-z0-9-]+\] {3}((?:differs|missing|not in the backup): .*)$/gm)].map((m) => m[1]);

/** Nothing the command made for itself is left: no scratch, no temporary hash lists. */
function expectNoLeftovers() {
  expect(fs.existsSync(sandbox.paths.stagingDir) ? fs.readdirSync(sandbox.paths.stagingDir) : []).toEqual([]);
  expect(fs.readdirSync(tmpDir())).toEqual([]);
}

/** verify and restore --to both refuse the damaged backup and name every damaged file. */
async function expectDamageCaught() {
  const verify = await sandbox.run(["verify", "nightly"]);
  expect(verify.code).not.toBe(0);
  expect(verify.stderr).toMatch(/file check FAILED: 2 differ, 1 missing, 1 not in the backup, of \d+ recorded files/);
  expect(named(verify.stderr)).toEqual(DAMAGE_REPORT);
  expect(verify.stderr).toMatch(/verify FAILED for target/);
  const [alert] = hook.jsonBodies();
  expect(alert).toMatchObject({ host: "web1", job: "nightly", outcome: "failure" });
  expect(alert.message).toMatch(/restore drill failed/);
  for (const line of DAMAGE_REPORT) expect(alert.log).toContain(line);
  expectNoLeftovers();

  const into = path.join(sandbox.root, "restored-damaged");
  const restore = await sandbox.run(["restore", "nightly", "--to", into]);
  expect(restore.code).not.toBe(0);
  expect(named(restore.stderr)).toEqual(DAMAGE_REPORT);
  expect(restore.stderr).toMatch(/the files do not match the backup's recorded sha256 \(see above\); do not use this copy/);
  expect(fs.existsSync(`${into}.manifest.json`)).toBe(false);
  expect(fs.existsSync(`${into}.files.sha256`)).toBe(false);
}

describe.each([
  ["snapshot", "local"],
  ["snapshot", "s3"],
  ["local-snapshot", "local"],
])("method %s on a %s target", (method, kind) => {
  it("a damaged backup fails verify and restore, naming each file; the prior backup restores intact", async () => {
    let store: (folder: string) => Store;
    let targets: Record<string, unknown>;
    if (kind === "s3") {
      const { bucket, target } = await s3Target();
      targets = { offsite: target };
      store = (folder) => s3Store(bucket, `web1/nightly/${folder}/data`);
    } else {
      targets = { offsite: nasTarget() };
      store = (folder) => localStore(path.join(nasRoot(), folder, "data"));
    }
    sandbox.install(config({ method, targets: ["offsite"], retention: { keep: 5 } }, targets));
    const frozen = await twoBackups();
    expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/file check: all \d+ files match their recorded sha256/);

    damage(store(SECOND));
    await expectDamageCaught();

    const prior = path.join(sandbox.root, "restored-prior");
    const r = await sandbox.ok(["restore", "nightly", "--snapshot", FIRST, "--to", prior]);
    expect(r.stderr).toMatch(/file check: all \d+ files match their recorded sha256/);
    expectSameData(frozen, prior);
  });
});

// sync mirrors only to a versioned bucket: the config refuses a local target.
// sync refuses a local target (config: use local-snapshot), so its mirror is checked on S3 only.
describe("method sync on an s3 target", () => {
  it("a damaged mirror fails verify and restore, naming each file; the next run repairs it", async () => {
    const { bucket, target } = await s3Target();
    const store = s3Store(bucket, "web1/nightly/current/data");
    sandbox.install(config({ method: "sync", targets: ["offsite"] }, { offsite: target }));
    await twoBackups();
    damage(store);
    await expectDamageCaught();

    // The mirror is the only copy sync keeps: the next run must bring it back. Objects rewritten
    // through the API carry new times and sizes, so sync uploads them again.
    const next = await sandbox.run(["run", "nightly"], T3);
    expect(next.code).toBe(0);
    const restored = path.join(sandbox.root, "restored");
    expect((await sandbox.ok(["restore", "nightly", "--to", restored])).stderr).toMatch(/file check: all \d+ files match/);
    expectSameData(sandbox.dataDir, restored);
  });
});

describe("method restic on a local target", () => {
  const resticIds = async () => [...(await sandbox.ok(["list", "nightly"])).stdout.matchAll(/^([0-9a-f]{8}) /gm)].map((m) => m[1]);

  it("a file that changed between being hashed and being shipped fails verify and restore; the prior snapshot restores", async () => {
    // restic checks its own packs (a damaged pack fails the restore: next test); what it cannot
    // know is that a staged file changed after it was hashed — a torn copy. Our list can.
    sandbox.install(config({ method: "restic", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    await sandbox.ok(["run", "nightly"], T1);
    const frozen = freeze("frozen-1");
    changeData();
    const armed = path.join(sandbox.root, "armed");
    fs.writeFileSync(armed, "");
    await sandbox.ok(["run", "nightly"], { ...T2, SHA256_SHIM_ARMED: armed, SHA256_SHIM_TAMPER_REL: "uploads/added.bin" });
    expect(fs.existsSync(armed)).toBe(false); // the shim did change the staged file

    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    expect(named(verify.stderr)).toEqual(["differs: uploads/added.bin"]);
    expect(hook.jsonBodies()[0].log).toContain("differs: uploads/added.bin");
    expectNoLeftovers();
    const restore = await sandbox.run(["restore", "nightly", "--to", path.join(sandbox.root, "bad")]);
    expect(restore.code).not.toBe(0);
    expect(named(restore.stderr)).toEqual(["differs: uploads/added.bin"]);

    const [first, second] = await resticIds();
    expect(second).toBeDefined();
    const prior = path.join(sandbox.root, "restored-prior");
    expect((await sandbox.ok(["restore", "nightly", "--snapshot", first, "--to", prior])).stderr).toMatch(/file check: all \d+ files match/);
    expectSameData(frozen, prior);
  });

  it("a damaged pack fails verify and restore (restic's own check); the prior snapshot restores", async () => {
    sandbox.install(config({ method: "restic", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    const packs = () => new Set(fs.readdirSync(path.join(nasRoot(), "data")).flatMap((d) => fs.readdirSync(path.join(nasRoot(), "data", d)).map((p) => path.join(nasRoot(), "data", d, p))));
    await sandbox.ok(["run", "nightly"], T1);
    const frozen = freeze("frozen-1");
    const before = packs();
    changeData();
    await sandbox.ok(["run", "nightly"], T2);
    const added = [...packs()].filter((p) => !before.has(p));
    expect(added.length).toBeGreaterThan(0);
    expect([...before].every((p) => fs.existsSync(p))).toBe(true); // the first snapshot's packs were not rewritten
    for (const pack of added) {
      const fd = fs.openSync(pack, "r+");
      const size = fs.fstatSync(fd).size;
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, Math.floor(size / 2));
      b[0] ^= 0xff;
      fs.writeSync(fd, b, 0, 1, Math.floor(size / 2));
      fs.closeSync(fd);
    }
    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/verify FAILED/);
    expect(hook.jsonBodies()).toHaveLength(1);
    expectNoLeftovers();
    expect((await sandbox.run(["restore", "nightly", "--to", path.join(sandbox.root, "bad")])).code).not.toBe(0);
    const [first] = await resticIds();
    const prior = path.join(sandbox.root, "restored-prior");
    await sandbox.ok(["restore", "nightly", "--snapshot", first, "--to", prior]);
    expectSameData(frozen, prior);
  });
});

describe("restore --in-place", () => {
  it("checks the fetched copy before anything is stopped or swapped", async () => {
    sandbox.install(config({ method: "snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    await twoBackups();
    damage(localStore(path.join(nasRoot(), SECOND, "data")));
    const live = treeHashes(sandbox.dataDir);
    const r = await sandbox.run(["restore", "nightly", "--in-place"]);
    expect(r.code).not.toBe(0);
    expect(named(r.stderr)).toEqual(DAMAGE_REPORT);
    expect(r.stderr).toMatch(/the restored copy does not match the backup's recorded sha256; the live data was not touched/);
    expect(treeHashes(sandbox.dataDir)).toEqual(live);
    expect(sandbox.dockerCalls().filter((c) => !c.startsWith("inspect"))).toEqual([]); // never stopped
    expect(fs.readdirSync(sandbox.root).filter((n) => /^data\.(restore|before-restore)-/.test(n))).toEqual([]);
    expectNoLeftovers();
  });
});

describe("the hash list itself", () => {
  beforeEach(async () => {
    sandbox.install(config({ method: "local-snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    await sandbox.ok(["run", "nightly"], T1);
  });
  const manifest = () => path.join(nasRoot(), FIRST, "manifest.json");
  const list = () => path.join(nasRoot(), FIRST, "files.sha256");

  it("is in sha256sum's format, checkable by hand, and the manifest records its sha256", () => {
    const text = fs.readFileSync(list(), "utf8");
    const m = JSON.parse(fs.readFileSync(manifest(), "utf8"));
    expect(m.filesSha256).toBe(execFileSync("sha256sum", [list()], { encoding: "utf8" }).slice(0, 64));
    expect(text.trim().split("\n")).toHaveLength(m.files);
    expect(text).toContain("  uploads/$(touch pwned).txt\n");
    execFileSync("/usr/bin/sha256sum", ["--check", "--strict", "--quiet", list()], { cwd: path.join(nasRoot(), FIRST, "data") });
  });

  it("a backup made before hash lists restores and verifies with a warning, on its databases' check", async () => {
    fs.rmSync(list());
    fs.writeFileSync(manifest(), fs.readFileSync(manifest(), "utf8").replace(/^ *"filesSha256".*\n/m, ""));
    const restored = path.join(sandbox.root, "restored");
    const r = await sandbox.ok(["restore", "nightly", "--to", restored]);
    expect(r.stderr).toMatch(/warning: this backup records no file hashes \(made before they were added\); only the databases' integrity is checked/);
    expect(r.stderr).toMatch(/integrity: webui\.db: ok/);
    expectSameData(sandbox.dataDir, restored);
    expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/warning: this backup records no file hashes/);
  });

  it("a missing or damaged list fails verify, since the manifest says there is one", async () => {
    const text = fs.readFileSync(list(), "utf8");
    fs.writeFileSync(list(), text.replace(/^[0-9a-f]/, (c) => (c === "0" ? "1" : "0")));
    const damaged = await sandbox.run(["verify", "nightly"]);
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toMatch(/file check FAILED: the backup's files\.sha256 is damaged/);
    fs.rmSync(list());
    const missing = await sandbox.run(["verify", "nightly"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/file check FAILED: the backup's files\.sha256 is missing/);
    expect(hook.jsonBodies()).toHaveLength(2);
  });

  it("a check with more problems than it names counts them all and names the first ones, in order", async () => {
    const data = path.join(nasRoot(), FIRST, "data");
    fs.rmSync(path.join(data, "uploads", "report 2024 final.pdf"));
    for (let i = 0; i < 11; i++) fs.writeFileSync(path.join(data, "uploads", `planted-${String(i).padStart(2, "0")}.txt`), `stranger ${i}\n`);
    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/file check FAILED: 0 differ, 1 missing, 11 not in the backup, of \d+ recorded files/);
    const planted = (i: number) => `not in the backup: uploads/planted-${String(i).padStart(2, "0")}.txt`;
    expect(named(verify.stderr)).toEqual(["missing: uploads/report 2024 final.pdf", ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map(planted)]);
    expect(verify.stderr).toMatch(/^\S+ \[nightly\] {3}… and 2 more$/m);
  });
});

describe("hashing without re-reading", () => {
  const shimCalls = () => (fs.existsSync(shimLog()) ? fs.readFileSync(shimLog(), "utf8").split("\0").filter(Boolean).sort() : []);
  const DATABASES = ["vector_db/chroma.sqlite3", "webui.db"];

  it("the second run reads only the changed upload and the databases (fresh copies each run)", async () => {
    sandbox.install(config({ method: "snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    const first = await sandbox.ok(["run", "nightly"], T1);
    const staged = [...treeHashes(sandbox.dataDir, isExcluded).keys()].filter((rel) => !/-(wal|shm)$/.test(rel)).sort();
    expect(shimCalls()).toEqual(staged); // the first run reads everything once
    expect(first.stderr).toMatch(new RegExp(`sha256: ${staged.length} files, ${staged.length} read, 0 unchanged`));

    fs.rmSync(shimLog());
    fs.appendFileSync(path.join(sandbox.dataDir, "uploads", "ünïcödé-日本語.md"), "one more line\n");
    const second = await sandbox.ok(["run", "nightly"], T2);
    expect(shimCalls()).toEqual(["uploads/ünïcödé-日本語.md", ...DATABASES].sort());
    expect(second.stderr).toMatch(new RegExp(`sha256: ${staged.length} files, 3 read, ${staged.length - 3} unchanged since they were last hashed`));

    // A file replaced by another one (new inode) with the same size and times is read again.
    const report = path.join(sandbox.dataDir, "uploads", "report 2024 final.pdf");
    const { atime, mtime } = fs.statSync(report);
    const replacement = `${report}.new`;
    fs.writeFileSync(replacement, fs.readFileSync(report, "utf8").replace("upload", "UPLOAD"));
    fs.utimesSync(replacement, atime, mtime);
    fs.renameSync(replacement, report);
    fs.rmSync(shimLog());
    await sandbox.ok(["run", "nightly"], T3);
    expect(shimCalls()).toEqual(["uploads/report 2024 final.pdf", ...DATABASES].sort());

    // The hash list built from the cache is right: the newest backup checks out file by file.
    const restored = path.join(sandbox.root, "restored");
    expect((await sandbox.ok(["restore", "nightly", "--to", restored])).stderr).toMatch(new RegExp(`file check: all ${staged.length} files match`));
    expectSameData(sandbox.dataDir, restored);
    const cacheDir = path.join(sandbox.paths.stateDir, "hashes");
    expect(fs.readdirSync(cacheDir)).toEqual(["nightly.sha256cache"]);
    expect(fs.statSync(path.join(cacheDir, "nightly.sha256cache")).mode & 0o077).toBe(0);
    expectNoLeftovers();
  });

  it("names sha256sum escapes are read every run, listed escaped, and checked like the others", async () => {
    const odd = ["back\\slash.txt", "new\nline.txt", "carriage\rreturn.txt"];
    for (const name of [...odd, "tab\there.txt"]) fs.writeFileSync(path.join(sandbox.dataDir, "uploads", name), `odd ${name}\n`);
    sandbox.install(config({ method: "snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    await sandbox.ok(["run", "nightly"], T1);
    fs.rmSync(shimLog());
    await sandbox.ok(["run", "nightly"], T2);
    expect(shimCalls()).toEqual([...odd.map((n) => `uploads/${n}`), ...DATABASES].sort()); // a tab needs no escape: cached
    const list = fs.readFileSync(path.join(nasRoot(), SECOND, "files.sha256"), "utf8");
    expect(list).toMatch(/^\\[0-9a-f]{64} {2}uploads\/new\\nline\.txt$/m);
    expect(list).toMatch(/^\\[0-9a-f]{64} {2}uploads\/back\\\\slash\.txt$/m);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);

    fs.rmSync(path.join(nasRoot(), SECOND, "data", "uploads", "new\nline.txt"));
    fs.appendFileSync(path.join(nasRoot(), SECOND, "data", "uploads", "back\\slash.txt"), "x");
    const verify = await sandbox.run(["verify", "nightly"]);
    expect(verify.code).not.toBe(0);
    expect(named(verify.stderr)).toEqual(["differs: uploads/back\\\\slash.txt", "missing: uploads/new\\nline.txt"]);
  });

  // Staging on another file system copies instead of linking; mount is refused in some sandboxes.
  const canMount = (() => {
    const probe = fs.mkdtempSync(path.join(require("os").tmpdir(), "owb-mount-"));
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], { stdio: "ignore" });
      execFileSync("umount", [probe]);
      return true;
    } catch {
      return false;
    } finally {
      fs.rmdirSync(probe);
    }
  })();
  /** rsync, then once (when $RSYNC_SHIM_ARMED exists) a write to $RSYNC_SHIM_SOURCE_WRITE: a
   * write to the data directory that lands right after staging copied the file. */
  const RSYNC_SHIM = `#!/bin/bash
rc=0
/usr/bin/rsync "$@" || rc=$?
# A dry run (staging's space estimate) copies nothing: the write waits for a real copy.
if [[ -e "$RSYNC_SHIM_ARMED" && " $* " != *" --dry-run "* && " $* " != *" -n "* ]]; then
  rm -f -- "$RSYNC_SHIM_ARMED"
  printf 'written after the copy was taken' >>"$RSYNC_SHIM_SOURCE_WRITE"
fi
exit "$rc"
`;
  (canMount ? it : it.skip)("a staged copy whose source changed after it was copied is read, never cached (staging on a tmpfs: skipped where mount is refused)", async () => {
    fs.mkdirSync(sandbox.paths.stagingDir, { recursive: true });
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m", "tmpfs", sandbox.paths.stagingDir]);
    try {
      sandbox.install(config({ method: "snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
      const pdf = path.join(sandbox.dataDir, "uploads", "report 2024 final.pdf");
      fs.writeFileSync(path.join(sandbox.binDir, "rsync"), RSYNC_SHIM, { mode: 0o755 });
      const armed = path.join(sandbox.root, "armed");
      fs.writeFileSync(armed, "");
      await sandbox.ok(["run", "nightly"], { ...T1, RSYNC_SHIM_ARMED: armed, RSYNC_SHIM_SOURCE_WRITE: pdf });
      expect(fs.existsSync(armed)).toBe(false); // the source changed right after staging copied it
      fs.rmSync(shimLog());
      await sandbox.ok(["run", "nightly"], T2);
      expect(shimCalls()).toEqual(["uploads/report 2024 final.pdf", ...DATABASES].sort());
      const restored = path.join(sandbox.root, "restored");
      expect((await sandbox.ok(["restore", "nightly", "--to", restored])).stderr).toMatch(/file check: all \d+ files match/);
      expectSameData(sandbox.dataDir, restored);
    } finally {
      execFileSync("umount", [sandbox.paths.stagingDir]);
    }
  });

  it("an upload rewritten in place at the same size is read again; a local-snapshot target keeps its own cache", async () => {
    // The cache keys on the data directory's file; staging links or copies it. A write after
    // the cache entry moves the mtime, so the staged copy is read again.
    sandbox.install(config({ method: "local-snapshot", targets: ["offsite"], retention: { keep: 5 } }, { offsite: nasTarget() }));
    await sandbox.ok(["run", "nightly"], T1);
    fs.writeFileSync(path.join(sandbox.dataDir, "uploads", "big.bin"), pseudoRandomBytes(3_000_000, 99)); // same size
    await sandbox.ok(["run", "nightly"], T2);
    const restored = path.join(sandbox.root, "restored");
    expect((await sandbox.ok(["restore", "nightly", "--to", restored])).stderr).toMatch(/file check: all \d+ files match/);
    expectSameData(sandbox.dataDir, restored);
    expect(new Set(fs.readdirSync(path.join(sandbox.paths.stateDir, "hashes")))).toEqual(new Set(["nightly.sha256cache", "nightly@offsite.sha256cache"]));
  });
});

describe("method pull", () => {
  let source: HostSandbox;
  let sshd: TestSshd;
  const srcRoot = () => pullSourceRoot(source);
  const pullRoot = () => pulledRoot(sandbox);
  beforeEach(async () => {
    source = new HostSandbox("owb-tree-src-");
    buildDataDir(source.dataDir);
    sshd = await startPullSshd(source);
    installPull(source, sandbox, sshd, { keep: 5, stack: { notify: { webhookUrl: hook.url } } });
  });
  afterEach(async () => {
    await sshd?.stop();
    source.cleanup();
  });
  const pulled = () => fs.readdirSync(pullRoot()).sort();
  const shimCalls = () => (fs.existsSync(shimLog()) ? fs.readFileSync(shimLog(), "utf8").split("\0").filter(Boolean).sort() : []);

  it("checks each pulled copy against its hash list before it takes its name, reading only new files", async () => {
    await source.ok(["run", "nightly"], T1);
    const first = await sandbox.ok(["run", "from-web1"]);
    expect(first.stderr).toMatch(/file check: all \d+ files match their recorded sha256/);
    const frozen = path.join(sandbox.root, "frozen");
    execFileSync("cp", ["-a", source.dataDir, frozen]);

    // A good second snapshot: the check reads what is new to this host, not what is linked.
    fs.writeFileSync(path.join(source.dataDir, "uploads", "later.txt"), "later\n");
    await source.ok(["run", "nightly"], T2);
    fs.rmSync(shimLog());
    await sandbox.ok(["run", "from-web1"]);
    expect(shimCalls()).toEqual(["uploads/later.txt", "vector_db/chroma.sqlite3", "webui.db"]);
    expect(pulled()).toEqual([FIRST, SECOND]);

    // A third snapshot, damaged on the source's disk after it was made.
    changeDataOf(source.dataDir);
    await source.ok(["run", "nightly"], T3);
    const third = "open-webui-backup-20240603T030000Z";
    localStore(path.join(srcRoot(), third, "data")).write("uploads/added.bin", Buffer.alloc(200_000, 1));
    const r = await sandbox.run(["run", "from-web1"]);
    expect(r.code).not.toBe(0);
    expect(named(r.stderr)).toEqual(["differs: uploads/added.bin"]);
    expect(r.stderr).toMatch(/the copy does not match its recorded sha256; kept as open-webui-backup-20240603T030000Z\.partial until the next run/);
    expect(hook.jsonBodies()[0]).toMatchObject({ host: "nas", job: "from-web1", outcome: "failure" });
    expect((await sandbox.ok(["list", "from-web1"])).stdout.trim().split("\n")).toEqual([FIRST, SECOND]);
    const prior = path.join(sandbox.root, "restored-prior");
    await sandbox.ok(["restore", "from-web1", "--snapshot", FIRST, "--to", prior]);
    expectSameData(frozen, prior);
  });
});

function changeDataOf(dataDir: string) {
  fs.writeFileSync(path.join(dataDir, "uploads", "added.bin"), pseudoRandomBytes(200_000, 42));
}
