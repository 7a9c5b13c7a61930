/**
 * Every test file belongs to a tier, so none is silently left out of `npm test`: jest's
 * projects (jest.config.js) match only `*.unit.test.ts`, `*.artifact.test.ts` and `*.e2e.test.ts`.
 */
import * as fs from "fs";
import * as path from "path";

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "__snapshots__" ? [] : testFiles(full);
    return /\.test\.[jt]s$/.test(e.name) ? [path.relative(__dirname, full)] : [];
  });
}

it("every test file is named by its tier", () => {
  const files = testFiles(__dirname);
  expect(files.length).toBeGreaterThan(20);
  expect(files.filter((f) => !/\.(unit|artifact|e2e)\.test\.ts$/.test(f))).toEqual([]);
});

it("every snapshot file belongs to a test file", () => {
  const snapshots = fs.readdirSync(path.join(__dirname, "__snapshots__"));
  expect(snapshots.filter((s) => !fs.existsSync(path.join(__dirname, s.replace(/\.snap$/, ""))))).toEqual([]);
});
