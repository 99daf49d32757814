/** The `command handled` log line: never what was asked unless LOG_QUERIES, and then cut short. */
import { describe, expect, it } from "vitest";
import type { CommandEvent } from "../../commands/types.js";
import { commandLogFields } from "../../src/bot/run-bot.js";

const event: CommandEvent = {
  platform: "slack",
  command: "paper",
  options: { query: "confidential merger topic", count: 5, private: true, since: undefined },
  outcome: "ok",
  ms: 12.6,
  hits: 5,
};

describe("command handled log fields", () => {
  it("has platform, command, outcome, milliseconds and hits, and no query by default", () => {
    const fields = commandLogFields(event, false);
    expect(fields).toEqual({ platform: "slack", command: "paper", outcome: "ok", ms: 13, hits: 5 });
    expect(JSON.stringify(fields)).not.toContain("confidential");
  });

  it("with LOG_QUERIES has the options as given, each value cut at 200 characters", () => {
    expect(commandLogFields(event, true).options).toEqual({ query: "confidential merger topic", count: 5, private: true });
    const long = commandLogFields({ ...event, options: { query: "x".repeat(5000) } }, true).options as { query: string };
    expect(long.query).toHaveLength(201);
    expect(long.query.endsWith("…")).toBe(true);
  });
});
