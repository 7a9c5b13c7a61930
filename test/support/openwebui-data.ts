/**
 * Test helpers over an Open WebUI-shaped data directory; the builder itself is shared with
 * the demo (scripts/cli/sample-data.ts).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export * from "../../scripts/cli/sample-data";

/** sha256 of every regular file under `root`, by relative path. */
export function treeHashes(root: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const rel = path.relative(root, full);
      if (skip(rel)) continue;
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.set(rel, crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex"));
    }
  };
  walk(root);
  return out;
}

export function integrityCheck(db: string): string {
  return execFileSync("sqlite3", ["-readonly", db, "PRAGMA integrity_check;"], { encoding: "utf8" }).trim();
}

/** Rows of each table, by one sqlite3 (a process per table added up over the restores of the suite). */
export function rowCounts(db: string, tables: string[]): Record<string, number> {
  const query = `SELECT ${tables.map((t) => `(SELECT count(*) FROM "${t}")`).join(", ")};`;
  const counts = execFileSync("sqlite3", ["-readonly", "-separator", " ", db, query], { encoding: "utf8" }).trim().split(" ").map(Number);
  if (counts.length !== tables.length || counts.some((n) => !Number.isInteger(n))) throw new Error(`rowCounts(${db}): sqlite3 answered ${counts.join(" ")} for ${tables.length} tables`);
  return Object.fromEntries(tables.map((t, i) => [t, counts[i]]));
}

/** Database files and their WAL side files: compared by content, not by bytes. */
export const isDatabaseFile = (rel: string) => /^(webui\.db|vector_db\/chroma\.sqlite3)(-wal|-shm|-journal)?$/.test(rel);
export const isExcluded = (rel: string) => rel === "audit.log" || rel === "cache" || rel.startsWith("cache/");
