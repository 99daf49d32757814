/**
 * Settings may also come from a .env file: the current directory's, or the file PAPERHOUND_ENV_FILE
 * names (set it empty to read none). Variables already in the environment win over the file. Read
 * by every entry point (bin/paperhound.js, scripts/register-commands.ts) before the configuration.
 */
import { existsSync } from "node:fs";

/** Loads the .env file into `process.env`; returns what is wrong when PAPERHOUND_ENV_FILE names a missing file. */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env.PAPERHOUND_ENV_FILE ?? ".env";
  if (file === "") return undefined;
  if (existsSync(file)) {
    process.loadEnvFile(file);
    return undefined;
  }
  return env.PAPERHOUND_ENV_FILE !== undefined ? `PAPERHOUND_ENV_FILE names ${file}, which does not exist` : undefined;
}
