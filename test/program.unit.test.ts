/**
 * The Pulumi program (`index.ts`) under the engine's mocks: config read through the engine,
 * validated as a whole, and wired into components. Secrets stay secret end to end.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf, registered, resourcesOfType, unwrapInput } from "./support/pulumi-mocks";

const webui = { image: "ghcr.io/open-webui/open-webui:v0.6.5", ollama: { enabled: true, image: "ollama/ollama:0.6.5" } };

/** The content of one file embedded (base64) in the rendered installer. */
function installerPayload(installer: string, hostPath: string): string {
  const escaped = hostPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`# ${escaped}\\n\\s*base64 -d <<'OPENWEBUI_PAYLOAD'\\n([\\s\\S]*?)\\nOPENWEBUI_PAYLOAD`).exec(installer);
  if (!m) throw new Error(`no payload for ${hostPath} in the installer`);
  return Buffer.from(m[1].replace(/\s/g, ""), "base64").toString("utf8");
}

/** Waits until the program's exported outputs resolve and no more resources arrive. */
async function settled(exports: Record<string, unknown>): Promise<void> {
  await promiseOf(pulumi.output(exports));
  for (let seen = -1; seen !== registered.length; ) {
    seen = registered.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Loads a fresh copy of index.ts with this `openwebui:` config. */
// One engine mock for the file: a program's outstanding work must find the monitor it registered with.
installMocks({
  "aws:s3/bucket:Bucket": (inputs: any, name: string) => ({ bucket: inputs.bucket ?? `${name}-generated`, arn: `arn:aws:s3:::${name}` }),
  "aws:iam/accessKey:AccessKey": () => ({ secret: "mock-secret-access-key" }),
});

function runProgram(config: Record<string, unknown>, secretKeys: string[] = []): Record<string, any> {
  registered.length = 0;
  const all = Object.fromEntries(Object.entries(config).map(([k, v]) => [`openwebui:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
  pulumi.runtime.setAllConfig(all, secretKeys.map((k) => `openwebui:${k}`));
  let exports: Record<string, any> = {};
  jest.isolateModules(() => {
    exports = require("../index");
  });
  return exports;
}

describe("index.ts", () => {
  it("refuses a bad config with the field path before declaring any resource", () => {
    expect(() =>
      runProgram({
        targets: { nas: { type: "local", path: "/mnt/nas" } },
        hosts: [{ name: "web1", data: { dir: "/srv/data" }, jobs: [{ name: "nightly", method: "snapshot", targets: ["nass"], retention: { keep: 3 } }] }],
      }),
    ).toThrow('hosts[0].jobs[0].targets[0]: unknown target "nass"; known: nas');
    expect(registered).toEqual([]);
  });

  it("refuses a misspelt top-level key (a typo must not drop a backup silently)", () => {
    expect(() => runProgram({ hosts: [{ name: "web1", data: { dir: "/srv" } }], notfy: { webhookUrl: "https://x.example" } })).toThrow('unknown key "notfy"');
  });

  it("deploys the Open WebUI stack and the backup jobs of a host, the env file as a secret", async () => {
    const exports = runProgram(
      {
        targets: {
          nas: { type: "local", path: "/mnt/nas" },
          offsite: { type: "s3", region: "eu-central-1", prefix: "web1", managed: {} },
        },
        hosts: [
          {
            name: "web1",
            connection: { host: "203.0.113.10", user: "root", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----" },
            openwebui: webui,
            jobs: [{ name: "nightly", method: "restic", targets: ["offsite", "nas"], retention: { daily: 7 } }],
          },
        ],
        resticPassword: "repo-password-value",
      },
      ["resticPassword"],
    );
    await settled(exports);
    const types = new Set(registered.map((r) => r.type));
    for (const t of [
      "openwebui:docker:OpenWebUIStack",
      "docker:index/container:Container",
      "openwebui:aws:S3BackupBucket",
      "aws:iam/accessKey:AccessKey",
      "openwebui:host:BackupJobs",
      "command:remote:Command",
    ]) {
      expect(types).toContain(t);
    }
    // The backup jobs reach the host over the configured SSH connection.
    const install = resourcesOfType("command:remote:Command").find((r) => r.name.endsWith("-install"))!;
    const connection = unwrapInput(install.inputs.connection);
    expect(connection).toMatchObject({ secret: true, value: { host: "203.0.113.10", user: "root", port: 22 } });
    // The installer travels on stdin and carries the env file: a secret, holding the managed key.
    const stdin = unwrapInput(install.inputs.stdin);
    expect(stdin.secret).toBe(true);
    const stdinText = String(stdin.value);
    const envFile = installerPayload(stdinText, "/etc/openwebui-backup/backup.env");
    expect(envFile).toContain("OWB_TARGET_offsite_ACCESS_KEY_ID='offsite-web1-id'");
    expect(envFile).toContain("OWB_TARGET_offsite_SECRET_ACCESS_KEY='mock-secret-access-key'");
    expect(envFile).toContain("OWB_TARGET_offsite_BUCKET='offsite-bucket-generated'");
    expect(envFile).toContain("OWB_RESTIC_PASSWORD='repo-password-value'");
    // The data location comes from the Open WebUI stack's volume, not repeated in the job.
    expect(envFile).toContain("OWB_DATA_VOLUME='open-webui'");
    expect(await pulumi.isSecret(exports.backupFiles.web1)).toBe(true);
    expect(await pulumi.isSecret(exports.openwebuiSecretKeys.web1)).toBe(true);
    // Plain outputs name where things are, never a credential.
    const plain = JSON.stringify(await promiseOf(pulumi.output(exports.openwebui)));
    expect(plain).toContain("open-webui");
    expect(plain).not.toMatch(/mock-secret|repo-password|PRIVATE KEY/);
  });

  it("a host without jobs gets the service but no backup installation", async () => {
    await settled(runProgram({ hosts: [{ name: "web1", openwebui: { ...webui, preUpgradeBackup: false } }] }));
    expect(resourcesOfType("openwebui:docker:OpenWebUIStack")).toHaveLength(1);
    expect(resourcesOfType("openwebui:host:BackupJobs")).toHaveLength(0);
  });
});
