/**
 * Settings may also come from a .env file: the current directory's, or the file PAPERHOUND_ENV_FILE
 * names (set it empty to read none). Variables already in the environment win over the file. Read
 * by every entry point (bin/paperhound.js, scripts/register-commands.ts) before the configuration.
 */
import { readFileSync, statSync } from "node:fs";
import { parseEnv } from "node:util";

/**
 * Loads the .env file into `process.env`; returns what is wrong with it, or undefined.
 * A `.env` in the current directory that is not a regular file (often a Python virtualenv folder
 * named .env) is not ours and is passed over; a PAPERHOUND_ENV_FILE that names one is an error.
 * Only regular files are read: a FIFO would block every command.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.PAPERHOUND_ENV_FILE;
  const file = named ?? ".env";
  if (file === "") return undefined;
  const what = named !== undefined ? `PAPERHOUND_ENV_FILE names ${file}, which` : undefined;
  let stat;
  try {
    stat = statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return what ? `${what} does not exist` : undefined;
    return `${what ?? `the settings file ${file}`} cannot be read (${code ?? String(err)})`;
  }
  if (!stat.isFile()) return what ? `${what} is ${stat.isDirectory() ? "a directory" : "not a regular file"}; it must name a settings file (KEY=value lines)` : undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return `${what ?? `the settings file ${file}`} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (env[key] === undefined && value !== undefined) {
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

