/**
 * One writer per index directory, across processes.
 *
 * Two writers of one index (the compose file's indexer and the bot's digest fetch, or a manual
 * `paperhound index` during either) would each save the vector file from their own copy, and the
 * later save drops the other's new vectors (they are re-embedded at the next writable open, but
 * searches miss them meanwhile). So a writable open holds an exclusive lock on `writer.lock` (an
 * SQLite file: its locks are the operating system's, released when the process dies, so a killed
 * writer never leaves the index locked). Who holds it is written beside it for the message others get.
 */
import { createRequire } from "node:module";
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PaperhoundError } from "../errors.js";
import { faultPoint } from "../fault-points.js";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as new (file: string, opts?: { timeout?: number }) => {
  exec(sql: string): void;
  close(): void;
};
type LockDb = InstanceType<typeof Database>;

export const LOCK_FILE = "writer.lock";
const HOLDER_FILE = "writer.lock.json";
const POLL_MS = 250;

/** Who writes the index (as far as its holder file says). */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export class IndexLockedError extends PaperhoundError {
  readonly identifier = "index_locked";
  override readonly name = "IndexLockedError";
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
    waitedMs: number,
  ) {
    super(
      writerInProgress(dir, holder) +
        `${waitedMs > 0 ? `; waited ${Math.round(waitedMs / 1000)} s` : ""}. ` +
        "Run this again when it has finished, or wait longer with INDEX_LOCK_WAIT_SECONDS.",
    );
  }
}

/** "another process is writing the index in DIR (pid …)": said while waiting and when giving up. */
export function writerInProgress(dir: string, holder: LockHolder | undefined): string {
  return `another process is writing the index in ${dir}${holder ? ` (${describeHolder(holder)})` : ""}`;
}

export function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on ${h.host}, "${h.command}", since ${h.since}`;
}

export interface AcquireOptions {
  /** How long to wait for another writer to finish; 0 (the default) gives up at once. */
  waitMs?: number;
  /** Called once, when the lock is held by another writer and this one starts waiting. */
  onWait?: (holder: LockHolder | undefined) => void;
}

export class WriterLock {
  private constructor(
    private db: LockDb | undefined,
    private readonly holderFile: string,
  ) {}

  /** Takes the index's writer lock, waiting up to `waitMs` for another writer; throws `IndexLockedError`. */
  static async acquire(dir: string, opts: AcquireOptions = {}): Promise<WriterLock> {
    const waitMs = opts.waitMs ?? 0;
    const started = Date.now();
    let told = false;
    for (;;) {
      const db = tryLock(path.join(dir, LOCK_FILE));
      if (db) {
        const lock = new WriterLock(db, path.join(dir, HOLDER_FILE));
        lock.writeHolder();
        return lock;
      }
      const waited = Date.now() - started;
      if (waited >= waitMs) throw new IndexLockedError(dir, readHolder(dir), waited);
      if (!told) {
        opts.onWait?.(readHolder(dir));
        told = true;
      }
      await sleep(Math.min(POLL_MS, waitMs - waited));
    }
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (!this.db) return;
    rmSync(this.holderFile, { force: true });
    try {
      this.db.exec("ROLLBACK");
    } finally {
      this.db.close();
      this.db = undefined;
    }
  }

  private writeHolder(): void {
    const holder: LockHolder = {
      pid: process.pid,
      host: os.hostname(),
      command: ["paperhound", ...process.argv.slice(2)].join(" ").slice(0, 200),
      since: new Date().toISOString(),
    };
    const tmp = `${this.holderFile}.${process.pid}.tmp`;
    try {
      // Temp files of writers killed before their rename: stale, as this process holds the lock.
      const dir = path.dirname(this.holderFile);
      for (const name of readdirSync(dir)) if (name.startsWith(`${HOLDER_FILE}.`) && name.endsWith(".tmp")) rmSync(path.join(dir, name), { force: true });
      faultPoint("write", "writer lock holder");
      writeFileSync(tmp, `${JSON.stringify(holder)}\n`);
      faultPoint("rename", "writer lock holder");
      renameSync(tmp, this.holderFile);
    } catch {
      // Only the message others get depends on it.
      rmSync(tmp, { force: true });
    }
  }
}

/** The lock database with an exclusive transaction open, or undefined when another connection holds it. */
function tryLock(file: string): LockDb | undefined {
  const db = new Database(file, { timeout: 0 });
  try {
    db.exec("BEGIN EXCLUSIVE");
    return db;
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") return undefined;
    throw err;
  }
}

function readHolder(dir: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path.join(dir, HOLDER_FILE), "utf8")) as Partial<LockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string" && typeof h.command === "string" && typeof h.since === "string") return h as LockHolder;
  } catch {
    // Missing or half-written: the message just says less.
  }
  return undefined;
}
