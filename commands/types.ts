/**
 * What a chat command is, independent of any chat platform: its name, description, typed options
 * with their limits, and a handler from parsed options (plus a context) to a view model
 * (`view.ts`). Adapters (console, Discord, Slack) turn their input into raw option values, call
 * `parseOptions`, run the handler, and render the view. Nothing here knows about Discord or Slack.
 */
import type { Config } from "../src/config.js";
import type { DigestStore } from "../src/digest/digest-store.js";
import type { Logger } from "../src/log.js";
import type { PaperIndex } from "../src/search/paper-index.js";
import { searchOnThisThread, type PaperSearch } from "../src/search/search-threads.js";
import type { View } from "./view.js";

/** "attachment": a file the user attaches (Discord); its value names it, and the adapter passes it as `CommandContext.attachment`. */
export type OptionType = "string" | "integer" | "boolean" | "attachment";

export interface OptionSpec {
  name: string;
  description: string;
  type: OptionType;
  required?: boolean;
  /** Strings: at most this many characters (after trimming). */
  maxLength?: number;
  /** Integers: inclusive bounds. */
  min?: number;
  max?: number;
  /** Extra check of a string value; returns the normalised value or throws `CommandInputError`. */
  check?: (value: string) => string;
  /** The adapter may offer completions (`autocomplete` on the command). */
  autocomplete?: boolean;
  /** Not offered to users (registered nowhere, not in help): set by adapters, e.g. `page` for "More". */
  hidden?: boolean;
  /** Value when the option is not given. */
  default?: string | number | boolean;
  /** Strings: the only values allowed (adapters may offer them as a fixed list). */
  choices?: readonly string[];
}

/** A file sent with a command: its name and declared size, and its bytes read on demand. */
export interface CommandAttachment {
  name: string;
  /** Bytes, as the platform declares them (checked before anything is read). */
  size: number;
  /** The bytes; rejects once more than `maxBytes` arrive (a declared size can be wrong). */
  read(maxBytes: number): Promise<Buffer>;
}

/** What every handler gets besides its options. */
export interface CommandContext {
  index: PaperIndex;
  /** Runs /paper and /related searches (the bot's search threads); absent: `index` on this thread. */
  search?: PaperSearch;
  config?: Config;
  /** Now, for date checks; tests pass a fixed clock. */
  clock: () => Date;
  logger: Logger;
  /** The chat channel the command runs in (adapters set it): its digest key ("discord:123") and whether the caller may change its settings. */
  channel?: { key: string; canManage: boolean };
  /** Who runs the command, as a library shows it ("ana"; adapters set it). */
  user?: string;
  /** The daily digest store (src/digest/), which also holds the channels' libraries; absent where it is not available. */
  digest?: DigestStore;
  /**
   * Fetches papers by arXiv id into the index and loads them, so /related and /save can use a paper
   * the index does not hold (the bot: an ingest job in a child process, then a refresh). Absent: the
   * commands say the paper is not in the index. Throws when arXiv cannot be reached.
   */
  fetchArxiv?: (ids: readonly string[]) => Promise<void>;
  /** A file the user sent with the command (an import), read by the command only after its checks. */
  attachment?: CommandAttachment;
  /** The chat platform the command came from (adapters set it): labels metrics and logs. */
  platform?: "discord" | "slack" | "console";
  /** Told about every command run (metrics and the per-command log line of `paperhound bot`). */
  onCommand?: (event: CommandEvent) => void;
}

/** One command handled: what ran, how it ended, how long it took, and what was asked. */
export interface CommandEvent {
  platform: string;
  command: string;
  /** The options as given, query text included: logged only when the operator asks (LOG_QUERIES). */
  options: RawOptions;
  /** ok: results; empty: nothing found; user_error: bad input or unknown paper; error: a failure. */
  outcome: "ok" | "empty" | "user_error" | "error";
  ms: number;
  /** Papers shown (results only). */
  hits: number;
}

/** Whether `cmd`'s answer to `options` is for the caller alone. */
export function answersPrivately(cmd: CommandSpec, options: ParsedOptions): boolean {
  return cmd.isPrivate?.(options) ?? false;
}

/** Where a command's searches run: the context's search threads, else its index on this thread. */
export function searcherOf(ctx: CommandContext): PaperSearch {
  return ctx.search ?? searchOnThisThread(ctx.index);
}

/** A completion offered while the user types an option (Discord autocomplete; at most 25). */
export interface Choice {
  /** What the user sees (≤ 100 characters). */
  name: string;
  /** What the option is set to (≤ 100 characters). */
  value: string;
}

export type RawValue = string | number | boolean | undefined;
export type RawOptions = Readonly<Record<string, RawValue>>;
export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export interface CommandSpec {
  name: string;
  description: string;
  options: readonly OptionSpec[];
  /**
   * Whether the answer is for the caller alone, from the parsed options (absent: never). Known
   * before the command runs, so an adapter can acknowledge privately (Discord's deferral, Slack's
   * response type).
   */
  isPrivate?(options: ParsedOptions): boolean;
  /** Runs the command. Known problems (bad input, nothing found) are views, not exceptions. */
  run(options: ParsedOptions, ctx: CommandContext): Promise<View>;
  /** Completions for an option being typed; never throws (returns [] instead). */
  autocomplete?(option: string, partial: string, ctx: CommandContext): Choice[];
}

/** An option value that is not allowed; the message is written for the user. */
export class CommandInputError extends Error {
  override readonly name = "CommandInputError";
  constructor(
    message: string,
    readonly option?: string,
  ) {
    super(message);
  }
}

/** Discord's limit on autocomplete choices, and on a choice's name and value. */
export const MAX_CHOICES = 25;
export const MAX_CHOICE_CHARS = 100;
