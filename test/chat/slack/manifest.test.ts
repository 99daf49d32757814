/** slack-manifest.json creates the app this adapter serves: its commands, flags, scopes and Socket Mode. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findCommand } from "../../../commands/index.js";
import { FLAGS } from "../../../src/chat/slack/parse.js";
import { projectRoot } from "../../../src/paths.js";

interface Manifest {
  features: { slash_commands: { command: string; description: string; usage_hint: string; should_escape: boolean; url?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
}

const manifest = JSON.parse(readFileSync(path.join(projectRoot, "slack-manifest.json"), "utf8")) as Manifest;

describe("slack-manifest.json", () => {
  it("declares /paper, /related and /digest with the adapter's flags and the commands' descriptions", () => {
    const commands = manifest.features.slash_commands;
    expect(commands.map((c) => c.command)).toEqual(["/paper", "/related", "/digest"]);
    for (const c of commands) {
      const name = c.command.slice(1);
      expect(c.description).toBe(findCommand(name)!.description);
      for (const f of FLAGS[name]!) expect(c.usage_hint).toContain(`[--${f.flag}${f.placeholder ? ` ${f.placeholder}` : ""}]`);
      // Links arrive as <url>, which the adapter unwraps; no user or channel ids needed.
      expect(c.should_escape).toBe(false);
      expect(c.url).toBeUndefined();
    }
  });

  it("asks for the least: commands, chat:write and chat:write.public (digests in public channels it has not joined); Socket Mode and interactivity (buttons) on", () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(["commands", "chat:write", "chat:write.public"]);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });
});
