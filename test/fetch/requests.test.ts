import { describe, expect, it } from "vitest";
import {
  arxivDateTime,
  arxivIdListBatches,
  arxivRssUrl,
  arxivSearchQuery,
  arxivSearchUrl,
  daysBetween,
  hfDailyPapersUrl,
  nextArxivSearchUrl,
  oaiListRecordsUrl,
} from "../../src/papers/fetch/requests.js";

const API = "https://export.arxiv.org/api/query";

describe("arXiv API search", () => {
  const from = new Date("2026-11-01T00:00:00Z");
  const until = new Date("2026-11-03T23:59:00Z");

  it("asks for categories and a submission date range, sorted by submission date, one page", () => {
    const url = new URL(arxivSearchUrl(API, { categories: ["cs.LG", "cs.CV"], from, until, start: 200, maxResults: 100 }));
    expect(url.origin + url.pathname).toBe(API);
    expect(url.searchParams.get("search_query")).toBe("(cat:cs.LG OR cat:cs.CV) AND submittedDate:[202611010000 TO 202611032359]");
    expect(url.searchParams.get("start")).toBe("200");
    expect(url.searchParams.get("max_results")).toBe("100");
    expect(url.searchParams.get("sortBy")).toBe("submittedDate");
    expect(url.searchParams.get("sortOrder")).toBe("ascending");
  });

  it("writes one category without parentheses and dates in UTC minutes", () => {
    expect(arxivSearchQuery(["hep-th"], new Date("2026-01-05T09:07:00+02:00"), new Date("2026-01-05T10:00:00Z"))).toBe(
      "cat:hep-th AND submittedDate:[202601050707 TO 202601051000]",
    );
    expect(arxivDateTime(new Date("2026-12-31T23:59:59Z"))).toBe("202612312359");
  });

  it("keeps a configured base URL's own path and query", () => {
    const url = arxivSearchUrl("http://127.0.0.1:8080/mirror/api/query", { categories: ["cs.LG"], from, until });
    expect(url.startsWith("http://127.0.0.1:8080/mirror/api/query?search_query=")).toBe(true);
  });

  it("rejects bad input before any request", () => {
    expect(() => arxivSearchUrl(API, { categories: [], from, until })).toThrow(/category/);
    expect(() => arxivSearchUrl(API, { categories: ["cs.LG) OR all:x"], from, until })).toThrow(/not an arXiv category/);
    expect(() => arxivSearchUrl(API, { categories: ["cs.LG"], from: until, until: from })).toThrow(/after/);
    expect(() => arxivSearchUrl(API, { categories: ["cs.LG"], from, until, maxResults: 2001 })).toThrow(/maxResults/);
    expect(() => arxivSearchUrl(API, { categories: ["cs.LG"], from, until, start: -1 })).toThrow(/start/);
  });

  it("pages on until the total is reached or a page comes back empty", () => {
    const params = { categories: ["cs.LG"], from, until, maxResults: 2 };
    const second = nextArxivSearchUrl(API, params, { returned: 2, totalResults: 3 });
    expect(new URL(second!).searchParams.get("start")).toBe("2");
    expect(nextArxivSearchUrl(API, { ...params, start: 2 }, { returned: 1, totalResults: 3 })).toBeNull();
    expect(nextArxivSearchUrl(API, params, { returned: 0, totalResults: 50 })).toBeNull();
  });
});

describe("arXiv id_list batches", () => {
  it("batches canonical ids, keeps versions, drops duplicates, and sets max_results to the batch size", () => {
    const ids = Array.from({ length: 250 }, (_, i) => `2611.${String(i + 1).padStart(5, "0")}`);
    const batches = arxivIdListBatches(API, [...ids, "2611.00001", "arXiv:2611.00002"]);
    expect(batches.map((b) => b.ids.length)).toEqual([100, 100, 50]);
    const first = new URL(batches[0]!.url);
    expect(first.searchParams.get("id_list")?.split(",")).toEqual(ids.slice(0, 100));
    expect(first.searchParams.get("max_results")).toBe("100");
    expect(new URL(batches[2]!.url).searchParams.get("max_results")).toBe("50");

    const mixed = arxivIdListBatches(API, ["https://arxiv.org/abs/2401.00631v3", "math.GT/0309136", "hep-th/9901001"], 2);
    expect(mixed.map((b) => b.ids)).toEqual([["2401.00631v3", "math/0309136"], ["hep-th/9901001"]]);
  });

  it("names every bad id before any request", () => {
    expect(() => arxivIdListBatches(API, ["2401.00631", "abc", "not/an/id"])).toThrow(/"abc", "not\/an\/id"/);
  });

  it("makes no request for no ids", () => {
    expect(arxivIdListBatches(API, [])).toEqual([]);
  });
});

describe("arXiv RSS", () => {
  it("joins categories with a literal +", () => {
    expect(arxivRssUrl("https://rss.arxiv.org/rss/", ["cs.LG", "cs.AI"])).toBe("https://rss.arxiv.org/rss/cs.LG+cs.AI");
    expect(arxivRssUrl("https://rss.arxiv.org/rss", "cs.LG+cs.AI")).toBe("https://rss.arxiv.org/rss/cs.LG+cs.AI");
    expect(arxivRssUrl("http://127.0.0.1:9/rss/", "math")).toBe("http://127.0.0.1:9/rss/math");
    expect(() => arxivRssUrl("https://rss.arxiv.org/rss/", "cs.LG++cs.AI")).toThrow(RangeError);
    expect(() => arxivRssUrl("https://rss.arxiv.org/rss/", ["../api"])).toThrow(RangeError);
  });
});

describe("OAI-PMH ListRecords", () => {
  const OAI = "https://oaipmh.arxiv.org/oai";

  it("asks with metadataPrefix, set and dates", () => {
    const url = new URL(oaiListRecordsUrl(OAI, { metadataPrefix: "arXiv", set: "cs", from: "2026-11-01", until: "2026-11-03" }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      verb: "ListRecords",
      metadataPrefix: "arXiv",
      set: "cs",
      from: "2026-11-01",
      until: "2026-11-03",
    });
  });

  it("continues with the resumption token alone", () => {
    const url = new URL(oaiListRecordsUrl(OAI, { resumptionToken: "7101554|1001" }));
    expect(Object.fromEntries(url.searchParams)).toEqual({ verb: "ListRecords", resumptionToken: "7101554|1001" });
  });

  it("rejects bad dates", () => {
    expect(() => oaiListRecordsUrl(OAI, { metadataPrefix: "oai_dc", from: "2026-13-01" })).toThrow(/from/);
    expect(() => oaiListRecordsUrl(OAI, { metadataPrefix: "oai_dc", from: "2026-11-05", until: "2026-11-01" })).toThrow(/after/);
    expect(() => oaiListRecordsUrl(OAI, { resumptionToken: "" })).toThrow(/token/);
  });
});

describe("Hugging Face daily papers", () => {
  it("asks for one day", () => {
    expect(hfDailyPapersUrl("https://huggingface.co/api", "2026-11-02")).toBe("https://huggingface.co/api/daily_papers?date=2026-11-02");
    expect(hfDailyPapersUrl("http://127.0.0.1:9/hf/", new Date("2026-11-02T23:30:00Z"))).toBe("http://127.0.0.1:9/hf/daily_papers?date=2026-11-02");
    expect(() => hfDailyPapersUrl("https://huggingface.co/api", "2026-02-30")).toThrow(/YYYY-MM-DD/);
  });

  it("lists the days of a range", () => {
    expect(daysBetween("2026-02-27", "2026-03-02")).toEqual(["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
    expect(daysBetween("2026-03-02", "2026-03-01")).toEqual([]);
  });
});
