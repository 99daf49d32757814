/**
 * `paperhound bot` as users run it, with SLACK_* set: the Slack adapter starts in HTTP mode on
 * SLACK_PORT against the fake Slack, answers a signed /paper from the built-in sample corpus, and
 * stops cleanly on SIGTERM. Also: a token Slack refuses stops start-up with a message naming it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../../src/paths.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, slashCommandFields } from "../../helpers/fake-slack.js";
import { cleanEnv } from "../../helpers/run-cli.js";

const BIN = path.join(projectRoot, "bin", "paperhound.js");
let fake: FakeSlack;
let tmp: string;

beforeAll(async () => {
  fake = new FakeSlack();
  await fake.start();
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-slack-bot-"));
});

afterAll(async () => {
  await fake?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startBot(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const full = cleanEnv({ LOG_FORMAT: "json", EMBED_DEVICE: "cpu", PAPERHOUND_INDEX: path.join(tmp, "index"), PAPERHOUND_SAMPLE_IF_EMPTY: "1", ...env });
  const child = spawn(process.execPath, [BIN, "bot"], { env: full, cwd: projectRoot, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("paperhound bot with Slack settings", () => {
  it("listens on SLACK_PORT, answers /paper, stops on SIGTERM", async () => {
    const port = await freePort();
    const bot = startBot({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: String(port), SLACK_API_URL: fake.apiUrl });
    try {
      await until(() => bot.output().includes("listening for Slack requests"), 90_000);
      const ack = await postSigned(`http://127.0.0.1:${port}/slack/events`, slashCommandFields("/paper", "diffusion models --count 2", fake.responseUrl("proc")));
      expect(ack.status).toBe(200);
      const r = await fake.waitFor(() => fake.responsesTo("proc")[0], 30_000);
      expect(r.body).toMatchObject({ response_type: "in_channel", unfurl_links: false });
      expect((r.body.blocks as { type: string }[]).filter((b) => b.type === "section")).toHaveLength(2);
      bot.child.kill("SIGTERM");
      expect(await bot.exited).toBe(0);
      expect(bot.output()).not.toContain(BOT_TOKEN);
      expect(bot.output()).not.toContain(SIGNING_SECRET);
    } finally {
      bot.child.kill("SIGKILL");
    }
  }, 120_000);

  it("a bot token Slack refuses (invalid_auth): start-up fails naming SLACK_BOT_TOKEN", async () => {
    fake.scriptApi("auth.test", [{ body: { ok: false, error: "invalid_auth" } }]);
    const bot = startBot({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: String(await freePort()), SLACK_API_URL: fake.apiUrl });
    try {
      expect(await bot.exited).not.toBe(0);
      expect(bot.output()).toContain("Slack refused SLACK_BOT_TOKEN (invalid_auth)");
    } finally {
      bot.child.kill("SIGKILL");
    }
  }, 120_000);

  it("Slack cannot be reached: start-up fails with that message, not as an unexpected error", async () => {
    const bot = startBot({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_PORT: String(await freePort()), SLACK_API_URL: "http://127.0.0.1:9/api/" });
    try {
      expect(await bot.exited).toBe(1);
      expect(bot.output()).toMatch(/paperhound: could not reach Slack at http:\/\/127\.0\.0\.1:9\/api\/ to check SLACK_BOT_TOKEN: .*Check the network connection/);
      expect(bot.output()).not.toContain("unexpected error");
      expect(bot.output()).not.toContain(BOT_TOKEN);
    } finally {
      bot.child.kill("SIGKILL");
    }
  }, 120_000);

  it("a bot token without a way in (no app token, no signing secret): the missing setting is named", async () => {
    const bot = startBot({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl });
    try {
      expect(await bot.exited).not.toBe(0);
      expect(bot.output()).toContain('SLACK_APP_TOKEN="" is not allowed (expected an app-level token starting with xapp- for Socket Mode (or set SLACK_SIGNING_SECRET for HTTP mode))');
    } finally {
      bot.child.kill("SIGKILL");
    }
  }, 120_000);
});
