/**
 * The platform-neutral view model every command returns, and the helpers that build it from search
 * hits. Text in a view is plain, unescaped text (titles, abstracts and queries exactly as they are):
 * each adapter escapes it for its own markup and cuts it to its own limits.
 */
import { splitSentences } from "../src/embed/passages.js";
import { arxivAbsUrl, isArxivId } from "../src/papers/arxiv-id.js";
import type { SearchHit, StoredPaper } from "../src/search/types.js";
import { paperUrl, shortAuthors } from "../src/papers/display.js";

export interface PaperLink {
  label: "PDF" | "Code" | "Hugging Face" | "Project";
  url: string;
}

export interface PaperItem {
  /** 1-based rank in the whole result list (page 2 of 5 starts at 6). */
  rank: number;
  /** Canonical id (arXiv id, or a namespaced id like listing:...). */
  id: string;
  title: string;
  /** arXiv abstract page, or the paper's own page; absent when unknown. */
  url?: string;
  /** "A. Smith, B. Jones et al." */
  authors: string;
  date?: string;
  category?: string;
  /** The search score; absent where a list is not ranked (a library). */
  score?: number;
  /** Shown where the score would be: "saved 2026-12-03 by ana". */
  note?: string;
  /** 2-3 lines of the abstract: whole sentences up to ~300 characters, cut on a word with "…". */
  excerpt: string;
  links: PaperLink[];
}

/** One paper of a posted daily digest, as every adapter shows it. */
export interface DigestItemView {
  /** 1-based place in the digest. */
  rank: number;
  /** What a vote on it records. */
  paperId: string;
  /** Whitespace collapsed. */
  title: string;
  /** The paper's page; absent when unknown. */
  url?: string;
  /** arXiv papers: the PDF. */
  pdfUrl?: string;
  /** "A. Smith, B. Jones et al."; empty when unknown. */
  authors: string;
  /** "Why: topic “…” (0.61)", or the score when the ranking gave no reason. */
  why: string;
}

/** A posted daily digest: the headline message, then one entry per paper (adapters add vote buttons). */
export interface DigestView {
  kind: "digest";
  /** "Daily digest · 2026-11-24 · 3 papers · equivariant networks" */
  headline: string;
  /** The last day the digest covers (YYYY-MM-DD). */
  windowEnd: string;
  items: DigestItemView[];
}

/** How to ask for the next page: the same command with the same options and `page + 1`. */
export interface NextPage {
  command: string;
  options: Record<string, string | number | boolean>;
}

export interface ResultsView {
  kind: "results";
  /** "Papers for “equivariance” · since 2024-01-01" */
  header: string;
  items: PaperItem[];
  /** Only the caller sees it (the `private` option). */
  ephemeral: boolean;
  page: number;
  pageSize: number;
  /** Present when another page exists. */
  next?: NextPage;
  /** The items are the channel's library (adapters offer no Save on them). */
  library?: boolean;
}

export interface MessageView {
  kind: "message";
  tone: "error" | "empty" | "info";
  title: string;
  text: string;
  /** What to try instead. */
  suggestion?: string;
  /** Text shown as it is, in a code block (a BibTeX entry): adapters escape only what their code blocks need. */
  code?: string;
  /** Errors and "nothing found" are only shown to the caller. */
  ephemeral: boolean;
}

export interface HelpView {
  kind: "help";
  title: string;
  commands: { usage: string; description: string; options: { name: string; description: string }[] }[];
  ephemeral: boolean;
}

/** A file to hand over (a library export): a Discord attachment, a Slack upload, text in the console. */
export interface FileView {
  kind: "file";
  /** What goes with the file: "3 papers of this channel's library as BibTeX". */
  text: string;
  file: { name: string; mime: string; content: string };
  ephemeral: boolean;
}

export type View = ResultsView | MessageView | HelpView | FileView;

/** A result list page: at most 10 papers (Discord: 10 embeds per message). */
export const MAX_COUNT = 10;
export const DEFAULT_COUNT = 5;
/** Characters of abstract shown per paper (about 3 lines of a chat window). */
export const EXCERPT_CHARS = 300;

export function errorView(text: string, suggestion?: string): MessageView {
  return { kind: "message", tone: "error", title: "That did not work", text, ...(suggestion ? { suggestion } : {}), ephemeral: true };
}

/** A button press the adapter cannot map to a command (another app's, or from a version that had it). */
export function staleButtonView(): MessageView {
  return errorView("This button is not one of paperhound's, or it is out of date.", "Run the command again.");
}

export function emptyView(text: string, suggestion: string): MessageView {
  return { kind: "message", tone: "empty", title: "Nothing found", text, suggestion, ephemeral: true };
}

/** What an adapter shows when a handler failed unexpectedly (the details go to the log only). */
export function internalErrorView(): MessageView {
  return errorView("Something went wrong while running this command; it has been logged.", "Try again in a moment.");
}

/** Cuts text to at most `max` characters on a word boundary, adding "…" when cut. */
export function truncateWords(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  if (max <= 1) return "…".slice(0, max);
  const cut = chars.slice(0, max - 1).join("");
  const space = cut.search(/\s\S*$/);
  const base = space > (max - 1) / 2 ? cut.slice(0, space) : cut;
  return `${base.replace(/[\s,;:.\-–—(]+$/u, "")}…`;
}

/** Whole sentences of the abstract up to `max` characters; the first sentence cut on a word if longer. */
export function excerpt(abstract: string, max = EXCERPT_CHARS): string {
  const text = abstract.replace(/\s+/g, " ").trim();
  if (text === "") return "";
  let out = "";
  // Only the start can be shown: split just that (splitting whole abstracts cost ~0.3 ms per
  // result list). A sentence cut by the slice ends at the slice's end, past `max`, so never fits.
  for (const sentence of splitSentences(text.slice(0, max + 200))) {
    const joined = out ? `${out} ${sentence}` : sentence;
    if ([...joined].length > max) break;
    out = joined;
  }
  if (out === "") return truncateWords(text, max);
  return out.length < text.length && [...out].length < max / 2 ? truncateWords(text, max) : out;
}

function isHttpUrl(u: string | undefined): u is string {
  if (!u) return false;
  try {
    const p = new URL(u).protocol;
    return p === "http:" || p === "https:";
  } catch {
    return false;
  }
}

/** PDF, code, project and Hugging Face links when known (Hugging Face: papers featured there). */
export function linksOf(p: StoredPaper): PaperLink[] {
  const links: PaperLink[] = [];
  const arxiv = isArxivId(p.id);
  const pdf = p.links.pdf ?? (arxiv ? `https://arxiv.org/pdf/${p.id}` : undefined);
  if (isHttpUrl(pdf)) links.push({ label: "PDF", url: pdf });
  if (isHttpUrl(p.links.code)) links.push({ label: "Code", url: p.links.code });
  if (isHttpUrl(p.links.project)) links.push({ label: "Project", url: p.links.project });
  if (arxiv && (p.trending !== undefined || p.source.startsWith("hf"))) links.push({ label: "Hugging Face", url: `https://huggingface.co/papers/${p.id}` });
  return links;
}

export function itemOf(hit: SearchHit, rank: number): PaperItem {
  const p = hit.paper;
  const url = isArxivId(p.id) ? arxivAbsUrl(p.id) : paperUrl(p);
  const date = p.published ?? p.updated;
  return {
    rank,
    id: p.id,
    title: p.title.replace(/\s+/g, " ").trim(),
    ...(isHttpUrl(url) ? { url } : {}),
    authors: shortAuthors(p.authors),
    ...(date ? { date } : {}),
    ...(p.categories[0] ? { category: p.categories[0] } : {}),
    score: hit.score,
    excerpt: excerpt(p.abstract),
    links: linksOf(p),
  };
}

/** The line under a paper's title, in its parts: authors, date, category, then the score or the note. */
export function metaOf(i: PaperItem): string[] {
  const last = i.note ?? (i.score !== undefined ? `score ${i.score.toFixed(2)}` : undefined);
  return [i.authors, i.date, i.category, last].filter((s): s is string => Boolean(s));
}

/** Quotes user text for a header: “text”, cut to 100 characters. */
export function quoted(text: string): string {
  return `“${truncateWords(text.replace(/\s+/g, " ").trim(), 100)}”`;
}
