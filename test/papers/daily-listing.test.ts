import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ListingParseError,
  SlugAllocator,
  loadSampleCorpus,
  parseDailyListing,
  parseDailyListingDetailed,
  sampleCorpusPath,
  slugify,
} from "../../src/papers/sources/daily-listing.js";
import { projectRoot } from "../../src/paths.js";

/** An abstract-shaped paragraph (well over 80 characters). */
const abstract = (words: string) => `${words} `.repeat(20).trim() + ".";

describe("parseDailyListing on small pages", () => {
  it("skips header lines and reads title / blank / abstract blocks", () => {
    const text = [
      "new",
      "",
      "Get trending papers in your email inbox!",
      "",
      "Subscribe",
      "",
      "Jun 6",
      "",
      "A Short Title",
      "",
      `  ${abstract("alpha beta")}  `,
      "",
      "Another Title: With Punctuation?",
      "",
      abstract("gamma delta"),
      "",
    ].join("\n");
    const { papers, skipped } = parseDailyListingDetailed(text);
    expect(papers.map((p) => p.title)).toEqual(["A Short Title", "Another Title: With Punctuation?"]);
    expect(papers[0]).toEqual({
      id: "sample:a-short-title",
      title: "A Short Title",
      abstract: abstract("alpha beta"),
      authors: [],
      categories: [],
      links: {},
      source: "sample",
    });
    expect(papers[1]!.id).toBe("sample:another-title-with-punctuation");
    expect(skipped).toEqual([
      { line: 1, text: "new" },
      { line: 3, text: "Get trending papers in your email inbox!" },
      { line: 5, text: "Subscribe" },
      { line: 7, text: "Jun 6" },
    ]);
  });

  it("a date line before a long title is not taken for a title", () => {
    const longTitle = "A Considerably Longer Title That Runs Past Eighty Characters Because Researchers Love Subtitles";
    expect(longTitle.length).toBeGreaterThan(80);
    const text = `Jun 6\n\n${longTitle}\n\n${abstract("one two three four five")}\n\nJun 7\n\nSecond\n\n${abstract("six seven")}`;
    const { papers, skipped } = parseDailyListingDetailed(text);
    expect(papers.map((p) => p.title)).toEqual([longTitle, "Second"]);
    expect(skipped.map((s) => s.text)).toEqual(["Jun 6", "Jun 7"]);
    expect(skipped[1]!.line).toBe(7);
  });

  it("handles CRLF, wrapped lines, multi-paragraph abstracts and a footer", () => {
    const para2 = abstract("second paragraph words");
    const wrapped = `${"first line of the abstract that is ".repeat(10)}\r\nwrapped onto a second line, like an email would do it`;
    const text = `Title One\r\n\r\n${wrapped}\r\n\r\n${para2}\r\n\r\nTitle Two\r\n\r\n${abstract("x y z")}\r\n\r\nLoad more`;
    const { papers, skipped } = parseDailyListingDetailed(text);
    expect(papers).toHaveLength(2);
    expect(papers[0]!.abstract).toBe(
      `${"first line of the abstract that is ".repeat(10).trim()} wrapped onto a second line, like an email would do it\n\n${para2}`,
    );
    expect(skipped).toEqual([{ line: 12, text: "Load more" }]);
  });

  it("ids are deterministic, unique and at most 80 characters after the namespace", () => {
    const long = "Attention Is All You Need But Also A Great Many Other Things Including Very Long Titles Indeed";
    const text = [long, long, "Attention Is All You Need", "Attention is all you need!", "Große Übersicht: Ça va", "深度学习"]
      .map((t, i) => `${t}\n\n${abstract(`word${i}`)}`)
      .join("\n\n");
    const papers = parseDailyListing(text, { source: "hf-page" });
    const slugs = papers.map((p) => p.id.replace(/^hf-page:/, ""));
    expect(papers.every((p) => p.source === "hf-page" && p.id.startsWith("hf-page:"))).toBe(true);
    expect(slugs[0]).toBe("attention-is-all-you-need-but-also-a-great-many-other-things-including-very-long");
    expect(slugs[1]).toBe("attention-is-all-you-need-but-also-a-great-many-other-things-including-very-2");
    expect(slugs[2]).toBe("attention-is-all-you-need");
    expect(slugs[3]).toBe("attention-is-all-you-need-2");
    expect(slugs[4]).toBe("grosse-ubersicht-ca-va");
    expect(slugs[5]).toMatch(/^t-[0-9a-f]{12}$/);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs.every((s) => s.length <= 80 && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(s))).toBe(true);
    expect(parseDailyListing(text, { source: "hf-page" })).toEqual(papers);
  });

  it("slugify and SlugAllocator", () => {
    expect(slugify("  E(3)-Equivariant   Nets, v2!  ")).toBe("e-3-equivariant-nets-v2");
    expect(slugify("x".repeat(200))).toBe("x".repeat(80));
    expect(slugify("Escaping Plato’s Cave")).toBe("escaping-platos-cave");
    const a = new SlugAllocator();
    expect([a.allocate("Foo"), a.allocate("Foo 2"), a.allocate("Foo")]).toEqual(["foo", "foo-2", "foo-3"]);
  });

  it("empty text and text without papers are ListingParseErrors", () => {
    expect(() => parseDailyListing("")).toThrow(ListingParseError);
    expect(() => parseDailyListing(" \n\n \n")).toThrow("listing is empty");
    expect(() => parseDailyListing("new\n\nSubscribe\n\nJun 6\n")).toThrow(/no papers found in 3 paragraph/);
    expect(() => parseDailyListing("x", { source: "bad source" })).toThrow(/id namespace/);
  });

  it("ListingParseError carries the line", () => {
    const e = new ListingParseError("bad", 12);
    expect(e.message).toBe("line 12: bad");
    expect(e.line).toBe(12);
  });
});

describe("the sample corpus", () => {
  it("is committed under data/sample", () => {
    expect(sampleCorpusPath).toBe(path.join(projectRoot, "data", "sample", "trending-papers-page.txt"));
    expect(existsSync(sampleCorpusPath)).toBe(true);
  });

  const seed = path.join(projectRoot, "..", "shared", "seed", "trending-papers-page.txt");
  it.skipIf(!existsSync(seed))("is a byte-for-byte copy of ../shared/seed (skipped: ../shared absent)", () => {
    expect(readFileSync(sampleCorpusPath).equals(readFileSync(seed))).toBe(true);
  });

  // The brief and ../shared/README.md say 36, but the file has 37 title/abstract blocks (37 lines
  // over 300 characters, 37 + 5 header lines of 300 or fewer, no duplicates): 37 is what is there.
  it("has 37 papers, first and last titles exactly as in the file", async () => {
    const papers = await loadSampleCorpus();
    expect(papers).toHaveLength(37);
    expect(papers[0]!.title).toBe("Self-supervised learning of Split Invariant Equivariant representations");
    expect(papers[0]!.id).toBe("sample:self-supervised-learning-of-split-invariant-equivariant-representations");
    expect(papers[0]!.abstract).toMatch(/^Recent progress has been made towards learning invariant/);
    expect(papers[0]!.abstract).toMatch(/Code and data are available at https:\/\/github\.com\/facebookresearch\/SIE\.$/);
    expect(papers[36]!.title).toBe("Escaping Plato's Cave: Towards the Alignment of 3D and Text Latent Spaces");
    expect(papers[36]!.abstract.endsWith("compared to other representations.")).toBe(true);
    expect(new Set(papers.map((p) => p.id)).size).toBe(37);
    for (const p of papers) {
      expect(p.source).toBe("sample");
      expect(p.authors).toEqual([]);
      expect(p.categories).toEqual([]);
      expect(p.published).toBeUndefined();
      expect(p.abstract).toBe(p.abstract.trim());
      expect(p.abstract.length).toBeGreaterThan(300);
    }
  });

  it("skips exactly the five header lines", () => {
    const { skipped } = parseDailyListingDetailed(readFileSync(sampleCorpusPath, "utf8"));
    expect(skipped.map((s) => s.text)).toEqual([
      "new",
      "Get trending papers in your email inbox!",
      "Subscribe",
      "byAK and the research community",
      "Jun 6",
    ]);
  });

  it("every abstract is one line of the file, kept exactly", async () => {
    const lines = new Set(readFileSync(sampleCorpusPath, "utf8").split("\n").map((l) => l.trim()));
    for (const p of await loadSampleCorpus()) expect(lines.has(p.abstract)).toBe(true);
  });
});
