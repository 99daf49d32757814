import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ArxivRssReader, isReplacement, parseArxivRss, splitRssDescription } from "../../src/papers/sources/arxiv-rss.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { projectRoot } from "../../src/paths.js";

const text = readFileSync(path.join(projectRoot, "test", "fixtures", "sources", "arxiv-rss.xml"), "utf8");

describe("parseArxivRss", () => {
  const feed = parseArxivRss(text, { file: "rss.xml" });

  it("reads the channel", () => {
    expect(feed.title).toBe("cs.LG updates on arXiv.org");
    expect(feed.link).toBe("http://rss.arxiv.org/rss/cs.LG");
    expect(feed.announced).toBe("2026-01-05");
  });

  it("turns a new item into a Paper with the real abstract and split authors", () => {
    const it0 = feed.items[0]!;
    expect(it0.announceType).toBe("new");
    expect(it0.announced).toBe("2026-01-05");
    expect(it0.rights).toBe("http://creativecommons.org/licenses/by/4.0/");
    expect(it0.paper).toEqual({
      id: "2601.01234",
      version: 1,
      title: "Sparse Mixtures of Experts at Scale",
      abstract: "We train sparse mixtures of experts. They scale well & cheaply.",
      authors: ["Ada Lovelace", "Charles Babbage", "George Boole"],
      categories: ["cs.LG", "cs.AI"],
      published: "2026-01-05",
      links: { abs: "https://arxiv.org/abs/2601.01234", pdf: "https://arxiv.org/pdf/2601.01234" },
      source: "arxiv-rss",
    });
  });

  it("exposes cross, replace and replace-cross; replacements carry updated, not published", () => {
    const [, cross, replace, replaceCross] = feed.items;
    expect(cross!.announceType).toBe("cross");
    expect(cross!.paper.categories[0]).toBe("stat.ME");
    expect(cross!.paper.doi).toBe("10.1093/bioinformatics/btac431");
    expect(cross!.journalRef).toBe("Bioinformatics 38 (2022) 4011");
    expect(cross!.paper.published).toBeUndefined();
    expect(cross!.paper.updated).toBeUndefined();

    expect(replace!.announceType).toBe("replace");
    expect(replace!.paper.id).toBe("2009.13987");
    expect(replace!.paper.version).toBe(3);
    expect(replace!.paper.updated).toBe("2026-01-05");
    expect(replace!.paper.published).toBeUndefined();
    expect(replace!.paper.abstract).toBe("We introduce a class of random polytopes.");
    expect(isReplacement(replace!.announceType)).toBe(true);

    expect(replaceCross!.announceType).toBe("replace-cross");
    expect(replaceCross!.paper.id).toBe("hep-th/0601001");
    expect(replaceCross!.paper.version).toBe(4);
    expect(isReplacement(replaceCross!.announceType)).toBe(true);
    expect(isReplacement(cross!.announceType)).toBe(false);
  });

  it("reports an item with an unknown announce type and skips it", () => {
    expect(feed.items).toHaveLength(4);
    expect(feed.errors).toEqual([
      { line: 64, message: 'item 2601.05555 has announce type "withdrawn" (known: new, cross, replace, replace-cross)' },
    ]);
  });

  it("streams in chunks with the same result", () => {
    const reader = new ArxivRssReader();
    const got = [];
    for (let i = 0; i < text.length; i += 13) got.push(...reader.push(text.slice(i, i + 13)).items);
    reader.finish();
    expect(got.map((i) => i.paper.id)).toEqual(["2601.01234", "2205.06398", "2009.13987", "hep-th/0601001"]);
  });

  it("rejects documents that are not RSS", () => {
    expect(() => parseArxivRss('<feed xmlns="http://www.w3.org/2005/Atom"/>', { file: "a.xml" })).toThrow(SourceFormatError);
    expect(() => parseArxivRss("<rss><channel><item></channel></rss>", { file: "a.xml" })).toThrow(/^a\.xml:1: not well-formed XML/);
  });
});

describe("splitRssDescription", () => {
  it("splits id, announce type and abstract", () => {
    expect(splitRssDescription("arXiv:2609.26811v1 Announce Type: new \nAbstract: Local learning.")).toEqual({
      ref: "2609.26811v1",
      announceType: "new",
      abstract: "Local learning.",
    });
    expect(splitRssDescription("Just an abstract.")).toBeUndefined();
  });
});
