/**
 * The hardening suite (`npm run test:hardening`, part of `npm test`): every kind of bad input through
 * every entry point, each case asserting a clear answer (an error view, an exit code with a message,
 * an HTTP status) and no state change (papers in the index, digest subscriptions). Table-driven;
 * prints how many cases ran per entry point.
 *
 * Entry points: the platform-neutral commands (what every adapter calls), the console adapter, the
 * Discord adapter (real discord.js client, fake Discord), the Slack adapter (real bolt app, fake
 * Slack; forged, stale and replayed signatures), the CLI with bad files and arguments, and the
 * health endpoint.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand } from "../../commands/run.js";
import type { CommandContext, RawOptions } from "../../commands/types.js";
import type { View } from "../../commands/view.js";
import { runConsole } from "../../src/chat/console/console-adapter.js";
import { DiscordBot } from "../../src/chat/discord/bot.js";
import { startSlackAdapter, type SlackAdapter } from "../../src/chat/slack/adapter.js";
import { ConfigError, loadConfig } from "../../src/config.js";
import { loadEnvFile } from "../../src/env-file.js";
import { backupIndex, restoreIndex } from "../../src/search/backup.js";
import { DigestStore } from "../../src/digest/digest-store.js";
import { BotMetrics } from "../../src/ops/metrics.js";
import { startHealthServer, type HealthServer } from "../../src/ops/health-server.js";
import { readPapersFromFile, type SourceFileEntry } from "../../src/papers/sources/detect-format.js";
import { DEFAULT_LIMITS, type InputLimits } from "../../src/papers/limits.js";
import { PaperFileError } from "../../src/papers/sources/jsonl.js";
import { buildTestIndex, quietLogger, type TestIndex } from "../commands/test-index.js";
import { FakeDiscord, type RestCall } from "../helpers/fake-discord.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, sign, slashCommandFields } from "../helpers/fake-slack.js";
import { runNode } from "../helpers/run-cli.js";

/** Hostile text: what users type and what remote services send. */
const HOSTILE: Record<string, string> = {
  empty: "",
  blank: " \t\n ",
  huge: "attention ".repeat(110_000), // about 1 MB
  control: "\u0000\u0001\u0007\u001b[31mred\u001b[0m\u007f",
  "lone surrogate": "\ud800 sparse \udfff attention",
  "replacement chars": "\ufffd\ufffd\ufffd",
  rtl: "\u202eevil\u202c \u0645\u0631\u062d\u0628\u0627 attention",
  "zero width": "\u200b\u200c\u200d\ufeff",
  markdown: "**bold** _x_ `code` [click](https://evil.example) > quote ~~strike~~ ||spoiler||",
  mentions: "@everyone @here <@123456789012345678> <@&987654321098765432> <!channel> <!here> <#42>",
  "fts syntax": 'title:"x" AND NOT (y OR z*) NEAR(a b) ^c "unclosed',
  "path traversal": "../../../../etc/passwd",
  "sql-ish": "'; DROP TABLE papers; --",
  "json-ish": '{"__proto__":{"polluted":true}}',
  emoji: "🧪🔬📄".repeat(50),
};

const counts: Record<string, number> = {};
const count = (entry: string) => (counts[entry] = (counts[entry] ?? 0) + 1);

let t: TestIndex;
let digestDir: string;
let store: DigestStore;
let papersBefore: number;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
  papersBefore = t.index.store.count();
  digestDir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-"));
  store = DigestStore.open(digestDir);
}, 180_000);

afterAll(async () => {
  const line = Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  process.stdout.write(`hardening: ${Object.values(counts).reduce((a, b) => a + b, 0)} cases (${line})\n`);
  store?.close();
  if (digestDir) rmSync(digestDir, { recursive: true, force: true });
  await t?.close();
});

/** Nothing a hostile input did may change the index or a digest. */
function unchanged(): void {
  expect(t.index.store.count()).toBe(papersBefore);
  expect(store.subscriptions()).toEqual([]);
}

/** A view is always a clear answer: results, or a message with a title and text; never an internal error. */
function clearAnswer(v: View): void {
  if (v.kind === "message") {
    expect(v.title.length).toBeGreaterThan(0);
    expect(v.title).not.toBe("Something went wrong");
  }
  expect(JSON.stringify(v).length).toBeLessThan(200_000);
}

describe("commands (every adapter's path)", () => {
  const cases: [string, RawOptions][] = [];
  for (const [kind, text] of Object.entries(HOSTILE)) {
    cases.push([`paper query ${kind}`, { query: text }]);
    cases.push([`related paper ${kind}`, { paper: text }]);
    cases.push([`paper since ${kind}`, { query: "attention", since: text }]);
    cases.push([`paper category ${kind}`, { query: "attention", category: text }]);
    cases.push([`digest action ${kind}`, { action: text }]);
  }
  cases.push(["paper count wrong type", { query: "attention", count: "many" }]);
  cases.push(["paper count out of range", { query: "attention", count: 1e9 }]);
  cases.push(["paper private wrong type", { query: "attention", private: "perhaps" }]);
  cases.push(["unknown option", { query: "attention", evil: "1" }]);

  it.each(cases)("%s", async (_name, raw) => {
    const command = Object.keys(raw).includes("action") ? "digest" : Object.keys(raw).includes("paper") ? "related" : "paper";
    // Digest changes need the right to manage the channel: a hostile caller without it.
    const ctx: CommandContext = { ...t.ctx, digest: store, channel: { key: "console:hostile", canManage: false } };
    clearAnswer(await runCommand(command, raw, ctx));
    unchanged();
    count("commands");
  });

  it.each(Object.entries(HOSTILE))("digest subscribe with hostile topics (%s) by a manager stores them safely or refuses", async (_kind, text) => {
    const ctx: CommandContext = { ...t.ctx, digest: store, channel: { key: "console:manager", canManage: true } };
    const v = await runCommand("digest", { action: "subscribe", topics: text, timezone: text.length < 64 ? text : "UTC" }, ctx);
    clearAnswer(v);
    const sub = store.subscription("console:manager");
    if (sub) {
      for (const topic of sub.topics) expect(topic.length).toBeLessThanOrEqual(500);
      store.unsubscribe("console:manager");
    }
    unchanged();
    count("commands");
  });
});

describe("console adapter", () => {
  it.each(Object.entries(HOSTILE))("a %s line is answered and the console keeps reading", async (_kind, text) => {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const done = runConsole({ input, output, ctx: { ...t.ctx, digest: store, channel: { key: "console:main", canManage: false } }, interactive: false });
    input.write(`/paper ${text.replace(/\n/g, " ")}\n/related ${text.replace(/\n/g, " ")}\n/digest subscribe topics:${text.replace(/\n/g, " ").slice(0, 200)}\n${text.replace(/\n/g, " ").slice(0, 1000)}\n/help\n`);
    input.end();
    await done;
    expect(out).toContain("/paper"); // /help was still answered after the hostile lines
    expect(out).not.toMatch(/Something went wrong/);
    unchanged();
    count("console");
  });
});

describe("Discord adapter (fake Discord)", () => {
  let fake: FakeDiscord;
  let bot: DiscordBot;
  beforeAll(async () => {
    fake = new FakeDiscord({ heartbeatInterval: 1000 });
    await fake.start();
    bot = new DiscordBot({ ctx: { ...t.ctx, digest: store }, logger: quietLogger(), clientOptions: { rest: { api: fake.restUrl, retries: 1 } } });
    await bot.start("fake.token.value-1234567890");
  }, 60_000);
  afterAll(async () => {
    await bot?.stop();
    await fake?.stop();
  });

  const answered = async (token: string): Promise<RestCall[]> => {
    await fake.waitForCall((c) => (c.path.includes(`/${token}/`) || c.path.endsWith(`/${token}`)) && c.method !== "DELETE" && (c.method === "PATCH" || c.method === "POST") && c.status < 300 && !(c.path.endsWith("/callback") && (c.body as { type?: number })?.type === 5));
    return fake.callsFor(token);
  };

  it.each(Object.entries(HOSTILE))("/paper, /related and autocomplete with %s text: a safe answer, no pings", async (_kind, text) => {
    // Discord caps option strings at 6,000 characters; the client sends what the gateway delivers.
    const value = text.slice(0, 6000);
    for (const [name, options] of [
      ["paper", { query: value }],
      ["related", { paper: value }],
      ["digest", { action: "subscribe", topics: value }],
    ] as const) {
      const { token } = fake.slashCommand(name, options);
      const calls = await answered(token);
      for (const c of calls) {
        const body = c.body as { data?: { allowed_mentions?: unknown }; allowed_mentions?: unknown };
        const mentions = body?.data?.allowed_mentions ?? body?.allowed_mentions;
        if (mentions !== undefined) expect(mentions).toEqual({ parse: [] });
        expect(JSON.stringify(c.body ?? "")).not.toMatch(/(?<!\u200b)@everyone/);
      }
    }
    const auto = fake.autocomplete("related", "paper", value.slice(0, 100));
    const choices = await fake.waitForCall((c) => c.path.endsWith(`/${auto.token}/callback`));
    expect((choices.body as { type: number }).type).toBe(8);
    unchanged();
    count("discord");
  }, 60_000);
});

describe("Slack adapter (fake Slack)", () => {
  let fake: FakeSlack;
  let adapter: SlackAdapter;
  let url: string;
  let n = 0;
  beforeAll(async () => {
    fake = new FakeSlack();
    await fake.start();
    const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: "http", SLACK_API_URL: fake.apiUrl }, { stderrIsTTY: false });
    adapter = await startSlackAdapter({ config, ctx: { ...t.ctx, digest: store }, logger: quietLogger(), listen: { port: 0, host: "127.0.0.1" }, digestAdmins: ["U0NOBODY"] });
    url = `http://127.0.0.1:${adapter.port}/slack/events`;
  }, 60_000);
  afterAll(async () => {
    await adapter?.stop();
    await fake?.stop();
  });

  it.each(Object.entries(HOSTILE))("/paper, /related and /digest with %s text: acked, answered, escaped", async (_kind, text) => {
    for (const command of ["/paper", "/related", "/digest"]) {
      const id = `h${++n}`;
      const ack = await postSigned(url, slashCommandFields(command, command === "/digest" ? `subscribe --topics ${text}` : text, fake.responseUrl(id)));
      expect(ack.status).toBe(200);
      if (ack.text.trim() === "") {
        const answer = await fake.waitFor(() => fake.responsesTo(id)[0]);
        const json = JSON.stringify(answer.body);
        expect(json).not.toMatch(/<!channel>|<!here>|<@1234/);
        expect(json).not.toContain("Something went wrong");
      }
    }
    unchanged();
    count("slack");
  }, 60_000);

  it.each([
    ["a wrong signing secret", { secret: "not-the-secret" }],
    ["a stale timestamp (replayed after 10 minutes)", { timestamp: Math.floor(Date.now() / 1000) - 600 }],
  ] as const)("a request with %s is refused and runs nothing", async (_name, opts) => {
    const id = `forged${++n}`;
    const before = fake.callsOf("chat.postMessage").length;
    const res = await postSigned(url, slashCommandFields("/digest", "subscribe --topics forged", fake.responseUrl(id)), opts);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.responsesTo(id)).toEqual([]);
    expect(fake.callsOf("chat.postMessage").length).toBe(before);
    unchanged();
    count("slack");
  });

  it.each([310, 600, 3_600, 86_400 * 365, -310, -3_600])("a timestamp %i s from now → 401, nothing runs", async (skew) => {
    const id = `skew${skew}`; // signed correctly; only the clock is off
    const res = await postSigned(url, slashCommandFields("/digest", "subscribe --topics skewed", fake.responseUrl(id)), { timestamp: Math.floor(Date.now() / 1000) + skew });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.responsesTo(id)).toEqual([]);
    unchanged();
    count("slack");
  });

  it("a body changed after it was signed is refused and runs nothing", async () => {
    const ts = Math.floor(Date.now() / 1000);
    const id = `tampered${++n}`;
    const signed = new URLSearchParams(slashCommandFields("/paper", "attention", fake.responseUrl(id))).toString();
    const tampered = signed.replace("text=attention", "text=%40everyone");
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": sign(SIGNING_SECRET, ts, signed) },
      body: tampered,
    });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.responsesTo(id)).toEqual([]);
    unchanged();
    count("slack");
  });

  it("an unsigned, oversized or non-form body is refused", async () => {
    for (const [body, headers] of [
      ["command=/paper&text=x", { "content-type": "application/x-www-form-urlencoded" }],
      ["x".repeat(2_000_000), { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(Math.floor(Date.now() / 1000)), "x-slack-signature": "v0=00" }],
      ["\u0000\u0001binary", { "content-type": "application/octet-stream" }],
    ] as const) {
      const res = await fetch(url, { method: "POST", headers, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      count("slack");
    }
    unchanged();
  });
});

describe("CLI (files and arguments)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-cli-"));
    writeFileSync(path.join(dir, "binary.jsonl"), Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x02, 0x80, 0x0a, 0xc3, 0x28, 0x0a]));
    writeFileSync(path.join(dir, "invalid-utf8.jsonl"), Buffer.concat([Buffer.from('{"id":"2401.00001","title":"'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('","abstract":"x"}\n')]));
    writeFileSync(path.join(dir, "huge-line.jsonl"), `{"id":"2401.00002","title":"${"t".repeat(1_200_000)}","abstract":"x"}\n`);
    writeFileSync(path.join(dir, "proto.json"), '[{"__proto__":{"polluted":true},"id":"2401.00003"}]');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["a binary file", ["index", "binary.jsonl"]],
    ["a record with invalid UTF-8", ["index", "invalid-utf8.jsonl"]],
    ["a 1.2 MB title", ["index", "huge-line.jsonl"]],
    ["a __proto__ record without title", ["index", "proto.json"]],
    ["a path traversal to a missing file", ["index", "../../../../nonexistent/etc/passwd"]],
    ["a directory as a file", ["index", "."]],
    ["an unknown option", ["search", "attention", "--frobnicate"]],
    ["a count of the wrong type", ["search", "attention", "-k", "many"]],
    ["an empty query", ["search", ""]],
    ["an FTS expression", ["search", 'title:"x" AND NOT (y OR z*)']],
    ["an unknown command", ["frobnicate"]],
  ])("%s: a message on stderr, no crash, the index unchanged", async (_name, args) => {
    const index = path.join(dir, "idx");
    const r = await runNode([...args, "--index", index], { env: { PAPERHOUND_SAMPLE_IF_EMPTY: "0" } });
    expect(r.stderr + r.stdout).not.toMatch(/at .+\.ts:\d+:\d+/); // no stack trace
    if (r.code !== 0) expect(r.stderr.trim().length).toBeGreaterThan(0);
    expect(r.code === 0 || r.code === 1 || r.code === 2).toBe(true);
    if (args[0] === "index") {
      const papers = await runNode(["stats", "--json", "--index", index], {});
      // Bad records are skipped; nothing but valid papers reached the index.
      if (papers.code === 0) expect((JSON.parse(papers.stdout) as { papers: number }).papers).toBeLessThanOrEqual(1);
    }
    count("cli");
  }, 60_000);
});

describe("health endpoint", () => {
  let server: HealthServer;
  beforeAll(async () => {
    server = await startHealthServer({ port: 0, metrics: new BotMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true, waitingFor: [] }) });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ["POST", "/healthz", 405],
    ["PUT", "/metrics", 405],
    ["DELETE", "/readyz", 405],
    ["GET", "/../../etc/passwd", 404],
    ["GET", "/%2e%2e/%2e%2e/etc/passwd", 404],
    ["GET", `/${"a".repeat(8000)}`, 404],
    ["GET", "/healthz?x=<script>", 200],
  ] as const)("%s %s → %i", async (method, p, status) => {
    const res = await fetch(`http://127.0.0.1:${server.port}${p}`, { method, ...(method === "POST" || method === "PUT" ? { body: "x".repeat(1_000_000) } : {}) });
    expect(res.status).toBe(status);
    expect(await res.text()).not.toContain("<script>");
    count("health");
  });
});

describe("CLI: wrong exits and raw messages (probe findings)", () => {
  let dir: string;
  let index: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-exits-"));
    index = path.join(dir, "idx");
    writeFileSync(path.join(dir, "all-bad.jsonl"), '{"id":"2401.00001","title":""}\n{"id":"2401.00002"}\n[1,2]\n');
    writeFileSync(path.join(dir, "good.jsonl"), '{"id":"2401.00003","title":"Attention in graphs","abstract":"We study attention over graph edges."}\n');
    writeFileSync(path.join(dir, "a-file"), "not a directory\n");
    execFileSync("mkfifo", [path.join(dir, "fifo")]);
    const r = await runNode(["index", path.join(dir, "good.jsonl"), "--index", index], { env: { PAPERHOUND_SAMPLE_IF_EMPTY: "0" } });
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, (d: string) => string[], RegExp, Record<string, string>?][] = [
    ["a file whose records all fail exits 1", (d) => ["index", path.join(d, "all-bad.jsonl"), "--index", path.join(d, "idx2")], /all 3 record\(s\) had errors.*no paper was indexed/],
    ["the same as a dry run", (d) => ["index", path.join(d, "all-bad.jsonl"), "--dry-run", "--index", path.join(d, "idx2")], /all 3 record\(s\) had errors.*no paper was read/],
    ["index of a FIFO answers at once instead of hanging", (d) => ["index", path.join(d, "fifo"), "--index", path.join(d, "idx2")], /fifo is a pipe \(FIFO\), not a regular file/],
    ["index of a device", (d) => ["index", "/dev/zero", "--index", path.join(d, "idx2")], /\/dev\/zero is a device, not a regular file/],
    ["backup into an existing file", (d) => ["backup", path.join(d, "a-file"), "--index", path.join(d, "idx")], /a-file exists and is a file, not a directory/],
    ["restore into an existing file", (d) => ["restore", path.join(d, "idx"), "--index", path.join(d, "a-file")], /--index names .*a-file, which is a file, not an index directory/],
    ["--index naming a file (stats)", (d) => ["stats", "--index", path.join(d, "a-file")], /--index names .*a-file, which is a file, not an index directory/],
    ["--index naming a file (search)", (d) => ["search", "attention", "--index", path.join(d, "a-file")], /which is a file, not an index directory/],
    ["PAPERHOUND_INDEX naming a file", () => ["stats"], /PAPERHOUND_INDEX names .*a-file, which is a file/, { PAPERHOUND_INDEX: "@/a-file" }],
    ["--index where no directory can be made", (d) => ["index", path.join(d, "good.jsonl"), "--index", "/proc/self/paperhound"], /cannot create or write the index in \/proc\/self\/paperhound/],
    ["an invalid HEALTH_HOST", () => ["config"], /HEALTH_HOST="not a host!" is not allowed/, { HEALTH_HOST: "not a host!" }],
  ];
  it.each(cases)("%s", async (_name, args, message, env = {}) => {
    const withDir = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace("@", dir)]));
    const r = await runNode(args(dir), { env: { PAPERHOUND_SAMPLE_IF_EMPTY: "0", ...withDir } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/unexpected error|at .+\.ts:\d+:\d+|unable to open database file/);
    count("cli");
  }, 60_000);

  it("a truncated vectors.json is named with what to do, not 'unexpected error'", async () => {
    const copy = path.join(dir, "idx-truncated");
    cpSync(index, copy, { recursive: true });
    writeFileSync(path.join(copy, "vectors.json"), '{\n  "format": 1,\n  "gener');
    const r = await runNode(["search", "attention", "--index", copy], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vectors\.json is unusable: it is not valid JSON.*reindex --yes/s);
    count("cli");
  }, 60_000);
});

describe("paper files: every kind of bad gzip says what is wrong", () => {
  let dir: string;
  const good = Buffer.from('{"id":"2401.00003","title":"Attention in graphs","abstract":"We study attention over graph edges."}\n'.repeat(20));
  const gz = gzipSync(good);
  const flip = (b: Buffer, at: number[]) => {
    const c = Buffer.from(b);
    for (const i of at) c[i < 0 ? c.length + i : i]! ^= 0xff;
    return c;
  };
  const kinds: [string, Buffer, RegExp][] = [
    ["only the magic bytes", gz.subarray(0, 5), /cut short \(5 bytes/],
    ["cut inside the compressed data", gz.subarray(0, 40), /cut short \(it ends inside its compressed data\)/],
    ["damaged compressed data", flip(gz, [12, 13, 20]), /the compressed data is damaged|the gzip header is damaged/],
    ["a wrong checksum", flip(gz, [-6]), /checksum does not match/],
    ["a damaged header (compression method)", flip(gz, [2]), /the gzip header is damaged/],
    ["nothing inside", gzipSync(Buffer.alloc(0)), /holds nothing/],
    ["random bytes inside", gzipSync(Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251))), /decompresses, but to content that is not/],
  ];
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-gzip-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  it.each(kinds)("%s", async (name, bytes, message) => {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.jsonl.gz`);
    writeFileSync(file, bytes);
    const read = async () => {
      for await (const _ of readPapersFromFile(file)) void _;
    };
    await expect(read()).rejects.toThrow(PaperFileError);
    await expect(read()).rejects.toThrow(message);
    count("files");
  });
});

describe("limits: oversize records, texts and lines are refused by name, in time linear in their size", () => {
  let dir: string;
  const good = (id: string) => JSON.stringify({ id, title: "Attention in graphs", abstract: "We study attention over graph edges." });
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-limits-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const entriesOf = async (file: string, limits?: Partial<InputLimits>) => {
    const out: SourceFileEntry[] = [];
    for await (const e of readPapersFromFile(file, limits ? { limits: { ...DEFAULT_LIMITS, ...limits } } : {})) out.push(e);
    return out;
  };

  it.each([
    ["a JSON Lines line over MAX_RECORD_BYTES", "jsonl", (big: string) => `${good("2401.00001")}\n{"id":"2401.00002","title":"T","abstract":"${big}"}\n${good("2401.00003")}\n`, /larger than the limit for one record.*65,536 bytes; MAX_RECORD_BYTES raises it/],
    ["a JSON array element over MAX_RECORD_BYTES", "json", (big: string) => `[${good("2401.00001")},\n{"id":"2401.00002","title":"T","abstract":"${big}"},\n${good("2401.00003")}]`, /larger than the limit for one record/],
    ["a day of an archive over MAX_RECORD_BYTES", "jsonl", (big: string) => `{"date":"2026-11-02","response":[{"paper":{"id":"2401.00002","title":"T","summary":"${big}"}}]}\n`, /larger than the limit for one record/],
  ])("%s is one record error; the records around it are read", async (_name, ext, body, message) => {
    const file = path.join(dir, `${_name.replace(/\W+/g, "-")}.${ext}`);
    writeFileSync(file, body("x".repeat(200_000)));
    const entries = await entriesOf(file, { maxRecordBytes: 65_536 });
    const errors = entries.filter((e) => e.error);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error!.message).toMatch(message);
    if (!_name.includes("archive")) expect(entries.filter((e) => e.paper).map((e) => e.paper!.id)).toEqual(["2401.00001", "2401.00003"]);
    count("files");
  });

  it.each([
    ["an abstract over MAX_ABSTRACT_CHARS", { title: "T", abstract: "word ".repeat(30_000) }, /the abstract has 149,999 characters \(the limit is 100,000 characters; MAX_ABSTRACT_CHARS raises it\)/],
    ["a title over 2,000 characters", { title: "t".repeat(2_001), abstract: "A" }, /the title has 2,001 characters \(the limit is 2,000 characters\)/],
  ])("%s is refused with the limit's name, in every format", async (_name, record, message) => {
    const jsonl = path.join(dir, `${_name.replace(/\W+/g, "-")}.jsonl`);
    writeFileSync(jsonl, `${JSON.stringify({ id: "2401.00002", ...record })}\n${good("2401.00003")}\n`);
    const atom = path.join(dir, `${_name.replace(/\W+/g, "-")}.xml`);
    writeFileSync(
      atom,
      `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00002v1</id><title>${record.title}</title><summary>${record.abstract}</summary><published>2024-01-01T00:00:00Z</published></entry></feed>`,
    );
    for (const file of [jsonl, atom]) {
      const entries = await entriesOf(file);
      expect(entries.find((e) => e.error)?.error?.message).toMatch(message);
      expect(entries.some((e) => e.paper?.id === "2401.00002")).toBe(false);
      count("files");
    }
  });

  it("MAX_RECORD_BYTES from the environment reaches `paperhound index`, which names it", async () => {
    const file = path.join(dir, "cli-oversize.jsonl");
    writeFileSync(file, `${good("2401.00001")}\n{"id":"2401.00002","title":"T","abstract":"${"y".repeat(100_000)}"}\n`);
    const r = await runNode(["index", file, "--dry-run", "--index", path.join(dir, "idx")], { env: { MAX_RECORD_BYTES: "65536", PAPERHOUND_SAMPLE_IF_EMPTY: "0" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cli-oversize\.jsonl:2: the record is larger than the limit for one record.*MAX_RECORD_BYTES raises it/);
    expect(r.stdout).toMatch(/read 1, new 1/);
    count("cli");
  }, 60_000);

  it("the console answers a 5 MB line without reading it whole, and keeps going", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (d: Buffer) => (out += d.toString("utf8")));
    const done = runConsole({ input, output, ctx: { ...t.ctx, digest: store, channel: { key: "console:main", canManage: false } }, interactive: false });
    for (let i = 0; i < 80; i++) input.write(`${i === 0 ? "/paper " : ""}${"attention ".repeat(6_554)}`);
    input.write("\n/help\n");
    input.end();
    await done;
    expect(out).toMatch(/That line is longer than 16,384 characters; it was not read/);
    expect(out).toContain("/paper"); // /help after it was answered
    unchanged();
    count("console");
  });

  /** This process's CPU time for `f` (other processes on a busy machine do not count), in ms. */
  const cpuMs = async (f: () => Promise<unknown>) => {
    const before = process.cpuUsage();
    await f();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000;
  };

  // Sizes with runs of ~50 ms and more (~30 ms runs were within the noise of a busy machine), away
  // from the sizes where V8 starts handling long strings differently (~10 MB: a JSON Lines line of
  // 8 → 32 MB measured ×4.8, 16 → 64 MB ×3.6–4.3; a JSON array element 8 → 32 MB ×4.1, 16 → 64 MB up to ×5.6).
  it.each([
    ["a long JSON Lines line (kept)", "jsonl", 16_000_000, (n: number) => `{"id":"2401.00002","title":"T","abstract":"${"word ".repeat(n / 5)}"}\n`, { maxRecordBytes: 128 << 20, maxAbstractChars: 128 << 20 }],
    ["a long JSON Lines line (over the limit)", "jsonl", 16_000_000, (n: number) => `{"id":"2401.00002","title":"T","abstract":"${"word ".repeat(n / 5)}"}\n`, { maxRecordBytes: 65_536 }],
    ["a long JSON array element", "json", 8_000_000, (n: number) => `[{"id":"2401.00002","title":"T","abstract":"${"word ".repeat(n / 5)}"}]`, { maxRecordBytes: 64 << 20, maxAbstractChars: 64 << 20 }],
  ])("%s: 4× the size costs at most 6× the time", async (_name, ext, n, body, limits) => {
    const small = path.join(dir, `lin-small-${_name.replace(/\W+/g, "-")}.${ext}`);
    const large = path.join(dir, `lin-large-${_name.replace(/\W+/g, "-")}.${ext}`);
    writeFileSync(small, body(n));
    writeFileSync(large, body(4 * n));
    await entriesOf(small, limits); // warm up
    await entriesOf(large, limits);
    // Small and large in turns; the median of the rounds' ratios: a pause of the machine or a
    // garbage collection falls on one round, not on the figure.
    const ratios: number[] = [];
    let a = 0;
    let b = 0;
    for (let i = 0; i < 5; i++) {
      a = await cpuMs(() => entriesOf(small, limits));
      b = await cpuMs(() => entriesOf(large, limits));
      ratios.push(b / a);
    }
    const ratio = ratios.sort((x, y) => x - y)[2]!;
    console.log(`${_name}: CPU ${a.toFixed(0)} ms, ×4 ${b.toFixed(0)} ms (last round), median ratio ${ratio.toFixed(2)}`);
    // Linear work is ×4, quadratic ×16; medians of 2.1–4.5 measured, 4.5 with CI's other tests beside it (2026-12-03).
    expect(ratio, `ratios ${ratios.map((r) => r.toFixed(2)).join(", ")}`).toBeLessThanOrEqual(6);
    count("files");
  }, 120_000);
});

describe("tampered index files are named, never silently degraded", () => {
  let dir: string;
  let built: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-tampered-"));
    built = path.join(dir, "built");
    writeFileSync(path.join(dir, "good.jsonl"), '{"id":"2401.00003","title":"Attention in graphs","abstract":"We study attention over graph edges."}\n{"id":"2401.00004","title":"Sparse transformers","abstract":"Sparse attention for long inputs."}\n');
    const r = await runNode(["index", path.join(dir, "good.jsonl"), "--index", built], { env: { PAPERHOUND_SAMPLE_IF_EMPTY: "0" } });
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const copyOf = (name: string, damage: (d: string) => void) => {
    const d = path.join(dir, name);
    cpSync(built, d, { recursive: true });
    damage(d);
    return d;
  };

  it.each([["stats"], ["search"], ["index"]])("without vectors.json, %s exits 1 naming the missing file (not keywords-only, not re-embedding everything)", async (command) => {
    const d = copyOf(`no-pointer-${command}`, (x) => rmSync(path.join(x, "vectors.json")));
    const args = command === "search" ? ["search", "attention"] : command === "index" ? ["index", path.join(dir, "good.jsonl")] : ["stats"];
    const r = await runNode([...args, "--index", d], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vectors\.json is unusable: it is missing, but the paper store records vectors for 2 papers.*reindex --yes/s);
    count("cli");
  }, 60_000);

  it("without vectors.json, reindex --yes rebuilds the vectors", async () => {
    const d = copyOf("no-pointer-reindex", (x) => rmSync(path.join(x, "vectors.json")));
    expect((await runNode(["reindex", "--yes", "--index", d], {})).code).toBe(0);
    const stats = await runNode(["stats", "--json", "--index", d], {});
    expect(JSON.parse(stats.stdout)).toMatchObject({ papers: 2, vectors: 2, pending: 0 });
    count("cli");
  }, 60_000);

  it.each([["stats"], ["index"]])("a zero-length papers.sqlite beside vectors: %s exits 1 and the vectors are left as they were", async (command) => {
    const d = copyOf(`empty-store-${command}`, (x) => {
      writeFileSync(path.join(x, "papers.sqlite"), "");
      for (const f of ["papers.sqlite-wal", "papers.sqlite-shm"]) rmSync(path.join(x, f), { force: true });
    });
    const pointer = readFileSync(path.join(d, "vectors.json"), "utf8");
    const r = await runNode([...(command === "index" ? ["index", path.join(dir, "good.jsonl")] : ["stats"]), "--index", d], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/papers\.sqlite is corrupt.*it is empty \(0 bytes\), but the directory holds vectors/s);
    expect(readFileSync(path.join(d, "vectors.json"), "utf8")).toBe(pointer);
    count("cli");
  }, 60_000);
});

describe("paper records: wrong JSON types and shapes are one record error each, never a crash", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-records-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const base = { id: "2401.00002", title: "Attention in graphs", abstract: "We study attention over graph edges." };
  const records: [string, string][] = [
    ["a title that is a number", JSON.stringify({ ...base, title: 42 })],
    ["a title that is an object", JSON.stringify({ ...base, title: { en: "x" } })],
    ["a title that is null", JSON.stringify({ ...base, title: null })],
    ["an abstract that is an array", JSON.stringify({ ...base, abstract: ["a", "b"] })],
    ["an abstract that is a boolean", JSON.stringify({ ...base, abstract: true })],
    ["authors that is a number", JSON.stringify({ ...base, authors: 7 })],
    ["an author that is a number", JSON.stringify({ ...base, authors: ["Ada", 7] })],
    ["categories that is an object", JSON.stringify({ ...base, categories: { a: 1 } })],
    ["a category that is a number", JSON.stringify({ ...base, categories: ["cs.LG", 5] })],
    ["an id that is an object", JSON.stringify({ ...base, id: { arxiv: "2401.00002" } })],
    ["an id that is an array", JSON.stringify({ ...base, id: ["2401.00002"] })],
    ["a date that is not a date", JSON.stringify({ ...base, published: "yesterday-ish" })],
    ["a date in year 99999", JSON.stringify({ ...base, published: "99999-01-01" })],
    ["a February 30th", JSON.stringify({ ...base, published: "2024-02-30" })],
    ["a javascript: link", JSON.stringify({ ...base, links: { pdf: "javascript:alert(1)" } })],
    ["links that is a string", JSON.stringify({ ...base, links: "https://example.org" })],
    ["a DOI that is not one", JSON.stringify({ ...base, doi: "not a doi" })],
    ["upvotes that is a string", JSON.stringify({ ...base, upvotes: "many" })],
    ["negative upvotes", JSON.stringify({ ...base, upvotes: -5 })],
    ["a version that is a word", JSON.stringify({ ...base, version: "latest" })],
    ["a record that is an array", JSON.stringify([base])],
    ["a record that is a string", JSON.stringify("a paper")],
    ["a record that is null", "null"],
    ["a record that is a number", "12345"],
    ["a truncated object", '{"id":"2401.00002","title":"Atten'],
    ["a record with a NaN", '{"id":"2401.00002","title":"T","abstract":NaN}'],
    ["single quotes (a Python dict)", "{'id': '2401.00002', 'title': 'T', 'abstract': 'A'}"],
    ["a __proto__ key", '{"__proto__":{"title":"T","abstract":"A"},"id":"2401.00002"}'],
    ["a constructor key", '{"constructor":{"prototype":{"polluted":true}},"id":"2401.00002"}'],
    ["100,000 nested arrays", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
    ["100,000 nested objects", `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`],
    ["a title of zero-width spaces", JSON.stringify({ ...base, title: "\u200b\u200c\u200d\u2060\ufeff" })],
    ["an abstract of NUL characters", JSON.stringify({ ...base, abstract: "\u0000\u0000\u0000" })],
    ["a title of bidi controls", JSON.stringify({ ...base, title: "\u202e\u202d\u2066\u2069" })],
  ];
  it.each(records)("%s", async (name, line) => {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.jsonl`);
    writeFileSync(file, `${line}\n${JSON.stringify({ ...base, id: "2401.00009" })}\n`);
    const entries: SourceFileEntry[] = [];
    for await (const e of readPapersFromFile(file, { format: "jsonl" })) entries.push(e);
    // The hostile record is refused or kept cleaned; the good one after it is always read.
    expect(entries.at(-1)?.paper?.id).toBe("2401.00009");
    const first = entries[0]!;
    if (first.error) expect(first.error.message.length).toBeGreaterThan(0);
    else {
      expect(first.paper!.title).toMatch(/\S/);
      expect(JSON.stringify(first.paper)).not.toMatch(/javascript:|polluted/);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    count("files");
  });
});

describe("XML: DTDs, entities and nesting", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-xml-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const atom = (body: string, prolog = "") => `<?xml version="1.0"?>${prolog}<feed xmlns="http://www.w3.org/2005/Atom">${body}</feed>`;
  const entry = (title: string) => `<entry><id>http://arxiv.org/abs/2401.00002v1</id><title>${title}</title><summary>Attention over graphs.</summary><published>2024-01-01T00:00:00Z</published></entry>`;
  const rss = (items: string) => `<?xml version="1.0"?><rss version="2.0" xmlns:arxiv="http://arxiv.org/schemas/atom"><channel><title>t</title>${items}</channel></rss>`;
  const oai = (inner: string) => `<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-11-02T00:00:00Z</responseDate><request verb="ListRecords">x</request><ListRecords>${inner}</ListRecords></OAI-PMH>`;
  const deep = (n: number) => `${"<x>".repeat(n)}${"</x>".repeat(n)}`;
  const cases: [string, "arxiv-atom" | "arxiv-rss" | "oai-pmh", string][] = [
    ["an internal entity (billion laughs)", "arxiv-atom", atom(entry("&lol9;"), `<!DOCTYPE feed [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol9 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>`)],
    ["an external entity (XXE: /etc/passwd)", "arxiv-atom", atom(entry("&xxe;"), `<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`)],
    ["an external DTD", "arxiv-atom", atom(entry("x"), `<!DOCTYPE feed SYSTEM "http://evil.example/feed.dtd">`)],
    ["a parameter entity", "arxiv-atom", atom(entry("x"), `<!DOCTYPE feed [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]>`)],
    ["RSS with an external entity", "arxiv-rss", rss(`<item><title>&xxe;</title><link>https://arxiv.org/abs/2401.00002</link><description>arXiv:2401.00002v1 Announce Type: new
Abstract: x</description></item>`).replace("<rss", `<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss`)],
    ["OAI-PMH with an external entity", "oai-pmh", oai("&xxe;").replace("<OAI-PMH", `<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><OAI-PMH`)],
    ["Atom nested 100,000 deep", "arxiv-atom", atom(deep(100_000))],
    ["Atom nested 100,000 deep inside an entry", "arxiv-atom", atom(`<entry>${deep(100_000)}</entry>`)],
    ["RSS nested 100,000 deep", "arxiv-rss", rss(deep(100_000))],
    ["OAI-PMH nested 100,000 deep", "oai-pmh", oai(deep(100_000))],
    ["100,000 unclosed elements", "arxiv-atom", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">${"<x>".repeat(100_000)}`],
    ["a processing instruction flood", "arxiv-atom", atom("<?pi x?>".repeat(20_000) + entry("Attention"))],
    ["100,000 attributes on one element", "arxiv-atom", atom(`<entry ${Array.from({ length: 100_000 }, (_, i) => `a${i}="1"`).join(" ")}/>`)],
    ["a comment that never ends", "arxiv-atom", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><!-- ${"x".repeat(1_000_000)}`],
    ["CDATA of 1 MB in a title", "arxiv-atom", atom(entry(`<![CDATA[${"attention ".repeat(100_000)}]]>`))],
  ];
  it.each(cases)("%s: refused or read safely, quickly, without expanding anything", async (name, format, text) => {
    const file = path.join(dir, `${name.replace(/\W+/g, "-")}.xml`);
    writeFileSync(file, text);
    const started = performance.now();
    const entries: SourceFileEntry[] = [];
    let error: unknown;
    try {
      for await (const e of readPapersFromFile(file, { format })) entries.push(e);
    } catch (err) {
      error = err;
    }
    if (error) expect(error).toBeInstanceOf(PaperFileError);
    const all = JSON.stringify(entries);
    expect(all).not.toMatch(/root:|lollollol/); // no file read, no entity expanded
    expect(all.length).toBeLessThan(3_000_000);
    expect(performance.now() - started).toBeLessThan(30_000); // minutes before the depth limit
    count("files");
  }, 60_000);
});

describe("terminal output: escape sequences in papers never reach the terminal", () => {
  let dir: string;
  let index: string;
  const hostileTitles: [string, string][] = [
    ["a screen clear (CSI 2J)", "Clear \u001b[2J\u001b[H the screen"],
    ["a clipboard write (OSC 52)", "Clipboard \u001b]52;c;ZXZpbA==\u0007 attention"],
    ["a hyperlink (OSC 8)", "Link \u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\ attention"],
    ["a bell", "Bell \u0007\u0007 attention"],
    ["C1 controls (CSI as one byte)", "C1 \u009b31m red \u0090 attention"],
    ["a right-to-left override", "Override \u202etxt.exe attention"],
  ];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-tty-"));
    index = path.join(dir, "idx");
    // Hugging Face daily papers JSON: a remote service's text, taken as it came.
    const day = hostileTitles.map(([, title], i) => ({ paper: { id: `2611.0010${i}`, title, summary: `${title}. We study attention in graphs.`, authors: [{ name: `Eve \u001b[31m${i}` }] } }));
    writeFileSync(path.join(dir, "day.json"), JSON.stringify(day));
    const r = await runNode(["index", path.join(dir, "day.json"), "--format", "hf-daily", "--index", index], { env: { PAPERHOUND_SAMPLE_IF_EMPTY: "0" } });
    expect(r.code).toBe(0);
    // One search listing every paper and one related list: every title is printed by one of them.
    const [search, related] = await Promise.all([
      runNode(["search", "attention in graphs", "-k", "10", "--index", index], {}),
      runNode(["related", "2611.00100", "-k", "10", "--index", index], {}),
    ]);
    expect(search.code).toBe(0);
    expect(related.code).toBe(0);
    printed = search.stdout + search.stderr + related.stdout + related.stderr;
  }, 120_000);
  let printed = "";
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  it.each(hostileTitles)("%s: search and related print it inert", (_name, title) => {
    const visible = title.split(/[^\w ]+/)[0]!.trim(); // the title's first word, before any control sequence
    expect(printed).toContain(visible);
    expect(printed).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    count("cli");
  });
});

describe("settings: every bad value is refused at start, naming the setting", () => {
  const bad: [string, string][] = [
    ["EMBED_DEVICE", "tpu"],
    ["EMBED_THREADS", "0"],
    ["EMBED_THREADS", "two"],
    ["EMBED_BATCH_SIZE", "100000"],
    ["EMBED_ALLOW_DOWNLOAD", "perhaps"],
    ["SEARCH_THREADS", "-1"],
    ["SEARCH_THREADS", "17"],
    ["INDEX_REFRESH_SECONDS", "1e9"],
    ["INDEX_LOCK_WAIT_SECONDS", "forever"],
    ["DIGEST_INGEST", "yes please"],
    ["MAX_RECORD_BYTES", "10"],
    ["MAX_RECORD_BYTES", "99999999999"],
    ["MAX_ABSTRACT_CHARS", "12.5"],
    ["LOG_LEVEL", "verbose"],
    ["LOG_FORMAT", "xml"],
    ["LOG_QUERIES", "2"],
    ["PAPERHOUND_CONTACT_EMAIL", "not an address"],
    ["PAPERHOUND_CONTACT_EMAIL", "a@b.c>; rm -rf /"],
    ["ARXIV_API_URL", "file:///etc/passwd"],
    ["ARXIV_RSS_URL", "javascript:alert(1)"],
    ["HF_API_URL", "not a url"],
    ["ARXIV_MIN_INTERVAL_MS", "-5"],
    ["HF_MIN_INTERVAL_MS", "600001"],
    ["HEALTH_PORT", "70000"],
    ["HEALTH_HOST", "evil host; rm"],
    ["HEALTH_HOST", "a".repeat(300)],
    ["SLACK_PORT", "0"],
    ["SLACK_MODE", "carrier-pigeon"],
    ["SLACK_API_URL", "ftp://slack.example"],
    ["SLACK_DIGEST_ADMINS", "everyone"],
    ["DISCORD_TOKEN", "not-a-token"],
  ];
  it.each(bad)("%s=%s", (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value }, { stderrIsTTY: false });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.name)).toContain(name);
    count("settings");
  });

  it.each([
    ["a directory", () => os.tmpdir(), /is a directory/],
    ["a FIFO", (d: string) => {
      const f = path.join(d, "fifo.env");
      execFileSync("mkfifo", [f]);
      return f;
    }, /is not a regular file/],
    ["a missing file", (d: string) => path.join(d, "missing.env"), /does not exist/],
    ["a device", () => "/dev/zero", /is not a regular file/],
  ] as const)("PAPERHOUND_ENV_FILE naming %s is refused, without blocking", (_name, target, message) => {
    const d = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-envfile-"));
    try {
      expect(loadEnvFile({ PAPERHOUND_ENV_FILE: target(d) })).toMatch(message);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
    count("settings");
  });
});

describe("backups: a tampered backup is refused and nothing is restored", () => {
  let dir: string;
  let good: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "paperhound-hardening-backup-"));
    good = path.join(dir, "good");
    await backupIndex(t.dir, good);
  }, 60_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const manifestFile = (d: string) => path.join(d, "paperhound-backup.json");
  const manifestOf = (d: string) => JSON.parse(readFileSync(manifestFile(d), "utf8")) as { files: { name: string; bytes: number }[] };
  const rewrite = (m: unknown) => (d: string) => writeFileSync(manifestFile(d), typeof m === "string" ? m : JSON.stringify(m));
  const cases: [string, (d: string) => void, RegExp][] = [
    ["a manifest that is not JSON", rewrite("{not json"), /not a paperhound backup/],
    ["an empty manifest file", rewrite(""), /not a paperhound backup/],
    ["a manifest listing nothing", rewrite({ files: [] }), /not a paperhound backup manifest/],
    ["files that is a string", rewrite({ files: "papers.sqlite" }), /not a paperhound backup manifest/],
    ["a negative size", (d) => rewrite({ files: manifestOf(d).files.map((f) => ({ ...f, bytes: -1 })) })(d), /not a paperhound backup manifest|bytes/],
    ["a file outside the backup (../)", (d) => rewrite({ files: [...manifestOf(d).files, { name: "../../etc/passwd", bytes: 10 }] })(d), /not part of an index/],
    ["an absolute path", (d) => rewrite({ files: [...manifestOf(d).files, { name: "/etc/passwd", bytes: 10 }] })(d), /not part of an index/],
    ["a file listed twice", (d) => rewrite({ files: [...manifestOf(d).files, manifestOf(d).files[0]] })(d), /lists a file twice/],
    ["no store listed", (d) => rewrite({ files: manifestOf(d).files.filter((f) => f.name !== "papers.sqlite") })(d), /lists no papers\.sqlite/],
    ["the store missing", (d) => rmSync(path.join(d, "papers.sqlite")), /missing or has -1 bytes/],
    ["the store cut short", (d) => writeFileSync(path.join(d, "papers.sqlite"), readFileSync(path.join(d, "papers.sqlite")).subarray(0, 1000)), /has 1000 bytes instead of/],
    ["the store a directory", (d) => {
      rmSync(path.join(d, "papers.sqlite"));
      execFileSync("mkdir", [path.join(d, "papers.sqlite")]);
    }, /not a regular file/],
    ["no manifest", (d) => rmSync(manifestFile(d)), /not a paperhound backup/],
  ];
  it.each(cases)("%s", async (name, tamper, message) => {
    const copy = path.join(dir, `tampered-${name.replace(/\W+/g, "-")}`);
    cpSync(good, copy, { recursive: true });
    tamper(copy);
    const dest = path.join(dir, `restored-${name.replace(/\W+/g, "-")}`);
    await expect(restoreIndex(copy, dest)).rejects.toThrow(message);
    expect(existsSync(dest)).toBe(false);
    count("backups");
  });
});

