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
import { textLines } from "../../text-lines.js";

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

/** The longest input line read (a /paper query is at most 1,000 characters); longer ones are answered unread. */
export const MAX_LINE_CHARS = 16_384;

export async function runConsole(opts: ConsoleOptions): Promise<void> {
  const state: { next?: NextPage } = {};
  const write = (s: string) => opts.output.write(s);
  const answer = async (line: string, oversize: boolean): Promise<boolean> => {
    const { text, quit } = oversize
      ? { text: `That line is longer than ${MAX_LINE_CHARS.toLocaleString("en-US")} characters; it was not read. Commands are short: try /paper <topic>, or /help.`, quit: false }
      : await handleLine(line, opts.ctx, state);
    if (text) write(`${text}\n${opts.interactive ? "" : "\n"}`);
    return quit === true;
  };
  if (!opts.interactive) {
    // Piped input: bounded lines, so a 50 MB line is skipped as it streams by instead of read whole.
    (opts.input as NodeJS.ReadableStream & { setEncoding?(e: string): void }).setEncoding?.("utf8");
    for await (const { text, oversize } of textLines(opts.input as AsyncIterable<string>, MAX_LINE_CHARS)) {
      if (await answer(text, oversize === true)) break;
    }
    return;
  }
  const rl = readline.createInterface({ input: opts.input, output: opts.output, prompt: PROMPT, terminal: true });
  write("paperhound console: /paper <topic>, /related <arXiv id or title>, /digest <action>, /help, /quit\n");
  rl.prompt();
  try {
    for await (const line of rl) {
      if (await answer(line, line.length > MAX_LINE_CHARS)) break;
      rl.prompt();
    }
  } finally {
    rl.close();
  }
}
