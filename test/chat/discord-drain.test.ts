/**
 * Graceful shutdown of the Discord adapter through the real client and the fake Discord: stop()
 * lets a command in flight finish (its final edit is sent before the client disconnects), tells a
 * command arriving meanwhile that the bot is restarting, and gives up after its bound. Also the
 * gateway connection dropping while a command is being answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import { FakeDiscord, type RestCall } from "../helpers/fake-discord.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";
import { slowSearch } from "../helpers/slow-search.js";

let t: TestIndex;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
}, 180_000);

afterAll(async () => {
  await t?.close();
});

async function started(searchMs: number): Promise<{ fake: FakeDiscord; bot: DiscordBot; warnings: string[] }> {
  const fake = new FakeDiscord({ heartbeatInterval: 1000 });
  await fake.start();
  const warnings: string[] = [];
  const logger = { ...quietLogger(), warn: (msg: string) => void warnings.push(msg), child: () => logger } as ReturnType<typeof quietLogger>;
  // Deferred well before the search ends: these tests catch a command between its deferral and its answer.
  const bot = new DiscordBot({ ctx: { ...t.ctx, search: slowSearch(t.index, searchMs) }, logger, deferAfterMs: 100, clientOptions: { rest: { api: fake.restUrl, retries: 1 } } });
  await bot.start("fake.token.value-1234567890");
  return { fake, bot, warnings };
}

const isEdit = (token: string) => (c: RestCall) => c.method === "PATCH" && c.path.endsWith(`/${token}/messages/@original`) && c.status < 300;

describe("stopping the Discord bot", () => {
  it("finishes the commands in flight before disconnecting, and tells new ones it is restarting", async () => {
    const { fake, bot } = await started(1500);
    try {
      const first = fake.slashCommand("paper", { query: "sparse attention" });
      await fake.waitForCall((c) => c.path.endsWith(`/${first.token}/callback`)); // deferred, search running
      const stopping = bot.stop();
      const late = fake.slashCommand("paper", { query: "graph networks" });
      const refused = await fake.waitForCall((c) => c.path.endsWith(`/${late.token}/callback`));
      expect(refused.body).toMatchObject({ type: 4, data: { flags: 64 } });
      expect(JSON.stringify(refused.body)).toContain("The bot is restarting");
      await stopping;
      const edit = fake.calls.find(isEdit(first.token));
      expect(edit, "the command in flight got its results before the bot disconnected").toBeDefined();
      expect(JSON.stringify(edit!.body)).toContain("sparse attention");
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it("gives up waiting after its bound and says so", async () => {
    const { fake, bot, warnings } = await started(5000);
    try {
      const first = fake.slashCommand("paper", { query: "sparse attention" });
      await fake.waitForCall((c) => c.path.endsWith(`/${first.token}/callback`));
      const t0 = performance.now();
      await bot.stop(300);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(warnings).toContain("stopping with interactions still unanswered");
    } finally {
      await fake.stop();
    }
  }, 60_000);

  it("a gateway connection that drops mid-command: the answer still arrives, the bot resumes and keeps answering", async () => {
    const { fake, bot } = await started(1000);
    try {
      const first = fake.slashCommand("paper", { query: "sparse attention" });
      await fake.waitForCall((c) => c.path.endsWith(`/${first.token}/callback`)); // deferred, search running
      fake.closeGateway(4000);
      const edit = await fake.waitForCall(isEdit(first.token));
      expect(JSON.stringify(edit.body)).toContain("sparse attention");
      const next = fake.slashCommand("paper", { query: "graph networks" }); // sent around the resume
      await fake.waitForCall(isEdit(next.token));
      expect(fake.resumes.length).toBeGreaterThanOrEqual(1);
      await bot.stop();
    } finally {
      await fake.stop();
    }
  }, 60_000);
});
