import { describe, expect, it } from "vitest";
import { LabelCache } from "../../src/search/store/label-cache.js";

describe("LabelCache", () => {
  it("maps labels to papers and papers to their labels, in the order set, through replacements and deletes", () => {
    const c = new LabelCache();
    c.set(0, 7);
    c.set(5000, 7); // beyond the first dense block: grows
    c.set(3, 9);
    expect(c.get(0)).toBe(7);
    expect(c.get(5000)).toBe(7);
    expect(c.labelsOf(7)).toEqual([0, 5000]);
    expect(c.labelsOf(9)).toEqual([3]);
    expect(c.labelsOf(8)).toEqual([]);
    expect(c.labelsOf(1 << 30)).toEqual([]);

    c.set(3, 7); // a label moves to another paper
    expect(c.labelsOf(9)).toEqual([]);
    expect(c.labelsOf(7)).toEqual([0, 5000, 3]);
    c.set(3, 7); // setting it again changes nothing
    expect(c.labelsOf(7)).toEqual([0, 5000, 3]);

    c.delete(0);
    expect(c.get(0)).toBeUndefined();
    expect(c.labelsOf(7)).toEqual([5000, 3]);
    c.delete(5000);
    c.delete(3);
    c.delete(3); // unknown: nothing
    expect(c.labelsOf(7)).toEqual([]);
    c.set(4, 7);
    expect(c.labelsOf(7)).toEqual([4]);
  });

  it("keeps labels and rowids beyond the dense range", () => {
    const c = new LabelCache();
    const bigLabel = 2 ** 31;
    const bigRowid = 2 ** 25;
    c.set(bigLabel, 12);
    c.set(1, bigRowid);
    c.set(2, 12);
    expect(c.get(bigLabel)).toBe(12);
    expect(c.get(1)).toBe(bigRowid);
    expect(c.labelsOf(12)).toEqual([bigLabel, 2]);
    expect(c.labelsOf(bigRowid)).toEqual([1]);
    c.delete(bigLabel);
    expect(c.labelsOf(12)).toEqual([2]);
    c.delete(1);
    expect(c.labelsOf(bigRowid)).toEqual([]);
  });
});
