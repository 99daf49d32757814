import { describe, expect, it } from "vitest";
import { fuseScores, reciprocalRankFusion, zScores } from "../../src/search/fusion.js";

describe("score fusion", () => {
  it("z-normalises over the given ids, filling missing ones with the floor", () => {
    const z = zScores(new Map([[1, 3], [2, 1]]), [1, 2, 3], 1);
    // values 3, 1, 1 → mean 5/3, std sqrt(8/9)
    const std = Math.sqrt(8 / 9);
    expect(z.get(1)).toBeCloseTo((3 - 5 / 3) / std, 12);
    expect(z.get(3)).toBeCloseTo((1 - 5 / 3) / std, 12);
  });

  it("constant scores contribute nothing", () => {
    expect([...zScores(new Map([[1, 2], [2, 2]]), [1, 2]).values()]).toEqual([0, 0]);
  });

  it("weight 1 ranks by dense, weight 0 by BM25, and keeps component scores", () => {
    const dense = new Map([[1, 0.9], [2, 0.5], [3, 0.1]]);
    const bm25 = new Map([[3, 12], [2, 10]]);
    expect(fuseScores(dense, bm25, 1).map((f) => f.rowid)).toEqual([1, 2, 3]);
    expect(fuseScores(dense, bm25, 0).map((f) => f.rowid)).toEqual([3, 2, 1]);
    const mid = fuseScores(dense, bm25, 0.5);
    expect(mid[0]).toMatchObject({ rowid: 2, dense: 0.5, bm25: 10 });
    expect(mid.find((f) => f.rowid === 1)!.bm25).toBeUndefined();
  });

  it("a margin in one list can outweigh a rank in the other (unlike RRF)", () => {
    // BM25 is nearly tied between 1 and 2; dense strongly prefers 2.
    const dense = new Map([[1, 0.2], [2, 0.9], [3, 0.21]]);
    const bm25 = new Map([[1, 10.1], [2, 10], [3, 1]]);
    expect(fuseScores(dense, bm25, 0.5)[0]!.rowid).toBe(2);
    expect(reciprocalRankFusion([[2, 3, 1], [1, 2, 3]])[0]!.rowid).toBe(2);
  });

  it("rejects a weight outside 0..1", () => {
    expect(() => fuseScores(new Map(), new Map(), 1.5)).toThrow(/dense weight/);
    expect(() => fuseScores(new Map(), new Map(), Number.NaN)).toThrow(/dense weight/);
  });
});
