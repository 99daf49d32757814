/**
 * A bot's read-only index follows the indexer: papers another writer commits become searchable by
 * meaning after `refresh()` (on the calling thread and in every search thread), without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Paper } from "../../src/papers/types.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { SearchThreads } from "../../src/search/search-threads.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";

let t: TestIndex;
let threads: SearchThreads;

const NEW_PAPERS: Paper[] = [
  {
    id: "2611.01234",
    title: "Glacier calving fronts tracked from satellite radar with self-supervised segmentation",
    abstract:
      "We track the calving fronts of tidewater glaciers in synthetic aperture radar images. A self-supervised segmentation network trained on unlabelled scenes finds the ice-ocean boundary and measures its retreat over a decade.",
    authors: ["I. Berg"],
    categories: ["cs.CV"],
    published: "2026-11-20",
    links: {},
    source: "test",
  },
];

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
  threads = await SearchThreads.start({ dir: t.dir, embedder: { model: "use-lite", device: "cpu", threads: 1, allowRemote: false } }, { count: 1, logger: quietLogger() });
}, 180_000);

afterAll(async () => {
  await threads?.close();
  await t?.close();
});

const ids = (hits: { paper: { id: string } }[]) => hits.map((h) => h.paper.id);
const QUERY = "ice sheet glacier front retreat in radar imagery";

describe("refreshing a read-only index", () => {
  it("finds nothing new while the indexer has not committed", async () => {
    expect(await t.index.refresh()).toBe(false);
    expect(await threads.refresh()).toBe(false);
  });

  it("searches papers the indexer added, by meaning, after refresh — here and in the search threads", async () => {
    const generation = t.index.vectorIndex.generation;
    expect(ids(await t.index.search(QUERY, { k: 3, mode: "dense" }))).not.toContain("2611.01234");
    expect(ids(await threads.search(QUERY, { k: 3, mode: "dense" }))).not.toContain("2611.01234");

    // The indexer: another writable index on the same directory (as `paperhound index` would be).
    const writer = await PaperIndex.open({ dir: t.dir, embedder: t.embedder });
    try {
      await writer.add(NEW_PAPERS);
    } finally {
      writer.close();
    }

    // Committed: the store shows the paper at once, but the loaded vectors do not hold it yet.
    expect(t.index.store.get("2611.01234")?.title).toMatch(/^Glacier calving/);
    expect(ids(await t.index.search(QUERY, { k: 3, mode: "dense" }))).not.toContain("2611.01234");
    expect(ids(await threads.search(QUERY, { k: 3, mode: "dense" }))).not.toContain("2611.01234");
    // Keywords too: a reader's BM25 index stays on what it loaded until refresh, so an indexer
    // committing page after page does not make every search rebuild it.
    expect(ids(await t.index.search("glacier calving fronts", { k: 3, mode: "bm25" }))).not.toContain("2611.01234");

    const loadedVectors = t.index.vectorIndex;
    expect(await t.index.refresh()).toBe(true);
    // The new paper was added to the graph already loaded (not a second copy read beside it).
    expect(t.index.vectorIndex).toBe(loadedVectors);
    expect(ids(await t.index.search("glacier calving fronts", { k: 3, mode: "bm25" }))[0]).toBe("2611.01234");
    expect(t.index.vectorIndex.generation).toBeGreaterThan(generation);
    expect(ids(await t.index.search(QUERY, { k: 3, mode: "dense" }))[0]).toBe("2611.01234");
    expect(await t.index.refresh()).toBe(false);

    expect(await threads.refresh()).toBe(true);
    expect(ids(await threads.search(QUERY, { k: 3, mode: "dense" }))[0]).toBe("2611.01234");
    expect(ids(await threads.search(QUERY, { k: 3 }))[0]).toBe("2611.01234");
    expect((await threads.related("2611.01234", { k: 2 })).paper.title).toMatch(/^Glacier calving/);
    expect(await threads.refresh()).toBe(false);
  });

  it("never changes a writable index (it is the source of what it holds)", async () => {
    const writer = await PaperIndex.open({ dir: t.dir, embedder: t.embedder });
    try {
      expect(await writer.refresh()).toBe(false);
    } finally {
      writer.close();
    }
  });
});
