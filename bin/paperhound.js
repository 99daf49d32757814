#!/usr/bin/env node
// Runs the TypeScript source directly (no build step): registers tsx's ESM loader, then the CLI.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

// Settings may also come from a .env file (the current directory's, or PAPERHOUND_ENV_FILE; set it
// empty to read none). Variables already in the environment win over the file.
const envFile = process.env.PAPERHOUND_ENV_FILE ?? ".env";
if (envFile !== "") {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  else if (process.env.PAPERHOUND_ENV_FILE !== undefined) {
    process.stderr.write(`paperhound: PAPERHOUND_ENV_FILE names ${envFile}, which does not exist\n`);
    process.exit(1);
  }
}

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv);
