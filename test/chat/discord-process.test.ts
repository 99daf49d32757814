/**
 * `paperhound bot` as users run it (npm start with DISCORD_TOKEN): a child process connects to the
 * fake Discord (DISCORD_API_URL), answers a slash command on a fresh index (sample corpus), never
 * logs the token, and stops cleanly on SIGTERM.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { APIEmbed } from "discord.js";
import { projectRoot } from "../../src/paths.js";
import { FakeDiscord, USER_ID } from "../helpers/fake-discord.js";
import { cleanEnv } from "../helpers/run-cli.js";

let fake: FakeDiscord;
let tmp: string;

beforeAll(async () => {
  fake = new FakeDiscord({ heartbeatInterval: 500 });
  await fake.start();
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-discord-proc-"));
});

afterAll(async () => {
  await fake?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

it("npm start with DISCORD_TOKEN: connects, answers /paper, stops on SIGTERM", async () => {
  const token = "process.test.token-abcdefghijklmnop";
  const env = cleanEnv({
    DISCORD_TOKEN: token,
    DISCORD_API_URL: fake.restUrl,
    PAPERHOUND_INDEX: path.join(tmp, "index"),
    PAPERHOUND_SAMPLE_IF_EMPTY: "1",
    LOG_FORMAT: "json",
  });
  const child = spawn(process.execPath, [path.join(projectRoot, "bin", "paperhound.js")], { env, cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  try {
    await fake.ready();
    const { token: itoken } = fake.slashCommand("paper", { query: "equivariant point cloud networks", count: 2 });
    // The reply itself, or the edit of a deferred one while the search thread is still starting.
    const body = (await fake.waitForAnswer(itoken, 60_000)).message as { content: string; embeds: APIEmbed[]; allowed_mentions: unknown };
    expect(body.content).toBe("Papers for “equivariant point cloud networks”");
    expect(body.embeds).toHaveLength(2);
    expect(body.allowed_mentions).toEqual({ parse: [] });
    // /digest: the bot opened digest.sqlite beside the index; Manage Channels may subscribe.
    const member = {
      user: { id: USER_ID, username: "researcher", discriminator: "0", avatar: null, global_name: null },
      roles: [],
      permissions: String(2248473465835073n | 16n),
      joined_at: "2024-01-01T00:00:00.000Z",
      deaf: false,
      mute: false,
      flags: 0,
    };
    const sub = fake.slashCommand("digest", { action: "subscribe", topics: "equivariant networks", time: "23:59" }, { member });
    const subscribed = await fake.waitForAnswer(sub.token, 60_000);
    expect(JSON.stringify(subscribed.message)).toContain("Daily digest set up");
    expect(existsSync(path.join(tmp, "index", "digest.sqlite"))).toBe(true);
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited).toBe(0);
  expect(stderr).toContain('"msg":"connected to Discord"');
  expect(stderr).toContain('"msg":"stopping the Discord bot"');
  expect(stderr).toContain('"msg":"digest scheduler started"');
  expect(stderr).not.toContain(token);
  expect(fake.identifies[0]).toMatchObject({ token, intents: 1 });
}, 120_000);

it("a refused token: one line naming DISCORD_TOKEN, exit 1", async () => {
  fake.failNext({ match: (m, p) => m === "GET" && p === "/gateway/bot", status: 401 });
  const env = cleanEnv({ DISCORD_TOKEN: "refused.token.value-1234567890", DISCORD_API_URL: fake.restUrl, PAPERHOUND_INDEX: path.join(tmp, "index"), PAPERHOUND_SAMPLE_IF_EMPTY: "1", LOG_FORMAT: "json" });
  const child = spawn(process.execPath, [path.join(projectRoot, "bin", "paperhound.js"), "bot"], { env, cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(code).toBe(1);
  expect(stderr.trimEnd().split("\n").at(-1)).toMatch(/^paperhound: Discord refused DISCORD_TOKEN \(.+\); copy the bot token again from the developer portal/);
  expect(stderr).not.toContain("refused.token.value-1234567890");
}, 120_000);
