/**
 * The exact command strings BackupJobs hands to @pulumi/command, executed for real against a
 * temporary root: install (twice), uninstall on delete, and a failing installer.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installCommand } from "../components/backup-jobs";
import { renderHostFiles } from "../scripts/render/host-files";
import { INSTALLED_LIST } from "../scripts/render/installer";
import { program } from "./support/backup-jobs-program";

describe("the component's command strings, executed", () => {
  let work: string;
  let root: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "owb-jobs-"));
    root = path.join(work, "root");
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(work, "systemctl"), `#!/bin/sh\necho "$*" >> '${work}/systemctl.log'\n`, { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  // As @pulumi/command runs them: the command string through /bin/sh -c, stdin piped in.
  const sh = (cmd: string, stdin = "") =>
    spawnSync("/bin/sh", ["-c", cmd], {
      input: stdin,
      encoding: "utf8",
      env: { ...process.env, OPENWEBUI_SKIP_PACKAGES: "1", OPENWEBUI_SYSTEMCTL: path.join(work, "systemctl") },
    });

  it("install (twice), then uninstall on delete, exactly as the resources were given them", async () => {
    const { resources, stdin, input } = await program({}, { root });
    const install = resources.find((r) => r.name === "box-install")!;
    const uninstall = resources.find((r) => r.name === "box-uninstall")!;

    const first = sh(install.inputs.create, stdin);
    expect(first.stderr).toMatch(/change\(s\)/);
    expect(first.status).toBe(0);
    const env = path.join(root, input.host.paths.envFile);
    expect((fs.statSync(env).mode & 0o777).toString(8)).toBe("600");
    expect(fs.readFileSync(env, "utf8")).toContain("s3cr3t/key");
    expect(fs.existsSync(path.join(root, "/etc/systemd/system/openwebui-backup-nightly.timer"))).toBe(true);
    // The temporary copy of the installer (it holds credentials) is gone.
    expect(first.stdout + first.stderr).not.toMatch(/No such file/);

    const second = sh(install.inputs.create, stdin);
    expect(second.status).toBe(0);
    expect(second.stderr).toMatch(/no changes/);

    expect(sh(uninstall.inputs.create).status).toBe(0);
    const removed = sh(uninstall.inputs.delete);
    expect(removed.status).toBe(0);
    for (const f of renderHostFiles(input).files) expect(fs.existsSync(path.join(root, f.path))).toBe(false);
    expect(fs.existsSync(path.join(root, INSTALLED_LIST))).toBe(false);
    expect(fs.readFileSync(path.join(work, "systemctl.log"), "utf8")).toContain("disable --now openwebui-backup-nightly.timer");

    // Deleting again (or a host that never got an install) is not an error.
    const again = sh(uninstall.inputs.delete);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("nothing to uninstall");
  });

  it("a failing installer fails the command (and leaves no temporary file behind)", () => {
    const tmp = fs.mkdtempSync(path.join(work, "tmp-"));
    const r = spawnSync("/bin/sh", ["-c", installCommand(root)], { input: "echo broken >&2; exit 7\n", encoding: "utf8", env: { ...process.env, TMPDIR: tmp } });
    expect(r.status).toBe(7);
    expect(r.stderr).toContain("broken");
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
