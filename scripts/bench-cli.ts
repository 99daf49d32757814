/**
 * What bench:search and bench:scale share on their command lines: the error their users read, the
 * checks of numeric flags, the embedder from the project's settings, and the way main() ends.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ConfigError, embedderSettings, loadConfig } from "../src/config.js";
import { loadEmbedder } from "../src/embed/load.js";
import type { Embedder } from "../src/embed/types.js";
import { createLogger } from "../src/log.js";
import { BUILD_FILE } from "./bench-build-file.js";

/** A problem the user can fix (a flag, a path, a dataset): printed without a stack. */
export class BenchError extends Error {
  override readonly name = "BenchError";
}

export function positiveInt(raw: string | undefined, flag: string, fallback?: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new BenchError(`${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Bytes of the index's files (the bench's own build record left out). */
export function indexBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (name === BUILD_FILE) continue;
    const st = statSync(path.join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}

/** The embedder the project's settings (.env, environment) name, with quiet logs. */
export async function loadBenchEmbedder(): Promise<Embedder> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new BenchError(err.message);
    throw err;
  }
  return loadEmbedder({ ...embedderSettings(config), logger: createLogger({ level: "warn", format: config.logFormat }) });
}

/** Runs a bench's main: bad flags exit 2 with the usage; named errors print their message, others their stack; exit 1. */
export function runBench(name: string, usage: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${name}: ${(err as Error).message}\n${usage}\n`);
      process.exitCode = 2;
      return;
    }
    const known = err instanceof Error && err.name !== "Error" && err.name !== "TypeError" && err.name !== "RangeError";
    process.stderr.write(`${name}: ${known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
