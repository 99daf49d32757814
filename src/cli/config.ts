/** `paperhound config`: prints the validated configuration, secrets redacted. */
import { describeConfig } from "../config.js";
import type { RegisterCommand } from "./context.js";

export const registerConfig: RegisterCommand = (program, ctx) => {
  program
    .command("config")
    .description("print the validated configuration (secrets redacted)")
    .option("--json", "print one JSON object keyed by environment variable")
    .action((opts: { json?: boolean }) => {
      const rows = describeConfig(ctx.config());
      if (opts.json) {
        ctx.stdout.write(`${JSON.stringify(Object.fromEntries(rows.map((r) => [r.env, r.value])))}\n`);
        return;
      }
      const width = Math.max(...rows.map((r) => r.env.length));
      for (const r of rows) ctx.stdout.write(`${r.env.padEnd(width)}  ${r.value === "" ? "(not set)" : r.value}\n`);
    });
};
