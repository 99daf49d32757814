/**
 * Which of a day's new papers a channel's digest shows, in what order, and why.
 *
 * Score = topic · (½ dense similarity to the best-matching topic + ½ that topic's BM25 score, scaled
 * to the best candidate) + trending · log-scaled Hugging Face upvotes + feedback · similarity to the
 * channel's votes (liked minus disliked papers' vectors). Papers matching a negative
 * keyword, outside the channel's categories, or already delivered are removed; papers by a followed
 * author come first whatever their score. A paper must match a topic (any BM25 term, or dense
 * similarity ≥ `minDense`), be trending (≥ `minUpvotes`) or be by a followed author to be shown.
 */
import type { PaperIndex } from "../search/paper-index.js";
import type { StoredPaper } from "../search/types.js";
import { foldText } from "../search/store/titles.js";
import { queryTerms, type TermData } from "../search/text-analysis.js";
import type { DigestItem, DigestSource, Subscription } from "./digest-store.js";
import { isArxivId } from "../papers/arxiv-id.js";
import { tuningFor } from "../search/model-tuning.js";

export interface RankingWeights {
  topic: number;
  trending: number;
  /** Weight of the similarity to the channel's feedback profile (liked minus disliked papers). */
  feedback: number;
  /** Dense similarity a paper needs to count as matching a topic without any shared word; default: the model's (model-tuning.ts). */
  minDense?: number;
  /** Upvotes that make a paper worth showing without matching a topic. */
  minUpvotes: number;
  /** Upvotes at which the trending part reaches 1 (log scale). */
  upvotesForFull: number;
}

/** minDense is left to the model (model-tuning.ts): similarities are on each model's own scale. */
export const DEFAULT_WEIGHTS: RankingWeights = { topic: 1, trending: 0.3, feedback: 0.3, minUpvotes: 20, upvotesForFull: 200 };

export interface RankedPaper {
  paper: StoredPaper;
  score: number;
  parts: { dense: number; bm25: number; trending: number; feedback: number; followed: boolean; topic?: string };
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
  feedback: { liked: readonly string[]; disliked: readonly string[] } = { liked: [], disliked: [] },
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
  const minDense = weights.minDense ?? tuningFor(index.fingerprint.modelId).digestMinDense;
  const profile = feedbackProfile(index, feedback);
  // BM25 of each topic among the window's papers only, scaled to its best paper there.
  const fullText = index.store.fullTextIndex();
  const bm25ByTopic = topics.map((topic) => {
    const ids = index.store.termIdsOf(queryTerms(topic, 64));
    const terms = [...ids.values()].map((id) => ({ id }));
    const scores = new Map<number, number>();
    let best = 0;
    for (const p of pool) {
      const data = shared.termDataOf(p.rowid);
      const score = data && terms.length > 0 ? fullText.scoreTermData(terms, data) : 0;
      if (score > 0) scores.set(p.rowid, score);
      best = Math.max(best, score);
    }
    for (const [rowid, score] of scores) scores.set(rowid, score / best);
    return scores;
  });
  const ranked: RankedPaper[] = [];
  for (const paper of pool) {
    const vector = shared.vectorOf(paper.rowid);
    let bestTopic = -1;
    let bestTopicScore = -Infinity;
    let dense = 0;
    let bm25 = 0;
    topics.forEach((_, t) => {
      const d = vector ? dot(topicVectors[t]!, vector) : 0;
      const b = bm25ByTopic[t]!.get(paper.rowid) ?? 0;
      const s = 0.5 * d + 0.5 * b;
      if (s > bestTopicScore) {
        bestTopicScore = s;
        bestTopic = t;
        dense = d;
        bm25 = b;
      }
    });
    const upvotes = paper.trending?.upvotes ?? 0;
    const trending = upvotes > 0 ? Math.min(1, Math.log1p(upvotes) / Math.log1p(weights.upvotesForFull)) : 0;
    const follower = followedAuthor(paper, sub.follow);
    const matchesTopic = bestTopic >= 0 && (bm25 > 0 || dense >= minDense);
    if (!matchesTopic && upvotes < weights.minUpvotes && !follower) continue;
    const liking = profile && vector ? dot(profile, vector) : 0;
    const score = weights.topic * (matchesTopic ? Math.max(0, bestTopicScore) : 0) + weights.trending * trending + weights.feedback * liking;
    const reasons: string[] = [];
    if (follower) reasons.push(`followed author: ${follower}`);
    if (matchesTopic) reasons.push(`topic "${topics[bestTopic]}" (${bestTopicScore.toFixed(2)})`);
    if (upvotes > 0) reasons.push(`trending: ${upvotes} upvotes`);
    ranked.push({
      paper,
      score,
      parts: { dense, bm25, trending, feedback: liking, followed: follower !== undefined, ...(matchesTopic ? { topic: topics[bestTopic]! } : {}) },
      reason: reasons.join("; "),
    });
  }
  ranked.sort((a, b) => Number(b.parts.followed) - Number(a.parts.followed) || b.score - a.score || a.paper.rowid - b.paper.rowid);
  return ranked.slice(0, sub.count);
}

/**
 * Unit direction from the disliked papers toward the liked ones (mean liked − mean disliked), or
 * undefined without votes: a paper like the liked ones gains, one like the disliked ones loses.
 */
function feedbackProfile(index: PaperIndex, feedback: { liked: readonly string[]; disliked: readonly string[] }): Float32Array | undefined {
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
