/**
 * Search quality on a BEIR-format dataset: nDCG@10, nDCG@20, Recall@100 and MAP for `bm25`,
 * `dense` and `hybrid`, through the same PaperIndex the commands use.
 *   npm run eval -- [--dataset ../shared/data/scifact] [--split train] [--weight 0.3] [--fill 30] [--passages N] [--index DIR]
 * A query line carrying "paper_id" is run through the /related path with that corpus paper.
 * The last line is one JSON object with every figure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadConfig, embedderSettings } from "../src/config.js";
import { loadEmbedder } from "../src/embed/load.js";
import { BEIR_ID_PREFIX, beirPapers, loadBeir, type BeirQuery } from "../src/eval/beir.js";
import { meanMetrics, scoreQuery, type QueryMetrics } from "../src/eval/metrics.js";
import { createLogger } from "../src/log.js";
import { projectRoot } from "../src/paths.js";
import { createProgress } from "../src/progress.js";
import { PaperIndex, type QueryOptions } from "../src/search/paper-index.js";

const MODES = ["bm25", "dense", "hybrid"] as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: "string", default: path.join(projectRoot, "..", "shared", "data", "scifact") },
      split: { type: "string", default: "train" },
      weight: { type: "string" },
      index: { type: "string" },
      limit: { type: "string" },
      fill: { type: "string" },
      passages: { type: "string" },
    },
  });
  const config = loadConfig();
  const logger = createLogger({ level: "warn", format: config.logFormat });
  const dataset = path.resolve(values.dataset!);
  const ds = await loadBeir(dataset, values.split!);
  const queries = values.limit ? ds.queries.slice(0, Number(values.limit)) : ds.queries;
  const weight = values.weight !== undefined ? Number(values.weight) : undefined;

  const embedder = await loadEmbedder({
    ...embedderSettings(config),
    logger,
  });
  const tmp = values.index ? undefined : mkdtempSync(path.join(os.tmpdir(), "paperhound-eval-"));
  const index = await PaperIndex.open({ dir: values.index ?? tmp!, embedder });
  if (values.fill !== undefined) {
    const fill = Number(values.fill);
    if (!Number.isSafeInteger(fill) || fill < 0) throw new Error(`--fill must be a whole number of candidates (0 or more), got ${values.fill}`);
    index.denseFillTop = fill;
  }
  if (values.passages !== undefined) {
    const passages = Number(values.passages);
    if (!Number.isSafeInteger(passages) || passages < 1) throw new Error(`--passages must be a whole number of passages per paper (1 or more), got ${values.passages}`);
    index.maxPassages = passages;
  }
  try {
    const started = performance.now();
    const progress = createProgress({ label: "indexing", total: ds.corpus.length, unit: "papers" });
    const report = await index.add(beirPapers(ds.corpus), (p) => p.phase === "embed" && progress.update(p.done));
    progress.finish();
    const indexSeconds = (performance.now() - started) / 1000;

    const perMode: Record<(typeof MODES)[number], QueryMetrics[]> = { bm25: [], dense: [], hybrid: [] };
    const qProgress = createProgress({ label: "queries", total: queries.length * MODES.length, unit: "queries" });
    for (const mode of MODES) {
      const opts: QueryOptions = { k: 100, mode, ...(weight !== undefined ? { denseWeight: weight } : {}) };
      for (const q of queries) {
        const ranked = await run(index, q, opts);
        perMode[mode].push(scoreQuery(ranked, ds.qrels.get(q.id)!));
        qProgress.tick();
      }
    }
    qProgress.finish();

    const result = {
      dataset: path.basename(dataset),
      split: values.split,
      queries: queries.length,
      corpus: ds.corpus.length,
      model: embedder.modelId,
      // A candidate built with `build-model --weights` carries its network's id: the setting says which one ran.
      embed_model: config.embedModel,
      dense_weight: weight ?? index.denseWeight,
      dense_fill_top: index.denseFillTop,
      passages: report.passages,
      index_s: Math.round(indexSeconds * 10) / 10,
      bm25: meanMetrics(perMode.bm25),
      dense: meanMetrics(perMode.dense),
      hybrid: meanMetrics(perMode.hybrid),
    };
    console.log(`dataset ${result.dataset} (${result.split}): ${result.queries} queries, ${result.corpus} papers, ${result.passages} passages, model ${result.model}${result.embed_model !== result.model ? ` (EMBED_MODEL=${result.embed_model})` : ""}, dense weight ${result.dense_weight}`);
    console.log("mode     nDCG@10  nDCG@20  R@100    MAP");
    for (const mode of MODES) {
      const m = result[mode];
      console.log(`${mode.padEnd(8)} ${m["ndcg@10"].toFixed(4)}   ${m["ndcg@20"].toFixed(4)}   ${m["recall@100"].toFixed(4)}   ${m.map.toFixed(4)}`);
    }
    console.log(JSON.stringify(result));
  } finally {
    index.close();
    await embedder.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function run(index: PaperIndex, q: BeirQuery, opts: QueryOptions): Promise<string[]> {
  const hits = q.paperId ? (await index.related(BEIR_ID_PREFIX + q.paperId, opts)).hits : await index.search(q.text, opts);
  return hits.map((h) => h.paper.id.slice(BEIR_ID_PREFIX.length));
}

main().catch((err: unknown) => {
  process.stderr.write(`eval: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
