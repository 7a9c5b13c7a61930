/**
 * The per-host `openwebui:` block: the Open WebUI + Ollama stack Pulumi runs on the host,
 * and the rules that tie it to the rest of the host's config (the backups read `data`,
 * pause/stop act on `containers`).
 *
 * The host's `data` may be left out when the stack is configured: it is then derived from
 * where the stack keeps the Open WebUI data, so jobs refer to the host and never repeat a
 * path. When both are given they must agree.
 */
import { z } from "zod";
import { bindsAllInterfaces } from "./addresses";
import { preUpgradeBackupSchema } from "./pre-upgrade";
import { strictObject } from "./primitives";

/** Container names on the Docker host; backups pause/stop the Open WebUI one by this name. */
export const OPENWEBUI_CONTAINER = "open-webui";
export const OLLAMA_CONTAINER = "ollama";
/** Named volumes used when the config names no other data location. */
export const DEFAULT_OPENWEBUI_VOLUME = "open-webui";
export const DEFAULT_OLLAMA_VOLUME = "ollama";
/** Variables the stack sets itself; letting `env` replace them would silently break the stack. */
export const RESERVED_ENV = ["WEBUI_SECRET_KEY", "OLLAMA_BASE_URL"] as const;

/** Where a stack keeps its data: a host bind directory or a named Docker volume. */
export type DataLocation = { readonly dir: string } | { readonly volume: string };

/**
 * `registry/repo:tag` with an optional `@sha256:<64 hex>` digest. A tag is required so the
 * config says which version runs; the digest pins it byte for byte.
 */
const IMAGE_PATTERN = /^(?<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*):(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?:@sha256:[a-f0-9]{64})?$/;
const IMAGE_RULE = 'an image reference with a tag, e.g. "ghcr.io/open-webui/open-webui:v0.11.4", optionally followed by "@sha256:<64 hex digits>" (preferred)';

export const image = z
  .string({ error: `expected ${IMAGE_RULE}` })
  .refine((ref) => IMAGE_PATTERN.test(ref), { message: `must be ${IMAGE_RULE}` })
  .refine((ref) => !/:latest$/.test(ref), { message: 'the tag "latest" is not a pin; use a version tag or add "@sha256:<digest>"' });

const VOLUME_RULE = "a Docker volume name (letters, digits, '_', '.', '-', starting with a letter or digit)";
const volumeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: `must be ${VOLUME_RULE}` });
const hostDir = z
  .string()
  .refine((p) => p.startsWith("/") && !/[\n\r\0]/.test(p) && !p.split("/").includes("..") && p !== "/", {
    message: 'must be an absolute path other than "/", without newlines or ".." segments',
  });

const dataLocation = (defaultVolume: string) =>
  z
    .union([strictObject({ volume: volumeName }), strictObject({ dir: hostDir })], {
      error: "expected { volume: docker-volume-name } or { dir: /absolute/path }",
    })
    .default({ volume: defaultVolume });

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** A literal IPv4 or IPv6 address Docker can bind a published port to. */
const bindAddress = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address such as "127.0.0.1"' });

export const ollamaServiceSchema = strictObject({
  enabled: z.boolean().default(true),
  /** Required when enabled; same pinning rule as the Open WebUI image. */
  image: image.optional(),
  /** `"all"` or a list of GPU device ids/UUIDs; absent: no GPU access. */
  gpus: z
    .union([z.literal("all"), z.array(z.string().regex(/^[A-Za-z0-9-]+$/, { message: "must be a GPU index or UUID" })).min(1)], {
      error: 'expected "all" or a list of GPU device ids such as ["0", "1"]',
    })
    .optional(),
  /** Models pulled with `ollama pull` after the container is healthy. */
  models: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/, { message: 'must be an Ollama model name such as "llama3.2:3b"' }))
    .default([]),
  data: dataLocation(DEFAULT_OLLAMA_VOLUME),
});

export const openwebuiServiceSchema = strictObject({
  image,
  port: z.number({ error: "expected a port number 1-65535" }).int({ message: "must be a whole port number 1-65535" }).min(1, { message: "must be a port number 1-65535" }).max(65535, { message: "must be a port number 1-65535" }).default(3000),
  /** Address the port is published on; 127.0.0.1 so nothing is exposed by accident. */
  bindAddress: bindAddress.default("127.0.0.1"),
  /** Required to publish on 0.0.0.0 or :: (every interface). */
  allowAllInterfaces: z.boolean().default(false),
  /**
   * Keep the key of an existing installation here (restores need the key the data was written
   * with); absent: a generated key kept in the Pulumi state.
   */
  secretKey: z.string().min(1, { message: "must not be empty" }).optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME),
      z.string({ error: "expected a string value" }).refine((v) => !v.includes("\0"), { message: "must not contain a NUL byte" }),
      { error: (issue) => (issue.code === "invalid_key" ? "is not an environment variable name; accepted: ^[A-Z_][A-Z0-9_]*$ (e.g. ENABLE_SIGNUP)" : undefined) },
    )
    .default({}),
  data: dataLocation(DEFAULT_OPENWEBUI_VOLUME),
  ollama: ollamaServiceSchema.default({ enabled: false, models: [], data: { volume: DEFAULT_OLLAMA_VOLUME } }),
  /** The job backed up before an image change (config/pre-upgrade.ts); absent: the first restic or snapshot job. */
  preUpgradeBackup: preUpgradeBackupSchema.optional(),
});

export type OpenWebUIServiceConfig = z.infer<typeof openwebuiServiceSchema>;
export type OllamaServiceConfig = z.infer<typeof ollamaServiceSchema>;

/** Where the Open WebUI data of a host's stack lives. */
export function stackDataLocation(service: OpenWebUIServiceConfig): DataLocation {
  return "dir" in service.data ? { dir: service.data.dir } : { volume: service.data.volume };
}

/**
 * Resolves a host's `data` while parsing: the explicit one, or the stack's. Used by the host
 * schema's transform, so `HostConfig.data` is always set downstream.
 */
export function resolveHostData(
  host: { readonly data?: DataLocation; readonly openwebui?: OpenWebUIServiceConfig },
  ctx: z.RefinementCtx,
): DataLocation {
  if (host.data) return host.data;
  if (host.openwebui) return stackDataLocation(host.openwebui);
  ctx.addIssue({
    code: "custom",
    path: ["data"],
    message: "required unless openwebui is set; expected { dir: /absolute/path } or { volume: docker-volume-name }",
  });
  return z.NEVER;
}

/** The resolved data location of a parsed host (after `parseStackConfig`, `data` is set on every host but a pull-only one). */
export function hostDataLocation(host: { readonly name?: string; readonly data?: DataLocation }): DataLocation {
  if (!host.data) throw new Error(`host ${host.name ?? "?"} has no data location (every job is a pull)`);
  return host.data;
}

function sameLocation(a: DataLocation, b: DataLocation): boolean {
  if ("dir" in a && "dir" in b) return a.dir.replace(/\/+$/, "") === b.dir.replace(/\/+$/, "");
  if ("volume" in a && "volume" in b) return a.volume === b.volume;
  return false;
}

function describe(loc: DataLocation): string {
  return "dir" in loc ? `{ dir: ${loc.dir} }` : `{ volume: ${loc.volume} }`;
}

interface HostLike {
  readonly name: string;
  readonly data: DataLocation;
  readonly containers: readonly string[];
  readonly connection?: { readonly host: string; readonly port: number };
  readonly openwebui?: OpenWebUIServiceConfig;
}

/**
 * Cross-field rules of the stack, as `{ path, message }` with full field paths. Called from
 * `crossFieldProblems` in config/index.ts.
 */
export function openwebuiProblems(cfg: { readonly hosts: readonly HostLike[] }): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const daemons = new Map<string, string>();

  cfg.hosts.forEach((host, hi) => {
    const svc = host.openwebui;
    if (!svc) return;
    const hp = `hosts[${hi}]`;
    const sp = `${hp}.openwebui`;

    const stackData = stackDataLocation(svc);
    if (!sameLocation(host.data, stackData)) {
      add(`${hp}.data`, `is ${describe(host.data)} but the Open WebUI stack keeps its data in ${describe(stackData)}; remove ${hp}.data (it is derived from ${sp}.data) or make them the same`);
    }
    if (!host.containers.includes(OPENWEBUI_CONTAINER)) {
      add(`${hp}.containers`, `must include "${OPENWEBUI_CONTAINER}", the container the Open WebUI stack runs (backups pause/stop it)`);
    }
    if (bindsAllInterfaces(svc.bindAddress) && !svc.allowAllInterfaces) {
      add(`${sp}.bindAddress`, `"${svc.bindAddress}" publishes Open WebUI on every interface; set ${sp}.allowAllInterfaces: true to mean it, or use 127.0.0.1 behind a reverse proxy`);
    }
    for (const reserved of RESERVED_ENV) {
      if (!(reserved in svc.env)) continue;
      if (reserved === "WEBUI_SECRET_KEY") add(`${sp}.env.${reserved}`, `is set by the stack; use ${sp}.secretKey to give the key`);
      else if (svc.ollama.enabled) add(`${sp}.env.${reserved}`, `is set by the stack to its Ollama container; disable ${sp}.ollama to point at another Ollama`);
    }
    if (svc.ollama.enabled) {
      if (!svc.ollama.image) add(`${sp}.ollama.image`, "required when ollama is enabled (a tagged image such as ollama/ollama:0.35.1, digest preferred)");
      const od = stackDataLocation({ ...svc, data: svc.ollama.data });
      if (sameLocation(od, stackData)) add(`${sp}.ollama.data`, `must differ from ${sp}.data (${describe(stackData)})`);
    } else {
      if (svc.ollama.models.length > 0) add(`${sp}.ollama.models`, "needs ollama.enabled: true to pull models");
      if (svc.ollama.gpus) add(`${sp}.ollama.gpus`, "needs ollama.enabled: true");
    }

    // Container and volume names are fixed per Docker daemon: two stacks on one daemon collide.
    const daemon = host.connection ? `${host.connection.host}:${host.connection.port}` : "the local Docker socket";
    const other = daemons.get(daemon);
    if (other) add(`${hp}.connection`, `runs its Open WebUI stack on the same Docker daemon (${daemon}) as ${other}; container names would collide`);
    else daemons.set(daemon, hp);
  });
  return problems;
}
