/**
 * IEEE 754 half floats in JS, bit for bit as F16C converts them (round to nearest, ties to even;
 * subnormals kept): for index files stored as half floats ("cosine-f16") when JS reads their
 * vectors or converts a file between float32 and float16.
 */

const word = new Float32Array(1);
const bits = new Uint32Array(word.buffer);

/** The half float nearest to x, as its 16 bits. */
export function toFloat16Bits(x: number): number {
  word[0] = x;
  const b = bits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exponent = (b >>> 23) & 0xff;
  const mantissa = b & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // infinity, NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: infinity
  if (e <= 0) {
    // A half subnormal (or zero): the 24-bit significand shifted right, rounded.
    if (e < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - e;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    let h = significand >>> shift;
    if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa raises the exponent, as it should (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

let table: Float32Array | undefined;

/** Every half float's value, indexed by its bits (256 KB, made on first use). */
function values(): Float32Array {
  if (table) return table;
  table = new Float32Array(0x10000);
  for (let h = 0; h < 0x10000; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? sign * m * 2 ** -24 : e === 0x1f ? (m !== 0 ? NaN : sign * Infinity) : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
}

/** The value of a half float's bits. */
export function fromFloat16Bits(h: number): number {
  return values()[h & 0xffff]!;
}

/** Writes each of `from`'s values to `to` as half float bits. */
export function encodeFloat16(from: Float32Array, to: Uint16Array): void {
  for (let i = 0; i < from.length; i++) to[i] = toFloat16Bits(from[i]!);
}

/** Writes each of `from`'s half floats to `to` as a float32. */
export function decodeFloat16(from: Uint16Array, to: Float32Array): void {
  const v = values();
  for (let i = 0; i < from.length; i++) to[i] = v[from[i]!]!;
}
