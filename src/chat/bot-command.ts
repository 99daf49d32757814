/**
 * `paperhound bot` (also what `paperhound` and `npm start` run with no command): the chat bot.
 * With DISCORD_TOKEN set it connects to Discord; otherwise it starts the console adapter, where
 * the same commands work on the current index and print text (piped input: one command per line).
 */
import type { Command } from "commander";
import type { CliContext, RegisterCommand } from "../cli/context.js";
import { addIndexOption, type IndexOption } from "../cli/search-common.js";
import { openChatRuntime } from "./context.js";

interface BotOptions extends IndexOption {
  console?: boolean;
}

export async function runBot(ctx: CliContext, opts: BotOptions): Promise<void> {
  const config = ctx.config();
  const useDiscord = config.discordToken !== undefined && !opts.console;
  const runtime = await openChatRuntime(ctx, opts);
  try {
    if (useDiscord) {
      const { runDiscordBot } = await import("./discord/bot.js");
      await runDiscordBot({ token: config.discordToken!, ctx: runtime.ctx, logger: ctx.logger() });
    } else {
      const { runConsole } = await import("./console/console-adapter.js");
      const stdin = ctx.stdin as NodeJS.ReadableStream & { isTTY?: boolean };
      await runConsole({ input: stdin, output: ctx.stdout, ctx: runtime.ctx, interactive: stdin.isTTY === true });
    }
  } finally {
    await runtime.close();
  }
}

export const registerBot: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command("bot", { isDefault: true })
    .description("run the chat bot (the default command): Discord when DISCORD_TOKEN is set, else the console adapter")
    .option("--console", "use the console adapter even when DISCORD_TOKEN is set")
    // Being the default command, `paperhound frobnicate` arrives here: report it as commander would.
    .allowExcessArguments(true);
  addIndexOption(cmd).action(async (opts: BotOptions, self: Command) => {
    if (self.args.length > 0) (program as unknown as { unknownCommand(): never }).unknownCommand();
    return runBot(ctx, opts);
  });
};
