/**
 * The console adapter: `/paper ...`, `/related ...`, `/digest ...` (channel "console:main") and `/help` typed at a prompt (or piped in, one
 * command per line; it exits at the end of the input) run on the current index and print the same
 * results a chat platform would show, as text. `/more` shows the next page of the last results.
 */
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import readline from "node:readline";
import { findCommand } from "../../../commands/index.js";
import { runCommand } from "../../../commands/run.js";
import type { CommandAttachment, CommandContext, RawOptions } from "../../../commands/types.js";
import { checkInputFile } from "../../papers/sources/source-file.js";
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
  /** Stops the console (the bot's SIGTERM/SIGINT): the command in progress finishes, then it returns. */
  signal?: AbortSignal;
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
  const view = await runCommand(parsed.name, parsed.raw, { ...ctx, ...localAttachment(parsed.name, parsed.raw) });
  if (view.kind === "results") state.next = view.next;
  return { text: renderText(view) };
}

/**
 * The console runs beside the index, so an attachment option names a local file
 * (`/library action:import file:refs.bib`); its size and kind are checked before it is read.
 */
function localAttachment(command: string, raw: RawOptions): { attachment?: CommandAttachment } {
  const option = findCommand(command)?.options.find((o) => o.type === "attachment");
  const file = option ? raw[option.name] : undefined;
  if (typeof file !== "string" || !file.trim()) return {};
  const name = file.trim();
  let size = 0;
  try {
    size = statSync(name).size;
  } catch {
    // Missing or unreadable: read() says which (checkInputFile).
  }
  return {
    attachment: {
      name: path.basename(name),
      size,
      read: async (maxBytes) => {
        const checked = await checkInputFile(name);
        if (typeof checked === "string") throw new Error(checked);
        if (checked.size > maxBytes) throw new Error(`it has ${checked.size} bytes, more than the ${maxBytes} an import reads`);
        return readFile(name);
      },
    },
  };
}

/** The longest input line read (a /paper query is at most 1,000 characters); longer ones are answered unread. */
export const MAX_LINE_CHARS = 16_384;

/** Runs until /quit or the end of the input; `lines`: how many lines piped input held (-1 at a terminal). */
export async function runConsole(opts: ConsoleOptions): Promise<{ lines: number }> {
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
    // Stopped (SIGTERM, SIGINT): the command being answered finishes, no further line is read.
    const stopReading = () => (opts.input as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
    opts.signal?.addEventListener("abort", stopReading, { once: true });
    let lines = 0;
    try {
      for await (const { text, oversize } of textLines(opts.input as AsyncIterable<string>, MAX_LINE_CHARS)) {
        lines += 1;
        if ((await answer(text, oversize === true)) || opts.signal?.aborted) break;
      }
    } catch (err) {
      // A stream destroyed by the stop ends its iteration with "premature close".
      if (!opts.signal?.aborted) throw err;
    } finally {
      opts.signal?.removeEventListener("abort", stopReading);
    }
    return { lines };
  }
  const rl = readline.createInterface({ input: opts.input, output: opts.output, prompt: PROMPT, terminal: true });
  opts.signal?.addEventListener("abort", () => rl.close(), { once: true });
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
  return { lines: -1 };
}
