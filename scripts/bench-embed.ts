/**
 * Embedding throughput benchmark: embeds N arXiv abstracts (`title + ". " + abstract`, as passages)
 * and then times single-title queries one at a time (query p50 / p99),
 * and reports abstracts/s, tokens/s and peak memory, ending with one JSON line for tooling.
 *
 *   npm run bench:embed -- [--n 2000] [--data PATH] [--batch 32] [--threads T] [--device auto|cpu|cuda] [--precision auto|float32|int8] [--model M]
 *
 * --batch/--threads/--device/--precision/--model override EMBED_BATCH_SIZE/EMBED_THREADS/EMBED_DEVICE/EMBED_PRECISION/EMBED_MODEL.
 * Only the embedding loop is timed: reading the data, loading the model and one warm-up batch are not.
 */
import { createReadStream, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { isKnownError } from "../src/cli.js";
import { ConfigError, embedderSettings, loadConfig, type Config } from "../src/config.js";
import { loadEmbedder } from "../src/embed/load.js";
import { OnnxEmbedder } from "../src/embed/onnx-embedder.js";
import { createLogger } from "../src/log.js";
import { projectRoot } from "../src/paths.js";
import { createProgress, formatDuration } from "../src/progress.js";
import { percentile } from "./percentile.js";

/** Single queries timed after the throughput run. */
const QUERY_SAMPLES = 300;

const DEFAULT_DATA = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
const USAGE = `usage: npm run bench:embed -- [--n 2000] [--data PATH] [--batch B] [--threads T] [--device auto|cpu|cuda] [--precision auto|float32|int8] [--model M]
  --data defaults to ${DEFAULT_DATA}`;

class BenchError extends Error {
  override readonly name = "BenchError";
}

interface Args {
  n: number;
  data: string;
  overrides: Record<string, string>;
}

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      n: { type: "string" },
      data: { type: "string" },
      batch: { type: "string" },
      threads: { type: "string" },
      device: { type: "string" },
      precision: { type: "string" },
      model: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const n = values.n === undefined ? 2000 : Number(values.n);
  if (!Number.isSafeInteger(n) || n < 1) throw new BenchError(`--n must be a positive integer, got ${JSON.stringify(values.n)}`);
  // The flags are validated by the configuration, which knows what each setting allows.
  const overrides: Record<string, string> = {};
  if (values.batch !== undefined) overrides.EMBED_BATCH_SIZE = values.batch;
  if (values.threads !== undefined) overrides.EMBED_THREADS = values.threads;
  if (values.device !== undefined) overrides.EMBED_DEVICE = values.device;
  if (values.precision !== undefined) overrides.EMBED_PRECISION = values.precision;
  if (values.model !== undefined) overrides.EMBED_MODEL = values.model;
  return { n, data: values.data === undefined ? DEFAULT_DATA : path.resolve(values.data), overrides };
}

/** The first `n` papers of a JSONL file (gzip when it ends in .gz), as `title + ". " + abstract`. */
async function readAbstracts(file: string, n: number): Promise<string[]> {
  try {
    if (!(await stat(file)).isFile()) throw new BenchError(`dataset is not a file: ${file}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new BenchError(`dataset not found: ${file} (pass --data PATH to a JSONL(.gz) file of {"title","abstract"} records)`);
    }
    throw err;
  }
  const raw = createReadStream(file);
  const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  const texts: string[] = [];
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === "") continue;
      let rec: { title?: unknown; abstract?: unknown };
      try {
        rec = JSON.parse(line) as typeof rec;
      } catch {
        throw new BenchError(`${file}:${lineNo}: not valid JSON`);
      }
      if (typeof rec.title !== "string" || typeof rec.abstract !== "string") {
        throw new BenchError(`${file}:${lineNo}: record has no string "title" and "abstract"`);
      }
      texts.push(`${rec.title.trim()}. ${rec.abstract.trim()}`);
      if (texts.length >= n) break;
    }
  } finally {
    lines.close();
    raw.destroy();
  }
  return texts;
}

/** Peak resident set size: polled every 50 ms, and the kernel's high-water mark where there is one. */
function trackPeakRss(): { stop(): { polledMb: number; hwmMb: number | undefined; peakMb: number } } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      let hwmMb: number | undefined;
      try {
        const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync("/proc/self/status", "utf8"));
        if (m) hwmMb = Number(m[1]) / 1024;
      } catch {
        // not Linux
      }
      const polledMb = peak / (1024 * 1024);
      return { polledMb, hwmMb, peakMb: Math.max(polledMb, hwmMb ?? 0) };
    },
  };
}

async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  const config = loadBenchConfig(args.overrides);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const rss = trackPeakRss();

  const texts = await readAbstracts(args.data, args.n);
  if (texts.length < args.n) process.stderr.write(`bench-embed: ${args.data} has only ${texts.length} papers; using them all\n`);

  const loadStart = performance.now();
  const embedder = await loadEmbedder({
    ...embedderSettings(config),
    logger,
  });
  const loadMs = performance.now() - loadStart;
  const batchSize = embedder.batchSize;
  // Indexing hands the embedder many texts per call so it can sort them by length; so does the bench.
  const textsPerCall = batchSize * 8;
  try {
    const warmStart = performance.now();
    await embedder.embedDetailed(texts.slice(0, batchSize), "passage");
    const warmupMs = performance.now() - warmStart;

    const progress = createProgress({ label: "embedding", total: texts.length, unit: "abstracts" });
    let tokens = 0;
    let truncated = 0;
    const start = performance.now();
    for (let i = 0; i < texts.length; i += textsPerCall) {
      const results = await embedder.embedDetailed(texts.slice(i, i + textsPerCall), "passage");
      for (const r of results) {
        tokens += Math.min(r.tokens, embedder.maxTokens);
        if (r.truncated) truncated++;
      }
      progress.tick(results.length);
    }
    const seconds = (performance.now() - start) / 1000;
    progress.finish();
    const mem = rss.stop();

    // Query latency as a chat command sees it: one short query per call (titles of the papers read).
    const queries = texts.slice(0, QUERY_SAMPLES).map((t) => t.slice(0, t.indexOf(". ") > 0 ? t.indexOf(". ") : 80));
    const queryMs: number[] = [];
    for (const q of queries) {
      const t = performance.now();
      await embedder.embed([q], "query");
      queryMs.push(performance.now() - t);
    }

    const result = {
      model: embedder.modelId,
      dim: embedder.dim,
      device: embedder.device,
      precision: embedder instanceof OnnxEmbedder ? embedder.precision : "float32",
      threads: config.embedThreads,
      batch_size: batchSize,
      n: texts.length,
      seconds: round(seconds, 3),
      abstracts_per_s: round(texts.length / seconds, 1),
      tokens_per_s: round(tokens / seconds, 0),
      tokens,
      truncated,
      max_tokens: embedder.maxTokens,
      peak_rss_mb: round(mem.peakMb, 0),
      query_ms_p50: round(percentile(queryMs, 50), 2),
      query_ms_p99: round(percentile(queryMs, 99), 2),
      load_ms: round(loadMs, 0),
      warmup_ms: round(warmupMs, 0),
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.availableParallelism(),
      node: process.version,
      date: new Date().toISOString(),
    };
    const rows: [string, string][] = [
      ["model", `${result.model} (dim ${result.dim}, max ${result.max_tokens} tokens)`],
      ["device", `${result.device}, ${result.precision}`],
      ["threads", String(result.threads)],
      ["batch size", String(result.batch_size)],
      ["abstracts", `${result.n} (${truncated} truncated)`],
      ["time", `${formatDuration(seconds)} (load ${result.load_ms} ms, warm-up ${result.warmup_ms} ms, not counted)`],
      ["abstracts/s", String(result.abstracts_per_s)],
      ["tokens/s", `${result.tokens_per_s} (tokens embedded, after truncation)`],
      ["query", `p50 ${result.query_ms_p50} ms, p99 ${result.query_ms_p99} ms (${queryMs.length} titles embedded one at a time)`],
      ["peak RSS", `${result.peak_rss_mb} MB (polled ${round(mem.polledMb, 0)} MB, VmHWM ${mem.hwmMb === undefined ? "n/a" : `${round(mem.hwmMb, 0)} MB`})`],
      ["machine", `${result.cpu}, ${result.cpus} CPUs, node ${result.node}`],
    ];
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(12)} ${v}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await embedder.dispose();
  }
}

/** The configuration with the command-line flags applied over the environment. */
function loadBenchConfig(overrides: Record<string, string>): Config {
  try {
    return loadConfig({ ...process.env, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new BenchError(`${err.message} (--batch, --threads, --device, --precision and --model set EMBED_BATCH_SIZE, EMBED_THREADS, EMBED_DEVICE, EMBED_PRECISION and EMBED_MODEL)`);
    }
    throw err;
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main().catch((err: unknown) => {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    process.stderr.write(`bench-embed: ${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  // Known errors (ours and the embedding engine's named errors) are written for the user; others get their stack.
  const message = isKnownError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`bench-embed: ${message}\n`);
  process.exitCode = 1;
});
