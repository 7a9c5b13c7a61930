/**
 * The tutorial's plans 1 and 2 as example stack files: every script rendered for their hosts
 * passes shellcheck, and so does each env file.
 *
 * @long for an artifact test (shellcheck of every script): first in its tier (tier-sequencer.js)
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderStackFile } from "../scripts/cli/render-cli";
import { newScriptsOnly } from "./support/shellcheck-once";

const example = (name: string) => path.join(__dirname, "..", "examples", name);
// Both plans' hosts get the same host command; each text is checked once.
const unchecked = newScriptsOnly();

describe.each(["plan1.yaml", "plan2.yaml"])("%s", (file) => {
  const rendered = renderStackFile(example(file), "example", {});

  it("every rendered script passes shellcheck", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-examples-"));
    try {
      for (const h of rendered.hosts) {
        for (const f of h.files.filter((x) => (x.content.startsWith("#!/usr/bin/env bash") || x.path.endsWith(".env")) && unchecked(x.content))) {
          const p = path.join(dir, h.host, f.path);
          fs.mkdirSync(path.dirname(p), { recursive: true });
          fs.writeFileSync(p, f.content);
          execFileSync("shellcheck", ["-s", "bash", p], { encoding: "utf8" });
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
