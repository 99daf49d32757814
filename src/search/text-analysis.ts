/**
 * How text becomes BM25 terms, the same way for papers and queries: Unicode letter/digit runs,
 * compatibility-normalised, diacritics removed, lower-cased, English stop words dropped, Porter
 * stemmed (the same rules as SQLite FTS5's `porter unicode61 remove_diacritics 2` tokenizer, which
 * the search core used before; see bm25-index.ts for why it moved into memory).
 *
 * A paper's terms are stored per paper as a compact blob (`encodeTermData`) of term ids, so the
 * in-memory index can be rebuilt from the store without re-analysing any text.
 */
import { stemmer } from "stemmer";
import { PaperhoundError } from "../errors.js";

/** Terms longer than this are not indexed or searched (no real word is; it bounds the dictionary). */
export const MAX_TERM_LENGTH = 100;

// A conventional English stop list (short function words): they match most papers and carry no topic.
const STOP_WORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between " +
    "both but by can could did do does doing down during each few for from further had has have having he her " +
    "here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not " +
    "now of off on once only or other our ours ourselves out over own same she should so some such than that the " +
    "their theirs them themselves then there these they this those through to too under until up very was we " +
    "were what when where which while who whom why will with would you your yours yourself yourselves via using " +
    "use used toward towards"
  ).split(" "),
);

export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;

/** Stems of words already seen: analysing a corpus meets the same few hundred thousand words again and again. */
const stemCache = new Map<string, string>();
const STEM_CACHE_LIMIT = 500_000;

function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    // The Porter rules are for English letters; words with digits or other scripts are kept as they are.
    s = /^[a-z]+$/.test(word) ? stemmer(word) : word;
    if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/** Lower-cased, diacritic-free words of `text`, in order, stop words included. */
export function words(text: string): string[] {
  const folded = text.normalize("NFKD").replace(MARKS, "").toLowerCase();
  return folded.match(WORD) ?? [];
}

export interface AnalysedText {
  /** term → occurrences (stop words and over-long words are not terms). */
  terms: Map<string, number>;
  /** Every word counted, stop words included (BM25's document length). */
  length: number;
}

export function analyse(text: string): AnalysedText {
  const terms = new Map<string, number>();
  const all = words(text);
  for (const w of all) {
    if (w.length > MAX_TERM_LENGTH || STOP_WORDS.has(w)) continue;
    const t = stem(w);
    terms.set(t, (terms.get(t) ?? 0) + 1);
  }
  return { terms, length: all.length };
}

/**
 * A query's distinct terms in first-seen order, at most `maxTerms`. Nothing of the input survives
 * but these stems, so no query syntax of any kind can reach the index.
 */
export function queryTerms(text: string, maxTerms: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const w of words(text)) {
    if (w.length > MAX_TERM_LENGTH || STOP_WORDS.has(w)) continue;
    const t = stem(w);
    if (seen.has(t)) continue;
    seen.add(t);
    out.push(t);
    if (out.length >= maxTerms) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Per-paper term data: varints [titleLength, abstractLength, termCount, (idDelta, tfTitle, tfAbstract)*]
// with term ids ascending. About 4 bytes a term; an arXiv abstract has ~110 distinct terms.

export interface TermData {
  titleLength: number;
  abstractLength: number;
  /** Ascending term ids. */
  ids: number[];
  tfTitle: number[];
  tfAbstract: number[];
}

export class TermDataError extends PaperhoundError {
  readonly identifier = "term_data";
  override readonly name = "TermDataError";
}

function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function encodeTermData(d: TermData): Buffer {
  const out: number[] = [];
  pushVarint(out, d.titleLength);
  pushVarint(out, d.abstractLength);
  pushVarint(out, d.ids.length);
  let prev = 0;
  for (let i = 0; i < d.ids.length; i++) {
    const id = d.ids[i]!;
    if (i > 0 && id <= prev) throw new TermDataError("term ids must be ascending and distinct");
    pushVarint(out, id - prev);
    pushVarint(out, d.tfTitle[i]!);
    pushVarint(out, d.tfAbstract[i]!);
    prev = id;
  }
  return Buffer.from(out);
}

/** Reusable output of decodeTermDataInto (grows as needed). */
export class TermDataScratch {
  // Float64: every value the varints can hold stays exact (ids are SQLite rowids).
  ids = new Float64Array(256);
  tfTitle = new Float64Array(256);
  tfAbstract = new Float64Array(256);
  titleLength = 0;
  abstractLength = 0;
  count = 0;

  ensure(n: number): void {
    if (n <= this.ids.length) return;
    let size = this.ids.length;
    while (size < n) size *= 2;
    this.ids = new Float64Array(size);
    this.tfTitle = new Float64Array(size);
    this.tfAbstract = new Float64Array(size);
  }
}

/**
 * Decodes a term-data blob into reusable arrays (no allocation or callback per term: the BM25 build
 * decodes 13M terms at 140k papers). A truncated, over-long or trailing blob → TermDataError.
 */
export function decodeTermDataInto(blob: Uint8Array, out: TermDataScratch): void {
  let pos = 0;
  const end = blob.length;
  const next = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (pos >= end) throw new TermDataError("term data ends in the middle of a number");
      const b = blob[pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
      if (mul > 2 ** 35) throw new TermDataError("term data holds a number that is too long");
    }
  };
  out.titleLength = next();
  out.abstractLength = next();
  const count = next();
  if (count > end) throw new TermDataError("term data declares more terms than it holds");
  out.ensure(count);
  const { ids, tfTitle, tfAbstract } = out;
  let id = 0;
  for (let i = 0; i < count; i++) {
    // Ids and counts are nearly always one byte: read those inline.
    let b = pos < end ? blob[pos]! : 0x80;
    if (b < 0x80) {
      pos++;
      id += b;
    } else id += next();
    ids[i] = id;
    b = pos < end ? blob[pos]! : 0x80;
    if (b < 0x80) {
      pos++;
      tfTitle[i] = b;
    } else tfTitle[i] = next();
    b = pos < end ? blob[pos]! : 0x80;
    if (b < 0x80) {
      pos++;
      tfAbstract[i] = b;
    } else tfAbstract[i] = next();
  }
  if (pos !== end) throw new TermDataError("term data has trailing bytes");
  out.count = count;
}

export function decodeTermData(blob: Uint8Array): TermData {
  const scratch = new TermDataScratch();
  decodeTermDataInto(blob, scratch);
  const n = scratch.count;
  return {
    titleLength: scratch.titleLength,
    abstractLength: scratch.abstractLength,
    ids: Array.from(scratch.ids.subarray(0, n)),
    tfTitle: Array.from(scratch.tfTitle.subarray(0, n)),
    tfAbstract: Array.from(scratch.tfAbstract.subarray(0, n)),
  };
}

/**
 * A paper's term data, with term ids from `idOf` (which assigns ids to new terms). Title and
 * abstract are counted separately so the title weight can change without re-analysing anything.
 */
export function paperTermData(title: string, abstract: string, idOf: (term: string) => number): TermData {
  const t = analyse(title);
  const a = analyse(abstract);
  const byId = new Map<number, [number, number]>();
  for (const [term, n] of t.terms) byId.set(idOf(term), [n, 0]);
  for (const [term, n] of a.terms) {
    const id = idOf(term);
    const e = byId.get(id);
    if (e) e[1] = n;
    else byId.set(id, [0, n]);
  }
  const ids = [...byId.keys()].sort((x, y) => x - y);
  return {
    titleLength: t.length,
    abstractLength: a.length,
    ids,
    tfTitle: ids.map((id) => byId.get(id)![0]),
    tfAbstract: ids.map((id) => byId.get(id)![1]),
  };
}
