/**
 * Hard negatives for training: for each training paper, the other training papers our own BM25
 * ranks highest for its title. They share its words but are other papers, so a model that matches
 * words alone cannot tell them from the right one; in-batch negatives (random papers of the batch)
 * are almost always easy by comparison.
 */
import { Bm25Index } from "../src/search/bm25-index.js";
import { encodeTermData, paperTermData, queryTerms } from "../src/search/text-analysis.js";

/** Query terms taken from a title (titles rarely have more). */
const TITLE_TERMS = 32;

export interface NegativePaper {
  title: string;
  abstract: string;
}

/**
 * `perPaper` negatives for each paper, as paper indices in BM25 order (best first), -1 where fewer
 * were found: row i of the result is [i * perPaper, (i + 1) * perPaper). The paper itself is never
 * among its own negatives.
 */
export function mineNegatives(papers: readonly NegativePaper[], perPaper: number, onProgress?: (done: number) => void): Int32Array {
  if (!Number.isInteger(perPaper) || perPaper < 1) throw new RangeError(`perPaper must be a whole number of 1 or more, got ${perPaper}`);
  const termIds = new Map<string, number>();
  const idOf = (term: string): number => {
    let id = termIds.get(term);
    if (id === undefined) termIds.set(term, (id = termIds.size));
    return id;
  };
  const index = Bm25Index.build(papers.map((p, i) => ({ rowid: i, data: encodeTermData(paperTermData(p.title, p.abstract, idOf)) })));
  const out = new Int32Array(papers.length * perPaper).fill(-1);
  papers.forEach((p, i) => {
    const terms = queryTerms(p.title, TITLE_TERMS)
      .map((t) => termIds.get(t))
      .filter((id): id is number => id !== undefined)
      .map((id) => ({ id }));
    let at = i * perPaper;
    for (const hit of index.search(terms, perPaper + 1)) {
      if (hit.rowid === i) continue;
      if (at === (i + 1) * perPaper) break;
      out[at++] = hit.rowid;
    }
    if (i % 1000 === 999) onProgress?.(i + 1);
  });
  onProgress?.(papers.length);
  return out;
}
