/**
 * scripts/register-commands against the fake Discord: the bulk overwrite body generated from
 * commands/, guild (development) and global (production) routes, the application id read from the
 * token when not configured, and what the script says.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commandsJson, registerCommands } from "../../src/chat/discord/registration.js";
import { projectRoot } from "../../src/paths.js";
import { APP_ID, FakeDiscord, GUILD_ID } from "../helpers/fake-discord.js";
import { runNode, type Run } from "../helpers/run-cli.js";

let fake: FakeDiscord;

beforeAll(async () => {
  fake = new FakeDiscord();
  await fake.start();
});

afterAll(async () => {
  await fake?.stop();
});

function runScript(args: string[], env: Record<string, string>): Promise<Run> {
  return runNode(args, { env, nodeArgs: ["--import", "tsx", path.join(projectRoot, "scripts", "register-commands.ts")] });
}

describe("slash command registration", () => {
  it("the body is generated from the command definitions, with limits and autocomplete, without hidden options", () => {
    const body = commandsJson() as unknown as { name: string; options: Record<string, unknown>[] }[];
    expect(body.map((c) => c.name)).toEqual(["paper", "related", "save", "library", "digest", "help"]);
    // /digest's action is a fixed list of choices; so are /library's action and format.
    const digest = body.find((c) => c.name === "digest")!;
    expect(digest.options[0]).not.toHaveProperty("max_length");
    expect(digest.options[0]).toMatchObject({ type: 3, name: "action", required: true, choices: expect.arrayContaining([{ name: "subscribe", value: "subscribe" }, { name: "preview", value: "preview" }]) });
    expect(body[0]!.options).toEqual([
      { type: 3, name: "query", description: "What the papers are about, in your own words", required: true, max_length: 1000 },
      { type: 4, name: "count", description: "How many papers per page (1 to 10, default 5)", required: false, min_value: 1, max_value: 10 },
      { type: 3, name: "since", description: "Published on or after this date (YYYY-MM-DD)", required: false, max_length: 10 },
      { type: 3, name: "until", description: "Published on or before this date (YYYY-MM-DD)", required: false, max_length: 10 },
      { type: 3, name: "category", description: "arXiv category (cs.LG) or archive (cs)", required: false, max_length: 40 },
      { type: 3, name: "author", description: "Part of an author's name (Hinton)", required: false, max_length: 100 },
      { type: 5, name: "private", description: "Show the results only to you (default: the whole channel sees them)", required: false },
    ]);
    expect(body[1]!.options[0]).toMatchObject({ name: "paper", required: true, autocomplete: true });
    expect(body[2]!.options).toEqual([{ type: 3, name: "paper", description: "arXiv id, arXiv URL or title of the paper", required: true, max_length: 300, autocomplete: true }]);
    const library = body[3]!.options;
    expect(library.map((o) => o.name)).toEqual(["action", "filter", "paper", "format", "file"]);
    expect(library[4]).toMatchObject({ type: 11, required: false });
    expect(library[0]).toMatchObject({ required: false, choices: [{ name: "list", value: "list" }, { name: "remove", value: "remove" }, { name: "export", value: "export" }, { name: "cite", value: "cite" }, { name: "import", value: "import" }] });
    expect(library[3]).toMatchObject({ choices: [{ name: "bibtex", value: "bibtex" }, { name: "csl-json", value: "csl-json" }, { name: "ris", value: "ris" }] });
  });

  it("guild bulk overwrite, with the application id read from the token", async () => {
    const r = await registerCommands({ token: "t0ken", guildId: GUILD_ID, api: fake.restUrl });
    expect(r).toEqual({ scope: "guild", applicationId: APP_ID, guildId: GUILD_ID, names: ["paper", "related", "save", "library", "digest", "help"] });
    const calls = fake.calls.slice(-2);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /applications/@me", `PUT /applications/${APP_ID}/guilds/${GUILD_ID}/commands`]);
    expect(calls[1]!.body).toEqual(JSON.parse(JSON.stringify(commandsJson())));
  });

  it("the script: guild from DISCORD_GUILD_ID, --global, and a clear error without a token", async () => {
    const env = { DISCORD_TOKEN: "fake.token.value-1234567890", DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID };
    const guild = await runScript(["--api", fake.restUrl], env);
    expect(guild.stdout).toBe(`registered /paper, /related, /save, /library, /digest, /help in guild ${GUILD_ID} for application ${APP_ID}\n`);
    expect(guild.code).toBe(0);
    const global = await runScript(["--api", fake.restUrl, "--global"], env);
    expect(global.stdout).toBe(`registered /paper, /related, /save, /library, /digest, /help globally for application ${APP_ID}\n`);
    expect(fake.calls.at(-1)).toMatchObject({ method: "PUT", path: `/applications/${APP_ID}/commands` });
    const none = await runScript([], {});
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("set DISCORD_TOKEN");
  }, 60_000);

  it("the script reads the settings from .env as paperhound does", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-register-env-"));
    try {
      const envFile = path.join(dir, "bot.env");
      writeFileSync(envFile, `DISCORD_TOKEN=fake.token.value-1234567890\nDISCORD_APPLICATION_ID=${APP_ID}\nDISCORD_GUILD_ID=${GUILD_ID}\n`);
      const r = await runScript(["--api", fake.restUrl], { PAPERHOUND_ENV_FILE: envFile });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe(`registered /paper, /related, /save, /library, /digest, /help in guild ${GUILD_ID} for application ${APP_ID}\n`);
      const missing = await runScript([], { PAPERHOUND_ENV_FILE: path.join(dir, "nope.env") });
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(`register-commands: PAPERHOUND_ENV_FILE names ${path.join(dir, "nope.env")}, which does not exist\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
