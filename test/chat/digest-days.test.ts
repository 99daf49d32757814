/**
 * Twelve days of daily digests end to end, through the real discord.js client and the real bolt app
 * against the fake Discord and the fake Slack, with a fixed clock ticked every 30 minutes: a
 * Discord channel in Europe/Berlin (09:00; daylight saving starts on Sunday 2026-03-29) and a quiet
 * Slack channel in America/New_York (08:30), both subscribed through their own /digest command. The
 * days cover a weekend (no arXiv announcements), the switch to summer time, and a 3-day outage
 * (no ticks). Asserted on what reached the fakes: when each post came, which papers it held, and
 * that every paper reached each channel exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { APIEmbed } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import { discordDigestPoster } from "../../src/chat/discord/digest.js";
import { DigestService } from "../../src/bot/digest-service.js";
import { startSlackAdapter, type SlackAdapter } from "../../src/chat/slack/adapter.js";
import { slackDigestPoster } from "../../src/chat/slack/digest.js";
import { loadConfig } from "../../src/config.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { loadEmbedder } from "../../src/embed/load.js";
import type { Embedder } from "../../src/embed/types.js";
import type { Paper } from "../../src/papers/types.js";
import { PaperIndex } from "../../src/search/paper-index.js";
import { quietLogger } from "../commands/test-index.js";
import { CHANNEL_ID as DISCORD_CHANNEL, FakeDiscord } from "../helpers/fake-discord.js";
import { BOT_TOKEN, CHANNEL_ID as SLACK_CHANNEL, FakeSlack, SIGNING_SECRET, postSigned, slashCommandFields } from "../helpers/fake-slack.js";

/** Weekday announcements (none on the weekend of 2026-03-28/29): two on-topic papers and one off-topic a day. */
const DAYS = ["2026-03-26", "2026-03-27", "2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03", "2026-04-06"];
const PAPERS: Paper[] = DAYS.flatMap((day, d) => [
  {
    id: `2603.${String(d * 10 + 1).padStart(5, "0")}`,
    title: `Equivariant graph networks for molecules, part ${d + 1}`,
    abstract: "Rotation equivariant message passing networks predict molecular properties from 3D structure.",
    authors: ["A. Chen"],
    categories: ["cs.LG"],
    published: day,
    links: {},
    source: "arxiv-rss",
  },
  {
    id: `2603.${String(d * 10 + 2).padStart(5, "0")}`,
    title: `Self-supervised 3D representation learning of point clouds, study ${d + 1}`,
    abstract: "We learn 3D representations of point clouds and shapes without labels.",
    authors: ["B. Rossi"],
    categories: ["cs.CV"],
    published: day,
    links: {},
    source: "arxiv-rss",
  },
  {
    id: `2603.${String(d * 10 + 3).padStart(5, "0")}`,
    title: `Medieval tax records of Flemish towns, volume ${d + 1}`,
    abstract: "An economic history of taxation in fifteenth-century Flanders from archival ledgers.",
    authors: ["C. Janssens"],
    categories: ["econ.GN"],
    published: day,
    links: {},
    source: "arxiv-rss",
  },
]);
const ON_TOPIC = PAPERS.filter((p) => !p.title.startsWith("Medieval")).map((p) => p.id);

let dir: string;
let embedder: Embedder;
let index: PaperIndex;
let store: DigestStore;
let discord: FakeDiscord;
let bot: DiscordBot;
let slack: FakeSlack;
let adapter: SlackAdapter;
let now = new Date("2026-03-26T06:00:00Z");

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-days-"));
  embedder = await loadEmbedder({ model: "use-lite", device: "cpu", logger: quietLogger() });
  const writer = await PaperIndex.open({ dir, embedder });
  await writer.add(PAPERS);
  writer.close();
  index = await PaperIndex.open({ dir, embedder, readonly: true, warm: true });
  store = DigestStore.open(dir);
  const ctx = { index, clock: () => now, logger: quietLogger(), digest: store };
  discord = new FakeDiscord({ heartbeatInterval: 1000 });
  await discord.start();
  bot = new DiscordBot({ ctx, logger: quietLogger(), clientOptions: { rest: { api: discord.restUrl, retries: 2 } } });
  await bot.start("fake.token.value-1234567890");
  slack = new FakeSlack();
  await slack.start();
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: "http", SLACK_API_URL: slack.apiUrl }, { stderrIsTTY: false });
  adapter = await startSlackAdapter({ config, ctx, logger: quietLogger(), listen: { port: 0, host: "127.0.0.1" } });
}, 180_000);

afterAll(async () => {
  await adapter?.stop();
  await slack?.stop();
  await bot?.stop();
  await discord?.stop();
  store?.close();
  index?.close();
  await embedder?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What reached a channel in one post: when (UTC), the headline, and the papers' ids. */
interface Post {
  at: string;
  headline: string;
  papers: string[];
}

describe("daily digests over twelve days", () => {
  it("post once a day at each channel's local time, through a weekend, a DST switch and a 3-day outage, every paper once", async () => {
    // Subscribe through each platform's own command, on 2026-03-26 before the digest time.
    const MANAGE_CHANNELS = (1n << 4n) | 2248473465835073n;
    const sub = discord.slashCommand(
      "digest",
      { action: "subscribe", topics: "equivariant networks; 3D representation learning", time: "09:00", timezone: "Europe/Berlin" },
      { member: { user: { id: "200000000000000001", username: "lead", discriminator: "0", avatar: null, global_name: null }, roles: [], permissions: String(MANAGE_CHANNELS), joined_at: "2024-01-01T00:00:00.000Z", deaf: false, mute: false, flags: 0 } },
    );
    await discord.waitForAnswer(sub.token);
    const ack = await postSigned(
      `http://127.0.0.1:${adapter.port}/slack/events`,
      slashCommandFields("/digest", 'subscribe --topics "equivariant networks; 3D representation learning" --time 08:30 --timezone America/New_York --quiet', slack.responseUrl("sub")),
    );
    expect(ack.status).toBe(200);
    await slack.waitFor(() => slack.responsesTo("sub")[0]);
    expect(store.subscriptions().map((s) => [s.channel, s.timezone, s.quiet])).toEqual([
      [`discord:${DISCORD_CHANNEL}`, "Europe/Berlin", false],
      [`slack:${SLACK_CHANNEL}`, "America/New_York", true],
    ]);

    const service = new DigestService(store, { index, clock: () => now, logger: quietLogger() }, { logger: quietLogger(), holder: "test:days", now: () => now });
    service.addPoster("discord", discordDigestPoster(bot.client.rest));
    service.addPoster("slack", slackDigestPoster(adapter));

    const discordPosts: Post[] = [];
    const slackPosts: Post[] = [];
    let discordSeen = discord.calls.length;
    let slackSeen = slack.callsOf("chat.postMessage").length;
    const collect = () => {
      const at = now.toISOString().slice(0, 16);
      for (const c of discord.calls.slice(discordSeen)) {
        if (c.method !== "POST" || c.path !== `/channels/${DISCORD_CHANNEL}/messages`) continue;
        const body = c.body as { content?: string; embeds?: APIEmbed[] };
        const papers = (body.embeds ?? []).map((e) => e.footer!.text!);
        if (body.content) discordPosts.push({ at, headline: body.content, papers });
        else discordPosts.at(-1)!.papers.push(...papers);
      }
      discordSeen = discord.calls.length;
      const calls = slack.callsOf("chat.postMessage");
      for (const c of calls.slice(slackSeen)) {
        if (c.body.thread_ts === undefined) slackPosts.push({ at, headline: String(c.body.text), papers: [] });
        else slackPosts.at(-1)!.papers.push(...[...JSON.stringify(c.body.blocks).matchAll(/"value":"(2603\.\d{5})"/g)].map((m) => m[1]!).filter((id, i, all) => all.indexOf(id) === i));
      }
      slackSeen = calls.length;
    };
    const outage = { from: new Date("2026-04-01T00:00:00Z"), to: new Date("2026-04-04T00:00:00Z") };
    for (now = new Date("2026-03-26T06:00:00Z"); now < new Date("2026-04-07T18:00:00Z"); now = new Date(now.getTime() + 30 * 60_000)) {
      if (now >= outage.from && now < outage.to) continue; // the bot is down
      const report = await service.scheduler.tick();
      expect(report?.failed).toEqual([]);
      collect();
    }

    const day = (p: Post) => p.headline.slice("Daily digest · ".length, "Daily digest · ".length + 10);
    // Discord, Europe/Berlin 09:00: 08:00 UTC before the switch, 07:00 UTC from Sunday 2026-03-29.
    expect(discordPosts.map((p) => `${day(p)} ${p.at.slice(11)} ${p.papers.length}`)).toEqual([
      "2026-03-26 08:00 2",
      "2026-03-27 08:00 2",
      "2026-03-28 08:00 0", // Saturday: "arXiv does not announce on weekends"
      "2026-03-29 07:00 0", // Sunday, first day of summer time
      "2026-03-30 07:00 2",
      "2026-03-31 07:00 2",
      "2026-04-04 07:00 6", // back at 00:00 UTC (02:00 in Berlin on the 4th: not yet due); at 09:00 one digest for 1–4 April
      "2026-04-05 07:00 0",
      "2026-04-06 07:00 2",
      "2026-04-07 07:00 0",
    ]);
    expect(discordPosts.find((p) => day(p) === "2026-03-28")!.headline).toContain("No new papers: arXiv does not announce on weekends.");
    // Slack, America/New_York 08:30 (already on summer time: UTC−4), quiet: nothing on empty days.
    expect(slackPosts.map((p) => `${day(p)} ${p.at.slice(11)} ${p.papers.length}`)).toEqual([
      "2026-03-26 12:30 2",
      "2026-03-27 12:30 2",
      "2026-03-30 12:30 2",
      "2026-03-31 12:30 2",
      "2026-04-03 00:00 6", // back at 00:00 UTC = 20:00 on 3 April in New York, past 08:30: one digest for 1–3 April
      "2026-04-06 12:30 2", // Saturday 4 April had nothing new, and the channel is quiet
    ]);
    for (const posts of [discordPosts, slackPosts]) {
      const all = posts.flatMap((p) => p.papers);
      expect(new Set(all).size).toBe(all.length); // never twice
      expect([...all].sort()).toEqual([...ON_TOPIC].sort()); // none lost, nothing off-topic
    }
  }, 300_000);
});
