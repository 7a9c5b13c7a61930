/**
 * Everything one host gets, composed in one place: the backup command and its env file,
 * the schedule (systemd units or a cron file), the logrotate rule, the uninstaller, and the
 * installer that puts all of them in place. Pure: resolved values in, files out.
 */
import { renderBackupFiles } from "./backup";
import { renderCronFiles, renderLogrotate } from "./cron";
import { renderInstaller, renderUninstaller, sha256 } from "./installer";
import { renderSystemdFiles } from "./systemd";
import { HostFile, HostRenderInput } from "./types";

export interface HostFiles {
  /** The files the installer writes, in manifest order. */
  readonly files: readonly HostFile[];
  /** The installer script with every file embedded; holds the env file, so it is a secret. */
  readonly installer: string;
  /** sha256 over every file's path, mode and content: changes exactly when the host must change. */
  readonly contentHash: string;
}

/** The files for one host's schedule, by scheduler. */
export function renderScheduleFiles(input: HostRenderInput): HostFile[] {
  const scheduler = input.host.scheduler;
  switch (scheduler) {
    case "systemd":
      return renderSystemdFiles(input);
    case "cron":
      return renderCronFiles(input);
    default: {
      const unknown: never = scheduler;
      throw new Error(`unknown scheduler ${JSON.stringify(unknown)}`);
    }
  }
}

export function renderHostFiles(input: HostRenderInput): HostFiles {
  // A host without jobs gets only the uninstaller: installing it removes what an earlier config put there.
  const files: HostFile[] =
    input.host.jobs.length === 0
      ? [renderUninstaller(input)]
      : [...renderBackupFiles(input), ...renderScheduleFiles(input), renderLogrotate(input), renderUninstaller(input)];
  const contentHash = sha256(files.map((f) => `${f.path}\0${f.mode.toString(8)}\0${sha256(f.content)}`).join("\n"));
  return { files, installer: renderInstaller(input, files), contentHash };
}
