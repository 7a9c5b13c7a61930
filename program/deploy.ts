/**
 * The program: a parsed `StackConfig` in, the stack's resources out, host by host. For each
 * host it creates the EC2 instance (when the stack provisions it) and the snapshot policy,
 * works out once how the host is reached, and hands that to the Open WebUI stack and the
 * backup jobs on it. The managed targets' buckets come first: every host's jobs need their keys.
 *
 *   hosts[].provision.aws ──► Ec2Host ──┐
 *   hosts[].connection ─────────────────┴─► how the host is reached ─┬─► OpenWebUIStack (Docker over SSH)
 *                                                                     └─► BackupJobs (installer over SSH)
 *   hosts[].snapshots.aws ──► HostSnapshotPolicy (DLM)
 *   targets.*.managed ──► S3/B2 buckets + a key per host ──────────────► BackupJobs (env file, secret)
 *   hosts with restic jobs ──► a restic password per host (generated unless configured) ──► BackupJobs
 *                       └─ + a writer, reader (and files) key per cluster ─► OpenWebUICluster
 *   clusters[] ──► OpenWebUICluster (Kubernetes provider, operators, CloudNativePG, k8up, the chart)
 *
 * `index.ts` calls `deployStack` and exports `stackOutputs`. The `deploy…` functions at the end
 * run one of the per-host steps for every host, so the component tests can drive each alone.
 * Resource names are the same either way.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_OPENWEBUI_PORT, OpenWebUIServiceConfig } from "../config/openwebui-service";
import type { ClusterConfig, HostConfig, StackConfig } from "../config/schema";
import { ClusterKeyRole, KeyAccess, clusterKeyAccess, clusterKeyName } from "../scripts/render/kubernetes/keys";
import type { ResolvedObjectStorage, ResolvedTarget } from "../scripts/render/types";
import { B2BackupBucket } from "../components/b2-backup-bucket";
import { BackupJobs, BackupJobsConnection } from "../components/backup-jobs";
import { Ec2Host, SSH_PORT } from "../components/ec2-host";
import { HostSnapshotPolicy, snapshotTargetTags } from "../components/host-snapshots";
import { fileStoresOnTarget, hostLocationsOnTarget, resolvedObjectStorage, resolvedTarget } from "../components/managed-targets";
import { ClusterS3Key, OpenWebUICluster } from "../components/openwebui-cluster";
import { OpenWebUIStack } from "../components/openwebui-stack";
import { PreUpgradeBackup } from "../components/pre-upgrade-backup";
import { preUpgradeJob } from "../config/pre-upgrade";
import { deployResticPasswords } from "../components/restic-passwords";
import { resticPasswordSource, sharedSecretWarnings } from "../config/restic-passwords";
import { S3BackupBucket } from "../components/s3-backup-bucket";
import { SshEndpoint, configuredEndpoint } from "../components/ssh-endpoint";

// ---------------------------------------------------------------- how a host is reached

/** A host the stack creates: its address once booted, and how its image lets SSH in. */
export interface ProvisionedHost {
  readonly address: pulumi.Input<string>;
  /** Login user when config has no `connection` (Ec2Host: `loginUser`). */
  readonly user: string;
  /** SSH port when config has no `connection`; default the image's, `SSH_PORT`. */
  readonly port?: number;
  /** What must exist before anything connects (the instance). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** How the components reach one host: over SSH, or (no `ssh`) this machine's own Docker and shell. */
export interface HostAccess {
  readonly ssh?: SshEndpoint;
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * How a host is reached, worked out once for every component on it. A host the stack creates:
 * at its address, as the configured user and port (else the image's login user and port).
 * Any other host: as `connection` says. Neither: this machine.
 */
export function hostAccess(host: HostConfig, provisioned?: ProvisionedHost): HostAccess {
  const configured = host.connection ? configuredEndpoint(host.connection) : undefined;
  if (!provisioned) return { ssh: configured };
  const login = configured ?? { user: provisioned.user, port: provisioned.port ?? SSH_PORT };
  return { ssh: { ...login, host: provisioned.address }, dependsOn: provisioned.dependsOn };
}

// ---------------------------------------------------------------- one host, step by step

/** The machine: the EC2 instance the stack creates for the host, and its snapshot policy. */
function deployMachine(host: HostConfig, stack: string, parent?: pulumi.Resource): { ec2?: Ec2Host; snapshotPolicy?: HostSnapshotPolicy } {
  const provision = host.provision?.aws;
  const snapshots = host.snapshots?.aws;
  const stackTags = snapshotTargetTags(stack, host.name);
  const ec2 = provision
    ? new Ec2Host(
        `host-${host.name}`,
        {
          hostName: host.name,
          stack,
          provision,
          // A host without a stack block may still run Open WebUI itself, on the usual port.
          webPort: host.openwebui?.port ?? DEFAULT_OPENWEBUI_PORT,
          snapshotTags: snapshots ? stackTags : undefined,
          // With a configured login, the address is handed out only once the first boot is done.
          ready: host.connection ? configuredEndpoint(host.connection) : undefined,
        },
        { parent },
      )
    : undefined;
  // Tagged by the stack when it created the instance or was given its id; else the user's own tags.
  const byStack = Boolean(provision) || snapshots?.instanceId !== undefined;
  const snapshotPolicy = snapshots
    ? new HostSnapshotPolicy(
        `snapshots-${host.name}`,
        {
          hostName: host.name,
          stack,
          snapshots,
          targetTags: byStack ? stackTags : (snapshots.tags ?? {}),
          tagInstanceId: provision ? undefined : snapshots.instanceId,
          region: provision?.region,
        },
        { parent },
      )
    : undefined;
  return { ec2, snapshotPolicy };
}

function provisionedHost(ec2: Ec2Host): ProvisionedHost {
  return { address: ec2.readyAddress, user: ec2.loginUser, dependsOn: [ec2.instance] };
}

function deployOpenWebUIOn(
  host: HostConfig,
  service: OpenWebUIServiceConfig,
  access: HostAccess,
  opts: { sshKeyDir?: string; parent?: pulumi.Resource; objectStorage?: pulumi.Input<ResolvedObjectStorage>; containerDependsOn?: pulumi.Input<pulumi.Resource>[] } = {},
): OpenWebUIStack {
  return new OpenWebUIStack(
    `openwebui-${host.name}`,
    { hostName: host.name, service, connection: access.ssh, sshKeyDir: opts.sshKeyDir, objectStorage: opts.objectStorage, containerDependsOn: opts.containerDependsOn },
    { parent: opts.parent, dependsOn: access.dependsOn },
  );
}

/** A host's restic password as a secret: the generated one if given, else the configured one, else none. */
function resticPasswordOf(cfg: StackConfig, hostName: string, generated?: Record<string, pulumi.Input<string>>): pulumi.Output<string> | undefined {
  if (generated?.[hostName] !== undefined) return pulumi.secret(generated[hostName]);
  const source = resticPasswordSource(cfg, hostName);
  return source.kind === "generated" ? undefined : pulumi.secret(source.value);
}

/** What the backups of a host need beyond its targets: where its Open WebUI keeps things outside the data volume. */
export interface HostSources {
  readonly objectStorage?: pulumi.Input<ResolvedObjectStorage>;
  readonly databasePassword?: pulumi.Input<string>;
}

function deployBackupJobsOn(
  host: HostConfig,
  cfg: StackConfig,
  targets: pulumi.Input<Record<string, pulumi.Input<ResolvedTarget>>>,
  connection: pulumi.Input<BackupJobsConnection> | undefined,
  resticPassword: pulumi.Input<string> | undefined,
  opts: pulumi.ComponentResourceOptions,
  sources: HostSources = {},
): BackupJobs {
  return new BackupJobs(
    `backup-jobs-${host.name}`,
    { host, targets, notify: cfg.notify, resticPassword, connection, objectStorage: sources.objectStorage, databasePassword: sources.databasePassword },
    opts,
  );
}

// ---------------------------------------------------------------- managed targets

export interface BackupTargets {
  /** The managed buckets by target name. */
  readonly buckets: Readonly<Record<string, S3BackupBucket | B2BackupBucket>>;
  /**
   * The targets host `hostName`'s jobs name, resolved; a secret, since it holds credentials.
   * Throws for a host the config does not have.
   */
  resolvedTargetsFor(hostName: string): pulumi.Output<Record<string, ResolvedTarget>>;
  /** Where host `hostName`'s Open WebUI keeps its files in S3, with its key (a secret); undefined when they stay in the data volume. */
  objectStorageFor(hostName: string): pulumi.Output<ResolvedObjectStorage> | undefined;
}

/** The keys the clusters backing up to managed target `targetName` get on its bucket, by key name. */
export function clusterKeysOnTarget(cfg: StackConfig, targetName: string): Record<string, KeyAccess> {
  const t = cfg.targets[targetName];
  if (t?.type !== "s3" || !t.managed) return {};
  const keys: Record<string, KeyAccess> = {};
  for (const cluster of cfg.clusters.filter((c) => c.backup.target === targetName)) {
    for (const [role, access] of Object.entries(clusterKeyAccess(cluster, { prefix: t.prefix, managed: true }))) keys[clusterKeyName(cluster.name, role as ClusterKeyRole)] = access;
  }
  return keys;
}

/** Creates the managed targets' buckets and keys (named after the target, children of `opts.parent` if given). */
export function deployBackupTargets(cfg: StackConfig, opts?: pulumi.ComponentResourceOptions): BackupTargets {
  const buckets: Record<string, S3BackupBucket | B2BackupBucket> = {};
  for (const [tname, t] of Object.entries(cfg.targets)) {
    if (t.type === "s3" && t.managed) {
      const m = t.managed;
      buckets[tname] = new S3BackupBucket(
        tname,
        {
          bucket: t.bucket,
          region: t.region,
          lifecycle: m.lifecycle,
          objectLock: m.objectLock,
          kmsKeyArn: m.kmsKeyArn,
          hosts: hostLocationsOnTarget(cfg, tname),
          fileStores: fileStoresOnTarget(cfg, tname),
          keys: clusterKeysOnTarget(cfg, tname),
        },
        opts,
      );
    } else if (t.type === "b2" && t.managed) {
      const m = t.managed;
      buckets[tname] = new B2BackupBucket(tname, { bucketName: t.bucket, lifecycle: m.lifecycle, fileLock: m.fileLock, hosts: hostLocationsOnTarget(cfg, tname) }, opts);
    }
  }
  return {
    buckets,
    resolvedTargetsFor(hostName: string) {
      const host = cfg.hosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`resolvedTargetsFor: no host "${hostName}" in the config; hosts: ${cfg.hosts.map((h) => h.name).join(", ")}`);
      const names = [...new Set(host.jobs.flatMap((j) => j.targets))];
      const resolved = Object.fromEntries(names.map((tname) => [tname, resolvedTarget(cfg.targets[tname], buckets[tname], hostName)]));
      return pulumi.secret(pulumi.all(resolved));
    },
    objectStorageFor(hostName: string) {
      const host = cfg.hosts.find((h) => h.name === hostName);
      if (!host) throw new Error(`objectStorageFor: no host "${hostName}" in the config`);
      const target = host.openwebui?.storage?.s3.target;
      return resolvedObjectStorage(cfg, host, target === undefined ? undefined : buckets[target]);
    },
  };
}

// ---------------------------------------------------------------- Kubernetes clusters

/** One cluster on its backup target: a managed bucket's name, region and the cluster's own keys, or the target as configured. */
function deployCluster(cfg: StackConfig, cluster: ClusterConfig, targets: BackupTargets, opts?: pulumi.ComponentResourceOptions): OpenWebUICluster {
  const t = cfg.targets[cluster.backup.target];
  if (t?.type !== "s3") throw new Error(`cluster ${cluster.name}: backup.target "${cluster.backup.target}" is not an s3 target (parseStackConfig refuses this)`);
  const bucket = targets.buckets[cluster.backup.target];
  const resticPassword = cfg.resticPassword === undefined ? undefined : pulumi.secret(cfg.resticPassword);
  if (bucket instanceof S3BackupBucket) {
    const key = (role: ClusterKeyRole): ClusterS3Key | undefined => bucket.keyCredentials[clusterKeyName(cluster.name, role)];
    return new OpenWebUICluster(
      `cluster-${cluster.name}`,
      {
        cluster,
        target: { name: cluster.backup.target, managed: true, bucket: bucket.bucketName, region: t.region ?? bucket.region, prefix: t.prefix },
        keys: { writer: key("writer")!, reader: key("reader")!, files: key("files") },
        resticPassword,
      },
      opts,
    );
  }
  // Unmanaged: the one configured key serves every role (config/rules/clusters.ts refuses pruning with it).
  const configured: ClusterS3Key = { accessKeyId: pulumi.secret(t.accessKeyId!), secretAccessKey: pulumi.secret(t.secretAccessKey!) };
  return new OpenWebUICluster(
    `cluster-${cluster.name}`,
    {
      cluster,
      target: { name: cluster.backup.target, managed: false, bucket: t.bucket!, region: t.region, endpoint: t.endpoint, prefix: t.prefix },
      keys: { writer: configured, reader: configured, files: cluster.files.provider === "s3" ? configured : undefined },
      resticPassword,
    },
    opts,
  );
}

/** An `OpenWebUICluster` per `clusters[]` entry, by cluster name; `targets` holds the managed buckets. */
export function deployClusters(cfg: StackConfig, targets: BackupTargets, opts?: pulumi.ComponentResourceOptions): Record<string, OpenWebUICluster> {
  return Object.fromEntries(cfg.clusters.map((c) => [c.name, deployCluster(cfg, c, targets, opts)]));
}

/** Per cluster: its namespace and the Open WebUI URL when it has an Ingress; nothing secret. */
export function clusterOutputs(clusters: Record<string, OpenWebUICluster>) {
  return Object.fromEntries(
    Object.entries(clusters).map(([name, c]) => {
      const ow = c.plan.steps.find((s) => s.id === "openwebui");
      const ingress = ow?.type === "chart" ? (ow.values.ingress as { enabled: boolean; host?: string; tls?: boolean }) : undefined;
      const url = ingress?.enabled && ingress.host ? `${ingress.tls ? "https" : "http"}://${ingress.host}` : null;
      return [name, { namespace: c.namespace, url, upgradeHash: c.plan.upgradeHash }];
    }),
  );
}

// ---------------------------------------------------------------- the stack

/** What one host got; absent members are what its config does not ask for. */
export interface HostResources {
  readonly ec2?: Ec2Host;
  readonly snapshotPolicy?: HostSnapshotPolicy;
  readonly openwebui?: OpenWebUIStack;
  readonly backupJobs?: BackupJobs;
  /** The backup `pulumi up` takes before it replaces the Open WebUI container (a new image). */
  readonly preUpgradeBackup?: PreUpgradeBackup;
}

/** A resource this program creates later, to depend on now. */
function deferredResource(): { resource: Promise<pulumi.Resource>; resolve: (r: pulumi.Resource) => void } {
  let resolve: (r: pulumi.Resource) => void = () => undefined;
  const resource = new Promise<pulumi.Resource>((r) => (resolve = r));
  return { resource, resolve };
}

export interface StackDeployment {
  /** By host name, every host of the config. */
  readonly hosts: Readonly<Record<string, HostResources>>;
  readonly targets: BackupTargets;
  /** Per host with restic jobs: its restic password, a secret (for disaster recovery). */
  readonly resticPasswords: Readonly<Record<string, pulumi.Output<string>>>;
  /** By cluster name, every Kubernetes cluster of the config. */
  readonly clusters: Readonly<Record<string, OpenWebUICluster>>;
}

export function deployStack(cfg: StackConfig, opts: { readonly stack?: string } = {}): StackDeployment {
  const stack = opts.stack ?? pulumi.getStack();
  const targets = deployBackupTargets(cfg);
  // A restic password per host, and a warning for every secret that hosts still share.
  for (const warning of sharedSecretWarnings(cfg)) pulumi.log.warn(warning);
  const generated = deployResticPasswords(cfg);
  const hosts: Record<string, HostResources> = {};
  const resticPasswords: Record<string, pulumi.Output<string>> = {};
  for (const host of cfg.hosts) {
    const resticPassword = resticPasswordOf(cfg, host.name, generated);
    if (resticPassword && host.jobs.some((j) => j.method === "restic")) resticPasswords[host.name] = resticPassword;
    const { ec2, snapshotPolicy } = deployMachine(host, stack);
    const access = hostAccess(host, ec2 && provisionedHost(ec2));
    const objectStorage = targets.objectStorageFor(host.name);
    // The Open WebUI container waits for its pre-upgrade backup, which waits for the backup
    // command's installation, which needs the stack's database password: the container gets a
    // dependency resolved once the backup resource exists below.
    const preUpgrade = host.openwebui ? preUpgradeJob(host) : undefined;
    const backupMade = preUpgrade ? deferredResource() : undefined;
    const openwebui = host.openwebui ? deployOpenWebUIOn(host, host.openwebui, access, { objectStorage, containerDependsOn: backupMade && [backupMade.resource] }) : undefined;
    const sources = { objectStorage, databasePassword: openwebui?.databasePassword };
    const backupJobs = host.jobs.length > 0 ? deployBackupJobsOn(host, cfg, targets.resolvedTargetsFor(host.name), access.ssh, resticPassword, { dependsOn: access.dependsOn }, sources) : undefined;
    let preUpgradeBackup: PreUpgradeBackup | undefined;
    if (host.openwebui && preUpgrade && backupJobs && backupMade) {
      preUpgradeBackup = new PreUpgradeBackup(
        `pre-upgrade-${host.name}`,
        { host, job: preUpgrade.name, image: host.openwebui.image, connection: access.ssh, installed: backupJobs.install },
        { dependsOn: access.dependsOn },
      );
      backupMade.resolve(preUpgradeBackup.command);
    }
    hosts[host.name] = { ec2, snapshotPolicy, openwebui, backupJobs, preUpgradeBackup };
  }
  return { hosts, targets, resticPasswords, clusters: deployClusters(cfg, targets) };
}

/** A host's instance and snapshot policy as plain outputs: ids and addresses, nothing secret. */
function hostProtectionOutput(ec2: Ec2Host | undefined, snapshotPolicy: HostSnapshotPolicy | undefined) {
  return {
    ...(ec2 ? { instanceId: ec2.instanceId, publicIp: ec2.publicIp, privateIp: ec2.privateIp, roleArn: ec2.role.arn } : {}),
    ...(snapshotPolicy ? { snapshotPolicyArn: snapshotPolicy.policyArn } : {}),
  };
}

/** Per host: URL, data location and container names of the stack, nothing secret. */
export function openwebuiStackOutputs(stacks: Record<string, OpenWebUIStack>) {
  return Object.fromEntries(
    Object.entries(stacks).map(([host, s]) => [host, { url: s.url, dataLocation: s.dataLocation, containerNames: s.containerNames }]),
  );
}

/** What `index.ts` exports, by host or target name. */
export function stackOutputs(d: StackDeployment) {
  const stacks: Record<string, OpenWebUIStack> = {};
  const hostProtection: Record<string, ReturnType<typeof hostProtectionOutput>> = {};
  const backupFiles: Record<string, pulumi.Output<string>> = {};
  for (const [name, h] of Object.entries(d.hosts)) {
    if (h.openwebui) stacks[name] = h.openwebui;
    if (h.ec2 || h.snapshotPolicy) hostProtection[name] = hostProtectionOutput(h.ec2, h.snapshotPolicy);
    if (h.backupJobs) backupFiles[name] = h.backupJobs.contentHash;
  }
  return {
    openwebui: openwebuiStackOutputs(stacks),
    openwebuiSecretKeys: Object.fromEntries(Object.entries(stacks).map(([name, s]) => [name, pulumi.secret(s.secretKey)])),
    openwebuiDatabasePasswords: Object.fromEntries(
      Object.entries(stacks).flatMap(([name, s]) => (s.databasePassword ? [[name, pulumi.secret(s.databasePassword)] as const] : [])),
    ),
    hostProtection,
    backupBuckets: Object.fromEntries(Object.entries(d.targets.buckets).map(([name, b]) => [name, b.bucketName])),
    backupFiles,
    resticPasswords: d.resticPasswords,
    clusters: clusterOutputs(d.clusters),
    openwebuiClusterSecretKeys: Object.fromEntries(Object.entries(d.clusters).map(([name, c]) => [name, pulumi.secret(c.secretKey)])),
  };
}

// ---------------------------------------------------------------- one step for every host

export interface HostProtection {
  /** EC2 hosts the stack created, by host name. */
  readonly hosts: Record<string, Ec2Host>;
  /** Snapshot policies, by host name. */
  readonly snapshots: Record<string, HostSnapshotPolicy>;
  /** Addresses of created hosts, by host name (resolved once the first boot is done). */
  readonly addresses: Record<string, pulumi.Output<string>>;
}

/** The machine step for every host: an `Ec2Host` per `provision.aws`, a `HostSnapshotPolicy` per `snapshots.aws`. */
export function deployHostProtection(cfg: StackConfig, opts: { readonly stack?: string; readonly parent?: pulumi.Resource } = {}): HostProtection {
  const stack = opts.stack ?? pulumi.getStack();
  const result: HostProtection = { hosts: {}, snapshots: {}, addresses: {} };
  for (const host of cfg.hosts) {
    const { ec2, snapshotPolicy } = deployMachine(host, stack, opts.parent);
    if (ec2) {
      result.hosts[host.name] = ec2;
      result.addresses[host.name] = ec2.readyAddress;
    }
    if (snapshotPolicy) result.snapshots[host.name] = snapshotPolicy;
  }
  return result;
}

/** Plain outputs (no secrets) of `deployHostProtection`, by host name. */
export function hostProtectionOutputs(p: HostProtection) {
  const names = new Set([...Object.keys(p.hosts), ...Object.keys(p.snapshots)]);
  return Object.fromEntries([...names].map((n) => [n, hostProtectionOutput(p.hosts[n], p.snapshots[n])]));
}

export interface DeployOpenWebUIOptions {
  /** Hosts provisioned by this stack, by host name: their address replaces `connection.host`. */
  readonly provisioned?: Readonly<Record<string, ProvisionedHost>>;
  readonly sshKeyDir?: string;
  readonly parent?: pulumi.Resource;
  /**
   * Where a host's Open WebUI keeps its files in S3 (`BackupTargets.objectStorageFor`); needed for
   * a managed storage target. Default: unmanaged targets as configured.
   */
  readonly objectStorageFor?: (hostName: string) => pulumi.Output<ResolvedObjectStorage> | undefined;
}

/** The stack step for every host with an `openwebui` block, by host name. */
export function deployOpenWebUIStacks(cfg: StackConfig, opts: DeployOpenWebUIOptions = {}): Record<string, OpenWebUIStack> {
  const stacks: Record<string, OpenWebUIStack> = {};
  for (const host of cfg.hosts) {
    if (!host.openwebui) continue;
    const objectStorage = opts.objectStorageFor ? opts.objectStorageFor(host.name) : resolvedObjectStorage(cfg, host);
    stacks[host.name] = deployOpenWebUIOn(host, host.openwebui, hostAccess(host, opts.provisioned?.[host.name]), { ...opts, objectStorage });
  }
  return stacks;
}

export interface DeployBackupJobsOptions extends pulumi.ComponentResourceOptions {
  /** Connections that override `hosts[].connection`, by host name. */
  readonly connections?: Record<string, pulumi.Input<BackupJobsConnection>>;
  /** Restic passwords by host name (components/restic-passwords.ts); absent for a host: the configured one, if any. */
  readonly resticPasswords?: Record<string, pulumi.Input<string>>;
  /** Where each host's Open WebUI keeps what lives outside its data volume, by host name. */
  readonly sources?: Record<string, HostSources>;
}

/**
 * The backup step for every host with jobs. `targetsFor(host)` gives the targets that host's
 * jobs name, resolved (managed ones as Outputs of their buckets, with that host's own key).
 */
export function deployBackupJobs(
  cfg: StackConfig,
  targetsFor: (hostName: string) => pulumi.Input<Record<string, pulumi.Input<ResolvedTarget>>>,
  opts: DeployBackupJobsOptions = {},
): Record<string, BackupJobs> {
  const { connections, resticPasswords, sources, ...resourceOpts } = opts;
  const result: Record<string, BackupJobs> = {};
  for (const host of cfg.hosts) {
    if (host.jobs.length === 0) continue;
    result[host.name] = deployBackupJobsOn(host, cfg, targetsFor(host.name), connections?.[host.name], resticPasswordOf(cfg, host.name, resticPasswords), resourceOpts, sources?.[host.name]);
  }
  return result;
}
