/**
 * The console adapter: `/paper ...`, `/related ...`, `/digest ...` (channel "console:main") and `/help` typed at a prompt (or piped in, one
 * command per line; it exits at the end of the input) run on the current index and print the same
 * results a chat platform would show, as text. `/more` shows the next page of the last results.
 */
import readline from "node:readline";
import { runCommand } from "../../../commands/run.js";
import type { CommandContext } from "../../../commands/types.js";
import type { NextPage } from "../../../commands/view.js";
import { parseLine } from "./parse.js";
import { renderText } from "./render.js";

export interface ConsoleOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  ctx: CommandContext;
  /** Show a prompt (stdin is a terminal). */
  interactive: boolean;
}

export const PROMPT = "paperhound> ";

/** Runs one input line; returns the text to print (empty for nothing) and whether to stop. */
export async function handleLine(line: string, ctx: CommandContext, state: { next?: NextPage }): Promise<{ text: string; quit?: boolean }> {
  const trimmed = line.trim();
  if (trimmed === "" || trimmed.startsWith("#")) return { text: "" };
  const cmd = trimmed.toLowerCase();
  if (cmd === "/quit" || cmd === "/exit") return { text: "", quit: true };
  if (cmd === "/more") {
    if (!state.next) return { text: "Nothing more to show: run /paper or /related first." };
    const view = await runCommand(state.next.command, state.next.options, ctx);
    state.next = view.kind === "results" ? view.next : undefined;
    return { text: renderText(view) };
  }
  const parsed = parseLine(trimmed);
  if (!parsed) return { text: "Commands start with /: try /paper equivariant networks, or /help." };
  const view = await runCommand(parsed.name, parsed.raw, ctx);
  if (view.kind === "results") state.next = view.next;
  return { text: renderText(view) };
}

export async function runConsole(opts: ConsoleOptions): Promise<void> {
  const rl = readline.createInterface({ input: opts.input, ...(opts.interactive ? { output: opts.output, prompt: PROMPT } : {}), terminal: opts.interactive });
  const state: { next?: NextPage } = {};
  const write = (s: string) => opts.output.write(s);
  if (opts.interactive) {
    write("paperhound console: /paper <topic>, /related <arXiv id or title>, /digest <action>, /help, /quit\n");
    rl.prompt();
  }
  try {
    for await (const line of rl) {
      const { text, quit } = await handleLine(line, opts.ctx, state);
      if (text) write(`${text}\n${opts.interactive ? "" : "\n"}`);
      if (quit) break;
      if (opts.interactive) rl.prompt();
    }
  } finally {
    rl.close();
  }
}
