/**
 * Host-side shell sources shipped with the package. They are read once when this module
 * loads, like embedded templates, so the render functions themselves stay pure.
 */
import * as fs from "fs";
import * as path from "path";
import { JOB_METHODS } from "../../config/schema";

const hostDir = path.join(__dirname, "..", "host");

export function hostAsset(file: string): string {
  return fs.readFileSync(path.join(hostDir, file), "utf8");
}

/**
 * The parts of `openwebui-backup`, one concern each, in the order they are joined. Each
 * method has its own part (`methods/<method>.bash`) defining its ship_, list_, restore_,
 * manifest_ and (all but sync) prune_ functions, so adding a method is adding a file; parts
 * define functions only, and `main` comes last.
 */
export const BACKUP_COMMAND_PARTS: readonly string[] = [
  "backup/core.bash",
  "backup/test-hooks.bash",
  "backup/containers.bash",
  "backup/locks.bash",
  "backup/recovery.bash",
  "backup/sqlite.bash",
  "backup/extras.bash",
  "backup/postgres.bash",
  "backup/object-storage.bash",
  "backup/staging.bash",
  "backup/copy.bash",
  "backup/gate.bash",
  "backup/manifest.bash",
  "backup/hashes.bash",
  "backup/targets.bash",
  "backup/timeouts.bash",
  "backup/local-folders.bash",
  ...JOB_METHODS.map((method) => `backup/methods/${method}.bash`),
  "backup/results.bash",
  "backup/prune.bash",
  "backup/restore-in-place.bash",
  "backup/upgrade.bash",
  "backup/commands.bash",
  "backup/main.bash",
];

/** The body of `openwebui-backup`: the parts joined; the same on every host. */
export const BACKUP_COMMAND_BODY = BACKUP_COMMAND_PARTS.map(hostAsset).join("\n");
