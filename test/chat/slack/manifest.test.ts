/** slack-manifest.json creates the app this adapter serves: its commands, flags, scopes and Socket Mode. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findCommand } from "../../../commands/index.js";
import { FLAGS, parseSlackCommand, TEXT_OPTION } from "../../../src/chat/slack/parse.js";
import { projectRoot } from "../../../src/paths.js";

interface Manifest {
  features: { slash_commands: { command: string; description: string; usage_hint: string; should_escape: boolean; url?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
}

const manifest = JSON.parse(readFileSync(path.join(projectRoot, "slack-manifest.json"), "utf8")) as Manifest;

describe("slack-manifest.json", () => {
  it("declares /paper, /related, /save, /library and /digest with the adapter's flags and the commands' descriptions", () => {
    const commands = manifest.features.slash_commands;
    expect(commands.map((c) => c.command)).toEqual(["/paper", "/related", "/save", "/library", "/digest"]);
    for (const c of commands) {
      const name = c.command.slice(1);
      expect(c.description).toBe(findCommand(name)!.description);
      for (const f of FLAGS[name]!) expect(c.usage_hint).toContain(`[--${f.flag}${f.placeholder ? ` ${f.placeholder}` : ""}]`);
      // Links arrive as <url>, which the adapter unwraps; no user or channel ids needed.
      expect(c.should_escape).toBe(false);
      expect(c.url).toBeUndefined();
    }
  });

  it("asks for the least: commands, chat:write, chat:write.public (digests in public channels it has not joined) and files:write (library exports); Socket Mode and interactivity (buttons) on", () => {
    expect(manifest.oauth_config.scopes.bot).toEqual(["commands", "chat:write", "chat:write.public", "files:write", "files:read"]);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
  });

  it("every option of every Slack command has a flag, and the usage hint offers exactly those flags (no drift)", () => {
    for (const c of manifest.features.slash_commands) {
      const name = c.command.slice(1);
      const options = findCommand(name)!
        // A Slack slash command cannot carry a file: /library import takes the file the user last shared in the channel.
        .options.filter((o) => !o.hidden && o.name !== TEXT_OPTION[name] && o.type !== "attachment")
        .map((o) => o.name);
      expect(FLAGS[name]!.map((f) => f.option).sort()).toEqual([...options].sort());
      const hinted = [...c.usage_hint.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
      expect(hinted).toEqual(FLAGS[name]!.map((f) => f.flag));
      // Each hinted flag with its placeholder value parses into its option.
      for (const f of FLAGS[name]!) {
        const parsed = parseSlackCommand(name, `x --${f.flag}${f.placeholder ? " 1" : ""}`);
        expect(parsed, `--${f.flag}`).toMatchObject({ kind: "run", raw: { [f.option]: f.placeholder ? "1" : true } });
      }
    }
  });

  it("/digest subscribe --sources hf, as the manifest's hint offers", () => {
    expect(parseSlackCommand("digest", 'subscribe --topics "a; b" --sources hf')).toEqual({
      kind: "run",
      name: "digest",
      raw: { action: "subscribe", topics: "a; b", sources: "hf" },
    });
  });
});
