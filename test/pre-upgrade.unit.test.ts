/**
 * The pre-upgrade backup inside `pulumi up`: its config (`hosts[].openwebui.preUpgradeBackup`,
 * bad values name the field and what is accepted), the command resource per host under Pulumi
 * mocks (over the host's connection, or local; the image in its triggers; after the backup
 * installation; before the Open WebUI container), that an image change touches nothing of the
 * backup files, and the policy that refuses `false` on prod stacks.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../config";
import { preUpgradeJob } from "../config/pre-upgrade";
import { preUpgradeCommand } from "../components/pre-upgrade-backup";
import { deployStack, stackOutputs } from "../program/deploy";
import { plainTargets } from "../scripts/render/plain-targets";
import { renderHostFiles } from "../scripts/render/host-files";
import { DOCKER_CONTAINER_TYPE, StackResource, prodPreUpgradeViolations } from "../policy/rules";
import { EngineView, dependsOn, engine, installMocks, promiseOf, registered, resourcesOfType, unwrapInput } from "./support/pulumi-mocks";

const OLD = "ghcr.io/open-webui/open-webui:v0.6.5";
const NEW = `ghcr.io/open-webui/open-webui:v0.11.4@sha256:${"9".repeat(64)}`;
const REMOTE = "command:remote:Command";
const LOCAL = "command:local:Command";
const CONTAINER = "docker:index/container:Container";

type Job = Record<string, unknown>;
const restic: Job = { name: "nightly", method: "restic", targets: ["nas"], retention: { daily: 7 } };
const snapshot: Job = { name: "copy", method: "snapshot", targets: ["nas"], retention: { keep: 3 } };
const sync: Job = { name: "mirror", method: "sync", targets: ["bucket"] };
const local: Job = { name: "local", method: "local-snapshot", targets: ["nas"], retention: { keep: 2 } };

function config(openwebui: Record<string, unknown> = {}, jobs: Job[] = [restic], host: Record<string, unknown> = {}) {
  return {
    targets: { nas: { type: "local", path: "/mnt/nas" }, bucket: { type: "s3", bucket: "mirror-bucket", region: "eu-central-1" } },
    hosts: [{ name: "web1", openwebui: { image: OLD, ...openwebui }, jobs, ...host }],
    resticPassword: "repo-password",
  };
}

function problemsOf(raw: unknown): { path: string; message: string }[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected the config to be refused");
}

// ---------------------------------------------------------------- config

describe("hosts[].openwebui.preUpgradeBackup", () => {
  test.each<[string, Job[], unknown, string | undefined]>([
    ["default: the first restic or snapshot job, after a sync job", [sync, snapshot, restic], undefined, "copy"],
    ["default: a restic job", [restic], undefined, "nightly"],
    ["named: a local-snapshot job", [restic, local], "local", "local"],
    ["named: a restic job", [snapshot, restic], "nightly", "nightly"],
    ["false: none, even with jobs", [restic], false, undefined],
    ["false: none, and no job needed", [], false, undefined],
  ])("%s", (_what, jobs, value, want) => {
    const host = parseStackConfig(config(value === undefined ? {} : { preUpgradeBackup: value }, jobs)).hosts[0];
    expect(preUpgradeJob(host)?.name).toBe(want);
  });

  const accepted = "accepted: the name of one of this host's restic, snapshot, local-snapshot jobs, or false for no backup before an image change";
  test.each<[string, unknown, Job[], string]>([
    ["no job at all", undefined, [], `is needed: host "web1" runs Open WebUI but has no restic or snapshot job to back it up before an image change; ${accepted} (it has none)`],
    ["only a sync job", undefined, [sync], `is needed: host "web1" runs Open WebUI but has no restic or snapshot job to back it up before an image change; ${accepted} (it has none)`],
    ["only a local-snapshot job, not named", undefined, [local], `is needed: host "web1" runs Open WebUI but has no restic or snapshot job to back it up before an image change; ${accepted} (its: local)`],
    ["a job the host does not have", "nightly-typo", [restic], `names no job of host "web1"; ${accepted} (its: nightly)`],
    ["a sync job", "mirror", [restic, sync], `names job "mirror" of method sync (a mirror its next run overwrites); ${accepted} (its: nightly)`],
    ["true", true, [restic], `expected ${accepted.replace("accepted: ", "")}`],
    ["a name with capitals", "Nightly", [restic], `expected ${accepted.replace("accepted: ", "")}`],
  ])("refused: %s", (_what, value, jobs, message) => {
    const problems = problemsOf(config(value === undefined ? {} : { preUpgradeBackup: value }, jobs)).filter((p) => p.path === "hosts[0].openwebui.preUpgradeBackup");
    expect(problems).toEqual([{ path: "hosts[0].openwebui.preUpgradeBackup", message }]);
  });

  test("a pull job is refused: it holds another host's data", () => {
    const pull = { name: "from-nas", method: "pull", targets: ["nas"], retention: { keep: 2 }, from: { host: "nas", sshKeyFile: "/k", path: "/p" } };
    const problems = problemsOf(config({ preUpgradeBackup: "from-nas" }, [restic, pull]));
    expect(problems).toContainEqual({ path: "hosts[0].openwebui.preUpgradeBackup", message: `names job "from-nas" of method pull (it holds another host's data); ${accepted} (its: nightly)` });
  });

  test("hosts without Open WebUI need nothing", () => {
    expect(() => parseStackConfig({ targets: { bucket: { type: "s3", bucket: "mirror-bucket", region: "eu-central-1" } }, hosts: [{ name: "nas", data: { dir: "/srv" }, jobs: [sync] }] })).not.toThrow();
  });
});

// ---------------------------------------------------------------- the program under mocks

/** Runs the whole program for a config under mocks, on a stack; resolves when no resource arrives any more. */
async function deploy(raw: unknown, stack = "test") {
  installMocks({ "docker:index/remoteImage:RemoteImage": (inputs) => ({ imageId: `sha256:id-of-${inputs.name}` }) }, stack);
  const deployment = stackOutputs(deployStack(parseStackConfig(raw), { stack }));
  await promiseOf(pulumi.output(deployment.openwebui));
  for (let seen = -1; seen !== registered.length; ) {
    seen = registered.length;
    await new Promise((r) => setTimeout(r, 50));
  }
  return deployment;
}

const one = (type: string, name: string) => {
  const found = registered.filter((r) => r.type === type && r.name === name);
  expect(found).toHaveLength(1);
  return found[0];
};
const openwebuiContainer = (host: string) => one(CONTAINER, `openwebui-${host}-openwebui`);

describe("the pre-upgrade command resource (mocks)", () => {
  test("over the host's SSH connection: runs pre-upgrade of the job as root, the image in its triggers", async () => {
    await deploy(config({}, [restic], { connection: { host: "203.0.113.10", user: "deploy", port: 2222, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n" } }));
    const cmd = one(REMOTE, "pre-upgrade-web1-run");
    expect(cmd.inputs.create).toBe(preUpgradeCommand("/usr/local/sbin/openwebui-backup", "nightly", OLD));
    expect(cmd.inputs.create).toBe(
      `if [ "$(id -u)" = 0 ]; then '/usr/local/sbin/openwebui-backup' pre-upgrade 'nightly' --to-image '${OLD}'; else sudo -n '/usr/local/sbin/openwebui-backup' pre-upgrade 'nightly' --to-image '${OLD}'; fi`,
    );
    expect(cmd.inputs.triggers).toEqual([OLD]);
    // The same connection as the backup installation: the key keeps it secret.
    const install = one(REMOTE, "backup-jobs-web1-install");
    const connection = unwrapInput(cmd.inputs.connection);
    expect(connection.secret).toBe(true);
    expect(connection.value).toEqual(unwrapInput(install.inputs.connection).value);
    expect(connection.value).toMatchObject({ host: "203.0.113.10", user: "deploy", port: 2222 });
    expect(resourcesOfType(LOCAL)).toEqual([]);
  });

  test("the dev host (no connection): a local command", async () => {
    await deploy(config());
    const cmd = one(LOCAL, "pre-upgrade-web1-run");
    expect(cmd.inputs.interpreter).toEqual(["/bin/sh", "-c"]);
    expect(cmd.inputs.create).toBe(preUpgradeCommand("/usr/local/sbin/openwebui-backup", "nightly", OLD));
    expect(cmd.inputs.triggers).toEqual([OLD]);
    expect(resourcesOfType(REMOTE)).toEqual([]);
    expect(registered.filter((r) => r.type === "openwebui:host:PreUpgradeBackup").map((r) => r.name)).toEqual(["pre-upgrade-web1"]);
  });

  test("after the backup installation, before the Open WebUI container", async () => {
    await deploy(config({ ollama: { image: "ollama/ollama:0.35.1" } }));
    const cmd = { type: LOCAL, name: "pre-upgrade-web1-run" };
    expect(dependsOn(cmd, { type: LOCAL, name: "backup-jobs-web1-install" })).toBe(true);
    expect(dependsOn(openwebuiContainer("web1"), cmd)).toBe(true);
    // Ollama's container holds no Open WebUI data: it does not wait for the backup.
    expect(dependsOn(one(CONTAINER, "openwebui-web1-ollama"), cmd)).toBe(false);
    // The container is labelled with the configured reference, which backups record.
    expect(openwebuiContainer("web1").inputs.labels).toContainEqual({ label: "openwebui.image", value: OLD });
  });

  test("one per host that runs Open WebUI; none where preUpgradeBackup is false", async () => {
    await deploy({
      targets: { nas: { type: "local", path: "/mnt/nas" }, bucket: { type: "s3", bucket: "mirror-bucket", region: "eu-central-1" } },
      hosts: [
        { name: "web1", connection: { host: "10.0.0.1" }, openwebui: { image: OLD }, jobs: [snapshot] },
        { name: "web2", connection: { host: "10.0.0.2" }, openwebui: { image: NEW, preUpgradeBackup: "local" }, jobs: [restic, local] },
        { name: "web3", connection: { host: "10.0.0.3" }, openwebui: { image: OLD, preUpgradeBackup: false }, jobs: [restic] },
        { name: "nas", data: { dir: "/srv" }, jobs: [restic] },
      ],
      resticPassword: "repo-password",
    });
    const commands = resourcesOfType(REMOTE).filter((r) => r.name.startsWith("pre-upgrade-"));
    expect(commands.map((c) => [c.name, unwrapInput(c.inputs.connection).value.host, c.inputs.triggers]).sort()).toEqual([
      ["pre-upgrade-web1-run", "10.0.0.1", [OLD]],
      ["pre-upgrade-web2-run", "10.0.0.2", [NEW]],
    ]);
    expect(one(REMOTE, "pre-upgrade-web2-run").inputs.create).toBe(preUpgradeCommand("/usr/local/sbin/openwebui-backup", "local", NEW));
    expect(dependsOn(openwebuiContainer("web1"), { type: REMOTE, name: "pre-upgrade-web1-run" })).toBe(true);
    expect(dependsOn(openwebuiContainer("web2"), { type: REMOTE, name: "pre-upgrade-web2-run" })).toBe(true);
    expect(engine.get(`${CONTAINER}::openwebui-web3-openwebui`)?.dependencies.some((u) => u.includes("pre-upgrade"))).toBe(false);
  });

  test("changing only the image changes the command's triggers and nothing of the backup files", async () => {
    const before = config({}, [restic, snapshot]);
    const after = config({ image: NEW }, [restic, snapshot]);
    // The host files, rendered from each config: the same, byte for byte.
    const render = (raw: unknown) => {
      const cfg = parseStackConfig(raw);
      return renderHostFiles({ stack: "prod", host: cfg.hosts[0], targets: plainTargets(cfg), notify: cfg.notify, resticPassword: cfg.resticPassword });
    };
    const [a, b] = [render(before), render(after)];
    expect(b.files).toEqual(a.files);
    expect(b.contentHash).toBe(a.contentHash);

    // Under mocks: what the engine gets for the installation is the same; the command's triggers move.
    const snapshotOf = async (raw: unknown) => {
      await deploy(raw);
      const install = one(LOCAL, "backup-jobs-web1-install");
      return { installTriggers: JSON.stringify(install.inputs.triggers), installStdin: JSON.stringify(install.inputs.stdin), cmd: one(LOCAL, "pre-upgrade-web1-run").inputs };
    };
    const x = await snapshotOf(before);
    const y = await snapshotOf(after);
    expect(y.installTriggers).toBe(x.installTriggers);
    expect(y.installStdin).toBe(x.installStdin);
    expect(x.cmd.triggers).toEqual([OLD]);
    expect(y.cmd.triggers).toEqual([NEW]);
  });
});

// ---------------------------------------------------------------- the policy pack

describe("policy: prod stacks back up before an image change", () => {
  const urn = (type: string, name: string, stack = "prod") => `urn:pulumi:${stack}::openwebui::${type}::${name}`;
  const container = (deps: string[], stack = "prod"): StackResource => ({
    type: DOCKER_CONTAINER_TYPE,
    name: "openwebui-web1-openwebui",
    urn: urn(DOCKER_CONTAINER_TYPE, "openwebui-web1-openwebui", stack),
    props: { name: "open-webui", labels: [{ label: "openwebui.host", value: "web1" }, { label: "openwebui.role", value: "openwebui" }] },
    dependencies: deps.map((u) => ({ urn: u })),
  });
  const command = (create: string): StackResource => ({ type: REMOTE, name: "pre-upgrade-web1-run", urn: urn(REMOTE, "pre-upgrade-web1-run"), props: { create } });
  const backup = command(preUpgradeCommand("/usr/local/sbin/openwebui-backup", "nightly", OLD));

  test("a container that waits for the pre-upgrade command passes", () => {
    expect(prodPreUpgradeViolations([backup, container([backup.urn])])).toEqual([]);
  });

  test.each<[string, StackResource[]]>([
    ["no command at all", [container([])]],
    ["a command the container does not wait for", [backup, container([])]],
    ["the container waits for another command", [command("docker exec ollama ollama pull x"), container([urn(REMOTE, "pre-upgrade-web1-run")])]],
  ])("refused on prod: %s", (_what, resources) => {
    const v = prodPreUpgradeViolations(resources);
    expect(v).toHaveLength(1);
    expect(v[0].message).toMatch(/^stack "prod" is a prod stack, but container open-webui of host "web1" would be replaced without a backup first; remove hosts\[\]\.openwebui\.preUpgradeBackup: false/);
    expect(v[0].urn).toBe(container([]).urn);
  });

  test("not a prod stack: no opinion", () => {
    expect(prodPreUpgradeViolations([container([], "dev")])).toEqual([]);
    expect(prodPreUpgradeViolations([container([], "staging-prod")])).toEqual([]);
  });

  /** The program's resources on stack "prod", as the policy pack sees them. */
  const asPolicy = (): StackResource[] =>
    registered.map((r) => {
      const view: EngineView | undefined = engine.get(`${r.type}::${r.name}`);
      return { type: r.type, name: r.name, urn: view!.urn, props: r.inputs, dependencies: (view?.dependencies ?? []).map((u) => ({ urn: u })) };
    });

  test("the program on a prod stack: the default passes, false is refused", async () => {
    await deploy(config(), "prod");
    expect(prodPreUpgradeViolations(asPolicy())).toEqual([]);
    await deploy(config({ preUpgradeBackup: false }), "prod");
    const v = prodPreUpgradeViolations(asPolicy());
    expect(v.map((x) => x.message)).toEqual([expect.stringContaining('stack "prod" is a prod stack, but container open-webui of host "web1" would be replaced without a backup first')]);
    // The same config on a dev stack is fine.
    await deploy(config({ preUpgradeBackup: false }), "dev");
    expect(prodPreUpgradeViolations(asPolicy())).toEqual([]);
  });
});
