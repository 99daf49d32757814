/**
 * /digest through the real discord.js client against the fake Discord (test/helpers/fake-discord.ts),
 * on the small real index with a real DigestStore: Manage Channels decides who may subscribe, show
 * is private, and a scheduler tick with a fixed clock posts the digest to the channel (headline +
 * embeds, REST POST /channels/<id>/messages).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { APIEmbed } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import { digestMessages, discordDigestPoster } from "../../src/chat/discord/digest.js";
import { LIMITS, totalEmbedChars } from "../../src/chat/discord/render.js";
import { DigestService } from "../../src/bot/digest-service.js";
import type { PostedSoFar } from "../../src/digest/digest-runner.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { APP_ID, CHANNEL_ID, FakeDiscord, USER_ID, type RestCall } from "../helpers/fake-discord.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";

let t: TestIndex;
let fake: FakeDiscord;
let bot: DiscordBot;
let dir: string;
let store: DigestStore;

const MANAGE_CHANNELS = 16n;
const member = (permissions: bigint) => ({
  user: { id: USER_ID, username: "researcher", discriminator: "0", avatar: null, global_name: null },
  roles: [],
  permissions: String(permissions),
  joined_at: "2024-01-01T00:00:00.000Z",
  deaf: false,
  mute: false,
  flags: 0,
});
const BASE_PERMISSIONS = 2248473465835073n; // the fake's default member: no Manage Channels

beforeAll(async () => {
  t = await buildTestIndex();
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-discord-"));
  store = DigestStore.open(dir);
  fake = new FakeDiscord({ heartbeatInterval: 1000 });
  await fake.start();
  const logger = quietLogger();
  bot = new DiscordBot({ ctx: { ...t.ctx, clock: () => new Date("2024-10-01T12:00:00Z"), digest: store }, logger, clientOptions: { rest: { api: fake.restUrl, retries: 2 } } });
  await bot.start("fake.token.value-1234567890");
}, 180_000);

afterAll(async () => {
  await bot?.stop();
  await fake?.stop();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

type Message = { content: string; embeds: APIEmbed[]; flags?: number };

/** Every call made for the interaction, once it was answered, and the message it was answered with. */
async function answer(token: string): Promise<{ calls: RestCall[]; message: Message }> {
  const { message } = await fake.waitForAnswer(token);
  return { calls: fake.callsFor(token), message: message as Message };
}

describe("/digest on Discord", () => {
  it("without Manage Channels: subscribe is refused privately", async () => {
    const { token } = fake.slashCommand("digest", { action: "subscribe", topics: "ping safety" }, { member: member(BASE_PERMISSIONS) });
    const { message: last } = await answer(token);
    expect(last.flags).toBe(64);
    expect(last.embeds[0]!.description).toMatch(/Only people who can manage this channel can set up its digest/);
    expect(store.subscription(`discord:${CHANNEL_ID}`)).toBeUndefined();
  });

  it("with Manage Channels: subscribe (public), then show (private) for anyone", async () => {
    const sub = fake.slashCommand(
      "digest",
      { action: "subscribe", topics: "ping safety for chat bots; sparse attention", time: "09:00", timezone: "UTC", count: 5 },
      { member: member(BASE_PERMISSIONS | MANAGE_CHANNELS) },
    );
    const subscribed = await answer(sub.token);
    expect(subscribed.calls).toHaveLength(1);
    expect(subscribed.message.flags ?? 0).toBe(0);
    expect(JSON.stringify(subscribed.message)).toContain("Daily digest set up");
    expect(store.subscription(`discord:${CHANNEL_ID}`)).toMatchObject({ topics: ["ping safety for chat bots", "sparse attention"], count: 5, windowEnd: "2024-09-30" });

    const show = fake.slashCommand("digest", { action: "show" }, { member: member(BASE_PERMISSIONS) });
    const shown = await answer(show.token);
    expect(shown.message.flags).toBe(64);
    expect(JSON.stringify(shown.message)).toContain("Topics: ping safety for chat bots; sparse attention");
  });

  it("a scheduler tick at the channel's time posts the digest to the channel: headline + embeds, once", async () => {
    let now = new Date("2024-10-02T08:59:00Z");
    const service = new DigestService(store, { ...t.ctx }, { logger: quietLogger(), holder: "test:1", now: () => now });
    service.addPoster("discord", discordDigestPoster(bot.client.rest));
    const before = await service.scheduler.tick();
    expect(before).toMatchObject({ leased: true, posted: [], failed: [] });
    now = new Date("2024-10-02T09:01:00Z");
    const report = await service.scheduler.tick();
    expect(report!.failed).toEqual([]);
    expect(report!.posted).toEqual([{ channel: `discord:${CHANNEL_ID}`, digestId: expect.any(Number), papers: expect.any(Number), resumed: false }]);
    const posts = fake.calls.filter((c) => c.method === "POST" && c.path === `/channels/${CHANNEL_ID}/messages`);
    expect(posts.length).toBeGreaterThanOrEqual(1);
    const first = posts[0]!.body as { content: string; embeds: APIEmbed[]; components: { components: { type: number; label: string; custom_id: string }[] }[]; allowed_mentions: unknown; nonce: string; enforce_nonce: boolean };
    expect(first.content).toMatch(/^Daily digest · 2024-10-02 · \d+ papers? · ping safety for chat bots; sparse attention$/);
    expect(first.allowed_mentions).toEqual({ parse: [] });
    expect(first.enforce_nonce).toBe(true);
    expect(first.embeds.length).toBeGreaterThan(0);
    expect(first.embeds.map((e) => e.footer!.text)).toContain("2410.00001");
    const mallory = first.embeds.find((e) => e.footer!.text === "2410.00001")!;
    expect(mallory.description).toMatch(/Why: topic "ping safety for chat bots"/);
    expect(mallory.title).not.toMatch(/@everyone/);
    expect(store.posted(`discord:${CHANNEL_ID}`)).toHaveLength(1);
    expect(store.posted(`discord:${CHANNEL_ID}`)[0]!.messageRef).toMatch(new RegExp(`^discord:${CHANNEL_ID}/\\d+$`));
    // The same day again: nothing more.
    now = new Date("2024-10-02T15:00:00Z");
    expect((await service.scheduler.tick())!.posted).toEqual([]);
    expect(fake.calls.filter((c) => c.method === "POST" && c.path === `/channels/${CHANNEL_ID}/messages`)).toHaveLength(posts.length);
    expect(APP_ID).toBeTruthy();

    // 👍 on a paper of the digest: an ephemeral thanks, a vote for this channel, counted by /digest show.
    const sent = posts[0]!;
    expect(first.components.length).toBe(first.embeds.length);
    const up = first.components[0]!.components[0]!;
    expect(up).toMatchObject({ type: 2, label: "👍 1", custom_id: `ph:vote:1:${first.embeds[0]!.footer!.text}` });
    expect(sent.status).toBe(200);
    const messageId = store.posted(`discord:${CHANNEL_ID}`)[0]!.messageRef.split("/")[1]!;
    const press = fake.component(`channel:${messageId}`, up.custom_id);
    const reply = await fake.waitForCall((c) => c.path.includes(`/${press.token}/`) && c.path.endsWith("/callback"));
    expect(reply.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(reply.body)).toContain("Vote recorded");
    expect(store.feedback(`discord:${CHANNEL_ID}`)).toEqual({ liked: [first.embeds[0]!.footer!.text], disliked: [], votes: 1 });
    const show = fake.slashCommand("digest", { action: "show" }, { member: member(BASE_PERMISSIONS) });
    expect(JSON.stringify((await answer(show.token)).message)).toContain("Feedback: 1 vote shaped the topic profile (1 liked, 0 disliked papers).");

    // Save on the same paper: it goes into the channel's library, answered only to the one who pressed.
    const saveButton = first.components[0]!.components[2]!;
    expect(saveButton).toMatchObject({ type: 2, label: "Save 1", custom_id: `ph:save:${first.embeds[0]!.footer!.text}` });
    const save = fake.component(`channel:${messageId}`, saveButton.custom_id);
    const saved = (await answer(save.token)).message;
    expect(JSON.stringify(saved)).toContain("Saved");
    expect(saved.flags).toBe(64);
    expect(store.library.list(`discord:${CHANNEL_ID}`).entries.map((e) => e.paper.id)).toEqual([first.embeds[0]!.footer!.text]);
  });

  it("a post interrupted by a crash continues where it stopped: no message twice, none lost", async () => {
    const items = Array.from({ length: 12 }, (_, n) => ({ paperId: `2410.${String(n + 200).padStart(5, "0")}`, title: `Paper ${n}`, authors: ["A. B"], score: 1, reason: "topic" }));
    const digest = { id: 9002, channel: `discord:${CHANNEL_ID}`, windowStart: "2024-10-02", windowEnd: "2024-10-03", items, decidedAt: "2024-10-03T09:00:00Z", idempotencyKey: "paperhound-digest-9002" };
    const sub = { topics: ["anything"] } as never;
    const messages = digestMessages(digest, sub);
    expect(messages.length).toBeGreaterThanOrEqual(3);
    const channelPosts = () => fake.calls.filter((c) => c.method === "POST" && c.path === `/channels/${CHANNEL_ID}/messages`);
    const before = channelPosts().length;
    const poster = discordDigestPoster(bot.client.rest);
    const saved: PostedSoFar[] = [];
    // The process dies right after the second message was accepted and recorded.
    const crashing = { saved: undefined, save: (v: PostedSoFar) => {
      saved.push(v);
      if (saved.length === 2) throw new Error("killed");
    } };
    await expect(poster(digest, sub, crashing)).rejects.toThrow("killed");
    expect(channelPosts().length - before).toBe(2);
    const ref = await poster(digest, sub, { saved: saved.at(-1), save: (v) => saved.push(v) });
    const posts = channelPosts().slice(before).map((c) => c.body as { embeds: APIEmbed[]; nonce: string });
    expect(posts).toHaveLength(messages.length);
    expect(posts.flatMap((p) => p.embeds.map((e) => e.footer!.text))).toEqual(items.map((i) => i.paperId));
    expect(new Set(posts.map((p) => p.nonce)).size).toBe(posts.length);
    expect(ref).toBe(`discord:${CHANNEL_ID}/${saved[0]!.ref}`);
  });

  it("a long digest is split into several messages within Discord's limits", () => {
    const items = Array.from({ length: 25 }, (_, n) => ({ paperId: `2410.${String(n).padStart(5, "0")}`, title: `Paper ${n} ${"long title words ".repeat(20)}`, authors: ["A. B"], score: 1, reason: `topic "x" (0.9) ${"why ".repeat(100)}` }));
    const msgs = digestMessages({ id: 1, channel: "discord:1", windowStart: "a", windowEnd: "2024-10-02", items, decidedAt: "", idempotencyKey: "k" }, { topics: ["x"] });
    expect(msgs.length).toBeGreaterThanOrEqual(5);
    expect(msgs.flatMap((m) => m.embeds)).toHaveLength(25);
    for (const m of msgs) {
      expect(m.embeds.length).toBeLessThanOrEqual(LIMITS.embeds);
      expect(m.components.length).toBeLessThanOrEqual(LIMITS.rows);
      expect(m.components).toHaveLength(m.embeds.length);
      expect(totalEmbedChars(m.embeds)).toBeLessThanOrEqual(LIMITS.embedTotal);
    }
    expect(msgs[0]!.content).toBe("Daily digest · 2024-10-02 · 25 papers · x");
  });
});
