import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { createLogger } from "../../src/log.js";
import type { Paper } from "../../src/papers/types.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { DigestStore, type DecidedDigest, type Subscription } from "../../src/digest/digest-store.js";
import { isDue, localDayAndTime, PostBackoff, runDigestTick } from "../../src/digest/digest-runner.js";
import { DEFAULT_WEIGHTS, libraryFloor, LibraryVectors, rankForChannel } from "../../src/digest/ranking.js";
import { DigestScheduler } from "../../src/digest/digest-scheduler.js";
import { digestHeadline } from "../../commands/digest.js";
import { readHfDailyArchive } from "../../src/papers/sources/hf-daily.js";
import { projectRoot } from "../../src/paths.js";
import { testSubscription } from "../helpers/subscription.js";

const HF_ARCHIVE = path.resolve(projectRoot, "../shared/data/fixtures/hf-daily-papers/daily-papers-2024-05_2026-08.jsonl.gz");

const quiet = createLogger({ level: "error", format: "json", stream: { write: () => true } as unknown as NodeJS.WritableStream });

function paper(id: string, day: string, title: string, abstract: string, extra: Partial<Paper> = {}): Paper {
  return { id, title, abstract, authors: ["Ada Lovelace"], categories: ["cs.LG"], published: day, links: {}, source: "arxiv-api", ...extra };
}

const PAPERS: Paper[] = [
  paper("2603.00001", "2026-03-27", "Rotation equivariant networks for point clouds", "We build SE(3) equivariant graph networks for 3D point cloud classification."),
  paper("2603.00002", "2026-03-27", "A survey of equivariant networks", "This survey reviews equivariant neural networks and symmetry in deep learning."),
  paper("2603.00003", "2026-03-27", "Protein folding with diffusion", "Diffusion models generate protein structures.", { authors: ["Yann LeCun"], categories: ["q-bio.BM"] }),
  paper("2603.00004", "2026-03-27", "Tokenizer-free language models", "Byte-level language models without tokenizers.", { trending: { upvotes: 150 } }),
  paper("2603.00005", "2026-03-30", "Equivariant transformers for molecules", "Equivariant attention over 3D molecular graphs."),
  paper("2603.00006", "2026-03-31", "3D representation learning from point clouds", "Self-supervised representation learning of 3D shapes."),
  paper("2604.00007", "2026-04-02", "Gauge equivariant convolutions on meshes", "Equivariant convolution on 3D meshes and manifolds."),
  paper("2604.00008", "2026-04-03", "Cooking recipes with LLMs", "Large language models write recipes."),
  // A day of its own (no other test's window): shares only the common word "networks" with "equivariant networks".
  paper("2602.00009", "2026-02-10", "Rethinking interpretability of deep networks", "Explaining the decisions of large language models and deep networks to users."),
  paper("2602.00010", "2026-02-10", "Equivariant message passing", "Message passing that respects rotations of molecules."),
  // Older papers that make "networks" a common word, as it is in any real index (rare words weigh more).
  ...["vision", "speech", "graphs", "traffic", "weather", "finance", "robots", "music", "code", "games", "chemistry", "medicine"].map((topic, i) =>
    paper(`2512.${String(i + 1).padStart(5, "0")}`, "2025-12-01", `Deep networks for ${topic}`, `We train neural networks on ${topic} data.`),
  ),
];

let embedder: Embedder;
let dir: string;
let scratch: string;
let index: PaperIndex;

beforeAll(async () => {
  embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quiet });
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-"));
  scratch = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-scratch-"));
  index = await PaperIndex.open({ dir, embedder });
  await index.add(PAPERS);
}, 120_000);

afterAll(async () => {
  index?.close();
  await embedder?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // The stores each test opens live under one folder, removed here.
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const subscription = (channel: string, over: Partial<Subscription> = {}): Subscription => testSubscription(channel, over);

describe("local time", () => {
  it("follows the zone's daylight saving switch", () => {
    // Europe/Berlin switches to CEST on 2026-03-29: 09:00 local is 08:00Z before, 07:00Z after.
    expect(localDayAndTime(new Date("2026-03-28T08:00:00Z"), "Europe/Berlin")).toEqual({ day: "2026-03-28", time: "09:00" });
    expect(localDayAndTime(new Date("2026-03-30T07:00:00Z"), "Europe/Berlin")).toEqual({ day: "2026-03-30", time: "09:00" });
    expect(localDayAndTime(new Date("2026-03-30T23:30:00Z"), "America/New_York")).toEqual({ day: "2026-03-30", time: "19:30" });
    expect(isDue(subscription("x"), new Date("2026-03-27T07:59:00Z")).due).toBe(false);
    expect(isDue(subscription("x"), new Date("2026-03-27T08:00:00Z")).due).toBe(true);
    expect(isDue(subscription("x", { paused: true }), new Date("2026-03-27T08:00:00Z")).due).toBe(false);
  });
});

describe("ranking", () => {
  it("topic matches first, exclusions removed, followed authors pinned, trending shown", async () => {
    const day = index.store.papersAnnouncedBetween("2026-03-26", "2026-03-27");
    expect(day.map((p) => p.id).sort()).toEqual(["2603.00001", "2603.00002", "2603.00003", "2603.00004"]);
    const base = await rankForChannel(index, subscription("c"), day);
    expect(base[0]!.paper.id).toBe("2603.00001");
    expect(base.map((r) => r.paper.id)).toContain("2603.00004"); // trending: 150 upvotes, no topic
    expect(base.find((r) => r.paper.id === "2603.00004")!.reason).toBe("trending: 150 upvotes");
    expect(base.map((r) => r.paper.id)).not.toContain("2603.00003"); // neither topic nor trending
    const excluded = await rankForChannel(index, subscription("c", { exclude: ["survey"] }), day);
    expect(excluded.map((r) => r.paper.id)).not.toContain("2603.00002");
    const followed = await rankForChannel(index, subscription("c", { follow: ["yann lecun"] }), day);
    expect(followed[0]!.paper.id).toBe("2603.00003");
    expect(followed[0]!.reason).toMatch(/followed author: yann lecun/);
    const onlyBio = await rankForChannel(index, subscription("c", { categories: ["q-bio"], follow: ["LeCun"] }), day);
    expect(onlyBio.map((r) => r.paper.id)).toEqual(["2603.00003"]);
    expect(await rankForChannel(index, subscription("c", { count: 1 }), day)).toHaveLength(1);
  });
});

describe("relevance floor", () => {
  it("a paper sharing only a common word with a topic does not match it (the issue's 'Rethinking interpretability' under 'equivariant networks')", async () => {
    const day = index.store.papersAnnouncedBetween("2026-02-09", "2026-02-10");
    const loose = await rankForChannel(index, subscription("c", { topics: ["equivariant networks"] }), day, { ...DEFAULT_WEIGHTS, minTermCoverage: 0 });
    expect(loose.map((r) => r.paper.id)).toContain("2602.00009");
    const ranked = await rankForChannel(index, subscription("c", { topics: ["equivariant networks"] }), day);
    expect(ranked.map((r) => r.paper.id)).toEqual(["2602.00010"]);
  });
});

describe("library", () => {
  const library = [
    { paperId: "2603.00005", title: "Equivariant transformers for molecules", savedAt: "2026-03-20T10:00:00Z" },
    { paperId: "2604.00007", title: "Gauge equivariant convolutions on meshes", savedAt: "2026-03-01T10:00:00Z" },
    { paperId: "9999.99999", title: "A saved paper the index does not hold", savedAt: "2026-03-25T10:00:00Z" },
  ];
  const asOf = new Date("2026-03-27T09:00:00Z");

  it("papers like the channel's library come in without a topic, saying which saved paper they are like", async () => {
    const day = index.store.papersAnnouncedBetween("2026-03-26", "2026-03-27");
    const sub = subscription("c", { topics: ["protein structure"] });
    const without = await rankForChannel(index, sub, day, { ...DEFAULT_WEIGHTS, minLibrary: 0.5 });
    expect(without.map((r) => r.paper.id)).not.toContain("2603.00001");
    const ranked = await rankForChannel(index, sub, day, { ...DEFAULT_WEIGHTS, minLibrary: 0.5 }, { liked: [], disliked: [], library, asOf });
    const like = ranked.find((r) => r.paper.id === "2603.00001");
    expect(like, JSON.stringify(ranked.map((r) => [r.paper.id, r.parts.library]))).toBeDefined();
    expect(like!.reason).toMatch(/^like “(Equivariant transformers for molecules|Gauge equivariant convolutions on meshes)” \(0\.\d\d\)$/);
    expect(like!.parts.like).toBeDefined();
    // The protein paper is less like the library than the equivariant one.
    expect(ranked.find((r) => r.paper.id === "2603.00003")!.parts.library).toBeLessThan(like!.parts.library);
    // A floor above every similarity: the library lets nothing in.
    const strict = await rankForChannel(index, sub, day, { ...DEFAULT_WEIGHTS, minLibrary: 0.99 }, { liked: [], disliked: [], library, asOf });
    expect(strict.map((r) => r.paper.id)).not.toContain("2603.00001");
  });

  it("a recent save weighs more than an old one", async () => {
    const day = index.store.papersAnnouncedBetween("2026-03-26", "2026-03-27");
    const sub = subscription("c", { topics: ["protein structure"] });
    const w = { ...DEFAULT_WEIGHTS, minLibrary: -1, libraryNeighbours: 1 };
    const old = await rankForChannel(index, sub, day, w, { liked: [], disliked: [], library: [{ ...library[0]!, savedAt: "2025-03-27T09:00:00Z" }], asOf });
    const recent = await rankForChannel(index, sub, day, w, { liked: [], disliked: [], library: [{ ...library[0]!, savedAt: "2026-03-27T08:00:00Z" }], asOf });
    const sim = (r: typeof old) => r.find((x) => x.paper.id === "2603.00001")!.parts.library;
    expect(sim(recent) - sim(old)).toBeCloseTo(DEFAULT_WEIGHTS.libraryRecency * (1 - 0.5 ** (365 / DEFAULT_WEIGHTS.libraryHalfLifeDays)), 2);
  });

  it("the floor follows how alike the library's own papers are, never below the model's", () => {
    const unit = (...xs: number[]) => {
      const v = Float32Array.from(xs);
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const lib = (vectors: Float32Array[]) => new LibraryVectors(vectors.map((vector, i) => ({ paperId: `p${i}`, title: `t${i}`, vector, bonus: 0 })));
    const tight = lib([unit(1, 0.05, 0), unit(1, 0, 0.05), unit(1, -0.05, 0), unit(1, 0, -0.05), unit(1, 0.03, 0.03), unit(1, -0.03, 0.03)]);
    const broad = lib([unit(1, 0, 0), unit(0, 1, 0), unit(0, 0, 1), unit(1, 1, 0), unit(0, 1, 1), unit(1, 0, 1)]);
    const w = { ...DEFAULT_WEIGHTS, libraryNeighbours: 1 };
    expect(libraryFloor(tight, w, 0)).toBeGreaterThan(0.99);
    expect(libraryFloor(broad, w, 0)).toBeLessThan(0.8);
    expect(libraryFloor(broad, w, 0.9)).toBe(0.9);
    expect(libraryFloor(tight.head(4), w, 0.3)).toBe(0.3); // too few papers to say
  });

  it("a digest tick ranks with the channel's saved papers", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "library-")));
    store.subscribe(subscription("discord:7", { topics: ["protein structure"] }));
    for (const l of library.slice(0, 2)) store.library.save("discord:7", { id: l.paperId, title: l.title, authors: [], categories: [] }, "u", new Date(l.savedAt));
    const posts: DecidedDigest[] = [];
    await runDigestTick({ index, store, now: new Date("2026-03-27T08:00:00Z"), holder: "a", weights: { ...DEFAULT_WEIGHTS, minLibrary: 0.5 }, post: async (d) => (posts.push(d), "m") });
    const item = posts[0]!.items.find((i) => i.paperId === "2603.00001");
    expect(item?.reason).toMatch(/^like “/);
    store.close();
  });
});

describe("empty digests", () => {
  it("remember how many new papers they were chosen from, after a crash too, so the headline can say why they are empty", () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "empty-")));
    store.subscribe(subscription("c"));
    const d = store.decide("c", "2026-03-27", [], new Date("2026-03-27T08:00:00Z"), ["2603.00001", "2603.00002"]);
    expect(d.candidates).toBe(2);
    expect(store.unposted("c")!.candidates).toBe(2);
    expect(digestHeadline(store.unposted("c")!, { topics: ["x"] })).toBe("Daily digest · 2026-03-27 · No paper matched: none of the 2 new papers is on this channel's topics or like its library.");
    store.close();
  });
});

describe("feedback", () => {
  it("votes are recorded once per user and paper, and move similar papers up or down", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "votes-")));
    store.recordVote("c", "2603.00001", "u1", -1, new Date());
    store.recordVote("c", "2603.00001", "u1", -1, new Date()); // the same reaction twice counts once
    store.recordVote("c", "2603.00004", "u2", 1, new Date());
    store.recordVote("c", "2603.00004", "u3", 1, new Date());
    store.recordVote("c", "2603.00004", "u3", 0, new Date()); // taken back
    expect(store.feedback("c")).toEqual({ liked: ["2603.00004"], disliked: ["2603.00001"], votes: 2 });
    const day = index.store.papersAnnouncedBetween("2026-03-26", "2026-03-27");
    const before = await rankForChannel(index, subscription("c"), day);
    expect(before.slice(0, 2).map((r) => r.paper.id)).toEqual(["2603.00001", "2603.00002"]);
    const after = await rankForChannel(index, subscription("c"), day, undefined, { liked: [], disliked: ["2603.00001"] });
    expect(after.slice(0, 2).map((r) => r.paper.id)).toEqual(["2603.00002", "2603.00001"]);
    expect(after.find((r) => r.paper.id === "2603.00001")!.parts.feedback).toBeCloseTo(-1, 3);
    store.close();
  });
});

describe("daily digests", () => {
  it("one digest a day at the channel's time, across a weekend, a DST switch and a 3-day outage; never a paper twice", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "state-")));
    store.subscribe(subscription("discord:1"));
    store.subscribe(subscription("slack:C1", { quiet: true, topics: ["language models"] }));
    const posts: { channel: string; day: string; ids: string[] }[] = [];
    const post = async (d: DecidedDigest) => {
      posts.push({ channel: d.channel, day: d.windowEnd, ids: d.items.map((i) => i.paperId) });
      return `msg-${posts.length}`;
    };
    const tick = (iso: string) => runDigestTick({ index, store, now: new Date(iso), post, holder: "a" });

    expect((await tick("2026-03-27T07:59:00Z")).posted).toEqual([]); // 08:59 in Berlin
    const friday = await tick("2026-03-27T08:00:00Z");
    expect(friday.posted.map((p) => p.channel).sort()).toEqual(["discord:1", "slack:C1"]);
    expect(posts.find((p) => p.channel === "discord:1")!.ids[0]).toBe("2603.00001");
    expect((await tick("2026-03-27T15:00:00Z")).posted).toEqual([]); // once a day
    await tick("2026-03-28T08:00:00Z"); // Saturday: nothing new → an empty digest; quiet channel posts nothing
    expect(posts.filter((p) => p.day === "2026-03-28")).toEqual([{ channel: "discord:1", day: "2026-03-28", ids: [] }]);
    expect((await tick("2026-03-29T06:59:00Z")).posted).toEqual([]); // 08:59 CEST
    expect((await tick("2026-03-29T07:00:00Z")).posted.map((p) => p.channel)).toContain("discord:1"); // 09:00 CEST
    // Down from Monday to Thursday: Thursday's digest covers Monday–Thursday, once.
    const thursday = await tick("2026-04-02T07:30:00Z");
    expect(thursday.posted.filter((p) => p.channel === "discord:1")).toHaveLength(1);
    const gap = posts.filter((p) => p.channel === "discord:1").at(-1)!;
    expect(gap.ids.sort()).toEqual(["2603.00005", "2603.00006", "2604.00007"]);
    const all = posts.filter((p) => p.channel === "discord:1").flatMap((p) => p.ids);
    expect(new Set(all).size).toBe(all.length);
    store.close();
  });

  it("a channel whose posts keep failing is tried 1, 2, 4, … minutes apart, not every minute; a success resets it", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "backoff-")));
    store.subscribe(subscription("slack:C1"));
    store.subscribe(subscription("discord:3"));
    const backoff = new PostBackoff();
    let tries = 0;
    let slackWorks = false;
    const post = async (d: DecidedDigest) => {
      if (d.channel !== "slack:C1") return "ok";
      tries++;
      if (!slackWorks) throw new Error("not_in_channel");
      return "ts1";
    };
    const at = (minute: number) => runDigestTick({ index, store, now: new Date(Date.UTC(2026, 2, 27, 8, minute)), post, holder: "a", backoff });
    const first = await at(0);
    expect(first.failed).toEqual([{ channel: "slack:C1", error: "not_in_channel", retryInMinutes: 1 }]);
    expect(first.posted.map((p) => p.channel)).toEqual(["discord:3"]); // the other channel is not held up
    const timeline: string[] = [];
    for (let minute = 1; minute <= 8; minute++) {
      const r = await at(minute);
      timeline.push(r.failed.length > 0 ? `${minute}:failed→${r.failed[0]!.retryInMinutes}` : r.waiting.length > 0 ? `${minute}:waiting` : `${minute}:-`);
    }
    expect(timeline).toEqual(["1:failed→2", "2:waiting", "3:failed→4", "4:waiting", "5:waiting", "6:waiting", "7:failed→8", "8:waiting"]);
    expect(tries).toBe(4);
    slackWorks = true; // invited
    expect((await at(15)).posted).toEqual([{ channel: "slack:C1", digestId: expect.any(Number), papers: expect.any(Number), resumed: true }]);
    expect(backoff.waiting("slack:C1", new Date(Date.UTC(2026, 2, 27, 8, 15)))).toBe(false);
    expect(new PostBackoff().failed("x", new Date(0))).toBe(1);
    const capped = new PostBackoff(60);
    let minutes = 0;
    for (let i = 0; i < 10; i++) minutes = capped.failed("x", new Date(0));
    expect(minutes).toBe(60);
    store.close();
  });

  it("a crash between deciding and posting: the next tick posts that same digest, nothing dropped or doubled", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "crash-")));
    store.subscribe(subscription("discord:2"));
    const failing = async () => {
      throw new Error("Discord is down");
    };
    const first = await runDigestTick({ index, store, now: new Date("2026-03-27T08:00:00Z"), post: failing, holder: "a" });
    expect(first.failed).toEqual([{ channel: "discord:2", error: "Discord is down", retryInMinutes: 1 }]);
    const pending = store.unposted("discord:2")!;
    expect(pending.items.length).toBeGreaterThan(0);
    const posted: DecidedDigest[] = [];
    const ok = async (d: DecidedDigest) => {
      posted.push(d);
      return "m1";
    };
    const again = await runDigestTick({ index, store, now: new Date("2026-03-27T08:01:00Z"), post: ok, holder: "a" });
    expect(again.posted).toEqual([{ channel: "discord:2", digestId: pending.id, papers: pending.items.length, resumed: true }]);
    expect(posted[0]!.idempotencyKey).toBe(pending.idempotencyKey);
    expect(store.unposted("discord:2")).toBeUndefined();
    expect((await runDigestTick({ index, store, now: new Date("2026-03-27T08:02:00Z"), post: ok, holder: "a" })).posted).toEqual([]);
    expect(store.posted("discord:2").map((d) => d.items.length)).toEqual([pending.items.length]);
    store.close();
  });

  it("a second process does not post while the first holds the lease", async () => {
    const stateDir = mkdtempSync(path.join(scratch, "lease-"));
    const a = DigestStore.open(stateDir);
    const b = DigestStore.open(stateDir);
    a.subscribe(subscription("discord:3"));
    const post = async () => "m";
    const now = new Date("2026-03-27T08:00:00Z");
    expect((await runDigestTick({ index, store: a, now, post, holder: "a" })).leased).toBe(true);
    expect((await runDigestTick({ index, store: b, now, post, holder: "b" })).leased).toBe(false);
    // After the lease expires, b takes over (a died).
    expect((await runDigestTick({ index, store: b, now: new Date(now.getTime() + 6 * 60_000), post, holder: "b" })).leased).toBe(true);
    a.close();
    b.close();
  });
});

describe("crash between deciding and posting (SIGKILL)", () => {
  it("the restarted bot posts the decided digest once; its papers are never decided again", { timeout: 120_000 }, async () => {
    const stateDir = mkdtempSync(path.join(scratch, "kill-"));
    const setup = DigestStore.open(stateDir);
    setup.subscribe(subscription("discord:9"));
    setup.close();
    const child = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "test/helpers/digest-child.ts"), dir, stateDir, "2026-03-27T08:00:00Z"], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += String(d);
        const m = /POSTING .*\n/.exec(out);
        if (m) resolve(m[0].trim());
      });
      child.on("exit", (code) => reject(new Error(`child exited ${code} before posting: ${stderr}`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    const [, id, ids] = line.split(" ");
    const store = DigestStore.open(stateDir);
    expect(store.unposted("discord:9")?.id).toBe(Number(id));
    const posts: DecidedDigest[] = [];
    // The child's lease (1 s) has expired by the time this process ticks, a minute later.
    const report = await runDigestTick({ index, store, now: new Date("2026-03-27T08:01:00Z"), holder: "parent", post: async (d) => (posts.push(d), "m") });
    expect(report.posted).toEqual([{ channel: "discord:9", digestId: Number(id), papers: ids!.split(",").length, resumed: true }]);
    expect(posts[0]!.items.map((i) => i.paperId).join(",")).toBe(ids);
    await runDigestTick({ index, store, now: new Date("2026-03-27T10:00:00Z"), holder: "parent", post: async (d) => (posts.push(d), "m") });
    expect(posts).toHaveLength(1);
    store.close();
  });
});

describe.skipIf(!existsSync(HF_ARCHIVE))("a month of real Hugging Face daily papers (../shared)", () => {
  it("three channels, 30 days: a post every day, no paper twice", { timeout: 180_000 }, async () => {
    const days: { date: string; papers: Paper[] }[] = [];
    for await (const entry of readHfDailyArchive(HF_ARCHIVE)) {
      if ("papers" in entry && entry.papers && entry.date && entry.date >= "2025-03-01" && entry.date <= "2025-03-30") days.push({ date: entry.date, papers: entry.papers });
    }
    expect(days.length).toBeGreaterThanOrEqual(20);
    const monthDir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-month-"));
    const month = await PaperIndex.open({ dir: monthDir, embedder });
    await month.add(days.flatMap((d) => d.papers));
    const store = DigestStore.open(path.join(monthDir, "state"));
    const topics = [["language models", "reasoning"], ["diffusion", "image generation"], ["robotics", "reinforcement learning"]];
    topics.forEach((t, i) => store.subscribe(subscription(`c${i}`, { topics: t, timezone: "UTC", windowEnd: "2025-02-28" })));
    const posts: { channel: string; day: string; ids: string[] }[] = [];
    for (let d = 1; d <= 30; d++) {
      const day = `2025-03-${String(d).padStart(2, "0")}`;
      const report = await runDigestTick({
        index: month,
        store,
        now: new Date(`${day}T09:00:00Z`),
        holder: "month",
        post: async (digest) => (posts.push({ channel: digest.channel, day: digest.windowEnd, ids: digest.items.map((i) => i.paperId) }), "m"),
      });
      expect(report.failed).toEqual([]);
    }
    for (const channel of ["c0", "c1", "c2"]) {
      const mine = posts.filter((p) => p.channel === channel);
      expect(mine.map((p) => p.day)).toEqual(Array.from({ length: 30 }, (_, i) => `2025-03-${String(i + 1).padStart(2, "0")}`));
      const ids = mine.flatMap((p) => p.ids);
      expect(ids.length).toBeGreaterThan(30);
      expect(new Set(ids).size).toBe(ids.length);
    }
    store.close();
    month.close();
    rmSync(monthDir, { recursive: true, force: true });
  });
});

describe("DigestScheduler", () => {
  it("ticks with its clock, logs posts and failures, never throws", async () => {
    const store = DigestStore.open(mkdtempSync(path.join(scratch, "sched-")));
    store.subscribe(subscription("discord:5"));
    store.subscribe(subscription("slack:down"));
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", stream: { write: (l: string) => (lines.push(l), true) } as unknown as NodeJS.WritableStream });
    const scheduler = new DigestScheduler({
      index,
      store,
      holder: "s",
      logger,
      now: () => new Date("2026-03-27T08:00:00Z"),
      post: async (d) => {
        if (d.channel === "slack:down") throw new Error("Slack is unreachable");
        return "m";
      },
    });
    const report = await scheduler.tick();
    expect(report!.posted.map((p) => p.channel)).toEqual(["discord:5"]);
    expect(lines.some((l) => l.includes("digest posted") && l.includes("discord:5"))).toBe(true);
    expect(lines.some((l) => l.includes("digest failed") && l.includes("Slack is unreachable"))).toBe(true);
    store.close(); // a tick on a closed store fails: logged, not thrown
    expect(await scheduler.tick()).toBeUndefined();
    expect(lines.some((l) => l.includes("digest tick failed"))).toBe(true);
    scheduler.start();
    scheduler.stop();
  });
});

describe("late arrivals", () => {
  it("a paper announced for a day that arrives after that day's digest is in the next one; papers ranked and left out are not offered again", async () => {
    const lateDir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-late-"));
    const lateIndex = await PaperIndex.open({ dir: lateDir, embedder });
    const store = DigestStore.open(lateDir);
    try {
      const on = (id: string, day: string, title: string) => paper(id, day, title, `${title}. Equivariant networks for 3D point clouds.`);
      await lateIndex.add([on("2611.00001", "2026-11-02", "Equivariant networks A"), on("2611.00002", "2026-11-02", "Equivariant networks B"), on("2611.00003", "2026-11-02", "Equivariant networks C")]);
      store.subscribe(subscription("console:late", { count: 2, timezone: "UTC", windowEnd: "2026-11-01", since: "2026-11-01" }));
      const posted: DecidedDigest[] = [];
      const tick = (at: string) => runDigestTick({ index: lateIndex, store, now: new Date(at), holder: "t", post: async (d) => (posted.push(d), `t:${d.id}`) });
      await tick("2026-11-02T09:00:00Z");
      expect(posted[0]!.items).toHaveLength(2); // 3 candidates, count 2: one ranked and left out
      const leftOut = ["2611.00001", "2611.00002", "2611.00003"].find((id) => !posted[0]!.items.some((i) => i.paperId === id))!;
      // Featured for 2 November, but fetched after that day's digest.
      await lateIndex.add([on("2611.00004", "2026-11-02", "Equivariant networks D, late")]);
      await tick("2026-11-03T09:00:00Z");
      expect(posted[1]!.items.map((i) => i.paperId)).toEqual(["2611.00004"]);
      expect(posted.flatMap((d) => d.items.map((i) => i.paperId))).not.toContain(leftOut);
    } finally {
      store.close();
      lateIndex.close();
      rmSync(lateDir, { recursive: true, force: true });
    }
  });
});
