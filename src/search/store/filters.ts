/**
 * Search filters (dates, categories, author) two ways that must agree: SQL over the papers table,
 * and a check of one paper in memory.
 */
import { untilBound } from "../../papers/checks.js";
import type { Paper } from "../../papers/types.js";
import type { SearchFilters } from "../types.js";
import { foldText } from "./titles.js";

const DATE_RE = /^\d{4}(-\d{2}(-\d{2})?)?$/;

function checkDate(value: string, name: string): void {
  if (!DATE_RE.test(value)) throw new RangeError(`Filter ${name} must be a date like 2024-01-31 (got ${JSON.stringify(value)})`);
}

export function hasFilters(filters: SearchFilters | undefined): boolean {
  if (!filters) return false;
  return Boolean(filters.since || filters.until || (filters.categories && filters.categories.length > 0) || filters.author?.trim());
}

function categoryMatches(category: string, wanted: string): boolean {
  const c = category.toLowerCase();
  const w = wanted.trim().toLowerCase();
  if (w === "") return false;
  return c === w || (!w.includes(".") && c.startsWith(`${w}.`));
}

/**
 * The same rules bm25Search and filterRowids apply in SQL: published date within [since, until]
 * (papers without a published date fail a date filter), any category equal to a wanted one (case-
 * insensitive) or inside a wanted archive ("cs" matches "cs.LG"), and the author text a case- and
 * diacritic-insensitive substring of some author name.
 */
export function matchesFilters(paper: Paper, filters: SearchFilters | undefined): boolean {
  if (!filters) return true;
  if (filters.since) {
    checkDate(filters.since, "since");
    if (!paper.published || paper.published < filters.since) return false;
  }
  if (filters.until) {
    checkDate(filters.until, "until");
    if (!paper.published || paper.published > untilBound(filters.until)) return false;
  }
  const cats = (filters.categories ?? []).filter((c) => c.trim() !== "");
  if (cats.length > 0 && !paper.categories.some((c) => cats.some((w) => categoryMatches(c, w)))) return false;
  const author = filters.author?.trim();
  if (author) {
    const needle = foldText(author);
    if (!paper.authors.some((a) => foldText(a).includes(needle))) return false;
  }
  return true;
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** SQL conditions over alias `p` plus their parameters. */
export function filterSql(filters: SearchFilters | undefined): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (!filters) return { where, params };
  if (filters.since) {
    checkDate(filters.since, "since");
    where.push("p.published >= ?");
    params.push(filters.since);
  }
  if (filters.until) {
    checkDate(filters.until, "until");
    where.push("p.published <= ?");
    params.push(untilBound(filters.until));
  }
  const cats = (filters.categories ?? []).map((c) => c.trim().toLowerCase()).filter((c) => c !== "");
  if (cats.length > 0) {
    const ors: string[] = [];
    for (const c of cats) {
      ors.push("lower(c.value) = ?");
      params.push(c);
      if (!c.includes(".")) {
        ors.push("lower(c.value) LIKE ? ESCAPE '\\'");
        params.push(`${escapeLike(c)}.%`);
      }
    }
    where.push(`EXISTS (SELECT 1 FROM json_each(p.categories) c WHERE ${ors.join(" OR ")})`);
  }
  const author = filters.author?.trim();
  if (author) {
    where.push("EXISTS (SELECT 1 FROM json_each(p.authors) a WHERE instr(ph_fold(a.value), ?) > 0)");
    params.push(foldText(author));
  }
  return { where, params };
}
