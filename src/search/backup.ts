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
import { chmod, copyFile, lstat, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { constants as fsConstants, existsSync } from "node:fs";
import { z } from "zod";
import path from "node:path";
import { STORE_FILE } from "./paper-index.js";
import { PaperStore, StoreCorruptError } from "./paper-store.js";
import { Database } from "./store/sqlite.js";
import { IndexCorruptError, parsePointer, POINTER_FILE, type IndexPointer } from "./vectors/index-file.js";
import { replaceDirAtomic } from "../atomic-write.js";
import { PaperhoundError } from "../errors.js";
import { faultPoint } from "../fault-points.js";
import { sha256OfFile } from "../file-hash.js";
import { makeDir } from "../make-dir.js";
import { processAlive } from "../process-alive.js";

/**
 * A new, empty directory beside `to` to build it in, named `.<name>.partial-<pid>-XXXXXX`: created
 * by mkdtemp, so it is never a directory of the user's (a fixed `<name>.partial` could be one, and
 * would be deleted). Those of killed runs (their pid gone) are removed first: each is a full copy.
 */
async function freshWorkDir(to: string): Promise<string> {
  const parent = path.dirname(to);
  await makeDir(parent);
  const prefix = `.${path.basename(to)}.partial-`;
  for (const name of await readdir(parent)) {
    const pid = name.startsWith(prefix) ? Number(/^(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length))?.[1]) : Number.NaN;
    if (Number.isSafeInteger(pid) && pid !== process.pid && !processAlive(pid)) await rm(path.join(parent, name), { recursive: true, force: true });
  }
  const dir = await mkdtemp(path.join(parent, `${prefix}${process.pid}-`));
  // mkdtemp makes it owner-only (0700); the finished directory gets the usual mode, as mkdir would give.
  await chmod(dir, 0o777 & ~process.umask());
  return dir;
}

/** The digest's state file (src/digest/digest-store.ts), copied along when present. */
const DIGEST_FILE = "digest.sqlite";
const MANIFEST = "paperhound-backup.json";

export class BackupError extends PaperhoundError {
  readonly identifier = "backup";
  override readonly name = "BackupError";
}

export interface BackupReport {
  dir: string;
  files: { name: string; bytes: number }[];
  seconds: number;
}

async function sqliteSnapshot(from: string, to: string): Promise<void> {
  faultPoint("write", "backup: sqlite snapshot");
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
      faultPoint("write", "backup: vector file");
      await copyFile(path.join(src, pointer.file), path.join(dest, pointer.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // replaced by a newer save meanwhile
      throw err;
    }
    faultPoint("write", "backup: vector pointer");
    await writeFile(path.join(dest, POINTER_FILE), pointerText);
    return [pointer.file, POINTER_FILE];
  }
  throw new BackupError(`the vector file in ${src} kept changing during the backup; try again`);
}

/**
 * Copies the index in `src` into the new directory `dest` (which must not exist or be empty). Written
 * into a fresh work directory beside it first and renamed at the end: a backup directory is either
 * complete or absent.
 */
/** A backup or restore goes into a new or empty directory: never over a file or anything already there. */
async function checkTarget(to: string, advice: string): Promise<void> {
  const st = await stat(to).catch(() => undefined);
  if (!st) return;
  if (!st.isDirectory()) throw new BackupError(`${to} exists and is a file, not a directory: ${advice}`);
  if ((await readdir(to)).length > 0) throw new BackupError(`${to} exists and is not empty: ${advice}`);
}

export async function backupIndex(src: string, dest: string): Promise<BackupReport> {
  const started = performance.now();
  const from = path.resolve(src);
  const to = path.resolve(dest);
  if (!existsSync(path.join(from, STORE_FILE))) throw new BackupError(`${from} holds no paperhound index (no ${STORE_FILE})`);
  await checkTarget(to, "choose a new directory for the backup");
  const partial = await freshWorkDir(to);
  try {
    const names = await copyVectors(from, partial);
    await sqliteSnapshot(path.join(from, STORE_FILE), path.join(partial, STORE_FILE));
    names.push(STORE_FILE);
    // A backup of a damaged store would be restored in good faith later: check the snapshot.
    const snapshot = PaperStore.open(path.join(partial, STORE_FILE), { readonly: true });
    try {
      snapshot.integrityCheck();
    } catch (err) {
      throw new BackupError(`the paper store in ${from} is damaged (${err instanceof StoreCorruptError ? err.detail : (err as Error).message}); no backup was written`);
    } finally {
      snapshot.close();
    }
    if (existsSync(path.join(from, DIGEST_FILE))) {
      await sqliteSnapshot(path.join(from, DIGEST_FILE), path.join(partial, DIGEST_FILE));
      names.push(DIGEST_FILE);
    }
    const files = await Promise.all(names.map(async (name) => ({ name, bytes: (await stat(path.join(partial, name))).size })));
    faultPoint("write", "backup: manifest");
    await writeFile(path.join(partial, MANIFEST), `${JSON.stringify({ created: new Date().toISOString(), source: from, files }, null, 2)}\n`);
    await replaceDirAtomic(partial, to);
    return { dir: to, files, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
}

/** A backup's manifest as backupIndex writes it; anything else is refused before a byte is copied. */
const ManifestSchema = z.object({
  created: z.string().optional(),
  source: z.string().optional(),
  files: z.array(z.object({ name: z.string(), bytes: z.number().int().nonnegative() })).min(1),
});

/** The files an index directory is made of: the only names a manifest may list. */
const GENERATION_FILE = /^vectors-\d+\.hnsw$/;
const isIndexFile = (name: string) => name === STORE_FILE || name === DIGEST_FILE || name === POINTER_FILE || GENERATION_FILE.test(name);

/** Reads and checks the manifest: known file names, each once, the store always, vectors as a pointer and its file. */
async function readManifest(from: string): Promise<{ name: string; bytes: number }[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path.join(from, MANIFEST), "utf8"));
  } catch {
    throw new BackupError(`${from} is not a paperhound backup (no readable ${MANIFEST})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) throw new BackupError(`${path.join(from, MANIFEST)} is not a paperhound backup manifest (it must list the backup's files with their sizes)`);
  const files = parsed.data.files;
  const names = files.map((f) => f.name);
  for (const name of names) {
    if (!isIndexFile(name)) throw new BackupError(`${MANIFEST} names a file that is not part of an index: ${JSON.stringify(name.slice(0, 100))}; the backup was not restored`);
  }
  if (new Set(names).size !== names.length) throw new BackupError(`${MANIFEST} lists a file twice; the backup was not restored`);
  if (!names.includes(STORE_FILE)) throw new BackupError(`${MANIFEST} lists no ${STORE_FILE}; the backup was not restored`);
  if (names.includes(POINTER_FILE) !== names.some((n) => GENERATION_FILE.test(n))) {
    throw new BackupError(`${MANIFEST} lists a vector pointer without its vector file or the other way round; the backup was not restored`);
  }
  return files;
}

/** Checks the restored copy before it takes the index's place: SQLite files intact, the vector file the one its pointer names. */
async function checkRestoredCopy(dir: string, names: readonly string[]): Promise<void> {
  const damaged = (name: string, why: string) => new BackupError(`backup file ${name} is damaged (${why}); nothing was restored`);
  try {
    const store = PaperStore.open(path.join(dir, STORE_FILE), { readonly: true });
    try {
      store.integrityCheck();
    } finally {
      store.close();
    }
  } catch (err) {
    throw damaged(STORE_FILE, err instanceof StoreCorruptError ? err.detail : (err as Error).message);
  }
  if (names.includes(DIGEST_FILE)) {
    try {
      const db = new Database(path.join(dir, DIGEST_FILE), { readonly: true, fileMustExist: true });
      try {
        const result = db.prepare("PRAGMA quick_check").pluck().all() as string[];
        if (result.some((r) => r !== "ok")) throw new Error(`quick_check: ${result.slice(0, 3).join("; ")}`);
      } finally {
        db.close();
      }
    } catch (err) {
      throw damaged(DIGEST_FILE, (err as Error).message);
    }
  }
  if (names.includes(POINTER_FILE)) {
    // The vector index's own pointer check, then the file against the hash it records.
    let pointer: IndexPointer;
    try {
      pointer = parsePointer(await readFile(path.join(dir, POINTER_FILE), "utf8"), POINTER_FILE);
    } catch (err) {
      throw damaged(POINTER_FILE, err instanceof IndexCorruptError ? err.reason : (err as Error).message);
    }
    if (!names.includes(pointer.file)) throw damaged(POINTER_FILE, "it does not name the vector file of the backup");
    // The hash the save recorded after checking the file's layout: equal means the file is the one saved.
    if ((await sha256OfFile(path.join(dir, pointer.file))) !== pointer.sha256) throw damaged(pointer.file, "its sha256 differs from the one its pointer recorded");
  }
}

/**
 * Restores a backup made by backupIndex into `dest` (a new or empty directory; an existing index is
 * never overwritten: move it aside first). Nothing in a backup is trusted: the manifest must list
 * only an index's files, each a regular file of the listed size (a link is refused), and the copy
 * is checked (SQLite integrity, the vector file's hash) before it takes `dest`'s place.
 */
export async function restoreIndex(backup: string, dest: string): Promise<BackupReport> {
  const started = performance.now();
  const from = path.resolve(backup);
  const to = path.resolve(dest);
  const files = await readManifest(from);
  for (const f of files) {
    const st = await lstat(path.join(from, f.name)).catch(() => undefined);
    if (st && !st.isFile()) throw new BackupError(`backup file ${f.name} is not a regular file (a link or a directory); the backup was not restored`);
    const size = st?.size ?? -1;
    if (size !== f.bytes) throw new BackupError(`backup file ${f.name} is missing or has ${size} bytes instead of ${f.bytes}: the backup is damaged`);
  }
  await checkTarget(to, "restore into a new directory (move the current index aside first)");
  const partial = await freshWorkDir(to);
  try {
    // COPYFILE_EXCL: the fresh partial directory holds nothing a copy could follow or overwrite.
    for (const f of files) {
      faultPoint("write", "restore: copy");
      await copyFile(path.join(from, f.name), path.join(partial, f.name), fsConstants.COPYFILE_EXCL);
    }
    for (const f of files) {
      const st = await lstat(path.join(partial, f.name));
      if (!st.isFile() || st.size !== f.bytes) throw new BackupError(`backup file ${f.name} changed while it was copied; nothing was restored`);
    }
    await checkRestoredCopy(
      partial,
      files.map((f) => f.name),
    );
    await replaceDirAtomic(partial, to);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  return { dir: to, files, seconds: (performance.now() - started) / 1000 };
}
