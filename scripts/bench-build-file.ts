/**
 * The build figures that bench:search (and bench:scale, for the index it grows) keep beside an index
 * in bench-build.json, so a later run can reuse the index and still report how it was built.
 */
export const BUILD_FILE = "bench-build.json";

/** Which papers are indexed and which are held out (the build child and the query phase agree). */
export interface Split {
  /** Index papers with ordinal < limit (when set); hold out the next HELD_OUT. */
  limit?: number;
  /** Without a limit: hold out every `stride`-th paper (ordinal % stride === stride - 1), HELD_OUT at most. */
  stride?: number;
}

export interface BuildFigures {
  data: string;
  split: Split;
  papers: number;
  added: number;
  embedded: number;
  passages: number;
  build_store_s: number;
  build_embed_s: number;
  build_split_s: number;
  build_index_s: number;
  build_total_s: number;
  papers_per_s: number;
  built_at: string;
}
