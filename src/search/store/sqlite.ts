/**
 * The SQLite driver as the store uses it: better-sqlite3 has no bundled types (and
 * @types/better-sqlite3 is not installed), so the small surface used is typed here; and how a
 * damaged database shows itself (SQLite's corruption codes).
 */
import { createRequire } from "node:module";

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}
export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  pluck(toggle?: boolean): Statement;
  raw(toggle?: boolean): Statement;
}
export interface SqliteDatabase {
  prepare(sql: string): Statement;
  exec(sql: string): SqliteDatabase;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  function(name: string, options: { deterministic?: boolean }, fn: (...args: unknown[]) => unknown): SqliteDatabase;
  close(): SqliteDatabase;
  /** SQLite's online backup API: a consistent copy while writers keep going. */
  backup(destination: string): Promise<unknown>;
  readonly open: boolean;
  readonly inTransaction: boolean;
}
export type SqliteDatabaseCtor = new (
  file: string,
  options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number },
) => SqliteDatabase;

const require = createRequire(import.meta.url);
export const Database = require("better-sqlite3") as SqliteDatabaseCtor;

/** SQLite's error for a file that is not a database or has damaged pages. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "SQLITE_NOTADB" || (typeof code === "string" && code.startsWith("SQLITE_CORRUPT"));
}
