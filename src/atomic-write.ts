/**
 * Replacing a file or a directory so that a crash at any moment leaves either the old one or the new
 * one, whole: write beside it under a temp name, fsync the data, rename over the old name, fsync the
 * directory (the rename is only durable once the directory is). Every place that replaces a file
 * uses these: the vector index (with its own commit steps), built and downloaded models, the OAI
 * harvest state, backups and restores.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { faultPoint } from "./fault-points.js";
import { makeDir } from "./make-dir.js";

/** A temp name beside `target`, unique per process and call: `.name.<pid>.<random>.tmp`. */
export function tempPathBeside(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/** Flushes a file's data to disk. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await open(file, fsConstants.O_RDONLY);
  try {
    faultPoint("fsync", "fsyncFile");
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Flushes a directory's entries (renames, new files) to disk. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, fsConstants.O_RDONLY);
    faultPoint("fsync", "fsyncDir");
    await fh.sync();
  } catch (err) {
    // Some platforms cannot fsync a directory; the renames are still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM" && code !== "EBADF") throw err;
  } finally {
    await fh?.close();
  }
}

/** Writes `data` to a new file and flushes it; `exclusive`: fail if the file exists. */
export async function writeFileSynced(file: string, data: string | Uint8Array, opts: { exclusive?: boolean; mode?: number } = {}): Promise<void> {
  const fh = await open(file, opts.exclusive ? "wx" : "w", opts.mode);
  try {
    faultPoint("write", "writeFileSynced");
    await fh.writeFile(data);
    faultPoint("fsync", "writeFileSynced");
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `file` with `data` atomically and durably (its directory is created if missing); `mode`: of a new file (secrets: 0o600). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  const dir = path.dirname(file);
  await makeDir(dir);
  const tmp = tempPathBeside(file);
  try {
    await writeFileSynced(tmp, data, { exclusive: true, ...(opts.mode !== undefined ? { mode: opts.mode } : {}) });
    faultPoint("rename", "writeFileAtomic");
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Flushes every file under `dir` and the directories themselves (before a directory is renamed into place). */
export async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) await fsyncFile(p);
  }
  await fsyncDir(dir);
}

/**
 * Moves the finished directory `from` to `to` (same parent file system), replacing what is there:
 * its files are flushed first, an existing `to` is renamed aside and removed only after the new one
 * is in place, so readers see either the old complete directory or the new one. `keepExisting`:
 * asked when the rename fails because `to` came back meanwhile (another process finished the same
 * job); true keeps theirs and drops `from`.
 */
export async function replaceDirAtomic(from: string, to: string, opts: { keepExisting?: () => boolean } = {}): Promise<void> {
  await fsyncTree(from);
  const aside = `${to}.old-${process.pid}-${randomBytes(4).toString("hex")}`;
  let movedAside = false;
  try {
    faultPoint("rename", "replaceDirAtomic: old aside");
    await rename(to, aside);
    movedAside = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  try {
    faultPoint("rename", "replaceDirAtomic: new in place");
    await rename(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === "ENOTEMPTY" || code === "EEXIST") && opts.keepExisting?.()) {
      await rm(from, { recursive: true, force: true });
    } else {
      if (movedAside) await rename(aside, to).catch(() => undefined);
      throw err;
    }
  }
  await fsyncDir(path.dirname(to));
  if (movedAside) await rm(aside, { recursive: true, force: true });
}
