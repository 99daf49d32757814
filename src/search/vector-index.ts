/**
 * Dense vector index: hnswlib's HNSW graph over cosine space, with exact search for small indexes,
 * filtered search, and crash-safe persistence that knows which model built it.
 *
 * Vectors are L2-normalised embeddings; a result's score is cosine similarity (1 - hnswlib's cosine
 * distance), best first. Labels are uint32 (which paper a label belongs to is kept in the store).
 *
 * Search modes
 *  - exact while the live size is below `EXACT_SEARCH_BELOW` (a plain JS scan over a Float32Array
 *    copy of the vectors, kept only in that regime);
 *  - HNSW (efSearch = `DEFAULT_EF_SEARCH` unless configured) above it;
 *  - `search(v, k, { exact: true })` forces exact (for recall measurement), `{ exact: false }` forces HNSW.
 *  - A filter is passed to hnswlib's searchKnn; when it returns fewer than k results the search falls
 *    back to an exact scan over the allowed labels (cost O(allowed × dim)).
 *
 * Storage. Vectors are held as half floats (`storage` "float16", hnswlib space "cosine-f16") where
 * the hnswlib build has them (the x86-64-v3 one), else as float32: half floats keep recall and
 * search quality (docs/benchmarks.md) at half the bytes, and a search reads half as much memory.
 * A file records its space in the pointer; `load` reads either into either (LoadOptions.storage).
 *
 * Memory (RSS). hnswlib keeps, per element, dim×2 (float16) or dim×4 (float32) bytes of vector
 * + (2M+1)×4 bytes of level-0 links + an 8-byte label, plus upper-layer links for ~1/M of elements;
 * at dim 512, M 16 that is ~1.2 KB (float16) or ~2.2 KB, so 400k vectors ≈ 0.5 GB (0.9 GB) native
 * memory, and the same again in page cache while saving/loading.
 * Deleted points keep their slot until a rebuild (`paperhound reindex`); see `deletedCount`.
 * The JS side holds two Sets of labels (~40 bytes per label: ~16 MB at 400k). The exact-search copy
 * (dim×4 bytes per vector) exists only below `EXACT_SEARCH_BELOW`, or after a forced exact search above
 * it, in which case it stays (≈ 0.8 GB at 400k × 512) and is kept up to date until
 * `releaseExactCache()`: forced exact is for recall measurement, not for serving.
 *
 * Persistence (`save`/`load`): a directory holds immutable generation files `vectors-<g>.hnsw` and
 * one small pointer `vectors.json` naming the current one (with its sha256 and size). `save` writes
 * the new generation under a temp name, fsyncs it, checks it, renames it to `vectors-<g>.hnsw`,
 * fsyncs the directory, writes the pointer under a temp name, fsyncs it, renames it over
 * `vectors.json` (the commit point), fsyncs the directory, then deletes older generations and stale
 * temp files. A crash anywhere before the pointer rename leaves the previous pointer and the file it
 * names untouched; after it, the new generation is complete. One writer per directory.
 *
 * Its parts: the exact scan (vectors/exact-search.ts), and the directory's files with a reader of
 * hnswlib's file layout (vectors/index-file.ts).
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ModelFingerprint } from "./types.js";
import { fsyncDir, fsyncFile, writeFileSynced } from "../atomic-write.js";
import { faultPoint } from "../fault-points.js";
import { INDEX_ERRORS, type IndexErrorCode } from "../index-errors.js";
import { ExactStore, guardFilter, TopK, type VectorHit } from "./vectors/exact-search.js";
import {
  convertIndexFile,
  fileCloser,
  generationFile,
  IndexCorruptError,
  INDEX_FORMAT_VERSION,
  checkIndexHeader,
  inspectIndexFile,
  MAX_LABEL,
  type IndexFileInfo,
  parsePointer,
  POINTER_FILE,
  removeFiles,
  scanDir,
  type IndexPointer,
  SPACE_OF,
  STORAGE_OF,
  type VectorSpace,
  type VectorStorage,
} from "./vectors/index-file.js";
import { decodeFloat16 } from "./vectors/float16.js";
import { hnswlib } from "./vectors/hnswlib.js";
import { PaperhoundError } from "../errors.js";
import { makeDir } from "../make-dir.js";
import { processAlive } from "../process-alive.js";

export { IndexCorruptError, INDEX_FORMAT_VERSION, POINTER_FILE, type IndexPointer, type VectorStorage } from "./vectors/index-file.js";
export type { VectorHit } from "./vectors/exact-search.js";

const { HierarchicalNSW } = hnswlib.addon;
type Hnsw = InstanceType<typeof HierarchicalNSW>;
/** What the x86-64-v3 build adds to hnswlib-node's HierarchicalNSW (scripts/hnswlib-add-points.cc). */
interface BatchInsert {
  addPoints(points: Float32Array, labels: Uint32Array, threads: number): void;
}
/** The same build's search on one of libuv's threads, nearest first, and scores of given labels (scripts/hnswlib-search.cc). */
interface AsyncSearch {
  searchKnnAsync(query: Float32Array, k: number): Promise<{ distances: Float32Array; neighbors: Uint32Array }>;
}
interface LabelScores {
  similarities(query: Float32Array, labels: Uint32Array): Float32Array;
}

/** Measurements behind these defaults: docs/vector-index-measurements.md. */

/**
 * Live size below which search is exact by default: the JS scan costs ~0.55 ms per 1k vectors, so
 * ≤ ~5.5 ms here, exact under any filter, and the copy it needs is ≤ 20 MB. (hnswlib's native
 * BruteforceSearch is ~8× faster but is not exact under a filter: it drops allowed points when the
 * filter rejects some of the first k rows, so it is not used.)
 */
export const EXACT_SEARCH_BELOW = 10_000;

/**
 * Default HNSW search breadth (hnswlib uses max(ef, k)). On real embeddings recall@10 against exact
 * search falls with size: ef 100 gives 0.992 at 5k and 0.980 at 20k vectors; at 140k arXiv papers
 * (M 16, efConstruction 200; `npm run bench:search -- --ef N`) ef 200 / 400 / 600 give 0.940 / 0.971
 * / 0.983 for 2.0 / 3.2 / 4.5 ms per query with use-lite. 600 is the smallest that meets recall@10
 * ≥ 0.98 there; PaperIndex opens each index with its model's own measured value (model-tuning.ts:
 * 300 for paperhound-sci-1), this is what a VectorIndex gets otherwise. Random vectors would need far
 * more (docs/vector-index-measurements.md); they are not what we index.
 */
export const DEFAULT_EF_SEARCH = 600;
export const DEFAULT_M = 16;
export const DEFAULT_EF_CONSTRUCTION = 200;
const MIN_CAPACITY = 16;

/** The index was built by another model than the one asked for. */
export class ModelMismatchError extends PaperhoundError {
  readonly identifier = "model_mismatch" satisfies IndexErrorCode;
  override readonly name = "ModelMismatchError";
  constructor(
    readonly expected: ModelFingerprint,
    readonly found: ModelFingerprint,
    readonly dir: string,
  ) {
    super(INDEX_ERRORS.model_mismatch({ dir, indexArg: "", found, expected }));
  }
}


/** Misuse of the index: bad label, wrong dimension, non-finite vector, modifying while saving. */
export class VectorIndexError extends PaperhoundError {
  readonly identifier = "vector_index";
  override readonly name = "VectorIndexError";
}

/**
 * What a new index stores (`VectorStorage`): half floats where this thread's hnswlib build has them
 * (the x86-64-v3 one), else float32. Half floats take half the memory and disk and about 28% less
 * time per HNSW search at 140k papers (docs/benchmarks.md).
 */
export const DEFAULT_STORAGE: VectorStorage = hnswlib.float16 ? "float16" : "float32";

export interface VectorIndexOptions {
  dim: number;
  fingerprint: ModelFingerprint;
  /** Default `DEFAULT_STORAGE`; "float16" needs the x86-64-v3 build. */
  storage?: VectorStorage;
  M?: number;
  efConstruction?: number;
  efSearch?: number;
  /** Initial capacity (grows by doubling). */
  capacity?: number;
  /** Live size below which search is exact (default `EXACT_SEARCH_BELOW`). */
  exactBelow?: number;
}

export interface LoadOptions {
  expectFingerprint: ModelFingerprint;
  efSearch?: number;
  exactBelow?: number;
  /**
   * Runs on this thread while hnswlib reads the file on a worker thread (after the file was
   * verified): other start-up work overlaps the read instead of following it.
   */
  whileReading?: () => void;
  /**
   * Read stored vectors (`vector()`) from the loaded file with positioned reads instead of
   * hnswlib-node's getPoint (~40 µs a vector, most of a search's dense-score fill at 140k papers).
   * For indexes opened for queries: the file descriptor is held until `close()`, so a writer that
   * keeps saving would keep a deleted generation's disk space.
   */
  vectorsFromFile?: boolean;
  /**
   * With vectorsFromFile: read the HNSW graph from the file only when the first search needs it
   * (synchronously, then). For a process whose searches run elsewhere (the bot's main thread beside
   * its search threads): stored vectors are read from the file, and the graph (~1.2 MB per 1,000
   * papers with half floats) is not held twice.
   */
  deferGraph?: boolean;
  /**
   * How to hold the vectors in memory; default as the file stores them. Another storage converts a
   * copy of the file (in the temp directory, deleted after) before hnswlib reads it, which the
   * graph does not need to be built again for (see `convertedFrom`). A file of half floats is read
   * as float32 on a build without them.
   */
  storage?: VectorStorage;
}

export interface SearchOptions {
  /** Only labels for which this returns true can be returned. Called synchronously, many times. */
  filter?: (label: number) => boolean;
  /** true: exact scan; false: HNSW even below the exact threshold; unset: by size. */
  exact?: boolean;
}


/** Steps of `save`, in order; `SaveHooks.afterStep` runs after each. */
export const SAVE_STEPS = [
  "write-temp-index",
  "fsync-temp-index",
  "verify-temp-index",
  "rename-index",
  "write-temp-pointer",
  "rename-pointer",
  "cleanup",
] as const;
export type SaveStep = (typeof SAVE_STEPS)[number];

export interface SaveHooks {
  /**
   * Test hook. If it throws, save stops dead without cleaning up, as a crash at that point would
   * (the error is rethrown); otherwise failures of save remove its own temp files.
   */
  afterStep?: (step: SaveStep) => void | Promise<void>;
}

/** Contents of `vectors.json`. */

export class VectorIndex {
  readonly dim: number;
  readonly storage: VectorStorage;
  readonly fingerprint: ModelFingerprint;
  readonly M: number;
  readonly efConstruction: number;
  readonly exactBelow: number;
  /** The HNSW graph; undefined until first needed when loaded with deferGraph (see graphSource). */
  private hnswValue: Hnsw | undefined;
  /** Where a deferred graph is read from: the loaded generation's file. */
  private graphSource: string | undefined;
  private efSearchValue: number;
  private readonly live = new Set<number>();
  private readonly deleted = new Set<number>();
  private exactStore: ExactStore | undefined;
  /** The exact store was built by a forced exact search above the threshold: keep it. */
  private exactPinned = false;
  private generationValue = 0;
  /** See IndexPointer.lineage: a new one whenever a label already held gets a vector again. */
  private lineageValue = newLineage();
  private saving = false;
  /** Searches running on libuv's threads (searchAsync): the graph must not change until they are done. */
  private searchesOut = 0;
  private searchesDoneWaiters: (() => void)[] = [];
  /** Changes waiting in betweenSearches: searchAsync runs here meanwhile, so that they are not held off for ever. */
  private changesWaiting = 0;
  /** Where each loaded vector sits in the loaded generation file (LoadOptions.vectorsFromFile). */
  private fileVectors: { fd: number; offsets: Map<number, number>; space: VectorSpace } | undefined;
  /** What the file it was loaded from stores, when `load` converted it (LoadOptions.storage). */
  convertedFrom: VectorStorage | undefined;
  /** What the file it was last loaded from or saved to stores (undefined: neither yet). */
  storedAs: VectorStorage | undefined;

  private constructor(opts: Required<Omit<VectorIndexOptions, "capacity">>, hnsw: Hnsw | undefined) {
    this.dim = opts.dim;
    this.storage = opts.storage;
    this.fingerprint = { ...opts.fingerprint };
    this.M = opts.M;
    this.efConstruction = opts.efConstruction;
    this.exactBelow = opts.exactBelow;
    this.hnswValue = hnsw;
    this.efSearchValue = opts.efSearch;
    this.hnswValue?.setEf(opts.efSearch);
  }

  /** The graph, read now if it was deferred: through the open file (Linux), which a newer generation cannot have removed. */
  private get hnsw(): Hnsw {
    if (this.hnswValue) return this.hnswValue;
    const hnsw = newGraph(this.storage, this.dim);
    const viaFd = this.fileVectors && process.platform === "linux" ? `/proc/self/fd/${this.fileVectors.fd}` : undefined;
    try {
      hnsw.readIndexSync(viaFd && existsSync(viaFd) ? viaFd : this.graphSource!, false);
    } catch (err) {
      throw graphUnreadable(this.graphSource ?? "the vector file", err as Error);
    }
    if (hnsw.getMaxElements() < MIN_CAPACITY) hnsw.resizeIndex(MIN_CAPACITY);
    hnsw.setEf(this.efSearchValue);
    this.hnswValue = hnsw;
    return hnsw;
  }

  /** Whether the HNSW graph is in memory (false while a deferred graph has not been needed). */
  get graphLoaded(): boolean {
    return this.hnswValue !== undefined;
  }

  static create(opts: VectorIndexOptions): VectorIndex {
    const o = resolveOptions(opts);
    if (opts.fingerprint.dim !== opts.dim) {
      throw new VectorIndexError(`dim ${opts.dim} does not match the model fingerprint's dim ${opts.fingerprint.dim}`);
    }
    const capacity = Math.max(MIN_CAPACITY, positiveInt(opts.capacity ?? 1024, "capacity"));
    const hnsw = newGraph(o.storage, o.dim);
    hnsw.initIndex(capacity, o.M, o.efConstruction, 100, false);
    const index = new VectorIndex(o, hnsw);
    if (o.exactBelow > 0) index.exactStore = new ExactStore(o.dim, Math.min(capacity, o.exactBelow));
    return index;
  }

  /** Live (not deleted) vectors. */
  get size(): number {
    return this.live.size;
  }
  /** Deleted vectors still holding a slot (reclaimed only by a rebuild). */
  get deletedCount(): number {
    return this.deleted.size;
  }
  get capacity(): number {
    return this.hnsw.getMaxElements();
  }
  /** Generation of the last save or load (0 for a new index never saved). */
  get generation(): number {
    return this.generationValue;
  }
  get efSearch(): number {
    return this.efSearchValue;
  }
  set efSearch(ef: number) {
    this.assertNoSearchesOut("efSearch changed");
    this.efSearchValue = positiveInt(ef, "efSearch");
    this.hnswValue?.setEf(this.efSearchValue);
  }

  has(label: number): boolean {
    return this.live.has(label);
  }
  labels(): IterableIterator<number> {
    return this.live.values();
  }

  /** The stored (unit) vector of a live label, e.g. to score a candidate another retriever found. */
  vector(label: number): Float32Array | undefined {
    if (!this.live.has(label)) return undefined;
    const at = this.fileVectors?.offsets.get(label);
    if (at !== undefined) {
      // The same values hnswlib holds (it stores what the file holds), without its getPoint copy.
      const v = readStoredVector(this.fileVectors!.fd, at, this.fileVectors!.space, this.dim);
      if (v) return v;
    }
    return Float32Array.from(this.hnsw.getPoint(label));
  }

  /** Closes the loaded file (LoadOptions.vectorsFromFile); `vector()` then asks hnswlib. Idempotent. */
  close(): void {
    if (!this.fileVectors) return;
    fileCloser.unregister(this);
    closeSync(this.fileVectors.fd);
    this.fileVectors = undefined;
  }

  /** Adds a vector, or replaces the vector of a label already present (or deleted). */
  add(label: number, vector: Float32Array): void {
    this.assertWritable();
    checkLabel(label);
    this.insert(label, this.unitVector(vector, "vector"));
  }

  /** Puts a checked label's unit vector into the graph, one call of hnswlib's addPoint. */
  private insert(label: number, unit: Float32Array): void {
    this.assertNoSearchesOut("a vector added");
    const isNew = !this.live.has(label) && !this.deleted.has(label);
    if (isNew && this.hnsw.getCurrentCount() >= this.hnsw.getMaxElements()) {
      this.hnsw.resizeIndex(Math.max(MIN_CAPACITY, this.hnsw.getMaxElements() * 2));
    }
    // An existing label (live or deleted) is updated in place and un-deleted by hnswlib; a reader
    // following this index by labels (advanceInPlace) could then hold a stale vector for it.
    if (!isNew) this.lineageValue = newLineage();
    this.hnsw.addPoint(Array.from(unit), label);
    this.added(label);
  }

  /**
   * Adds or replaces many vectors, as `add` one after another would. Where the loaded hnswlib build
   * has addPoints (the x86-64-v3 build: scripts/hnswlib-add-points.cc), they go into the graph on up
   * to `threads` threads at once; every vector is checked before any is inserted.
   */
  addMany(items: Iterable<{ label: number; vector: Float32Array }>, threads = 1): void {
    const list = Array.isArray(items) ? (items as { label: number; vector: Float32Array }[]) : [...items];
    this.assertWritable();
    const units = new Float32Array(list.length * this.dim);
    const ids = new Uint32Array(list.length);
    list.forEach((it, i) => {
      checkLabel(it.label);
      units.set(this.unitVector(it.vector, "vector"), i * this.dim);
      ids[i] = it.label;
    });
    this.assertNoSearchesOut("vectors added");
    this.reserve(list);
    const addPoints = (this.hnsw as Partial<BatchInsert>).addPoints;
    // One at a time: a build without addPoints; below exact search (each vector is read back at once);
    // a label twice (which vector would win would depend on the threads).
    if (typeof addPoints !== "function" || this.exactStore || list.length < 2 || new Set(ids).size !== list.length) {
      ids.forEach((label, i) => this.insert(label, units.subarray(i * this.dim, (i + 1) * this.dim)));
      return;
    }
    if (list.some((it) => this.live.has(it.label) || this.deleted.has(it.label))) this.lineageValue = newLineage(); // as in add
    try {
      addPoints.call(this.hnsw, units, ids, Math.max(1, Math.floor(threads)));
    } catch (err) {
      // Some went in before hnswlib failed: those are booked, so that remove() can take them out.
      for (const it of list) if (this.graphHolds(it.label)) this.added(it.label);
      throw err;
    }
    for (const it of list) this.added(it.label);
  }

  /** Whether hnswlib holds a vector under `label` (getPoint throws for a label it does not know). */
  private graphHolds(label: number): boolean {
    try {
      this.hnsw.getPoint(label);
      return true;
    } catch {
      return false;
    }
  }

  /** Grows hnswlib's capacity once for the labels of `list` not in the index yet. */
  private reserve(list: readonly { label: number }[]): void {
    let fresh = 0;
    for (const it of list) if (!this.live.has(it.label) && !this.deleted.has(it.label)) fresh++;
    const need = this.hnsw.getCurrentCount() + fresh;
    let cap = this.hnsw.getMaxElements();
    if (need > cap) {
      while (cap < need) cap = Math.max(MIN_CAPACITY, cap * 2);
      this.hnsw.resizeIndex(cap);
    }
  }

  /** Bookkeeping after hnswlib holds `label`'s new vector. */
  private added(label: number): void {
    this.fileVectors?.offsets.delete(label); // the file holds its old vector
    this.deleted.delete(label);
    this.live.add(label);
    if (this.exactStore) {
      if (this.live.size >= this.exactBelow && !this.exactPinned) this.exactStore = undefined;
      // hnswlib's own float32 copy, so exact scores are the same before and after a save/load.
      else this.exactStore.set(label, Float32Array.from(this.hnsw.getPoint(label)));
    }
  }

  /** Marks a label deleted. Unknown or already deleted labels are a no-op; returns whether it removed. */
  remove(label: number): boolean {
    this.assertWritable();
    if (!this.live.has(label)) return false;
    this.assertNoSearchesOut("a vector removed");
    this.hnsw.markDelete(label);
    this.fileVectors?.offsets.delete(label);
    this.live.delete(label);
    this.deleted.add(label);
    this.exactStore?.delete(label);
    return true;
  }

  /** Frees the exact-search copy built by a forced exact search above the threshold. */
  releaseExactCache(): void {
    if (this.exactPinned) {
      this.exactPinned = false;
      this.exactStore = undefined;
    }
  }

  /** The k nearest live vectors by cosine similarity, best first. */
  search(vector: Float32Array, k: number, opts: SearchOptions = {}): VectorHit[] {
    const q = this.unitVector(vector, "query vector");
    const kk = this.neighboursToFind(k);
    if (kk <= 0) return [];
    const guard = guardFilter(opts.filter);
    const exact = opts.exact ?? this.live.size < this.exactBelow;
    let hits: VectorHit[];
    if (exact) {
      hits = this.ensureExactStore().search(q, kk, guard?.fn);
    } else {
      const res = this.hnsw.searchKnn(Array.from(q), kk, guard?.fn);
      hits = res.neighbors.map((label, i) => ({ label, score: 1 - res.distances[i]! }));
      if (hits.length < kk) hits = this.fallbackExact(q, kk, hits, guard?.fn);
    }
    guard?.rethrow();
    return hits;
  }

  /**
   * `search`, with the HNSW part on one of libuv's threads where the build has searchKnnAsync (the
   * x86-64-v3 build), so that this thread can work meanwhile (a search's BM25 half: both ran on the
   * search thread one after the other, and that thread was the bot's bottleneck). Filtered and exact
   * searches, and other builds, run here as `search` does. Same results as `search`.
   */
  async searchAsync(vector: Float32Array, k: number, opts: SearchOptions = {}): Promise<VectorHit[]> {
    const exact = opts.exact ?? this.live.size < this.exactBelow;
    if (!hnswlib.searchAsync || opts.filter || exact || this.changesWaiting > 0) return this.search(vector, k, opts);
    const q = this.unitVector(vector, "query vector");
    const kk = this.neighboursToFind(k);
    if (kk <= 0) return [];
    const hnsw = this.hnsw as Hnsw & AsyncSearch;
    this.searchesOut++;
    let res: Awaited<ReturnType<AsyncSearch["searchKnnAsync"]>>;
    try {
      res = await hnsw.searchKnnAsync(q, kk);
    } finally {
      if (--this.searchesOut === 0) for (const wake of this.searchesDoneWaiters.splice(0)) wake();
    }
    const hits: VectorHit[] = Array.from(res.neighbors, (label, i) => ({ label, score: 1 - res.distances[i]! }));
    return hits.length < kk ? this.fallbackExact(q, kk, hits) : hits;
  }

  /**
   * Runs `change` (add, remove, efSearch: synchronous) once no searchAsync is running on another
   * thread, in the same turn as it finds none. Searches asked meanwhile run on this thread instead,
   * so a steady stream of them cannot hold the change off.
   */
  async betweenSearches<T>(change: () => T): Promise<T> {
    this.changesWaiting++;
    try {
      while (this.searchesOut > 0) await new Promise<void>((resolve) => this.searchesDoneWaiters.push(resolve));
      return change();
    } finally {
      this.changesWaiting--;
    }
  }

  /** hnswlib's graph may not change under a search running on another thread (betweenSearches). */
  private assertNoSearchesOut(what: string): void {
    if (this.searchesOut > 0) {
      throw new VectorIndexError(`${what} while ${this.searchesOut} search(es) run on other threads: change it through betweenSearches()`);
    }
  }

  /**
   * Cosine similarity of `query` to each label's vector, NaN where none is live: the scores a search
   * gives them. One native call where the build has it and the graph is in memory (the x86-64-v3
   * build: scripts/hnswlib-search.cc); else from `vector()` (a file read per label for a reader).
   */
  similarities(query: Float32Array, labels: readonly number[]): Float32Array {
    const q = this.unitVector(query, "query vector");
    const graph = this.hnswValue as (Hnsw & Partial<LabelScores>) | undefined;
    if (graph?.similarities && !this.exactStore) return graph.similarities(q, Uint32Array.from(labels));
    return Float32Array.from(labels, (label) => {
      const v = this.live.has(label) ? this.vector(label) : undefined;
      return v ? dot(v, q) : Number.NaN;
    });
  }

  /** How many neighbours a search for k finds: k, whole, at most the live vectors (≤ 0: none). */
  private neighboursToFind(k: number): number {
    if (!Number.isFinite(k)) throw new VectorIndexError(`k must be a finite number, got ${k}`);
    return Math.min(Math.floor(k), this.live.size);
  }

  /** Filtered (or deletion-starved) HNSW search came back short: scan the allowed labels exactly. */
  private fallbackExact(q: Float32Array, k: number, hnswHits: VectorHit[], allow?: (label: number) => boolean): VectorHit[] {
    if (this.exactStore) return this.exactStore.search(q, k, allow);
    const allowed: number[] = [];
    for (const label of this.live) if (!allow || allow(label)) allowed.push(label);
    if (hnswHits.length >= allowed.length) return hnswHits;
    const top = new TopK(k);
    for (const label of allowed) top.push(label, dot(this.hnsw.getPoint(label), q));
    return top.result();
  }

  private ensureExactStore(): ExactStore {
    if (this.exactStore) return this.exactStore;
    const store = new ExactStore(this.dim, Math.max(MIN_CAPACITY, this.live.size));
    for (const label of this.live) store.set(label, Float32Array.from(this.hnsw.getPoint(label)));
    this.exactStore = store;
    this.exactPinned = this.live.size >= this.exactBelow;
    return store;
  }

  private assertWritable(): void {
    if (this.saving) throw new VectorIndexError("the vector index cannot be modified while save() is in progress");
  }

  /** Validates a vector and returns it L2-normalised (a new array). */
  private unitVector(v: Float32Array, what: string): Float32Array {
    if (!(v instanceof Float32Array)) throw new VectorIndexError(`${what} must be a Float32Array`);
    if (v.length !== this.dim) throw new VectorIndexError(`${what} has ${v.length} dimensions, the index has ${this.dim}`);
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const x = v[i]!;
      if (!Number.isFinite(x)) throw new VectorIndexError(`${what} has a non-finite value at ${i}`);
      n += x * x;
    }
    if (n === 0) throw new VectorIndexError(`${what} is all zeros`);
    const inv = 1 / Math.sqrt(n);
    const out = new Float32Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
    return out;
  }

  /**
   * Saves a new generation into `dir` (created if missing) crash-safely; see the file comment.
   * Modifying the index while the returned promise is pending throws `VectorIndexError`.
   */
  async save(dir: string, hooks: SaveHooks = {}): Promise<void> {
    if (this.saving) throw new VectorIndexError("save() is already in progress for this index");
    this.saving = true;
    const temps: string[] = [];
    let stoppedByHook = false;
    const step = async (s: SaveStep): Promise<void> => {
      if (!hooks.afterStep) return;
      try {
        await hooks.afterStep(s);
      } catch (err) {
        stoppedByHook = true;
        throw err;
      }
    };
    try {
      await makeDir(dir);
      const before = await scanDir(dir);
      // Free space first: stale temps are never referenced; unreferenced generations are garbage
      // (only when the current pointer is readable, so we know which generation to keep).
      await removeFiles(dir, before.temps);
      if (before.pointer) await removeFiles(dir, before.generations.filter((g) => g.file !== before.pointer!.file).map((g) => g.file));

      const generation = Math.max(this.generationValue, before.pointer?.generation ?? 0, ...before.generations.map((g) => g.generation)) + 1;
      const file = generationFile(generation);
      const suffix = `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
      const tmpIndex = path.join(dir, file + suffix);
      const tmpPointer = path.join(dir, POINTER_FILE + suffix);
      temps.push(tmpIndex);

      faultPoint("write", "vectors: temp generation");
      const ok = await this.hnsw.writeIndex(tmpIndex);
      if (!ok) throw new Error(`hnswlib could not write ${tmpIndex}`);
      await step("write-temp-index");
      await fsyncFile(tmpIndex);
      await step("fsync-temp-index");
      // hnswlib does not check its stream for errors (a full disk gives a short file): walk it.
      const info = await inspectIndexFile(tmpIndex, this.dim, this.M, SPACE_OF[this.storage]);
      if (info.live.length !== this.live.size || info.deleted.length !== this.deleted.size) {
        throw new Error(
          `written index ${tmpIndex} holds ${info.live.length} live and ${info.deleted.length} deleted vectors, expected ${this.live.size} and ${this.deleted.size}`,
        );
      }
      await step("verify-temp-index");
      faultPoint("rename", "vectors: generation");
      await rename(tmpIndex, path.join(dir, file));
      temps[0] = path.join(dir, file);
      await fsyncDir(dir);
      await step("rename-index");

      const pointer: IndexPointer = {
        format: INDEX_FORMAT_VERSION,
        generation,
        file,
        sha256: info.sha256,
        bytes: info.bytes,
        space: SPACE_OF[this.storage],
        dim: this.dim,
        fingerprint: { ...this.fingerprint },
        M: this.M,
        efConstruction: this.efConstruction,
        count: this.live.size,
        deletedCount: this.deleted.size,
        savedAt: new Date().toISOString(),
        lineage: this.lineageValue,
      };
      temps.push(tmpPointer);
      await writeFileSynced(tmpPointer, `${JSON.stringify(pointer, null, 2)}\n`, { exclusive: true });
      await step("write-temp-pointer");
      faultPoint("rename", "vectors: pointer");
      await rename(tmpPointer, path.join(dir, POINTER_FILE)); // commit point
      temps.length = 0;
      await fsyncDir(dir);
      this.generationValue = generation;
      this.storedAs = this.storage;
      await step("rename-pointer");

      // Committed: failing to delete garbage now is not a failed save (the next save retries).
      try {
        const after = await scanDir(dir);
        await removeFiles(dir, [...after.temps, ...after.generations.filter((g) => g.file !== file).map((g) => g.file)]);
        await fsyncDir(dir);
      } catch {
        // leave it for the next save
      }
      await step("cleanup");
    } catch (err) {
      if (!stoppedByHook) await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
      throw err;
    } finally {
      this.saving = false;
    }
  }

  /**
   * The generation `dir`'s pointer names now (undefined: no committed index, or a pointer being
   * replaced). Cheap: reads the small pointer file only. A reader compares it with `generation` to
   * see whether a writer (another process) committed new vectors.
   */
  static async committedGeneration(dir: string): Promise<number | undefined> {
    try {
      const pointerPath = path.join(dir, POINTER_FILE);
      return parsePointer(await readFile(pointerPath, "utf8"), pointerPath).generation;
    } catch {
      return undefined;
    }
  }

  /**
   * Loads the current generation from `dir`. Returns `undefined` when `dir` holds no committed index
   * (no `vectors.json`; generation files without a pointer are leftovers of an interrupted first save).
   * Throws `ModelMismatchError` when another model built it, `IndexCorruptError` (naming the file,
   * which is never modified) when the pointer or the file it names is unreadable, truncated, or does
   * not match its recorded sha256. Reads the whole file once to check it (sha256 + structure).
   */
  static async load(dir: string, opts: LoadOptions): Promise<VectorIndex | undefined> {
    const pointer = await readPointer(dir, opts.expectFingerprint);
    if (!pointer) return undefined;
    const file = await sizedGenerationFile(dir, pointer);
    await checkIndexHeader(file, pointer.dim, pointer.M, pointer.space);
    const stored = STORAGE_OF[pointer.space];
    let storage = opts.storage ?? stored;
    if (storage === "float16" && !hnswlib.float16) storage = "float32";

    // A deferred graph needs the file held open (vectorsFromFile), or it could vanish before it is read.
    let fd: number | undefined;
    if (opts.vectorsFromFile) {
      try {
        fd = openSync(file, "r");
      } catch {
        // Replaced by a newer generation meanwhile: vector() asks hnswlib.
      }
    }
    const convert = storage !== stored;
    const defer = opts.deferGraph === true && fd !== undefined && !convert;
    // hnswlib reads the graph on a worker thread while this one checks the whole file (its header,
    // what hnswlib sizes memory by, is checked above): at a million papers 4 s and 3 s, one after
    // the other before. A graph read from a file that fails the check is dropped unused. A file to
    // convert is checked first, then converted, then read.
    const hnsw = defer ? undefined : newGraph(storage, pointer.dim);
    const read = (from: string): Promise<Error | undefined> =>
      hnsw!.readIndex(from, false).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    const reading = hnsw && !convert ? read(file) : undefined;
    let info: IndexFileInfo;
    let readError: Error | undefined;
    try {
      info = await verifiedContents(dir, pointer, file);
      if (convert) readError = await readConverted(file, pointer, SPACE_OF[storage], read);
      opts.whileReading?.();
    } catch (err) {
      await reading; // never leave hnswlib writing into an index nobody holds
      if (fd !== undefined) closeSync(fd);
      throw err;
    }
    readError ??= await reading;
    if (readError) {
      if (fd !== undefined) closeSync(fd);
      throw graphUnreadable(file, readError);
    }
    const index = new VectorIndex(
      resolveOptions({
        dim: pointer.dim,
        fingerprint: pointer.fingerprint,
        M: pointer.M,
        efConstruction: pointer.efConstruction,
        efSearch: opts.efSearch,
        exactBelow: opts.exactBelow,
        storage,
      }),
      hnsw,
    );
    if (convert) index.convertedFrom = stored;
    index.storedAs = stored;
    for (const l of info.live) index.live.add(l);
    for (const l of info.deleted) index.deleted.add(l);
    if (fd !== undefined) {
      index.fileVectors = { fd, offsets: info.vectorOffsets, space: pointer.space };
      fileCloser.register(index, fd, index);
    }
    index.graphSource = file;
    if (hnsw && hnsw.getMaxElements() < MIN_CAPACITY) hnsw.resizeIndex(MIN_CAPACITY); // an empty index loads with capacity 0
    index.generationValue = pointer.generation;
    if (pointer.lineage) index.lineageValue = pointer.lineage;
    return index;
  }

  /**
   * For an index loaded to answer queries (vectorsFromFile, graph in memory): moves it to the
   * generation `dir` holds now by adding the labels that generation added and deleting the ones it
   * deleted, instead of loading the whole file beside this one (which doubles the vectors' memory,
   * 1.2 GB at a million papers with half floats, while it loads). Only when the new generation is of
   * this index's lineage (so every label both hold has the same vector) and storage, none of its new
   * labels is one this index holds deleted, they fit the graph's spare capacity (growing it would
   * copy the graph, the same doubling) and they are at most `maxAdded`. Returns false, having
   * changed nothing, when any of that fails or there is no newer generation: the caller loads the
   * whole file then. The inserts run in batches with the event loop let through between them, so
   * searches go on meanwhile (those that run in between see some of the new papers, none of the
   * deleted). Errors as `load`; one midway (a read of the new file failing) leaves the papers added
   * so far, and the next call adds the rest.
   */
  async advanceInPlace(dir: string, opts: LoadOptions & { maxAdded: number }): Promise<boolean> {
    if (!this.hnswValue || !this.fileVectors || this.saving) return false;
    const pointer = await readPointer(dir, opts.expectFingerprint);
    if (!pointer || pointer.lineage !== this.lineageValue || pointer.generation <= this.generationValue) return false;
    if (pointer.dim !== this.dim || pointer.M !== this.M || pointer.space !== SPACE_OF[this.storage]) return false;
    const file = await sizedGenerationFile(dir, pointer);
    // Held open before its contents are checked: a newer save may delete the file, never change it.
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw generationMissing(dir, file);
      throw err;
    }
    let adopted = false;
    try {
      const info = await verifiedContents(dir, pointer, file);
      const added = info.live.filter((label) => !this.live.has(label));
      const hnsw = this.hnswValue;
      if (added.some((label) => this.deleted.has(label))) return false;
      if (added.length > opts.maxAdded || hnsw.getCurrentCount() + added.length > hnsw.getMaxElements()) return false;
      const gone: number[] = [];
      for (const label of this.live) if (!info.vectorOffsets.has(label)) gone.push(label);
      // Deleted papers leave the results first; then the new ones come in, a batch at a time, each
      // between searches running on other threads (they read the graph).
      await this.betweenSearches(() => {
        for (const label of gone) this.remove(label);
      });
      let next = 0;
      while (next < added.length) {
        next = await this.betweenSearches(() => {
          const turnStart = performance.now();
          let i = next;
          while (i < added.length && performance.now() - turnStart < ADVANCE_TURN_MS) {
            const label = added[i++]!;
            const vector = readStoredVector(fd, info.vectorOffsets.get(label)!, pointer.space, this.dim);
            if (!vector) throw new IndexCorruptError(file, `it ended inside the vector of label ${label}`);
            this.add(label, vector);
          }
          return i;
        });
        if (next < added.length) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Stored vectors are read from the new file from now on; the old one is let go.
      this.close();
      this.fileVectors = { fd, offsets: info.vectorOffsets, space: pointer.space };
      fileCloser.register(this, fd, this);
      adopted = true;
      this.graphSource = file;
      this.generationValue = pointer.generation;
      this.lineageValue = pointer.lineage!;
      this.storedAs = STORAGE_OF[pointer.space];
      const ef = opts.efSearch;
      if (ef !== undefined && ef !== this.efSearchValue) await this.betweenSearches(() => (this.efSearch = ef));
      return true;
    } finally {
      if (!adopted) closeSync(fd);
    }
  }
}

/** How long inserts may hold the thread before queued searches run, while an index advances in place. */
const ADVANCE_TURN_MS = 20;

/** The pointer of `dir` (undefined: no committed index), checked, and of the model expected. */
async function readPointer(dir: string, expectFingerprint: ModelFingerprint): Promise<IndexPointer | undefined> {
  const pointer = await readPointerFile(dir);
  if (pointer && !sameModel(pointer.fingerprint, expectFingerprint)) throw new ModelMismatchError(expectFingerprint, pointer.fingerprint, dir);
  return pointer;
}

/** The directory's pointer file, parsed; undefined when there is none. */
async function readPointerFile(dir: string): Promise<IndexPointer | undefined> {
  const pointerPath = path.join(dir, POINTER_FILE);
  let text: string;
  try {
    text = await readFile(pointerPath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw err;
  }
  return parsePointer(text, pointerPath);
}

/** The model the directory's saved vectors were made with; undefined when none are saved. */
export async function savedFingerprint(dir: string): Promise<ModelFingerprint | undefined> {
  return (await readPointerFile(dir))?.fingerprint;
}

/** The path of the generation file a pointer names, when it exists with the size the pointer records. */
async function sizedGenerationFile(dir: string, pointer: IndexPointer): Promise<string> {
  const pointerPath = path.join(dir, POINTER_FILE);
  const file = path.join(dir, pointer.file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw generationMissing(dir, file);
    throw err;
  }
  if (size !== pointer.bytes) throw new IndexCorruptError(file, `it has ${size} bytes, ${pointerPath} records ${pointer.bytes} (truncated or overwritten)`);
  return file;
}

function generationMissing(dir: string, file: string): IndexCorruptError {
  return new IndexCorruptError(file, `it is missing (named by ${path.join(dir, POINTER_FILE)})`);
}

/** The walk of a generation file (inspectIndexFile), checked against the pointer's sha256 and counts. */
async function verifiedContents(dir: string, pointer: IndexPointer, file: string): Promise<IndexFileInfo> {
  const pointerPath = path.join(dir, POINTER_FILE);
  const info = await inspectIndexFile(file, pointer.dim, pointer.M, pointer.space);
  if (info.sha256 !== pointer.sha256) throw new IndexCorruptError(file, `its sha256 ${info.sha256} differs from ${pointer.sha256} recorded in ${pointerPath}`);
  if (info.live.length !== pointer.count || info.deleted.length !== pointer.deletedCount) {
    throw new IndexCorruptError(file, `it holds ${info.live.length} live and ${info.deleted.length} deleted vectors, ${pointerPath} records ${pointer.count} and ${pointer.deletedCount}`);
  }
  return info;
}

function newLineage(): string {
  return randomBytes(8).toString("hex");
}

// ---------------------------------------------------------------------------------------------
// Helpers

function resolveOptions(o: VectorIndexOptions): Required<Omit<VectorIndexOptions, "capacity">> {
  const storage = o.storage ?? DEFAULT_STORAGE;
  if (storage !== "float32" && storage !== "float16") throw new VectorIndexError(`storage must be "float32" or "float16", got ${JSON.stringify(storage)}`);
  if (storage === "float16" && !hnswlib.float16) {
    throw new VectorIndexError(`float16 storage needs the x86-64-v3 build of hnswlib-node; this thread uses the ${hnswlib.build} build (${hnswlib.reason ?? "without half floats"})`);
  }
  return {
    storage,
    dim: positiveInt(o.dim, "dim"),
    fingerprint: o.fingerprint,
    M: positiveInt(o.M ?? DEFAULT_M, "M"),
    efConstruction: positiveInt(o.efConstruction ?? DEFAULT_EF_CONSTRUCTION, "efConstruction"),
    efSearch: positiveInt(o.efSearch ?? DEFAULT_EF_SEARCH, "efSearch"),
    exactBelow: nonNegativeInt(o.exactBelow ?? EXACT_SEARCH_BELOW, "exactBelow"),
  };
}

function positiveInt(x: number, what: string): number {
  if (!Number.isSafeInteger(x) || x < 1) throw new VectorIndexError(`${what} must be a positive integer, got ${x}`);
  return x;
}
function nonNegativeInt(x: number, what: string): number {
  if (!Number.isSafeInteger(x) || x < 0) throw new VectorIndexError(`${what} must be a non-negative integer, got ${x}`);
  return x;
}

/** An empty HNSW graph for unit vectors stored as `storage` says. */
function newGraph(storage: VectorStorage, dim: number): Hnsw {
  // hnswlib-node's typings know the stock spaces only.
  return new HierarchicalNSW(SPACE_OF[storage] as "cosine", dim);
}

/** A stored vector read from an index file of `space` at `at`, as float32; undefined if the file ends first. */
function readStoredVector(fd: number, at: number, space: VectorSpace, dim: number): Float32Array | undefined {
  const v = new Float32Array(dim);
  if (space === "cosine") return readSync(fd, v, 0, v.byteLength, at) === v.byteLength ? v : undefined;
  const half = new Uint16Array(dim);
  if (readSync(fd, half, 0, half.byteLength, at) !== half.byteLength) return undefined;
  decodeFloat16(half, v);
  return v;
}

/**
 * Has `read` (hnswlib) read a copy of the (checked) index file `file` whose vectors are stored as
 * `space` stores them: written to the temp directory, deleted once read. Returns read's error.
 */
async function readConverted(file: string, pointer: IndexPointer, space: VectorSpace, read: (from: string) => Promise<Error | undefined>): Promise<Error | undefined> {
  await removeStaleCopies(os.tmpdir());
  const copy = path.join(os.tmpdir(), `paperhound-${path.basename(file)}-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await convertIndexFile(file, copy, pointer.dim, pointer.M, pointer.space, space);
    return await read(copy);
  } finally {
    await unlink(copy).catch(() => undefined);
  }
}

/** A copy readConverted makes: paperhound-vectors-<generation>.hnsw-<pid>-<8 hex digits>. */
const CONVERTED_COPY = /^paperhound-vectors-\d+\.hnsw-(\d+)-[0-9a-f]{8}$/;
/** A copy whose process is gone is removed once it is this old (a process in another PID namespace sharing the directory may look gone). */
const STALE_COPY_MS = 10 * 60_000;

/**
 * Deletes the copies readConverted left in `dir` when its process was killed before deleting them
 * (SIGKILL, power cut): their process no longer runs and they are older than STALE_COPY_MS. A copy
 * is as large as the vector file (about 1 GB at a million papers).
 */
export async function removeStaleCopies(dir: string, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(CONVERTED_COPY.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || now - info.mtimeMs < STALE_COPY_MS) continue;
    if (await unlink(file).then(() => true, () => false)) removed.push(file);
  }
  return removed;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function graphUnreadable(file: string, err: Error): IndexCorruptError {
  return new IndexCorruptError(file, `hnswlib could not read it (${err.message})`);
}

function checkLabel(label: number): void {
  if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) throw new VectorIndexError(`label must be a uint32, got ${label}`);
}

function sameModel(a: ModelFingerprint, b: ModelFingerprint): boolean {
  return a.modelId === b.modelId && a.dim === b.dim && a.checksum === b.checksum;
}
