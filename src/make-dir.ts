/**
 * `mkdir -p` without Node's recursive mkdir, which loops for ever (100% CPU, never returning) where
 * mkdir answers ENOENT under a parent that exists: /proc/self/x, some FUSE and network mounts.
 * Here each missing level is made once, top down, and the first refusal is thrown as it is.
 */
import { mkdirSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";

/** The levels of `dir` that do not exist yet, outermost first (an existing non-directory throws ENOTDIR). */
function missingLevels(dir: string, statOf: (p: string) => { isDirectory(): boolean } | undefined): string[] {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    const st = statOf(d);
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

function absentAsUndefined(err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw err;
}

function existed(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
}

export function makeDirSync(dir: string): void {
  const statOf = (p: string) => {
    try {
      return statSync(p);
    } catch (err) {
      return absentAsUndefined(err);
    }
  };
  for (const level of missingLevels(dir, statOf)) {
    try {
      mkdirSync(level);
    } catch (err) {
      existed(err);
    }
  }
}

export async function makeDir(dir: string): Promise<void> {
  // Stat synchronously: a handful of calls, and the walk stays one function.
  const statOf = (p: string) => {
    try {
      return statSync(p);
    } catch (err) {
      return absentAsUndefined(err);
    }
  };
  for (const level of missingLevels(dir, statOf)) await mkdir(level).catch(existed);
}
