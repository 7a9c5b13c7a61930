/**
 * BackupJobs under Pulumi mocks (connection, secrets, triggers) and the command strings it
 * hands to @pulumi/command. Those commands executed for real against a temporary root are in
 * backup-jobs.artifact.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { installCommand, uninstallCommand } from "../components/backup-jobs";
import { deployBackupJobs } from "../program/deploy";
import { renderHostFiles } from "../scripts/render/host-files";
import { uninstallerPath } from "../scripts/render/installer";
import { program } from "./support/backup-jobs-program";
import { installMocks, isSecret, promiseOf, registered, resourcesOfType } from "./support/pulumi-mocks";
import { TARGETS, hostInput, rawConfig } from "./support/schedule-fixtures";

const REMOTE = "command:remote:Command";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Mocked resource inputs carry secrets as `{ [sig]: secret, value }`: unwraps one, saying whether it was secret. */
function secretValue(v: any): { secret: boolean; value: any } {
  return v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG ? { secret: true, value: v.value } : { secret: false, value: v };
}
const LOCAL = "command:local:Command";

describe("BackupJobs (mocks)", () => {
  it("connects with hosts[].connection and keeps the private key secret", async () => {
    const { jobs } = await program({ connection: { host: "gpu-box.example.com", user: "deploy", port: 2222, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n" } });
    const commands = resourcesOfType(REMOTE);
    expect(commands.map((c) => c.name).sort()).toEqual(["box-install", "box-uninstall"]);
    expect(resourcesOfType(LOCAL)).toEqual([]);
    for (const c of commands) {
      // The secret key makes the whole connection secret on its way to the engine.
      const connection = secretValue(c.inputs.connection);
      expect(connection.secret).toBe(true);
      expect(connection.value).toMatchObject({ host: "gpu-box.example.com", user: "deploy", port: 2222, privateKey: expect.stringContaining("PRIVATE KEY") });
    }
    expect(await isSecret((jobs.install as any).connection as pulumi.Output<unknown>)).toBe(true);
  });

  it("runs locally when the host has no connection", async () => {
    await program();
    expect(resourcesOfType(REMOTE)).toEqual([]);
    expect(resourcesOfType(LOCAL).map((c) => c.name).sort()).toEqual(["box-install", "box-uninstall"]);
    expect(registered.find((r) => r.type === "openwebui:host:BackupJobs")?.name).toBe("box");
  });

  it("the installer (with the env file) travels as a secret; the hash trigger is secret too", async () => {
    const { jobs, stdin, input } = await program();
    expect(await isSecret(jobs.install.stdin as pulumi.Output<string>)).toBe(true);
    expect(await isSecret(jobs.contentHash)).toBe(true);
    expect(stdin).toBe(renderHostFiles(input).installer);
    expect(stdin).toContain(Buffer.from(renderHostFiles(input).files.find((f) => f.path === input.host.paths.envFile)!.content).toString("base64").slice(0, 60));
    const install = resourcesOfType(LOCAL).find((c) => c.name === "box-install")!;
    expect(secretValue(install.inputs.stdin)).toEqual({ secret: true, value: stdin });
    expect(install.inputs.create).toBe(installCommand("/"));
    expect(install.inputs.delete).toBeUndefined();
    const uninstall = resourcesOfType(LOCAL).find((c) => c.name === "box-uninstall")!;
    expect(uninstall.inputs.delete).toBe(uninstallCommand("/", "/usr/local/sbin/openwebui-backup-uninstall"));
  });

  it("a changed job changes the trigger; an unchanged config does not", async () => {
    const a = await program();
    const same = await program();
    const changed = await program({
      jobs: [
        { name: "nightly", method: "restic", targets: ["offsite", "disk"], retention: { daily: 7, weekly: 4 }, consistency: "pause", schedule: "*-*-* 02:00:00" },
        { name: "weekly-copy", method: "snapshot", targets: ["disk"], retention: { keep: 4 }, schedule: "30 4 * * 0" },
      ],
    });
    const trigger = (r: typeof a) => secretValue(r.resources.find((x) => x.name === "box-install")!.inputs.triggers);
    expect(trigger(a)).toEqual({ secret: true, value: [a.hash] });
    expect(trigger(same)).toEqual(trigger(a));
    expect(trigger(changed).value).not.toEqual(trigger(a).value);
  });

  it("deployBackupJobs: one component per host with jobs, connection overrides by host name", async () => {
    installMocks();
    const raw = rawConfig();
    (raw.hosts as any[]).push({ name: "idle", data: { dir: "/srv/idle" } });
    const cfg = parseStackConfig(raw);
    const result = deployBackupJobs(cfg, () => TARGETS, { connections: { "gpu-box": { host: "10.0.0.5", user: "admin" } } });
    expect(Object.keys(result)).toEqual(["gpu-box"]);
    await promiseOf(result["gpu-box"].contentHash);
    await new Promise((r) => setTimeout(r, 10));
    const connections = resourcesOfType(REMOTE).map((c) => c.inputs.connection);
    expect(connections).toHaveLength(2);
    for (const c of connections) expect(c).toMatchObject({ host: "10.0.0.5", user: "admin" });
  });
});

describe("the component's command strings", () => {
  it("quotes the root and uninstaller path", () => {
    expect(uninstallCommand("/tmp/a b", uninstallerPath(hostInput()))).toContain("'/tmp/a b/usr/local/sbin/openwebui-backup-uninstall'");
    expect(installCommand("/x'y")).toContain(`OPENWEBUI_ROOT='/x'\\''y'`);
  });
});
