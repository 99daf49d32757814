/**
 * Search threads (SEARCH_THREADS): searches run on worker threads that open the same index, and
 * answer exactly as the index does on the calling thread, errors included; a worker that dies fails
 * what it held and is replaced on the next request.
 */
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../../src/app/context.js";
import { openChatRuntime } from "../../src/bot/runtime.js";
import { runCommand } from "../../commands/run.js";
import { PaperNotFoundError, SearchInputError } from "../../src/search/paper-index.js";
import { SearchThreadError, SearchThreads, ThreadEmbedder } from "../../src/search/search-threads.js";
import type { SearchHit } from "../../src/search/types.js";
import { hnswlib } from "../../src/search/vectors/hnswlib.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";

let t: TestIndex;
let threads: SearchThreads;
const setup = () => ({ dir: t.dir, embedder: { model: "use-lite", device: "cpu" as const, threads: 1, allowRemote: false } });

beforeAll(async () => {
  t = await buildTestIndex();
  threads = await SearchThreads.start(setup(), { count: 2, logger: quietLogger() });
}, 180_000);

afterAll(async () => {
  await threads?.close();
  await t?.close();
});

const summary = (hits: SearchHit[]) => hits.map((h) => [h.paper.id, h.score.toFixed(6)]);

describe("search threads", () => {
  it("answer /paper searches as the index does on this thread", async () => {
    for (const query of ["sparse attention for long documents", "equivariant networks", "ping safety for chat bots", "protein folding"]) {
      const here = await t.index.search(query, { k: 8 });
      const there = await threads.search(query, { k: 8 });
      expect(summary(there)).toEqual(summary(here));
      expect(there[0]!.paper).toEqual(here[0]!.paper);
    }
    const filtered = { k: 5, filters: { categories: ["cs.CR"] } };
    expect(summary(await threads.search("ping safety", filtered))).toEqual(summary(await t.index.search("ping safety", filtered)));
  });

  it("answer /related and resolve papers as the index does", async () => {
    const here = await t.index.related("2410.00001", { k: 6 });
    const there = await threads.related("2410.00001", { k: 6 });
    expect(there.paper.id).toBe("2410.00001");
    expect(summary(there.hits)).toEqual(summary(here.hits));
    expect((await threads.resolvePaper("https://arxiv.org/abs/2410.00001")).id).toBe("2410.00001");
  });

  it("keep the search core's error classes, so commands show the same messages", async () => {
    await expect(threads.search("   ")).rejects.toBeInstanceOf(SearchInputError);
    await expect(threads.search("x", { k: 0 })).rejects.toThrow(/k must be a whole number from 1 to/);
    const missing = await threads.related("2512.99999").catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(PaperNotFoundError);
    expect((missing as Error).message).toBe("arXiv 2512.99999 is not in this index");
    const inProcess = await runCommand("related", { paper: "2512.99999" }, t.ctx);
    expect(await runCommand("related", { paper: "2512.99999" }, { ...t.ctx, search: threads })).toEqual(inProcess);
  });

  it("give commands the same views as searching on this thread", async () => {
    const withThreads = { ...t.ctx, search: threads };
    for (const [name, raw] of [
      ["paper", { query: "sparse attention", count: 3 }],
      ["paper", { query: "sparse attention", count: 3, page: 2 }],
      ["related", { paper: "2410.00001", count: 4 }],
    ] as const) {
      expect(await runCommand(name, raw, withThreads)).toEqual(await runCommand(name, raw, t.ctx));
    }
  });

  it("answer many requests in flight at once", async () => {
    const queries = Array.from({ length: 40 }, (_, i) => ["attention", "graphs", "ping safety", "diffusion", "protein"][i % 5]!);
    const answers = await Promise.all(queries.map((q) => threads.search(q, { k: 3 })));
    for (const [i, hits] of answers.entries()) expect(summary(hits)).toEqual(summary(answers[i % 5]!));
  });

  it("answer one thread's requests one at a time, in the order they were sent", async () => {
    const own = await SearchThreads.start(setup(), { count: 1, logger: quietLogger() });
    try {
      const done: string[] = [];
      // A search waits for its query's embedding (onnxruntime answers after a setImmediate); a
      // paper lookup needs none. Answered side by side, the lookup sent second would finish first.
      const search = own.search("a query this worker has not embedded yet", { k: 3 }).then(() => done.push("search"));
      const lookup = own.resolvePaper("2410.00001").then(() => done.push("lookup"));
      await Promise.all([search, lookup]);
      expect(done).toEqual(["search", "lookup"]);
    } finally {
      await own.close();
    }
  });

  it("fail the requests still waiting for a worker when closed", async () => {
    const own = await SearchThreads.start(setup(), { count: 1, logger: quietLogger() });
    // One worker holds two at a time: the other three wait in the queue on this thread.
    const sent = Array.from({ length: 5 }, (_, i) => own.search(`waiting query ${i}`, { k: 3 }).catch((err: unknown) => err));
    await own.close();
    for (const outcome of await Promise.all(sent)) {
      expect(outcome).toBeInstanceOf(SearchThreadError);
      expect((outcome as Error).message).toMatch(/stopped/);
    }
  });

  it("fail the requests of a worker that dies, and start a new one for the next", async () => {
    const own = await SearchThreads.start(setup(), { count: 1, logger: quietLogger() });
    try {
      const inFlight = Promise.all(Array.from({ length: 5 }, () => own.search("sparse attention", { k: 3 })));
      // Fault injection: end the worker thread under the requests.
      await own["workers"][0]!["worker"].terminate();
      await expect(inFlight).rejects.toBeInstanceOf(SearchThreadError);
      const again = await own.search("sparse attention", { k: 3 });
      expect(summary(again)).toEqual(summary(await t.index.search("sparse attention", { k: 3 })));
    } finally {
      await own.close();
    }
    await expect(own.search("anything")).rejects.toThrow(/stopped/);
  });

  it("with papersOf, answer with ranked hits and read their papers on the asking thread: the same hits", async () => {
    const asked: number[][] = [];
    const papersOf = (rowids: number[]) => {
      asked.push(rowids);
      return t.index.store.getMany(rowids);
    };
    const own = await SearchThreads.start(setup(), { count: 1, logger: quietLogger(), papersOf });
    try {
      for (const query of ["sparse attention for long documents", "equivariant networks"]) {
        const here = await t.index.search(query, { k: 6 });
        expect(await own.search(query, { k: 6 })).toEqual(here);
        expect(asked.at(-1)).toEqual(here.map((h) => h.paper.rowid));
      }
      const related = await t.index.related("2410.00001", { k: 5 });
      expect(await own.related("2410.00001", { k: 5 })).toEqual(related);
      expect(asked.at(-1)).toEqual(related.hits.map((h) => h.paper.rowid));
      // The worker's ranking is what PaperIndex ranks before reading papers.
      const ranked = await t.index.searchRanked("equivariant networks", { k: 6 });
      expect(ranked.map((r) => r.rowid)).toEqual((await t.index.search("equivariant networks", { k: 6 })).map((h) => h.paper.rowid));
      expect(ranked[0]).not.toHaveProperty("paper");
    } finally {
      await own.close();
    }
  });

  it("drop a ranked hit whose paper the asking thread no longer finds, keeping the order of the rest", async () => {
    const here = await t.index.search("sparse attention", { k: 5 });
    const gone = here[1]!.paper.rowid;
    const own = await SearchThreads.start(setup(), {
      count: 1,
      logger: quietLogger(),
      papersOf: (rowids) => t.index.store.getMany(rowids.filter((r) => r !== gone)).reverse(),
    });
    try {
      expect(await own.search("sparse attention", { k: 5 })).toEqual(here.filter((h) => h.paper.rowid !== gone));
    } finally {
      await own.close();
    }
  });

  it("refuse to start when a worker cannot open the index, naming why", async () => {
    const bad = { dir: t.dir, embedder: { ...setup().embedder, model: "/nonexistent/model-dir" } };
    await expect(SearchThreads.start(bad, { count: 1, logger: quietLogger() })).rejects.toThrow(/nonexistent\/model-dir/);
    await expect(SearchThreads.start(setup(), { count: 0, logger: quietLogger() })).rejects.toThrow(/at least one thread/);
  });
});

describe("the bot's own copy of the index beside its search threads", () => {
  const runtimeWith = (searchThreads: string) => {
    const sink = new PassThrough();
    sink.resume();
    const cli = createContext({ env: { PAPERHOUND_INDEX: t.dir, SEARCH_THREADS: searchThreads, EMBED_MODEL: "use-lite", EMBED_DEVICE: "cpu", LOG_LEVEL: "error" }, stdout: sink, stderr: sink });
    return openChatRuntime(cli);
  };

  it("holds no HNSW graph and builds no BM25 index at start; stored vectors still come from the file", async () => {
    const runtime = await runtimeWith("1");
    try {
      const vectors = runtime.ctx.index.vectorIndex;
      expect(vectors.graphLoaded).toBe(false);
      expect(runtime.ctx.index.store.fullTextLoad).toBeUndefined();
      const hits = await runtime.ctx.search!.search("equivariant networks", { k: 3 });
      expect(hits.length).toBeGreaterThan(0);
      const v = runtime.ctx.index.paperVector(hits[0]!.paper.rowid)!;
      expect(Math.hypot(...v)).toBeCloseTo(1, 4);
      expect(vectors.graphLoaded).toBe(false);
      // A search on this thread after all (not what the bot does): the graph is read then.
      expect(summary(await runtime.ctx.index.search("equivariant networks", { k: 3 }))).toEqual(summary(hits));
      expect(vectors.graphLoaded).toBe(true);
    } finally {
      await runtime.close();
    }
    const alone = await runtimeWith("0");
    try {
      expect(alone.ctx.index.vectorIndex.graphLoaded).toBe(true);
      expect(alone.ctx.index.store.fullTextLoad).toBeDefined();
    } finally {
      await alone.close();
    }
  });

  it("holds no model of its own: what it embeds (a digest's topics) a search thread embeds, to the same vectors", async () => {
    const runtime = await runtimeWith("1");
    const embedder = runtime.ctx.index.embedder;
    try {
      expect(embedder).toBeInstanceOf(ThreadEmbedder);
      const own = t.embedder;
      expect([embedder.modelId, embedder.dim, embedder.checksum, embedder.maxTokens, embedder.device]).toEqual([own.modelId, own.dim, own.checksum, own.maxTokens, own.device]);
      const texts = ["graph neural networks for molecules", "sparse attention"];
      const [there, here] = await Promise.all([embedder.embedDetailed(texts, "query"), own.embedDetailed(texts, "query")]);
      expect(there.map((r) => [r.tokens, r.truncated])).toEqual(here.map((r) => [r.tokens, r.truncated]));
      there.forEach((r, i) => expect(Array.from(r.vector)).toEqual(Array.from(here[i]!.vector)));
      expect(await embedder.embed(texts, "passage")).toEqual(await own.embed(texts, "passage"));
      expect(() => embedder.countTokens("a title")).toThrow(/held by the search threads/);
    } finally {
      await runtime.close();
    }
    await expect(embedder.embed(["after close"], "query")).rejects.toThrow(SearchThreadError);
    // Without search threads the bot's thread runs the model itself.
    const alone = await runtimeWith("0");
    try {
      expect(alone.ctx.index.embedder).not.toBeInstanceOf(ThreadEmbedder);
    } finally {
      await alone.close();
    }
  });

  it("logs which hnswlib build searches, and why when it is the stock one", async () => {
    let out = "";
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const env = { PAPERHOUND_INDEX: t.dir, SEARCH_THREADS: "0", EMBED_MODEL: "use-lite", EMBED_DEVICE: "cpu", LOG_LEVEL: "info", LOG_FORMAT: "json" };
    const runtime = await openChatRuntime(createContext({ env, stdout: sink, stderr: sink }));
    await runtime.close();
    const line = out.split("\n").find((l) => l.includes('"vector search"'));
    expect(line).toBeDefined();
    const fields = JSON.parse(line!) as { hnswlib?: string; reason?: string };
    expect(fields.hnswlib).toBe(hnswlib.build);
    expect(fields.reason).toBe(hnswlib.reason);
  });

  it("reports a model that is not the index's as it does without search threads", async () => {
    const open = async (searchThreads: string) => {
      const sink = new PassThrough();
      sink.resume();
      const cli = createContext({ env: { PAPERHOUND_INDEX: t.dir, SEARCH_THREADS: searchThreads, EMBED_MODEL: "paperhound-sci-1", EMBED_DEVICE: "cpu", LOG_LEVEL: "error" }, stdout: sink, stderr: sink });
      return openChatRuntime(cli).then(
        async (r) => {
          await r.close();
          return "opened";
        },
        (err: unknown) => (err as Error).message,
      );
    };
    const [withThreads, without] = [await open("1"), await open("0")];
    expect(withThreads).toMatch(/use-lite/);
    expect(withThreads).toMatch(/paperhound-sci-1/);
    expect(withThreads).toBe(without);
  });
});
