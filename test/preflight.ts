/**
 * Preflight of the test tiers that drive host tools: names every tool a tier needs that this
 * machine lacks, in one message with the one `apt-get install` line that brings them (Debian
 * package names), instead of a wall of failing tests.
 *
 *   ts-node --transpile-only test/preflight.ts artifact e2e    exit 1 with the message when something is missing
 *
 * The npm scripts run it before jest; jest's globalSetup (support/preflight-setup.ts) runs it
 * again per tier, so `npx jest some.e2e.test.ts` says the same.
 */
import * as fs from "fs";
import * as path from "path";

export type Tier = "unit" | "artifact" | "e2e";
export const TIERS: readonly Tier[] = ["unit", "artifact", "e2e"];

export interface HostTool {
  /** A command looked up on PATH, or an absolute path where a test or rendered file calls it. */
  command: string;
  /** The Debian package that installs it. */
  package: string;
  tiers: readonly Tier[];
}

/** What the tests and the scripts they run call, beyond bash, coreutils and node. */
export const HOST_TOOLS: readonly HostTool[] = [
  { command: "shellcheck", package: "shellcheck", tiers: ["artifact"] },
  { command: "systemd-analyze", package: "systemd", tiers: ["artifact"] },
  // Cron lines and the backup command take their lock with flock.
  { command: "flock", package: "util-linux", tiers: ["artifact", "e2e"] },
  // The user data run on a loop device (only as root, where losetup works).
  { command: "losetup", package: "util-linux", tiers: ["artifact"] },
  { command: "blkid", package: "util-linux", tiers: ["artifact"] },
  { command: "/usr/sbin/mkfs.ext4", package: "e2fsprogs", tiers: ["artifact"] },
  { command: "sqlite3", package: "sqlite3", tiers: ["e2e"] },
  { command: "restic", package: "restic", tiers: ["e2e"] },
  { command: "rclone", package: "rclone", tiers: ["e2e"] },
  { command: "rsync", package: "rsync", tiers: ["e2e"] },
  // The pull tests' forced command on the source host.
  { command: "/usr/bin/rrsync", package: "rsync", tiers: ["e2e"] },
  { command: "/usr/sbin/sshd", package: "openssh-server", tiers: ["e2e"] },
  { command: "ssh", package: "openssh-client", tiers: ["e2e"] },
  { command: "ssh-keygen", package: "openssh-client", tiers: ["e2e"] },
  // Alerts and health-check pings.
  { command: "curl", package: "curl", tiers: ["e2e"] },
  // A throwaway PostgreSQL cluster for the Open WebUI-on-PostgreSQL backups.
  { command: "/usr/lib/postgresql/15/bin/initdb", package: "postgresql", tiers: ["e2e"] },
  { command: "pg_dump", package: "postgresql-client", tiers: ["e2e"] },
  { command: "pg_restore", package: "postgresql-client", tiers: ["e2e"] },
  { command: "psql", package: "postgresql-client", tiers: ["e2e"] },
  // Plays a busy Open WebUI writing to webui.db during an online backup.
  { command: "python3", package: "python3", tiers: ["e2e"] },
];

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `command` is found: itself when absolute, else the first PATH entry that holds it. */
export function locate(command: string, searchPath: string, isExecutable: (file: string) => boolean = isExecutableFile): string | undefined {
  if (path.isAbsolute(command)) return isExecutable(command) ? command : undefined;
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir !== "" && isExecutable(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/** The tools the given tiers need that cannot be found. */
export function missingTools(tiers: readonly Tier[], searchPath: string = process.env.PATH ?? "", isExecutable?: (file: string) => boolean): HostTool[] {
  return HOST_TOOLS.filter((t) => t.tiers.some((x) => tiers.includes(x)) && locate(t.command, searchPath, isExecutable) === undefined);
}

/** One message naming every missing tool and the install line; undefined when nothing is missing. */
export function preflightMessage(tiers: readonly Tier[], missing: readonly HostTool[]): string | undefined {
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map((t) => t.package))];
  return [
    `The ${tiers.join(" and ")} tests need host tools this machine lacks:`,
    ...missing.map((t) => `  ${t.command} (Debian package ${t.package})`),
    "Install them (Debian 12 or Ubuntu, as root), then run the tests again:",
    `  apt-get install -y ${packages.join(" ")}`,
    "`npm run test:unit` needs none of them.",
  ].join("\n");
}

if (require.main === module) {
  const tiers = process.argv.slice(2) as Tier[];
  const unknown = tiers.filter((t) => !TIERS.includes(t));
  if (tiers.length === 0 || unknown.length > 0) {
    process.stderr.write(`usage: preflight.ts <tier>... (tiers: ${TIERS.join(", ")})\n`);
    process.exitCode = 2;
  } else {
    const message = preflightMessage(tiers, missingTools(tiers));
    if (message !== undefined) {
      process.stderr.write(`${message}\n`);
      process.exitCode = 1;
    }
  }
}
