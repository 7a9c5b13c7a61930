/**
 * PreUpgradeBackup: inside `pulumi up`, one backup of a host's Open WebUI data before the
 * Open WebUI container is replaced by another image. Open WebUI migrates its database when it
 * starts and never back, so the way back from a bad upgrade is a backup from before it
 * (`openwebui-backup rollback`).
 *
 * One command resource per host (remote over the host's SSH connection, local for a host
 * without one) runs `openwebui-backup pre-upgrade <job> --to-image <image>` as root:
 *  - its `triggers` are the Open WebUI image reference, so it runs again exactly when the image
 *    changes (and `pulumi preview` shows it being replaced);
 *  - it depends on the backup installation (the command must be there first);
 *  - the Open WebUI container depends on it (`containerDependsOn` of the stack): the old
 *    container still runs, untouched, while the backup is taken, and a failed backup fails the
 *    deploy before anything is replaced.
 * On a first deploy there is no data yet: the host command says so and succeeds.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { HostConfig } from "../config/schema";
import { shellQuote } from "../scripts/render/shell";
import { BackupJobsConnection, asRoot, underRoot } from "./backup-jobs";
import { configuredEndpoint } from "./ssh-endpoint";

/** The shell command the resource runs on the host (POSIX sh, as the login shell runs it). */
export function preUpgradeCommand(commandPath: string, job: string, image: string): string {
  return asRoot(`${shellQuote(commandPath)} pre-upgrade ${shellQuote(job)} --to-image ${shellQuote(image)}`);
}

export interface PreUpgradeBackupArgs {
  /** The host's parsed config (paths, connection). */
  readonly host: HostConfig;
  /** The job backed up (hosts[].openwebui.preUpgradeBackup, resolved). */
  readonly job: string;
  /** The Open WebUI image the deploy is about to run. */
  readonly image: string;
  /** SSH connection; default `host.connection`; neither: a local command. */
  readonly connection?: pulumi.Input<BackupJobsConnection>;
  /** What installs `openwebui-backup` on the host; the backup waits for it. */
  readonly installed: pulumi.Resource;
  /** Under this directory instead of `/` (tests), as `BackupJobs`' root. */
  readonly root?: string;
}

export class PreUpgradeBackup extends pulumi.ComponentResource {
  /** Runs the backup; the Open WebUI container depends on it. */
  readonly command: command.remote.Command | command.local.Command;

  constructor(name: string, args: PreUpgradeBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:host:PreUpgradeBackup", name, {}, opts);
    const create = preUpgradeCommand(underRoot(args.root ?? "/", args.host.paths.command), args.job, args.image);
    const triggers = [args.image];
    const connection = args.connection ?? (args.host.connection ? configuredEndpoint(args.host.connection) : undefined);
    const childOpts = { parent: this, dependsOn: [args.installed] };
    this.command = connection
      ? new command.remote.Command(`${name}-run`, { connection, create, triggers }, childOpts)
      : new command.local.Command(`${name}-run`, { create, triggers, interpreter: ["/bin/sh", "-c"] }, childOpts);
    this.registerOutputs({});
  }
}
