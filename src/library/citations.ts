/**
 * Citations of library papers: BibTeX, CSL-JSON and RIS, written by Citation.js (LaTeX escaping,
 * name splitting, citation keys). arXiv papers become `@misc` entries with `eprint`,
 * `archivePrefix` and `primaryClass`, the form arXiv itself suggests, which Citation.js has no
 * mapping for: those fields are added to its entry objects before they are written out.
 */
import { Cite } from "@citation-js/core";
import { parse as parseName } from "@citation-js/name";
import "@citation-js/plugin-bibtex";
import "@citation-js/plugin-ris";
import { arxivAbsUrl, isArxivId } from "../papers/arxiv-id.js";
import type { StoredPaper } from "../search/types.js";
import type { LibraryPaper } from "./library-store.js";

export const CITATION_FORMATS = ["bibtex", "csl-json", "ris"] as const;
export type CitationFormat = (typeof CITATION_FORMATS)[number];

/** File name extension and media type of each format. */
export const CITATION_FILES: Record<CitationFormat, { extension: string; mime: string }> = {
  bibtex: { extension: "bib", mime: "application/x-bibtex" },
  "csl-json": { extension: "json", mime: "application/vnd.citationstyles.csl+json" },
  ris: { extension: "ris", mime: "application/x-research-info-systems" },
};

/** What a library keeps of an indexed paper. */
export function libraryPaperOf(p: StoredPaper): LibraryPaper {
  const url = isArxivId(p.id) ? arxivAbsUrl(p.id) : (p.links.abs ?? p.links.pdf);
  const published = (p.published ?? p.updated)?.slice(0, 10);
  return {
    id: p.id,
    title: p.title.replace(/\s+/g, " ").trim(),
    authors: p.authors,
    ...(published ? { published } : {}),
    categories: p.categories,
    ...(p.doi ? { doi: p.doi } : {}),
    ...(url ? { url } : {}),
  };
}

/**
 * A CSL name from "Given Family". A particle ("van der") goes into the family name: Citation.js's
 * RIS output drops a separate one.
 */
function nameOf(author: string): CslName {
  const { "non-dropping-particle": particle, ...name } = parseName(author);
  return particle && name.family ? { ...name, family: `${particle} ${name.family}` } : name;
}

type CslName = ReturnType<typeof parseName>;

interface CslItem {
  id: string;
  type: string;
  title: string;
  author: CslName[];
  issued?: { "date-parts": number[][] };
  DOI?: string;
  URL?: string;
  publisher?: string;
  number?: string;
}

/** A CSL-JSON item (CSL 1.0.2: a preprint is type "article"; arXiv is its publisher, the id its number). */
export function cslItemOf(p: LibraryPaper): CslItem {
  const date = p.published?.split("-").map(Number);
  const arxiv = isArxivId(p.id);
  return {
    id: p.id,
    type: arxiv ? "article" : "document",
    title: p.title,
    author: p.authors.map(nameOf),
    ...(date && date.every((n) => Number.isInteger(n)) ? { issued: { "date-parts": [date] } } : {}),
    ...(p.doi ? { DOI: p.doi } : {}),
    ...(p.url ? { URL: p.url } : {}),
    ...(arxiv ? { publisher: "arXiv", number: p.id } : {}),
  };
}

interface BibtexEntry {
  type: string;
  label: string;
  properties: Record<string, string>;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/**
 * `$…$` math in a title stays LaTeX math (Citation.js would escape the dollars and the braces);
 * only math with balanced braces is kept, anything else is escaped as text.
 */
function withMathKept(title: string): { text: string; restore: (escaped: string) => string } {
  const math: string[] = [];
  const text = title.replace(/\$[^$]+\$/g, (m) => {
    let depth = 0;
    for (const c of m) {
      depth += c === "{" ? 1 : c === "}" ? -1 : 0;
      if (depth < 0) return m;
    }
    if (depth !== 0) return m;
    math.push(m);
    // Lower-case letters only: Citation.js neither escapes nor brace-protects it.
    return `qqmath${"abcdefghij"[math.length - 1] ?? "z"}qq`;
  });
  return {
    text: math.length > 10 ? title : text,
    restore: (escaped) => (math.length > 10 ? escaped : escaped.replace(/qqmath([a-j])qq/g, (_, i: string) => math[i.charCodeAt(0) - 97]!)),
  };
}

function bibtexEntries(papers: readonly LibraryPaper[]): BibtexEntry[] {
  const restores = papers.map((p) => withMathKept(p.title));
  const items = papers.map((p, i) => ({ ...cslItemOf(p), title: restores[i]!.text }));
  const entries = new Cite(items).format("bibtex", { format: "object" }) as unknown as BibtexEntry[];
  const labels = new Map<string, number>();
  return entries.map((entry, i) => {
    const paper = papers[i]!;
    const props: Record<string, string> = { ...entry.properties };
    if (props.title) props.title = restores[i]!.restore(props.title);
    // BibTeX's month is a month; Citation.js writes "jan 2" from a full date.
    if (props.month) {
      const month = Number(paper.published?.slice(5, 7));
      if (month >= 1 && month <= 12) props.month = MONTHS[month - 1]!;
      else delete props.month;
    }
    let type = entry.type;
    if (isArxivId(paper.id)) {
      type = "misc";
      delete props.publisher;
      delete props.number;
      props.eprint = paper.id;
      props.archivePrefix = "arXiv";
      if (paper.categories[0]) props.primaryClass = paper.categories[0];
    }
    // Keys are unique within one file: a second "Smith2024Deep" becomes "Smith2024Deepa".
    const base = entry.label || "paper";
    const seen = labels.get(base) ?? 0;
    labels.set(base, seen + 1);
    const label = seen === 0 ? base : seen <= 26 ? `${base}${String.fromCharCode(96 + seen)}` : `${base}-${seen}`;
    return { type, label, properties: props };
  });
}

function writeBibtex(entries: readonly BibtexEntry[]): string {
  return entries
    .map((e) => `@${e.type}{${e.label},\n${Object.entries(e.properties).map(([k, v]) => `\t${k} = {${v}},\n`).join("")}}\n`)
    .join("\n");
}

/** The papers as a citation file in `format` (an empty library: an empty file of that format). */
export function formatCitations(papers: readonly LibraryPaper[], format: CitationFormat): string {
  if (format === "csl-json") return `${JSON.stringify(papers.map(cslItemOf), null, 2)}\n`;
  if (papers.length === 0) return "";
  // One newline at the end (RIS records end "ER  - ", trailing space included).
  if (format === "ris") return `${(new Cite(papers.map(cslItemOf)).format("ris") as string).replace(/\n+$/, "")}\n`;
  return writeBibtex(bibtexEntries(papers));
}
