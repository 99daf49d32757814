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
import { APP_ID, CHANNEL_ID, FakeDiscord, type RestCall } from "../helpers/fake-discord.js";
import { buildTestIndex, type TestIndex } from "../commands/test-index.js";
import { DigestStore } from "../../src/digest/digest-store.js";

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

/** The message that answered the interaction, and every call made for it (a search answers at once: one reply). */
async function answered(token: string): Promise<{ calls: RestCall[]; message: Body & { flags?: number } }> {
  const { message } = await fake.waitForAnswer(token);
  return { calls: fake.callsFor(token), message: message as Body & { flags?: number } };
}

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

  it("/paper: the results are the reply itself (one callback, no deferral), embeds within limits", async () => {
    const { id, token } = fake.slashCommand("paper", { query: "sparse attention for long documents", count: 3 });
    const { calls, message: edit } = await answered(token);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([`POST /interactions/${id}/${token}/callback`]);
    expect(calls[0]!.body).toMatchObject({ type: 4 });
    expect(edit.flags ?? 0).toBe(0);
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

  it("private:true: an ephemeral reply, and a Share button next to More", async () => {
    const { token } = fake.slashCommand("paper", { query: "quantum error correction", count: 2, private: true });
    const { calls, message: edit } = await answered(token);
    expect(calls).toHaveLength(1);
    expect(edit.flags).toBe(64);
    checkLimits(edit);
    expect(edit.embeds[0]!.title).toBe("1. Quantum Error Correction with Surface Codes");
    expect(edit.components[0]!.components.map((c) => c.label)).toEqual(["More", "Share"]);
  });

  it("nothing found: answered to the caller only, at once (one ephemeral reply, nothing public first)", async () => {
    const { token } = fake.slashCommand("paper", { query: "transformers", since: "2026-01-01" });
    const { calls, message: follow } = await answered(token);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ type: 4 });
    expect(follow.flags).toBe(64);
    expect(follow.allowed_mentions).toEqual({ parse: [] });
    expect(follow.embeds[0]!.title).toBe("Nothing found");
    expect(follow.embeds[0]!.description).toBe(
      "No paper in the index matches “transformers” (since 2026-01-01).\n\nTry again without the since filter.",
    );
  });

  it("a bad option value is answered at once, ephemeral, without a deferral or a search", async () => {
    const { token } = fake.slashCommand("paper", { query: "x", since: "2024-13-01" });
    const calls = await finished(token, isCallback);
    expect(calls).toHaveLength(1);
    const body = calls[0]!.body as { type: number; data: Body & { flags: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.embeds[0]!.description).toContain("since must be a date like 2024-01-31");
  });

  it("/help is ephemeral and lists the commands in fields", async () => {
    const { token } = fake.slashCommand("help");
    const { calls, message: edit } = await answered(token);
    expect(calls).toHaveLength(1);
    expect(edit.flags).toBe(64);
    checkLimits(edit);
    expect(edit.embeds[0]!.fields!.map((f) => f.name)).toEqual([
      "/paper query:<text> \\[count\\] \\[since\\] \\[until\\] \\[category\\] \\[author\\] \\[private\\]",
      "/related paper:<text> \\[count\\] \\[private\\]",
      "/save paper:<text>",
      "/library \\[action\\] \\[filter\\] \\[paper\\] \\[format\\] \\[file\\]",
      "/digest action:<text> \\[topics\\] \\[time\\] \\[timezone\\] \\[count\\] \\[categories\\] \\[sources\\] \\[quiet\\] \\[keywords\\] \\[author\\]",
      "/help \\[command\\]",
    ]);
  });

  it("untrusted paper text cannot ping, inject markdown or break the limits (10 results)", async () => {
    const { token } = fake.slashCommand("paper", { query: "@everyone ping safety for chat bots <@&1234567890123>", count: 10 });
    const { message: edit } = await answered(token);
    checkLimits(edit);
    expect(edit.embeds).toHaveLength(10);
    const text = JSON.stringify(edit);
    expect(text).not.toMatch(/@everyone|@here|<@&?\d|<#\d/);
    expect(edit.content).toBe("Papers for “@\u200beveryone ping safety for chat bots <\u200b@&1234567890123>”");
    const hostile = edit.embeds.find((e) => e.footer!.text === "2410.00001")!;
    expect(hostile.title).toBe(
      "1. @\u200beveryone \\*\\*Bold\\*\\* \\_claims\\_ about <\u200b@123456789012345678> pings \\[click\\](https://evil.example) \\`code\\`".replace(/^1/, hostile.title!.split(".")[0]!),
    );
    expect(hostile.description).toContain("[Code](https://github.com/example/ping-safety) · [Hugging Face](https://huggingface.co/papers/2410.00001)");
    const long = edit.embeds.find((e) => e.footer!.text === "2410.00002")!;
    expect(long.title!.length).toBeLessThanOrEqual(256);
    expect(long.title!.endsWith("…")).toBe(true);
  });
});

describe("the channel library", () => {
  it("/save answers privately; /library lists the paper with who saved it; export arrives as a .bib attachment", async () => {
    const store = DigestStore.open(t.dir);
    bot.ctx.digest = store;
    try {
      const saved = await answered(fake.slashCommand("save", { paper: "2101.00001" }).token);
      expect(saved.message.flags).toBe(64);
      expect(saved.message.embeds[0]).toMatchObject({ title: "Saved", description: expect.stringContaining("“Sparse Attention for Long Documents” (2101.00001) is in this channel's library (1 paper).") });

      const list = (await answered(fake.slashCommand("library", {}).token)).message;
      checkLimits(list);
      expect(list.content).toBe("Library of this channel · 1 paper");
      expect(list.embeds[0]!.title).toBe("1. Sparse Attention for Long Documents");
      expect(list.embeds[0]!.description).toMatch(/^A\. Smith, B\. Jones et al\. · 2021-01-04 · cs\.CL · saved \d{4}-\d\d-\d\d by researcher\n/);

      const exported = await fake.waitForAnswer(fake.slashCommand("library", { action: "export" }).token);
      const edit = exported.call;
      expect(edit.contentType).toMatch(/^multipart\/form-data/);
      expect((exported.message as Body).content).toBe("1 paper of this channel's library as BibTeX: library.bib");
      expect(edit.files).toHaveLength(1);
      expect(edit.files![0]!.name).toBe("library.bib");
      expect(edit.files![0]!.text).toMatch(/^@misc\{Smith2021Sparse,\n(.|\n)*\teprint = \{2101\.00001\},\n\tarchivePrefix = \{arXiv\},\n\tprimaryClass = \{cs\.CL\},\n\}\n$/);
      expect(store.library.list(`discord:${CHANNEL_ID}`).entries.map((e) => [e.paper.id, e.savedBy])).toEqual([["2101.00001", "researcher"]]);
      // The library's own list offers Related but no Save menu.
      expect(list.components.map((r) => r.components[0]!.custom_id!.split(":").slice(0, 2).join(":"))).toEqual(["ph:share", "ph:rel", "ph:cite"]);

      // "Save to this channel's library…" under search results: a private answer, the paper saved.
      const asked = fake.slashCommand("paper", { query: "sparse attention for long videos", count: 2 });
      const search = (await answered(asked.token)).message;
      const menu = search.components.map((r) => r.components[0]!).find((c) => c.custom_id!.startsWith("ph:save:"))!;
      expect(menu).toMatchObject({ type: 3, placeholder: "Save to this channel's library…" });
      expect(menu.options!.map((o) => o.value)).toEqual(search.embeds.map((e) => e.footer!.text));
      const pick = fake.component(asked.token, menu.custom_id!, ["2101.00002"]);
      const picked = await answered(pick.token);
      expect(picked.calls).toHaveLength(1);
      expect(picked.message.flags).toBe(64);
      expect(picked.message.embeds[0]!.description).toContain("“Sparse Attention for Long Videos” (2101.00002) is in this channel's library (2 papers).");
      expect(store.library.count(`discord:${CHANNEL_ID}`)).toBe(2);

      // "BibTeX of…" under the same results: the entry, privately, in a code block.
      const cite = search.components.map((r) => r.components[0]!).find((c) => c.custom_id!.startsWith("ph:cite:"))!;
      expect(cite).toMatchObject({ type: 3, placeholder: "BibTeX of…" });
      const citing = fake.component(asked.token, cite.custom_id!, ["2101.00002"]);
      const cited = await answered(citing.token);
      expect(cited.message.flags).toBe(64);
      const entry = cited.message.embeds[0]!;
      expect(entry.title).toBe("BibTeX");
      expect(entry.description).toMatch(/```\n@misc\{\w+2021Sparse,\n(.|\n)*\teprint = \{2101\.00002\},\n(.|\n)*\}\n```/);
      expect(store.library.count(`discord:${CHANNEL_ID}`)).toBe(2); // showing an entry saves nothing
    } finally {
      delete bot.ctx.digest;
      store.close();
    }
  });
});

describe("the channel library: import from an attachment", () => {
  const BIB = [
    "@article{park, title={Graph Neural Networks for Molecular Property Prediction}, author={Park, Erin}, year={2022}}",
    "@misc{q, title={Quantum error correction}, eprint={2309.33333}, archivePrefix={arXiv}}",
    "@misc{none, title={A Paper Nobody Indexed At All}, author={Doe, Jane}, year={2020}}",
  ].join("\n");

  it("/library action:import with a .bib attachment: matched, added, the unmatched listed; nothing twice on a rerun", async () => {
    const store = DigestStore.open(t.dir);
    bot.ctx.digest = store;
    const channel = `discord:${CHANNEL_ID}`;
    try {
      const before = store.library.count(channel);
      const sent = fake.slashCommandWithFile("library", { action: "import" }, { option: "file", name: "refs.bib", content: Buffer.from(BIB) });
      const { message } = await answered(sent.token);
      expect(message.flags).toBe(64);
      expect(fake.calls.filter((c) => c.method === "GET" && c.path.startsWith("/attachments/"))).toHaveLength(1);
      const answer = message.embeds[0]!;
      expect(answer.title).toBe("Imported");
      expect(answer.description).toContain("“refs.bib” (BibTeX, 3 entries): matched 2 (arXiv id 1, DOI 0, title 1); added 2, already there 0, not found 1.");
      expect(answer.description).toContain("Not found: none “A Paper Nobody Indexed At All” (no paper of the index has this title)");
      expect(store.library.count(channel)).toBe(before + 2);
      expect(store.library.entry(channel, "2309.33333")!.savedBy).toBe("researcher (import of refs.bib)");
      // The same file again: nothing added twice.
      const again = fake.slashCommandWithFile("library", { action: "import" }, { option: "file", name: "refs.bib", content: Buffer.from(BIB) });
      expect((await answered(again.token)).message.embeds[0]!.description).toContain("added 0, already there 2, not found 1.");
      expect(store.library.count(channel)).toBe(before + 2);
    } finally {
      delete bot.ctx.digest;
      store.close();
    }
  });

  it("a file declared over 10 MB is refused before any download; one larger than it said is cut off; a binary file or none is a clear error", async () => {
    const store = DigestStore.open(t.dir);
    bot.ctx.digest = store;
    const channel = `discord:${CHANNEL_ID}`;
    const answer = async (r: { token: string }) => (await answered(r.token)).message.embeds[0]!;
    try {
      const before = store.library.count(channel);
      const downloads = () => fake.calls.filter((c) => c.method === "GET" && c.path.startsWith("/attachments/")).length;
      const started = downloads();
      const big = await answer(fake.slashCommandWithFile("library", { action: "import" }, { option: "file", name: "huge.bib", content: Buffer.from(BIB), declaredSize: 100 * 1024 * 1024 }));
      expect(big.description).toContain("“huge.bib” has 100.0 MB; an import reads at most 10.0 MB.");
      expect(downloads()).toBe(started);
      const lying = await answer(fake.slashCommandWithFile("library", { action: "import" }, { option: "file", name: "small.bib", content: Buffer.alloc(10 * 1024 * 1024 + 10, 0x41), declaredSize: 100 }));
      expect(lying.description).toMatch(/“small\.bib” could not be read: the file has \d+ bytes, more than the 10485760 an import reads\./);
      const binary = await answer(fake.slashCommandWithFile("library", { action: "import" }, { option: "file", name: "paper.pdf", content: Buffer.from([0x25, 0x50, 0x44, 0x46, 0, 1, 2, 0]) }));
      expect(binary.description).toMatch(/^“paper\.pdf” cannot be imported: /);
      const none = await answer(fake.slashCommand("library", { action: "import" }));
      expect(none.description).toMatch(/^Attach the file to import\.\n\nDiscord: \/library action:import file:/);
      expect(store.library.count(channel)).toBe(before);
    } finally {
      delete bot.ctx.digest;
      store.close();
    }
  });
});

describe("autocomplete", () => {
  it("answers /related's paper with at most 25 title choices (callback type 8)", async () => {
    const { token } = fake.autocomplete("related", "paper", "sparse attention");
    const [call] = await finished(token, isCallback);
    const body = call!.body as { type: number; data: { choices: { name: string; value: string }[] } };
    expect(body.type).toBe(8);
    expect(body.data.choices.length).toBeGreaterThanOrEqual(2);
    expect(body.data.choices.length).toBeLessThanOrEqual(25);
    expect(body.data.choices.map((c) => c.value)).toEqual(expect.arrayContaining(["2101.00001", "2101.00002"]));
  });

  it("answers with no choices when the index fails, and never throws", async () => {
    const index = bot.ctx.index;
    bot.ctx.index = { store: { get: () => { throw new Error("store closed"); } } } as never;
    try {
      const { token } = fake.autocomplete("related", "paper", "sparse attention");
      const [call] = await finished(token, isCallback);
      expect(call!.body).toEqual({ type: 8, data: { choices: [] } });
    } finally {
      bot.ctx.index = index;
    }
  });
});

describe("buttons and the select menu", () => {
  it("More updates the message in place with the next page (one callback, type 7)", async () => {
    const first = fake.slashCommand("paper", { query: "representation learning", count: 2 });
    const firstEdit = (await answered(first.token)).message;
    const more = firstEdit.components[0]!.components[0]!.custom_id!;
    const press = fake.component(first.token, more);
    const { calls, message: page2 } = await answered(press.token);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.body).toMatchObject({ type: 7 });
    checkLimits(page2);
    expect(page2.content).toBe("Papers for “representation learning” · page 2");
    expect(page2.embeds.map((e) => e.title!.split(".")[0])).toEqual(["3", "4"]);
    expect(page2.embeds.map((e) => e.footer!.text)).not.toContain(firstEdit.embeds[0]!.footer!.text);
  });

  it("Related (select menu) runs /related on the chosen result", async () => {
    const first = fake.slashCommand("paper", { query: "sparse attention for long documents", count: 2 });
    const firstEdit = (await answered(first.token)).message;
    const select = firstEdit.components[1]!.components[0]!;
    expect(select.type).toBe(3);
    const choose = fake.component(first.token, select.custom_id!, ["2101.00001"]);
    const { calls, message: related } = await answered(choose.token);
    expect(calls).toHaveLength(1);
    expect(related.flags ?? 0).toBe(0);
    expect(related.content).toBe("Related to “Sparse Attention for Long Documents” (2101.00001)");
    expect(related.embeds.map((e) => e.footer!.text)).not.toContain("2101.00001");
  });

  it("Share posts private results to the channel", async () => {
    const first = fake.slashCommand("paper", { query: "dark matter halos", count: 1, private: true });
    const firstEdit = (await answered(first.token)).message;
    const share = firstEdit.components[0]!.components.find((c) => c.label === "Share")!;
    const press = fake.component(first.token, share.custom_id!);
    const calls = await finished(press.token, isCallback);
    expect(calls).toHaveLength(1);
    const body = calls[0]!.body as { type: number; data: Body & { flags?: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags ?? 0).toBe(0);
    expect(body.data.allowed_mentions).toEqual({ parse: [] });
    expect(body.data.embeds.map((e) => e.title)).toEqual(firstEdit.embeds.map((e) => e.title));
    expect(body.data.components.flatMap((r) => r.components.map((c) => c.label ?? "select"))).toEqual(["More", "select", "select", "select"]);
  });

  it("a button whose results are gone says so, ephemeral", async () => {
    const first = fake.slashCommand("paper", { query: "dark matter", count: 1 });
    await answered(first.token);
    const press = fake.component(first.token, "ph:more:unknown-token");
    const [call] = await finished(press.token, isCallback);
    const body = call!.body as { type: number; data: Body & { flags: number } };
    expect(body.type).toBe(4);
    expect(body.data.flags).toBe(64);
    expect(body.data.embeds[0]!.description).toContain("These results have expired.");
  });
});

describe("failures", () => {
  it("a REST 429 with retry_after: the bot waits and the reply succeeds", async () => {
    fake.failNext({ match: (m, p) => m === "POST" && p.endsWith("/callback"), status: 429, retryAfter: 0.5 });
    const { token } = fake.slashCommand("paper", { query: "graph neural networks molecules", count: 1 });
    const { calls, message } = await answered(token);
    expect(calls.map((c) => c.status)).toEqual([429, 204]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(450);
    expect(message.embeds[0]!.footer!.text).toBe("2203.01234");
  });

  it("a search that throws: the caller gets an ephemeral error, the error is logged, the bot keeps answering", async () => {
    const index = bot.ctx.index;
    const { PaperIndex } = await import("../../src/search/paper-index.js");
    const broken = await PaperIndex.open({ dir: t.dir, embedder: t.embedder, readonly: true });
    broken.close(); // a real index whose database is closed: every search throws
    bot.ctx.index = broken;
    try {
      const { token } = fake.slashCommand("paper", { query: "sparse attention" });
      const { calls, message: follow } = await answered(token);
      expect(calls).toHaveLength(1);
      expect(follow.flags).toBe(64);
      expect(follow.embeds[0]!.description).toContain("Something went wrong while running this command");
      const failed = logs.flatMap((l) => l.split("\n").filter(Boolean)).map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === "command failed");
      expect(failed).toEqual([expect.objectContaining({ level: "error", command: "paper" })]);
    } finally {
      bot.ctx.index = index;
    }
    const again = fake.slashCommand("paper", { query: "sparse attention", count: 1 });
    expect((await answered(again.token)).message.embeds).toHaveLength(1);
  });

  it("the gateway closes with a resumable code: the bot resumes and answers what was sent meanwhile", async () => {
    const before = fake.identifies.length;
    fake.closeGateway(4000);
    const { token } = fake.slashCommand("paper", { query: "quantum error correction", count: 1 }); // sent while disconnected
    const { message } = await answered(token);
    expect(fake.resumes).toHaveLength(1);
    expect(fake.resumes[0]).toMatchObject({ token: "fake.token.value-1234567890", session_id: "fake-session-1" });
    expect(fake.identifies.length).toBe(before);
    expect(message.embeds[0]!.footer!.text).toBe("2309.33333");
    const next = fake.slashCommand("help");
    await answered(next.token);
  });

  it("heartbeats are sent on time", async () => {
    await new Promise((r) => setTimeout(r, 3.2 * fake.heartbeatInterval));
    const gaps = fake.heartbeatGaps();
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    // none is late by more than 250 ms (the search runs between heartbeats without blocking them)
    for (const g of gaps) expect(g).toBeLessThan(fake.heartbeatInterval + 250);
  });
});

type Body = {
  content: string;
  embeds: APIEmbed[];
  components: { components: { custom_id?: string; type: number; label?: string; placeholder?: string; options?: { value: string }[] }[] }[];
  allowed_mentions: unknown;
};
