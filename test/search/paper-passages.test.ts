/** passageTextsOf: the text a paper's vector is built from; bounded work whatever the abstract's length. */
import { describe, expect, it } from "vitest";
import { MAX_PASSAGES, passageTextsOf } from "../../src/search/paper-passages.js";

/** A whitespace tokenizer that records how much text it was asked to count. */
function countingTokenizer(maxTokens: number) {
  let charsCounted = 0;
  return {
    maxTokens,
    countTokens: (t: string) => {
      charsCounted += t.length;
      return t.split(/\s+/).filter(Boolean).length;
    },
    charsCounted: () => charsCounted,
  };
}

const sentence = (i: number) => `Sentence number ${i} says something about sparse attention in graph networks.`;

describe("passageTextsOf", () => {
  it("packs whole sentences after the title into at most MAX_PASSAGES windows", () => {
    const tok = countingTokenizer(32);
    const abstract = Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ");
    const windows = passageTextsOf({ title: "Sparse attention", abstract }, tok);
    expect(windows).toHaveLength(MAX_PASSAGES);
    for (const w of windows) {
      expect(w.startsWith("Sparse attention. Sentence number")).toBe(true);
      expect(tok.countTokens(w)).toBeLessThanOrEqual(32 + 2);
    }
  });

  it("looks at a bounded start of a huge abstract (a 4 MB abstract costs what a 1 MB one does)", () => {
    const make = (bytes: number) => Array.from({ length: Math.ceil(bytes / 80) }, (_, i) => sentence(i)).join(" ");
    const small = countingTokenizer(128);
    const large = countingTokenizer(128);
    const a = passageTextsOf({ title: "T", abstract: make(1_000_000) }, small);
    const b = passageTextsOf({ title: "T", abstract: make(4_000_000) }, large);
    expect(b).toEqual(a);
    expect(large.charsCounted()).toBe(small.charsCounted());
    expect(large.charsCounted()).toBeLessThan(200_000);
  });
});
