/** The Slack command text parser: flags, Slack's escaping undone, errors worded for the user. */
import { describe, expect, it } from "vitest";
import { decodeSlackText, parseSlackCommand } from "../../../src/chat/slack/parse.js";

describe("parseSlackCommand", () => {
  it("splits flags from the text; --flag value, --flag=value, dashes Slack clients substitute", () => {
    expect(parseSlackCommand("/paper", "diffusion distillation --since 2024-10-01 --count=5 –category cs.CV --private")).toEqual({
      kind: "run",
      name: "paper",
      raw: { query: "diffusion distillation", since: "2024-10-01", count: "5", category: "cs.CV", private: true },
    });
    expect(parseSlackCommand("related", "2401.00631 --private=false")).toEqual({ kind: "run", name: "related", raw: { paper: "2401.00631", private: "false" } });
  });

  it("-- ends the flags; words that only look like dashes stay text", () => {
    expect(parseSlackCommand("/paper", "c-- -- --count is text")).toEqual({ kind: "run", name: "paper", raw: { query: "c-- --count is text" } });
  });

  it("help, unknown and repeated flags, missing values", () => {
    expect(parseSlackCommand("/paper", "  ")).toEqual({ kind: "help" });
    expect(parseSlackCommand("/related", "HELP")).toEqual({ kind: "help" });
    expect(parseSlackCommand("/paper", "x --help")).toEqual({ kind: "help" });
    expect(parseSlackCommand("/related", "x --since 2024")).toEqual({ kind: "error", message: "/related has no option --since. Options: --count N, --private." });
    expect(parseSlackCommand("/paper", "x --count 2 --count 3")).toEqual({ kind: "error", message: "--count is given twice." });
    expect(parseSlackCommand("/paper", "x --count --private")).toEqual({ kind: "error", message: "--count needs a value: --count N." });
    expect(parseSlackCommand("/paper", "x --category=")).toEqual({ kind: "error", message: "--category needs a value: --category X." });
  });
});

describe("decodeSlackText", () => {
  it("undoes Slack's escaping: entities, links, user and channel mentions, specials", () => {
    expect(decodeSlackText("R&amp;D &lt;b&gt;")).toBe("R&D <b>");
    expect(decodeSlackText("<https://arxiv.org/abs/2401.00631>")).toBe("https://arxiv.org/abs/2401.00631");
    expect(decodeSlackText("<https://arxiv.org/abs/2401.00631|arxiv.org/abs/2401.00631>")).toBe("https://arxiv.org/abs/2401.00631");
    expect(decodeSlackText("ask <@U123ABC|bob> in <#C123|papers> <!here>")).toBe("ask @bob in #papers @here");
  });
});
