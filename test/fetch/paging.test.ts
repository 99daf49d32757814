import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FetchError, PoliteHttpClient, type HttpResponse } from "../../src/papers/fetch/http-client.js";
import { PageError, fetchPages, type FetchedPage, type ParsedPage } from "../../src/papers/fetch/paging.js";
import { arxivSearchUrl, nextArxivSearchUrl, type ArxivSearchParams } from "../../src/papers/fetch/requests.js";
import { RequestScheduler } from "../../src/papers/fetch/scheduler.js";
import { LoopbackServer, fixture } from "../helpers/loopback-server.js";
import { VirtualClock } from "./virtual-clock.js";

/**
 * Just enough of an Atom reader for paging (the real parser lives in src/papers/sources/): the
 * entry ids and opensearch:totalResults; anything without a closing </feed> is unreadable.
 */
function readFeed(response: HttpResponse): { ids: string[]; total: number } {
  const xml = response.text();
  if (!xml.includes("</feed>")) throw new Error("not a complete Atom feed");
  const ids = [...xml.matchAll(/<entry>\s*<id>([^<]+)<\/id>/g)].map((m) => m[1]!);
  const total = Number(/<opensearch:totalResults>(\d+)</.exec(xml)?.[1] ?? Number.NaN);
  if (!Number.isFinite(total)) throw new Error("no totalResults");
  return { ids, total };
}

let server: LoopbackServer;
let client: PoliteHttpClient;
beforeEach(async () => {
  server = await LoopbackServer.start();
  const clock = new VirtualClock();
  client = new PoliteHttpClient({
    contactEmail: "team@example.org",
    clock,
    scheduler: new RequestScheduler(clock),
    maxAttempts: 2,
    random: () => 0,
  });
});
afterEach(async () => {
  await server.close();
});

/** An arXiv search over the loopback server, two entries a page, parsed by `readFeed`. */
function arxivSearch(): { first: string; parse: (r: HttpResponse) => ParsedPage<string[]> } {
  const base = server.url("/api/query");
  const params: ArxivSearchParams = {
    categories: ["cs.LG"],
    from: new Date("2026-11-01T00:00:00Z"),
    until: new Date("2026-11-02T23:59:00Z"),
    maxResults: 2,
  };
  return {
    first: arxivSearchUrl(base, params),
    parse: (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const { ids, total } = readFeed(response);
      const start = Number(new URL(response.url).searchParams.get("start"));
      return { page: ids, next: nextArxivSearchUrl(base, { ...params, start }, { returned: ids.length, totalResults: total }) };
    },
  };
}

async function collect<P>(pages: AsyncIterable<FetchedPage<P>>, got: FetchedPage<P>[]): Promise<unknown> {
  try {
    for await (const p of pages) got.push(p);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe("fetchPages", () => {
  it("follows pages to the end", async () => {
    server.route("/api/query", (req) => ({ body: fixture(req.query.get("start") === "0" ? "arxiv-search-page-1.xml" : "arxiv-search-page-2.xml") }));
    const { first, parse } = arxivSearch();
    const got: FetchedPage<string[]>[] = [];
    expect(await collect(fetchPages({ client, firstUrl: first, parse }), got)).toBeUndefined();
    expect(got.map((p) => p.page)).toEqual([
      ["http://arxiv.org/abs/2611.00101v1", "http://arxiv.org/abs/2611.00102v2"],
      ["http://arxiv.org/abs/2611.00250v1"],
    ]);
    expect(got.map((p) => p.index)).toEqual([0, 1]);
    expect(got[1]!.next).toBeNull();
    expect(server.requests.map((r) => r.query.get("start"))).toEqual(["0", "2"]);
  });

  it("yields the pages before a page that keeps failing, then raises a PageError naming it", async () => {
    server.route("/api/query", (req) =>
      req.query.get("start") === "0" ? { body: fixture("arxiv-search-page-1.xml") } : { status: 503, body: "down" },
    );
    const { first, parse } = arxivSearch();
    const got: FetchedPage<string[]>[] = [];
    const err = await collect(fetchPages({ client, firstUrl: first, parse }), got);
    expect(got).toHaveLength(1);
    expect(got[0]!.page).toHaveLength(2);
    expect(err).toBeInstanceOf(PageError);
    const pageError = err as PageError;
    expect(pageError.index).toBe(1);
    expect(pageError.message).toContain("page 2 could not be fetched");
    expect(pageError.cause).toBeInstanceOf(FetchError);
    expect((pageError.cause as FetchError).status).toBe(503);
    expect(new URL(pageError.url).searchParams.get("start")).toBe("2");
  });

  it("fetches an unreadable page again and goes on", async () => {
    let page2Served = 0;
    server.route("/api/query", (req) => {
      if (req.query.get("start") === "0") return { body: fixture("arxiv-search-page-1.xml") };
      page2Served += 1;
      return page2Served === 1 ? { body: "<feed><entry><id>broken" } : { body: fixture("arxiv-search-page-2.xml") };
    });
    const { first, parse } = arxivSearch();
    const got: FetchedPage<string[]>[] = [];
    expect(await collect(fetchPages({ client, firstUrl: first, parse }), got)).toBeUndefined();
    expect(got.flatMap((p) => p.page)).toHaveLength(3);
    expect(page2Served).toBe(2);
  });

  it("reports a page that stays unreadable, after the pages before it", async () => {
    server.route("/api/query", (req) => ({ body: req.query.get("start") === "0" ? fixture("arxiv-search-page-1.xml") : "{not xml" }));
    const { first, parse } = arxivSearch();
    const got: FetchedPage<string[]>[] = [];
    const err = await collect(fetchPages({ client, firstUrl: first, parse, refetchUnreadable: 2 }), got);
    expect(got).toHaveLength(1);
    expect(err).toBeInstanceOf(PageError);
    expect((err as PageError).message).toContain("page 2 could not be read (HTTP 200): not a complete Atom feed");
    expect(server.requestsTo("/api/query")).toHaveLength(1 + 3);
  });

  it("hands a 400 to the parser and does not fetch it again", async () => {
    server.route("/api/query", { status: 400, body: fixture("arxiv-error-400.xml") });
    const got: FetchedPage<string>[] = [];
    const err = await collect(
      fetchPages({
        client,
        firstUrl: server.url("/api/query?max_results=-1"),
        parse: (response) => {
          const summary = /<summary>([^<]+)<\/summary>/.exec(response.text())?.[1];
          throw new Error(`arXiv API error: ${summary}`);
        },
      }),
      got,
    );
    expect((err as PageError).message).toContain("(HTTP 400): arXiv API error: max_results must be non-negative");
    expect(server.requests).toHaveLength(1);
  });

  it("stops a feed that points back to a page already read", async () => {
    server.route("/loop", { body: "x" });
    const got: FetchedPage<number>[] = [];
    const err = await collect(
      fetchPages({ client, firstUrl: server.url("/loop?p=1"), parse: () => ({ page: 1, next: server.url("/loop?p=1") }) }),
      got,
    );
    expect(got).toHaveLength(1);
    expect((err as PageError).message).toContain("repeats an earlier page");
  });

  it("stops after maxPages", async () => {
    server.route("/n", { body: "x" });
    let n = 0;
    const got: FetchedPage<number>[] = [];
    const err = await collect(
      fetchPages({ client, firstUrl: server.url("/n?p=0"), maxPages: 3, parse: () => ({ page: n, next: server.url(`/n?p=${++n}`) }) }),
      got,
    );
    expect(got).toHaveLength(3);
    expect((err as PageError).index).toBe(3);
  });
});
