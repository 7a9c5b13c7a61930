/**
 * Every script the renderer writes passes shellcheck, the installer and the env file included,
 * for the same configs whose text render.unit.test.ts snapshots.
 *
 * @long for an artifact test (shellcheck of every config's scripts): first in its tier (tier-sequencer.js)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HostFile } from "../scripts/render/types";
import { full, render, small } from "./support/render-fixtures";
import { newScriptsOnly } from "./support/shellcheck-once";

const isScript = (f: HostFile) => f.content.startsWith("#!");
// The configs' hosts share scripts (the host command above all); each text is checked once.
const unchecked = newScriptsOnly();

describe.each([
  ["small", small, 0],
  ["full, systemd host", full, 0],
  ["full, cron host", full, 1],
])("%s config", (_name, cfg, hostIndex) => {
  const { files, installer } = render(cfg(), hostIndex);

  it("every script passes shellcheck, the installer included", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-sc-"));
    const scripts = [...files.filter(isScript).map((f) => ({ name: path.basename(f.path), content: f.content })), { name: "installer", content: installer }];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    for (const s of scripts.filter((x) => unchecked(x.content))) {
      const file = path.join(dir, s.name);
      fs.writeFileSync(file, s.content);
      const r = spawnSync("shellcheck", ["-x", file], { encoding: "utf8" });
      expect(`${s.name}: ${r.stdout}${r.stderr}`).toBe(`${s.name}: `);
    }
    // The env file is sourced by bash: it must parse as shell too.
    const env = files.find((f) => f.path.endsWith(".env"))!;
    fs.writeFileSync(path.join(dir, "backup.env"), env.content);
    const r = spawnSync("shellcheck", ["-s", "bash", path.join(dir, "backup.env")], { encoding: "utf8" });
    expect(r.stdout).toBe("");
  });

});
