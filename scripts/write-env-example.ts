/**
 * Writes .env.example from the SETTINGS table (every setting, its description, allowed values and
 * default), so the example can never drift from the code: `npm run env-example`; a test checks it.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { SETTINGS, type ParseContext } from "../src/config.js";
import { projectRoot } from "../src/paths.js";

export function envExample(): string {
  const lines = [
    "# paperhound settings. Copy to .env (read from the current directory, or PAPERHOUND_ENV_FILE) and",
    "# uncomment what you change; variables set in the environment win over this file.",
    "# Generated from src/config.ts by `npm run env-example`.",
    "",
  ];
  for (const spec of Object.values(SETTINGS)) {
    const s = spec as unknown as { env: string; description: string; allowed: string; secret?: boolean; default: (ctx: ParseContext) => unknown };
    let def: unknown;
    try {
      def = s.default({ env: {}, stderrIsTTY: false });
    } catch {
      def = undefined;
    }
    // Defaults that depend on the machine or the install location are described, not written.
    const machineDependent = s.env === "EMBED_THREADS" || (typeof def === "string" && path.isAbsolute(def));
    const shown = def === undefined || machineDependent ? "" : String(def);
    lines.push(`# ${s.description}`, `# Allowed: ${s.allowed}.${s.secret ? " Secret: never logged." : ""}${def === undefined ? " Unset by default." : machineDependent ? " Default depends on this machine (see `paperhound config`)." : ""}`, `# ${s.env}=${shown}`, "");
  }
  return lines.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(projectRoot, "scripts/write-env-example.ts")) {
  writeFileSync(path.join(projectRoot, ".env.example"), envExample());
  process.stdout.write("wrote .env.example\n");
}
