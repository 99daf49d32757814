/**
 * Console input: `/paper equivariant networks count:3 since:2024-01-01 private:true`.
 * `name:value` words set options (a value may be quoted: `category:"cs.LG"`); the other words form
 * the command's first required text option (query for /paper, paper for /related), else its first
 * text option (command for /help).
 */
import { COMMANDS, findCommand } from "../../../commands/index.js";
import type { RawOptions } from "../../../commands/types.js";

export interface ParsedLine {
  name: string;
  raw: RawOptions;
}

/** Splits on whitespace, keeping "double" or 'single' quoted parts together (quotes removed). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"?|'[^']*'?)+/g;
  for (const m of line.matchAll(re)) words.push(m[0].replace(/"([^"]*)"?|'([^']*)'?/g, (_, a: string | undefined, b: string | undefined) => a ?? b ?? ""));
  return words;
}

/** Option names of every command (what a user may have meant on the wrong one). */
const ALL_OPTIONS: ReadonlySet<string> = new Set(COMMANDS.flatMap((c) => c.options.filter((o) => !o.hidden).map((o) => o.name)));

/** Edits (insert, delete, substitute) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/** Another command's option, or one edit (two for longer names) from one of this command's. */
function looksLikeOption(name: string, own: ReadonlySet<string>): boolean {
  if (ALL_OPTIONS.has(name)) return true;
  const allowed = name.length > 5 ? 2 : 1;
  return [...own].some((o) => editDistance(name, o) <= allowed);
}

/** Undefined for a line that is not a command (does not start with "/"). */
export function parseLine(line: string): ParsedLine | undefined {
  const text = line.trim();
  if (!text.startsWith("/")) return undefined;
  const [head = "", ...rest] = splitWords(text.slice(1));
  const name = head.toLowerCase();
  const cmd = findCommand(name);
  const raw: Record<string, string> = {};
  const free: string[] = [];
  const optionNames = new Set(cmd?.options.filter((o) => !o.hidden).map((o) => o.name) ?? []);
  for (const word of rest) {
    const m = /^([a-z][a-z0-9_-]*):(.*)$/is.exec(word);
    const option = m?.[1]!.toLowerCase();
    // A misspelt option (`sinse:2024`) or another command's (`/related since:2024`) is an error that
    // lists the options, not words of the query; `https://…` and `BERT:` stay text.
    if (m && option && (optionNames.has(option) || (!m[2]!.startsWith("/") && looksLikeOption(option, optionNames)))) raw[option] = m[2]!;
    else free.push(word);
  }
  // The words fill the command's required text option, else its first text option (/help paper).
  const main = cmd?.options.find((o) => o.required && o.type === "string") ?? cmd?.options.find((o) => !o.hidden && o.type === "string");
  if (free.length > 0) {
    if (main && raw[main.name] === undefined) raw[main.name] = free.join(" ");
    else if (main) raw[main.name] = `${raw[main.name]} ${free.join(" ")}`;
    else raw._ = free.join(" ");
  }
  return { name, raw };
}
