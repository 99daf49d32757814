/**
 * Slack's request timestamp window (±5 minutes, both ways) through the REAL @slack/bolt App in
 * HTTP mode on 127.0.0.1 against the fake Slack: correctly signed /paper commands whose
 * `X-Slack-Request-Timestamp` is too far in the future or the past get 401 and run nothing; clock
 * skew inside the window is still accepted and answered on the response_url.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackAdapter, type SlackAdapter } from "../../../src/chat/slack/adapter.js";
import { loadConfig } from "../../../src/config.js";
import { createLogger } from "../../../src/log.js";
import { buildTestIndex, type TestIndex } from "../../commands/test-index.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, sign, slashCommandFields } from "../../helpers/fake-slack.js";

let t: TestIndex;
let fake: FakeSlack;
let adapter: SlackAdapter;
let eventsUrl: string;
const logs: string[] = [];
let n = 0;

beforeAll(async () => {
  t = await buildTestIndex({ sample: 5 });
  fake = new FakeSlack();
  await fake.start();
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_MODE: "http", SLACK_API_URL: fake.apiUrl }, { stderrIsTTY: false });
  const logger = createLogger({ level: "info", format: "json", stream: { write: (s: string) => logs.push(s) } });
  adapter = await startSlackAdapter({ config, ctx: { ...t.ctx, logger }, logger, listen: { port: 0, host: "127.0.0.1" } });
  eventsUrl = `http://127.0.0.1:${adapter.port}/slack/events`;
}, 180_000);

afterAll(async () => {
  await adapter?.stop();
  await fake?.stop();
  await t?.close();
});

const nowSec = () => Math.floor(Date.now() / 1000);

/** A correctly signed `/paper diffusion` at `now + offsetSec`; returns the ack and the response_url id. */
async function paperAt(offsetSec: number) {
  const id = `ts${++n}`;
  const ack = await postSigned(eventsUrl, slashCommandFields("/paper", "diffusion --count 1", fake.responseUrl(id)), { timestamp: nowSec() + offsetSec });
  return { id, ack };
}

/** Refused: 401, and nothing was run or posted (response_url or Web API). */
async function expectRefused(offsetSec: number) {
  const apiCalls = fake.apiCalls.length;
  const { id, ack } = await paperAt(offsetSec);
  expect(ack.status).toBe(401);
  expect(ack.text).toBe("");
  await new Promise((r) => setTimeout(r, 500));
  expect(fake.responsesTo(id)).toEqual([]);
  expect(fake.apiCalls.length).toBe(apiCalls);
}

describe("Slack request timestamp window (±300 s)", () => {
  it("a correctly signed /paper timestamped 600 s in the future is refused with 401 and nothing is posted", async () => {
    logs.length = 0;
    await expectRefused(600);
    const warned = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === "warn" && /timestamp/i.test(String(l.msg)));
    expect(warned.length).toBeGreaterThan(0);
    // No secret and no signature in the log.
    expect(logs.join("\n")).not.toContain(SIGNING_SECRET);
    expect(logs.join("\n")).not.toMatch(/v0=[0-9a-f]{64}/);
  });

  it("a correctly signed /paper timestamped 310 s in the future (just outside the window) is refused with 401", async () => {
    await expectRefused(310);
  });

  it("a correctly signed /paper timestamped 600 s in the past is refused with 401", async () => {
    await expectRefused(-600);
  });

  it("a correctly signed /paper timestamped 240 s in the future (clock skew) is accepted and answered", async () => {
    const { id, ack } = await paperAt(240);
    expect(ack.status).toBe(200);
    const answer = await fake.waitFor(() => fake.responsesTo(id)[0]);
    expect(answer.body.response_type).toBe("in_channel");
  });

  it("a correctly signed /paper timestamped 240 s in the past is accepted and answered", async () => {
    const { id, ack } = await paperAt(-240);
    expect(ack.status).toBe(200);
    expect((await fake.waitFor(() => fake.responsesTo(id)[0])).body.response_type).toBe("in_channel");
  });

  it("inside the window bolt's signature check still applies: a wrong signature is refused with 401", async () => {
    const id = `ts${++n}`;
    const fields = slashCommandFields("/paper", "diffusion", fake.responseUrl(id));
    const body = new URLSearchParams(fields).toString();
    const ts = nowSec() + 60;
    const res = await fetch(eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": String(ts), "x-slack-signature": sign("0000000000000000wrongsecret00000", ts, body) },
      body,
    });
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.responsesTo(id)).toEqual([]);
  });
});
