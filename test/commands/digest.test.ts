/**
 * /digest on a small real index (test-index.ts) with a real DigestStore in a temporary directory:
 * every action, the permission check, option validation, preview's score parts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestHeadline } from "../../commands/digest.js";
import { runCommand } from "../../commands/run.js";
import type { CommandContext } from "../../commands/types.js";
import type { MessageView, ResultsView, View } from "../../commands/view.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { buildTestIndex, type TestIndex } from "./test-index.js";

let t: TestIndex;
let dir: string;
let store: DigestStore;

beforeAll(async () => {
  t = await buildTestIndex();
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-cmd-"));
  store = DigestStore.open(dir);
}, 180_000);

afterAll(async () => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

function ctx(key: string, canManage: boolean, now = "2024-10-01T12:00:00Z"): CommandContext {
  return { ...t.ctx, clock: () => new Date(now), channel: { key, canManage }, digest: store };
}

const msg = (v: View) => {
  expect(v.kind).toBe("message");
  return v as MessageView;
};

describe("/digest", () => {
  it("subscribe sets up a channel (new window ends yesterday in the channel's zone); show lists it", async () => {
    const v = msg(
      await runCommand(
        "digest",
        { action: "subscribe", topics: "ping safety for chat bots; sparse attention", time: "7:30", timezone: "Pacific/Auckland", count: 5, categories: "cs.cr, CS.lg" },
        ctx("console:a", true, "2024-09-30T12:00:00Z"),
      ),
    );
    expect(v).toMatchObject({ tone: "info", title: "Daily digest set up", ephemeral: false });
    // 12:00 UTC on 30 September is 1 October in Auckland: the window ends on 30 September.
    expect(store.subscription("console:a")).toMatchObject({
      topics: ["ping safety for chat bots", "sparse attention"],
      time: "07:30",
      timezone: "Pacific/Auckland",
      count: 5,
      categories: ["cs.CR", "cs.LG"],
      paused: false,
      quiet: false,
      windowEnd: "2024-09-30",
    });
    store.recordVote("console:a", "2410.00001", "u1", 1, new Date());
    store.recordVote("console:a", "2410.00002", "u2", -1, new Date());
    const show = msg(await runCommand("digest", { action: "show" }, ctx("console:a", false)));
    expect(show.ephemeral).toBe(true);
    expect(show.text).toContain("Topics: ping safety for chat bots; sparse attention");
    expect(show.text).toContain("Every day at 07:30 (Pacific/Auckland), up to 5 papers");
    expect(show.text).toContain("Feedback: 2 votes shaped the topic profile (1 liked, 1 disliked papers).");
  });

  it("changing settings needs canManage; show and preview do not", async () => {
    const v = msg(await runCommand("digest", { action: "subscribe", topics: "x" }, ctx("console:b", false)));
    expect(v).toMatchObject({ tone: "error", ephemeral: true });
    expect(v.text).toMatch(/Only people who can manage this channel/);
    expect(store.subscription("console:b")).toBeUndefined();
    for (const action of ["pause", "resume", "unsubscribe", "exclude", "follow"]) {
      expect(msg(await runCommand("digest", { action, keywords: "a", author: "b" }, ctx("console:a", false))).tone).toBe("error");
    }
    expect(store.subscription("console:a")).toMatchObject({ paused: false, exclude: [], follow: [] });
    expect(msg(await runCommand("digest", { action: "show" }, ctx("console:b", false))).text).toBe("This channel has no daily digest.");
  });

  it("validates options: action, time, timezone, count, categories, topics", async () => {
    const c = ctx("console:c", true);
    const bad = async (raw: Record<string, string | number>) => msg(await runCommand("digest", raw, c)).text;
    expect(await bad({ action: "frobnicate" })).toMatch(/action must be one of subscribe, show/);
    expect(await bad({ action: "subscribe", topics: "a", time: "25:00" })).toMatch(/time must be a time of day/);
    expect(await bad({ action: "subscribe", topics: "a", timezone: "Mars/Olympus" })).toMatch(/timezone must be an IANA time zone/);
    expect(await bad({ action: "subscribe", topics: "a", count: 26 })).toMatch(/count must be a whole number from 1 to 25/);
    expect(await bad({ action: "subscribe", topics: "a", categories: "cs.LG, not a category" })).toMatch(/category must be an arXiv category/);
    expect(await bad({ action: "subscribe", topics: " ; " })).toMatch(/needs topics/);
    expect(await bad({ action: "subscribe" })).toMatch(/needs topics/);
    expect(store.subscription("console:c")).toBeUndefined();
    // Without a channel or a store (e.g. a DM), digests are unavailable.
    expect(msg(await runCommand("digest", { action: "show" }, t.ctx)).text).toMatch(/not available here/);
  });

  it("pause, resume, exclude, follow, resubscribe keeps the window, unsubscribe", async () => {
    const c = ctx("console:d", true);
    await runCommand("digest", { action: "subscribe", topics: "ping safety" }, c);
    expect(store.subscription("console:d")).toMatchObject({ time: "09:00", timezone: "UTC", count: 10, windowEnd: "2024-09-30" });
    expect(msg(await runCommand("digest", { action: "pause" }, c)).title).toBe("Daily digest paused");
    expect(store.subscription("console:d")!.paused).toBe(true);
    await runCommand("digest", { action: "resume" }, c);
    expect(store.subscription("console:d")!.paused).toBe(false);
    await runCommand("digest", { action: "exclude", keywords: "survey; benchmark" }, c);
    await runCommand("digest", { action: "exclude", keywords: "Survey; long documents" }, c);
    expect(store.subscription("console:d")!.exclude).toEqual(["survey", "benchmark", "long documents"]);
    expect(msg(await runCommand("digest", { action: "exclude" }, c)).text).toMatch(/needs keywords/);
    await runCommand("digest", { action: "follow", author: "Yann LeCun" }, c);
    expect(store.subscription("console:d")!.follow).toEqual(["Yann LeCun"]);
    await runCommand("digest", { action: "subscribe", count: 3, quiet: true }, ctx("console:d", true, "2024-12-01T12:00:00Z"));
    expect(store.subscription("console:d")).toMatchObject({ topics: ["ping safety"], count: 3, quiet: true, exclude: ["survey", "benchmark", "long documents"], windowEnd: "2024-09-30" });
    expect(msg(await runCommand("digest", { action: "unsubscribe" }, c)).title).toBe("Daily digest stopped");
    expect(store.subscription("console:d")).toBeUndefined();
    expect(msg(await runCommand("digest", { action: "unsubscribe" }, c)).tone).toBe("error");
  });

  it("preview ranks the papers announced since the window, with score parts, privately", async () => {
    await runCommand("digest", { action: "subscribe", topics: "ping safety for chat bots" }, ctx("console:e", true));
    const v = await runCommand("digest", { action: "preview" }, ctx("console:e", false, "2024-10-02T12:00:00Z"));
    expect(v.kind).toBe("results");
    const r = v as ResultsView;
    expect(r.ephemeral).toBe(true);
    expect(r.header).toMatch(/^Digest preview · 2024-10-02 · \d+ of \d+ new papers$/);
    expect(r.items.map((i) => i.id)).toContain("2410.00001");
    expect(r.items[0]!.excerpt).toMatch(/^Why: topic "ping safety for chat bots" \(\d\.\d\d\).*Score parts: dense \d\.\d\d · bm25 \d\.\d\d · library -?\d\.\d\d · trending \d\.\d\d · feedback -?\d\.\d\d/);
    // Nothing was decided or delivered by a preview.
    expect(store.posted("console:e")).toEqual([]);
    expect(store.subscription("console:e")!.windowEnd).toBe("2024-09-30");
    // Before any new paper: an empty, private message.
    const empty = msg(await runCommand("digest", { action: "preview" }, ctx("console:e", false, "2024-09-30T23:00:00Z")));
    expect(empty).toMatchObject({ tone: "empty", ephemeral: true });
    // /digest show tells whether the library takes part.
    expect(msg(await runCommand("digest", { action: "show" }, ctx("console:e", false))).text).toContain("Library: empty.");
    const first = r.items[0]!;
    store.library.save("console:e", { id: first.id, title: first.title, authors: [], categories: [] }, "ana", new Date("2024-10-01T10:00:00Z"));
    expect(msg(await runCommand("digest", { action: "show" }, ctx("console:e", false))).text).toContain("Library: 1 paper;");
  });

  it("headline text of a posted digest", () => {
    const d = { id: 1, channel: "c", windowStart: "2024-09-30", windowEnd: "2024-10-01", items: [], decidedAt: "", idempotencyKey: "k" };
    // An empty digest names its real reason (2024-10-01 was a Tuesday; 2024-10-05/06 a weekend).
    expect(digestHeadline(d, { topics: ["a"] })).toBe("Daily digest · 2024-10-01 · No new papers arrived (a holiday, or the sources could not be reached).");
    expect(digestHeadline({ ...d, candidates: 37 }, { topics: ["a"] })).toBe("Daily digest · 2024-10-01 · No paper matched: none of the 37 new papers is on this channel's topics or like its library.");
    expect(digestHeadline({ ...d, windowStart: "2024-10-04", windowEnd: "2024-10-06" }, { topics: ["a"] })).toBe("Daily digest · 2024-10-06 · No new papers: arXiv does not announce on weekends.");
    expect(digestHeadline({ ...d, windowStart: "2024-10-04", windowEnd: "2024-10-07" }, { topics: ["a"] })).toMatch(/No new papers arrived/);
    expect(digestHeadline({ ...d, items: [{ paperId: "1", title: "T", authors: [], score: 1, reason: "r" }] }, { topics: ["a", "b"] })).toBe("Daily digest · 2024-10-01 · 1 paper · a; b");
  });
});
