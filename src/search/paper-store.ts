/**
 * PaperStore: the SQLite side of the search core (papers, their BM25 term data, which vector labels
 * belong to which paper, and a small JSON `meta` table). Synchronous, better-sqlite3 style; every
 * multi-row write runs in one transaction. Its parts live in ./store/: the driver (sqlite.ts), schema
 * and migrations (schema.ts), rows and cross-source merging (rows.ts), filters (filters.ts), titles
 * (titles.ts), the label cache (label-cache.ts) and its errors (errors.ts).
 *
 * Over 600 lines as one job: this class is every query the search core makes of the database, and
 * its caches (labels, BM25, counts) must see every write it makes; splitting it would split those.
 *
 * Durability: the database runs in WAL mode with `synchronous=NORMAL`. In WAL mode NORMAL never
 * corrupts the database; a power loss (not a process crash) can lose the last transactions committed
 * since the most recent checkpoint. Everything in the store can be re-ingested from its sources and the
 * vector index is saved by generation, so we trade that window for much cheaper commits (no fsync per
 * transaction). A `busy_timeout` lets the bot and a CLI command share the file without SQLITE_BUSY.
 *
 * Schema additions beyond the brief: `papers.title_key` (normalised title, indexed, for exact /related
 * lookups), `papers_title_tri` (an FTS5 trigram index over title_key, external content, kept in sync by
 * triggers: candidates for fuzzy title lookups), and a partial index over papers needing embedding.
 * Row ids use AUTOINCREMENT so a deleted paper's rowid is never handed to another paper. The WAL is
 * trimmed to 64 MiB after checkpoints (journal_size_limit).
 */
import fs from "node:fs";
import path from "node:path";
import type { Paper } from "../papers/types.js";
import type { ModelFingerprint, ScoredPaper, SearchFilters, StoredPaper, UpsertOutcome } from "./types.js";
import { Bm25Index, type QueryTerm } from "./bm25-index.js";
import { Bm25FileError, readBm25File, readBm25FileHeader, staleTempsOf, writeBm25File, type Bm25FileHeader } from "./bm25-file.js";
import { decodeTermData, decodeTermDataInto, encodeTermData, paperTermData, queryTerms, TermDataError, TermDataScratch, type TermData } from "./text-analysis.js";
import { StoreCorruptError, StoreSchemaError } from "./store/errors.js";
import { filterSql, hasFilters, matchesFilters } from "./store/filters.js";
import { LabelCache } from "./store/label-cache.js";
import { planUpsert, rowToPaper, upsertPreview, validatePaper, VALUE_COLUMNS, type PaperRow } from "./store/rows.js";
import { checkFileHeader, MIGRATIONS } from "./store/schema.js";
import { Database, isCorruptionError, type SqliteDatabase, type Statement } from "./store/sqlite.js";
import { foldText, titleKey, trigramDice, trigrams } from "./store/titles.js";
import { faultPoint } from "../fault-points.js";
import { makeDirSync } from "../make-dir.js";

export { StoreCorruptError, StoreSchemaError } from "./store/errors.js";

// ---------------------------------------------------------------------------------------------
// Public types

/** Current schema version written to `meta.schema_version`. */
export const SCHEMA_VERSION = 3;
/** The oldest schema a read-only open accepts as it is (version 3 only added what makes BM25 loads fast). */
const OLDEST_READABLE_SCHEMA = 2;

/**
 * A writer saves the BM25 file when it lacks this share of the papers, and at least BM25_SAVE_MIN
 * (see saveFullTextIndex). A save rewrites the whole file; a reader merges what the file lacks (its
 * cost is mostly one copy of the postings, whatever the number merged). At 10%, an index grown page by
 * page to N papers has written about 10 N papers' worth of files, and a reader decodes at most N/10.
 */
export const BM25_SAVE_SHARE = 0.1;
export const BM25_SAVE_MIN = 1000;

/** At most this many distinct terms of a title lookup reach the FTS5 trigram index. */
export const MAX_QUERY_TERMS = 64;

export interface Bm25Weights {
  title: number;
  abstract: number;
}

export interface PaperStoreOptions {
  /** Open without write access: no schema creation or migration, no pragma changes. */
  readonly?: boolean;
  /** BM25 weights of a title and an abstract occurrence; default title 2.0, abstract 1.0. */
  bm25Weights?: Bm25Weights;
  /** How long a statement waits for another connection's lock (ms). Default 5000. */
  busyTimeoutMs?: number;
  /** Clock for added_at/updated_at (tests). */
  now?: () => Date;
  /**
   * Where the BM25 index is saved (bm25-file.ts; PaperIndex puts it beside the store): opens read
   * it instead of rebuilding it, writers save it with `saveFullTextIndex`. Absent: built in memory only.
   */
  bm25File?: string;
}

/** How the BM25 index was last brought up to date. */
export interface FullTextLoad {
  /** "file": read from the saved file; "memory": the previous in-memory index; "store": built from every paper. */
  from: "file" | "memory" | "store";
  /** Papers changed since the file or the previous index, merged in (0 when built). */
  merged: number;
  ms: number;
}

export interface VectorLabelRow {
  label: number;
  ord: number;
  generation: number;
}

export interface EmbeddingCommit {
  rowid: number;
  labels: number[];
  /** The content hash the vectors were computed from (as read by needingEmbedding). */
  contentHash: string;
}

export interface TitleMatch {
  paper: StoredPaper;
  /** 0..1, 1 = same normalised title. */
  similarity: number;
}

export interface TitleLookup {
  /** The one paper whose normalised title equals the query; absent when none or several do. */
  exact?: StoredPaper;
  /** Close (or, when several papers share the title, equal) titles, best first. */
  close: TitleMatch[];
}

export interface FindByTitleOptions {
  /** Minimum similarity for a close match (character-trigram Dice). Default 0.5. */
  threshold?: number;
  /** At most this many close matches. Default 5. */
  limit?: number;
}

export interface StoreStats {
  file: string;
  schemaVersion: number;
  papers: number;
  passages: number;
  /** Papers whose vectors match their current content. */
  embedded: number;
  /** Papers needing (re-)embedding. */
  pending: number;
  /** Database file plus its WAL, in bytes (0 in memory). */
  bytesOnDisk: number;
  indexGeneration: number;
  /** Most common primary categories, most frequent first. */
  topCategories: { category: string; count: number }[];
}

// ---------------------------------------------------------------------------------------------

const DEFAULT_WEIGHTS: Bm25Weights = { title: 2.0, abstract: 1.0 };
const MAX_LABEL = 0xffffffff;

export class PaperStore {
  readonly file: string;
  readonly readonly: boolean;
  private readonly db: SqliteDatabase;
  private readonly weights: Bm25Weights;
  private readonly now: () => Date;
  private readonly stmts = new Map<string, Statement>();

  private labels: LabelCache | null = null;
  private labelsDataVersion = -1;
  /** term → id, loaded on the first write of term data (dropped when a transaction rolls back). */
  private termIdCache: Map<string, number> | null = null;
  /** Term data written by this connection (another connection's writes bump data_version). */
  private termWrites = 0;
  /** The BM25 index, the papersVersion it was checked at, and the last term-data change it holds. */
  private fullText: { index: Bm25Index; version: string; seq: number } | null = null;
  /** How the BM25 index was last made (diagnostics, benchmarks, tests). */
  fullTextLoad: FullTextLoad | undefined;
  /** The schema of the file (a read-only open may be one version behind: no term-data seq then). */
  private schemaVersion = SCHEMA_VERSION;
  private readonly bm25File: string | undefined;
  private countHint: { count: number; version: string } | null = null;
  /**
   * Read-only stores: the data_version their caches (BM25, labels, paper count) are built on, moved
   * forward only by `catchUp`. An indexer commits page after page; without this, a bot's every
   * query after each commit would rebuild the BM25 index (2 s at 140k papers) and the label map.
   */
  private pinnedDataVersion: number | undefined;

  private constructor(db: SqliteDatabase, file: string, readonly: boolean, opts: PaperStoreOptions) {
    this.db = db;
    this.file = file;
    this.readonly = readonly;
    const w = opts.bm25Weights ?? DEFAULT_WEIGHTS;
    if (!(Number.isFinite(w.title) && w.title >= 0 && Number.isFinite(w.abstract) && w.abstract >= 0)) {
      throw new RangeError("bm25Weights must be finite, non-negative numbers");
    }
    this.weights = { title: w.title, abstract: w.abstract };
    this.now = opts.now ?? (() => new Date());
    this.bm25File = opts.bm25File;
  }

  /**
   * Open (creating if needed, unless read-only) the store at `file`. A file that is not a SQLite
   * database or is truncated → StoreCorruptError, and the file is left untouched; a schema newer
   * than this build → StoreSchemaError.
   */
  static open(file: string, opts: PaperStoreOptions = {}): PaperStore {
    const abs = path.resolve(file);
    const readonly = opts.readonly === true;
    if (readonly && !fs.existsSync(abs)) {
      throw new Error(`Paper store ${abs} does not exist (opened read-only, so it was not created). Build it with \`paperhound index <file...>\`.`);
    }
    checkFileHeader(abs);
    if (!readonly) makeDirSync(path.dirname(abs));
    const timeout = opts.busyTimeoutMs ?? 5000;
    let db: SqliteDatabase;
    try {
      db = new Database(abs, { readonly, fileMustExist: readonly, timeout });
    } catch (e) {
      if (isCorruptionError(e)) throw new StoreCorruptError(abs, (e as Error).message, { cause: e });
      throw e;
    }
    try {
      // First touch is a read: a file SQLite cannot parse fails here, before anything is written.
      db.prepare("SELECT count(*) FROM sqlite_master").pluck().get();
      if (!readonly) {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
        // A big ingest grows the WAL; after a checkpoint, shrink it back to at most 64 MiB.
        db.pragma("journal_size_limit = 67108864");
      }
      db.pragma(`busy_timeout = ${timeout}`);
      db.pragma("foreign_keys = ON");
      const store = new PaperStore(db, abs, readonly, opts);
      store.init();
      return store;
    } catch (e) {
      db.close();
      if (isCorruptionError(e)) throw new StoreCorruptError(abs, (e as Error).message, { cause: e });
      throw e;
    }
  }

  /** A fresh in-memory store (tests, one-off evaluations). */
  static memory(opts: Omit<PaperStoreOptions, "readonly"> = {}): PaperStore {
    const db = new Database(":memory:");
    db.pragma("foreign_keys = ON");
    const store = new PaperStore(db, ":memory:", false, opts);
    store.init();
    return store;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.stmts.clear();
    this.labels = null;
  }

  // -------------------------------------------------------------------------------------------
  // Schema and plumbing

  private init(): void {
    this.db.function("ph_fold", { deterministic: true }, (s: unknown) => (typeof s === "string" ? foldText(s) : s));
    const tables = new Set(this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    let version = 0;
    if (tables.has("meta")) {
      const raw = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as string | undefined;
      version = raw === undefined ? 0 : Number(JSON.parse(raw));
      if (!Number.isInteger(version) || version < 0) throw new StoreCorruptError(this.file, `invalid schema_version ${raw}`);
    } else if (tables.size > 0 && !tables.has("papers")) {
      throw new StoreSchemaError(
        this.file,
        `${this.file} is a SQLite database but not a paperhound paper store (no meta table). Point paperhound at another file.`,
      );
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreSchemaError(
        this.file,
        `Paper store ${this.file} has schema version ${version}, newer than this paperhound understands (${SCHEMA_VERSION}). ` +
          "Upgrade paperhound, or rebuild the store for this version from your paper files with `paperhound index <file...>` in a new index directory.",
      );
    }
    if (version === SCHEMA_VERSION) {
      this.schemaVersion = version;
      return;
    }
    if (version === 0 && tables.has("papers")) {
      throw new StoreCorruptError(this.file, "papers table present but no schema_version in meta");
    }
    this.schemaVersion = version;
    if (this.readonly && version >= OLDEST_READABLE_SCHEMA) return;
    if (this.readonly && tables.size === 0) {
      // Nothing to migrate: the writer that created the file has not committed its schema yet.
      throw new StoreSchemaError(this.file, `Paper store ${this.file} has no papers yet: an indexer may be creating it now. Try again when it has committed some.`, undefined, true);
    }
    if (this.readonly) {
      throw new StoreSchemaError(
        this.file,
        `Paper store ${this.file} has schema version ${version}; this paperhound needs ${SCHEMA_VERSION}. Open it once read-write to migrate it.`,
        version,
      );
    }
    this.db.transaction(() => {
      for (let v = version + 1; v <= SCHEMA_VERSION; v++) {
        const migrate = MIGRATIONS[v];
        if (!migrate) throw new Error(`No migration to schema version ${v}`);
        migrate(this.db);
      }
      this.db
        .prepare("INSERT INTO meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .run(JSON.stringify(SCHEMA_VERSION));
    })();
    this.schemaVersion = SCHEMA_VERSION;
    // Version 2 dropped the FTS5 full-text tables: give their pages back to the file system.
    if (version === 1) this.db.exec("VACUUM");
  }

  private stmt(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /**
   * Run `fn` in one transaction (nested calls become savepoints). The label cache is edited as rows
   * change and dropped (reloaded on next use) when any transaction or savepoint rolls back.
   */
  transaction<T>(fn: () => T): T {
    try {
      const result = this.db.transaction(() => {
        const r = fn();
        faultPoint("commit", "store: before commit");
        return r;
      })();
      faultPoint("commit", "store: after commit");
      return result;
    } catch (e) {
      this.labels = null;
      this.termIdCache = null;
      this.termWrites += 1;
      // It may hold rolled-back changes whose seqs will be taken again by other papers.
      this.fullText = null;
      throw e;
    }
  }

  private timestamp(): string {
    return this.now().toISOString();
  }

  // -------------------------------------------------------------------------------------------
  // Papers

  /**
   * Insert or merge papers by canonical id, in one transaction (an error leaves nothing written).
   * Returns per-input outcomes and row ids, in input order.
   */
  upsertMany(papers: Paper[]): { outcomes: UpsertOutcome[]; rowids: number[] } {
    papers.forEach(validatePaper);
    const cols = VALUE_COLUMNS;
    const insert = this.stmt(
      `INSERT INTO papers (${cols.join(", ")}, added_at, updated_at) VALUES (${cols.map((c) => `@${c}`).join(", ")}, @added_at, @updated_at)`,
    );
    const update = this.stmt(
      `UPDATE papers SET ${cols
        .filter((c) => c !== "id")
        .map((c) => `${c} = @${c}`)
        .join(", ")}, updated_at = @updated_at WHERE rowid = @rowid`,
    );
    const select = this.stmt("SELECT * FROM papers WHERE id = ?");
    return this.transaction(() => {
      const outcomes: UpsertOutcome[] = [];
      const rowids: number[] = [];
      const ts = this.timestamp();
      for (const p of papers) {
        const old = select.get(p.id.trim()) as PaperRow | undefined;
        const { outcome, values } = planUpsert(old, p);
        outcomes.push(outcome);
        if (!old) {
          const info = insert.run({ ...values, added_at: ts, updated_at: ts });
          const rowid = Number(info.lastInsertRowid);
          this.writeTermData(rowid, values.title, values.abstract);
          rowids.push(rowid);
          continue;
        }
        rowids.push(old.rowid);
        if (outcome === "unchanged") continue;
        update.run({ ...values, updated_at: ts, rowid: old.rowid });
        if (values.content_hash !== old.content_hash) this.writeTermData(old.rowid, values.title, values.abstract);
      }
      return { outcomes, rowids };
    });
  }

  /** How `upsertMany` would count papers given one by one, without writing (see `upsertPreview`). */
  previewUpserts(): ReturnType<typeof upsertPreview> {
    const select = this.stmt("SELECT * FROM papers WHERE id = ?");
    return upsertPreview((id) => select.get(id) as PaperRow | undefined);
  }

  /** Store one paper; see upsertMany. */
  upsert(paper: Paper): { outcome: UpsertOutcome; rowid: number } {
    const r = this.upsertMany([paper]);
    return { outcome: r.outcomes[0]!, rowid: r.rowids[0]! };
  }

  /** Every paper with a DOI: the DOI in lower case → the paper's id (library imports match DOIs against it). */
  idsByDoi(): Map<string, string> {
    const rows = this.stmt("SELECT lower(doi) AS doi, id FROM papers WHERE doi IS NOT NULL AND doi <> ''").all() as { doi: string; id: string }[];
    return new Map(rows.map((r) => [r.doi, r.id]));
  }

  /** By canonical id (callers canonicalise: no arXiv version suffix). */
  get(id: string): StoredPaper | undefined {
    const row = this.stmt("SELECT * FROM papers WHERE id = ?").get(id) as PaperRow | undefined;
    return row ? rowToPaper(row) : undefined;
  }

  /** The rowids of those of `ids` the store holds (one query: a digest looks up a whole library). */
  rowidsOf(ids: readonly string[]): Map<string, number> {
    if (ids.length === 0) return new Map();
    const rows = this.stmt("SELECT id, rowid FROM papers WHERE id IN (SELECT value FROM json_each(?))").raw().all(JSON.stringify(ids)) as [string, number][];
    return new Map(rows);
  }

  getByRowid(rowid: number): StoredPaper | undefined {
    const row = this.stmt("SELECT * FROM papers WHERE rowid = ?").get(rowid) as PaperRow | undefined;
    return row ? rowToPaper(row) : undefined;
  }

  /** Papers for the given row ids, in the given order; unknown row ids are skipped. */
  getMany(rowids: readonly number[]): StoredPaper[] {
    if (rowids.length === 0) return [];
    const rows = this.stmt("SELECT * FROM papers WHERE rowid IN (SELECT value FROM json_each(?))").all(
      JSON.stringify(rowids),
    ) as PaperRow[];
    const byRowid = new Map(rows.map((r) => [r.rowid, r]));
    const out: StoredPaper[] = [];
    for (const id of rowids) {
      const row = byRowid.get(id);
      if (row) out.push(rowToPaper(row));
    }
    return out;
  }

  /**
   * Papers announced in (since, until]: the day Hugging Face featured them, else their publication
   * date (YYYY-MM-DD compared as text). What a daily digest considers new, independent of when
   * paperhound happened to fetch them.
   */
  papersAnnouncedBetween(since: string, until: string): StoredPaper[] {
    const rows = this.stmt(
      "SELECT * FROM papers WHERE coalesce(json_extract(trending, '$.featuredOn'), published) > ? " +
        "AND coalesce(json_extract(trending, '$.featuredOn'), published) <= ? ORDER BY rowid",
    ).all(since, until) as PaperRow[];
    return rows.map(rowToPaper);
  }

  count(): number {
    return this.stmt("SELECT count(*) FROM papers").pluck().get() as number;
  }

  /**
   * Changes whenever papers' text may have changed: a commit by another connection (SQLite's
   * data_version) or a term-data write (or rollback) by this one. Keys the caches below.
   */
  private papersVersion(): string {
    return `${this.dataVersion()}:${this.termWrites}`;
  }

  /**
   * Number of papers, counted once per change of the file (another connection's commit) or of
   * this connection's papers: cheap enough to ask on every query.
   */
  paperCountHint(): number {
    const version = this.papersVersion();
    if (this.countHint?.version !== version) this.countHint = { version, count: this.count() };
    return this.countHint.count;
  }

  /** Papers whose vectors are missing or stale (served by the papers_pending partial index). */
  pendingCount(): number {
    return this.stmt("SELECT count(*) FROM papers WHERE embedded_hash IS NULL OR embedded_hash <> content_hash").pluck().get() as number;
  }

  /**
   * Papers whose vectors are missing or were computed from other content, in rowid order. Pass the
   * last rowid seen as `afterRowid` to page through without committing in between.
   */
  needingEmbedding(limit = 1000, afterRowid = 0): StoredPaper[] {
    const rows = this.stmt(
      "SELECT * FROM papers WHERE (embedded_hash IS NULL OR embedded_hash <> content_hash) AND rowid > ? ORDER BY rowid LIMIT ?",
    ).all(afterRowid, Math.max(0, Math.floor(limit))) as PaperRow[];
    return rows.map(rowToPaper);
  }

  // -------------------------------------------------------------------------------------------
  // Vector labels of a paper (the table is still called `passages`: a paper had one vector per
  // passage before one vector per paper; renaming it would need a migration for nothing)

  /**
   * Replace the vector labels of a paper with `labels` (ord = position) from index `generation`, and mark
   * the paper embedded from `contentHash`. Returns the labels it had before (to delete from the index).
   */
  setVectorLabels(paperRowid: number, labels: readonly number[], generation: number, contentHash: string): number[] {
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l > MAX_LABEL) throw new RangeError(`Vector label ${l} is not a uint32`);
    }
    return this.transaction(() => {
      const old = this.deleteVectorLabels(paperRowid);
      const ins = this.stmt("INSERT INTO passages(label, paper_rowid, ord, generation) VALUES (?, ?, ?, ?)");
      labels.forEach((label, ord) => {
        ins.run(label, paperRowid, ord, generation);
        this.labels?.set(label, paperRowid);
      });
      const info = this.stmt("UPDATE papers SET embedded_hash = ? WHERE rowid = ?").run(contentHash, paperRowid);
      if (info.changes === 0) throw new RangeError(`No paper with rowid ${paperRowid}`);
      return old;
    });
  }

  private deleteVectorLabels(paperRowid: number): number[] {
    const old = this.stmt("SELECT label FROM passages WHERE paper_rowid = ? ORDER BY ord").pluck().all(paperRowid) as number[];
    if (old.length > 0) {
      this.stmt("DELETE FROM passages WHERE paper_rowid = ?").run(paperRowid);
      for (const label of old) this.labels?.delete(label);
    }
    return old;
  }

  /** Drop a paper's passages and mark it not embedded. Returns the removed labels. */
  removeVectorLabels(paperRowid: number): number[] {
    return this.transaction(() => {
      const old = this.deleteVectorLabels(paperRowid);
      this.stmt("UPDATE papers SET embedded_hash = NULL WHERE rowid = ?").run(paperRowid);
      return old;
    });
  }

  /** The vector labels of several papers at once (from the in-memory label cache), by paper rowid; papers without any are absent. */
  labelsOfPapers(paperRowids: readonly number[]): Map<number, number[]> {
    const cache = this.labelCache();
    const out = new Map<number, number[]>();
    for (const rowid of paperRowids) {
      const labels = cache.labelsOf(rowid);
      if (labels.length > 0) out.set(rowid, labels);
    }
    return out;
  }

  vectorLabelsOf(paperRowid: number): VectorLabelRow[] {
    return this.stmt("SELECT label, ord, generation FROM passages WHERE paper_rowid = ? ORDER BY ord").all(paperRowid) as VectorLabelRow[];
  }

  /**
   * Record a batch of embedded papers and the index generation that holds their vectors, in one
   * transaction. Returns every label replaced (to mark deleted in the vector index).
   */
  commitEmbedding(batch: readonly EmbeddingCommit[], generation: number): number[] {
    return this.transaction(() => {
      const replaced: number[] = [];
      for (const item of batch) replaced.push(...this.setVectorLabels(item.rowid, item.labels, generation, item.contentHash));
      this.setMeta("index_generation", generation);
      return replaced;
    });
  }

  /** SQLite's data_version (bumped by other connections' commits), or the pinned one of a read-only store. */
  private dataVersion(): number {
    return this.readonly ? (this.pinnedDataVersion ??= this.liveDataVersion()) : this.liveDataVersion();
  }

  private liveDataVersion(): number {
    return this.stmt("PRAGMA data_version").pluck().get() as number;
  }

  /**
   * Read-only stores: lets the caches follow what other connections committed since the last call
   * (PaperIndex.refresh calls it). Returns whether anything was committed; always false when writable
   * (a writable store's caches follow every commit).
   */
  catchUp(): boolean {
    if (!this.readonly) return false;
    const now = this.liveDataVersion();
    const changed = this.pinnedDataVersion !== undefined && now !== this.pinnedDataVersion;
    this.pinnedDataVersion = now;
    return changed;
  }

  private labelCache(): LabelCache {
    // Another connection (a CLI reindex next to the bot) changing the file bumps data_version.
    const dataVersion = this.dataVersion();
    if (this.labels && dataVersion === this.labelsDataVersion) return this.labels;
    const cache = new LabelCache();
    for (const row of this.db.prepare("SELECT label, paper_rowid FROM passages").raw().iterate()) {
      const [label, rowid] = row as [number, number];
      cache.set(label, rowid);
    }
    this.labels = cache;
    this.labelsDataVersion = dataVersion;
    return cache;
  }

  /** Row id of the paper a vector label belongs to. */
  paperForLabel(label: number): number | undefined {
    return this.labelCache().get(label);
  }

  /** Papers with at least one stored label for which `present(label)` is false (vectors lost in a crash). */
  rowidsWithMissingLabels(present: (label: number) => boolean): number[] {
    const rows = this.stmt("SELECT label, paper_rowid FROM passages").raw().iterate() as Iterable<[number, number]>;
    const out = new Set<number>();
    for (const [label, rowid] of rows) if (!present(label)) out.add(rowid);
    return [...out];
  }

  /** How many vector labels the store records (papers with vectors, one label each). */
  vectorLabelCount(): number {
    return this.stmt("SELECT count(*) FROM passages").pluck().get() as number;
  }

  /** label → paper rowid for the labels that are known (unknown labels are absent). */
  labelsToPapers(labels: Iterable<number>): Map<number, number> {
    const cache = this.labelCache();
    const out = new Map<number, number>();
    for (const label of labels) {
      const rowid = cache.get(label);
      if (rowid !== undefined) out.set(label, rowid);
    }
    return out;
  }

  /**
   * Allocate `count` consecutive vector labels; returns the first. Persisted in meta.next_label
   * (never reused, always above every stored label).
   */
  nextLabel(count = 1): number {
    if (!Number.isInteger(count) || count < 1) throw new RangeError("nextLabel count must be a positive integer");
    return this.transaction(() => {
      const stored = this.getMeta<number>("next_label");
      const maxUsed = this.stmt("SELECT max(label) FROM passages").pluck().get() as number | null;
      const first = Math.max(stored ?? 0, maxUsed === null ? 0 : maxUsed + 1);
      if (first + count - 1 > MAX_LABEL) throw new RangeError("Vector labels exhausted (uint32); rebuild with `paperhound reindex`");
      this.setMeta("next_label", first + count);
      return first;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Meta

  getMeta<T = unknown>(key: string): T | undefined {
    const raw = this.stmt("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined;
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  /** Store a JSON value; `undefined` deletes the key. */
  setMeta(key: string, value: unknown): void {
    if (value === undefined) {
      this.stmt("DELETE FROM meta WHERE key = ?").run(key);
      return;
    }
    this.stmt("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
      key,
      JSON.stringify(value),
    );
  }

  getModelFingerprint(): ModelFingerprint | undefined {
    return this.getMeta<ModelFingerprint>("model_fingerprint");
  }

  setModelFingerprint(fp: ModelFingerprint): void {
    this.setMeta("model_fingerprint", { modelId: fp.modelId, dim: fp.dim, checksum: fp.checksum });
  }

  /** The index generation last committed (0 before any). */
  indexGeneration(): number {
    return this.getMeta<number>("index_generation") ?? 0;
  }

  // -------------------------------------------------------------------------------------------
  // Search

  /**
   * BM25 over title and abstract (title weighted higher), best first, higher score = better. The
   * query is reduced to its terms (text-analysis.ts: words, stop words dropped, stemmed), any of
   * which may match; a query with no usable terms returns [].
   */
  bm25Search(query: string, k: number, filters?: SearchFilters): ScoredPaper[] {
    const terms = queryTerms(query, MAX_QUERY_TERMS);
    if (terms.length === 0) return [];
    const ids = this.termIdsOf(terms);
    return this.bm25SearchTerms(
      terms.filter((t) => ids.has(t)).map((t) => ({ id: ids.get(t)! })),
      k,
      filters,
    );
  }

  /** BM25 for term ids (see bm25Search); filters are applied exactly, however narrow. */
  bm25SearchTerms(terms: readonly QueryTerm[], k: number, filters?: SearchFilters): ScoredPaper[] {
    const limit = Math.floor(k);
    if (!(limit > 0) || terms.length === 0) return [];
    if (hasFilters(filters)) filterSql(filters); // bad dates fail before any work
    const index = this.fullTextIndex();
    if (!hasFilters(filters)) return index.search(terms, limit);
    // The best unfiltered matches usually hold enough that pass; when not (a narrow filter), the
    // search runs again over exactly the papers that pass.
    const wide = Math.max(limit * 10, 1000);
    const first = index.search(terms, wide);
    const passing = this.filterRowids(first.map((h) => h.rowid), filters);
    const kept = first.filter((h) => passing.has(h.rowid));
    if (kept.length >= limit || first.length < wide) return kept.slice(0, limit);
    const allowed = this.rowidsPassing(filters);
    return index.search(terms, limit, (rowid) => allowed.has(rowid));
  }

  /**
   * The terms that best describe a stored paper for finding similar ones ("more like this"): its
   * `max` terms of highest weighted tf × idf, rare terms first, leaving out terms in more than
   * `maxDocShare` of all papers (as Lucene's MoreLikeThis does).
   */
  describingTerms(rowid: number, max: number, maxDocShare = 1): QueryTerm[] {
    const data = this.termDataOf(rowid);
    if (!data) return [];
    const index = this.fullTextIndex();
    const w = this.weights;
    const maxDocs = maxDocShare * index.docCount;
    return data.ids
      .map((id, i) => ({ id, score: (w.title * data.tfTitle[i]! + w.abstract * data.tfAbstract[i]!) * index.idf(id) }))
      .filter((t) => t.score > 0 && index.documentFrequency(t.id) <= maxDocs)
      .sort((a, b) => b.score - a.score || a.id - b.id)
      .slice(0, Math.max(0, Math.floor(max)))
      .map((t) => ({ id: t.id }));
  }

  /** A paper's stored term counts (undefined for an unknown row id). */
  termDataOf(rowid: number): TermData | undefined {
    const blob = this.stmt("SELECT data FROM paper_terms WHERE paper_rowid = ?").pluck().get(rowid) as Buffer | undefined;
    return blob ? decodeTermData(blob) : undefined;
  }

  /** Ids of known terms (terms no paper contains are absent). */
  termIdsOf(terms: readonly string[]): Map<string, number> {
    const lookup = this.stmt("SELECT id FROM terms WHERE term = ?").pluck();
    const out = new Map<string, number>();
    for (const t of terms) {
      const id = lookup.get(t) as number | undefined;
      if (id !== undefined) out.set(t, id);
    }
    return out;
  }

  /**
   * The in-memory BM25 index over every paper, up to date with the papers' text (here or through
   * another connection). Made once from the saved file when there is a usable one, else built from
   * every paper's term data (140k papers: see docs/benchmarks.md); after that, papers whose text
   * changed are merged in (Bm25Index.withChanges) rather than the whole index rebuilt.
   */
  fullTextIndex(): Bm25Index {
    const version = this.papersVersion();
    if (this.fullText?.version === version) return this.fullText.index;
    const started = performance.now();
    // One read transaction: the changes read and the seq they reach come from one state of the file.
    const next = this.db.transaction((): { index: Bm25Index; seq: number; from: FullTextLoad["from"]; merged: number } => {
      if (this.schemaVersion < 3) return { index: this.buildFullText(), seq: 0, from: "store", merged: 0 };
      const saved = this.fullText ? undefined : this.savedFullText();
      const base = this.fullText ?? saved;
      if (!base) return { index: this.buildFullText(), seq: this.termSeq(), from: "store", merged: 0 };
      const changed = this.stmt("SELECT paper_rowid, data, seq FROM paper_terms WHERE seq > ? ORDER BY paper_rowid").raw().all(base.seq) as [number, Buffer, number][];
      let seq = base.seq;
      for (const row of changed) seq = Math.max(seq, row[2]);
      const index = base.index.withChanges(changed.map(([rowid, data]) => ({ rowid, data })));
      return { index, seq, from: saved ? "file" : "memory", merged: changed.length };
    })();
    this.fullText = { index: next.index, seq: next.seq, version };
    this.fullTextLoad = { from: next.from, merged: next.merged, ms: performance.now() - started };
    return next.index;
  }

  private buildFullText(): Bm25Index {
    const rows = this.stmt("SELECT paper_rowid, data FROM paper_terms ORDER BY paper_rowid").raw().iterate() as IterableIterator<[number, Buffer]>;
    const documents = (function* () {
      for (const [rowid, data] of rows) yield { rowid, data };
    })();
    return Bm25Index.build(documents, { titleWeight: this.weights.title, abstractWeight: this.weights.abstract });
  }

  /** The last term-data change (0 when none). */
  private termSeq(): number {
    return (this.stmt("SELECT max(seq) FROM paper_terms").pluck().get() as number | null) ?? 0;
  }

  /** This store's id, which a saved BM25 file must name. */
  private storeId(): string | undefined {
    return this.getMeta<string>("store_id");
  }

  /**
   * The saved BM25 index when it belongs to this store as it is: same store id and weights, a seq
   * the store has reached, and as many papers as the store held at that seq. Anything else (no file,
   * a damaged one, a store restored to an older state) → undefined, and the caller rebuilds.
   */
  private savedFullText(): { index: Bm25Index; seq: number } | undefined {
    if (!this.bm25File) return undefined;
    const lastSeq = this.termSeq();
    let saved: ReturnType<typeof readBm25File>;
    try {
      // The header first: a file of another store or state is not read whole (730 MB at 1M papers).
      if (!this.fileFitsStore(readBm25FileHeader(this.bm25File), lastSeq)) return undefined;
      saved = readBm25File(this.bm25File);
    } catch (err) {
      if (err instanceof Bm25FileError) return undefined;
      throw err;
    }
    // Checked again: a writer may have replaced the file between the two reads.
    if (!saved || !this.fileFitsStore(saved.header, lastSeq)) return undefined;
    const { header, index } = saved;
    // Papers are never deleted: the file's papers are those with seq ≤ its seq plus those changed since that it holds.
    const unchanged = this.stmt("SELECT count(*) FROM paper_terms WHERE seq <= ?").pluck().get(header.seq) as number;
    const changedSince = this.stmt("SELECT paper_rowid FROM paper_terms WHERE seq > ?").pluck().all(header.seq) as number[];
    const held = changedSince.filter((rowid) => index.hasRowid(rowid)).length;
    if (unchanged + held !== index.docCount) return undefined;
    return { index, seq: header.seq };
  }

  /** Whether a BM25 file's header names this store, its weights, and a seq the store has reached (`seq`: its last). */
  private fileFitsStore(header: Bm25FileHeader | undefined, seq: number): header is Bm25FileHeader {
    return (
      header !== undefined &&
      header.storeId === this.storeId() &&
      header.seq <= seq &&
      header.titleWeight === this.weights.title &&
      header.abstractWeight === this.weights.abstract
    );
  }

  /**
   * Writable stores with a BM25 file: saves the BM25 index when there is no usable file or the file
   * lacks more than `BM25_SAVE_SHARE` of the papers (at least `BM25_SAVE_MIN`): each save rewrites the
   * whole file (8 bytes a posting), while a reader merges the few papers changed since in a pass.
   * `force`: save whenever the file lacks any change. The file is a cache of the store: a save that
   * fails (a full disk) leaves the previous file, which readers bring up to date from the store; the
   * error is returned for the caller to report, not thrown.
   */
  async saveFullTextIndex(opts: { force?: boolean } = {}): Promise<Error | undefined> {
    if (this.readonly || !this.bm25File || this.schemaVersion < 3) return undefined;
    try {
      for (const stale of staleTempsOf(this.bm25File)) fs.rmSync(stale, { force: true });
      const seq = this.termSeq();
      const storeId = this.storeId()!;
      let onDisk: Bm25FileHeader | undefined;
      try {
        onDisk = readBm25FileHeader(this.bm25File);
      } catch (err) {
        if (!(err instanceof Bm25FileError)) throw err;
      }
      if (onDisk && this.fileFitsStore(onDisk, seq)) {
        const unsaved = this.stmt("SELECT count(*) FROM paper_terms WHERE seq > ?").pluck().get(onDisk.seq) as number;
        if (unsaved === 0) return undefined;
        if (!opts.force && unsaved < Math.max(BM25_SAVE_MIN, BM25_SAVE_SHARE * this.paperCountHint())) return undefined;
      }
      const index = this.fullTextIndex();
      await writeBm25File(this.bm25File, index, { storeId, seq: this.fullText!.seq });
      return undefined;
    } catch (err) {
      if (typeof (err as NodeJS.ErrnoException).code === "string") return err as Error;
      throw err;
    }
  }

  private writeTermData(rowid: number, title: string, abstract: string): void {
    const data = paperTermData(title, abstract, (term) => this.termId(term));
    // The next seq: a saved BM25 index merges the papers written after the seq it holds.
    this.stmt(
      "INSERT INTO paper_terms(paper_rowid, data, seq) VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM paper_terms)) " +
        "ON CONFLICT(paper_rowid) DO UPDATE SET data = excluded.data, seq = excluded.seq",
    ).run(rowid, encodeTermData(data));
    this.termWrites += 1;
  }

  /** The id of a term, added to the dictionary when new (inside the caller's transaction). */
  private termId(term: string): number {
    if (!this.termIdCache) {
      this.termIdCache = new Map();
      for (const row of this.stmt("SELECT term, id FROM terms").raw().iterate()) {
        const [t, id] = row as [string, number];
        this.termIdCache.set(t, id);
      }
    }
    let id = this.termIdCache.get(term);
    if (id === undefined) {
      id = Number(this.stmt("INSERT INTO terms(term) VALUES (?)").run(term).lastInsertRowid);
      this.termIdCache.set(term, id);
    }
    return id;
  }

  /** Row ids of every paper passing `filters`. */
  private rowidsPassing(filters: SearchFilters | undefined): Set<number> {
    const { where, params } = filterSql(filters);
    const sql = `SELECT p.rowid FROM papers p${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}`;
    return new Set(this.stmt(sql).pluck().all(...params) as number[]);
  }

  /** The subset of `rowids` whose papers pass `filters` (all of them when there are no filters). */
  filterRowids(rowids: readonly number[], filters: SearchFilters | undefined): Set<number> {
    if (!hasFilters(filters)) return new Set(rowids);
    if (rowids.length === 0) return new Set();
    const { where, params } = filterSql(filters);
    const sql = `SELECT p.rowid FROM papers p WHERE p.rowid IN (SELECT value FROM json_each(?))${where.map((w) => ` AND ${w}`).join("")}`;
    return new Set(this.stmt(sql).pluck().all(JSON.stringify(rowids), ...params) as number[]);
  }

  /** The same rules as the SQL filters, on a paper in memory. */
  matchesFilters(paper: Paper, filters: SearchFilters | undefined): boolean {
    return matchesFilters(paper, filters);
  }

  /**
   * Title lookup for /related. `exact` when exactly one paper has the same title ignoring case,
   * whitespace, punctuation and diacritics. Otherwise (or additionally, when several share it)
   * `close`: candidates from a trigram index of normalised titles, scored by character-trigram Dice,
   * above `threshold`, best first.
   */
  findByTitle(title: string, opts: FindByTitleOptions = {}): TitleLookup {
    const threshold = opts.threshold ?? 0.5;
    const limit = opts.limit ?? 5;
    const key = titleKey(title);
    if (key === "") return { close: [] };
    const exactRows = this.stmt("SELECT * FROM papers WHERE title_key = ? ORDER BY rowid").all(key) as PaperRow[];
    if (exactRows.length === 1) return { exact: rowToPaper(exactRows[0]!), close: [] };
    const scored = new Map<number, TitleMatch>();
    for (const row of exactRows) scored.set(row.rowid, { paper: rowToPaper(row), similarity: 1 });

    // Candidates: papers sharing the most title trigrams (BM25 over an FTS5 trigram index of
    // title_key), so a typo anywhere in a word still finds the paper. Trigrams hold only letters,
    // digits and spaces, so quoting them is safe.
    const grams = [...new Set(trigrams(key))].slice(0, MAX_QUERY_TERMS);
    if (grams.length > 0) {
      const rows = this.stmt(
        "SELECT p.* FROM papers_title_tri t JOIN papers p ON p.rowid = t.rowid WHERE papers_title_tri MATCH ? ORDER BY bm25(papers_title_tri) LIMIT 100",
      ).all(grams.map((g) => `"${g}"`).join(" OR ")) as PaperRow[];
      for (const row of rows) {
        if (scored.has(row.rowid)) continue;
        const similarity = trigramDice(key, row.title_key);
        if (similarity >= threshold) scored.set(row.rowid, { paper: rowToPaper(row), similarity });
      }
    }
    const close = [...scored.values()].sort((a, b) => b.similarity - a.similarity || a.paper.rowid - b.paper.rowid).slice(0, limit);
    return { close };
  }

  // -------------------------------------------------------------------------------------------
  // Maintenance

  stats(topCategories = 10): StoreStats {
    const one = (sql: string) => this.stmt(sql).pluck().get() as number;
    let bytesOnDisk = 0;
    if (this.file !== ":memory:") {
      for (const suffix of ["", "-wal"]) {
        try {
          bytesOnDisk += fs.statSync(this.file + suffix).size;
        } catch {
          // no WAL right now
        }
      }
    }
    const pending = this.pendingCount();
    const papers = this.count();
    return {
      file: this.file,
      schemaVersion: this.getMeta<number>("schema_version") ?? 0,
      papers,
      passages: one("SELECT count(*) FROM passages"),
      embedded: papers - pending,
      pending,
      bytesOnDisk,
      indexGeneration: this.indexGeneration(),
      topCategories: this.stmt(
        "SELECT primary_category AS category, count(*) AS count FROM papers WHERE primary_category IS NOT NULL " +
          "GROUP BY primary_category ORDER BY count DESC, category LIMIT ?",
      ).all(topCategories) as { category: string; count: number }[],
    };
  }

  /**
   * `PRAGMA quick_check`, foreign keys, every paper's term data, and the title trigram index's
   * consistency with the papers table (that check needs write access and is skipped read-only). Throws StoreCorruptError; returns the checks run.
   */
  integrityCheck(): { checks: string[] } {
    const checks: string[] = [];
    try {
      const problems = (this.db.prepare("PRAGMA quick_check").pluck().all() as string[]).filter((r) => r !== "ok");
      if (problems.length > 0) throw new StoreCorruptError(this.file, `quick_check: ${problems.slice(0, 5).join("; ")}`);
      checks.push("quick_check");
      const fk = this.db.prepare("PRAGMA foreign_key_check").all();
      if (fk.length > 0) throw new StoreCorruptError(this.file, `${fk.length} passage rows point at missing papers`);
      checks.push("foreign_key_check");
      const missingTerms = this.db.prepare("SELECT count(*) FROM papers p WHERE NOT EXISTS (SELECT 1 FROM paper_terms t WHERE t.paper_rowid = p.rowid)").pluck().get() as number;
      if (missingTerms > 0) throw new StoreCorruptError(this.file, `${missingTerms} papers have no full-text term data`);
      try {
        const scratch = new TermDataScratch();
        for (const blob of this.db.prepare("SELECT data FROM paper_terms").pluck().iterate()) decodeTermDataInto(blob as Buffer, scratch);
      } catch (e) {
        if (e instanceof TermDataError) throw new StoreCorruptError(this.file, `full-text term data is damaged (${e.message})`, { cause: e });
        throw e;
      }
      checks.push("term_data_check");
      if (!this.readonly) {
        try {
          this.db.prepare("INSERT INTO papers_title_tri(papers_title_tri, rank) VALUES ('integrity-check', 1)").run();
        } catch (e) {
          throw new StoreCorruptError(this.file, `full-text index out of sync with papers (${(e as Error).message})`, { cause: e });
        }
        checks.push("fts_integrity_check");
      }
    } catch (e) {
      if (e instanceof StoreCorruptError) throw e;
      if (isCorruptionError(e)) throw new StoreCorruptError(this.file, (e as Error).message, { cause: e });
      throw e;
    }
    return { checks };
  }
}
