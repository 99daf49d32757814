/**
 * Each chat channel's library: the papers its members saved (or imported), who saved each and when.
 * Kept in `digest.sqlite` beside the digest's state (the digest store opens it; backups, restores
 * and integrity checks already cover that file). Each entry keeps a copy of the paper's citation
 * data, so an export does not depend on the paper staying in the index.
 */
import type { SqliteDatabase } from "../search/store/sqlite.js";

/** What a library keeps of a paper: enough to cite it. */
export interface LibraryPaper {
  /** Canonical id: an arXiv id, or a namespaced one (listing:…, doi:…). */
  id: string;
  title: string;
  authors: string[];
  /** YYYY-MM-DD when known. */
  published?: string;
  categories: string[];
  doi?: string;
  url?: string;
}

export interface LibraryEntry {
  paper: LibraryPaper;
  /** Who saved it ("discord:123 (ana)", "cli"); empty when unknown. */
  savedBy: string;
  /** ISO time. */
  savedAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS library (
  channel  TEXT NOT NULL,
  paper_id TEXT NOT NULL,
  paper    TEXT NOT NULL,
  -- What a filter looks in: id, title and authors.
  search   TEXT NOT NULL,
  saved_by TEXT NOT NULL,
  saved_at TEXT NOT NULL,
  PRIMARY KEY (channel, paper_id)
);
CREATE INDEX IF NOT EXISTS library_newest ON library(channel, saved_at);
`;

interface Row {
  paper: string;
  saved_by: string;
  saved_at: string;
}

const entryOf = (r: Row): LibraryEntry => ({ paper: JSON.parse(r.paper) as LibraryPaper, savedBy: r.saved_by, savedAt: r.saved_at });

/** `%` and `_` are wildcards in LIKE: a filter means the text as typed. */
const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class LibraryStore {
  constructor(private readonly db: SqliteDatabase) {
    db.exec(SCHEMA);
  }

  /** Adds a paper; a paper already in the channel's library stays as it was (first saver and time). */
  save(channel: string, paper: LibraryPaper, savedBy: string, now: Date): { added: boolean; entry: LibraryEntry } {
    return this.db.transaction(() => {
      const added = this.insert(channel, paper, savedBy, now);
      return { added, entry: this.entry(channel, paper.id)! };
    })();
  }

  /** Adds papers in one transaction (an import): how many were new; those already there stay as they were. */
  saveMany(channel: string, papers: readonly LibraryPaper[], savedBy: string, now: Date): number {
    return this.db.transaction(() => papers.filter((p) => this.insert(channel, p, savedBy, now)).length)();
  }

  /** Whether the paper was new to the channel's library. */
  private insert(channel: string, paper: LibraryPaper, savedBy: string, now: Date): boolean {
    const info = this.db
      .prepare("INSERT OR IGNORE INTO library (channel, paper_id, paper, search, saved_by, saved_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(channel, paper.id, JSON.stringify(paper), [paper.id, paper.title, ...paper.authors].join("\n"), savedBy, now.toISOString());
    return info.changes > 0;
  }

  entry(channel: string, paperId: string): LibraryEntry | undefined {
    const row = this.db.prepare("SELECT paper, saved_by, saved_at FROM library WHERE channel = ? AND paper_id = ?").get(channel, paperId) as Row | undefined;
    return row ? entryOf(row) : undefined;
  }

  /** Takes a paper out; the entry it was, or undefined when the library did not hold it. */
  remove(channel: string, paperId: string): LibraryEntry | undefined {
    return this.db.transaction(() => {
      const entry = this.entry(channel, paperId);
      if (entry) this.db.prepare("DELETE FROM library WHERE channel = ? AND paper_id = ?").run(channel, paperId);
      return entry;
    })();
  }

  /**
   * Newest first, `limit` from `offset`; `filter` keeps entries whose title, authors or id contain
   * it (any case). `total` counts every match.
   */
  list(channel: string, opts: { filter?: string; offset?: number; limit?: number } = {}): { entries: LibraryEntry[]; total: number } {
    const where = opts.filter ? "channel = ? AND search LIKE ? ESCAPE '\\'" : "channel = ?";
    const params = opts.filter ? [channel, likePattern(opts.filter)] : [channel];
    const total = this.db.prepare(`SELECT count(*) FROM library WHERE ${where}`).pluck().get(...params) as number;
    const rows = this.db
      .prepare(`SELECT paper, saved_by, saved_at FROM library WHERE ${where} ORDER BY saved_at DESC, rowid DESC LIMIT ? OFFSET ?`)
      .all(...params, opts.limit ?? -1, opts.offset ?? 0) as Row[];
    return { entries: rows.map(entryOf), total };
  }

  count(channel: string): number {
    return this.db.prepare("SELECT count(*) FROM library WHERE channel = ?").pluck().get(channel) as number;
  }
}
