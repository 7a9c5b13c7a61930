/**
 * The Open WebUI stack: its config (bad inputs name the field and what is accepted), the pure
 * planning functions, and the component under Pulumi mocks.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseStackConfig } from "../config";
import { hostDataLocation } from "../config/openwebui-service";
import {
  LOCAL_DOCKER_HOST,
  OpenWebUIStack,
  dataMount,
  dockerHostUrl,
  dockerSshOpts,
  modelPullCommand,
  modelResourceSuffix,
  ollamaGpus,
  openwebuiEnv,
  openwebuiPort,
  openwebuiUrl,
  writeSshKeyFile,
} from "../components/openwebui-stack";
import { DeployOpenWebUIOptions, deployOpenWebUIStacks, openwebuiStackOutputs } from "../program/deploy";
import { installMocks, isSecret, promiseOf, registered, resourcesOfType } from "./support/pulumi-mocks";

const OWUI_IMAGE = "ghcr.io/open-webui/open-webui:v0.6.5";
const OWUI_PINNED = `${OWUI_IMAGE}@sha256:${"a".repeat(64)}`;
const OLLAMA_IMAGE = "ollama/ollama:0.6.8";

/**
 * One host with an `openwebui` block; `over` replaces keys of the block, `host` keys of the host.
 * Without jobs, so without a pre-upgrade backup (test/pre-upgrade.test.ts covers that).
 */
function rawConfig(over: Record<string, unknown> = {}, host: Record<string, unknown> = {}) {
  return { hosts: [{ name: "box", openwebui: { image: OWUI_IMAGE, preUpgradeBackup: false, ...over }, ...host }] };
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

describe("openwebui config: bad inputs name the field and what is accepted", () => {
  test.each<[string, unknown, string, string | RegExp]>([
    ["image without a tag", rawConfig({ image: "ghcr.io/open-webui/open-webui" }), "hosts[0].openwebui.image", /^must be an image reference with a tag/],
    ["image with only a digest", rawConfig({ image: `ghcr.io/open-webui/open-webui@sha256:${"a".repeat(64)}` }), "hosts[0].openwebui.image", /^must be an image reference with a tag/],
    ["image with a short digest", rawConfig({ image: `${OWUI_IMAGE}@sha256:abc` }), "hosts[0].openwebui.image", /^must be an image reference with a tag/],
    ["image tagged latest", rawConfig({ image: "ghcr.io/open-webui/open-webui:latest" }), "hosts[0].openwebui.image", 'the tag "latest" is not a pin; use a version tag or add "@sha256:<digest>"'],
    ["image not a string", rawConfig({ image: 5 }), "hosts[0].openwebui.image", /^expected an image reference with a tag/],
    ["port 0", rawConfig({ port: 0 }), "hosts[0].openwebui.port", "must be a port number 1-65535"],
    ["port 65536", rawConfig({ port: 65536 }), "hosts[0].openwebui.port", "must be a port number 1-65535"],
    ["port 80.5", rawConfig({ port: 80.5 }), "hosts[0].openwebui.port", "must be a whole port number 1-65535"],
    ["port as text", rawConfig({ port: "3000" }), "hosts[0].openwebui.port", "expected a port number 1-65535"],
    ["bind address a name", rawConfig({ bindAddress: "localhost" }), "hosts[0].openwebui.bindAddress", 'must be an IPv4 or IPv6 address such as "127.0.0.1"'],
    [
      "0.0.0.0 without the flag",
      rawConfig({ bindAddress: "0.0.0.0" }),
      "hosts[0].openwebui.bindAddress",
      '"0.0.0.0" publishes Open WebUI on every interface; set hosts[0].openwebui.allowAllInterfaces: true to mean it, or use 127.0.0.1 behind a reverse proxy',
    ],
    ["lowercase env name", rawConfig({ env: { enable_signup: "false" } }), "hosts[0].openwebui.env.enable_signup", "is not an environment variable name; accepted: ^[A-Z_][A-Z0-9_]*$ (e.g. ENABLE_SIGNUP)"],
    ["env name with a dash", rawConfig({ env: { "ENABLE-SIGNUP": "false" } }), "hosts[0].openwebui.env.ENABLE-SIGNUP", /^is not an environment variable name/],
    ["env name starting with a digit", rawConfig({ env: { "1X": "y" } }), "hosts[0].openwebui.env.1X", /^is not an environment variable name/],
    ["env value not a string", rawConfig({ env: { ENABLE_SIGNUP: false } }), "hosts[0].openwebui.env.ENABLE_SIGNUP", "expected a string value"],
    ["env overriding the secret key", rawConfig({ env: { WEBUI_SECRET_KEY: "x" } }), "hosts[0].openwebui.env.WEBUI_SECRET_KEY", "is set by the stack; use hosts[0].openwebui.secretKey to give the key"],
    [
      "env overriding the Ollama URL",
      rawConfig({ env: { OLLAMA_BASE_URL: "http://x:11434" }, ollama: { image: OLLAMA_IMAGE } }),
      "hosts[0].openwebui.env.OLLAMA_BASE_URL",
      "is set by the stack to its Ollama container; disable hosts[0].openwebui.ollama to point at another Ollama",
    ],
    ["empty secret key", rawConfig({ secretKey: "" }), "hosts[0].openwebui.secretKey", "must not be empty"],
    ["unknown key", rawConfig({ volumes: {} }), "hosts[0].openwebui", /^unknown key "volumes"; accepted: image, port, bindAddress, allowAllInterfaces, secretKey, env, data, ollama, database, storage, preUpgradeBackup$/],
    ["relative data dir", rawConfig({ data: { dir: "srv/owui" } }), "hosts[0].openwebui.data.dir", 'must be an absolute path other than "/", without newlines or ".." segments'],
    ["data dir /", rawConfig({ data: { dir: "/" } }), "hosts[0].openwebui.data.dir", 'must be an absolute path other than "/", without newlines or ".." segments'],
    ["bad volume name", rawConfig({ data: { volume: "-x" } }), "hosts[0].openwebui.data.volume", "must be a Docker volume name (letters, digits, '_', '.', '-', starting with a letter or digit)"],
    ["data both volume and dir", rawConfig({ data: { volume: "x", dir: "/x" } }), "hosts[0].openwebui.data", "expected { volume: docker-volume-name } or { dir: /absolute/path }"],
    ["ollama enabled without image", rawConfig({ ollama: { enabled: true } }), "hosts[0].openwebui.ollama.image", "required when ollama is enabled (a tagged image such as ollama/ollama:0.35.1, digest preferred)"],
    ["ollama image without tag", rawConfig({ ollama: { image: "ollama/ollama" } }), "hosts[0].openwebui.ollama.image", /^must be an image reference with a tag/],
    ["ollama gpus a number", rawConfig({ ollama: { image: OLLAMA_IMAGE, gpus: 2 } }), "hosts[0].openwebui.ollama.gpus", 'expected "all" or a list of GPU device ids such as ["0", "1"]'],
    ["model name with a space", rawConfig({ ollama: { image: OLLAMA_IMAGE, models: ["llama 3"] } }), "hosts[0].openwebui.ollama.models[0]", 'must be an Ollama model name such as "llama3.2:3b"'],
    ["models with ollama disabled", rawConfig({ ollama: { enabled: false, models: ["llama3.2:3b"] } }), "hosts[0].openwebui.ollama.models", "needs ollama.enabled: true to pull models"],
    ["ollama data same as open-webui", rawConfig({ ollama: { image: OLLAMA_IMAGE, data: { volume: "open-webui" } } }), "hosts[0].openwebui.ollama.data", "must differ from hosts[0].openwebui.data ({ volume: open-webui })"],
    [
      "host data naming another volume",
      rawConfig({}, { data: { volume: "webui-old" } }),
      "hosts[0].data",
      "is { volume: webui-old } but the Open WebUI stack keeps its data in { volume: open-webui }; remove hosts[0].data (it is derived from hosts[0].openwebui.data) or make them the same",
    ],
    ["host data a dir, stack a volume", rawConfig({}, { data: { dir: "/srv/open-webui" } }), "hosts[0].data", /^is \{ dir: \/srv\/open-webui \} but the Open WebUI stack keeps its data in \{ volume: open-webui \}/],
    ["containers without open-webui", rawConfig({}, { containers: ["webui"] }), "hosts[0].containers", 'must include "open-webui", the container the Open WebUI stack runs (backups pause/stop it)'],
    ["no data and no openwebui", { hosts: [{ name: "box" }] }, "hosts[0].data", "required unless openwebui is set; expected { dir: /absolute/path } or { volume: docker-volume-name }"],
    [
      "two stacks on the local socket",
      { hosts: [{ name: "a", openwebui: { image: OWUI_IMAGE, preUpgradeBackup: false } }, { name: "b", openwebui: { image: OWUI_IMAGE, preUpgradeBackup: false } }] },
      "hosts[1].connection",
      "runs its Open WebUI stack on the same Docker daemon (the local Docker socket) as hosts[0]; container names would collide",
    ],
  ])("%s", (_what, raw, wantPath, wantMessage) => {
    const problems = problemsOf(raw);
    const atPath = problems.filter((p) => p.path === wantPath);
    expect(atPath).toHaveLength(1);
    if (typeof wantMessage === "string") expect(atPath[0].message).toBe(wantMessage);
    else expect(atPath[0].message).toMatch(wantMessage);
  });
});

describe("openwebui config: defaults and the derived data location", () => {
  test("defaults: 127.0.0.1:3000, named volumes open-webui and ollama, no Ollama", () => {
    const host = parseStackConfig(rawConfig()).hosts[0];
    expect(host.openwebui).toEqual({
      image: OWUI_IMAGE,
      port: 3000,
      bindAddress: "127.0.0.1",
      allowAllInterfaces: false,
      env: {},
      data: { volume: "open-webui" },
      ollama: { enabled: false, models: [], data: { volume: "ollama" } },
      preUpgradeBackup: false, // rawConfig's: it has no job
    });
    expect(host.containers).toEqual(["open-webui"]);
  });

  test.each<[string, Record<string, unknown>, Record<string, unknown>, unknown]>([
    ["derived from the default volume", {}, {}, { volume: "open-webui" }],
    ["derived from a configured volume", { data: { volume: "webui" } }, {}, { volume: "webui" }],
    ["derived from a bind directory", { data: { dir: "/srv/open-webui" } }, {}, { dir: "/srv/open-webui" }],
    ["explicit and equal", { data: { dir: "/srv/open-webui" } }, { data: { dir: "/srv/open-webui/" } }, { dir: "/srv/open-webui/" }],
  ])("host data %s", (_what, service, host, want) => {
    const parsed = parseStackConfig(rawConfig(service, host)).hosts[0];
    expect(parsed.data).toEqual(want);
    expect(hostDataLocation(parsed)).toEqual(want);
  });

  test("accepted: pinned digest, IPv6 loopback, 0.0.0.0 with the flag, OLLAMA_BASE_URL when Ollama is off", () => {
    const cfg = parseStackConfig(
      rawConfig({ image: OWUI_PINNED, bindAddress: "0.0.0.0", allowAllInterfaces: true, env: { OLLAMA_BASE_URL: "http://gpu-box:11434", ENABLE_SIGNUP: "false" } }),
    );
    expect(cfg.hosts[0].openwebui?.image).toBe(OWUI_PINNED);
    expect(parseStackConfig(rawConfig({ bindAddress: "::1" })).hosts[0].openwebui?.bindAddress).toBe("::1");
  });

  test("hosts without openwebui still need data, and keep it as given", () => {
    const cfg = parseStackConfig({ hosts: [{ name: "plain", data: { dir: "/srv/data" } }] });
    expect(cfg.hosts[0].data).toEqual({ dir: "/srv/data" });
    expect(cfg.hosts[0].openwebui).toBeUndefined();
  });
});

// ---------------------------------------------------------------- pure planning

const service = (over: Record<string, unknown> = {}) => parseStackConfig(rawConfig(over)).hosts[0].openwebui!;

describe("planning functions", () => {
  test.each([
    [undefined, LOCAL_DOCKER_HOST],
    [{ host: "box.example.org", user: "root", port: 22 }, "ssh://root@box.example.org:22"],
    [{ host: "10.0.0.5", user: "deploy", port: 2222 }, "ssh://deploy@10.0.0.5:2222"],
    [{ host: "2001:db8::1", user: "root", port: 22 }, "ssh://root@[2001:db8::1]:22"],
  ])("dockerHostUrl(%j) = %s", (conn, want) => {
    expect(dockerHostUrl(conn)).toBe(want);
  });

  test.each([
    [undefined, ["-o", "BatchMode=yes"]],
    ["/k/id-1", ["-o", "BatchMode=yes", "-i", "/k/id-1", "-o", "IdentitiesOnly=yes"]],
  ])("dockerSshOpts(%s)", (key, want) => {
    expect(dockerSshOpts(key)).toEqual(want);
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    ["no Ollama: only the key", {}, ["WEBUI_SECRET_KEY=k"]],
    ["Ollama: its URL on the stack network", { ollama: { image: OLLAMA_IMAGE } }, ["OLLAMA_BASE_URL=http://ollama:11434", "WEBUI_SECRET_KEY=k"]],
    ["extra env, sorted, values verbatim", { env: { ZED: "a b", ENABLE_SIGNUP: "false" } }, ["ENABLE_SIGNUP=false", "WEBUI_SECRET_KEY=k", "ZED=a b"]],
    ["external Ollama when disabled", { env: { OLLAMA_BASE_URL: "http://gpu:11434" } }, ["OLLAMA_BASE_URL=http://gpu:11434", "WEBUI_SECRET_KEY=k"]],
  ])("openwebuiEnv: %s", (_what, over, want) => {
    expect(openwebuiEnv(service(over), "k")).toEqual(want);
  });

  test.each<[Record<string, unknown>, unknown, string | undefined, string]>([
    [{}, { internal: 8080, external: 3000, ip: "127.0.0.1", protocol: "tcp" }, undefined, "http://127.0.0.1:3000"],
    [{ port: 8081, bindAddress: "10.1.2.3" }, { internal: 8080, external: 8081, ip: "10.1.2.3", protocol: "tcp" }, "box", "http://10.1.2.3:8081"],
    [{ bindAddress: "0.0.0.0", allowAllInterfaces: true }, { internal: 8080, external: 3000, ip: "0.0.0.0", protocol: "tcp" }, "box.example.org", "http://box.example.org:3000"],
    [{ bindAddress: "::1" }, { internal: 8080, external: 3000, ip: "::1", protocol: "tcp" }, undefined, "http://[::1]:3000"],
  ])("port and url for %j", (over, wantPort, hostAddress, wantUrl) => {
    expect(openwebuiPort(service(over))).toEqual(wantPort);
    expect(openwebuiUrl(service(over), hostAddress)).toBe(wantUrl);
  });

  test.each([
    [{ volume: "open-webui" }, "/app/backend/data", { containerPath: "/app/backend/data", volumeName: "open-webui" }],
    [{ dir: "/srv/ollama" }, "/root/.ollama", { containerPath: "/root/.ollama", hostPath: "/srv/ollama" }],
  ])("dataMount(%j, %s)", (loc, at, want) => {
    expect(dataMount(loc, at)).toEqual(want);
  });

  test.each([
    [undefined, undefined],
    ["all", "all"],
    [["0", "2"], "device=0,2"],
  ])("ollamaGpus(%j) = %s", (gpus, want) => {
    expect(ollamaGpus({ enabled: true, models: [], data: { volume: "ollama" }, gpus: gpus as never })).toBe(want);
  });

  test("model pulls quote the model name as one shell word", () => {
    expect(modelPullCommand("llama3.2:3b")).toBe("docker exec 'ollama' ollama pull 'llama3.2:3b'");
    expect(modelPullCommand("x'; rm -rf /")).toBe(`docker exec 'ollama' ollama pull 'x'\\''; rm -rf /'`);
  });

  test("model resource names are safe and distinct for names that slug alike", () => {
    expect(modelResourceSuffix("llama3.2:3b")).toMatch(/^llama3-2-3b-[0-9a-f]{8}$/);
    expect(modelResourceSuffix("a.b")).not.toBe(modelResourceSuffix("a-b"));
  });

  test("writeSshKeyFile writes 0600 in a 0700 dir, at a path that depends only on the key", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "owui-key-")), "keys");
    const a = writeSshKeyFile(dir, "-----KEY A-----");
    expect(writeSshKeyFile(dir, "-----KEY A-----")).toBe(a);
    expect(writeSshKeyFile(dir, "-----KEY B-----")).not.toBe(a);
    expect(fs.readFileSync(a, "utf8")).toBe("-----KEY A-----\n");
    expect(fs.statSync(a).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  });
});

// ---------------------------------------------------------------- the component under mocks

const T = {
  provider: "pulumi:providers:docker",
  container: "docker:index/container:Container",
  volume: "docker:index/volume:Volume",
  network: "docker:index/network:Network",
  image: "docker:index/remoteImage:RemoteImage",
  password: "random:index/randomPassword:RandomPassword",
  localCommand: "command:local:Command",
  remoteCommand: "command:remote:Command",
};

/**
 * Inputs the engine received: a secret arrives wrapped in the secret signature. Returns the
 * plain value and whether it was secret.
 */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function unwrap(v: any): { secret: boolean; value: any } {
  if (v && typeof v === "object" && v[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") return { secret: true, value: v.value };
  return { secret: false, value: v };
}

/** Options every resource was created with, by resource name (captured by a parent's transformation). */
interface Captured {
  opts: Map<string, pulumi.CustomResourceOptions>;
  props: Map<string, Record<string, unknown>>;
}

class TestRoot extends pulumi.ComponentResource {
  constructor(captured: Captured) {
    super("test:index:Root", "root", {}, {
      transformations: [
        (args) => {
          captured.opts.set(args.name, args.opts);
          captured.props.set(args.name, args.props);
          return undefined;
        },
      ],
    });
  }
}

/**
 * One run of the program against mocked state: `keys` is what the engine holds for each
 * RandomPassword (what a second `pulumi up` would read back from the state).
 */
async function runProgram(raw: unknown, keys: Record<string, string> = {}, sshKeyDir?: string, provisioned?: DeployOpenWebUIOptions["provisioned"]) {
  installMocks({
    [T.image]: (inputs) => ({ imageId: `sha256:id-of-${inputs.name}`, repoDigest: inputs.name }),
    [T.password]: (_inputs, name) => ({ result: keys[name] ?? `state-of-${name}` }),
  });
  const captured: Captured = { opts: new Map(), props: new Map() };
  const root = new TestRoot(captured);
  const stacks = deployOpenWebUIStacks(parseStackConfig(raw), { parent: root, sshKeyDir, provisioned });
  const stack = Object.values(stacks)[0];
  // Wait for every output so all resources are registered.
  const [dataLocation, containerNames, url, secretKey] = await Promise.all([
    promiseOf(stack.dataLocation),
    promiseOf(stack.containerNames),
    promiseOf(stack.url),
    promiseOf(stack.secretKey),
  ]);
  const envs = await promiseOf(stack.openwebuiContainer.envs as pulumi.Output<string[]>);
  await new Promise((r) => setTimeout(r, 10));
  return { stacks, stack, captured, dataLocation, containerNames, url, secretKey, envs };
}

const container = (name: string) => {
  const found = resourcesOfType(T.container).filter((r) => r.inputs.name === name);
  expect(found).toHaveLength(1);
  return found[0].inputs;
};

const withOllama = (over: Record<string, unknown> = {}, host: Record<string, unknown> = {}) =>
  rawConfig({ ollama: { image: OLLAMA_IMAGE, ...over } }, host);

describe("OpenWebUIStack under mocks", () => {
  test("local host: the provider uses the local socket; one stack per host with openwebui", async () => {
    const { stacks } = await runProgram({
      hosts: [
        { name: "box", openwebui: { image: OWUI_IMAGE, preUpgradeBackup: false } },
        { name: "nas", data: { dir: "/srv/data" } },
      ],
    });
    expect(Object.keys(stacks)).toEqual(["box"]);
    const providers = resourcesOfType(T.provider);
    expect(providers).toHaveLength(1);
    expect(providers[0].name).toBe("openwebui-box-docker");
    expect(providers[0].inputs.host).toBe("unix:///var/run/docker.sock");
    expect(providers[0].inputs.sshOpts).toBeUndefined();
  });

  test("SSH host: ssh://user@host:port, and the key reaches ssh as a 0600 file, kept secret", async () => {
    const keyDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "owui-ssh-")), "k");
    const { stack, captured } = await runProgram(
      rawConfig({}, { connection: { host: "box.example.org", user: "deploy", port: 2222, privateKey: "-----PRIVATE-----" } }),
      {},
      keyDir,
    );
    const provider = resourcesOfType(T.provider)[0];
    expect(provider.inputs.host).toBe("ssh://deploy@box.example.org:2222");
    const sshOpts = unwrap(provider.inputs.sshOpts);
    expect(sshOpts.secret).toBe(true);
    // Provider config reaches the engine JSON-encoded.
    const opts: string[] = JSON.parse(sshOpts.value);
    const keyFile = opts[opts.indexOf("-i") + 1];
    expect(opts).toEqual(["-o", "BatchMode=yes", "-i", keyFile, "-o", "IdentitiesOnly=yes"]);
    expect(path.dirname(keyFile)).toBe(keyDir);
    expect(fs.readFileSync(keyFile, "utf8")).toBe("-----PRIVATE-----\n");
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    // Every docker resource goes through this host's provider.
    for (const r of registered.filter((r) => r.type.startsWith("docker:"))) {
      expect(captured.opts.get(r.name)?.provider).toBe(stack.provider);
    }
  });

  test("SSH host without a key: the agent's keys, never a prompt", async () => {
    await runProgram(rawConfig({}, { connection: { host: "10.0.0.5" } }));
    const provider = resourcesOfType(T.provider)[0];
    expect(provider.inputs.host).toBe("ssh://root@10.0.0.5:22");
    expect(JSON.parse(provider.inputs.sshOpts)).toEqual(["-o", "BatchMode=yes"]);
  });

  test("a provisioned host: the provider and model pulls use the address of the resource", async () => {
    const address = pulumi.output("203.0.113.7");
    const { url } = await runProgram(withOllama({ models: ["llama3.2:3b"] }), {}, undefined, { box: { address, user: "admin" } });
    expect(resourcesOfType(T.provider)[0].inputs.host).toBe("ssh://admin@203.0.113.7:22");
    expect(unwrap(resourcesOfType(T.remoteCommand)[0].inputs.connection).value).toMatchObject({ host: "203.0.113.7", user: "admin", port: 22 });
    expect(url).toBe("http://127.0.0.1:3000");

    // A configured connection keeps its user and port; only the address comes from the resource.
    await runProgram(rawConfig({}, { connection: { host: "old.example.org", user: "deploy", port: 2200 } }), {}, undefined, { box: { address, user: "admin" } });
    expect(resourcesOfType(T.provider)[0].inputs.host).toBe("ssh://deploy@203.0.113.7:2200");
  });

  test("named volumes (default): created with retainOnDelete, mounted at the data paths", async () => {
    const { captured, dataLocation, containerNames } = await runProgram(withOllama());
    const volumes = resourcesOfType(T.volume);
    expect(volumes.map((v) => v.inputs.name).sort()).toEqual(["ollama", "open-webui"]);
    for (const v of volumes) expect(captured.opts.get(v.name)?.retainOnDelete).toBe(true);
    expect(container("open-webui").volumes).toEqual([{ containerPath: "/app/backend/data", volumeName: "open-webui" }]);
    expect(container("ollama").volumes).toEqual([{ containerPath: "/root/.ollama", volumeName: "ollama" }]);
    expect(dataLocation).toEqual({ volume: "open-webui" });
    expect(containerNames).toEqual(["open-webui", "ollama"]);
  });

  test("bind directories: no volume resources, host paths mounted at the data paths", async () => {
    const { dataLocation } = await runProgram(rawConfig({ data: { dir: "/srv/open-webui" }, ollama: { image: OLLAMA_IMAGE, data: { dir: "/srv/ollama" } } }));
    expect(resourcesOfType(T.volume)).toHaveLength(0);
    expect(container("open-webui").volumes).toEqual([{ containerPath: "/app/backend/data", hostPath: "/srv/open-webui" }]);
    expect(container("ollama").volumes).toEqual([{ containerPath: "/root/.ollama", hostPath: "/srv/ollama" }]);
    expect(dataLocation).toEqual({ dir: "/srv/open-webui" });
  });

  test("images are pulled by the configured pinned reference and containers run that image", async () => {
    await runProgram(withOllama({}, {}));
    const images = resourcesOfType(T.image).map((i) => i.inputs.name).sort();
    expect(images).toEqual([OLLAMA_IMAGE, OWUI_IMAGE].sort());
    expect(container("open-webui").image).toBe(`sha256:id-of-${OWUI_IMAGE}`);
    expect(container("ollama").image).toBe(`sha256:id-of-${OLLAMA_IMAGE}`);

    await runProgram(rawConfig({ image: OWUI_PINNED }));
    expect(resourcesOfType(T.image).map((i) => i.inputs.name)).toEqual([OWUI_PINNED]);
  });

  test("env: OLLAMA_BASE_URL to the ollama alias, WEBUI_SECRET_KEY from the RandomPassword, as a secret", async () => {
    const { envs, captured, secretKey, stack } = await runProgram(withOllama(), { "openwebui-box-secret-key": "key-from-state" });
    expect(envs).toEqual(["OLLAMA_BASE_URL=http://ollama:11434", "WEBUI_SECRET_KEY=key-from-state"]);
    expect(secretKey).toBe("key-from-state");
    expect(container("ollama").networksAdvanced).toEqual([{ name: "openwebui", aliases: ["ollama"] }]);
    expect(container("open-webui").networksAdvanced).toEqual([{ name: "openwebui" }]);
    // What the engine receives for the container's env is a secret.
    expect(unwrap(container("open-webui").envs)).toEqual({ secret: true, value: envs });
    expect(await isSecret(stack.secretKey)).toBe(true);
    expect(captured.opts.get("openwebui-box-openwebui")?.additionalSecretOutputs).toContain("envs");
    const password = resourcesOfType(T.password);
    expect(password).toHaveLength(1);
    expect(password[0].inputs).toMatchObject({ length: 48, special: false });
    expect(password[0].inputs.keepers).toBeUndefined();
  });

  test("the secret key is the same across two runs with the same state, and follows the state", async () => {
    const first = await runProgram(rawConfig());
    const second = await runProgram(rawConfig());
    expect(first.envs).toEqual(["WEBUI_SECRET_KEY=state-of-openwebui-box-secret-key"]);
    expect(second.envs).toEqual(first.envs);
    // A different state (a new stack) gives a different key: it comes from the resource.
    const other = await runProgram(rawConfig(), { "openwebui-box-secret-key": "another" });
    expect(other.envs).toEqual(["WEBUI_SECRET_KEY=another"]);
  });

  test("a secretKey from config wins over the generated one", async () => {
    const { envs, secretKey, stack } = await runProgram(rawConfig({ secretKey: "existing-installation-key" }));
    expect(envs).toEqual(["WEBUI_SECRET_KEY=existing-installation-key"]);
    expect(secretKey).toBe("existing-installation-key");
    expect(await isSecret(stack.secretKey)).toBe(true);
  });

  test("health checks, restart policy, labels and replacement options", async () => {
    const { captured } = await runProgram(withOllama({ gpus: "all" }));
    const owui = container("open-webui");
    expect(owui.restart).toBe("unless-stopped");
    expect(owui.healthcheck.tests).toEqual(["CMD-SHELL", "curl --silent --fail http://localhost:8080/health || exit 1"]);
    expect(owui.labels).toContainEqual({ label: "openwebui.backup", value: "data" });
    expect(owui.labels).toContainEqual({ label: "openwebui.host", value: "box" });
    const ollama = container("ollama");
    expect(ollama.restart).toBe("unless-stopped");
    expect(ollama.healthcheck.tests).toEqual(["CMD", "ollama", "list"]);
    expect(ollama.gpus).toBe("all");
    expect(ollama.ports).toBeUndefined();
    // Fixed container names: the old container must go before its replacement starts.
    expect(captured.opts.get("openwebui-box-openwebui")?.deleteBeforeReplace).toBe(true);
    expect(captured.opts.get("openwebui-box-ollama")?.deleteBeforeReplace).toBe(true);
  });

  test("the port is published on 127.0.0.1:3000 by default", async () => {
    const { url } = await runProgram(rawConfig());
    expect(container("open-webui").ports).toEqual([{ internal: 8080, external: 3000, ip: "127.0.0.1", protocol: "tcp" }]);
    expect(url).toBe("http://127.0.0.1:3000");
  });

  test("no Ollama: one container, no OLLAMA_BASE_URL, no GPU", async () => {
    const { containerNames, envs } = await runProgram(rawConfig());
    expect(resourcesOfType(T.container).map((c) => c.inputs.name)).toEqual(["open-webui"]);
    expect(containerNames).toEqual(["open-webui"]);
    expect(envs.some((e) => e.startsWith("OLLAMA_BASE_URL="))).toBe(false);
  });

  test("models are pulled after start: locally, or over SSH with the secret key", async () => {
    await runProgram(withOllama({ models: ["llama3.2:3b"] }));
    const local = resourcesOfType(T.localCommand);
    expect(local.map((c) => c.inputs.create)).toEqual(["docker exec 'ollama' ollama pull 'llama3.2:3b'"]);
    expect(container("ollama").wait).toBe(true);

    const { captured, stack } = await runProgram(withOllama({ models: ["qwen2.5:7b", "nomic-embed-text"] }, { connection: { host: "box.example.org", privateKey: "K" } }), {}, fs.mkdtempSync(path.join(os.tmpdir(), "owui-ssh-")));
    const remote = resourcesOfType(T.remoteCommand);
    expect(remote.map((c) => c.inputs.create).sort()).toEqual(["docker exec 'ollama' ollama pull 'nomic-embed-text'", "docker exec 'ollama' ollama pull 'qwen2.5:7b'"]);
    for (const r of remote) {
      const connection = unwrap(r.inputs.connection);
      expect(connection).toEqual({ secret: true, value: { host: "box.example.org", user: "root", port: 22, privateKey: "K" } });
      // After the container is healthy (it is created with wait: true).
      expect(captured.opts.get(r.name)?.dependsOn).toEqual([stack.ollamaContainer]);
    }
  });

  test("outputs for index.ts carry no secret key", async () => {
    const { stacks } = await runProgram(rawConfig());
    const outputs = openwebuiStackOutputs(stacks);
    expect(Object.keys(outputs.box).sort()).toEqual(["containerNames", "dataLocation", "url"]);
  });

  test("the component refuses an enabled Ollama without an image (when built without the schema)", () => {
    installMocks();
    const svc = service();
    expect(() => new OpenWebUIStack("bad", { hostName: "box", service: { ...svc, ollama: { ...svc.ollama, enabled: true } } })).toThrow(/openwebui.ollama.image is required/);
  });
});
