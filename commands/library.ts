/**
 * /save paper:<arXiv id, URL or title>: adds a paper of the index to the channel's library.
 * /library [action:list|remove|export|cite|import] [filter] [paper] [format] [file]: lists the
 * library (newest first, paged, filtered by text), takes a paper out, hands it over as a citation
 * file (BibTeX, CSL-JSON, RIS), shows one paper's entry (cite: any paper of the index; the BibTeX
 * menu under results runs it), or adds the papers of an attached file (import). The library lives in the digest store (src/library/); every member of a channel
 * may save and remove (a removed paper is saved again with /save).
 */
import { CITATION_FILES, CITATION_FORMATS, formatCitations, libraryPaperOf, type CitationFormat } from "../src/library/citations.js";
import type { LibraryEntry, LibraryStore } from "../src/library/library-store.js";
import { arxivAbsUrl, arxivPdfUrl, isArxivId, parseArxivRef } from "../src/papers/arxiv-id.js";
import { shortAuthors } from "../src/papers/display.js";
import { PAGE_OPTION } from "./options.js";
import { nextPageOf } from "./paper.js";
import { completePaper, MAX_REF_CHARS, PAPER_REF_OPTION, paperByTitleWords, paperRefErrorView, withArxivFetch } from "./related.js";
import type { CommandAttachment, CommandContext, CommandSpec, ParsedOptions } from "./types.js";
import { arxivIdsToFetch, importOutcome, LibraryImportError, matchEntries, MAX_IMPORT_BYTES, readImportFile, whyNotFound, type ImportEntry } from "../src/library/import.js";
import type { StoredPaper } from "../src/search/types.js";
import { errorView, itemOf, quoted, truncateWords, type MessageView, type PaperItem, type View } from "./view.js";

export const LIBRARY_ACTIONS = ["list", "remove", "export", "cite", "import"] as const;
/** Papers per page of /library. */
export const LIBRARY_PAGE_SIZE = 10;
const MAX_FILTER_CHARS = 200;

const FORMAT_NAMES: Record<CitationFormat, string> = { bibtex: "BibTeX", "csl-json": "CSL-JSON", ris: "RIS" };

function info(title: string, text: string, suggestion?: string): MessageView {
  return { kind: "message", tone: "info", title, text, ...(suggestion ? { suggestion } : {}), ephemeral: true };
}

/** A channel's library: the store and the channel's key in it. */
interface ChannelLibrary {
  store: LibraryStore;
  channel: string;
}

/** The library of the channel the command runs in, or the message saying why there is none. */
function libraryOf(ctx: CommandContext): ChannelLibrary | MessageView {
  if (!ctx.digest || !ctx.channel) return errorView("Libraries are not available here.", "The bot keeps them in the index directory; the operator's log says why it could not open them.");
  return { store: ctx.digest.library, channel: ctx.channel.key };
}

/** "saved 2026-12-03 by ana": shown in lists and answers. */
export const savedNote = (e: LibraryEntry) => `saved ${e.savedAt.slice(0, 10)}${e.savedBy ? ` by ${e.savedBy}` : ""}`;

/**
 * The paper `ref` names: by id or URL, by title, by a short name (paperByTitleWords), or an arXiv
 * paper fetched first (withArxivFetch); or the message saying why none.
 */
async function paperOf(ref: string, ctx: CommandContext): Promise<StoredPaper | View> {
  try {
    try {
      return await withArxivFetch(ref, ctx, async () => ctx.index.resolvePaper(ref));
    } catch (err) {
      return paperByTitleWords(ref, err, ctx);
    }
  } catch (err) {
    const view = paperRefErrorView(err, ref);
    if (view) return view;
    throw err;
  }
}

export async function runSave(o: ParsedOptions, ctx: CommandContext): Promise<View> {
  const lib = libraryOf(ctx);
  if ("kind" in lib) return lib;
  const paper = await paperOf(String(o.paper), ctx);
  if ("kind" in paper) return paper;
  const { added, entry } = lib.store.save(lib.channel, libraryPaperOf(paper), ctx.user ?? "", ctx.clock());
  const count = lib.store.count(lib.channel);
  return added
    ? info("Saved", `${quoted(paper.title)} (${paper.id}) is in this channel's library (${count} paper${count === 1 ? "" : "s"}).`, "See it with /library; export it with /library action:export.")
    : info("Already saved", `${quoted(paper.title)} (${paper.id}) is already in this channel's library (${savedNote(entry)}).`);
}

/** One paper's citation entry, shown to the caller (any paper of the index: no library needed). */
async function citePaper(o: ParsedOptions, ctx: CommandContext): Promise<View> {
  if (typeof o.paper !== "string") return errorView("Say which paper to cite: /library action:cite paper:<arXiv id, URL or title>.");
  const paper = await paperOf(o.paper, ctx);
  if ("kind" in paper) return paper;
  const format = o.format as CitationFormat;
  return { ...info(FORMAT_NAMES[format], `${quoted(paper.title)} (${paper.id})`), code: formatCitations([libraryPaperOf(paper)], format).trimEnd() };
}

/** A library entry as a result item: the indexed paper's excerpt and links when the index still holds it. */
function itemOfEntry(e: LibraryEntry, rank: number, ctx: CommandContext): PaperItem {
  const stored = ctx.index.store.get(e.paper.id);
  if (stored) {
    const { score: _unranked, ...item } = itemOf({ paper: stored, score: 0 }, rank);
    return { ...item, note: savedNote(e) };
  }
  const p = e.paper;
  const url = isArxivId(p.id) ? arxivAbsUrl(p.id) : p.url;
  return {
    rank,
    id: p.id,
    title: p.title,
    ...(url ? { url } : {}),
    authors: shortAuthors(p.authors),
    ...(p.published ? { date: p.published } : {}),
    ...(p.categories[0] ? { category: p.categories[0] } : {}),
    note: savedNote(e),
    excerpt: "",
    links: isArxivId(p.id) ? [{ label: "PDF", url: arxivPdfUrl(p.id) }] : [],
  };
}

function listLibrary(o: ParsedOptions, ctx: CommandContext, lib: ChannelLibrary): View {
  const page = Number(o.page);
  const filter = typeof o.filter === "string" ? o.filter : undefined;
  const { entries, total } = lib.store.list(lib.channel, { ...(filter ? { filter } : {}), offset: (page - 1) * LIBRARY_PAGE_SIZE, limit: LIBRARY_PAGE_SIZE });
  if (entries.length === 0) {
    if (total > 0) return info("Library", `There are no more papers in this channel's library (${total} in all).`);
    return filter
      ? info("Library", `No paper in this channel's library matches ${quoted(filter)}.`, "Try fewer words, or /library without a filter.")
      : info("Library", "This channel's library is empty.", "Save papers with /save <arXiv id | URL | title>, or with the Save button under a result.");
  }
  const start = (page - 1) * LIBRARY_PAGE_SIZE;
  return {
    kind: "results",
    header: `Library of this channel · ${total} paper${total === 1 ? "" : "s"}${filter ? ` matching ${quoted(filter)}` : ""}${page > 1 ? ` · page ${page}` : ""}`,
    items: entries.map((e, i) => itemOfEntry(e, start + i + 1, ctx)),
    ephemeral: true,
    page,
    pageSize: LIBRARY_PAGE_SIZE,
    library: true,
    ...(start + entries.length < total && page < PAGE_OPTION.max! ? { next: nextPageOf("library", { action: "list", ...(filter ? { filter } : {}) }, page) } : {}),
  };
}

function removeFromLibrary(o: ParsedOptions, lib: ChannelLibrary): View {
  if (typeof o.paper !== "string") return errorView("Say which paper to remove: /library action:remove paper:<arXiv id or URL>.");
  const id = parseArxivRef(o.paper)?.id ?? o.paper.trim();
  const removed = lib.store.remove(lib.channel, id);
  if (!removed) return errorView(`${quoted(o.paper)} is not in this channel's library.`, "See what it holds with /library.");
  return info("Removed", `${quoted(removed.paper.title)} (${removed.paper.id}) is no longer in this channel's library (it was ${savedNote(removed)}).`, `Changed your mind? /save ${removed.paper.id}`);
}

function exportLibrary(o: ParsedOptions, lib: ChannelLibrary): View {
  const format = o.format as CitationFormat;
  const papers = lib.store.list(lib.channel).entries.map((e) => e.paper);
  if (papers.length === 0) return info("Library", "This channel's library is empty: there is nothing to export.", "Save papers with /save first.");
  const file = CITATION_FILES[format];
  return {
    kind: "file",
    text: `${papers.length} paper${papers.length === 1 ? "" : "s"} of this channel's library as ${FORMAT_NAMES[format]}`,
    file: { name: `library.${file.extension}`, mime: file.mime, content: formatCitations(papers, format) },
    ephemeral: true,
  };
}

/** An entry as a reader knows it: its key or record number, and its title when the key does not show it. */
function entryName(e: ImportEntry): string {
  return e.title && !e.label.includes(e.title.slice(0, 30)) ? `${e.label} “${truncateWords(e.title, 80)}”` : e.label;
}

/** Entries without a paper listed in an import's answer; the rest are counted. */
const MAX_UNMATCHED_SHOWN = 10;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Adds the papers of an attached file (BibTeX, CSL-JSON, RIS, or a list of arXiv ids, URLs and
 * DOIs) to the library, as `paperhound library import` does: matched by arXiv id, DOI, then title;
 * arXiv ids the index lacks fetched first where the bot can (ctx.fetchArxiv); saved in one
 * transaction. The file is checked by its declared size before it is read, read into memory only
 * (never written anywhere), and refused past 10 MB whatever its declared size.
 */
async function importIntoLibrary(file: CommandAttachment | undefined, ctx: CommandContext, lib: ChannelLibrary): Promise<View> {
  if (!file) {
    return errorView(
      "Attach the file to import.",
      "Discord: /library action:import file:<your .bib, .json, .ris or list of arXiv ids>. Slack: share the file in this channel, then /library import within 10 minutes. Console: /library action:import file:<path>.",
    );
  }
  if (file.size > MAX_IMPORT_BYTES) return errorView(`${quoted(file.name)} has ${mb(file.size)}; an import reads at most ${mb(MAX_IMPORT_BYTES)}.`, "Split the file, or export only the collection you want.");
  let parsed;
  try {
    parsed = readImportFile(await file.read(MAX_IMPORT_BYTES));
  } catch (err) {
    if (err instanceof LibraryImportError) return errorView(`${quoted(file.name)} cannot be imported: ${err.message}.`, "Export BibTeX, CSL-JSON or RIS from your reference manager (Zotero, Mendeley, Paperpile, JabRef), or send one arXiv id, URL or DOI per line.");
    return errorView(`${quoted(file.name)} could not be read: ${(err as Error).message}.`, "Send it again; nothing was imported.");
  }
  let matches = matchEntries(parsed.entries, ctx.index.store);
  const toFetch = arxivIdsToFetch(matches);
  let fetchProblem: string | undefined;
  if (toFetch.length > 0 && ctx.fetchArxiv) {
    try {
      await ctx.fetchArxiv(toFetch);
    } catch (err) {
      fetchProblem = (err as Error).message;
    }
    matches = matchEntries(parsed.entries, ctx.index.store);
  }
  const notLookedUp = !ctx.fetchArxiv ? "this bot does not fetch from arXiv" : fetchProblem ? "arXiv could not be reached" : undefined;
  const wanted = new Set(toFetch);
  const fetched = matches.filter((m) => m.paper && m.by === "arxiv" && wanted.has(m.entry.arxivId!)).length;
  const { matched, by, papers, missing } = importOutcome(matches);
  const added = lib.store.saveMany(lib.channel, papers, `${ctx.user ?? "someone"} (import of ${file.name})`, ctx.clock());
  const n = parsed.entries.length;
  const lines = [
    `${quoted(file.name)} (${parsed.format}, ${n} entr${n === 1 ? "y" : "ies"}): matched ${matched} (arXiv id ${by.arxiv}, DOI ${by.doi}, title ${by.title})${fetched > 0 ? `, ${fetched} of them fetched from arXiv` : ""}; added ${added}, already there ${papers.length - added}, not found ${missing.length}.`,
    ...(fetchProblem ? [`Fetching from arXiv failed (${fetchProblem}); matched what the index holds.`] : []),
    ...missing.slice(0, MAX_UNMATCHED_SHOWN).map((m) => `Not found: ${entryName(m.entry)} (${whyNotFound(m, notLookedUp)})`),
    ...(missing.length > MAX_UNMATCHED_SHOWN ? [`… and ${missing.length - MAX_UNMATCHED_SHOWN} more not found.`] : []),
  ];
  return info("Imported", lines.join("\n"), added > 0 ? "See them with /library; new papers like them now come into this channel's digest." : undefined);
}

export async function runLibrary(o: ParsedOptions, ctx: CommandContext): Promise<View> {
  if (o.action === "cite") return citePaper(o, ctx);
  const lib = libraryOf(ctx);
  if ("kind" in lib) return lib;
  if (o.action === "remove") return removeFromLibrary(o, lib);
  if (o.action === "export") return exportLibrary(o, lib);
  if (o.action === "import") return importIntoLibrary(ctx.attachment, ctx, lib);
  return listLibrary(o, ctx, lib);
}

export const saveCommand: CommandSpec = {
  name: "save",
  description: "Save a paper to this channel's library",
  options: [PAPER_REF_OPTION],
  isPrivate: () => true,
  run: runSave,
  autocomplete: (option, partial, ctx) => (option === "paper" ? completePaper(partial, ctx) : []),
};

export const libraryCommand: CommandSpec = {
  name: "library",
  description: "This channel's library: list, remove, import or export (BibTeX, CSL-JSON, RIS); cite a paper",
  options: [
    { name: "action", description: "list (default), remove, export, cite (one paper's entry), or import (an attached file)", type: "string", choices: LIBRARY_ACTIONS, default: "list" },
    { name: "filter", description: "list: only papers whose title, authors or id contain this", type: "string", maxLength: MAX_FILTER_CHARS },
    { name: "paper", description: "remove: the paper's arXiv id or URL (as /library shows it); cite: any paper's id, URL or title", type: "string", maxLength: MAX_REF_CHARS },
    { name: "format", description: "export and cite: bibtex (default), csl-json or ris", type: "string", choices: CITATION_FORMATS, default: "bibtex" },
    { name: "file", description: "import: a BibTeX, CSL-JSON or RIS file, or a list of arXiv ids, URLs or DOIs (10 MB at most)", type: "attachment" },
    PAGE_OPTION,
  ],
  isPrivate: () => true,
  run: runLibrary,
};
