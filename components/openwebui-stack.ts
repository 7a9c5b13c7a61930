/**
 * The Open WebUI stack on one Docker host: Open WebUI, optionally Ollama, their data
 * locations and a secret key that survives updates. Containers may be replaced at will;
 * the data volumes are never deleted by Pulumi (`retainOnDelete`): `pulumi destroy` only
 * forgets them. To really delete the data, on the host after the destroy:
 * `docker volume rm open-webui ollama` (or the configured names; bind directories with `rm -r`).
 *
 * Planning (names, env, ports, mounts, URLs) is in the pure functions below; the component
 * only wires resources.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { DATABASE_CONTAINER, DEFAULT_DATABASE_VOLUME, STACK_DATABASE_NAME, STACK_DATABASE_USER } from "../config/database";
import { DataLocation, OLLAMA_CONTAINER, OPENWEBUI_CONTAINER, OllamaServiceConfig, OpenWebUIServiceConfig, stackDataLocation } from "../config/openwebui-service";
import { shellQuote } from "../scripts/render/shell";
import type { ResolvedObjectStorage } from "../scripts/render/types";
import { SshEndpoint } from "./ssh-endpoint";

// ---------------------------------------------------------------- planning (pure)

/** Where Open WebUI and Ollama keep their data inside their containers. */
export const OPENWEBUI_DATA_PATH = "/app/backend/data";
export const OLLAMA_DATA_PATH = "/root/.ollama";
export const OPENWEBUI_INTERNAL_PORT = 8080;
export const OLLAMA_PORT = 11434;
export const POSTGRES_PORT = 5432;
/** The Docker network both containers join; Ollama is reachable on it by its container name. */
export const STACK_NETWORK = "openwebui";
export const LOCAL_DOCKER_HOST = "unix:///var/run/docker.sock";

export interface DockerConnection {
  readonly host: string;
  readonly user: string;
  readonly port: number;
}

/** `ssh://user@host:port` for a remote host (IPv6 in brackets), the local socket otherwise. */
export function dockerHostUrl(connection?: DockerConnection): string {
  if (!connection) return LOCAL_DOCKER_HOST;
  const host = connection.host.includes(":") ? `[${connection.host}]` : connection.host;
  return `ssh://${connection.user}@${host}:${connection.port}`;
}

/**
 * Extra `ssh` flags for the Docker CLI's SSH transport: never prompt (a prompt would hang
 * `pulumi up`), and use exactly the configured key when there is one.
 */
export function dockerSshOpts(keyFile?: string): string[] {
  const opts = ["-o", "BatchMode=yes"];
  return keyFile ? [...opts, "-i", keyFile, "-o", "IdentitiesOnly=yes"] : opts;
}

/** The `OLLAMA_BASE_URL` Open WebUI gets: the Ollama container by its name on the stack network. */
export function ollamaBaseUrl(): string {
  return `http://${OLLAMA_CONTAINER}:${OLLAMA_PORT}`;
}

/** Where Open WebUI keeps things outside its data volume, as the stack resolved them. */
export interface OpenWebUIEnvSources {
  /** `DATABASE_URL`: the stack's database container, or the configured URL. */
  readonly databaseUrl?: string;
  /** Open WebUI's files in S3. */
  readonly storage?: ResolvedObjectStorage;
}

/** `DATABASE_URL` of the database container the stack runs, on the stack network. */
export function stackDatabaseUrl(password: string): string {
  return `postgresql://${STACK_DATABASE_USER}:${encodeURIComponent(password)}@${DATABASE_CONTAINER}:${POSTGRES_PORT}/${STACK_DATABASE_NAME}`;
}

/** `STORAGE_PROVIDER=s3` and its S3_* variables; a key only when the storage has one (else ambient credentials). */
export function storageEnv(storage: ResolvedObjectStorage): Record<string, string> {
  const env: Record<string, string> = { STORAGE_PROVIDER: "s3", S3_BUCKET_NAME: storage.bucket, S3_KEY_PREFIX: storage.prefix };
  if (storage.endpoint) env.S3_ENDPOINT_URL = storage.endpoint;
  if (storage.region) env.S3_REGION_NAME = storage.region;
  if (storage.accessKeyId && storage.secretAccessKey) {
    env.S3_ACCESS_KEY_ID = storage.accessKeyId;
    env.S3_SECRET_ACCESS_KEY = storage.secretAccessKey;
  }
  return env;
}

/**
 * Open WebUI's environment as `NAME=value`, sorted by name: the extra env from config, then the
 * variables the stack owns (the config schema refuses those in `env`): the secret key, Ollama's
 * URL, the database (`DATABASE_URL`, and `VECTOR_DB=pgvector` for vectors in it; PGVECTOR_DB_URL
 * defaults to DATABASE_URL) and the S3 storage.
 */
export function openwebuiEnv(service: OpenWebUIServiceConfig, secretKey: string, sources: OpenWebUIEnvSources = {}): string[] {
  const env: Record<string, string> = { ...service.env, WEBUI_SECRET_KEY: secretKey };
  if (service.ollama.enabled) env.OLLAMA_BASE_URL = ollamaBaseUrl();
  if (sources.databaseUrl !== undefined) {
    env.DATABASE_URL = sources.databaseUrl;
    if (service.database?.postgres.vectors) env.VECTOR_DB = "pgvector";
  }
  if (sources.storage) Object.assign(env, storageEnv(sources.storage));
  return Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`);
}

/**
 * Where the postgres image keeps its cluster: /var/lib/postgresql/data up to 17, the parent
 * (with a per-version directory inside) from 18 on, whose entrypoint refuses a volume on the old path.
 */
export function postgresDataPath(image: string): string {
  const tag = /:([^@/]+)(@|$)/.exec(image)?.[1] ?? "";
  const major = Number(/^(?:pg)?(\d+)/.exec(tag)?.[1] ?? NaN);
  return Number.isFinite(major) && major >= 18 ? "/var/lib/postgresql" : "/var/lib/postgresql/data";
}

/** The database container's environment: the role and database the image creates on first start. */
export function postgresEnv(password: string): string[] {
  return [`POSTGRES_DB=${STACK_DATABASE_NAME}`, `POSTGRES_PASSWORD=${password}`, `POSTGRES_USER=${STACK_DATABASE_USER}`];
}

/** Healthy once the server accepts connections to Open WebUI's database. */
export function postgresHealthcheck(): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD", "pg_isready", "-U", STACK_DATABASE_USER, "-d", STACK_DATABASE_NAME], interval: "10s", timeout: "5s", retries: 5, startPeriod: "30s" };
}

/** The published port: `bindAddress:port` on the host to 8080 in the container. */
export function openwebuiPort(service: OpenWebUIServiceConfig): docker.types.input.ContainerPort {
  return { internal: OPENWEBUI_INTERNAL_PORT, external: service.port, ip: service.bindAddress, protocol: "tcp" };
}

/** Where to reach Open WebUI, as seen from the Docker host (or from anywhere when published on all interfaces). */
export function openwebuiUrl(service: OpenWebUIServiceConfig, hostAddress?: string): string {
  const allInterfaces = service.bindAddress === "0.0.0.0" || service.bindAddress === "::";
  const address = allInterfaces ? (hostAddress ?? "localhost") : service.bindAddress;
  return `http://${address.includes(":") ? `[${address}]` : address}:${service.port}`;
}

/** A data location mounted at `containerPath`: the named volume, or the host directory. */
export function dataMount(location: DataLocation, containerPath: string): { containerPath: string; volumeName?: string; hostPath?: string } {
  return "dir" in location ? { containerPath, hostPath: location.dir } : { containerPath, volumeName: location.volume };
}

/** The Docker `--gpus` value: `all` or `device=0,1`; undefined for no GPU access. */
export function ollamaGpus(ollama: OllamaServiceConfig): string | undefined {
  if (!ollama.gpus) return undefined;
  return ollama.gpus === "all" ? "all" : `device=${ollama.gpus.join(",")}`;
}

/** Labels by which backup jobs and operators find the stack's containers and volumes. */
export function stackLabels(hostName: string, role: "openwebui" | "ollama" | "database", backup?: "data" | "database"): { label: string; value: string }[] {
  const labels = [
    { label: "openwebui.host", value: hostName },
    { label: "openwebui.role", value: role },
  ];
  return backup ? [...labels, { label: "openwebui.backup", value: backup }] : labels;
}

/** The shell command that pulls one model into the running Ollama container. */
export function modelPullCommand(model: string): string {
  return `docker exec ${shellQuote(OLLAMA_CONTAINER)} ollama pull ${shellQuote(model)}`;
}

/** A resource-name-safe, unique suffix for a model: `llama3.2:3b` → `llama3-2-3b-<hash>`. */
export function modelResourceSuffix(model: string): string {
  const slug = model.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${slug}-${crypto.createHash("sha256").update(model).digest("hex").slice(0, 8)}`;
}

/** The Open WebUI health check: its `/health` endpoint, with time for a first start. */
export function openwebuiHealthcheck(): docker.types.input.ContainerHealthcheck {
  return {
    tests: ["CMD-SHELL", `curl --silent --fail http://localhost:${OPENWEBUI_INTERNAL_PORT}/health || exit 1`],
    interval: "30s",
    timeout: "10s",
    retries: 3,
    // The first start downloads embedding models before it answers.
    startPeriod: "180s",
  };
}

export function ollamaHealthcheck(): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD", "ollama", "list"], interval: "30s", timeout: "10s", retries: 3, startPeriod: "20s" };
}

/**
 * Writes an SSH private key where the `ssh` run by the Docker provider can read it, and returns
 * the path. The name is derived from the key so the provider config (and so every resource) does
 * not change between runs. The directory is 0700, the file 0600.
 */
export function writeSshKeyFile(dir: string, privateKey: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, `id-${crypto.createHash("sha256").update(privateKey).digest("hex").slice(0, 16)}`);
  const content = privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`;
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== content) fs.writeFileSync(file, content, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

// ---------------------------------------------------------------- the component

export interface OpenWebUIStackArgs {
  /** The host's name in config; written into the labels. */
  readonly hostName: string;
  /** The host's validated `openwebui` block. */
  readonly service: OpenWebUIServiceConfig;
  /** How to reach the Docker daemon over SSH; absent: the local Docker socket. */
  readonly connection?: SshEndpoint;
  /** Where a configured SSH private key is written for the Docker CLI's `ssh`; default `~/.ssh/pulumi-openwebui`. */
  readonly sshKeyDir?: string;
  /** Required with `service.storage`: the bucket and key Open WebUI stores its files with. */
  readonly objectStorage?: pulumi.Input<ResolvedObjectStorage>;
  /** What the Open WebUI container waits for (the pre-upgrade backup): if it fails, the container is not replaced. */
  readonly containerDependsOn?: pulumi.Input<pulumi.Resource>[];
}

export class OpenWebUIStack extends pulumi.ComponentResource {
  /** What backups read: the host directory, or the volume name (resolved with `docker volume inspect`). */
  readonly dataLocation: pulumi.Output<DataLocation>;
  /** The stack's containers; backups pause/stop `open-webui`. */
  readonly containerNames: pulumi.Output<string[]>;
  /** Open WebUI's address as seen from the host. */
  readonly url: pulumi.Output<string>;
  /** `WEBUI_SECRET_KEY` (secret). Keep it with the backups: a restore needs the same key. */
  readonly secretKey: pulumi.Output<string>;
  readonly provider: docker.Provider;
  readonly openwebuiContainer: docker.Container;
  readonly ollamaContainer?: docker.Container;
  /** The PostgreSQL container, when the stack runs the database (`database.postgres.image`). */
  readonly databaseContainer?: docker.Container;
  /** The generated password of its role (secret); absent when the stack runs no database. */
  readonly databasePassword?: pulumi.Output<string>;

  constructor(name: string, args: OpenWebUIStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openwebui:docker:OpenWebUIStack", name, {}, opts);
    const { service, hostName } = args;
    if (service.ollama.enabled && !service.ollama.image) {
      throw new pulumi.ResourceError(`host "${hostName}": openwebui.ollama.image is required when ollama is enabled`, this);
    }

    const conn = args.connection;
    const address = conn ? pulumi.output(conn.host) : undefined;
    const privateKey = conn?.privateKey ? pulumi.secret(conn.privateKey) : undefined;
    const keyDir = args.sshKeyDir ?? path.join(os.homedir(), ".ssh", "pulumi-openwebui");
    this.provider = new docker.Provider(
      `${name}-docker`,
      {
        host: conn && address ? address.apply((host) => dockerHostUrl({ ...conn, host })) : LOCAL_DOCKER_HOST,
        sshOpts: conn ? (privateKey ? privateKey.apply((k) => dockerSshOpts(writeSshKeyFile(keyDir, k))) : dockerSshOpts()) : undefined,
      },
      { parent: this },
    );
    const on = { parent: this, provider: this.provider };
    // Names on the daemon are fixed, so a replacement must remove the old one first.
    const replaced = { ...on, deleteBeforeReplace: true };

    const network = new docker.Network(`${name}-network`, { name: STACK_NETWORK, labels: stackLabels(hostName, "openwebui") }, replaced);

    const volume = (suffix: string, location: DataLocation, role: "openwebui" | "ollama") =>
      "volume" in location
        ? new docker.Volume(`${name}-${suffix}`, { name: location.volume, labels: stackLabels(hostName, role, role === "openwebui" ? "data" : undefined) }, { ...on, retainOnDelete: true })
        : undefined;
    // Mount the volume by its resource's name, so the container depends on the volume.
    const mount = (location: DataLocation, vol: docker.Volume | undefined, containerPath: string) =>
      vol ? { containerPath, volumeName: vol.name } : dataMount(location, containerPath);

    // The key Open WebUI encrypts stored credentials with. Kept in the state, so it is the
    // same on every update; a key from config (an existing installation's) takes precedence.
    const generatedKey = new random.RandomPassword(`${name}-secret-key`, { length: 48, special: false }, { parent: this });
    this.secretKey = pulumi.secret(service.secretKey ? pulumi.output(service.secretKey) : generatedKey.result);

    let ollama: docker.Container | undefined;
    if (service.ollama.enabled && service.ollama.image) {
      const ollamaData = stackDataLocation({ ...service, data: service.ollama.data });
      const ollamaVolume = volume("ollama-data", ollamaData, "ollama");
      const ollamaImage = new docker.RemoteImage(`${name}-ollama-image`, { name: service.ollama.image, keepLocally: true }, on);
      ollama = new docker.Container(
        `${name}-ollama`,
        {
          name: OLLAMA_CONTAINER,
          image: ollamaImage.imageId,
          restart: "unless-stopped",
          volumes: [mount(ollamaData, ollamaVolume, OLLAMA_DATA_PATH)],
          gpus: ollamaGpus(service.ollama),
          networksAdvanced: [{ name: network.name, aliases: [OLLAMA_CONTAINER] }],
          healthcheck: ollamaHealthcheck(),
          // Model pulls below need the server up.
          wait: service.ollama.models.length > 0,
          waitTimeout: 120,
          labels: stackLabels(hostName, "ollama"),
          removeVolumes: false,
        },
        replaced,
      );
      this.ollamaContainer = ollama;
      this.pullModels(name, service.ollama.models, ollama, conn, address, privateKey);
    }

    const { container: database, url: databaseUrl, password: databasePassword } = this.database(name, args, network, on, replaced);
    this.databaseContainer = database;
    this.databasePassword = databasePassword;
    if (service.storage && !args.objectStorage) {
      throw new pulumi.ResourceError(`host "${hostName}": openwebui.storage needs the resolved bucket and key (objectStorage)`, this);
    }

    const data = stackDataLocation(service);
    const dataVolume = volume("data", data, "openwebui");
    const image = new docker.RemoteImage(`${name}-openwebui-image`, { name: service.image, keepLocally: true }, on);
    this.openwebuiContainer = new docker.Container(
      `${name}-openwebui`,
      {
        name: OPENWEBUI_CONTAINER,
        image: image.imageId,
        restart: "unless-stopped",
        envs: pulumi.secret(
          pulumi.all([this.secretKey, databaseUrl, args.objectStorage]).apply(([key, url, storage]) => openwebuiEnv(service, key, { databaseUrl: url, storage })),
        ),
        ports: [openwebuiPort(service)],
        volumes: [mount(data, dataVolume, OPENWEBUI_DATA_PATH)],
        networksAdvanced: [{ name: network.name }],
        healthcheck: openwebuiHealthcheck(),
        // The policy pack refuses 0.0.0.0 unless this label says the config asked for it.
        labels: [
          ...stackLabels(hostName, "openwebui", "data"),
          // The container is created from an image id; backups record this reference as its version.
          { label: "openwebui.image", value: service.image },
          ...(service.allowAllInterfaces ? [{ label: "openwebui.allow-all-interfaces", value: "true" }] : []),
        ],
        removeVolumes: false,
      },
      // The database container is created with wait: Open WebUI starts once it is healthy; and it
      // waits for its pre-upgrade backup, so a failed backup leaves the old container in place.
      { ...replaced, dependsOn: [...(ollama ? [ollama] : []), ...(database ? [database] : []), ...(args.containerDependsOn ?? [])], additionalSecretOutputs: ["envs"] },
    );

    this.dataLocation = dataVolume ? dataVolume.name.apply((v): DataLocation => ({ volume: v })) : pulumi.output(data);
    this.containerNames = pulumi.all([this.openwebuiContainer.name, ...(ollama ? [ollama.name] : [])]);
    this.url = address ? address.apply((a) => openwebuiUrl(service, a)) : pulumi.output(openwebuiUrl(service));
    this.registerOutputs({ dataLocation: this.dataLocation, containerNames: this.containerNames, url: this.url, secretKey: this.secretKey, databasePassword: this.databasePassword });
  }

  /**
   * Open WebUI's PostgreSQL: with `image`, a container on the stack network (no port published)
   * with a retained named volume, a generated password and a pg_isready health check the
   * provider waits on; with `url`, nothing to run. Gives the container and `DATABASE_URL` (secret).
   */
  private database(
    name: string,
    args: OpenWebUIStackArgs,
    network: docker.Network,
    on: pulumi.CustomResourceOptions,
    replaced: pulumi.CustomResourceOptions,
  ): { container?: docker.Container; url?: pulumi.Output<string>; password?: pulumi.Output<string> } {
    const pg = args.service.database?.postgres;
    if (!pg) return {};
    if (pg.url !== undefined) return { url: pulumi.secret(pg.url) };
    if (pg.image === undefined) throw new pulumi.ResourceError(`host "${args.hostName}": openwebui.database.postgres needs image or url`, this);
    const password = new random.RandomPassword(`${name}-db-password`, { length: 32, special: false }, { parent: this });
    const volume = new docker.Volume(
      `${name}-db-data`,
      { name: DEFAULT_DATABASE_VOLUME, labels: stackLabels(args.hostName, "database", "database") },
      { ...on, retainOnDelete: true },
    );
    const image = new docker.RemoteImage(`${name}-db-image`, { name: pg.image, keepLocally: true }, on);
    const container = new docker.Container(
      `${name}-db`,
      {
        name: DATABASE_CONTAINER,
        image: image.imageId,
        restart: "unless-stopped",
        envs: pulumi.secret(password.result.apply(postgresEnv)),
        volumes: [{ containerPath: postgresDataPath(pg.image), volumeName: volume.name }],
        networksAdvanced: [{ name: network.name, aliases: [DATABASE_CONTAINER] }],
        healthcheck: postgresHealthcheck(),
        wait: true,
        waitTimeout: 180,
        labels: stackLabels(args.hostName, "database", "database"),
        removeVolumes: false,
      },
      { ...replaced, additionalSecretOutputs: ["envs"] },
    );
    return { container, url: pulumi.secret(password.result.apply(stackDatabaseUrl)), password: pulumi.secret(password.result) };
  }

  /** `ollama pull` for each configured model, on the host, once the container is healthy. */
  private pullModels(
    name: string,
    models: readonly string[],
    ollama: docker.Container,
    conn: OpenWebUIStackArgs["connection"],
    address: pulumi.Output<string> | undefined,
    privateKey: pulumi.Output<string> | undefined,
  ) {
    for (const model of models) {
      const rname = `${name}-pull-${modelResourceSuffix(model)}`;
      // Re-run when the container is replaced (models live in the volume, so this is quick).
      const triggers = [ollama.id, model];
      const opts = { parent: this, dependsOn: [ollama] };
      if (conn && address) {
        new command.remote.Command(
          rname,
          { connection: { host: address, user: conn.user, port: conn.port, privateKey }, create: modelPullCommand(model), triggers },
          opts,
        );
      } else {
        new command.local.Command(rname, { create: modelPullCommand(model), triggers }, opts);
      }
    }
  }
}
