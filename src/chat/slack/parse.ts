/**
 * Slash command text → command options, the way Slack users write them:
 *
 *   /paper diffusion distillation --since 2024-10-01 --count 5 --category cs.CV --private
 *   /related 2401.00631 --count 3
 *
 * Flags may be written `--flag value` or `--flag=value` (and with the em or en dash some Slack
 * clients put in place of `--`); `--private` takes no value. The other words are the text (the query
 * of /paper, the paper of /related); `--` ends the flags. Slack's own markup in the text (`&amp;`,
 * `<https://…|label>`, `<@U…|name>`) is turned back into what the user typed. Values are checked
 * afterwards by commands/options.ts; unknown flags and missing values are errors here.
 */
import type { RawOptions } from "../../../commands/types.js";

export interface FlagSpec {
  /** As typed: --since. */
  flag: string;
  /** The command option it sets. */
  option: string;
  /** Shown in help; none: a switch (no value). */
  placeholder?: string;
}

/**
 * The flags of each Slack command, in the order help and the manifest's usage hints show them (the
 * hidden `page` option is set by the More button only). test/chat/slack/manifest.test.ts fails when
 * a command option has no flag here or the manifest's hint differs.
 */
export const FLAGS: Readonly<Record<string, readonly FlagSpec[]>> = {
  paper: [
    { flag: "since", option: "since", placeholder: "YYYY-MM-DD" },
    { flag: "until", option: "until", placeholder: "YYYY-MM-DD" },
    { flag: "count", option: "count", placeholder: "N" },
    { flag: "category", option: "category", placeholder: "X" },
    { flag: "author", option: "author", placeholder: "Surname" },
    { flag: "private", option: "private" },
  ],
  related: [
    { flag: "count", option: "count", placeholder: "N" },
    { flag: "private", option: "private" },
  ],
  save: [],
  library: [
    { flag: "filter", option: "filter", placeholder: '"text"' },
    { flag: "paper", option: "paper", placeholder: "ID" },
    { flag: "format", option: "format", placeholder: "bibtex|csl-json|ris" },
  ],
  digest: [
    { flag: "topics", option: "topics", placeholder: '"a; b"' },
    { flag: "time", option: "time", placeholder: "HH:MM" },
    { flag: "timezone", option: "timezone", placeholder: "Area/City" },
    { flag: "count", option: "count", placeholder: "N" },
    { flag: "categories", option: "categories", placeholder: "cs.LG,cs.CV" },
    { flag: "sources", option: "sources", placeholder: "hf,arxiv" },
    { flag: "quiet", option: "quiet" },
    { flag: "keywords", option: "keywords", placeholder: '"a; b"' },
    { flag: "author", option: "author", placeholder: '"Name"' },
  ],
};

/** Commands whose flag values may be several words (up to the next flag; quotes around them removed). */
const MULTIWORD: ReadonlySet<string> = new Set(["digest", "library"]);

const QUOTES = /^["'“”‘’]+|["'“”‘’]+$/g;

/** Commands that do something useful with no text at all (/library lists the library); the others show their help. */
const RUNS_WITHOUT_TEXT: ReadonlySet<string> = new Set(["library"]);

/** The option each command's free text fills. */
export const TEXT_OPTION: Readonly<Record<string, string>> = { paper: "query", related: "paper", save: "paper", library: "action", digest: "action" };

export type ParsedCommand = { kind: "help" } | { kind: "error"; message: string } | { kind: "run"; name: string; raw: RawOptions };

/** Slack's escaped text back to what the user typed: links and mentions unwrapped, entities decoded. */
export function decodeSlackText(text: string): string {
  return text
    .replace(/<([^<>|]*)\|([^<>]*)>/g, (_, target: string, label: string) => {
      if (/^[@#!]/.test(target)) return `${target[0] === "#" ? "#" : "@"}${label}`;
      return target; // a link: the URL itself (an arXiv URL for /related)
    })
    .replace(/<([^<>]*)>/g, (_, target: string) => (target.startsWith("!") ? `@${target.slice(1)}` : target))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

const FLAG_RE = /^(?:--|—|–)([a-z][a-z-]*)(?:=(.*))?$/i;

function flagList(name: string): string {
  return (FLAGS[name] ?? []).map((f) => `--${f.flag}${f.placeholder ? ` ${f.placeholder}` : ""}`).join(", ");
}

/** Parses the text of `/name text`. */
export function parseSlackCommand(name: string, text: string): ParsedCommand {
  const cmd = name.replace(/^\//, "").toLowerCase();
  const flags = FLAGS[cmd];
  if (!flags) return { kind: "error", message: `paperhound has no command /${cmd.slice(0, 40)}. Try /paper help.` };
  const words = decodeSlackText(text).trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 && RUNS_WITHOUT_TEXT.has(cmd)) return { kind: "run", name: cmd, raw: {} };
  if (words.length === 0 || (words.length === 1 && /^(?:help|--help|-h|\?)$/i.test(words[0]!))) return { kind: "help" };
  const raw: Record<string, string | boolean> = {};
  const free: string[] = [];
  let flagsEnded = false;
  for (let n = 0; n < words.length; n++) {
    const word = words[n]!;
    if (flagsEnded) {
      free.push(word);
      continue;
    }
    if (word === "--") {
      flagsEnded = true;
      continue;
    }
    const m = FLAG_RE.exec(word);
    if (!m) {
      free.push(word);
      continue;
    }
    const given = m[1]!.toLowerCase();
    if (given === "help") return { kind: "help" };
    const spec = flags.find((f) => f.flag === given);
    if (!spec) return { kind: "error", message: `/${cmd} has no option --${given.slice(0, 40)}. Options: ${flagList(cmd)}.` };
    if (raw[spec.option] !== undefined) return { kind: "error", message: `--${spec.flag} is given twice.` };
    if (!spec.placeholder) {
      raw[spec.option] = m[2] === undefined ? true : m[2];
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      const next = words[n + 1];
      if (next === undefined || FLAG_RE.test(next) || next === "--") {
        return { kind: "error", message: `--${spec.flag} needs a value: --${spec.flag} ${spec.placeholder}.` };
      }
      value = next;
      n++;
      if (MULTIWORD.has(cmd)) {
        while (words[n + 1] !== undefined && !FLAG_RE.test(words[n + 1]!) && words[n + 1] !== "--") value += ` ${words[++n]!}`;
      }
    }
    if (MULTIWORD.has(cmd)) value = value.replace(QUOTES, "").trim();
    if (value === "") return { kind: "error", message: `--${spec.flag} needs a value: --${spec.flag} ${spec.placeholder}.` };
    raw[spec.option] = value;
  }
  if (free.length > 0) raw[TEXT_OPTION[cmd]!] = free.join(" ");
  return { kind: "run", name: cmd, raw };
}
