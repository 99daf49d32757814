/**
 * Dense vector index: hnswlib's HNSW graph over cosine space, with exact search for small indexes,
 * filtered search, and crash-safe persistence that knows which model built it.
 *
 * Vectors are L2-normalised embeddings; a result's score is cosine similarity (1 - hnswlib's cosine
 * distance), best first. Labels are uint32 (the passage ↔ paper map lives in the store).
 *
 * Search modes
 *  - exact while the live size is below `EXACT_SEARCH_BELOW` (a plain JS scan over a Float32Array
 *    copy of the vectors, kept only in that regime);
 *  - HNSW (efSearch = `DEFAULT_EF_SEARCH` unless configured) above it;
 *  - `search(v, k, { exact: true })` forces exact (for recall measurement), `{ exact: false }` forces HNSW.
 *  - A filter is passed to hnswlib's searchKnn; when it returns fewer than k results the search falls
 *    back to an exact scan over the allowed labels (cost O(allowed × dim)).
 *
 * Memory (RSS). hnswlib keeps, per element, dim×4 bytes of vector + (2M+1)×4 bytes of level-0 links
 * + an 8-byte label, plus upper-layer links for ~1/M of elements; at dim 512, M 16 that is ~2.2 KB,
 * so ~400k passages ≈ 0.9 GB native memory, and the same again in page cache while saving/loading.
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
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import hnswlib from "hnswlib-node";
import type { ModelFingerprint } from "./types.js";
import { fsyncDir, fsyncFile, writeFileSynced } from "../atomic-write.js";

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

/*
 * Measured with scripts/bench-vector-index.ts on this 2-core machine (node 20, dim 512, M 16,
 * efConstruction 200, k 10, 200 queries; latencies p50 / p99 per query, including the array copy
 * hnswlib-node needs).
 *
 * Real embeddings (use-lite, first N arXiv abstracts as passages; queries = titles of 200 other papers):
 *     n     build           JS exact scan    native brute force   recall@10 (HNSW p50) at ef =
 *                                                                  40            100           200           400
 *     5k    1.3 s (3.9k/s)  2.7 / 3.6 ms     0.30 / 0.91 ms       0.942 (0.11)  0.992 (0.18)  0.998 (0.26)  1.000 (0.41 ms)
 *     20k   9.9 s (2.0k/s)  11.2 / 18.3 ms   1.26 / 5.3 ms        0.901 (0.19)  0.980 (0.37)  0.996 (0.66)  1.000 (1.07 ms)
 *
 * Random unit vectors (isotropic: HNSW's worst case, every point nearly equidistant; "random" queries):
 *     n     build           JS exact scan    native brute force   recall@10 (HNSW p50) at ef =
 *                                                                  100           200           400           800
 *     1k    0.2 s (4.3k/s)  0.52 / 4.5 ms    0.12 / 0.61 ms       0.976 (0.14)  0.999 (0.17)  1.000 (0.22)  1.000 (0.33 ms)
 *     5k    4.4 s (1.1k/s)  2.6 / 10.0 ms    0.30 / 4.4 ms        0.677 (0.24)  0.880 (0.42)  0.977 (0.65)  0.999 (0.86 ms)
 *     20k   32 s (634/s)    10.6 / 17.1 ms   1.39 / 12.8 ms       0.328 (0.65)  0.506 (1.15)  0.729 (2.03)  0.898 (3.54 ms)
 *     50k   90 s (555/s)    30.1 / 63.5 ms   3.34 / 7.4 ms        0.174 (0.93)  0.291 (1.52)  0.453 (2.76)  0.674 (5.05 ms)
 *     100k  325 s (308/s)   115 / 261 ms     16.1 / 61.0 ms       0.095 (0.91)  0.179 (1.72)  0.291 (3.08)  0.465 (6.83 ms)
 * (HNSW RSS: +53 MiB at 20k, +110 MiB at 50k, +219 MiB at 100k: ~2.2 KB per vector.)
 */

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
 * / 0.983 for 2.0 / 3.2 / 4.5 ms per query. 600 is the smallest that meets recall@10 ≥ 0.98 there.
 * Random vectors would need far more (table above); they are not what we index.
 */
export const DEFAULT_EF_SEARCH = 600;
export const DEFAULT_M = 16;
export const DEFAULT_EF_CONSTRUCTION = 200;
/** Version of the `vectors.json` pointer format. */
export const INDEX_FORMAT_VERSION = 1;
export const POINTER_FILE = "vectors.json";
const MAX_LABEL = 0xffff_ffff;
const MIN_CAPACITY = 16;

/** The index was built by another model than the one asked for. */
export class ModelMismatchError extends Error {
  override readonly name = "ModelMismatchError";
  constructor(
    readonly expected: ModelFingerprint,
    readonly found: ModelFingerprint,
    readonly dir: string,
  ) {
    super(
      `the vector index in ${dir} was built with model ${describeModel(found)}, but the configured model is ` +
        `${describeModel(expected)}; run \`paperhound reindex --yes\` to rebuild it with the configured model`,
    );
  }
}

/** A file of the index is missing, truncated, or does not match its recorded hash. It is left as is. */
export class IndexCorruptError extends Error {
  override readonly name = "IndexCorruptError";
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`vector index file ${file} is unusable: ${reason}; it was left untouched (run \`paperhound reindex --yes\` to rebuild the vectors from the paper store)`);
  }
}

/** Misuse of the index: bad label, wrong dimension, non-finite vector, modifying while saving. */
export class VectorIndexError extends Error {
  override readonly name = "VectorIndexError";
}

export interface VectorIndexOptions {
  dim: number;
  fingerprint: ModelFingerprint;
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
}

export interface SearchOptions {
  /** Only labels for which this returns true can be returned. Called synchronously, many times. */
  filter?: (label: number) => boolean;
  /** true: exact scan; false: HNSW even below the exact threshold; unset: by size. */
  exact?: boolean;
}

export interface VectorHit {
  label: number;
  /** Cosine similarity. */
  score: number;
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
export interface IndexPointer {
  format: number;
  generation: number;
  /** `vectors-<generation>.hnsw`, in the same directory. */
  file: string;
  sha256: string;
  bytes: number;
  space: "cosine";
  dim: number;
  fingerprint: ModelFingerprint;
  M: number;
  efConstruction: number;
  /** Live vectors. */
  count: number;
  /** Deleted (marked) vectors still occupying slots in the file. */
  deletedCount: number;
  savedAt: string;
}

export class VectorIndex {
  readonly dim: number;
  readonly fingerprint: ModelFingerprint;
  readonly M: number;
  readonly efConstruction: number;
  readonly exactBelow: number;
  private hnsw: Hnsw;
  private efSearchValue: number;
  private readonly live = new Set<number>();
  private readonly deleted = new Set<number>();
  private exactStore: ExactStore | undefined;
  /** The exact store was built by a forced exact search above the threshold: keep it. */
  private exactPinned = false;
  private generationValue = 0;
  private saving = false;
  /** Where each loaded vector sits in the loaded generation file (LoadOptions.vectorsFromFile). */
  private fileVectors: { fd: number; offsets: Map<number, number> } | undefined;

  private constructor(opts: Required<Omit<VectorIndexOptions, "capacity">>, hnsw: Hnsw) {
    this.dim = opts.dim;
    this.fingerprint = { ...opts.fingerprint };
    this.M = opts.M;
    this.efConstruction = opts.efConstruction;
    this.exactBelow = opts.exactBelow;
    this.hnsw = hnsw;
    this.efSearchValue = opts.efSearch;
    this.hnsw.setEf(opts.efSearch);
  }

  static create(opts: VectorIndexOptions): VectorIndex {
    const o = resolveOptions(opts);
    if (opts.fingerprint.dim !== opts.dim) {
      throw new VectorIndexError(`dim ${opts.dim} does not match the model fingerprint's dim ${opts.fingerprint.dim}`);
    }
    const capacity = Math.max(MIN_CAPACITY, positiveInt(opts.capacity ?? 1024, "capacity"));
    const hnsw = new HierarchicalNSW("cosine", o.dim);
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
    this.efSearchValue = positiveInt(ef, "efSearch");
    this.hnsw.setEf(this.efSearchValue);
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
      // The same float32 values hnswlib holds (it stores what the file holds), without its getPoint copy.
      const v = new Float32Array(this.dim);
      if (readSync(this.fileVectors!.fd, v, 0, v.byteLength, at) === v.byteLength) return v;
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
    const unit = this.unitVector(vector, "vector");
    const isNew = !this.live.has(label) && !this.deleted.has(label);
    if (isNew && this.hnsw.getCurrentCount() >= this.hnsw.getMaxElements()) {
      this.hnsw.resizeIndex(Math.max(MIN_CAPACITY, this.hnsw.getMaxElements() * 2));
    }
    // An existing label (live or deleted) is updated in place and un-deleted by hnswlib.
    this.hnsw.addPoint(Array.from(unit), label);
    this.fileVectors?.offsets.delete(label); // the file holds its old vector
    this.deleted.delete(label);
    this.live.add(label);
    if (this.exactStore) {
      if (this.live.size >= this.exactBelow && !this.exactPinned) this.exactStore = undefined;
      // hnswlib's own float32 copy, so exact scores are the same before and after a save/load.
      else this.exactStore.set(label, Float32Array.from(this.hnsw.getPoint(label)));
    }
  }

  addMany(items: Iterable<{ label: number; vector: Float32Array }>): void {
    const list = Array.isArray(items) ? (items as { label: number; vector: Float32Array }[]) : [...items];
    this.assertWritable();
    let fresh = 0;
    for (const it of list) if (!this.live.has(it.label) && !this.deleted.has(it.label)) fresh++;
    const need = this.hnsw.getCurrentCount() + fresh;
    let cap = this.hnsw.getMaxElements();
    if (need > cap) {
      while (cap < need) cap = Math.max(MIN_CAPACITY, cap * 2);
      this.hnsw.resizeIndex(cap);
    }
    for (const it of list) this.add(it.label, it.vector);
  }

  /** Marks a label deleted. Unknown or already deleted labels are a no-op; returns whether it removed. */
  remove(label: number): boolean {
    this.assertWritable();
    if (!this.live.has(label)) return false;
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
    if (!Number.isFinite(k)) throw new VectorIndexError(`k must be a finite number, got ${k}`);
    const kk = Math.min(Math.floor(k), this.live.size);
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

  /** Filtered (or deletion-starved) HNSW search came back short: scan the allowed labels exactly. */
  private fallbackExact(q: Float32Array, k: number, hnswHits: VectorHit[], allow?: (label: number) => boolean): VectorHit[] {
    if (this.exactStore) return this.exactStore.search(q, k, allow);
    const allowed: number[] = [];
    for (const label of this.live) if (!allow || allow(label)) allowed.push(label);
    if (hnswHits.length >= allowed.length) return hnswHits;
    const top = new TopK(k);
    for (const label of allowed) {
      const p = this.hnsw.getPoint(label);
      let s = 0;
      for (let i = 0; i < p.length; i++) s += p[i]! * q[i]!;
      top.push(label, s);
    }
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
      await mkdir(dir, { recursive: true });
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

      const ok = await this.hnsw.writeIndex(tmpIndex);
      if (!ok) throw new Error(`hnswlib could not write ${tmpIndex}`);
      await step("write-temp-index");
      await fsyncFile(tmpIndex);
      await step("fsync-temp-index");
      // hnswlib does not check its stream for errors (a full disk gives a short file): walk it.
      const info = await inspectIndexFile(tmpIndex, this.dim, this.M);
      if (info.live.length !== this.live.size || info.deleted.length !== this.deleted.size) {
        throw new Error(
          `written index ${tmpIndex} holds ${info.live.length} live and ${info.deleted.length} deleted vectors, expected ${this.live.size} and ${this.deleted.size}`,
        );
      }
      await step("verify-temp-index");
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
        space: "cosine",
        dim: this.dim,
        fingerprint: { ...this.fingerprint },
        M: this.M,
        efConstruction: this.efConstruction,
        count: this.live.size,
        deletedCount: this.deleted.size,
        savedAt: new Date().toISOString(),
      };
      temps.push(tmpPointer);
      await writeFileSynced(tmpPointer, `${JSON.stringify(pointer, null, 2)}\n`, { exclusive: true });
      await step("write-temp-pointer");
      await rename(tmpPointer, path.join(dir, POINTER_FILE)); // commit point
      temps.length = 0;
      await fsyncDir(dir);
      this.generationValue = generation;
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
    const pointerPath = path.join(dir, POINTER_FILE);
    let text: string;
    try {
      text = await readFile(pointerPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
      throw err;
    }
    const pointer = parsePointer(text, pointerPath);
    if (!sameModel(pointer.fingerprint, opts.expectFingerprint)) throw new ModelMismatchError(opts.expectFingerprint, pointer.fingerprint, dir);

    const file = path.join(dir, pointer.file);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new IndexCorruptError(file, `it is missing (named by ${pointerPath})`);
      throw err;
    }
    if (size !== pointer.bytes) throw new IndexCorruptError(file, `it has ${size} bytes, ${pointerPath} records ${pointer.bytes} (truncated or overwritten)`);
    const info = await inspectIndexFile(file, pointer.dim, pointer.M);
    if (info.sha256 !== pointer.sha256) throw new IndexCorruptError(file, `its sha256 ${info.sha256} differs from ${pointer.sha256} recorded in ${pointerPath}`);
    if (info.live.length !== pointer.count || info.deleted.length !== pointer.deletedCount) {
      throw new IndexCorruptError(file, `it holds ${info.live.length} live and ${info.deleted.length} deleted vectors, ${pointerPath} records ${pointer.count} and ${pointer.deletedCount}`);
    }

    const hnsw = new HierarchicalNSW("cosine", pointer.dim);
    const reading = hnsw.readIndex(file, false).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    try {
      opts.whileReading?.();
    } catch (err) {
      await reading; // never leave hnswlib writing into an index nobody holds
      throw err;
    }
    const readError = await reading;
    if (readError) throw new IndexCorruptError(file, `hnswlib could not read it (${readError.message})`);
    const index = new VectorIndex(
      resolveOptions({
        dim: pointer.dim,
        fingerprint: pointer.fingerprint,
        M: pointer.M,
        efConstruction: pointer.efConstruction,
        efSearch: opts.efSearch,
        exactBelow: opts.exactBelow,
      }),
      hnsw,
    );
    for (const l of info.live) index.live.add(l);
    for (const l of info.deleted) index.deleted.add(l);
    if (opts.vectorsFromFile) {
      try {
        index.fileVectors = { fd: openSync(file, "r"), offsets: info.vectorOffsets };
        fileCloser.register(index, index.fileVectors.fd, index);
      } catch {
        // Replaced by a newer generation meanwhile: vector() asks hnswlib.
      }
    }
    if (hnsw.getMaxElements() < MIN_CAPACITY) hnsw.resizeIndex(MIN_CAPACITY); // an empty index loads with capacity 0
    index.generationValue = pointer.generation;
    return index;
  }
}

// ---------------------------------------------------------------------------------------------
// Exact search

/** A plain copy of unit vectors, scanned linearly. Rows are packed (swap-remove). */
class ExactStore {
  private data: Float32Array;
  private readonly rowOf = new Map<number, number>();
  private labelAt: number[] = [];

  constructor(
    private readonly dim: number,
    capacity: number,
  ) {
    this.data = new Float32Array(Math.max(1, capacity) * dim);
  }

  set(label: number, unit: Float32Array): void {
    let row = this.rowOf.get(label);
    if (row === undefined) {
      row = this.labelAt.length;
      if ((row + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.rowOf.set(label, row);
      this.labelAt.push(label);
    }
    this.data.set(unit, row * this.dim);
  }

  delete(label: number): void {
    const row = this.rowOf.get(label);
    if (row === undefined) return;
    const last = this.labelAt.length - 1;
    if (row !== last) {
      const moved = this.labelAt[last]!;
      this.data.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.labelAt[row] = moved;
      this.rowOf.set(moved, row);
    }
    this.labelAt.pop();
    this.rowOf.delete(label);
  }

  search(q: Float32Array, k: number, allow?: (label: number) => boolean): VectorHit[] {
    const top = new TopK(k);
    const d = this.dim;
    const data = this.data;
    const n = this.labelAt.length;
    for (let r = 0; r < n; r++) {
      const off = r * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < d; i += 4) {
        s0 += data[off + i]! * q[i]!;
        s1 += data[off + i + 1]! * q[i + 1]!;
        s2 += data[off + i + 2]! * q[i + 2]!;
        s3 += data[off + i + 3]! * q[i + 3]!;
      }
      for (; i < d; i++) s0 += data[off + i]! * q[i]!;
      const s = s0 + s1 + s2 + s3;
      if (!top.accepts(s)) continue;
      const label = this.labelAt[r]!;
      if (allow && !allow(label)) continue;
      top.push(label, s);
    }
    return top.result();
  }
}

/** The k best (label, score) pairs, kept sorted best first; ties keep insertion order. */
class TopK {
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];
  constructor(private readonly k: number) {}
  accepts(score: number): boolean {
    return this.scores.length < this.k || score > this.scores[this.scores.length - 1]!;
  }
  push(label: number, score: number): void {
    if (!this.accepts(score)) return;
    if (this.scores.length === this.k) {
      this.scores.pop();
      this.labels.pop();
    }
    // Binary search for the first position with a smaller score.
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.scores[mid]! >= score) lo = mid + 1;
      else hi = mid;
    }
    this.scores.splice(lo, 0, score);
    this.labels.splice(lo, 0, label);
  }
  result(): VectorHit[] {
    return this.labels.map((label, i) => ({ label, score: this.scores[i]! }));
  }
}

/**
 * hnswlib-node aborts the whole process when a filter callback throws; wrap it so a throw is
 * recorded, the label rejected, and the error rethrown after the search.
 */
function guardFilter(filter?: (label: number) => boolean): { fn: (label: number) => boolean; rethrow(): void } | undefined {
  if (!filter) return undefined;
  let failed = false;
  let error: unknown;
  return {
    fn: (label) => {
      if (failed) return false;
      try {
        return filter(label) === true;
      } catch (err) {
        failed = true;
        error = err;
        return false;
      }
    },
    rethrow() {
      if (failed) throw error;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Files

const GENERATION_RE = /^vectors-(\d+)\.hnsw$/;
const TEMP_RE = /^(vectors-\d+\.hnsw|vectors\.json)\.tmp-/;
const generationFile = (g: number): string => `vectors-${g}.hnsw`;

interface DirState {
  /** The current pointer, when readable. */
  pointer?: IndexPointer;
  generations: { file: string; generation: number }[];
  temps: string[];
}

async function scanDir(dir: string): Promise<DirState> {
  const names = await readdir(dir);
  const state: DirState = { generations: [], temps: [] };
  for (const name of names) {
    const m = GENERATION_RE.exec(name);
    if (m) state.generations.push({ file: name, generation: Number(m[1]) });
    else if (TEMP_RE.test(name)) state.temps.push(name);
  }
  if (names.includes(POINTER_FILE)) {
    try {
      state.pointer = parsePointer(await readFile(path.join(dir, POINTER_FILE), "utf8"), POINTER_FILE);
    } catch {
      // unreadable pointer: keep every generation file
    }
  }
  return state;
}

async function removeFiles(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    await unlink(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
}

function parsePointer(text: string, file: string): IndexPointer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new IndexCorruptError(file, "it is not valid JSON");
  }
  const p = raw as Partial<IndexPointer> | null;
  const bad = (what: string): never => {
    throw new IndexCorruptError(file, what);
  };
  if (typeof p !== "object" || p === null) return bad("it is not a JSON object");
  if (typeof p.format !== "number") return bad("it has no format version");
  if (p.format > INDEX_FORMAT_VERSION) return bad(`its format ${p.format} is newer than this paperhound understands (${INDEX_FORMAT_VERSION})`);
  if (p.format !== INDEX_FORMAT_VERSION) return bad(`unknown format ${p.format}`);
  const isUint = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (!isUint(p.generation) || p.generation < 1) return bad("bad generation");
  if (p.file !== generationFile(p.generation)) return bad(`it names file ${JSON.stringify(p.file)}, expected ${generationFile(p.generation)}`);
  if (typeof p.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(p.sha256)) return bad("bad sha256");
  if (!isUint(p.bytes)) return bad("bad byte size");
  if (p.space !== "cosine") return bad(`unsupported space ${JSON.stringify(p.space)}`);
  if (!isUint(p.dim) || p.dim < 1) return bad("bad dim");
  const f = p.fingerprint;
  if (typeof f !== "object" || f === null || typeof f.modelId !== "string" || typeof f.checksum !== "string" || !isUint(f.dim)) {
    return bad("bad model fingerprint");
  }
  if (f.dim !== p.dim) return bad(`fingerprint dim ${f.dim} differs from index dim ${p.dim}`);
  if (!isUint(p.M) || p.M < 2 || !isUint(p.efConstruction) || p.efConstruction < 1) return bad("bad M or efConstruction");
  if (!isUint(p.count) || !isUint(p.deletedCount)) return bad("bad counts");
  return p as IndexPointer;
}

interface IndexFileInfo {
  sha256: string;
  bytes: number;
  live: number[];
  deleted: number[];
  /** File offset of each live label's vector. */
  vectorOffsets: Map<number, number>;
}

/** Closes the file of a loaded index nobody closed (a refresh replaced it) when it is collected. */
const fileCloser = new FinalizationRegistry<number>((fd) => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
});

/**
 * Reads an hnswlib index file once: its sha256, and a walk of its structure (header, level-0
 * records, upper-layer link lists) that checks it against dim and M, finds every label and its
 * deleted mark, and requires the file to end exactly where the structure does. Never trusts header
 * values before checking them (a flipped byte there would make hnswlib allocate or read wildly).
 */
async function inspectIndexFile(file: string, dim: number, M: number): Promise<IndexFileInfo> {
  const corrupt = (reason: string): never => {
    throw new IndexCorruptError(file, reason);
  };
  let fh: FileHandle;
  try {
    fh = await open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return corrupt("it is missing");
    throw err;
  }
  try {
    const r = new HashingReader(fh);
    const h = await r.take(HEADER_BYTES, corrupt);
    const u64 = (off: number): number => {
      const v = h.readBigUInt64LE(off);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? corrupt(`header field at byte ${off} is out of range`) : Number(v);
    };
    const offsetLevel0 = u64(0);
    const maxElements = u64(8);
    const count = u64(16);
    const sizePerElement = u64(24);
    const labelOffset = u64(32);
    const offsetData = u64(40);
    const maxLevel = h.readInt32LE(48);
    const enterPoint = h.readUInt32LE(52);
    const maxM = u64(56);
    const maxM0 = u64(64);
    const fileM = u64(72);
    const efc = u64(88);
    const linksLevel0 = maxM0 * 4 + 4;
    if (offsetLevel0 !== 0 || fileM !== M || maxM !== M || maxM0 !== 2 * M) corrupt(`header says M=${fileM}, maxM=${maxM}, maxM0=${maxM0}; expected M=${M}`);
    if (offsetData !== linksLevel0 || labelOffset !== linksLevel0 + dim * 4 || sizePerElement !== labelOffset + 8) {
      corrupt(`header element layout does not match dim ${dim}`);
    }
    if (count > maxElements || count > MAX_LABEL || efc < 1) corrupt("header counts are inconsistent");
    if (count > 0 && (enterPoint >= count || maxLevel < 0 || maxLevel > 64)) corrupt("header entry point is invalid");
    const live: number[] = [];
    const deleted: number[] = [];
    const vectorOffsets = new Map<number, number>();
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const rec = await r.take(sizePerElement, corrupt);
      if (rec.readUInt16LE(0) > maxM0) corrupt(`element ${i} has too many links`);
      const labelBig = rec.readBigUInt64LE(labelOffset);
      if (labelBig > BigInt(MAX_LABEL)) corrupt(`element ${i} has label ${labelBig}, beyond uint32`);
      const label = Number(labelBig);
      if (seen.has(label)) corrupt(`label ${label} appears twice`);
      seen.add(label);
      if ((rec[2]! & 1) === 1) deleted.push(label);
      else {
        live.push(label);
        vectorOffsets.set(label, HEADER_BYTES + i * sizePerElement + offsetData);
      }
    }
    const linksPerElement = maxM * 4 + 4;
    for (let i = 0; i < count; i++) {
      const size = (await r.take(4, corrupt)).readUInt32LE(0);
      if (size % linksPerElement !== 0 || size / linksPerElement > maxLevel) corrupt(`element ${i} has a bad link list size ${size}`);
      await r.skip(size, corrupt);
    }
    if (!(await r.atEnd())) corrupt("it has trailing bytes after the index structure");
    return { sha256: r.digest(), bytes: r.position, live, deleted, vectorOffsets };
  } finally {
    await fh.close();
  }
}

/** hnswlib's header: 6 size_t, int maxlevel, uint32 entry point, 3 size_t, double mult, size_t efC. */
const HEADER_BYTES = 96;
const CHUNK_BYTES = 4 << 20;

/** Sequential reader that hashes every byte it reads. */
class HashingReader {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private start = 0;
  private end = 0;
  private readonly hash = createHash("sha256");
  /** File offset of the next byte `take` would return. */
  position = 0;
  private filePos = 0;

  constructor(private readonly fh: FileHandle) {}

  /** Reads more bytes; returns how many arrived (0 at end of file). */
  private async fill(): Promise<number> {
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    const { bytesRead } = await this.fh.read(this.buf, this.end, this.buf.length - this.end, this.filePos);
    if (bytesRead > 0) {
      this.hash.update(this.buf.subarray(this.end, this.end + bytesRead));
      this.end += bytesRead;
      this.filePos += bytesRead;
    }
    return bytesRead;
  }

  async take(n: number, corrupt: (reason: string) => never): Promise<Buffer> {
    while (this.end - this.start < n) {
      if ((await this.fill()) === 0) corrupt(`it ends early, at byte ${this.filePos} (truncated)`);
    }
    const out = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.position += n;
    return out;
  }

  async skip(n: number, corrupt: (reason: string) => never): Promise<void> {
    while (n > 0) {
      if (this.end === this.start && (await this.fill()) === 0) corrupt(`it ends early, at byte ${this.filePos} (truncated)`);
      const s = Math.min(n, this.end - this.start);
      this.start += s;
      this.position += s;
      n -= s;
    }
  }

  async atEnd(): Promise<boolean> {
    return this.end === this.start && (await this.fill()) === 0;
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function resolveOptions(o: VectorIndexOptions): Required<Omit<VectorIndexOptions, "capacity">> {
  return {
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

function checkLabel(label: number): void {
  if (!Number.isInteger(label) || label < 0 || label > MAX_LABEL) throw new VectorIndexError(`label must be a uint32, got ${label}`);
}

function sameModel(a: ModelFingerprint, b: ModelFingerprint): boolean {
  return a.modelId === b.modelId && a.dim === b.dim && a.checksum === b.checksum;
}

function describeModel(f: ModelFingerprint): string {
  return `"${f.modelId}" (dim ${f.dim}, checksum ${f.checksum.slice(0, 12)})`;
}
