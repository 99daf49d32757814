/**
 * Dumps what training/output_size.py needs to measure smaller outputs of the default model without
 * building one: the current EMBED_MODEL's vectors and our BM25's candidates, as the product has them.
 *   npx tsx training/dump-eval-vectors.ts beir DATASET_DIR SPLIT OUT_PREFIX   (a BEIR set: /paper, or /related where queries name a paper)
 *   npx tsx training/dump-eval-vectors.ts arxiv N OUT_PREFIX                   (N training papers' first passages, to fit the projection)
 * Writes OUT_PREFIX.corpus.f32 / .queries.f32 / .json (ids, qrels, BM25 candidates, the query's own
 * paper for /related) or OUT_PREFIX.arxiv.f32; float32, 512 a row.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { createGunzip } from "node:zlib";
import { embedderSettings, loadConfig } from "../src/config.js";
import { loadEmbedder } from "../src/embed/load.js";
import { BEIR_ID_PREFIX, beirPapers, loadBeir } from "../src/eval/beir.js";
import { createLogger } from "../src/log.js";
import { projectRoot } from "../src/paths.js";
import { PaperIndex } from "../src/search/paper-index.js";
import { isDevPaper } from "./pairs.js";

function rows(vectors: Float32Array[]): Buffer {
  const dim = vectors[0]?.length ?? 0;
  const out = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => out.set(v, i * dim));
  return Buffer.from(out.buffer);
}

async function main(): Promise<void> {
  const [kind, ...args] = process.argv.slice(2);
  const config = loadConfig();
  const embedder = await loadEmbedder({ ...embedderSettings(config), logger: createLogger({ level: "warn", format: config.logFormat }) });
  try {
    if (kind === "arxiv" && args.length === 2) {
      const [n, out] = [Number(args[0]), args[1]!];
      if (!Number.isSafeInteger(n) || n < 1) throw new Error(`N must be a whole number of papers, got ${args[0]}`);
      const texts: string[] = [];
      const input = createReadStream(path.join(projectRoot, "..", "shared", "data", "arxiv", "papers-140k.jsonl.gz")).pipe(createGunzip());
      let line = 0;
      for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
        // Every 5th paper, to spread over the file's dates; never a held-out one.
        if (line++ % 5 !== 0) continue;
        const p = JSON.parse(text) as { id: string; title: string; abstract: string };
        if (isDevPaper(p.id)) continue;
        texts.push(`${p.title}. ${p.abstract}`);
        if (texts.length >= n) break;
      }
      const vectors: Float32Array[] = [];
      for (let s = 0; s < texts.length; s += 256) vectors.push(...(await embedder.embed(texts.slice(s, s + 256), "passage")));
      writeFileSync(`${out}.arxiv.f32`, rows(vectors));
      return;
    }
    if (kind !== "beir" || args.length !== 3) throw new Error("usage: beir DATASET_DIR SPLIT OUT_PREFIX | arxiv N OUT_PREFIX");
    const [dataset, split, out] = args as [string, string, string];
    const ds = await loadBeir(dataset, split);
    const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-dump-"));
    const index = await PaperIndex.open({ dir, embedder });
    try {
      await index.add(beirPapers(ds.corpus));
      const ids: string[] = [];
      const corpus: Float32Array[] = [];
      const slotOf = new Map<number, number>();
      for (const d of ds.corpus) {
        const p = index.store.get(BEIR_ID_PREFIX + d.id)!;
        slotOf.set(p.rowid, ids.length);
        ids.push(d.id);
        corpus.push(index.paperVector(p.rowid)!);
      }
      const related = ds.queries.some((q) => q.paperId);
      const queries = ds.queries.filter((q) => related === Boolean(q.paperId));
      const vectors: Float32Array[] = [];
      const bm25: [number, number][][] = [];
      const self: number[] = [];
      for (const q of queries) {
        if (related) {
          const p = index.store.get(BEIR_ID_PREFIX + q.paperId)!;
          vectors.push(index.paperVector(p.rowid)!);
          self.push(slotOf.get(p.rowid)!);
        } else vectors.push((await embedder.embed([q.text], "query"))[0]!);
        const ranked = related ? (await index.relatedRanked(BEIR_ID_PREFIX + q.paperId, { k: 100, mode: "bm25" })).hits : await index.searchRanked(q.text, { k: 100, mode: "bm25" });
        bm25.push(ranked.filter((h) => h.bm25 !== undefined).map((h) => [slotOf.get(h.rowid)!, h.bm25!]));
      }
      writeFileSync(`${out}.corpus.f32`, rows(corpus));
      writeFileSync(`${out}.queries.f32`, rows(vectors));
      writeFileSync(
        `${out}.json`,
        JSON.stringify({ dim: embedder.dim, denseWeight: index.denseWeight, denseFillTop: index.denseFillTop, self, ids, bm25, qrels: queries.map((q) => Object.fromEntries(ds.qrels.get(q.id)!)) }),
      );
    } finally {
      index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await embedder.dispose();
  }
}

main().catch((err: unknown) => {
  console.error(`dump-eval-vectors: ${(err as Error).message}`);
  process.exitCode = 1;
});
