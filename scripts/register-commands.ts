/**
 * Registers paperhound's slash commands with Discord (bulk overwrite, generated from commands/).
 *
 *   npm run register-commands                 # DISCORD_GUILD_ID set: that server only (instant, for development)
 *   npm run register-commands -- --global     # every server the bot is in (production; may take a while to show)
 *   npm run register-commands -- --print      # print the JSON body, send nothing
 *
 * Needs DISCORD_TOKEN (from the environment or .env, as paperhound reads it); DISCORD_APPLICATION_ID
 * is read from the token when unset. `--guild <id>`
 * overrides DISCORD_GUILD_ID; `--api <url>` points at another REST API (tests).
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config.js";
import { commandsJson, registerCommands } from "../src/chat/discord/registration.js";
import { loadEnvFile } from "../src/env-file.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      global: { type: "boolean", default: false },
      guild: { type: "string" },
      print: { type: "boolean", default: false },
      api: { type: "string" },
    },
  });
  if (values.print) {
    process.stdout.write(`${JSON.stringify(commandsJson(), null, 2)}\n`);
    return 0;
  }
  const envProblem = loadEnvFile();
  if (envProblem) {
    process.stderr.write(`register-commands: ${envProblem}\n`);
    return 1;
  }
  const config = loadConfig();
  if (!config.discordToken) {
    // .env is read from the current directory: the project's, when run with npm run.
    process.stderr.write("register-commands: set DISCORD_TOKEN to the bot token (Discord developer portal → your application → Bot)\n");
    return 1;
  }
  const guildId = values.global ? undefined : (values.guild ?? config.discordGuildId);
  if (!values.global && !guildId) {
    process.stderr.write("register-commands: set DISCORD_GUILD_ID (or --guild <id>) for a development server, or pass --global\n");
    return 1;
  }
  const result = await registerCommands({
    token: config.discordToken,
    ...(config.discordApplicationId ? { applicationId: config.discordApplicationId } : {}),
    ...(guildId ? { guildId } : {}),
    ...(values.api ? { api: values.api } : {}),
  });
  process.stdout.write(
    `registered ${result.names.map((n) => `/${n}`).join(", ")} ${result.scope === "guild" ? `in guild ${result.guildId}` : "globally"} for application ${result.applicationId}\n`,
  );
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`register-commands: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
