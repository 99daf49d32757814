/**
 * Scale benchmark: an index of N papers grown from the 140k real ones, measured as bench:search
 * measures one (latency, recall, load, disk) plus the RSS of a bot with one search thread and the
 * build split into what was measured and what real embedding would add.
 *
 *   npm run bench:scale -- --papers 1000000 --source DIR --index DIR [--data PATH] [--noise 0.02]
 *                          [--queries 1000] [--no-bot] [--checkpoint-every 100000]
 *
 *   --source  a bench:search index of the same data (`npm run bench:search -- --limit 140000 --index DIR`):
 *             its vectors are the real papers' vectors, so nothing is embedded here
 *   --index   where the scaled index is built; an index built earlier by this script for fewer papers
 *             is grown (papers are always added in the same order), never deleted
 *   --papers  papers in the scaled index: the first 140,000 of --data as they are, then copies of them
 *             ("scale<k>:<id>", the title marked " [k]", no DOI) whose vectors are the real paper's
 *             with Gaussian noise of --noise per dimension (0.02: cosine about 0.9 to the original,
 *             about as far as a paper's nearest real neighbours), so the HNSW graph has realistic clusters
 *   --real    real papers at the start (default 140,000; fewer for a quick try)
 *   --no-bot  skip the bot RSS figures (a console bot started on the index, one /paper, VmRSS)
 *
 * Not measured here, projected: embedding the papers for real, from the source build's measured
 * papers/s (bench-build.json); passage splitting is approximated (characters / 4), so its time is
 * not a real figure either. The queries are bench:search's (held-out real papers, /related on random
 * indexed ones), run in a fresh process. The last line of output is one JSON object.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { EmbedResult, Embedder } from "../src/embed/types.js";
import { readPaperFile } from "../src/papers/sources/jsonl.js";
import type { Paper } from "../src/papers/types.js";
import { projectRoot } from "../src/paths.js";
import { createProgress, formatDuration } from "../src/progress.js";
import { seededRandom } from "../src/random.js";
import { PaperIndex } from "../src/search/paper-index.js";
import { BUILD_FILE, type BuildFigures } from "./bench-build-file.js";
import { BenchError, indexBytes, loadBenchEmbedder, positiveInt, round, runBench } from "./bench-cli.js";

const DEFAULT_DATA = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
const REAL_DEFAULT = 140_000;
const USAGE = `usage: npm run bench:scale -- --papers N --source DIR --index DIR [--data PATH] [--noise 0.02] [--queries 1000] [--real 140000] [--no-bot] [--checkpoint-every 100000]`;


interface Args {
  papers: number;
  source: string;
  index: string;
  data: string;
  noise: number;
  queries: number;
  bot: boolean;
  checkpointEvery: number;
  /** Real papers at the start of the data (the rest of the index copies them). */
  real: number;
  buildOnly: boolean;
}

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      papers: { type: "string" },
      source: { type: "string" },
      index: { type: "string" },
      data: { type: "string" },
      noise: { type: "string" },
      queries: { type: "string" },
      "no-bot": { type: "boolean", default: false },
      "checkpoint-every": { type: "string" },
      real: { type: "string" },
      "build-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (raw: string | undefined, flag: string, fallback?: number): number => {
    if (raw === undefined && fallback === undefined) throw new BenchError(`${flag} is required\n${USAGE}`);
    return positiveInt(raw, flag, fallback)!;
  };
  if (!values.source) throw new BenchError(`--source DIR is required: a bench:search index of the real papers\n${USAGE}`);
  if (!values.index) throw new BenchError(`--index DIR is required: where the scaled index is built\n${USAGE}`);
  const noise = values.noise === undefined ? 0.02 : Number(values.noise);
  if (!Number.isFinite(noise) || noise < 0 || noise > 1) throw new BenchError(`--noise must be between 0 and 1, got ${JSON.stringify(values.noise)}`);
  const papers = int(values.papers, "--papers");
  if (papers < 1000) throw new BenchError("--papers must be at least 1000");
  return {
    papers,
    source: path.resolve(values.source),
    index: path.resolve(values.index),
    data: values.data === undefined ? DEFAULT_DATA : path.resolve(values.data),
    noise,
    queries: int(values.queries, "--queries", 1000),
    bot: values["no-bot"] !== true,
    checkpointEvery: int(values["checkpoint-every"], "--checkpoint-every", 100_000),
    real: int(values.real, "--real", REAL_DEFAULT),
    buildOnly: values["build-only"] === true,
  };
}

const COPY_MARK = / \[(\d+)\]$/;

/**
 * Answers embedding requests from the source index's paper vectors: a passage is "<title>. text";
 * its paper is found by title, its copy number by the title's " [k]" mark, and copy k's vector is
 * the original's plus noise seeded by (title, k). Every passage of a paper gets the same vector, so
 * the paper's mean (what the index keeps) is exactly that vector.
 */
class ReplayEmbedder implements Embedder {
  readonly device = "cpu" as const;
  readonly batchSize = 64;
  private lastTitle = "";
  private lastVector: Float32Array = new Float32Array(0);

  constructor(
    private readonly base: Pick<Embedder, "modelId" | "dim" | "checksum" | "maxTokens">,
    private readonly byTitle: Map<string, Float32Array>,
    private readonly noise: number,
  ) {}

  get modelId() {
    return this.base.modelId;
  }
  get dim() {
    return this.base.dim;
  }
  get checksum() {
    return this.base.checksum;
  }
  get maxTokens() {
    return this.base.maxTokens;
  }

  /** Approximate (characters / 4): only the number of passages depends on it, not the stored vector. */
  countTokens(text: string): number {
    return Math.ceil(text.length / 4);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return (await this.embedDetailed(texts)).map((r) => r.vector);
  }

  async embedDetailed(texts: string[]): Promise<EmbedResult[]> {
    return texts.map((t) => ({ vector: this.vectorOf(t), tokens: this.countTokens(t), truncated: false }));
  }

  private vectorOf(text: string): Float32Array {
    for (let at = text.indexOf(". "); at >= 0; at = text.indexOf(". ", at + 1)) {
      const title = text.slice(0, at);
      if (title === this.lastTitle) return this.lastVector;
      const mark = COPY_MARK.exec(title);
      const original = mark ? title.slice(0, mark.index) : title;
      const v = this.byTitle.get(original);
      if (!v) continue;
      this.lastTitle = title;
      this.lastVector = mark ? this.perturb(v, original, Number(mark[1])) : v;
      return this.lastVector;
    }
    // A passage that is only the title (no abstract window).
    const v = this.byTitle.get(text.replace(COPY_MARK, ""));
    if (!v) throw new BenchError(`no source vector for a passage starting ${JSON.stringify(text.slice(0, 60))}`);
    return v;
  }

  private perturb(v: Float32Array, title: string, copy: number): Float32Array {
    let h = copy * 2654435761;
    for (let i = 0; i < title.length; i++) h = Math.imul(h ^ title.charCodeAt(i), 16777619) >>> 0;
    const rnd = seededRandom(h >>> 0);
    const out = new Float32Array(v.length);
    for (let d = 0; d < v.length; d += 2) {
      // Box-Muller: two normal draws per two uniforms.
      const r = Math.sqrt(-2 * Math.log(1 - rnd())) * this.noise;
      const a = 2 * Math.PI * rnd();
      out[d] = v[d]! + r * Math.cos(a);
      if (d + 1 < v.length) out[d + 1] = v[d + 1]! + r * Math.sin(a);
    }
    return out; // the index normalises
  }

  async dispose(): Promise<void> {}
}

/** The source index's paper vectors by title (the first paper of a title wins), and its model's identity. */
async function sourceVectors(dir: string): Promise<{ byTitle: Map<string, Float32Array>; embedder: Pick<Embedder, "modelId" | "dim" | "checksum" | "maxTokens">; papersPerS: number }> {
  const build = JSON.parse(readFileSync(path.join(dir, BUILD_FILE), "utf8")) as { embedded: number; build_embed_s: number; build_split_s: number };
  const real = await loadBenchEmbedder();
  const identity = { modelId: real.modelId, dim: real.dim, checksum: real.checksum, maxTokens: real.maxTokens };
  const byTitle = new Map<string, Float32Array>();
  const index = await PaperIndex.open({ dir, embedder: real, readonly: true });
  try {
    const count = index.store.count();
    let seen = 0;
    for (let from = 1; seen < count && from < 100 * count + 1_000_000; from += 1000) {
      const rowids = Array.from({ length: 1000 }, (_, i) => from + i);
      const labels = index.store.labelsOfPapers(rowids);
      for (const paper of index.store.getMany(rowids)) {
        seen++;
        const label = labels.get(paper.rowid)?.[0];
        const v = label === undefined ? undefined : index.vectorIndex.vector(label);
        if (v && !byTitle.has(paper.title.trim())) byTitle.set(paper.title.trim(), v);
      }
    }
  } finally {
    index.close();
    await real.dispose();
  }
  return { byTitle, embedder: identity, papersPerS: build.embedded / (build.build_embed_s + build.build_split_s) };
}

/** The first `real` papers of the data, then copies k = 1, 2, ... of them, up to `total`; skipping `skip`. */
async function* scaledPapers(data: string, real: number, total: number, skip: number): AsyncGenerator<Paper> {
  let n = 0;
  for (let copy = 0; n < total; copy++) {
    let read = 0;
    for await (const entry of readPaperFile(data)) {
      if (!entry.paper) continue;
      if (read++ >= real || n >= total) break;
      if (n++ < skip) continue;
      if (copy === 0) yield entry.paper;
      else {
        const { doi: _doi, ...rest } = entry.paper;
        yield { ...rest, id: `scale${copy}:${entry.paper.id}`, title: `${entry.paper.title.trim()} [${copy}]` };
      }
    }
    if (read < real && copy === 0 && n < total) throw new BenchError(`${data} has ${read} papers; the scale benchmark needs ${real + 500} (500 held out)`);
  }
}

interface ScaleBuild extends BuildFigures {
  split: { limit: number };
  /** Absent from an index bench:search built (every paper embedded for real). */
  scale?: { source: string; noise: number; runs: { from: number; to: number; store_s: number; index_s: number; total_s: number }[]; projected_embed_papers_per_s: number };
}

async function buildIndex(args: Args): Promise<void> {
  const { byTitle, embedder: identity, papersPerS } = await sourceVectors(args.source);
  const embedder = new ReplayEmbedder(identity, byTitle, args.noise);
  const index = await PaperIndex.open({ dir: args.index, embedder, checkpointEvery: args.checkpointEvery });
  const previous = existsSync(path.join(args.index, BUILD_FILE)) ? (JSON.parse(readFileSync(path.join(args.index, BUILD_FILE), "utf8")) as ScaleBuild) : undefined;
  try {
    const have = index.stats().papers;
    if (previous && !previous.scale && have > 0) throw new BenchError(`${args.index} was built by bench:search, not grown by bench:scale: give another --index`);
    if (have > args.papers) throw new BenchError(`${args.index} already holds ${have} papers, more than --papers ${args.papers}`);
    const started = performance.now();
    let storeEnded = started;
    const bar = createProgress({ label: "papers", total: args.papers - have, unit: "papers" });
    const report = await index.add(scaledPapers(args.data, args.real, args.papers, have), (p) => {
      if (p.phase === "store") storeEnded = performance.now();
      bar.update(p.phase === "store" ? Math.floor(p.done / 2) : Math.floor((args.papers - have) / 2 + p.done / 2));
    });
    bar.finish();
    const ended = performance.now();
    const stats = index.stats();
    const run = { from: have, to: stats.papers, store_s: (storeEnded - started) / 1000, index_s: (ended - storeEnded) / 1000, total_s: (ended - started) / 1000 };
    const runs = [...(previous?.scale?.runs ?? []), run];
    const sum = (k: "store_s" | "index_s" | "total_s") => runs.reduce((a, r) => a + r[k], 0);
    const figures: ScaleBuild = {
      data: args.data,
      split: { limit: args.real },
      papers: stats.papers,
      added: (previous?.added ?? 0) + report.added,
      embedded: (previous?.embedded ?? 0) + report.embedded,
      passages: (previous?.passages ?? 0) + report.passages,
      build_store_s: round(sum("store_s"), 1),
      build_embed_s: 0,
      build_split_s: 0,
      build_index_s: round(sum("index_s"), 1),
      build_total_s: round(sum("total_s"), 1),
      papers_per_s: round(stats.papers / sum("total_s"), 1),
      built_at: new Date().toISOString(),
      scale: { source: args.source, noise: args.noise, runs, projected_embed_papers_per_s: round(papersPerS, 1) },
    };
    writeFileSync(path.join(args.index, BUILD_FILE), `${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    index.close();
  }
}

function runNode(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "inherit"], cwd: projectRoot, env });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => (code === 0 ? resolve(out) : reject(new BenchError(`${argv.slice(2, 3).join(" ")} failed (${signal ?? `exit ${code}`})`))));
  });
}

/** VmRSS and VmHWM (MB) of a console bot on the index after start and one /paper, and the seconds to that answer. */
async function botRss(dir: string, searchThreads: number): Promise<{ rss_mb: number; hwm_mb: number; ready_s: number }> {
  const env = { ...process.env, PAPERHOUND_INDEX: dir, SEARCH_THREADS: String(searchThreads), LOG_LEVEL: "warn" };
  const child = spawn(process.execPath, ["bin/paperhound.js", "bot", "--console"], { cwd: projectRoot, env, stdio: ["pipe", "pipe", "pipe"] });
  const started = performance.now();
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const waitFor = async (test: () => boolean, what: string, seconds: number) => {
    for (let i = 0; i < seconds * 10; i++) {
      if (test()) return;
      if (child.exitCode !== null) throw new BenchError(`the console bot exited (${child.exitCode}) before ${what}:\n${out.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new BenchError(`the console bot did not show ${what} within ${seconds} s:\n${out.slice(-2000)}`);
  };
  try {
    // The console reads its input once the index is open: the answer's time is the time to serve.
    child.stdin.write("/paper graph neural networks for molecules\n");
    await waitFor(() => out.includes("Papers for"), "an answer to /paper", 600);
    const readyS = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 3000));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const field = (name: string) => Math.round(Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
    return { rss_mb: field("VmRSS"), hwm_mb: field("VmHWM"), ready_s: round(readyS, 1) };
  } finally {
    child.stdin.end();
    child.kill("SIGTERM");
  }
}



async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  if (!existsSync(args.data)) throw new BenchError(`dataset not found: ${args.data} (pass --data PATH)`);
  if (!existsSync(path.join(args.source, BUILD_FILE))) throw new BenchError(`${args.source} is not a bench:search index (no ${BUILD_FILE}); build one with: npm run bench:search -- --limit ${REAL_DEFAULT} --index ${args.source}`);
  if (args.buildOnly) return buildIndex(args);

  const script = fileURLToPath(import.meta.url);
  const childArgs = ["--papers", String(args.papers), "--real", String(args.real), "--source", args.source, "--index", args.index, "--data", args.data, "--noise", String(args.noise), "--checkpoint-every", String(args.checkpointEvery)];
  const existing = existsSync(path.join(args.index, BUILD_FILE)) ? (JSON.parse(readFileSync(path.join(args.index, BUILD_FILE), "utf8")) as ScaleBuild) : undefined;
  if (existing?.papers !== args.papers) {
    process.stderr.write(`bench-scale: building ${args.papers} papers in ${args.index}${existing ? ` (from ${existing.papers})` : ""}\n`);
    await runNode(["--max-old-space-size=16384", "--import", "tsx", script, "--build-only", ...childArgs]);
  }
  const build = JSON.parse(readFileSync(path.join(args.index, BUILD_FILE), "utf8")) as ScaleBuild;

  // Queries: bench:search's query phase in a fresh process, on this index (it reuses the build).
  const searchOut = await runNode(["--import", "tsx", "scripts/bench-search.ts", "--index", args.index, "--limit", String(args.real), "--data", args.data, "--queries", String(args.queries)]);
  const search = JSON.parse(searchOut.trim().split("\n").pop()!) as Record<string, number | string | boolean>;
  const bot = args.bot ? { one_thread: await botRss(args.index, 1), no_thread: await botRss(args.index, 0) } : undefined;

  const papers = build.papers;
  // An index bench:search built embedded its papers for real: its build time already holds embedding.
  const embedRate = build.scale?.projected_embed_papers_per_s ?? build.embedded / (build.build_embed_s + build.build_split_s);
  const embedS = build.scale ? papers / embedRate : 0;
  const result = {
    papers,
    synthetic: Math.max(0, papers - args.real),
    noise: args.noise,
    disk_mb: round(indexBytes(args.index) / 2 ** 20, 0),
    build_store_s: build.build_store_s,
    build_index_s: build.build_index_s,
    build_measured_s: build.build_total_s,
    build_embed_projected_s: round(embedS, 0),
    build_projected_s: round(build.build_total_s + embedS, 0),
    embed_papers_per_s: round(embedRate, 1),
    load_s: search.load_s,
    rss_after_load_mb: search.rss_mb,
    bot_rss_one_thread_mb: bot?.one_thread.rss_mb,
    bot_hwm_one_thread_mb: bot?.one_thread.hwm_mb,
    bot_rss_no_thread_mb: bot?.no_thread.rss_mb,
    bot_ready_s: bot?.one_thread.ready_s,
    search_p50_ms: search.search_p50_ms,
    search_p99_ms: search.search_p99_ms,
    related_p50_ms: search.related_p50_ms,
    related_p99_ms: search.related_p99_ms,
    recall_at_10: search.recall_at_10,
    ef_search: search.ef_search,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cpus: os.availableParallelism(),
    date: new Date().toISOString(),
  };
  const rows: [string, string][] = [
    ["index", `${papers} papers (${result.synthetic} synthetic copies, noise ${args.noise}), ${result.disk_mb} MB on disk`],
    [
      "build",
      build.scale
        ? `measured ${formatDuration(result.build_measured_s)} (store ${result.build_store_s} s, vectors ${result.build_index_s} s); embedding projected ${formatDuration(result.build_embed_projected_s)} at ${result.embed_papers_per_s} papers/s: ${formatDuration(result.build_projected_s)} in all`
        : `${formatDuration(result.build_measured_s)}, every paper embedded (built by bench:search, ${result.embed_papers_per_s} papers/s)`,
    ],
    ["load", `${result.load_s} s, RSS ${result.rss_after_load_mb} MB (bench:search process)`],
    ["bot", bot ? `RSS ${bot.one_thread.rss_mb} MB with one search thread (peak ${bot.one_thread.hwm_mb}), ${bot.no_thread.rss_mb} MB with none; ready in ${bot.one_thread.ready_s} s` : "not measured (--no-bot)"],
    ["search", `p50 ${result.search_p50_ms} ms, p99 ${result.search_p99_ms} ms; related p50 ${result.related_p50_ms} ms, p99 ${result.related_p99_ms} ms`],
    ["recall@10", `${result.recall_at_10} (ef ${result.ef_search})`],
  ];
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(10)} ${v}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

runBench("bench-scale", USAGE, main);
