/**
 * One temporary directory for the whole test run: TMPDIR points into it, so every mkdtemp of a
 * test, and every mktemp of a script a test runs, lands there; the teardown removes it. A test
 * that forgets to clean up, or dies before it can, leaves nothing behind in the system's /tmp,
 * nor in the home's cache.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const VARIABLE = "OPENWEBUI_TEST_TMP_ROOT";

export async function setup(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "openwebui-tests-"));
  // Like /tmp itself: other users (the PostgreSQL server of a test) reach their own folders in it.
  fs.chmodSync(root, 0o1777);
  process.env[VARIABLE] = root;
  process.env.TMPDIR = root;
  // Caches too (restic keeps a folder per repository it opens): none in root's home.
  process.env.XDG_CACHE_HOME = path.join(root, "cache");
}

export async function teardown(): Promise<void> {
  const root = process.env[VARIABLE];
  if (root && path.basename(root).startsWith("openwebui-tests-")) fs.rmSync(root, { recursive: true, force: true });
}
