/**
 * The optional EC2 host: `hosts[].provision.aws` validation (exact paths and messages), the
 * pure planning (AMI query, security group rules), and the `Ec2Host` resources under mocks
 * that also answer the AMI, subnet and zone lookups: instance, data volume, attachment, SG
 * rules (no 0.0.0.0/0 on SSH unless configured), IMDSv2, and tags matching the snapshot
 * policy's target tags.
 */
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { ConfigProblem, parseStackConfig } from "../config";
import { configProblemsUnder } from "./support/config-problems";
import { amiArchitecture, debianAmiQuery, Ec2Host, planIngressRules } from "../components/ec2-host";
import { deployHostProtection, hostProtectionOutputs } from "../program/deploy";
import { awsLookupMock, promiseOf, registered, resourcesOfType } from "./support/pulumi-mocks";

const PP = "hosts[0].provision.aws";

const provision = { instanceType: "t3.large", dataVolumeGb: 50, allowedCidrs: ["203.0.113.0/24", "2001:db8::/32"], region: "eu-central-1" };

function stackWith(host: Record<string, unknown>) {
  return { hosts: [{ name: "web1", data: { dir: "/srv/openwebui" }, ...host }] };
}

const problemsOf = (raw: unknown) => configProblemsUnder(raw, ["hosts[0].snapshots", "hosts[0].provision", "hosts[0].connection"]);

describe("hosts[].provision.aws validation", () => {
  it("accepts a minimal host and fills the defaults", () => {
    const cfg = parseStackConfig(stackWith({ provision: { aws: provision } }));
    expect(cfg.hosts[0].provision!.aws).toEqual({ ...provision, sshFromAnywhere: false, publishWeb: false });
  });

  const snap = { schedules: [{ name: "daily", every: "24h", at: "04:00", keep: 7 }] };

  it.each<[string, Record<string, unknown>, ConfigProblem[]]>([
    [
      "SSH from anywhere, not acknowledged",
      { provision: { aws: { ...provision, allowedCidrs: ["0.0.0.0/0"] } } },
      [{ path: `${PP}.allowedCidrs[0]`, message: `0.0.0.0/0 opens SSH to the whole internet; list your own address ranges, or set ${PP}.sshFromAnywhere: true to mean it` }],
    ],
    [
      "SSH from anywhere over IPv6, not acknowledged",
      { provision: { aws: { ...provision, allowedCidrs: ["203.0.113.0/24", "::/0"] } } },
      [{ path: `${PP}.allowedCidrs[1]`, message: `::/0 opens SSH to the whole internet; list your own address ranges, or set ${PP}.sshFromAnywhere: true to mean it` }],
    ],
    ["SSH from anywhere, acknowledged", { provision: { aws: { ...provision, allowedCidrs: ["0.0.0.0/0"], sshFromAnywhere: true } } }, []],
    [
      "a CIDR that is not one",
      { provision: { aws: { ...provision, allowedCidrs: ["300.1.1.1/32"] } } },
      [{ path: `${PP}.allowedCidrs[0]`, message: 'must be a CIDR block such as "203.0.113.0/24" or "2001:db8::/32"' }],
    ],
    [
      "an address without prefix length",
      { provision: { aws: { ...provision, allowedCidrs: ["203.0.113.7"] } } },
      [{ path: `${PP}.allowedCidrs[0]`, message: 'must be a CIDR block such as "203.0.113.0/24" or "2001:db8::/32"' }],
    ],
    ["a CIDR with host bits", { provision: { aws: { ...provision, allowedCidrs: ["10.1.2.3/16"] } } }, [{ path: `${PP}.allowedCidrs[0]`, message: "10.1.2.3/16 has host bits set; did you mean 10.1.0.0/16?" }]],
    ["the same CIDR twice", { provision: { aws: { ...provision, allowedCidrs: ["10.0.0.0/8", "10.0.0.0/8"] } } }, [{ path: `${PP}.allowedCidrs`, message: "lists a CIDR block twice" }]],
    [
      "no CIDRs",
      { provision: { aws: { ...provision, allowedCidrs: [] } } },
      [{ path: `${PP}.allowedCidrs`, message: 'needs at least one CIDR block SSH is reachable from, such as "203.0.113.7/32"' }],
    ],
    ["instance type malformed", { provision: { aws: { ...provision, instanceType: "t3large" } } }, [{ path: `${PP}.instanceType`, message: 'must be an EC2 instance type such as "t3.large"' }]],
    ["data volume 0 GiB", { provision: { aws: { ...provision, dataVolumeGb: 0 } } }, [{ path: `${PP}.dataVolumeGb`, message: "must be a size in GiB, a whole number ≥ 1" }]],
    ["data volume too large", { provision: { aws: { ...provision, dataVolumeGb: 20000 } } }, [{ path: `${PP}.dataVolumeGb`, message: "must be at most 16384 GiB (gp3's limit)" }]],
    ["region malformed", { provision: { aws: { ...provision, region: "frankfurt" } } }, [{ path: `${PP}.region`, message: 'must be an AWS region such as "eu-central-1"' }]],
    ["subnet malformed", { provision: { aws: { ...provision, subnetId: "sub-1" } } }, [{ path: `${PP}.subnetId`, message: 'must be a subnet id such as "subnet-0123456789abcdef0"' }]],
    ["key name empty", { provision: { aws: { ...provision, keyName: "" } } }, [{ path: `${PP}.keyName`, message: "must be an EC2 key pair name: 1-255 printable ASCII characters" }]],
    [
      "an unknown key",
      { provision: { aws: { ...provision, ami: "ami-1" } } },
      [{ path: PP, message: 'unknown key "ami"; accepted: instanceType, subnetId, keyName, dataVolumeGb, allowedCidrs, sshFromAnywhere, publishWeb, region' }],
    ],
    [
      "a provider other than aws",
      { provision: { gcp: {} } },
      [
        { path: "hosts[0].provision", message: 'unknown key "gcp"; accepted: aws' },
        { path: PP, message: "required: provision.aws is the only kind of host the stack creates" },
      ],
    ],
    [
      "SSH as root into the Debian image",
      { provision: { aws: provision }, connection: { host: "web1.example.org" } },
      [{ path: "hosts[0].connection.user", message: `the Debian image ${PP} starts lets SSH in as "admin", not root; set hosts[0].connection.user: admin` }],
    ],
    ["SSH as admin", { provision: { aws: provision }, connection: { host: "web1.example.org", user: "admin" } }, []],
    ["snapshots of the created host need no instanceId or tags", { provision: { aws: provision }, snapshots: { aws: snap } }, []],
    [
      "snapshots with instanceId on a created host",
      { provision: { aws: provision }, snapshots: { aws: { ...snap, instanceId: "i-0123456789abcdef0" } } },
      [{ path: "hosts[0].snapshots.aws.instanceId", message: `not used with ${PP}: the stack tags the instance it creates; remove instanceId` }],
    ],
    [
      "snapshots with tags on a created host",
      { provision: { aws: provision }, snapshots: { aws: { ...snap, tags: { Backup: "yes" } } } },
      [{ path: "hosts[0].snapshots.aws.tags", message: `not used with ${PP}: the stack tags the instance it creates; remove tags` }],
    ],
    [
      "copies into the host's own region",
      { provision: { aws: provision }, snapshots: { aws: { ...snap, copyTo: [{ region: "eu-central-1", keepDays: 7 }] } } },
      [{ path: "hosts[0].snapshots.aws.copyTo[0].region", message: `is the region the instance runs in (${PP}.region); copy to another region` }],
    ],
    [
      "fast restore in another region's zone",
      { provision: { aws: provision }, snapshots: { aws: { ...snap, fastRestore: { availabilityZones: ["eu-west-1a"], count: 1 } } } },
      [{ path: "hosts[0].snapshots.aws.fastRestore.availabilityZones[0]", message: "is not in eu-central-1, the region the instance runs in" }],
    ],
  ])("%s", (_label, host, expected) => {
    expect(problemsOf(stackWith(host))).toEqual(expected);
  });
});

// ---------------------------------------------------------------- planning

describe("planning", () => {
  it.each([
    ["t3.large", "amd64"],
    ["m6i.xlarge", "amd64"],
    ["g5.xlarge", "amd64"],
    ["t4g.large", "arm64"],
    ["c7gn.large", "arm64"],
    ["r8g.medium", "arm64"],
    ["a1.large", "arm64"],
  ])("amiArchitecture(%s) = %s", (type, arch) => {
    expect(amiArchitecture(type)).toBe(arch);
  });

  it("queries the newest Debian 12 image from Debian's account", () => {
    expect(debianAmiQuery("t3.large")).toEqual({
      owners: ["136693071363"],
      mostRecent: true,
      filters: [
        { name: "name", values: ["debian-12-amd64-*"] },
        { name: "architecture", values: ["x86_64"] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
      ],
    });
    expect(debianAmiQuery("t4g.small", "eu-west-1")).toMatchObject({ region: "eu-west-1", filters: expect.arrayContaining([{ name: "name", values: ["debian-12-arm64-*"] }]) });
  });

  it.each([
    [
      "SSH from each CIDR, web closed",
      { allowedCidrs: ["203.0.113.0/24", "2001:db8::/32"], publishWeb: false },
      [
        { key: "ssh-0", description: "SSH from 203.0.113.0/24", port: 22, cidrIpv4: "203.0.113.0/24" },
        { key: "ssh-1", description: "SSH from 2001:db8::/32", port: 22, cidrIpv6: "2001:db8::/32" },
      ],
    ],
    [
      "web published",
      { allowedCidrs: ["198.51.100.7/32"], publishWeb: true },
      [
        { key: "ssh-0", description: "SSH from 198.51.100.7/32", port: 22, cidrIpv4: "198.51.100.7/32" },
        { key: "web-ipv4", description: "Open WebUI (port 8080) from anywhere", port: 8080, cidrIpv4: "0.0.0.0/0" },
        { key: "web-ipv6", description: "Open WebUI (port 8080) from anywhere", port: 8080, cidrIpv6: "::/0" },
      ],
    ],
  ])("planIngressRules: %s", (_label, p, expected) => {
    expect(planIngressRules(p, 8080)).toEqual(expected);
  });
});

// ---------------------------------------------------------------- resources

interface Call {
  token: string;
  inputs: Record<string, any>;
}
const calls: Call[] = [];

/** Mocks that answer the lookups this component makes, and give resources AWS-shaped ids and addresses. */
function installAwsMocks(): void {
  registered.length = 0;
  calls.length = 0;
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const ids: Record<string, string> = {
          "aws:ebs/volume:Volume": "vol-0123456789abcdef0",
          "aws:ec2/instance:Instance": "i-0fedcba9876543210",
          "aws:ec2/securityGroup:SecurityGroup": "sg-0123456789abcdef0",
        };
        const id = ids[args.type] ?? `${args.name}-id`;
        registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
        const extra: Record<string, unknown> =
          args.type === "aws:ec2/instance:Instance"
            ? { publicIp: "203.0.113.10", privateIp: "10.0.1.5" }
            : args.type === "aws:iam/role:Role"
              ? { name: args.name, arn: `arn:aws:iam::123456789012:role/${args.name}` }
              : args.type === "aws:iam/instanceProfile:InstanceProfile"
                ? { name: args.name }
                : {};
        return { id, state: { ...args.inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        calls.push({ token: args.token, inputs: args.inputs });
        return awsLookupMock(args);
      },
    },
    "openwebui",
    "dev",
    false,
  );
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

const one = (type: string) => {
  const found = resourcesOfType(type);
  expect(found).toHaveLength(1);
  return found[0];
};

describe("Ec2Host under mocks", () => {
  beforeEach(installAwsMocks);

  async function deploy(host: Record<string, unknown>) {
    const cfg = parseStackConfig(stackWith(host));
    const protection = deployHostProtection(cfg, { stack: "dev" });
    const ec2 = protection.hosts.web1;
    await promiseOf(ec2.instanceId);
    if (protection.snapshots.web1) await promiseOf(protection.snapshots.web1.policyArn);
    await settle();
    return { protection, ec2 };
  }

  it("looks up the Debian 12 AMI and launches it with IMDSv2 required", async () => {
    await deploy({ provision: { aws: provision } });
    const ami = calls.filter((c) => c.token === "aws:ec2/getAmi:getAmi");
    expect(ami).toHaveLength(1);
    expect(ami[0].inputs.owners).toEqual(["136693071363"]);
    expect(ami[0].inputs.filters).toContainEqual({ name: "name", values: ["debian-12-amd64-*"] });
    expect(ami[0].inputs.region).toBe("eu-central-1");

    const instance = one("aws:ec2/instance:Instance");
    expect(instance.inputs.ami).toBe("ami-0debian12");
    expect(instance.inputs.instanceType).toBe("t3.large");
    expect(instance.inputs.region).toBe("eu-central-1");
    expect(instance.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(instance.inputs.vpcSecurityGroupIds).toEqual(["sg-0123456789abcdef0"]);
    expect(instance.inputs.rootBlockDevice).toMatchObject({ volumeType: "gp3", encrypted: true });
  });

  it("a separate encrypted gp3 data volume in the instance's zone, attached as /dev/sdf, kept on destroy", async () => {
    await deploy({ provision: { aws: provision } });
    const instance = one("aws:ec2/instance:Instance");
    const volume = one("aws:ebs/volume:Volume");
    expect(volume.inputs).toMatchObject({ type: "gp3", size: 50, encrypted: true, availabilityZone: "eu-central-1a", region: "eu-central-1" });
    expect(instance.inputs.availabilityZone).toBe(volume.inputs.availabilityZone);
    const attachment = one("aws:ec2/volumeAttachment:VolumeAttachment");
    expect(attachment.inputs).toMatchObject({ instanceId: "i-0fedcba9876543210", volumeId: "vol-0123456789abcdef0", deviceName: "/dev/sdf" });
  });

  it("places instance and volume in the given subnet's zone and VPC", async () => {
    await deploy({ provision: { aws: { ...provision, subnetId: "subnet-0123456789abcdef0" } } });
    expect(calls.filter((c) => c.token === "aws:ec2/getSubnet:getSubnet").map((c) => c.inputs.id)).toEqual(["subnet-0123456789abcdef0"]);
    expect(one("aws:ec2/instance:Instance").inputs).toMatchObject({ subnetId: "subnet-0123456789abcdef0", availabilityZone: "eu-central-1b" });
    expect(one("aws:ebs/volume:Volume").inputs.availabilityZone).toBe("eu-central-1b");
    expect(one("aws:ec2/securityGroup:SecurityGroup").inputs.vpcId).toBe("vpc-0abc");
  });

  it("user data finds this data volume by its id and passes bash -n", async () => {
    await deploy({ provision: { aws: provision } });
    const userData: string = one("aws:ec2/instance:Instance").inputs.userData;
    expect(userData).toContain("'/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0' '/dev/xvdf' '/dev/sdf'");
    expect(userData).toContain("apt-get install -y -q docker.io");
    expect(spawnSync("bash", ["-n"], { input: userData }).status).toBe(0);
  });

  it("SSH only from the allowed CIDRs, the web port closed, all outbound open", async () => {
    await deploy({ provision: { aws: provision } });
    const ingress = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(ingress.map((r) => [r.fromPort, r.toPort, r.ipProtocol, r.cidrIpv4 ?? r.cidrIpv6])).toEqual([
      [22, 22, "tcp", "203.0.113.0/24"],
      [22, 22, "tcp", "2001:db8::/32"],
    ]);
    expect(ingress.every((r) => r.securityGroupId === "sg-0123456789abcdef0")).toBe(true);
    expect(ingress.filter((r) => r.cidrIpv4 === "0.0.0.0/0" || r.cidrIpv6 === "::/0")).toEqual([]);
    const egress = resourcesOfType("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs.cidrIpv4 ?? r.inputs.cidrIpv6);
    expect(egress).toEqual(["0.0.0.0/0", "::/0"]);
  });

  it("SSH from 0.0.0.0/0 only when configured so", async () => {
    await deploy({ provision: { aws: { ...provision, allowedCidrs: ["0.0.0.0/0"], sshFromAnywhere: true } } });
    const ingress = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(ingress.map((r) => [r.fromPort, r.cidrIpv4])).toEqual([[22, "0.0.0.0/0"]]);
  });

  it("publishWeb opens the Open WebUI port (default 3000) to everyone, SSH stays restricted", async () => {
    await deploy({ provision: { aws: { ...provision, publishWeb: true } } });
    const ingress = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(ingress.filter((r) => r.fromPort === 3000).map((r) => r.cidrIpv4 ?? r.cidrIpv6)).toEqual(["0.0.0.0/0", "::/0"]);
    expect(ingress.filter((r) => r.fromPort === 22).map((r) => r.cidrIpv4 ?? r.cidrIpv6)).toEqual(["203.0.113.0/24", "2001:db8::/32"]);
  });

  it("instance, root volume and data volume carry the snapshot policy's target tags", async () => {
    const { protection } = await deploy({
      provision: { aws: provision },
      snapshots: { aws: { schedules: [{ name: "daily", every: "24h", at: "04:00", keep: 7 }] } },
    });
    const dlm = one("aws:dlm/lifecyclePolicy:LifecyclePolicy");
    const targetTags: Record<string, string> = dlm.inputs.policyDetails.targetTags;
    expect(targetTags).toEqual({ "openwebui-snapshots": "dev/web1" });
    expect(dlm.inputs.region).toBe("eu-central-1");
    const instance = one("aws:ec2/instance:Instance");
    const volume = one("aws:ebs/volume:Volume");
    expect(instance.inputs.tags).toMatchObject(targetTags);
    expect(instance.inputs.rootBlockDevice.tags).toMatchObject(targetTags);
    expect(volume.inputs.tags).toMatchObject(targetTags);
    // A created host is tagged by the instance itself, not by an extra Tag resource.
    expect(resourcesOfType("aws:ec2/tag:Tag")).toEqual([]);
    expect(protection.snapshots.web1.targetTags).toEqual(targetTags);
  });

  it("without snapshots, no policy and no snapshot tag", async () => {
    await deploy({ provision: { aws: provision } });
    expect(resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy")).toEqual([]);
    expect(Object.keys(one("aws:ec2/instance:Instance").inputs.tags)).not.toContain("openwebui-snapshots");
  });

  it("an instance role trusted by EC2, exposed for the S3 backup keys, behind an instance profile", async () => {
    const { ec2 } = await deploy({ provision: { aws: provision } });
    const role = one("aws:iam/role:Role");
    expect(JSON.parse(role.inputs.assumeRolePolicy).Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
    expect(await promiseOf(ec2.role.arn)).toBe("arn:aws:iam::123456789012:role/host-web1-role");
    const profile = one("aws:iam/instanceProfile:InstanceProfile");
    expect(profile.inputs.role).toBe("host-web1-role");
    expect(one("aws:ec2/instance:Instance").inputs.iamInstanceProfile).toBe("host-web1-profile");
  });

  it("outputs the addresses and id, and the address feeds the host's connection", async () => {
    const { ec2, protection } = await deploy({ provision: { aws: provision } });
    expect(await promiseOf(ec2.instanceId)).toBe("i-0fedcba9876543210");
    expect(await promiseOf(ec2.publicIp)).toBe("203.0.113.10");
    expect(await promiseOf(ec2.privateIp)).toBe("10.0.1.5");
    expect(await promiseOf(protection.addresses.web1)).toBe("203.0.113.10");
    expect(await promiseOf(ec2.urn as pulumi.Output<string>)).toContain("openwebui:aws:Ec2Host::host-web1");
  });

  it("with a connection: waits for the first boot over SSH, and only then hands out the address", async () => {
    const { protection } = await deploy({ provision: { aws: provision }, connection: { host: "placeholder.invalid", user: "admin", port: 2222, privateKey: "PRIVATE KEY" } });
    expect(await promiseOf(protection.addresses.web1)).toBe("203.0.113.10");
    const wait = one("command:remote:Command");
    expect(wait.name).toBe("host-web1-first-boot");
    expect(wait.inputs.create).toBe("cloud-init status --wait >/dev/null");
    // The whole connection travels as a secret, because it holds the private key.
    expect(wait.inputs.connection).toEqual({
      [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig,
      value: { host: "203.0.113.10", user: "admin", port: 2222, privateKey: "PRIVATE KEY" },
    });
    expect(wait.inputs.triggers).toEqual(["i-0fedcba9876543210"]);
  });

  it("without a connection: no SSH wait", async () => {
    await deploy({ provision: { aws: provision } });
    expect(resourcesOfType("command:remote:Command")).toEqual([]);
  });

  it("stack outputs per host: ids, addresses, role and policy, nothing secret", async () => {
    const { protection } = await deploy({ provision: { aws: provision }, snapshots: { aws: { schedules: [{ name: "daily", every: "24h", at: "04:00", keep: 7 }] } } });
    const outputs = hostProtectionOutputs(protection);
    expect(Object.keys(outputs)).toEqual(["web1"]);
    const web1 = outputs.web1 as Record<string, pulumi.Output<string>>;
    expect(Object.keys(web1).sort()).toEqual(["instanceId", "privateIp", "publicIp", "roleArn", "snapshotPolicyArn"]);
    for (const value of Object.values(web1)) expect(await pulumi.isSecret(value)).toBe(false);
    expect(await promiseOf(web1.publicIp)).toBe("203.0.113.10");
  });

  it("an arm64 instance type gets the arm64 image", async () => {
    await deploy({ provision: { aws: { ...provision, instanceType: "t4g.large" } } });
    const ami = calls.find((c) => c.token === "aws:ec2/getAmi:getAmi")!;
    expect(ami.inputs.filters).toContainEqual({ name: "name", values: ["debian-12-arm64-*"] });
  });

  it("uses the web port it is given", async () => {
    const host = new Ec2Host("host-x", { hostName: "x", stack: "dev", provision: { ...provision, sshFromAnywhere: false, publishWeb: true }, webPort: 8443 });
    await promiseOf(host.instanceId);
    await settle();
    const ports = resourcesOfType("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs.fromPort);
    expect(ports).toEqual([22, 22, 8443, 8443]);
  });
});
