/**
 * The training-pair builder (training/pairs.ts): what it skips and why, how it normalises, that
 * pairs are deterministic and never leak the query sentence into its document.
 */
import { describe, expect, it } from "vitest";
import {
  DOC_MAX_TOKENS,
  PaperCleaner,
  QUERY_MAX_TOKENS,
  RECORD_INTS,
  asciiLetterShare,
  cleanText,
  encodePaper,
  encodeRecord,
  isDevPaper,
  PAPER_TOKENS_KEPT,
  pairsOf,
  MAX_ABSTRACT_CHARS,
} from "../../training/pairs.js";

/** A word tokenizer stands in for the model's: the builder only needs ids and counts. */
const words = { encode: (t: string) => t.split(" ").filter(Boolean).map((w) => (/^[\x20-\x7e]+$/.test(w) ? 7 : 0)) };
const count = (t: string) => words.encode(t).length;

const sentence = (i: number) => `Sentence number ${i} describes a distinct finding about graph neural networks and their training.`;
const abstract = Array.from({ length: 6 }, (_, i) => sentence(i)).join(" ");

describe("PaperCleaner", () => {
  it("keeps a normal paper and counts every skip by reason", () => {
    const c = new PaperCleaner(words);
    expect(c.accept({ id: "2401.00001", title: "Graph networks", abstract })).toMatchObject({ id: "2401.00001", title: "Graph networks" });
    expect(c.accept(null)).toBeUndefined();
    expect(c.accept("text")).toBeUndefined();
    expect(c.accept({ title: "No id", abstract })).toBeUndefined();
    expect(c.accept({ id: "2401.00001", title: "Again", abstract: abstract + " x" })).toBeUndefined();
    expect(c.accept({ id: "2401.00002", title: "Copied paper", abstract: abstract.toUpperCase() })).toBeUndefined();
    expect(c.accept({ id: "2401.00003", title: "Empty", abstract: "" })).toBeUndefined();
    expect(c.accept({ id: "2401.00004", title: "", abstract: abstract + " y" })).toBeUndefined();
    expect(c.accept({ id: "2401.00005", title: "Обучение графовых сетей", abstract: Array.from({ length: 40 }, () => "обучение").join(" ") })).toBeUndefined();
    expect(c.accept({ id: "2401.00006", title: "Numbers", abstract: 42 })).toBeUndefined();
    expect(Object.fromEntries(c.skipped)).toEqual({
      "not-an-object": 2,
      "no-id": 1,
      "duplicate-id": 1,
      "duplicate-text": 1,
      short: 3,
      "non-english": 1,
    });
    expect(c.accepted).toBe(1);
  });

  it("normalises control characters, bidi overrides and whitespace, and cuts very long abstracts", () => {
    const c = new PaperCleaner(words);
    const long = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(" ");
    const p = c.accept({ id: "x1", title: "A\u0000title\u202e  with\tjunk", abstract: long })!;
    expect(p.title).toBe("A title with junk");
    expect(p.abstract.length).toBeLessThanOrEqual(MAX_ABSTRACT_CHARS);
    expect(p.abstract.endsWith(" ")).toBe(false);
    expect(c.cut).toBe(1);
    expect(cleanText("  a \u200b b\n\nc ")).toBe("a b c");
  });

  it("refuses text the tokenizer mostly cannot read", () => {
    const c = new PaperCleaner(words);
    const odd = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? "∂∇" : "model")).join(" ");
    expect(c.accept({ id: "u1", title: "Odd symbols", abstract: odd })).toBeUndefined();
    expect(c.skipped.get("unknown-tokens")).toBe(1);
  });

  it("measures the ASCII share of letters", () => {
    expect(asciiLetterShare("abc")).toBe(1);
    expect(asciiLetterShare("абв abc")).toBe(0.5);
    expect(asciiLetterShare("123")).toBe(0);
  });
});

describe("pairsOf", () => {
  const paper = { id: "2402.12345", title: "Graph networks that generalise", abstract, authors: [], categories: [] };

  it("gives a title pair and an inverse-cloze pair whose document lacks the query sentence", () => {
    const pairs = pairsOf(paper, 1, count);
    expect(pairs.map((p) => p.kind)).toEqual(["title", "ict"]);
    expect(pairs[0]!.query).toBe(paper.title);
    expect(pairs[0]!.doc).not.toContain(paper.title);
    const ict = pairs[1]!;
    expect(abstract).toContain(ict.query);
    expect(ict.doc.startsWith(`${paper.title}. `)).toBe(true);
    expect(ict.doc).not.toContain(ict.query);
  });

  it("is deterministic for a seed and varies with it", () => {
    expect(pairsOf(paper, 1, count)).toEqual(pairsOf(paper, 1, count));
    const picks = new Set(Array.from({ length: 20 }, (_, seed) => pairsOf(paper, seed, count)[1]!.query));
    expect(picks.size).toBeGreaterThan(1);
  });

  it("skips the inverse-cloze pair for abstracts of fewer than three sentences", () => {
    const short = { ...paper, abstract: `${sentence(1)} ${sentence(2)}` };
    expect(pairsOf(short, 1, count).map((p) => p.kind)).toEqual(["title"]);
  });
});

describe("records and the dev split", () => {
  it("packs kind, lengths and ids, truncated to the limits", () => {
    const out = new Int16Array(RECORD_INTS * 2);
    encodeRecord("ict", Array.from({ length: 100 }, (_, i) => i + 1), [5, 6, 7], out, 1);
    const r = out.subarray(RECORD_INTS);
    expect([r[0], r[1], r[2]]).toEqual([1, QUERY_MAX_TOKENS, 3]);
    expect(r[3]).toBe(1);
    expect(r[3 + QUERY_MAX_TOKENS - 1]).toBe(QUERY_MAX_TOKENS);
    expect(Array.from(r.subarray(3 + QUERY_MAX_TOKENS, 3 + QUERY_MAX_TOKENS + 4))).toEqual([5, 6, 7, 0]);
    expect(RECORD_INTS).toBe(3 + QUERY_MAX_TOKENS + DOC_MAX_TOKENS);
    expect(out.subarray(0, RECORD_INTS).every((v) => v === 0)).toBe(true);
  });

  it("puts about 2% of papers in the dev set, by id alone", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `24${String(i).padStart(6, "0")}`);
    const dev = ids.filter(isDevPaper).length / ids.length;
    expect(dev).toBeGreaterThan(0.015);
    expect(dev).toBeLessThan(0.025);
    expect(isDevPaper("2401.00631")).toBe(isDevPaper("2401.00631"));
  });
});

describe("encodePaper", () => {
  it("lays out the title, the prefix and the sentences, marking those that may be a query", () => {
    const v = encodePaper({ title: "Graph networks", abstract: `${abstract} Too short.` }, words);
    const n = v[0]!;
    expect(n).toBe(7);
    expect([v[1], v[2]]).toEqual([2, 2]);
    const lens = Array.from(v.subarray(3, 3 + n));
    // Six 14-word sentences may be asked; "Too short." (2 words) may not.
    expect(lens).toEqual([-14, -14, -14, -14, -14, -14, 2]);
    expect(v.length).toBe(3 + n + 2 + 2 + 6 * 14 + 2);
  });

  it("keeps sentences up to the token budget, the first always, and asks none of a two-sentence abstract", () => {
    const long = Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ");
    const v = encodePaper({ title: "Graph networks", abstract: long }, words);
    const lens = Array.from(v.subarray(3, 3 + v[0]!)).map(Math.abs);
    expect(lens.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(PAPER_TOKENS_KEPT);
    expect(lens.length).toBe(Math.floor(PAPER_TOKENS_KEPT / 14));
    const run = (n: number) => ["Word", ...Array.from({ length: n - 1 }, () => "word")].join(" ");
    const huge = encodePaper({ title: "Graph networks", abstract: `${run(300)}. ${run(80)}. Third one here.` }, words);
    expect(huge[0]).toBe(1); // the first sentence, cut to 128 ids, leaves no room for the 80-word second
    expect(huge[3]).toBe(DOC_MAX_TOKENS);
    const two = encodePaper({ title: "Graph networks", abstract: `${sentence(1)} ${sentence(2)}` }, words);
    expect(Array.from(two.subarray(3, 3 + two[0]!))).toEqual([14, 14]);
  });
});
