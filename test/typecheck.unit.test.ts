/**
 * The whole tree type-checks (`tsc --noEmit`, as `npm run build`). Tests run from sources that
 * ts-jest only transpiles, so this is where a type error fails the suite. A test of its own, so
 * that it runs beside the other files instead of before all of them.
 *
 * @long for a unit test (type-checks the whole tree): first in its tier (tier-sequencer.js)
 */
import { spawnSync } from "child_process";
import * as path from "path";

const ROOT = path.join(__dirname, "..");

it("tsc --noEmit finds no type error", () => {
  const tsc = require.resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "-p", ROOT], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
  expect(r.status).toBe(0);
});
