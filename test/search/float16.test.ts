import { describe, expect, it } from "vitest";
import { decodeFloat16, encodeFloat16, fromFloat16Bits, toFloat16Bits } from "../../src/search/vectors/float16.js";

describe("half floats in JS (index files of the cosine-f16 space)", () => {
  it("encodes known values to their IEEE 754 binary16 bits", () => {
    const known: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // the largest half
      [65520, 0x7c00], // rounds up to infinity
      [1e6, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // the smallest normal
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -25, 0x0000], // halfway to it: ties to even (0)
      [1.5 * 2 ** -25, 0x0001],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (1)
      [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: rounds up
    ];
    for (const [x, bits] of known) expect(toFloat16Bits(x), `${x}`).toBe(bits);
    expect(toFloat16Bits(NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(NaN) & 0x3ff).not.toBe(0);
  });

  it("decodes every half float, and encoding its value gives its bits back", () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = fromFloat16Bits(h);
      if (Number.isNaN(x)) {
        expect((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0).toBe(true);
        continue;
      }
      expect(toFloat16Bits(x)).toBe(h);
    }
    expect(fromFloat16Bits(0x3c00)).toBe(1);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
    expect(fromFloat16Bits(0xfbff)).toBe(-65504);
  });

  it("rounds to the nearest half float: within half a unit in the last place", () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const from = Float32Array.from({ length: 5000 }, () => next() * 0.2);
    const bits = new Uint16Array(from.length);
    const back = new Float32Array(from.length);
    encodeFloat16(from, bits);
    decodeFloat16(bits, back);
    from.forEach((x, i) => {
      const h = bits[i]!;
      const ulp = Math.abs(fromFloat16Bits(h + 1) - fromFloat16Bits(h)) || 2 ** -24;
      expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(ulp / 2);
    });
  });
});
