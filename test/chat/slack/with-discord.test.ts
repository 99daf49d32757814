/**
 * Discord and Slack in one process on one index and one embedder: the real discord.js client
 * against the fake Discord and the real bolt App (HTTP mode) against the fake Slack, both built
 * on the same command context, answering at the same time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordBot } from "../../../src/chat/discord/bot.js";
import { startSlackAdapter, type SlackAdapter } from "../../../src/chat/slack/adapter.js";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { buildTestIndex, type TestIndex } from "../../commands/test-index.js";
import { FakeDiscord } from "../../helpers/fake-discord.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, slashCommandFields } from "../../helpers/fake-slack.js";

let t: TestIndex;
let discordFake: FakeDiscord;
let slackFake: FakeSlack;
let discord: DiscordBot;
let slack: SlackAdapter;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
  const logger = createLogger({ level: "error", format: "json", stream: { write: () => true } });
  const ctx = { ...t.ctx, logger };
  discordFake = new FakeDiscord({ heartbeatInterval: 1000 });
  await discordFake.start();
  slackFake = new FakeSlack();
  await slackFake.start();
  discord = new DiscordBot({ ctx, logger, clientOptions: { rest: { api: discordFake.restUrl, retries: 2 } } });
  await discord.start("fake.token.value-1234567890");
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slackFake.apiUrl }, { stderrIsTTY: false });
  slack = await startSlackAdapter({ config, ctx, logger, listen: { port: 0, host: "127.0.0.1" } });
}, 180_000);

afterAll(async () => {
  await slack?.stop();
  await discord?.stop();
  await slackFake?.stop();
  await discordFake?.stop();
  await t?.close();
});

describe("Discord and Slack together", () => {
  it("share one index: the same /paper answered on both at the same time, same papers in the same order", async () => {
    const url = `http://127.0.0.1:${slack.port}/slack/events`;
    expect(slack.ctx.index).toBe(discord.ctx.index);
    const { token } = discordFake.slashCommand("paper", { query: "sparse attention for long documents", count: 3 });
    const ack = await postSigned(url, slashCommandFields("/paper", "sparse attention for long documents --count 3", slackFake.responseUrl("both")));
    expect(ack.status).toBe(200);
    const edit = (await discordFake.waitForAnswer(token)).message as { embeds: { footer: { text: string } }[] };
    const slackMsg = (await slackFake.waitFor(() => slackFake.responsesTo("both")[0])).body as { blocks: { type: string; accessory?: { value: string } }[] };
    const slackIds = slackMsg.blocks.filter((b) => b.type === "section").map((b) => (JSON.parse(b.accessory!.value) as { p: string }).p);
    expect(slackIds).toHaveLength(3);
    expect(slackIds).toEqual(edit.embeds.map((e) => e.footer.text));
  });
});
