/**
 * `paperhound setup` end to end, in process: its real prompts (@inquirer/prompts) read keystrokes
 * from a terminal-like input and draw on an output this test reads; the tokens are checked against
 * the loopback Discord and Slack fakes (the real discord.js and Slack clients), the first ingest
 * reads a loopback arXiv API and Hugging Face server. Refusals, Ctrl+C, a scripted install (--yes
 * and flags) and a rerun that changes one answer.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { parseEnv, stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createContext } from "../src/app/context.js";
import { main } from "../src/cli.js";
import { PaperStore } from "../src/search/paper-store.js";
import { APP_ID, FakeDiscord, GUILD_ID } from "./helpers/fake-discord.js";
import { BOT_TOKEN as SLACK_BOT, FakeSlack } from "./helpers/fake-slack.js";
import { fixture, LoopbackServer } from "./helpers/loopback-server.js";
import { BIN, cleanEnv } from "./helpers/run-cli.js";
import { projectRoot } from "../src/paths.js";

const DISCORD_TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GxYzAb.fake-discord-bot-token-0123456789";
const WRONG_DISCORD = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GxYzAb.wrong-token-000000000000000000000";
const SLACK_APP = "xapp-1-A0FAKE-1234-0123456789abcdef";

let tmp: string;
let discord: FakeDiscord;
let slack: FakeSlack;
let sources: LoopbackServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "paperhound-setup-"));
  discord = new FakeDiscord({ token: DISCORD_TOKEN });
  await discord.start();
  slack = new FakeSlack();
  await slack.start();
  sources = await LoopbackServer.start();
  sources.route("/api/query", (req) => ({ body: fixture(req.query.get("start") === "2" ? "arxiv-search-page-2.xml" : "arxiv-search-page-1.xml") }));
  sources.route("/hfapi/daily_papers", { body: fixture("hf-daily-empty.json") });
});

afterAll(async () => {
  await discord?.stop();
  await slack?.stop();
  await sources?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Settings of every run: the fakes' URLs, fast politeness intervals, nothing from the caller's shell. */
function baseEnv(): NodeJS.ProcessEnv {
  return cleanEnv({
    DISCORD_API_URL: discord.restUrl,
    SLACK_API_URL: slack.apiUrl,
    ARXIV_API_URL: `${sources.origin}/api/query`,
    HF_API_URL: `${sources.origin}/hfapi`,
    ARXIV_MIN_INTERVAL_MS: "10",
    HF_MIN_INTERVAL_MS: "10",
    PAPERHOUND_CONTACT_EMAIL: "setup-test@example.org",
    PAPERHOUND_ENV_FILE: "",
  });
}

const KEY = { enter: "\r", down: "\x1b[B", space: " ", ctrlC: "\x03" };

/** A terminal for the prompts: what they drew so far (colours stripped), and keys typed once a text shows. */
class Terminal {
  readonly input: PassThrough & { isTTY: boolean; setRawMode: () => void } = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined });
  readonly output: NodeJS.WritableStream & NodeJS.ReadableStream = new PassThrough();
  readonly errors = new PassThrough();
  screen = "";
  stderr = "";
  private seen = 0;

  constructor() {
    this.output.setEncoding("utf8").on("data", (d: string) => (this.screen += stripVTControlCharacters(d)));
    this.errors.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
  }

  /** Waits until `text` shows after what earlier waits matched, then types `keys`. */
  async answer(text: string | RegExp, ...keys: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rest = this.screen.slice(this.seen);
      const at = typeof text === "string" ? rest.indexOf(text) : rest.search(text);
      if (at >= 0) {
        this.seen += at + 1;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no ${String(text)} on the screen; it shows:\n${rest}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Let the prompt finish drawing (and start listening) before the keys arrive.
    await new Promise((r) => setTimeout(r, 30));
    for (const k of keys) {
      this.input.write(k);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, term = new Terminal()): { term: Terminal; done: Promise<number> } {
  const ctx = createContext({ env, stdin: term.input, stdout: term.output, stderr: term.errors });
  return { term, done: main(["node", "paperhound", "setup", ...args], ctx) };
}

const envFileIn = (dir: string) => path.join(dir, "settings.env");

describe("paperhound setup, asked in a terminal", () => {
  const dir = () => path.join(tmp, "interactive");
  const index = () => path.join(dir(), "team-index");

  it("first run: Discord (a refused token asked again) and Slack in Socket Mode, checked; .env written (0600, no secret shown); index created; commands registered; first ingest; the next steps", async () => {
    const env = { ...baseEnv() };
    const { term, done } = run(["--settings-file", envFileIn(dir())], env);
    await term.answer("Which chat platforms?", KEY.space, KEY.down, KEY.space, KEY.enter);
    await term.answer("Discord bot token", ...WRONG_DISCORD, KEY.enter);
    await term.answer("Discord refused the bot token (401 Unauthorized)");
    await term.answer("Discord bot token", ...DISCORD_TOKEN, KEY.enter);
    await term.answer("Server id", ...GUILD_ID, KEY.enter);
    await term.answer("How does Slack reach the bot?", KEY.enter);
    await term.answer("Create the Slack app");
    await term.answer("Slack bot token", ...SLACK_BOT, KEY.enter);
    await term.answer("Slack app-level token", ...SLACK_APP, KEY.enter);
    await term.answer("Index directory", ...index(), KEY.enter);
    // The suggested category (cs.LG) is replaced by two, in any spelling.
    await term.answer("arXiv categories", "\x7f".repeat(10), ..."cs.lg, CS.ai", KEY.enter);
    await term.answer("Hugging Face daily papers", KEY.enter);
    await term.answer("Contact e-mail", ..."team@example.org", KEY.enter);
    await term.answer("how many past days", KEY.enter);
    const code = await done;
    const screen = term.screen;
    expect(code, `${screen}\n${term.stderr}`).toBe(0);

    // The settings file: every answer, readable by paperhound, for the owner only.
    const file = envFileIn(dir());
    const saved = parseEnv(readFileSync(file, "utf8"));
    expect(saved).toMatchObject({
      DISCORD_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_GUILD_ID: GUILD_ID,
      SLACK_BOT_TOKEN: SLACK_BOT,
      SLACK_APP_TOKEN: SLACK_APP,
      SLACK_MODE: "socket",
      PAPERHOUND_INDEX: index(),
      INGEST_CATEGORIES: "cs.LG,cs.AI",
      INGEST_HF_DAILY: "true",
      PAPERHOUND_CONTACT_EMAIL: "team@example.org",
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const secret of [DISCORD_TOKEN, WRONG_DISCORD, SLACK_BOT, SLACK_APP]) {
      expect(screen).not.toContain(secret);
      expect(term.stderr).not.toContain(secret);
    }

    expect(screen).toContain(`token accepted: bot "paperhound" of application "paperhound" (${APP_ID})`);
    expect(screen).toContain('"socket_mode_enabled": true');
    expect(screen).toContain(`Discord: registered /paper, /related, /save, /library, /digest, /help in server ${GUILD_ID}`);
    expect(discord.calls.some((c) => c.method === "PUT" && c.path === `/applications/${APP_ID}/guilds/${GUILD_ID}/commands`)).toBe(true);
    expect(slack.callsOf("auth.test").length).toBeGreaterThan(0);
    expect(slack.connectionsOpened).toBeGreaterThan(0);

    // The index holds the arXiv papers of the first ingest (the fixture's two pages: 3 papers).
    expect(term.stderr).toMatch(/first papers from the arXiv API done: 3 papers in .*; 3 new, 0 already indexed/);
    const store = PaperStore.open(path.join(index(), "papers.sqlite"), { readonly: true });
    try {
      expect(store.count()).toBe(3);
    } finally {
      store.close();
    }
    const searchQuery = sources.requestsTo("/api/query").at(-1)!.query.get("search_query")!;
    expect(searchQuery).toContain("cat:cs.LG");
    expect(searchQuery).toContain("cat:cs.AI");
    expect(sources.requestsTo("/api/query").at(-1)!.headers["user-agent"]).toContain("team@example.org");

    expect(screen).toContain(`Invite the bot to your server: https://discord.com/oauth2/authorize?client_id=${APP_ID}&scope=bot+applications.commands&permissions=19456`);
    expect(screen).toContain("Start it: npm start");
    expect(screen).toContain("ingest followed --days 2");
  });

  it("rerun: Enter keeps every saved answer (tokens checked again, not shown); one changed answer changes one line; the rest of the file as it was", async () => {
    const file = envFileIn(dir());
    writeFileSync(file, `# our own notes stay\nLOG_LEVEL=info\n${readFileSync(file, "utf8")}`, { mode: 0o600 });
    const before = readFileSync(file, "utf8");
    const { term, done } = run(["--settings-file", file], baseEnv());
    await term.answer("Which chat platforms?", KEY.enter);
    await term.answer("Discord bot token (Enter keeps the saved one)", KEY.enter);
    await term.answer("Server id", KEY.enter);
    await term.answer("How does Slack reach the bot?", KEY.enter);
    await term.answer("Slack bot token", KEY.enter);
    await term.answer("Slack app-level token", KEY.enter);
    await term.answer("Index directory", KEY.enter);
    await term.answer("arXiv categories", "\x7f".repeat(12), ..."cs.CL", KEY.enter);
    await term.answer("Hugging Face daily papers", KEY.enter);
    await term.answer("Contact e-mail", KEY.enter);
    // The index has papers now: the suggested number of days is 0.
    await term.answer(/how many past days.*\(0\)/, KEY.enter);
    expect(await done, `${term.screen}\n${term.stderr}`).toBe(0);
    expect(term.screen).not.toContain("Create the Slack app");
    expect(term.screen).toContain(`${file}: set INGEST_CATEGORIES`);
    const after = readFileSync(file, "utf8");
    expect(after).toBe(before.replace("INGEST_CATEGORIES=cs.LG,cs.AI", "INGEST_CATEGORIES=cs.CL"));
    expect(term.screen).toMatch(/team-index: 3 paper\(s\)/);
  });

  it("rerun leaving a platform out turns it off: its settings are removed, the others kept", async () => {
    const file = envFileIn(dir());
    const { term, done } = run(["--settings-file", file], baseEnv());
    // Both are checked (saved): move to Slack and uncheck it.
    await term.answer("Which chat platforms?", KEY.down, KEY.space, KEY.enter);
    await term.answer("Discord bot token (Enter keeps the saved one)", KEY.enter);
    await term.answer("Server id", KEY.enter);
    await term.answer("Index directory", KEY.enter);
    await term.answer("arXiv categories", KEY.enter);
    await term.answer("Hugging Face daily papers", KEY.enter);
    await term.answer("Contact e-mail", KEY.enter);
    await term.answer("how many past days", KEY.enter);
    expect(await done, `${term.screen}\n${term.stderr}`).toBe(0);
    expect(term.screen).toContain(`${file}: removed SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SLACK_MODE`);
    const saved = parseEnv(readFileSync(file, "utf8"));
    expect(Object.keys(saved).filter((k) => k.startsWith("SLACK_"))).toEqual([]);
    expect(saved).toMatchObject({ DISCORD_TOKEN, INGEST_CATEGORIES: "cs.CL", LOG_LEVEL: "info" });
  });

  it("Ctrl+C at a question stops set-up with nothing written", async () => {
    const file = path.join(tmp, "stopped.env");
    const { term, done } = run(["--settings-file", file], baseEnv());
    await term.answer("Which chat platforms?", KEY.enter);
    await term.answer("Index directory", KEY.ctrlC);
    expect(await done).toBe(1);
    expect(term.stderr).toContain("paperhound: set-up stopped; nothing was written");
    expect(existsSync(file)).toBe(false);
  });

  it("the built-in sample index is refused as the team's index; a wrong category is asked again", async () => {
    const file = path.join(tmp, "refused.env");
    const { term, done } = run(["--settings-file", file, "--days", "0"], baseEnv());
    await term.answer("Which chat platforms?", KEY.enter);
    await term.answer("Index directory", "\x7f".repeat(20), ..."index/default", KEY.enter);
    await term.answer("holds the built-in sample papers", "\x7f".repeat(20), ...path.join(tmp, "console-index"), KEY.enter);
    await term.answer("arXiv categories", ..."x,,", KEY.enter);
    await term.answer("not an arXiv category", "\x7f".repeat(20), ..."stat.ML", KEY.enter);
    await term.answer("Hugging Face daily papers", "n", KEY.enter);
    await term.answer("Contact e-mail", KEY.enter);
    expect(await done, term.stderr).toBe(0);
    expect(parseEnv(readFileSync(file, "utf8"))).toMatchObject({ PAPERHOUND_INDEX: path.join(tmp, "console-index"), INGEST_CATEGORIES: "stat.ML", INGEST_HF_DAILY: "false" });
    expect(term.screen).toContain("(no chat platform: the console; try /paper <topic>)");
    expect(existsSync(path.join(tmp, "console-index", "papers.sqlite"))).toBe(true);
  });
});

describe("paperhound setup --yes (scripted)", () => {
  it("Slack in HTTP mode from flags: the manifest carries the public request URL; nothing asked", async () => {
    const file = path.join(tmp, "http.env");
    const term = new Terminal();
    const { done } = run(
      ["--yes", "--settings-file", file, "--slack-bot-token", SLACK_BOT, "--slack-signing-secret", "0123456789abcdef0123456789abcdef", "--slack-url", "https://bot.example.org/", "--index", path.join(tmp, "http-index"), "--categories", "cs.CV", "--no-hf-daily", "--days", "0"],
      baseEnv(),
      term,
    );
    expect(await done, term.stderr).toBe(0);
    expect(parseEnv(readFileSync(file, "utf8"))).toMatchObject({ SLACK_MODE: "http", SLACK_SIGNING_SECRET: "0123456789abcdef0123456789abcdef", INGEST_CATEGORIES: "cs.CV", INGEST_HF_DAILY: "false" });
    expect(parseEnv(readFileSync(file, "utf8")).DISCORD_TOKEN).toBeUndefined();
    const manifest = JSON.parse(term.screen.slice(term.screen.indexOf("{"), term.screen.lastIndexOf("}") + 1)) as { features: { slash_commands: { url: string }[] }; settings: { socket_mode_enabled: boolean; interactivity: { request_url: string } } };
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.settings.interactivity.request_url).toBe("https://bot.example.org/slack/events");
    expect(new Set(manifest.features.slash_commands.map((c) => c.url))).toEqual(new Set(["https://bot.example.org/slack/events"]));
    expect(term.screen).not.toContain("0123456789abcdef0123456789abcdef");
  });

  it("a token Slack refuses stops set-up with Slack's reason; nothing is written", async () => {
    slack.scriptApi("auth.test", [{ body: { ok: false, error: "invalid_auth" } }]);
    const file = path.join(tmp, "refused-slack.env");
    const term = new Terminal();
    const { done } = run(["--yes", "--settings-file", file, "--slack-bot-token", SLACK_BOT, "--slack-app-token", SLACK_APP, "--days", "0"], baseEnv(), term);
    expect(await done).toBe(1);
    expect(term.stderr).toMatch(/^paperhound: Slack refused the bot token \(invalid_auth\): copy it again from the app's OAuth & Permissions page/m);
    expect(existsSync(file)).toBe(false);
  });

  it("a malformed token is refused before any request, naming what is expected", async () => {
    const term = new Terminal();
    const before = discord.calls.length;
    const { done } = run(["--yes", "--settings-file", path.join(tmp, "bad.env"), "--discord-token", "not a token", "--days", "0"], baseEnv(), term);
    expect(await done).toBe(1);
    expect(term.stderr).toMatch(/^paperhound: --discord-token is not allowed \(expected /m);
    expect(discord.calls.length).toBe(before);
  });

  it("--slack-mode socket needs the app-level token; it is asked for by its flag", async () => {
    const term = new Terminal();
    const { done } = run(["--yes", "--settings-file", path.join(tmp, "mode.env"), "--slack-mode", "socket", "--slack-bot-token", SLACK_BOT, "--days", "0"], baseEnv(), term);
    expect(await done).toBe(1);
    expect(term.stderr).toMatch(/^paperhound: Slack app-level token .* is needed: with --yes, pass --slack-app-token$/m);
    expect(existsSync(path.join(tmp, "mode.env"))).toBe(false);
  });

  it("a flag is never ignored: --discord-guild alone asks for the token it needs; a bad --index names the flag", async () => {
    const guildOnly = new Terminal();
    const first = run(["--yes", "--settings-file", path.join(tmp, "guild.env"), "--discord-guild", GUILD_ID, "--days", "0"], baseEnv(), guildOnly);
    expect(await first.done).toBe(1);
    expect(guildOnly.stderr).toContain("paperhound: Discord bot token is needed: with --yes, pass --discord-token");
    const sample = new Terminal();
    const second = run(["--yes", "--settings-file", path.join(tmp, "sample.env"), "--index", "index/default", "--days", "0"], baseEnv(), sample);
    expect(await second.done).toBe(1);
    expect(sample.stderr).toMatch(/^paperhound: --index "index\/default" is not allowed: index\/default holds the built-in sample papers/m);
    expect(existsSync(path.join(tmp, "guild.env")) || existsSync(path.join(tmp, "sample.env"))).toBe(false);
  });

  it("without a terminal and without --yes it says how to script it", async () => {
    const term = new Terminal();
    (term.input as { isTTY: boolean }).isTTY = false;
    const { done } = run(["--settings-file", path.join(tmp, "none.env")], baseEnv(), term);
    expect(await done).toBe(1);
    expect(term.stderr).toContain("pass --yes and the answers as flags");
  });
});

/** util-linux `script` runs a command in a new pseudo-terminal (stdin/stdout forwarded): the real terminal path. */
const hasScript = spawnSync("script", ["--version"]).status === 0;

describe("paperhound setup in a real pseudo-terminal", () => {
  it.skipIf(!hasScript)("the CLI process asks in raw mode, takes the keys typed, writes the settings and creates the index", async () => {
    const file = path.join(tmp, "pty.env");
    const index = path.join(tmp, "pty-index");
    const term = new Terminal();
    const child = spawn("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} setup --settings-file ${JSON.stringify(file)}`, "/dev/null"], {
      cwd: projectRoot,
      env: { ...baseEnv(), TERM: "xterm" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdout.pipe(term.output);
    term.input.pipe(child.stdin);
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    await term.answer("Which chat platforms?", KEY.enter);
    await term.answer("Index directory", ..."\x7f".repeat(12), ...index, KEY.enter);
    await term.answer("arXiv categories", KEY.enter);
    await term.answer("Hugging Face daily papers", "n", KEY.enter);
    await term.answer("Contact e-mail", KEY.enter);
    await term.answer("how many past days", "\x7f", "0", KEY.enter);
    expect(await exited, term.screen).toBe(0);
    expect(term.screen).toContain("✔ Index directory for the team's papers");
    expect(parseEnv(readFileSync(file, "utf8"))).toMatchObject({ PAPERHOUND_INDEX: index, INGEST_CATEGORIES: "cs.LG", INGEST_HF_DAILY: "false" });
    expect(existsSync(path.join(index, "papers.sqlite"))).toBe(true);
  });
});
