/**
 * The Slack adapter with the REAL @slack/bolt App in HTTP mode on 127.0.0.1, on a small real
 * index: signed slash commands and button presses are POSTed to its request URL, its Web API calls
 * go to a fake Slack (test/helpers/fake-slack.ts), and response_urls point at the fake too.
 * Every test asserts the exact payloads Slack would get.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackAdapter, startSlackAdapter } from "../../../src/chat/slack/adapter.js";
import { ACTION, LIMITS, MAX_MESSAGE_CHARS, blocksSize, type Block, type ButtonElement, type StaticSelectElement } from "../../../src/chat/slack/render.js";

/** An actions block of buttons (the results' More, a pick list). */
type ButtonActions = { type: "actions"; elements: ButtonElement[] };
import { loadConfig, type Config } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { PaperIndex } from "../../../src/search/paper-index.js";
import { buildTestIndex, type TestIndex } from "../../commands/test-index.js";
import { DigestStore } from "../../../src/digest/digest-store.js";
import { BOT_TOKEN, CHANNEL_ID, FakeSlack, SIGNING_SECRET, USER_ID, buttonPayload, postSigned, selectPayload, sign, slashCommandFields, type ResponseCall } from "../../helpers/fake-slack.js";

let t: TestIndex;
let fake: FakeSlack;
let adapter: SlackAdapter;
let eventsUrl: string;
const logs: string[] = [];
let n = 0;

function slackConfig(extra: Record<string, string> = {}): Config {
  return loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: "http", SLACK_API_URL: fake.apiUrl, ...extra }, { stderrIsTTY: false });
}

beforeAll(async () => {
  t = await buildTestIndex();
  fake = new FakeSlack();
  await fake.start();
  const logger = createLogger({ level: "info", format: "json", stream: { write: (s: string) => logs.push(s) } });
  adapter = await startSlackAdapter({
    config: slackConfig(),
    ctx: { ...t.ctx, logger },
    logger,
    listen: { port: 0, host: "127.0.0.1" },
    // Fast retries in tests (429s still wait for Retry-After).
    appOptions: { clientOptions: { retryConfig: { retries: 2, factor: 1, minTimeout: 20, maxTimeout: 50 } } },
  });
  eventsUrl = `http://127.0.0.1:${adapter.port}/slack/events`;
}, 180_000);

afterAll(async () => {
  await adapter?.stop();
  await fake?.stop();
  await t?.close();
});

/** Sends `/command text` signed; returns the ack and the response_url id. */
async function slash(command: string, text: string, extra: Record<string, string> = {}) {
  const id = `r${++n}`;
  const ack = await postSigned(eventsUrl, slashCommandFields(command, text, fake.responseUrl(id), extra));
  return { id, ack };
}

async function press(actionId: string, value: string, opts: { ephemeral?: boolean } = {}) {
  const id = `b${++n}`;
  const payload = buttonPayload({ actionId, value, responseUrl: fake.responseUrl(id), ...opts });
  const ack = await postSigned(eventsUrl, { payload: JSON.stringify(payload) });
  return { id, ack };
}

async function firstResponse(id: string): Promise<ResponseCall> {
  return fake.waitFor(() => fake.responsesTo(id)[0]);
}

type Msg = { text: string; blocks: Block[]; response_type: string; unfurl_links: boolean; unfurl_media: boolean; replace_original?: boolean };

function sectionTexts(blocks: Block[]): string[] {
  return blocks.flatMap((b) => (b.type === "section" ? [b.text.text] : b.type === "context" ? b.elements.map((e) => e.text) : []));
}

/** Every Block Kit limit, and no mention syntax that could ping anyone. */
function checkMessage(m: Msg): void {
  expect(m.unfurl_links).toBe(false);
  expect(m.unfurl_media).toBe(false);
  expect(m.blocks.length).toBeLessThanOrEqual(LIMITS.blocks);
  expect(blocksSize(m.blocks)).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  for (const b of m.blocks) {
    if (b.type === "header") expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.header);
    if (b.type === "section") {
      expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      if (b.accessory) checkButton(b.accessory);
    }
    if (b.type === "actions") for (const e of b.elements) e.type === "button" ? checkButton(e) : checkSelect(e);
  }
  const all = [m.text, ...sectionTexts(m.blocks), ...m.blocks.flatMap((b) => (b.type === "header" ? [b.text.text] : []))].join("\n");
  expect(all).not.toMatch(/<[!@#]/);
  for (const b of m.blocks) if (b.type === "actions") expect(b.elements.map((e) => (e.type === "button" ? e.text.text : e.options.map((o) => o.text.text).join(""))).join("")).not.toMatch(/<[!@#]/);
  expect(all).not.toMatch(/(?<!\u200b)@(?:everyone|here|channel)\b/i);
}

function checkSelect(s: StaticSelectElement): void {
  expect(s.placeholder.text.length).toBeLessThanOrEqual(LIMITS.placeholder);
  expect(s.options.length).toBeGreaterThan(0);
  for (const o of s.options) {
    expect(o.text.text.length).toBeLessThanOrEqual(LIMITS.optionText);
    expect(o.value.length).toBeLessThanOrEqual(LIMITS.optionValue);
  }
}

function checkButton(b: { text: { text: string }; action_id: string; value?: string }): void {
  expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.buttonText);
  expect(b.action_id.length).toBeLessThanOrEqual(LIMITS.actionId);
  expect((b.value ?? "").length).toBeLessThanOrEqual(LIMITS.value);
}

describe("slash commands through the real bolt App (HTTP mode)", () => {
  it("/paper: empty ack at once, then one in_channel response with the results in Block Kit", async () => {
    const { id, ack } = await slash("/paper", "sparse attention for long documents --count 3");
    expect(ack.status).toBe(200);
    expect(ack.text).toBe("");
    const r = await firstResponse(id);
    expect(r.at).toBeGreaterThanOrEqual(0);
    const m = r.body as unknown as Msg;
    checkMessage(m);
    expect(m.response_type).toBe("in_channel");
    expect(m.replace_original).toBe(false);
    expect(m.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: "Papers for “sparse attention for long documents”", emoji: false } });
    const sections = m.blocks.filter((b): b is Extract<Block, { type: "section" }> => b.type === "section");
    expect(sections).toHaveLength(3);
    const first = sections[0]!;
    expect(first.text.text).toMatch(/^\*<https:\/\/arxiv\.org\/abs\/2101\.00001\|1\. Sparse Attention for Long Documents>\*\nA\. Smith, B\. Jones et al\. · 2021-01-04 · cs\.CL · score \d+\.\d\d\n>Transformers scale quadratically/);
    expect(first.text.text).toContain("<https://arxiv.org/pdf/2101.00001|PDF>");
    expect(first.accessory).toEqual({ type: "button", text: { type: "plain_text", text: "Related", emoji: false }, action_id: `${ACTION.related}:1`, value: JSON.stringify({ p: "2101.00001", n: 3, x: false }) });
    const actions = m.blocks.find((b) => b.type === "actions") as ButtonActions;
    expect(actions.elements[0]).toMatchObject({ action_id: ACTION.more, text: { text: "More" } });
    expect(JSON.parse(actions.elements[0]!.value!)).toEqual({ c: "paper", o: { query: "sparse attention for long documents", count: 3, private: false, page: 2 } });
    // No Web API message call: the response_url was enough.
    expect(fake.callsOf("chat.postMessage")).toHaveLength(0);
  });

  it("ack comes before the search: the HTTP response returns before the response_url is used", async () => {
    const { id, ack } = await slash("/paper", "graph neural networks");
    const r = await firstResponse(id);
    expect(ack.status).toBe(200);
    expect(ack.ms).toBeLessThan(3000);
    expect(r.body.response_type).toBe("in_channel");
  });

  it("--private makes the results ephemeral; flags with = and an em dash work", async () => {
    const { id } = await slash("/paper", "ping safety —count=2 --private --category cs.CR --since 2024-01-01");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.response_type).toBe("ephemeral");
    expect(m.blocks[0]).toMatchObject({ type: "header", text: { text: "Papers for “ping safety” · since 2024-01-01 · in cs.CR" } });
    expect(m.blocks.filter((b) => b.type === "section")).toHaveLength(2);
  });

  it("hostile paper text: escaped, no mentions, no link spoofing, within limits", async () => {
    const { id } = await slash("/paper", "ping safety mass mentions <!channel> @here --count 10");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.blocks[0]).toMatchObject({ type: "header" });
    expect((m.blocks[0] as { text: { text: string } }).text.text).toContain("@\u200bhere");
    const texts = sectionTexts(m.blocks).join("\n");
    expect(texts).toContain("&lt;@123456789012345678&gt;");
    expect(texts).toContain("[click](https://evil.example)");
    expect(texts).not.toContain("<https://evil.example");
    // The 40-author, 600-character-title paper is cut on a word boundary.
    const long = sectionTexts(m.blocks).find((s) => s.includes("Very Long Title"))!;
    expect(long).toMatch(/…>\*/);
    expect(long.length).toBeLessThan(LIMITS.sectionText);
  });

  it("unknown flag, bad value, missing value: an ephemeral error in the ack itself, nothing searched", async () => {
    const before = fake.responses.length;
    for (const [text, expected] of [
      ["diffusion --colour red", "/paper has no option --colour. Options: --since YYYY-MM-DD, --until YYYY-MM-DD, --count N, --category X, --author Surname, --private."],
      ["diffusion --count 99", "count must be a whole number from 1 to 10."],
      ["diffusion --since yesterday", 'since must be a date like 2024-01-31 (YYYY-MM-DD, or YYYY-MM or YYYY), not "yesterday".'],
      ["diffusion --since", "--since needs a value: --since YYYY-MM-DD."],
    ] as const) {
      const { ack } = await slash("/paper", text);
      expect(ack.status).toBe(200);
      const m = ack.json() as Msg;
      expect(m.response_type).toBe("ephemeral");
      checkMessage(m);
      expect(sectionTexts(m.blocks)[0]).toBe(`:warning: *That did not work*\n${expected.replace(/</g, "&lt;").replace(/>/g, "&gt;")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.responses.length).toBe(before);
  });

  it("/paper help and an empty /paper: ephemeral help with the flags", async () => {
    for (const text of ["help", ""]) {
      const { ack } = await slash("/paper", text);
      const m = ack.json() as Msg;
      expect(m.response_type).toBe("ephemeral");
      checkMessage(m);
      const help = sectionTexts(m.blocks).join("\n");
      expect(help).toContain("`/paper &lt;text&gt; [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--count N] [--category X] [--author Surname] [--private]`");
      expect(help).toContain("`--private`");
    }
  });

  it("nothing found: ephemeral, with a suggestion", async () => {
    const { id } = await slash("/paper", "graph neural networks --category q-bio.GN");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.response_type).toBe("ephemeral");
    expect(sectionTexts(m.blocks)[0]).toMatch(/^:mag: \*Nothing found\*\nNo paper in the index matches “graph neural networks” \(in q-bio\.GN\)\./);
    expect(sectionTexts(m.blocks)[1]).toBe("Try again without the category filter.");
  });

  it("/related with an arXiv URL as Slack sends it (<url>): related papers in the channel", async () => {
    const { id } = await slash("/related", "<https://arxiv.org/abs/2101.00001> --count 2");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.response_type).toBe("in_channel");
    expect((m.blocks[0] as { text: { text: string } }).text.text).toBe("Related to “Sparse Attention for Long Documents” (2101.00001)");
    expect(m.blocks.filter((b) => b.type === "section")).toHaveLength(2);
  });

  it("/related with an ambiguous title: an ephemeral pick list; pressing a choice posts its related papers", async () => {
    const { id } = await slash("/related", "Sparse Attention for Long --count 2");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.response_type).toBe("ephemeral");
    expect(sectionTexts(m.blocks)[0]).toMatch(/^Several papers match “Sparse Attention for Long”\. Which one\?\n1\. <https:\/\/arxiv\.org\/abs\/2101\.0000[12]\|Sparse Attention for Long /);
    const actions = m.blocks.find((b) => b.type === "actions") as ButtonActions;
    const values = actions.elements.map((e) => JSON.parse(e.value!) as { p: string; n: number; x: boolean });
    expect(values.map((v) => v.p)).toEqual(expect.arrayContaining(["2101.00001", "2101.00002"]));
    expect(values.every((v) => v.n === 2 && v.x === false)).toBe(true);
    expect(actions.elements.every((e) => e.action_id.startsWith(`${ACTION.pick}:`))).toBe(true);

    const choice = actions.elements.find((e) => e.value!.includes("2101.00002"))!;
    expect(choice.text.text).toMatch(/^\d\. Sparse Attention for Long Videos$/);
    const pressed = await press(choice.action_id, choice.value!, { ephemeral: true });
    expect(pressed.ack.status).toBe(200);
    await fake.waitFor(() => fake.responsesTo(pressed.id).length >= 2);
    const [del, post] = fake.responsesTo(pressed.id);
    expect(del!.body).toEqual({ delete_original: true });
    const res = post!.body as unknown as Msg;
    checkMessage(res);
    expect(res.response_type).toBe("in_channel");
    expect((res.blocks[0] as { text: { text: string } }).text.text).toBe("Related to “Sparse Attention for Long Videos” (2101.00002)");
    expect(res.blocks.filter((b) => b.type === "section")).toHaveLength(2);
  });

  it("/related on the hostile paper: its title in the header has mentions broken", async () => {
    const { id } = await slash("/related", "2410.00001 --count 1");
    const m = (await firstResponse(id)).body as unknown as Msg;
    checkMessage(m);
    expect((m.blocks[0] as { text: { text: string } }).text.text).toMatch(/^Related to “@\u200beveryone \*\*Bold\*\*/);
  });

  it("/related with no such paper: ephemeral error", async () => {
    const { id } = await slash("/related", "2412.99999");
    const m = (await firstResponse(id)).body as unknown as Msg;
    expect(m.response_type).toBe("ephemeral");
    expect(sectionTexts(m.blocks)[0]).toContain("arXiv 2412.99999 is not in this index.");
  });
});

describe("the channel library", () => {
  it("/save and /library answer privately; /library export uploads the .bib file to the channel", async () => {
    const store = DigestStore.open(t.dir);
    adapter.ctx.digest = store;
    try {
      const saved = await firstResponse((await slash("/save", "<https://arxiv.org/abs/2101.00001v2>")).id);
      expect(saved.body).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("is in this channel's library (1 paper)") });
      const listed = (await firstResponse((await slash("/library", "")).id)).body as Msg;
      checkMessage(listed);
      expect(listed.response_type).toBe("ephemeral");
      expect(sectionTexts(listed.blocks).join("\n")).toMatch(/saved \d{4}-\d\d-\d\d by alice/);
      const filtered = (await firstResponse((await slash("/library", "list --filter nothing like it")).id)).body as Msg;
      expect(filtered.text).toContain("No paper in this channel's library matches “nothing like it”");

      const { id } = await slash("/library", "export --format ris");
      const done = (await firstResponse(id)).body as Msg;
      expect(done).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("1 paper of this channel's library as RIS: library.ris, uploaded to this channel.") });
      expect(fake.callsOf("files.getUploadURLExternal").at(-1)!.body).toMatchObject({ filename: "library.ris" });
      const upload = fake.uploads.at(-1)!;
      expect(upload.body).toMatch(/^TY {2}- JOUR\nAU {2}- Smith, Alice\n(.|\n)*TI {2}- Sparse Attention for Long Documents\n(.|\n)*ER {2}- \n$/);
      const complete = fake.callsOf("files.completeUploadExternal").at(-1)!.body;
      expect(complete).toMatchObject({ channel_id: CHANNEL_ID, initial_comment: "1 paper of this channel's library as RIS" });
      expect(typeof complete.files === "string" ? JSON.parse(complete.files) : complete.files).toEqual([{ id: upload.fileId, title: "library.ris" }]);

      // The library's own list has no Save menu; search results have one, and choosing saves privately.
      expect(listed.blocks.flatMap((b) => (b.type === "actions" ? b.elements : [])).filter((e) => e.type === "static_select").map((e) => e.action_id)).toEqual([ACTION.cite]);
      const results = (await firstResponse((await slash("/paper", "sparse attention for long videos --count 2")).id)).body as Msg;
      checkMessage(results);
      const menu = results.blocks.flatMap((b) => (b.type === "actions" ? b.elements : [])).find((e): e is StaticSelectElement => e.type === "static_select")!;
      expect(menu.action_id).toBe(ACTION.save);
      expect(menu.options.map((o) => o.value)).toContain("2101.00002");
      const id2 = `s${++n}`;
      await postSigned(eventsUrl, { payload: JSON.stringify(selectPayload({ actionId: ACTION.save, value: "2101.00002", responseUrl: fake.responseUrl(id2) })) });
      expect((await firstResponse(id2)).body).toMatchObject({ response_type: "ephemeral", text: expect.stringContaining("(2101.00002) is in this channel's library (2 papers)") });
      // "BibTeX of…": the entry in a code block, privately.
      const citeMenu = results.blocks.flatMap((b) => (b.type === "actions" ? b.elements : [])).find((e): e is StaticSelectElement => e.type === "static_select" && e.action_id === ACTION.cite)!;
      expect(citeMenu.options.map((o) => o.value)).toEqual(menu.options.map((o) => o.value));
      const id3 = `s${++n}`;
      await postSigned(eventsUrl, { payload: JSON.stringify(selectPayload({ actionId: ACTION.cite, value: "2101.00002", responseUrl: fake.responseUrl(id3) })) });
      const cited = (await firstResponse(id3)).body as Msg;
      expect(cited.response_type).toBe("ephemeral");
      expect(sectionTexts(cited.blocks).join("\n")).toMatch(/```@misc\{\w+2021Sparse,\n(.|\n)*\teprint = \{2101\.00002\},(.|\n)*\}```/);

      // Import: the file the user just shared in the channel (a slash command carries none).
      const none = (await firstResponse((await slash("/library", "import")).id)).body as Msg;
      expect(none.text).toContain("Attach the file to import.");
      expect(JSON.stringify(none.blocks)).toContain("Slack: share the file in this channel, then /library import within 10 minutes.");
      fake.shareFile({ channel: "C0OTHER", user: USER_ID, name: "elsewhere.bib", content: Buffer.from("@misc{x, title={Elsewhere}}") });
      fake.shareFile({ channel: CHANNEL_ID, user: USER_ID, name: "old.bib", content: Buffer.from("@misc{x, title={Old}}"), created: Math.floor(Date.now() / 1000) - 3600 });
      const big = fake.shareFile({ channel: CHANNEL_ID, user: USER_ID, name: "huge.bib", content: Buffer.from("@misc{x, title={Huge}}"), size: 100 * 1024 * 1024 });
      const refused = (await firstResponse((await slash("/library", "import")).id)).body as Msg;
      expect(refused.text).toContain("“huge.bib” has 100.0 MB; an import reads at most 10.0 MB.");
      expect(fake.downloads.filter((d) => d.fileId === big)).toEqual([]);
      const shared = fake.shareFile({ channel: CHANNEL_ID, user: USER_ID, name: "refs.ris", content: Buffer.from("TY  - JOUR\nTI  - Quantum Error Correction with Surface Codes\nER  - \nTY  - JOUR\nTI  - Nothing Like Any Paper Here\nER  - \n") });
      const imported = (await firstResponse((await slash("/library", "import")).id)).body as Msg;
      expect(imported.response_type).toBe("ephemeral");
      expect(imported.text).toContain("“refs.ris” (RIS, 2 entries): matched 1 (arXiv id 0, DOI 0, title 1); added 1, already there 0, not found 1.");
      expect(JSON.stringify(imported.blocks)).toContain("Not found: record 2: Nothing Like Any Paper Here (no paper of the index has this title)");
      expect(fake.downloads.filter((d) => d.fileId === shared)).toEqual([{ fileId: shared, authorization: `Bearer ${BOT_TOKEN}` }]);
      expect(store.library.entry(`slack:${CHANNEL_ID}`, "2309.33333")?.savedBy).toBe("alice (import of refs.ris)");
      // Without the files:read scope: says what to add.
      fake.scriptApi("files.list", [{ body: { ok: false, error: "missing_scope", needed: "files:read" } }]);
      const scope = (await firstResponse((await slash("/library", "import")).id)).body as Msg;
      expect(scope.text).toContain("Could not look for the file you shared (Slack: missing_scope).");
      expect(JSON.stringify(scope.blocks)).toContain("files:read");

      const removed = (await firstResponse((await slash("/library", "remove --paper 2101.00001")).id)).body as Msg;
      expect(removed.text).toContain("is no longer in this channel's library");
      expect(store.library.list(`slack:${CHANNEL_ID}`).entries.map((e) => [e.paper.id, e.savedBy])).toEqual([
        ["2309.33333", "alice (import of refs.ris)"],
        ["2101.00002", "alice"],
      ]);
    } finally {
      delete adapter.ctx.digest;
      store.close();
    }
  });
});

describe("buttons", () => {
  it("More replaces the message with the next page", async () => {
    const { id } = await slash("/paper", "sparse attention for long documents --count 2");
    const m = (await firstResponse(id)).body as unknown as Msg;
    const more = (m.blocks.find((b) => b.type === "actions") as ButtonActions).elements[0]!;
    const pressed = await press(more.action_id, more.value!);
    expect(pressed.ack.status).toBe(200);
    const next = (await firstResponse(pressed.id)).body as unknown as Msg;
    checkMessage(next);
    expect(next.replace_original).toBe(true);
    expect(next.response_type).toBe("in_channel");
    expect((next.blocks[0] as { text: { text: string } }).text.text).toBe("Papers for “sparse attention for long documents” · page 2");
    const first = next.blocks.find((b) => b.type === "section") as Extract<Block, { type: "section" }>;
    expect(first.text.text).toMatch(/^\*<[^|]+\|3\. /);
  });

  it("Related posts a new message with the paper's related papers (private stays private)", async () => {
    const value = JSON.stringify({ p: "2101.00001", n: 2, x: true });
    const pressed = await press(`${ACTION.related}:1`, value, { ephemeral: true });
    const m = (await firstResponse(pressed.id)).body as unknown as Msg;
    checkMessage(m);
    expect(m.replace_original).toBe(false);
    expect(m.response_type).toBe("ephemeral");
    expect((m.blocks[0] as { text: { text: string } }).text.text).toBe("Related to “Sparse Attention for Long Documents” (2101.00001)");
  });

  it("More with the response_url gone: chat.update of the public message", async () => {
    const { id } = await slash("/paper", "sparse attention for long documents --count 2");
    const m = (await firstResponse(id)).body as unknown as Msg;
    const more = (m.blocks.find((b) => b.type === "actions") as ButtonActions).elements[0]!;
    const rid = `gone${++n}`;
    fake.scriptResponse(rid, [{ status: 404, body: "used_url" }]);
    const before = fake.callsOf("chat.update").length;
    const payload = buttonPayload({ actionId: more.action_id, value: more.value!, responseUrl: fake.responseUrl(rid), messageTs: "1700000123.000100" });
    await postSigned(eventsUrl, { payload: JSON.stringify(payload) });
    const call = await fake.waitFor(() => fake.callsOf("chat.update")[before]);
    expect(call.body).toMatchObject({ channel: CHANNEL_ID, ts: "1700000123.000100" });
    expect((call.body.blocks as { type: string; text?: { text: string } }[])[0]!.text!.text).toBe("Papers for “sparse attention for long documents” · page 2");
  });

  it("a forged button value gets an ephemeral error", async () => {
    const pressed = await press(ACTION.more, '{"c":"frobnicate","o":{}}');
    const m = (await firstResponse(pressed.id)).body as unknown as Msg;
    expect(m.response_type).toBe("ephemeral");
    expect(sectionTexts(m.blocks)[0]).toContain("This button is not one of paperhound's");
  });
});

describe("request verification", () => {
  it("a wrong signing secret is rejected with 401 and nothing runs", async () => {
    const before = { api: fake.apiCalls.length, responses: fake.responses.length };
    const res = await postSigned(eventsUrl, slashCommandFields("/paper", "diffusion", fake.responseUrl("forged")), { secret: "0000000000000000wrongsecret00000" });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.responsesTo("forged")).toHaveLength(0);
    expect(fake.responses.length).toBe(before.responses);
  });

  it("a stale timestamp (over 5 minutes old) is rejected with 401", async () => {
    const res = await postSigned(eventsUrl, slashCommandFields("/paper", "diffusion", fake.responseUrl("stale")), { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.responsesTo("stale")).toHaveLength(0);
  });
});

describe("failures", () => {
  it("a search that throws: logged, an ephemeral error for the user, and the app keeps answering", async () => {
    const broken = await PaperIndex.open({ dir: t.dir, embedder: t.embedder, readonly: true });
    broken.close(); // a closed index: every search fails
    const index = adapter.ctx.index;
    adapter.ctx.index = broken;
    try {
      const { id } = await slash("/paper", "graph neural networks");
      const m = (await firstResponse(id)).body as unknown as Msg;
      expect(m.response_type).toBe("ephemeral");
      expect(sectionTexts(m.blocks)[0]).toBe(":warning: *That did not work*\nSomething went wrong while running this command; it has been logged.");
      expect(logs.some((l) => l.includes('"command failed"'))).toBe(true);
    } finally {
      adapter.ctx.index = index;
    }
    const { id } = await slash("/paper", "graph neural networks --count 1");
    expect((await firstResponse(id)).body.response_type).toBe("in_channel");
  });

  it("response_url gone (404): chat.postMessage, which gets 429 with Retry-After, waits, and succeeds", async () => {
    const rid = `gone${++n}`;
    fake.scriptResponse(rid, [{ status: 404, body: "expired_url" }]);
    fake.scriptApi("chat.postMessage", [{ status: 429, headers: { "retry-after": "1" }, body: { ok: false, error: "ratelimited" } }]);
    const ack = await postSigned(eventsUrl, slashCommandFields("/paper", "graph neural networks --count 2", fake.responseUrl(rid)));
    expect(ack.status).toBe(200);
    const calls = await fake.waitFor(() => {
      const c = fake.callsOf("chat.postMessage");
      return c.length >= 2 && c;
    });
    const [limited, ok] = calls.slice(-2);
    expect(limited!.status).toBe(429);
    expect(ok!.status).toBe(200);
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(950);
    expect(ok!.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    // The Web API client sends form fields: booleans as strings.
    expect(ok!.body).toMatchObject({ channel: CHANNEL_ID, unfurl_links: "false", unfurl_media: "false" });
    expect(ok!.body.response_type).toBeUndefined();
    checkMessage({ ...(ok!.body as unknown as Msg), unfurl_links: false, unfurl_media: false, response_type: "in_channel" });
  });

  it("private results with the response_url gone go through chat.postEphemeral to the caller", async () => {
    const rid = `gone${++n}`;
    fake.scriptResponse(rid, [{ status: 404, body: "expired_url" }]);
    const before = fake.callsOf("chat.postEphemeral").length;
    await postSigned(eventsUrl, slashCommandFields("/paper", "graph neural networks --count 1 --private", fake.responseUrl(rid)));
    const call = await fake.waitFor(() => fake.callsOf("chat.postEphemeral")[before]);
    expect(call.body).toMatchObject({ channel: CHANNEL_ID, user: USER_ID });
    expect(Array.isArray(call.body.blocks)).toBe(true);
  });

  it("invalid_blocks: logged with the payload size, and the user gets the plain-text fallback", async () => {
    const rid = `bad${++n}`;
    fake.scriptResponse(rid, [{ status: 400, body: "invalid_blocks" }]);
    await postSigned(eventsUrl, slashCommandFields("/paper", "graph neural networks --count 2", fake.responseUrl(rid)));
    await fake.waitFor(() => fake.responsesTo(rid).length >= 2);
    const [refused, fallback] = fake.responsesTo(rid);
    expect(refused!.status).toBe(400);
    expect((refused!.body.blocks as unknown[]).length).toBeGreaterThan(0);
    expect(fallback!.body).toMatchObject({ blocks: [], response_type: "in_channel", unfurl_links: false });
    expect(fallback!.body.text).toMatch(/^Papers for “graph neural networks”\n1\. /);
    const line = logs.find((l) => l.includes("Slack refused the message blocks"));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ error: "invalid_blocks", chars: expect.any(Number), blocks: expect.any(Number) });
  });

  it("invalid_blocks from chat.postMessage: the plain-text fallback through chat.postMessage", async () => {
    const rid = `gone${++n}`;
    fake.scriptResponse(rid, [{ status: 404, body: "expired_url" }]);
    fake.scriptApi("chat.postMessage", [{ body: { ok: false, error: "invalid_blocks" } }]);
    const before = fake.callsOf("chat.postMessage").length;
    await postSigned(eventsUrl, slashCommandFields("/paper", "graph neural networks --count 2", fake.responseUrl(rid)));
    const calls = await fake.waitFor(() => {
      const c = fake.callsOf("chat.postMessage").slice(before);
      return c.length >= 2 && c;
    });
    expect(calls[0]!.body.blocks).not.toEqual([]);
    expect(calls[1]!.body.blocks).toEqual([]);
    expect(calls[1]!.body.text).toMatch(/^Papers for “graph neural networks”/);
  });
});

describe("configuration", () => {
  it("names the setting: a missing app token for Socket Mode, a wrong token prefix", async () => {
    const { slackSettings } = await import("../../../src/chat/slack/adapter.js");
    expect(() => slackSettings(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN }, { stderrIsTTY: false }))).toThrow(/SLACK_APP_TOKEN="" is not allowed \(expected an app-level token starting with xapp-/);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: "xoxp-user-token-123456" }, { stderrIsTTY: false })).toThrow('SLACK_BOT_TOKEN="[redacted]" is not allowed (expected a Slack bot token starting with xoxb-)');
    expect(() => loadConfig({ SLACK_APP_TOKEN: "xoxb-1234-5678-abcdefgh" }, { stderrIsTTY: false })).toThrow(/SLACK_APP_TOKEN="\[redacted\]"/);
    expect(slackSettings(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET }, { stderrIsTTY: false })).mode).toBe("http");
    expect(slackSettings(loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_APP_TOKEN: "xapp-1-A1-2-abcdefgh" }, { stderrIsTTY: false })).mode).toBe("socket");
    // Tokens never reach the log.
    expect(logs.join("\n")).not.toContain(BOT_TOKEN);
  });
});

// Slack's request timestamp window (±5 minutes, both ways): correctly signed /paper commands whose
// X-Slack-Request-Timestamp is too far in the future or the past get 401 and run nothing; clock skew
// inside the window is still accepted and answered on the response_url.
const nowSec = () => Math.floor(Date.now() / 1000);

/** A correctly signed `/paper diffusion` at `now + offsetSec`; returns the ack and the response_url id. */
async function paperAt(offsetSec: number) {
  const id = `ts${++n}`;
  const ack = await postSigned(eventsUrl, slashCommandFields("/paper", "diffusion --count 1", fake.responseUrl(id)), { timestamp: nowSec() + offsetSec });
  return { id, ack };
}

/** Refused: 401, and nothing was run or posted (response_url or Web API). */
async function expectRefused(offsetSec: number) {
  const apiCalls = fake.apiCalls.length;
  const { id, ack } = await paperAt(offsetSec);
  expect(ack.status).toBe(401);
  expect(ack.text).toBe("");
  await new Promise((r) => setTimeout(r, 500));
  expect(fake.responsesTo(id)).toEqual([]);
  expect(fake.apiCalls.length).toBe(apiCalls);
}

describe("Slack request timestamp window (±300 s)", () => {
  it("a correctly signed /paper timestamped 600 s in the future is refused with 401 and nothing is posted", async () => {
    logs.length = 0;
    await expectRefused(600);
    const warned = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === "warn" && /timestamp/i.test(String(l.msg)));
    expect(warned.length).toBeGreaterThan(0);
    // No secret and no signature in the log.
    expect(logs.join("\n")).not.toContain(SIGNING_SECRET);
    expect(logs.join("\n")).not.toMatch(/v0=[0-9a-f]{64}/);
  });

  it("a correctly signed /paper timestamped 310 s in the future (just outside the window) is refused with 401", async () => {
    await expectRefused(310);
  });

  it("a correctly signed /paper timestamped 600 s in the past is refused with 401", async () => {
    await expectRefused(-600);
  });

  it("a correctly signed /paper timestamped 240 s in the future (clock skew) is accepted and answered", async () => {
    const { id, ack } = await paperAt(240);
    expect(ack.status).toBe(200);
    const answer = await fake.waitFor(() => fake.responsesTo(id)[0]);
    expect(answer.body.response_type).toBe("in_channel");
  });

  it("a correctly signed /paper timestamped 240 s in the past is accepted and answered", async () => {
    const { id, ack } = await paperAt(-240);
    expect(ack.status).toBe(200);
    expect((await fake.waitFor(() => fake.responsesTo(id)[0])).body.response_type).toBe("in_channel");
  });

  it("inside the window bolt's signature check still applies: a wrong signature is refused with 401", async () => {
    const id = `ts${++n}`;
    const fields = slashCommandFields("/paper", "diffusion", fake.responseUrl(id));
    const body = new URLSearchParams(fields).toString();
    const ts = nowSec() + 60;
    const res = await fetch(eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": sign("0000000000000000wrongsecret00000", ts, body) },
      body,
    });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.responsesTo(id)).toEqual([]);
  });
});
