/**
 * A channel's sources are fetched before its digest is decided (DIGEST_INGEST): which fetches a
 * tick plans, that they are shared and not repeated, that a failure does not stop the digest, and,
 * end to end, the real ingest job in its child process against a loopback Hugging Face API, whose
 * paper then appears in the digest decided right after (ranked by meaning on a read-only
 * index that picked it up with refresh). Also: an "hf"-only channel gets only featured papers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/run.js";
import type { CommandContext } from "../../commands/types.js";
import { DigestIngest, planIngest } from "../../src/digest/digest-ingest.js";
import { runIngestJobInChild, type IngestJob } from "../../src/ingest/job.js";
import type { IngestRunReport } from "../../src/ingest/run.js";
import { runDigestTick } from "../../src/digest/digest-runner.js";
import { DigestStore, type DecidedDigest, type Subscription } from "../../src/digest/digest-store.js";
import { DEFAULT_MODEL, loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { createLogger } from "../../src/log.js";
import type { Paper } from "../../src/papers/types.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { LoopbackServer, fixture, type Reply } from "../helpers/loopback-server.js";
import { cleanEnv } from "../helpers/run-cli.js";
import { testSubscription } from "../helpers/subscription.js";

const quiet = createLogger({ level: "error", format: "json", stream: { write: () => true } as unknown as NodeJS.WritableStream });

const sub = (channel: string, over: Partial<Subscription> = {}): Subscription =>
  testSubscription(channel, { topics: ["polite crawlers for scholarly metadata"], timezone: "UTC", windowEnd: "2026-11-01", ...over });

/** The report of a fetch that read one page; `failedPage`: it stopped there instead. */
const report = (source: string, failedPage?: number): IngestRunReport => ({
  source,
  indexDir: "/nowhere",
  dryRun: false,
  totals: { pages: 1, records: 1, new: 1, updated: 0, unchanged: 0, deleted: 0, errors: 0, embedded: 1 },
  notes: [],
  failed: failedPage === undefined ? null : { page: failedPage, message: "the server answered 503" },
  seconds: 0.1,
});

describe("planning the fetches of a tick", () => {
  it("fetches Hugging Face from the day after the earliest window, and arXiv for the union of categories", () => {
    const jobs = planIngest(
      [sub("a", { windowEnd: "2026-11-28", categories: ["cs.LG"] }), sub("b", { windowEnd: "2026-11-30", categories: ["cs.CV", "cs.LG"] }), sub("c", { sources: ["hf"], categories: ["math.AG"] })],
      "2026-12-02",
    );
    // c's window ends 2026-11-01: more than a week back, so the catch-up starts a week back.
    expect(jobs).toEqual<IngestJob[]>([
      { source: "hf-daily", since: "2026-11-26", until: "2026-12-02" },
      { source: "arxiv-rss", categories: ["cs.CV", "cs.LG"] },
    ]);
    expect(planIngest([sub("a", { windowEnd: "2026-12-01" })], "2026-12-02")).toEqual([{ source: "hf-daily", since: "2026-12-02", until: "2026-12-02" }]);
  });

  it("plans no arXiv fetch without categories and nothing for sources not asked for", () => {
    expect(planIngest([sub("a", { sources: ["arxiv"] })], "2026-12-02")).toEqual([]);
    expect(planIngest([sub("a", { sources: ["arxiv"], categories: ["cs.LG"] })], "2026-12-02")).toEqual([{ source: "arxiv-rss", categories: ["cs.LG"] }]);
    expect(planIngest([], "2026-12-02")).toEqual([]);
  });

  it("does not repeat a fetch within the interval, reports a failure and still runs the others", async () => {
    let clock = new Date("2026-12-02T09:00:00Z");
    const ran: string[] = [];
    let refreshed = 0;
    const ingest = new DigestIngest({
      run: async (job) => {
        ran.push(job.source);
        if (job.source === "arxiv-rss") throw new Error("arXiv is down");
        return report(job.source);
      },
      afterFetch: async () => void refreshed++,
      now: () => clock,
    });
    const due = [sub("a", { windowEnd: "2026-12-01", categories: ["cs.LG"] })];
    const first = await ingest.before(due, "2026-12-02");
    expect(ran).toEqual(["hf-daily", "arxiv-rss"]);
    expect(first.failed).toEqual([{ job: { source: "arxiv-rss", categories: ["cs.LG"] }, error: "arXiv is down" }]);
    expect(refreshed).toBe(1);

    clock = new Date("2026-12-02T09:10:00Z");
    const second = await ingest.before(due, "2026-12-02");
    expect(second.skipped.map((j) => j.source)).toEqual(["hf-daily"]);
    expect(ran).toEqual(["hf-daily", "arxiv-rss", "arxiv-rss"]); // the failed one is tried again
    expect(refreshed).toBe(1); // nothing new was fetched

    clock = new Date("2026-12-02T09:45:00Z");
    await ingest.before(due, "2026-12-02");
    expect(ran.filter((r) => r === "hf-daily")).toHaveLength(2);
  });

  it("a fetch that stopped on a failed page is a failure, tried again on the next tick", async () => {
    let calls = 0;
    const ingest = new DigestIngest({ run: async (job) => report(job.source, ++calls === 1 ? 2 : undefined), now: () => new Date("2026-12-02T09:00:00Z") });
    const due = [sub("a", { windowEnd: "2026-12-01" })];
    const first = await ingest.before(due, "2026-12-02");
    expect(first.failed).toEqual([{ job: { source: "hf-daily", since: "2026-12-02", until: "2026-12-02" }, error: "1 page(s) stored, page 2 failed: the server answered 503" }]);
    const second = await ingest.before(due, "2026-12-02");
    expect(second.ran.map((r) => r.job.source)).toEqual(["hf-daily"]);
    expect(calls).toBe(2);
  });

  it("a job is checked in the child: a bad one is refused with a message, nothing fetched", async () => {
    const bad = { source: "hf-daily", since: "2026-13-01", until: "2026-12-02" } as IngestJob;
    await expect(runIngestJobInChild(bad, { indexDir: path.join(os.tmpdir(), "paperhound-no-index"), env: cleanEnv({}) })).rejects.toThrow(/ingest hf-daily --since 2026-13-01 .*failed: .*expected a day as YYYY-MM-DD/s);
  }, 60_000);
});

describe("the sources option", () => {
  let dir: string;
  let store: DigestStore;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-sources-"));
    store = DigestStore.open(dir);
  });
  afterAll(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is set by /digest subscribe, shown by /digest show, and checked", async () => {
    const ctx = { digest: store, channel: { key: "console:main", canManage: true }, clock: () => new Date("2026-12-02T08:00:00Z"), logger: quiet } as unknown as CommandContext;
    await runCommand("digest", { action: "subscribe", topics: "crawlers", sources: "HF" }, ctx);
    expect(store.subscription("console:main")?.sources).toEqual(["hf"]);
    const shown = await runCommand("digest", { action: "show" }, ctx);
    expect(JSON.stringify(shown)).toContain("Sources: Hugging Face daily papers");
    await runCommand("digest", { action: "subscribe", sources: "arxiv, hf, arxiv" }, ctx);
    expect(store.subscription("console:main")?.sources).toEqual(["arxiv", "hf"]);
    expect(JSON.stringify(await runCommand("digest", { action: "show" }, ctx))).toContain("add categories to get them");
    const bad = await runCommand("digest", { action: "subscribe", sources: "twitter" }, ctx);
    expect(bad).toMatchObject({ kind: "message", tone: "error" });
    expect(JSON.stringify(bad)).toContain("sources must be hf, arxiv or both");
    expect(store.subscription("console:main")?.sources).toEqual(["arxiv", "hf"]);
  });
});

describe("fetching before deciding, end to end", () => {
  let tmp: string;
  let server: LoopbackServer;
  let embedder: Embedder;
  let index: PaperIndex;
  let store: DigestStore;

  const PLAIN: Paper = {
    id: "2611.00200",
    title: "Rate limits and politeness for crawlers of scholarly metadata",
    abstract: "A crawler of scholarly metadata services paces its requests politely and respects rate limits.",
    authors: ["B. Example"],
    categories: ["cs.DL"],
    published: "2026-11-02",
    links: {},
    source: "arxiv-rss",
  };

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-ingest-"));
    server = await LoopbackServer.start();
    server.route("/hfapi/daily_papers", (req): Reply => ({
      body: req.query.get("date") === "2026-11-02" ? fixture("hf-daily-2026-11-02.json") : fixture("hf-daily-empty.json"),
    }));
    embedder = await loadEmbedder({ model: DEFAULT_MODEL, device: "cpu", logger: quiet });
    const writer = await PaperIndex.open({ dir: tmp, embedder });
    await writer.add([PLAIN]);
    writer.close();
    index = await PaperIndex.open({ dir: tmp, embedder, readonly: true, warm: true });
    store = DigestStore.open(tmp);
  }, 120_000);

  afterAll(async () => {
    store?.close();
    index?.close();
    await embedder?.dispose();
    await server?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** One scheduler tick at `at` that fetches the due channels' sources first; posts are collected. */
  const tickFetching = (ingest: DigestIngest, at: string, posted: DecidedDigest[]) =>
    runDigestTick({
      index,
      store,
      now: new Date(at),
      holder: "test",
      post: async (d) => {
        posted.push(d);
        return `test:${d.id}`;
      },
      beforeDeciding: async (due, today) => {
        const r = await ingest.before(due, today);
        if (r.failed.length > 0) throw new Error(r.failed[0]!.error);
      },
    });

  it("runs the hf-daily ingest job for the due channels in a child process, then decides with the fetched paper", async () => {
    store.subscribe(sub("console:hf", { sources: ["hf"] }));
    store.subscribe(sub("console:both"));
    const env = cleanEnv({ HF_API_URL: `${server.origin}/hfapi`, HF_MIN_INTERVAL_MS: "20", PAPERHOUND_CONTACT_EMAIL: "digest-test@example.org" });
    const reports: IngestRunReport[] = [];
    const ingest = new DigestIngest({
      run: async (job) => {
        reports.push(await runIngestJobInChild(job, { indexDir: tmp, env }));
        return reports.at(-1)!;
      },
      afterFetch: () => index.refresh(),
    });
    const posted: DecidedDigest[] = [];
    const tick = (at: string) => tickFetching(ingest, at, posted);

    const report = await tick("2026-11-02T09:00:30Z");
    expect(report.beforeDecidingError).toBeUndefined();
    // What the bot adds to paperhound_papers_ingested_total: the child's report, new + updated.
    expect(reports.map((r) => [r.source, r.failed])).toEqual([["hf-daily", null]]);
    expect(reports[0]!.totals.new).toBeGreaterThan(0);
    expect(server.requestsTo("/hfapi/daily_papers").map((q) => q.query.get("date"))).toEqual(["2026-11-02"]);
    const byChannel = new Map(posted.map((d) => [d.channel, d.items.map((i) => i.paperId)]));
    // The fetched paper (featured on Hugging Face) in both; the plain arXiv paper only where arxiv is a source.
    expect(byChannel.get("console:hf")).toEqual(["2611.00101"]);
    expect(byChannel.get("console:both")).toEqual(expect.arrayContaining(["2611.00101", "2611.00200"]));
    const item = posted.find((d) => d.channel === "console:hf")!.items[0]!;
    expect(item.reason).toMatch(/topic "polite crawlers for scholarly metadata" \(0\.\d\d\)/);

    // The same day again: nothing due, nothing fetched.
    await tick("2026-11-02T10:00:00Z");
    expect(server.requestsTo("/hfapi/daily_papers")).toHaveLength(1);
  }, 120_000);

  it("decides with what the index holds when the source cannot be reached", async () => {
    store.subscribe(sub("console:late", { sources: ["hf"], windowEnd: "2026-11-02" }));
    const env = cleanEnv({ HF_API_URL: "http://127.0.0.1:9/hfapi", HF_MIN_INTERVAL_MS: "20" });
    const ingest = new DigestIngest({ run: (job) => runIngestJobInChild(job, { indexDir: tmp, env }) });
    const posted: DecidedDigest[] = [];
    const report = await tickFetching(ingest, "2026-11-03T09:01:00Z", posted);
    expect(report.beforeDecidingError).toMatch(/cannot reach the Hugging Face API: .*nothing was fetched/);
    // Every channel due that day still gets its digest (the earlier ones too: a new day).
    expect(posted.map((d) => d.channel).sort()).toEqual(["console:both", "console:hf", "console:late"]);
    expect(posted.find((d) => d.channel === "console:late")!.windowEnd).toBe("2026-11-03");
  }, 120_000);
});
