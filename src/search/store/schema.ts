/**
 * The store's schema, its migrations (each version to the next, run in a transaction on open), and
 * a look at a file's SQLite header before SQLite opens it.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { encodeTermData, paperTermData } from "../text-analysis.js";
import { StoreCorruptError } from "./errors.js";
import type { SqliteDatabase } from "./sqlite.js";

const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE papers (
  rowid            INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE,
  version          INTEGER,
  title            TEXT NOT NULL,
  abstract         TEXT NOT NULL,
  title_key        TEXT NOT NULL,
  authors          TEXT NOT NULL DEFAULT '[]',
  categories       TEXT NOT NULL DEFAULT '[]',
  primary_category TEXT,
  published        TEXT,
  updated          TEXT,
  links            TEXT NOT NULL DEFAULT '{}',
  doi              TEXT,
  comment          TEXT,
  source           TEXT NOT NULL,
  trending         TEXT,
  content_hash     TEXT NOT NULL,
  embedded_hash    TEXT,
  added_at         TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX papers_published ON papers(published);
CREATE INDEX papers_primary_category ON papers(primary_category, published);
CREATE INDEX papers_title_key ON papers(title_key);
CREATE INDEX papers_pending ON papers(rowid) WHERE embedded_hash IS NULL OR embedded_hash <> content_hash;

CREATE VIRTUAL TABLE papers_fts USING fts5(
  title, abstract,
  content='papers', content_rowid='rowid',
  tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
  INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.rowid, new.title, new.abstract);
END;
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
  INSERT INTO papers_fts(papers_fts, rowid, title, abstract) VALUES ('delete', old.rowid, old.title, old.abstract);
END;
CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract ON papers
WHEN old.title IS NOT new.title OR old.abstract IS NOT new.abstract BEGIN
  INSERT INTO papers_fts(papers_fts, rowid, title, abstract) VALUES ('delete', old.rowid, old.title, old.abstract);
  INSERT INTO papers_fts(rowid, title, abstract) VALUES (new.rowid, new.title, new.abstract);
END;

-- Character trigrams of the normalised title: candidates for fuzzy /related title lookups.
CREATE VIRTUAL TABLE papers_title_tri USING fts5(
  title_key,
  content='papers', content_rowid='rowid',
  tokenize='trigram'
);
CREATE TRIGGER papers_title_tri_insert AFTER INSERT ON papers BEGIN
  INSERT INTO papers_title_tri(rowid, title_key) VALUES (new.rowid, new.title_key);
END;
CREATE TRIGGER papers_title_tri_delete AFTER DELETE ON papers BEGIN
  INSERT INTO papers_title_tri(papers_title_tri, rowid, title_key) VALUES ('delete', old.rowid, old.title_key);
END;
CREATE TRIGGER papers_title_tri_update AFTER UPDATE OF title_key ON papers
WHEN old.title_key IS NOT new.title_key BEGIN
  INSERT INTO papers_title_tri(papers_title_tri, rowid, title_key) VALUES ('delete', old.rowid, old.title_key);
  INSERT INTO papers_title_tri(rowid, title_key) VALUES (new.rowid, new.title_key);
END;

CREATE TABLE passages (
  label       INTEGER PRIMARY KEY,
  paper_rowid INTEGER NOT NULL REFERENCES papers(rowid) ON DELETE CASCADE,
  ord         INTEGER NOT NULL,
  generation  INTEGER NOT NULL
);
CREATE UNIQUE INDEX passages_paper ON passages(paper_rowid, ord);
`;

/**
 * Version 2: BM25 moves from FTS5 into memory (bm25-index.ts). The store keeps what rebuilds it
 * without re-reading text: a term dictionary and each paper's term counts (text-analysis.ts),
 * written in the same transaction as the paper.
 */
const SCHEMA_V2 = `
DROP TRIGGER IF EXISTS papers_fts_insert;
DROP TRIGGER IF EXISTS papers_fts_delete;
DROP TRIGGER IF EXISTS papers_fts_update;
DROP TABLE IF EXISTS papers_fts;
CREATE TABLE terms (
  id   INTEGER PRIMARY KEY,
  term TEXT NOT NULL UNIQUE
);
CREATE TABLE paper_terms (
  paper_rowid INTEGER PRIMARY KEY REFERENCES papers(rowid) ON DELETE CASCADE,
  data        BLOB NOT NULL
);
`;

/**
 * Version 3: the in-memory BM25 index is saved beside the store (bm25-file.ts) and brought up to date
 * from the papers changed since: each term-data write takes the next `seq`, and the store gets an id
 * that a saved file names (a file from another store is never merged into this one).
 */
const SCHEMA_V3 = `
ALTER TABLE paper_terms ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX paper_terms_seq ON paper_terms(seq);
`;

/**
 * Migration hook: MIGRATIONS[n] brings a store at schema n-1 to schema n (run in one transaction, in
 * order). MIGRATIONS[1] creates a fresh store. Add MIGRATIONS[2] etc. and bump SCHEMA_VERSION.
 */
export const MIGRATIONS: Record<number, (db: SqliteDatabase) => void> = {
  1: (db) => {
    db.exec(SCHEMA_V1);
  },
  2: (db) => {
    db.exec(SCHEMA_V2);
    // Existing papers get their term data now (140k arXiv papers: about a minute, once).
    const ids = new Map<string, number>();
    const insertTerm = db.prepare("INSERT INTO terms(term) VALUES (?)");
    const idOf = (term: string): number => {
      let id = ids.get(term);
      if (id === undefined) {
        id = Number(insertTerm.run(term).lastInsertRowid);
        ids.set(term, id);
      }
      return id;
    };
    const write = db.prepare("INSERT INTO paper_terms(paper_rowid, data) VALUES (?, ?)");
    const rows = db.prepare("SELECT rowid, title, abstract FROM papers ORDER BY rowid").raw().all() as [number, string, string][];
    for (const [rowid, title, abstract] of rows) write.run(rowid, encodeTermData(paperTermData(title, abstract, idOf)));
  },
  3: (db) => {
    db.exec(SCHEMA_V3);
    db.prepare("INSERT INTO meta(key, value) VALUES ('store_id', ?) ON CONFLICT(key) DO NOTHING").run(JSON.stringify(randomUUID()));
  },
};

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/**
 * Look at an existing file before SQLite does: not a SQLite header → corrupt; shorter than the page
 * count its header declares (and no WAL/journal that could explain it) → truncated. Read-only.
 */
export function checkFileHeader(file: string): void {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return; // does not exist: a new store
  }
  if (size === 0) return; // SQLite treats an empty file as an empty database
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, "r");
  let n: number;
  try {
    n = fs.readSync(fd, header, 0, 100, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (n < 100 || !header.subarray(0, 16).equals(SQLITE_MAGIC)) {
    throw new StoreCorruptError(file, n < 100 ? `only ${size} bytes, shorter than a SQLite header` : "not a SQLite database (bad header)");
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) throw new StoreCorruptError(file, `invalid page size ${rawPageSize} in header`);
  const changeCounter = header.readUInt32BE(24);
  const pages = header.readUInt32BE(28);
  const validFor = header.readUInt32BE(92);
  const sidecarHasData = (suffix: string) => {
    try {
      return fs.statSync(file + suffix).size > 0;
    } catch {
      return false;
    }
  };
  if (pages > 0 && changeCounter === validFor && !sidecarHasData("-wal") && !sidecarHasData("-journal")) {
    if (size < pages * pageSize) {
      throw new StoreCorruptError(file, `truncated: ${size} bytes but its header declares ${pages} pages of ${pageSize} bytes`);
    }
  }
}
