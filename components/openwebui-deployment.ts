/**
 * The whole program for one stack: which components exist and how their outputs feed each
 * other. `index.ts` calls it with the validated config; tests call it under mocks.
 *
 *   hosts[].provision.aws ──► Ec2Host ──address──► OpenWebUIStack (Docker provider)
 *                                   └────address──► BackupJobs (SSH connection)
 *   targets.*.managed ──► S3/B2 buckets + per-host keys ──► BackupJobs (env file, secret)
 *   BackupJobs ──► PreUpgradeBackup (triggers: the image) ──► the Open WebUI container
 *   hosts[].snapshots.aws ──► HostSnapshotPolicy (DLM)
 */
import * as pulumi from "@pulumi/pulumi";
import { HostConfig, StackConfig } from "../config/schema";
import { BackupJobs, BackupJobsConnection, connectionOf, deployBackupJobs } from "./backup-jobs";
import { deployHostProtection, hostProtectionOutputs } from "./host-snapshots";
import { deployBackupTargets } from "./managed-targets";
import { deployPreUpgradeBackups } from "./pre-upgrade-backup";
import { ProvisionedHost, deployOpenWebUIStacks, openwebuiStackOutputs } from "./openwebui-stack";

export interface OpenWebUIDeployment {
  /** Per host: URL, data location and container names of the Open WebUI stack. */
  readonly openwebui: ReturnType<typeof openwebuiStackOutputs>;
  /** Per host: the stack's WEBUI_SECRET_KEY, a secret. */
  readonly openwebuiSecretKeys: Record<string, pulumi.Output<string>>;
  /** Per host: instance and snapshot policy ids. */
  readonly hostProtection: ReturnType<typeof hostProtectionOutputs>;
  /** Per managed target: the bucket name. */
  readonly backupBuckets: Record<string, pulumi.Output<string>>;
  readonly backupJobs: Record<string, BackupJobs>;
}

/** SSH to a provisioned host: its address once booted, the configured user/key, or the image's login user. */
function provisionedConnection(host: HostConfig, address: pulumi.Output<string>, loginUser: string): pulumi.Output<BackupJobsConnection> {
  const base = host.connection ? connectionOf(host.connection) : { user: loginUser, port: 22 };
  return address.apply((a) => ({ ...base, host: a }));
}

export function deployOpenWebUI(cfg: StackConfig): OpenWebUIDeployment {
  const protection = deployHostProtection(cfg);
  const provisioned: Record<string, ProvisionedHost> = {};
  const connections: Record<string, pulumi.Output<BackupJobsConnection>> = {};
  for (const [name, ec2] of Object.entries(protection.hosts)) {
    const host = cfg.hosts.find((h) => h.name === name)!;
    provisioned[name] = { address: protection.addresses[name], user: ec2.loginUser, dependsOn: [ec2.instance] };
    connections[name] = provisionedConnection(host, protection.addresses[name], ec2.loginUser);
  }

  const targets = deployBackupTargets(cfg);
  const backupJobs = deployBackupJobs(cfg, (hostName) => targets.resolvedTargetsFor(hostName), { connections });
  // Backed up before the Open WebUI container is replaced: it waits for the backup.
  const preUpgrade = deployPreUpgradeBackups(cfg, backupJobs, { connections });
  const containerDependsOn = Object.fromEntries(Object.entries(preUpgrade).map(([host, p]) => [host, [p.command]]));
  const stacks = deployOpenWebUIStacks(cfg, { provisioned, containerDependsOn });

  return {
    openwebui: openwebuiStackOutputs(stacks),
    openwebuiSecretKeys: Object.fromEntries(Object.entries(stacks).map(([host, s]) => [host, pulumi.secret(s.secretKey)])),
    hostProtection: hostProtectionOutputs(protection),
    backupBuckets: Object.fromEntries(Object.entries(targets.buckets).map(([name, b]) => [name, b.bucketName])),
    backupJobs,
  };
}
