/**
 * What every chat adapter needs: the index opened for queries (as the CLI's search does, including
 * the sample corpus on a fresh install) and the command context built from it.
 */
import { closeTitleLookups } from "../../commands/title-lookup.js";
import type { CommandContext } from "../../commands/types.js";
import { commandLogger, openIndexForQuery, type IndexOption } from "../cli/search-common.js";
import { createContext, type CliContext } from "../cli/context.js";

export interface ChatRuntime {
  ctx: CommandContext;
  close(): Promise<void>;
}

export async function openChatRuntime(cli: CliContext, opts: IndexOption = {}): Promise<ChatRuntime> {
  const open = await openIndexForQuery(cli, opts);
  const ctx: CommandContext = { index: open.index, config: cli.config(), clock: () => new Date(), logger: commandLogger(cli) };
  return {
    ctx,
    close: async () => {
      closeTitleLookups(open.index.dir);
      await open.close();
    },
  };
}

/**
 * The bot's CLI context: EMBED_THREADS defaults to 1 instead of every core. A chat bot embeds one
 * short query at a time, which a second inference thread does not speed up, while onnxruntime's
 * spinning worker threads take CPU from the event loop that answers the other interactions
 * (bench:discord, 2 cores, sample index, 20 in flight: 1 thread 218 interactions/s and p99 126 ms,
 * 2 threads 121/s and p99 421 ms). An explicit EMBED_THREADS is kept.
 */
export function chatCliContext(ctx: CliContext): CliContext {
  if (ctx.env.EMBED_THREADS?.trim()) return ctx;
  return createContext({ env: { ...ctx.env, EMBED_THREADS: "1" }, stdin: ctx.stdin, stdout: ctx.stdout, stderr: ctx.stderr });
}
