/**
 * /related paper:<arXiv id, arXiv URL or title> [count] [private]: papers nearest to one in the index
 * (an arXiv paper it does not hold is fetched first where the bot can: ctx.fetchArxiv). The `paper`
 * option autocompletes titles from the index.
 */
import { PaperNotFoundError, SearchInputError } from "../src/search/paper-index.js";
import { IngestError } from "../src/ingest/sources.js";
import { arxivDoesNotKnow, parseArxivRef } from "../src/papers/arxiv-id.js";
import type { StoredPaper } from "../src/search/types.js";
import { COUNT_OPTION, PAGE_OPTION, PRIVATE_OPTION } from "./options.js";
import { titleLookupFor } from "./title-lookup.js";
import { nextPageOf, searchPage } from "./paper.js";
import { MAX_CHOICE_CHARS, MAX_CHOICES, searcherOf, type Choice, type CommandContext, type CommandSpec, type OptionSpec, type ParsedOptions } from "./types.js";
import { emptyView, errorView, quoted, truncateWords, type View } from "./view.js";

export const MAX_REF_CHARS = 300;

/** The paper /related and /save take: an arXiv id or URL, or a title (completed as it is typed). */
export const PAPER_REF_OPTION: OptionSpec = { name: "paper", description: "arXiv id, arXiv URL or title of the paper", type: "string", required: true, maxLength: MAX_REF_CHARS, autocomplete: true };

export interface RelatedOptions {
  paper: string;
  count: number;
  private: boolean;
  page: number;
}

function label(p: { id: string; title: string }): string {
  return `${truncateWords(p.title.replace(/\s+/g, " ").trim(), 80)} (${p.id})`;
}

/** What the user is told when `ref` names no paper, or several (undefined: not such an error). */
export function paperRefErrorView(err: unknown, ref: string): View | undefined {
  if (err instanceof PaperNotFoundError) {
    if (err.candidates.length > 0) {
      return errorView(`Several papers match ${quoted(ref)}.`, `Say which one: ${err.candidates.slice(0, 5).map((p) => `${label(p)}`).join("; ")}.`);
    }
    return errorView(
      parseArxivRef(ref) ? `${err.message}.` : `No paper in the index matches ${quoted(ref)}.`,
      "Give an arXiv id (2401.00631) or more of the title (chat apps suggest titles as you type), or find the paper with /paper first.",
    );
  }
  if (err instanceof SearchInputError) return errorView(err.message, "Give an arXiv id, an arXiv URL or a paper title.");
  if (err instanceof IngestError) return errorView("The paper is not in the index, and fetching it from arXiv failed.", `${err.message}. Try again later.`);
  return undefined;
}

/**
 * Runs `use` (which looks `ref` up in the index); when `ref` is an arXiv id the index does not hold
 * and this bot can fetch papers (ctx.fetchArxiv), fetches it from arXiv and runs `use` again. An id
 * arXiv does not know: a PaperNotFoundError saying so; arXiv unreachable: an IngestError.
 */
export async function withArxivFetch<T>(ref: string, ctx: CommandContext, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (err) {
    const arxiv = parseArxivRef(ref);
    if (!(err instanceof PaperNotFoundError) || err.candidates.length > 0 || !arxiv || !ctx.fetchArxiv) throw err;
    const asked = arxiv.version === undefined ? arxiv.id : `${arxiv.id}v${arxiv.version}`;
    try {
      await ctx.fetchArxiv([asked]);
    } catch (fetchErr) {
      throw fetchErr instanceof IngestError ? fetchErr : new IngestError(`looking up ${asked} on arXiv failed: ${(fetchErr as Error).message}`, { cause: fetchErr });
    }
    try {
      return await use();
    } catch (again) {
      if (again instanceof PaperNotFoundError) throw new PaperNotFoundError(arxivDoesNotKnow(asked));
      throw again;
    }
  }
}

/**
 * What a title the index does not hold exactly may still name: a short name or the start of a
 * title ("SwapNet", "neural snowflakes"), as autocomplete finds them. Several: a PaperNotFoundError
 * listing them; none: `err` as it was.
 */
export function paperByTitleWords(ref: string, err: unknown, ctx: CommandContext): StoredPaper {
  if (!(err instanceof PaperNotFoundError) || err.candidates.length > 0 || parseArxivRef(ref)) throw err;
  const hits = titleLookupFor(ctx.index.dir).complete(ref, 6);
  const papers = hits.map((h) => ctx.index.store.get(h.id)).filter((p): p is StoredPaper => p !== undefined);
  if (papers.length === 1) return papers[0]!;
  if (papers.length > 1) throw new PaperNotFoundError(`several papers match "${ref}"; say which one`, papers);
  throw err;
}

export async function runRelated(raw: ParsedOptions, ctx: CommandContext): Promise<View> {
  const o = raw as unknown as RelatedOptions;
  let about: StoredPaper | undefined;
  let page;
  try {
    const related = async (ref: string, k: number) => {
      const r = await searcherOf(ctx).related(ref, { k });
      about = r.paper;
      return r.hits;
    };
    page = await searchPage(o, async (k) => {
      try {
        return await withArxivFetch(o.paper, ctx, () => related(o.paper, k));
      } catch (err) {
        return related(paperByTitleWords(o.paper, err, ctx).id, k);
      }
    });
  } catch (err) {
    const view = paperRefErrorView(err, o.paper);
    if (view) return view;
    throw err;
  }
  const paper = about!;
  if (page.items.length === 0) {
    return emptyView(
      page.start > 0 ? `There are no more papers related to ${quoted(paper.title)}.` : `The index holds no other paper to compare with ${quoted(paper.title)}.`,
      "Add papers to the index, or search by topic with /paper.",
    );
  }
  return {
    kind: "results",
    header: `Related to ${quoted(paper.title)} (${paper.id})${o.page > 1 ? ` · page ${o.page}` : ""}`,
    items: page.items,
    ephemeral: o.private,
    page: o.page,
    pageSize: o.count,
    ...(page.more && o.page < PAGE_OPTION.max! ? { next: nextPageOf("related", { ...o }, o.page) } : {}),
  };
}

/**
 * Titles for the `paper` option as the user types: the paper named by an arXiv id or URL (or a
 * canonical id), then titles starting with, containing, or containing every word of the text
 * (`title-lookup.ts`; no typo tolerance, which made the store's fuzzy lookup take 0.5 s at 140k
 * papers). At most 25; never throws (an error gives no choices).
 */
export function completePaper(partial: string, ctx: CommandContext): Choice[] {
  try {
    const text = partial.replace(/\s+/g, " ").trim().slice(0, MAX_REF_CHARS);
    if (text.length < 2) return [];
    const found: { id: string; title: string }[] = [];
    const ref = parseArxivRef(text);
    const direct = ref ? ctx.index.store.get(ref.id) : ctx.index.store.get(text);
    if (direct) found.push(direct);
    if (!direct) found.push(...titleLookupFor(ctx.index.dir).complete(text, MAX_CHOICES));
    const seen = new Set<string>();
    const choices: Choice[] = [];
    for (const p of found) {
      if (seen.has(p.id)) continue;
      seen.add(p.id);
      // The value must name the paper exactly: its id, or (ids over 100 characters) its title.
      const value = p.id.length <= MAX_CHOICE_CHARS ? p.id : truncateWords(p.title, MAX_CHOICE_CHARS);
      choices.push({ name: truncateWords(label(p), MAX_CHOICE_CHARS), value });
      if (choices.length === MAX_CHOICES) break;
    }
    return choices;
  } catch (err) {
    ctx.logger.warn("autocomplete failed", { err });
    return [];
  }
}

export const relatedCommand: CommandSpec = {
  name: "related",
  description: "Find papers related to one in the index",
  options: [
    PAPER_REF_OPTION,
    COUNT_OPTION,
    PRIVATE_OPTION,
    PAGE_OPTION,
  ],
  isPrivate: (o) => o.private === true,
  run: runRelated,
  autocomplete: (option, partial, ctx) => (option === "paper" ? completePaper(partial, ctx) : []),
};
