/**
 * Settings of the search and the digest that depend on the embedding model, measured per model
 * (docs/benchmarks.md, "Search quality"): how much fusion trusts the dense score, how many BM25-only candidates
 * get an exact dense score, the dense similarity a digest topic needs without a shared word, and
 * the HNSW search breadth that keeps recall@10 ≥ 0.98 (docs/benchmarks.md, "Search at scale").
 * Models without an entry get use-lite's values, the ones this project started with.
 */
export interface ModelTuning {
  /** Weight of the dense score in hybrid fusion, 0..1. */
  denseWeight: number;
  /** BM25-only candidates that get an exact dense score before fusion. */
  denseFillTop: number;
  /** Dense similarity to a digest topic that counts as matching it without any shared word. */
  digestMinDense: number;
  /** Similarity to a channel's library (mean of the nearest saved papers) that lets a paper into its digest. */
  digestMinLibrary: number;
  /** HNSW search breadth: the smallest measured to reach recall@10 ≥ 0.98 at 140k papers (M 16, efConstruction 200); wider on larger indexes (efSearchFor). */
  efSearch: number;
  /** Passages of a paper embedded for its vector, at most (paper-passages.ts): indexing time is proportional. */
  maxPassages: number;
}

const USE_LITE: ModelTuning = Object.freeze({
  // SciFact train, hybrid nDCG@10: w 0.2 / 0.3 / 0.4 / 0.5 → 0.713 / 0.717 / 0.712 / 0.698; fill 0 / 10 / 30 / 100 → 0.703 / 0.711 / 0.715 / 0.713.
  denseWeight: 0.3,
  denseFillTop: 30,
  // Against a short topic, unrelated abstracts score 0.40–0.50 and matching ones 0.60 and more (test/digest).
  digestMinDense: 0.55,
  // Not measured on 140k papers (no use-lite index of them here): the similarity under which
  // use-lite's unrelated topic–abstract pairs stay; each library's own floor applies above it.
  digestMinLibrary: 0.55,
  // bench:search at 140k, 2026-11-24: ef 200 / 400 / 600 → recall@10 0.940 / 0.971 / 0.983.
  efSearch: 600,
  // SciFact dense: the mean of 3 passages 0.269, the first alone 0.233 (paper-passages.ts).
  maxPassages: 3,
});

const TUNING: Readonly<Record<string, ModelTuning>> = Object.freeze({
  "use-lite": USE_LITE,
  "paperhound-sci-1": Object.freeze({
    // Hybrid nDCG@10, SciFact train / arXiv dev sentences: w 0.2 0.7128 / –, 0.3 0.7148 / 0.7518,
    // 0.4 0.7147 / 0.7565, 0.5 0.7073 / 0.7554; fill 100 instead of 30: 0.7138 / 0.7555 (at w 0.4).
    denseWeight: 0.4,
    denseFillTop: 30,
    // Its similarities sit far lower than use-lite's (topic vs unrelated abstract p50 -0.04, p99 0.23):
    // 0.225 lets through the same 1.18% of unrelated papers as use-lite's 0.55 (npm run calibrate:digest).
    digestMinDense: 0.225,
    // Library similarity (mean of the 3 nearest saved papers), npm run eval:digest: a later paper of
    // the library's team passes 0.45 76% of the time, another paper of the same day 36%.
    digestMinLibrary: 0.45,
    // bench:search at 140k, 2026-12-03: ef 300 / 600 → recall@10 0.987 / 0.996, HNSW 2.3 / 4.3 ms a
    // query (bench-vector-index, 500 held-out titles: ef 200 0.976, 300 0.985, 400 0.989). Its vectors
    // are easier for the graph than use-lite's; M 32 reached no better recall per millisecond.
    efSearch: 300,
    maxPassages: 3,
  }),
});

export function tuningFor(modelId: string): ModelTuning {
  return TUNING[modelId] ?? USE_LITE;
}

/** Index size at which each model's `efSearch` was measured. */
export const EF_MEASURED_AT = 140_000;
/**
 * How efSearch grows past EF_MEASURED_AT: a larger graph needs a wider search for the same recall.
 * bench:scale, sci-1, recall@10: 500k papers ef 300 / 450 / 600 → 0.970 / 0.980 / 0.987; 1M
 * papers ef 600 / 900 / 1200 → 0.973 / 0.981 / 0.985. ef · (n / 140k)^0.56 reaches 1M's 900 (and
 * gives 500k 620, more than it needs); HNSW costs 2–4 ms a query at these breadths.
 */
export const EF_GROWTH = 0.56;

/** The HNSW search breadth for an index of `vectors` vectors: the model's, widened past the size it was measured at. */
export function efSearchFor(tuning: Pick<ModelTuning, "efSearch">, vectors: number): number {
  if (!(vectors > EF_MEASURED_AT)) return tuning.efSearch;
  return Math.ceil((tuning.efSearch * (vectors / EF_MEASURED_AT) ** EF_GROWTH) / 10) * 10;
}
