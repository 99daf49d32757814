/**
 * What every chat adapter needs: the index opened for queries (as the CLI's search does, including
 * the sample corpus on a fresh install) and the command context built from it.
 */
import type { CommandContext } from "../../commands/types.js";
import { commandLogger, openIndexForQuery, type IndexOption } from "../cli/search-common.js";
import type { CliContext } from "../cli/context.js";

export interface ChatRuntime {
  ctx: CommandContext;
  close(): Promise<void>;
}

export async function openChatRuntime(cli: CliContext, opts: IndexOption = {}): Promise<ChatRuntime> {
  const open = await openIndexForQuery(cli, opts);
  const ctx: CommandContext = { index: open.index, config: cli.config(), clock: () => new Date(), logger: commandLogger(cli) };
  return { ctx, close: () => open.close() };
}
