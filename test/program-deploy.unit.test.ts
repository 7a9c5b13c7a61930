/**
 * program/deploy.ts: how a host is reached is worked out once, and every component on the
 * host connects the same way; a created host's address and login come from the instance and
 * the config, never from a placeholder.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { SSH_PORT } from "../components/ec2-host";
import { deployStack, hostAccess, stackOutputs } from "../program/deploy";
import { awsLookupMock, promiseOf, registered, resourcesOfType, unwrapInput } from "./support/pulumi-mocks";

const IMAGE = "ghcr.io/open-webui/open-webui:v0.6.5";
const provision = { instanceType: "t3.large", dataVolumeGb: 50, allowedCidrs: ["203.0.113.0/24"], region: "eu-central-1" };
const jobs = [{ name: "nightly", method: "snapshot", targets: ["nas"], retention: { keep: 3 } }];

function config(host: Record<string, unknown>) {
  return parseStackConfig({ targets: { nas: { type: "local", path: "/mnt/nas" } }, hosts: [{ name: "web1", openwebui: { image: IMAGE }, jobs, ...host }] });
}

describe("hostAccess", () => {
  const address = pulumi.output("203.0.113.10");

  it("a host without connection or instance is this machine", () => {
    expect(hostAccess(config({}).hosts[0])).toEqual({ ssh: undefined });
  });

  it("a configured host: as its connection says", () => {
    expect(hostAccess(config({ connection: { host: "box.example.org", user: "deploy", port: 2200 } }).hosts[0])).toEqual({
      ssh: { host: "box.example.org", user: "deploy", port: 2200 },
    });
  });

  it("a created host: its address, as the image's login user on the SSH port", () => {
    const access = hostAccess(config({ provision: { aws: provision } }).hosts[0], { address, user: "admin" });
    expect(access).toEqual({ ssh: { host: address, user: "admin", port: SSH_PORT }, dependsOn: undefined });
  });

  it("a created host with a connection: its address, as the configured user and port, with the configured key", async () => {
    const host = config({ provision: { aws: provision }, connection: { host: "ignored.invalid", user: "deploy", port: 2200, privateKey: "KEY" } }).hosts[0];
    const { ssh } = hostAccess(host, { address, user: "admin" });
    expect(ssh).toMatchObject({ host: address, user: "deploy", port: 2200 });
    expect(await pulumi.isSecret(ssh!.privateKey as pulumi.Output<string>)).toBe(true);
    expect(await promiseOf(ssh!.privateKey as pulumi.Output<string>)).toBe("KEY");
  });
});

describe("deployStack", () => {
  beforeEach(() => {
    registered.length = 0;
    pulumi.runtime.setMocks(
      {
        newResource(args) {
          const ids: Record<string, string> = { "aws:ebs/volume:Volume": "vol-0123456789abcdef0", "aws:ec2/instance:Instance": "i-0fedcba9876543210" };
          const id = ids[args.type] ?? `${args.name}-id`;
          registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
          const extra = args.type === "aws:ec2/instance:Instance" ? { publicIp: "203.0.113.10", privateIp: "10.0.1.5" } : {};
          return { id, state: { ...args.inputs, ...extra } };
        },
        call: awsLookupMock,
      },
      "openwebui",
      "dev",
      false,
    );
  });

  async function settled(outputs: Record<string, unknown>): Promise<void> {
    await promiseOf(pulumi.output(outputs));
    for (let seen = -1; seen !== registered.length; ) {
      seen = registered.length;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("a created host: the Docker provider and the backup installer connect to the instance the same way", async () => {
    const deployment = deployStack(config({ provision: { aws: provision } }));
    await settled(stackOutputs(deployment));
    expect(Object.keys(deployment.hosts)).toEqual(["web1"]);
    const web1 = deployment.hosts.web1;
    expect(web1.ec2 && web1.openwebui && web1.backupJobs).toBeTruthy();
    expect(resourcesOfType("pulumi:providers:docker").map((p) => p.inputs.host)).toEqual(["ssh://admin@203.0.113.10:22"]);
    const install = resourcesOfType("command:remote:Command").find((c) => c.name === "backup-jobs-web1-install")!;
    expect(unwrapInput(install.inputs.connection).value).toEqual({ host: "203.0.113.10", user: "admin", port: 22 });
    expect(JSON.stringify(registered.map((r) => r.inputs))).not.toContain("provisioned");
  });

  it("outputs name each host's instance, stack and backup files", async () => {
    const outputs = stackOutputs(deployStack(config({ provision: { aws: provision } })));
    await settled(outputs);
    expect(Object.keys(outputs)).toEqual(["openwebui", "openwebuiSecretKeys", "openwebuiDatabasePasswords", "hostProtection", "backupBuckets", "backupFiles", "resticPasswords", "clusters", "openwebuiClusterSecretKeys"]);
    for (const password of Object.values(outputs.resticPasswords)) expect(await pulumi.isSecret(password)).toBe(true);
    expect(Object.keys(outputs.hostProtection.web1).sort()).toEqual(["instanceId", "privateIp", "publicIp", "roleArn"]);
    expect(await promiseOf(outputs.openwebui.web1.url)).toBe("http://127.0.0.1:3000");
    expect(await pulumi.isSecret(outputs.backupFiles.web1)).toBe(true);
    expect(outputs.backupBuckets).toEqual({});
  });
});
