/**
 * Retrieval metrics as BEIR / pytrec_eval compute them: graded relevance from qrels, nDCG with the
 * exponential-free gain (rel / log2(rank + 1)), recall at a cut-off, and average precision over
 * the returned list (MAP divides by the number of relevant documents, found or not).
 */

/** query id → (doc id → relevance grade > 0). */
export type Qrels = Map<string, Map<string, number>>;

export interface QueryMetrics {
  ndcg10: number;
  ndcg20: number;
  recall100: number;
  ap: number;
}

export function ndcgAt(ranked: readonly string[], relevant: ReadonlyMap<string, number>, k: number): number {
  let dcg = 0;
  const seen = new Set<string>();
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    const doc = ranked[i]!;
    if (seen.has(doc)) continue; // a document counts once, at its best rank
    seen.add(doc);
    const rel = relevant.get(doc) ?? 0;
    if (rel > 0) dcg += rel / Math.log2(i + 2);
  }
  const ideal = [...relevant.values()].filter((r) => r > 0).sort((a, b) => b - a);
  let idcg = 0;
  for (let i = 0; i < Math.min(k, ideal.length); i++) idcg += ideal[i]! / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

export function recallAt(ranked: readonly string[], relevant: ReadonlyMap<string, number>, k: number): number {
  const wanted = [...relevant.entries()].filter(([, r]) => r > 0).map(([d]) => d);
  if (wanted.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return wanted.filter((d) => top.has(d)).length / wanted.length;
}

export function averagePrecision(ranked: readonly string[], relevant: ReadonlyMap<string, number>): number {
  const total = [...relevant.values()].filter((r) => r > 0).length;
  if (total === 0) return 0;
  let hits = 0;
  let sum = 0;
  const seen = new Set<string>();
  ranked.forEach((doc, i) => {
    if (seen.has(doc)) return;
    seen.add(doc);
    if ((relevant.get(doc) ?? 0) > 0) {
      hits++;
      sum += hits / (i + 1);
    }
  });
  return sum / total;
}

export function scoreQuery(ranked: readonly string[], relevant: ReadonlyMap<string, number>): QueryMetrics {
  return {
    ndcg10: ndcgAt(ranked, relevant, 10),
    ndcg20: ndcgAt(ranked, relevant, 20),
    recall100: recallAt(ranked, relevant, 100),
    ap: averagePrecision(ranked, relevant),
  };
}

/** Mean of each metric over queries, in the JSON shape the eval script prints. */
export function meanMetrics(perQuery: readonly QueryMetrics[]): { "ndcg@10": number; "ndcg@20": number; "recall@100": number; map: number } {
  const n = perQuery.length || 1;
  const sum = (f: (m: QueryMetrics) => number) => perQuery.reduce((a, m) => a + f(m), 0) / n;
  const r = (x: number) => Math.round(x * 10000) / 10000;
  return { "ndcg@10": r(sum((m) => m.ndcg10)), "ndcg@20": r(sum((m) => m.ndcg20)), "recall@100": r(sum((m) => m.recall100)), map: r(sum((m) => m.ap)) };
}
