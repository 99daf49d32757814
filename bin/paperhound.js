#!/usr/bin/env node
// Runs the TypeScript source directly (no build step): registers tsx's ESM loader, then the CLI.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

register({ tsconfig: fileURLToPath(new URL("../tsconfig.json", import.meta.url)) });
const { main } = await import("../src/cli.ts");
process.exitCode = await main(process.argv);
