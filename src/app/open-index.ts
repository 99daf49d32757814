/**
 * The index as the configuration names it, opened for use by the CLI's commands and by the bot.
 *
 * Which index: `--index <dir>` if given (a "user-given" index), else the configured one
 * (PAPERHOUND_INDEX, default `index/default` in the project).
 *
 * Fresh installs answer from the sample: when search/related/stats or the bot find the index empty
 * and it is not user-given, they first index the built-in sample corpus. By default that happens
 * only for the built-in default directory; `PAPERHOUND_SAMPLE_IF_EMPTY=1` makes the configured
 * PAPERHOUND_INDEX behave the same (demos, tests), `=0` turns it off everywhere. `--index` never
 * gets the sample.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { embedderSettings, SETTINGS } from "../config.js";
import { INDEX_ERRORS } from "../index-errors.js";
import type { Embedder } from "../embed/types.js";
import { createLogger, type Logger } from "../log.js";
import { loadSampleCorpus } from "../papers/sources/daily-listing.js";
import type { Paper } from "../papers/types.js";
import { PaperIndex, STORE_FILE, type PaperIndexOptions } from "../search/paper-index.js";
import { checkStoreNotEmptied } from "../search/index-dir.js";
import { PaperStore, StoreCorruptError, StoreSchemaError } from "../search/paper-store.js";
import { IndexCorruptError, ModelMismatchError, savedFingerprint } from "../search/vector-index.js";
import { writerInProgress, type LockHolder } from "../search/writer-lock.js";
import { InputError, type AppContext } from "./context.js";
import { PaperhoundError } from "../errors.js";

/** Environment switch for the sample corpus on first use (see the header comment). */
export const SAMPLE_ENV = "PAPERHOUND_SAMPLE_IF_EMPTY";

/** The index cannot be used as it is (corrupt file, other model); the message says what to do. */
export class IndexUnusableError extends PaperhoundError {
  readonly identifier = "index_unusable";
  override readonly name = "IndexUnusableError";
}

// ---------------------------------------------------------------------------------------------
// Which index

export interface IndexOption {
  index?: string;
}

export interface IndexLocation {
  dir: string;
  /** Given with --index. */
  userGiven: boolean;
  /** search/related/stats index the sample corpus into it when it is empty. */
  sampleIfEmpty: boolean;
  /** ` --index <dir>` when user-given, for commands suggested in messages. */
  indexArg: string;
}


function builtInIndexDir(): string {
  return SETTINGS.indexPath.default({ env: {}, stderrIsTTY: false });
}

function sampleSetting(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[SAMPLE_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  if (raw === "1" || raw === "true") return true;
  if (raw === "0" || raw === "false") return false;
  throw new InputError(`${SAMPLE_ENV}=${JSON.stringify(env[SAMPLE_ENV])} is not allowed (expected one of 0, 1, true, false)`);
}

export function indexLocation(ctx: AppContext, opts: IndexOption): IndexLocation {
  const config = ctx.config();
  const given = opts.index !== undefined;
  if (given && opts.index!.trim() === "") throw new InputError("--index needs a directory");
  const dir = given ? path.resolve(opts.index!) : config.indexPath;
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false) {
    throw new InputError(`${given ? "--index" : "PAPERHOUND_INDEX"} names ${dir}, which is a file, not an index directory`);
  }
  const setting = sampleSetting(ctx.env);
  const sampleIfEmpty = !given && (setting ?? path.resolve(dir) === path.resolve(builtInIndexDir()));
  return { dir, userGiven: given, sampleIfEmpty, indexArg: given ? ` --index ${shellQuote(dir)}` : "" };
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function storeFileOf(dir: string): string {
  return path.join(dir, STORE_FILE);
}

// ---------------------------------------------------------------------------------------------
// Embedder and index

/**
 * Logger for the search commands: the configured one when LOG_LEVEL is set, otherwise warnings
 * only, so a search prints results and not the model's start-up lines.
 */
export function commandLogger(ctx: AppContext): Logger {
  if (ctx.env.LOG_LEVEL?.trim()) return ctx.logger();
  return createLogger({ level: "warn", format: ctx.config().logFormat, stream: ctx.stderr });
}

export async function openEmbedder(ctx: AppContext): Promise<Embedder> {
  const config = ctx.config();
  // Loaded here, not at start-up: the model runner pulls in onnxruntime and transformers.js.
  const { loadEmbedder } = await import("../embed/load.js");
  return loadEmbedder({
    ...embedderSettings(config),
    logger: commandLogger(ctx),
  });
}

type ModelIdentity = Awaited<ReturnType<typeof import("../embed/load.js").modelIdentity>>;

/** `make`'s embedder for the configured model when the index's saved vectors were made with it; else undefined. */
async function identityEmbedder(ctx: AppContext, dir: string, make: (identity: ModelIdentity & { dim: number }) => Embedder): Promise<Embedder | undefined> {
  const saved = await savedFingerprint(dir);
  if (!saved) return undefined;
  const config = ctx.config();
  const { modelIdentity } = await import("../embed/load.js");
  const model = await modelIdentity({ ...embedderSettings(config), logger: commandLogger(ctx) });
  return model.modelId === saved.modelId && model.checksum === saved.checksum ? make({ ...model, dim: saved.dim }) : undefined;
}

/** The search core's errors about unusable files, worded for this index: the commands they suggest carry its --index (src/index-errors.ts). */
export function explainIndexError(err: unknown, loc: IndexLocation): unknown {
  const place = { dir: loc.dir, indexArg: loc.indexArg };
  if (err instanceof ModelMismatchError) return new IndexUnusableError(INDEX_ERRORS.model_mismatch({ ...place, found: err.found, expected: err.expected }), { cause: err });
  if (err instanceof IndexCorruptError) return new IndexUnusableError(INDEX_ERRORS.vector_file_unusable({ ...place, file: err.file, reason: err.reason }), { cause: err });
  if (err instanceof StoreCorruptError) return new IndexUnusableError(INDEX_ERRORS.store_corrupt({ ...place, file: err.file, detail: err.detail }), { cause: err });
  // The directory cannot be created or written (read-only, /proc, /sys, permissions).
  const code = (err as { code?: unknown })?.code;
  const mkdirRefused = code === "ENOENT" && (err as { syscall?: unknown }).syscall === "mkdir";
  if (mkdirRefused || code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "ENOTDIR") {
    return new InputError(`cannot create or write the index in ${loc.dir} (${String(code)}): give a directory you can write with --index DIR or PAPERHOUND_INDEX`, { cause: err });
  }
  return err;
}

/** Papers in the store file, read-only; 0 when there is no store yet. */
export function paperCount(storeFile: string): number {
  if (!existsSync(storeFile)) return 0;
  checkStoreNotEmptied(path.dirname(storeFile));
  let store: PaperStore;
  try {
    store = PaperStore.open(storeFile, { readonly: true });
  } catch (err) {
    if (err instanceof StoreSchemaError && err.empty) return 0; // an indexer is creating it
    if (!(err instanceof StoreSchemaError && err.migratableFrom !== undefined)) throw err;
    // A store from an older paperhound: migrate it once (a write), then carry on read-only.
    PaperStore.open(storeFile).close();
    store = PaperStore.open(storeFile, { readonly: true });
  }
  try {
    return store.count();
  } finally {
    store.close();
  }
}

export interface OpenIndex {
  index: PaperIndex;
  embedder: Embedder;
  loc: IndexLocation;
  close(): Promise<void>;
}

/** How a command that writes the index opens it: waiting INDEX_LOCK_WAIT_SECONDS for another writer, and saying so. */
export function writerOpenOptions(
  ctx: AppContext,
  dir: string,
): Required<Pick<PaperIndexOptions, "lockWaitMs" | "onLockWait" | "graphThreads" | "onVectorsConverted">> {
  return {
    onVectorsConverted: (c) =>
      ctx.stderr.write(
        `Converted the ${c.vectors} stored vectors of ${dir} from ${c.from} to ${c.to} once, in ${c.seconds.toFixed(1)} s (${
          c.to === "float16" ? "they now take half the memory and disk" : "this build of hnswlib-node has no half floats"
        }; the graph was kept, nothing was embedded again).\n`,
      ),
    graphThreads: ctx.config().embedThreads, // the graph's inserts get the cores the model gets
    lockWaitMs: ctx.config().indexLockWaitSeconds * 1000,
    onLockWait: (holder) =>
      ctx.stderr.write(
        `${writerInProgress(dir, holder)}; waiting up to ${ctx.config().indexLockWaitSeconds} s (INDEX_LOCK_WAIT_SECONDS)\n`,
      ),
  };
}

/**
 * Opens the index read-only for queries (a query never writes, so it cannot disturb an indexing run
 * next to it), with the configured embedder. An empty index gets the sample corpus first when it
 * is not user-given (see the header comment); otherwise it is an error saying how to fill it.
 * `extra.add`: papers to store (and embed) before the index is opened for the query.
 * `extra.modelElsewhere`: the model runs on other threads (a bot's search threads); an index that
 * has saved vectors is opened with the embedder this makes from the configured model's identity,
 * read from its files, so this thread loads no inference session. When that identity is not the
 * index's, the model is loaded here after all, so the mismatch is reported as it always is.
 */
export async function openIndexForQuery(
  ctx: AppContext,
  opts: IndexOption,
  extra: { add?: readonly Paper[]; searchesElsewhere?: boolean; modelElsewhere?: (identity: ModelIdentity & { dim: number }) => Embedder } = {},
): Promise<OpenIndex> {
  const loc = indexLocation(ctx, opts);
  const storeFile = storeFileOf(loc.dir);
  const add = extra.add ?? [];
  let embedder: Embedder | undefined;
  try {
    const empty = paperCount(storeFile) === 0;
    if (empty && !loc.sampleIfEmpty && add.length === 0) {
      throw new InputError(
        `the index in ${loc.dir} is empty: add papers with \`paperhound index <file...>${loc.indexArg}\` (JSON, JSON Lines or a listing page)`,
      );
    }
    if (extra.modelElsewhere && !empty && add.length === 0) embedder = await identityEmbedder(ctx, loc.dir, extra.modelElsewhere);
    embedder ??= await openEmbedder(ctx);
    if (empty) {
      const papers = await loadSampleCorpus();
      ctx.stderr.write(`index is empty: indexing the built-in sample corpus (${papers.length} papers) first\n`);
      const writable = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) });
      try {
        await writable.add(papers);
      } finally {
        writable.close();
      }
    }
    if (add.length > 0) {
      // Papers fetched for this query (`related` with an arXiv id not in the index): stored and embedded first.
      const writable = await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) });
      try {
        await writable.add(add);
      } finally {
        writable.close();
      }
    }
    // Searches run on other threads (the bot's search threads): this copy serves digests, lookups and
    // stored vectors, so its HNSW graph and BM25 index are made only if something here needs them.
    const index = await PaperIndex.open({ dir: loc.dir, embedder, readonly: true, warm: !extra.searchesElsewhere, deferVectorGraph: extra.searchesElsewhere === true });
    const open = embedder;
    return {
      index,
      embedder: open,
      loc,
      async close() {
        index.close();
        await open.dispose();
      },
    };
  } catch (err) {
    await embedder?.dispose();
    throw explainIndexError(err, loc);
  }
}
