/** Shared checks of the backup e2e tests: a restored tree equals its source. */
import * as fs from "fs";
import * as path from "path";
import { WEBUI_TABLES, integrityCheck, isDatabaseFile, isExcluded, rowCounts, treeHashes } from "./openwebui-data";

/** The restored tree equals the source: files by sha256, databases by integrity and rows, excludes absent. */
export function expectSameData(source: string, restored: string): void {
  const skip = (rel: string) => isDatabaseFile(rel) || isExcluded(rel);
  expect(treeHashes(restored, isDatabaseFile)).toEqual(treeHashes(source, skip));
  expect(fs.existsSync(path.join(restored, "cache"))).toBe(false);
  expect(fs.existsSync(path.join(restored, "audit.log"))).toBe(false);
  for (const db of ["webui.db", "vector_db/chroma.sqlite3"]) expect(integrityCheck(path.join(restored, db))).toBe("ok");
  expect(rowCounts(path.join(restored, "webui.db"), WEBUI_TABLES)).toEqual(rowCounts(path.join(source, "webui.db"), WEBUI_TABLES));
  expect(rowCounts(path.join(restored, "vector_db/chroma.sqlite3"), ["embeddings", "collections"])).toEqual(
    rowCounts(path.join(source, "vector_db/chroma.sqlite3"), ["embeddings", "collections"]),
  );
}

/** Epoch seconds of a UTC time, for OPENWEBUI_BACKUP_NOW. */
export const epoch = (iso: string) => String(Math.floor(Date.parse(iso) / 1000));
