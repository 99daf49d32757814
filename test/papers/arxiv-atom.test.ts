import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ArxivApiError, ArxivAtomReader, missingArxivIds, parseArxivAtom } from "../../src/papers/sources/arxiv-atom.js";
import { SourceFormatError } from "../../src/papers/sources/source-common.js";
import { projectRoot } from "../../src/paths.js";

const fixture = (name: string) => readFileSync(path.join(projectRoot, "test", "fixtures", "sources", name), "utf8");

describe("parseArxivAtom: current format", () => {
  const feed = parseArxivAtom(fixture("arxiv-atom-current.xml"), { file: "current.xml" });

  it("reads the opensearch paging figures", () => {
    expect(feed.dialect).toBe("current");
    expect([feed.totalResults, feed.startIndex, feed.itemsPerPage]).toEqual([3, 0, 10]);
    expect(feed.updated).toBe("2026-04-12");
  });

  it("turns an entry into a full Paper", () => {
    const e = feed.entries[0]!;
    expect(e.paper).toEqual({
      id: "2401.00631",
      version: 3,
      title: "Edge AI for the Internet of Things: $\\mathcal{O}(n)$ Scheduling",
      abstract: "We study scheduling on edge devices. Our method runs in $\\mathcal{O}(n)$ time & beats baselines.",
      authors: ["Ada Lovelace", "Charles Babbage"],
      categories: ["cs.NI", "cs.LG"],
      published: "2023-12-31",
      updated: "2024-03-02",
      links: { abs: "https://arxiv.org/abs/2401.00631", pdf: "https://arxiv.org/pdf/2401.00631" },
      doi: "10.1109/IOT.2024.12345",
      comment: "12 pages, 4 figures",
      source: "arxiv-api",
    });
    expect(e.journalRef).toBe("IEEE IoT J. 11 (2024) 1-12");
    expect(e.affiliations).toEqual([["Analytical Engines Ltd"], []]);
    expect(e.line).toBe(10);
  });

  it("reads old-style ids and links without rel/title", () => {
    const p = feed.entries[1]!.paper;
    expect(p.id).toBe("hep-th/9901001");
    expect(p.version).toBe(2);
    expect(p.links).toEqual({ abs: "https://arxiv.org/abs/hep-th/9901001", pdf: "https://arxiv.org/pdf/hep-th/9901001" });
    expect(p.published).toBe("1999-01-04");
    expect(feed.entries[1]!.affiliations).toBeUndefined();
  });

  it("reports an entry without an arXiv id with its line, and keeps the others", () => {
    expect(feed.entries).toHaveLength(2);
    expect(feed.errors).toHaveLength(1);
    expect(feed.errors[0]!.line).toBe(51);
    expect(feed.errors[0]!.message).toMatch(/<id> "http:\/\/example.org\/not-an-arxiv-paper" is not an arXiv id/);
  });

  it("gives the same result when fed in small chunks", () => {
    const text = fixture("arxiv-atom-current.xml");
    const reader = new ArxivAtomReader({ file: "current.xml" });
    const streamed = [];
    for (let i = 0; i < text.length; i += 7) streamed.push(...reader.push(text.slice(i, i + 7)).entries);
    const whole = reader.finish();
    expect(streamed.map((e) => e.paper)).toEqual(feed.entries.map((e) => e.paper));
    expect(whole.totalResults).toBe(3);
  });
});

describe("parseArxivAtom: 2016 format (inline opensearch namespace)", () => {
  const feed = parseArxivAtom(fixture("arxiv-atom-legacy.xml"));

  it("reads paging figures declared inline", () => {
    expect(feed.dialect).toBe("legacy");
    expect([feed.totalResults, feed.startIndex, feed.itemsPerPage]).toEqual([13, 10, 2]);
  });

  it("reads entries, the primary category first, DOI from the doi link, https canonical links", () => {
    const [a, b] = feed.entries;
    expect(a!.paper.id).toBe("1111.2011");
    expect(a!.paper.version).toBe(2);
    expect(a!.paper.title).toBe("Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit");
    expect(a!.paper.abstract).toBe("Theoretical description of anisotropic systems, such as layered superconductors and coupled spin chains, is often a challenge.");
    expect(a!.paper.categories).toEqual(["cond-mat.str-el", "cond-mat.stat-mech"]);
    expect(a!.paper.doi).toBe("10.1103/PhysRevB.85.115117");
    expect(a!.paper.links.abs).toBe("https://arxiv.org/abs/1111.2011");
    expect(a!.journalRef).toBe("Phys. Rev. B 85, 115117 (2012)");
    expect(b!.paper.id).toBe("cond-mat/0603029");
    expect(b!.paper.published).toBe("2006-03-01");
  });
});

describe("parseArxivAtom: errors", () => {
  it("raises ArxivApiError with arXiv's message for the error feed", () => {
    let err: unknown;
    try {
      parseArxivAtom(fixture("arxiv-atom-error.xml"), { file: "err.xml" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArxivApiError);
    const e = err as ArxivApiError;
    expect(e.detail).toBe("max_results must be an integer");
    expect(e.errorId).toBe("https://arxiv.org/api/errors#max_results_must_be_an_integer");
    expect(e.message).toBe("err.xml: arXiv API error: max_results must be an integer");
  });

  it("rejects XML that is not an Atom feed, naming the root", () => {
    expect(() => parseArxivAtom("<rss version='2.0'><channel/></rss>", { file: "x.xml" })).toThrow(
      new SourceFormatError("not an arXiv API Atom feed: the root element is <rss>, expected an Atom <feed>", "arxiv-atom", "x.xml", 1),
    );
  });

  it("rejects malformed XML with file and line", () => {
    const text = fixture("arxiv-atom-current.xml").replace("</summary>", "</summry>");
    try {
      parseArxivAtom(text, { file: "bad.xml" });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SourceFormatError);
      expect((e as SourceFormatError).line).toBe(20);
      expect((e as Error).message).toMatch(/^bad\.xml:20: not well-formed XML: /);
    }
  });

  it("rejects empty input", () => {
    expect(() => parseArxivAtom("", { file: "e.xml" })).toThrow(SourceFormatError);
  });
});

describe("missingArxivIds", () => {
  const feed = parseArxivAtom(fixture("arxiv-atom-current.xml"));

  it("names the ids of an id_list request that arXiv silently dropped", () => {
    expect(missingArxivIds(["2401.00631", "hep-th/9901001v2", "2402.99999", "1706.03762"], feed)).toEqual(["2402.99999", "1706.03762"]);
  });

  it("matches ids in any form and version, reports malformed ones and each only once", () => {
    expect(missingArxivIds(["arXiv:2401.00631v1", "https://arxiv.org/abs/hep-th/9901001", "0808.05394", "0808.05394"], feed)).toEqual([
      "0808.05394",
    ]);
    expect(missingArxivIds([], feed)).toEqual([]);
  });
});
