/**
 * /paper query:<text> [count] [since] [category] [private]: papers by meaning and keywords.
 */
import { SearchInputError } from "../src/search/paper-index.js";
import type { SearchFilters, SearchHit } from "../src/search/types.js";
import { checkCategory, checkDate, COUNT_OPTION, PAGE_OPTION, PRIVATE_OPTION } from "./options.js";
import { searcherOf, type CommandContext, type CommandSpec, type ParsedOptions } from "./types.js";
import { emptyView, errorView, itemOf, quoted, type NextPage, type PaperItem, type View } from "./view.js";

/** Longest query accepted (a paragraph; the model reads 128 tokens, BM25 the first terms). */
export const MAX_QUERY_CHARS = 1000;

export interface PaperOptions {
  query: string;
  count: number;
  since?: string;
  category?: string;
  private: boolean;
  page: number;
}

export function describeFilters(o: { since?: string; category?: string }): string {
  return [o.since ? `since ${o.since}` : "", o.category ? `in ${o.category}` : ""].filter(Boolean).join(" · ");
}

export function filtersOf(o: { since?: string; category?: string }): SearchFilters | undefined {
  const f: SearchFilters = {};
  if (o.since) f.since = o.since;
  if (o.category) f.categories = [o.category];
  return Object.keys(f).length > 0 ? f : undefined;
}

/** YYYY / YYYY-MM as the first day they name, for comparing with today. */
function firstDay(d: string): string {
  return d.length === 4 ? `${d}-01-01` : d.length === 7 ? `${d}-01` : d;
}

/** Search page `page` of `count`; one extra hit tells whether a next page exists. */
export async function searchPage(
  o: { count: number; page: number; since?: string; category?: string },
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
  if (o.since && firstDay(o.since) > ctx.clock().toISOString().slice(0, 10)) {
    return errorView(`since ${o.since} is in the future, so no paper can match.`, "Give a date in the past, or leave since out.");
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
    return emptyView(
      `No paper in the index matches ${quoted(o.query)}${filters ? ` (${filters})` : ""}.`,
      filters ? `Try again without the ${[o.since ? "since" : "", o.category ? "category" : ""].filter(Boolean).join(" and ")} filter.` : "Try other words or a broader topic.",
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
    { name: "category", description: "arXiv category (cs.LG) or archive (cs)", type: "string", maxLength: 40, check: checkCategory },
    PRIVATE_OPTION,
    PAGE_OPTION,
  ],
  isPrivate: (o) => o.private === true,
  run: runPaper,
};
