/**
 * Running a command by name with raw options, as every adapter does: bad options and known problems
 * become ephemeral error views; an unexpected failure is logged and becomes a generic error view,
 * so an adapter never has to handle a handler's exception.
 */
import { findCommand } from "./index.js";
import { parseOptions } from "./options.js";
import { CommandInputError, type CommandContext, type CommandEvent, type RawOptions } from "./types.js";
import { errorView, internalErrorView, type View } from "./view.js";

export async function runCommand(name: string, raw: RawOptions, ctx: CommandContext): Promise<View> {
  const started = performance.now();
  const cmd = findCommand(name);
  let failed = false;
  const view = await (async (): Promise<View> => {
    if (!cmd) return errorView(`There is no command /${name.slice(0, 40)}.`, "Type /help to see the commands.");
    try {
      return await cmd.run(parseOptions(cmd, raw), ctx);
    } catch (err) {
      if (err instanceof CommandInputError) return errorView(err.message, "Type /help to see the options.");
      ctx.logger.error("command failed", { command: name, err });
      failed = true;
      return internalErrorView();
    }
  })();
  if (ctx.onCommand) {
    const outcome: CommandEvent["outcome"] = failed ? "error" : view.kind === "results" ? "ok" : view.kind === "message" && view.tone === "empty" ? "empty" : view.kind === "message" && view.tone === "error" ? "user_error" : "ok";
    ctx.onCommand({ platform: ctx.platform ?? "unknown", command: cmd ? name : "unknown", options: raw, outcome, ms: performance.now() - started, hits: view.kind === "results" ? view.items.length : 0 });
  }
  return view;
}
