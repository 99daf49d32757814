/**
 * BM25 over title and abstract, in memory: postings (term → papers) built from the per-paper term
 * data the store keeps (text-analysis.ts), scored term by term into an accumulator (rarest first,
 * with top-k pruning: see search). An index is also brought up to date with changed papers
 * (`withChanges`, no term data decoded but the changed papers'), and saved to and read from a file
 * (bm25-file.ts). Papers added after all others (an indexer's usual commit) go into a small second
 * block of postings, the tail, searched with the main one: the main postings (0.7 GB at a million
 * papers) are shared with the index before, not copied, so a bot's refresh does not hold them
 * twice. The tail is folded in once it grows to 1/TAIL_FOLD of the main postings; a replaced paper
 * folds it too and merges (linear in the postings).
 *
 * Why not SQLite FTS5's bm25(): it scores every paper matching any query term and counts each term's
 * papers by walking its whole posting list, per query, through a callback per row. At 140k arXiv
 * papers that was 45 ms per search (p50) and 500 ms per /related query (64 terms). Here a search
 * touches the same postings as flat typed arrays with precomputed length norms: see
 * docs/benchmarks.md, "Search at scale", for the figures. Scores follow FTS5's bm25 (k1 1.2, b 0.75, idf
 * ln((N - n + 0.5) / (n + 0.5)) floored at 1e-6, column-weighted term frequency, document length =
 * all words of title and abstract; summed in float32, see `acc`), so quality measured before carries over.
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

/** What an index is made of: enough to save it, read it back, or merge changes into it. */
export interface Bm25Parts {
  k1: number;
  b: number;
  wTitle: number;
  wAbstract: number;
  /** Row id of each slot, ascending. */
  rowidOfSlot: Int32Array;
  /** Words in title and abstract of each slot (BM25's document length). */
  docLength: Int32Array;
  /** Postings of term t are [termStart[t], termStart[t + 1]), in ascending slot order. */
  termStart: Int32Array;
  postingSlot: Int32Array;
  /** Column-weighted term frequency of each posting. */
  postingTf: Float32Array;
}

const IDF_FLOOR = 1e-6;
/** A pruning bound is raised by this before it is compared (float32 sums round; see search). */
const PRUNE_MARGIN = 1 + 1e-4;
/** The k-th best score pruning compares with is taken over the first KTH_SAMPLE · k papers touched. */
const KTH_SAMPLE = 16;
/** Candidates are looked up in a term's postings by galloping when they are under 1/GALLOP_BELOW of them. */
const GALLOP_BELOW = 4;
/** The tail is folded into the main postings once it holds more than 1/TAIL_FOLD as many. */
const TAIL_FOLD = 8;

/** Postings of term t are [start[t], start[t + 1]) of slot and tf, in ascending slot order. */
interface PostingBlock {
  start: Int32Array;
  slot: Int32Array;
  tf: Float32Array;
}

const NO_POSTINGS: PostingBlock = { start: new Int32Array(1), slot: new Int32Array(0), tf: new Float32Array(0) };

export class Bm25Index {
  readonly docCount: number;
  private readonly k1: number;
  private readonly rowidOfSlot: Int32Array;
  private readonly docLength: Int32Array;
  /** k1 · (1 − b + b · length / avgLength) per paper: the length part of BM25's denominator. */
  private readonly lengthNorm: Float32Array;
  /** The main postings (column-weighted term frequency in tf); replaced by one block when the tail is folded into it. */
  private main: PostingBlock;
  /** Postings of papers added after all of main's, at slots after main's (empty: NO_POSTINGS). */
  private tail: PostingBlock;
  /**
   * Scratch: per-paper score of the query being run (kept zeroed between queries). Float32: it is
   * read and written at random, and at a million papers 4 MB instead of 8 made /related's BM25 a
   * third faster (p50 15 → 11 ms, p99 30-38 → 18-22); a sum of a query's terms then differs from
   * the float64 one by at most about 1e-6 of the score.
   */
  private readonly acc: Float32Array;
  private readonly touched: Int32Array;
  /** Searches that stopped walking whole posting lists (top-k pruning; tests and benchmarks). */
  prunedSearches = 0;
  /** Scratch of kthLargest (grown as needed). */
  private kthScratch = new Float32Array(0);

  private readonly b: number;
  private readonly avgLength: number;
  private readonly wTitle: number;
  private readonly wAbstract: number;

  constructor(parts: Bm25Parts, tail: PostingBlock = NO_POSTINGS) {
    this.k1 = parts.k1;
    this.b = parts.b;
    this.wTitle = parts.wTitle;
    this.wAbstract = parts.wAbstract;
    this.rowidOfSlot = parts.rowidOfSlot;
    this.docLength = parts.docLength;
    this.main = { start: parts.termStart, slot: parts.postingSlot, tf: parts.postingTf };
    this.tail = tail;
    const n = parts.rowidOfSlot.length;
    this.docCount = n;
    let total = 0;
    for (let slot = 0; slot < n; slot++) total += parts.docLength[slot]!;
    const avg = n > 0 ? total / n : 0;
    this.avgLength = avg;
    const { k1, b } = parts;
    this.lengthNorm = new Float32Array(n);
    for (let slot = 0; slot < n; slot++) this.lengthNorm[slot] = k1 * (1 - b + (avg > 0 ? (b * parts.docLength[slot]!) / avg : 0));
    this.acc = new Float32Array(n);
    this.touched = new Int32Array(n);
  }

  /**
   * The arrays the index is made of (shared, not copied: do not modify them). A tail is folded into
   * the main postings first (the index keeps the folded block: saving does not leave two copies).
   */
  parts(): Bm25Parts {
    this.foldTail();
    const { k1, b, wTitle, wAbstract, rowidOfSlot, docLength } = this;
    return { k1, b, wTitle, wAbstract, rowidOfSlot, docLength, termStart: this.main.start, postingSlot: this.main.slot, postingTf: this.main.tf };
  }

  /** Whether the index holds the paper with this row id. */
  hasRowid(rowid: number): boolean {
    return binarySearch(this.rowidOfSlot, rowid) >= 0;
  }

  /** Postings in the index (one per paper and distinct term). */
  get postingCount(): number {
    return this.main.slot.length + this.tail.slot.length;
  }

  /** Makes the tail part of the main postings (same index, one block). */
  private foldTail(): void {
    if (this.tail === NO_POSTINGS) return;
    this.main = appendPostings(this.main, this.tail);
    this.tail = NO_POSTINGS;
  }

  /** Of those, postings in the tail (papers added since the main postings were made; see the file comment). */
  get tailPostingCount(): number {
    return this.tail.slot.length;
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
    let postings = 0;
    for (const doc of documents) {
      data.push(doc.data);
      rowids.push(doc.rowid);
      decodeTermDataInto(doc.data, scratch);
      const { ids, count } = scratch;
      if (count > 0 && ids[count - 1]! >= df.length) df = grownTo(df, ids[count - 1]! + 1);
      for (let i = 0; i < count; i++) df[ids[i]!]! += 1;
      if (count > 0 && ids[count - 1]! > maxId) maxId = ids[count - 1]!;
      postings += count;
      lengthList.push(scratch.titleLength + scratch.abstractLength);
    }
    const n = data.length;
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
    return new Bm25Index({ k1, b, wTitle, wAbstract, rowidOfSlot: Int32Array.from(rowids), docLength: Int32Array.from(lengthList), termStart, postingSlot, postingTf });
  }

  /**
   * This index with `changed` papers added or, where their row id is already here, replaced: the
   * same index `build` would make from all papers' current term data (same slots, scores, and
   * posting order once folded), made without decoding any paper but the changed ones. Papers only
   * added after every one here share this index's main postings and go into its tail; otherwise one
   * pass over the postings merges them. Papers are never deleted from a store, so there is no removal.
   */
  withChanges(changed: Iterable<Bm25Document>): Bm25Index {
    // The changed papers, by row id (the last of two with one row id wins), decoded once.
    const byRowid = new Map<number, Uint8Array>();
    for (const doc of changed) byRowid.set(doc.rowid, doc.data);
    if (byRowid.size === 0) return this;
    const changedRowids = Int32Array.from(byRowid.keys()).sort();
    // Papers only added after every old one (an indexer's usual commit): old postings keep their slots.
    const nOld = this.rowidOfSlot.length;
    const appendOnly = nOld === 0 || changedRowids[0]! > this.rowidOfSlot[nOld - 1]!;
    // A merge walks one block of postings.
    if (!appendOnly) this.foldTail();
    const scratch = new TermDataScratch();
    const changedIds: Int32Array[] = [];
    const changedTf: Float32Array[] = [];
    const changedLength = new Int32Array(changedRowids.length);
    let maxId = Math.max(this.main.start.length, this.tail.start.length) - 2;
    for (let j = 0; j < changedRowids.length; j++) {
      decodeTermDataInto(byRowid.get(changedRowids[j]!)!, scratch);
      const { ids, tfTitle, tfAbstract, count } = scratch;
      const tf = new Float32Array(count);
      for (let i = 0; i < count; i++) tf[i] = this.wTitle * tfTitle[i]! + this.wAbstract * tfAbstract[i]!;
      changedIds.push(Int32Array.from(ids.subarray(0, count)));
      changedTf.push(tf);
      changedLength[j] = scratch.titleLength + scratch.abstractLength;
      if (count > 0 && ids[count - 1]! > maxId) maxId = ids[count - 1]!;
    }

    // New slots: the old row ids and the changed ones, merged in ascending order.
    const oldRowids = this.rowidOfSlot;
    const oldToNew = new Int32Array(nOld);
    const changedSlot = new Int32Array(changedRowids.length);
    const rowidOfSlot = new Int32Array(nOld + changedRowids.length);
    const docLength = new Int32Array(nOld + changedRowids.length);
    let n = 0;
    let replaced = 0;
    for (let i = 0, j = 0; i < nOld || j < changedRowids.length; ) {
      const oldRowid = i < nOld ? oldRowids[i]! : Infinity;
      const newRowid = j < changedRowids.length ? changedRowids[j]! : Infinity;
      if (oldRowid < newRowid) {
        oldToNew[i] = n;
        rowidOfSlot[n] = oldRowid;
        docLength[n++] = this.docLength[i++]!;
      } else {
        if (oldRowid === newRowid) {
          oldToNew[i++] = -1;
          replaced++;
        }
        changedSlot[j] = n;
        rowidOfSlot[n] = newRowid;
        docLength[n++] = changedLength[j++]!;
      }
    }
    // Fewer slots than allocated when changed papers replaced old ones.
    const slots = { rowidOfSlot: n < rowidOfSlot.length ? rowidOfSlot.slice(0, n) : rowidOfSlot, docLength: n < docLength.length ? docLength.slice(0, n) : docLength };

    // The changed papers' postings per term, in ascending slot order.
    const termCount = maxId + 1;
    const deltaStart = new Int32Array(termCount + 1);
    for (const ids of changedIds) for (let i = 0; i < ids.length; i++) deltaStart[ids[i]! + 1]! += 1;
    for (let t = 0; t < termCount; t++) deltaStart[t + 1]! += deltaStart[t]!;
    const deltaFill = deltaStart.slice(0, termCount);
    const deltaSlot = new Int32Array(deltaStart[termCount]!);
    const deltaTf = new Float32Array(deltaStart[termCount]!);
    for (let j = 0; j < changedIds.length; j++) {
      const ids = changedIds[j]!;
      const tf = changedTf[j]!;
      for (let i = 0; i < ids.length; i++) {
        const at = deltaFill[ids[i]!]!++;
        deltaSlot[at] = changedSlot[j]!;
        deltaTf[at] = tf[i]!;
      }
    }

    const delta: PostingBlock = { start: deltaStart, slot: deltaSlot, tf: deltaTf };
    const params = { k1: this.k1, b: this.b, wTitle: this.wTitle, wAbstract: this.wAbstract, ...slots };
    if (appendOnly) {
      const tail = appendPostings(this.tail, delta);
      if (tail.slot.length * TAIL_FOLD <= this.main.slot.length) return new Bm25Index({ ...params, termStart: this.main.start, postingSlot: this.main.slot, postingTf: this.main.tf }, tail);
      const main = appendPostings(this.main, tail);
      return new Bm25Index({ ...params, termStart: main.start, postingSlot: main.slot, postingTf: main.tf });
    }

    // Postings per term: the old ones that stay (at their new slots) merged with the changed ones (the tail was folded).
    const { start: oldStart, slot: oldSlot, tf: oldTf } = this.main;
    const oldTerms = oldStart.length - 1;
    const termStart = new Int32Array(termCount + 1);
    for (let t = 0; t < termCount; t++) {
      let kept = 0;
      if (t < oldTerms) {
        if (replaced === 0) kept = oldStart[t + 1]! - oldStart[t]!;
        else for (let p = oldStart[t]!; p < oldStart[t + 1]!; p++) if (oldToNew[oldSlot[p]!]! >= 0) kept++;
      }
      termStart[t + 1] = termStart[t]! + kept + deltaStart[t + 1]! - deltaStart[t]!;
    }
    const postingSlot = new Int32Array(termStart[termCount]!);
    const postingTf = new Float32Array(termStart[termCount]!);
    for (let t = 0; t < termCount; t++) {
      let at = termStart[t]!;
      let p = t < oldTerms ? oldStart[t]! : 0;
      const pEnd = t < oldTerms ? oldStart[t + 1]! : 0;
      let d = deltaStart[t]!;
      const dEnd = deltaStart[t + 1]!;
      while (p < pEnd || d < dEnd) {
        const oldSlotHere = p < pEnd ? oldToNew[oldSlot[p]!]! : Infinity;
        if (oldSlotHere === -1) {
          p++;
          continue;
        }
        const newSlot = d < dEnd ? deltaSlot[d]! : Infinity;
        if (oldSlotHere < newSlot) {
          postingSlot[at] = oldSlotHere;
          postingTf[at++] = oldTf[p++]!;
        } else {
          postingSlot[at] = newSlot;
          postingTf[at++] = deltaTf[d++]!;
        }
      }
    }
    return new Bm25Index({ ...params, termStart, postingSlot, postingTf });
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
    return postingsOf(this.main, termId) + postingsOf(this.tail, termId);
  }

  idf(termId: number): number {
    const n = this.documentFrequency(termId);
    if (n === 0) return 0;
    return Math.max(IDF_FLOOR, Math.log((this.docCount - n + 0.5) / (n + 0.5)));
  }

  /** Adds one term's BM25 part for the papers of its postings in `block`; returns the touched count. */
  private accumulate(block: PostingBlock, t: number, w: number, nTouched: number): number {
    if (!(t >= 0 && t + 1 < block.start.length)) return nTouched;
    const { acc, touched, lengthNorm } = this;
    const { slot: postingSlot, tf: postingTf } = block;
    const end = block.start[t + 1]!;
    for (let i = block.start[t]!; i < end; i++) {
      const slot = postingSlot[i]!;
      const tf = postingTf[i]!;
      if (tf === 0) continue; // only in a column weighted 0
      if (acc[slot] === 0) touched[nTouched++] = slot;
      acc[slot]! += (w * tf) / (tf + lengthNorm[slot]!);
    }
    return nTouched;
  }

  /**
   * The `k` best papers for the terms (higher score = better; ties by rowid), only papers `accept`
   * lets through when given. Papers matching no term are never returned.
   *
   * Top-k pruning (MaxScore, term at a time): terms are scored rarest first (highest weight), and
   * once the terms left could add less than the k-th best score so far, no paper they alone match
   * can enter the k best. From then on only the papers that still can (their score so far plus
   * what the terms left could add reaches that k-th score) are looked up in the remaining postings,
   * by galloping search, instead of walking every posting of the common words. The result is the
   * exhaustive one (`prune` false: every posting scored, for tests and benchmarks); with `accept`
   * every posting is scored too (the bound would have to be over accepted papers only).
   */
  search(terms: readonly QueryTerm[], k: number, accept?: (rowid: number) => boolean, prune = true): Bm25Hit[] {
    const limit = Math.floor(k);
    if (!(limit > 0) || this.docCount === 0) return [];
    const { acc, touched } = this;
    const k1plus1 = this.k1 + 1;
    const scored: { id: number; w: number }[] = [];
    let canPrune = prune && !accept;
    for (const term of terms) {
      const idf = this.idf(term.id);
      if (idf === 0) continue;
      const w = idf * (term.weight ?? 1) * k1plus1;
      // A weight of 0 or below breaks the bound (what is left could lower a score).
      if (!(w > 0)) canPrune = false;
      scored.push({ id: term.id, w });
    }
    // Rarest first, pruned or not: the same order of float32 additions gives the same scores.
    scored.sort((a, b) => b.w - a.w || a.id - b.id);
    // left[j]: the most the terms after j can add to any paper (each adds w · tf / (tf + norm) < w).
    const left = new Float64Array(scored.length + 1);
    for (let j = scored.length - 1; j >= 0; j--) left[j] = left[j + 1]! + scored[j]!.w;
    let postingsLeft = 0;
    for (const { id } of scored) postingsLeft += this.documentFrequency(id);
    let nTouched = 0;
    // Once pruning starts: how many papers can still enter the k best (at the front of `touched`),
    // and whether they are in ascending slots (sorted only when few enough to gallop to).
    let candidates = -1;
    let ascending = false;
    // What the k-th best score so far could be: the last one measured plus all that the terms
    // scored since could add (only decides when to measure; pruning uses what was measured).
    let kthGuess = 0;
    // When to try (passes are reads at random, and a /related query of 25 similar terms rarely
    // prunes): once what is left weighs under half of what was scored, and after a pass that could
    // not prune, once what is left has halved again.
    let tryBelow = Infinity;
    for (let j = 0; j < scored.length; j++) {
      const { id, w } = scored[j]!;
      postingsLeft -= this.documentFrequency(id);
      if (candidates >= 0) {
        this.accumulateInto(this.main, id, w, candidates, ascending);
        if (this.tail !== NO_POSTINGS) this.accumulateInto(this.tail, id, w, candidates, ascending);
        continue;
      }
      nTouched = this.accumulate(this.main, id, w, nTouched);
      if (this.tail !== NO_POSTINGS) nTouched = this.accumulate(this.tail, id, w, nTouched);
      kthGuess += w;
      // A pass over the scores is worth it only when what is left could be beaten (not while it
      // weighs as much as the k-th score may be) and walking it would cost well more than the pass.
      // Margins of 1e-4 cover float32 rounding of the sums (about 1e-7 per addition).
      const rest = left[j + 1]!;
      if (!canPrune || rest === 0 || rest * PRUNE_MARGIN >= kthGuess || rest > tryBelow || 2 * rest > left[0]! - rest || nTouched < limit || postingsLeft < 2 * nTouched) continue;
      // The k-th best of the first papers touched (those of the rarest terms, the likely best) is
      // a lower bound of the k-th best of all, at a fraction of the pass.
      const sample = Math.min(nTouched, KTH_SAMPLE * limit);
      if (this.kthScratch.length < sample) this.kthScratch = new Float32Array(sample);
      const kth = kthLargest(acc, touched, sample, limit, this.kthScratch);
      kthGuess = kth;
      if (rest * PRUNE_MARGIN >= kth) {
        tryBelow = rest / 2;
        continue;
      }
      let kept = 0;
      for (let i = 0; i < nTouched; i++) {
        const slot = touched[i]!;
        if ((acc[slot]! + rest) * PRUNE_MARGIN >= kth) touched[kept++] = slot;
        else acc[slot] = 0;
      }
      // Sorting tens of thousands of candidates costs more than walking the postings left.
      ascending = kept * GALLOP_BELOW <= postingsLeft / (scored.length - j - 1);
      if (ascending) touched.subarray(0, kept).sort();
      candidates = nTouched = kept;
      this.prunedSearches++;
    }
    const heap = new TopK(limit);
    // Once the heap is full, a paper scoring below its worst cannot enter: its row id (a read at
    // random in a 4 MB array at a million papers) is not needed.
    let floor = -Infinity;
    for (let i = 0; i < nTouched; i++) {
      const slot = touched[i]!;
      const score = acc[slot]!;
      acc[slot] = 0;
      if (score < floor) continue;
      const rowid = this.rowidOfSlot[slot]!;
      if (heap.wouldTake(score, rowid) && (!accept || accept(rowid))) {
        heap.push(score, rowid);
        floor = heap.worstScore;
      }
    }
    return heap.sorted();
  }

  /**
   * Adds one term's BM25 part to the first `count` papers of `touched` (ascending slots) that have
   * a posting for it in `block`: each found by galloping forward from the last one found, or, when
   * they are not far fewer than the postings or not in ascending order, by walking the postings
   * (only papers scored so far, acc ≠ 0, are candidates: the others were zeroed or never touched).
   */
  private accumulateInto(block: PostingBlock, t: number, w: number, count: number, ascending: boolean): void {
    if (!(t >= 0 && t + 1 < block.start.length)) return;
    const { acc, touched, lengthNorm } = this;
    const { slot: postingSlot, tf: postingTf } = block;
    const end = block.start[t + 1]!;
    let p = block.start[t]!;
    if (!ascending || count * GALLOP_BELOW > end - p) {
      for (; p < end; p++) {
        const slot = postingSlot[p]!;
        const tf = postingTf[p]!;
        if (acc[slot] !== 0 && tf !== 0) acc[slot]! += (w * tf) / (tf + lengthNorm[slot]!);
      }
      return;
    }
    for (let c = 0; c < count && p < end; c++) {
      const slot = touched[c]!;
      if (postingSlot[p]! < slot) {
        // Gallop: postingSlot[p] < slot ≤ postingSlot[hi] (or hi = end), then binary search between.
        let step = 1;
        let hi = p + 1;
        while (hi < end && postingSlot[hi]! < slot) {
          p = hi;
          step *= 2;
          hi = p + step;
        }
        let lo = p + 1;
        if (hi > end) hi = end;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (postingSlot[mid]! < slot) lo = mid + 1;
          else hi = mid;
        }
        p = lo;
      }
      if (p < end && postingSlot[p] === slot) {
        const tf = postingTf[p++]!;
        if (tf !== 0) acc[slot]! += (w * tf) / (tf + lengthNorm[slot]!);
      }
    }
  }
}

/**
 * The k-th largest of the scores of the first n papers of `slots` (k ≤ n): copied into `scratch`,
 * then selected in place (Hoare's quickselect; linear on average).
 */
function kthLargest(scores: Float32Array, slots: Int32Array, n: number, k: number, scratch: Float32Array): number {
  for (let i = 0; i < n; i++) scratch[i] = scores[slots[i]!]!;
  // The element that would sit at `want` if sorted descending.
  const want = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = scratch[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i]! > pivot) i++;
      while (scratch[j]! < pivot) j--;
      if (i <= j) {
        const v = scratch[i]!;
        scratch[i++] = scratch[j]!;
        scratch[j--] = v;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return scratch[want]!;
  }
  return scratch[want]!;
}

/** Papers with postings for term t in the block. */
function postingsOf(block: PostingBlock, t: number): number {
  return t >= 0 && t + 1 < block.start.length ? block.start[t + 1]! - block.start[t]! : 0;
}

/**
 * Each term's postings of `a`, then of `b` (whose papers all sit at later slots), as one block:
 * `a` copied in runs between the terms `b` has postings for (a copy per term costs more than the
 * copying itself at 10^6 terms).
 */
function appendPostings(a: PostingBlock, b: PostingBlock): PostingBlock {
  const aTerms = a.start.length - 1;
  const bTerms = b.start.length - 1;
  const termCount = Math.max(aTerms, bTerms);
  const start = new Int32Array(termCount + 1);
  for (let t = 0; t < termCount; t++) start[t + 1] = start[t]! + postingsOf(a, t) + postingsOf(b, t);
  const slot = new Int32Array(start[termCount]!);
  const tf = new Float32Array(start[termCount]!);
  let aPos = 0;
  let at = 0;
  const copyA = (end: number) => {
    slot.set(a.slot.subarray(aPos, end), at);
    tf.set(a.tf.subarray(aPos, end), at);
    at += end - aPos;
    aPos = end;
  };
  for (let t = 0; t < bTerms; t++) {
    const from = b.start[t]!;
    const to = b.start[t + 1]!;
    if (from === to) continue;
    copyA(t < aTerms ? a.start[t + 1]! : a.slot.length);
    slot.set(b.slot.subarray(from, to), at);
    tf.set(b.tf.subarray(from, to), at);
    at += to - from;
  }
  copyA(a.slot.length);
  return { start, slot, tf };
}

/** The k best (score desc, rowid asc) of a stream, in a binary min-heap of the current worst at the top. */
class TopK {
  private readonly scores: number[] = [];
  private readonly rowids: number[] = [];
  constructor(private readonly k: number) {}

  /** The lowest score held once k are held (-Infinity before). */
  get worstScore(): number {
    return this.scores.length < this.k ? -Infinity : this.scores[0]!;
  }

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

function grownTo(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  let size = a.length;
  while (size < atLeast) size *= 2;
  const grown = new Int32Array(size);
  grown.set(a);
  return grown;
}

function better(scoreA: number, rowidA: number, scoreB: number, rowidB: number): boolean {
  return scoreA > scoreB || (scoreA === scoreB && rowidA < rowidB);
}

function swap(s: number[], r: number[], i: number, j: number): void {
  [s[i], s[j]] = [s[j]!, s[i]!];
  [r[i], r[j]] = [r[j]!, r[i]!];
}

function binarySearch(sorted: ArrayLike<number>, value: number): number {
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
