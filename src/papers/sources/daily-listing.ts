/**
 * A daily-papers listing page saved as text (the page paperhound grew from, committed as
 * data/sample/trending-papers-page.txt):
 *
 *   new                                        ┐
 *   Get trending papers in your email inbox!   │ page chrome: short lines, each followed by
 *   Subscribe                                  │ another short line, never by an abstract
 *   byAK and the research community            │
 *   Jun 6                                      ┘
 *   <title>                                    ┐ one paper: a short paragraph (the title),
 *   <blank>                                    │ a blank line, a long paragraph (the abstract)
 *   <abstract paragraph>                       ┘
 *   <blank>
 *   <title> ...
 *
 * (blank lines separate paragraphs; shown without them above.)
 *
 * Rules: a paper is a short paragraph (≤ 300 characters) followed by a long one (≥ 80 characters
 * and longer than the first), unless that long one is itself a title followed by its abstract
 * (a date line before a long title). A long paragraph right after an abstract continues that abstract
 * (multi-paragraph abstracts). Any other paragraph is page chrome (headers, date lines between
 * days, footers) and is reported in `skipped`, never silently turned into a paper. Lines wrapped
 * inside a paragraph are joined with a space; a one-line abstract is kept exactly (trimmed).
 *
 * The page has no arXiv ids, authors, categories or dates: ids are `<source>:<slug of title>`
 * (`sample:relative-representations-enable-zero-shot-latent-space-communication`), authors and
 * categories are empty, and no dates are set.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { projectRoot } from "../../paths.js";
import type { Paper } from "../types.js";
import { PaperhoundError } from "../../errors.js";

export class ListingParseError extends PaperhoundError {
  readonly identifier = "listing_parse";
  override readonly name = "ListingParseError";
  constructor(
    message: string,
    /** 1-based line of the input the problem is at, when there is one. */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

export interface DailyListingOptions {
  /** `Paper.source` and the id namespace; default "sample". */
  source?: string;
}

export interface SkippedParagraph {
  /** 1-based line the paragraph starts on. */
  line: number;
  text: string;
}

export interface DailyListingResult {
  papers: Paper[];
  /** Paragraphs that are not part of a paper (page headers, date lines, footers), in order. */
  skipped: SkippedParagraph[];
}

/** Longest paragraph taken as a title. */
const MAX_TITLE_CHARS = 300;
/** Shortest paragraph taken as an abstract. */
const MIN_ABSTRACT_CHARS = 80;
/** Longest slug, suffix included. */
export const MAX_SLUG_CHARS = 80;

interface Paragraph {
  line: number;
  text: string;
}

function paragraphs(text: string): Paragraph[] {
  const out: Paragraph[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  let current: string[] = [];
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") {
      if (current.length > 0) out.push({ line: start, text: current.join(" ") });
      current = [];
      return;
    }
    if (current.length === 0) start = i + 1;
    current.push(line);
  });
  if (current.length > 0) out.push({ line: start, text: current.join(" ") });
  return out;
}

/** Letters NFKD does not decompose into ASCII. */
const FOLD: Record<string, string> = { ß: "ss", æ: "ae", œ: "oe", ø: "o", ł: "l", đ: "d", þ: "th" };

/**
 * Lowercase ASCII words of `title` joined with "-", at most `max` characters, cut at a word
 * boundary. Accents are folded (é → e, ß → ss), apostrophes dropped (Plato's → platos); a title with no ASCII letters or digits gets
 * "t-<hash of the title>", so the slug is never empty and always the same for the same title.
 */
export function slugify(title: string, max = MAX_SLUG_CHARS): string {
  const words = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[ßæœøłđþ]/g, (c) => FOLD[c] ?? c)
    .replace(/['\u2019]/g, "")
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
  let slug = "";
  for (const w of words) {
    const next = slug ? `${slug}-${w}` : w;
    if (next.length > max) {
      if (!slug) slug = w.slice(0, max); // one giant word
      break;
    }
    slug = next;
  }
  if (!slug) slug = `t-${createHash("sha1").update(title).digest("hex").slice(0, 12)}`;
  return slug;
}

/** Gives each slug a unique form: the first keeps it, later ones get -2, -3, ... (still ≤ max chars). */
export class SlugAllocator {
  private readonly used = new Set<string>();
  constructor(private readonly max = MAX_SLUG_CHARS) {}

  allocate(title: string): string {
    const base = slugify(title, this.max);
    let slug = base;
    for (let n = 2; this.used.has(slug); n++) {
      const suffix = `-${n}`;
      slug = `${slugify(title, this.max - suffix.length)}${suffix}`;
    }
    this.used.add(slug);
    return slug;
  }
}

/** Parses a listing page and reports the paragraphs that were not papers. Throws `ListingParseError`. */
export function parseDailyListingDetailed(text: string, opts: DailyListingOptions = {}): DailyListingResult {
  if (typeof text !== "string") throw new ListingParseError("listing is not text");
  const source = opts.source ?? "sample";
  if (!/^[a-z0-9][a-z0-9._-]*$/i.test(source)) {
    throw new ListingParseError(`source "${source}" must be letters, digits, ".", "_" or "-" (it becomes the id namespace)`);
  }
  const paras = paragraphs(text);
  if (paras.length === 0) throw new ListingParseError("listing is empty");

  const isTitle = (p: Paragraph | undefined) => p !== undefined && p.text.length <= MAX_TITLE_CHARS;
  const isAbstractAfter = (title: Paragraph, p: Paragraph | undefined) =>
    p !== undefined && p.text.length >= MIN_ABSTRACT_CHARS && p.text.length > title.text.length;

  const papers: Paper[] = [];
  const skipped: SkippedParagraph[] = [];
  const slugs = new SlugAllocator();
  let lastWasAbstract = false;
  for (let i = 0; i < paras.length; i++) {
    const p = paras[i]!;
    const next = paras[i + 1];
    // "Jun 6" before a long title: the title, not the date line, starts the paper.
    const nextStartsPaper = isTitle(next) && isAbstractAfter(next!, paras[i + 2]);
    if (isTitle(p) && isAbstractAfter(p, next) && !nextStartsPaper) {
      papers.push({
        id: `${source}:${slugs.allocate(p.text)}`,
        title: p.text,
        abstract: next!.text,
        authors: [],
        categories: [],
        links: {},
        source,
      });
      i++;
      lastWasAbstract = true;
      continue;
    }
    if (lastWasAbstract && p.text.length >= MIN_ABSTRACT_CHARS) {
      const prev = papers[papers.length - 1]!;
      prev.abstract = `${prev.abstract}\n\n${p.text}`;
      continue;
    }
    skipped.push({ line: p.line, text: p.text });
    lastWasAbstract = false;
  }
  if (papers.length === 0) {
    throw new ListingParseError(
      `no papers found in ${paras.length} paragraph(s): expected a title line, a blank line, then an abstract paragraph of at least ${MIN_ABSTRACT_CHARS} characters`,
    );
  }
  return { papers, skipped };
}

/**
 * Parses a listing page into papers (`parseDailyListingDetailed` also returns what was skipped).
 * Throws `ListingParseError` for empty text or text with no paper in it.
 */
export function parseDailyListing(text: string, opts: DailyListingOptions = {}): Paper[] {
  return parseDailyListingDetailed(text, opts).papers;
}

/** The committed sample listing (37 papers). */
export const sampleCorpusPath = path.join(projectRoot, "data", "sample", "trending-papers-page.txt");

/** Reads and parses the committed sample listing: 37 papers with source "sample". */
export async function loadSampleCorpus(): Promise<Paper[]> {
  let text: string;
  try {
    text = await readFile(sampleCorpusPath, "utf8");
  } catch (err) {
    throw new ListingParseError(`cannot read the sample corpus ${sampleCorpusPath}: ${(err as Error).message}`);
  }
  try {
    return parseDailyListing(text, { source: "sample" });
  } catch (err) {
    if (err instanceof ListingParseError) throw new ListingParseError(`${sampleCorpusPath}: ${err.message}`);
    throw err;
  }
}
