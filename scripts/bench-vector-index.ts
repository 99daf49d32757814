/**
 * Vector index benchmark: the measurements behind `EXACT_SEARCH_BELOW` and `DEFAULT_EF_SEARCH` in
 * src/search/vector-index.ts.
 *
 *   node --import tsx scripts/bench-vector-index.ts [--sizes 1000,5000,20000,50000,100000] [--dim 512]
 *        [--queries 200] [--ef 10,20,40,64,100,150,200,300] [--M 16] [--efc 200]
 *
 * For each size it builds random unit vectors (Gaussian, seeded), then reports:
 *  - HNSW build time (M, efConstruction) and inserts/s, RSS growth;
 *  - exact search p50/p99: hnswlib's native BruteforceSearch and a plain JS scan over a Float32Array
 *    (what VectorIndex uses below the threshold);
 *  - for each efSearch: HNSW search p50/p99 and recall@10 against exact, for two query sets:
 *    "random" (fresh random unit vectors: the worst case, every point is nearly equidistant) and
 *    "near" (a stored vector plus noise of the same norm, cosine ≈ 0.7 to it: closer to real queries).
 * Query timings include converting the Float32Array query to a plain array (hnswlib-node needs one).
 * Ends with one JSON line per size for tooling.
 *
 * Random vectors are the worst case for HNSW (no low-dimensional structure: every point is nearly
 * equidistant). Real embeddings are far easier; to measure them:
 *
 *   node --import tsx scripts/bench-vector-index.ts --embed-arxiv 50000 --out /tmp/arxiv
 *        (embeds the first N abstracts of ../shared/data/arxiv/papers-140k.jsonl.gz as passages and
 *         the titles of the next --queries papers as queries, with the configured model; writes
 *         /tmp/arxiv.passages.f32 and /tmp/arxiv.queries.f32, raw little-endian float32 rows)
 *   node --import tsx scripts/bench-vector-index.ts --vectors /tmp/arxiv --sizes 5000,20000,50000
 *        (query set "titles": held-out titles; "near" as above)
 */
import { createReadStream, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { hnswlib } from "../src/search/vectors/hnswlib.js";
import { seededRandom as rng } from "../src/random.js";

const { HierarchicalNSW, BruteforceSearch } = hnswlib.addon;

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000,5000,20000,50000,100000" },
    dim: { type: "string", default: "512" },
    queries: { type: "string", default: "200" },
    ef: { type: "string", default: "10,20,40,64,100,150,200,300" },
    M: { type: "string", default: "16" },
    efc: { type: "string", default: "200" },
    vectors: { type: "string" },
    "embed-arxiv": { type: "string" },
    out: { type: "string" },
  },
});
const nums = (s: string): number[] => s.split(",").map((x) => Number.parseInt(x, 10));
const sizes = nums(values.sizes);
const dim = Number(values.dim);
const nQueries = Number(values.queries);
const efs = nums(values.ef);
const M = Number(values.M);
const efc = Number(values.efc);
const K = 10;

if (values["embed-arxiv"] !== undefined) {
  await embedArxiv(Number(values["embed-arxiv"]), nQueries, values.out ?? "/tmp/arxiv");
  process.exit(0);
}

/** Vectors from `--vectors PREFIX` (PREFIX.passages.f32 + PREFIX.queries.f32), if given. */
const fileData = values.vectors === undefined ? undefined : readVectorFiles(values.vectors);

function readVectorFiles(prefix: string): { passages: Float32Array; queries: Float32Array } {
  const load = (f: string): Float32Array => {
    const b = readFileSync(f);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  return { passages: load(`${prefix}.passages.f32`), queries: load(`${prefix}.queries.f32`) };
}

async function embedArxiv(n: number, q: number, out: string): Promise<void> {
  const { loadConfig, embedderSettings } = await import("../src/config.js");
  const { loadEmbedder } = await import("../src/embed/load.js");
  const { projectRoot } = await import("../src/paths.js");
  const file = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  const passages: string[] = [];
  const titles: string[] = [];
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const rec = JSON.parse(line) as { title: string; abstract: string };
    if (passages.length < n) passages.push(`${rec.title.trim()}. ${rec.abstract.trim()}`);
    else if (titles.length < q) titles.push(rec.title.trim());
    else break;
  }
  lines.close();
  const config = loadConfig(process.env);
  const embedder = await loadEmbedder({
    ...embedderSettings(config),
    allowRemote: false,
  });
  const write = async (texts: string[], kind: "query" | "passage", f: string): Promise<void> => {
    const all = new Float32Array(texts.length * embedder.dim);
    const step = embedder.batchSize * 8;
    for (let i = 0; i < texts.length; i += step) {
      const vs = await embedder.embed(texts.slice(i, i + step), kind);
      vs.forEach((v, j) => all.set(v, (i + j) * embedder.dim));
      process.stderr.write(`\r${kind}: ${Math.min(i + step, texts.length)}/${texts.length}`);
    }
    process.stderr.write("\n");
    writeFileSync(f, Buffer.from(all.buffer));
  };
  try {
    await write(titles, "query", `${out}.queries.f32`);
    await write(passages, "passage", `${out}.passages.f32`);
  } finally {
    await embedder.dispose();
  }
  console.log(`model ${embedder.modelId} dim ${embedder.dim}: wrote ${out}.passages.f32 (${passages.length}) and ${out}.queries.f32 (${titles.length})`);
}

function gaussianUnit(rand: () => number, d: number): Float32Array {
  const v = new Float32Array(d);
  let norm = 0;
  for (let i = 0; i < d; i++) {
    const g = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    v[i] = g;
    norm += g * g;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < d; i++) v[i]! /= norm;
  return v;
}
function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

function jsExact(matrix: Float32Array, n: number, q: Float32Array, k: number): number[] {
  // Keep the k best in a small sorted array: cheap for k = 10.
  const bestS: number[] = [];
  const bestL: number[] = [];
  for (let r = 0; r < n; r++) {
    const off = r * dim;
    let s = 0;
    for (let i = 0; i < dim; i++) s += matrix[off + i]! * q[i]!;
    if (bestS.length < k || s > bestS[bestS.length - 1]!) {
      let j = bestS.length < k ? bestS.length : k - 1;
      if (bestS.length < k) {
        bestS.push(s);
        bestL.push(r);
      }
      while (j > 0 && bestS[j - 1]! < s) {
        bestS[j] = bestS[j - 1]!;
        bestL[j] = bestL[j - 1]!;
        j--;
      }
      bestS[j] = s;
      bestL[j] = r;
    }
  }
  return bestL;
}

function pct(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
const ms = (x: number): string => x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1);
function timed<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}
function recall(truth: number[][], got: number[][]): number {
  let hit = 0;
  let total = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    total += t.size;
    for (const x of got[i]!) if (t.has(x)) hit++;
  }
  return hit / total;
}

console.log(
  `vector index bench: ${fileData ? `vectors from ${values.vectors}` : "random unit vectors"} dim=${dim} M=${M} efConstruction=${efc} queries=${nQueries} k=${K} node=${process.version}`,
);
for (const requested of sizes) {
  const rand = rng(42 + requested);
  const n = fileData ? Math.min(requested, fileData.passages.length / dim) : requested;
  const matrix = fileData ? fileData.passages.subarray(0, n * dim) : new Float32Array(n * dim);
  if (!fileData) for (let r = 0; r < n; r++) matrix.set(gaussianUnit(rand, dim), r * dim);
  const row = (r: number): Float32Array => matrix.subarray(r * dim, (r + 1) * dim);

  const rss0 = process.memoryUsage().rss;
  const hnsw = new HierarchicalNSW("cosine", dim);
  hnsw.initIndex(n, M, efc, 100);
  const [, buildMs] = timed(() => {
    for (let r = 0; r < n; r++) hnsw.addPoint(Array.from(row(r)), r);
  });
  const rssHnsw = process.memoryUsage().rss - rss0;

  const brute = new BruteforceSearch("cosine", dim);
  brute.initIndex(n);
  const [, bruteBuildMs] = timed(() => {
    for (let r = 0; r < n; r++) brute.addPoint(Array.from(row(r)), r);
  });

  const querySets: Record<string, Float32Array[]> = fileData ? { titles: [], near: [] } : { random: [], near: [] };
  for (let i = 0; i < nQueries; i++) {
    if (fileData) {
      if ((i + 1) * dim <= fileData.queries.length) querySets.titles!.push(fileData.queries.slice(i * dim, (i + 1) * dim));
    } else querySets.random!.push(gaussianUnit(rand, dim));
    const base = row(Math.floor(rand() * n));
    const noise = gaussianUnit(rand, dim);
    querySets.near!.push(normalize(base.map((x, j) => x + noise[j]!)));
  }

  const nativeT: number[] = [];
  const jsT: number[] = [];
  const truth: Record<string, number[][]> = {};
  for (const [name, qs] of Object.entries(querySets)) {
    truth[name] = qs.map((q) => {
      const [res, t] = timed(() => brute.searchKnn(Array.from(q), K).neighbors);
      nativeT.push(t);
      return res;
    });
    // The JS scan is slow at large n: time it on a subset.
    for (const q of qs.slice(0, Math.max(10, Math.floor(qs.length / (n > 20000 ? 10 : 1))))) {
      const [, t] = timed(() => jsExact(matrix, n, q, K));
      jsT.push(t);
    }
  }
  console.log(
    `\nn=${n}: HNSW build ${(buildMs / 1000).toFixed(1)} s (${Math.round(n / (buildMs / 1000))}/s), RSS +${Math.round(rssHnsw / 2 ** 20)} MiB; ` +
      `BruteforceSearch build ${(bruteBuildMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  exact: native BruteforceSearch p50 ${ms(pct(nativeT, 50))} ms p99 ${ms(pct(nativeT, 99))} ms | ` +
      `JS Float32Array scan p50 ${ms(pct(jsT, 50))} ms p99 ${ms(pct(jsT, 99))} ms`,
  );
  const rows: Record<string, unknown>[] = [];
  for (const ef of efs) {
    hnsw.setEf(ef);
    const line: string[] = [];
    const entry: Record<string, unknown> = { ef };
    for (const [name, qs] of Object.entries(querySets)) {
      const times: number[] = [];
      const got = qs.map((q) => {
        const [res, t] = timed(() => hnsw.searchKnn(Array.from(q), K).neighbors);
        times.push(t);
        return res;
      });
      const r = recall(truth[name]!, got);
      entry[name] = { recall: r, p50: pct(times, 50), p99: pct(times, 99) };
      line.push(`${name}: recall@10 ${r.toFixed(3)} p50 ${ms(pct(times, 50))} ms p99 ${ms(pct(times, 99))} ms`);
    }
    rows.push(entry);
    console.log(`  ef=${String(ef).padStart(3)}  ${line.join(" | ")}`);
  }
  console.log(
    JSON.stringify({
      n,
      dim,
      M,
      efConstruction: efc,
      buildMs,
      rssHnswMiB: rssHnsw / 2 ** 20,
      exact: { nativeP50: pct(nativeT, 50), nativeP99: pct(nativeT, 99), jsP50: pct(jsT, 50), jsP99: pct(jsT, 99) },
      hnsw: rows,
    }),
  );
}
