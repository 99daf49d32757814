/**
 * What every chat adapter needs: the index opened for queries (as the CLI's search does, including
 * the sample corpus on a fresh install), the search threads that run /paper and /related
 * (SEARCH_THREADS), and the command context built from them.
 */
import { closeTitleLookups } from "../../commands/title-lookup.js";
import type { CommandContext } from "../../commands/types.js";
import { commandLogger, openIndexForQuery, type IndexOption } from "../app/open-index.js";
import { createContext, type AppContext } from "../app/context.js";
import { embedderSettings } from "../config.js";
import { SearchThreads, ThreadEmbedder } from "../search/search-threads.js";
import { hnswlib } from "../search/vectors/hnswlib.js";

export interface ChatRuntime {
  ctx: CommandContext;
  /** Picks up what the indexer committed since the index was opened (every search thread too); whether anything changed. */
  refresh(): Promise<boolean>;
  close(): Promise<void>;
}

export async function openChatRuntime(cli: AppContext, opts: IndexOption = {}): Promise<ChatRuntime> {
  const config = cli.config();
  let threads: SearchThreads | undefined;
  // With search threads, the model is theirs: this thread embeds (a digest's topics) through them.
  const open = await openIndexForQuery(
    cli,
    opts,
    config.searchThreads > 0 ? { searchesElsewhere: true, modelElsewhere: (identity) => new ThreadEmbedder(identity, () => threads) } : {},
  );
  const logger = commandLogger(cli);
  // Like the embedder's device: which hnswlib build searches, and why not the AVX2 one when not.
  logger.info("vector search", { hnswlib: hnswlib.build, ...(hnswlib.reason ? { reason: hnswlib.reason } : {}) });
  if (config.searchThreads > 0) {
    try {
      threads = await SearchThreads.start(
        { dir: open.index.dir, embedder: { ...embedderSettings(config), modelsDir: config.modelsDir } },
        // The threads answer with ranked hits; this thread reads their papers (RankedHit).
        { count: config.searchThreads, logger, papersOf: (rowids) => open.index.store.getMany(rowids) },
      );
    } catch (err) {
      await open.close();
      throw err;
    }
    logger.debug("search threads started", { threads: threads.size });
  }
  const ctx: CommandContext = { index: open.index, ...(threads ? { search: threads } : {}), config, clock: () => new Date(), logger };
  return {
    ctx,
    refresh: async () => {
      const [here, there] = await Promise.all([open.index.refresh(), threads?.refresh() ?? false]);
      if (here || there) logger.info("index refreshed: papers the indexer added are searchable", { papers: open.index.store.paperCountHint() });
      return here || there;
    },
    close: async () => {
      await threads?.close();
      closeTitleLookups(open.index.dir);
      await open.close();
    },
  };
}

/**
 * The bot's context: EMBED_THREADS defaults to 1 instead of every core. A chat bot embeds one
 * short query at a time, which a second inference thread does not speed up, while onnxruntime's
 * spinning worker threads take CPU from the event loop that answers the other interactions
 * (bench:discord, 2 cores, sample index, 20 in flight: 1 thread 218 interactions/s and p99 126 ms,
 * 2 threads 121/s and p99 421 ms). An explicit EMBED_THREADS is kept.
 */
export function botAppContext(ctx: AppContext): AppContext {
  if (ctx.env.EMBED_THREADS?.trim()) return ctx;
  return createContext({ env: { ...ctx.env, EMBED_THREADS: "1" }, stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
}
