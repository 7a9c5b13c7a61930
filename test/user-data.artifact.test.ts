/**
 * The EC2 host's user data, checked as a program: shellcheck, and its "format only when blank"
 * logic executed for real: against stubbed blkid/mkfs.ext4/mount/… on PATH (both answers, and
 * a blkid that fails), and against a file-backed loop device when this machine allows one.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEFAULT_USER_DATA_PATHS, renderUserData } from "../scripts/render/user-data";
import { base } from "./support/user-data-input";

const created: string[] = [];
afterAll(() => created.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openwebui-user-data-"));
  created.push(dir);
  return dir;
}

describe("renderUserData: text", () => {
  const text = renderUserData(base);

  it("passes shellcheck", () => {
    const r = spawnSync("shellcheck", ["--shell=bash", "-"], { input: text });
    expect(r.stdout.toString()).toBe("");
    expect(r.status).toBe(0);
  });
});

// ---------------------------------------------------------------- executed for real

/** A stub command on PATH that logs its arguments and runs `body`. */
function stub(bin: string, command: string, body: string): void {
  const file = path.join(bin, command);
  fs.writeFileSync(file, `#!/bin/bash\necho "${command} $*" >>"$STUB_LOG"\n${body}\n`, { mode: 0o755 });
}

interface Sandbox {
  dir: string;
  bin: string;
  log: string;
  paths: typeof DEFAULT_USER_DATA_PATHS;
}

function sandbox(): Sandbox {
  const dir = tmpDir();
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const paths = {
    mountPoint: path.join(dir, "var/lib/docker"),
    fstab: path.join(dir, "etc/fstab"),
    dockerDropIn: path.join(dir, "etc/systemd/system/docker.service.d/10-openwebui-data-disk.conf"),
  };
  fs.mkdirSync(path.dirname(paths.fstab), { recursive: true });
  fs.writeFileSync(paths.fstab, "# existing\nUUID=1111 / ext4 defaults 0 1\n");
  for (const cmd of ["mount", "systemctl", "apt-get", "udevadm", "usermod"]) stub(bin, cmd, "exit 0");
  stub(bin, "mountpoint", "exit 1");
  stub(bin, "id", "exit 0");
  return { dir, bin, log: path.join(dir, "calls.log"), paths };
}

function runUserData(sb: Sandbox, disk: string, extraEnv: Record<string, string> = {}) {
  const script = path.join(sb.dir, "user-data.sh");
  fs.writeFileSync(script, renderUserData({ ...base, diskCandidates: [path.join(sb.dir, "missing"), disk], diskWaitSeconds: 0, paths: sb.paths }), { mode: 0o755 });
  const r = spawnSync("bash", [script], {
    env: { ...process.env, PATH: `${sb.bin}:/usr/bin:/bin:/usr/sbin:/sbin`, STUB_LOG: sb.log, ...extraEnv },
  });
  const calls = fs.existsSync(sb.log) ? fs.readFileSync(sb.log, "utf8").trim().split("\n") : [];
  return { status: r.status, stderr: r.stderr.toString(), calls, fstab: fs.readFileSync(sb.paths.fstab, "utf8") };
}

/** A block device node for the script's `[ -b ]` check; blkid is stubbed, so nothing opens it. */
function blockNode(dir: string): string | undefined {
  const node = path.join(dir, "disk");
  const r = spawnSync("mknod", [node, "b", "7", "250"]);
  return r.status === 0 ? node : undefined;
}

const canMknod = (() => {
  const dir = tmpDir();
  try {
    return blockNode(dir) !== undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();

/**
 * Stubbed blkid: the disk's state is a file. Absent: no signature (exit 2, like blkid).
 * Present: its content is the filesystem type. BLKID_FAIL makes every probe fail with it.
 */
function stubDiskTools(sb: Sandbox): string {
  const state = path.join(sb.dir, "disk-fs");
  stub(
    sb.bin,
    "blkid",
    `[ -n "\${BLKID_FAIL:-}" ] && exit "$BLKID_FAIL"
[ -f ${JSON.stringify(state)} ] || exit 2
case " $* " in
  *" -s UUID "*) echo 0b5e2c7e-1f4a-4c1e-9d33-7a1c2e3f4a5b ;;
  *" -s TYPE "*) cat ${JSON.stringify(state)} ;;
esac`,
  );
  stub(sb.bin, "mkfs.ext4", `echo ext4 >${JSON.stringify(state)}`);
  return state;
}

(canMknod ? describe : describe.skip)("renderUserData: executed against stubbed disk tools", () => {
  it("formats a blank disk, adds it to fstab by UUID with nofail, mounts it, then installs Docker", () => {
    const sb = sandbox();
    stubDiskTools(sb);
    const disk = blockNode(sb.dir)!;
    const r = runUserData(sb, disk);
    expect(r.stderr).toContain("is blank; creating an ext4 filesystem");
    expect(r.status).toBe(0);
    expect(r.calls).toContain(`mkfs.ext4 -q -L docker-data ${disk}`);
    expect(r.fstab).toBe(
      `# existing\nUUID=1111 / ext4 defaults 0 1\nUUID=0b5e2c7e-1f4a-4c1e-9d33-7a1c2e3f4a5b ${sb.paths.mountPoint} ext4 defaults,nofail,x-systemd.device-timeout=30s 0 2\n`,
    );
    const order = (prefix: string) => r.calls.findIndex((c) => c.startsWith(prefix));
    expect(order("mount ")).toBeGreaterThan(order("mkfs.ext4"));
    expect(order("apt-get install")).toBeGreaterThan(order("mount "));
    expect(r.calls).toContain(`mount ${sb.paths.mountPoint}`);
    expect(r.calls).toContain("apt-get install -y -q docker.io");
    expect(r.calls).toContain("systemctl enable --now docker");
    expect(r.calls).toContain("usermod -aG docker admin");
    expect(fs.readFileSync(sb.paths.dockerDropIn, "utf8")).toBe(`[Unit]\nRequiresMountsFor=${sb.paths.mountPoint}\n`);
  });

  it("keeps a disk that already has a filesystem: mkfs is never called", () => {
    const sb = sandbox();
    const state = stubDiskTools(sb);
    fs.writeFileSync(state, "xfs\n");
    const disk = blockNode(sb.dir)!;
    const r = runUserData(sb, disk);
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith("mkfs"))).toEqual([]);
    expect(r.stderr).toContain("already holds a filesystem");
    expect(r.fstab).toContain(`UUID=0b5e2c7e-1f4a-4c1e-9d33-7a1c2e3f4a5b ${sb.paths.mountPoint} xfs defaults,nofail`);
  });

  it("runs twice without a second fstab line", () => {
    const sb = sandbox();
    stubDiskTools(sb);
    const disk = blockNode(sb.dir)!;
    expect(runUserData(sb, disk).status).toBe(0);
    const second = runUserData(sb, disk);
    expect(second.status).toBe(0);
    expect(second.calls.filter((c) => c.startsWith("mkfs"))).toHaveLength(1);
    expect(second.fstab.match(/0b5e2c7e/g)).toHaveLength(1);
  });

  it("stops without formatting when blkid cannot probe the disk", () => {
    const sb = sandbox();
    stubDiskTools(sb);
    const disk = blockNode(sb.dir)!;
    const r = runUserData(sb, disk, { BLKID_FAIL: "4" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("blkid could not probe");
    expect(r.calls.filter((c) => c.startsWith("mkfs") || c.startsWith("mount ") || c.startsWith("apt-get"))).toEqual([]);
  });

  it("gives up when no data disk appears", () => {
    const sb = sandbox();
    stubDiskTools(sb);
    const r = runUserData(sb, path.join(sb.dir, "also-missing"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("no data disk after 0s");
    expect(r.calls.filter((c) => c.startsWith("mkfs") || c.startsWith("apt-get"))).toEqual([]);
  });
});

// ---------------------------------------------------------------- a real loop device

function attachLoop(image: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const r = spawnSync("losetup", ["--find", "--show", image]);
  return r.status === 0 ? r.stdout.toString().trim() : undefined;
}

const loopProbe = (() => {
  const dir = tmpDir();
  const image = path.join(dir, "probe.img");
  fs.writeFileSync(image, Buffer.alloc(1024 * 1024));
  const dev = attachLoop(image);
  if (dev) spawnSync("losetup", ["--detach", dev]);
  fs.rmSync(dir, { recursive: true, force: true });
  return dev !== undefined;
})();

(loopProbe ? describe : describe.skip)("renderUserData: executed against a file-backed loop device (real blkid and mkfs.ext4)", () => {
  let sb: Sandbox;
  let dev: string;

  beforeAll(() => {
    sb = sandbox();
    const image = path.join(sb.dir, "data.img");
    fs.writeFileSync(image, Buffer.alloc(16 * 1024 * 1024));
    dev = attachLoop(image)!;
    // Logs, then runs the real mkfs.ext4.
    stub(sb.bin, "mkfs.ext4", 'exec /usr/sbin/mkfs.ext4 "$@"');
  });

  afterAll(() => {
    if (dev) spawnSync("losetup", ["--detach", dev]);
    fs.rmSync(sb.dir, { recursive: true, force: true });
  });

  it("formats the blank device once, and keeps its filesystem on the second run", () => {
    const first = runUserData(sb, dev);
    expect(first.stderr).toContain("is blank");
    expect(first.status).toBe(0);
    const uuid = execFileSync("blkid", ["-p", "-o", "value", "-s", "UUID", dev]).toString().trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.fstab).toContain(`UUID=${uuid} ${sb.paths.mountPoint} ext4 defaults,nofail`);

    const second = runUserData(sb, dev);
    expect(second.status).toBe(0);
    expect(second.stderr).toContain("already holds a filesystem");
    expect(second.calls.filter((c) => c.startsWith("mkfs"))).toHaveLength(1);
    expect(execFileSync("blkid", ["-p", "-o", "value", "-s", "UUID", dev]).toString().trim()).toBe(uuid);
  });
});
