/**
 * `npm run demo` runs the real host command on a generated data directory: it must back up,
 * lose data, restore it and verify, with no Docker, cloud or root, and leave nothing behind
 * unless asked to keep its folder.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main as demoMain, runDemo } from "../scripts/cli/demo";

jest.setTimeout(180_000);

let parent: string;
beforeEach(() => (parent = fs.mkdtempSync(path.join(os.tmpdir(), "owb-demo-test-"))));
afterEach(() => fs.rmSync(parent, { recursive: true, force: true }));

it("backs up, loses the chats, restores them, verifies, and removes its folder", () => {
  const lines: string[] = [];
  const result = runDemo({ parent, say: (l) => lines.push(l) });
  expect(result.chatsBefore).toBe(120);
  expect(result.chatsAfterLoss).toBe(0);
  expect(result.chatsRestored).toBe(result.chatsBefore);
  expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/uploads\/big\.bin is back/), "   verify ok."]));
  expect(fs.readdirSync(parent)).toEqual([]);
});

it("--keep leaves the folder and says where it is", () => {
  const lines: string[] = [];
  const result = runDemo({ parent, keep: true, say: (l) => lines.push(l) });
  expect(fs.existsSync(path.join(result.root, "open-webui-data", "webui.db"))).toBe(true);
  expect(fs.existsSync(path.join(result.root, "backups", "demo", "nightly", "config"))).toBe(true);
  expect(lines[lines.length - 1]).toContain(`Kept everything in ${result.root}`);
  expect((fs.statSync(path.join(result.root, "etc", "backup.env")).mode & 0o777).toString(8)).toBe("600");
});

it("names every missing tool and the apt-get line, before making anything", () => {
  const bin = fs.mkdtempSync(path.join(parent, "bin-"));
  for (const tool of ["sh", "sqlite3", "rsync"]) {
    const found = (process.env.PATH ?? "").split(":").map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (found) fs.symlinkSync(found, path.join(bin, tool));
  }
  const saved = process.env.PATH;
  const errors: string[] = [];
  const write = process.stderr.write;
  process.env.PATH = bin;
  process.stderr.write = ((c: string) => (errors.push(String(c)), true)) as typeof process.stderr.write;
  try {
    expect(demoMain([])).toBe(1);
  } finally {
    process.env.PATH = saved;
    process.stderr.write = write;
  }
  expect(errors.join("")).toBe("demo: the demo needs restic, flock; install with: apt-get install -y restic util-linux\n");
  expect(fs.readdirSync(parent)).toEqual([path.basename(bin)]);
});
