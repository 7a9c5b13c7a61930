/**
 * method pull: a puller host (the NAS) pulls another host's local snapshots over a real SSH
 * connection to 127.0.0.1, through the restricted key docs/config-reference.md documents
 * (`command="rrsync -ro <dir>",restrict`), into its own hard-linked snapshots.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { HostSandbox } from "./support/host-sandbox";
import { buildDataDir } from "./support/openwebui-data";
import { installPull, pullSourceRoot, pulledRoot, startPullSshd } from "./support/pull-pair";
import { TestSshd } from "./support/sshd";
import { epoch, expectSameData } from "./support/backup-checks";

jest.setTimeout(180_000);

let source: HostSandbox;
let puller: HostSandbox;
let sshd: TestSshd;
const srcRoot = () => pullSourceRoot(source);
const pullRoot = () => pulledRoot(puller);

beforeEach(async () => {
  source = new HostSandbox("owb-src-");
  puller = new HostSandbox("owb-nas-");
  buildDataDir(source.dataDir);
  sshd = await startPullSshd(source);
});
afterEach(async () => {
  await sshd?.stop();
  source.cleanup();
  puller.cleanup();
});

function install(from: Record<string, unknown> = {}) {
  installPull(source, puller, sshd, { from });
}

it("pulls the newest complete snapshot, hard-links unchanged files, keeps its own retention, restores intact", async () => {
  install();
  expect(fs.readFileSync(puller.paths.envFile, "utf8")).not.toMatch(/OWB_DATA_/);
  await source.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-01T03:00:00Z") });
  const first = await puller.ok(["run", "from-web1"]);
  expect(first.stderr).toMatch(/open-webui-backup-20240501T030000Z complete/);
  expect(first.stderr).toMatch(/integrity: webui\.db: ok/);

  // Nothing new on the source: nothing copied, still success.
  expect((await puller.ok(["run", "from-web1"])).stderr).toMatch(/already here; nothing newer on the source/);

  const frozen = path.join(source.root, "frozen");
  execFileSync("cp", ["-a", source.dataDir, frozen]);
  fs.writeFileSync(path.join(source.dataDir, "uploads", "later.txt"), "later\n");
  await source.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-02T03:00:00Z") });
  // A partial on the source (a run in progress) is never pulled, even with its manifest.
  execFileSync("cp", ["-a", path.join(srcRoot(), "open-webui-backup-20240502T030000Z"), path.join(srcRoot(), "open-webui-backup-20240503T030000Z.partial")]);
  const second = await puller.ok(["run", "from-web1"]);
  expect(second.stderr).toMatch(/open-webui-backup-20240502T030000Z complete: \d+ bytes copied, unchanged files hard-linked to open-webui-backup-20240501T030000Z/);

  const [p1, p2] = fs.readdirSync(pullRoot()).sort();
  const seg = fs.readdirSync(path.join(pullRoot(), p2, "data", "vector_db")).find((n) => !n.endsWith(".sqlite3"))!;
  const bin = fs.readdirSync(path.join(pullRoot(), p2, "data", "vector_db", seg))[0];
  const ino = (snap: string) => fs.statSync(path.join(pullRoot(), snap, "data", "vector_db", seg, bin)).ino;
  expect(ino(p1)).toBe(ino(p2));

  const old = path.join(puller.root, "restored-old");
  await puller.ok(["restore", "from-web1", "--snapshot", p1, "--to", old]);
  expectSameData(frozen, old);
  const latest = path.join(puller.root, "restored");
  await puller.ok(["restore", "from-web1", "--to", latest]);
  expectSameData(source.dataDir, latest);
  expect((await puller.ok(["verify", "from-web1"])).stderr).toMatch(/verify ok/);

  await source.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-04T03:00:00Z") });
  await puller.ok(["run", "from-web1"]);
  // A pull adds; the puller's own prune applies its retention (keep 2).
  expect(fs.readdirSync(pullRoot())).toHaveLength(3);
  expect((await puller.ok(["prune", "from-web1"])).stderr).toMatch(/2 snapshots kept, 1 pruned/);
  expect(fs.readdirSync(pullRoot()).sort()).toEqual(["open-webui-backup-20240502T030000Z", "open-webui-backup-20240504T030000Z"]);
  expect((await puller.ok(["list", "from-web1"])).stdout.trim().split("\n")).toEqual(["open-webui-backup-20240502T030000Z", "open-webui-backup-20240504T030000Z"]);
});

it("the restricted key reads only the snapshot folder: no shell, no writes, nothing outside", () => {
  const ssh = ["-i", sshd.clientKey, "-p", String(sshd.port), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"];
  const shell = spawnSync("ssh", [...ssh, "root@127.0.0.1", "id"], { encoding: "utf8" });
  expect(shell.status).not.toBe(0);
  expect(shell.stdout).not.toMatch(/uid=/);
  const write = spawnSync("rsync", ["-e", `ssh ${ssh.join(" ")}`, "/etc/hostname", "root@127.0.0.1:/planted"], { encoding: "utf8" });
  expect(write.status).not.toBe(0);
  expect(fs.existsSync(path.join(srcRoot(), "planted"))).toBe(false);
  const outside = spawnSync("rsync", ["-e", `ssh ${ssh.join(" ")}`, "--list-only", "root@127.0.0.1:/../../"], { encoding: "utf8" });
  expect(outside.status).not.toBe(0);
});

it("fails when the source's host key does not match, and keeps what it has", async () => {
  install({ hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ1dCBub3QgdGhlIHJpZ2h0IGtleSBhdCBhbGwgISEhIQ" });
  await source.ok(["run", "nightly"], { OPENWEBUI_BACKUP_NOW: epoch("2024-05-01T03:00:00Z") });
  const r = await puller.run(["run", "from-web1"]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/could not list 127\.0\.0\.1:\/ over SSH/);
  expect(fs.existsSync(pullRoot()) ? fs.readdirSync(pullRoot()) : []).toEqual([]);
});
