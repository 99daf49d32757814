/**
 * Reads a dataset in BEIR layout: corpus.jsonl ({"_id","title","text"}), queries.jsonl
 * ({"_id","text"} and optionally "paper_id": a corpus id, meaning "papers related to this one"),
 * and qrels/<split>.tsv (query-id, corpus-id, score; header line).
 */
import { createReadStream, existsSync } from "node:fs";
import readline from "node:readline";
import path from "node:path";
import type { Qrels } from "./metrics.js";
import { PaperhoundError } from "../errors.js";
import type { Paper } from "../papers/types.js";

export interface BeirDoc {
  id: string;
  title: string;
  text: string;
}

export interface BeirQuery {
  id: string;
  text: string;
  /** When set, the query is run through the /related path with this corpus paper. */
  paperId?: string;
}

/** Prefix of a corpus document's id as a paper in the index (so it is never taken for an arXiv id). */
export const BEIR_ID_PREFIX = "beir:";

/** The corpus as papers to index; a paper's id is `BEIR_ID_PREFIX` + the document's id. */
export function beirPapers(corpus: readonly BeirDoc[]): Paper[] {
  return corpus.map((d) => ({ id: BEIR_ID_PREFIX + d.id, title: d.title, abstract: d.text, authors: [], categories: [], links: {}, source: "beir" }));
}

export interface BeirDataset {
  corpus: BeirDoc[];
  queries: BeirQuery[];
  qrels: Qrels;
}

export class DatasetError extends PaperhoundError {
  readonly identifier = "dataset";
  override readonly name = "DatasetError";
}

async function* lines(file: string): AsyncGenerator<[number, string]> {
  const rl = readline.createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (line.trim()) yield [n, line];
  }
}

function field(obj: Record<string, unknown>, key: string, file: string, line: number): string {
  const v = obj[key];
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  throw new DatasetError(`${file}:${line}: "${key}" is missing or not a string`);
}

/** Loads the dataset; only queries that have qrels in the split are kept (BEIR does the same). */
export async function loadBeir(dir: string, split: string): Promise<BeirDataset> {
  const corpusFile = path.join(dir, "corpus.jsonl");
  const queriesFile = path.join(dir, "queries.jsonl");
  const qrelsFile = path.join(dir, "qrels", `${split}.tsv`);
  for (const f of [corpusFile, queriesFile, qrelsFile]) {
    if (!existsSync(f)) throw new DatasetError(`${f} not found (expected BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv)`);
  }
  const parse = (file: string, n: number, line: string): Record<string, unknown> => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new DatasetError(`${file}:${n}: not valid JSON`);
    }
  };
  const corpus: BeirDoc[] = [];
  for await (const [n, line] of lines(corpusFile)) {
    const o = parse(corpusFile, n, line);
    corpus.push({ id: field(o, "_id", corpusFile, n), title: typeof o.title === "string" ? o.title : "", text: field(o, "text", corpusFile, n) });
  }
  const qrels: Qrels = new Map();
  let first = true;
  for await (const [n, line] of lines(qrelsFile)) {
    const cols = line.split("\t");
    if (first) {
      first = false;
      if (cols[0] === "query-id") continue;
    }
    if (cols.length < 3) throw new DatasetError(`${qrelsFile}:${n}: expected query-id, corpus-id, score`);
    const score = Number(cols[2]);
    if (!Number.isFinite(score)) throw new DatasetError(`${qrelsFile}:${n}: score "${cols[2]}" is not a number`);
    const q = cols[0]!;
    if (!qrels.has(q)) qrels.set(q, new Map());
    qrels.get(q)!.set(cols[1]!, score);
  }
  const queries: BeirQuery[] = [];
  for await (const [n, line] of lines(queriesFile)) {
    const o = parse(queriesFile, n, line);
    const id = field(o, "_id", queriesFile, n);
    if (!qrels.has(id)) continue;
    const q: BeirQuery = { id, text: typeof o.text === "string" ? o.text : "" };
    if (typeof o.paper_id === "string" || typeof o.paper_id === "number") q.paperId = String(o.paper_id);
    queries.push(q);
  }
  if (corpus.length === 0) throw new DatasetError(`${corpusFile} has no documents`);
  if (queries.length === 0) throw new DatasetError(`no query in ${queriesFile} has qrels in ${qrelsFile}`);
  return { corpus, queries, qrels };
}
