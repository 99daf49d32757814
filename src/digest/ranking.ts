/**
 * Which of a day's new papers a channel's digest shows, in what order, and why.
 *
 * Score = topic · (½ dense similarity to the best-matching topic + ½ that topic's BM25 score, scaled
 * to the best candidate) + library · similarity to the channel's library above its floor (the mean
 * of the paper's nearest saved papers, recent saves a little closer) + trending · log-scaled Hugging
 * Face upvotes + feedback · similarity to the channel's votes (liked minus disliked papers' vectors).
 * Papers matching a negative keyword, outside the channel's categories, or already delivered are
 * removed; papers by a followed author come first whatever their score. A paper must be relevant to
 * be shown: match a topic (its words carrying `minTermCoverage` of the topic's idf, or dense
 * similarity ≥ `minDense`), be like the library (≥ `minLibrary`), be trending (≥ `minUpvotes`) or be
 * by a followed author; a day with few such papers gives a short digest, not a padded one. The
 * weights and floors are measured by `npm run eval:digest` (docs/digests.md, "Digest quality").
 */
import type { PaperIndex } from "../search/paper-index.js";
import type { StoredPaper } from "../search/types.js";
import { foldText } from "../search/store/titles.js";
import { queryTerms, type TermData } from "../search/text-analysis.js";
import type { DigestItem, DigestSource, Subscription } from "./digest-store.js";
import { isArxivId } from "../papers/arxiv-id.js";
import { tuningFor } from "../search/model-tuning.js";
import { hnswlib } from "../search/vectors/hnswlib.js";

const { BruteforceSearch } = hnswlib.addon;

export interface RankingWeights {
  topic: number;
  trending: number;
  /** Weight of the similarity to the channel's feedback profile (liked minus disliked papers). */
  feedback: number;
  /** Dense similarity a paper needs to count as matching a topic without any shared word; default: the model's (model-tuning.ts). */
  minDense?: number;
  /**
   * Share of a topic's word weight (the idf of its terms) a paper must contain to match the topic by
   * words: a paper sharing only "networks" with "equivariant networks" does not.
   */
  minTermCoverage: number;
  /** Weight of the library similarity, scaled from the floor (0) to 1. */
  library: number;
  /**
   * The lowest library floor: a channel's floor is the similarity its own library papers reach,
   * each held out from the rest (`libraryFloorPercentile`), never below this; default: the model's
   * (model-tuning.ts).
   */
  minLibrary?: number;
  /** Percentile of the library's held-out similarities taken as its floor: 20 lets ~80% of papers like the library's in. */
  libraryFloorPercentile: number;
  /** How many of a paper's nearest library papers its library similarity averages. */
  libraryNeighbours: number;
  /** Added to a library paper's similarity when saved now, halving every `libraryHalfLifeDays`. */
  libraryRecency: number;
  libraryHalfLifeDays: number;
  /** Upvotes that make a paper worth showing without matching a topic. */
  minUpvotes: number;
  /** Upvotes at which the trending part reaches 1 (log scale). */
  upvotesForFull: number;
}

/** minDense is left to the model (model-tuning.ts): similarities are on each model's own scale. */
export const DEFAULT_WEIGHTS: RankingWeights = Object.freeze({
  topic: 1,
  trending: 0.3,
  feedback: 0.3,
  minTermCoverage: 0.5,
  library: 3,
  libraryFloorPercentile: 20,
  libraryNeighbours: 3,
  libraryRecency: 0.05,
  libraryHalfLifeDays: 90,
  minUpvotes: 20,
  upvotesForFull: 200,
});

/** The newest library papers a digest compares new papers with (each costs a vector read and a dot product per candidate). */
export const MAX_LIBRARY_PAPERS = 1000;

/** The newest library papers whose held-out similarities set the channel's floor (n² dot products). */
const FLOOR_SAMPLE = 300;

/** Below this many library papers in the index, held-out similarities say little: the model's floor alone. */
const MIN_PAPERS_FOR_FLOOR = 5;

/** What a channel told the digest besides its subscription: its votes and its library. */
export interface ChannelProfile {
  liked: readonly string[];
  disliked: readonly string[];
  /** Saved and imported papers, newest first (LibraryStore.list order); those not in the index are skipped. */
  library?: readonly { paperId: string; title: string; savedAt: string }[];
}

export interface RankedPaper {
  paper: StoredPaper;
  score: number;
  parts: { dense: number; bm25: number; library: number; trending: number; feedback: number; followed: boolean; topic?: string; like?: string };
  reason: string;
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function inCategories(paper: StoredPaper, wanted: readonly string[]): boolean {
  if (wanted.length === 0) return true;
  return paper.categories.some((c) => wanted.some((w) => c.toLowerCase() === w.toLowerCase() || c.toLowerCase().startsWith(`${w.toLowerCase()}.`)));
}

/** A keyword phrase excludes a paper containing all of its words (as stems: "surveys" → "survey"). */
function excluded(data: TermData | undefined, keywordIds: readonly (number | undefined)[][]): boolean {
  if (!data || keywordIds.length === 0) return false;
  const ids = new Set(data.ids);
  return keywordIds.some((phrase) => phrase.length > 0 && phrase.every((id) => id !== undefined && ids.has(id)));
}

function followedAuthor(paper: StoredPaper, follow: readonly string[]): string | undefined {
  for (const name of follow) {
    const f = foldText(name).trim();
    if (f && paper.authors.some((a) => foldText(a).includes(f))) return name;
  }
  return undefined;
}

/**
 * Papers new in a window with their vectors, fetched once and shared by every channel with that
 * window (reading a vector from hnswlib costs ~40 µs: 1,000 papers × 1,000 channels would be 40 s).
 */
export class CandidatePool {
  private readonly vectors = new Map<number, Float32Array | undefined>();
  private readonly terms = new Map<number, TermData | undefined>();
  constructor(
    private readonly index: PaperIndex,
    readonly papers: readonly StoredPaper[],
  ) {}

  termDataOf(rowid: number): TermData | undefined {
    if (!this.terms.has(rowid)) this.terms.set(rowid, this.index.store.termDataOf(rowid));
    return this.terms.get(rowid);
  }

  vectorOf(rowid: number): Float32Array | undefined {
    if (!this.vectors.has(rowid)) this.vectors.set(rowid, this.index.paperVector(rowid));
    return this.vectors.get(rowid);
  }
}

/**
 * Whether a paper comes from one of a channel's sources: "hf" papers were featured on Hugging Face
 * daily papers; "arxiv" papers are arXiv papers (those featured on Hugging Face are too). No
 * sources given: any paper.
 */
export function fromSources(paper: StoredPaper, sources: readonly DigestSource[] | undefined): boolean {
  if (!sources || sources.length === 0) return true;
  if (sources.includes("hf") && (paper.trending?.featuredOn !== undefined || paper.source === "hf-daily")) return true;
  return sources.includes("arxiv") && isArxivId(paper.id);
}

/** Ranks candidate papers (already restricted to the digest's window) for one subscription. */
export async function rankForChannel(
  index: PaperIndex,
  sub: Pick<Subscription, "topics" | "categories" | "exclude" | "follow" | "count"> & Partial<Pick<Subscription, "sources">>,
  candidates: readonly StoredPaper[] | CandidatePool,
  weights: RankingWeights = DEFAULT_WEIGHTS,
  profile: ChannelProfile & { asOf?: Date } = { liked: [], disliked: [] },
): Promise<RankedPaper[]> {
  const shared = candidates instanceof CandidatePool ? candidates : new CandidatePool(index, candidates);
  const keywordIds = sub.exclude.map((k) => {
    const words = queryTerms(k, 16);
    const ids = index.store.termIdsOf(words);
    return words.map((w) => ids.get(w));
  });
  const pool = shared.papers.filter((p) => fromSources(p, sub.sources) && inCategories(p, sub.categories) && !excluded(shared.termDataOf(p.rowid), keywordIds));
  if (pool.length === 0) return [];
  const topics = sub.topics.filter((t) => t.trim());
  const topicVectors = topics.length > 0 ? await index.embedder.embed(topics, "query") : [];
  const tuning = tuningFor(index.fingerprint.modelId);
  const minDense = weights.minDense ?? tuning.digestMinDense;
  const liking = feedbackProfile(index, profile);
  const library = loadLibraryVectors(index, shared, profile, weights);
  const minLibrary = libraryFloor(library, weights, weights.minLibrary ?? tuning.digestMinLibrary);
  // BM25 of each topic among the window's papers only, scaled to its best paper there; and the
  // share of the topic's idf each paper's words cover.
  const fullText = index.store.fullTextIndex();
  const byTopic = topics.map((topic) => {
    const terms = [...index.store.termIdsOf(queryTerms(topic, 64)).values()].map((id) => ({ id }));
    const scores = new Map<number, { bm25: number; coverage: number }>();
    let best = 0;
    for (const p of pool) {
      const data = shared.termDataOf(p.rowid);
      const score = data && terms.length > 0 ? fullText.scoreTermData(terms, data) : 0;
      if (score > 0) scores.set(p.rowid, { bm25: score, coverage: fullText.idfCoverage(terms, data!) });
      best = Math.max(best, score);
    }
    for (const s of scores.values()) s.bm25 /= best;
    return scores;
  });
  const ranked: RankedPaper[] = [];
  for (const paper of pool) {
    const vector = shared.vectorOf(paper.rowid);
    let bestTopic = -1;
    let bestTopicScore = -Infinity;
    let dense = 0;
    let bm25 = 0;
    let coverage = 0;
    topics.forEach((_, t) => {
      const d = vector ? dot(topicVectors[t]!, vector) : 0;
      const words = byTopic[t]!.get(paper.rowid);
      const b = words?.bm25 ?? 0;
      const s = 0.5 * d + 0.5 * b;
      if (s > bestTopicScore) {
        bestTopicScore = s;
        bestTopic = t;
        dense = d;
        bm25 = b;
        coverage = words?.coverage ?? 0;
      }
    });
    const upvotes = paper.trending?.upvotes ?? 0;
    const trending = upvotes > 0 ? Math.min(1, Math.log1p(upvotes) / Math.log1p(weights.upvotesForFull)) : 0;
    const follower = followedAuthor(paper, sub.follow);
    const matchesTopic = bestTopic >= 0 && ((bm25 > 0 && coverage >= weights.minTermCoverage) || dense >= minDense);
    const like = vector && library.size > 0 ? library.like(vector, weights.libraryNeighbours, paper.id) : undefined;
    const matchesLibrary = like !== undefined && like.similarity >= minLibrary;
    if (!matchesTopic && !matchesLibrary && upvotes < weights.minUpvotes && !follower) continue;
    const feedback = liking && vector ? dot(liking, vector) : 0;
    const libraryScore = matchesLibrary ? (like.similarity - minLibrary) / Math.max(1e-6, 1 - minLibrary) : 0;
    const score =
      weights.topic * (matchesTopic ? Math.max(0, bestTopicScore) : 0) + weights.library * libraryScore + weights.trending * trending + weights.feedback * feedback;
    const reasons: string[] = [];
    if (follower) reasons.push(`followed author: ${follower}`);
    if (matchesLibrary) reasons.push(`like “${like.nearest}” (${like.similarity.toFixed(2)})`);
    if (matchesTopic) reasons.push(`topic "${topics[bestTopic]}" (${bestTopicScore.toFixed(2)})`);
    if (upvotes > 0) reasons.push(`trending: ${upvotes} upvotes`);
    ranked.push({
      paper,
      score,
      parts: {
        dense,
        bm25,
        library: like?.similarity ?? 0,
        trending,
        feedback,
        followed: follower !== undefined,
        ...(matchesTopic ? { topic: topics[bestTopic]! } : {}),
        ...(matchesLibrary ? { like: like.nearest } : {}),
      },
      reason: reasons.join("; "),
    });
  }
  ranked.sort((a, b) => Number(b.parts.followed) - Number(a.parts.followed) || b.score - a.score || a.paper.rowid - b.paper.rowid);
  return ranked.slice(0, sub.count);
}

export interface LibraryVector {
  paperId: string;
  title: string;
  vector: Float32Array;
  /** Recency bonus added to its similarity. */
  bonus: number;
}

/**
 * A channel's library vectors, searched exactly by hnswlib's native brute-force search: each new
 * paper is compared with every library paper, ~1,500 × 1,000 dot products for a large library,
 * which a JavaScript loop does in 1.5 s; hnswlib's SIMD code is several times faster (exact: no
 * filter is used, which is where its brute force is not exact, vector-index.ts). Each vector gets one more dimension holding its recency bonus (the query's is 1), so the inner
 * product includes the bonus.
 */
export class LibraryVectors {
  readonly size: number;
  private readonly search: InstanceType<typeof BruteforceSearch> | undefined;
  /** The query as hnswlib takes it (a plain array), reused: one per candidate would be garbage. */
  private readonly query: number[] = [];

  constructor(private readonly items: readonly LibraryVector[]) {
    this.size = items.length;
    if (this.size === 0) return;
    const dim = items[0]!.vector.length;
    const search = new BruteforceSearch("ip", dim + 1);
    search.initIndex(this.size);
    items.forEach((v, i) => search.addPoint([...v.vector, v.bonus], i));
    this.search = search;
  }

  /** The library's first `n` papers (the newest). */
  head(n: number): LibraryVectors {
    return n >= this.size ? this : new LibraryVectors(this.items.slice(0, n));
  }

  at(i: number): LibraryVector {
    return this.items[i]!;
  }

  /**
   * A paper's similarity to the library: the mean of its `k` nearest library papers' similarities
   * (with their recency bonus), and the nearest one's title. The paper itself, when saved, does not count.
   */
  like(vector: Float32Array, k: number, paperId: string): { similarity: number; nearest: string } | undefined {
    if (!this.search) return undefined;
    const query = this.query;
    query.length = vector.length + 1;
    for (let d = 0; d < vector.length; d++) query[d] = vector[d]!;
    query[vector.length] = 1;
    const found = this.search.searchKnn(query, Math.min(this.size, k + 1));
    // hnswlib's "ip" distance is 1 − inner product.
    const nearest = found.neighbors
      .map((label, i) => ({ item: this.items[label]!, similarity: 1 - found.distances[i]! }))
      .filter((n) => n.item.paperId !== paperId)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
    if (nearest.length === 0) return undefined;
    return { similarity: nearest.reduce((sum, n) => sum + n.similarity, 0) / nearest.length, nearest: nearest[0]!.item.title };
  }
}

/** The vectors of the channel's newest library papers that the index holds, with their recency bonus. */
export function loadLibraryVectors(index: PaperIndex, shared: CandidatePool, profile: ChannelProfile & { asOf?: Date }, weights: RankingWeights): LibraryVectors {
  const entries = (profile.library ?? []).slice(0, MAX_LIBRARY_PAPERS);
  if (entries.length === 0 || weights.library === 0) return new LibraryVectors([]);
  const asOf = (profile.asOf ?? new Date()).getTime();
  const stored = index.store.rowidsOf(entries.map((e) => e.paperId));
  const out: LibraryVector[] = [];
  for (const e of entries) {
    const rowid = stored.get(e.paperId);
    const vector = rowid === undefined ? undefined : shared.vectorOf(rowid);
    if (!vector) continue;
    const ageDays = Math.max(0, (asOf - Date.parse(e.savedAt)) / 86_400_000);
    out.push({ paperId: e.paperId, title: e.title, vector, bonus: Number.isFinite(ageDays) ? weights.libraryRecency * 0.5 ** (ageDays / weights.libraryHalfLifeDays) : 0 });
  }
  return new LibraryVectors(out);
}

/**
 * The library similarity a new paper needs: the `libraryFloorPercentile`-th percentile of the
 * library's own papers' similarities to the rest of it (each held out in turn), so a tight library
 * (one group's papers) admits only close papers and a broad one more; never below `lowest`.
 */
export function libraryFloor(library: LibraryVectors, weights: RankingWeights, lowest: number): number {
  if (library.size < MIN_PAPERS_FOR_FLOOR) return lowest;
  const sample = library.head(FLOOR_SAMPLE);
  const held = Array.from({ length: sample.size }, (_, i) => {
    const l = sample.at(i);
    return sample.like(l.vector, weights.libraryNeighbours, l.paperId)?.similarity ?? -Infinity;
  }).sort((a, b) => a - b);
  const at = held[Math.min(held.length - 1, Math.floor((weights.libraryFloorPercentile / 100) * held.length))]!;
  return Math.max(lowest, at);
}

/**
 * Unit direction from the disliked papers toward the liked ones (mean liked − mean disliked), or
 * undefined without votes: a paper like the liked ones gains, one like the disliked ones loses.
 */
function feedbackProfile(index: PaperIndex, feedback: Pick<ChannelProfile, "liked" | "disliked">): Float32Array | undefined {
  const mean = (ids: readonly string[]): Float32Array | undefined => {
    const vectors = ids
      .map((id) => index.store.get(id))
      .map((p) => (p ? index.paperVector(p.rowid) : undefined))
      .filter((v): v is Float32Array => v !== undefined);
    if (vectors.length === 0) return undefined;
    const m = new Float32Array(vectors[0]!.length);
    for (const v of vectors) for (let d = 0; d < m.length; d++) m[d]! += v[d]! / vectors.length;
    return m;
  };
  const liked = mean(feedback.liked);
  const disliked = mean(feedback.disliked);
  if (!liked && !disliked) return undefined;
  const dim = (liked ?? disliked)!.length;
  const p = new Float32Array(dim);
  for (let d = 0; d < dim; d++) p[d] = (liked?.[d] ?? 0) - (disliked?.[d] ?? 0);
  const norm = Math.hypot(...p);
  return norm > 0 ? p.map((x) => x / norm) : undefined;
}

export function toDigestItem(r: RankedPaper): DigestItem {
  const url = r.paper.links.abs ?? (r.paper.id.includes(":") ? undefined : `https://arxiv.org/abs/${r.paper.id}`);
  return { paperId: r.paper.id, title: r.paper.title, ...(url ? { url } : {}), authors: r.paper.authors, score: Math.round(r.score * 1000) / 1000, reason: r.reason };
}
