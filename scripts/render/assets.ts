/**
 * Host-side shell sources shipped with the package. They are read once when this module
 * loads, like embedded templates, so the render functions themselves stay pure.
 */
import * as fs from "fs";
import * as path from "path";

const hostDir = path.join(__dirname, "..", "host");

export function hostAsset(file: string): string {
  return fs.readFileSync(path.join(hostDir, file), "utf8");
}

/** The body of `openwebui-backup`: the same on every host; settings come from its env file. */
export const BACKUP_COMMAND_BODY = hostAsset("openwebui-backup.bash");
