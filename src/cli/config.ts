/** `paperhound config`: prints the validated configuration, secrets redacted, and where each value came from. */
import { describeConfig } from "../config.js";
import { envFileSettings } from "../env-file.js";
import type { RegisterCommand } from "./context.js";

export const registerConfig: RegisterCommand = (program, ctx) => {
  program
    .command("config")
    .description("print the validated configuration (secrets redacted) and where each value came from (environment, settings file, default)")
    .option("--json", "print one JSON object keyed by environment variable")
    .action((opts: { json?: boolean }) => {
      const file = envFileSettings();
      const rows = describeConfig(ctx.config(), { env: ctx.env, fromFile: file.keys });
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(Object.fromEntries(rows.map((r) => [r.env, r.value])))}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.env.length));
      const shown = rows.map((r) => (r.value !== "" ? r.value : (r.whenUnset ?? "(not set)")));
      const valueWidth = Math.min(60, Math.max(...shown.map((v) => v.length)));
      const from = (r: (typeof rows)[number]) => (r.source === "file" ? (file.file ?? ".env") : r.source);
      rows.forEach((r, i) => ctx.stdout.write(`${r.env.padEnd(width)}  ${shown[i]!.padEnd(valueWidth)}  (${from(r)})\n`));
    });
};
