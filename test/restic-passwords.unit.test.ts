/**
 * Per-host restic passwords: where each host's comes from (its own, the stack's, generated),
 * the warnings for secrets hosts still share, and the program under mocks: one generated,
 * protected password per host, secret everywhere, in that host's env file only, and exported
 * (secret) for disaster recovery.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { hostsWithRestic, resticPasswordSource, sharedSecretWarnings } from "../config/restic-passwords";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { secretPlaceholder } from "../config/sources";
import { renderStackFile } from "../scripts/cli/render-cli";
import { installMocks, isSecret, promiseOf, registered, resourcesOfType, unwrapInput } from "./support/pulumi-mocks";

const RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword";

const restic = (name = "nightly", targets = ["nas"]) => ({ name, method: "restic", targets, retention: { daily: 7 } });
const snapshot = (targets = ["nas"]) => ({ name: "files", method: "snapshot", targets, retention: { keep: 3 } });
const host = (name: string, jobs: unknown[], extra: Record<string, unknown> = {}) => ({ name, data: { dir: `/srv/${name}` }, jobs, ...extra });

function config(hosts: unknown[], extra: Record<string, unknown> = {}) {
  return {
    targets: {
      nas: { type: "local", path: "/mnt/nas" },
      shared: { type: "s3", bucket: "team-backups", region: "eu-central-1", accessKeyId: "AKIASHARED", secretAccessKey: "shared-secret" },
      ambient: { type: "s3", bucket: "team-backups", prefix: "ambient", region: "eu-central-1" },
      "own-b2": { type: "b2", bucket: "b2-backups", keyId: "k", applicationKey: "a" },
      "managed-s3": { type: "s3", region: "eu-central-1", managed: {} },
    },
    hosts,
    ...extra,
  };
}

// ---------------------------------------------------------------- pure

describe("resticPasswordSource", () => {
  const cfg = parseStackConfig(
    config([host("web1", [restic()], { resticPassword: "web1-own" }), host("web2", [restic()]), host("files", [snapshot()])], { resticPassword: "stack-wide" }),
  );
  it.each([
    ["a host's own password wins", "web1", { kind: "host", value: "web1-own" }],
    ["else the stack's", "web2", { kind: "stack", value: "stack-wide" }],
  ])("%s", (_what, name, expected) => {
    expect(resticPasswordSource(cfg, name)).toEqual(expected);
  });
  it("neither: generated", () => {
    const plain = parseStackConfig(config([host("web1", [restic()])]));
    expect(resticPasswordSource(plain, "web1")).toEqual({ kind: "generated" });
  });
  it("only hosts with a restic job need one", () => {
    expect(hostsWithRestic(cfg)).toEqual(["web1", "web2"]);
  });
});

describe("sharedSecretWarnings", () => {
  const warningsOf = (raw: Record<string, unknown>) => sharedSecretWarnings(parseStackConfig(raw));

  it("none when every host has its own password and key", () => {
    expect(warningsOf(config([host("web1", [restic("a", ["nas", "managed-s3"])]), host("web2", [restic("b", ["nas", "managed-s3"])])]))).toEqual([]);
  });

  it("none for one host on the stack password or on an unmanaged key", () => {
    expect(warningsOf(config([host("web1", [restic("a", ["shared", "own-b2"])])], { resticPassword: "pw" }))).toEqual([]);
  });

  it("one stack password for two hosts with restic: names them and the way out", () => {
    const warnings = warningsOf(config([host("web1", [restic()]), host("web2", [restic()]), host("web3", [restic()], { resticPassword: "own" })], { resticPassword: "pw" }));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^resticPassword: hosts web1, web2 share one restic password/);
    expect(warnings[0]).toMatch(/hosts\[\]\.resticPassword/);
    expect(warnings[0]).not.toContain("pw");
  });

  it("an unmanaged S3 or B2 key used by two hosts; not a target whose hosts use their own ambient credentials", () => {
    const warnings = warningsOf(
      config([
        host("web1", [restic("a", ["shared", "ambient"]), snapshot(["own-b2"])]),
        host("web2", [restic("b", ["shared", "ambient"]), snapshot(["own-b2"])]),
      ]),
    );
    expect(warnings.map((w) => w.split(":")[0])).toEqual(["targets.shared", "targets.own-b2"]);
    expect(warnings[0]).toMatch(/hosts web1, web2 share this target's key/);
    expect(warnings[0]).toMatch(/targets\.shared\.managed/);
    expect(warnings.join("\n")).not.toMatch(/AKIASHARED|shared-secret/);
  });
});

describe("the render CLI", () => {
  it("renders a generated password as a marked placeholder per host, and reports shared secrets", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "owb-passwords-"));
    try {
      const file = path.join(dir, "Pulumi.test.yaml");
      const cfg = config([host("web1", [restic("a", ["shared"])]), host("web2", [restic("b", ["shared"])])]);
      fs.writeFileSync(file, JSON.stringify({ config: Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`openwebui:${k}`, v])) }));
      const rendered = renderStackFile(file, "test", {});
      for (const h of rendered.hosts) {
        const env = h.files.find((f) => f.path === "/etc/openwebui-backup/backup.env")!.content;
        expect(env).toContain(`OWB_RESTIC_PASSWORD='${secretPlaceholder(`resticPasswords.${h.host}`)}'`);
      }
      expect(rendered.warnings.map((w) => w.split(":")[0])).toEqual(["targets.shared"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- the program under mocks

/** The content of one file embedded (base64) in the rendered installer. */
function installerPayload(installer: string, hostPath: string): string {
  const escaped = hostPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`# ${escaped}\\n\\s*base64 -d <<'OPENWEBUI_PAYLOAD'\\n([\\s\\S]*?)\\nOPENWEBUI_PAYLOAD`).exec(installer);
  if (!m) throw new Error(`no payload for ${hostPath} in the installer`);
  return Buffer.from(m[1].replace(/\s/g, ""), "base64").toString("utf8");
}

installMocks({
  [RANDOM_PASSWORD]: (_inputs: any, name: string) => ({ result: `generated-for-${name}` }),
  "aws:s3/bucket:Bucket": (inputs: any, name: string) => ({ bucket: inputs.bucket ?? `${name}-generated`, arn: `arn:aws:s3:::${name}` }),
  "aws:iam/accessKey:AccessKey": () => ({ secret: "mock-secret-access-key" }),
});
const protectedResources = new Map<string, boolean>();
const monitor: any = pulumi.runtime.getMonitor();
const registerResource = monitor.registerResource.bind(monitor);
monitor.registerResource = (req: any, callback: any) => {
  protectedResources.set(`${req.getType()}::${req.getName()}`, req.getProtect());
  return registerResource(req, callback);
};

async function settled(exports: Record<string, unknown>): Promise<void> {
  await promiseOf(pulumi.output(exports));
  for (let seen = -1; seen !== registered.length; ) {
    seen = registered.length;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Loads a fresh copy of index.ts with this config. The program gets its own copy of
 * @pulumi/pulumi too, so its `log.warn` is spied on inside the same isolation.
 */
function runProgram(cfg: Record<string, unknown>): { exports: Record<string, any>; warnings: string[] } {
  registered.length = 0;
  const all = Object.fromEntries(Object.entries(cfg).map(([k, v]) => [`openwebui:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
  pulumi.runtime.setAllConfig(all, ["openwebui:resticPassword"]);
  let exports: Record<string, any> = {};
  const warnings: string[] = [];
  jest.isolateModules(() => {
    const isolated: typeof pulumi = require("@pulumi/pulumi");
    jest.spyOn(isolated.log, "warn").mockImplementation(async (message: string) => void warnings.push(message));
    exports = require("../index");
  });
  return { exports, warnings };
}

/** Per host: the env file its installer carries, and whether that installer is a secret. */
function envFiles(): Record<string, { env: string; secret: boolean }> {
  const installs = resourcesOfType("command:local:Command").filter((r) => r.name.endsWith("-install"));
  return Object.fromEntries(
    installs.map((r) => {
      const stdin = unwrapInput(r.inputs.stdin);
      return [r.name.replace(/^backup-jobs-/, "").replace(/-install$/, ""), { env: installerPayload(String(stdin.value), "/etc/openwebui-backup/backup.env"), secret: stdin.secret }];
    }),
  );
}

describe("the program: one restic password per host", () => {
  it("generates a protected password per host with restic, secret in the state, the env file and the outputs", async () => {
    {
      const { exports, warnings } = runProgram(config([host("web1", [restic()]), host("web2", [restic(), snapshot()]), host("files", [snapshot()])]));
      await settled(exports);

      // One RandomPassword per host with a restic job, named after the host, at the top level, protected.
      const generated = resourcesOfType(RANDOM_PASSWORD);
      expect(generated.map((r) => r.name).sort()).toEqual(["restic-password-web1", "restic-password-web2"]);
      for (const r of generated) {
        expect(r.inputs).toMatchObject({ length: 40, special: false });
        expect(protectedResources.get(`${RANDOM_PASSWORD}::${r.name}`)).toBe(true);
      }

      // Exported for disaster recovery: secret, one per host, all different.
      expect(Object.keys(exports.resticPasswords).sort()).toEqual(["web1", "web2"]);
      for (const h of ["web1", "web2"]) expect(await isSecret(exports.resticPasswords[h])).toBe(true);
      const web1 = await promiseOf(exports.resticPasswords.web1);
      const web2 = await promiseOf(exports.resticPasswords.web2);
      expect(web1).toBe("generated-for-restic-password-web1");
      expect(web2).toBe("generated-for-restic-password-web2");
      expect(web1).not.toBe(web2);

      // Each host's env file, carried by a secret installer, holds its own password and no other.
      const envs = envFiles();
      expect(envs.web1.secret).toBe(true);
      expect(envs.web2.secret).toBe(true);
      expect(envs.web1.env).toContain(`OWB_RESTIC_PASSWORD='${web1}'`);
      expect(envs.web1.env).not.toContain(web2);
      expect(envs.web2.env).toContain(`OWB_RESTIC_PASSWORD='${web2}'`);
      expect(envs.web2.env).not.toContain(web1);
      expect(envs.files.env).not.toContain("OWB_RESTIC_PASSWORD");

      // Nothing shared: no warning. Plain outputs hold no password.
      expect(warnings).toEqual([]);
      expect(JSON.stringify(await promiseOf(pulumi.output(exports.openwebui)))).not.toContain("generated-for");
    }
  });

  it("configured passwords win over generated ones, stay secret, and a shared one is warned about", async () => {
    {
      const { exports, warnings } = runProgram(
        config([host("web1", [restic()], { resticPassword: "web1-chosen" }), host("web2", [restic()]), host("web3", [restic()])], { resticPassword: "stack-wide" }),
      );
      await settled(exports);
      expect(resourcesOfType(RANDOM_PASSWORD)).toEqual([]);
      expect(await promiseOf(exports.resticPasswords.web1)).toBe("web1-chosen");
      expect(await promiseOf(exports.resticPasswords.web2)).toBe("stack-wide");
      for (const h of ["web1", "web2", "web3"]) expect(await isSecret(exports.resticPasswords[h])).toBe(true);
      const envs = envFiles();
      expect(envs.web1.env).toContain("OWB_RESTIC_PASSWORD='web1-chosen'");
      expect(envs.web2.env).toContain("OWB_RESTIC_PASSWORD='stack-wide'");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^resticPassword: hosts web2, web3 share one restic password/);
      expect(warnings[0]).not.toContain("stack-wide");
    }
  });
});
