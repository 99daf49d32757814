/**
 * efSearch per index size: each model's breadth holds up to the size it was measured at, and
 * widens past it (bench:scale's measurements, docs/benchmarks.md "Search at scale").
 */
import { describe, expect, it } from "vitest";
import { EF_MEASURED_AT, efSearchFor, tuningFor } from "../../src/search/model-tuning.js";

describe("efSearchFor", () => {
  const sci = tuningFor("paperhound-sci-1");

  it("keeps the model's breadth up to the size it was measured at", () => {
    expect(efSearchFor(sci, 0)).toBe(sci.efSearch);
    expect(efSearchFor(sci, 5_000)).toBe(sci.efSearch);
    expect(efSearchFor(sci, EF_MEASURED_AT)).toBe(sci.efSearch);
  });

  it("widens it on larger indexes, in steps of 10, never narrowing as the index grows", () => {
    expect(efSearchFor(sci, 500_000)).toBe(620);
    expect(efSearchFor(sci, 1_000_000)).toBe(910);
    let last = 0;
    for (let n = 100_000; n <= 3_000_000; n += 50_000) {
      const ef = efSearchFor(sci, n);
      expect(ef % 10 === 0 || ef === sci.efSearch).toBe(true);
      expect(ef).toBeGreaterThanOrEqual(last);
      last = ef;
    }
  });
});
