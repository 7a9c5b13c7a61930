/**
 * The preflight of the artifact and e2e tiers: on a machine without the host tools it names
 * every one of them in a single message, with one `apt-get install` line.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HOST_TOOLS, locate, missingTools, preflightMessage } from "./preflight";
import { tiersOfRun } from "./support/preflight-setup";

let bare: string;
beforeAll(() => (bare = fs.mkdtempSync(path.join(os.tmpdir(), "owb-preflight-"))));
afterAll(() => fs.rmSync(bare, { recursive: true, force: true }));

/** A machine with nothing installed: only files under `dir` exist. */
const onlyUnder = (dir: string) => (file: string) => file.startsWith(`${dir}${path.sep}`) && fs.existsSync(file);

describe("preflight", () => {
  it("on a bare machine, one message names every tool of both tiers and installs their packages in one line", () => {
    const missing = missingTools(["artifact", "e2e"], bare, onlyUnder(bare));
    expect(missing).toEqual(HOST_TOOLS);
    const message = preflightMessage(["artifact", "e2e"], missing)!;
    for (const tool of HOST_TOOLS) expect(message).toContain(`  ${tool.command} (Debian package ${tool.package})`);
    const installLines = message.split("\n").filter((l) => l.includes("apt-get install"));
    expect(installLines).toEqual(["  apt-get install -y shellcheck systemd util-linux e2fsprogs sqlite3 restic rclone rsync openssh-server openssh-client curl postgresql postgresql-client python3"]);
  });

  it("asks a tier only for its own tools", () => {
    const artifact = missingTools(["artifact"], bare, onlyUnder(bare)).map((t) => t.command);
    expect(artifact).toEqual(["shellcheck", "systemd-analyze", "flock", "losetup", "blkid", "/usr/sbin/mkfs.ext4"]);
    expect(missingTools(["unit"], bare, onlyUnder(bare))).toEqual([]);
  });

  it("finds tools on PATH and at their absolute paths; says nothing when all are there", () => {
    const bin = path.join(bare, "bin");
    fs.mkdirSync(bin, { recursive: true });
    for (const tool of HOST_TOOLS.filter((t) => !path.isAbsolute(t.command))) fs.writeFileSync(path.join(bin, tool.command), "#!/bin/sh\n", { mode: 0o755 });
    const installed = (file: string) => onlyUnder(bare)(file) || HOST_TOOLS.some((t) => t.command === file);
    expect(locate("restic", `/nonexistent${path.delimiter}${bin}`, installed)).toBe(path.join(bin, "restic"));
    expect(missingTools(["artifact", "e2e"], bin, installed)).toEqual([]);
    expect(preflightMessage(["artifact", "e2e"], [])).toBeUndefined();
  });

  it("does not take a file without the execute bit for a tool", () => {
    const dir = path.join(bare, "noexec");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "shellcheck"), "", { mode: 0o644 });
    expect(locate("shellcheck", dir)).toBeUndefined();
  });

  it("as a command: exits 1 with the message when PATH holds none of the tools", () => {
    const r = spawnSync(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), path.join(__dirname, "preflight.ts"), "artifact", "e2e"], {
      encoding: "utf8",
      env: { PATH: bare },
    });
    expect(r.status).toBe(1);
    for (const tool of HOST_TOOLS.filter((t) => !path.isAbsolute(t.command))) expect(r.stderr).toContain(`  ${tool.command} (Debian package ${tool.package})`);
    expect(r.stderr.match(/apt-get install -y /g)).toHaveLength(1);
  });

  it.each([
    ["the whole suite", {}, ["unit", "artifact", "e2e"]],
    ["--selectProjects artifact e2e", { selectProjects: ["artifact", "e2e"] }, ["artifact", "e2e"]],
    ["--selectProjects unit", { selectProjects: ["unit"] }, ["unit", "e2e"]],
    ["a test path", { testPathPatterns: { isSet: () => true } }, ["e2e"]],
  ])("jest's globalSetup of the e2e tier checks the tools of every tier in %s", (_run, global, tiers) => {
    expect(tiersOfRun("e2e", global)).toEqual(tiers);
  });
});
