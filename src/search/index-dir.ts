/** The files of an index directory, and the check that they still belong together. */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { StoreCorruptError } from "./store/errors.js";
import { POINTER_FILE } from "./vectors/index-file.js";

/** The paper store's file in an index directory. */
export const STORE_FILE = "papers.sqlite";

/**
 * A zero-length store beside a vector file lost its papers (a truncated copy, a full disk): SQLite
 * would open it as a new empty database, and the next `index` would replace the vectors too.
 */
export function checkStoreNotEmptied(dir: string): void {
  const file = path.join(dir, STORE_FILE);
  const size = statSync(file, { throwIfNoEntry: false })?.size;
  if (size === 0 && existsSync(path.join(dir, POINTER_FILE))) {
    throw new StoreCorruptError(file, `it is empty (0 bytes), but the directory holds vectors (${POINTER_FILE}): its papers were lost`);
  }
}
