/**
 * `paperhound ingest <source>` and `related <arXiv id not in the index>` end to end: the real CLI
 * runs as a child process (as users run it, with the real default model) against a loopback HTTP
 * server serving recorded-format fixtures (test/fixtures/fetch/, test/fixtures/ingest/,
 * test/fixtures/sources/), with the source URLs pointed at 127.0.0.1 and short politeness intervals.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { oaiStateFile } from "../src/ingest/sources.js";
import { projectRoot } from "../src/paths.js";
import { PaperStore } from "../src/search/paper-store.js";
import { LoopbackServer, fixture, type RecordedRequest, type Reply } from "./helpers/loopback-server.js";
import { runNode, type Run } from "./helpers/run-cli.js";

const FIXTURES = path.join(projectRoot, "test", "fixtures");
const own = (name: string): Buffer => readFileSync(path.join(FIXTURES, "ingest", name));
const source = (name: string): Buffer => readFileSync(path.join(FIXTURES, "sources", name));

let tmp: string;
let server: LoopbackServer;
/** Per-test switches the routes read. */
const state = { arxivFailFirst: 0, oaiPage2: "ok" as "ok" | "broken" | "bad-token" };

/** The loopback server's source URLs, as settings. */
function sourceEnv(origin: string): Record<string, string> {
  return {
    ARXIV_API_URL: `${origin}/api/query`,
    ARXIV_RSS_URL: `${origin}/rss/`,
    ARXIV_OAI_URL: `${origin}/oai`,
    HF_API_URL: `${origin}/hfapi`,
  };
}

/** bin/paperhound.js with none of the caller's settings; sources on the loopback server. */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runNode(args, {
    env: {
      PAPERHOUND_INDEX: path.join(tmp, "configured-index"),
      PAPERHOUND_CONTACT_EMAIL: "ingest-test@example.org",
      ARXIV_MIN_INTERVAL_MS: "20",
      HF_MIN_INTERVAL_MS: "20",
      ...sourceEnv(server.origin),
      ...env,
    },
  });
}

function lastLine(s: string): string {
  return s.trimEnd().split("\n").at(-1) ?? "";
}

async function searchIds(index: string, query: string): Promise<string[]> {
  const r = await run(["search", query, "--json", "-k", "3", "--index", index]);
  expect(r.stderr).toBe("");
  return (JSON.parse(r.stdout) as { hits: { id: string }[] }).hits.map((h) => h.id);
}

function withStore<T>(index: string, f: (store: PaperStore) => T): T {
  const store = PaperStore.open(path.join(index, "papers.sqlite"), { readonly: true });
  try {
    return f(store);
  } finally {
    store.close();
  }
}

const arxivRequests = (): RecordedRequest[] => server.requestsTo("/api/query").filter((r) => r.query.has("search_query"));

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-cli-ingest-"));
  server = await LoopbackServer.start();
  // arXiv API: id_list lookups, and a search in two pages (start=0, start=2).
  let failed = 0;
  server.route("/api/query", (req): Reply => {
    const ids = req.query.get("id_list");
    if (ids === "2611.00777") return { body: own("arxiv-id-2611.00777.xml") };
    if (ids) return { body: own("arxiv-id-empty.xml") };
    if (req.query.get("start") === "2") return { body: fixture("arxiv-search-page-2.xml") };
    if (failed < state.arxivFailFirst) {
      failed += 1;
      return { status: 500, body: "internal error" };
    }
    return { body: fixture("arxiv-search-page-1.xml") };
  });
  server.route("/rss/cs.LG", { body: own("arxiv-rss-cs.LG.xml") });
  server.route("/rss/cs.LG+cs.AI", { body: fixture("arxiv-rss-cs.LG+cs.AI.xml") });
  // The same feed with every item's title gone: every record fails.
  server.route("/rss/cs.CV", { body: fixture("arxiv-rss-cs.LG+cs.AI.xml").toString("utf8").replace(/<title>Polite[^<]*<\/title>/g, "<title></title>") });
  server.route("/oai", (req): Reply => {
    const token = req.query.get("resumptionToken");
    if (token === null) return { body: fixture("oai-listrecords-1.xml") };
    if (state.oaiPage2 === "broken") return { body: "<?xml version='1.0'?><OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'><ListRecords><record>" };
    if (state.oaiPage2 === "bad-token") return { body: source("oai-bad-token.xml") };
    return { body: fixture("oai-listrecords-2.xml") };
  });
  server.route("/hfapi/daily_papers", (req): Reply => ({
    body: req.query.get("date") === "2026-11-02" ? fixture("hf-daily-2026-11-02.json") : fixture("hf-daily-empty.json"),
  }));
});

afterAll(async () => {
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Built by the first test; later tests work on copies. */
let arxivIndex: string;

describe("paperhound ingest", () => {
  it("arxiv: a dry run writes nothing; a 500 is retried; both pages are stored and searchable; a rerun adds nothing", async () => {
    arxivIndex = path.join(tmp, "arxiv");
    const dry = await run(["ingest", "arxiv", "--category", "cs.LG", "--days", "3", "--index", arxivIndex, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("pages 2, records 3, new 3, known 0 (0 with a changed title or abstract), skipped 0 (deleted 0, record errors 0); nothing was written");
    expect(existsSync(arxivIndex)).toBe(false);

    state.arxivFailFirst = 1;
    const before = arxivRequests().length;
    const r = await run(["ingest", "arxiv", "--category", "cs.LG", "--category", "cs.CV", "--days", "3", "--index", arxivIndex]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ingested arxiv into .*: pages 2, records 3, new 3, updated 0, unchanged 0, skipped 0 \(deleted 0, record errors 0\), embedded 3, time /m);
    expect(r.stderr).toContain("page 1: 2 paper(s); new 2, updated 0, unchanged 0, embedded 2");
    expect(r.stderr).toContain("page 2: 1 paper(s); new 1, updated 0, unchanged 0, embedded 1");
    const requests = arxivRequests().slice(before);
    // 500, page 1 again, page 2; polite User-Agent with the contact address; both categories asked for.
    expect(requests.map((q) => q.query.get("start"))).toEqual(["0", "0", "2"]);
    expect(requests[0]!.headers["user-agent"]).toMatch(/^paperhound\/\S+ \(.*mailto:ingest-test@example\.org\)$/);
    expect(requests[0]!.query.get("search_query")).toMatch(/^\(cat:cs\.LG OR cat:cs\.CV\) AND submittedDate:\[\d{12} TO \d{12}\]$/);

    expect((await searchIds(arxivIndex, "exponential backoff jitter retries"))[0]).toBe("2611.00102");
    const again = await run(["ingest", "arxiv", "--category", "cs.LG", "--days", "3", "--index", arxivIndex, "--json"]);
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ source: "arxiv", pages: 2, records: 3, new: 0, updated: 0, unchanged: 3, embedded: 0, failed: null });
  });

  it("one paper, one record: the API, an RSS replacement, OAI-PMH and Hugging Face merge into one record each", async () => {
    const dir = path.join(tmp, "merged");
    cpSync(arxivIndex, dir, { recursive: true });

    const rss = await run(["ingest", "arxiv-rss", "cs.LG", "--index", dir]);
    expect(rss.code).toBe(0);
    expect(rss.stdout).toContain("note: announced 2026-11-03: new 1, cross 1, replace 1, replace-cross 0");
    expect(rss.stdout).toMatch(/pages 1, records 3, new 1, updated [12], unchanged [01],/);
    const replaced = withStore(dir, (s) => s.get("2611.00102"));
    expect(replaced?.version).toBe(3);
    expect(replaced?.abstract).toContain("full jitter");

    const oai = await run(["ingest", "oai", "--set", "cs", "--from", "2026-11-01", "--metadata-prefix", "oai_dc", "--index", dir]);
    expect(oai.code).toBe(0);
    expect(oai.stdout).toMatch(/pages 2, records 3, new 0,/);

    const hfDry = await run(["ingest", "hf-daily", "--since", "2026-11-01", "--until", "2026-11-03", "--index", dir, "--dry-run"]);
    expect(hfDry.code).toBe(0);
    expect(hfDry.stdout).toContain("note: 2 of 3 day(s) had no papers");
    expect(withStore(dir, (s) => s.get("2611.00101")?.trending?.upvotes)).toBeUndefined();
    const hf = await run(["ingest", "hf-daily", "--since", "2026-11-01", "--until", "2026-11-03", "--index", dir]);
    expect(hf.code).toBe(0);
    expect(hf.stdout).toMatch(/pages 3, records 1, new 0,/);
    expect(server.requestsTo("/hfapi/daily_papers").map((q) => q.query.get("date"))).toEqual(["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-01", "2026-11-02", "2026-11-03"]);

    withStore(dir, (s) => {
      expect(s.count()).toBe(4);
      const p = s.get("2611.00101")!;
      expect(p.trending?.upvotes).toBe(12);
      expect(p.links.code).toBe("https://github.com/example/polite-crawlers");
      expect(p.categories[0]).toBe("cs.LG");
    });
    expect(await searchIds(dir, "sparse retrieval chat bots")).toContain("2611.00300");
  });

  it("oai: a page failing after page 1 keeps page 1 searchable (exit 1); the next run resumes from the saved token", async () => {
    const dir = path.join(tmp, "oai");
    state.oaiPage2 = "broken";
    const r = await run(["ingest", "oai", "--set", "cs", "--from", "2026-11-01", "--metadata-prefix", "oai_dc", "--index", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/pages 1, records 2, new 2,/);
    expect(lastLine(r.stderr)).toMatch(/^paperhound: 1 page\(s\) stored, page 2 failed: page 2 could not be read \(HTTP 200\): /);
    expect(await searchIds(dir, "polite crawlers")).toContain("2611.00101");
    const stateFile = oaiStateFile(dir, { metadataPrefix: "oai_dc", set: "cs", from: "2026-11-01" });
    expect(JSON.parse(readFileSync(stateFile, "utf8"))).toMatchObject({ resumptionToken: "7101554|1001", complete: false, pagesDone: 1 });

    state.oaiPage2 = "ok";
    const before = server.requestsTo("/oai").length;
    const resumed = await run(["ingest", "oai", "--set", "cs", "--from", "2026-11-01", "--metadata-prefix", "oai_dc", "--index", dir]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain("note: resumed an unfinished harvest");
    expect(resumed.stdout).toMatch(/pages 1, records 1, new 1,/);
    expect(server.requestsTo("/oai").slice(before).map((q) => q.query.get("resumptionToken"))).toEqual(["7101554|1001"]);
    expect(JSON.parse(readFileSync(stateFile, "utf8"))).toMatchObject({ complete: true });
    expect(await searchIds(dir, "resumable harvesting metadata")).toContain("2611.00250");
  });

  it("oai: an expired resumption token clears the saved state and says so (exit 1)", async () => {
    const dir = path.join(tmp, "oai-expired");
    const stateFile = oaiStateFile(dir, { metadataPrefix: "arXiv", set: "cs", from: "2026-11-01" });
    mkdirSync(path.dirname(stateFile), { recursive: true });
    const request = { baseUrl: `${server.origin}/oai`, metadataPrefix: "arXiv", set: "cs", from: "2026-11-01" };
    writeFileSync(stateFile, JSON.stringify({ version: 1, request, resumptionToken: "123456|9001", pagesDone: 4, complete: false, updatedAt: "2026-11-01T00:00:00Z" }));
    state.oaiPage2 = "bad-token";
    try {
      const r = await run(["ingest", "oai", "--set", "cs", "--from", "2026-11-01", "--index", dir]);
      expect(r.code).toBe(1);
      expect(lastLine(r.stderr)).toMatch(/^paperhound: 0 page\(s\) stored, page 1 failed: .*badResumptionToken.*; the saved resumption token was rejected \(expired or unknown\); the harvest state .* was cleared, so the next run starts the harvest over$/);
      expect(existsSync(stateFile)).toBe(false);
    } finally {
      state.oaiPage2 = "ok";
    }
  });

  it("unreachable network: ingest and related name the URL setting (exit 1)", async () => {
    const closed = await LoopbackServer.start();
    const origin = closed.origin;
    await closed.close();
    const [ingest, related] = await Promise.all([
      run(["ingest", "arxiv", "--category", "cs.LG", "--index", path.join(tmp, "unreachable")], sourceEnv(origin)),
      run(["related", "2611.00777", "--index", arxivIndex], sourceEnv(origin)),
    ]);
    expect(ingest.code).toBe(1);
    expect(lastLine(ingest.stderr)).toMatch(
      /^paperhound: cannot reach the arXiv API: GET http:\/\/127\.0\.0\.1:\d+\/api\/query\?\S+ failed after \d+ attempts: .*Check the network connection \(the address comes from ARXIV_API_URL=http:\/\/127\.0\.0\.1:\d+\/api\/query\); nothing was fetched$/,
    );
    // No "ingested ...: pages 0" summary before the error it would hide.
    expect(ingest.stdout).toBe("");
    expect(related.code).toBe(1);
    expect(lastLine(related.stderr)).toMatch(/^paperhound: looking up 2611\.00777 on arXiv failed: cannot reach the arXiv API: .*ARXIV_API_URL=/);
    expect(withStore(arxivIndex, (s) => s.get("2611.00777"))).toBeUndefined();
    // Nothing fetched, nothing created.
    expect(existsSync(path.join(tmp, "unreachable"))).toBe(false);
  });

  it("a feed whose records all fail exits 1 saying so (not 0 with nothing stored)", async () => {
    const r = await run(["ingest", "arxiv-rss", "cs.CV", "--index", path.join(tmp, "all-failed")]);
    expect(r.code).toBe(1);
    expect(lastLine(r.stderr)).toMatch(/^paperhound: all 1 record\(s\) had errors \(see above\); no paper was stored$/);
  });

  it("followed: the categories of INGEST_CATEGORIES and, with INGEST_HF_DAILY, Hugging Face; a failing source does not stop the next; nothing followed is an error", async () => {
    const index = path.join(tmp, "followed");
    const before = arxivRequests().length;
    const ok = await run(["ingest", "followed", "--days", "3", "--index", index], { INGEST_CATEGORIES: "cs.LG, cs.ai", INGEST_HF_DAILY: "true" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ingested arxiv into .*followed: pages 2, records 3, new 3/m);
    expect(ok.stdout).toMatch(/^ingested hf-daily into .*followed: pages 3, /m);
    const query = arxivRequests()[before]!.query.get("search_query")!;
    expect(query).toContain("cat:cs.LG");
    expect(query).toContain("cat:cs.AI");
    expect(server.requestsTo("/hfapi/daily_papers").length).toBeGreaterThanOrEqual(3);

    const closed = await LoopbackServer.start();
    const origin = closed.origin;
    await closed.close();
    // arXiv unreachable, Hugging Face still fetched: the arXiv failure is the command's error.
    const half = await run(["ingest", "followed", "--index", index], { INGEST_CATEGORIES: "cs.LG", INGEST_HF_DAILY: "1", ARXIV_API_URL: `${origin}/api/query` });
    expect(half.code).toBe(1);
    expect(half.stdout).toMatch(/^ingested hf-daily into /m);
    expect(lastLine(half.stderr)).toMatch(/^paperhound: cannot reach the arXiv API: /);

    const none = await run(["ingest", "followed", "--index", index]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("nothing is followed: set INGEST_CATEGORIES (cs.LG,cs.CL) and/or INGEST_HF_DAILY=true, or run `paperhound setup`");
  });

  it("usage errors: a bad category, a missing --since, a bad metadata prefix (exit 2)", async () => {
    const [cat, since, prefix] = await Promise.all([
      run(["ingest", "arxiv", "--category", "Not A Category"]),
      run(["ingest", "hf-daily"]),
      run(["ingest", "oai", "--metadata-prefix", "marc"]),
    ]);
    expect(cat.code).toBe(2);
    expect(cat.stderr).toContain("expected an arXiv category");
    expect(since.code).toBe(2);
    expect(since.stderr).toContain("--since");
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain("oai_dc, arXiv, arXivRaw");
  });
});

describe("paperhound related <arXiv id not in the index>", () => {
  it("looks the paper up on arXiv, indexes it and answers; then answers offline; an id arXiv does not know is a clear error", async () => {
    const dir = path.join(tmp, "related");
    cpSync(arxivIndex, dir, { recursive: true });
    const before = server.requestsTo("/api/query").length;
    const r = await run(["related", "2611.00777", "--json", "--index", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("arXiv 2611.00777 is not in the index: looking it up on arXiv");
    const out = JSON.parse(r.stdout) as { paper: { id: string; title: string }; hits: { id: string }[] };
    expect(out.paper).toMatchObject({ id: "2611.00777", title: "Pacing Requests to Rate-Limited Scholarly APIs" });
    expect(out.hits.map((h) => h.id)).toContain("2611.00101");
    const lookups = server.requestsTo("/api/query").slice(before);
    expect(lookups.map((q) => q.query.get("id_list"))).toEqual(["2611.00777"]);
    expect(withStore(dir, (s) => s.get("2611.00777")?.version)).toBe(2);

    // Now in the index: answered with no request, even with arXiv unreachable.
    const offline = await run(["related", "https://arxiv.org/abs/2611.00777v2", "--index", dir], { ARXIV_API_URL: "http://127.0.0.1:9/api/query" });
    expect(offline.code).toBe(0);
    expect(offline.stderr).toBe("");
    expect(offline.stdout).toMatch(/^Related to: Pacing Requests to Rate-Limited Scholarly APIs\n/);

    const unknown = await run(["related", "2611.99999", "--index", dir]);
    expect(unknown.code).toBe(1);
    expect(lastLine(unknown.stderr)).toBe("paperhound: arXiv does not know 2611.99999 (the arXiv API returned no paper with that id)");
  });
  it("in chat (the console bot): /related and /save fetch the paper from arXiv; an unknown id and an unreachable arXiv say so", async () => {
    const dir = path.join(tmp, "related-chat");
    cpSync(arxivIndex, dir, { recursive: true });
    const before = server.requestsTo("/api/query").length;
    const bot = (input: string, env: Record<string, string> = {}) =>
      runNode(["bot", "--console", "--index", dir], {
        input,
        env: { PAPERHOUND_CONTACT_EMAIL: "ingest-test@example.org", ARXIV_MIN_INTERVAL_MS: "20", DIGEST_INGEST: "0", ...sourceEnv(server.origin), ...env },
      });
    const r = await bot("/related 2611.00777\n/save 2611.00777\n/related 2611.99999\n");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Related to “Pacing Requests to Rate-Limited Scholarly APIs” (2611.00777)");
    expect(r.stdout).toContain("2611.00101");
    expect(r.stdout).toMatch(/Saved[\s\S]*“Pacing Requests to Rate-Limited Scholarly APIs” \(2611\.00777\) is in this channel's library/);
    expect(r.stdout).toContain("arXiv does not know 2611.99999");
    // One lookup for the paper (the second command found it in the index), one for the unknown id.
    expect(server.requestsTo("/api/query").slice(before).map((q) => q.query.get("id_list"))).toEqual(["2611.00777", "2611.99999"]);
    expect(withStore(dir, (s) => s.get("2611.00777")?.title)).toBe("Pacing Requests to Rate-Limited Scholarly APIs");

    const offline = await bot("/related 2611.00888\n", { ARXIV_API_URL: "http://127.0.0.1:9/api/query" });
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain("The paper is not in the index, and fetching it from arXiv failed.");
    expect(offline.stdout).toContain("cannot reach the arXiv API");
  });
});

describe("paperhound index <saved responses>", () => {
  it("saved arXiv API pages index the same as the live fetch; --format names every format", async () => {
    const dir = path.join(tmp, "from-files");
    const pages = ["arxiv-search-page-1.xml", "arxiv-search-page-2.xml"].map((f) => path.join(FIXTURES, "fetch", f));
    const r = await run(["index", ...pages, "--format", "arxiv-atom", "--index", dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/read 3, added 3, updated 0, unchanged 0, embedded 3/);
    const pick = (index: string) =>
      withStore(index, (s) =>
        ["2611.00101", "2611.00102", "2611.00250"].map((id) => {
          const p = s.get(id)!;
          return { id: p.id, version: p.version, title: p.title, abstract: p.abstract, authors: p.authors, categories: p.categories, published: p.published, links: p.links };
        }),
      );
    expect(pick(dir)).toEqual(pick(arxivIndex));

    const bad = await run(["index", pages[0]!, "--format", "xml", "--index", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("auto, jsonl, json, listing, arxiv-atom, arxiv-rss, oai-pmh, hf-daily, hf-daily-archive");
  });
});
