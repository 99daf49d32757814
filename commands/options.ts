/**
 * Option parsing shared by every adapter: raw values (strings typed in a console, or values a chat
 * platform already typed) are checked against the command's `OptionSpec`s. A bad value is a
 * `CommandInputError` naming the option and what is allowed.
 */
import { isArxivCategory, isCalendarDate, normaliseCategory } from "../src/papers/checks.js";
import { CommandInputError, type CommandSpec, type OptionSpec, type ParsedOptions, type RawOptions, type RawValue } from "./types.js";
import { DEFAULT_COUNT, MAX_COUNT } from "./view.js";

function parseOne(spec: OptionSpec, raw: RawValue): string | number | boolean | undefined {
  if (raw === undefined || (typeof raw === "string" && raw.trim() === "")) return undefined;
  switch (spec.type) {
    case "string": {
      const v = String(raw).replace(/\s+/g, " ").trim();
      if (spec.maxLength !== undefined && [...v].length > spec.maxLength) {
        throw new CommandInputError(`${spec.name} is too long (at most ${spec.maxLength} characters)`, spec.name);
      }
      return spec.check ? spec.check(v) : v;
    }
    case "integer": {
      const text = String(raw).trim();
      const n = typeof raw === "number" ? raw : /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
      const lo = spec.min ?? Number.MIN_SAFE_INTEGER;
      const hi = spec.max ?? Number.MAX_SAFE_INTEGER;
      if (!Number.isSafeInteger(n) || n < lo || n > hi) {
        throw new CommandInputError(`${spec.name} must be a whole number from ${lo} to ${hi}`, spec.name);
      }
      return n;
    }
    case "attachment":
      // The file itself travels in CommandContext.attachment; the value only names it.
      return String(raw).trim();
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const v = String(raw).trim().toLowerCase();
      if (["true", "yes", "1", "on"].includes(v)) return true;
      if (["false", "no", "0", "off"].includes(v)) return false;
      throw new CommandInputError(`${spec.name} must be true or false`, spec.name);
    }
  }
}

/** Checks every option of `cmd` in `raw`; unknown options and missing required ones are errors. */
export function parseOptions(cmd: CommandSpec, raw: RawOptions): ParsedOptions {
  const known = new Map(cmd.options.map((o) => [o.name, o]));
  for (const name of Object.keys(raw)) {
    if (!known.has(name) && raw[name] !== undefined) {
      const visible = cmd.options.filter((o) => !o.hidden).map((o) => o.name);
      throw new CommandInputError(`/${cmd.name} has no option "${name}"${visible.length ? ` (options: ${visible.join(", ")})` : ""}`, name);
    }
  }
  const out: ParsedOptions = {};
  for (const spec of cmd.options) {
    const value = parseOne(spec, raw[spec.name]) ?? spec.default;
    if (value === undefined) {
      if (spec.required) throw new CommandInputError(`/${cmd.name} needs ${spec.name}: ${spec.description.toLowerCase()}`, spec.name);
      continue;
    }
    out[spec.name] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Options several commands share

/** YYYY-MM-DD (or YYYY-MM, YYYY) that exists in the calendar. */
export function checkDate(value: string): string {
  if (!isCalendarDate(value)) {
    throw new CommandInputError(`since must be a date like 2024-01-31 (YYYY-MM-DD, or YYYY-MM or YYYY), not "${value.slice(0, 40)}"`, "since");
  }
  return value;
}

/** An arXiv category (cs.LG) or a whole archive (cs), in arXiv's spelling (cs.LG, math.AG). */
export function checkCategory(value: string): string {
  if (!isArxivCategory(value)) {
    throw new CommandInputError(`category must be an arXiv category like cs.LG, or an archive like cs, not "${value.slice(0, 40)}"`, "category");
  }
  return normaliseCategory(value);
}

export const COUNT_OPTION: OptionSpec = {
  name: "count",
  description: `How many papers per page (1 to ${MAX_COUNT}, default ${DEFAULT_COUNT})`,
  type: "integer",
  min: 1,
  max: MAX_COUNT,
  default: DEFAULT_COUNT,
};

export const PRIVATE_OPTION: OptionSpec = {
  name: "private",
  description: "Show the results only to you (default: the whole channel sees them)",
  type: "boolean",
  default: false,
};

/** Pages of a result list; page × count stays far below the search core's k limit. */
export const MAX_PAGE = 20;

export const PAGE_OPTION: OptionSpec = {
  name: "page",
  description: "Page of the results (set by the More button)",
  type: "integer",
  min: 1,
  max: MAX_PAGE,
  default: 1,
  hidden: true,
};
