/**
 * The search core's one entry point: a directory holding `papers.sqlite` (papers, their BM25 term
 * data, the paper ↔ vector label map) and the vector index files, plus the embedder that built them.
 *
 * Indexing is incremental and crash-safe:
 *  1. papers are upserted in SQLite transactions (a changed title/abstract changes its content hash);
 *     then the BM25 index is saved as `bm25.bin` when it lags the store (PaperStore.saveFullTextIndex);
 *  2. papers whose vectors are missing or stale are embedded as title-prefixed passages whose mean
 *     (one vector per paper) goes into the in-memory HNSW index under a fresh label, the old one removed;
 *  3. every checkpoint saves the vector index (atomic pointer swap), THEN commits the new label map
 *     and content hashes in one SQLite transaction.
 * A crash between 3's two steps leaves vectors the store does not know (removed at the next open)
 * and store rows whose vectors vanished (their papers become pending again): the previous state
 * stays searchable and a re-run completes the work.
 *
 * Checkpoints come every `CHECKPOINT_EVERY` (4,096) embedded papers, or every 5% of the index's
 * vectors once that is more (`checkpointDue`), and at the end of `add`. Each one rewrites the whole
 * vector file (2.2 GB at 1M papers), so fewer is faster; a crash loses at most the papers embedded
 * since the last one. `PAPERHOUND_CHECKPOINT_EVERY=<n>` (or the `checkpointEvery` option) sets a
 * fixed interval; the crash test sets it to a few papers so that kills land in and around checkpoints.
 *
 * One writer: `add` calls on one PaperIndex run one after another (a second call waits for the
 * first); two processes must not index into the same directory at once.
 */
import os from "node:os";
import path from "node:path";
import type { Embedder } from "../embed/types.js";
import { passageTextsOf } from "./paper-passages.js";
import type { Paper } from "../papers/types.js";
import { isArxivId, parseArxivRef, RELATED_REF_HINT } from "../papers/arxiv-id.js";
import { PaperStore } from "./paper-store.js";
import { checkStoreNotEmptied, STORE_FILE } from "./index-dir.js";
import { hasFilters } from "./store/filters.js";
import { DEFAULT_STORAGE, IndexCorruptError, ModelMismatchError, POINTER_FILE, VectorIndex, type VectorStorage } from "./vector-index.js";
import { fuseScores, type FusedScore } from "./fusion.js";
import { BM25_FILE } from "./bm25-file.js";
import { efSearchFor, tuningFor } from "./model-tuning.js";
import { WriterLock, type LockHolder } from "./writer-lock.js";
import type { ModelFingerprint, SearchFilters, SearchHit, StoredPaper, UpsertOutcome } from "./types.js";
import { PaperhoundError } from "../errors.js";
import { makeDirSync } from "../make-dir.js";

/** Candidates each retriever contributes before fusion (at least; more when k asks for more). */
export const CANDIDATES = 100;
/** Papers per embedding call (fewer when checkpoints are more frequent). */
const EMBED_CHUNK = 256;
/** Papers embedded between two saves of the vector index; see the header comment. */
export const CHECKPOINT_EVERY = 4096;
export const MAX_K = 1000;
/** Recent queries whose vectors are kept (2 KB each at 512 dimensions). */
export const QUERY_CACHE_SIZE = 256;
export { STORE_FILE } from "./index-dir.js";
/**
 * /related's BM25 query: the paper's most distinctive terms (highest tf × idf), as Lucene's
 * MoreLikeThis does (its default is 25). The whole text as the query (~110 terms) scores most of the
 * corpus: 500 ms at 140k papers, for no better neighbours.
 */
export const RELATED_TERMS = 25;
/**
 * /related's BM25 query leaves out words in more than this share of the papers (from indexes of
 * RELATED_DOC_SHARE_FROM papers on; below, shares are too coarse and search is cheap anyway). At a
 * million papers such words ("model", "method") were a third of the postings BM25 walked: /related's
 * BM25 p50 8.6-9.4 → 6.2-6.4 ms, p99 16-21 → 11-13 ms; the arXiv dev /related set, hybrid nDCG@10
 * 0.0515 → 0.0517, Recall@100 0.164 → 0.158 (0.10: 0.0508 / 0.157; 0.20: 0.0514 / 0.163).
 */
export const RELATED_MAX_DOC_SHARE = 0.15;
export const RELATED_DOC_SHARE_FROM = 1_000;

export function relatedMaxDocShare(papers: number): number {
  return papers >= RELATED_DOC_SHARE_FROM ? RELATED_MAX_DOC_SHARE : 1;
}

export class SearchInputError extends PaperhoundError {
  readonly identifier = "search_input";
  override readonly name = "SearchInputError";
}

/** /related could not pick one paper: none found, or several titles are close. */
export class PaperNotFoundError extends PaperhoundError {
  readonly identifier = "paper_not_found";
  override readonly name = "PaperNotFoundError";
  constructor(
    message: string,
    readonly candidates: StoredPaper[] = [],
  ) {
    super(message);
  }
}

export interface IndexProgress {
  phase: "store" | "embed";
  done: number;
  total: number;
}

/** What a user is told when the BM25 file could not be saved (IndexReport.bm25NotSaved). */
export function bm25NotSavedNote(reason: string): string {
  return `the keyword index file ${BM25_FILE} could not be saved (${reason}); the papers are stored and searchable, searches build the keyword index from the store until a later run saves it`;
}

export interface IndexReport {
  read: number;
  added: number;
  updated: number;
  unchanged: number;
  embedded: number;
  passages: number;
  /** Texts longer than the model window even after passage splitting (never expected). */
  truncatedPassages: number;
  /** Why the BM25 file could not be saved (searches then bring the previous one up to date from the store). */
  bm25NotSaved?: string;
}

export interface QueryOptions {
  k?: number;
  filters?: SearchFilters;
  /** 1 = dense only, 0 = BM25 only. */
  denseWeight?: number;
  /** Which retrievers to use; the evaluation compares them. */
  mode?: "hybrid" | "dense" | "bm25";
  /**
   * Run the dense search on one of libuv's threads while BM25 runs on this one, where the vector
   * index can (VectorIndex.searchAsync); default true. Same results either way. A search thread with
   * queries waiting says false: overlapping costs a little more CPU, which then matters more than
   * this query's latency (docs/benchmarks.md).
   */
  overlap?: boolean;
}

export interface RelatedResult {
  paper: StoredPaper;
  hits: SearchHit[];
}

/**
 * A hit before its paper is read from the store. A search thread answers with these, and the
 * thread that asked reads the papers (SearchThreads): that takes the reading and the copying of
 * the papers between threads off the search thread, which is the bot's bottleneck under load.
 */
export type RankedHit = FusedScore;

export interface RankedRelated {
  paper: StoredPaper;
  hits: RankedHit[];
}

/** Ranked hits with their papers (`papersOf` reads them, by rowid); a hit whose paper is gone is dropped. */
export function hitsWithPapers(ranked: readonly RankedHit[], papersOf: (rowids: number[]) => StoredPaper[]): SearchHit[] {
  const papers = new Map(papersOf(ranked.map((r) => r.rowid)).map((p) => [p.rowid, p]));
  const hits: SearchHit[] = [];
  for (const r of ranked) {
    const paper = papers.get(r.rowid);
    if (!paper) continue;
    const hit: SearchHit = { paper, score: r.score };
    if (r.dense !== undefined) hit.dense = r.dense;
    if (r.bm25 !== undefined) hit.bm25 = r.bm25;
    hits.push(hit);
  }
  return hits;
}

export interface PaperIndexOptions {
  dir: string;
  embedder: Embedder;
  readonly?: boolean;
  denseWeight?: number;
  /** Papers embedded between checkpoints; default `PAPERHOUND_CHECKPOINT_EVERY`, else `CHECKPOINT_EVERY`. */
  checkpointEvery?: number;
  /**
   * Build the in-memory BM25 index while the vectors load (a process about to answer queries);
   * otherwise the first BM25 query builds it (140k papers: see docs/benchmarks.md).
   */
  warm?: boolean;
  /**
   * Read-only opens whose searches run elsewhere (the bot's main thread beside its search threads):
   * the HNSW graph is read only if a search here needs it (stored vectors come from the vector file).
   */
  deferVectorGraph?: boolean;
  /**
   * Writable opens: threads that insert new vectors into the HNSW graph at once, where the hnswlib
   * build can (VectorIndex.addMany); default every core. The CLI passes EMBED_THREADS.
   */
  graphThreads?: number;
  /**
   * Writable opens: called after the vectors, found stored as float32 where this build can store
   * half floats (an index from before them), were converted and saved as half floats (once).
   */
  onVectorsConverted?: (c: { from: VectorStorage; to: VectorStorage; vectors: number; seconds: number }) => void;
  /** Vectors below which dense search is exact instead of by the graph; default EXACT_SEARCH_BELOW (tests use 0 to reach the graph with a few papers). */
  exactSearchBelow?: number;
  /** Writable opens: how long to wait for another process writing this index; default 0 (fail at once). */
  lockWaitMs?: number;
  /** Writable opens: called when another writer holds the index and the wait starts. */
  onLockWait?: (holder: LockHolder | undefined) => void;
  /**
   * Writable opens: the directory's writer lock, already taken by the caller (who changed files
   * under it before opening, as `reindex` does); the index holds it from here and releases it on close.
   */
  writerLock?: WriterLock;
}

/** Share of the index's vectors embedded between default checkpoints on a large index. */
export const CHECKPOINT_GROWTH = 0.05;

/**
 * Papers embedded before the next checkpoint: a fixed interval as set, or the default interval
 * widened to CHECKPOINT_GROWTH of the index, so that saves (each writing the whole vector file) stay
 * a small share of indexing at a million papers: 244 saves of up to 2.2 GB for a 1M build at 4,096
 * each, about 70 this way.
 */
export function checkpointDue(interval: number, fixed: boolean, vectors: number): number {
  return fixed ? interval : Math.max(interval, Math.floor(vectors * CHECKPOINT_GROWTH));
}

/** The checkpoint interval from the option, else the environment, else the default. */
export function checkpointInterval(option?: number, env: NodeJS.ProcessEnv = process.env): number {
  return checkpointSetting(option, env).every;
}

/** The checkpoint interval, and whether it was set (option or environment) rather than defaulted. */
function checkpointSetting(option: number | undefined, env: NodeJS.ProcessEnv = process.env): { every: number; fixed: boolean } {
  const fromEnv = Boolean(env.PAPERHOUND_CHECKPOINT_EVERY?.trim());
  const raw = option ?? (fromEnv ? Number(env.PAPERHOUND_CHECKPOINT_EVERY) : CHECKPOINT_EVERY);
  if (!Number.isSafeInteger(raw) || raw < 1) {
    throw new RangeError(
      `the checkpoint interval must be a positive whole number of papers, got ${option !== undefined ? String(option) : `PAPERHOUND_CHECKPOINT_EVERY=${env.PAPERHOUND_CHECKPOINT_EVERY}`}`,
    );
  }
  return { every: raw, fixed: option !== undefined || fromEnv };
}

/**
 * A refresh adds the indexer's new papers to the loaded graph (VectorIndex.advanceInPlace) when they
 * are at most this many or this share of the index, and loads the new vector file whole beyond: at a
 * million papers an insert costs ~5 ms of the search thread, a whole load ~5 s and, while it runs, a
 * second copy of the vectors (+2.5 GB).
 */
const ADVANCE_MIN_PAPERS = 2_000;
const ADVANCE_SHARE = 0.05;

/** The HNSW search breadth for this model at this many stored vectors (model-tuning.ts). */
function efSearchOf(fingerprint: ModelFingerprint, store: PaperStore): number {
  return efSearchFor(tuningFor(fingerprint.modelId), store.vectorLabelCount());
}

/**
 * Callers give canonical ids, but an arXiv id with a version ("2401.00631v2") or an old-style subject
 * class ("math.GT/0309136") would otherwise become a second row for the same paper: canonicalise it.
 */
function canonicalPaper(paper: Paper): Paper {
  if (typeof paper?.id !== "string" || !isArxivId(paper.id)) return paper;
  const ref = parseArxivRef(paper.id);
  if (!ref || ref.id === paper.id) return paper;
  const versions = [paper.version, ref.version].filter((v): v is number => typeof v === "number");
  return { ...paper, id: ref.id, ...(versions.length > 0 ? { version: Math.max(...versions) } : {}) };
}

export function fingerprintOf(embedder: Embedder): ModelFingerprint {
  return { modelId: embedder.modelId, dim: embedder.dim, checksum: embedder.checksum };
}

function sameModel(a: ModelFingerprint, b: ModelFingerprint): boolean {
  return a.modelId === b.modelId && a.dim === b.dim && a.checksum === b.checksum;
}

export class PaperIndex {
  readonly dir: string;
  readonly fingerprint: ModelFingerprint;
  denseWeight: number;
  /**
   * BM25-only candidates that get an exact dense score before fusion (in BM25 rank order); the rest
   * get the dense floor. Per model (model-tuning.ts). All are scored in one native call where the
   * graph is in memory (VectorIndex.similarities), else each costs a read of its stored vector.
   */
  denseFillTop: number;
  /** Passages embedded per paper, at most (per model: model-tuning.ts); the evaluation varies it. */
  maxPassages: number;
  readonly checkpointEvery: number;
  private readonly graphThreads: number;
  /** Whether the interval was set (option or environment) rather than defaulted: then it never widens. */
  private readonly checkpointFixed: boolean;
  /** Opened for queries only: `refresh` follows what a writer (another process) commits. */
  readonly readonly: boolean;
  private readonly deferVectorGraph: boolean;
  /** A refresh in progress (one at a time). */
  private refreshing: Promise<boolean> | undefined;
  /** The last write (add) in progress: the next one starts after it. */
  private writing: Promise<unknown> = Promise.resolve();
  /** A writable index holds the directory's writer lock until closed (writer-lock.ts). */
  private writerLock: WriterLock | undefined;
  /**
   * The vectors of recent queries, least recently used first: a page of More, the same question
   * asked again or in another channel skips the model (a query's embedding is ~2-3 ms of CPU).
   * The model never changes under an open index, so an entry never goes stale.
   */
  private readonly queryVectors = new Map<string, Float32Array>();

  private constructor(
    readonly store: PaperStore,
    private vectors: VectorIndex,
    readonly embedder: Embedder,
    opts: PaperIndexOptions,
  ) {
    this.dir = opts.dir;
    this.fingerprint = fingerprintOf(embedder);
    const tuning = tuningFor(embedder.modelId);
    this.denseWeight = opts.denseWeight ?? tuning.denseWeight;
    this.denseFillTop = tuning.denseFillTop;
    this.maxPassages = tuning.maxPassages;
    ({ every: this.checkpointEvery, fixed: this.checkpointFixed } = checkpointSetting(opts.checkpointEvery));
    this.readonly = opts.readonly ?? false;
    this.deferVectorGraph = this.readonly && opts.deferVectorGraph === true;
    this.graphThreads = opts.graphThreads ?? os.availableParallelism();
  }

  /** Opens (or creates) the index in `dir`; refuses an index built by another model. */
  static async open(opts: PaperIndexOptions): Promise<PaperIndex> {
    const dir = path.resolve(opts.dir);
    if (!opts.readonly) makeDirSync(dir);
    const fingerprint = fingerprintOf(opts.embedder);
    checkpointInterval(opts.checkpointEvery); // a bad setting fails before anything is opened
    const lock = opts.readonly
      ? undefined
      : (opts.writerLock ?? (await WriterLock.acquire(dir, { waitMs: opts.lockWaitMs ?? 0, ...(opts.onLockWait ? { onWait: opts.onLockWait } : {}) })));
    let store: PaperStore;
    try {
      checkStoreNotEmptied(dir);
      store = PaperStore.open(path.join(dir, STORE_FILE), { readonly: opts.readonly ?? false, bm25File: path.join(dir, BM25_FILE) });
    } catch (err) {
      lock?.release();
      throw err;
    }
    try {
      // A damaged store is never written to: every writer passes this gate (reads stay possible).
      if (!opts.readonly) store.integrityCheck();
      const built = store.getModelFingerprint();
      if (built && !sameModel(built, fingerprint)) throw new ModelMismatchError(fingerprint, built, dir);
      if (!built && !opts.readonly) store.setModelFingerprint(fingerprint);
      const warm = () => {
        if (opts.warm) store.fullTextIndex();
      };
      const efSearch = efSearchOf(fingerprint, store);
      const exactBelow = opts.exactSearchBelow !== undefined ? { exactBelow: opts.exactSearchBelow } : {};
      const loadStarted = performance.now();
      const loaded = await VectorIndex.load(dir, {
        expectFingerprint: fingerprint,
        whileReading: warm,
        vectorsFromFile: opts.readonly === true,
        deferGraph: opts.readonly === true && opts.deferVectorGraph === true,
        efSearch,
        ...exactBelow,
        // A writer holds what new indexes store; readers hold what the file stores.
        ...(opts.readonly ? {} : { storage: DEFAULT_STORAGE }),
      });
      if (!loaded) {
        // Vectors are saved before the store records them: a store that records some without a
        // vector file lost it. Carrying on would search by keywords only and embed everything again.
        const recorded = store.vectorLabelCount();
        if (recorded > 0) throw new IndexCorruptError(path.join(dir, POINTER_FILE), `it is missing, but the paper store records vectors for ${recorded} papers`);
        warm();
      }
      const vectors = loaded ?? VectorIndex.create({ dim: fingerprint.dim, fingerprint, efSearch, ...exactBelow });
      const index = new PaperIndex(store, vectors, opts.embedder, { ...opts, dir });
      index.writerLock = lock;
      if (!opts.readonly) index.reconcile();
      if (!opts.readonly && loaded?.convertedFrom) {
        // Saved at once, so the conversion is done once and readers get the compact file too.
        await loaded.save(dir);
        opts.onVectorsConverted?.({ from: loaded.convertedFrom, to: loaded.storage, vectors: loaded.size, seconds: (performance.now() - loadStarted) / 1000 });
      }
      return index;
    } catch (err) {
      store.close();
      lock?.release();
      throw err;
    }
  }

  /**
   * Brings the store's label map and the vector file into agreement after a crash between a
   * vector save and the store commit (see the header comment).
   */
  private reconcile(): void {
    const mapped = this.store.labelsToPapers(this.vectors.labels());
    const orphans = [...this.vectors.labels()].filter((label) => !mapped.has(label));
    for (const label of orphans) this.vectors.remove(label);
    const lost = this.store.rowidsWithMissingLabels((label) => this.vectors.has(label));
    for (const rowid of lost) {
      for (const label of this.store.removeVectorLabels(rowid)) this.vectors.remove(label);
    }
  }

  close(): void {
    try {
      this.vectors.close();
      this.store.close();
    } finally {
      this.writerLock?.release();
      this.writerLock = undefined;
    }
  }

  /**
   * A read-only index (a bot) picks up the vectors another process (the indexer) committed since
   * it was opened: when the vector file's generation on disk differs from the loaded one, the
   * loaded graph takes the new generation's added and deleted papers (VectorIndex.advanceInPlace),
   * or, where that cannot be (another lineage, too many papers, no spare capacity), the new
   * generation is loaded (hnswlib reads it on a worker thread) and replaces the old one; searches
   * meanwhile use the old one. The store's caches (BM25, labels) move to the committed data too
   * (`PaperStore.catchUp`). Returns whether anything changed. A generation that disappears while
   * loading (the writer saved again) is left for the next call.
   */
  refresh(): Promise<boolean> {
    if (!this.readonly) return Promise.resolve(false);
    this.refreshing ??= (async () => {
      try {
        // The store's caches first: a new vector generation's labels must be in the label map.
        const textChanged = this.store.catchUp();
        const onDisk = await VectorIndex.committedGeneration(this.dir);
        if (onDisk === undefined || onDisk === this.vectors.generation) return textChanged;
        let loaded: VectorIndex | undefined;
        const loadOptions = { expectFingerprint: this.fingerprint, efSearch: efSearchOf(this.fingerprint, this.store), vectorsFromFile: true, deferGraph: this.deferVectorGraph, exactBelow: this.vectors.exactBelow };
        try {
          const maxAdded = Math.max(ADVANCE_MIN_PAPERS, Math.ceil(this.vectors.size * ADVANCE_SHARE));
          if (await this.vectors.advanceInPlace(this.dir, { ...loadOptions, maxAdded })) return true;
          loaded = await VectorIndex.load(this.dir, loadOptions);
        } catch (err) {
          if (err instanceof IndexCorruptError && (await VectorIndex.committedGeneration(this.dir)) !== onDisk) return textChanged;
          throw err;
        }
        if (!loaded) return textChanged;
        // Searches use this.vectors synchronously (never across an await), so none still needs the old one.
        const old = this.vectors;
        this.vectors = loaded;
        old.close();
        return true;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** The vector index, for diagnostics and benchmarks (recall of HNSW against exact search). Do not modify it. */
  get vectorIndex(): VectorIndex {
    return this.vectors;
  }

  /**
   * Upserts papers, then embeds every paper whose vectors are missing or stale. Calls on one index
   * run one at a time (two interleaved runs would embed the same pending papers twice, and modify the
   * vector index while the other saves it).
   */
  add(papers: Iterable<Paper> | AsyncIterable<Paper>, onProgress?: (p: IndexProgress) => void): Promise<IndexReport> {
    const run = this.writing.then(() => this.addNow(papers, onProgress));
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async addNow(papers: Iterable<Paper> | AsyncIterable<Paper>, onProgress?: (p: IndexProgress) => void): Promise<IndexReport> {
    const report: IndexReport = { read: 0, added: 0, updated: 0, unchanged: 0, embedded: 0, passages: 0, truncatedPassages: 0 };
    let chunk: Paper[] = [];
    const flush = () => {
      if (chunk.length === 0) return;
      const { outcomes } = this.store.upsertMany(chunk);
      for (const o of outcomes) report[o satisfies UpsertOutcome] += 1;
      report.read += chunk.length;
      chunk = [];
      onProgress?.({ phase: "store", done: report.read, total: report.read });
    };
    for await (const paper of papers) {
      chunk.push(canonicalPaper(paper));
      if (chunk.length >= 1000) flush();
    }
    flush();
    // Saved before the embedding (hours for a large run): a bot opening meanwhile reads the new papers' terms.
    const notSaved = await this.store.saveFullTextIndex();
    if (notSaved) report.bm25NotSaved = notSaved.message;
    await this.embedPending(report, onProgress);
    return report;
  }

  /** Papers in the store without current vectors. */
  pendingCount(): number {
    // Not stats(): that also sizes files and counts categories over every paper.
    return this.store.pendingCount();
  }

  private async embedPending(report: IndexReport, onProgress?: (p: IndexProgress) => void): Promise<void> {
    const total = this.pendingCount();
    if (total === 0) return;
    let done = 0;
    let afterRowid = 0;
    let pending: { rowid: number; labels: number[]; contentHash: string; old: number[] }[] = [];
    /** Labels added to the vector index since the last commit. */
    let added: number[] = [];
    /** Old vectors taken out by a checkpoint that has not committed yet (to put back if it fails). */
    let removed: { label: number; vector: Float32Array }[] = [];
    const checkpoint = async () => {
      if (pending.length === 0) return;
      // Re-embedded papers keep their old vectors (still searchable) until the save that replaces them.
      for (const item of pending) {
        for (const label of item.old) {
          const vector = this.vectors.vector(label);
          if (vector && this.vectors.remove(label)) removed.push({ label, vector });
        }
      }
      await this.vectors.save(this.dir);
      this.store.commitEmbedding(pending, this.vectors.generation);
      pending = [];
      added = [];
      removed = [];
    };
    const chunkSize = Math.min(EMBED_CHUNK, this.checkpointEvery);
    try {
      for (;;) {
        const papers = this.store.needingEmbedding(chunkSize, afterRowid);
        if (papers.length === 0) break;
        afterRowid = papers[papers.length - 1]!.rowid;
        const texts: string[] = [];
        const owners: number[] = [];
        papers.forEach((p, i) => {
          for (const t of passageTextsOf(p, this.embedder, this.maxPassages)) {
            texts.push(t);
            owners.push(i);
          }
        });
        const results = await this.embedder.embedDetailed(texts, "passage");
        const sums = papers.map(() => new Float32Array(this.embedder.dim));
        results.forEach((r, j) => {
          const sum = sums[owners[j]!]!;
          for (let d = 0; d < sum.length; d++) sum[d]! += r.vector[d]!;
          if (r.truncated) report.truncatedPassages += 1;
        });
        const first = this.store.nextLabel(papers.length);
        const labels = papers.map((_, i) => first + i);
        added.push(...labels); // before the graph has them all: on an error, any of them may be in
        // The index normalises: the mean's direction.
        this.vectors.addMany(labels.map((label, i) => ({ label, vector: sums[i]! })), this.graphThreads);
        papers.forEach((p, i) => {
          const old = this.store.vectorLabelsOf(p.rowid).map((row) => row.label);
          pending.push({ rowid: p.rowid, labels: [labels[i]!], contentHash: p.contentHash, old });
        });
        report.embedded += papers.length;
        report.passages += texts.length;
        done += papers.length;
        onProgress?.({ phase: "embed", done, total });
        if (pending.length >= checkpointDue(this.checkpointEvery, this.checkpointFixed, this.vectors.size)) await checkpoint();
      }
      await checkpoint();
    } catch (err) {
      // Nothing since the last commit happened, as far as this process is concerned: the in-memory
      // vector index goes back to what the store describes (uncommitted vectors out, old ones back),
      // so searches keep working and a re-run starts clean. Files on disk are reconciled at open.
      for (const label of added) this.vectors.remove(label);
      for (const { label, vector } of removed) this.vectors.add(label, vector);
      throw err;
    }
  }

  /** Free-text search: dense and BM25 candidates fused into one ranking. */
  async search(query: string, opts: QueryOptions = {}): Promise<SearchHit[]> {
    return this.hitsOf(await this.searchRanked(query, opts));
  }

  /** `search`'s ranking, without reading the papers (`hitsOf` does). */
  async searchRanked(query: string, opts: QueryOptions = {}): Promise<RankedHit[]> {
    const k = checkK(opts.k ?? 10);
    const text = checkQuery(query);
    const mode = opts.mode ?? "hybrid";
    const want = Math.max(CANDIDATES, k);
    const qvec = mode === "bm25" ? undefined : await this.queryVector(text);
    // The dense search runs on another thread where the vector index can (VectorIndex.searchAsync) while BM25 runs here.
    const denseSearch = qvec ? this.denseCandidates([qvec], opts.filters, new Set(), want, k, opts.overlap !== false) : undefined;
    const bm25 = mode === "dense" ? new Map<number, number>() : settleOnThrow(denseSearch, () => this.bm25Candidates(text, want, opts.filters));
    const dense = denseSearch ? await denseSearch : new Map<number, number>();
    if (qvec && mode === "hybrid") this.fillDenseScores(dense, [qvec], bm25.keys());
    return this.rank(dense, bm25, k, mode, opts.denseWeight);
  }

  /** A query's vector, from the recent queries' cache when it was asked lately (read-only: it is shared). */
  private async queryVector(text: string): Promise<Float32Array> {
    const cached = this.queryVectors.get(text);
    if (cached) {
      this.queryVectors.delete(text);
      this.queryVectors.set(text, cached);
      return cached;
    }
    const [vector] = await this.embedder.embed([text], "query");
    this.queryVectors.set(text, vector!);
    if (this.queryVectors.size > QUERY_CACHE_SIZE) this.queryVectors.delete(this.queryVectors.keys().next().value!);
    return vector!;
  }

  /** Stats of the recent queries' cache (tests, benchmarks). */
  get cachedQueries(): number {
    return this.queryVectors.size;
  }

  /** Papers nearest to a stored paper, found by arXiv id, URL, canonical id or title. */
  async related(ref: string, opts: QueryOptions = {}): Promise<RelatedResult> {
    const { paper, hits } = await this.relatedRanked(ref, opts);
    return { paper, hits: this.hitsOf(hits) };
  }

  /** `related`'s ranking, without reading the papers of the hits (`hitsOf` does). */
  async relatedRanked(ref: string, opts: QueryOptions = {}): Promise<RankedRelated> {
    const k = checkK(opts.k ?? 10);
    const paper = this.resolvePaper(ref);
    const mode = opts.mode ?? "hybrid";
    const exclude = new Set([paper.rowid]);
    const qvecs = this.store
      .vectorLabelsOf(paper.rowid)
      .map((p) => this.vectors.vector(p.label))
      .filter((v): v is Float32Array => v !== undefined);
    let dense = new Map<number, number>();
    if (mode !== "bm25" && qvecs.length === 0) {
      // Not embedded yet (e.g. indexing still running): embed its passages now.
      qvecs.push(...(await this.embedder.embed(passageTextsOf(paper, this.embedder, this.maxPassages), "passage")));
    }
    const want = Math.max(CANDIDATES, k);
    // As in search: the dense search on another thread where it can, BM25 here meanwhile.
    const denseSearch = mode === "bm25" ? undefined : this.denseCandidates(qvecs, opts.filters, exclude, want, k, opts.overlap !== false);
    // One more BM25 candidate than wanted: the paper itself is usually among them.
    const bm25 =
      mode === "dense"
        ? new Map<number, number>()
        : settleOnThrow(denseSearch, () => new Map(this.store.bm25SearchTerms(this.store.describingTerms(paper.rowid, RELATED_TERMS, relatedMaxDocShare(this.store.fullTextIndex().docCount)), want + 1, opts.filters).map((s) => [s.rowid, s.score])));
    bm25.delete(paper.rowid);
    if (denseSearch) {
      dense = await denseSearch;
      if (mode === "hybrid") this.fillDenseScores(dense, qvecs, bm25.keys());
    }
    return { paper, hits: this.rank(dense, bm25, k, mode, opts.denseWeight) };
  }

  /** A stored paper's unit vector (the mean of its vectors when an older index holds several). */
  paperVector(rowid: number): Float32Array | undefined {
    const vectors = this.store
      .vectorLabelsOf(rowid)
      .map((p) => this.vectors.vector(p.label))
      .filter((v): v is Float32Array => v !== undefined);
    if (vectors.length === 0) return undefined;
    if (vectors.length === 1) return vectors[0];
    const sum = new Float32Array(vectors[0]!.length);
    for (const v of vectors) for (let d = 0; d < sum.length; d++) sum[d]! += v[d]!;
    const norm = Math.hypot(...sum) || 1;
    return sum.map((x) => x / norm);
  }

  /** Finds the paper a user means; several close titles → PaperNotFoundError listing them. */
  resolvePaper(ref: string): StoredPaper {
    const text = typeof ref === "string" ? ref.trim() : "";
    if (!text) throw new SearchInputError(RELATED_REF_HINT);
    const arxiv = parseArxivRef(text);
    if (arxiv) {
      const hit = this.store.get(arxiv.id);
      if (hit) return hit;
      throw new PaperNotFoundError(`arXiv ${arxiv.id} is not in this index`);
    }
    const byId = this.store.get(text);
    if (byId) return byId;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new SearchInputError(`not an arXiv URL: ${text}`);
    const { exact, close } = this.store.findByTitle(text);
    if (exact) return exact;
    if (close.length === 1 || (close.length > 1 && close[0]!.similarity - close[1]!.similarity >= 0.15)) return close[0]!.paper;
    if (close.length > 1) {
      throw new PaperNotFoundError(`several papers match "${text}"; say which one`, close.map((c) => c.paper));
    }
    throw new PaperNotFoundError(`no paper in this index matches "${text}"`);
  }

  private bm25Candidates(text: string, limit: number, filters?: SearchFilters): Map<number, number> {
    return new Map(this.store.bm25Search(text, limit, filters).map((s) => [s.rowid, s.score]));
  }

  /**
   * Best passage score per paper over the query vectors' nearest passages (about `want` papers).
   * Filters are applied to the nearest passages first; when fewer than `atLeast` papers pass them
   * and the search did not already cover every vector (a narrow filter: an author, a rare category),
   * the search is run again restricted to the passages of papers that pass, so dense results under a
   * filter are the nearest allowed papers, not whatever allowed papers happened to be near the top.
   */
  private async denseCandidates(
    qvecs: Float32Array[],
    filters: SearchFilters | undefined,
    exclude: ReadonlySet<number>,
    want: number,
    atLeast: number,
    overlap: boolean,
  ): Promise<Map<number, number>> {
    // One vector per paper since schema 2; an index built earlier has up to 3 per paper: over-fetch
    // then, so `want` distinct papers usually remain.
    const perPaper = this.vectors.size > this.store.paperCountHint() ? 4 : 1;
    const kPassages = Math.min(this.vectors.size, want * perPaper);
    const collect = async (filter?: (label: number) => boolean): Promise<Map<number, number>> => {
      const best = new Map<number, number>();
      for (const q of qvecs) {
        const opts = filter ? { filter } : {};
        const hits = overlap ? await this.vectors.searchAsync(q, kPassages, opts) : this.vectors.search(q, kPassages, opts);
        const owners = this.store.labelsToPapers(hits.map((h) => h.label));
        for (const h of hits) {
          const rowid = owners.get(h.label);
          if (rowid === undefined || exclude.has(rowid)) continue;
          if (h.score > (best.get(rowid) ?? -Infinity)) best.set(rowid, h.score);
        }
      }
      return best;
    };
    const best = await collect();
    if (!hasFilters(filters)) return best;
    const passing = this.store.filterRowids([...best.keys()], filters);
    for (const rowid of [...best.keys()]) if (!passing.has(rowid)) best.delete(rowid);
    if (best.size >= atLeast || kPassages >= this.vectors.size) return best;
    const owners = this.store.labelsToPapers(this.vectors.labels());
    const allowed = this.store.filterRowids([...new Set(owners.values())], filters);
    for (const rowid of exclude) allowed.delete(rowid);
    if (allowed.size === 0) return new Map();
    return collect((label) => {
      const rowid = owners.get(label);
      return rowid !== undefined && allowed.has(rowid);
    });
  }

  /** Exact dense scores for candidates only BM25 found, so fusion compares like with like. */
  private fillDenseScores(dense: Map<number, number>, qvecs: Float32Array[], rowids: Iterable<number>): void {
    // Only the best BM25 candidates are scored; the rest get the dense floor in fusion (see denseFillTop).
    const wanted: number[] = [];
    let budget = this.denseFillTop;
    for (const rowid of rowids) {
      if (budget-- <= 0) break;
      if (!dense.has(rowid)) wanted.push(rowid);
    }
    // Their labels from the store's in-memory label cache (a SQL query for them cost ~0.1 ms a search
    // at 140k papers), and one call per query vector for all their scores.
    const labelsOf = this.store.labelsOfPapers(wanted);
    const labels: number[] = [];
    const owners: number[] = [];
    for (const rowid of wanted) {
      for (const label of labelsOf.get(rowid) ?? []) {
        labels.push(label);
        owners.push(rowid);
      }
    }
    if (labels.length === 0) return;
    for (const q of qvecs) {
      this.vectors.similarities(q, labels).forEach((score, i) => {
        const rowid = owners[i]!;
        if (!Number.isNaN(score) && score > (dense.get(rowid) ?? -Infinity)) dense.set(rowid, score);
      });
    }
  }

  /** The k best of the fused candidates (their papers not read: `hitsOf`). */
  private rank(dense: Map<number, number>, bm25: Map<number, number>, k: number, mode: QueryOptions["mode"], weight?: number): RankedHit[] {
    const w = mode === "dense" ? 1 : mode === "bm25" ? 0 : (weight ?? this.denseWeight);
    return fuseScores(dense, bm25, w).slice(0, k);
  }

  /** Ranked hits with their papers, read from this index's store. */
  hitsOf(ranked: readonly RankedHit[]): SearchHit[] {
    return hitsWithPapers(ranked, (rowids) => this.store.getMany(rowids));
  }

  stats(): ReturnType<PaperStore["stats"]> & {
    vectors: number;
    deletedVectors: number;
    model: ModelFingerprint;
    generation: number;
    /** What the vector file stores (what a new one would, before the first save). */
    vectorStorage: VectorStorage;
  } {
    return {
      ...this.store.stats(),
      vectors: this.vectors.size,
      deletedVectors: this.vectors.deletedCount,
      model: this.fingerprint,
      generation: this.vectors.generation,
      vectorStorage: this.vectors.storedAs ?? this.vectors.storage,
    };
  }
}

export function checkK(k: unknown): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new SearchInputError(`k must be a whole number from 1 to ${MAX_K}, got ${String(k)}`);
  }
  return k;
}

/** Queries are capped at 2,000 characters: more adds nothing to a 128-token model or a 64-term BM25 query. */
export function checkQuery(query: unknown): string {
  if (typeof query !== "string") throw new SearchInputError("the query must be text");
  const text = query.replace(/\s+/g, " ").trim();
  if (!text) throw new SearchInputError("the query is empty: type a few words about the papers you want");
  if (!/[\p{L}\p{N}]/u.test(text)) throw new SearchInputError("the query has no letters or digits to search for");
  return text.length > 2000 ? text.slice(0, 2000) : text;
}

/** `work()`; when it throws, `pending` (started before it) settles unobserved rather than as an unhandled rejection. */
function settleOnThrow<T>(pending: Promise<unknown> | undefined, work: () => T): T {
  try {
    return work();
  } catch (err) {
    pending?.catch(() => undefined);
    throw err;
  }
}
