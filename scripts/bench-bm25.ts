/**
 * BM25 load benchmark: how long a process takes to have the BM25 index of N papers in memory, built
 * from the store (every paper's term data decoded) against read from the saved file (bm25-file.ts),
 * and how long bringing it up to date with papers added since takes (a fresh reader: file + merge; an
 * open reader: its index + merge), plus the file's size and a save's time. Each figure is the median
 * of --rounds, the cases alternating within a round (this VM is noisy).
 *
 *   npm run bench:bm25 -- [--data PATH] [--papers N] [--changed 1000] [--dir DIR] [--rounds 3]
 *
 *   --data     JSON/JSONL(.gz) paper file; default ../shared/data/arxiv/papers-140k.jsonl.gz
 *   --papers   papers in the store (default: every paper of the file). Beyond the file's papers,
 *              copies of them under new ids (the same words, so the same postings per paper)
 *   --changed  papers added after the save, merged by readers (default 1000: below what makes a
 *              writer save again at 50k+ papers)
 *   --dir      store directory, reused when it holds --papers papers (built otherwise); without it
 *              a temp directory, deleted at the end
 *
 * Only the store is built (no embedding): this is the BM25 half of opening an index. The last line
 * is one JSON object with every figure.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { readPaperFile } from "../src/papers/sources/jsonl.js";
import type { Paper } from "../src/papers/types.js";
import { projectRoot } from "../src/paths.js";
import { createProgress } from "../src/progress.js";
import { BM25_FILE } from "../src/search/bm25-file.js";
import { PaperStore } from "../src/search/paper-store.js";
import { STORE_FILE } from "../src/search/index-dir.js";
import { percentile } from "./percentile.js";

const DEFAULT_DATA = path.resolve(projectRoot, "../shared/data/arxiv/papers-140k.jsonl.gz");
const USAGE = "usage: npm run bench:bm25 -- [--data PATH] [--papers N] [--changed 1000] [--dir DIR] [--rounds 3]";

function positiveInt(raw: string | undefined, flag: string, fallback?: number): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${flag} must be a positive whole number, got ${JSON.stringify(raw)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: { data: { type: "string" }, papers: { type: "string" }, changed: { type: "string" }, dir: { type: "string" }, rounds: { type: "string" } },
  strict: true,
});
const data = path.resolve(values.data ?? DEFAULT_DATA);
const wanted = positiveInt(values.papers, "--papers");
const changedCount = positiveInt(values.changed, "--changed", 1000)!;
const rounds = positiveInt(values.rounds, "--rounds", 3)!;
if (!existsSync(data)) {
  console.error(`no paper file at ${data}: pass --data\n${USAGE}`);
  process.exit(2);
}
const dir = path.resolve(values.dir ?? mkdtempSync(path.join(os.tmpdir(), "paperhound-bench-bm25-")));
const storeFile = path.join(dir, STORE_FILE);
const bm25File = path.join(dir, BM25_FILE);

/** The file's papers, then copies of them under new ids until `limit` (every paper when undefined). */
async function* papers(limit: number | undefined, skip = 0): AsyncGenerator<Paper> {
  let n = 0;
  for (let copy = 0; ; copy++) {
    let any = false;
    for await (const entry of readPaperFile(data)) {
      if (!entry.paper) continue;
      any = true;
      if (limit !== undefined && n >= limit) return;
      if (n++ < skip) continue;
      yield copy === 0 ? entry.paper : { ...entry.paper, id: `copy${copy}:${entry.paper.id}` };
    }
    if (!any || limit === undefined) return;
  }
}

async function fill(store: PaperStore, source: AsyncGenerator<Paper>, total: number | undefined, label: string): Promise<number> {
  const bar = createProgress({ label, total: total ?? 0, unit: "papers" });
  let chunk: Paper[] = [];
  let n = 0;
  const flush = () => {
    store.upsertMany(chunk);
    n += chunk.length;
    bar.update(n);
    chunk = [];
  };
  for await (const p of source) {
    chunk.push(p);
    if (chunk.length >= 2000) flush();
  }
  flush();
  bar.finish();
  return n;
}

const time = <T>(fn: () => T): [T, number] => {
  const t = performance.now();
  const r = fn();
  return [r, performance.now() - t];
};

async function main(): Promise<void> {
  const writer = PaperStore.open(storeFile, { bm25File });
  const have = writer.count();
  if (wanted === undefined || have < wanted) await fill(writer, papers(wanted, have), wanted, "store");
  const paperCount = writer.count();
  console.log(`${paperCount} papers in ${dir}`);
  // The saved file covers the papers as they are now; --changed more are added after it.
  const [saveError, saveMs] = await (async () => {
    const t = performance.now();
    const err = await writer.saveFullTextIndex({ force: true });
    return [err, performance.now() - t] as const;
  })();
  if (saveError) throw saveError;
  const fileBytes = statSync(bm25File).size;
  const postings = writer.fullTextIndex().postingCount;
  const base = paperCount;
  await fill(writer, papers(base + changedCount, base), changedCount, "changed");

  const figures = { build: [] as number[], file: [] as number[], fileMerge: [] as number[], memoryMerge: [] as number[] };
  const rss: number[] = [];
  for (let r = 0; r < rounds; r++) {
    // Built from every paper's term data (what every open did before the file).
    const plain = PaperStore.open(storeFile, { readonly: true });
    figures.build.push(time(() => plain.fullTextIndex())[1]);
    plain.close();
    // From the file, then the papers added since merged.
    const reader = PaperStore.open(storeFile, { readonly: true, bm25File });
    figures.fileMerge.push(time(() => reader.fullTextIndex())[1]);
    if (reader.fullTextLoad?.from !== "file" || reader.fullTextLoad.merged !== changedCount) throw new Error(`expected a load from the file merging ${changedCount}, got ${JSON.stringify(reader.fullTextLoad)}`);
    rss.push(process.memoryUsage().rss);
    reader.close();
  }
  // The file alone: saved again with every paper.
  const onlyFile = PaperStore.open(storeFile, { bm25File });
  await onlyFile.saveFullTextIndex({ force: true });
  onlyFile.close();
  for (let r = 0; r < rounds; r++) {
    const reader = PaperStore.open(storeFile, { readonly: true, bm25File });
    figures.file.push(time(() => reader.fullTextIndex())[1]);
    reader.close();
  }
  // An open reader merging --changed papers: add them, catch up, measure, repeat.
  const catchUp = PaperStore.open(storeFile, { readonly: true, bm25File });
  catchUp.fullTextIndex();
  catchUp.catchUp();
  for (let r = 0; r < rounds; r++) {
    const start = writer.count();
    await fill(writer, papers(start + changedCount, start), changedCount, "changed");
    catchUp.catchUp();
    figures.memoryMerge.push(time(() => catchUp.fullTextIndex())[1]);
    if (catchUp.fullTextLoad?.from !== "memory") throw new Error("the open reader did not merge in memory");
  }
  catchUp.close();
  writer.close();

  const med = (xs: number[]) => Math.round(percentile(xs, 50));
  const result = {
    papers: paperCount,
    postings,
    changed: changedCount,
    file_mb: +(fileBytes / 2 ** 20).toFixed(1),
    save_ms: Math.round(saveMs),
    build_from_store_ms: med(figures.build),
    load_from_file_ms: med(figures.file),
    load_from_file_and_merge_ms: med(figures.fileMerge),
    open_reader_merge_ms: med(figures.memoryMerge),
    rss_mb: Math.round(percentile(rss, 50) / 2 ** 20),
    rounds,
    machine: `${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores`,
  };
  console.log(
    [
      `BM25 of ${paperCount.toLocaleString("en")} papers (${postings.toLocaleString("en")} postings), median of ${rounds}:`,
      `  built from the store          ${result.build_from_store_ms} ms`,
      `  read from ${BM25_FILE} (${result.file_mb} MB)   ${result.load_from_file_ms} ms`,
      `  file + ${changedCount} papers merged     ${result.load_from_file_and_merge_ms} ms`,
      `  open reader + ${changedCount} merged     ${result.open_reader_merge_ms} ms`,
      `  save                          ${result.save_ms} ms`,
    ].join("\n"),
  );
  console.log(JSON.stringify(result));
  if (!values.dir) rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
