/**
 * The real search of an index, answered after `ms` (a slow search: one caught in flight, or one
 * slower than the bot's deferral). Delays our own search; replaces nothing of it.
 */
import type { PaperIndex } from "../../src/search/paper-index.js";
import { searchOnThisThread, type PaperSearch } from "../../src/search/search-threads.js";

export function slowSearch(index: PaperIndex, ms: number): PaperSearch {
  const real = searchOnThisThread(index);
  const later = <T>(f: () => Promise<T>) => new Promise<T>((resolve, reject) => setTimeout(() => f().then(resolve, reject), ms));
  return { search: (q, o) => later(() => real.search(q, o)), related: (r, o) => later(() => real.related(r, o)), resolvePaper: (r) => later(() => real.resolvePaper(r)) };
}
