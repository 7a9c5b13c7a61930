/**
 * Snapshot transfer proportional to change, for real: the rendered command backs up to the
 * local S3 server through a counting proxy on 127.0.0.1, which counts the request bytes the
 * server received (rclone's own statistics are not trusted). A second run uploads only the
 * new and changed files (plus the databases, fresh copies each run, and the manifest and hash
 * list); every other file of the new dated folder is a server-side copy from the newest
 * complete folder. Each folder still restores byte for byte, also after prunes removed the
 * folders the newer ones were copied from. On a local target, unchanged files are hard links.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CountingProxy, startCountingProxy } from "./support/counting-proxy";
import { HostSandbox } from "./support/host-sandbox";
import { WEBUI_TABLES, buildDataDir, integrityCheck, isDatabaseFile, isExcluded, pseudoRandomBytes, rowCounts, treeHashes } from "./support/openwebui-data";
import { S3TestServer, startS3Server } from "./support/s3-server";

jest.setTimeout(240_000);

/** What a run may send besides the files it uploads: nothing but request bodies count, so very little. */
const OVERHEAD = 4 * 1024;

let s3: S3TestServer;
let proxy: CountingProxy;
let sandbox: HostSandbox;
let bucketCounter = 0;

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startCountingProxy(s3.endpoint);
});
afterAll(async () => {
  await proxy?.stop();
  await s3?.stop();
});
beforeEach(() => {
  sandbox = new HostSandbox("owb-transfer-");
  buildDataDir(sandbox.dataDir, { uploads: 30, uploadBytes: 100_000 });
});
afterEach(() => sandbox.cleanup());

const epoch = (iso: string) => String(Math.floor(Date.parse(iso) / 1000));

async function install(targets: Record<string, unknown>, keep = 5): Promise<void> {
  sandbox.install({
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", method: "snapshot", targets: Object.keys(targets), retention: { keep } }] }],
  });
}

async function s3Target(): Promise<{ bucket: string; target: Record<string, unknown> }> {
  const bucket = `transfer-${++bucketCounter}`;
  await s3.createBucket(bucket);
  // The command talks to the proxy; the proxy forwards every request unchanged.
  return { bucket, target: { type: "s3", bucket, prefix: "web1", endpoint: proxy.endpoint, region: "us-east-1", accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } };
}

/** One run at a simulated time; the proxy's counts of exactly that run. */
async function countedRun(iso: string) {
  proxy.reset();
  const r = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch(iso) });
  return { ...proxy.counts(), stderr: r.stderr };
}

/** Replaces uploads i (same size, new content) and adds one new file; returns the bytes changed. */
function changeSome(round: number): number {
  const uploads = path.join(sandbox.dataDir, "uploads");
  const replaced = path.join(uploads, `${String(round).padStart(5, "0")}_doc.bin`);
  const size = fs.statSync(replaced).size;
  fs.writeFileSync(replaced, pseudoRandomBytes(size, 7000 + round));
  const added = path.join(uploads, `new-${round}.bin`);
  fs.writeFileSync(added, pseudoRandomBytes(60_000, 8000 + round));
  return size + 60_000;
}

/** Files of the data directory that a backup holds (no excluded ones, no databases). */
function plainFiles(): number {
  return [...treeHashes(sandbox.dataDir, (rel) => isDatabaseFile(rel) || isExcluded(rel)).keys()].length;
}

/** A restored tree against a frozen copy of the data: every file by sha256, databases by integrity and rows. */
function expectSameData(source: string, restored: string): void {
  const skip = (rel: string) => isDatabaseFile(rel) || isExcluded(rel);
  expect(treeHashes(restored, isDatabaseFile)).toEqual(treeHashes(source, skip));
  for (const db of ["webui.db", "vector_db/chroma.sqlite3"]) expect(integrityCheck(path.join(restored, db))).toBe("ok");
  expect(rowCounts(path.join(restored, "webui.db"), WEBUI_TABLES)).toEqual(rowCounts(path.join(source, "webui.db"), WEBUI_TABLES));
}

/** Bytes of the objects under a folder of the job: what that part of a run stored. */
const stored = (bucket: string, folder: string, rel: string) => s3.bytesStored(bucket, `web1/nightly/${folder}/${rel}`);

/** What every run sends whatever changed: the databases (fresh copies), the manifest and the hash list. */
async function alwaysSent(bucket: string, folder: string): Promise<number> {
  const parts = await Promise.all(["data/webui.db", "data/vector_db/chroma.sqlite3", "manifest.json", "files.sha256"].map((rel) => stored(bucket, folder, rel)));
  for (const p of parts) expect(p).toBeGreaterThan(0);
  return parts.reduce((a, b) => a + b, 0);
}

it("on S3: a second run sends only the changed files' bytes; the new folder is complete and restores byte for byte", async () => {
  const { bucket, target } = await s3Target();
  await install({ offsite: target });
  const first = await countedRun("2026-03-01T03:00:00Z");
  const dataBytes = Number(execFileSync("du", ["-sb", "--exclude=cache", "--exclude=audit.log", sandbox.dataDir], { encoding: "utf8" }).split("\t")[0]);
  expect(first.sentBytes).toBeGreaterThan(dataBytes * 0.9);
  expect(first.copies).toBe(0);

  const changed = changeSome(1);
  const second = await countedRun("2026-03-02T03:00:00Z");
  expect(second.stderr).toMatch(/uploading to open-webui-backup-20260302T030000Z, unchanged files copied from open-webui-backup-20260301T030000Z/);
  // The changed files were uploaded; besides them only the databases, the manifest and the hash list.
  const always2 = await alwaysSent(bucket, "open-webui-backup-20260302T030000Z");
  expect(second.sentBytes).toBeGreaterThanOrEqual(changed);
  expect(second.sentBytes).toBeLessThanOrEqual(changed + always2 + OVERHEAD);
  // Every unchanged plain file came by a server-side copy (0 bytes sent); so may the databases,
  // when their fresh copy has the same content as the last one (rclone then compares hashes).
  expect(second.copies).toBeGreaterThanOrEqual(plainFiles() - 2);
  expect(second.copies).toBeLessThanOrEqual(plainFiles());
  expect(second.uploads).toBeLessThanOrEqual(2 + 4);

  // Complete (the manifest went up last) and restorable byte for byte, checked against its own hash list too.
  expect((await sandbox.ok(["list", "nightly"])).stdout.trim().split("\n")).toEqual(["open-webui-backup-20260301T030000Z", "open-webui-backup-20260302T030000Z"]);
  const restored = path.join(sandbox.root, "restored-2");
  const r = await sandbox.ok(["restore", "nightly", "--snapshot", "open-webui-backup-20260302T030000Z", "--to", restored]);
  expect(r.stderr).toMatch(/file check: all \d+ files match their recorded sha256/);
  expectSameData(sandbox.dataDir, restored);

  // Unchanged data: a third run copies every plain file server-side, also from a folder that
  // was itself made of copies (the copies kept each file's modification time).
  const third = await countedRun("2026-03-03T03:00:00Z");
  expect(third.sentBytes).toBeLessThanOrEqual((await alwaysSent(bucket, "open-webui-backup-20260303T030000Z")) + OVERHEAD);
  expect(third.copies).toBeGreaterThanOrEqual(plainFiles());
  expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/verify ok/);
});

it("on S3: retention holds across simulated days with prune on its own timer; every kept folder restores as its day's data", async () => {
  await install({ offsite: (await s3Target()).target }, 2);
  const frozen = (day: number) => path.join(sandbox.root, `frozen-${day}`);
  const folder = (day: number) => `open-webui-backup-202603${String(day).padStart(2, "0")}T030000Z`;
  const list = async () => (await sandbox.ok(["list", "nightly"])).stdout.trim().split("\n");
  const night = async (day: number) => {
    if (day > 1) changeSome(day);
    execFileSync("cp", ["-a", sandbox.dataDir, frozen(day)]);
    return countedRun(`2026-03-${String(day).padStart(2, "0")}T03:00:00Z`);
  };
  for (let day = 1; day <= 3; day++) await night(day);
  expect(await list()).toEqual([folder(1), folder(2), folder(3)]); // runs only add
  // Sunday 05:30: the prune timer. keep 2: the oldest folder goes; the newest stays the copy source.
  proxy.reset();
  const prune = await sandbox.ok(["prune", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-03-03T05:30:00Z") });
  expect(prune.stderr).toMatch(/offsite: pruning open-webui-backup-20260301T030000Z/);
  expect(proxy.counts().sentBytes).toBeLessThan(4096); // deleting sends names, not data
  expect(await list()).toEqual([folder(2), folder(3)]);
  const state = JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.prune.json"), "utf8"));
  expect(state).toMatchObject({ job: "nightly", command: "prune", outcome: "success" });
  expect(state.bytesFreed).toBeGreaterThan(3_000_000); // a full dated copy: every object is its own on a bucket

  for (let day = 4; day <= 5; day++) {
    const r = await night(day);
    expect(r.stderr).toMatch(new RegExp(`unchanged files copied from ${folder(day - 1)}`));
    expect(r.copies).toBeGreaterThan(20);
  }
  await sandbox.ok(["prune", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-03-05T05:30:00Z") });
  expect(await list()).toEqual([folder(4), folder(5)]);
  for (const day of [4, 5]) {
    const dest = path.join(sandbox.root, `restored-${day}`);
    await sandbox.ok(["restore", "nightly", "--snapshot", folder(day), "--to", dest]);
    expectSameData(frozen(day), dest);
  }
});

it("on a local target: unchanged files are hard links to the newest complete folder, changed ones are new; each folder restores", async () => {
  const nas = path.join(sandbox.root, "nas");
  await install({ nas: { type: "local", path: nas } });
  const root = path.join(nas, "web1", "nightly");
  await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-03-01T03:00:00Z") });
  const before = path.join(sandbox.root, "frozen");
  execFileSync("cp", ["-a", sandbox.dataDir, before]);
  const changed = changeSome(2);
  const r = await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-03-02T03:00:00Z") });
  expect(r.stderr).toMatch(/nas: \d+ bytes copied besides the databases, unchanged files hard-linked to .*open-webui-backup-20260301T030000Z\/data/);
  const copied = Number(/nas: (\d+) bytes copied besides the databases/.exec(r.stderr)![1]);
  expect(copied).toBe(changed);

  const [s1, s2] = ["open-webui-backup-20260301T030000Z", "open-webui-backup-20260302T030000Z"].map((f) => path.join(root, f, "data"));
  const ino = (p: string) => fs.statSync(p).ino;
  expect(ino(path.join(s1, "uploads", "big.bin"))).toBe(ino(path.join(s2, "uploads", "big.bin")));
  expect(ino(path.join(s1, "uploads", "00002_doc.bin"))).not.toBe(ino(path.join(s2, "uploads", "00002_doc.bin")));
  // Databases are fresh copies every run: never linked.
  expect(ino(path.join(s1, "webui.db"))).not.toBe(ino(path.join(s2, "webui.db")));

  const old = path.join(sandbox.root, "restored-old");
  await sandbox.ok(["restore", "nightly", "--snapshot", "open-webui-backup-20260301T030000Z", "--to", old]);
  expectSameData(before, old);
  // Pruning the older folder frees only what the newer one does not link to.
  sandbox.install({
    targets: { nas: { type: "local", path: nas } },
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 1 } }] }],
  });
  await sandbox.ok(["prune", "nightly"]);
  const freed = JSON.parse(fs.readFileSync(path.join(sandbox.paths.stateDir, "nightly.prune.json"), "utf8")).bytesFreed;
  expect(freed).toBeGreaterThan(0);
  expect(freed).toBeLessThan(2_000_000); // the replaced upload and the old databases, not the 3 MB big.bin
  const latest = path.join(sandbox.root, "restored-latest");
  await sandbox.ok(["restore", "nightly", "--to", latest]);
  expectSameData(sandbox.dataDir, latest);
});
