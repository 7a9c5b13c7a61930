/**
 * Small tmpfs mounts for the tests that need a file system of their own: a data directory that
 * is a mountpoint, a disk that fills up. Mounting needs root and a machine that allows it;
 * where it is refused, the cases are skipped with the reason.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Why this machine does not let the tests mount a tmpfs, or undefined when it does. */
export const tmpfsRefusal: string | undefined = (() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-mount-probe-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) spawnSync("umount", [dir]);
  fs.rmdirSync(dir);
  return r.status === 0 ? undefined : `mount -t tmpfs refused here: ${(r.stderr || r.error?.message || "").trim()}`;
})();

/** `describe`, or `describe.skip` (with a warning naming the reason) where a tmpfs cannot be mounted. */
export function describeWithTmpfs(): jest.Describe {
  if (tmpfsRefusal) console.warn(`skipping the tmpfs cases: ${tmpfsRefusal}`);
  return tmpfsRefusal ? describe.skip : describe;
}

/** Mounts made by mountTmpfs, unmounted by unmountAll (call it in afterEach). */
const mounts: string[] = [];

export function mountTmpfs(dir: string, size: string): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  mounts.push(dir);
}

export function unmountAll(): void {
  for (const m of mounts.splice(0).reverse()) spawnSync("umount", [m]);
}
