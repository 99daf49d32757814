/**
 * The `paperhound` command. Each subcommand lives in its own file under src/cli/ and registers
 * itself; this file assembles them and turns errors into one clear line and an exit code.
 */
import { Command, CommanderError } from "commander";
import { registerBot } from "./cli/bot.js";
import { registerBackup } from "./cli/backup.js";
import { registerBuildModel } from "./cli/build-model.js";
import { registerConfig } from "./cli/config.js";
import { createContext, type AppContext } from "./app/context.js";
import { EXIT, exitCodeOf, PaperhoundError } from "./errors.js";
import { type RegisterCommand } from "./cli/context.js";
import { registerEmbed } from "./cli/embed.js";
import { registerIndex } from "./cli/index-papers.js";
import { registerIngest } from "./cli/ingest.js";
import { registerLibrary } from "./cli/library.js";
import { registerReindex } from "./cli/reindex.js";
import { registerRelated } from "./cli/related.js";
import { registerSearch } from "./cli/search.js";
import { registerSetup } from "./cli/setup.js";
import { registerStats } from "./cli/stats.js";

/** Subcommands, in the order `--help` lists them. Later commands (index, search, bot, ...) go here. */
const COMMANDS: readonly RegisterCommand[] = [
  registerSearch,
  registerRelated,
  registerIndex,
  registerIngest,
  registerStats,
  registerLibrary,
  registerReindex,
  registerBackup,
  registerEmbed,
  registerBuildModel,
  registerConfig,
  registerBot,
  registerSetup,
];

export const EXIT_OK = EXIT.ok;
export const EXIT_ERROR = EXIT.error;
export const EXIT_USAGE = EXIT.usage;

export function buildProgram(ctx: AppContext): Command {
  const program = new Command("paperhound")
    .description("find research papers with local embeddings and hybrid search")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    // Throw instead of exiting, so main() decides the exit code (usage errors: 2). Set before the
    // subcommands are added so they inherit it.
    .exitOverride();
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

/** Built-in error classes: an error of one of these is a bug or a surprise, not a known condition. */
const GENERIC_ERRORS = new Set(["Error", "TypeError", "RangeError", "ReferenceError", "SyntaxError", "EvalError", "URIError", "AggregateError"]);

/**
 * Known errors are the error catalogue's (src/errors.ts), and other named error classes (a library's
 * own, such as SQLite's): their message is written for the user and is all that is shown.
 */
export function isKnownError(err: unknown): err is Error {
  return err instanceof PaperhoundError || (err instanceof Error && !GENERIC_ERRORS.has(err.name));
}

/** Runs the command line; resolves to the exit code. Never throws. */
export async function main(argv: readonly string[] = process.argv, ctx: AppContext = createContext()): Promise<number> {
  const debug = ctx.env.LOG_LEVEL?.trim().toLowerCase() === "debug";
  try {
    await buildProgram(ctx).parseAsync([...argv]);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (or the help/version text).
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (isKnownError(err)) {
      ctx.stderr.write(`paperhound: ${err.message}\n`);
      if (debug && err instanceof PaperhoundError) ctx.stderr.write(`paperhound: error ${err.identifier} (see "Errors" in docs/operations.md)\n`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      ctx.stderr.write(`paperhound: unexpected error: ${message}${debug ? "" : " (rerun with LOG_LEVEL=debug for details)"}\n`);
    }
    if (debug && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
