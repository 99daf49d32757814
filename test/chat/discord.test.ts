/**
 * The Discord adapter with the REAL discord.js Client against a fake Discord on 127.0.0.1
 * (test/helpers/fake-discord.ts: REST + gateway speaking the real protocol), on a small real index.
 * Every test asserts the exact REST calls the bot makes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIEmbed } from "discord.js";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import { LIMITS, totalEmbedChars } from "../../src/chat/discord/render.js";
import { createLogger } from "../../src/log.js";
import { APP_ID, FakeDiscord, type RestCall } from "../helpers/fake-discord.js";
import { buildTestIndex, type TestIndex } from "../commands/test-index.js";

let t: TestIndex;
let fake: FakeDiscord;
let bot: DiscordBot;
const logs: string[] = [];

beforeAll(async () => {
  t = await buildTestIndex();
  fake = new FakeDiscord({ heartbeatInterval: 1000 });
  await fake.start();
  const logger = createLogger({ level: "info", format: "json", stream: { write: (s: string) => logs.push(s) } });
  bot = new DiscordBot({ ctx: { ...t.ctx, logger }, logger, clientOptions: { rest: { api: fake.restUrl, retries: 2 } } });
  await bot.start("fake.token.value-1234567890");
}, 180_000);

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  await t?.close();
});

const isCallback = (c: RestCall) => c.method === "POST" && c.path.endsWith("/callback");
const isEdit = (c: RestCall) => c.method === "PATCH" && c.path.endsWith("/messages/@original");

/** Waits until the interaction's calls end with a call matching `last`, and returns them all. */
async function finished(token: string, last: (c: RestCall) => boolean): Promise<RestCall[]> {
  await fake.waitForCall((c) => (c.path.includes(`/${token}/`) || c.path.endsWith(`/${token}`)) && last(c) && c.status < 300);
  return fake.callsFor(token);
}

function checkLimits(body: { content?: string; embeds?: APIEmbed[]; allowed_mentions?: unknown }): void {
  expect(body.allowed_mentions).toEqual({ parse: [] });
  expect((body.content ?? "").length).toBeLessThanOrEqual(LIMITS.content);
  const embeds = body.embeds ?? [];
  expect(embeds.length).toBeLessThanOrEqual(LIMITS.embeds);
  expect(totalEmbedChars(embeds)).toBeLessThanOrEqual(LIMITS.embedTotal);
  for (const e of embeds) {
    expect((e.title ?? "").length).toBeLessThanOrEqual(LIMITS.embedTitle);
    expect((e.description ?? "").length).toBeLessThanOrEqual(LIMITS.embedDescription);
    for (const f of e.fields ?? []) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
  }
}

describe("slash commands through the real discord.js client", () => {
  it("identifies with no privileged intents", () => {
    expect(fake.identifies).toHaveLength(1);
    expect(fake.identifies[0]).toMatchObject({ token: "fake.token.value-1234567890", intents: 1 });
  });

  it("/paper: deferral first, then one edit of the original with embeds within limits", async () => {
    const { id, token } = fake.slashCommand("paper", { query: "sparse attention for long documents", count: 3 });
    const calls = await finished(token, isEdit);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /interactions/${id}/${token}/callback`,
      `PATCH /webhooks/${APP_ID}/${token}/messages/@original`,
    ]);
    expect(calls[0]!.body).toEqual({ type: 5, data: { flags: 0 } });
    const edit = calls[1]!.body as { content: string; embeds: APIEmbed[]; components: { components: { custom_id: string; type: number; options?: { value: string }[] }[] }[]; allowed_mentions: unknown };
    checkLimits(edit);
    expect(edit.content).toBe("Papers for “sparse attention for long documents”");
    expect(edit.embeds).toHaveLength(3);
    expect(edit.embeds[0]).toMatchObject({ title: "1. Sparse Attention for Long Documents", url: "https://arxiv.org/abs/2101.00001", footer: { text: "2101.00001" } });
    expect(edit.embeds[0]!.description).toMatch(/^A\. Smith, B\. Jones et al\. · 2021-01-04 · cs\.CL · score \d+\.\d\d\nTransformers scale quadratically/);
    expect(edit.embeds[0]!.description).toContain("[PDF](https://arxiv.org/pdf/2101.00001)");
    const [buttons, select] = edit.components;
    expect(buttons!.components.map((c) => c.custom_id)).toEqual([expect.stringMatching(/^ph:more:/)]);
    expect(select!.components[0]!.options!.map((o) => o.value)).toEqual(edit.embeds.map((e) => e.footer!.text));
  });
});
