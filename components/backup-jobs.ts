/**
 * BackupJobs: for one host, renders every backup file (command, env file, schedule,
 * uninstaller), ships them in one self-contained installer over SSH (or runs it locally
 * when the host is this machine), re-runs it whenever any rendered file changes, and
 * runs the uninstaller when the component is deleted.
 *
 * Two command resources, so that a replacement never uninstalls:
 *  - `<name>-install`: runs the installer, fed on stdin (a secret: it carries the env file).
 *    `triggers` is the content hash of all files, so a changed file replaces it, i.e. runs
 *    the installer again. It has no delete command.
 *  - `<name>-uninstall`: does nothing on create; on delete it runs the uninstaller that the
 *    install left on the host. It never changes with the files, so it is deleted only when
 *    the host's backups are.
 *
 * The command strings are plain functions below, so tests execute them for real.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { HostConfig, NotifyConfig } from "../config/schema";
import { renderHostFiles } from "../scripts/render/host-files";
import { uninstallerPath } from "../scripts/render/installer";
import { shellQuote } from "../scripts/render/shell";
import { HostRenderInput, ResolvedObjectStorage, ResolvedTarget } from "../scripts/render/types";
import { configuredEndpoint } from "./ssh-endpoint";

// ---------------------------------------------------------------- command strings (pure)

/** Prefixes a host path with the install root (`/` means none). */
export function underRoot(root: string, hostPath: string): string {
  return root === "/" ? hostPath : `${root.replace(/\/+$/, "")}${hostPath}`;
}

/** `<command>` as root: directly when already root, else through `sudo -n` (never prompts). */
export function asRoot(args: string): string {
  return `if [ "$(id -u)" = 0 ]; then ${args}; else sudo -n ${args}; fi`;
}

/**
 * Runs the installer it reads on stdin. Saved to a private temporary file first, so that
 * nothing the installer runs (apt-get, for one) can swallow the rest of the script.
 * POSIX sh, as the remote login shell runs it.
 */
export function installCommand(root: string): string {
  return [
    "umask 077",
    'f=$(mktemp) || exit 1',
    'cat > "$f" || { rm -f "$f"; exit 1; }',
    asRoot(`env OPENWEBUI_ROOT=${shellQuote(root)} bash "$f"`),
    "rc=$?",
    'rm -f "$f"',
    'exit "$rc"',
  ].join("; ");
}

/** Runs the installed uninstaller; a host where it is gone already has nothing to remove. */
export function uninstallCommand(root: string, uninstaller: string): string {
  const p = shellQuote(underRoot(root, uninstaller));
  return `if [ -x ${p} ]; then ${asRoot(`env OPENWEBUI_ROOT=${shellQuote(root)} bash ${p}`)}; else echo 'openwebui-backup: nothing to uninstall (no '${p}')'; fi`;
}

// ---------------------------------------------------------------- component

export interface BackupJobsConnection {
  readonly host: pulumi.Input<string>;
  readonly user?: pulumi.Input<string>;
  readonly port?: pulumi.Input<number>;
  readonly privateKey?: pulumi.Input<string>;
}

export interface BackupJobsArgs {
  /** The host's parsed config: jobs, paths, scheduler. Plain: it decides which resources exist. */
  readonly host: HostConfig;
  /** Every target the host's jobs name, resolved; managed buckets and keys may be Outputs. */
  readonly targets: pulumi.Input<Record<string, pulumi.Input<ResolvedTarget>>>;
  readonly notify: pulumi.Input<NotifyConfig>;
  /** Required when a job uses restic. */
  readonly resticPassword?: pulumi.Input<string | undefined>;
  /** Required when the host's Open WebUI keeps its files in S3: the bucket and key (a secret). */
  readonly objectStorage?: pulumi.Input<ResolvedObjectStorage | undefined>;
  /** The password of the database container the stack runs (a secret), for PGPASSWORD. */
  readonly databasePassword?: pulumi.Input<string | undefined>;
  /** Written into every file's header; default the current stack. */
  readonly stack?: pulumi.Input<string>;
  /**
   * SSH connection; default `host.connection`. Neither: the host is the machine running
   * `pulumi up` and the commands run locally. The program passes the host's endpoint here.
   */
  readonly connection?: pulumi.Input<BackupJobsConnection>;
  /** Install under this directory instead of `/` (tests). */
  readonly root?: string;
}

export class BackupJobs extends pulumi.ComponentResource {
  /** sha256 of all rendered files (a secret: it is computed over credentials too). */
  public readonly contentHash: pulumi.Output<string>;
  /** The installer's report ("no changes", or what it changed). */
  public readonly installLog: pulumi.Output<string>;
  /** Runs the installer (stdin: the installer, a secret). */
  public readonly install: command.remote.Command | command.local.Command;
  /** Runs the uninstaller when deleted. */
  public readonly uninstall: command.remote.Command | command.local.Command;

  constructor(name: string, args: BackupJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:host:BackupJobs", name, {}, opts);
    const root = args.root ?? "/";
    if (!root.startsWith("/")) throw new pulumi.ResourceError(`BackupJobs ${name}: root must be an absolute path, not ${JSON.stringify(root)}`, this);

    const rendered = pulumi
      .all([args.stack ?? pulumi.getStack(), args.targets, args.notify, args.resticPassword, args.objectStorage, args.databasePassword])
      .apply(([stack, targets, notify, resticPassword, objectStorage, databasePassword]) => {
        const input: HostRenderInput = { stack, host: args.host, targets: targets as Record<string, ResolvedTarget>, notify, resticPassword, objectStorage, databasePassword };
        return renderHostFiles(input);
      });
    // The installer carries the env file; the hash is over the credentials too.
    const installer = pulumi.secret(rendered.apply((r) => r.installer));
    this.contentHash = pulumi.secret(rendered.apply((r) => r.contentHash));

    const connection = args.connection ?? (args.host.connection ? configuredEndpoint(args.host.connection) : undefined);
    const uninstall = uninstallCommand(root, uninstallerPath(args));
    const childOpts = { parent: this };

    if (connection) {
      this.install = new command.remote.Command(`${name}-install`, { connection, create: installCommand(root), stdin: installer, triggers: [this.contentHash] }, childOpts);
      this.uninstall = new command.remote.Command(`${name}-uninstall`, { connection, create: "true", delete: uninstall }, { ...childOpts, dependsOn: [this.install] });
    } else {
      this.install = new command.local.Command(`${name}-install`, { create: installCommand(root), stdin: installer, triggers: [this.contentHash], interpreter: ["/bin/sh", "-c"] }, childOpts);
      this.uninstall = new command.local.Command(`${name}-uninstall`, { create: "true", delete: uninstall, interpreter: ["/bin/sh", "-c"] }, { ...childOpts, dependsOn: [this.install] });
    }
    this.installLog = this.install.stderr;
    this.registerOutputs({ contentHash: this.contentHash, installLog: this.installLog });
  }
}
