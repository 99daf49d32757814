/** What opening a paper store can fail with, each message saying what to do. */
import path from "node:path";
import { INDEX_ERRORS, type IndexErrorCode } from "../../index-errors.js";
import { PaperhoundError } from "../../errors.js";

/** The store file is not a SQLite database, is truncated, or fails an integrity check. */
export class StoreCorruptError extends PaperhoundError {
  readonly identifier = "store_corrupt" satisfies IndexErrorCode;
  override readonly name = "StoreCorruptError";
  constructor(
    readonly file: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(INDEX_ERRORS.store_corrupt({ file, detail, dir: path.dirname(file), indexArg: "" }), options);
  }
}

/** The store's schema is newer than this build understands, or cannot be migrated as opened. */
export class StoreSchemaError extends PaperhoundError {
  readonly identifier = "store_schema";
  override readonly name = "StoreSchemaError";
  constructor(
    readonly file: string,
    message: string,
    /** Set when the store is an older paperhound schema that opening it read-write migrates. */
    readonly migratableFrom?: number,
    /** Set when the file holds no tables yet: a store an indexer is creating right now, or an empty file. */
    readonly empty = false,
  ) {
    super(message);
  }
}
