/**
 * The per-host installer and uninstaller. The installer is one self-contained bash script:
 * a manifest of every file (path, mode, sha256), the files themselves (base64, checked
 * against the manifest before they are renamed into place), and the static body in
 * scripts/host/install.bash. It carries the env file, so it is a secret: the component
 * pipes it to bash on the host and it is never written there as a whole.
 *
 * The uninstaller is installed on the host (it has no payload) so that deleting the stack
 * can run it without shipping anything.
 */
import { createHash } from "crypto";
import * as path from "path";
import { hostAsset } from "./assets";
import { pruneScheduleOf } from "../../config/schema";
import { DRILL_UNIT_BASE, SYSTEMD_UNIT_DIR, TMPFILES_PATH, generatedHeader, jobPruneTimerName, jobTimerName } from "./naming";
import { restoreDrillArgs } from "./restore-drill";
import { shellQuote } from "./shell";
import { HostFile, HostRenderInput } from "./types";

/** What the last install wrote ("mode sha256 path" per line); the next install removes what is no longer in it. */
export const INSTALLED_LIST = "/var/lib/openwebui-backup/installed.list";

const COMMON_BODY = hostAsset("install-common.bash");
const INSTALL_BODY = hostAsset("install.bash");
const UNINSTALL_BODY = hostAsset("uninstall.bash");

export const sha256 = (content: string) => createHash("sha256").update(content, "utf8").digest("hex");
const octal = (mode: number) => mode.toString(8);

/** Where the uninstaller goes: next to the backup command. */
export function uninstallerPath(input: { readonly host: { readonly paths: { readonly command: string } } }): string {
  return path.posix.join(path.posix.dirname(input.host.paths.command), "openwebui-backup-uninstall");
}

/**
 * Commands the host needs beyond the fixed list in install.bash: PostgreSQL's client tools
 * when the command dumps a server over a URL (in a container, the server's own tools run).
 */
export function extraPackageCommands(input: HostRenderInput): string[] {
  const pg = input.host.database?.postgres;
  return input.host.jobs.length > 0 && pg && "url" in pg ? ["pg_dump", "pg_restore", "psql"] : [];
}

/** The timers the installer enables (systemd scheduler only). */
export function timerUnits(input: HostRenderInput): string[] {
  if (input.host.scheduler !== "systemd" || input.host.jobs.length === 0) return [];
  return [
    ...input.host.jobs.map((j) => jobTimerName(j.name)),
    ...input.host.jobs.filter((j) => pruneScheduleOf(j) !== undefined).map((j) => jobPruneTimerName(j.name)),
    ...(restoreDrillArgs(input) ? [`${DRILL_UNIT_BASE}.timer`] : []),
  ];
}

function bashArray(name: string, values: string[]): string {
  return values.length === 0 ? `${name}=()` : `${name}=(\n${values.map((v) => `  ${shellQuote(v)}`).join("\n")}\n)`;
}

function prelude(input: HostRenderInput, what: string, files: readonly HostFile[], action: string): string {
  const { paths } = input.host;
  const dirs: [string, number][] = [
    ["/var/lib/openwebui-backup", 0o700],
    [paths.stagingDir, 0o700],
    [paths.stateDir, 0o700],
    [paths.logDir, 0o700],
    [paths.lockDir, 0o700],
  ];
  const hasTmpfiles = files.some((f) => f.path === TMPFILES_PATH);
  return [
    "#!/usr/bin/env bash",
    `# ${what}`,
    `# ${generatedHeader(input)}`,
    "# Environment: OPENWEBUI_ROOT (default /) installs under another root; OPENWEBUI_SKIP_PACKAGES=1",
    "# skips package installation; OPENWEBUI_SYSTEMCTL names a command to call instead of systemctl.",
    "set -Eeuo pipefail",
    "umask 077",
    "",
    `readonly ACTION=${shellQuote(action)}`,
    `readonly INSTALLED_LIST=${shellQuote(INSTALLED_LIST)}`,
    `readonly SYSTEMD_UNIT_DIR=${shellQuote(SYSTEMD_UNIT_DIR)}`,
    "# shellcheck disable=SC2034 # the uninstaller does not start anything",
    `readonly TMPFILES_PATH=${shellQuote(hasTmpfiles ? TMPFILES_PATH : "")}`,
    "# shellcheck disable=SC2034 # the arrays below are used only by the installer",
    bashArray("DIR_PATHS", dirs.map(([p]) => p)),
    "# shellcheck disable=SC2034",
    bashArray("DIR_MODES", dirs.map(([, m]) => octal(m))),
    "# shellcheck disable=SC2034",
    bashArray("TIMERS", timerUnits(input)),
    "# shellcheck disable=SC2034",
    bashArray("EXTRA_COMMANDS", extraPackageCommands(input)),
    "# The manifest: every file this host gets, its mode and its sha256.",
    "# shellcheck disable=SC2034",
    bashArray("FILE_PATHS", files.map((f) => f.path)),
    "# shellcheck disable=SC2034",
    bashArray("FILE_MODES", files.map((f) => octal(f.mode))),
    "# shellcheck disable=SC2034",
    bashArray("FILE_SHA256", files.map((f) => sha256(f.content))),
    "",
  ].join("\n");
}

/** The uninstaller, installed on the host beside the command. */
export function renderUninstaller(input: HostRenderInput): HostFile {
  return {
    path: uninstallerPath(input),
    mode: 0o755,
    content: [prelude(input, "openwebui-backup-uninstall: stops the backup timers and removes every installed file.", [], "uninstall"), COMMON_BODY, UNINSTALL_BODY].join("\n"),
  };
}

/** The installer for `files` (which should include the uninstaller), payload included. */
export function renderInstaller(input: HostRenderInput, files: readonly HostFile[]): string {
  const paths = new Set<string>();
  for (const f of files) {
    if (paths.has(f.path)) throw new Error(`host ${input.host.name}: two rendered files share the path ${f.path}`);
    paths.add(f.path);
    if (!f.path.startsWith("/") || f.path.split("/").includes("..") || /[\n\r]/.test(f.path)) throw new Error(`not an absolute host path: ${JSON.stringify(f.path)}`);
  }
  const payload = [
    "# file_content <index>: the content of manifest entry <index>, checked by the caller.",
    "file_content() {",
    '  case "$1" in',
    ...files.flatMap((f, i) => [
      `    ${i}) # ${f.path.replace(/[^\x20-\x7e]/g, "?")}`,
      "      base64 -d <<'OPENWEBUI_PAYLOAD'",
      ...(Buffer.from(f.content, "utf8").toString("base64").match(/.{1,76}/g) ?? []),
      "OPENWEBUI_PAYLOAD",
      "      ;;",
    ]),
    '    *) die "no manifest entry $1" ;;',
    "  esac",
    "}",
    "",
  ].join("\n");
  return [prelude(input, "openwebui-backup installer: writes the files below, removes stale ones, starts the timers.", files, "install"), payload, COMMON_BODY, INSTALL_BODY].join("\n");
}
