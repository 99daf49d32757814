/** /help, and /help <command> as the console reads it. */
import { describe, expect, it } from "vitest";
import { runCommand } from "../../commands/run.js";
import type { CommandContext } from "../../commands/types.js";
import { parseLine } from "../../src/chat/console/parse.js";
import { createLogger } from "../../src/log.js";

const ctx = { clock: () => new Date(), logger: createLogger({ level: "error", format: "json", stream: { write: () => true } as unknown as NodeJS.WritableStream }) } as unknown as CommandContext;

const helpFor = async (line: string) => {
  const parsed = parseLine(line)!;
  return runCommand(parsed.name, parsed.raw, ctx);
};

describe("/help", () => {
  it("lists every command; /help paper (or /paper) only that one", async () => {
    const all = await helpFor("/help");
    expect(all).toMatchObject({ kind: "help" });
    expect(all.kind === "help" && all.commands.map((c) => c.usage.split(" ")[0])).toEqual(["/paper", "/related", "/save", "/library", "/digest", "/help"]);
    for (const line of ["/help paper", "/help /PAPER"]) {
      const one = await helpFor(line);
      expect(one.kind === "help" && one.commands.map((c) => c.usage.split(" ")[0]), line).toEqual(["/paper"]);
    }
  });

  it("an unknown command is a clear error naming the commands", async () => {
    const v = await helpFor("/help frobnicate");
    expect(v).toMatchObject({ kind: "message", tone: "error" });
    expect(JSON.stringify(v)).toContain("there is no command /frobnicate; the commands are /paper, /related, /save, /library, /digest, /help");
  });
});
