/**
 * Papers as rows: the columns, a row back to a StoredPaper, checking a paper before it is written,
 * and merging a paper that arrives again (from another source) into its row.
 */
import { createHash } from "node:crypto";
import type { Paper, PaperLinks, TrendingSignals } from "../../papers/types.js";
import type { StoredPaper, UpsertOutcome } from "../types.js";
import { titleKey } from "./titles.js";

/** sha256 hex of title + "\n" + abstract, each NFC-normalised, trimmed and whitespace-collapsed. */
export function contentHash(title: string, abstract: string): string {
  const norm = (s: string) => s.normalize("NFC").replace(/\s+/gu, " ").trim();
  return createHash("sha256").update(`${norm(title)}\n${norm(abstract)}`).digest("hex");
}

export interface PaperRow {
  rowid: number;
  id: string;
  version: number | null;
  title: string;
  abstract: string;
  title_key: string;
  authors: string;
  categories: string;
  primary_category: string | null;
  published: string | null;
  updated: string | null;
  links: string;
  doi: string | null;
  comment: string | null;
  source: string;
  trending: string | null;
  content_hash: string;
  embedded_hash: string | null;
  added_at: string;
  updated_at: string;
}

/** The columns an upsert writes (everything but rowid, embedded_hash and timestamps). */
export type PaperValues = Omit<PaperRow, "rowid" | "embedded_hash" | "added_at" | "updated_at">;
export const VALUE_COLUMNS: (keyof PaperValues)[] = [
  "id",
  "version",
  "title",
  "abstract",
  "title_key",
  "authors",
  "categories",
  "primary_category",
  "published",
  "updated",
  "links",
  "doi",
  "comment",
  "source",
  "trending",
  "content_hash",
];

/** JSON with object keys sorted and undefined/null members dropped, so equal content compares equal. */
function canonicalObject(obj: object | undefined): Record<string, unknown> | undefined {
  if (!obj) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) {
    const v = (obj as Record<string, unknown>)[key];
    if (v !== undefined && v !== null && v !== "") out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function rowToPaper(row: PaperRow): StoredPaper {
  const p: StoredPaper = {
    rowid: row.rowid,
    id: row.id,
    title: row.title,
    abstract: row.abstract,
    authors: JSON.parse(row.authors) as string[],
    categories: JSON.parse(row.categories) as string[],
    links: JSON.parse(row.links) as PaperLinks,
    source: row.source,
    contentHash: row.content_hash,
  };
  if (row.version !== null) p.version = row.version;
  if (row.published !== null) p.published = row.published;
  if (row.updated !== null) p.updated = row.updated;
  if (row.doi !== null) p.doi = row.doi;
  if (row.comment !== null) p.comment = row.comment;
  if (row.trending !== null) p.trending = JSON.parse(row.trending) as TrendingSignals;
  if (row.embedded_hash !== null) p.embeddedHash = row.embedded_hash;
  return p;
}

export function validatePaper(p: Paper, index: number): void {
  const where = `paper #${index}${typeof p?.id === "string" ? ` (${p.id})` : ""}`;
  if (!p || typeof p !== "object") throw new TypeError(`Cannot store ${where}: not an object`);
  if (typeof p.id !== "string" || p.id.trim() === "") throw new TypeError(`Cannot store ${where}: id must be a non-empty string`);
  if (typeof p.title !== "string") throw new TypeError(`Cannot store ${where}: title must be a string`);
  if (typeof p.abstract !== "string") throw new TypeError(`Cannot store ${where}: abstract must be a string`);
  if (!Array.isArray(p.authors) || p.authors.some((a) => typeof a !== "string")) {
    throw new TypeError(`Cannot store ${where}: authors must be an array of strings`);
  }
  if (!Array.isArray(p.categories) || p.categories.some((c) => typeof c !== "string")) {
    throw new TypeError(`Cannot store ${where}: categories must be an array of strings`);
  }
  if (p.links !== undefined && (typeof p.links !== "object" || p.links === null)) {
    throw new TypeError(`Cannot store ${where}: links must be an object`);
  }
  if (typeof p.source !== "string") throw new TypeError(`Cannot store ${where}: source must be a string`);
  if (p.version !== undefined && (!Number.isInteger(p.version) || p.version < 1)) {
    throw new TypeError(`Cannot store ${where}: version must be a positive integer`);
  }
}

const nonEmpty = (s: string | undefined | null): s is string => typeof s === "string" && s.trim() !== "";

function uniqueStrings(list: string[]): string[] {
  const out: string[] = [];
  for (const s of list) {
    const t = s.trim();
    if (t !== "" && !out.includes(t)) out.push(t);
  }
  return out;
}

/** Values for a paper seen for the first time. */
export function valuesOf(p: Paper): PaperValues {
  const title = p.title.trim();
  const abstract = p.abstract.trim();
  const categories = uniqueStrings(p.categories);
  const trending = canonicalObject(p.trending);
  return {
    id: p.id.trim(),
    version: p.version ?? null,
    title,
    abstract,
    title_key: titleKey(title),
    authors: JSON.stringify(uniqueStrings(p.authors)),
    categories: JSON.stringify(categories),
    primary_category: categories[0] ?? null,
    published: nonEmpty(p.published) ? p.published : null,
    updated: nonEmpty(p.updated) ? p.updated : null,
    links: JSON.stringify(canonicalObject(p.links) ?? {}),
    doi: nonEmpty(p.doi) ? p.doi : null,
    comment: nonEmpty(p.comment) ? p.comment : null,
    source: p.source,
    trending: trending ? JSON.stringify(trending) : null,
    content_hash: contentHash(title, abstract),
  };
}

/**
 * Merge an incoming record into the stored one. A record for an older version than the stored one is
 * "stale": it only fills what the stored one lacks. Otherwise the incoming record wins field by field
 * where it has a value (a newer version, or a same/unknown version with different content, replaces
 * title/abstract). Nothing a source lacks erases what another source set: categories are a union
 * (the winning side's primary first), links and trending merge per key, dates keep the earliest
 * published and the latest updated, version keeps the highest.
 *
 * Sources that re-publish arXiv papers (Hugging Face daily papers): their title, abstract, authors
 * and category order never replace what an arXiv source (API, RSS, OAI, a metadata dump) gave; they
 * fill what is missing and bring trending signals and links. Otherwise the same paper seen daily on
 * both would flip between two spellings of its abstract.
 *
 * A title or abstract with more U+FFFD than the stored one (text repaired from invalid UTF-8: the
 * original characters are lost) never replaces it, whatever the version or source.
 */
const SECONDARY_SOURCES = new Set(["hf-daily"]);

/** How many U+FFFD `s` holds: what a decoder leaves for bytes that were not UTF-8. */
export function replacementChars(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\uFFFD"); i >= 0; i = s.indexOf("\uFFFD", i + 1)) n++;
  return n;
}

export function mergeValues(old: PaperRow, inc: Paper): PaperValues {
  // An older version, or a re-publisher's copy of a paper an arXiv source already gave: the stored
  // values lead and the incoming record only fills gaps.
  const stale =
    (inc.version !== undefined && old.version !== null && inc.version < old.version) ||
    (SECONDARY_SOURCES.has(inc.source) && !SECONDARY_SOURCES.has(old.source));
  const pick = <T>(incoming: T | undefined, stored: T | undefined, has: (v: T | undefined) => v is T): T | undefined => {
    if (stale) return has(stored) ? stored : has(incoming) ? incoming : undefined;
    return has(incoming) ? incoming : has(stored) ? stored : undefined;
  };
  const str = (v: string | undefined | null): v is string => nonEmpty(v);
  const arr = (v: string[] | undefined): v is string[] => Array.isArray(v) && v.length > 0;

  // Text repaired from invalid UTF-8 lost characters for good: it never replaces a better stored copy.
  const text = (incoming: string, stored: string): string => {
    const v = pick(incoming, stored, str) ?? "";
    return v !== stored && str(stored) && replacementChars(v) > replacementChars(stored) ? stored : v;
  };
  const title = text(inc.title.trim(), old.title);
  const abstract = text(inc.abstract.trim(), old.abstract);
  const contentChanged = title !== old.title || abstract !== old.abstract;
  const authors = pick(uniqueStrings(inc.authors), JSON.parse(old.authors) as string[], arr) ?? [];

  const oldCats = JSON.parse(old.categories) as string[];
  const incCats = uniqueStrings(inc.categories);
  const categories = uniqueStrings(stale ? [...oldCats, ...incCats] : [...incCats, ...oldCats]);

  const oldLinks = JSON.parse(old.links) as Record<string, unknown>;
  const incLinks = canonicalObject(inc.links) ?? {};
  const links = canonicalObject(stale ? { ...incLinks, ...oldLinks } : { ...oldLinks, ...incLinks }) ?? {};
  // Popularity signals are about "now", not about a version: the incoming record always wins per key.
  const trending = canonicalObject({ ...(old.trending ? (JSON.parse(old.trending) as object) : {}), ...(inc.trending ?? {}) });

  const dates = (a: string | null, b: string | undefined, f: (x: string, y: string) => string) =>
    nonEmpty(a) && nonEmpty(b) ? f(a, b) : nonEmpty(a) ? a : nonEmpty(b) ? b : null;
  const versions = [old.version, inc.version].filter((v): v is number => typeof v === "number");

  return {
    id: old.id,
    version: versions.length > 0 ? Math.max(...versions) : null,
    title,
    abstract,
    title_key: titleKey(title),
    authors: JSON.stringify(authors),
    categories: JSON.stringify(categories),
    primary_category: categories[0] ?? null,
    published: dates(old.published, inc.published, (x, y) => (x < y ? x : y)),
    updated: dates(old.updated, inc.updated, (x, y) => (x > y ? x : y)),
    links: JSON.stringify(links),
    doi: pick(inc.doi, old.doi ?? undefined, str) ?? null,
    comment: pick(inc.comment, old.comment ?? undefined, str) ?? null,
    // The source names where the text came from: it moves only with the title/abstract.
    source: contentChanged ? inc.source : old.source,
    trending: trending ? JSON.stringify(trending) : null,
    content_hash: contentHash(title, abstract),
  };
}

/**
 * What storing `p` does to the row `old` holds (absent: a new paper): the values to write and how
 * it counts. The one decision behind a real upsert and a dry run's counts.
 */
export function planUpsert(old: PaperRow | undefined, p: Paper): { outcome: UpsertOutcome; values: PaperValues } {
  if (!old) return { outcome: "added", values: valuesOf(p) };
  const values = mergeValues(old, p);
  return { outcome: VALUE_COLUMNS.every((c) => values[c] === old[c]) ? "unchanged" : "updated", values };
}

/**
 * Counts papers given one by one as upserts would, writing nothing (dry runs): each merges with the
 * row `stored` returns, or with what an earlier paper of the same preview left. `reembed`: an
 * added paper, or a known one whose stored title or abstract would change.
 */
export function upsertPreview(stored: (id: string) => PaperRow | undefined): (paper: Paper) => { outcome: UpsertOutcome; reembed: boolean } {
  const planned = new Map<string, PaperRow>();
  let given = 0;
  return (paper) => {
    validatePaper(paper, given++);
    const id = paper.id.trim();
    const old = planned.get(id) ?? stored(id);
    const { outcome, values } = planUpsert(old, paper);
    planned.set(id, { rowid: 0, embedded_hash: null, added_at: "", updated_at: "", ...old, ...values });
    return { outcome, reembed: !old || values.content_hash !== old.content_hash };
  };
}
