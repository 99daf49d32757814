/**
 * Socket Mode: the REAL @slack/bolt App with its socket-mode receiver against the fake Slack
 * (apps.connections.open returns a ws:// URL on 127.0.0.1; the fake sends hello and envelopes).
 * Checks the start-up configuration (app token on apps.connections.open, no HTTP listener) and
 * that envelopes take the same handler path as HTTP mode: acked by envelope_id, answered on the
 * response_url; and a connection that breaks mid-command (the answer still arrives, the client
 * reconnects by itself and answers the next command).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackAdapter, startSlackAdapter } from "../../../src/chat/slack/adapter.js";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { buildTestIndex, type TestIndex } from "../../commands/test-index.js";
import { APP_TOKEN, BOT_TOKEN, FakeSlack, slashCommandFields } from "../../helpers/fake-slack.js";

let t: TestIndex;
let fake: FakeSlack;
let adapter: SlackAdapter;
const logs: string[] = [];

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
  fake = new FakeSlack();
  await fake.start();
  const logger = createLogger({ level: "debug", format: "json", stream: { write: (s: string) => logs.push(s) } });
  // No SLACK_MODE: Socket Mode because SLACK_APP_TOKEN is set (a signing secret is ignored then).
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: fake.apiUrl }, { stderrIsTTY: false });
  adapter = await startSlackAdapter({ config, ctx: { ...t.ctx, logger }, logger });
}, 180_000);

afterAll(async () => {
  await adapter?.stop();
  await fake?.stop();
  await t?.close();
});

describe("Socket Mode through the real bolt App", () => {
  it("opens the connection with the app-level token and listens on no port", async () => {
    expect(adapter.settings.mode).toBe("socket");
    expect(adapter.port).toBeUndefined();
    const open = fake.callsOf("apps.connections.open");
    expect(open.length).toBeGreaterThanOrEqual(1);
    expect(open[0]!.headers.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(fake.socketCount).toBe(1);
    expect(logs.join("\n")).not.toContain(APP_TOKEN);
    expect(logs.join("\n")).not.toContain(BOT_TOKEN);
  });

  it("a slash command envelope is acked by envelope_id, then answered on the response_url", async () => {
    const envelope = fake.sendSlashCommandEnvelope(slashCommandFields("/paper", "sparse attention --count 2", fake.responseUrl("sock1")));
    const ack = await fake.waitFor(() => fake.socketAcks.find((a) => a.envelope_id === envelope));
    const response = await fake.waitFor(() => fake.responsesTo("sock1")[0]);
    expect(ack.at).toBeLessThanOrEqual(response.at);
    expect(response.body).toMatchObject({ response_type: "in_channel", unfurl_links: false, replace_original: false });
    expect((response.body.blocks as { type: string }[]).filter((b) => b.type === "section")).toHaveLength(2);
  });

  it("help and bad flags are answered in the ack payload itself", async () => {
    const help = fake.sendSlashCommandEnvelope(slashCommandFields("/related", "help", fake.responseUrl("sock2")));
    const a = await fake.waitFor(() => fake.socketAcks.find((x) => x.envelope_id === help));
    expect(a.payload).toMatchObject({ response_type: "ephemeral", unfurl_links: false });
    expect(JSON.stringify(a.payload)).toContain("/related &lt;arXiv id, URL or title&gt; [--count N] [--private]");

    const bad = fake.sendSlashCommandEnvelope(slashCommandFields("/related", "2101.00001 --since 2024-01-01", fake.responseUrl("sock3")));
    const b = await fake.waitFor(() => fake.socketAcks.find((x) => x.envelope_id === bad));
    expect(JSON.stringify(b.payload)).toContain("/related has no option --since. Options: --count N, --private.");
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.responsesTo("sock2")).toHaveLength(0);
    expect(fake.responsesTo("sock3")).toHaveLength(0);
  });

  it("the connection breaks mid-command: the answer still arrives, the app reconnects and answers the next command", async () => {
    const opened = fake.callsOf("apps.connections.open").length;
    const envelope = fake.sendSlashCommandEnvelope(slashCommandFields("/paper", "sparse attention --count 2", fake.responseUrl("drop1")));
    fake.dropSocketAfterAck(envelope);
    const response = await fake.waitFor(() => fake.responsesTo("drop1")[0]);
    expect(fake.socketDrops).toHaveLength(1);
    expect(response.at).toBeGreaterThanOrEqual(fake.socketDrops[0]!); // still running when the connection broke
    expect(response.body).toMatchObject({ response_type: "in_channel" });
    expect((response.body.blocks as { type: string }[]).filter((b) => b.type === "section")).toHaveLength(2);

    // bolt's socket-mode client opens a new connection (a new apps.connections.open) by itself.
    for (let i = 0; i < 200 && (fake.callsOf("apps.connections.open").length === opened || fake.socketCount === 0); i++) await new Promise((r) => setTimeout(r, 50));
    expect(fake.callsOf("apps.connections.open").length).toBeGreaterThan(opened);
    expect(fake.socketCount).toBe(1);
    const next = fake.sendSlashCommandEnvelope(slashCommandFields("/paper", "graph neural networks --count 1", fake.responseUrl("drop2")));
    await fake.waitFor(() => fake.socketAcks.find((a) => a.envelope_id === next));
    const answer = await fake.waitFor(() => fake.responsesTo("drop2")[0]);
    expect((answer.body.blocks as { type: string }[]).filter((b) => b.type === "section")).toHaveLength(1);
    expect(logs.join("\n")).not.toContain(APP_TOKEN);
  }, 60_000);
});
