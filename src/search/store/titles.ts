/**
 * Titles as the store matches them: folded text (case and diacritics ignored), the exact-match title
 * key, and character-trigram similarity for fuzzy lookups. Also used by ranking and title completion.
 */
/** Lower case, no diacritics, NFKD-compatible folding: "Müller" → "muller". */
export function foldText(s: string): string {
  return s.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase();
}

/** Title key for exact matching: case, whitespace, punctuation and diacritics ignored. */
export function titleKey(title: string): string {
  return (foldText(title).match(/[\p{L}\p{N}]+/gu) ?? []).join(" ");
}

/** The character trigrams of a string, in order (with repeats). */
export function trigrams(s: string): string[] {
  const chars = Array.from(s);
  const out: string[] = [];
  for (let i = 0; i + 3 <= chars.length; i++) out.push(chars.slice(i, i + 3).join(""));
  return out;
}

/** Character-trigram Dice similarity of two already-normalised strings (multiset), 0..1. */
export function trigramDice(a: string, b: string): number {
  if (a === b) return 1;
  const grams = (s: string) => {
    const padded = `  ${s} `;
    const m = new Map<string, number>();
    const chars = Array.from(padded);
    for (let i = 0; i + 3 <= chars.length; i++) {
      const g = chars.slice(i, i + 3).join("");
      m.set(g, (m.get(g) ?? 0) + 1);
    }
    return { m, n: Math.max(0, chars.length - 2) };
  };
  const A = grams(a);
  const B = grams(b);
  if (A.n + B.n === 0) return 0;
  let inter = 0;
  for (const [g, c] of A.m) inter += Math.min(c, B.m.get(g) ?? 0);
  return (2 * inter) / (A.n + B.n);
}
