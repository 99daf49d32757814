/**
 * Where fetched pages go, shared by `paperhound ingest` and the digest's fetches: the index (stored
 * and embedded page by page), or for a dry run a read-only comparison with it.
 */
import { existsSync } from "node:fs";
import type { AppContext } from "../app/context.js";
import { explainIndexError, openEmbedder, paperCount, storeFileOf, writerOpenOptions, type IndexLocation } from "../app/open-index.js";
import type { Embedder } from "../embed/types.js";
import type { Paper } from "../papers/types.js";
import { bm25NotSavedNote, PaperIndex, type IndexReport } from "../search/paper-index.js";
import { PaperStore, StoreSchemaError } from "../search/paper-store.js";
import { upsertPreview } from "../search/store/rows.js";

/** What one page did to the index. */
export interface PageOutcome {
  added: number;
  updated: number;
  unchanged: number;
  embedded: number;
}

export interface Sink {
  add(papers: Paper[]): Promise<PageOutcome>;
  close(): Promise<void>;
}

/**
 * Stores and embeds pages. The store is checked before anything is fetched (a damaged one is
 * reported, never written to); the model and the index open with the first page that has papers,
 * so a run that fetches nothing creates nothing.
 */
export function openIndexSink(ctx: AppContext, loc: IndexLocation): Sink {
  try {
    paperCount(storeFileOf(loc.dir));
  } catch (err) {
    throw explainIndexError(err, loc);
  }
  let opened: { index: PaperIndex; embedder: Embedder } | undefined;
  const open = async () => {
    const embedder = await openEmbedder(ctx);
    try {
      return { index: await PaperIndex.open({ dir: loc.dir, embedder, ...writerOpenOptions(ctx, loc.dir) }), embedder };
    } catch (err) {
      await embedder.dispose();
      throw explainIndexError(err, loc);
    }
  };
  return {
    async add(papers) {
      if (papers.length === 0) return { added: 0, updated: 0, unchanged: 0, embedded: 0 };
      opened ??= await open();
      const r: IndexReport = await opened.index.add(papers);
      if (r.bm25NotSaved) ctx.logger().warn(bm25NotSavedNote(r.bm25NotSaved));
      return { added: r.added, updated: r.updated, unchanged: r.unchanged, embedded: r.embedded };
    },
    async close() {
      if (!opened) return;
      opened.index.close();
      await opened.embedder.dispose();
    },
  };
}

/**
 * Compares with the store read-only, counting added, updated and unchanged papers as a real run
 * would; `embedded` counts the papers a real run would embed (new, or a changed title or abstract).
 */
export function openDrySink(loc: IndexLocation): Sink {
  const storeFile = storeFileOf(loc.dir);
  let store: PaperStore | undefined;
  try {
    if (existsSync(storeFile)) store = PaperStore.open(storeFile, { readonly: true });
  } catch (err) {
    // A store being created by an indexer this moment holds nothing yet: every paper is new.
    if (!(err instanceof StoreSchemaError && err.empty)) throw explainIndexError(err, loc);
  }
  // The same merge as a real run (a record repaired from invalid UTF-8 leaves a better stored text unchanged).
  const outcomeOf = store ? store.previewUpserts() : upsertPreview(() => undefined);
  return {
    async add(papers) {
      const out = { added: 0, updated: 0, unchanged: 0, embedded: 0 };
      for (const paper of papers) {
        const { outcome, reembed } = outcomeOf(paper);
        out[outcome] += 1;
        if (reembed) out.embedded += 1;
      }
      return out;
    },
    async close() {
      store?.close();
    },
  };
}
