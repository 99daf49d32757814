/**
 * Search benchmark: builds a PaperIndex of arXiv papers, reopens it, and measures what a user
 * waits for: /search and /related latency end to end (query embedding included), the load time and
 * memory of an opened index, HNSW recall@10 against exact search, and the index size on disk.
 *
 *   npm run bench:search -- [--data PATH] [--limit N] [--queries 1000] [--index DIR] [--keep] [--seed S] [--ef N] [--overlap on|off|alternate]
 *
 *   --data     JSON/JSONL(.gz) paper file; default ../shared/data/arxiv/papers-140k.jsonl.gz (from the project root)
 *   --limit    index the first N papers; the next 500 are held out as query sources
 *              (without --limit, every k-th paper is held out, 500 in all, and the rest indexed)
 *   --queries  search queries: half titles of held-out papers, half 3-6 word spans of their
 *              abstracts (papers that are NOT indexed); plus half as many /related queries on
 *              indexed papers. Default 1000 (so 500 related)
 *   --index    index directory; reused when it already holds exactly these papers, built
 *              (incrementally) otherwise; never deleted. Without it a temp directory is used and
 *              deleted at the end unless --keep
 *   --keep     keep the temp index directory (its path is printed; pass it as --index next time)
 *   --seed     seed for picking query spans and related papers (default 1)
 *   --ef       HNSW search breadth for this run (default DEFAULT_EF_SEARCH)
 *   --overlap  QueryOptions.overlap: the graph search on another thread beside BM25 ("on", the
 *              default, as a bot's idle search thread does), or not ("off"); "alternate" runs every
 *              other query without it and reports those apart ("no overlap" rows), so that both ways
 *              are measured in the same minutes of this noisy VM
 *
 * The build runs in a child process (this script with --build-only), so the query phase starts from
 * a fresh process: "RSS after load" is the model plus the opened index, not the build's garbage.
 * Build figures: embedding (time inside the embedder), passage splitting (token counting to pack
 * sentences), vector indexing (the rest of the embedding phase: HNSW inserts, checkpoint saves, store
 * commits), and the store phase (reading and upserting papers). They are saved next to the index in
 * bench-build.json and reported again when the index is reused.
 * The last line of output is one JSON object with every figure.
 */
import { hnswlib } from "../src/search/vectors/hnswlib.js";
import { spawn } from "node:child_process";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import type { Embedder } from "../src/embed/types.js";
import { readPaperFile } from "../src/papers/sources/jsonl.js";
import type { Paper } from "../src/papers/types.js";
import { projectRoot } from "../src/paths.js";
import { createProgress, formatDuration } from "../src/progress.js";
import { PaperIndex, STORE_FILE } from "../src/search/paper-index.js";
import { seededRandom } from "../src/random.js";
import { BUILD_FILE, type BuildFigures, type Split } from "./bench-build-file.js";
import { BenchError, indexBytes, loadBenchEmbedder, positiveInt, round, runBench } from "./bench-cli.js";
import { percentile } from "./percentile.js";

const DEFAULT_DATA = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
const HELD_OUT = 500;
const WARMUP = 20;
const USAGE = `usage: npm run bench:search -- [--data PATH] [--limit N] [--queries 1000] [--index DIR] [--keep] [--seed S] [--ef N] [--overlap on|off|alternate]
  --data defaults to ${DEFAULT_DATA}`;


interface Args {
  data: string;
  limit?: number;
  queries: number;
  index?: string;
  keep: boolean;
  seed: number;
  /** HNSW efSearch for this run (default: the index default). */
  ef?: number;
  overlap: "on" | "off" | "alternate";
  buildOnly: boolean;
}


function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: "string" },
      limit: { type: "string" },
      queries: { type: "string" },
      index: { type: "string" },
      keep: { type: "boolean", default: false },
      seed: { type: "string" },
      ef: { type: "string" },
      overlap: { type: "string", default: "on" },
      "build-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const queries = positiveInt(values.queries, "--queries", 1000)!;
  if (queries < 2) throw new BenchError("--queries must be at least 2 (half titles, half phrases)");
  const limit = positiveInt(values.limit, "--limit");
  const overlap = values.overlap;
  if (overlap !== "on" && overlap !== "off" && overlap !== "alternate") throw new BenchError(`--overlap must be on, off or alternate, got "${overlap}"`);
  return {
    data: values.data === undefined ? DEFAULT_DATA : path.resolve(values.data),
    ...(limit !== undefined ? { limit } : {}),
    queries,
    ...(values.index !== undefined ? { index: path.resolve(values.index) } : {}),
    keep: values.keep === true,
    seed: positiveInt(values.seed, "--seed", 1)!,
    ...(values.ef !== undefined ? { ef: positiveInt(values.ef, "--ef")! } : {}),
    overlap,
    buildOnly: values["build-only"] === true,
  };
}

// ---------------------------------------------------------------------------------------------
// Which papers are indexed and which are held out (the build child and the query phase agree)


async function countLines(file: string): Promise<number> {
  const raw = createReadStream(file);
  const gz = (await firstBytes(file)).equals(Buffer.from([0x1f, 0x8b]));
  const rl = createInterface({ input: gz ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) if (line.trim() !== "") n++;
  return n;
}

async function firstBytes(file: string): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.alloc(2);
    await fh.read(buf, 0, 2, 0);
    return buf;
  } finally {
    await fh.close();
  }
}

async function splitFor(args: Args): Promise<Split> {
  if (!existsSync(args.data)) throw new BenchError(`dataset not found: ${args.data} (pass --data PATH to a JSON/JSONL(.gz) paper file)`);
  if (args.limit !== undefined) return { limit: args.limit };
  const lines = await countLines(args.data);
  return { stride: Math.max(2, Math.floor(lines / HELD_OUT)) };
}

/** Streams the papers of the file, tagged indexed or held out; stops once nothing more is needed. */
async function* splitPapers(file: string, split: Split): AsyncGenerator<{ paper: Paper; heldOut: boolean }> {
  let ordinal = 0;
  let heldOut = 0;
  for await (const entry of readPaperFile(file)) {
    if (!entry.paper) continue;
    const i = ordinal++;
    if (split.limit !== undefined) {
      if (i < split.limit) yield { paper: entry.paper, heldOut: false };
      else if (i < split.limit + HELD_OUT) yield { paper: entry.paper, heldOut: true };
      else return;
    } else {
      const out = heldOut < HELD_OUT && i % split.stride! === split.stride! - 1;
      if (out) heldOut++;
      yield { paper: entry.paper, heldOut: out };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Build (child process)


/** The embedder with the time spent inside it counted (same identity: the index accepts it). */
function timedEmbedder(base: Embedder): { embedder: Embedder; embedMs: () => number; countMs: () => number } {
  let embedMs = 0;
  let countMs = 0;
  const embedder: Embedder = {
    modelId: base.modelId,
    dim: base.dim,
    checksum: base.checksum,
    maxTokens: base.maxTokens,
    device: base.device,
    batchSize: base.batchSize,
    async embed(texts, kind) {
      const t = performance.now();
      try {
        return await base.embed(texts, kind);
      } finally {
        embedMs += performance.now() - t;
      }
    },
    async embedDetailed(texts, kind) {
      const t = performance.now();
      try {
        return await base.embedDetailed(texts, kind);
      } finally {
        embedMs += performance.now() - t;
      }
    },
    countTokens(text) {
      const t = performance.now();
      try {
        return base.countTokens(text);
      } finally {
        countMs += performance.now() - t;
      }
    },
    dispose: () => base.dispose(),
  };
  return { embedder, embedMs: () => embedMs, countMs: () => countMs };
}


async function build(args: Args, dir: string): Promise<void> {
  const split = await splitFor(args);
  const base = await loadBenchEmbedder();
  const timed = timedEmbedder(base);
  const index = await PaperIndex.open({ dir, embedder: timed.embedder });
  try {
    const started = performance.now();
    // The store phase ends with its last progress event (the final upsert flush).
    let storeEnded: number | undefined;
    let bar: ReturnType<typeof createProgress> | undefined;
    // The bars' clocks: "storing" stops at the end of the store phase, "embedding" starts there
    // (its first progress event only comes after the first chunk is embedded).
    let storeDone = false;
    const reading = createProgress({ label: "storing", unit: "papers", now: () => (storeDone && storeEnded !== undefined ? storeEnded : performance.now()) });
    async function* indexed(): AsyncGenerator<Paper> {
      for await (const { paper, heldOut } of splitPapers(args.data, split)) if (!heldOut) yield paper;
    }
    const report = await index.add(indexed(), (p) => {
      if (p.phase === "store") {
        storeEnded = performance.now();
        reading.update(p.done);
        return;
      }
      if (!bar) {
        storeDone = true;
        reading.finish();
        let first = true;
        const from = storeEnded ?? started;
        const now = () => (first ? ((first = false), from) : performance.now());
        bar = createProgress({ label: "embedding + indexing", total: p.total, unit: "papers", now });
      }
      bar.update(p.done);
    });
    const ended = performance.now();
    if (bar) bar.finish();
    else reading.finish("nothing to embed");
    const storeMs = (storeEnded ?? started) - started;
    const embedMs = timed.embedMs();
    const splitMs = timed.countMs();
    const stats = index.stats();
    const figures: BuildFigures = {
      data: args.data,
      split,
      papers: stats.papers,
      added: report.added,
      embedded: report.embedded,
      passages: report.passages,
      build_store_s: round(storeMs / 1000, 2),
      build_embed_s: round(embedMs / 1000, 2),
      build_split_s: round(splitMs / 1000, 2),
      build_index_s: round(Math.max(0, ended - started - storeMs - embedMs - splitMs) / 1000, 2),
      build_total_s: round((ended - started) / 1000, 2),
      papers_per_s: round(report.embedded / ((ended - started) / 1000), 1),
      built_at: new Date().toISOString(),
    };
    writeFileSync(path.join(dir, BUILD_FILE), `${JSON.stringify(figures, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
  } finally {
    index.close();
    await base.dispose();
  }
}

function runBuildChild(args: Args, dir: string): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const childArgs = ["--import", "tsx", script, "--build-only", "--data", args.data, "--index", dir, ...(args.limit !== undefined ? ["--limit", String(args.limit)] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, childArgs, { stdio: ["ignore", "ignore", "inherit"], cwd: projectRoot });
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve() : reject(new BenchError(`the build process failed (${signal ?? `exit ${code}`})`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Queries (this process)


/** A span of 3-6 consecutive words of the abstract (words with letters; LaTeX and numbers skipped). */
function phraseOf(abstract: string, rnd: () => number): string | undefined {
  const words = abstract.split(/\s+/).filter((w) => /^[A-Za-z][A-Za-z-]*[,.;:]?$/.test(w));
  if (words.length < 3) return undefined;
  const len = 3 + Math.floor(rnd() * 4);
  const start = Math.floor(rnd() * Math.max(1, words.length - len));
  return words
    .slice(start, start + len)
    .join(" ")
    .replace(/[,.;:]+$/, "");
}

function summary(ms: number[]): { p50: number; p95: number; p99: number; mean: number } {
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / (ms.length || 1) };
}


const mb = (bytes: number) => bytes / (1024 * 1024);


/** True when `dir` holds a finished bench build of this data and split (so the build can be skipped). */
function reusableBuild(dir: string, args: Args, split: Split): BuildFigures | undefined {
  const file = path.join(dir, BUILD_FILE);
  if (!existsSync(file) || !existsSync(path.join(dir, STORE_FILE))) return undefined;
  try {
    const b = JSON.parse(readFileSync(file, "utf8")) as BuildFigures;
    return b.data === args.data && JSON.stringify(b.split) === JSON.stringify(split) ? b : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  if (args.buildOnly) {
    if (!args.index) throw new BenchError("--build-only needs --index");
    await build(args, args.index);
    return;
  }
  const split = await splitFor(args);
  const dir = args.index ?? mkdtempSync(path.join(os.tmpdir(), "paperhound-bench-search-"));
  const ownsDir = args.index === undefined;
  try {
    // 1. Build, unless the directory already holds this build.
    let buildFigures = reusableBuild(dir, args, split);
    const reused = buildFigures !== undefined;
    if (!buildFigures) {
      process.stderr.write(`bench-search: building the index in ${dir}\n`);
      await runBuildChild(args, dir);
      buildFigures = reusableBuild(dir, args, split);
      if (!buildFigures) throw new BenchError(`the build process left no ${BUILD_FILE} in ${dir}`);
    } else {
      process.stderr.write(`bench-search: reusing the index in ${dir} (built ${buildFigures.built_at})\n`);
    }

    // 2. Held-out papers (query sources): read them without keeping the rest.
    const heldOut: Paper[] = [];
    for await (const { paper, heldOut: out } of splitPapers(args.data, split)) if (out) heldOut.push(paper);
    if (heldOut.length === 0) throw new BenchError(`${args.data} has no papers beyond the indexed ones to hold out for queries`);

    // 3. Load: model first, then the index (load time and memory of the index alone).
    const embedder = await loadBenchEmbedder();
    const rssModel = process.memoryUsage().rss;
    const loadStart = performance.now();
    // warm: the in-memory BM25 index is built while the vectors load, as a bot or CLI search does.
    const index = await PaperIndex.open({ dir, embedder, readonly: true, warm: true });
    const loadMs = performance.now() - loadStart;
    if (args.ef !== undefined) index.vectorIndex.efSearch = args.ef;
    const rssLoaded = process.memoryUsage().rss;
    try {
      const stats = index.stats();
      if (stats.pending > 0) throw new BenchError(`the index in ${dir} has ${stats.pending} papers not embedded; finish the build (remove ${BUILD_FILE} to rebuild)`);
      const leaked = heldOut.filter((p) => index.store.get(p.id) !== undefined);
      if (leaked.length > 0) throw new BenchError(`the index in ${dir} holds ${leaked.length} of the held-out papers (e.g. ${leaked[0]!.id}); use another --index`);

      // 4. Queries.
      const rnd = seededRandom(args.seed);
      const nTitles = Math.ceil(args.queries / 2);
      const nPhrases = args.queries - nTitles;
      const titles = Array.from({ length: nTitles }, (_, i) => heldOut[i % heldOut.length]!.title);
      const phrases: string[] = [];
      for (let i = 0; phrases.length < nPhrases && i < nPhrases * 10; i++) {
        const p = phraseOf(heldOut[i % heldOut.length]!.abstract, rnd);
        if (p) phrases.push(p);
      }
      const related: string[] = [];
      const maxRowid = stats.papers * 2 + 10;
      for (let tries = 0; related.length < Math.floor(args.queries / 2) && tries < args.queries * 20; tries++) {
        const p = index.store.getByRowid(1 + Math.floor(rnd() * maxRowid));
        if (p) related.push(p.id);
      }

      for (const q of [...titles.slice(0, WARMUP / 2), ...phrases.slice(0, WARMUP / 2)]) await index.search(q);
      for (const id of related.slice(0, WARMUP / 2)) await index.related(id);

      const progress = createProgress({ label: "queries", total: titles.length + phrases.length + related.length, unit: "queries" });
      const titleMs: number[] = [];
      const phraseMs: number[] = [];
      const relatedMs: number[] = [];
      /** --overlap alternate: the queries run without overlapping (search, related). */
      const apartMs: [number[], number[]] = [[], []];
      let empty = 0;
      const time = async (list: string[], out: number[], apart: number[], run: (q: string, overlap: boolean) => Promise<unknown[]>) => {
        for (const [i, q] of list.entries()) {
          const overlap = args.overlap === "on" || (args.overlap === "alternate" && i % 2 === 0);
          const t = performance.now();
          const hits = await run(q, overlap);
          (overlap || args.overlap === "off" ? out : apart).push(performance.now() - t);
          if (hits.length === 0) empty++;
          progress.tick();
        }
      };
      await time(titles, titleMs, apartMs[0], (q, overlap) => index.search(q, { k: 10, overlap }));
      await time(phrases, phraseMs, apartMs[0], (q, overlap) => index.search(q, { k: 10, overlap }));
      await time(related, relatedMs, apartMs[1], async (id, overlap) => (await index.related(id, { k: 10, overlap })).hits);
      progress.finish();

      // 5. HNSW recall@10 against exact search, on the search queries' vectors.
      const vectors = index.vectorIndex;
      const qvecs = await embedder.embed([...titles, ...phrases], "query");
      let overlap = 0;
      let hnswMs = 0;
      let exactMs = 0;
      for (const q of qvecs) {
        let t = performance.now();
        const approx = vectors.search(q, 10, { exact: false });
        hnswMs += performance.now() - t;
        t = performance.now();
        const exact = vectors.search(q, 10, { exact: true });
        exactMs += performance.now() - t;
        const want = new Set(exact.map((h) => h.label));
        overlap += approx.filter((h) => want.has(h.label)).length / Math.max(1, exact.length);
      }
      vectors.releaseExactCache();
      const recall = overlap / qvecs.length;

      const search = summary([...titleMs, ...phraseMs]);
      const titleS = summary(titleMs);
      const phraseS = summary(phraseMs);
      const rel = summary(relatedMs);
      const onDisk = indexBytes(dir);
      const result = {
        papers: stats.papers,
        passages: stats.passages,
        vectors: stats.vectors,
        model: embedder.modelId,
        queries: titleMs.length + phraseMs.length,
        related_queries: relatedMs.length,
        held_out: heldOut.length,
        search_p50_ms: round(search.p50, 2),
        search_p95_ms: round(search.p95, 2),
        search_p99_ms: round(search.p99, 2),
        search_mean_ms: round(search.mean, 2),
        title_p50_ms: round(titleS.p50, 2),
        title_p99_ms: round(titleS.p99, 2),
        phrase_p50_ms: round(phraseS.p50, 2),
        phrase_p99_ms: round(phraseS.p99, 2),
        related_p50_ms: round(rel.p50, 2),
        related_p95_ms: round(rel.p95, 2),
        related_p99_ms: round(rel.p99, 2),
        overlap: args.overlap,
        ...(args.overlap === "alternate"
          ? (() => {
              const [s, r] = apartMs.map(summary) as [ReturnType<typeof summary>, ReturnType<typeof summary>];
              return {
                no_overlap: { search_p50_ms: round(s.p50, 2), search_p95_ms: round(s.p95, 2), search_p99_ms: round(s.p99, 2), search_mean_ms: round(s.mean, 2), related_p50_ms: round(r.p50, 2), related_p95_ms: round(r.p95, 2), related_p99_ms: round(r.p99, 2), related_mean_ms: round(r.mean, 2) },
              };
            })()
          : {}),
        empty_results: empty,
        recall_at_10: round(recall, 4),
        ef_search: vectors.efSearch,
        hnsw_ms_per_query: round(hnswMs / qvecs.length, 3),
        exact_ms_per_query: round(exactMs / qvecs.length, 3),
        load_s: round(loadMs / 1000, 3),
        rss_mb: round(mb(rssLoaded), 0),
        rss_model_mb: round(mb(rssModel), 0),
        index_rss_mb: round(mb(rssLoaded - rssModel), 0),
        index_mb: round(mb(onDisk), 1),
        build_reused: reused,
        build_store_s: buildFigures.build_store_s,
        build_embed_s: buildFigures.build_embed_s,
        build_split_s: buildFigures.build_split_s,
        build_index_s: buildFigures.build_index_s,
        build_total_s: buildFigures.build_total_s,
        build_papers_per_s: buildFigures.papers_per_s,
        cpu: os.cpus()[0]?.model ?? "unknown",
        cpus: os.availableParallelism(),
        node: process.version,
        vector_search_build: hnswlib.build,
        date: new Date().toISOString(),
      };
      const ms = (x: number) => `${x.toFixed(1)} ms`;
      const rows: [string, string][] = [
        ["index", `${result.papers} papers, ${result.passages} passages (${result.vectors} vectors), model ${result.model}`],
        [
          "build",
          `${formatDuration(result.build_total_s)} total${reused ? " (earlier run, reused)" : ""}: store ${result.build_store_s} s, embedding ${result.build_embed_s} s, passage splitting ${result.build_split_s} s, vector indexing ${result.build_index_s} s (${result.build_papers_per_s} papers/s)`,
        ],
        ["size on disk", `${result.index_mb} MB`],
        ["load", `${result.load_s} s; RSS ${result.rss_mb} MB after load (model ${result.rss_model_mb} MB, index +${result.index_rss_mb} MB)`],
        ["search", `p50 ${ms(search.p50)}  p95 ${ms(search.p95)}  p99 ${ms(search.p99)}  (${result.queries} queries; titles p50 ${ms(titleS.p50)}, phrases p50 ${ms(phraseS.p50)})`],
        ["related", `p50 ${ms(rel.p50)}  p95 ${ms(rel.p95)}  p99 ${ms(rel.p99)}  (${result.related_queries} queries)`],
        ...(result.no_overlap
          ? ([
              ["search, no overlap", `p50 ${ms(result.no_overlap.search_p50_ms)}  p95 ${ms(result.no_overlap.search_p95_ms)}  p99 ${ms(result.no_overlap.search_p99_ms)}  mean ${ms(result.no_overlap.search_mean_ms)} (every other query; those above overlapped, mean ${ms(search.mean)})`],
              ["related, no overlap", `p50 ${ms(result.no_overlap.related_p50_ms)}  p95 ${ms(result.no_overlap.related_p95_ms)}  p99 ${ms(result.no_overlap.related_p99_ms)}  mean ${ms(result.no_overlap.related_mean_ms)} (overlapped: mean ${ms(rel.mean)})`],
            ] as [string, string][])
          : []),
        ["recall@10", `${result.recall_at_10} HNSW vs exact (ef ${result.ef_search}; ${result.hnsw_ms_per_query} vs ${result.exact_ms_per_query} ms per query)`],
        ["machine", `${result.cpu}, ${result.cpus} CPUs, node ${result.node}, hnswlib-node ${result.vector_search_build} build`],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(13)} ${v}\n`);
      if (ownsDir && args.keep) process.stdout.write(`index kept in ${dir} (reuse it with --index ${dir})\n`);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      index.close();
      await embedder.dispose();
    }
  } finally {
    if (ownsDir && !args.keep) rmSync(dir, { recursive: true, force: true });
  }
}

runBench("bench-search", USAGE, main);
