/**
 * The per-host `openwebui:` block: the Open WebUI + Ollama stack Pulumi runs on the host.
 * rules/openwebui.ts ties it to the rest of the host's config (the backups read `data`,
 * pause/stop act on `containers`).
 *
 * The host's `data` may be left out when the stack is configured: it is then derived from
 * where the stack keeps the Open WebUI data, so jobs refer to the host and never repeat a
 * path. When both are given they must agree.
 */
import { z } from "zod";
import { DATABASE_CONTAINER, HostDatabase, STACK_DATABASE_NAME, STACK_DATABASE_USER, postgresUrl } from "./database";
import { PREFIX_PATTERN, dockerName, isAbsoluteHostPath, name, strictObject, tcpPort } from "./fields";
import { preUpgradeBackupSchema } from "./pre-upgrade";

/** Container names on the Docker host; backups pause/stop the Open WebUI one by this name. */
export const OPENWEBUI_CONTAINER = "open-webui";
export const OLLAMA_CONTAINER = "ollama";
/** Named volumes used when the config names no other data location. */
export const DEFAULT_OPENWEBUI_VOLUME = "open-webui";
export const DEFAULT_OLLAMA_VOLUME = "ollama";
/** Open WebUI's port on the host when the config names no other. */
export const DEFAULT_OPENWEBUI_PORT = 3000;
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

/** A directory to mount: any absolute host path but "/" itself. */
const hostDir = z.string().refine((p) => isAbsoluteHostPath(p) && p !== "/", {
  message: 'must be an absolute path other than "/", without newlines or ".." segments',
});

const dataLocation = (defaultVolume: string) =>
  z
    .union([strictObject({ volume: dockerName("volume") }), strictObject({ dir: hostDir })], {
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

/**
 * `openwebui.database`: Open WebUI's main database in PostgreSQL instead of SQLite in the data
 * directory. Either the stack runs the server (`image`: container open-webui-db, a retained
 * named volume, a generated password) or Open WebUI connects to one it does not run (`url`).
 */
export const stackPostgresSchema = strictObject({
  /** A pinned postgres image; with vectors: true, one that has pgvector (e.g. pgvector/pgvector:pg16). */
  image: image.optional(),
  /** A server the stack does not run; a secret (`url: { secure: … }`), since it holds the password. */
  url: postgresUrl.optional(),
  /** Vectors in this database too: VECTOR_DB=pgvector (PGVECTOR_DB_URL defaults to DATABASE_URL). */
  vectors: z.boolean().default(false),
}).superRefine((pg, ctx) => {
  if (pg.image === undefined && pg.url === undefined) {
    ctx.addIssue({ code: "custom", message: "expected image (the stack runs PostgreSQL) or url (a server it does not run)" });
  } else if (pg.image !== undefined && pg.url !== undefined) {
    ctx.addIssue({ code: "custom", path: ["url"], message: "give either image (the stack runs PostgreSQL) or url (a server it does not run), not both" });
  }
});

export const stackDatabaseSchema = strictObject({
  postgres: stackPostgresSchema,
});

/** An S3 key prefix; a trailing '/' is accepted and dropped (Open WebUI adds its own). */
const storagePrefix = z
  .string({ error: "expected a key prefix such as \"openwebui-files\"" })
  .transform((p) => p.replace(/\/+$/, ""))
  .refine((p) => PREFIX_PATTERN.test(p), { message: "must be path segments of A-Z a-z 0-9 . _ - separated by '/', such as \"openwebui-files\"" });

/** `openwebui.storage`: Open WebUI's files in an S3 bucket (STORAGE_PROVIDER=s3) instead of the data directory. */
export const stackStorageSchema = strictObject({
  s3: strictObject({
    /** The name of an s3 target under `targets`: its bucket, endpoint, region and (unmanaged) key. */
    target: name("target name"),
    prefix: storagePrefix.default("openwebui-files"),
  }),
});

export const openwebuiServiceSchema = strictObject({
  image,
  port: tcpPort.default(DEFAULT_OPENWEBUI_PORT),
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
  /** Absent: SQLite (webui.db) in the data volume. */
  database: stackDatabaseSchema.optional(),
  /** Absent: files in the data volume (uploads/). */
  storage: stackStorageSchema.optional(),
  /** The job backed up before an image change (config/pre-upgrade.ts); absent: the first restic or snapshot job. */
  preUpgradeBackup: preUpgradeBackupSchema.optional(),
});

export type OpenWebUIServiceConfig = z.infer<typeof openwebuiServiceSchema>;
export type OllamaServiceConfig = z.infer<typeof ollamaServiceSchema>;
export type StackDatabaseConfig = z.infer<typeof stackDatabaseSchema>;
export type StackStorageConfig = z.infer<typeof stackStorageSchema>;

/** What the backups dump for a stack's database: the container the stack runs, or the URL. */
export function stackHostDatabase(database: StackDatabaseConfig): HostDatabase {
  const pg = database.postgres;
  if (pg.url !== undefined) return { postgres: { url: pg.url } };
  return { postgres: { container: DATABASE_CONTAINER, user: STACK_DATABASE_USER, database: STACK_DATABASE_NAME } };
}

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
