/**
 * B2 with a host key that cannot delete: the backup command's restic (through rclone),
 * snapshot and sync jobs against a B2 API stand-in on 127.0.0.1 (test/support/b2-server.ts)
 * that enforces a key's capabilities and name prefix and keeps every file version.
 *
 * The key gets exactly what `pulumi up` gives a host (b2CapabilitiesForHost, b2NamePrefixForHost):
 * no deleteFiles. Every job still backs up, prunes and restores; every removal is a hide, and
 * every hidden version is still stored, intact. `rclone purge` with the same key is refused.
 */
import { createHash } from "crypto";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { b2CapabilitiesForHost, b2NamePrefixForHost } from "../components/b2-backup-bucket";
import { B2TestServer } from "./support/b2-server";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { expectSameData, epoch } from "./support/backup-checks";

jest.setTimeout(300_000);

let b2: B2TestServer;
let bucketCounter = 0;

beforeAll(async () => {
  b2 = await B2TestServer.start();
});
afterAll(async () => {
  await b2?.stop();
});

type Method = "restic" | "snapshot" | "sync";
const RETENTION: Record<Method, Record<string, number>> = { restic: { keep: 1 }, snapshot: { keep: 1 }, sync: {} };

/** A bucket and the key a managed B2 target would give host web1 for one job there. */
function hostKeyFor(method: Method) {
  const bucket = `b2-hide-only-${++bucketCounter}`;
  b2.createBucket(bucket);
  const locations = [{ location: "web1/nightly", method, retention: RETENTION[method] }];
  const key = b2.createKey(bucket, b2NamePrefixForHost(locations), b2CapabilitiesForHost(locations));
  expect(key.capabilities).not.toContain("deleteFiles");
  return { bucket, key };
}

function install(sandbox: HostSandbox, method: Method, bucket: string, key: { keyId: string; applicationKey: string }) {
  // rclone's B2 backend talks to the stand-in; everything else is as the env file says.
  sandbox.extraEnv = { RCLONE_B2_ENDPOINT: b2.endpoint };
  sandbox.install({
    targets: { offsite: { type: "b2", bucket, prefix: "web1", keyId: key.keyId, applicationKey: key.applicationKey } },
    hosts: [{ name: "web1", data: { dir: sandbox.dataDir }, jobs: [{ name: "nightly", method, targets: ["offsite"], retention: RETENTION[method] }] }],
    resticPassword: "correct horse battery staple",
  });
}

/** What the key asked the server to do, by operation, and the deletes that got through. */
function opsOf(keyId: string) {
  const calls = b2.calls.filter((c) => c.keyId === keyId);
  return {
    hidden: calls.filter((c) => c.op === "b2_hide_file" && c.status === 200).map((c) => c.fileName!),
    deleteAttempts: calls.filter((c) => c.op === "b2_delete_file_version"),
    refused: calls.filter((c) => c.status === 401 && c.op !== "b2_download_file_by_name"),
  };
}

/**
 * Every hidden name still has the version it hid, whole (sha1 as uploaded): each hide marker
 * follows an upload. (A name may be uploaded again later, as sync's manifest is.)
 */
function expectHiddenVersionsKept(bucket: string, hidden: string[]) {
  for (const name of new Set(hidden)) {
    const versions = b2.versions(bucket, name).filter((v) => v.name === name);
    const hides = versions.flatMap((v, i) => (v.action === "hide" ? [i] : []));
    expect(hides.length).toBeGreaterThan(0);
    for (const i of hides) expect(versions[i - 1]?.action).toBe("upload");
    for (const u of versions.filter((v) => v.action === "upload")) expect(createHash("sha1").update(u.data).digest("hex")).toBe(u.sha1);
  }
}

describe("B2, host key without deleteFiles", () => {
  let sandbox: HostSandbox;
  beforeEach(() => {
    sandbox = new HostSandbox();
    buildDataDir(sandbox.dataDir, { bigUploadBytes: 1_500_000 });
  });
  afterEach(() => sandbox.cleanup());

  it("restic through rclone: backs up, forgets, prunes, lists and restores; pruned packs are hidden, still stored and intact", async () => {
    const { bucket, key } = hostKeyFor("restic");
    install(sandbox, "restic", bucket, key);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const firstSnapshot = b2.visibleNames(bucket, "web1/nightly/snapshots/");
    expect(firstSnapshot).toHaveLength(1);

    fs.rmSync(path.join(sandbox.dataDir, "uploads", "big.bin"));
    // A stray hard-delete switch in the environment changes nothing: the env file's remote says hide.
    // The big upload is removed on purpose: past the source gate's shrink limit.
    await sandbox.ok(["run", "nightly", "--allow-shrink"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z"), RCLONE_B2_HARD_DELETE: "true" });
    await sandbox.ok(["prune", "nightly"], { RCLONE_B2_HARD_DELETE: "true" });
    expect((await sandbox.ok(["list", "nightly"])).stdout).toMatch(/1 snapshots/);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);
    expect((await sandbox.ok(["verify", "nightly"])).stderr).toMatch(/verify ok/);

    const { hidden, deleteAttempts, refused } = opsOf(key.keyId);
    expect(deleteAttempts).toEqual([]);
    expect(refused).toEqual([]);
    // Forget hid the first snapshot, prune hid packs, every run hid its lock.
    expect(hidden).toEqual(expect.arrayContaining(firstSnapshot));
    const hiddenPacks = hidden.filter((n) => n.startsWith("web1/nightly/data/"));
    expect(hiddenPacks.length).toBeGreaterThan(0);
    expect(hidden.some((n) => n.startsWith("web1/nightly/locks/"))).toBe(true);
    expectHiddenVersionsKept(bucket, hidden);
    // A restic pack is named by the sha256 of its content: the kept version is that pack, whole.
    for (const name of hiddenPacks) {
      const upload = b2.versions(bucket, name).find((v) => v.action === "upload")!;
      expect(createHash("sha256").update(upload.data).digest("hex")).toBe(path.basename(name));
    }
  });

  it("snapshot: pruning hides the old folder's files, which stay stored", async () => {
    const { bucket, key } = hostKeyFor("snapshot");
    install(sandbox, "snapshot", bucket, key);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    const first = b2.visibleNames(bucket, "web1/nightly/open-webui-backup-20260101T030000Z/");
    expect(first.length).toBeGreaterThan(5);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await sandbox.ok(["prune", "nightly"]);

    expect((await sandbox.ok(["list", "nightly"])).stdout.trim().split("\n")).toEqual(["open-webui-backup-20260102T030000Z"]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);

    const { hidden, deleteAttempts, refused } = opsOf(key.keyId);
    expect(deleteAttempts).toEqual([]);
    expect(refused).toEqual([]);
    expect([...new Set(hidden)].sort()).toEqual(first);
    expectHiddenVersionsKept(bucket, first);
  });

  it("sync: a file removed from Open WebUI is hidden in the mirror, its last version kept", async () => {
    const { bucket, key } = hostKeyFor("sync");
    install(sandbox, "sync", bucket, key);
    await sandbox.ok(["run", "nightly"]);
    fs.rmSync(path.join(sandbox.dataDir, "uploads", "big.bin"));
    // The big upload is removed on purpose: past the source gate's shrink limit.
    await sandbox.ok(["run", "nightly", "--allow-shrink"]);
    const restored = path.join(sandbox.root, "restored");
    await sandbox.ok(["restore", "nightly", "--to", restored]);
    expectSameData(sandbox.dataDir, restored);

    const { hidden, deleteAttempts, refused } = opsOf(key.keyId);
    expect(deleteAttempts).toEqual([]);
    expect(refused).toEqual([]);
    expect(hidden).toContain("web1/nightly/current/data/uploads/big.bin");
    expectHiddenVersionsKept(bucket, hidden);
  });

  it("the same key cannot destroy history: rclone purge is refused and every version stays", async () => {
    const { bucket, key } = hostKeyFor("snapshot");
    install(sandbox, "snapshot", bucket, key);
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-01T03:00:00Z") });
    await sandbox.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2026-01-02T03:00:00Z") });
    await sandbox.ok(["prune", "nightly"]);
    const before = b2.versions(bucket).map((v) => v.id);
    // The first folder is hidden (a hide marker over each file), the second current.
    expect(b2.versions(bucket).filter((v) => v.action === "hide").length).toBeGreaterThan(5);

    // An attacker on the host, with the env file's key, tries the destructive commands.
    const env = {
      ...sandbox.env(),
      RCLONE_CONFIG: "/dev/null",
      RCLONE_CONFIG_X_TYPE: "b2",
      RCLONE_CONFIG_X_ACCOUNT: key.keyId,
      RCLONE_CONFIG_X_KEY: key.applicationKey,
      RCLONE_CONFIG_X_HARD_DELETE: "true",
    };
    const rclone = (args: string[]) =>
      new Promise<number>((resolve) => execFile("rclone", args, { env }, (err) => resolve(err ? Number((err as any).code ?? 1) : 0)));
    // purge deletes every version; a hard delete, every version of each file; cleanup, the hidden ones.
    expect(await rclone(["purge", `x:${bucket}/web1/nightly`])).not.toBe(0);
    expect(await rclone(["delete", `x:${bucket}/web1/nightly`])).not.toBe(0);
    expect(await rclone(["cleanup", `x:${bucket}/web1/nightly`])).not.toBe(0);

    expect(b2.versions(bucket).map((v) => v.id)).toEqual(before);
    const attempts = opsOf(key.keyId).deleteAttempts;
    expect(attempts.length).toBeGreaterThan(0);
    expect(attempts.every((c) => c.status === 401)).toBe(true);
  });
});
