import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { OnnxEmbedder } from "../../src/embed/onnx-embedder.js";
import { splitPassages, splitSentences } from "../../src/embed/passages.js";
import { recordingLogger, tempDir, writeTinyModel } from "./tiny-model.js";

/** Whitespace words + 2 special tokens, like a BERT tokenizer on plain words. */
const countWords = (s: string): number => s.split(/\s+/).filter(Boolean).length + 2;

const ABSTRACT = `Large language models (LLMs) have shown strong results on many tasks, e.g. question answering and summarization.
However, Smith et al. (2021) found that accuracy drops by 0.5 points on long inputs. As shown in Fig. 3 and Eq. 2, the gap
widens with length! We release v1.2.3 of our toolkit, i.e. the full pipeline. Does scale help? "Not always," we find.
Results hold for J. Smith's benchmark in the U.S. and abroad.

A second paragraph starts here. It has two sentences.`;

const SENTENCES = [
  "Large language models (LLMs) have shown strong results on many tasks, e.g. question answering and summarization.",
  "However, Smith et al. (2021) found that accuracy drops by 0.5 points on long inputs.",
  "As shown in Fig. 3 and Eq. 2, the gap widens with length!",
  "We release v1.2.3 of our toolkit, i.e. the full pipeline.",
  "Does scale help?",
  '"Not always," we find.',
  "Results hold for J. Smith's benchmark in the U.S. and abroad.",
  "A second paragraph starts here.",
  "It has two sentences.",
];

describe("splitSentences", () => {
  it("splits an abstract without breaking abbreviations, citations, figures, decimals or versions", () => {
    expect(splitSentences(ABSTRACT)).toEqual(SENTENCES);
  });

  it("does not split before lower-case continuations or inside numbers", () => {
    expect(splitSentences("Accuracy rose from 91.5 to 93.2 (cf. Table 2). Then it fell, resp. rose again.")).toEqual([
      "Accuracy rose from 91.5 to 93.2 (cf. Table 2).",
      "Then it fell, resp. rose again.",
    ]);
    expect(splitSentences("See Figs. 2 and 3. See Sec. 4.1 for details. Ends here")).toEqual([
      "See Figs. 2 and 3.",
      "See Sec. 4.1 for details.",
      "Ends here",
    ]);
  });

  it("returns nothing for blank text", () => {
    expect(splitSentences("  \n\n \t ")).toEqual([]);
  });
});

describe("splitPassages", () => {
  it("returns one whitespace-normalised passage for a short text, none for an empty one", () => {
    expect(splitPassages("  A short   abstract.\nTwo sentences. ", { maxTokens: 64, countTokens: countWords })).toEqual([
      "A short abstract. Two sentences.",
    ]);
    expect(splitPassages("", { maxTokens: 64, countTokens: countWords })).toEqual([]);
    expect(splitPassages(ABSTRACT, { maxTokens: 512, countTokens: countWords })).toEqual([SENTENCES.join(" ")]);
  });

  it("windows two sentences at a time, in order", () => {
    const passages = splitPassages(ABSTRACT, { maxTokens: 40, countTokens: countWords });
    expect(passages).toEqual([
      `${SENTENCES[0]} ${SENTENCES[1]}`,
      `${SENTENCES[2]} ${SENTENCES[3]}`,
      `${SENTENCES[4]} ${SENTENCES[5]}`,
      `${SENTENCES[6]} ${SENTENCES[7]}`,
      SENTENCES[8],
    ]);
  });

  it("shrinks a window that does not fit", () => {
    // Sentences 0+1 need 29 words + 2 > 24, so sentence 0 goes alone.
    const passages = splitPassages(ABSTRACT, { maxTokens: 24, countTokens: countWords });
    expect(passages[0]).toBe(SENTENCES[0]);
    expect(passages[1]).toBe(SENTENCES[1]);
    for (const p of passages) expect(countWords(p)).toBeLessThanOrEqual(24);
    expect(passages.join(" ")).toBe(SENTENCES.join(" "));
  });

  it("overlaps windows with a smaller stride, without a trailing duplicate", () => {
    const text = "One is here. Two is here. Three is here. Four is here.";
    expect(splitPassages(text, { maxTokens: 10, countTokens: countWords, windowSentences: 2, stride: 1 })).toEqual([
      "One is here. Two is here.",
      "Two is here. Three is here.",
      "Three is here. Four is here.",
    ]);
    expect(splitPassages(text, { maxTokens: 12, countTokens: countWords, windowSentences: 3, stride: 2 })).toEqual([
      "One is here. Two is here. Three is here.",
      "Three is here. Four is here.",
    ]);
  });

  it("splits a sentence longer than the limit at word boundaries", () => {
    const words = Array.from({ length: 50 }, (_, i) => `word${i}`);
    const text = `${words.join(" ")}. Short one.`;
    const passages = splitPassages(text, { maxTokens: 12, countTokens: countWords });
    for (const p of passages) expect(countWords(p)).toBeLessThanOrEqual(12);
    expect(passages.slice(0, 5)).toEqual([0, 10, 20, 30, 40].map((s) => words.slice(s, s + 10).join(" ") + (s === 40 ? "." : "")));
    expect(passages[5]).toBe("Short one.");
    expect(passages).toHaveLength(6);
  });

  it("splits a single word longer than the limit at character boundaries", () => {
    const countChars = (s: string): number => Array.from(s).length; // one token per character
    const dna = "ACGT".repeat(25); // 100 characters
    const passages = splitPassages(`${dna} end.`, { maxTokens: 30, countTokens: countChars });
    for (const p of passages) expect(countChars(p)).toBeLessThanOrEqual(30);
    expect(passages.join("").replace(/\s/g, "")).toBe(`${dna}end.`);
  });

  it("always fits, keeps every word in order, and is deterministic, for many limits", () => {
    const long = `${ABSTRACT} ${"Moreover the method scales to millions of documents without loss. ".repeat(6)}`;
    const allWords = SENTENCES.join(" ").split(" ").length;
    for (let maxTokens = 5; maxTokens <= 80; maxTokens += 5) {
      const a = splitPassages(long, { maxTokens, countTokens: countWords });
      expect(splitPassages(long, { maxTokens, countTokens: countWords })).toEqual(a);
      for (const p of a) expect(countWords(p)).toBeLessThanOrEqual(maxTokens);
      expect(a.join(" ").split(" ").slice(0, allWords).join(" ")).toBe(SENTENCES.join(" "));
    }
  });

  it("rejects nonsensical options", () => {
    expect(() => splitPassages("x", { maxTokens: 0, countTokens: countWords })).toThrow(RangeError);
    expect(() => splitPassages("x", { maxTokens: 10, countTokens: countWords, windowSentences: 0 })).toThrow(RangeError);
    expect(() => splitPassages("x", { maxTokens: 10, countTokens: countWords, stride: 0 })).toThrow(RangeError);
  });

  describe("with a real tokenizer", () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let embedder: OnnxEmbedder;
    beforeAll(async () => {
      tmp = await tempDir();
      embedder = await OnnxEmbedder.load(await writeTinyModel(path.join(tmp.dir, "tiny")), { device: "cpu", logger: recordingLogger() });
    });
    afterAll(async () => {
      await embedder?.dispose();
      await tmp?.cleanup();
    });

    it("produces passages that each fit the model's limit and embed untruncated", async () => {
      const countTokens = (t: string): number => embedder.countTokens(t);
      const passages = splitPassages(ABSTRACT, { maxTokens: embedder.maxTokens, countTokens });
      expect(passages.length).toBeGreaterThan(3);
      for (const p of passages) expect(countTokens(p)).toBeLessThanOrEqual(embedder.maxTokens);
      const results = await embedder.embedDetailed(passages, "passage");
      expect(results.every((r) => !r.truncated)).toBe(true);
    });
  });
});
