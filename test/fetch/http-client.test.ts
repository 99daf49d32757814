import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ARXIV_MIN_INTERVAL_FLOOR_MS,
  FetchError,
  PoliteHttpClient,
  backoffDelay,
  createSourceHttpClient,
  parseRetryAfter,
  politenessFor,
  redactUrl,
  userAgent,
  type PoliteHttpClientOptions,
} from "../../src/papers/fetch/http-client.js";
import { RequestScheduler } from "../../src/papers/fetch/scheduler.js";
import { loadConfig } from "../../src/config.js";
import { createLogger, type Logger } from "../../src/log.js";
import { LoopbackServer, fixture, type RecordedRequest } from "../helpers/loopback-server.js";
import { VirtualClock } from "./virtual-clock.js";

/** A JSON logger whose lines are kept for assertions. */
function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[]; raw: () => string } {
  let out = "";
  const logger = createLogger({ level: "debug", format: "json", stream: { write: (s: string) => (out += s) } });
  return {
    logger,
    raw: () => out,
    lines: () =>
      out
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A client whose waits (backoff, Retry-After, politeness) run on a virtual clock: no real seconds spent. */
function virtualClient(options: PoliteHttpClientOptions = {}): { client: PoliteHttpClient; clock: VirtualClock } {
  const clock = new VirtualClock();
  const client = new PoliteHttpClient({
    contactEmail: "team@example.org",
    clock,
    scheduler: new RequestScheduler(clock),
    random: () => 0.5,
    ...options,
  });
  return { client, clock };
}

async function catchFetchError(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FetchError) return err;
    throw err;
  }
  throw new Error("expected a FetchError");
}

let server: LoopbackServer;
beforeEach(async () => {
  server = await LoopbackServer.start();
});
afterEach(async () => {
  await server.close();
});

describe("User-Agent", () => {
  it("names paperhound, its version and the contact address", async () => {
    server.route("/api/query", { body: fixture("arxiv-search-page-1.xml"), headers: { "content-type": "application/atom+xml" } });
    const { client } = virtualClient({ contactEmail: "team@example.org" });
    const res = await client.get(server.url("/api/query?search_query=cat:cs.LG"), { budget: "arxiv" });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.attempts).toBe(1);
    expect(res.text()).toContain("Polite Crawlers for Scholarly Feeds");
    const ua = server.requests[0]!.headers["user-agent"];
    expect(ua).toMatch(/^paperhound\/\d+\.\d+\.\d+ \(.*mailto:team@example\.org\)$/);
    expect(ua).toBe(client.userAgent);
  });

  it("is built from its parts, leaving out unknown ones", () => {
    expect(userAgent("a@b.org", "1.2.3", "https://example.org/paperhound")).toBe(
      "paperhound/1.2.3 (+https://example.org/paperhound; mailto:a@b.org)",
    );
    expect(userAgent(undefined, "1.2.3", "https://example.org/paperhound")).toBe("paperhound/1.2.3 (+https://example.org/paperhound)");
    expect(userAgent("a@b.org", "1.2.3", undefined)).toBe("paperhound/1.2.3 (mailto:a@b.org)");
    expect(userAgent(undefined, "1.2.3", undefined)).toBe("paperhound/1.2.3");
  });

  it("warns once when arXiv requests carry no contact address, and not for other sources", async () => {
    server.route("/api/query", { body: "ok" });
    server.route("/hf/daily_papers", { body: "[]" });
    const log = captureLogger();
    const { client } = virtualClient({ contactEmail: undefined, logger: log.logger, arxivMinIntervalMs: 0 });
    await client.get(server.url("/hf/daily_papers?date=2026-11-02"), { budget: "huggingface" });
    expect(log.lines().filter((l) => l.level === "warn")).toHaveLength(0);
    await client.get(server.url("/api/query?a=1"), { budget: "arxiv" });
    await client.get(server.url("/api/query?a=2"), { budget: "arxiv" });
    const warnings = log.lines().filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toContain("PAPERHOUND_CONTACT_EMAIL");
    expect(server.requests[1]!.headers["user-agent"]).not.toContain("mailto:");

    const withContact = captureLogger();
    const { client: polite } = virtualClient({ logger: withContact.logger, arxivMinIntervalMs: 0 });
    await polite.get(server.url("/api/query?a=3"), { budget: "arxiv" });
    expect(withContact.lines().filter((l) => l.level === "warn")).toHaveLength(0);
  });

  it("comes from the configuration in createSourceHttpClient", async () => {
    server.route("/api/query", { body: "ok" });
    const config = loadConfig({ PAPERHOUND_CONTACT_EMAIL: "ops@example.org", ARXIV_MIN_INTERVAL_MS: "0" });
    const client = createSourceHttpClient(config, captureLogger().logger);
    await client.get(server.url("/api/query"), { budget: "arxiv" });
    expect(server.requests[0]!.headers["user-agent"]).toContain("mailto:ops@example.org");
  });
});

describe("politeness", () => {
  it("puts every arXiv host in one budget that never goes below 3 s", () => {
    for (const url of ["https://export.arxiv.org/api/query", "https://rss.arxiv.org/rss/cs.LG", "https://oaipmh.arxiv.org/oai"]) {
      const p = politenessFor(new URL(url), undefined, { arxivMinIntervalMs: 50 });
      expect(p).toEqual({ budget: "arxiv", politeness: { minIntervalMs: ARXIV_MIN_INTERVAL_FLOOR_MS, maxConcurrent: 1 } });
    }
    // Even a request that names another budget: the host decides for arxiv.org.
    expect(politenessFor(new URL("https://export.arxiv.org/api/query"), "huggingface").budget).toBe("arxiv");
    expect(politenessFor(new URL("https://export.arxiv.org/api/query"), undefined).politeness.minIntervalMs).toBe(3000);
    expect(politenessFor(new URL("https://export.arxiv.org/api/query"), undefined, { arxivMinIntervalMs: 5000 }).politeness.minIntervalMs).toBe(5000);
  });

  it("lets a mirror or test server in the arXiv budget use a shorter interval", () => {
    expect(politenessFor(new URL("http://127.0.0.1:9/api/query"), "arxiv", { arxivMinIntervalMs: 50 })).toEqual({
      budget: "arxiv",
      politeness: { minIntervalMs: 50, maxConcurrent: 1 },
    });
  });

  it("gives Hugging Face its own budget and other hosts one each", () => {
    expect(politenessFor(new URL("https://huggingface.co/api/daily_papers"), undefined)).toEqual({
      budget: "huggingface",
      politeness: { minIntervalMs: 1000, maxConcurrent: 1 },
    });
    expect(politenessFor(new URL("https://huggingface.co/api/daily_papers"), undefined, { hfMinIntervalMs: 200 }).politeness.minIntervalMs).toBe(200);
    expect(politenessFor(new URL("http://mirror.example:8080/x"), undefined).budget).toBe("host:mirror.example:8080");
  });

  it("spaces requests of two clients and two hosts in one process, one connection at a time", async () => {
    // Two servers stand for export.arxiv.org and oaipmh.arxiv.org; two clients for two fetchers.
    // Both clients use the process-wide scheduler (no scheduler option).
    const other = await LoopbackServer.start();
    try {
      const slowBody = { body: "<feed/>", bodyDelayMs: 30 };
      server.route("/api/query", slowBody);
      other.route("/oai", slowBody);
      const interval = 60;
      const a = new PoliteHttpClient({ contactEmail: "a@example.org", arxivMinIntervalMs: interval });
      const b = new PoliteHttpClient({ contactEmail: "b@example.org", arxivMinIntervalMs: interval });
      await Promise.all([
        ...[1, 2, 3].map((i) => a.get(server.url(`/api/query?page=${i}`), { budget: "arxiv" })),
        ...[1, 2, 3].map((i) => b.get(other.url(`/oai?page=${i}`), { budget: "arxiv" })),
      ]);
      const all: RecordedRequest[] = [...server.requests, ...other.requests].sort((x, y) => x.receivedAt - y.receivedAt);
      expect(all).toHaveLength(6);
      for (let i = 1; i < all.length; i++) {
        // Timer and clock granularity: allow a couple of milliseconds.
        expect(all[i]!.receivedAt - all[i - 1]!.receivedAt).toBeGreaterThanOrEqual(interval - 2);
        // One at a time: a request arrives only after the previous response was complete.
        expect(all[i]!.receivedAt).toBeGreaterThanOrEqual(all[i - 1]!.finishedAt!);
      }
      expect(server.maxInFlight).toBe(1);
      expect(other.maxInFlight).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("does not make Hugging Face wait for arXiv's budget", async () => {
    server.route("/api/query", { body: "<feed/>" });
    server.route("/hf/daily_papers", { body: "[]" });
    const scheduler = new RequestScheduler();
    const client = new PoliteHttpClient({ contactEmail: "a@example.org", scheduler, arxivMinIntervalMs: 400, hfMinIntervalMs: 0 });
    await Promise.all([
      client.get(server.url("/api/query?n=1"), { budget: "arxiv" }),
      client.get(server.url("/api/query?n=2"), { budget: "arxiv" }),
      client.get(server.url("/hf/daily_papers?date=2026-11-02"), { budget: "huggingface" }),
    ]);
    const order = [...server.requests].sort((x, y) => x.receivedAt - y.receivedAt).map((r) => r.url);
    expect(order.indexOf("/hf/daily_papers?date=2026-11-02")).toBeLessThan(order.indexOf("/api/query?n=2"));
  });

  it("waits 3 s between arXiv requests by default (virtual clock)", async () => {
    server.route("/api/query", { body: "<feed/>" });
    const { client, clock } = virtualClient();
    const t0 = clock.now();
    await Promise.all([1, 2, 3].map((n) => client.get(server.url(`/api/query?n=${n}`), { budget: "arxiv" })));
    expect(clock.now() - t0).toBeGreaterThanOrEqual(6000);
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6000);
  });
});

describe("retries", () => {
  it("retries 500 and 502 with exponential backoff and jitter, then succeeds", async () => {
    server.route("/api/query", [{ status: 500, body: "oops" }, { status: 502 }, { body: fixture("arxiv-search-page-2.xml") }]);
    const log = captureLogger();
    const { client, clock } = virtualClient({ logger: log.logger, backoffBaseMs: 1000 });
    const res = await client.get(server.url("/api/query?start=2"));
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    expect(res.text()).toContain("Resumable Harvesting");
    expect(server.requests).toHaveLength(3);
    // random() = 0.5: half the ceiling fixed plus a quarter → 750 ms, then 1500 ms.
    expect(clock.sleeps).toEqual([750, 1500]);
    const retries = log.lines().filter((l) => l.msg === "http retry");
    expect(retries.map((l) => [l.attempt, l.status, l.waitMs])).toEqual([
      [1, 500, 750],
      [2, 502, 1500],
    ]);
    expect(retries[0]!.url).toBe(server.url("/api/query?start=2"));
    // Retries are debug lines: a request that fails for good warns once ("http gave up"), a recovered one not at all.
    expect(retries.map((l) => l.level)).toEqual(["debug", "debug"]);
    expect(log.lines().filter((l) => l.level === "warn")).toEqual([]);
  });

  it("a host name that does not resolve (ENOTFOUND) is not retried: one attempt, one warning", async () => {
    const log = captureLogger();
    const { client, clock } = virtualClient({ logger: log.logger, backoffBaseMs: 1000 });
    const err = await client.get("http://paperhound-test-host.invalid/api/query").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as FetchError).attempts).toBe(1);
    expect((err as FetchError).message).toContain("ENOTFOUND");
    expect(clock.sleeps).toEqual([]);
    expect(log.lines().filter((l) => l.level === "warn").map((l) => l.msg)).toEqual(["http gave up"]);
  });

  it("computes backoff within its bounds", () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60_000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(2000);
    expect(backoffDelay(20, 1000, 60_000, () => 0.999999)).toBe(60_000);
  });

  it("honours Retry-After in seconds on 429, for the whole budget", async () => {
    server.route("/api/query", [{ status: 429, headers: { "retry-after": "120" } }, { body: "<feed/>" }]);
    const { client, clock } = virtualClient({ arxivMinIntervalMs: 0 });
    const t0 = clock.now();
    const res = await client.get(server.url("/api/query"), { budget: "arxiv" });
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
    expect(clock.sleeps).toContain(120_000);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(120_000);
  });

  it("holds back the other requests of the budget after a Retry-After", async () => {
    // Real time (Retry-After has whole seconds): a virtual clock would jump past the wait before
    // the second request reached the server, whether it was held or not.
    const client = new PoliteHttpClient({ contactEmail: "a@example.org", scheduler: new RequestScheduler(), arxivMinIntervalMs: 0 });
    server.route("/api/query", (_req, index) => (index === 0 ? { status: 429, headers: { "retry-after": "1" } } : { body: "<feed/>" }));
    await Promise.all([1, 2].map((n) => client.get(server.url(`/api/query?n=${n}`), { budget: "arxiv" })));
    const [first, ...rest] = server.requests;
    expect(first!.query.get("n")).toBe("1");
    expect(rest).toHaveLength(2);
    // Request 2 was queued behind request 1: it must not go out during request 1's wait.
    for (const r of rest) expect(r.receivedAt - first!.finishedAt!).toBeGreaterThanOrEqual(990);
  });

  it("honours Retry-After as an HTTP date on 503", async () => {
    const { client, clock } = virtualClient();
    const when = new Date(clock.now() + 30_000).toUTCString();
    server.route("/oai", [{ status: 503, headers: { "retry-after": when }, body: "busy" }, { body: fixture("oai-listrecords-2.xml") }]);
    const res = await client.get(server.url("/oai?verb=ListRecords&resumptionToken=x"));
    expect(res.attempts).toBe(2);
    expect(clock.sleeps).toEqual([30_000]);
  });

  it("parses Retry-After values", () => {
    const now = Date.UTC(2026, 10, 2, 12, 0, 0);
    expect(parseRetryAfter("5", now)).toBe(5000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("Mon, 02 Nov 2026 12:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("Mon, 02 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("-3", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it("stops at once when Retry-After is longer than allowed", async () => {
    server.route("/api/query", { status: 429, headers: { "retry-after": "3600" }, body: "slow down" });
    const { client, clock } = virtualClient({ maxRetryAfterMs: 600_000 });
    const err = await catchFetchError(client.get(server.url("/api/query")));
    expect(err.kind).toBe("retry-after-too-long");
    expect(err.status).toBe(429);
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(err.attempts).toBe(1);
    expect(err.message).toContain("3600 s");
    expect(server.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it("gives up after maxAttempts with a FetchError naming the URL, status and attempts", async () => {
    server.route("/api/query", { status: 503, body: "Service Unavailable: maintenance" });
    const log = captureLogger();
    const { client } = virtualClient({ maxAttempts: 3, logger: log.logger });
    const url = server.url("/api/query?id_list=2611.00101");
    const err = await catchFetchError(client.get(url));
    expect(err).toBeInstanceOf(FetchError);
    expect(err.name).toBe("FetchError");
    expect(err.kind).toBe("status");
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(3);
    expect(err.url).toBe(url);
    expect(err.bodySnippet).toContain("maintenance");
    expect(err.message).toContain(url);
    expect(err.message).toContain("3 attempts");
    expect(err.message).toContain("HTTP 503");
    expect(server.requests).toHaveLength(3);
    expect(log.lines().some((l) => l.msg === "http gave up" && l.attempt === 3)).toBe(true);
  });

  it("returns a 400 with its body, without retrying (arXiv's error feed is for the parser)", async () => {
    server.route("/api/query", { status: 400, body: fixture("arxiv-error-400.xml") });
    const { client } = virtualClient();
    const res = await client.get(server.url("/api/query?max_results=-1"));
    expect(res.status).toBe(400);
    expect(res.ok).toBe(false);
    expect(res.text()).toContain("max_results must be non-negative");
    expect(server.requests).toHaveLength(1);
  });

  it("returns a 404 without retrying", async () => {
    const { client } = virtualClient();
    const res = await client.get(server.url("/nothing-here"));
    expect(res.status).toBe(404);
    expect(server.requests).toHaveLength(1);
  });
});

describe("network failures", () => {
  it("times out waiting for headers, retries, and reports a timeout", async () => {
    server.route("/slow", { headerDelayMs: 2000, body: "late" });
    const { client } = virtualClient({ headersTimeoutMs: 100, maxAttempts: 2 });
    const err = await catchFetchError(client.get(server.url("/slow")));
    expect(err.kind).toBe("timeout");
    expect(err.attempts).toBe(2);
    expect(err.message).toContain("no response headers within 100 ms");
    expect(server.requests).toHaveLength(2);
  });

  it("times out a body that stalls, then succeeds on the retry", async () => {
    server.route("/slow-body", [{ bodyDelayMs: 2000, body: "late" }, { body: "on time" }]);
    const log = captureLogger();
    const { client } = virtualClient({ timeoutMs: 150, logger: log.logger });
    const res = await client.get(server.url("/slow-body"));
    expect(res.text()).toBe("on time");
    expect(res.attempts).toBe(2);
    const retry = log.lines().find((l) => l.msg === "http retry");
    expect(String(retry?.error)).toContain("body not complete within 150 ms");
  });

  it("retries a body cut short of its Content-Length", async () => {
    const body = fixture("oai-listrecords-1.xml");
    server.route("/oai", [{ body, truncateAt: 100 }, { body }]);
    const { client } = virtualClient();
    const res = await client.get(server.url("/oai?verb=ListRecords&metadataPrefix=oai_dc"));
    expect(res.attempts).toBe(2);
    expect(res.body.equals(body)).toBe(true);
  });

  it("reports a body that is always truncated as a network error", async () => {
    server.route("/oai", { body: fixture("oai-listrecords-1.xml"), truncateAt: 100 });
    const { client } = virtualClient({ maxAttempts: 2 });
    const err = await catchFetchError(client.get(server.url("/oai")));
    expect(err.kind).toBe("network");
    expect(err.status).toBe(200);
    expect(err.attempts).toBe(2);
    expect(err.message).toContain("body cut short");
  });

  it("retries a reset connection", async () => {
    server.route("/api/query", [{ reset: true }, { body: "<feed/>" }]);
    const { client } = virtualClient();
    const res = await client.get(server.url("/api/query"));
    expect(res.attempts).toBe(2);
    expect(server.requests).toHaveLength(2);
  });

  it("reports a refused connection after every attempt", async () => {
    const closed = await LoopbackServer.start();
    const url = closed.url("/api/query");
    await closed.close();
    const { client, clock } = virtualClient({ maxAttempts: 3 });
    const err = await catchFetchError(client.get(url));
    expect(err.kind).toBe("network");
    expect(err.attempts).toBe(3);
    expect(err.status).toBeUndefined();
    expect(err.message).toContain("ECONNREFUSED");
    expect(clock.sleeps).toHaveLength(2);
  });

  it("refuses a body over maxBodyBytes, declared or streamed, without retrying", async () => {
    const big = "x".repeat(5000);
    server.route("/declared", { body: big });
    server.route("/chunked", { body: big, chunked: true });
    const { client } = virtualClient({ maxBodyBytes: 1000 });
    for (const p of ["/declared", "/chunked"]) {
      const err = await catchFetchError(client.get(server.url(p)));
      expect(err.kind).toBe("too-large");
      expect(err.attempts).toBe(1);
    }
    expect(server.requests).toHaveLength(2);
    // A per-request limit overrides the client's.
    const res = await client.get(server.url("/chunked"), { maxBodyBytes: 10_000 });
    expect(res.body.byteLength).toBe(5000);
  });

  it("stops when the caller aborts during a backoff wait", async () => {
    server.route("/api/query", { status: 500 });
    const controller = new AbortController();
    const clock = new VirtualClock();
    // A clock whose sleep never ends unless aborted, to abort in the middle of it.
    const stuckClock = {
      now: () => clock.now(),
      sleep: (_ms: number, signal?: AbortSignal) =>
        new Promise<void>((_resolve, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true })),
    };
    const client = new PoliteHttpClient({ clock: stuckClock, scheduler: new RequestScheduler(clock) });
    const pending = client.get(server.url("/api/query"), { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const err = await catchFetchError(pending);
    expect(err.kind).toBe("aborted");
    expect(server.requests).toHaveLength(1);
  });
});

describe("logs and errors without secrets", () => {
  it("redacts credentials and token-like query values", () => {
    expect(redactUrl("https://user:pw@example.org/x?api_key=abc&date=2026-11-02")).toBe(
      "https://example.org/x?api_key=%5Bredacted%5D&date=2026-11-02",
    );
    expect(redactUrl("not a url")).toBe("[invalid URL]");
  });

  it("never writes a secret parameter to logs or errors", async () => {
    server.route("/api", { status: 502 });
    const log = captureLogger();
    const { client } = virtualClient({ logger: log.logger, maxAttempts: 2 });
    const err = await catchFetchError(client.get(server.url("/api?access_token=hunter2&q=x")));
    expect(err.message).not.toContain("hunter2");
    expect(err.url).not.toContain("hunter2");
    expect(log.raw()).not.toContain("hunter2");
    expect(log.raw()).toContain("q=x");
    // The server still got the real value.
    expect(server.requests[0]!.query.get("access_token")).toBe("hunter2");
  });
});
