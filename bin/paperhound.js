#!/usr/bin/env node
// Runs the TypeScript source directly (no build step): registers tsx's ESM loader, then the CLI.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
// Settings may also come from a .env file (src/env-file.ts).
const { loadEnvFile } = await import("../src/env-file.ts");
const envProblem = loadEnvFile();
if (envProblem) {
  process.stderr.write(`paperhound: ${envProblem}\n`);
  process.exit(1);
}
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv);
