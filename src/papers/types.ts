/**
 * The one record every source is parsed into and every command reads. Sources fill what they have;
 * everything optional is absent (not empty) when unknown.
 */

export interface PaperLinks {
  /** Abstract page, e.g. https://arxiv.org/abs/2401.00631 */
  abs?: string;
  pdf?: string;
  /** Code repository (GitHub etc.). */
  code?: string;
  /** Project page. */
  project?: string;
}

/** Popularity signals (Hugging Face daily papers). */
export interface TrendingSignals {
  upvotes?: number;
  comments?: number;
  githubStars?: number;
  /** Day the paper was featured (YYYY-MM-DD). */
  featuredOn?: string;
  /** Topic keywords the source derived from the paper (Hugging Face `ai_keywords`), in its order. */
  keywords?: string[];
}

export interface Paper {
  /**
   * Canonical id: a bare arXiv id without version ("2401.00631", "hep-th/9901001"), or a
   * namespaced id for papers from elsewhere ("scifact:4983", "sample:3", "doi:10.1000/xyz").
   */
  id: string;
  /** Latest arXiv version number seen (e.g. 3 for v3), when known. */
  version?: number;
  title: string;
  abstract: string;
  /** Full names in order. */
  authors: string[];
  /** Categories with the primary one first (e.g. ["cs.LG", "stat.ML"]). */
  categories: string[];
  /** First publication date, YYYY-MM-DD. */
  published?: string;
  /** Latest update date, YYYY-MM-DD. */
  updated?: string;
  links: PaperLinks;
  doi?: string;
  comment?: string;
  /** Where the record came from: "arxiv-api", "arxiv-rss", "oai", "hf-daily", "jsonl", "sample", ... */
  source: string;
  trending?: TrendingSignals;
}
