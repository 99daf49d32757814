import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Paper } from "../../src/papers/types.js";
import { queryTerms } from "../../src/search/text-analysis.js";
import { MAX_QUERY_TERMS, PaperStore, SCHEMA_VERSION, StoreCorruptError, StoreSchemaError } from "../../src/search/paper-store.js";
import { contentHash } from "../../src/search/store/rows.js";
import { titleKey, trigramDice } from "../../src/search/store/titles.js";
import { paperCount, storeFileOf } from "../../src/app/open-index.js";
import { openDrySink } from "../../src/ingest/sinks.js";

const require = createRequire(import.meta.url);
// Raw access to the file, to break it on purpose.
const RawDatabase = require("better-sqlite3") as new (file: string) => {
  prepare(sql: string): { run(...p: unknown[]): unknown; get(...p: unknown[]): unknown };
  exec(sql: string): unknown;
  close(): void;
};

function paper(id: string, over: Partial<Paper> = {}): Paper {
  return {
    id,
    title: `Title of ${id}`,
    abstract: `Abstract of ${id}.`,
    authors: ["Ada Lovelace"],
    categories: ["cs.LG"],
    links: { abs: `https://arxiv.org/abs/${id}` },
    source: "arxiv-api",
    ...over,
  };
}

let dir: string;
const open: PaperStore[] = [];
function track(s: PaperStore): PaperStore {
  open.push(s);
  return s;
}
function mem(): PaperStore {
  return track(PaperStore.memory());
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "paper-store-"));
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("upsert and merge", () => {
  it("adds, then reports unchanged for the same record", () => {
    const s = mem();
    const a = s.upsertMany([paper("2401.00001"), paper("2401.00002")]);
    expect(a.outcomes).toEqual(["added", "added"]);
    expect(a.rowids[0]).toBeGreaterThan(0);
    expect(a.rowids[1]).toBeGreaterThan(a.rowids[0]!);
    const b = s.upsertMany([paper("2401.00001"), paper("2401.00002")]);
    expect(b.outcomes).toEqual(["unchanged", "unchanged"]);
    expect(b.rowids).toEqual(a.rowids);
    expect(s.count()).toBe(2);
  });

  it("round-trips every field, absent optionals stay absent", () => {
    const s = mem();
    const full: Paper = {
      id: "2401.00631",
      version: 2,
      title: "Ünïcode “quotes” and 🚀",
      abstract: "Line one.\nLine two with <b>markup</b> & stuff.",
      authors: ["Zoë Müller", "李雷"],
      categories: ["cs.CL", "cs.LG", "stat.ML"],
      published: "2024-01-02",
      updated: "2024-02-03",
      links: { abs: "https://arxiv.org/abs/2401.00631", pdf: "https://arxiv.org/pdf/2401.00631", code: "https://github.com/x/y" },
      doi: "10.1000/xyz",
      comment: "12 pages",
      source: "arxiv-api",
      trending: { upvotes: 12, githubStars: 40, featuredOn: "2024-01-05" },
    };
    const { rowids } = s.upsertMany([full, paper("min", { links: {} })]);
    const got = s.get("2401.00631")!;
    expect(got).toEqual({ ...full, rowid: rowids[0], contentHash: contentHash(full.title, full.abstract) });
    expect(s.getByRowid(rowids[0]!)).toEqual(got);
    const min = s.get("min")!;
    for (const k of ["version", "published", "updated", "doi", "comment", "trending", "embeddedHash"]) expect(min).not.toHaveProperty(k);
    expect(min.links).toEqual({});
    expect(s.get("nope")).toBeUndefined();
    expect(s.getMany([rowids[1]!, 9999, rowids[0]!]).map((p) => p.id)).toEqual(["min", "2401.00631"]);
  });

  it("a newer version replaces title/abstract and keeps the highest version", () => {
    const s = mem();
    s.upsertMany([paper("2401.1", { version: 1, title: "Old title", abstract: "Old abstract" })]);
    const r = s.upsertMany([paper("2401.1", { version: 3, title: "New title", abstract: "New abstract" })]);
    expect(r.outcomes).toEqual(["updated"]);
    expect(s.get("2401.1")).toMatchObject({ version: 3, title: "New title", abstract: "New abstract" });
    // A stale (older version) record does not bring old text back.
    const stale = s.upsertMany([paper("2401.1", { version: 2, title: "Middle title", abstract: "Middle" })]);
    expect(stale.outcomes).toEqual(["unchanged"]);
    expect(s.get("2401.1")).toMatchObject({ version: 3, title: "New title" });
  });

  it("same version with different content replaces it", () => {
    const s = mem();
    s.upsertMany([paper("x", { title: "Typo'd titel" })]);
    expect(s.upsertMany([paper("x", { title: "Fixed title" })]).outcomes).toEqual(["updated"]);
    expect(s.get("x")!.title).toBe("Fixed title");
  });

  it("the same arXiv paper from the API, Hugging Face and RSS is one record: arXiv text and categories, HF signals", () => {
    const s = mem();
    const api = paper("2411.01234", {
      title: "Sparse Mixtures of Experts",
      abstract: "We study sparse mixtures.\nTheir routing is learned.",
      authors: ["Ada Lovelace", "Alan Turing"],
      categories: ["cs.LG", "cs.AI"],
      version: 1,
      source: "arxiv-api",
    });
    const hf: Paper = {
      id: "2411.01234",
      title: "Sparse mixtures of experts",
      abstract: "We study sparse mixtures. Their routing is learned (HF summary).",
      authors: ["A. Lovelace"],
      categories: [],
      links: { code: "https://github.com/x/moe", project: "https://moe.example" },
      source: "hf-daily",
      trending: { upvotes: 42, comments: 3, featuredOn: "2024-11-05" },
    };
    // HF first, then the API: arXiv's text takes over; HF's signals stay.
    s.upsertMany([hf]);
    expect(s.upsertMany([api]).outcomes).toEqual(["updated"]);
    // HF again (the next day): it never takes the text back.
    expect(s.upsertMany([{ ...hf, trending: { upvotes: 50 } }]).outcomes).toEqual(["updated"]);
    const merged = s.get("2411.01234")!;
    expect(merged).toMatchObject({
      title: "Sparse Mixtures of Experts",
      abstract: "We study sparse mixtures.\nTheir routing is learned.",
      authors: ["Ada Lovelace", "Alan Turing"],
      categories: ["cs.LG", "cs.AI"],
      source: "arxiv-api",
      links: { code: "https://github.com/x/moe", project: "https://moe.example" },
      trending: { upvotes: 50, comments: 3, featuredOn: "2024-11-05" },
    });
    // An RSS replacement (v2, new abstract) replaces the text; still one record.
    s.upsertMany([paper("2411.01234v2", { ...api, id: "2411.01234", version: 2, abstract: "Version two abstract.", source: "arxiv-rss" })]);
    expect(s.count()).toBe(1);
    expect(s.get("2411.01234")).toMatchObject({ version: 2, abstract: "Version two abstract.", source: "arxiv-rss", trending: { upvotes: 50 } });
    expect(s.bm25Search("version two", 5)).toHaveLength(1);
    expect(s.bm25Search("routing learned", 5)).toEqual([]);
  });

  it("a source lacking a field never erases it; categories, links and trending merge", () => {
    const s = mem();
    s.upsertMany([
      paper("2401.2", {
        version: 1,
        categories: ["cs.LG", "stat.ML"],
        links: { abs: "https://arxiv.org/abs/2401.2", pdf: "https://arxiv.org/pdf/2401.2" },
        doi: "10.1/a",
        comment: "NeurIPS",
        published: "2024-01-02",
        updated: "2024-01-02",
      }),
    ]);
    // Hugging Face daily: no abstract, no categories, no version, adds code link and trending.
    const r = s.upsertMany([
      {
        id: "2401.2",
        title: "",
        abstract: "",
        authors: [],
        categories: [],
        links: { code: "https://github.com/a/b" },
        source: "hf-daily",
        trending: { upvotes: 5, featuredOn: "2024-01-03" },
      },
    ]);
    expect(r.outcomes).toEqual(["updated"]);
    const p = s.get("2401.2")!;
    expect(p).toMatchObject({
      version: 1,
      title: "Title of 2401.2",
      abstract: "Abstract of 2401.2.",
      authors: ["Ada Lovelace"],
      categories: ["cs.LG", "stat.ML"],
      links: { abs: "https://arxiv.org/abs/2401.2", pdf: "https://arxiv.org/pdf/2401.2", code: "https://github.com/a/b" },
      doi: "10.1/a",
      comment: "NeurIPS",
      source: "arxiv-api",
      trending: { upvotes: 5, featuredOn: "2024-01-03" },
      published: "2024-01-02",
    });
    // Later trending values win per key; other keys stay. New categories are added, primary kept first.
    s.upsertMany([paper("2401.2", { version: 2, categories: ["cs.LG", "cs.AI"], trending: { githubStars: 9 }, updated: "2024-03-01" })]);
    const q = s.get("2401.2")!;
    expect(q.trending).toEqual({ upvotes: 5, featuredOn: "2024-01-03", githubStars: 9 });
    expect(q.categories).toEqual(["cs.LG", "cs.AI", "stat.ML"]);
    expect(q.updated).toBe("2024-03-01");
    expect(q.published).toBe("2024-01-02");
    expect(q.version).toBe(2);
  });

  it("changed content changes the hash and the paper needs embedding again; whitespace-only does not", () => {
    const s = mem();
    const { rowids } = s.upsertMany([paper("a"), paper("b")]);
    expect(s.needingEmbedding().map((p) => p.id)).toEqual(["a", "b"]);
    const a = s.get("a")!;
    s.setVectorLabels(rowids[0]!, [0, 1], 1, a.contentHash);
    s.setVectorLabels(rowids[1]!, [2], 1, s.get("b")!.contentHash);
    expect(s.needingEmbedding()).toEqual([]);

    // Whitespace only: stored text updated, but the hash (and so the vectors) stay valid.
    expect(s.upsertMany([paper("a", { abstract: "  Abstract of a.\n" })]).outcomes).toEqual(["unchanged"]);
    expect(s.upsertMany([paper("a", { abstract: "Abstract\nof a." })]).outcomes).toEqual(["updated"]);
    expect(s.get("a")!.contentHash).toBe(a.contentHash);
    expect(s.needingEmbedding()).toEqual([]);

    s.upsertMany([paper("a", { abstract: "A rewritten abstract." })]);
    const changed = s.get("a")!;
    expect(changed.contentHash).not.toBe(a.contentHash);
    expect(changed.embeddedHash).toBe(a.contentHash);
    expect(s.needingEmbedding().map((p) => p.id)).toEqual(["a"]);
    expect(s.needingEmbedding(10, rowids[0]!)).toEqual([]);
  });

  it("a bad record anywhere in a batch leaves nothing written", () => {
    const s = mem();
    s.upsertMany([paper("keep", { title: "Original" })]);
    const bad = { ...paper("bad"), authors: "not an array" } as unknown as Paper;
    expect(() => s.upsertMany([paper("new1"), paper("keep", { title: "Changed" }), bad])).toThrow(/authors/);
    expect(s.count()).toBe(1);
    expect(s.get("new1")).toBeUndefined();
    expect(s.get("keep")!.title).toBe("Original");
    expect(s.bm25Search("Changed", 5)).toEqual([]);
  });

  it("an exception thrown inside a transaction rolls back writes and the label cache", () => {
    const s = mem();
    const { rowids } = s.upsertMany([paper("a")]);
    const rowid = rowids[0]!;
    s.setVectorLabels(rowid, [5, 6], 1, "h");
    expect(s.labelsToPapers([5, 6])).toEqual(new Map([[5, rowid], [6, rowid]]));
    expect(() =>
      s.transaction(() => {
        s.upsertMany([paper("b")]);
        s.setVectorLabels(rowid, [7], 2, "h2");
        expect(s.paperForLabel(7)).toBe(rowid); // visible inside
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(s.get("b")).toBeUndefined();
    expect(s.vectorLabelsOf(rowid).map((p) => p.label)).toEqual([5, 6]);
    expect(s.paperForLabel(7)).toBeUndefined();
    expect(s.paperForLabel(5)).toBe(rowid);
    // commitEmbedding is all-or-nothing too (second item names a missing paper).
    expect(() =>
      s.commitEmbedding(
        [
          { rowid, labels: [8], contentHash: "h3" },
          { rowid: 424242, labels: [9], contentHash: "x" },
        ],
        3,
      ),
    ).toThrow();
    expect(s.vectorLabelsOf(rowid).map((p) => p.label)).toEqual([5, 6]);
    expect(s.indexGeneration()).toBe(0);
  });
});

describe("passages and labels", () => {
  it("maps labels to papers, replaces and removes them, and commits generations", () => {
    const s = mem();
    const { rowids } = s.upsertMany([paper("a"), paper("b")]);
    const [ra, rb] = rowids as [number, number];
    const first = s.nextLabel(3);
    expect(first).toBe(0);
    expect(s.nextLabel()).toBe(3);
    const replaced = s.commitEmbedding(
      [
        { rowid: ra, labels: [0, 1], contentHash: s.get("a")!.contentHash },
        { rowid: rb, labels: [2], contentHash: s.get("b")!.contentHash },
      ],
      1,
    );
    expect(replaced).toEqual([]);
    expect(s.indexGeneration()).toBe(1);
    expect(s.vectorLabelsOf(ra)).toEqual([
      { label: 0, ord: 0, generation: 1 },
      { label: 1, ord: 1, generation: 1 },
    ]);
    expect(s.labelsToPapers([0, 1, 2, 99])).toEqual(new Map([[0, ra], [1, ra], [2, rb]]));
    expect(s.paperForLabel(2)).toBe(rb);
    expect(s.labelsOfPapers([rb, ra, 999])).toEqual(new Map([[rb, [2]], [ra, [0, 1]]]));
    expect(s.needingEmbedding()).toEqual([]);

    // Re-embedding replaces the old labels and returns them.
    expect(s.setVectorLabels(ra, [10, 11, 12], 2, s.get("a")!.contentHash)).toEqual([0, 1]);
    expect(s.paperForLabel(0)).toBeUndefined();
    expect(s.paperForLabel(12)).toBe(ra);
    expect(s.labelsOfPapers([ra])).toEqual(new Map([[ra, [10, 11, 12]]]));
    expect(s.removeVectorLabels(rb)).toEqual([2]);
    expect(s.paperForLabel(2)).toBeUndefined();
    expect(s.labelsOfPapers([ra, rb])).toEqual(new Map([[ra, [10, 11, 12]]]));
    expect(s.get("b")!.embeddedHash).toBeUndefined();
    expect(s.needingEmbedding().map((p) => p.id)).toEqual(["b"]);
    // nextLabel never hands out a label at or below one in use.
    expect(s.nextLabel()).toBe(13);
    expect(() => s.setVectorLabels(ra, [-1], 3, "h")).toThrow(RangeError);
  });

  it("a read-only store keeps its caches on what it loaded until catchUp (an indexer's commits do not rebuild them per query)", () => {
    const file = path.join(dir, "pinned.db");
    const writer = track(PaperStore.open(file));
    writer.upsertMany([paper("a", { title: "Glacier calving fronts" }), paper("b")]);
    const reader = track(PaperStore.open(file, { readonly: true }));
    expect(reader.bm25Search("glacier", 5)).toHaveLength(1);
    expect(reader.catchUp()).toBe(false);

    writer.upsertMany([paper("c", { title: "Glacier retreat in radar images" })]);
    expect(reader.get("c")?.title).toBe("Glacier retreat in radar images"); // rows are read live
    expect(reader.bm25Search("glacier", 5)).toHaveLength(1); // the BM25 index is not rebuilt yet
    expect(reader.catchUp()).toBe(true);
    expect(reader.bm25Search("glacier", 5)).toHaveLength(2);
    expect(reader.catchUp()).toBe(false);
    expect(writer.catchUp()).toBe(false); // a writable store follows every commit by itself
  });

  it("labels, meta and fingerprint persist across reopen; a second connection's changes reach the cache", () => {
    const file = path.join(dir, "store.db");
    const s = track(PaperStore.open(file));
    const { rowids } = s.upsertMany([paper("a"), paper("b")]);
    s.setModelFingerprint({ modelId: "use-lite", dim: 512, checksum: "abc" });
    s.setMeta("settings", { bm25: { k1: 1.2 } });
    const l = s.nextLabel(2);
    s.commitEmbedding([{ rowid: rowids[0]!, labels: [l, l + 1], contentHash: "h" }], 7);
    expect(s.paperForLabel(l)).toBe(rowids[0]);

    const other = track(PaperStore.open(file));
    expect(other.getModelFingerprint()).toEqual({ modelId: "use-lite", dim: 512, checksum: "abc" });
    expect(other.getMeta("settings")).toEqual({ bm25: { k1: 1.2 } });
    expect(other.indexGeneration()).toBe(7);
    expect(other.nextLabel()).toBe(2);
    other.setVectorLabels(rowids[1]!, [2], 8, "h");
    // s loaded its cache before; data_version tells it to reload.
    expect(s.paperForLabel(2)).toBe(rowids[1]);
    expect(s.labelsOfPapers([rowids[0]!, rowids[1]!])).toEqual(new Map([[rowids[0]!, [l, l + 1]], [rowids[1]!, [2]]]));
    s.setMeta("settings", undefined);
    expect(other.getMeta("settings")).toBeUndefined();
  });
});

// A small corpus for ranking and filter tests. Filler papers keep BM25's IDF meaningful.
const CORPUS: Paper[] = [
  paper("p1", {
    title: "Graph neural networks for molecules",
    abstract: "We predict molecular properties with message passing.",
    authors: ["Zoë Müller", "Jane Smith"],
    categories: ["cs.LG", "q-bio.BM"],
    published: "2023-05-01",
  }),
  paper("p2", {
    title: "Protein folding at scale",
    abstract: "A transformer model; we compare against graph neural network baselines for proteins.",
    authors: ["John Doe"],
    categories: ["q-bio.BM", "cs.LG"],
    published: "2024-02-10",
  }),
  paper("p3", {
    title: "Attention is all you need",
    abstract: "The Transformer, based solely on attention mechanisms.",
    authors: ["Ashish Vaswani", "Noam Shazeer"],
    categories: ["cs.CL"],
    published: "2017-06-12",
  }),
  paper("p4", {
    title: "String theory dualities",
    abstract: "Near horizon geometry and holography.",
    authors: ["Juan Maldacena"],
    categories: ["hep-th"],
    published: "1997-11-27",
  }),
  paper("p5", {
    title: "Convolutional networks for images",
    abstract: "Deep convolutional architectures for image classification.",
    authors: ["Yann LeCun"],
    categories: ["cs.CV"],
    published: "2015-01-01",
  }),
  paper("p6", {
    title: "Reinforcement learning for robots",
    abstract: "Policies trained in simulation.",
    authors: ["Pieter Abbeel"],
    categories: ["cs.RO", "cs.LG"],
  }),
  paper("p7", { title: "Bayesian optimisation", abstract: "Gaussian processes as surrogates.", categories: ["stat.ML"], published: "2012-06-01" }),
  paper("p8", { title: "Quantum error correction", abstract: "Surface codes.", categories: ["quant-ph"], published: "2020-01-01" }),
];

function corpusStore(): { s: PaperStore; rowid: (id: string) => number } {
  const s = mem();
  s.upsertMany(CORPUS);
  return { s, rowid: (id) => s.get(id)!.rowid };
}

describe("bm25Search", () => {
  it("title match beats abstract match; scores are positive, best first", () => {
    const { s, rowid } = corpusStore();
    const hits = s.bm25Search("graph neural network", 10);
    // p1 has all three words in its title, p2 in its abstract, p5 only "networks" in its title.
    expect(hits.map((h) => h.rowid)).toEqual([rowid("p1"), rowid("p2"), rowid("p5")]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(0);
  });

  it("stems: 'networks' finds 'network', 'molecule' finds 'molecules'", () => {
    const { s, rowid } = corpusStore();
    expect(s.bm25Search("networks", 10).map((h) => h.rowid)).toContain(rowid("p2")); // p2 says "network"
    expect(s.bm25Search("molecule", 10).map((h) => h.rowid)).toEqual([rowid("p1")]);
  });

  it("OR semantics: a long natural-language query still ranks partial matches", () => {
    const { s, rowid } = corpusStore();
    const hits = s.bm25Search("how do I predict properties of small molecules with deep learning on graphs?", 3);
    expect(hits[0]!.rowid).toBe(rowid("p1"));
  });

  it("honours k and the weights option", () => {
    const { s } = corpusStore();
    expect(s.bm25Search("networks", 1)).toHaveLength(1);
    expect(s.bm25Search("networks", 0)).toEqual([]);
    const abstractOnly = track(PaperStore.memory({ bm25Weights: { title: 0, abstract: 1 } }));
    abstractOnly.upsertMany(CORPUS);
    // With the title weight at 0, p2 (abstract mentions graph neural network) ranks first.
    expect(abstractOnly.bm25Search("graph neural network", 1)[0]!.rowid).toBe(abstractOnly.get("p2")!.rowid);
  });

  it("user text never becomes query syntax", () => {
    const { s, rowid } = corpusStore();
    const bad = [
      '"',
      '"unbalanced quote',
      "attention*",
      "*",
      "NEAR(attention transformer)",
      "attention NEAR transformer",
      "-attention",
      "title:attention",
      "abstract : transformer",
      "(attention",
      "attention)",
      "^attention",
      "attention AND",
      "OR attention",
      "NOT attention",
      "attention NOT",
      "{title abstract}: attention",
      "attention + transformer",
      "a'b\"c'd",
      "\u0000attention\u0007",
      "attention\u0301",
      "\u0301",
      "''''",
    ];
    for (const q of bad) {
      expect(() => s.bm25Search(q, 5), q).not.toThrow();
    }
    expect(s.bm25Search("NEAR(attention transformer)", 5)[0]!.rowid).toBe(rowid("p3"));
    expect(s.bm25Search("title:attention", 5)[0]!.rowid).toBe(rowid("p3"));
    // "near" is a word of p4's abstract, not an operator.
    expect(s.bm25Search("NEAR", 5).map((h) => h.rowid)).toEqual([rowid("p4")]);
  });

  it("empty, stop-word-only and punctuation-only queries return []", () => {
    const { s } = corpusStore();
    for (const q of ["", "   ", "the of and", "is all you", "?!.,;:-", '""', "()", "AND OR NOT", "🚀🚀"]) {
      expect(s.bm25Search(q, 5), JSON.stringify(q)).toEqual([]);
    }
  });

  it("a 10,000-character query works (terms capped)", () => {
    const { s, rowid } = corpusStore();
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" ");
    const q = `attention ${words}`.slice(0, 10_000);
    expect(q.length).toBe(10_000);
    expect(s.bm25Search(q, 5)[0]!.rowid).toBe(rowid("p3"));
    expect(queryTerms(q, MAX_QUERY_TERMS)).toHaveLength(MAX_QUERY_TERMS);
    expect(() => s.bm25Search("x".repeat(10_000), 5)).not.toThrow();
    expect(() => s.bm25Search('"*:('.repeat(2500), 5)).not.toThrow();
  });

  it("queryTerms: lower-cased, stemmed words; stop words and duplicates dropped", () => {
    expect(queryTerms('The "Graph" graph* NEAR/2 networks -- OR (molecules) Network', 64)).toEqual(["graph", "near", "2", "network", "molecul"]);
    expect(queryTerms("Müller's naïve Café", 64)).toEqual(["muller", "s", "naiv", "cafe"]);
    expect(queryTerms("", 64)).toEqual([]);
  });
});

describe("describingTerms", () => {
  it("gives a paper's words of highest tf × idf, leaving out words in more than the share of papers asked", () => {
    const s = mem();
    const common = "learning";
    s.upsertMany(
      Array.from({ length: 10 }, (_, i) =>
        paper(`c${i}`, { title: i < 6 ? `${common} about topic${i}` : `study of topic${i}`, abstract: i === 0 ? `${common} ${common} ${common} with glaciers.` : "Plain text." }),
      ),
    );
    const words = (terms: { id: number }[]) => {
      const ids = s.termIdsOf(queryTerms(`${common} glaciers topic0`, 10));
      return [...ids].filter(([, id]) => terms.some((t) => t.id === id)).map(([w]) => w).sort();
    };
    const rowid = s.get("c0")!.rowid;
    const all = s.describingTerms(rowid, 25);
    expect(words(all)).toEqual(queryTerms(`${common} glaciers topic0`, 10).sort());
    // "learning" is in 6 of 10 papers: kept up to a share of 0.6, left out below it.
    expect(words(s.describingTerms(rowid, 25, 0.6))).toContain(queryTerms(common, 1)[0]);
    expect(words(s.describingTerms(rowid, 25, 0.5))).not.toContain(queryTerms(common, 1)[0]);
    expect(s.describingTerms(rowid, 25, 0.5)).toHaveLength(all.length - 1);
    expect(s.describingTerms(rowid, 1)).toHaveLength(1);
  });
});

describe("filters", () => {
  it("dates (inclusive, partial dates allowed), categories exact and by archive, author", () => {
    const { s, rowid } = corpusStore();
    const ids = (hits: { rowid: number }[]) => hits.map((h) => s.getByRowid(h.rowid)!.id).sort();
    expect(ids(s.bm25Search("networks", 10, { since: "2024-01-01" }))).toEqual(["p2"]);
    expect(ids(s.bm25Search("networks", 10, { until: "2023-05-01" }))).toEqual(["p1", "p5"]);
    expect(ids(s.bm25Search("networks", 10, { since: "2023", until: "2023" }))).toEqual(["p1"]);
    expect(ids(s.bm25Search("networks", 10, { categories: ["cs.CV"] }))).toEqual(["p5"]);
    expect(ids(s.bm25Search("networks", 10, { categories: ["cs"] }))).toEqual(["p1", "p2", "p5"]);
    expect(ids(s.bm25Search("networks", 10, { categories: ["q-bio"] }))).toEqual(["p1", "p2"]);
    expect(ids(s.bm25Search("networks", 10, { categories: ["cs.lg"] }))).toEqual(["p1", "p2"]);
    expect(ids(s.bm25Search("networks", 10, { categories: ["c"] }))).toEqual([]); // not a prefix of "cs"
    expect(ids(s.bm25Search("networks", 10, { author: "muller" }))).toEqual(["p1"]); // diacritics ignored
    expect(ids(s.bm25Search("networks", 10, { author: "LECUN" }))).toEqual(["p5"]);
    expect(ids(s.bm25Search("networks", 10, { author: "%" }))).toEqual([]);
    expect(() => s.bm25Search("networks", 10, { since: "last week" })).toThrow(/since/);

    const all = CORPUS.map((p) => rowid(p.id));
    const cases = [
      { since: "2020-01-01" },
      { until: "2015-01-01" },
      { categories: ["cs"] },
      { categories: ["hep-th", "quant-ph"] },
      { author: "doe" },
      { categories: ["cs.LG"], since: "2024-01-01", author: "john" },
      {},
    ];
    for (const f of cases) {
      const sql = s.filterRowids(all, f);
      const js = new Set(CORPUS.filter((p) => s.matchesFilters(p, f)).map((p) => rowid(p.id)));
      expect(sql, JSON.stringify(f)).toEqual(js);
    }
    expect(s.filterRowids(all, { categories: ["cs"] })).toEqual(new Set(["p1", "p2", "p3", "p5", "p6"].map(rowid)));
    // A paper without a published date fails date filters.
    expect(s.filterRowids([rowid("p6")], { since: "1900-01-01" }).size).toBe(0);
  });
});

describe("findByTitle", () => {
  it("exact match ignores case, whitespace and punctuation", () => {
    const { s } = corpusStore();
    expect(s.findByTitle("  attention IS all, you need!! ").exact?.id).toBe("p3");
    expect(titleKey("Attention: Is All-You Need")).toBe("attention is all you need");
  });

  it("fuzzy: a typo finds the close title, unrelated text finds nothing", () => {
    const { s } = corpusStore();
    const r = s.findByTitle("Atention is all you ned");
    expect(r.exact).toBeUndefined();
    expect(r.close[0]?.paper.id).toBe("p3");
    expect(r.close[0]!.similarity).toBeGreaterThan(0.5);
    expect(r.close[0]!.similarity).toBeLessThan(1);
    expect(s.findByTitle("graph neural networks for molecule").close[0]?.paper.id).toBe("p1");
    expect(s.findByTitle("Completely unrelated words here").close).toEqual([]);
    expect(s.findByTitle("?!").close).toEqual([]);
  });

  it("ambiguous: several close or equal titles are all returned, best first, and no exact", () => {
    const s = mem();
    s.upsertMany([
      paper("a", { title: "Deep Residual Learning" }),
      paper("b", { title: "Deep Residual Learning" }),
      paper("c", { title: "Deep Residual Learnings for Images" }),
      paper("d", { title: "Shallow nets" }),
    ]);
    const r = s.findByTitle("deep residual learning");
    expect(r.exact).toBeUndefined();
    expect(r.close.map((m) => m.paper.id)).toEqual(["a", "b", "c"]);
    expect(r.close[0]!.similarity).toBe(1);
    expect(r.close[2]!.similarity).toBeLessThan(1);
    const near = s.findByTitle("deep residual learnin");
    expect(near.close.slice(0, 2).map((m) => m.paper.id).sort()).toEqual(["a", "b"]);
    expect(s.findByTitle("deep residual learnin", { limit: 1 }).close).toHaveLength(1);
  });

  it("trigramDice basics", () => {
    expect(trigramDice("abc", "abc")).toBe(1);
    expect(trigramDice("abc", "xyz")).toBe(0);
    expect(trigramDice("attention", "atention")).toBeGreaterThan(0.6);
  });
});

describe("stats and integrity", () => {
  it("stats counts papers, passages, embedded, pending, categories and bytes", () => {
    const file = path.join(dir, "stats.db");
    const s = track(PaperStore.open(file));
    s.upsertMany([...CORPUS, paper("p9", { categories: ["cs.CV"] })]);
    s.setVectorLabels(s.get("p1")!.rowid, [0, 1], 1, s.get("p1")!.contentHash);
    s.setVectorLabels(s.get("p2")!.rowid, [2], 1, "stale-hash");
    const st = s.stats(3);
    expect(st).toMatchObject({
      file,
      schemaVersion: SCHEMA_VERSION,
      papers: 9,
      passages: 3,
      embedded: 1,
      pending: 8,
    });
    expect(st.bytesOnDisk).toBeGreaterThan(0);
    expect(st.topCategories).toEqual([
      { category: "cs.CV", count: 2 },
      { category: "cs.CL", count: 1 },
      { category: "cs.LG", count: 1 },
    ]);
    expect(s.integrityCheck().checks).toEqual(["quick_check", "foreign_key_check", "term_data_check", "fts_integrity_check"]);
  });

  it("missing or damaged term data, or a title index out of sync → StoreCorruptError suggesting a backup or paperhound index", () => {
    const breakages = [
      "DELETE FROM paper_terms WHERE paper_rowid = 2",
      "UPDATE paper_terms SET data = x'0203ff' WHERE paper_rowid = 3",
      "INSERT INTO papers_title_tri(papers_title_tri, rowid, title_key) VALUES ('delete', 1, 'wrong words')",
    ];
    for (const [i, sql] of breakages.entries()) {
      const file = path.join(dir, `broken-${i}.db`);
      const s = PaperStore.open(file);
      s.upsertMany(CORPUS);
      s.close();
      const raw = new RawDatabase(file);
      raw.prepare(sql).run();
      raw.close();
      const t = track(PaperStore.open(file));
      expect(() => t.integrityCheck(), sql).toThrow(StoreCorruptError);
      expect(() => t.integrityCheck(), sql).toThrow(/backup.*paperhound index/);
    }
  });

  it("a version 1 store (FTS5 full text) migrates: term data for every paper, same search results", () => {
    const file = path.join(dir, "v1.db");
    const s = PaperStore.open(file);
    s.upsertMany(CORPUS);
    const before = s.bm25Search("graph neural networks molecules", 10);
    s.close();
    // Back to the version 1 layout: FTS5 table and triggers, no term tables.
    const raw = new RawDatabase(file);
    raw.exec(`DROP TABLE paper_terms; DROP TABLE terms;
      CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers', content_rowid='rowid');
      CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN SELECT 1; END;
      UPDATE meta SET value = '1' WHERE key = 'schema_version';`);
    raw.close();
    const t = track(PaperStore.open(file));
    expect(t.stats().schemaVersion).toBe(SCHEMA_VERSION);
    expect(t.bm25Search("graph neural networks molecules", 10)).toEqual(before);
    expect(t.integrityCheck().checks).toContain("term_data_check");
  });

  it("a file that is not SQLite → StoreCorruptError naming it, bytes unchanged", () => {
    const file = path.join(dir, "garbage.db");
    const bytes = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256));
    fs.writeFileSync(file, bytes);
    for (const readonly of [false, true]) {
      let err: unknown;
      try {
        PaperStore.open(file, { readonly });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toContain("paperhound index <file...>");
    }
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });

  it("a truncated store (tiny or cut mid-page) → StoreCorruptError, bytes unchanged", () => {
    const file = path.join(dir, "cut.db");
    const s = PaperStore.open(file);
    s.upsertMany(Array.from({ length: 300 }, (_, i) => paper(`t${i}`, { abstract: `Abstract number ${i} `.repeat(20) })));
    s.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    const full = fs.readFileSync(file);
    for (const size of [50, Math.floor(full.length / 2)]) {
      const cut = full.subarray(0, size);
      fs.writeFileSync(file, cut);
      expect(() => PaperStore.open(file), `size ${size}`).toThrow(StoreCorruptError);
      expect(() => PaperStore.open(file), `size ${size}`).toThrow(file);
      expect(fs.readFileSync(file).equals(cut)).toBe(true);
    }
  });

  it("a schema newer than this build → StoreSchemaError; reopening the same version works", () => {
    const file = path.join(dir, "future.db");
    const s = PaperStore.open(file);
    s.upsertMany([paper("a")]);
    s.setMeta("schema_version", SCHEMA_VERSION + 1);
    s.close();
    expect(() => PaperStore.open(file)).toThrow(StoreSchemaError);
    expect(() => PaperStore.open(file)).toThrow(/newer than this paperhound understands/);
    const raw = new RawDatabase(file);
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(JSON.stringify(SCHEMA_VERSION));
    raw.close();
    const again = track(PaperStore.open(file, { readonly: true }));
    expect(again.get("a")?.title).toBe("Title of a");
    expect(() => again.upsertMany([paper("b")])).toThrow();
    expect(again.integrityCheck().checks).toEqual(["quick_check", "foreign_key_check", "term_data_check"]);
  });

  it("another SQLite database is refused; read-only needs an existing file", () => {
    const other = path.join(dir, "other.db");
    const raw = new RawDatabase(other);
    raw.exec("CREATE TABLE t(x)");
    raw.close();
    expect(() => PaperStore.open(other)).toThrow(/not a paperhound paper store/);
    expect(() => PaperStore.open(path.join(dir, "missing.db"), { readonly: true })).toThrow(/does not exist/);
    expect(fs.existsSync(path.join(dir, "missing.db"))).toBe(false);
  });

  it("a store an indexer is creating right now (no tables committed yet): read-only opens say so; a dry run sees every paper as new; its count is 0", async () => {
    const indexDir = path.join(dir, "creating");
    fs.mkdirSync(indexDir);
    const file = storeFileOf(indexDir);
    const raw = new RawDatabase(file);
    raw.exec("PRAGMA journal_mode = WAL"); // what the writer does first: the file has a header, no tables
    try {
      let caught: unknown;
      try {
        PaperStore.open(file, { readonly: true });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(StoreSchemaError);
      expect(caught).toMatchObject({ empty: true, migratableFrom: undefined, message: expect.stringMatching(/has no papers yet: an indexer may be creating it now/) });
      const sink = openDrySink({ dir: indexDir, userGiven: true, sampleIfEmpty: false, indexArg: ` --index ${indexDir}` });
      expect(await sink.add([paper("a"), paper("b")])).toEqual({ added: 2, updated: 0, unchanged: 0, embedded: 2 });
      await sink.close();
      expect(paperCount(file)).toBe(0);
      expect(fs.readdirSync(indexDir).filter((f) => !f.startsWith("papers.sqlite"))).toEqual([]); // nothing written beside it
    } finally {
      raw.close();
    }
  });

  it("opens in WAL mode with foreign keys on; creates parent folders", () => {
    const file = path.join(dir, "nested", "deeper", "s.db");
    const s = track(PaperStore.open(file));
    s.upsertMany([paper("a")]);
    expect(fs.existsSync(`${file}-wal`)).toBe(true);
    expect(s.stats().bytesOnDisk).toBeGreaterThan(0);
  });
});
