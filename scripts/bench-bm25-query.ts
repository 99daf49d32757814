/**
 * BM25 query benchmark: the in-memory BM25 index of a built index answers the queries the chat
 * commands send it, with top-k pruning (what search does) and scoring every posting (the
 * reference), alternating within each round (this VM is noisy). Checks first that both give the
 * same papers and scores for every query.
 *
 *   npm run bench:bm25-query -- --index DIR [--queries 1500] [--rounds 4]
 *
 * /paper: 3-6 consecutive words of a random stored title (as bench:discord), k = CANDIDATES.
 * /related: the describing terms of a random stored paper, as PaperIndex.related picks them,
 * k = CANDIDATES + 1. Prints the mean time per query of each kind and the share of searches that
 * pruned; the last line is one JSON object.
 */
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { BM25_FILE } from "../src/search/bm25-file.js";
import type { QueryTerm } from "../src/search/bm25-index.js";
import { STORE_FILE } from "../src/search/index-dir.js";
import { CANDIDATES, RELATED_TERMS, relatedMaxDocShare } from "../src/search/paper-index.js";
import { MAX_QUERY_TERMS, PaperStore } from "../src/search/paper-store.js";
import { queryTerms } from "../src/search/text-analysis.js";
import { seededRandom } from "../src/random.js";
import { positiveInt } from "./bench-cli.js";
import { pickPaperRefs, titleSpan } from "./chat-load.js";

const USAGE = "usage: npm run bench:bm25-query -- --index DIR [--queries 1500] [--rounds 4]";
const { values } = parseArgs({ options: { index: { type: "string" }, queries: { type: "string" }, rounds: { type: "string" } }, strict: true });
const count = (raw: string | undefined, flag: string, fallback: number): number => {
  try {
    return positiveInt(raw, flag, fallback)!;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
};
if (!values.index) {
  console.error(`--index is required: a directory built by paperhound index\n${USAGE}`);
  process.exit(2);
}
const dir = path.resolve(values.index);
const queryCount = count(values.queries, "--queries", 1500);
const rounds = count(values.rounds, "--rounds", 4);

const store = PaperStore.open(path.join(dir, STORE_FILE), { readonly: true, bm25File: path.join(dir, BM25_FILE) });
const index = store.fullTextIndex();
const rand = seededRandom(99);
const refs = pickPaperRefs(store, queryCount, rand);
const paperQueries: QueryTerm[][] = refs.map((ref) => {
  const words = queryTerms(titleSpan(ref.title, rand), MAX_QUERY_TERMS);
  const ids = store.termIdsOf(words);
  return words.filter((w) => ids.has(w)).map((w) => ({ id: ids.get(w)! }));
});
const share = relatedMaxDocShare(index.docCount);
const relatedQueries = refs.slice(0, Math.ceil(queryCount / 4)).map((ref) => store.describingTerms(store.get(ref.id)!.rowid, RELATED_TERMS, share));
const kinds = [
  { name: "/paper", queries: paperQueries, k: CANDIDATES },
  { name: "/related", queries: relatedQueries, k: CANDIDATES + 1 },
];

// Same papers, same scores, in the same order: pruning must not change a result.
for (const { name, queries, k } of kinds) {
  queries.forEach((terms, q) => {
    const pruned = JSON.stringify(index.search(terms, k));
    if (pruned !== JSON.stringify(index.search(terms, k, undefined, false))) throw new Error(`${name} query ${q}: the pruned search differs from the exhaustive one`);
  });
}

const meanMs = (queries: QueryTerm[][], k: number, prune: boolean): number => {
  const start = performance.now();
  for (const terms of queries) index.search(terms, k, undefined, prune);
  return (performance.now() - start) / queries.length;
};
const results = kinds.map(({ name, queries, k }) => {
  const pruned: number[] = [];
  const exhaustive: number[] = [];
  for (let r = 0; r < rounds; r++) {
    exhaustive.push(meanMs(queries, k, false));
    pruned.push(meanMs(queries, k, true));
  }
  const before = index.prunedSearches;
  meanMs(queries, k, true);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { kind: name, queries: queries.length, terms: +(queries.reduce((n, t) => n + t.length, 0) / queries.length).toFixed(1), exhaustive_ms: +median(exhaustive).toFixed(3), pruned_ms: +median(pruned).toFixed(3), pruned_share: +((index.prunedSearches - before) / queries.length).toFixed(2) };
});
console.log(`BM25 queries on ${index.docCount.toLocaleString("en")} papers (${index.postingCount.toLocaleString("en")} postings), mean per query, median of ${rounds} rounds; pruned results checked equal`);
for (const r of results) console.log(`  ${r.kind.padEnd(9)} ${r.queries} queries, ${r.terms} terms: every posting ${r.exhaustive_ms} ms, pruned ${r.pruned_ms} ms (${Math.round(r.pruned_share * 100)}% pruned)`);
console.log(JSON.stringify({ bench: "bm25-query", papers: index.docCount, results, cpu: os.cpus()[0]?.model, cpus: os.cpus().length, node: process.version, date: new Date().toISOString() }));
store.close();
