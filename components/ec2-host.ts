/**
 * An EC2 Docker host the stack can create (`hosts[].provision.aws`): a current Debian 12
 * instance, a security group that lets SSH in only from the configured networks, a separate
 * encrypted gp3 volume for Docker's data (mounted at first boot by the rendered user data),
 * IMDSv2 only, and an instance role the S3 backup keys can use instead of static keys.
 *
 * The instance, its root volume and the data volume carry the tags the snapshot policy
 * targets. Planning (AMI filter, security group rules) is in the pure functions below.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import { AwsProvisionConfig } from "../config/host-aws";
import { DEFAULT_USER_DATA_PATHS, dataDiskCandidates, renderUserData } from "../scripts/render/user-data";

// ---------------------------------------------------------------- planning (pure)

/** Debian's official AMI account (https://wiki.debian.org/Cloud/AmazonEC2Image). */
export const DEBIAN_AMI_OWNER = "136693071363";
/** Where the data volume is attached; the user data also looks for it under its NVMe id. */
export const DATA_DEVICE_NAME = "/dev/sdf";
export const ROOT_VOLUME_GB = 16;
/** Where sshd listens on the image; the only port the security group opens besides the web port. */
export const SSH_PORT = 22;
/** Debian's AMI logs in as "admin"; the user data adds it to the docker group. */
export const DEBIAN_LOGIN_USER = "admin";

/** Graviton (arm64) families have a "g" right after the generation: t4g, m7g, c7gn, r8g; and a1. */
export function amiArchitecture(instanceType: string): "amd64" | "arm64" {
  const family = instanceType.split(".")[0];
  return /^[a-z]+\d+g/.test(family) || family === "a1" ? "arm64" : "amd64";
}

/** The `aws.ec2.getAmi` query for the newest Debian 12 image of the instance type's architecture. */
export function debianAmiQuery(instanceType: string, region?: string): aws.ec2.GetAmiArgs {
  const arch = amiArchitecture(instanceType);
  return {
    owners: [DEBIAN_AMI_OWNER],
    mostRecent: true,
    filters: [
      { name: "name", values: [`debian-12-${arch}-*`] },
      { name: "architecture", values: [arch === "arm64" ? "arm64" : "x86_64"] },
      { name: "virtualization-type", values: ["hvm"] },
      { name: "root-device-type", values: ["ebs"] },
    ],
    ...(region ? { region } : {}),
  };
}

export interface SecurityGroupRule {
  /** Suffix of the rule's resource name. */
  readonly key: string;
  readonly description: string;
  readonly port: number;
  readonly cidrIpv4?: string;
  readonly cidrIpv6?: string;
}

/**
 * Ingress rules: SSH from each allowed CIDR only; the web port from anywhere only when
 * `publishWeb` (otherwise it stays closed and is reached through an SSH tunnel).
 */
export function planIngressRules(provision: Pick<AwsProvisionConfig, "allowedCidrs" | "publishWeb">, webPort: number): SecurityGroupRule[] {
  const cidr = (c: string) => (c.includes(":") ? { cidrIpv6: c } : { cidrIpv4: c });
  const rules: SecurityGroupRule[] = provision.allowedCidrs.map((c, i) => ({
    key: `ssh-${i}`,
    description: `SSH from ${c}`,
    port: SSH_PORT,
    ...cidr(c),
  }));
  if (provision.publishWeb) {
    rules.push({ key: "web-ipv4", description: `Open WebUI (port ${webPort}) from anywhere`, port: webPort, cidrIpv4: "0.0.0.0/0" });
    rules.push({ key: "web-ipv6", description: `Open WebUI (port ${webPort}) from anywhere`, port: webPort, cidrIpv6: "::/0" });
  }
  return rules;
}

/** Trust policy letting EC2 instances assume the host's role. */
export function ec2TrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
  });
}

// ---------------------------------------------------------------- the component

export interface Ec2HostArgs {
  /** The host's name in config. */
  readonly hostName: string;
  /** Pulumi stack name, for the user data header and the Name tag. */
  readonly stack: string;
  /** The host's validated `provision.aws` block. */
  readonly provision: AwsProvisionConfig;
  /** Port Open WebUI is published on; opened to the internet only with `publishWeb`. */
  readonly webPort: number;
  /** Tags the snapshot policy targets, put on the instance, its root volume and the data volume. */
  readonly snapshotTags?: Readonly<Record<string, string>>;
  /** Tags on everything created here. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * How to SSH in to wait for the first boot (user data done, Docker installed). When given,
   * `readyAddress` resolves only after that, so the Docker provider and backup jobs that use
   * it do not connect to a half-installed host.
   */
  readonly ready?: { readonly user: string; readonly port?: number; readonly privateKey?: pulumi.Input<string> };
}

/** Waits for cloud-init to finish; fails when the user data failed. */
export const FIRST_BOOT_WAIT_COMMAND = "cloud-init status --wait >/dev/null";

export class Ec2Host extends pulumi.ComponentResource {
  readonly instance: aws.ec2.Instance;
  readonly dataVolume: aws.ebs.Volume;
  readonly securityGroup: aws.ec2.SecurityGroup;
  /** The instance role: attach policies here (e.g. the S3 backup keys issue's bucket access). */
  readonly role: aws.iam.Role;
  readonly instanceId: pulumi.Output<string>;
  /** Empty when the subnet gives no public address. */
  readonly publicIp: pulumi.Output<string>;
  readonly privateIp: pulumi.Output<string>;
  /** What SSH and the Docker provider connect to: the public address, else the private one. */
  readonly address: pulumi.Output<string>;
  /** `address`, resolved once the first boot finished (when `ready` is given; else the same as `address`). */
  readonly readyAddress: pulumi.Output<string>;
  /** The SSH user of the Debian AMI. */
  readonly loginUser: string = DEBIAN_LOGIN_USER;

  constructor(name: string, args: Ec2HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:aws:Ec2Host", name, {}, opts);
    const { provision, hostName } = args;
    const region = provision.region;
    const at = region ? { region } : {};
    const on = { parent: this };
    const baseTags = { ...(args.tags ?? {}), "openwebui-host": hostName };
    const targetTags = { ...baseTags, ...(args.snapshotTags ?? {}) };

    const ami = aws.ec2.getAmiOutput(debianAmiQuery(provision.instanceType, region), on);
    // The data volume is created before the instance (its id goes into the user data), so
    // both are placed in one zone chosen up front: the subnet's, or the region's first.
    const subnet = provision.subnetId ? aws.ec2.getSubnetOutput({ id: provision.subnetId, ...at }, on) : undefined;
    const availabilityZone = subnet
      ? subnet.availabilityZone
      : aws.getAvailabilityZonesOutput({ state: "available", ...at }, on).names.apply((names) => {
          if (names.length === 0) throw new pulumi.ResourceError(`host "${hostName}": no available zone in the region`, this);
          return names[0];
        });
    const vpcId = subnet?.vpcId;

    this.role = new aws.iam.Role(`${name}-role`, { assumeRolePolicy: ec2TrustPolicy(), description: `openwebui host ${hostName}`, tags: baseTags }, on);
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name, tags: baseTags }, on);

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      { description: `openwebui host ${hostName}: SSH from allowed networks only`, vpcId, tags: baseTags, ...at },
      on,
    );
    for (const rule of planIngressRules(provision, args.webPort)) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${rule.key}`,
        {
          securityGroupId: this.securityGroup.id,
          description: rule.description,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          cidrIpv4: rule.cidrIpv4,
          cidrIpv6: rule.cidrIpv6,
          tags: baseTags,
          ...at,
        },
        on,
      );
    }
    // Out: package mirrors, image registries, backup targets.
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress-ipv4`, { securityGroupId: this.securityGroup.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "all outbound", ...at }, on);
    new aws.vpc.SecurityGroupEgressRule(`${name}-egress-ipv6`, { securityGroupId: this.securityGroup.id, ipProtocol: "-1", cidrIpv6: "::/0", description: "all outbound", ...at }, on);

    // Holds Open WebUI's data: kept when the stack is destroyed, like the Docker volumes.
    this.dataVolume = new aws.ebs.Volume(
      `${name}-data`,
      { availabilityZone, size: provision.dataVolumeGb, type: "gp3", encrypted: true, tags: { ...targetTags, Name: `${args.stack}-${hostName}-docker-data` }, ...at },
      { ...on, retainOnDelete: true },
    );

    const userData = this.dataVolume.id.apply((volumeId) =>
      renderUserData({
        stack: args.stack,
        hostName,
        diskCandidates: dataDiskCandidates(volumeId, DATA_DEVICE_NAME),
        diskWaitSeconds: 600,
        dockerUsers: [DEBIAN_LOGIN_USER],
        paths: DEFAULT_USER_DATA_PATHS,
      }),
    );

    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: ami.id,
        instanceType: provision.instanceType,
        subnetId: provision.subnetId,
        availabilityZone,
        keyName: provision.keyName,
        vpcSecurityGroupIds: [this.securityGroup.id],
        iamInstanceProfile: profile.name,
        // IMDSv2 only; one hop, so containers cannot reach the instance role's credentials.
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { volumeType: "gp3", volumeSize: ROOT_VOLUME_GB, encrypted: true, tags: { ...targetTags, Name: `${args.stack}-${hostName}-root` } },
        userData,
        tags: { ...targetTags, Name: `${args.stack}-${hostName}` },
        ...at,
      },
      on,
    );

    const attachment = new aws.ec2.VolumeAttachment(
      `${name}-data-attachment`,
      { instanceId: this.instance.id, volumeId: this.dataVolume.id, deviceName: DATA_DEVICE_NAME, stopInstanceBeforeDetaching: true, ...at },
      on,
    );

    this.instanceId = this.instance.id;
    this.publicIp = this.instance.publicIp.apply((ip) => ip ?? "");
    this.privateIp = this.instance.privateIp;
    this.address = pulumi.all([this.instance.publicIp, this.instance.privateIp]).apply(([pub, priv]) => pub || priv);
    if (args.ready) {
      const firstBoot = new command.remote.Command(
        `${name}-first-boot`,
        {
          connection: {
            host: this.address,
            user: args.ready.user,
            port: args.ready.port ?? SSH_PORT,
            privateKey: args.ready.privateKey === undefined ? undefined : pulumi.secret(args.ready.privateKey),
          },
          create: FIRST_BOOT_WAIT_COMMAND,
          // A new instance boots again from scratch.
          triggers: [this.instance.id],
        },
        { ...on, dependsOn: [attachment] },
      );
      this.readyAddress = pulumi.all([this.address, firstBoot.id]).apply(([address]) => address);
    } else {
      this.readyAddress = this.address;
    }

    this.registerOutputs({
      instanceId: this.instanceId,
      publicIp: this.publicIp,
      privateIp: this.privateIp,
      address: this.address,
      roleName: this.role.name,
      roleArn: this.role.arn,
      dataVolumeId: this.dataVolume.id,
    });
  }
}
