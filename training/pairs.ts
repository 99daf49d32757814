/**
 * Training pairs for the contrastive fine-tuning in training/, built from arXiv titles and abstracts
 * only, with the product's own text handling: documents are the passages `passageTextsOf` would index
 * (title, then packed whole sentences up to 128 tokens) and token ids come from the product's
 * tokenizer, so the network is trained on exactly what it sees at search time.
 *
 * Pair kinds:
 *  - title: the title → the abstract's first passage without the title;
 *  - ict (inverse cloze): one sentence of the abstract → title + the rest of the abstract, the
 *    sentence removed (queries that look like claims and questions; no words to copy).
 */
import { createHash } from "node:crypto";
import { splitSentences } from "../src/embed/passages.js";
import { seededRandom } from "../src/random.js";
import { passageTextsOf } from "../src/search/paper-passages.js";

export const QUERY_MAX_TOKENS = 48;
export const DOC_MAX_TOKENS = 128;
/** One record: kind, query length, document length, then the padded ids (int16 each). */
export const RECORD_INTS = 3 + QUERY_MAX_TOKENS + DOC_MAX_TOKENS;
export const PAIR_KINDS = ["title", "ict"] as const;
export type PairKind = (typeof PAIR_KINDS)[number];

/** Texts longer than this (characters) are cut at a word boundary before anything else. */
export const MAX_ABSTRACT_CHARS = 6000;
const MIN_ABSTRACT_WORDS = 30;
const MIN_TITLE_WORDS = 2;
/** ICT query sentences: long enough to say something, short enough to be a query. */
const ICT_MIN_WORDS = 6;
const ICT_MAX_WORDS = 60;
/** Papers in the dev set: 1 in DEV_MODULUS by a hash of the id (2%). */
export const DEV_MODULUS = 50;

export interface RawPaper {
  id?: unknown;
  title?: unknown;
  abstract?: unknown;
  authors?: unknown;
  categories?: unknown;
}

export interface CleanPaper {
  id: string;
  title: string;
  abstract: string;
  authors: string[];
  categories: string[];
}

export type SkipReason = "not-an-object" | "no-id" | "duplicate-id" | "duplicate-text" | "short" | "non-english" | "unknown-tokens";

export interface Tokenizer {
  encode(text: string): number[];
}

/** Control characters (except tab/newline) become spaces; runs of whitespace collapse. */
export function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g, " ").replace(/\s+/g, " ").trim();
}

/** Cuts `text` to at most `max` characters at a word boundary. */
export function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(" ");
  return space > max / 2 ? cut.slice(0, space) : cut;
}

/** Share of letters that are ASCII: arXiv abstracts in other languages score far below 0.9. */
export function asciiLetterShare(text: string): number {
  let letters = 0;
  let ascii = 0;
  for (const ch of text) {
    if (/\p{L}/u.test(ch)) {
      letters++;
      if (ch.charCodeAt(0) < 128) ascii++;
    }
  }
  return letters === 0 ? 0 : ascii / letters;
}

/** Stable dev/train assignment from the id alone. */
export function isDevPaper(id: string): boolean {
  return createHash("sha1").update(id).digest().readUInt32BE(0) % DEV_MODULUS === 0;
}

/**
 * Filters and normalises papers as they stream in. Keeps counts of what it skipped and why.
 */
export class PaperCleaner {
  readonly skipped = new Map<SkipReason, number>();
  cut = 0;
  accepted = 0;
  private readonly ids = new Set<string>();
  private readonly texts = new Set<string>();

  constructor(private readonly tokenizer: Tokenizer) {}

  accept(raw: unknown): CleanPaper | undefined {
    if (!raw || typeof raw !== "object") return this.skip("not-an-object");
    const r = raw as RawPaper;
    const id = typeof r.id === "string" ? r.id.trim() : "";
    if (!id) return this.skip("no-id");
    if (this.ids.has(id)) return this.skip("duplicate-id");
    const title = cleanText(typeof r.title === "string" ? r.title : "");
    let abstract = cleanText(typeof r.abstract === "string" ? r.abstract : "");
    if (abstract.length > MAX_ABSTRACT_CHARS) {
      abstract = cutAtWord(abstract, MAX_ABSTRACT_CHARS);
      this.cut++;
    }
    if (title.split(" ").length < MIN_TITLE_WORDS || abstract.split(" ").length < MIN_ABSTRACT_WORDS) return this.skip("short");
    const key = createHash("sha1").update(abstract.toLowerCase()).digest("hex");
    if (this.texts.has(key)) return this.skip("duplicate-text");
    if (asciiLetterShare(`${title} ${abstract}`) < 0.9) return this.skip("non-english");
    const ids = this.tokenizer.encode(abstract.slice(0, 2000));
    if (ids.filter((t) => t === 0).length > 0.05 * ids.length) return this.skip("unknown-tokens");
    this.ids.add(id);
    this.texts.add(key);
    this.accepted++;
    const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string").map(cleanText).filter(Boolean) : []);
    return { id, title, abstract, authors: strings(r.authors), categories: strings(r.categories) };
  }

  private skip(reason: SkipReason): undefined {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
    return undefined;
  }
}

export interface Pair {
  kind: PairKind;
  query: string;
  doc: string;
}

/** The text of the paper as indexed: its first passage (title + packed sentences). */
export function firstPassage(title: string, abstract: string, countTokens: (t: string) => number): string {
  return passageTextsOf({ title, abstract }, { maxTokens: DOC_MAX_TOKENS, countTokens })[0] ?? title;
}

/** An ICT split of the paper: one sentence and the rest, or undefined if no sentence qualifies. */
export function ictSplit(abstract: string, random: () => number): { sentence: string; rest: string } | undefined {
  const sentences = splitSentences(abstract);
  if (sentences.length < 3) return undefined;
  const candidates = sentences
    .map((s, i) => ({ s, i, words: s.split(" ").length }))
    .filter((c) => c.words >= ICT_MIN_WORDS && c.words <= ICT_MAX_WORDS);
  if (candidates.length === 0) return undefined;
  const pick = candidates[Math.floor(random() * candidates.length)]!;
  return { sentence: pick.s, rest: sentences.filter((_, i) => i !== pick.i).join(" ") };
}

/** The training pairs of one paper (deterministic for a given seed and id). */
export function pairsOf(paper: CleanPaper, seed: number, countTokens: (t: string) => number): Pair[] {
  const random = seededRandom(seed ^ createHash("sha1").update(paper.id).digest().readUInt32BE(0));
  const pairs: Pair[] = [{ kind: "title", query: paper.title, doc: firstPassage("", paper.abstract, countTokens) }];
  const ict = ictSplit(paper.abstract, random);
  if (ict) pairs.push({ kind: "ict", query: ict.sentence, doc: firstPassage(paper.title, ict.rest, countTokens) });
  return pairs;
}

/** Packs a tokenised pair into one int16 record (ids truncated to the limits, as the embedder does). */
export function encodeRecord(kind: PairKind, queryIds: number[], docIds: number[], out: Int16Array, at: number): void {
  const q = queryIds.slice(0, QUERY_MAX_TOKENS);
  const d = docIds.slice(0, DOC_MAX_TOKENS);
  const base = at * RECORD_INTS;
  out.fill(0, base, base + RECORD_INTS);
  out[base] = PAIR_KINDS.indexOf(kind);
  out[base + 1] = q.length;
  out[base + 2] = d.length;
  out.set(q, base + 3);
  out.set(d, base + 3 + QUERY_MAX_TOKENS);
}

/** Abstract tokens kept per paper in papers-train.bin: enough to fill a 128-token document after a query sentence is removed. */
export const PAPER_TOKENS_KEPT = 200;

/**
 * One training paper as int16 values for pairs drawn afresh each pass (train.py `--data-kind papers`):
 *   [sentence count n, title length, prefix length, then n lengths (negative: the sentence may be an
 *   ICT query), then the title's ids, the prefix's ids ("Title. ") and each sentence's ids]
 * Sentences are kept while their tokens add up to PAPER_TOKENS_KEPT (the first always). A sentence
 * may be a query under the rule of `ictSplit` (6-60 words, at least 3 sentences in the abstract).
 * Pieces are tokenised one by one: the tokenizer marks each word's start, so the ids of the joined
 * text are the pieces' ids joined (the document `firstPassage` would make, up to its 128-token cut).
 */
export function encodePaper(paper: Pick<CleanPaper, "title" | "abstract">, tokenizer: Tokenizer): Int16Array {
  const sentences = splitSentences(paper.abstract);
  const mayQuery = sentences.length >= 3;
  const title = tokenizer.encode(paper.title);
  const prefix = tokenizer.encode(`${paper.title}.`);
  const kept: { ids: number[]; query: boolean }[] = [];
  let total = 0;
  for (const s of sentences) {
    const ids = tokenizer.encode(s).slice(0, DOC_MAX_TOKENS);
    if (kept.length > 0 && total + ids.length > PAPER_TOKENS_KEPT) break;
    const words = s.split(" ").length;
    kept.push({ ids, query: mayQuery && words >= ICT_MIN_WORDS && words <= ICT_MAX_WORDS });
    total += ids.length;
  }
  const t = title.slice(0, QUERY_MAX_TOKENS);
  const p = prefix.slice(0, DOC_MAX_TOKENS);
  const out = new Int16Array(3 + kept.length + t.length + p.length + total);
  out[0] = kept.length;
  out[1] = t.length;
  out[2] = p.length;
  kept.forEach((k, i) => (out[3 + i] = k.query ? -k.ids.length : k.ids.length));
  let at = 3 + kept.length;
  for (const ids of [t, p, ...kept.map((k) => k.ids)]) {
    out.set(ids, at);
    at += ids.length;
  }
  return out;
}
