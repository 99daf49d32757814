/**
 * /paper query:<text> [count] [since] [until] [category] [author] [private]: papers by meaning and
 * keywords, with the filters the CLI's `search` has.
 */
import { sinceBound, untilBound } from "../src/papers/checks.js";
import { SearchInputError } from "../src/search/paper-index.js";
import type { SearchFilters, SearchHit } from "../src/search/types.js";
import { checkCategory, checkDate, COUNT_OPTION, PAGE_OPTION, PRIVATE_OPTION } from "./options.js";
import { searcherOf, type CommandContext, type CommandSpec, type ParsedOptions } from "./types.js";
import { emptyView, errorView, itemOf, quoted, type NextPage, type PaperItem, type View } from "./view.js";

/** Longest query accepted (a paragraph; the model reads 128 tokens, BM25 the first terms). */
export const MAX_QUERY_CHARS = 1000;
/** Longest author filter (a full name with initials). */
export const MAX_AUTHOR_CHARS = 100;

export interface PaperOptions {
  query: string;
  count: number;
  since?: string;
  until?: string;
  category?: string;
  author?: string;
  private: boolean;
  page: number;
}

/** The filters a search page takes. */
type FilterOptions = { since?: string; until?: string; category?: string; author?: string };

export function describeFilters(o: FilterOptions): string {
  return [o.since ? `since ${o.since}` : "", o.until ? `until ${o.until}` : "", o.category ? `in ${o.category}` : "", o.author ? `by “${o.author}”` : ""].filter(Boolean).join(" · ");
}

/** The names of the filters given ("since and author"), for "try again without …". */
function filterNames(o: FilterOptions): string {
  const names = (["since", "until", "category", "author"] as const).filter((k) => o[k]);
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

export function filtersOf(o: FilterOptions): SearchFilters | undefined {
  const f: SearchFilters = {};
  if (o.since) f.since = o.since;
  if (o.until) f.until = o.until;
  if (o.category) f.categories = [o.category];
  if (o.author) f.author = o.author;
  return Object.keys(f).length > 0 ? f : undefined;
}


/** Search page `page` of `count`; one extra hit tells whether a next page exists. */
export async function searchPage(
  o: { count: number; page: number } & FilterOptions,
  search: (k: number, filters: SearchFilters | undefined) => Promise<SearchHit[]>,
): Promise<{ items: PaperItem[]; more: boolean; start: number }> {
  const start = (o.page - 1) * o.count;
  const hits = await search(start + o.count + 1, filtersOf(o));
  return { items: hits.slice(start, start + o.count).map((h, i) => itemOf(h, start + i + 1)), more: hits.length > start + o.count, start };
}

export function nextPageOf(command: string, options: Record<string, string | number | boolean | undefined>, page: number): NextPage {
  const opts: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) opts[k] = v;
  return { command, options: { ...opts, page: page + 1 } };
}

export async function runPaper(raw: ParsedOptions, ctx: CommandContext): Promise<View> {
  const o = raw as unknown as PaperOptions;
  if (o.since && sinceBound(o.since) > ctx.clock().toISOString().slice(0, 10)) {
    return errorView(`since ${o.since} is in the future, so no paper can match.`, "Give a date in the past, or leave since out.");
  }
  if (o.since && o.until && sinceBound(o.since) > untilBound(o.until)) {
    return errorView(`since ${o.since} is after until ${o.until}, so no paper can match.`, "Swap the dates, or leave one out.");
  }
  let page;
  try {
    page = await searchPage(o, (k, filters) => searcherOf(ctx).search(o.query, { k, ...(filters ? { filters } : {}) }));
  } catch (err) {
    if (err instanceof SearchInputError) return errorView(err.message, "Describe the topic in a few words, e.g. /paper query:equivariant networks for point clouds");
    throw err;
  }
  const filters = describeFilters(o);
  if (page.items.length === 0) {
    if (page.start > 0) return emptyView(`There are no more papers for ${quoted(o.query)}.`, "Start a new search with other words.");
    const names = filterNames(o);
    return emptyView(
      `No paper in the index matches ${quoted(o.query)}${filters ? ` (${filters})` : ""}.`,
      filters ? `Try again without the ${names} filter${names.includes(" and ") ? "s" : ""}.` : "Try other words or a broader topic.",
    );
  }
  return {
    kind: "results",
    header: `Papers for ${quoted(o.query)}${filters ? ` · ${filters}` : ""}${o.page > 1 ? ` · page ${o.page}` : ""}`,
    items: page.items,
    ephemeral: o.private,
    page: o.page,
    pageSize: o.count,
    ...(page.more && o.page < PAGE_OPTION.max! ? { next: nextPageOf("paper", { ...o }, o.page) } : {}),
  };
}

export const paperCommand: CommandSpec = {
  name: "paper",
  description: "Find papers about a topic",
  options: [
    { name: "query", description: "What the papers are about, in your own words", type: "string", required: true, maxLength: MAX_QUERY_CHARS },
    COUNT_OPTION,
    { name: "since", description: "Published on or after this date (YYYY-MM-DD)", type: "string", maxLength: 10, check: checkDate },
    { name: "until", description: "Published on or before this date (YYYY-MM-DD)", type: "string", maxLength: 10, check: checkDate },
    { name: "category", description: "arXiv category (cs.LG) or archive (cs)", type: "string", maxLength: 40, check: checkCategory },
    { name: "author", description: "Part of an author's name (Hinton)", type: "string", maxLength: MAX_AUTHOR_CHARS },
    PRIVATE_OPTION,
    PAGE_OPTION,
  ],
  isPrivate: (o) => o.private === true,
  run: runPaper,
};
