/** `paperhound bot` (also what `paperhound` and `npm start` run with no command): the chat bot (src/bot/). */
import type { Command } from "commander";
import type { AppContext } from "../app/context.js";
import { runBot, type BotOptions } from "../bot/run-bot.js";
import type { RegisterCommand } from "./context.js";
import { addIndexOption } from "./search-common.js";

export const registerBot: RegisterCommand = (program: Command, ctx: AppContext) => {
  const cmd = program
    .command("bot", { isDefault: true })
    .description("run the chat bot (the default command): Discord when DISCORD_TOKEN is set, Slack when SLACK_BOT_TOKEN is set, else the console adapter")
    .option("--console", "use the console adapter even when DISCORD_TOKEN or SLACK_BOT_TOKEN is set")
    // Being the default command, `paperhound frobnicate` arrives here: report it as commander would.
    .allowExcessArguments(true);
  addIndexOption(cmd).action(async (opts: BotOptions, self: Command) => {
    if (self.args.length > 0) (program as unknown as { unknownCommand(): never }).unknownCommand();
    return runBot(ctx, opts);
  });
};
