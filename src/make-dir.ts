/**
 * `mkdir -p` without Node's recursive mkdir, which loops for ever (100% CPU, never returning) where
 * mkdir answers ENOENT under a parent that exists: /proc/self/x, some FUSE and network mounts.
 * Here each missing level is made once, top down, and the first refusal is thrown as it is.
 */
import { mkdirSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";

/** The levels of `dir` that do not exist yet, outermost first (an existing non-directory throws ENOTDIR). */
function missingLevels(dir: string): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    const st = statSync(d, { throwIfNoEntry: false });
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: "ENOTDIR", syscall: "mkdir", path: d });
      break;
    }
    missing.push(d);
    const parent = path.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  return missing.reverse();
}

function existed(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
}

export function makeDirSync(dir: string): void {
  for (const level of missingLevels(dir)) {
    try {
      mkdirSync(level);
    } catch (err) {
      existed(err);
    }
  }
}

export async function makeDir(dir: string): Promise<void> {
  // The walk stats synchronously: a handful of calls, and it stays one function.
  for (const level of missingLevels(dir)) await mkdir(level).catch(existed);
}
