/**
 * The platform-neutral commands on a small real index (real model, SQLite, hnswlib): options and
 * their limits, result views, paging, errors and "nothing found" views, autocomplete, help.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS, findCommand } from "../../commands/index.js";
import { parseOptions } from "../../commands/options.js";
import { completePaper } from "../../commands/related.js";
import { runCommand } from "../../commands/run.js";
import { CommandInputError, type CommandEvent } from "../../commands/types.js";
import { excerpt, truncateWords, type MessageView, type ResultsView, type View } from "../../commands/view.js";
import { createLogger } from "../../src/log.js";
import { buildTestIndex, type TestIndex } from "./test-index.js";

let t: TestIndex;

beforeAll(async () => {
  t = await buildTestIndex();
}, 180_000);

afterAll(async () => {
  await t?.close();
});

function results(v: View): ResultsView {
  if (v.kind !== "results") throw new Error(`expected results, got ${JSON.stringify(v)}`);
  return v;
}

function message(v: View): MessageView {
  if (v.kind !== "message") throw new Error(`expected a message, got ${JSON.stringify(v)}`);
  return v;
}

describe("option parsing", () => {
  const paper = findCommand("paper")!;

  it("applies defaults and types, from strings (console) or typed values (Discord)", () => {
    expect(parseOptions(paper, { query: "  sparse   attention " })).toEqual({ query: "sparse attention", count: 5, private: false, page: 1 });
    expect(parseOptions(paper, { query: "x", count: "3", private: "yes", since: "2024-02", category: "CS.lg" })).toEqual({
      query: "x",
      count: 3,
      private: true,
      since: "2024-02",
      category: "cs.LG",
      page: 1,
    });
    expect(parseOptions(paper, { query: "x", count: 10, private: true })).toMatchObject({ count: 10, private: true });
  });

  it.each([
    [{ query: "x", count: 0 }, /count must be a whole number from 1 to 10/],
    [{ query: "x", count: "11" }, /count must be a whole number from 1 to 10/],
    [{ query: "x", count: "2.5" }, /count/],
    [{ query: "x", since: "2024-02-30" }, /since must be a date like 2024-01-31/],
    [{ query: "x", since: "yesterday" }, /since must be a date/],
    [{ query: "x", category: "cs.LG; DROP" }, /category must be an arXiv category/],
    [{ query: "x", private: "maybe" }, /private must be true or false/],
    [{ query: "x".repeat(1001) }, /query is too long \(at most 1000 characters\)/],
    [{ query: "   " }, /\/paper needs query/],
    [{}, /\/paper needs query/],
    [{ query: "x", colour: "red" }, /\/paper has no option "colour" \(options: query, count, since, until, category, author, private\)/],
  ])("rejects %j", (raw, msg) => {
    expect(() => parseOptions(paper, raw)).toThrow(CommandInputError);
    expect(() => parseOptions(paper, raw)).toThrow(msg);
  });

  it("every command keeps within chat platform limits (names, descriptions, 25 options)", () => {
    for (const c of COMMANDS) {
      expect(c.name).toMatch(/^[a-z][a-z0-9_-]{0,31}$/);
      expect(c.description.length).toBeLessThanOrEqual(100);
      expect(c.options.length).toBeLessThanOrEqual(25);
      for (const o of c.options) {
        expect(o.name).toMatch(/^[a-z][a-z0-9_-]{0,31}$/);
        expect(o.description.length).toBeLessThanOrEqual(100);
      }
      // required options first (Discord requires it)
      const req = c.options.map((o) => o.required === true);
      expect(req).toEqual([...req].sort((a, b) => Number(b) - Number(a)));
    }
  });
});

describe("/paper", () => {
  it("returns a results view with items built from the hits", async () => {
    const v = results(await runCommand("paper", { query: "sparse attention for long documents", count: 3 }, t.ctx));
    expect(v.header).toBe("Papers for “sparse attention for long documents”");
    expect(v.ephemeral).toBe(false);
    expect(v.items).toHaveLength(3);
    expect(v.items.map((i) => i.rank)).toEqual([1, 2, 3]);
    const top = v.items[0]!;
    expect(top).toMatchObject({
      id: "2101.00001",
      title: "Sparse Attention for Long Documents",
      url: "https://arxiv.org/abs/2101.00001",
      authors: "A. Smith, B. Jones et al.",
      date: "2021-01-04",
      category: "cs.CL",
      links: [{ label: "PDF", url: "https://arxiv.org/pdf/2101.00001" }],
    });
    expect(top.excerpt.startsWith("Transformers scale quadratically with sequence length")).toBe(true);
    expect(top.excerpt.length).toBeLessThanOrEqual(300);
    expect(v.items[0]!.score!).toBeGreaterThanOrEqual(v.items[1]!.score!);
    expect(v.next).toEqual({ command: "paper", options: { query: "sparse attention for long documents", count: 3, private: false, page: 2 } });
  });

  it("pages: page 2 continues the ranking of page 1 without overlap", async () => {
    const all = results(await runCommand("paper", { query: "representation learning", count: 6 }, t.ctx));
    const p1 = results(await runCommand("paper", { query: "representation learning", count: 3 }, t.ctx));
    const p2 = results(await runCommand("paper", p1.next!.options, t.ctx));
    expect(p2.header).toContain("page 2");
    expect(p2.page).toBe(2);
    expect(p2.items.map((i) => i.rank)).toEqual([4, 5, 6]);
    expect([...p1.items, ...p2.items].map((i) => i.id)).toEqual(all.items.map((i) => i.id));
  });

  it("the last page has no next page, and past it is a 'no more' view", async () => {
    const total = t.index.store.count();
    const count = 10;
    const last = Math.ceil(total / count);
    const v = results(await runCommand("paper", { query: "learning", count, page: last }, t.ctx));
    expect(v.next).toBeUndefined();
    expect(v.items.at(-1)!.rank).toBe(total);
    const past = message(await runCommand("paper", { query: "learning", count, page: last + 1 }, t.ctx));
    expect(past).toMatchObject({ tone: "empty", ephemeral: true, text: "There are no more papers for “learning”." });
  });

  it("filters by since and category, and says which filters when nothing matches", async () => {
    const v = results(await runCommand("paper", { query: "transformers", since: "2023-01-01", category: "cs" }, t.ctx));
    expect(v.header).toBe("Papers for “transformers” · since 2023-01-01 · in cs");
    for (const i of v.items) {
      expect(i.date! >= "2023-01-01").toBe(true);
      expect(i.category!.startsWith("cs.")).toBe(true);
    }
    const none = message(await runCommand("paper", { query: "transformers", since: "2026-01-01", category: "cs.LG" }, t.ctx));
    expect(none).toEqual({
      kind: "message",
      tone: "empty",
      title: "Nothing found",
      text: "No paper in the index matches “transformers” (since 2026-01-01 · in cs.LG).",
      suggestion: "Try again without the since and category filters.",
      ephemeral: true,
    });
  });

  it("private results are ephemeral; a since in the future is an error", async () => {
    expect(results(await runCommand("paper", { query: "quantum error correction", private: true }, t.ctx)).ephemeral).toBe(true);
    const v = message(await runCommand("paper", { query: "x", since: "2027-01-01" }, t.ctx));
    expect(v).toMatchObject({ tone: "error", ephemeral: true, text: "since 2027-01-01 is in the future, so no paper can match." });
  });

  it("bad options are ephemeral error views, not exceptions", async () => {
    const v = message(await runCommand("paper", { query: "x", count: 50 }, t.ctx));
    expect(v).toMatchObject({ tone: "error", ephemeral: true, text: "count must be a whole number from 1 to 10" });
    expect(message(await runCommand("nope", {}, t.ctx)).text).toBe("There is no command /nope.");
  });

  it("a query with no searchable words is an error view with a suggestion", async () => {
    const v = message(await runCommand("paper", { query: "?!" }, t.ctx));
    expect(v.tone === "error" || v.tone === "empty").toBe(true);
    expect(v.ephemeral).toBe(true);
    expect(v.suggestion).toBeTruthy();
  });

  it("papers from the sample listing (no arXiv id, date or category) still render", async () => {
    const v = results(await runCommand("paper", { query: "rotation equivariant point cloud networks", count: 3 }, t.ctx));
    const sample = v.items.find((i) => i.id.startsWith("sample:"))!;
    expect(sample).toBeDefined();
    expect(sample.url).toBeUndefined();
    expect(sample.date).toBeUndefined();
    expect(sample.links).toEqual([]);
    expect(sample.excerpt.length).toBeGreaterThan(40);
  });

  it("known code and Hugging Face links are listed", async () => {
    const v = results(await runCommand("paper", { query: "ping safety for chat bots", count: 2 }, t.ctx));
    const hostile = v.items.find((i) => i.id === "2410.00001")!;
    expect(hostile.links).toEqual([
      { label: "PDF", url: "https://arxiv.org/pdf/2410.00001" },
      { label: "Code", url: "https://github.com/example/ping-safety" },
      { label: "Hugging Face", url: "https://huggingface.co/papers/2410.00001" },
    ]);
  });

  it("an unexpected failure of the search is logged and becomes a generic error view", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json", stream: { write: (s: string) => lines.push(s) } });
    const broken = { ...t.ctx, logger, index: { search: async () => { throw new Error("disk on fire"); } } as never };
    const v = message(await runCommand("paper", { query: "x" }, broken));
    expect(v).toMatchObject({ tone: "error", ephemeral: true, text: "Something went wrong while running this command; it has been logged." });
    expect(lines.join("")).toContain("disk on fire");
  });
});

describe("/paper's until and author filters (as the CLI's search has them)", () => {
  it("until keeps papers published on or before the day; author any part of a name, any case", async () => {
    const until = results(await runCommand("paper", { query: "sparse attention", count: 10, until: "2021-01-04" }, t.ctx));
    expect(until.header).toBe("Papers for “sparse attention” · until 2021-01-04");
    expect(until.items.every((i) => (i.date ?? "") <= "2021-01-04")).toBe(true);
    expect(until.items.map((i) => i.id)).toContain("2101.00001");
    expect(until.items.map((i) => i.id)).not.toContain("2101.00002");
    const author = results(await runCommand("paper", { query: "learning", count: 10, author: "alice SMITH" }, t.ctx));
    expect(author.header).toBe("Papers for “learning” · by “alice SMITH”");
    expect(author.items.map((i) => i.id).sort()).toEqual(["2101.00001", "2404.66666"]);
    expect(author.next).toBeUndefined();
  });

  it("since after until, and nothing by that author, are explained", async () => {
    expect(message(await runCommand("paper", { query: "attention", since: "2024", until: "2023-12" }, t.ctx)).text).toBe("since 2024 is after until 2023-12, so no paper can match.");
    const none = message(await runCommand("paper", { query: "attention", author: "Nobody Atall", since: "2020" }, t.ctx));
    expect(none.text).toBe("No paper in the index matches “attention” (since 2020 · by “Nobody Atall”).");
    expect(none.suggestion).toBe("Try again without the since and author filters.");
  });
});

describe("/related", () => {
  it("by arXiv id, URL or title, never listing the paper itself", async () => {
    for (const ref of ["2101.00001", "https://arxiv.org/abs/2101.00001v2", "sparse attention for long documents"]) {
      const v = results(await runCommand("related", { paper: ref, count: 3 }, t.ctx));
      expect(v.header).toBe("Related to “Sparse Attention for Long Documents” (2101.00001)");
      expect(v.items.map((i) => i.id)).not.toContain("2101.00001");
      expect(v.items[0]!.id).toBe("2101.00002");
    }
  });

  it("an unknown paper or id is an ephemeral error with a suggestion", async () => {
    const a = message(await runCommand("related", { paper: "2501.99999" }, t.ctx));
    expect(a).toMatchObject({ tone: "error", ephemeral: true, text: "arXiv 2501.99999 is not in this index." });
    expect(a.suggestion).toContain("/paper");
    const b = message(await runCommand("related", { paper: "zzzz qqqq xxxx" }, t.ctx));
    expect(b.text).toBe("No paper in the index matches “zzzz qqqq xxxx”.");
    const c = message(await runCommand("related", { paper: "https://example.com/paper" }, t.ctx));
    expect(c.text).toBe("not an arXiv URL: https://example.com/paper");
  });

  it("several close titles: asks which one, naming them", async () => {
    const v = message(await runCommand("related", { paper: "Sparse Attention for Long" }, t.ctx));
    expect(v.text).toBe("Several papers match “Sparse Attention for Long”.");
    expect(v.suggestion).toContain("(2101.00001)");
    expect(v.suggestion).toContain("(2101.00002)");
  });

  it("pages like /paper", async () => {
    const p1 = results(await runCommand("related", { paper: "2101.00001", count: 2 }, t.ctx));
    expect(p1.next).toEqual({ command: "related", options: { paper: "2101.00001", count: 2, private: false, page: 2 } });
    const p2 = results(await runCommand("related", p1.next!.options, t.ctx));
    expect(p2.items.map((i) => i.rank)).toEqual([3, 4]);
  });
});

describe("/related and /save by a short name or a part of the title, as autocomplete finds it", () => {
  it("one paper whose title holds the words: that paper; several: a list to choose from", async () => {
    const r = results(await runCommand("related", { paper: "Surface Codes", count: 2 }, t.ctx));
    expect(r.header).toBe("Related to “Quantum Error Correction with Surface Codes” (2309.33333)");
    const several = message(await runCommand("related", { paper: "for Long", count: 2 }, t.ctx));
    expect(several.text).toBe("Several papers match “for Long”.");
    expect(several.suggestion).toContain("(2101.00001)");
    expect(message(await runCommand("related", { paper: "zzzz qqqq", count: 2 }, t.ctx)).text).toBe("No paper in the index matches “zzzz qqqq”.");
  });
});

describe("autocomplete of /related's paper", () => {
  it("offers close titles as id choices, at most 25, names within 100 characters", () => {
    const choices = completePaper("sparse attention", t.ctx);
    expect(choices.map((c) => c.value)).toEqual(expect.arrayContaining(["2101.00001", "2101.00002"]));
    expect(choices[0]!.name).toMatch(/^Sparse Attention for Long (Documents|Videos) \(2101\.0000[12]\)$/);
    const many = completePaper("equivariant representations networks learning", t.ctx);
    expect(many.length).toBeLessThanOrEqual(25);
    for (const c of [...choices, ...many, ...completePaper("very long title about ping safety and more", t.ctx)]) {
      expect(c.name.length).toBeLessThanOrEqual(100);
      expect(c.value.length).toBeLessThanOrEqual(100);
    }
  });

  it("titles starting with the text come first, then titles containing it, then titles with every word", () => {
    expect(completePaper("Sparse Att", t.ctx).map((c) => c.value).slice(0, 2).sort()).toEqual(["2101.00001", "2101.00002"]);
    expect(completePaper("attention for long vid", t.ctx)[0]).toEqual({ name: "Sparse Attention for Long Videos (2101.00002)", value: "2101.00002" });
    expect(completePaper("surface codes quantum", t.ctx).map((c) => c.value)).toEqual(["2309.33333"]);
    expect(completePaper("QUANTUM error", t.ctx).map((c) => c.value)).toEqual(["2309.33333"]);
  });

  it("an arXiv id being typed completes to the ids starting with it", () => {
    expect(completePaper("2101.0000", t.ctx).map((c) => c.value)).toEqual(["2101.00002", "2101.00001"]);
    expect(completePaper("hep-th/06", t.ctx).map((c) => c.value)).toEqual(["hep-th/0601001"]);
  });

  it("an arXiv id or URL completes to that paper; too short or nonsense gives no choices", () => {
    expect(completePaper("https://arxiv.org/abs/2309.33333", t.ctx)).toEqual([
      { name: "Quantum Error Correction with Surface Codes (2309.33333)", value: "2309.33333" },
    ]);
    expect(completePaper("", t.ctx)).toEqual([]);
    expect(completePaper("q", t.ctx)).toEqual([]);
    expect(completePaper("\u0000\u0000((**", t.ctx)).toEqual([]);
  });

  it("never throws, even when the index does", () => {
    const broken = { ...t.ctx, index: { store: { get: () => { throw new Error("closed"); } } } as never };
    expect(completePaper("sparse attention", broken)).toEqual([]);
  });
});

describe("/help", () => {
  it("lists the user-facing commands and options, not the hidden page option", async () => {
    const v = await runCommand("help", {}, t.ctx);
    if (v.kind !== "help") throw new Error("expected help");
    expect(v.ephemeral).toBe(true);
    expect(v.commands.map((c) => c.usage)).toEqual([
      "/paper query:<text> [count] [since] [until] [category] [author] [private]",
      "/related paper:<text> [count] [private]",
      "/save paper:<text>",
      "/library [action] [filter] [paper] [format] [file]",
      "/digest action:<text> [topics] [time] [timezone] [count] [categories] [sources] [quiet] [keywords] [author]",
      "/help [command]",
    ]);
    expect(v.commands.flatMap((c) => c.options.map((o) => o.name))).not.toContain("page");
  });
});

describe("text helpers", () => {
  it("truncateWords cuts on a word boundary with an ellipsis, within the limit", () => {
    expect(truncateWords("short", 10)).toBe("short");
    expect(truncateWords("the quick brown fox jumps", 12)).toBe("the quick…");
    expect(truncateWords("x".repeat(50), 10)).toBe(`${"x".repeat(9)}…`);
    for (let n = 1; n < 40; n++) expect([...truncateWords("alpha beta, gamma delta epsilon zeta eta theta", n)].length).toBeLessThanOrEqual(n);
  });

  it("excerpt keeps whole sentences up to the limit", () => {
    // short sentences then a long one: filled up to the limit, cut on a word
    const filled = excerpt("One. Two two. " + "Three ".repeat(100));
    expect(filled).toMatch(/^One\. Two two\. (Three )+Three…$/);
    expect(filled.length).toBeLessThanOrEqual(300);
    const e = excerpt("First sentence here. Second sentence is here too. " + "Long ".repeat(80));
    expect(e.length).toBeLessThanOrEqual(300);
    expect(e.startsWith("First sentence here. Second sentence is here too.")).toBe(true);
  });
});

describe("command events (metrics and the per-command log line)", () => {
  it("report platform, command, outcome, latency and hits, and the options as given (logged only with LOG_QUERIES)", async () => {
    const events: CommandEvent[] = [];
    const ctx = { ...t.ctx, platform: "slack" as const, onCommand: (e: CommandEvent) => events.push(e) };
    await runCommand("paper", { query: "sparse attention", count: 3 }, ctx);
    await runCommand("paper", { query: "zzzqqq xxyyzz", since: "2026-11-01" }, ctx);
    await runCommand("related", { paper: "2512.99999" }, ctx);
    await runCommand("frobnicate", {}, ctx);
    const failing = { ...ctx, search: { search: () => Promise.reject(new Error("index gone")), related: () => Promise.reject(new Error("x")), resolvePaper: () => Promise.reject(new Error("x")) } };
    await runCommand("paper", { query: "anything" }, failing);
    expect(events.map((e) => [e.platform, e.command, e.outcome, e.hits])).toEqual([
      ["slack", "paper", "ok", 3],
      ["slack", "paper", "empty", 0],
      ["slack", "related", "user_error", 0],
      ["slack", "unknown", "user_error", 0],
      ["slack", "paper", "error", 0],
    ]);
    for (const e of events) expect(e.ms).toBeGreaterThanOrEqual(0);
    expect(events.map((e) => e.options)).toEqual([{ query: "sparse attention", count: 3 }, { query: "zzzqqq xxyyzz", since: "2026-11-01" }, { paper: "2512.99999" }, {}, { query: "anything" }]);
  });
});
