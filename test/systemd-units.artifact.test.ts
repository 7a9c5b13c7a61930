/**
 * Every rendered unit passes `systemd-analyze verify` in a temporary root that holds the
 * rendered tree (so ExecStart paths exist and are executable) and a copy of systemd's own
 * units (so dependencies such as timers.target resolve).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderHostFiles } from "../scripts/render/host-files";
import { SYSTEMD_UNIT_DIR } from "../scripts/render/naming";
import { renderSystemdFiles } from "../scripts/render/systemd";
import { HostFile } from "../scripts/render/types";
import { SYSTEMD_UNIT_CASES, hostInput } from "./support/schedule-fixtures";

const SYSTEM_UNITS = "/usr/lib/systemd/system";

function writeTree(root: string, files: readonly HostFile[]): void {
  for (const f of files) {
    const dest = path.join(root, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, f.content, { mode: f.mode });
  }
}

function verify(root: string, units: string[]): { status: number | null; output: string } {
  const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...units], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0" } });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "owb-units-"));
  fs.cpSync(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true, verbatimSymlinks: true });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe.each(SYSTEMD_UNIT_CASES)("%s", (_title, host) => {
  const input = hostInput(host as Record<string, unknown>);
  const { files } = renderHostFiles(input);
  const units = files.filter((f) => f.path.startsWith(`${SYSTEMD_UNIT_DIR}/`));

  it("passes systemd-analyze verify", () => {
    const hostRoot = fs.mkdtempSync(path.join(root, "host-"));
    fs.cpSync(path.join(root, "usr"), path.join(hostRoot, "usr"), { recursive: true, verbatimSymlinks: true });
    writeTree(hostRoot, files);
    const result = verify(
      hostRoot,
      units.map((u) => u.path),
    );
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("verify catches what is wrong (the check is not vacuous)", () => {
  it("fails on a missing ExecStart binary and reports unknown keys", () => {
    const input = hostInput();
    const service = renderSystemdFiles(input).find((f) => f.path.endsWith("nightly.service"))!;
    const hostRoot = fs.mkdtempSync(path.join(root, "broken-"));
    fs.cpSync(path.join(root, "usr"), path.join(hostRoot, "usr"), { recursive: true, verbatimSymlinks: true });
    writeTree(hostRoot, [{ ...service, content: service.content.replace("Nice=10", "Nicee=10") }]);
    const result = verify(hostRoot, [service.path]);
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/is not executable/);
    expect(result.output).toMatch(/Unknown key 'Nicee'/);
  });
});
