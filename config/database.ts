/**
 * Open WebUI's main database when it is not SQLite in the data directory: `hosts[].database`,
 * what the backups dump. A host with an `openwebui` block derives it from
 * `openwebui.database` (config/openwebui-service.ts), as `data` is derived from the stack's data.
 *
 *   hosts[].database: { postgres: { url } }                          a server the stack does not run
 *   hosts[].database: { postgres: { container, user, database } }    a server in a container on the host
 */
import { z } from "zod";
import { dockerName, isSecretPlaceholder, strictObject } from "./fields";

/** The database container the stack runs, its named volume, and the role and database it creates. */
export const DATABASE_CONTAINER = "open-webui-db";
export const DEFAULT_DATABASE_VOLUME = "open-webui-db";
export const STACK_DATABASE_USER = "openwebui";
export const STACK_DATABASE_NAME = "openwebui";

/** `sslmode` is the one URL parameter the backup command passes on (as PGSSLMODE). */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
const URL_RULE = 'a PostgreSQL URL such as "postgresql://user:password@db.example.org:5432/openwebui", optionally with "?sslmode=require"';

/** Why `value` is not a PostgreSQL URL the backups can use, or undefined when it is. */
export function postgresUrlProblem(value: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `must be ${URL_RULE}`;
  }
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") return `must be ${URL_RULE} (postgresql:// or postgres://)`;
  if (!u.username) return `must be ${URL_RULE}: it names no user`;
  if (!u.hostname) return `must be ${URL_RULE}: it names no host`;
  const database = u.pathname.replace(/^\//, "");
  if (!database || database.includes("/")) return `must be ${URL_RULE}: it names no database (the path after the host)`;
  for (const [key, v] of u.searchParams) {
    if (key !== "sslmode") return `must be ${URL_RULE}: the parameter "${key}" is not supported (only sslmode)`;
    if (!(SSL_MODES as readonly string[]).includes(v)) return `sslmode must be one of ${SSL_MODES.join(", ")}`;
  }
  if (/[\s'"`\\]/.test(value)) return `must be ${URL_RULE} without whitespace, quotes or '\\' (percent-encode them in the password)`;
  return undefined;
}

/** A `postgresql://` URL, usually a secret (`url: { secure: … }`); a render without the secret keeps its placeholder. */
export const postgresUrl = z.string({ error: `expected ${URL_RULE}` }).superRefine((value, ctx) => {
  if (isSecretPlaceholder(value)) return;
  const problem = postgresUrlProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const identifier = (what: string) =>
  z
    .string({ error: `expected a PostgreSQL ${what} name` })
    .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, { message: `must be a PostgreSQL ${what} name: letters, digits, '_', '$', '-', starting with a letter or '_', at most 63 characters` });

/** Where the backups reach the database: a URL, or a container on the host (the tools run inside it). */
export type PostgresSource = { readonly url: string } | { readonly container: string; readonly user: string; readonly database: string };

const hostPostgresSchema = strictObject({
  url: postgresUrl.optional(),
  container: dockerName("container").optional(),
  user: identifier("role").optional(),
  database: identifier("database").optional(),
}).transform((pg, ctx): PostgresSource => {
  if (pg.url !== undefined) {
    for (const key of ["container", "user", "database"] as const) {
      if (pg[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "give either url or container (with user and database), not both" });
    }
    return { url: pg.url };
  }
  if (pg.container === undefined) {
    ctx.addIssue({ code: "custom", message: "expected { url: postgresql://… } or { container, user, database }" });
    return z.NEVER;
  }
  for (const key of ["user", "database"] as const) {
    if (pg[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: key === "user" ? "required with container (the role pg_dump connects as)" : "required with container (the database pg_dump dumps)" });
  }
  return { container: pg.container, user: pg.user ?? "", database: pg.database ?? "" };
});

export const hostDatabaseSchema = strictObject({
  postgres: hostPostgresSchema,
});

export type HostDatabase = z.infer<typeof hostDatabaseSchema>;

/** Whether two database descriptions name the same database. */
export function sameDatabase(a: HostDatabase, b: HostDatabase): boolean {
  const [x, y] = [a.postgres, b.postgres];
  if ("url" in x && "url" in y) return x.url === y.url;
  if ("container" in x && "container" in y) return x.container === y.container && x.user === y.user && x.database === y.database;
  return false;
}

export function describeDatabase(db: HostDatabase): string {
  const pg = db.postgres;
  return "url" in pg ? "{ postgres: { url: … } }" : `{ postgres: { container: ${pg.container}, user: ${pg.user}, database: ${pg.database} } }`;
}
