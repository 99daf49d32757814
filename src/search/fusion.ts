/**
 * Fusing the dense and the BM25 candidate lists into one ranking.
 *
 * Measured on SciFact training queries with the default model: plain reciprocal-rank fusion hurts
 * (nDCG@10 0.465 against BM25's 0.668), because the weaker dense list gets an equal vote by rank;
 * score fusion keeps the margins: each retriever's scores are z-normalised over the union of
 * candidates (a candidate one retriever did not return gets that retriever's real score for it,
 * or its floor), then mixed as `w * dense + (1 - w) * bm25`. See docs/benchmarks.md, "Search quality".
 */

/** Scores of candidates by store rowid. */
export type ScoreMap = ReadonlyMap<number, number>;

export interface FusedScore {
  rowid: number;
  score: number;
  dense?: number;
  bm25?: number;
}

/** z-normalises `scores` over `ids`; a missing id gets `floor` (the list's minimum when omitted). */
export function zScores(scores: ScoreMap, ids: readonly number[], floor?: number): Map<number, number> {
  const values = ids.map((id) => scores.get(id));
  const known = values.filter((v): v is number => v !== undefined);
  const fill = floor ?? (known.length > 0 ? Math.min(...known) : 0);
  const filled = values.map((v) => v ?? fill);
  const mean = filled.reduce((a, b) => a + b, 0) / (filled.length || 1);
  const variance = filled.reduce((a, b) => a + (b - mean) ** 2, 0) / (filled.length || 1);
  const std = Math.sqrt(variance);
  const out = new Map<number, number>();
  // All-equal scores carry no ranking information: they contribute 0 to every candidate.
  ids.forEach((id, i) => out.set(id, std > 1e-12 ? (filled[i]! - mean) / std : 0));
  return out;
}

/**
 * Score fusion of two candidate lists. `denseWeight` 1 is dense only, 0 is BM25 only.
 * `bm25Floor` is the BM25 score of a candidate that matches no query term (0 for FTS5 BM25).
 */
export function fuseScores(dense: ScoreMap, bm25: ScoreMap, denseWeight: number, bm25Floor = 0): FusedScore[] {
  if (!(denseWeight >= 0 && denseWeight <= 1)) throw new RangeError(`dense weight must be within 0..1, got ${denseWeight}`);
  const ids = [...new Set([...dense.keys(), ...bm25.keys()])];
  const zd = zScores(dense, ids);
  const zb = zScores(bm25, ids, bm25Floor);
  return ids
    .map((rowid) => {
      const fused: FusedScore = { rowid, score: denseWeight * zd.get(rowid)! + (1 - denseWeight) * zb.get(rowid)! };
      const d = dense.get(rowid);
      const b = bm25.get(rowid);
      if (d !== undefined) fused.dense = d;
      if (b !== undefined) fused.bm25 = b;
      return fused;
    })
    .sort((a, b) => b.score - a.score || a.rowid - b.rowid);
}

/** Reciprocal-rank fusion, kept for the evaluation's comparison (k = 60 as in the original paper). */
export function reciprocalRankFusion(lists: readonly (readonly number[])[], k = 60): FusedScore[] {
  const scores = new Map<number, number>();
  for (const list of lists) list.forEach((rowid, rank) => scores.set(rowid, (scores.get(rowid) ?? 0) + 1 / (k + rank + 1)));
  return [...scores.entries()].map(([rowid, score]) => ({ rowid, score })).sort((a, b) => b.score - a.score || a.rowid - b.rowid);
}
