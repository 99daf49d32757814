/**
 * Title completion for /related's `paper` option, fast enough to run on every keystroke of a
 * 140k-paper index. The store's `findByTitle` (fuzzy: trigram Dice over the candidates sharing any
 * trigram) takes 300-500 ms there and blocks the event loop; autocompletion does not need typo
 * tolerance, so this looks titles up by what the user typed, on the same normalised titles
 * (`title_key`) and trigram index (`papers_title_tri`) through its own read-only connection:
 *   1. titles starting with the typed text (a range scan of the title_key index),
 *   2. titles containing it (an FTS5 trigram phrase query: a substring match),
 *   3. titles containing every typed word, in any order (words of 3+ characters);
 * and for an arXiv id being typed ("2401.006"), the ids starting with it (newest first).
 * Measured on the 140k index: see docs/discord.md.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { STORE_FILE } from "../src/search/paper-index.js";
import { titleKey } from "../src/search/store/titles.js";

export interface TitleHit {
  id: string;
  title: string;
}

// better-sqlite3 ships no types: the part used here (as src/search/paper-store.ts does).
interface Statement {
  all(...params: unknown[]): unknown[];
}
interface Db {
  prepare(sql: string): Statement;
  close(): unknown;
}
const Database = createRequire(import.meta.url)("better-sqlite3") as new (file: string, options: { readonly: boolean; fileMustExist: boolean; timeout: number }) => Db;

/** An arXiv id being typed: "2401.0", "2401.00631", "hep-th/99". */
const ID_PREFIX = /^(?:\d{4}\.\d{0,5}|[a-z-]+(?:\.[a-z]{2})?\/\d{0,7})$/i;

export class TitleLookup {
  private readonly db: Db;
  private readonly prefixStmt: Statement;
  private readonly matchStmt: Statement;
  private readonly idStmt: Statement;

  constructor(dir: string) {
    this.db = new Database(path.join(dir, STORE_FILE), { readonly: true, fileMustExist: true, timeout: 2000 });
    this.prefixStmt = this.db.prepare("SELECT id, title FROM papers WHERE title_key >= ? AND title_key < ? ORDER BY title_key LIMIT ?");
    this.idStmt = this.db.prepare("SELECT id, title FROM papers WHERE id >= ? AND id < ? ORDER BY id DESC LIMIT ?");
    this.matchStmt = this.db.prepare(
      "SELECT p.id, p.title, p.title_key FROM papers_title_tri t JOIN papers p ON p.rowid = t.rowid WHERE papers_title_tri MATCH ? LIMIT ?",
    );
  }

  /** At most `limit` titles for the typed text, best first; [] for text under 3 characters. */
  complete(text: string, limit = 25): TitleHit[] {
    const typed = text.trim();
    if (ID_PREFIX.test(typed) && typed.length >= 6) {
      return this.idStmt.all(typed.toLowerCase(), `${typed.toLowerCase()}\u{10FFFF}`, limit) as TitleHit[];
    }
    const key = titleKey(text).slice(0, 200);
    if ([...key].length < 3) return [];
    const out = new Map<string, TitleHit>();
    const add = (rows: TitleHit[]) => {
      for (const r of rows) if (out.size < limit && !out.has(r.id)) out.set(r.id, { id: r.id, title: r.title });
    };
    add(this.prefixStmt.all(key, `${key}\u{10FFFF}`, limit) as TitleHit[]);
    if (out.size < limit) {
      // Substring matches; a prefix of a word ranks before a match inside a word, shorter titles first.
      const rows = this.matchStmt.all(`"${key}"`, 500) as (TitleHit & { title_key: string })[];
      const starts = (k: string) => (k.startsWith(key) ? 0 : k.includes(` ${key}`) ? 1 : 2);
      rows.sort((a, b) => starts(a.title_key) - starts(b.title_key) || a.title_key.length - b.title_key.length);
      add(rows);
    }
    const words = [...new Set(key.split(" ").filter((w) => [...w].length >= 3))];
    if (out.size < limit && words.length > 1) {
      const rows = this.matchStmt.all(words.map((w) => `"${w}"`).join(" AND "), 500) as (TitleHit & { title_key: string })[];
      rows.sort((a, b) => a.title_key.length - b.title_key.length);
      add(rows);
    }
    return [...out.values()];
  }

  close(): void {
    this.db.close();
  }
}

const lookups = new Map<string, TitleLookup>();

/** One lookup per index directory, opened on first use and kept (read-only, cheap). */
export function titleLookupFor(dir: string): TitleLookup {
  let l = lookups.get(dir);
  if (!l) lookups.set(dir, (l = new TitleLookup(dir)));
  return l;
}

/** Closes the lookup of `dir` (or all). */
export function closeTitleLookups(dir?: string): void {
  for (const [d, l] of lookups) {
    if (dir === undefined || d === dir) {
      l.close();
      lookups.delete(d);
    }
  }
}
