/**
 * Calibrates the digest's `digestMinDense` (src/search/model-tuning.ts) for a model: the dense
 * similarity a paper needs to a short topic to count as matching it without a shared word.
 *   npm run calibrate:digest -- [--data ../shared/data/arxiv/papers-140k.jsonl.gz] [--model M] [--reference use-lite --at 0.55]
 * Topics are arXiv category names ("Computation and Language"); a paper "matches" the topic of its
 * primary category and is "unrelated" to topics of categories it is not listed in. Only the held-out
 * dev papers of training/ are used. Prints, per model, percentiles of both score distributions, and
 * the threshold at which the unrelated pass rate equals the reference model's at its threshold.
 */
import { createReadStream } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { loadEmbedder } from "../src/embed/load.js";
import { createLogger } from "../src/log.js";
import { categoryName } from "../src/papers/sources/arxiv-categories.js";
import { projectRoot } from "../src/paths.js";
import { passageTextsOf } from "../src/search/paper-passages.js";
import { isDevPaper } from "../training/pairs.js";
import { percentile } from "./percentile.js";

interface Paper {
  id: string;
  title: string;
  abstract: string;
  categories: string[];
}

async function devPapers(file: string): Promise<Paper[]> {
  const out: Paper[] = [];
  const rl = readline.createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as Paper;
    if (typeof p.id === "string" && isDevPaper(p.id) && p.title && p.abstract && Array.isArray(p.categories) && p.categories.length > 0) out.push(p);
  }
  return out;
}

async function scores(model: string, papers: Paper[], topics: Map<string, string>): Promise<{ match: number[]; unrelated: number[] }> {
  const logger = createLogger({ level: "warn", format: "json" });
  const embedder = await loadEmbedder({ model, device: "cpu", logger });
  try {
    const passages = papers.map((p) => passageTextsOf(p, embedder));
    const flat = await embedder.embed(passages.flat(), "passage");
    // A paper's vector as the index keeps it: the normalised mean of its passages.
    let at = 0;
    const vectors = passages.map((ps) => {
      const v = new Float32Array(embedder.dim);
      for (let i = 0; i < ps.length; i++) flat[at + i]!.forEach((x, j) => (v[j]! += x));
      at += ps.length;
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
    const codes = [...topics.keys()];
    const topicVectors = await embedder.embed([...topics.values()], "query");
    const match: number[] = [];
    const unrelated: number[] = [];
    papers.forEach((p, i) => {
      codes.forEach((code, t) => {
        let s = 0;
        for (let j = 0; j < embedder.dim; j++) s += vectors[i]![j]! * topicVectors[t]![j]!;
        if (p.categories[0] === code) match.push(s);
        else if (!p.categories.includes(code)) unrelated.push(s);
      });
    });
    return { match, unrelated };
  } finally {
    await embedder.dispose();
  }
}

const share = (xs: number[], t: number) => xs.filter((x) => x >= t).length / xs.length;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: "string", default: path.join(projectRoot, "..", "shared", "data", "arxiv", "papers-140k.jsonl.gz") },
      model: { type: "string", default: "paperhound-sci-1" },
      reference: { type: "string", default: "use-lite" },
      at: { type: "string", default: "0.55" },
      "min-papers": { type: "string", default: "30" },
    },
  });
  const papers = await devPapers(path.resolve(values.data!));
  const counts = new Map<string, number>();
  for (const p of papers) counts.set(p.categories[0]!, (counts.get(p.categories[0]!) ?? 0) + 1);
  const topics = new Map<string, string>();
  for (const [code, n] of counts) {
    const name = categoryName(code);
    if (name && n >= Number(values["min-papers"])) topics.set(code, name);
  }
  const referenceAt = Number(values.at);
  const ref = await scores(values.reference!, papers, topics);
  const target = share(ref.unrelated, referenceAt);
  const ours = await scores(values.model!, papers, topics);
  const sorted = [...ours.unrelated].sort((a, b) => b - a);
  const threshold = sorted[Math.max(0, Math.ceil(target * sorted.length) - 1)]!;
  const describe = (name: string, s: { match: number[]; unrelated: number[] }, t: number) => {
    const pct = (xs: number[]) => [10, 50, 90, 99].map((q) => percentile(xs, q).toFixed(3)).join(" / ");
    console.log(`${name}: matching p10/p50/p90/p99 ${pct(s.match)}; unrelated ${pct(s.unrelated)}; at ${t.toFixed(3)}: ${(100 * share(s.match, t)).toFixed(1)}% of matching, ${(100 * share(s.unrelated, t)).toFixed(2)}% of unrelated pass`);
  };
  console.log(`${papers.length} held-out papers, ${topics.size} topics (${[...topics.values()].slice(0, 4).join("; ")}; ...)`);
  describe(values.reference!, ref, referenceAt);
  describe(values.model!, ours, threshold);
  console.log(JSON.stringify({ papers: papers.length, topics: topics.size, reference: values.reference, referenceAt, unrelatedPassRate: target, model: values.model, threshold: Number(threshold.toFixed(3)) }));
}

main().catch((err: unknown) => {
  console.error(`calibrate-digest: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
