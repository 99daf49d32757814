/**
 * Answers that are not ready at once, through the real discord.js client and the fake Discord: the
 * reply is deferred after the bot's `deferAfterMs` (or before the command runs, with 0) and the
 * deferred reply is then edited, deleted for a private message, or followed up. The fake refuses a
 * second initial response for one interaction (40060), as Discord does, so a reply that raced its
 * deferral would show as a 400 here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { APIEmbed } from "discord.js";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import type { PaperSearch } from "../../src/search/search-threads.js";
import { APP_ID, FakeDiscord, type RestCall } from "../helpers/fake-discord.js";
import { slowSearch } from "../helpers/slow-search.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";

let t: TestIndex;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
}, 180_000);

afterAll(async () => {
  await t?.close();
});

type Message = { content?: string; flags?: number; embeds: APIEmbed[] };

/** A bot on its own fake Discord, deferring after `deferAfterMs`, searching with `search`. */
async function withBot(deferAfterMs: number, search: PaperSearch, run: (fake: FakeDiscord) => Promise<void>): Promise<void> {
  const fake = new FakeDiscord({ heartbeatInterval: 1000 });
  await fake.start();
  const bot = new DiscordBot({ ctx: { ...t.ctx, search }, logger: quietLogger(), deferAfterMs, clientOptions: { rest: { api: fake.restUrl, retries: 1 } } });
  try {
    await bot.start("fake.token.value-1234567890");
    await run(fake);
    expect(fake.calls.filter((c) => c.status >= 400), "no call refused (a second initial response would be)").toEqual([]);
  } finally {
    await bot.stop();
    await fake.stop();
  }
}

const shape = (calls: RestCall[], token: string) => calls.map((c) => `${c.method} ${c.path.replace(token, "T").replace(/\/interactions\/\d+/, "/interactions/I")}`);

describe("answers not ready at once", () => {
  it("a search slower than deferAfterMs: deferred at that moment, then the deferred reply is edited with the results", async () => {
    await withBot(200, slowSearch(t.index, 800), async (fake) => {
      const sent = performance.now();
      const { token } = fake.slashCommand("paper", { query: "sparse attention", count: 2 });
      const { call, message } = await fake.waitForAnswer(token);
      const calls = fake.callsFor(token);
      expect(shape(calls, token)).toEqual(["POST /interactions/I/T/callback", `PATCH /webhooks/${APP_ID}/T/messages/@original`]);
      expect(calls[0]!.body).toEqual({ type: 5, data: { flags: 0 } });
      // The deferral went out once deferAfterMs had passed and well before the search ended.
      expect(calls[0]!.at - sent).toBeGreaterThanOrEqual(190);
      expect(calls[0]!.at - sent).toBeLessThan(700);
      expect(call.at - sent).toBeGreaterThanOrEqual(790);
      expect((message as Message).embeds).toHaveLength(2);
    });
  }, 60_000);

  it("deferAfterMs 0: deferred before the command runs; private results get a private deferral", async () => {
    await withBot(0, slowSearch(t.index, 0), async (fake) => {
      const { token } = fake.slashCommand("paper", { query: "sparse attention", count: 1, private: true });
      const { message } = await fake.waitForAnswer(token);
      const calls = fake.callsFor(token);
      expect(calls.map((c) => c.method)).toEqual(["POST", "PATCH"]);
      expect(calls[0]!.body).toEqual({ type: 5, data: { flags: 64 } });
      expect((message as Message).embeds).toHaveLength(1);
    });
  }, 60_000);

  it("nothing found after a public deferral: the deferral is deleted and the message goes to the caller only", async () => {
    await withBot(0, slowSearch(t.index, 0), async (fake) => {
      const { token } = fake.slashCommand("paper", { query: "transformers", since: "2026-01-01" });
      const { message } = await fake.waitForAnswer(token);
      expect(shape(fake.callsFor(token), token)).toEqual(["POST /interactions/I/T/callback", `DELETE /webhooks/${APP_ID}/T/messages/@original`, `POST /webhooks/${APP_ID}/T`]);
      expect(fake.callsFor(token)[0]!.body).toEqual({ type: 5, data: { flags: 0 } });
      expect((message as Message).flags).toBe(64);
      expect((message as Message).embeds[0]!.title).toBe("Nothing found");
    });
  }, 60_000);

  it("a search failing after the deferral: the caller alone is told, the deferral is deleted", async () => {
    const failing: PaperSearch = { ...slowSearch(t.index, 0), search: () => new Promise((_, reject) => setTimeout(() => reject(new Error("index went away")), 400)) };
    await withBot(100, failing, async (fake) => {
      const { token } = fake.slashCommand("paper", { query: "sparse attention" });
      const { message } = await fake.waitForAnswer(token);
      expect(fake.callsFor(token).map((c) => c.method)).toEqual(["POST", "DELETE", "POST"]);
      expect((message as Message).flags).toBe(64);
      expect((message as Message).embeds[0]!.description).toContain("Something went wrong while running this command");
    });
  }, 60_000);

  it("More slower than deferAfterMs: an update deferral (type 6), then the message edited in place", async () => {
    await withBot(150, slowSearch(t.index, 500), async (fake) => {
      const first = fake.slashCommand("paper", { query: "sparse attention", count: 1 });
      const page1 = (await fake.waitForAnswer(first.token)).message as Message & { components: { components: { custom_id: string }[] }[] };
      const press = fake.component(first.token, page1.components[0]!.components[0]!.custom_id);
      const { message } = await fake.waitForAnswer(press.token);
      const calls = fake.callsFor(press.token);
      expect(calls.map((c) => c.method)).toEqual(["POST", "PATCH"]);
      expect(calls[0]!.body).toEqual({ type: 6 });
      expect((message as Message).content).toBe("Papers for “sparse attention” · page 2");
    });
  }, 60_000);
});
