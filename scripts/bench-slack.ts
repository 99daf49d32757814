/**
 * npm run bench:slack -- [--index DIR] [--n 200] [--concurrency 20] [--related 0.2]
 *
 * The Slack adapter under load: the real bolt App in HTTP mode on 127.0.0.1 receives N signed slash
 * commands with C in flight (/paper with 3-6 words of a random stored title; a share of /related
 * on a random stored paper); the response_urls and the Web API are the fake Slack of the tests
 * (test/helpers/fake-slack.ts). Per command: request → ack (the HTTP response) and request →
 * response_url POST. Errors: acks that are not 200, answers that are error messages, and commands
 * not answered within 30 s. Prints a table, then one JSON line.
 */
import { parseArgs } from "node:util";
import { chatCliContext } from "../src/chat/context.js";
import { startSlackAdapter } from "../src/chat/slack/adapter.js";
import { createContext } from "../src/cli/context.js";
import { openIndexForQuery } from "../src/cli/search-common.js";
import { loadConfig } from "../src/config.js";
import { createLogger } from "../src/log.js";
import { BOT_TOKEN, FakeSlack, SIGNING_SECRET, postSigned, slashCommandFields } from "../test/helpers/fake-slack.js";
import { percentile } from "./percentile.js";
import { seededRandom } from "../src/random.js";
import { pickPaperRefs, titleSpan } from "./chat-load.js";

const { values } = parseArgs({
  options: {
    index: { type: "string" },
    n: { type: "string", default: "200" },
    concurrency: { type: "string", default: "20" },
    related: { type: "string", default: "0.2" },
    warmup: { type: "string", default: "10" },
  },
});
const N = Number(values.n);
const C = Number(values.concurrency);
const RELATED = Number(values.related);

const rand = seededRandom(12345);

async function main(): Promise<void> {
  const cli = chatCliContext(createContext());
  const open = await openIndexForQuery(cli, values.index ? { index: values.index } : {});
  const store = open.index.store;
  const papers = store.count();
  const refs = pickPaperRefs(store, N + Number(values.warmup), rand);
  const fake = new FakeSlack();
  await fake.start();
  const logger = createLogger({ level: "error", format: "json" });
  const config = loadConfig({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: fake.apiUrl }, { stderrIsTTY: false });
  const adapter = await startSlackAdapter({
    config,
    ctx: { index: open.index, config: cli.config(), clock: () => new Date(), logger },
    logger,
    listen: { port: 0, host: "127.0.0.1" },
  });
  const url = `http://127.0.0.1:${adapter.port}/slack/events`;

  const ackMs: number[] = [];
  const resultMs: number[] = [];
  let errors = 0;
  let r = 0;
  const one = async (timed: boolean) => {
    const p = refs[r++ % refs.length]!;
    const id = `bench${r}`;
    let command = "/related";
    let text = `${p.id} --count 5`;
    if (rand() >= RELATED) {
      command = "/paper";
      // A leading "-" would read as a flag.
      text = `${titleSpan(p.title, rand).replace(/^-+/, "") || "learning"} --count 5`;
    }
    const startEpoch = Date.now();
    try {
      const ack = await postSigned(url, slashCommandFields(command, text, fake.responseUrl(id)));
      const answer = await fake.waitFor(() => fake.responsesTo(id)[0], 30_000);
      if (!timed) return;
      ackMs.push(ack.ms);
      resultMs.push(Math.max(ack.ms, answer.at - startEpoch));
      const first = JSON.stringify(answer.body.blocks ?? []);
      if (ack.status !== 200 || first.includes("That did not work")) errors++;
    } catch {
      if (timed) errors++;
    }
  };
  for (let i = 0; i < Number(values.warmup); i++) await one(false);
  const wall0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        next++;
        await one(true);
      }
    }),
  );
  const wallMs = performance.now() - wall0;
  await adapter.stop();
  await fake.stop();
  await open.close();

  const row = (name: string, xs: number[]) => `${name.padEnd(22)} ${percentile(xs, 50).toFixed(1).padStart(8)} ${percentile(xs, 95).toFixed(1).padStart(8)} ${percentile(xs, 99).toFixed(1).padStart(8)} ms`;
  process.stdout.write(`${papers} papers; ${N} slash commands, ${C} in flight, ${(N / (wallMs / 1000)).toFixed(0)}/s, errors ${errors}\n`);
  process.stdout.write(`${"".padEnd(22)} ${"p50".padStart(8)} ${"p95".padStart(8)} ${"p99".padStart(8)}\n`);
  process.stdout.write(`${row("request → ack", ackMs)}\n${row("request → respond()", resultMs)}\n`);
  process.stdout.write(
    `${JSON.stringify({ n: N, concurrency: C, ackP50: percentile(ackMs, 50), ackP99: percentile(ackMs, 99), resultP50: percentile(resultMs, 50), resultP99: percentile(resultMs, 99), perSecond: N / (wallMs / 1000), errors })}\n`,
  );
}

await main();
