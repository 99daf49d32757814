import { describe, expect, it } from "vitest";
import { averagePrecision, meanMetrics, ndcgAt, recallAt, scoreQuery } from "../../src/eval/metrics.js";

const rel = (entries: [string, number][]) => new Map(entries);

describe("retrieval metrics", () => {
  it("nDCG@k: perfect order is 1, a relevant doc at rank 2 of one is 1/log2(3)", () => {
    expect(ndcgAt(["a", "b"], rel([["a", 1]]), 10)).toBe(1);
    expect(ndcgAt(["x", "a"], rel([["a", 1]]), 10)).toBeCloseTo(1 / Math.log2(3), 12);
    expect(ndcgAt(["x", "a"], rel([["a", 1]]), 1)).toBe(0);
  });

  it("nDCG uses graded relevance and the ideal ordering", () => {
    // ranked: b (1), a (2); ideal: a (2), b (1)
    const dcg = 1 / Math.log2(2) + 2 / Math.log2(3);
    const idcg = 2 / Math.log2(2) + 1 / Math.log2(3);
    expect(ndcgAt(["b", "a"], rel([["a", 2], ["b", 1]]), 10)).toBeCloseTo(dcg / idcg, 12);
  });

  it("a document repeated in the ranking counts once", () => {
    expect(ndcgAt(["a", "a"], rel([["a", 1], ["b", 1]]), 10)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
  });

  it("recall@k and AP", () => {
    const r = rel([["a", 1], ["b", 1]]);
    expect(recallAt(["a", "x", "b"], r, 2)).toBe(0.5);
    expect(recallAt(["a", "x", "b"], r, 3)).toBe(1);
    expect(averagePrecision(["a", "x", "b"], r)).toBeCloseTo((1 / 1 + 2 / 3) / 2, 12);
    expect(averagePrecision(["x"], r)).toBe(0);
  });

  it("means over queries, rounded to 4 places", () => {
    const m = meanMetrics([scoreQuery(["a"], rel([["a", 1]])), scoreQuery(["x"], rel([["a", 1]]))]);
    expect(m).toEqual({ "ndcg@10": 0.5, "ndcg@20": 0.5, "recall@100": 0.5, map: 0.5 });
  });
});
