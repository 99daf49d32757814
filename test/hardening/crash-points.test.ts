/**
 * Crash points, deterministically: each command (`index` into a new and into an existing index,
 * `reindex`, `backup`, `ingest`, a digest post) runs once with PAPERHOUND_FAULT_TRACE to list its
 * write, fsync, rename and commit points (src/fault-points.ts), then once per point with
 * PAPERHOUND_FAULT_AT=n on a fresh copy of the same starting state, dying by SIGKILL there. After
 * each kill: the store opens read-only and passes its integrity checks, the index opens and searches,
 * and the same command run again ends with every paper (and every digest message) exactly once.
 *
 * A point costs two child processes (~1.5 s each), so a scenario with more points than its cap
 * (CAP) is killed at evenly spaced ones; PAPERHOUND_CRASH_POINTS=all kills at every point (~10
 * minutes on 2 cores).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/app/context.js";
import { openEmbedder } from "../../src/app/open-index.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import type { Embedder } from "../../src/embed/types.js";
import { projectRoot } from "../../src/paths.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { POINTER_FILE, type IndexPointer } from "../../src/search/vector-index.js";
import { hnswlib } from "../../src/search/vectors/hnswlib.js";
import { convertIndexFile } from "../../src/search/vectors/index-file.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { Database } from "../../src/search/store/sqlite.js";
import { LoopbackServer, fixture, type Reply } from "../helpers/loopback-server.js";
import { cleanEnv, runNode, runNodeWithSignal, type Run } from "../helpers/run-cli.js";
import { testSubscription } from "../helpers/subscription.js";

const FIXTURE = path.join(projectRoot, "test", "fixtures", "cli-papers.jsonl");
const DIGEST_CHILD = path.join(projectRoot, "test", "hardening", "digest-post-child.ts");
const ALL = process.env.PAPERHOUND_CRASH_POINTS === "all";
/** Kills per scenario unless PAPERHOUND_CRASH_POINTS=all; the sum keeps the file near 4 minutes on 2 cores. */
const CAP = { indexNew: 8, indexUpdate: 6, indexConvert: 5, reindex: 7, backup: 16, ingest: 6, digest: 8 };
/** Points run side by side (each is a few child processes one after another). */
const PARALLEL = 2;
/** Unset fault variables explicitly: the runner's environment must not kill the checking commands. */
const NO_FAULT = { PAPERHOUND_FAULT_AT: "", PAPERHOUND_FAULT_TRACE: "" };
const CHANNEL = "333333333333333333";

/** The files an index directory holds after a completed command; anything else is left over from a kill. */
const INDEX_FILE = /^((papers|digest)\.sqlite(-wal|-shm)?|vectors\.json|vectors-\d+\.hnsw|bm25\.bin|writer\.lock|writer\.lock\.json)$/;

type Group = "index" | "reindex" | "backup" | "ingest" | "digest";
const counted: Record<Group, number> = { index: 0, reindex: 0, backup: 0, ingest: 0, digest: 0 };

interface Point {
  n: number;
  label: string;
}

let tmp: string;
let embedder: Embedder;
const started = performance.now();

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-crash-points-"));
  // The CLI's default model, as the children use: the end state is read as `stats` reads it.
  embedder = await openEmbedder(createContext({ env: cleanEnv() }));
}, 120_000);

afterAll(async () => {
  await embedder?.dispose();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const total = Object.values(counted).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `crash points: ${total} (index ${counted.index}, reindex ${counted.reindex}, backup ${counted.backup}, ingest ${counted.ingest}, digest ${counted.digest}) ` +
      `in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
});

/** A file of the fixture's lines `n`. */
const lines = (file: string, n: number[]) => {
  const all = readFileSync(file, "utf8").trimEnd().split("\n");
  const out = path.join(tmp, `papers-${n.join("-")}.jsonl`);
  writeFileSync(out, `${n.map((i) => all[i]).join("\n")}\n`);
  return out;
};

/** The points a run passed, from its trace file. */
function readTrace(file: string): Point[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trimEnd()
    .split("\n")
    .map((line, i) => {
      const [n, ...rest] = line.split(" ");
      expect(Number(n), "points are numbered 1, 2, ... in one process").toBe(i + 1);
      return { n: i + 1, label: rest.join(" ") };
    });
}

/**
 * Every point, or `cap` evenly spaced ones, `shift` (0 to 1) of a step along: index, ingest and
 * reindex pass much the same sequence of points, so different shifts make them kill at different ones.
 */
function choose(points: Point[], cap: number, shift: number): Point[] {
  if (ALL || points.length <= cap) return points;
  const step = points.length / cap;
  return Array.from({ length: cap }, (_, i) => points[Math.min(points.length - 1, Math.floor((i + shift) * step))]!);
}

async function pool<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < items.length) await each(items[next++]!);
    }),
  );
}

/** What every run of a scenario needs: a copy of the starting state and the command. */
interface Scenario {
  group: Group;
  /** Builds the starting state in `base` (copied for every run). */
  prepare(base: string): Promise<void>;
  run(work: string, env: Record<string, string>): Promise<Run & { signal: NodeJS.Signals | null }>;
  /** Checks after a kill at `p` (before the rerun); returns what the rerun check needs. */
  afterKill(work: string, p: Point): Promise<unknown>;
  /** Checks after the rerun. */
  afterRerun(work: string, rerun: Run, killed: unknown, p: Point | undefined): Promise<void>;
}

/**
 * Runs the scenario once traced (the reference run, checked like a rerun), then killed at each
 * chosen point, each followed by the checks and a rerun. Returns the number of points the run has.
 */
async function crashAtEveryPoint(name: string, s: Scenario, cap: number, shift = 0): Promise<{ points: number; killed: number }> {
  const base = path.join(tmp, `${name}-base`);
  mkdirSync(base, { recursive: true });
  await s.prepare(base);
  const ref = path.join(tmp, `${name}-ref`);
  cpSync(base, ref, { recursive: true });
  const traceFile = path.join(tmp, `${name}.trace`);
  const traced = await s.run(ref, { ...NO_FAULT, PAPERHOUND_FAULT_TRACE: traceFile });
  await s.afterRerun(ref, traced, undefined, undefined);
  const points = readTrace(traceFile);
  expect(points.length, `${name} passes fault points`).toBeGreaterThan(0);
  const chosen = choose(points, cap, shift);
  console.log(`${name}: ${points.length} points, killed at ${chosen.map((p) => `${p.n} (${p.label})`).join(", ")}`);
  await pool(chosen, async (p) => {
    const work = path.join(tmp, `${name}-${p.n}`);
    cpSync(base, work, { recursive: true });
    const what = `${name}, killed at point ${p.n}/${points.length} (${p.label})`;
    const killed = await s.run(work, { ...NO_FAULT, PAPERHOUND_FAULT_AT: String(p.n) });
    expect(killed.signal, `${what}: exit code ${killed.code}, ${killed.stderr.slice(-2000)}`).toBe("SIGKILL");
    const state = await s.afterKill(work, p);
    const rerun = await s.run(work, NO_FAULT);
    await s.afterRerun(work, rerun, state, p);
    rmSync(work, { recursive: true, force: true });
    counted[s.group] += 1;
  });
  return { points: points.length, killed: chosen.length };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** The store opens read-only and is intact; returns its papers (none when there is no store yet). */
function checkStore(dir: string, what: string): { ids: string[]; embedded: number; texts: string[] } {
  const file = path.join(dir, "papers.sqlite");
  if (!existsSync(file)) return { ids: [], embedded: 0, texts: [] };
  const store = PaperStore.open(file, { readonly: true });
  try {
    expect(() => store.integrityCheck(), what).not.toThrow();
    const papers = store.getMany(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(papers.length, what).toBe(store.count());
    return { ids: papers.map((p) => p.id), embedded: store.count() - store.pendingCount(), texts: papers.map((p) => `${p.title} ${p.abstract}`) };
  } finally {
    store.close();
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      expect(db.prepare("PRAGMA integrity_check").pluck().all(), `${what}: integrity_check`).toEqual(["ok"]);
    } finally {
      db.close();
    }
  }
}

/**
 * The index opens read-only and searches (in this process: a CLI run per point would double the
 * test's time): hits when a paper is committed that it can find, none before any.
 */
async function checkSearch(dir: string, query: string, what: string): Promise<void> {
  const { ids, embedded, texts } = checkStore(dir, what);
  if (ids.length === 0) return; // nothing committed yet: `search` says the index is empty
  const index = await PaperIndex.open({ dir, embedder, readonly: true });
  try {
    const hits = await index.search(query, { k: 3 });
    // Dense search finds any embedded paper; before that, only keyword matches.
    if (embedded > 0 || texts.some((t) => t.toLowerCase().includes(query))) expect(hits.length, `${what}: search hits`).toBeGreaterThan(0);
  } finally {
    index.close();
  }
}

/** The index holds exactly `ids`, each once, all embedded, as `paperhound stats` counts them, and finds them. */
async function checkComplete(dir: string, ids: readonly string[], what: string, query = "attention"): Promise<void> {
  const { ids: stored } = checkStore(dir, what);
  expect([...stored].sort(), `${what}: every paper exactly once`).toEqual([...new Set(ids)].sort());
  const index = await PaperIndex.open({ dir, embedder, readonly: true });
  try {
    const s = index.stats();
    expect({ papers: s.papers, vectors: s.vectors, embedded: s.embedded, pending: s.pending }, what).toEqual({
      papers: ids.length,
      vectors: ids.length,
      embedded: ids.length,
      pending: 0,
    });
    expect((await index.search(query, { k: 3 })).length, `${what}: search`).toBeGreaterThan(0);
  } finally {
    index.close();
  }
}

const cli = (args: string[], env: Record<string, string>) => runNodeWithSignal(args, { env: { PAPERHOUND_CHECKPOINT_EVERY: "2", ...env } });

/** A scenario that writes the index in `<work>/idx` with a paperhound command. */
function indexScenario(group: Group, prepare: (base: string) => Promise<void>, args: (idx: string) => string[], query: string, extraEnv: () => Record<string, string> = () => ({})): Scenario & { expected: string[] } {
  const sc = {
    group,
    expected: [] as string[],
    prepare,
    run: (work: string, env: Record<string, string>) => cli(args(path.join(work, "idx")), { ...extraEnv(), ...env }),
    afterKill: async (work: string, p: Point) => {
      await checkSearch(path.join(work, "idx"), query, `${group} killed at ${p.n} (${p.label})`);
    },
    afterRerun: async (work: string, rerun: Run, _killed: unknown, p: Point | undefined) => {
      const what = p ? `${group} rerun after a kill at ${p.n} (${p.label})` : `${group} reference run`;
      expect(rerun.code, `${what}: ${rerun.stderr.slice(-2000)}`).toBe(0);
      if (!p) sc.expected = checkStore(path.join(work, "idx"), what).ids;
      expect(sc.expected.length).toBeGreaterThan(0);
      await checkComplete(path.join(work, "idx"), sc.expected, what, query);
      expect(readdirSync(path.join(work, "idx")).filter((n) => !INDEX_FILE.test(n)), `${what}: nothing left over from the kill`).toEqual([]);
    },
  };
  return sc;
}

async function indexInto(idx: string, file: string): Promise<void> {
  const r = await runNode(["index", file, "--index", idx], { env: NO_FAULT });
  expect(r.code, r.stderr).toBe(0);
}

// ---------------------------------------------------------------------------------------------

describe("SIGKILL at every write, fsync, rename and commit point", () => {
  it("index into a new index", { timeout: 600_000 }, async () => {
    const file = lines(FIXTURE, [0, 1, 2]);
    const sc = indexScenario("index", async () => undefined, (idx) => ["index", file, "--index", idx], "attention");
    await crashAtEveryPoint("index-new", sc, CAP.indexNew);
    expect(sc.expected).toHaveLength(3);
  });

  it("index into an existing index (new and changed papers)", { timeout: 600_000 }, async () => {
    const first = lines(FIXTURE, [0, 1, 2]);
    const rows = readFileSync(FIXTURE, "utf8").trimEnd().split("\n");
    const changed = [0, 1].map((i) => {
      const p = JSON.parse(rows[i]!) as { abstract: string };
      return JSON.stringify({ ...p, abstract: `${p.abstract} Revised: we add experiments on attention sinks.` });
    });
    const update = path.join(tmp, "update.jsonl");
    writeFileSync(update, `${[...changed, rows[3], rows[4]].join("\n")}\n`);
    const sc = indexScenario("index", (base) => indexInto(path.join(base, "idx"), first), (idx) => ["index", update, "--index", idx], "attention");
    await crashAtEveryPoint("index-update", sc, CAP.indexUpdate, 1 / 3);
    expect(sc.expected).toHaveLength(5);
  });

  it.runIf(hnswlib.float16)("index into an index of float32 vectors (converted to float16 once, then added to)", { timeout: 600_000 }, async () => {
    const first = lines(FIXTURE, [0, 1, 2]);
    const more = lines(FIXTURE, [3, 4]);
    const sc = indexScenario(
      "index",
      async (base) => {
        const idx = path.join(base, "idx");
        await indexInto(idx, first);
        // Its vector file as a version before half floats wrote it.
        const pointerPath = path.join(idx, POINTER_FILE);
        const p = JSON.parse(readFileSync(pointerPath, "utf8")) as IndexPointer;
        const file = `vectors-${p.generation + 1}.hnsw`;
        const { sha256, bytes } = await convertIndexFile(path.join(idx, p.file), path.join(idx, file), p.dim, p.M, p.space, "cosine");
        writeFileSync(pointerPath, JSON.stringify({ ...p, generation: p.generation + 1, file, sha256, bytes, space: "cosine" }));
        rmSync(path.join(idx, p.file));
      },
      (idx) => ["index", more, "--index", idx],
      "attention",
    );
    const checkComplete = sc.afterRerun;
    sc.afterRerun = async (work, rerun, killed, p) => {
      await checkComplete(work, rerun, killed, p);
      if (!p) expect(rerun.stderr).toMatch(/Converted the 3 stored vectors of .* from float32 to float16 once, in [\d.]+ s \(they now take half the memory and disk; the graph was kept, nothing was embedded again\)/);
      expect((JSON.parse(readFileSync(path.join(work, "idx", POINTER_FILE), "utf8")) as IndexPointer).space).toBe("cosine-f16");
    };
    await crashAtEveryPoint("index-convert", sc, CAP.indexConvert, 1 / 3);
    expect(sc.expected).toHaveLength(5);
  });

  it("reindex --yes", { timeout: 600_000 }, async () => {
    const file = lines(FIXTURE, [0, 1, 2, 3]);
    const sc = indexScenario("reindex", (base) => indexInto(path.join(base, "idx"), file), (idx) => ["reindex", "--yes", "--index", idx], "attention");
    await crashAtEveryPoint("reindex", sc, CAP.reindex, 1 / 2);
    expect(sc.expected).toHaveLength(4);
  });

  describe("ingest", () => {
    let server: LoopbackServer;
    beforeAll(async () => {
      server = await LoopbackServer.start();
      // Hugging Face daily papers for two days: 1 + 2 papers, two pages.
      server.route("/hfapi/daily_papers", (req): Reply => {
        const date = req.query.get("date");
        if (date === "2026-11-02") return { body: fixture("hf-daily-2026-11-02.json") };
        if (date === "2026-11-03") return { body: readFileSync(path.join(projectRoot, "test", "fixtures", "sources", "hf-daily-2026-01-05.json")) };
        return { body: fixture("hf-daily-empty.json") };
      });
    });
    afterAll(async () => {
      await server?.close();
    });

    it("ingest hf-daily", { timeout: 600_000 }, async () => {
      const sc = indexScenario(
        "ingest",
        async () => undefined,
        (idx) => ["ingest", "hf-daily", "--since", "2026-11-02", "--until", "2026-11-03", "--index", idx],
        "crawlers",
        () => ({ HF_API_URL: `${server.origin}/hfapi`, HF_MIN_INTERVAL_MS: "20", PAPERHOUND_CONTACT_EMAIL: "crash-points@example.org" }),
      );
      await crashAtEveryPoint("ingest", sc, CAP.ingest, 2 / 3);
      expect(sc.expected).toHaveLength(3);
    });
  });

  it("backup (the destination is absent or complete; a complete one restores)", { timeout: 600_000 }, async () => {
    const file = lines(FIXTURE, [0, 1, 2]);
    const ids = ["2101.00001", "2101.00002", "2203.01234"];
    const dest = (work: string) => path.join(work, "bak");
    /** A complete backup: its manifest lists what is there, and `restore` brings back a working index. */
    const checkBackup = async (work: string, what: string) => {
      const manifest = JSON.parse(readFileSync(path.join(dest(work), "paperhound-backup.json"), "utf8")) as { files: { name: string }[] };
      expect(manifest.files.map((f) => f.name.replace(/^vectors-\d+\.hnsw$/, "vectors-N.hnsw")).sort(), what).toEqual(["digest.sqlite", "papers.sqlite", "vectors-N.hnsw", "vectors.json"]);
      const restored = path.join(work, "restored");
      const r = await runNode(["restore", dest(work), "--index", restored], { env: NO_FAULT });
      expect(r.code, `${what}: restore: ${r.stderr}`).toBe(0);
      await checkSearch(restored, "attention", `${what}: restored`);
      await checkComplete(restored, ids, `${what}: restored`);
      rmSync(restored, { recursive: true, force: true });
    };
    const sc: Scenario = {
      group: "backup",
      prepare: async (base) => {
        await indexInto(path.join(base, "idx"), file);
        DigestStore.open(path.join(base, "idx")).close(); // the digest state is backed up too
      },
      run: (work, env) => cli(["backup", dest(work), "--index", path.join(work, "idx")], env),
      afterKill: async (work, p) => {
        const what = `backup killed at ${p.n} (${p.label})`;
        // The source is only read; the destination is the store a kill may leave half written.
        await checkComplete(path.join(work, "idx"), ids, `${what}: source index`);
        const complete = existsSync(dest(work));
        if (complete) await checkBackup(work, what);
        leftBehind += readdirSync(work).filter((n) => n.startsWith(".bak.partial-")).length;
        return complete;
      },
      afterRerun: async (work, rerun, complete, p) => {
        const what = p ? `backup rerun after a kill at ${p.n} (${p.label})` : "backup reference run";
        if (complete === true) {
          // A finished backup is never overwritten.
          expect(rerun.code, what).toBe(1);
          expect(rerun.stderr, what).toMatch(/exists and is not empty/);
        } else {
          expect(rerun.code, `${what}: ${rerun.stderr}`).toBe(0);
        }
        if (!p) await checkBackup(work, what);
        else expect(existsSync(path.join(dest(work), "paperhound-backup.json")), what).toBe(true);
        // A killed run's work directory (a full copy) is removed by the next run.
        expect(readdirSync(work).filter((n) => n.startsWith(".bak.partial-")), what).toEqual([]);
      },
    };
    let leftBehind = 0;
    const { points, killed } = await crashAtEveryPoint("backup", sc, CAP.backup);
    console.log(`backup: ${killed} of ${points} points; ${leftBehind} kills left a work directory beside the destination (removed by the rerun)`);
  });

  describe("digest post", () => {
    /** A fake Discord channel: POST /api/v10/channels/<id>/messages, with Discord's enforce_nonce. */
    interface FakeChannel {
      url: string;
      posts: number;
      messages: { nonce: string; content: string; papers: string[] }[];
      close(): Promise<void>;
    }
    async function fakeChannel(): Promise<FakeChannel> {
      const fake: FakeChannel = { url: "", posts: 0, messages: [], close: async () => undefined };
      let id = 1000n;
      const server: Server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          if (req.method !== "POST" || req.url !== `/api/v10/channels/${CHANNEL}/messages`) {
            res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Unknown", code: 0 }));
            return;
          }
          fake.posts += 1;
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { nonce: string; enforce_nonce?: boolean; content: string; embeds: { footer?: { text: string } }[] };
          // Discord returns the earlier message for a repeated nonce instead of posting it again.
          let at = body.enforce_nonce ? fake.messages.findIndex((m) => m.nonce === body.nonce) : -1;
          if (at < 0) at = fake.messages.push({ nonce: body.nonce, content: body.content, papers: body.embeds.map((e) => e.footer?.text ?? "") }) - 1;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: String(id + BigInt(at)), channel_id: CHANNEL, nonce: body.nonce }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
      fake.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
      return fake;
    }

    it("a digest of two messages", { timeout: 600_000 }, async () => {
      // Six papers of one day, all on the channel's topic: a digest of 5 + 1 papers, two messages.
      const topics = ["sparse attention for long sequences"];
      const papers = Array.from({ length: 6 }, (_, i) => ({
        id: `2603.0000${i + 1}`,
        title: `Sparse attention for long sequences, variant ${i + 1}`,
        abstract: `We study sparse attention patterns for long sequences; variant ${i + 1} uses ${["local windows", "global tokens", "random blocks", "dilated windows", "learned routing", "hashing"][i]}.`,
        authors: ["Ada Lovelace"],
        categories: ["cs.LG"],
        published: "2026-03-27",
      }));
      const file = path.join(tmp, "digest-papers.jsonl");
      writeFileSync(file, `${papers.map((p) => JSON.stringify(p)).join("\n")}\n`);
      const channel = `discord:${CHANNEL}`;
      const fakes = new Map<string, FakeChannel>();
      const sc: Scenario = {
        group: "digest",
        prepare: async (base) => {
          await indexInto(path.join(base, "idx"), file);
          const store = DigestStore.open(path.join(base, "idx"));
          store.subscribe(testSubscription(channel, { topics, timezone: "UTC", count: 6, windowEnd: "2026-03-26" }));
          store.close();
        },
        run: async (work, env) => {
          let fake = fakes.get(work);
          if (!fake) fakes.set(work, (fake = await fakeChannel()));
          // The rerun is a minute later: the bot restarted.
          const now = env.PAPERHOUND_FAULT_AT ? "2026-03-27T09:00:00Z" : "2026-03-27T09:01:00Z";
          return runNodeWithSignal([DIGEST_CHILD, path.join(work, "idx"), fake.url, now], { nodeArgs: ["--import", "tsx"], env });
        },
        afterKill: async (work, p) => {
          const what = `digest killed at ${p.n} (${p.label})`;
          const db = new Database(path.join(work, "idx", "digest.sqlite"), { readonly: true, fileMustExist: true });
          try {
            expect(db.prepare("PRAGMA integrity_check").pluck().all(), `${what}: digest.sqlite integrity_check`).toEqual(["ok"]);
          } finally {
            db.close();
          }
          checkStore(path.join(work, "idx"), what); // the paper index is only read by a digest post
        },
        afterRerun: async (work, rerun, _state, p) => {
          const what = p ? `digest rerun after a kill at ${p.n} (${p.label})` : "digest reference run";
          expect(rerun.code, `${what}: ${rerun.stdout} ${rerun.stderr.slice(-2000)}`).toBe(0);
          const fake = fakes.get(work)!;
          const store = DigestStore.open(path.join(work, "idx"));
          try {
            expect(store.unposted(channel), what).toBeUndefined();
            const posted = store.posted(channel);
            expect(posted, `${what}: one digest`).toHaveLength(1);
            const ids = posted[0]!.items.map((i) => i.paperId);
            expect([...ids].sort(), `${what}: every paper in the digest once`).toEqual(papers.map((x) => x.id));
            expect(store.delivered(channel, ids).size, what).toBe(6);
            // The channel shows each message once, and each paper in one of them.
            expect(fake.messages.map((m) => m.nonce), `${what}: messages in the channel`).toEqual([`ph${posted[0]!.id}.0`, `ph${posted[0]!.id}.1`]);
            expect(fake.messages.flatMap((m) => m.papers).sort(), `${what}: papers in the channel`).toEqual(papers.map((x) => x.id));
          } finally {
            store.close();
          }
          repeats += fake.posts - fake.messages.length;
          await fake.close();
          fakes.delete(work);
        },
      };
      let repeats = 0;
      const { points, killed } = await crashAtEveryPoint("digest", sc, CAP.digest);
      console.log(`digest: ${killed} of ${points} points; ${repeats} posts repeated after a kill, dropped by their nonce`);
    });
  });

  it("killed at 50 points or more in all", () => {
    expect(Object.values(counted).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(50);
  });
});
