/**
 * Contracts of the search core. The store (SQLite: papers, FTS5, passage ↔ label map) and the vector
 * index (hnswlib) are separate pieces; `hybrid.ts` fuses their candidate lists and knows nothing
 * about chat.
 */
import type { Paper } from "../papers/types.js";

/** Filters every search and related query accepts. Dates are YYYY-MM-DD, inclusive. */
export interface SearchFilters {
  since?: string;
  until?: string;
  /** Any of these categories (exact, e.g. "cs.LG"; a bare archive like "cs" matches "cs.*"). */
  categories?: string[];
  /** Case-insensitive substring of any author name. */
  author?: string;
}

/** A paper with its candidate score from one retriever. */
export interface ScoredPaper {
  /** Store row id (stable for the paper's lifetime). */
  rowid: number;
  score: number;
}

/** A stored paper as the store returns it. */
export interface StoredPaper extends Paper {
  rowid: number;
  /** sha256 of the fields that feed embeddings and full text (title + abstract). */
  contentHash: string;
  /** Content hash the current vectors were computed from; undefined when not embedded yet. */
  embeddedHash?: string;
}

/** What `PaperStore.upsert` did with one record. */
export type UpsertOutcome = "added" | "updated" | "unchanged";

/** Which model built an index: an index refuses to be searched with another. */
export interface ModelFingerprint {
  modelId: string;
  dim: number;
  /** sha256 of the ONNX file (or another stable identity of the weights). */
  checksum: string;
}

export interface SearchHit {
  paper: StoredPaper;
  /** Fused score used for ranking (higher is better). */
  score: number;
  /** Component scores, for --json and debugging. */
  dense?: number;
  bm25?: number;
}

export interface SearchResult {
  query: string;
  hits: SearchHit[];
}
