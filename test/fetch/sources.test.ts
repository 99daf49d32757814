import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PoliteHttpClient, type HttpResponse } from "../../src/papers/fetch/http-client.js";
import { PageError } from "../../src/papers/fetch/paging.js";
import { daysBetween } from "../../src/papers/fetch/requests.js";
import { RequestScheduler } from "../../src/papers/fetch/scheduler.js";
import { fetchArxivIds, fetchArxivRss, fetchArxivSearch, fetchHfDailyPapers } from "../../src/papers/fetch/sources.js";
import { LoopbackServer, fixture, type RecordedRequest } from "../helpers/loopback-server.js";

/** Just enough Atom for the drivers (the real parser lives in src/papers/sources/). */
function readFeed(response: HttpResponse): { entries: string[]; totalResults?: number } {
  const xml = response.text();
  if (!response.ok || !xml.includes("</feed>")) throw new Error(`not an Atom feed (HTTP ${response.status})`);
  const total = /<opensearch:totalResults>(\d+)</.exec(xml)?.[1];
  return {
    entries: [...xml.matchAll(/<entry>\s*<id>([^<]+)<\/id>/g)].map((m) => m[1]!),
    ...(total === undefined ? {} : { totalResults: Number(total) }),
  };
}

function gaps(requests: readonly RecordedRequest[]): number[] {
  return requests.slice(1).map((r, i) => r.receivedAt - requests[i]!.receivedAt);
}

const INTERVAL = 40;
let server: LoopbackServer;
let client: PoliteHttpClient;
beforeEach(async () => {
  server = await LoopbackServer.start();
  // Real time, short intervals: the drivers must put their requests in the right budget.
  client = new PoliteHttpClient({
    contactEmail: "team@example.org",
    scheduler: new RequestScheduler(),
    arxivMinIntervalMs: INTERVAL,
    hfMinIntervalMs: INTERVAL,
    backoffBaseMs: 10,
    maxAttempts: 2,
  });
});
afterEach(async () => {
  await server.close();
});

describe("fetchArxivSearch", () => {
  it("pages through a category and date search in the arXiv budget", async () => {
    server.route("/api/query", (req) => ({ body: fixture(req.query.get("start") === "0" ? "arxiv-search-page-1.xml" : "arxiv-search-page-2.xml") }));
    const pages = [];
    for await (const page of fetchArxivSearch(
      client,
      server.url("/api/query"),
      { categories: ["cs.LG"], from: new Date("2026-11-01T00:00:00Z"), until: new Date("2026-11-02T23:59:00Z"), maxResults: 2 },
      readFeed,
    )) {
      pages.push(page.page.entries);
    }
    expect(pages).toEqual([
      ["http://arxiv.org/abs/2611.00101v1", "http://arxiv.org/abs/2611.00102v2"],
      ["http://arxiv.org/abs/2611.00250v1"],
    ]);
    expect(server.requests.map((r) => [r.query.get("start"), r.query.get("max_results"), r.query.get("sortBy")])).toEqual([
      ["0", "2", "submittedDate"],
      ["2", "2", "submittedDate"],
    ]);
    for (const gap of gaps(server.requests)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 2);
  });
});

describe("fetchArxivIds", () => {
  const ids = ["2611.00101", "2611.00102", "2611.00250", "2611.00300", "2611.00301"];

  it("asks in batches and says which ids each batch asked for", async () => {
    server.route("/api/query", { body: fixture("arxiv-search-page-2.xml") });
    const got = [];
    for await (const page of fetchArxivIds(client, server.url("/api/query"), ids, readFeed, { batchSize: 2 })) got.push(page.ids);
    expect(got).toEqual([["2611.00101", "2611.00102"], ["2611.00250", "2611.00300"], ["2611.00301"]]);
    expect(server.requests.map((r) => [r.query.get("id_list"), r.query.get("max_results")])).toEqual([
      ["2611.00101,2611.00102", "2"],
      ["2611.00250,2611.00300", "2"],
      ["2611.00301", "1"],
    ]);
    for (const gap of gaps(server.requests)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 2);
  });

  it("keeps the batches before one that fails", async () => {
    server.route("/api/query", (req) =>
      req.query.get("id_list") === "2611.00301" ? { status: 502, body: "bad gateway" } : { body: fixture("arxiv-search-page-2.xml") },
    );
    const got: string[][] = [];
    let error: unknown;
    try {
      for await (const page of fetchArxivIds(client, server.url("/api/query"), ids, readFeed, { batchSize: 2 })) got.push(page.ids);
    } catch (err) {
      error = err;
    }
    expect(got).toHaveLength(2);
    expect(error).toBeInstanceOf(PageError);
    expect((error as PageError).index).toBe(2);
  });

  it("rejects a bad id before any request", async () => {
    const run = async (): Promise<void> => {
      for await (const _ of fetchArxivIds(client, server.url("/api/query"), ["2611.00101", "abc"], readFeed)) {
        // nothing
      }
    };
    await expect(run()).rejects.toThrow(/not arXiv ids: "abc"/);
    expect(server.requests).toHaveLength(0);
  });
});

describe("fetchArxivRss", () => {
  it("reads the feed of several categories", async () => {
    server.route("/rss/cs.LG+cs.AI", { body: fixture("arxiv-rss-cs.LG+cs.AI.xml"), headers: { "content-type": "application/rss+xml" } });
    const titles = await fetchArxivRss(client, server.url("/rss/"), ["cs.LG", "cs.AI"], (r) =>
      [...r.text().matchAll(/<item>\s*<title>([^<]+)</g)].map((m) => m[1]),
    );
    expect(titles).toEqual(["Polite Crawlers for Scholarly Feeds"]);
    expect(server.requests[0]!.headers["user-agent"]).toContain("mailto:team@example.org");
  });
});

describe("fetchHfDailyPapers", () => {
  it("asks once per day, an empty day being an ordinary empty page", async () => {
    server.route("/hf/daily_papers?date=2026-11-01", { body: fixture("hf-daily-empty.json") });
    server.route("/hf/daily_papers?date=2026-11-02", { body: fixture("hf-daily-2026-11-02.json") });
    const got: [string, string[]][] = [];
    for await (const page of fetchHfDailyPapers(client, server.url("/hf"), daysBetween("2026-11-01", "2026-11-02"), (r, day) => {
      const items = JSON.parse(r.text()) as { paper: { id: string } }[];
      expect(r.url).toContain(day);
      return items.map((i) => i.paper.id);
    })) {
      got.push([page.day, page.page]);
    }
    expect(got).toEqual([
      ["2026-11-01", []],
      ["2026-11-02", ["2611.00101"]],
    ]);
    for (const gap of gaps(server.requests)) expect(gap).toBeGreaterThanOrEqual(INTERVAL - 2);
  });

  it("fetches an invalid JSON day again, then reports it naming the day's URL", async () => {
    server.route("/hf/daily_papers", { body: '[{"paper": ' });
    let error: unknown;
    try {
      for await (const _ of fetchHfDailyPapers(client, server.url("/hf"), ["2026-11-02"], (r) => JSON.parse(r.text()) as unknown)) {
        // nothing
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PageError);
    expect((error as PageError).url).toContain("date=2026-11-02");
    expect(server.requests).toHaveLength(2);
  });
});
