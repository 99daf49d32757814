/**
 * npm run bench:compact-vectors -- --index DIR [--scifact-index DIR] [--dataset DIR] [--queries 500] [--rescore 40]
 *
 * What storing the vectors smaller would cost in search quality, measured before building a store
 * for it (issue 19; hnswlib-node keeps float32 only). Variants of each stored vector:
 *   - float16: each value rounded to half precision (2 bytes a dimension);
 *   - int8: each dimension scaled by its largest magnitude over the index to -127..127 (1 byte a
 *     dimension, plus one float32 scale per dimension for the whole index); queries stay float32;
 *   - int8 + rescoring: the best --rescore by int8, re-ranked by their float32 vectors (which would
 *     stay on disk and be read for those candidates only).
 * Every variant is an exact scan, so what is measured is the loss of the storage, not of a graph.
 *   --index          an index (e.g. bench:search's 140k): recall@10 of each variant against float32,
 *                    for /paper queries (3-6 words of random stored titles, embedded) and /related
 *                    queries (random stored papers' vectors, the paper itself left out);
 *   --scifact-index  an index of SciFact built by `npm run eval -- --index DIR`: dense nDCG@10 and
 *                    Recall@100 of each variant on the --dataset's train queries (int8 + rescoring
 *                    re-ranks the best 300 passages there, for 100 papers).
 * Prints a table, then one JSON object.
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadBeir } from "../src/eval/beir.js";
import { meanMetrics, scoreQuery } from "../src/eval/metrics.js";
import { projectRoot } from "../src/paths.js";
import { seededRandom } from "../src/random.js";
import { PaperIndex } from "../src/search/paper-index.js";
import { ExactStore } from "../src/search/vectors/exact-search.js";
import type { Embedder } from "../src/embed/types.js";
import { BenchError, loadBenchEmbedder, positiveInt, round, runBench } from "./bench-cli.js";
import { pickPaperRefs, titleSpan } from "./chat-load.js";

const USAGE = "usage: npm run bench:compact-vectors -- --index DIR [--scifact-index DIR] [--dataset DIR] [--queries 500] [--rescore 40]";

/** The stored vectors of an index, one row per label, and the paper each belongs to. */
interface Matrix {
  dim: number;
  rows: number;
  data: Float32Array;
  rowids: Int32Array;
}

function readVectors(index: PaperIndex): Matrix {
  const vectors = index.vectorIndex;
  const labels = [...vectors.labels()];
  const owners = index.store.labelsToPapers(labels);
  const dim = vectors.dim;
  const data = new Float32Array(labels.length * dim);
  const rowids = new Int32Array(labels.length);
  let rows = 0;
  for (const label of labels) {
    const v = vectors.vector(label);
    const rowid = owners.get(label);
    if (!v || rowid === undefined) continue;
    data.set(v, rows * dim);
    rowids[rows++] = rowid;
  }
  return { dim, rows, data: data.subarray(0, rows * dim), rowids: rowids.subarray(0, rows) };
}

/** Half precision, round to nearest (subnormals below 2^-14 kept on their 2^-24 grid). */
function roundToHalf(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const step = 2 ** (Math.max(Math.floor(Math.log2(a)), -14) - 10);
  return Math.sign(x) * Math.round(a / step) * step;
}

function toHalf(m: Matrix): Float32Array {
  return m.data.map(roundToHalf);
}

/** Each value as its int8 code (one scale per dimension: its largest magnitude / 127) stands for it. */
function toInt8(m: Matrix): Float32Array {
  const scale = new Float32Array(m.dim);
  for (let r = 0; r < m.rows; r++) for (let d = 0; d < m.dim; d++) scale[d] = Math.max(scale[d]!, Math.abs(m.data[r * m.dim + d]!));
  for (let d = 0; d < m.dim; d++) scale[d] = scale[d]! / 127 || 1;
  return m.data.map((x, i) => {
    const d = i % m.dim;
    return Math.max(-127, Math.min(127, Math.round(x / scale[d]!))) * scale[d]!;
  });
}

/** The rows of `data` in the search core's exact scan, labelled by row index. */
function exactStore(data: Float32Array, dim: number, rows: number): ExactStore {
  const store = new ExactStore(dim, rows);
  for (let r = 0; r < rows; r++) store.set(r, data.subarray(r * dim, (r + 1) * dim));
  return store;
}

/** Row indexes of the `k` best inner products with `q`, best first (`skip`: a row left out). */
function topRows(store: ExactStore, q: Float32Array, k: number, skip = -1): number[] {
  return store.search(q, k, skip < 0 ? undefined : (row) => row !== skip).map((h) => h.label);
}

/** `candidates` re-ranked by their float32 vectors; the best `k`. */
function rescore(m: Matrix, q: Float32Array, candidates: number[], k: number): number[] {
  const scored = candidates.map((row) => {
    let s = 0;
    for (let d = 0; d < m.dim; d++) s += m.data[row * m.dim + d]! * q[d]!;
    return { row, s };
  });
  return scored
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((x) => x.row);
}

/** Each variant's vectors (as the values they stand for), ready for exact scans. */
interface Variants {
  float32: ExactStore;
  float16: ExactStore;
  int8: ExactStore;
}

function variantsOf(m: Matrix): Variants {
  return { float32: exactStore(m.data, m.dim, m.rows), float16: exactStore(toHalf(m), m.dim, m.rows), int8: exactStore(toInt8(m), m.dim, m.rows) };
}

/** Rankings of one query under each variant: float32, float16, int8, int8 + rescoring. */
function rankings(m: Matrix, v: Variants, q: Float32Array, k: number, rescoreTop: number, skip = -1): Record<string, number[]> {
  return {
    float32: topRows(v.float32, q, k, skip),
    float16: topRows(v.float16, q, k, skip),
    int8: topRows(v.int8, q, k, skip),
    int8_rescored: rescore(m, q, topRows(v.int8, q, Math.max(k, rescoreTop), skip), k),
  };
}

async function recallOnIndex(dir: string, embedder: Embedder, queries: number, rescoreTop: number) {
  const index = await PaperIndex.open({ dir, embedder, readonly: true });
  try {
    const m = readVectors(index);
    const v = variantsOf(m);
    const rand = seededRandom(20261205);
    const refs = pickPaperRefs(index.store, queries, rand);
    const texts = refs.map((r) => titleSpan(r.title, rand));
    const qvecs = await embedder.embed(texts, "query");
    const related = Array.from({ length: Math.ceil(queries / 2) }, () => Math.floor(rand() * m.rows));
    const sums: Record<string, { paper: number; related: number }> = {};
    const add = (kind: "paper" | "related", ranked: Record<string, number[]>) => {
      const truth = new Set(ranked.float32);
      for (const [name, rows] of Object.entries(ranked)) {
        sums[name] ??= { paper: 0, related: 0 };
        sums[name][kind] += rows.filter((r) => truth.has(r)).length / truth.size;
      }
    };
    qvecs.forEach((q, i) => {
      add("paper", rankings(m, v, q, 10, rescoreTop));
      if ((i + 1) % 50 === 0) process.stderr.write(`index queries ${i + 1}/${qvecs.length}\n`);
    });
    for (const row of related) add("related", rankings(m, v, m.data.subarray(row * m.dim, (row + 1) * m.dim), 10, rescoreTop, row));
    const recall = Object.fromEntries(
      Object.entries(sums).map(([name, s]) => [name, { paper: round(s.paper / qvecs.length, 4), related: round(s.related / related.length, 4) }]),
    );
    return { papers: index.store.paperCountHint(), vectors: m.rows, dim: m.dim, paper_queries: qvecs.length, related_queries: related.length, recall_at_10: recall };
  } finally {
    index.close();
  }
}

/** Passages ranked per SciFact query: enough for 100 distinct papers at up to 3 passages a paper. */
const PASSAGES_FOR_100 = 300;

async function sciFact(dir: string, dataset: string, embedder: Embedder) {
  const ds = await loadBeir(dataset, "train");
  const index = await PaperIndex.open({ dir, embedder, readonly: true });
  try {
    const m = readVectors(index);
    const v = variantsOf(m);
    const idOf = new Map<number, string>();
    for (const rowid of m.rowids) idOf.set(rowid, index.store.getByRowid(rowid)!.id.replace(/^beir:/, ""));
    const qvecs = await embedder.embed(ds.queries.map((q) => q.text), "query");
    const perVariant: Record<string, ReturnType<typeof scoreQuery>[]> = {};
    ds.queries.forEach((query, i) => {
      const relevant = ds.qrels.get(query.id);
      if (!relevant) return;
      // A paper may have several passage vectors: its best one ranks it, as the dense search does.
      for (const [name, rows] of Object.entries(rankings(m, v, qvecs[i]!, PASSAGES_FOR_100, PASSAGES_FOR_100))) {
        const papers = [...new Set(rows.map((r) => idOf.get(m.rowids[r]!)!))].slice(0, 100);
        (perVariant[name] ??= []).push(scoreQuery(papers, relevant));
      }
    });
    return Object.fromEntries(Object.entries(perVariant).map(([name, scores]) => {
      const mean = meanMetrics(scores);
      return [name, { ndcg_at_10: round(mean["ndcg@10"], 4), recall_at_100: round(mean["recall@100"], 4) }];
    }));
  } finally {
    index.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      index: { type: "string" },
      "scifact-index": { type: "string" },
      dataset: { type: "string", default: path.join(projectRoot, "..", "shared", "data", "scifact") },
      queries: { type: "string" },
      rescore: { type: "string" },
    },
  });
  if (!values.index && !values["scifact-index"]) throw new BenchError(`give --index DIR, --scifact-index DIR or both\n${USAGE}`);
  const queries = positiveInt(values.queries, "--queries", 500)!;
  const rescoreTop = positiveInt(values.rescore, "--rescore", 40)!;
  const embedder = await loadBenchEmbedder();
  try {
    const onIndex = values.index ? await recallOnIndex(path.resolve(values.index), embedder, queries, rescoreTop) : undefined;
    const onSciFact = values["scifact-index"] ? await sciFact(path.resolve(values["scifact-index"]), path.resolve(values.dataset!), embedder) : undefined;
    const dim = onIndex?.dim ?? 512;
    const bytes = { float32: 4 * dim, float16: 2 * dim, int8: dim, int8_rescored: dim };
    process.stdout.write(`bytes a vector: float32 ${bytes.float32}, float16 ${bytes.float16}, int8 ${bytes.int8} (+ float32 on disk for rescoring)\n`);
    if (onIndex) {
      process.stdout.write(`recall@10 against float32, exact scans (${onIndex.vectors} vectors; ${onIndex.paper_queries} /paper, ${onIndex.related_queries} /related queries; rescoring the best ${rescoreTop}):\n`);
      for (const [name, r] of Object.entries(onIndex.recall_at_10)) process.stdout.write(`  ${name.padEnd(14)} /paper ${r.paper.toFixed(4)}  /related ${r.related.toFixed(4)}\n`);
    }
    if (onSciFact) {
      process.stdout.write("SciFact dense (train queries, exact scans):\n");
      for (const [name, r] of Object.entries(onSciFact)) process.stdout.write(`  ${name.padEnd(14)} nDCG@10 ${r.ndcg_at_10.toFixed(4)}  Recall@100 ${r.recall_at_100.toFixed(4)}\n`);
    }
    process.stdout.write(
      `${JSON.stringify({ bench: "compact-vectors", model: embedder.modelId, bytes_per_vector: bytes, rescore: rescoreTop, index: onIndex, scifact: onSciFact, cpu: os.cpus()[0]?.model, cpus: os.availableParallelism(), date: new Date().toISOString() })}\n`,
    );
  } finally {
    await embedder.dispose();
  }
}

runBench("bench-compact-vectors", USAGE, main);
