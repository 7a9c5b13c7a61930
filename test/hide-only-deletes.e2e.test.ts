/**
 * Keys that cannot destroy history, seen from the host: every removal the backup command makes
 * on a bucket is a plain delete (a delete marker on versioned S3, a hide on B2), never the
 * removal of a version. Run for real: restic through rclone and the snapshot method against
 * the S3 server on 127.0.0.1, with
 *  - the server's request log: every DELETE it got, and whether any named a version;
 *  - an `rclone` shim on PATH that records each call's arguments and hard-delete settings,
 *    then runs the real rclone: no `purge`, `cleanup` or `backend`, no `--b2-hard-delete`.
 *
 * The test server (s3rver) has no versioning (it answers NotImplemented to ?versioning), so
 * "the old versions are still there" is shown by what the host asked for: deletes that name
 * no version, which on a versioned bucket only add delete markers, and which the host's IAM
 * policy (no s3:DeleteObjectVersion, test/backup-keys.test.ts) could not widen anyway.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { expectSameData, epoch } from "./support/backup-checks";
import { S3TestServer, startS3Server } from "./support/s3-server";
import type { S3LoggedRequest } from "./support/s3-server-process";

jest.setTimeout(300_000);

const REAL_RCLONE = execFileSync("bash", ["-c", "command -v rclone"], { encoding: "utf8" }).trim();

/** Records every call (arguments %q-quoted, and any hard-delete setting in its environment), then runs the real rclone. */
const RCLONE_SHIM = `#!/usr/bin/env bash
# Test shim: records how rclone is called, then runs the real one.
{
  printf 'argv'
  printf ' %q' "$@"
  printf '\\n'
  env | grep -E '^RCLONE_([A-Z0-9_]*_)?HARD_DELETE=' | sed 's/^/env /' || true
} >>"$RCLONE_SHIM_LOG"
exec ${REAL_RCLONE} "$@"
`;

let s3: S3TestServer;
let requestLog: string;
let logDir: string;
let bucketCounter = 0;

beforeAll(async () => {
  logDir = fs.mkdtempSync(path.join(require("os").tmpdir(), "owb-s3-requests-"));
  requestLog = path.join(logDir, "requests.jsonl");
  s3 = await startS3Server({ requestLog });
});
afterAll(async () => {
  await s3?.stop();
  fs.rmSync(logDir, { recursive: true, force: true });
});

async function newBucket(): Promise<string> {
  const name = `hide-only-${++bucketCounter}`;
  await s3.createBucket(name);
  return name;
}

/** The requests the server got for one bucket. */
function requestsFor(bucket: string): S3LoggedRequest[] {
  return fs
    .readFileSync(requestLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as S3LoggedRequest)
    .filter((r) => r.url.startsWith(`/${bucket}/`) || r.url.startsWith(`/${bucket}?`));
}

/** Object keys stored (current) under a prefix, as the real rclone lists them. */
function storedKeys(sandbox: HostSandbox, bucket: string, prefix: string): string[] {
  const out = execFileSync(REAL_RCLONE, ["lsf", "-R", "--files-only", `:s3:${bucket}/${prefix}`], {
    env: { ...sandbox.env(), RCLONE_CONFIG: "/dev/null", RCLONE_S3_PROVIDER: "Other", RCLONE_S3_ENDPOINT: s3.endpoint, RCLONE_S3_ACCESS_KEY_ID: s3.accessKeyId, RCLONE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey },
    encoding: "utf8",
  });
  return out.split("\n").filter(Boolean).sort();
}

interface ShimCall {
  argv: string;
  env: string[];
}

function shimCalls(log: string): ShimCall[] {
  const calls: ShimCall[] = [];
  for (const line of fs.readFileSync(log, "utf8").split("\n").filter(Boolean)) {
    if (line.startsWith("argv")) calls.push({ argv: line.slice(5), env: [] });
    else if (line.startsWith("env ")) calls[calls.length - 1].env.push(line.slice(4));
  }
  return calls;
}

/** No call removes versions or turns hard delete on, whatever the target. */
function expectNoVersionRemoval(calls: ShimCall[]) {
  expect(calls.length).toBeGreaterThan(0);
  for (const c of calls) {
    const words = c.argv.split(" ");
    expect(words[0]).not.toMatch(/^(purge|cleanup|backend)$/);
    expect(c.argv).not.toMatch(/hard-delete|hard_delete=true|--s3-versions|--b2-versions/);
    for (const e of c.env) expect(e).toMatch(/=false$/);
  }
}

function setup(sandbox: HostSandbox) {
  const shimLog = path.join(sandbox.root, "rclone-calls.log");
  fs.writeFileSync(path.join(sandbox.binDir, "rclone"), RCLONE_SHIM, { mode: 0o755 });
  fs.writeFileSync(shimLog, "");
  sandbox.extraEnv = { RCLONE_SHIM_LOG: shimLog };
  return shimLog;
}

function stackConfig(sandbox: HostSandbox, job: Record<string, unknown>, targets: Record<string, unknown>) {
  return {
    targets,
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", targets: Object.keys(targets), ...job }] }],
    resticPassword: "correct horse battery staple",
  };
}

describe("restic through rclone on S3", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir);
  });
  afterEach(() => sandbox.cleanup());

  it("backs up, forgets, prunes, lists and restores; every delete names no version", async () => {
    const bucket = await newBucket();
    const shimLog = setup(sandbox);
    sandbox.install(stackConfig(sandbox, { method: "restic", retention: { keep: 1 } }, { offsite: s3.target(bucket) }));

    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const packsAfterFirst = storedKeys(sandbox, bucket, "web1/nightly/data");
    const snapshotsAfterFirst = storedKeys(sandbox, bucket, "web1/nightly/snapshots");
    expect(snapshotsAfterFirst).toHaveLength(1);

    // The big upload goes away: the second run's forget (keep 1) drops the first snapshot, and
    // the prune (its own timer) removes its data.
    fs.rmSync(path.join(sandbox.dataDir, "uploads", "big.bin"));
    // The big upload is removed on purpose: past the source gate's shrink limit.
    await sandbox.ok(["run", "nightly", "--allow-shrink"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await sandbox.ok(["prune", "nightly"]);

    const list = await sandbox.ok(["list", "nightly"]);
    expect(list.stdout).toMatch(/1 snapshots/);
    const snapshotsAfterSecond = storedKeys(sandbox, bucket, "web1/nightly/snapshots");
    expect(snapshotsAfterSecond).toHaveLength(1);
    expect(snapshotsAfterSecond).not.toEqual(snapshotsAfterFirst);
    const removedPacks = packsAfterFirst.filter((k) => !storedKeys(sandbox, bucket, "web1/nightly/data").includes(k));
    expect(removedPacks.length).toBeGreaterThan(0);

    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);
    expect(fs.existsSync(path.join(restored, "uploads", "big.bin"))).toBe(false);

    // What the server saw: deletes of the forgotten snapshot, the pruned packs and the locks,
    // each a plain DeleteObject. On a versioned bucket each only adds a delete marker.
    const requests = requestsFor(bucket);
    const deletes = requests.filter((r) => r.method === "DELETE");
    const deletedKeys = deletes.map((r) => decodeURIComponent(r.url.slice(bucket.length + 2).split("?")[0]));
    expect(deletedKeys).toEqual(expect.arrayContaining([`web1/nightly/snapshots/${snapshotsAfterFirst[0]}`, ...removedPacks.map((k) => `web1/nightly/data/${k}`)]));
    expect(deletedKeys.some((k) => k.startsWith("web1/nightly/locks/"))).toBe(true);
    expect(deletes.filter((r) => /[?&]versionId=/i.test(r.url))).toEqual([]);
    expect(requests.filter((r) => r.namesVersions)).toEqual([]);
    expect(requests.filter((r) => /[?&](versions|versioning|lifecycle)\b/.test(r.url))).toEqual([]);

    // How rclone was run: restic started it as its backend without --b2-hard-delete, and nothing purged.
    const calls = shimCalls(shimLog);
    expectNoVersionRemoval(calls);
    const serves = calls.filter((c) => c.argv.startsWith("serve restic"));
    expect(serves.length).toBeGreaterThanOrEqual(5); // run, run, prune, list, restore
    for (const c of serves) expect(c.argv).toBe(`serve restic --stdio owb:${bucket}/web1/nightly`);
  });
});

describe("snapshot pruning deletes files, never purges", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir, { bigUploadBytes: 100_000 });
  });
  afterEach(() => sandbox.cleanup());

  it("on S3: the old folder's objects get plain deletes, the newest stays restorable", async () => {
    const bucket = await newBucket();
    const shimLog = setup(sandbox);
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 1 } }, { offsite: s3.target(bucket) }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const first = storedKeys(sandbox, bucket, "web1/nightly/open-webui-backup-20260101T030000Z");
    expect(first.length).toBeGreaterThan(5);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await sandbox.ok(["prune", "nightly"]);

    expect((await sandbox.ok(["list", "nightly"])).stdout.trim().split("\n")).toEqual(["open-webui-backup-20260102T030000Z"]);
    expect(storedKeys(sandbox, bucket, "web1/nightly/open-webui-backup-20260101T030000Z")).toEqual([]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);

    const deletes = requestsFor(bucket).filter((r) => r.method === "DELETE");
    const deletedKeys = deletes.map((r) => decodeURIComponent(r.url.slice(bucket.length + 2).split("?")[0]).normalize("NFC"));
    // As a set: rclone may send one delete twice (a low-level retry); the keys are what matter.
    expect([...new Set(deletedKeys)].sort()).toEqual(first.map((k) => `web1/nightly/open-webui-backup-20260101T030000Z/${k}`.normalize("NFC")).sort());
    expect(deletes.filter((r) => /[?&]versionId=/i.test(r.url))).toEqual([]);
    const calls = shimCalls(shimLog);
    expectNoVersionRemoval(calls);
    expect(calls.map((c) => c.argv.split(" ")[0])).toEqual(expect.arrayContaining(["delete", "rmdirs"]));
  });

  it("on a local target: the old folder is gone entirely, empty folders included", async () => {
    const nas = path.join(sandbox.root, "nas");
    const shimLog = setup(sandbox);
    sandbox.install(stackConfig(sandbox, { method: "snapshot", retention: { keep: 1 } }, { nas: { type: "local", path: nas } }));
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await sandbox.ok(["prune", "nightly"]);
    expect(fs.readdirSync(path.join(nas, "web1", "nightly"))).toEqual(["open-webui-backup-20260102T030000Z"]);
    expectNoVersionRemoval(shimCalls(shimLog));
  });
});
