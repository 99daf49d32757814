/**
 * BM25 over title and abstract, in memory: postings (term → papers) built from the per-paper term
 * data the store keeps (text-analysis.ts), scored term by term into an accumulator.
 *
 * Why not SQLite FTS5's bm25(): it scores every paper matching any query term and counts each term's
 * papers by walking its whole posting list, per query, through a callback per row. At 140k arXiv
 * papers that was 45 ms per search (p50) and 500 ms per /related query (64 terms). Here a search
 * touches the same postings as flat typed arrays with precomputed length norms: see
 * docs/benchmarks.md, "Search at scale", for the figures. Scores follow FTS5's bm25 exactly (k1 1.2, b 0.75, idf
 * ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6, column-weighted term frequency, document length =
 * all words of title and abstract), so quality measured before carries over.
 */
import { decodeTermDataInto, TermDataScratch, type TermData } from "./text-analysis.js";

export interface Bm25Options {
  k1?: number;
  b?: number;
  /** Weight of a title occurrence relative to an abstract one (FTS5 column weights). */
  titleWeight?: number;
  abstractWeight?: number;
}

export interface Bm25Document {
  rowid: number;
  /** Term data blob (encodeTermData). */
  data: Uint8Array;
}

export interface QueryTerm {
  id: number;
  /** Multiplies the term's score; default 1. */
  weight?: number;
}

export interface Bm25Hit {
  rowid: number;
  score: number;
}

const IDF_FLOOR = 1e-6;

export class Bm25Index {
  readonly docCount: number;
  private readonly k1: number;
  private readonly rowidOfSlot: Int32Array;
  /** k1 · (1 − b + b · length / avgLength) per paper: the length part of BM25's denominator. */
  private readonly lengthNorm: Float32Array;
  /** Postings of term t are [termStart[t], termStart[t + 1]). */
  private readonly termStart: Int32Array;
  private readonly postingSlot: Int32Array;
  /** Column-weighted term frequency of each posting. */
  private readonly postingTf: Float32Array;
  /** Scratch: per-paper score of the query being run (kept zeroed between queries). */
  private readonly acc: Float64Array;
  private readonly touched: Int32Array;

  private readonly b: number;
  private readonly avgLength: number;
  private readonly wTitle: number;
  private readonly wAbstract: number;

  private constructor(parts: {
    k1: number;
    b: number;
    avgLength: number;
    wTitle: number;
    wAbstract: number;
    rowidOfSlot: Int32Array;
    lengthNorm: Float32Array;
    termStart: Int32Array;
    postingSlot: Int32Array;
    postingTf: Float32Array;
  }) {
    this.k1 = parts.k1;
    this.b = parts.b;
    this.avgLength = parts.avgLength;
    this.wTitle = parts.wTitle;
    this.wAbstract = parts.wAbstract;
    this.rowidOfSlot = parts.rowidOfSlot;
    this.lengthNorm = parts.lengthNorm;
    this.termStart = parts.termStart;
    this.postingSlot = parts.postingSlot;
    this.postingTf = parts.postingTf;
    this.docCount = parts.rowidOfSlot.length;
    this.acc = new Float64Array(this.docCount);
    this.touched = new Int32Array(this.docCount);
  }

  /**
   * Builds the postings from every paper's term data: counts while reading (the documents can be a
   * stream straight from SQLite), then fills.
   */
  static build(documents: Iterable<Bm25Document>, opts: Bm25Options = {}): Bm25Index {
    const k1 = opts.k1 ?? 1.2;
    const b = opts.b ?? 0.75;
    const wTitle = opts.titleWeight ?? 2;
    const wAbstract = opts.abstractWeight ?? 1;
    const data: Uint8Array[] = [];
    const rowids: number[] = [];
    const lengthList: number[] = [];
    const scratch = new TermDataScratch();
    let df = new Int32Array(1024);
    let maxId = -1;
    let totalLength = 0;
    let postings = 0;
    for (const doc of documents) {
      data.push(doc.data);
      rowids.push(doc.rowid);
      decodeTermDataInto(doc.data, scratch);
      const { ids, count } = scratch;
      if (count > 0 && ids[count - 1]! >= df.length) {
        let size = df.length;
        while (size <= ids[count - 1]!) size *= 2;
        const grown = new Int32Array(size);
        grown.set(df);
        df = grown;
      }
      for (let i = 0; i < count; i++) df[ids[i]!]! += 1;
      if (count > 0 && ids[count - 1]! > maxId) maxId = ids[count - 1]!;
      postings += count;
      lengthList.push(scratch.titleLength + scratch.abstractLength);
      totalLength += scratch.titleLength + scratch.abstractLength;
    }
    const n = data.length;
    const rowidOfSlot = Int32Array.from(rowids);
    const termStart = new Int32Array(maxId + 2);
    for (let t = 0; t <= maxId; t++) termStart[t + 1] = termStart[t]! + df[t]!;
    const fill = termStart.slice(0, maxId + 1);
    const postingSlot = new Int32Array(postings);
    const postingTf = new Float32Array(postings);
    for (let slot = 0; slot < n; slot++) {
      decodeTermDataInto(data[slot]!, scratch);
      const { ids, tfTitle, tfAbstract, count } = scratch;
      for (let i = 0; i < count; i++) {
        const at = fill[ids[i]!]!++;
        postingSlot[at] = slot;
        postingTf[at] = wTitle * tfTitle[i]! + wAbstract * tfAbstract[i]!;
      }
    }
    const avg = n > 0 ? totalLength / n : 0;
    const lengthNorm = new Float32Array(n);
    for (let slot = 0; slot < n; slot++) lengthNorm[slot] = k1 * (1 - b + (avg > 0 ? (b * lengthList[slot]!) / avg : 0));
    return new Bm25Index({ k1, b, avgLength: avg, wTitle, wAbstract, rowidOfSlot, lengthNorm, termStart, postingSlot, postingTf });
  }

  /**
   * The BM25 score search() would give a paper with this term data: for scoring a few known papers
   * (a digest's new papers) without walking the terms' whole posting lists.
   */
  scoreTermData(terms: readonly QueryTerm[], data: TermData): number {
    const length = data.titleLength + data.abstractLength;
    const norm = this.k1 * (1 - this.b + (this.avgLength > 0 ? (this.b * length) / this.avgLength : 0));
    let score = 0;
    for (const term of terms) {
      const at = binarySearch(data.ids, term.id);
      if (at < 0) continue;
      const tf = this.wTitle * data.tfTitle[at]! + this.wAbstract * data.tfAbstract[at]!;
      if (tf === 0) continue;
      score += (this.idf(term.id) * (term.weight ?? 1) * (this.k1 + 1) * tf) / (tf + norm);
    }
    return score;
  }

  /**
   * The share of the terms' idf carried by those `data` contains (0 when the terms carry none): how
   * much of a query a paper covers, so that one common word shared is not a match (the digest).
   */
  idfCoverage(terms: readonly QueryTerm[], data: TermData): number {
    let total = 0;
    let covered = 0;
    for (const term of terms) {
      const idf = this.idf(term.id);
      total += idf;
      if (binarySearch(data.ids, term.id) >= 0) covered += idf;
    }
    return total > 0 ? covered / total : 0;
  }

  /** Papers containing the term. */
  documentFrequency(termId: number): number {
    if (!(termId >= 0 && termId + 1 < this.termStart.length)) return 0;
    return this.termStart[termId + 1]! - this.termStart[termId]!;
  }

  idf(termId: number): number {
    const n = this.documentFrequency(termId);
    if (n === 0) return 0;
    return Math.max(IDF_FLOOR, Math.log((this.docCount - n + 0.5) / (n + 0.5)));
  }

  /**
   * The `k` best papers for the terms (higher score = better; ties by rowid), only papers `accept`
   * lets through when given. Papers matching no term are never returned.
   */
  search(terms: readonly QueryTerm[], k: number, accept?: (rowid: number) => boolean): Bm25Hit[] {
    const limit = Math.floor(k);
    if (!(limit > 0) || this.docCount === 0) return [];
    const { acc, touched, postingSlot, postingTf, lengthNorm } = this;
    const k1plus1 = this.k1 + 1;
    let nTouched = 0;
    for (const term of terms) {
      const idf = this.idf(term.id);
      if (idf === 0) continue;
      const w = idf * (term.weight ?? 1) * k1plus1;
      const end = this.termStart[term.id + 1]!;
      for (let i = this.termStart[term.id]!; i < end; i++) {
        const slot = postingSlot[i]!;
        const tf = postingTf[i]!;
        if (tf === 0) continue; // only in a column weighted 0
        if (acc[slot] === 0) touched[nTouched++] = slot;
        acc[slot]! += (w * tf) / (tf + lengthNorm[slot]!);
      }
    }
    const heap = new TopK(limit);
    for (let i = 0; i < nTouched; i++) {
      const slot = touched[i]!;
      const score = acc[slot]!;
      acc[slot] = 0;
      const rowid = this.rowidOfSlot[slot]!;
      if (heap.wouldTake(score, rowid) && (!accept || accept(rowid))) heap.push(score, rowid);
    }
    return heap.sorted();
  }
}

/** The k best (score desc, rowid asc) of a stream, in a binary min-heap of the current worst at the top. */
class TopK {
  private readonly scores: number[] = [];
  private readonly rowids: number[] = [];
  constructor(private readonly k: number) {}

  /** Whether (score, rowid) would enter the current top k. */
  wouldTake(score: number, rowid: number): boolean {
    return this.scores.length < this.k || better(score, rowid, this.scores[0]!, this.rowids[0]!);
  }

  push(score: number, rowid: number): void {
    const s = this.scores;
    const r = this.rowids;
    if (s.length < this.k) {
      s.push(score);
      r.push(rowid);
      let i = s.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!better(s[parent]!, r[parent]!, s[i]!, r[i]!)) break;
        swap(s, r, i, parent);
        i = parent;
      }
      return;
    }
    s[0] = score;
    r[0] = rowid;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < s.length && better(s[worst]!, r[worst]!, s[left]!, r[left]!)) worst = left;
      if (right < s.length && better(s[worst]!, r[worst]!, s[right]!, r[right]!)) worst = right;
      if (worst === i) break;
      swap(s, r, i, worst);
      i = worst;
    }
  }

  sorted(): Bm25Hit[] {
    return this.scores.map((score, i) => ({ rowid: this.rowids[i]!, score })).sort((a, b) => b.score - a.score || a.rowid - b.rowid);
  }
}

function better(scoreA: number, rowidA: number, scoreB: number, rowidB: number): boolean {
  return scoreA > scoreB || (scoreA === scoreB && rowidA < rowidB);
}

function swap(s: number[], r: number[], i: number, j: number): void {
  [s[i], s[j]] = [s[j]!, s[i]!];
  [r[i], r[j]] = [r[j]!, r[i]!];
}

function binarySearch(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
