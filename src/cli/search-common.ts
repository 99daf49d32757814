/**
 * What the CLI's search commands (index, search, related, stats, reindex) share beyond opening the
 * index (src/app/open-index.ts): the --index and query options (k, filters, weight), and rendering
 * hits for a terminal or as JSON.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { isArxivCategory, isCalendarDate, sinceBound, untilBound } from "../papers/checks.js";
import { abstractSnippet, paperDate, paperUrl, shortAuthors, wrap } from "../papers/display.js";
import { MAX_K } from "../search/paper-index.js";
import type { SearchFilters, SearchHit, StoredPaper } from "../search/types.js";
import type { IndexOption } from "../app/open-index.js";

export function addIndexOption(cmd: Command): Command {
  return cmd.option("--index <dir>", "index directory (default: $PAPERHOUND_INDEX, else index/default in the project)");
}

/** Total size of the files directly in the index directory (store, WAL, vector generations). */
export function bytesOnDisk(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    try {
      const st = statSync(path.join(dir, name));
      if (st.isFile()) total += st.size;
    } catch {
      // vanished meanwhile
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Query options

export interface QueryCliOptions extends IndexOption {
  k: number;
  since?: string;
  until?: string;
  category?: string[];
  author?: string;
  json?: boolean;
  weight?: number;
}

export function parseK(value: string): number {
  const v = value.trim();
  const n = /^\+?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_K) {
    throw new InvalidArgumentError(`the number of results must be a whole number from 1 to ${MAX_K}.`);
  }
  return n;
}

/** YYYY-MM-DD (or YYYY-MM, YYYY) that exists in the calendar; returned as given. */
export function parseDate(value: string): string {
  const v = value.trim();
  if (!isCalendarDate(v)) throw new InvalidArgumentError("expected a date like 2024-01-31 (YYYY-MM-DD, or YYYY-MM or YYYY).");
  return v;
}

function collectCategory(value: string, previous: string[] | undefined): string[] {
  const parts = value
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (parts.length === 0 || !parts.every(isArxivCategory)) {
    throw new InvalidArgumentError('expected an arXiv category like cs.LG, or an archive like "cs".');
  }
  return [...(previous ?? []), ...parts];
}

function parseAuthor(value: string): string {
  const v = value.trim();
  if (v === "") throw new InvalidArgumentError("expected part of an author's name.");
  return v;
}

function parseWeight(value: string): number {
  const v = value.trim();
  const n = /^(?:\d+(?:\.\d*)?|\.\d+)$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError("expected a number from 0 (keywords only) to 1 (meaning only).");
  return n;
}

/** -k, filters, --weight, --json and --index: the options search and related share. */
export function addQueryOptions(cmd: Command): Command {
  cmd
    .option("-k <n>", `number of results, 1 to ${MAX_K}`, parseK, 10)
    .option("--since <date>", "published on or after this date (YYYY-MM-DD)", parseDate)
    .option("--until <date>", "published on or before this date (YYYY-MM-DD)", parseDate)
    .option("--category <cat>", "in this arXiv category (cs.LG) or archive (cs); repeat for any of several", collectCategory)
    .option("--author <name>", "with an author whose name contains this text", parseAuthor)
    .option("--json", "print one JSON object")
    .addOption(
      new Option("--weight <w>", "weight of meaning against keywords, 0 to 1 (default: measured for the model, docs/benchmarks.md)").argParser(parseWeight),
    );
  return addIndexOption(cmd);
}

/** Cross-option checks commander cannot do; a problem is a usage error (exit 2). */
export function checkQueryOptions(cmd: Command, opts: QueryCliOptions): void {
  if (opts.since && opts.until && sinceBound(opts.since) > untilBound(opts.until)) {
    cmd.error(`error: --since ${opts.since} is after --until ${opts.until}, so nothing can match.`, { exitCode: 2 });
  }
}


export function filtersFrom(opts: QueryCliOptions): SearchFilters | undefined {
  const filters: SearchFilters = {};
  if (opts.since) filters.since = opts.since;
  if (opts.until) filters.until = opts.until;
  if (opts.category && opts.category.length > 0) filters.categories = [...opts.category];
  if (opts.author) filters.author = opts.author;
  return Object.keys(filters).length > 0 ? filters : undefined;
}

export function describeFilters(opts: QueryCliOptions): string {
  const parts: string[] = [];
  if (opts.since) parts.push(`since ${opts.since}`);
  if (opts.until) parts.push(`until ${opts.until}`);
  if (opts.category && opts.category.length > 0) parts.push(`in ${opts.category.join(" or ")}`);
  if (opts.author) parts.push(`by "${opts.author}"`);
  return parts.join(", ");
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** One hit in the terminal format: rank and title; authors · date · category · score; link (or id); abstract. */
export function renderHit(hit: SearchHit, rank: number, rankWidth: number): string[] {
  const p = hit.paper;
  const label = `${String(rank).padStart(rankWidth)}. `;
  const indent = " ".repeat(label.length);
  const titleLines = wrap(p.title, indent);
  titleLines[0] = label + titleLines[0]!.slice(indent.length);
  const meta = [shortAuthors(p.authors), paperDate(p), p.categories[0], `score ${hit.score.toFixed(2)}`].filter((s): s is string => Boolean(s));
  const lines = [...titleLines, ...wrap(meta.join(" · "), indent), ...wrap(paperUrl(p) ?? p.id, indent)];
  if (p.abstract.trim()) lines.push(...wrap(abstractSnippet(p.abstract), indent));
  return lines;
}

export function renderHits(hits: readonly SearchHit[]): string {
  const width = String(hits.length).length;
  return hits.map((h, i) => renderHit(h, i + 1, width).join("\n")).join("\n\n");
}

export function paperJson(p: StoredPaper): Record<string, unknown> {
  return {
    id: p.id,
    title: p.title,
    authors: p.authors,
    date: paperDate(p) ?? null,
    categories: p.categories,
    url: paperUrl(p) ?? null,
    abstract: p.abstract,
  };
}

export function hitJson(hit: SearchHit, rank: number): Record<string, unknown> {
  const p = paperJson(hit.paper);
  return {
    rank,
    id: p.id,
    title: p.title,
    authors: p.authors,
    date: p.date,
    categories: p.categories,
    url: p.url,
    score: hit.score,
    dense: hit.dense ?? null,
    bm25: hit.bm25 ?? null,
    abstract: p.abstract,
  };
}
