/**
 * View → Discord payload on pathological views: every limit, escaping, mention breaking and URL
 * safety, without a client (the end-to-end tests cover the client).
 */
import { describe, expect, it } from "vitest";
import type { PaperItem, ResultsView } from "../../commands/view.js";
import { fitSafe, LIMITS, neutraliseMentions, renderDiscord, safeText, safeUrl, totalEmbedChars } from "../../src/chat/discord/render.js";

const nasty = "**[click me](https://evil.example)** @everyone <@12345678901234567> `x` ||spoiler|| ~~s~~ _i_ ";

function item(rank: number, over: Partial<PaperItem> = {}): PaperItem {
  return {
    rank,
    id: `2401.${String(rank).padStart(5, "0")}`,
    title: nasty.repeat(6),
    url: `https://arxiv.org/abs/2401.${String(rank).padStart(5, "0")}`,
    authors: "A. Smith, B. Jones et al.",
    date: "2024-01-02",
    category: "cs.LG",
    score: 1.23456,
    excerpt: `${"word ".repeat(55)}${nasty}`.slice(0, 300),
    links: [
      { label: "PDF", url: "https://arxiv.org/pdf/2401.00001" },
      { label: "Code", url: "https://github.com/a/b_(c)" },
      { label: "Project", url: "javascript:alert(1)" },
    ],
    ...over,
  };
}

const view = (items: PaperItem[], over: Partial<ResultsView> = {}): ResultsView => ({
  kind: "results",
  header: `Papers for “${"@here ".repeat(500)}”`,
  items,
  ephemeral: true,
  page: 1,
  pageSize: 10,
  next: { command: "paper", options: { query: "x", page: 2 } },
  ...over,
});

describe("Discord rendering", () => {
  it("10 worst-case papers fit every limit", () => {
    const p = renderDiscord(view(Array.from({ length: 10 }, (_, i) => item(i + 1))), "tok");
    expect(p.embeds).toHaveLength(10);
    expect(totalEmbedChars(p.embeds)).toBeLessThanOrEqual(LIMITS.embedTotal);
    expect(p.content.length).toBeLessThanOrEqual(LIMITS.content);
    for (const e of p.embeds) {
      expect(e.title!.length).toBeLessThanOrEqual(LIMITS.embedTitle);
      expect(e.description!.length).toBeLessThanOrEqual(LIMITS.embedDescription);
      expect(e.title!.endsWith("…")).toBe(true);
    }
    // Buttons, then the Related, Save and BibTeX menus.
    expect(p.components).toHaveLength(4);
    expect(p.components.length).toBeLessThanOrEqual(LIMITS.rows);
    expect(p.components[0]!.components.length).toBeLessThanOrEqual(LIMITS.buttonsPerRow);
    for (const row of p.components.slice(1)) {
      const select = row.components[0] as unknown as { custom_id: string; options: { label: string; value: string; description?: string }[] };
      expect(select.custom_id.length).toBeLessThanOrEqual(LIMITS.customId);
      expect(select.options).toHaveLength(10);
      for (const o of select.options) {
        expect(o.label.length).toBeLessThanOrEqual(100);
        expect(o.value.length).toBeLessThanOrEqual(100);
        expect((o.description ?? "").length).toBeLessThanOrEqual(100);
      }
    }
    expect(p.allowed_mentions).toEqual({ parse: [] });
    expect(p.flags).toBe(64);
    // no live mention anywhere, no unescaped markdown link from paper text
    const all = JSON.stringify(p);
    expect(all).not.toMatch(/@everyone|@here|<@\d/);
    expect(p.embeds[0]!.description).not.toContain("](https://evil.example)");
  });

  it("links: fixed labels, only http(s), parentheses encoded", () => {
    const p = renderDiscord(view([item(1)]), "tok");
    const d = p.embeds[0]!.description!;
    expect(d.split("\n").at(-1)).toBe("[PDF](https://arxiv.org/pdf/2401.00001) · [Code](https://github.com/a/b_%28c%29)");
    expect(safeUrl("javascript:alert(1)")).toBeUndefined();
    expect(safeUrl("https://x.example/a b")).toBe("https://x.example/a%20b");
    expect(safeUrl("not a url")).toBeUndefined();
  });

  it("terminal escapes, control characters and right-to-left overrides never reach an embed or a select label", () => {
    const hostile = "Attack\u001b[2J\u001b]52;c;ZXZpbA==\u0007 \u202egnp.exe\u202c \u009b31m";
    const p = renderDiscord(view([item(1, { title: hostile, authors: hostile, excerpt: hostile })]), "tok");
    const select = p.components[1]!.components[0] as unknown as { options: { label: string; description?: string }[] };
    const shown = JSON.stringify([p.embeds, select.options]);
    expect(shown).not.toMatch(/\\u001b|\\u0007|\u202e|\u202c|\\u009b|\u009b/);
    expect(select.options[0]!.label).toContain("Attack");
  });

  it("ids over 100 characters stay out of the select menu; no token, no components", () => {
    const long = item(1, { id: `listing:${"x".repeat(120)}` });
    const p = renderDiscord(view([long, item(2)]), "tok");
    const select = p.components[1]!.components[0] as unknown as { options: { value: string }[] };
    expect(select.options.map((o) => o.value)).toEqual(["2401.00002"]);
    expect(renderDiscord(view([item(1)])).components).toEqual([]);
  });

  it("safeText escapes markdown and breaks mentions; fitSafe never exceeds its limit", () => {
    expect(safeText("# Title\n> quote\n- item\n1. first *b* _i_ `c` [l](u) ||s|| ~~x~~ \\")).toBe(
      "\\# Title\n\\> quote\n\\- item\n1\\. first \\*b\\* \\_i\\_ \\`c\\` \\[l\\](u) \\|\\|s\\|\\| \\~\\~x\\~\\~ \\\\",
    );
    expect(neutraliseMentions("@everyone @HERE <@1> <@!2> <@&3> <#4> a@b.c")).toBe(
      "@\u200beveryone @\u200bHERE <\u200b@1> <\u200b@!2> <\u200b@&3> <\u200b#4> a@b.c",
    );
    for (const max of [1, 2, 5, 17, 100, 256]) {
      expect(fitSafe("*".repeat(1000), max).length).toBeLessThanOrEqual(max);
      expect(fitSafe("a_b ".repeat(300), max).length).toBeLessThanOrEqual(max);
    }
  });
});
