/**
 * The rendered installer and uninstaller, executed for real against a temporary root:
 * the second install changes nothing, a removed job's files and units disappear, switching
 * scheduler swaps timers for a cron file, credentials are 0600, and shellcheck is clean.
 * systemctl is a stub that records its arguments.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderCronFiles } from "../scripts/render/cron";
import { renderHostFiles } from "../scripts/render/host-files";
import { INSTALLED_LIST, renderInstaller, uninstallerPath } from "../scripts/render/installer";
import { HostRenderInput } from "../scripts/render/types";
import { hostInput } from "./support/schedule-fixtures";
import { waitFor } from "./support/wait";

let work: string;
let root: string;
let systemctlLog: string;
let systemctlStub: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "owb-install-"));
  root = path.join(work, "root");
  fs.mkdirSync(root);
  systemctlLog = path.join(work, "systemctl.log");
  systemctlStub = path.join(work, "systemctl");
  // is-enabled / is-active answer "no" until `enable --now` recorded the unit.
  fs.writeFileSync(
    systemctlStub,
    `#!/usr/bin/env bash
printf '%s\\n' "$*" >> '${systemctlLog}'
state='${work}/enabled'
case "$1" in
  is-enabled|is-active) grep -qxF "\${@: -1}" "$state" 2>/dev/null ;;
  enable) printf '%s\\n' "\${@: -1}" >> "$state" ;;
  disable) if [[ -f "$state" ]]; then grep -vxF "\${@: -1}" "$state" > "$state.new" || true; mv "$state.new" "$state"; fi ;;
esac
`,
    { mode: 0o755 },
  );
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function runScript(script: string, args: string[] = []): { status: number | null; stderr: string } {
  const file = path.join(work, "script.bash");
  fs.writeFileSync(file, script, { mode: 0o700 });
  const r = spawnSync("bash", [file, ...args], {
    encoding: "utf8",
    env: { ...process.env, OPENWEBUI_ROOT: root, OPENWEBUI_SKIP_PACKAGES: "1", OPENWEBUI_SYSTEMCTL: systemctlStub },
  });
  return { status: r.status, stderr: r.stderr };
}

const install = (input: HostRenderInput) => runScript(renderHostFiles(input).installer);
const systemctlCalls = () => (fs.existsSync(systemctlLog) ? fs.readFileSync(systemctlLog, "utf8").trim().split("\n") : []);
const at = (p: string) => path.join(root, p);
const mode = (p: string) => (fs.statSync(at(p)).mode & 0o777).toString(8);

describe("install into a temporary root", () => {
  it("writes every file with its mode, then a second run reports no changes", () => {
    const input = hostInput();
    const { files } = renderHostFiles(input);
    const first = install(input);
    expect(first.stderr).toMatch(/\d+ change\(s\)/);
    expect(first.status).toBe(0);
    for (const f of files) {
      expect(fs.readFileSync(at(f.path), "utf8")).toBe(f.content);
      expect(mode(f.path)).toBe(f.mode.toString(8));
    }
    expect(systemctlCalls()).toEqual(
      expect.arrayContaining([
        "daemon-reload",
        "enable --now openwebui-backup-nightly.timer",
        "enable --now openwebui-backup-weekly-copy.timer",
        "enable --now openwebui-prune-nightly.timer",
        "enable --now openwebui-prune-weekly-copy.timer",
        "enable --now openwebui-restore-drill.timer",
      ]),
    );
    fs.writeFileSync(systemctlLog, "");

    const second = install(input);
    expect(second.status).toBe(0);
    expect(second.stderr).toMatch(/openwebui-backup install: no changes/);
    expect(systemctlCalls().filter((c) => !/^is-(enabled|active)/.test(c))).toEqual([]);
  });

  it("keeps credentials 0600 (env file, installed list) and state directories 0700", () => {
    const input = hostInput();
    install(input);
    expect(mode(input.host.paths.envFile)).toBe("600");
    expect(fs.readFileSync(at(input.host.paths.envFile), "utf8")).toContain("s3cr3t/key");
    expect(mode(INSTALLED_LIST)).toBe("600");
    for (const dir of [input.host.paths.stateDir, input.host.paths.stagingDir, input.host.paths.logDir]) expect(mode(dir)).toBe("700");
    // No temporary file is left behind next to the credentials.
    expect(fs.readdirSync(path.dirname(at(input.host.paths.envFile)))).toEqual(["backup.env"]);
  });

  it("repairs a file changed by hand and a wrong mode", () => {
    const input = hostInput();
    install(input);
    const unit = "/etc/systemd/system/openwebui-backup-nightly.timer";
    fs.appendFileSync(at(unit), "# edited\n");
    fs.chmodSync(at(input.host.paths.envFile), 0o644);
    const again = install(input);
    expect(again.stderr).toContain(`wrote ${unit}`);
    expect(again.stderr).toContain(`wrote ${input.host.paths.envFile} (mode 600)`);
    expect(mode(input.host.paths.envFile)).toBe("600");
    expect(systemctlCalls()).toContain("restart openwebui-backup-nightly.timer");
  });

  it("removing a job removes its units and disables its timer; the rest stays", () => {
    const both = hostInput();
    install(both);
    const onlyNightly = hostInput({
      jobs: [{ name: "nightly", method: "restic", targets: ["offsite", "disk"], retention: { daily: 7 }, consistency: "pause" }],
    });
    fs.writeFileSync(systemctlLog, "");
    const r = install(onlyNightly);
    expect(r.status).toBe(0);
    for (const gone of ["openwebui-backup-weekly-copy.service", "openwebui-backup-weekly-copy.timer", "openwebui-prune-weekly-copy.service", "openwebui-prune-weekly-copy.timer"]) {
      expect(fs.existsSync(at(`/etc/systemd/system/${gone}`))).toBe(false);
      expect(r.stderr).toContain(`removed /etc/systemd/system/${gone}`);
    }
    expect(fs.existsSync(at("/etc/systemd/system/openwebui-backup-nightly.timer"))).toBe(true);
    expect(fs.existsSync(at("/etc/systemd/system/openwebui-prune-nightly.timer"))).toBe(true);
    expect(systemctlCalls()).toEqual(expect.arrayContaining(["disable --now openwebui-backup-weekly-copy.timer", "disable --now openwebui-prune-weekly-copy.timer", "daemon-reload"]));
    expect(systemctlCalls()).not.toContain("disable --now openwebui-prune-nightly.timer");
    expect(fs.readFileSync(at(INSTALLED_LIST), "utf8")).not.toContain("weekly-copy");
  });

  it("switching to cron replaces the timers by /etc/cron.d/openwebui-backup", () => {
    install(hostInput());
    const cron = hostInput({ scheduler: "cron" });
    const r = install(cron);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(at("/etc/systemd/system"))).toEqual([]);
    expect(fs.readFileSync(at("/etc/cron.d/openwebui-backup"), "utf8")).toBe(renderCronFiles(cron)[0].content);
    expect(systemctlCalls()).toEqual(expect.arrayContaining(["disable --now openwebui-backup-nightly.timer", "disable --now openwebui-prune-nightly.timer", "disable --now openwebui-restore-drill.timer"]));
  });

  it("refuses a payload that does not match its manifest", () => {
    const input = hostInput();
    const installer = renderHostFiles(input).installer;
    // Corrupt the first payload line (the command's "#!/usr/bin/env bash" in base64).
    const corrupted = installer.replace(/(base64 -d <<'OPENWEBUI_PAYLOAD'\n)IyEv/, "$1IyEw");
    expect(corrupted).not.toBe(installer);
    const r = runScript(corrupted);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/does not match its sha256/);
    expect(fs.existsSync(at(input.host.paths.command))).toBe(false);
  });

  it("refuses two files with the same path", () => {
    const input = hostInput();
    expect(() => renderInstaller(input, [{ path: "/etc/x", mode: 0o644, content: "a" }, { path: "/etc/x", mode: 0o644, content: "b" }])).toThrow(/share the path \/etc\/x/);
  });
});

describe("uninstall", () => {
  it("stops the timers and removes every installed file, keeping data directories", () => {
    const input = hostInput();
    const { files } = renderHostFiles(input);
    install(input);
    fs.writeFileSync(path.join(at(input.host.paths.stateDir), "last-run.json"), "{}");
    fs.writeFileSync(systemctlLog, "");
    const r = runScript(fs.readFileSync(at(uninstallerPath(input)), "utf8"));
    expect(r.status).toBe(0);
    for (const f of files) expect(fs.existsSync(at(f.path))).toBe(false);
    expect(fs.existsSync(at(INSTALLED_LIST))).toBe(false);
    expect(fs.existsSync(path.join(at(input.host.paths.stateDir), "last-run.json"))).toBe(true);
    expect(systemctlCalls()).toEqual(
      expect.arrayContaining(["disable --now openwebui-backup-nightly.timer", "disable --now openwebui-prune-nightly.timer", "disable --now openwebui-prune-weekly-copy.timer", "disable --now openwebui-restore-drill.timer", "daemon-reload"]),
    );
    // Nothing left to do the second time.
    const again = runScript(renderHostFiles(input).files.find((f) => f.path === uninstallerPath(input))!.content);
    expect(again.stderr).toMatch(/no changes/);
  });

  it("a host whose jobs are all gone keeps only the uninstaller", () => {
    install(hostInput());
    const r = install(hostInput({ jobs: [] }));
    expect(r.status).toBe(0);
    expect(fs.readFileSync(at(INSTALLED_LIST), "utf8").trim().split("\n")).toHaveLength(1);
    expect(fs.existsSync(at("/etc/openwebui-backup/backup.env"))).toBe(false);
  });
});

describe("shellcheck", () => {
  it.each([
    ["installer (systemd)", () => renderHostFiles(hostInput()).installer],
    ["installer (cron)", () => renderHostFiles(hostInput({ scheduler: "cron" })).installer],
    ["uninstaller", () => renderHostFiles(hostInput()).files.find((f) => f.path.endsWith("openwebui-backup-uninstall"))!.content],
    ["notify-failure", () => renderHostFiles(hostInput()).files.find((f) => f.path.endsWith("/notify-failure"))!.content],
  ])("%s is clean", (_name, script) => {
    const r = spawnSync("shellcheck", ["--shell=bash", "-"], { input: script(), encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("cron lines, executed", () => {
  it("run the command, append to <job>.cron.log; the drill under flock skips a drill while one holds the lock", async () => {
    const base = path.join(work, "host");
    const input = hostInput({
      scheduler: "cron",
      randomizedDelaySec: 0,
      paths: { command: `${base}/bin/openwebui-backup`, envFile: `${base}/etc/backup.env`, stagingDir: `${base}/staging`, stateDir: `${base}/state`, lockDir: `${base}/lock`, logDir: `${base}/log` },
    });
    fs.mkdirSync(`${base}/bin`, { recursive: true });
    // A stand-in for the command: prints its arguments and env file; when asked, says it runs
    // (so under the lock) and holds the lock until released (both files, not output, so the log stays its line).
    fs.writeFileSync(
      `${base}/bin/openwebui-backup`,
      `#!/usr/bin/env bash\necho "args: $* env: $OPENWEBUI_BACKUP_ENV"\nif [[ -f '${base}/slow' ]]; then\n  touch '${base}/holding'\n  for ((i = 0; i < 600; i++)); do [[ -f '${base}/release' ]] && break; sleep 0.05; done\nfi\nexit 0\n`,
      { mode: 0o755 },
    );
    const cron = renderCronFiles(input)[0].content;
    expect(cron).toMatch(/^SHELL=\/bin\/bash$/m);
    expect(cron).toMatch(/^PATH=/m);
    const lines = cron.split("\n").filter((l) => /^[0-9*@]/.test(l));
    expect(lines).toHaveLength(5); // two jobs, their prunes and the drill
    const [nightly, nightlyPrune, weekly, weeklyPrune, drill] = lines.map((l) => {
      const fields = l.split(" ");
      return { schedule: fields.slice(0, 5).join(" "), user: fields[5], command: fields.slice(6).join(" ") };
    });
    expect([nightly.schedule, nightlyPrune.schedule, weekly.schedule, weeklyPrune.schedule, drill.schedule, nightly.user]).toEqual(["0 3 * * *", "30 5 * * 0", "30 4 * * 0", "30 5 * * 0", "0 0 * * 1", "root"]);
    const run = (cmd: string) => spawnSync("bash", ["-c", cmd], { encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });

    expect(run(nightly.command).status).toBe(0);
    expect(run(drill.command).status).toBe(0);
    expect(fs.readFileSync(`${base}/log/nightly.cron.log`, "utf8")).toBe(`args: run nightly env: ${base}/etc/backup.env\n`);
    expect(fs.readFileSync(`${base}/log/nightly.restore-drill.cron.log`, "utf8")).toBe(`args: verify nightly env: ${base}/etc/backup.env\n`);
    // A prune has its own outer lock and log, so it never skips because its job's line holds cron's lock.
    expect(run(nightlyPrune.command).status).toBe(0);
    expect(fs.readFileSync(`${base}/log/nightly.prune.cron.log`, "utf8")).toBe(`args: prune nightly env: ${base}/etc/backup.env\n`);
    expect(fs.existsSync(`${base}/lock/cron-nightly.prune.lock`)).toBe(true);

    // A job's run takes its job's lock itself and reports one it finds held (target-faults.e2e.test.ts).
    expect([nightly.command, weekly.command].filter((c) => c.includes("flock"))).toEqual([]);
    fs.writeFileSync(`${base}/slow`, "");
    const holder = spawn("bash", ["-c", drill.command], { stdio: "ignore" });
    const holderExited = new Promise((resolve) => holder.once("exit", resolve));
    try {
      await waitFor("the first drill to hold the lock", () => fs.existsSync(`${base}/holding`), 30_000);
      const overtaken = run(drill.command);
      expect(overtaken.status).toBe(1); // flock -n: the second drill does not wait, and never starts the command
      expect(fs.readFileSync(`${base}/log/nightly.restore-drill.cron.log`, "utf8")).toBe(`args: verify nightly env: ${base}/etc/backup.env\n`.repeat(2)); // the first drill's and the holder's lines only
    } finally {
      fs.writeFileSync(`${base}/release`, "");
      await holderExited;
    }
    expect(fs.existsSync(`${base}/lock/cron-nightly.restore-drill.lock`)).toBe(true);
  });

  it("refuses a '%' in a path (cron would turn it into a newline)", () => {
    const input = hostInput({ scheduler: "cron", paths: { logDir: "/var/log/100%" } });
    expect(() => renderCronFiles(input)).toThrow(/'%' cannot be written into a cron line/);
  });
});
