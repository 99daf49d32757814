/** What the chat load benchmarks (bench:discord, bench:slack) send: the same mix on both platforms. */
import type { PaperStore } from "../src/search/paper-store.js";

export interface PaperRef {
  id: string;
  title: string;
}

/** `count` stored papers picked at random (rowids are sparse after updates: misses are retried). */
export function pickPaperRefs(store: PaperStore, count: number, rand: () => number): PaperRef[] {
  const maxRowid = store.paperCountHint() * 2 + 10;
  const refs: PaperRef[] = [];
  for (let i = 0; refs.length < count && i < 100 * count; i++) {
    const p = store.getByRowid(1 + Math.floor(rand() * maxRowid));
    if (p) refs.push({ id: p.id, title: p.title });
  }
  return refs;
}

/** A /paper query: 3 to 6 consecutive words of the paper's title ("learning" for an empty title). */
export function titleSpan(title: string, rand: () => number): string {
  const words = title.split(/\s+/).filter(Boolean);
  const len = 3 + Math.floor(rand() * 4);
  const from = Math.floor(rand() * Math.max(1, words.length - len));
  return words.slice(from, from + len).join(" ") || "learning";
}
