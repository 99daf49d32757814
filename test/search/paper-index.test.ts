/**
 * PaperIndex end to end on the real default model (use-lite), real SQLite and real hnswlib: small
 * hand-written arXiv papers whose right answers are obvious, plus a few hundred synthetic ones
 * where the candidate lists must be truncated (filters, large k).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import { paperFromRecord } from "../../src/papers/sources/paper-record.js";
import type { Paper } from "../../src/papers/types.js";
import {
  checkpointDue,
  checkpointInterval,
  CHECKPOINT_EVERY,
  fingerprintOf,
  MAX_K,
  PaperIndex,
  QUERY_CACHE_SIZE,
  PaperNotFoundError,
  SearchInputError,
  STORE_FILE,
  type QueryOptions,
} from "../../src/search/paper-index.js";
import { passageTextsOf } from "../../src/search/paper-passages.js";
import { PaperStore } from "../../src/search/paper-store.js";
import { ModelMismatchError, POINTER_FILE, VectorIndex, type IndexPointer } from "../../src/search/vector-index.js";
import { hnswlib } from "../../src/search/vectors/hnswlib.js";
import { convertIndexFile } from "../../src/search/vectors/index-file.js";
import type { SearchFilters, SearchHit } from "../../src/search/types.js";
import { synthPapers } from "../helpers/synth-papers.js";
import { tuningFor } from "../../src/search/model-tuning.js";

const quiet = { info: () => undefined, warn: () => undefined };

function paper(id: string, title: string, abstract: string, extra: { authors: string[]; categories: string[]; published: string }): Paper {
  return { id, title, abstract, ...extra, links: { abs: `https://arxiv.org/abs/${id}` }, source: "test" };
}

const PAPERS: Paper[] = [
  paper(
    "2401.00001",
    "Graph Neural Networks for Molecular Property Prediction",
    "We represent molecules as graphs whose nodes are atoms and whose edges are chemical bonds, and train message-passing graph neural networks to predict properties such as solubility, toxicity and binding energy. On standard molecular benchmarks the model outperforms fingerprint-based baselines.",
    { authors: ["Ada Lovelace", "Grace Hopper"], categories: ["cs.LG", "q-bio.BM"], published: "2024-01-02" },
  ),
  paper(
    "2401.00002",
    "Diffusion Models for High-Resolution Image Synthesis",
    "Denoising diffusion probabilistic models generate images by reversing a gradual noising process. We scale them to megapixel resolution with a cascaded architecture and latent-space training, producing photorealistic pictures from text prompts.",
    { authors: ["Alan Turing"], categories: ["cs.CV", "cs.LG"], published: "2024-01-05" },
  ),
  paper(
    "2402.00003",
    "Quantum Error Correction with Surface Codes on Superconducting Qubits",
    "Logical qubits protected by the surface code can suppress errors below the physical error rate. We run repeated stabiliser measurements on a superconducting processor and show that increasing the code distance lowers the logical error per cycle.",
    { authors: ["Emmy Noether", "Kurt Gödel"], categories: ["quant-ph"], published: "2024-02-10" },
  ),
  paper(
    "2402.00004",
    "Large Language Models as Zero-Shot Reasoners for Arithmetic",
    "Prompting large language models to think step by step elicits multi-step reasoning without any examples. On arithmetic word problems, chain-of-thought prompting raises accuracy substantially compared with direct answering.",
    { authors: ["Sofia Kovalevskaya"], categories: ["cs.CL", "cs.AI"], published: "2024-02-12" },
  ),
  paper(
    "2303.00005",
    "Reinforcement Learning for Robotic Grasping in Cluttered Scenes",
    "A robot arm learns to pick up objects from a cluttered bin by trial and error. We train a deep Q-network on camera images with sparse success rewards, and the learned policy grasps unseen household objects reliably.",
    { authors: ["Ravi Raman", "Mei Chen"], categories: ["cs.RO", "cs.LG"], published: "2023-03-01" },
  ),
  paper(
    "2303.00006",
    "Dark Matter Halo Profiles from Weak Gravitational Lensing",
    "Weak gravitational lensing of background galaxies maps the projected mass around galaxy clusters. Stacking thousands of clusters, we measure dark matter halo density profiles and compare them with the Navarro-Frenk-White form.",
    { authors: ["Lars Nilsson"], categories: ["astro-ph.CO"], published: "2023-03-15" },
  ),
  paper(
    "2304.00007",
    "Protein Structure Prediction with Attention-Based Networks",
    "We predict the three-dimensional structure of proteins from their amino acid sequences using attention over multiple sequence alignments. The predicted folds reach near-experimental accuracy for most domains.",
    { authors: ["Amara Okafor"], categories: ["q-bio.BM", "cs.LG"], published: "2023-04-20" },
  ),
  paper(
    "2305.00008",
    "Federated Learning under Differential Privacy Constraints",
    "Hospitals collaboratively train a model without sharing patient records. Each client clips and noises its updates to guarantee differential privacy, and we analyse the trade-off between privacy budget and accuracy.",
    { authors: ["Grace Hopper"], categories: ["cs.LG", "cs.CR"], published: "2023-05-01" },
  ),
  paper(
    "2306.00009",
    "Graph Neural Networks for Traffic Forecasting",
    "Road sensors form a graph; we forecast traffic speed and flow at every sensor with spatio-temporal graph convolutions, improving on recurrent baselines for horizons up to one hour.",
    { authors: ["Yuki Tanaka"], categories: ["cs.LG"], published: "2023-06-01" },
  ),
  paper(
    "2306.00010",
    "Graph Neural Networks for Traffic Prediction",
    "We predict congestion on urban road networks from loop detector data using graph attention layers that capture how jams propagate between neighbouring intersections.",
    { authors: ["Olu Adeyemi"], categories: ["cs.LG"], published: "2023-06-20" },
  ),
  paper(
    "2307.00011",
    "Sparse Mixture-of-Experts Transformers for Machine Translation",
    "Routing each token to a few experts lets a translation transformer grow its parameter count without growing its compute. We train sparse mixture-of-experts models on one hundred language pairs.",
    { authors: ["Ingrid Berg"], categories: ["cs.CL"], published: "2023-07-07" },
  ),
  paper(
    "1905.00012",
    "Convolutional Neural Networks for Galaxy Morphology Classification",
    "Citizen-science labels of galaxy images train a convolutional neural network that sorts galaxies into spirals, ellipticals and mergers, matching human classifiers on survey images.",
    { authors: ["José Müller"], categories: ["astro-ph.GA", "cs.CV"], published: "2019-05-05" },
  ),
];

let embedder: Embedder;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-index-"));
  dirs.push(dir);
  return dir;
}
const ids = (hits: SearchHit[]) => hits.map((h) => h.paper.id);

/** The real embedder under another model identity: same vectors, different fingerprint. */
function otherModel(base: Embedder, change: { modelId?: string; checksum?: string }): Embedder {
  return {
    modelId: change.modelId ?? base.modelId,
    checksum: change.checksum ?? base.checksum,
    dim: base.dim,
    maxTokens: base.maxTokens,
    device: base.device,
    batchSize: base.batchSize,
    embed: (texts, kind) => base.embed(texts, kind),
    embedDetailed: (texts, kind) => base.embedDetailed(texts, kind),
    countTokens: (text) => base.countTokens(text),
    dispose: async () => undefined,
  };
}

/** Every paper the store calls embedded has all its labels live in the vector index. */
function expectConsistent(index: PaperIndex): void {
  const stats = index.stats();
  let embedded = 0;
  for (const p of index.store.getMany(Array.from({ length: 2 * stats.papers + 100 }, (_, i) => i + 1))) {
    const labels = index.store.vectorLabelsOf(p.rowid).map((r) => r.label);
    if (p.embeddedHash === p.contentHash) {
      embedded++;
      expect(labels.length, p.id).toBeGreaterThan(0);
      for (const l of labels) expect(index.vectorIndex.has(l), `${p.id} label ${l}`).toBe(true);
    }
  }
  expect(embedded).toBe(stats.embedded);
  expect(stats.passages).toBe(stats.vectors);
}

beforeAll(async () => {
  embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quiet });
}, 120_000);

afterAll(async () => {
  await embedder?.dispose();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("PaperIndex on hand-written papers", () => {
  let dir: string;
  let index: PaperIndex;

  beforeAll(async () => {
    dir = tempDir();
    index = await PaperIndex.open({ dir, embedder });
    const report = await index.add(PAPERS);
    expect(report).toMatchObject({ read: PAPERS.length, added: PAPERS.length, embedded: PAPERS.length, truncatedPassages: 0 });
  });
  afterAll(() => index?.close());

  it("a query asked again takes its vector from the recent queries (same hits, no model call); the cache holds the latest QUERY_CACHE_SIZE", async () => {
    const calls: string[][] = [];
    // The real embedder, with its embed calls recorded.
    const counted = new Proxy(embedder, {
      get(target, prop) {
        if (prop === "embed") return (texts: string[], kind: "query" | "passage") => (calls.push([...texts]), target.embed(texts, kind));
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const reader = await PaperIndex.open({ dir, embedder: counted, readonly: true });
    try {
      const first = await reader.search("surface code logical qubits");
      const again = await reader.search("surface code logical qubits", { k: 3 });
      expect(calls).toEqual([["surface code logical qubits"]]);
      expect(again.map((h) => [h.paper.id, h.score])).toEqual(first.slice(0, 3).map((h) => [h.paper.id, h.score]));
      for (let i = 0; i < QUERY_CACHE_SIZE + 5; i++) await reader.search(`query number ${i}`, { mode: "dense", k: 1 });
      expect(reader.cachedQueries).toBe(QUERY_CACHE_SIZE);
      // The oldest were dropped: the first query is embedded again, the latest is not.
      const before = calls.length;
      await reader.search(`query number ${QUERY_CACHE_SIZE + 4}`, { mode: "dense", k: 1 });
      expect(calls.length).toBe(before);
      await reader.search("surface code logical qubits");
      expect(calls.length).toBe(before + 1);
    } finally {
      reader.close();
    }
  });

  it("indexes every paper with its vectors and finds the obviously relevant one first", async () => {
    const stats = index.stats();
    expect(stats).toMatchObject({ papers: PAPERS.length, embedded: PAPERS.length, pending: 0, deletedVectors: 0 });
    expect(stats.vectors).toBe(stats.passages);
    expect(stats.generation).toBeGreaterThan(0);
    expectConsistent(index);
    const cases: [string, string][] = [
      ["predicting solubility and toxicity of molecules with graph networks", "2401.00001"],
      ["text-to-image generation with denoising diffusion", "2401.00002"],
      ["surface code logical qubits", "2402.00003"],
      ["robot arm picking objects from a bin", "2303.00005"],
      ["galaxy shape classification with CNNs", "1905.00012"],
      ["privacy-preserving collaborative training across hospitals", "2305.00008"],
    ];
    for (const [query, id] of cases) {
      for (const mode of ["hybrid", "bm25"] as const) {
        const hits = await index.search(query, { mode });
        expect(hits[0]?.paper.id, `${mode}: ${query}`).toBe(id);
      }
      // The small model alone is less sure (molecules vs proteins), but close.
      expect(ids(await index.search(query, { mode: "dense", k: 2 })), `dense: ${query}`).toContain(id);
    }
    const [top] = await index.search("surface code logical qubits");
    expect(top!.dense).toBeGreaterThan(0);
    expect(top!.bm25).toBeGreaterThan(0);
  });

  it("re-adding the same papers changes and embeds nothing", async () => {
    const before = index.stats();
    const report = await index.add(PAPERS);
    expect(report).toMatchObject({ read: PAPERS.length, added: 0, updated: 0, unchanged: PAPERS.length, embedded: 0, passages: 0 });
    const after = index.stats();
    expect(after.generation).toBe(before.generation); // no checkpoint: nothing to save
    expect(after.vectors).toBe(before.vectors);
  });

  it("resolves related papers by arXiv id, abs/pdf URL with version, exact title and fuzzy title", async () => {
    const refs = [
      "2401.00001",
      "arXiv:2401.00001v1",
      "https://arxiv.org/abs/2401.00001v2",
      "https://arxiv.org/pdf/2401.00001v1",
      "arxiv.org/abs/2401.00001",
      "graph neural networks for molecular property prediction",
      "  Graph Neural Networks for Molecular Property-Prediction! ",
      "Graph Neural Netwroks for Molecular Property Predictoin", // typos
    ];
    for (const ref of refs) {
      const { paper, hits } = await index.related(ref, { k: 50 });
      expect(paper.id, ref).toBe("2401.00001");
      expect(ids(hits), ref).not.toContain("2401.00001");
      expect(hits.length, ref).toBe(PAPERS.length - 1);
    }
    const { hits } = await index.related("2401.00001", { k: 3 });
    expect(hits).toHaveLength(3);
    // The other molecule/protein and graph papers are the nearest.
    expect(["2304.00007", "2306.00009", "2306.00010"]).toContain(hits[0]!.paper.id);
    for (const mode of ["dense", "bm25"] as const) {
      expect(ids((await index.related("2402.00003", { mode })).hits)).not.toContain("2402.00003");
    }
  });

  it("ambiguous or unknown references → PaperNotFoundError (with candidates when titles are close)", async () => {
    const err = await index.related("Graph Neural Networks for Traffic").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PaperNotFoundError);
    expect((err as Error).message).toMatch(/several papers match/);
    // Both traffic papers first (equally close), then the other "Graph Neural Networks for ..." title.
    expect((err as PaperNotFoundError).candidates.slice(0, 2).map((p) => p.id).sort()).toEqual(["2306.00009", "2306.00010"]);

    const unknown = await index.related("2412.99999").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(PaperNotFoundError);
    expect((unknown as Error).message).toMatch(/arXiv 2412\.99999 is not in this index/);
    const none = await index.related("a completely unrelated title about medieval poetry").catch((e: unknown) => e);
    expect(none).toBeInstanceOf(PaperNotFoundError);
    expect((none as PaperNotFoundError).candidates).toEqual([]);
    await expect(index.related("https://example.com/paper.pdf")).rejects.toThrow(SearchInputError);
    await expect(index.related("   ")).rejects.toThrow(SearchInputError);
  });

  it("filters (since/until/category/author) apply to dense and BM25 candidates alike", async () => {
    const cases: { filters: SearchFilters; expected: string[] }[] = [
      { filters: { categories: ["astro-ph"] }, expected: ["1905.00012", "2303.00006"] },
      { filters: { categories: ["q-bio.BM"] }, expected: ["2304.00007", "2401.00001"] },
      { filters: { since: "2024-02" }, expected: ["2402.00003", "2402.00004"] },
      { filters: { until: "2019" }, expected: ["1905.00012"] },
      { filters: { since: "2023-06-01", until: "2023-06-30" }, expected: ["2306.00009", "2306.00010"] },
      { filters: { author: "muller" }, expected: ["1905.00012"] }, // "José Müller", folded
      { filters: { author: "hopper" }, expected: ["2305.00008", "2401.00001"] },
      { filters: { author: "hopper", since: "2024" }, expected: ["2401.00001"] },
    ];
    for (const { filters, expected } of cases) {
      // Dense alone returns every allowed paper (all are candidates in a corpus this small).
      const dense = await index.search("neural networks for graphs and galaxies", { mode: "dense", filters, k: 50 });
      expect(ids(dense).sort(), `dense ${JSON.stringify(filters)}`).toEqual(expected);
      // BM25 alone returns only allowed papers that contain a query term.
      const bm25 = await index.search("networks", { mode: "bm25", filters, k: 50 });
      for (const hit of bm25) expect(expected, `bm25 ${JSON.stringify(filters)}`).toContain(hit.paper.id);
      const hybrid = await index.search("neural networks", { filters, k: 50 });
      expect(ids(hybrid).sort(), `hybrid ${JSON.stringify(filters)}`).toEqual(expected);
      const related = await index.related("2402.00004", { filters, k: 50 });
      expect(ids(related.hits).sort()).toEqual(expected.filter((id) => id !== "2402.00004"));
    }
    const bm25 = await index.search("graph networks", { mode: "bm25", filters: { since: "2024" } });
    expect(ids(bm25)).toEqual(["2401.00001"]);
    const none = await index.search("graph networks", { filters: { categories: ["hep-th"] } });
    expect(none).toEqual([]);
  });

  it("k must be a whole number from 1 to 1000; a k beyond the corpus returns every paper", async () => {
    for (const k of [0, -1, MAX_K + 1, 1.5, Number.NaN, Infinity]) {
      await expect(index.search("graph neural networks", { k }), `k=${k}`).rejects.toThrow(SearchInputError);
      await expect(index.related("2401.00001", { k }), `related k=${k}`).rejects.toThrow(SearchInputError);
    }
    await expect(index.search("graph neural networks", { k: "5" as unknown as number })).rejects.toThrow(/k must be a whole number from 1 to 1000/);
    expect(await index.search("graph neural networks", { k: 1 })).toHaveLength(1);
    const all = await index.search("graph neural networks", { k: MAX_K });
    expect(new Set(ids(all)).size).toBe(PAPERS.length);
    expect((await index.related("2401.00001", { k: MAX_K })).hits).toHaveLength(PAPERS.length - 1);
  });

  it("rejects empty, blank and punctuation-only queries; FTS syntax and 10,000 characters are plain text", async () => {
    for (const q of ["", "   ", "\n\t", "?!", "...", "\"*-:()", 42 as unknown as string]) {
      await expect(index.search(q), JSON.stringify(q)).rejects.toThrow(SearchInputError);
    }
    const syntax = [
      '"surface code',
      "qubit*",
      "surface NEAR code",
      "NEAR(surface code, 2)",
      "-qubits surface",
      "title:surface code",
      "surface AND OR NOT code",
      "surface ^code {x} [y]",
    ];
    for (const q of syntax) {
      const hits = await index.search(q);
      expect(hits[0]?.paper.id, q).toBe("2402.00003");
    }
    const long = `superconducting qubits surface code ${"x".repeat(10_000)}`;
    expect((await index.search(long))[0]?.paper.id).toBe("2402.00003");
    const words = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(" ");
    expect(Array.isArray(await index.search(`quantum ${words}`))).toBe(true);
    // Only stop words: BM25 has nothing to match, dense still answers.
    expect((await index.search("the of and")).length).toBeGreaterThan(0);
  });
});

describe("PaperIndex updates", () => {
  it("a changed abstract re-embeds that paper only and deletes its old vectors", async () => {
    const dir = tempDir();
    const index = await PaperIndex.open({ dir, embedder });
    try {
      await index.add(PAPERS);
      const before = index.stats();
      const oldLabels = index.store.vectorLabelsOf(index.store.get("2303.00005")!.rowid).map((p) => p.label);
      const changed = PAPERS.map((p) =>
        p.id === "2303.00005"
          ? { ...p, abstract: "A quadruped robot learns to walk over rough terrain and stairs by trial and error in simulation, then transfers the gait policy to hardware." }
          : p,
      );
      const report = await index.add(changed);
      expect(report).toMatchObject({ updated: 1, unchanged: PAPERS.length - 1, added: 0, embedded: 1 });
      const after = index.stats();
      expect(after.vectors).toBe(before.vectors); // one passage before, one after
      expect(after.deletedVectors).toBe(before.deletedVectors + oldLabels.length);
      for (const l of oldLabels) expect(index.vectorIndex.has(l)).toBe(false);
      expect(after.pending).toBe(0);
      expectConsistent(index);
      expect((await index.search("legged robot walking on stairs", { mode: "dense" }))[0]?.paper.id).toBe("2303.00005");
      // The old text is gone from BM25 too.
      expect(ids(await index.search("household objects with sparse success rewards", { mode: "bm25" }))).not.toContain("2303.00005");
      expect(ids(await index.search("quadruped gait on stairs", { mode: "bm25" }))).toEqual(["2303.00005"]);
    } finally {
      index.close();
    }
  });

  it("a new arXiv version replaces the paper under its canonical id, it is not added", async () => {
    const dir = tempDir();
    const index = await PaperIndex.open({ dir, embedder });
    try {
      await index.add(PAPERS);
      const before = index.stats();
      const v2 = paperFromRecord({
        id: "2402.00003v2",
        title: "Below-Threshold Quantum Error Correction with Surface Codes",
        abstract: "We demonstrate a distance-seven surface code memory on a superconducting processor whose logical error rate halves each time the code distance grows by two.",
        authors: ["Emmy Noether", "Kurt Gödel"],
        categories: "quant-ph",
        date: "2024-03-01",
      });
      expect(v2).toMatchObject({ id: "2402.00003", version: 2 });
      // A caller that forgets to canonicalise gets the same result.
      const raw: Paper = { ...v2, id: "2402.00003v3", title: "Below-Threshold Quantum Error Correction with Surface Codes (v3)" };
      delete raw.version;
      for (const [p, version] of [
        [v2, 2],
        [raw, 3],
      ] as const) {
        const report = await index.add([p]);
        expect(report).toMatchObject({ read: 1, added: 0, updated: 1, embedded: 1 });
        const stats = index.stats();
        expect(stats.papers).toBe(before.papers);
        expect(stats.pending).toBe(0);
        const stored = index.store.get("2402.00003")!;
        expect(stored.version).toBe(version);
        expect(stored.title).toBe(p.title);
        expect(stored.published).toBe("2024-02-10"); // the first publication date is kept
      }
      expect(index.store.get("2402.00003v3")).toBeUndefined();
      expect((await index.related("https://arxiv.org/abs/2402.00003v1")).paper.title).toMatch(/\(v3\)$/);
      expectConsistent(index);
    } finally {
      index.close();
    }
  });

  it("runs overlapping add calls one after the other, embedding each paper once", async () => {
    const dir = tempDir();
    const index = await PaperIndex.open({ dir, embedder, checkpointEvery: 2 });
    try {
      const [a, b] = await Promise.all([index.add(PAPERS.slice(0, 6)), index.add(PAPERS.slice(6))]);
      expect(a.embedded + b.embedded).toBe(PAPERS.length);
      expect(index.stats()).toMatchObject({ papers: PAPERS.length, pending: 0, deletedVectors: 0 });
      expectConsistent(index);
      // A failing add does not block the next one.
      await expect(index.add([{ id: "", title: "t", abstract: "a" } as unknown as Paper])).rejects.toThrow(/id must be a non-empty string/);
      expect((await index.add(PAPERS)).embedded).toBe(0);
    } finally {
      index.close();
    }
  });

  it("a failed add leaves the in-memory index as the store describes it; the next add completes", async () => {
    const dir = tempDir();
    const built = await PaperIndex.open({ dir, embedder });
    await built.add(PAPERS);
    built.close();
    const changedIds = ["2401.00002", "2402.00003", "2303.00005", "2303.00006"];
    const changed = PAPERS.filter((p) => changedIds.includes(p.id)).map((p) => ({ ...p, abstract: `${p.abstract} Revised: we add an appendix on reproducibility.` }));
    let calls = 0;
    const flaky: Embedder = {
      ...otherModel(embedder, {}),
      embedDetailed: async (texts, kind) => {
        if (++calls === 2) throw new Error("inference failed");
        return embedder.embedDetailed(texts, kind);
      },
    };
    const index = await PaperIndex.open({ dir, embedder: flaky, checkpointEvery: 2 });
    try {
      const before = index.stats();
      // 1. The embedder fails on the second chunk: the first chunk (2 papers) is committed.
      await expect(index.add(changed)).rejects.toThrow("inference failed");
      let stats = index.stats();
      expect(stats.pending).toBe(2);
      expect(stats.vectors).toBe(before.vectors);
      expectConsistent(index);
      // The papers not re-embedded keep their old vectors, so dense search still finds them.
      expect((await index.search("robot arm picking objects from a bin", { mode: "dense", k: 1 }))[0]?.paper.id).toBe("2303.00005");

      // 2. The vector save fails at a checkpoint (the directory is gone): the old vectors it had
      //    taken out come back, the new ones go.
      const away = `${dir}.away`;
      const broken = index.add([], (p) => {
        if (p.phase === "embed") {
          renameSync(dir, away);
          writeFileSync(dir, "not a directory");
        }
      });
      await expect(broken).rejects.toThrow();
      rmSync(dir);
      renameSync(away, dir);
      stats = index.stats();
      expect(stats.pending).toBe(2);
      expect(stats.vectors).toBe(before.vectors);
      expectConsistent(index);
      expect((await index.search("dark matter halo profiles from lensing", { mode: "dense", k: 1 }))[0]?.paper.id).toBe("2303.00006");

      // 3. A working run completes.
      const report = await index.add([]);
      expect(report.embedded).toBe(2);
      expect(index.stats()).toMatchObject({ pending: 0, vectors: before.vectors });
      expectConsistent(index);
    } finally {
      index.close();
    }
    const reopened = await PaperIndex.open({ dir, embedder });
    try {
      expect(reopened.stats()).toMatchObject({ pending: 0, papers: PAPERS.length });
      expectConsistent(reopened);
    } finally {
      reopened.close();
    }
  });

  it("the checkpoint interval comes from the option, else PAPERHOUND_CHECKPOINT_EVERY, else the default", () => {
    expect(checkpointInterval(undefined, {})).toBe(CHECKPOINT_EVERY);
    expect(checkpointInterval(undefined, { PAPERHOUND_CHECKPOINT_EVERY: "16" })).toBe(16);
    expect(checkpointInterval(3, { PAPERHOUND_CHECKPOINT_EVERY: "16" })).toBe(3);
    expect(checkpointInterval(undefined, { PAPERHOUND_CHECKPOINT_EVERY: " " })).toBe(CHECKPOINT_EVERY);
    for (const bad of ["0", "-5", "2.5", "many"]) {
      expect(() => checkpointInterval(undefined, { PAPERHOUND_CHECKPOINT_EVERY: bad })).toThrow(/PAPERHOUND_CHECKPOINT_EVERY/);
    }
    expect(() => checkpointInterval(0, {})).toThrow(RangeError);
  });

  it("a default checkpoint interval widens to 5% of a large index; a set one never does", () => {
    expect(checkpointDue(CHECKPOINT_EVERY, false, 0)).toBe(CHECKPOINT_EVERY);
    expect(checkpointDue(CHECKPOINT_EVERY, false, 80_000)).toBe(CHECKPOINT_EVERY);
    expect(checkpointDue(CHECKPOINT_EVERY, false, 1_000_000)).toBe(50_000);
    expect(checkpointDue(CHECKPOINT_EVERY, true, 1_000_000)).toBe(CHECKPOINT_EVERY);
    expect(checkpointDue(2, true, 1_000_000)).toBe(2);
  });
});

describe("PaperIndex search breadth", () => {
  it("the vector index searches with the model's measured efSearch (paperhound-sci-1: 300; use-lite: 600), new or reopened", async () => {
    const sci = await loadEmbedder({ model: "paperhound-sci-1", device: "cpu", logger: quiet });
    try {
      const dir = tempDir();
      const created = await PaperIndex.open({ dir, embedder: sci });
      await created.add(PAPERS.slice(0, 3));
      expect(created.vectorIndex.efSearch).toBe(tuningFor("paperhound-sci-1").efSearch);
      created.close();
      const reopened = await PaperIndex.open({ dir, embedder: sci, readonly: true });
      expect(reopened.vectorIndex.efSearch).toBe(300);
      reopened.close();
    } finally {
      await sci.dispose();
    }
    const lite = await PaperIndex.open({ dir: tempDir(), embedder });
    expect(lite.vectorIndex.efSearch).toBe(600);
    lite.close();
  });
});

describe("PaperIndex vector storage", () => {
  it.runIf(hnswlib.float16)("a writer converts an index of float32 vectors (from before half floats) to float16 once, saying so; readers read either", async () => {
    const dir = tempDir();
    const first = await PaperIndex.open({ dir, embedder });
    await first.add(PAPERS);
    first.close();
    // The vector file as the previous version wrote it: float32.
    const pointerPath = path.join(dir, POINTER_FILE);
    const pointer = JSON.parse(readFileSync(pointerPath, "utf8")) as IndexPointer;
    expect(pointer.space).toBe("cosine-f16");
    const oldFile = `vectors-${pointer.generation + 1}.hnsw`;
    const { sha256, bytes } = await convertIndexFile(path.join(dir, pointer.file), path.join(dir, oldFile), pointer.dim, pointer.M, "cosine-f16", "cosine");
    writeFileSync(pointerPath, JSON.stringify({ ...pointer, generation: pointer.generation + 1, file: oldFile, sha256, bytes, space: "cosine" }));

    const reader = await PaperIndex.open({ dir, embedder, readonly: true });
    const expected = (await reader.search("surface code logical qubits")).map((h) => h.paper.id);
    reader.close();
    expect((JSON.parse(readFileSync(pointerPath, "utf8")) as IndexPointer).space).toBe("cosine"); // readers convert nothing on disk

    const converted: unknown[] = [];
    const writer = await PaperIndex.open({ dir, embedder, onVectorsConverted: (c) => converted.push(c) });
    expect(converted).toEqual([{ from: "float32", to: "float16", vectors: PAPERS.length, seconds: expect.any(Number) }]);
    expect((await writer.search("surface code logical qubits")).map((h) => h.paper.id)).toEqual(expected);
    writer.close();
    const saved = JSON.parse(readFileSync(pointerPath, "utf8")) as IndexPointer;
    expect(saved).toMatchObject({ space: "cosine-f16", count: PAPERS.length });
    expect(saved.generation).toBeGreaterThan(pointer.generation + 1);

    const again = await PaperIndex.open({ dir, embedder, onVectorsConverted: (c) => converted.push(c) });
    again.close();
    expect(converted).toHaveLength(1); // once
    const after = await PaperIndex.open({ dir, embedder, readonly: true });
    expect((await after.search("surface code logical qubits")).map((h) => h.paper.id)).toEqual(expected);
    after.close();
  });
});

describe("PaperIndex model identity", () => {
  it("refuses an index built by another model, naming `paperhound reindex`, and leaves it usable", async () => {
    const dir = tempDir();
    const index = await PaperIndex.open({ dir, embedder });
    await index.add(PAPERS.slice(0, 3));
    index.close();
    for (const change of [{ checksum: "0".repeat(64) }, { modelId: "bge-small" }]) {
      const err = await PaperIndex.open({ dir, embedder: otherModel(embedder, change) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelMismatchError);
      expect((err as Error).message).toMatch(/paperhound reindex/);
      expect((err as ModelMismatchError).found).toEqual(fingerprintOf(embedder));
      await expect(PaperIndex.open({ dir, embedder: otherModel(embedder, change), readonly: true })).rejects.toThrow(ModelMismatchError);
    }
    const again = await PaperIndex.open({ dir, embedder });
    try {
      expect(again.stats()).toMatchObject({ papers: 3, pending: 0 });
      expect((await again.search("surface code qubits"))[0]?.paper.id).toBe("2402.00003");
    } finally {
      again.close();
    }
  });

  it("refuses a vector file of another model even when the store has no fingerprint yet", async () => {
    const dir = tempDir();
    const index = await PaperIndex.open({ dir, embedder });
    await index.add(PAPERS.slice(0, 2));
    index.close();
    rmSync(path.join(dir, STORE_FILE));
    await expect(PaperIndex.open({ dir, embedder: otherModel(embedder, { checksum: "f".repeat(64) }) })).rejects.toThrow(/paperhound reindex/);
  });
});

describe("PaperIndex after a crash between the vector save and the store commit", () => {
  it("removes orphan vectors, marks papers with lost vectors pending, and add([]) completes the work", async () => {
    const dir = tempDir();
    const built = await PaperIndex.open({ dir, embedder });
    await built.add(PAPERS);
    const clean = built.stats();
    built.close();

    // Replay what embedPending does for one checkpoint, by hand, and "crash" before commitEmbedding:
    //  - 2303.00006 changed (upsert committed), re-embedded: new labels added, old labels removed;
    //  - 2501.99999 is new: its labels added;
    //  - 2401.00002's vectors are lost from the file while the store still maps them.
    const store = PaperStore.open(path.join(dir, STORE_FILE));
    const vectors = (await VectorIndex.load(dir, { expectFingerprint: fingerprintOf(embedder) }))!;
    const changed: Paper = { ...PAPERS[5]!, abstract: "Strong lensing arcs around massive clusters constrain the inner slope of dark matter haloes." };
    const fresh: Paper = {
      id: "2501.99999",
      title: "Tidal Disruption Events in Dwarf Galaxies",
      abstract: "Stars torn apart by massive black holes in dwarf galaxies produce luminous flares.",
      authors: ["Lars Nilsson"],
      categories: ["astro-ph.GA"],
      published: "2025-01-10",
      links: {},
      source: "test",
    };
    store.upsertMany([changed, fresh]);
    const orphanLabels: number[] = [];
    for (const p of [changed, fresh]) {
      const stored = store.get(p.id)!;
      const texts = passageTextsOf(stored, embedder);
      const vecs = await embedder.embed(texts, "passage");
      const first = store.nextLabel(texts.length);
      vecs.forEach((v, j) => {
        vectors.add(first + j, v);
        orphanLabels.push(first + j);
      });
      for (const old of store.vectorLabelsOf(stored.rowid)) vectors.remove(old.label);
    }
    const lostPaper = store.get("2401.00002")!;
    const lostLabels = store.vectorLabelsOf(lostPaper.rowid).map((p) => p.label);
    for (const l of lostLabels) vectors.remove(l);
    await vectors.save(dir);
    store.close(); // no commitEmbedding: the crash

    const index = await PaperIndex.open({ dir, embedder });
    try {
      const stats = index.stats();
      for (const l of orphanLabels) expect(index.vectorIndex.has(l), `orphan ${l}`).toBe(false);
      expect(stats.papers).toBe(PAPERS.length + 1);
      expect(stats.pending).toBe(3);
      for (const id of ["2303.00006", "2501.99999", "2401.00002"]) {
        const p = index.store.get(id)!;
        expect(p.embeddedHash, id).toBeUndefined();
        expect(index.store.vectorLabelsOf(p.rowid), id).toEqual([]);
      }
      expectConsistent(index);
      // The rest stays searchable meanwhile.
      expect((await index.search("surface code qubits"))[0]?.paper.id).toBe("2402.00003");

      const report = await index.add([]);
      expect(report).toMatchObject({ read: 0, embedded: 3 });
      const done = index.stats();
      expect(done.pending).toBe(0);
      expect(done.embedded).toBe(PAPERS.length + 1);
      expect(done.generation).toBeGreaterThan(clean.generation);
      expectConsistent(index);
      expect((await index.search("strong lensing arcs inner slope", { mode: "dense" }))[0]?.paper.id).toBe("2303.00006");
      expect((await index.search("tidal disruption flares in dwarf galaxies"))[0]?.paper.id).toBe("2501.99999");
      expect((await index.search("photorealistic text-to-image diffusion"))[0]?.paper.id).toBe("2401.00002");
    } finally {
      index.close();
    }

    // And it stays consistent across another reopen.
    const reopened = await PaperIndex.open({ dir, embedder, readonly: true });
    try {
      expect(reopened.stats()).toMatchObject({ pending: 0, papers: PAPERS.length + 1 });
      expectConsistent(reopened);
    } finally {
      reopened.close();
    }
  });
});

describe("PaperIndex on a few hundred papers (truncated candidate lists)", () => {
  const synth = synthPapers(400, 11).map((r) => paperFromRecord(r));
  let index: PaperIndex;

  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    index = await PaperIndex.open({ dir, embedder });
    await index.add([...PAPERS, ...synth]);
    // More passages than the dense search's first fetch (4 × 100), so filters and large k matter.
    expect(index.stats().vectors).toBeGreaterThan(4 * 100);
  }, 120_000);
  afterAll(() => index?.close());

  it("the dense search overlapping BM25 (on another thread, where the build can) finds what it finds after BM25: by the graph, with filters, any k", async () => {
    const reader = await PaperIndex.open({ dir, embedder, readonly: true, exactSearchBelow: 0 });
    try {
      const cases: [string, QueryOptions][] = [
        ["graph neural networks for molecules", {}],
        ["robots learn to grasp", { k: 50 }],
        ["machine learning", { k: MAX_K }],
        ["language models", { mode: "dense" }],
        ["language models", { filters: { author: synth[5]!.authors[0]! } }],
      ];
      for (const [query, opts] of cases) {
        const overlapped = await reader.search(query, opts);
        expect(overlapped.length).toBeGreaterThan(0);
        expect(await reader.search(query, { ...opts, overlap: false })).toEqual(overlapped);
      }
      for (const ref of ["2401.00001", synth[3]!.id]) expect(await reader.related(ref, { k: 20 })).toEqual(await reader.related(ref, { k: 20, overlap: false }));
      // Side by side, as a bot's main thread asks them.
      const together = await Promise.all(cases.map(([query, opts]) => reader.search(query, opts)));
      for (const [i, [query, opts]] of cases.entries()) expect(together[i]).toEqual(await reader.search(query, { ...opts, overlap: false }));
    } finally {
      reader.close();
    }
  });

  it("k beyond the corpus returns every paper; k = 500 returns 500", async () => {
    const total = PAPERS.length + synth.length;
    const all = await index.search("machine learning", { k: MAX_K });
    expect(all).toHaveLength(total);
    expect(await index.search("machine learning", { k: 300 })).toHaveLength(300);
    expect((await index.related("2401.00001", { k: MAX_K })).hits).toHaveLength(total - 1);
  });

  it("a narrow filter still gets the nearest allowed papers from the dense side", async () => {
    // Papers by one synthetic author: few, scattered through the corpus.
    const author = synth[5]!.authors[0]!;
    const theirs = synth.filter((p) => p.authors.includes(author)).map((p) => p.id);
    expect(theirs.length).toBeGreaterThanOrEqual(3);
    const filters: SearchFilters = { author };
    const opts: QueryOptions = { mode: "dense", filters, k: 50 };
    const hits = await index.search("medieval poetry and the history of bookbinding", opts);
    expect(ids(hits).sort()).toEqual([...theirs].sort());
    const other = synth.find((p) => p.authors.includes(author))!;
    const related = await index.related(other.id, opts);
    expect(ids(related.hits).sort()).toEqual(theirs.filter((id) => id !== other.id).sort());
  });

  it("finds a synthetic paper by its exact title", async () => {
    for (const p of [synth[0]!, synth[123]!, synth[399]!]) {
      const hits = await index.search(p.title, { k: 3 });
      expect(ids(hits), p.title).toContain(p.id);
    }
  });
});
