/**
 * Rules of Open WebUI's database and file storage against the rest of the config: the host's
 * `database` agrees with the stack's, the backups can reach what the stack writes (no
 * DATABASE_URL or STORAGE_PROVIDER slipped in through `env`, where backups would miss it), the
 * storage target is an s3 target whose prefix no backup shares, and the database container is
 * never paused or stopped around a copy.
 */
import { describeDatabase, sameDatabase } from "../database";
import { jobsOnTarget } from "../locations";
import { stackHostDatabase } from "../openwebui-service";
import { type ConfigProblem, problemList } from "../problems";
import type { StackConfig } from "../schema";

/** Variables the stack sets from `openwebui.database` and `openwebui.storage`. */
export const DATABASE_ENV = ["DATABASE_URL", "VECTOR_DB", "PGVECTOR_DB_URL"] as const;
export const STORAGE_ENV = ["STORAGE_PROVIDER", "S3_BUCKET_NAME", "S3_KEY_PREFIX", "S3_ENDPOINT_URL", "S3_REGION_NAME", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const;

const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

export function databaseProblems(cfg: StackConfig): ConfigProblem[] {
  const { problems, add } = problemList();
  const storagePrefixes: { target: string; prefix: string; path: string }[] = [];

  cfg.hosts.forEach((host, hi) => {
    const hp = `hosts[${hi}]`;
    const sp = `${hp}.openwebui`;
    const svc = host.openwebui;

    if (svc?.database && host.database) {
      const derived = stackHostDatabase(svc.database);
      if (!sameDatabase(host.database, derived)) {
        add(`${hp}.database`, `is ${describeDatabase(host.database)} but the Open WebUI stack's database is ${describeDatabase(derived)}; remove ${hp}.database (it is derived from ${sp}.database) or make them the same`);
      }
    } else if (svc && host.database) {
      add(`${hp}.database`, `is set, but the Open WebUI stack keeps its database in SQLite (${sp}.database is absent); set ${sp}.database instead`);
    }

    const pg = host.database?.postgres;
    if (pg && "container" in pg && host.containers.includes(pg.container)) {
      add(`${hp}.containers`, `must not include "${pg.container}", the database container: backups dump it while it runs, and pausing or stopping it would stop the dump`);
    }

    if (svc) {
      for (const key of DATABASE_ENV) {
        if (!(key in svc.env)) continue;
        if (svc.database) add(`${sp}.env.${key}`, `is set by the stack from ${sp}.database`);
        else if (key === "DATABASE_URL") add(`${sp}.env.${key}`, `would keep Open WebUI's database out of the backups (a data-directory backup misses every chat); use ${sp}.database.postgres.url (a secret) instead`);
        else if (svc.env[key] === "pgvector" || key === "PGVECTOR_DB_URL") add(`${sp}.env.${key}`, `would keep the vectors out of the backups; use ${sp}.database.postgres.vectors: true instead`);
      }
      for (const key of STORAGE_ENV) {
        if (!(key in svc.env)) continue;
        if (svc.storage) add(`${sp}.env.${key}`, `is set by the stack from ${sp}.storage`);
        else if (key === "STORAGE_PROVIDER" && svc.env[key] !== "local") {
          add(`${sp}.env.${key}`, `would keep Open WebUI's files out of the backups; use ${sp}.storage.s3 (the only object storage the backups copy) or leave it unset (files in the data directory)`);
        }
      }
    }

    const s3 = svc?.storage?.s3;
    if (s3) {
      const at = `${sp}.storage.s3`;
      const target = cfg.targets[s3.target];
      if (!target) add(`${at}.target`, `unknown target "${s3.target}"; known: ${Object.keys(cfg.targets).join(", ") || "(none defined under targets)"}`);
      else if (target.type !== "s3") add(`${at}.target`, `must name an s3 target; "${s3.target}" is a ${target.type} target`);
      else {
        for (const tj of jobsOnTarget(cfg, s3.target)) {
          if (overlaps(tj.location, s3.prefix)) {
            add(`${at}.prefix`, `"${s3.prefix}" overlaps the backup location "${tj.location}" of ${tj.path} on target "${s3.target}"; Open WebUI's files and the backups must not share a prefix`);
          }
        }
        for (const other of storagePrefixes) {
          if (other.target === s3.target && overlaps(other.prefix, s3.prefix)) {
            add(`${at}.prefix`, `"${s3.prefix}" overlaps ${other.path}.prefix ("${other.prefix}") on target "${s3.target}"; each Open WebUI needs its own prefix`);
          }
        }
        storagePrefixes.push({ target: s3.target, prefix: s3.prefix, path: at });
      }
    }
  });
  return problems;
}
