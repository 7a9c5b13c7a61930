/**
 * Builds an Open WebUI-shaped data directory for the demo, the tests and the benchmark:
 * `webui.db` in WAL mode with Open WebUI's main tables, Chroma's `vector_db/` with a
 * UUID-named HNSW segment folder, `uploads/` with awkward names, plus the `cache/` and
 * `audit.log` that backups exclude. Needs the sqlite3 command.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/** File names a careless script would mangle. */
export const AWKWARD_UPLOAD_NAMES = [
  "report 2024 final.pdf",
  "it's \"quoted\".txt",
  "ünïcödé-日本語.md",
  "-leading-dash.txt",
  "$(touch pwned).txt",
  "back`tick`.txt",
];

export interface DataDirOptions {
  /** Rows in the chat table (each ~2 KiB of JSON). */
  chats?: number;
  /** Size of the one big upload. */
  bigUploadBytes?: number;
  /** Extra uploads of `uploadBytes` each. */
  uploads?: number;
  uploadBytes?: number;
  seed?: number;
}

function sqlite(db: string, sql: string): string {
  return execFileSync("sqlite3", ["-bail", db], { input: sql, encoding: "utf8" });
}

/**
 * Deterministic bytes, so two runs of the benchmark build the same tree: the AES-256-CTR
 * keystream of a key made from the seed (a hash per 32 bytes made each data directory cost
 * 150 ms of CPU, which the test suite paid a few hundred times).
 */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const key = crypto.createHash("sha256").update(`pseudo-random bytes, seed ${seed}`).digest();
  const keystream = crypto.createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  return Buffer.concat([keystream.update(Buffer.alloc(size)), keystream.final()]);
}

export const WEBUI_TABLES = ["user", "auth", "chat", "file", "knowledge", "config", "alembic_version"];

export function createWebuiDb(db: string, chats: number): void {
  sqlite(
    db,
    `PRAGMA journal_mode=WAL;
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('3781e22d8b01');
CREATE TABLE user (id TEXT PRIMARY KEY, name TEXT, email TEXT, role TEXT, created_at INTEGER);
CREATE TABLE auth (id TEXT PRIMARY KEY, email TEXT, password TEXT, active INTEGER);
CREATE TABLE chat (id TEXT PRIMARY KEY, user_id TEXT, title TEXT, chat TEXT, created_at INTEGER, updated_at INTEGER);
CREATE TABLE file (id TEXT PRIMARY KEY, user_id TEXT, filename TEXT, path TEXT, meta TEXT, created_at INTEGER);
CREATE TABLE knowledge (id TEXT PRIMARY KEY, user_id TEXT, name TEXT, description TEXT, data TEXT);
CREATE TABLE config (id INTEGER PRIMARY KEY, data TEXT, version INTEGER);
INSERT INTO user VALUES ('u1', 'Ada', 'ada@example.org', 'admin', 1700000000);
INSERT INTO auth VALUES ('u1', 'ada@example.org', '$2b$12$hash', 1);
INSERT INTO config VALUES (1, '{"version":0}', 0);
INSERT INTO knowledge VALUES ('k1', 'u1', 'Manuals', 'product manuals', '{"file_ids":["f1"]}');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${chats})
INSERT INTO chat SELECT 'c' || i, 'u1', 'chat ' || i, '{"messages":"' || hex(randomblob(1000)) || '"}', 1700000000 + i, 1700000000 + i FROM n;
`,
  );
}

export function createChromaDb(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  sqlite(
    path.join(dir, "chroma.sqlite3"),
    `PRAGMA journal_mode=WAL;
CREATE TABLE migrations (dir TEXT, version INTEGER, filename TEXT, sql TEXT, hash TEXT, PRIMARY KEY (dir, version));
INSERT INTO migrations VALUES ('sysdb', 1, '00001-collections.sqlite.sql', '', 'x');
CREATE TABLE collections (id TEXT PRIMARY KEY, name TEXT, dimension INTEGER);
CREATE TABLE embeddings (id INTEGER PRIMARY KEY, segment_id TEXT, embedding_id TEXT, seq_id BLOB, created_at TEXT);
INSERT INTO collections VALUES ('0b6b1f5e-7a52-4c39-9a57-1f2d0e3c4b5a', 'file-f1', 384);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO embeddings SELECT i, 'seg', 'e' || i, randomblob(8), '2024-01-01' FROM n;
`,
  );
}

export function buildDataDir(root: string, opts: DataDirOptions = {}): void {
  const seed = opts.seed ?? 1;
  fs.mkdirSync(root, { recursive: true });
  createWebuiDb(path.join(root, "webui.db"), opts.chats ?? 200);
  const vectorDir = path.join(root, "vector_db");
  createChromaDb(vectorDir);
  const segment = path.join(vectorDir, "6f1c9a3e-2b4d-4e8f-9a1b-3c5d7e9f0a2b");
  fs.mkdirSync(segment);
  for (const [file, size] of [["data_level0.bin", 400_000], ["header.bin", 100], ["length.bin", 4000], ["link_lists.bin", 0]] as const) {
    fs.writeFileSync(path.join(segment, file), pseudoRandomBytes(size, seed + size));
  }
  fs.writeFileSync(path.join(segment, "index_metadata.pickle"), "pickle");

  const uploads = path.join(root, "uploads");
  fs.mkdirSync(uploads);
  AWKWARD_UPLOAD_NAMES.forEach((name, i) => fs.writeFileSync(path.join(uploads, name), `upload ${i}\n`));
  fs.writeFileSync(path.join(uploads, "big.bin"), pseudoRandomBytes(opts.bigUploadBytes ?? 3_000_000, seed + 7));
  for (let i = 0; i < (opts.uploads ?? 0); i++) {
    fs.writeFileSync(path.join(uploads, `${String(i).padStart(5, "0")}_doc.bin`), pseudoRandomBytes(opts.uploadBytes ?? 100_000, seed * 1000 + i));
  }
  fs.mkdirSync(path.join(root, "cache", "embedding", "models"), { recursive: true });
  fs.writeFileSync(path.join(root, "cache", "embedding", "models", "model.onnx"), pseudoRandomBytes(50_000, seed + 9));
  fs.writeFileSync(path.join(root, "audit.log"), "audit line\n");
}
