/**
 * What text a paper's vector is built from: the title followed by packed sentence windows, at most
 * MAX_PASSAGES of them. Kept apart from PaperIndex so that tools measuring embeddings (the digest
 * calibration, evaluations) build exactly the passages the index does.
 */
import type { Embedder } from "../embed/types.js";
import { splitPassages, splitSentences } from "../embed/passages.js";
import type { Paper } from "../papers/types.js";

/**
 * At most this many passages per paper are embedded (packing whole sentences after the title gives
 * 4.8 windows per arXiv abstract on average; text past the cap is still in BM25). A paper's vector is
 * the normalised mean of its passage vectors: one vector per paper. SciFact train, dense only, exact
 * search: best passage nDCG@10 0.272 / Recall@100 0.588, mean 0.269 / 0.593, first passage alone
 * 0.233 / 0.531. The mean is as good as the best passage at a third of the vectors (140k papers:
 * 414k → 140k vectors, 909 → ~310 MB of HNSW), which is what makes load time and /related fast.
 */
export const MAX_PASSAGES = 3;

/** More characters than any one token spans (word pieces are shorter): bounds the text passages can reach. */
const MAX_CHARS_PER_TOKEN = 32;

/**
 * Text of each passage: the title, then as many whole sentences as fit the model's window
 * (greedy packing; a sentence longer than the window is split at word boundaries).
 * SciFact, dense only: title + packed windows nDCG@10 0.301, the whole text cut at 128 tokens 0.234.
 */
export function passageTextsOf(
  paper: Pick<Paper, "title" | "abstract">,
  embedder: Pick<Embedder, "maxTokens" | "countTokens">,
  maxPassages: number = MAX_PASSAGES,
): string[] {
  const title = paper.title.trim();
  const prefix = title ? `${title}. ` : "";
  const count = (t: string) => embedder.countTokens(t);
  const room = Math.max(16, embedder.maxTokens - count(prefix));
  // Only the start of the text can reach the windows: splitting all of a long abstract cost ~9 s per MB.
  const reach = maxPassages * embedder.maxTokens * MAX_CHARS_PER_TOKEN;
  const text = paper.abstract.length > reach ? paper.abstract.slice(0, reach) : paper.abstract;
  const pieces = splitSentences(text).flatMap((s) => (count(s) <= room ? [s] : splitPassages(s, { maxTokens: room, countTokens: count, windowSentences: 1 })));
  const windows: string[] = [];
  let current = "";
  for (const piece of pieces) {
    const joined = current ? `${current} ${piece}` : piece;
    if (!current || count(joined) <= room) {
      current = joined;
      continue;
    }
    windows.push(current);
    if (windows.length === maxPassages) break;
    current = piece;
  }
  if (current && windows.length < maxPassages) windows.push(current);
  return windows.length > 0 ? windows.map((w) => prefix + w) : [title];
}
