/**
 * Builds the training data for training/train.py from arXiv titles and abstracts, tokenised by the
 * product's own tokenizer (so ids are identical by construction):
 *   npm run train:prepare -- [--papers ../shared/data/arxiv/papers-140k.jsonl.gz] [--out training/data] [--seed 1]
 * Writes into --out:
 *   pairs-train.bin   int16 records (see RECORD_INTS in pairs.ts): training pairs of 98% of the papers
 *   papers-train.bin  the same papers as tokenised pieces (see encodePaper), for pairs drawn afresh each pass
 *   negatives-train.bin  int32, NEGATIVES_PER_PAPER per training paper (same order): hard negatives (negatives.ts)
 *   dev-ict.bin       one inverse-cloze pair per dev paper (2%, never trained on), for quick checks
 *   arxiv-dev-ict/    BEIR layout: a sentence of a dev abstract → its paper (the sentence removed)
 *   arxiv-dev-related/ BEIR layout: a dev paper → the dev papers sharing a (rare) author, via /related
 *   reference.json    texts, their ids and the current default model's embeddings (parity check)
 *   manifest.json     counts, skip reasons, seed, source
 */
import { createReadStream, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { parseArgs } from "node:util";
import { createGunzip } from "node:zlib";
import { ensureBuiltinModel } from "../src/embed/builtin-models.js";
import { OnnxEmbedder } from "../src/embed/onnx-embedder.js";
import { UseLiteTokenizer } from "../src/embed/use-tokenizer.js";
import { projectRoot } from "../src/paths.js";
import { createProgress } from "../src/progress.js";
import { seededRandom } from "../src/random.js";
import {
  DOC_MAX_TOKENS,
  PaperCleaner,
  RECORD_INTS,
  encodeRecord,
  encodePaper,
  firstPassage,
  ictSplit,
  isDevPaper,
  pairsOf,
  type CleanPaper,
  type PairKind,
} from "./pairs.js";
import { mineNegatives, type NegativePaper } from "./negatives.js";

/** An author in more dev papers than this is probably a common name, not a shared research line. */
const RARE_AUTHOR_MAX_PAPERS = 5;
/** Hard negatives kept per training paper; train.py draws from them (and may skip the closest). */
const NEGATIVES_PER_PAPER = 10;

class RecordWriter {
  private buf = new Int16Array(RECORD_INTS * 4096);
  count = 0;
  readonly kinds: Record<string, number> = {};
  add(kind: PairKind, q: number[], d: number[]): void {
    if ((this.count + 1) * RECORD_INTS > this.buf.length) {
      const bigger = new Int16Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    encodeRecord(kind, q, d, this.buf, this.count++);
    this.kinds[kind] = (this.kinds[kind] ?? 0) + 1;
  }
  write(file: string): void {
    const view = this.buf.subarray(0, this.count * RECORD_INTS);
    writeFileAtomic(file, Buffer.from(view.buffer, view.byteOffset, view.byteLength));
  }
}

function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  // rename replaces atomically on POSIX: a reader sees the old file or the new one.
  renameSync(tmp, file);
}

function writeBeir(dir: string, corpus: object[], queries: object[], qrels: [string, string][]): void {
  mkdirSync(path.join(dir, "qrels"), { recursive: true });
  writeFileAtomic(path.join(dir, "corpus.jsonl"), corpus.map((c) => JSON.stringify(c)).join("\n") + "\n");
  writeFileAtomic(path.join(dir, "queries.jsonl"), queries.map((q) => JSON.stringify(q)).join("\n") + "\n");
  writeFileAtomic(path.join(dir, "qrels", "dev.tsv"), ["query-id\tcorpus-id\tscore", ...qrels.map(([q, c]) => `${q}\t${c}\t1`)].join("\n") + "\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      papers: { type: "string", default: path.join(projectRoot, "..", "shared", "data", "arxiv", "papers-140k.jsonl.gz") },
      out: { type: "string", default: path.join(projectRoot, "training", "data") },
      seed: { type: "string", default: "1" },
      limit: { type: "string" },
    },
  });
  const papersFile = path.resolve(values.papers!);
  const out = path.resolve(values.out!);
  const seed = Number(values.seed);
  const limit = values.limit ? Number(values.limit) : Infinity;
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  mkdirSync(out, { recursive: true });

  // use-lite: the pretrained network that training starts from (same tokenizer as every built-in model).
  const modelDir = await ensureBuiltinModel("use-lite");
  const tokenizer = UseLiteTokenizer.fromTokenizerJson(path.join(modelDir, "tokenizer.json"));
  const count = (t: string): number => tokenizer.encode(t).length;
  const cleaner = new PaperCleaner(tokenizer);

  const train = new RecordWriter();
  const papers: Int16Array[] = [];
  const trainText: NegativePaper[] = [];
  const dev: CleanPaper[] = [];
  let lines = 0;
  let badJson = 0;
  const progress = createProgress({ label: "papers", total: Number.isFinite(limit) ? limit : 140_877, unit: "papers" });
  const input = papersFile.endsWith(".gz") ? createReadStream(papersFile).pipe(createGunzip()) : createReadStream(papersFile);
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    if (lines >= limit) break;
    lines++;
    progress.tick();
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      badJson++;
      continue;
    }
    const paper = cleaner.accept(raw);
    if (!paper) continue;
    if (isDevPaper(paper.id)) {
      dev.push(paper);
      continue;
    }
    for (const pair of pairsOf(paper, seed, count)) train.add(pair.kind, tokenizer.encode(pair.query), tokenizer.encode(pair.doc));
    papers.push(encodePaper(paper, tokenizer));
    trainText.push({ title: paper.title, abstract: paper.abstract });
  }
  progress.finish();
  train.write(path.join(out, "pairs-train.bin"));
  const paperValues = new Int16Array(papers.reduce((n, p) => n + p.length, 0));
  papers.reduce((at, p) => (paperValues.set(p, at), at + p.length), 0);
  writeFileAtomic(path.join(out, "papers-train.bin"), Buffer.from(paperValues.buffer, paperValues.byteOffset, paperValues.byteLength));
  const mining = createProgress({ label: "hard negatives", total: trainText.length, unit: "papers" });
  const negatives = mineNegatives(trainText, NEGATIVES_PER_PAPER, (done) => mining.update(done));
  mining.finish();
  writeFileAtomic(path.join(out, "negatives-train.bin"), Buffer.from(negatives.buffer, negatives.byteOffset, negatives.byteLength));
  const negativesFound = negatives.reduce((n, x) => n + (x >= 0 ? 1 : 0), 0);

  // Dev: one ICT query per paper; the corpus holds each paper without its query sentence.
  const devIct = new RecordWriter();
  const ictCorpus: object[] = [];
  const ictQueries: object[] = [];
  const ictQrels: [string, string][] = [];
  for (const p of dev) {
    const random = seededRandom(seed + 7919 * (ictQueries.length + 1));
    const split = ictSplit(p.abstract, random);
    ictCorpus.push({ _id: p.id, title: p.title, text: split ? split.rest : p.abstract });
    if (!split) continue;
    ictQueries.push({ _id: `s:${p.id}`, text: split.sentence });
    ictQrels.push([`s:${p.id}`, p.id]);
    devIct.add("ict", tokenizer.encode(split.sentence), tokenizer.encode(firstPassage(p.title, split.rest, count)).slice(0, DOC_MAX_TOKENS));
  }
  devIct.write(path.join(out, "dev-ict.bin"));
  writeBeir(path.join(out, "arxiv-dev-ict"), ictCorpus, ictQueries, ictQrels);

  // Dev: papers related by a shared rare author (found through /related, so no query words at all).
  const byAuthor = new Map<string, string[]>();
  for (const p of dev) for (const a of new Set(p.authors.map((x) => x.toLowerCase()))) byAuthor.set(a, [...(byAuthor.get(a) ?? []), p.id]);
  const relCorpus = dev.map((p) => ({ _id: p.id, title: p.title, text: p.abstract }));
  const relQueries: object[] = [];
  const relQrels: [string, string][] = [];
  for (const p of dev) {
    const related = new Set<string>();
    for (const a of new Set(p.authors.map((x) => x.toLowerCase()))) {
      const ids = byAuthor.get(a)!;
      if (ids.length <= RARE_AUTHOR_MAX_PAPERS) for (const id of ids) if (id !== p.id) related.add(id);
    }
    if (related.size === 0) continue;
    relQueries.push({ _id: `r:${p.id}`, text: p.title, paper_id: p.id });
    for (const id of related) relQrels.push([`r:${p.id}`, id]);
  }
  writeBeir(path.join(out, "arxiv-dev-related"), relCorpus, relQueries, relQrels);

  // Parity reference: the current default model's embeddings of varied texts.
  const texts = JSON.parse(readFileSync(path.join(projectRoot, "training", "reference-texts.json"), "utf8")) as string[];
  // float32: the parity check compares the PyTorch network with these at cosine ≥ 0.9999, which int8 does not reach.
  const embedder = await OnnxEmbedder.load(modelDir, { modelId: "use-lite", device: "cpu", precision: "float32" });
  const vectors = await embedder.embed(texts, "passage");
  await embedder.dispose();
  writeFileAtomic(
    path.join(out, "reference.json"),
    JSON.stringify({ model: embedder.modelId, texts, ids: texts.map((t) => embedder.tokenIds(t, "passage")), embeddings: vectors.map((v) => Array.from(v)) }),
  );

  const manifest = {
    source: { file: papersFile, bytes: statSync(papersFile).size },
    seed,
    lines,
    badJson,
    kept: cleaner.accepted,
    skipped: Object.fromEntries(cleaner.skipped),
    abstractsCut: cleaner.cut,
    train: { pairs: train.count, kinds: train.kinds, papers: papers.length, paperValues: paperValues.length },
    negatives: { perPaper: NEGATIVES_PER_PAPER, found: negativesFound },
    dev: { papers: dev.length, ictQueries: ictQueries.length, relatedQueries: relQueries.length, relatedQrels: relQrels.length },
    recordInts: RECORD_INTS,
  };
  writeFileAtomic(path.join(out, "manifest.json"), JSON.stringify(manifest, null, 2));
  console.log(JSON.stringify(manifest));
}

main().catch((err: unknown) => {
  console.error(`prepare-data: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
