/**
 * /digest through the real @slack/bolt App in HTTP mode against the fake Slack, on the small real
 * index with a real DigestStore: flags in the text (multi-word values, quotes), the
 * SLACK_DIGEST_ADMINS allow-list, show is ephemeral, and a scheduler tick posts the headline to the
 * channel and the papers in its thread (chat.postMessage with thread_ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DigestService } from "../../../src/bot/digest-service.js";
import { startSlackAdapter, type SlackAdapter } from "../../../src/chat/slack/adapter.js";
import { slackDigestPoster } from "../../../src/chat/slack/digest.js";
import { parseSlackCommand } from "../../../src/chat/slack/parse.js";
import { loadConfig } from "../../../src/config.js";
import type { PostedSoFar } from "../../../src/digest/digest-runner.js";
import { DigestStore } from "../../../src/digest/digest-store.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../../commands/test-index.js";
import { LIMITS, type Block, type ButtonElement } from "../../../src/chat/slack/render.js";

/** An actions block of buttons (the vote buttons). */
type ButtonActions = { type: "actions"; elements: ButtonElement[] };
import { BOT_TOKEN, CHANNEL_ID, FakeSlack, SIGNING_SECRET, USER_ID, buttonPayload, postSigned, slashCommandFields } from "../../helpers/fake-slack.js";

let t: TestIndex;
let fake: FakeSlack;
let adapter: SlackAdapter;
let eventsUrl: string;
let dir: string;
let store: DigestStore;
let n = 0;

beforeAll(async () => {
  t = await buildTestIndex();
  dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-digest-slack-"));
  store = DigestStore.open(dir);
  fake = new FakeSlack();
  await fake.start();
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: "http", SLACK_API_URL: fake.apiUrl }, { stderrIsTTY: false });
  adapter = await startSlackAdapter({
    config,
    ctx: { ...t.ctx, clock: () => new Date("2024-10-01T12:00:00Z"), digest: store },
    logger: quietLogger(),
    listen: { port: 0, host: "127.0.0.1" },
    digestAdmins: loadConfig({ SLACK_DIGEST_ADMINS: `${USER_ID}, U0OTHERADM` }).slackDigestAdmins,
  });
  eventsUrl = `http://127.0.0.1:${adapter.port}/slack/events`;
}, 180_000);

afterAll(async () => {
  await adapter?.stop();
  await fake?.stop();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  await t?.close();
});

async function slash(text: string, extra: Record<string, string> = {}) {
  const id = `d${++n}`;
  const ack = await postSigned(eventsUrl, slashCommandFields("/digest", text, fake.responseUrl(id), extra));
  return { id, ack, response: await fake.waitFor(() => fake.responsesTo(id)[0]) };
}

describe("/digest on Slack", () => {
  it("parses flags with multi-word and quoted values", () => {
    expect(parseSlackCommand("digest", 'subscribe --topics "equivariant networks; 3D representation learning" --time 09:00 --timezone Europe/Berlin --count 10 --categories cs.LG,cs.CV --quiet')).toEqual({
      kind: "run",
      name: "digest",
      raw: { action: "subscribe", topics: "equivariant networks; 3D representation learning", time: "09:00", timezone: "Europe/Berlin", count: "10", categories: "cs.LG,cs.CV", quiet: true },
    });
    expect(parseSlackCommand("digest", "follow --author “Yann LeCun”")).toEqual({ kind: "run", name: "digest", raw: { action: "follow", author: "Yann LeCun" } });
    expect(loadConfig({}).slackDigestAdmins).toBeUndefined();
    expect(loadConfig({ SLACK_DIGEST_ADMINS: " " }).slackDigestAdmins).toBeUndefined();
    expect(() => loadConfig({ SLACK_DIGEST_ADMINS: "alice" })).toThrow(/SLACK_DIGEST_ADMINS/);
  });

  it("a user not in SLACK_DIGEST_ADMINS cannot subscribe", async () => {
    const { response } = await slash("subscribe --topics ping safety", { user_id: "U0NOTADMIN" });
    expect(response.body.response_type).toBe("ephemeral");
    expect(JSON.stringify(response.body)).toContain("Only people who can manage this channel");
    expect(store.subscription(`slack:${CHANNEL_ID}`)).toBeUndefined();
  });

  it("an admin subscribes (in channel); anyone sees show (ephemeral)", async () => {
    const { response } = await slash('subscribe --topics "ping safety for chat bots; sparse attention" --time 09:00 --timezone UTC --count 5');
    expect(response.body.response_type).toBe("in_channel");
    expect(JSON.stringify(response.body)).toContain("Daily digest set up");
    expect(store.subscription(`slack:${CHANNEL_ID}`)).toMatchObject({ topics: ["ping safety for chat bots", "sparse attention"], count: 5, windowEnd: "2024-09-30" });
    const show = await slash("show", { user_id: "U0NOTADMIN" });
    expect(show.response.body.response_type).toBe("ephemeral");
    expect(JSON.stringify(show.response.body)).toContain("Topics: ping safety for chat bots; sparse attention");
  });

  it("a scheduler tick posts the headline and the papers in its thread", async () => {
    const now = new Date("2024-10-02T09:05:00Z");
    const service = new DigestService(store, { ...t.ctx }, { logger: quietLogger(), holder: "test:slack", now: () => now });
    service.addPoster("slack", slackDigestPoster(adapter));
    const report = await service.scheduler.tick();
    expect(report!.failed).toEqual([]);
    expect(report!.posted).toHaveLength(1);
    const posts = fake.callsOf("chat.postMessage");
    expect(posts.length).toBeGreaterThanOrEqual(2);
    const [headline, ...thread] = posts;
    expect(headline!.body.channel).toBe(CHANNEL_ID);
    expect(headline!.body.text).toMatch(/^Daily digest · 2024-10-02 · \d+ papers? · ping safety for chat bots; sparse attention$/);
    expect(headline!.body.thread_ts).toBeUndefined();
    for (const m of thread) expect(m.body.thread_ts).toMatch(/^\d+\.000100$/);
    const list = JSON.stringify(thread.map((m) => m.body.blocks));
    expect(list).toContain("arxiv.org/abs/2410.00001");
    expect(list).toContain('Why: topic \\"ping safety for chat bots\\"');
    expect(list).not.toMatch(/(?<!\u200b)@everyone/);
    expect(store.posted(`slack:${CHANNEL_ID}`)[0]!.messageRef).toMatch(new RegExp(`^slack:${CHANNEL_ID}/\\d+\\.000100$`));

    // 👎 on the first paper: the vote is recorded for the channel and answered privately.
    const blocks = thread[0]!.body.blocks as Block[];
    expect(blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
    const actions = blocks.find((b) => b.type === "actions") as ButtonActions;
    const down = actions.elements[1]!;
    expect(down).toMatchObject({ action_id: "ph_vote:down:1", text: { text: "👎 1" } });
    const id = `v${++n}`;
    const ack = await postSigned(eventsUrl, { payload: JSON.stringify(buttonPayload({ actionId: down.action_id, value: down.value!, responseUrl: fake.responseUrl(id) })) });
    expect(ack.status).toBe(200);
    const answer = await fake.waitFor(() => fake.responsesTo(id)[0]);
    expect(answer.body.response_type).toBe("ephemeral");
    expect(JSON.stringify(answer.body)).toContain("Vote recorded");
    expect(store.feedback(`slack:${CHANNEL_ID}`)).toEqual({ liked: [], disliked: [down.value], votes: 1 });

    // Save on the same paper: into the channel's library, answered privately.
    const save = actions.elements[2]!;
    expect(save).toMatchObject({ action_id: "ph_save:1", text: { text: "Save 1" }, value: down.value });
    const saveId = `v${++n}`;
    await postSigned(eventsUrl, { payload: JSON.stringify(buttonPayload({ actionId: save.action_id, value: save.value!, responseUrl: fake.responseUrl(saveId) })) });
    const saved = await fake.waitFor(() => fake.responsesTo(saveId)[0]);
    expect(saved.body.response_type).toBe("ephemeral");
    expect(JSON.stringify(saved.body)).toContain("Saved");
    expect(store.library.list(`slack:${CHANNEL_ID}`).entries.map((e) => e.paper.id)).toEqual([down.value]);
  });

  it("a post interrupted by a crash continues where it stopped: no message twice, none lost", async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ paperId: `2410.${String(i + 100).padStart(5, "0")}`, title: `Paper ${i + 1}`, authors: ["A. Author"], score: 1, reason: "topic" }));
    const digest = { id: 9001, channel: `slack:${CHANNEL_ID}`, windowStart: "2024-10-02", windowEnd: "2024-10-03", items, decidedAt: "2024-10-03T09:00:00Z", idempotencyKey: "paperhound-digest-9001" };
    const sub = { topics: ["anything"] } as never;
    const before = fake.callsOf("chat.postMessage").length;
    const poster = slackDigestPoster(adapter);
    const saved: PostedSoFar[] = [];
    // The process dies right after the first thread reply was accepted and recorded.
    const crashing = { saved: undefined, save: (v: PostedSoFar) => {
      saved.push(v);
      if (saved.length === 2) throw new Error("killed");
    } };
    await expect(poster(digest, sub, crashing)).rejects.toThrow("killed");
    expect(fake.callsOf("chat.postMessage").length - before).toBe(2); // headline + 1 of the replies
    const ref = await poster(digest, sub, { saved: saved.at(-1), save: (v) => saved.push(v) });
    const posts = fake.callsOf("chat.postMessage").slice(before);
    expect(posts.filter((p) => p.body.thread_ts === undefined)).toHaveLength(1); // one headline
    const replies = posts.filter((p) => p.body.thread_ts !== undefined);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    const listed = replies.map((r) => JSON.stringify(r.body.blocks)).join("");
    for (const item of items) expect(listed.split(`value\":\"${item.paperId}\"`).length - 1).toBe(3); // 👍, 👎 and Save once each
    expect(ref).toBe(`slack:${CHANNEL_ID}/${replies[0]!.body.thread_ts}`);
  });

  it("a channel the app cannot post in: the error says what to do there, and a retry posts the digest once it can", async () => {
    const digest = { id: 9002, channel: `slack:${CHANNEL_ID}`, windowStart: "2024-10-03", windowEnd: "2024-10-04", items: [{ paperId: "2410.00999", title: "A paper", authors: ["A. Author"], score: 1, reason: "topic" }], decidedAt: "2024-10-04T09:00:00Z", idempotencyKey: "paperhound-digest-9002" };
    const sub = { topics: ["anything"] } as never;
    const poster = slackDigestPoster(adapter);
    const saved: PostedSoFar[] = [];
    const progress = { saved: undefined, save: (v: PostedSoFar) => void saved.push(v) };
    fake.scriptApi("chat.postMessage", [{ body: { ok: false, error: "not_in_channel" } }]);
    await expect(poster(digest, sub, progress)).rejects.toThrow(
      `cannot post the digest in Slack channel ${CHANNEL_ID} (not_in_channel): the app is not a member of this channel: invite it with /invite @paperhound`,
    );
    expect(saved).toEqual([]);
    // Invited: the retry posts it.
    const ref = await poster(digest, sub, progress);
    expect(ref).toMatch(new RegExp(`^slack:${CHANNEL_ID}/`));
    // Other errors keep their own message.
    fake.scriptApi("chat.postMessage", [{ body: { ok: false, error: "fatal_error" } }]);
    await expect(poster({ ...digest, id: 9003 }, sub, { saved: undefined, save: () => undefined })).rejects.toThrow(/fatal_error/);
  });
});
