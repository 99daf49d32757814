/**
 * Reading a team's existing library: BibTeX/BibLaTeX, CSL-JSON and RIS (what Zotero, Mendeley,
 * Paperpile and JabRef export) through Citation.js, or a plain list of arXiv ids, arXiv URLs and
 * DOIs, one per line. Each entry is then matched to a paper of the index: by arXiv id (an
 * `eprint`, an arXiv URL or arXiv's DOI 10.48550/arXiv.<id>), by DOI, then by title.
 */
import { Cite, plugins } from "@citation-js/core";
import "@citation-js/plugin-bibtex";
import "@citation-js/plugin-ris";
import { PaperhoundError } from "../errors.js";
import { parseArxivRef } from "../papers/arxiv-id.js";
import type { PaperStore } from "../search/paper-store.js";
import type { StoredPaper } from "../search/types.js";
import { libraryPaperOf } from "./citations.js";
import type { LibraryPaper } from "./library-store.js";

/** The largest file an import reads (a 2,000-entry Zotero export is about 2 MB). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

/** What an entry of an imported file says about the paper it names. */
export interface ImportEntry {
  /** How the user can recognise the entry: its citation key, line, or title. */
  label: string;
  title?: string;
  arxivId?: string;
  doi?: string;
}

export class LibraryImportError extends PaperhoundError {
  readonly identifier = "library_import";
  override readonly name = "LibraryImportError";
}

const DOI = /\b(10\.\d{4,9}\/[^\s"<>]+)/i;

/** arXiv's own DOIs (10.48550/arXiv.2401.00631) name the arXiv paper. */
function arxivFromDoi(doi: string | undefined): string | undefined {
  const m = doi ? /^10\.48550\/arxiv\.(.+)$/i.exec(doi) : null;
  return m ? parseArxivRef(m[1]!)?.id : undefined;
}

function cleanDoi(raw: unknown): string | undefined {
  if (typeof raw !== "string") return undefined;
  const m = DOI.exec(raw.trim());
  return m ? m[1]!.replace(/[.,;]+$/, "").toLowerCase() : undefined;
}

/** The first of `texts` that is an arXiv id or arXiv URL ("arXiv:2401.00631v2" too). */
function arxivIn(...texts: unknown[]): string | undefined {
  for (const t of texts) {
    if (typeof t !== "string" || t.trim() === "") continue;
    const id = parseArxivRef(t.trim().replace(/^arxiv:\s*/i, ""))?.id;
    if (id) return id;
  }
  return undefined;
}

function entryOf(label: string, fields: { title?: unknown; doi?: unknown; arxiv?: unknown[] }): ImportEntry {
  const doi = cleanDoi(fields.doi);
  const arxivId = arxivIn(...(fields.arxiv ?? [])) ?? arxivFromDoi(doi);
  const title = typeof fields.title === "string" && fields.title.trim() ? fields.title.replace(/\s+/g, " ").trim() : undefined;
  return { label, ...(title ? { title } : {}), ...(arxivId ? { arxivId } : {}), ...(doi && !arxivFromDoi(doi) ? { doi } : {}) };
}

interface CslData {
  id?: string;
  title?: string;
  DOI?: string;
  URL?: string;
  number?: string;
  note?: string;
  "citation-key"?: string;
}

interface RawBibEntry {
  label: string;
  properties: Record<string, unknown>;
}

function parseWith<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new LibraryImportError(`the file looks like ${what} but could not be read (${(err as Error).message.slice(0, 200)}); check it in the program that exported it`);
  }
}

function fromBibtex(text: string): ImportEntry[] {
  // Citation.js's CSL output decodes LaTeX (accents, commands) but has no field for eprint; its
  // entry objects keep the raw fields. Both list the entries in file order.
  const raw = parseWith("BibTeX", () => plugins.input.chain(text, { target: "@biblatex/entries+list", generateGraph: false }) as RawBibEntry[]);
  const csl = parseWith("BibTeX", () => new Cite(text).data as CslData[]);
  return raw.map((e, i) => {
    const p = e.properties;
    const archive = String(p.archiveprefix ?? p.eprinttype ?? "").toLowerCase();
    const eprint = archive === "" || archive === "arxiv" ? p.eprint : undefined;
    return entryOf(e.label || `entry ${i + 1}`, { title: csl[i]?.title ?? p.title, doi: p.doi, arxiv: [eprint, p.url, p.arxivid, p.journal, p.note, p.howpublished] });
  });
}

function fromCsl(data: CslData[], labelOf: (d: CslData, i: number) => string): ImportEntry[] {
  return data.map((d, i) =>
    // `number` holds the arXiv id where the publisher is arXiv (as paperhound exports it); only a valid id counts.
    entryOf(labelOf(d, i), { title: d.title, doi: d.DOI, arxiv: [d.URL, d.number, d.note] }),
  );
}

/** One id, URL or DOI per line; blank lines and `#` comments are skipped. */
function fromList(text: string): ImportEntry[] {
  const out: ImportEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.replace(/#.*$/, "").trim();
    if (!t) return;
    out.push(entryOf(`line ${i + 1}: ${t.slice(0, 80)}`, { doi: cleanDoi(t), arxiv: [t] }));
  });
  return out;
}

/** The entries of an imported file, its format told from its content. */
export function readImportFile(bytes: Buffer): { format: string; entries: ImportEntry[] } {
  if (bytes.length > MAX_IMPORT_BYTES) throw new LibraryImportError(`the file has ${(bytes.length / 1024 / 1024).toFixed(1)} MB; an import reads at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`);
  if (bytes.includes(0)) throw new LibraryImportError("the file is not text (it holds NUL bytes): give a BibTeX, CSL-JSON or RIS export, or a list of arXiv ids");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    // Older BibTeX files are often Latin-1.
    text = new TextDecoder("latin1").decode(bytes);
  }
  const start = text.trimStart();
  if (start === "") throw new LibraryImportError("the file is empty");
  if (start.startsWith("[") || start.startsWith("{")) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new LibraryImportError(`the file starts like CSL-JSON but is not JSON (${(err as Error).message.slice(0, 120)})`);
    }
    const items = Array.isArray(data) ? data : [data];
    if (!items.every((d) => d !== null && typeof d === "object" && !Array.isArray(d))) throw new LibraryImportError("CSL-JSON must be an array of objects (one per paper)");
    return { format: "CSL-JSON", entries: fromCsl(items as CslData[], (d, i) => String(d.id ?? d["citation-key"] ?? `item ${i + 1}`).slice(0, 80)) };
  }
  if (/^\s*@[a-z]+\s*[{(]/im.test(text)) return { format: "BibTeX", entries: fromBibtex(text) };
  if (/^TY {2}- /m.test(text)) {
    const data = parseWith("RIS", () => new Cite(text).data as CslData[]);
    return { format: "RIS", entries: fromCsl(data, (d, i) => (d.title ? `record ${i + 1}: ${d.title.slice(0, 60)}` : `record ${i + 1}`)) };
  }
  return { format: "list", entries: fromList(text) };
}

/** An entry and the indexed paper it names, or why none. */
export interface ImportMatch {
  entry: ImportEntry;
  paper?: StoredPaper;
  by?: "arxiv" | "doi" | "title";
}

/** Titles this similar (character trigrams) to exactly one indexed title name that paper. */
const TITLE_SIMILARITY = 0.9;

export function matchEntries(entries: readonly ImportEntry[], store: PaperStore): ImportMatch[] {
  let byDoi: Map<string, string> | undefined;
  return entries.map((entry) => {
    if (entry.arxivId) {
      const paper = store.get(entry.arxivId);
      if (paper) return { entry, paper, by: "arxiv" as const };
    }
    if (entry.doi) {
      byDoi ??= store.idsByDoi();
      const id = byDoi.get(entry.doi);
      const paper = id ? store.get(id) : undefined;
      if (paper) return { entry, paper, by: "doi" as const };
    }
    // Very short titles ("Notes", "Erratum") would match some paper by chance.
    if (entry.title && entry.title.length >= 8) {
      const { exact, close } = store.findByTitle(entry.title);
      const best = exact ?? (close[0] && close[0].similarity >= TITLE_SIMILARITY && (close.length === 1 || close[0].similarity - close[1]!.similarity >= 0.05) ? close[0].paper : undefined);
      if (best) return { entry, paper: best, by: "title" as const };
    }
    return { entry };
  });
}

/** What an import found: the papers to add (one per paper), how each entry was matched, and the entries no paper was found for. */
export interface ImportOutcome {
  matched: number;
  by: { arxiv: number; doi: number; title: number };
  papers: LibraryPaper[];
  missing: ImportMatch[];
}

export function importOutcome(matches: readonly ImportMatch[]): ImportOutcome {
  const by = { arxiv: 0, doi: 0, title: 0 };
  const papers = new Map<string, LibraryPaper>();
  for (const m of matches) {
    if (!m.paper) continue;
    by[m.by!] += 1;
    if (!papers.has(m.paper.id)) papers.set(m.paper.id, libraryPaperOf(m.paper));
  }
  const missing = matches.filter((m) => !m.paper);
  return { matched: matches.length - missing.length, by, papers: [...papers.values()], missing };
}

/** The unique arXiv ids of entries the index holds no paper for: what an import fetches from arXiv. */
export function arxivIdsToFetch(matches: readonly ImportMatch[]): string[] {
  return [...new Set(matches.flatMap((m) => (!m.paper && m.entry.arxivId ? [m.entry.arxivId] : [])))];
}

/** Why no paper was found for an entry; `notLookedUp`: why arXiv was not asked for the ids the index lacks (undefined: it was). */
export function whyNotFound(m: ImportMatch, notLookedUp?: string): string {
  if (m.entry.arxivId) return `arXiv ${m.entry.arxivId}: not in the index${notLookedUp ? ` (${notLookedUp})` : " nor found on arXiv"}`;
  if (m.entry.doi) return `DOI ${m.entry.doi}: no paper of the index has it, and no title matched`;
  if (m.entry.title) return "no paper of the index has this title";
  return "no arXiv id, DOI or title";
}
