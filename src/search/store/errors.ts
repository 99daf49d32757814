/** What opening a paper store can fail with, each message saying what to do. */
const REINDEX_HINT = "Restore it from a backup, or move it aside and rebuild it from your paper files with `paperhound index <file...>`.";

/** The store file is not a SQLite database, is truncated, or fails an integrity check. */
export class StoreCorruptError extends Error {
  override readonly name = "StoreCorruptError";
  constructor(
    readonly file: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Paper store ${file} is corrupt or not a paperhound database: ${detail}. ${REINDEX_HINT}`, options);
  }
}

/** The store's schema is newer than this build understands, or cannot be migrated as opened. */
export class StoreSchemaError extends Error {
  override readonly name = "StoreSchemaError";
  constructor(
    readonly file: string,
    message: string,
    /** Set when the store is an older paperhound schema that opening it read-write migrates. */
    readonly migratableFrom?: number,
  ) {
    super(message);
  }
}
