/**
 * Every example stack file in the repository (`Pulumi.*.yaml`, `examples/*.yaml`):
 *  - validates and renders with the render CLI's `renderStackFile` (secrets as placeholders),
 *    and the rendered shell parses (`bash -n`);
 *  - runs as the real Pulumi program (`index.ts`) under mocks, with the file's config set the
 *    way the engine sets it, and declares the resources the file asks for;
 *  - passes the policy pack's rules (policy/rules.ts) with the resources it declares.
 *
 * Nothing here talks to a cloud, Docker or the Pulumi CLI.
 *
 * @long for a unit test (runs the whole program for each example): first in its tier (tier-sequencer.js)
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import type * as pulumiType from "@pulumi/pulumi";
import { configFromStackFile } from "../config/sources";
import { renderStackFile } from "../scripts/cli/render-cli";
import { EngineView, awsLookupMock, recordEngineView } from "./support/pulumi-mocks";
import { StackResource, b2BucketViolations, containerPortViolations, prodPreUpgradeViolations, prodSnapshotViolations, s3BucketViolations } from "../policy/rules";

const ROOT = path.join(__dirname, "..");

/** `Pulumi.dev.yaml` → dev, `Pulumi.prod.example.yaml` → prod, `examples/plan1.yaml` → plan1. */
export function stackNameOf(file: string): string {
  const base = path.basename(file, ".yaml");
  return base.replace(/^Pulumi\./, "").replace(/\.example$/, "");
}

function exampleFiles(): string[] {
  const top = fs.readdirSync(ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
  const examplesDir = path.join(ROOT, "examples");
  const examples = fs.existsSync(examplesDir) ? fs.readdirSync(examplesDir).filter((f) => f.endsWith(".yaml")).map((f) => path.join("examples", f)) : [];
  return [...top, ...examples].sort();
}

/** Stack file config → what the engine hands the program: strings as they are, the rest as JSON; `secure:` values replaced by test secrets. */
function engineConfig(file: string): { config: Record<string, string>; secretKeys: string[] } {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, file), "utf8")) as { config?: Record<string, unknown> };
  const secretKeys: string[] = [];
  const unsecure = (v: unknown, at: string): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => unsecure(x, `${at}[${i}]`));
    if (v && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 1 && entries[0][0] === "secure") return `test-secret-${at}`;
      return Object.fromEntries(entries.map(([k, x]) => [k, unsecure(x, `${at}.${k}`)]));
    }
    return v;
  };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) secretKeys.push(key);
    const plain = unsecure(value, key);
    config[key] = typeof plain === "string" ? plain : JSON.stringify(plain);
  }
  return { config, secretKeys };
}

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  id: string;
}


/** Ids shaped like AWS's where the program checks their shape (the EC2 user data names the volume). */
const AWS_IDS: Record<string, string> = {
  "aws:ebs/volume:Volume": "vol-0123456789abcdef0",
  "aws:ec2/instance:Instance": "i-0fedcba9876543210",
  "aws:ec2/securityGroup:SecurityGroup": "sg-0123456789abcdef0",
};

/** Runs `index.ts` under mocks with the stack file's config; resolves when no new resource appears for a while. */
async function runProgram(file: string): Promise<{ registered: Registered[]; stack: string; engine: Map<string, EngineView> }> {
  const stack = stackNameOf(file);
  const { config, secretKeys } = engineConfig(file);
  const registered: Registered[] = [];
  let engine = new Map<string, EngineView>();
  let failure: unknown;
  const onRejection = (e: unknown) => (failure ??= e);
  process.on("unhandledRejection", onRejection);
  try {
    jest.isolateModules(() => {
      const pulumi: typeof pulumiType = require("@pulumi/pulumi");
      pulumi.runtime.setMocks(
        {
          newResource(args) {
            const id = AWS_IDS[args.type] ?? `${args.name}-id`;
            registered.push({ type: args.type, name: args.name, inputs: args.inputs, id });
            const extra = args.type === "aws:ec2/instance:Instance" ? { publicIp: "203.0.113.10", privateIp: "10.0.1.5" } : {};
            return { id, state: { ...args.inputs, ...extra } };
          },
          call: awsLookupMock,
        },
        "openwebui",
        stack,
        false,
      );
      engine = recordEngineView(pulumi.runtime);
      pulumi.runtime.setAllConfig(config, secretKeys);
      require("../index");
    });
    let seen = -1;
    for (let stable = 0; stable < 4; ) {
      await new Promise((r) => setTimeout(r, 100));
      stable = registered.length === seen ? stable + 1 : 0;
      seen = registered.length;
    }
  } finally {
    process.off("unhandledRejection", onRejection);
  }
  if (failure) throw failure;
  return { registered, stack, engine };
}

/** Registered resources as the policy pack sees them (props: inputs and id; URN and dependencies as the engine has them). */
function asPolicyResources(registered: Registered[], stack: string, engine: Map<string, EngineView>): StackResource[] {
  return registered.map((r) => {
    const view = engine.get(`${r.type}::${r.name}`);
    return {
      type: r.type,
      name: r.name,
      urn: view?.urn ?? `urn:pulumi:${stack}::openwebui::${r.type}::${r.name}`,
      props: { ...r.inputs, id: r.id },
      dependencies: (view?.dependencies ?? []).map((urn) => ({ urn })),
    };
  });
}

const files = exampleFiles();

describe("example stack files", () => {
  it("the repository has the dev stack and the prod example", () => {
    expect(files).toEqual(expect.arrayContaining(["Pulumi.dev.yaml", "Pulumi.prod.example.yaml"]));
    expect(stackNameOf("Pulumi.prod.example.yaml")).toBe("prod");
    expect(stackNameOf("examples/plan1.yaml")).toBe("plan1");
  });
});

describe.each(files)("%s", (file) => {
  const stack = stackNameOf(file);

  it("validates and renders every host's files; the shell parses", () => {
    const { hosts, placeholders } = renderStackFile(path.join(ROOT, file), stack, {});
    expect(hosts.length).toBeGreaterThan(0);
    for (const h of hosts) {
      expect(h.files.map((f) => f.path)).toContain("/usr/local/sbin/openwebui-backup");
      for (const f of h.files.filter((x) => x.content.startsWith("#!/usr/bin/env bash") || x.content.startsWith("#!/bin/bash"))) {
        const r = spawnSync("bash", ["-n"], { input: f.content });
        expect({ file: f.path, status: r.status, stderr: r.stderr.toString() }).toEqual({ file: f.path, status: 0, stderr: "" });
      }
      expect(spawnSync("bash", ["-n"], { input: h.installer }).status).toBe(0);
    }
    // Every encrypted value became a marked placeholder named after its environment variable.
    for (const p of placeholders) expect(p.envVar).toMatch(/^OPENWEBUI_[A-Z0-9_]+$/);
  });

  it("runs as the Pulumi program under mocks and passes the policy pack", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "examples-home-"));
    const oldHome = process.env.HOME;
    process.env.HOME = home; // SSH keys from config are written under ~/.ssh for Docker's ssh
    try {
      const { registered, engine } = await runProgram(file);
      const { config } = configFromStackFile(path.join(ROOT, file), {});
      const types = registered.map((r) => r.type);

      // What the file asks for is what the program declares.
      const withStack = config.hosts.filter((h) => h.openwebui);
      expect(types.filter((t) => t === "openwebui:docker:OpenWebUIStack")).toHaveLength(withStack.length);
      expect(types.filter((t) => t === "openwebui:host:BackupJobs")).toHaveLength(config.hosts.filter((h) => h.jobs.length > 0).length);
      expect(types.filter((t) => t === "aws:ec2/instance:Instance")).toHaveLength(config.hosts.filter((h) => h.provision?.aws).length);
      expect(types.filter((t) => t === "aws:dlm/lifecyclePolicy:LifecyclePolicy")).toHaveLength(config.hosts.filter((h) => h.snapshots?.aws).length);
      const managed = Object.values(config.targets).filter((t) => t.type !== "local" && t.managed);
      expect(types.filter((t) => t === "aws:s3/bucket:Bucket")).toHaveLength(managed.filter((t) => t.type === "s3").length);
      expect(types.filter((t) => t === "b2:index/bucket:Bucket")).toHaveLength(managed.filter((t) => t.type === "b2").length);

      const resources = asPolicyResources(registered, stack, engine);
      expect([
        ...s3BucketViolations(resources),
        ...b2BucketViolations(resources),
        ...prodSnapshotViolations(resources, stack),
        ...prodPreUpgradeViolations(resources, stack),
        ...containerPortViolations(resources),
      ]).toEqual([]);
      // Every host that runs Open WebUI backs it up before an image change.
      expect(types.filter((t) => t === "openwebui:host:PreUpgradeBackup")).toHaveLength(withStack.filter((h) => h.openwebui?.preUpgradeBackup !== false).length);
    } finally {
      process.env.HOME = oldHome;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("the prod example is the tutorial's plan 2", () => {
  it("daily restic to S3, daily snapshot to B2, weekly pull to the NAS, DLM daily and weekly, alerts", () => {
    const { config } = configFromStackFile(path.join(ROOT, "Pulumi.prod.example.yaml"), {});
    const jobs = config.hosts.flatMap((h) => h.jobs.map((j) => ({ host: h.name, method: j.method, schedule: j.schedule, target: config.targets[j.targets[0]].type })));
    expect(jobs).toEqual(
      expect.arrayContaining([
        { host: "web1", method: "restic", schedule: "*-*-* 02:00:00", target: "s3" },
        { host: "web1", method: "snapshot", schedule: "*-*-* 03:00:00", target: "b2" },
        { host: "nas", method: "pull", schedule: "Sun *-*-* 05:00:00", target: "local" },
      ]),
    );
    const web1 = config.hosts.find((h) => h.name === "web1")!;
    expect(web1.provision?.aws).toBeDefined();
    expect(web1.snapshots?.aws?.schedules.map((s) => s.name)).toEqual(["daily", "weekly"]);
    expect(config.notify.webhookUrl).toMatch(/^https:/);
    expect(config.notify.healthcheckUrl).toMatch(/^https:/);
  });
});
