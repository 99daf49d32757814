/** Which answers are for the caller alone is part of each command's definition, read the same by every adapter. */
import { describe, expect, it } from "vitest";
import { findCommand, parseOptions } from "../../commands/index.js";
import { answersPrivately } from "../../commands/types.js";

const privately = (name: string, raw: Record<string, string | boolean>) => {
  const cmd = findCommand(name)!;
  return answersPrivately(cmd, parseOptions(cmd, raw));
};

describe("private answers", () => {
  it("help always; /paper and /related when asked; /digest show and preview, not changes", () => {
    expect(privately("help", {})).toBe(true);
    expect(privately("paper", { query: "diffusion" })).toBe(false);
    expect(privately("paper", { query: "diffusion", private: true })).toBe(true);
    expect(privately("related", { paper: "2401.00631", private: "yes" })).toBe(true);
    expect(privately("related", { paper: "2401.00631" })).toBe(false);
    expect(privately("digest", { action: "Show" })).toBe(true);
    expect(privately("digest", { action: "preview" })).toBe(true);
    expect(privately("digest", { action: "subscribe", topics: "a" })).toBe(false);
    expect(privately("digest", { action: "pause" })).toBe(false);
  });
});
