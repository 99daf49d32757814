/**
 * Backup and restore of an index directory while the bot runs.
 *
 * Order matters: the vector pointer (`vectors.json`) is read first and the vector file it names is
 * copied (generation files are never rewritten, only replaced by a newer generation and then
 * deleted: if it vanishes mid-copy, the new pointer is read and the copy retried); then the store is
 * copied with SQLite's online backup API (a consistent snapshot, writers keep going). The store may
 * then be newer than the vectors (papers embedded after the vector file was saved): opening the
 * restored index treats those papers as not embedded, and the next `paperhound index` embeds them
 * again. Nothing in the backup is ever ahead of what it can explain. The digest state
 * (`digest.sqlite`) is copied the same way when present.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import path from "node:path";
import { STORE_FILE } from "./paper-index.js";
import { POINTER_FILE } from "./vector-index.js";
import { replaceDirAtomic } from "../atomic-write.js";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3") as new (file: string, opts?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number }) => {
  backup(file: string): Promise<unknown>;
  close(): void;
};

/** The digest's state file (src/digest/digest-store.ts), copied along when present. */
const DIGEST_FILE = "digest.sqlite";
const MANIFEST = "paperhound-backup.json";

export class BackupError extends Error {
  override readonly name = "BackupError";
}

export interface BackupReport {
  dir: string;
  files: { name: string; bytes: number }[];
  seconds: number;
}

async function sqliteSnapshot(from: string, to: string): Promise<void> {
  const db = new Database(from, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    await db.backup(to);
  } finally {
    db.close();
  }
}

async function copyVectors(src: string, dest: string): Promise<string[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let pointerText: string;
    try {
      pointerText = await readFile(path.join(src, POINTER_FILE), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return []; // nothing embedded yet
      throw err;
    }
    const pointer = JSON.parse(pointerText) as { file?: unknown };
    if (typeof pointer.file !== "string" || pointer.file.includes("/") || pointer.file.includes("\\")) {
      throw new BackupError(`${path.join(src, POINTER_FILE)} does not name a vector file`);
    }
    try {
      await copyFile(path.join(src, pointer.file), path.join(dest, pointer.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // replaced by a newer save meanwhile
      throw err;
    }
    await writeFile(path.join(dest, POINTER_FILE), pointerText);
    return [pointer.file, POINTER_FILE];
  }
  throw new BackupError(`the vector file in ${src} kept changing during the backup; try again`);
}

/**
 * Copies the index in `src` into the new directory `dest` (which must not exist or be empty). Written
 * into `dest.partial` first and renamed at the end: a backup directory is either complete or absent.
 */
export async function backupIndex(src: string, dest: string): Promise<BackupReport> {
  const started = performance.now();
  const from = path.resolve(src);
  const to = path.resolve(dest);
  if (!existsSync(path.join(from, STORE_FILE))) throw new BackupError(`${from} holds no paperhound index (no ${STORE_FILE})`);
  if (existsSync(to) && (await readdir(to)).length > 0) throw new BackupError(`${to} exists and is not empty: choose a new directory for the backup`);
  const partial = `${to}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    const names = await copyVectors(from, partial);
    await sqliteSnapshot(path.join(from, STORE_FILE), path.join(partial, STORE_FILE));
    names.push(STORE_FILE);
    if (existsSync(path.join(from, DIGEST_FILE))) {
      await sqliteSnapshot(path.join(from, DIGEST_FILE), path.join(partial, DIGEST_FILE));
      names.push(DIGEST_FILE);
    }
    const files = await Promise.all(names.map(async (name) => ({ name, bytes: (await stat(path.join(partial, name))).size })));
    await writeFile(path.join(partial, MANIFEST), `${JSON.stringify({ created: new Date().toISOString(), source: from, files }, null, 2)}\n`);
    await replaceDirAtomic(partial, to);
    return { dir: to, files, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Restores a backup made by backupIndex into `dest` (a new or empty directory; an existing index is
 * never overwritten: move it aside first). Checks the backup is complete before copying anything.
 */
export async function restoreIndex(backup: string, dest: string): Promise<BackupReport> {
  const started = performance.now();
  const from = path.resolve(backup);
  const to = path.resolve(dest);
  let manifest: { files?: { name: string; bytes: number }[] };
  try {
    manifest = JSON.parse(await readFile(path.join(from, MANIFEST), "utf8")) as typeof manifest;
  } catch {
    throw new BackupError(`${from} is not a paperhound backup (no readable ${MANIFEST})`);
  }
  const files = manifest.files ?? [];
  for (const f of files) {
    if (f.name.includes("/") || f.name.includes("\\")) throw new BackupError(`${MANIFEST} names a file outside the backup: ${f.name}`);
    const size = await stat(path.join(from, f.name)).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== f.bytes) throw new BackupError(`backup file ${f.name} is missing or has ${size} bytes instead of ${f.bytes}: the backup is damaged`);
  }
  if (existsSync(to) && (await readdir(to)).length > 0) throw new BackupError(`${to} exists and is not empty: restore into a new directory (move the current index aside first)`);
  const partial = `${to}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    for (const f of files) await copyFile(path.join(from, f.name), path.join(partial, f.name));
    await replaceDirAtomic(partial, to);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  return { dir: to, files, seconds: (performance.now() - started) / 1000 };
}
