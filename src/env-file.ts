/**
 * Settings may also come from a .env file: the current directory's, or the file PAPERHOUND_ENV_FILE
 * names (set it empty to read none). Variables already in the environment win over the file. Read
 * by every entry point (bin/paperhound.js, scripts/register-commands.ts) before the configuration.
 */
import { readFileSync, statSync } from "node:fs";
import { parseEnv } from "node:util";

/** A settings file as read: its text and values, or why there is none to read. */
export type SettingsFileRead =
  | { kind: "read"; text: string; values: Record<string, string> }
  | { kind: "missing" }
  | { kind: "not-a-file"; is: "a directory" | "not a regular file" }
  | { kind: "unreadable"; code: string };

/**
 * Reads a settings file (KEY=value lines). Only regular files are read: a FIFO would block the
 * reader, a directory is often a Python virtualenv named .env.
 */
export function readSettingsFile(file: string): SettingsFileRead {
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    return { kind: "unreadable", code: code ?? String(err) };
  }
  if (!stat.isFile()) return { kind: "not-a-file", is: stat.isDirectory() ? "a directory" : "not a regular file" };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return { kind: "unreadable", code: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  const values = Object.fromEntries(Object.entries(parseEnv(text)).filter((e): e is [string, string] => e[1] !== undefined));
  return { kind: "read", text, values };
}

/**
 * Loads the .env file into `process.env`; returns what is wrong with it, or undefined.
 * A `.env` in the current directory that is not a regular file (often a Python virtualenv folder
 * named .env) is not ours and is passed over; a PAPERHOUND_ENV_FILE that names one is an error.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.PAPERHOUND_ENV_FILE;
  const file = named ?? ".env";
  if (file === "") return undefined;
  const what = named !== undefined ? `PAPERHOUND_ENV_FILE names ${file}, which` : undefined;
  const read = readSettingsFile(file);
  switch (read.kind) {
    case "missing":
      return what ? `${what} does not exist` : undefined;
    case "unreadable":
      return `${what ?? `the settings file ${file}`} cannot be read (${read.code})`;
    case "not-a-file":
      return what ? `${what} is ${read.is}; it must name a settings file (KEY=value lines)` : undefined;
  }
  for (const [key, value] of Object.entries(read.values)) {
    if (env[key] === undefined) {
      env[key] = value;
      fromFile.add(key);
    }
  }
  loadedFile = file;
  return undefined;
}

const fromFile = new Set<string>();
let loadedFile: string | undefined;

/** The settings file read (if any) and the variables it set (`paperhound config` says where each value came from). */
export function envFileSettings(): { file: string | undefined; keys: ReadonlySet<string> } {
  return { file: loadedFile, keys: fromFile };
}


/** `KEY=value` as parseEnv reads it back: bare when safe, else quoted (single quotes are literal). */
function envLine(key: string, value: string): string {
  if (/^[\w.,:/@+-]*$/.test(value)) return `${key}=${value}`;
  if (!value.includes("'")) return `${key}='${value}'`;
  if (!/["\\\n]/.test(value)) return `${key}="${value}"`;
  throw new RangeError(`${key} cannot be written to a .env file (it has both quote kinds, or a line break)`);
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/**
 * The .env text with `changes` made: a key's line is replaced where it stands (later repeats of it
 * are dropped), `undefined` removes it, new keys are appended under `heading`; every other line,
 * comments included, is kept as it was.
 */
export function updateEnvText(text: string, changes: Readonly<Record<string, string | undefined>>, heading = "# written by paperhound setup"): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const done = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const key = ASSIGNMENT.exec(line)?.[1];
    if (key === undefined || !Object.hasOwn(changes, key)) {
      out.push(line);
      continue;
    }
    if (done.has(key)) continue;
    done.add(key);
    const value = changes[key];
    if (value !== undefined) out.push(envLine(key, value));
  }
  const added = Object.entries(changes).filter(([key, value]) => !done.has(key) && value !== undefined);
  if (added.length > 0) {
    if (out.length > 0 && out[out.length - 1] !== "") out.push("");
    if (!out.includes(heading)) out.push(heading);
    for (const [key, value] of added) out.push(envLine(key, value!));
  }
  const result = out.length ? `${out.join("\n")}\n` : "";
  const parsed = parseEnv(result);
  for (const [key, value] of Object.entries(changes)) {
    if (parsed[key] !== value) throw new RangeError(`${key} would not read back as written from the .env file`);
  }
  return result;
}
