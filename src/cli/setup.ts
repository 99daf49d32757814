/**
 * `paperhound setup`: its options. The steps (setup-run.ts) are loaded when it runs, so the other
 * commands do not load discord.js, Slack's client and the prompt library at every start.
 */
import { InvalidArgumentError, Option, type Command } from "commander";
import { knownCategories } from "../papers/sources/arxiv-categories.js";
import type { RegisterCommand } from "./context.js";
import { DEFAULT_DAYS, DEFAULT_INDEX, type SetupOptions } from "./setup-options.js";

// ---------------------------------------------------------------------------------------------
// Options

function parseDays(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > 3650) throw new InvalidArgumentError("--days must be a whole number from 0 to 3650.");
  return n;
}

function collectCategoryList(value: string): string[] {
  try {
    return knownCategories(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const registerSetup: RegisterCommand = (program, ctx) => {
  program
    .command("setup")
    .description("set up the bot for a team: chat platforms (tokens checked), .env, the index, commands or manifest, the first papers")
    .option("--yes", "ask nothing: take the flags, else the saved answers, else the defaults (scripted installs)")
    .option("--discord", "set up Discord (--no-discord: leave it out)")
    .option("--no-discord")
    .option("--discord-token <token>", "Discord bot token (implies --discord)")
    .option("--discord-guild <id>", "server to register the commands in (instant); omit for every server")
    .option("--slack", "set up Slack (--no-slack: leave it out)")
    .option("--no-slack")
    .option("--slack-bot-token <token>", "Slack bot token, xoxb-… (implies --slack)")
    .option("--slack-app-token <token>", "Slack app-level token, xapp-… (Socket Mode)")
    .option("--slack-signing-secret <secret>", "Slack signing secret (HTTP mode)")
    .addOption(new Option("--slack-mode <mode>", "how Slack reaches the bot: socket (Socket Mode) or http").choices(["socket", "http"]))
    .option("--slack-url <url>", "HTTP mode: the public URL Slack reaches the bot at")
    .option("--index <dir>", `index directory for the team's papers (default ${DEFAULT_INDEX})`)
    .option("--categories <list>", "arXiv categories to follow, comma-separated (cs.LG,cs.CL)", collectCategoryList)
    .option("--hf-daily", "follow Hugging Face daily papers (--no-hf-daily: do not)")
    .option("--no-hf-daily")
    .option("--contact-email <address>", "contact e-mail sent with requests to arXiv and Hugging Face")
    .option("--days <n>", `fetch the papers of the last N days now (0: skip; default ${DEFAULT_DAYS} for an empty index)`, parseDays)
    .option("--settings-file <file>", "settings file to write (default .env, or PAPERHOUND_ENV_FILE)")
    .action(async (opts: SetupOptions, command: Command) => {
      // Commander sets a --no-x option's default (true) when only --no-x is declared with --x: keep "not given" apart.
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      const answers: SetupOptions = { ...opts };
      for (const name of ["discord", "slack", "hfDaily"] as const) if (!given(name)) delete answers[name];
      const { runSetup } = await import("./setup-run.js");
      await runSetup(ctx, answers);
    });
};
